//! A history as one rectangular table, for a spreadsheet: one row per record, the
//! version's signatures, sending, approval, replacement and changes on the row of the
//! record that holds the version, every time a cell of its own (`DATE HH:MM +HH:MM`,
//! which [`crate::spreadsheet_csv`] splits into date, time and offset columns).

use crate::history::{Detail, EventRow, History};
use crate::render::{Column, Lang, Row};
use planledger_plan::format_local;

const EXTRA: &[Column] = &[
    Column::new("version", "version", "version"),
    Column::new("signatures", "underskrifter", "signatures"),
    Column::new("submitted_at", "skickad", "sent"),
    Column::new("approved_at", "godkänd", "approved"),
    Column::new("replaced_at", "ersatt", "replaced"),
    Column::new("changes", "ändringar", "changes"),
    Column::new("hash", "hash", "hash"),
];

impl History {
    /// Writes the history as one CSV table (comma-separated; headings in `lang`).
    pub fn render_sheet(
        &self,
        lang: Lang,
        out: &mut dyn std::io::Write,
    ) -> Result<(), crate::RenderError> {
        let mut w = csv::Writer::from_writer(out);
        let headings: Vec<&str> = EventRow::columns()
            .iter()
            .chain(EXTRA)
            .map(|c| c.heading(lang))
            .collect();
        w.write_record(&headings)?;
        let vcols = crate::VersionRow::columns();
        let at = |key: &str| vcols.iter().position(|c| c.key == key).expect("a column");
        for e in &self.events {
            let mut row = e.cells(lang);
            let number = match &e.detail {
                Detail::Version { version, .. } => Some(*version),
                _ => None,
            };
            let v = number.and_then(|n| {
                self.versions
                    .iter()
                    .find(|v| v.plan == e.plan && v.version == n)
            });
            match v {
                Some(v) => {
                    let cells = v.cells(lang);
                    row.push(v.version.to_string());
                    row.push(cells[at("signatures")].clone());
                    row.push(
                        v.submitted
                            .as_ref()
                            .map(|d| format_local(d.at))
                            .unwrap_or_default(),
                    );
                    row.push(
                        v.approved
                            .as_ref()
                            .map(|d| format_local(d.at))
                            .unwrap_or_default(),
                    );
                    row.push(v.replaced_at.map(format_local).unwrap_or_default());
                    row.push(cells[at("changes")].clone());
                }
                None => row.extend(std::iter::repeat_n(String::new(), 6)),
            }
            row.push(e.hash.clone());
            w.write_record(&row)?;
        }
        w.flush()?;
        Ok(())
    }
}
