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
/// as UTF-8) and `;` between fields (the comma is the decimal separator there). Blank
/// lines (between the tables of a history) are kept.
pub fn spreadsheet_csv(csv_bytes: &[u8]) -> Result<Vec<u8>, RenderError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .flexible(true)
            .from_writer(&mut out);
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(csv_bytes);
        for record in r.records() {
            w.write_record(&record?)?;
        }
        w.flush()?;
    }
    Ok(out)
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
    fn formats_and_languages_parse_from_their_names_only() {
        assert_eq!("csv".parse::<Format>().unwrap(), Format::Csv);
        assert_eq!("en".parse::<Lang>().unwrap(), Lang::En);
        assert!("xml".parse::<Format>().is_err());
        assert!("de".parse::<Lang>().is_err());
    }
}
