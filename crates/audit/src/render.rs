//! Writing rows: an aligned text table, JSON or CSV, with headings in Swedish or English.
//!
//! Table and CSV are for people and spreadsheets: headings and cell texts follow
//! [`Lang`]. JSON is for programs: an array of objects whose keys are the columns'
//! stable snake_case keys and whose values are typed (numbers, dates, lists), whatever
//! the language.

use std::io::{self, Write};

use serde::Serialize;

/// The language of headings and cell texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Swedish, the language of the routines and of the people who use them.
    #[default]
    Sv,
    En,
}

impl Lang {
    /// One of two texts.
    pub fn pick<'a>(self, sv: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Sv => sv,
            Lang::En => en,
        }
    }

    /// Its name, as [`Lang::from_str`](std::str::FromStr) reads it.
    pub fn name(self) -> &'static str {
        self.pick("sv", "en")
    }
}

/// A language name that is neither `sv` nor `en`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}; expected sv or en")]
pub struct UnknownLang(pub String);

impl std::str::FromStr for Lang {
    type Err = UnknownLang;
    fn from_str(s: &str) -> Result<Lang, UnknownLang> {
        match s {
            "sv" => Ok(Lang::Sv),
            "en" => Ok(Lang::En),
            _ => Err(UnknownLang(s.to_owned())),
        }
    }
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Columns aligned with spaces, for a terminal.
    #[default]
    Table,
    Json,
    Csv,
}

impl Format {
    /// Its name, as [`Format::from_str`](std::str::FromStr) reads it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }
}

/// A format name that is not `table`, `json` or `csv`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown output format {0:?}; expected table, json or csv")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// A column: its JSON key and its headings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    pub sv: &'static str,
    pub en: &'static str,
}

impl Column {
    pub const fn new(key: &'static str, sv: &'static str, en: &'static str) -> Column {
        Column { key, sv, en }
    }

    pub fn heading(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Sv => self.sv,
            Lang::En => self.en,
        }
    }
}

/// A row of a report.
pub trait Row: Serialize {
    /// The columns, in order; [`Row::cells`] gives one text per column.
    fn columns() -> &'static [Column];
    /// The row's cells as text in `lang`.
    fn cells(&self, lang: Lang) -> Vec<String>;
}

/// Why rows could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("writing the report: {0}")]
    Io(#[from] io::Error),
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes `rows` to `out` in `format`, headings and texts in `lang`.
pub fn render<R: Row>(
    rows: &[R],
    format: Format,
    lang: Lang,
    out: &mut dyn Write,
) -> Result<(), RenderError> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, rows)?;
            out.write_all(b"\n")?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(R::columns().iter().map(|c| c.heading(lang)))?;
            for row in rows {
                w.write_record(row.cells(lang))?;
            }
            w.flush()?;
        }
        Format::Table => {
            let headings: Vec<String> = R::columns()
                .iter()
                .map(|c| c.heading(lang).to_owned())
                .collect();
            let cells: Vec<Vec<String>> = rows.iter().map(|r| r.cells(lang)).collect();
            write_table(&headings, &cells, out)?;
        }
    }
    Ok(())
}

/// Rewrites CSV (as [`render`] writes it) into what a spreadsheet program opens
/// right in a Swedish locale: a UTF-8 byte order mark first (so that å, ä, ö are read
/// as UTF-8), `;` between fields (the comma is the decimal separator there), and dates
/// in columns of their own: a column whose every filled cell is `DATE (vN)` becomes a
/// date column and a version column, one of `DATE HH:MM +HH:MM` a date, a time and a UTC
/// offset column (headings suffixed in `lang`). Each table (a history has two, a blank
/// line between) is split on its own.
pub fn spreadsheet_csv(csv_bytes: &[u8], lang: Lang) -> Result<Vec<u8>, RenderError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    let mut tables: Vec<Vec<Vec<String>>> = vec![Vec::new()];
    // Blank lines separate tables; the csv reader skips them, so split first.
    for chunk in split_tables(csv_bytes) {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(chunk.as_slice());
        let mut t = Vec::new();
        for record in r.records() {
            t.push(record?.iter().map(str::to_owned).collect());
        }
        tables.push(t);
    }
    let tables: Vec<Vec<Vec<String>>> = tables.into_iter().filter(|t| !t.is_empty()).collect();
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .flexible(true)
            .from_writer(&mut out);
        for row in split_date_columns(t, lang) {
            w.write_record(&row)?;
        }
        w.flush()?;
    }
    Ok(out)
}

fn split_tables(bytes: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes);
    let mut tables = vec![Vec::new()];
    let mut in_quotes = false;
    for line in text.split_inclusive('\n') {
        if !in_quotes && line.trim().is_empty() {
            tables.push(Vec::new());
            continue;
        }
        in_quotes ^= line.matches('"').count() % 2 == 1;
        tables
            .last_mut()
            .expect("one table")
            .extend_from_slice(line.as_bytes());
    }
    tables
}

#[derive(Clone, Copy, PartialEq)]
enum DateShape {
    Version,
    Instant,
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn shape(cell: &str) -> Option<DateShape> {
    let (date, rest) = (cell.get(..10)?, cell.get(10..)?);
    if !is_date(date) {
        return None;
    }
    if let Some(v) = rest.strip_prefix(" (v").and_then(|r| r.strip_suffix(')')) {
        return v.parse::<u32>().ok().map(|_| DateShape::Version);
    }
    let parts: Vec<&str> = rest.split_whitespace().collect();
    match parts.as_slice() {
        [time, offset] if time.len() == 5 && offset.len() == 6 && time.as_bytes()[2] == b':' => {
            Some(DateShape::Instant)
        }
        _ => None,
    }
}

fn empty(cell: &str) -> bool {
    cell.is_empty() || cell == "–"
}

fn split_date_columns(table: &[Vec<String>], lang: Lang) -> Vec<Vec<String>> {
    let Some((head, body)) = table.split_first() else {
        return Vec::new();
    };
    let shapes: Vec<Option<DateShape>> = (0..head.len())
        .map(|i| {
            let mut found = None;
            for row in body {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                if empty(cell) {
                    continue;
                }
                match (shape(cell), found) {
                    (Some(s), None) => found = Some(s),
                    (Some(s), Some(f)) if s == f => {}
                    _ => return None,
                }
            }
            found
        })
        .collect();
    let mut out = Vec::with_capacity(table.len());
    let mut h = Vec::new();
    for (i, name) in head.iter().enumerate() {
        match shapes[i] {
            None => h.push(name.clone()),
            Some(DateShape::Version) => {
                h.push(format!("{name} ({})", lang.pick("datum", "date")));
                h.push(format!("{name} ({})", lang.pick("version", "version")));
            }
            Some(DateShape::Instant) => {
                h.push(format!("{name} ({})", lang.pick("datum", "date")));
                h.push(format!("{name} ({})", lang.pick("tid", "time")));
                h.push(format!(
                    "{name} ({})",
                    lang.pick("UTC-förskjutning", "UTC offset")
                ));
            }
        }
    }
    out.push(h);
    for row in body {
        let mut r = Vec::new();
        for (i, cell) in row.iter().enumerate() {
            match shapes.get(i).copied().flatten() {
                None => r.push(cell.clone()),
                Some(_) if empty(cell) => {
                    let n = if shapes[i] == Some(DateShape::Version) {
                        2
                    } else {
                        3
                    };
                    r.extend(std::iter::repeat_n(String::new(), n));
                }
                Some(DateShape::Version) => {
                    r.push(cell[..10].to_owned());
                    r.push(cell[13..cell.len() - 1].to_owned());
                }
                Some(DateShape::Instant) => {
                    let parts: Vec<&str> = cell[10..].split_whitespace().collect();
                    r.push(cell[..10].to_owned());
                    r.push(parts[0].to_owned());
                    r.push(parts[1].to_owned());
                }
            }
        }
        out.push(r);
    }
    out
}

/// Renders to a string (for tests and small reports).
pub fn render_to_string<R: Row>(
    rows: &[R],
    format: Format,
    lang: Lang,
) -> Result<String, RenderError> {
    let mut out = Vec::new();
    render(rows, format, lang, &mut out)?;
    // Every writer above writes UTF-8 from `String`s.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Columns padded to their widest cell (counted in characters: å, ä, ö and – are one),
/// two spaces apart, a rule of dashes under the headings; no trailing spaces.
fn write_table(headings: &[String], rows: &[Vec<String>], out: &mut dyn Write) -> io::Result<()> {
    let mut widths: Vec<usize> = headings.iter().map(|h| width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let line = |cells: &[String], out: &mut dyn Write| -> io::Result<()> {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            text.extend(std::iter::repeat_n(' ', w - width(cell)));
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(headings, out)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule, out)?;
    for row in rows {
        line(row, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Pair {
        name: String,
        days_late: i64,
    }

    impl Row for Pair {
        fn columns() -> &'static [Column] {
            const C: &[Column] = &[
                Column::new("name", "namn", "name"),
                Column::new("days_late", "dagar sent", "days late"),
            ];
            C
        }
        fn cells(&self, _lang: Lang) -> Vec<String> {
            vec![self.name.clone(), self.days_late.to_string()]
        }
    }

    fn rows() -> Vec<Pair> {
        vec![
            Pair {
                name: "Förmiddag".into(),
                days_late: 4,
            },
            Pair {
                name: "a, \"b\"".into(),
                days_late: 12,
            },
        ]
    }

    #[test]
    fn a_table_aligns_columns_by_characters_not_bytes() {
        let t = render_to_string(&rows(), Format::Table, Lang::Sv).unwrap();
        assert_eq!(
            t,
            "namn       dagar sent\n\
             ---------  ----------\n\
             Förmiddag  4\n\
             a, \"b\"     12\n"
        );
    }

    #[test]
    fn csv_quotes_cells_and_takes_headings_in_the_language_asked() {
        let t = render_to_string(&rows(), Format::Csv, Lang::En).unwrap();
        assert_eq!(t, "name,days late\nFörmiddag,4\n\"a, \"\"b\"\"\",12\n");
    }

    #[test]
    fn json_keeps_stable_keys_and_typed_values_in_any_language() {
        let t = render_to_string(&rows(), Format::Json, Lang::Sv).unwrap();
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        assert_eq!(v[1]["days_late"], 12);
        assert_eq!(v[0]["name"], "Förmiddag");
    }

    #[test]
    fn spreadsheet_csv_has_a_bom_semicolons_and_dates_in_columns_of_their_own() {
        let csv = "plan,skickad,av\nplan-1,2026-08-05 (v2),kim\nplan-2,–,\"a, b\"\n\nnr,när\n1,2026-03-10 10:00 +01:00\n";
        let out = String::from_utf8(spreadsheet_csv(csv.as_bytes(), Lang::Sv).unwrap()).unwrap();
        assert_eq!(
            out,
            "\u{feff}plan;skickad (datum);skickad (version);av\n\
             plan-1;2026-08-05;2;kim\n\
             plan-2;;;a, b\n\
             \n\
             nr;när (datum);när (tid);när (UTC-förskjutning)\n\
             1;2026-03-10;10:00;+01:00\n"
        );
    }

    #[test]
    fn formats_and_languages_parse_from_their_names_only() {
        assert_eq!("csv".parse::<Format>().unwrap(), Format::Csv);
        for f in [Format::Table, Format::Json, Format::Csv] {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        for l in [Lang::Sv, Lang::En] {
            assert_eq!(l.name().parse::<Lang>().unwrap(), l);
        }
        assert_eq!("en".parse::<Lang>().unwrap(), Lang::En);
        assert!("xml".parse::<Format>().is_err());
        assert!("de".parse::<Lang>().is_err());
    }
}
