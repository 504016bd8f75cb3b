//! `import`: JSON Lines of [`ImportLine`]s, each decided and appended on its own through
//! the [`Recorder`]. A rejected line writes nothing and the import goes on; a storage
//! failure stops it (later lines would fail the same way).

use std::io::BufRead;

use chrono::{DateTime, Utc};
use planledger_plan::{ImportLine, PlanContent};

use crate::error::{Error, Kind, Result};
use crate::recorder::Recorder;

/// Parses one line. The error names the field at fault (`unknown field \`folow_up\``,
/// with the fields expected there) and never repeats a value of the line.
pub fn parse_line(text: &str) -> Result<ImportLine, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| describe(&e, "the line", "invalid command"))
}

/// A plan's content from a JSON file (a command's `--content`), read as strictly as an
/// import line.
pub fn read_content(path: &std::path::Path) -> Result<PlanContent> {
    let what = format!("the content file {}", path.display());
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(format!("cannot read {what}"), e))?;
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| Error::new(Kind::BadInput, describe(&e, &what, &what)))
}

/// A JSON error as a message that names the field at fault and quotes no value: `what`
/// names the text read (`the line`, `the content file F`), `label` starts a message about
/// its fields.
pub fn describe(
    e: &serde_path_to_error::Error<serde_json::Error>,
    what: &str,
    label: &str,
) -> String {
    let inner = redact(&e.inner().to_string());
    let path = e.path().to_string();
    if e.inner().is_syntax() || e.inner().is_eof() {
        format!("{what} is not valid JSON: {inner}")
    } else if path == "." || path.is_empty() {
        format!("{label}: {inner}")
    } else {
        format!("{label}: `{path}`: {inner}")
    }
}

/// A serde error message without the values it quotes: serde repeats a wrongly typed
/// value (`invalid type: integer `196408233234``, `invalid value: string "…"`), which
/// may be a personnummer or a name. Quoted strings become `"…"`, and any run of ten or
/// more digits (a personnummer with or without its separator) becomes `…`.
pub fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        let count = digits.chars().filter(char::is_ascii_digit).count();
        out.push_str(if count >= 10 { "…" } else { digits.as_str() });
        digits.clear();
    };
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || (!digits.is_empty() && (c == '-' || c == '+')) {
            digits.push(c);
            continue;
        }
        flush(&mut digits, &mut out);
        if c == '`' && out.ends_with("variant ") {
            // `unknown variant `…``: the value given where a name from a list belongs.
            for q in chars.by_ref() {
                if q == '`' {
                    break;
                }
            }
            out.push_str("`…`");
            continue;
        }
        if c == '"' {
            // Skip to the closing quote; keep the quotes.
            for q in chars.by_ref() {
                if q == '"' {
                    break;
                }
            }
            out.push_str("\"…\"");
            continue;
        }
        out.push(c);
    }
    flush(&mut digits, &mut out);
    out
}

/// What became of one line.
#[derive(Debug)]
pub enum LineOutcome {
    /// Recorded as this many records.
    Recorded(u64),
    /// Rejected, with why; nothing of it was written.
    Rejected(String),
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Lines that were not blank.
    pub lines: u64,
    pub records: u64,
    pub rejected: u64,
}

/// Records each line of `reader` in file order; `on_line(number, bytes, outcome)` hears
/// of every non-blank line (`bytes` read so far, for progress). Lines without `at` are
/// recorded at `now`. Stops with an error at a storage failure or an unreadable line.
pub fn import(
    recorder: &mut Recorder,
    reader: impl BufRead,
    now: DateTime<Utc>,
    on_line: &mut dyn FnMut(u64, u64, &LineOutcome),
) -> Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    let mut bytes = 0u64;
    for (number, line) in reader.lines().enumerate() {
        let number = number as u64 + 1;
        let line = line.map_err(|e| Error::io(format!("cannot read line {number}"), e))?;
        bytes += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        summary.lines += 1;
        let outcome = match parse_line(&line) {
            Err(why) => LineOutcome::Rejected(why),
            Ok(l) => {
                match recorder.record(&l.command, &l.actor, l.at.unwrap_or(now), l.expect_version) {
                    Ok(written) => LineOutcome::Recorded(written.len() as u64),
                    Err(e) if e.kind() == Kind::Storage => {
                        return Err(Error::new(
                            Kind::Storage,
                            format!(
                                "line {number}: {e}; the lines before it are recorded, it and the lines after it are not"
                            ),
                        ));
                    }
                    Err(e) => LineOutcome::Rejected(e.to_string()),
                }
            }
        };
        match &outcome {
            LineOutcome::Recorded(n) => summary.records += n,
            LineOutcome::Rejected(_) => summary.rejected += 1,
        }
        on_line(number, bytes, &outcome);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_quoted_values_and_personnummer_but_keeps_the_rule() {
        assert_eq!(
            redact("invalid type: integer `196408233234`, expected a string"),
            "invalid type: integer `…`, expected a string"
        );
        assert_eq!(
            redact("invalid value: string \"Testperson Ett\", expected u32 at line 1"),
            "invalid value: string \"…\", expected u32 at line 1"
        );
        assert_eq!(redact("19640823-3234"), "…");
        assert_eq!(
            redact("unknown variant `Testperson Ett`, expected `client` or `trustee`"),
            "unknown variant `…`, expected `client` or `trustee`"
        );
        assert_eq!(
            redact("missing field `due_on` at version 2"),
            "missing field `due_on` at version 2"
        );
    }

    #[test]
    fn a_wrongly_typed_personnummer_is_not_repeated_in_the_error() {
        let line = r#"{"actor":{"user":"h7","role":"case_officer"},"command":"receive_order","plan":"p","order":"o","unit":"u","act":"home_care","client":196408233234,"received_on":"2026-03-02"}"#;
        let e = parse_line(line).unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
        assert!(!e.contains("3234"), "{e}");
    }

    #[test]
    fn an_unknown_content_field_is_named() {
        let line = r#"{"actor":{"user":"kim","role":"key_worker"},"command":"draft","plan":"p","content":{"provider":"P","unit":"u","act":"home_care","client":{"name":"N","personnummer":"196408233234"},"services":[{"what":"Dusch","folow_up":"x"}]}}"#;
        let e = parse_line(line).unwrap_err();
        assert!(e.contains("unknown field `folow_up`"), "{e}");
    }
}
