//! `import`: JSON Lines of [`ImportLine`]s, each decided and appended on its own through
//! the [`Recorder`]. Every malformed line (not UTF-8, too long, not JSON, a duplicate
//! key, an unknown field, a text field over its limit) is rejected on its own, writes
//! nothing, and the import goes on; a storage failure stops it (later lines would fail
//! the same way), and the caller still gets the summary of what was done before.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use planledger_plan::json::check_duplicate_keys;
use planledger_plan::{CommandId, ImportLine, PlanContent};

use crate::error::{Error, Kind, Result};
use crate::files::read_text_limited;
use crate::limits::{Limits, check_text_fields};
use crate::recorder::{Recorder, Request};

use planledger_plan::json::redact;

/// Parses one line: no key twice in an object, then the typed parse. The error names
/// the field at fault (`unknown field \`folow_up\``, with the fields expected there)
/// and never repeats a value of the line.
pub fn parse_line(text: &str) -> Result<ImportLine, String> {
    strict(text).map_err(|e| format!("invalid command: {e}"))?;
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| describe(&e, text, "the line", "invalid command"))
}

/// A duplicate key, if `text` has one; text that is not JSON is left to the typed
/// parse, whose message says where and what is expected.
fn strict(text: &str) -> Result<(), planledger_plan::json::StrictJsonError> {
    match check_duplicate_keys(text) {
        Err(planledger_plan::json::StrictJsonError::Syntax(_)) => Ok(()),
        other => other,
    }
}

/// A plan's content from a JSON file (a command's `--content`), read as strictly as an
/// import line: at most `limits.line_bytes`, no duplicate key, no unknown field, no text
/// field over `limits.text_field_bytes`.
pub fn read_content(path: &std::path::Path, limits: &Limits) -> Result<PlanContent> {
    let what = format!("the content file {}", path.display());
    let text = read_text_limited(
        path,
        "the content file",
        limits.line_bytes,
        "--max-line-bytes",
    )?;
    let bad = |m: String| Error::new(Kind::BadInput, m);
    strict(&text).map_err(|e| bad(format!("{what}: {e}")))?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let content: PlanContent = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| bad(describe(&e, &text, &what, &what)))?;
    check_text_fields(&content, limits).map_err(|e| bad(format!("{what}: {e}")))?;
    Ok(content)
}

/// A JSON error as a message that names the field at fault and quotes no value: `what`
/// names the text read (`the line`, `the content file F`), `label` starts a message about
/// its fields. Inside a command (a flattened, tagged type) serde loses the path and
/// reports the end of the object; a date that does not exist (`"2026-02-30"`, chrono's
/// "input is out of range") is then found in `text` and named by its path.
pub fn describe(
    e: &serde_path_to_error::Error<serde_json::Error>,
    text: &str,
    what: &str,
    label: &str,
) -> String {
    let inner = redact(&e.inner().to_string());
    // The path holds the keys of the input as given: an unknown key may be anything.
    let path = e
        .path()
        .to_string()
        .split('.')
        .map(|seg| {
            if seg
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                seg
            } else {
                "…"
            }
        })
        .collect::<Vec<_>>()
        .join(".");
    if e.inner().is_syntax() || e.inner().is_eof() {
        format!("{what} is not valid JSON: {inner}")
    } else if path == "." || path.is_empty() {
        match impossible_date(text) {
            Some(field) => format!("{label}: `{field}` is not a date that exists (YYYY-MM-DD)"),
            None => format!("{label}: {inner}"),
        }
    } else {
        format!("{label}: `{path}`: {inner}")
    }
}

/// The path of the first string in `text` shaped like a date (`YYYY-MM-DD`) that is
/// not one (`2026-02-30`, `2026-13-01`).
fn impossible_date(text: &str) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &mut Vec<String>) -> Option<String> {
        match v {
            serde_json::Value::String(s) => {
                let b = s.as_bytes();
                let shaped = b.len() == 10
                    && b[4] == b'-'
                    && b[7] == b'-'
                    && b.iter()
                        .enumerate()
                        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
                (shaped && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err())
                    .then(|| path.join("."))
            }
            serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                path.push(i.to_string());
                let found = walk(item, path);
                path.pop();
                found
            }),
            serde_json::Value::Object(fields) => fields.iter().find_map(|(k, item)| {
                // Only field names are repeated; any other key is shown as `…`.
                let name = k.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                path.push(if name { k.clone() } else { "…".into() });
                let found = walk(item, path);
                path.pop();
                found
            }),
            _ => None,
        }
    }
    walk(&serde_json::from_str(text).ok()?, &mut Vec::new())
}

/// What became of one line.
#[derive(Debug)]
pub enum LineOutcome {
    /// Recorded as this many records.
    Recorded(u64),
    /// Its command was recorded already (a line sent again), its first record at this
    /// position; skipped.
    AlreadyRecorded(u64),
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
    /// Lines whose command was recorded already: skipped.
    pub already_recorded: u64,
}

/// The UTF-8 byte-order mark some Windows tools put at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Lines recorded together at most, in one durable commit.
pub const GROUP_LINES: usize = 1024;

/// Bytes of lines recorded together at most: a commit, and what a storage failure
/// loses, stay small whatever the lines' length.
pub const GROUP_BYTES: u64 = 256 << 10;

/// A line read and checked, waiting for its group's commit.
enum Pending {
    /// Its outcome is known already (a line that does not parse or breaks a limit).
    Known(LineOutcome),
    /// To be recorded.
    Record(Box<ImportLine>),
}

/// Records each line of `reader` in file order; `on_line(number, bytes, outcome)` hears
/// of every non-blank line (`bytes` read so far, for progress). Lines without `at` are
/// recorded at `now`. A UTF-8 byte-order mark at the start of the file is skipped; one at
/// the start of a later line, a line that is not UTF-8 and a line longer than
/// `limits.line_bytes` (never held in memory whole) are each rejected by name.
///
/// Lines are acknowledged in groups: each is decided against its plan as it stands after
/// the lines before it, and up to [`GROUP_LINES`] of them ([`GROUP_BYTES`]) are committed together, in one
/// disk flush, whenever the group is full or the input has nothing more to read yet (so
/// a live feed is acknowledged as it comes). Each line stays all-or-nothing on its own.
///
/// Returns the summary of what was acknowledged, always, and the failure that stopped
/// the run early (a storage failure or an unreadable file), if one did: the lines before
/// its group are recorded, the group and the lines after it are not.
pub fn import<R: std::io::Read>(
    recorder: &mut Recorder,
    reader: &mut std::io::BufReader<R>,
    now: DateTime<Utc>,
    limits: &Limits,
    on_line: &mut dyn FnMut(u64, u64, &LineOutcome),
) -> (ImportSummary, Result<()>) {
    let mut summary = ImportSummary::default();
    let mut group: Vec<(u64, u64, Pending)> = Vec::new();
    let mut group_bytes = 0u64;
    let mut bytes = 0u64;
    let mut buf = Vec::new();
    let mut number = 0u64;
    loop {
        // Commit when the group is full, and before reading on would wait for input: when
        // what is buffered holds no whole line (a live feed's lines are acknowledged as
        // they arrive, also when the next one has only partly arrived).
        let full = group.len() >= GROUP_LINES || group_bytes >= GROUP_BYTES;
        if !group.is_empty() && (full || !reader.buffer().contains(&b'\n')) {
            group_bytes = 0;
            if let Err(e) = commit(recorder, &mut group, now, &mut summary, on_line) {
                return (summary, Err(e));
            }
        }
        number += 1;
        buf.clear();
        let read = match read_line(reader, &mut buf, limits.line_bytes) {
            Ok(r) => r,
            Err(e) => {
                if let Err(stopped) = commit(recorder, &mut group, now, &mut summary, on_line) {
                    return (summary, Err(stopped));
                }
                let e = Error::io(
                    format!("cannot read line {number}; the lines before it are recorded"),
                    e,
                );
                return (summary, Err(e));
            }
        };
        let Some(read) = read else { break };
        bytes += read.len;
        let mut line = buf.as_slice();
        if number == 1 {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.trim_ascii().is_empty() && !read.too_long {
            continue;
        }
        let pending = if read.too_long {
            Pending::Known(LineOutcome::Rejected(format!(
                "the line is longer than the limit of {} bytes (--max-line-bytes)",
                limits.line_bytes
            )))
        } else if line.starts_with(BOM) {
            Pending::Known(LineOutcome::Rejected(
                "the line starts with a byte-order mark (U+FEFF); only the file's first line may"
                    .into(),
            ))
        } else {
            match std::str::from_utf8(line) {
                Err(e) => Pending::Known(LineOutcome::Rejected(format!(
                    "the line is not UTF-8 (invalid byte at column {}); import files are UTF-8",
                    e.valid_up_to() + 1
                ))),
                Ok(text) => match check_line(text, limits) {
                    Ok(line) => Pending::Record(Box::new(line)),
                    Err(why) => Pending::Known(LineOutcome::Rejected(why)),
                },
            }
        };
        group_bytes += read.len;
        group.push((number, bytes, pending));
    }
    let done = commit(recorder, &mut group, now, &mut summary, on_line);
    (summary, done)
}

/// Parses and checks one UTF-8 line: the line to record, with its command id (its own,
/// or one derived from its bytes), or why it is rejected.
pub fn check_line(text: &str, limits: &Limits) -> Result<ImportLine, String> {
    let mut line = parse_line(text)?;
    check_text_fields(&line.command, limits)?;
    // A line without an id is known by its bytes: sent again, it is the same command.
    line.id
        .get_or_insert_with(|| CommandId::of_line(text.trim_end().as_bytes()));
    Ok(line)
}

/// Records the lines of `group` in one commit and reports every line of it in order;
/// empties the group. A failed commit records none of them.
fn commit(
    recorder: &mut Recorder,
    group: &mut Vec<(u64, u64, Pending)>,
    now: DateTime<Utc>,
    summary: &mut ImportSummary,
    on_line: &mut dyn FnMut(u64, u64, &LineOutcome),
) -> Result<()> {
    if group.is_empty() {
        return Ok(());
    }
    let requests: Vec<Request<'_>> = group
        .iter()
        .filter_map(|(_, _, p)| match p {
            Pending::Record(l) => Some(Request {
                command: &l.command,
                actor: &l.actor,
                at: l.at.unwrap_or(now),
                expect_version: l.expect_version,
                command_id: l.id.as_ref(),
            }),
            Pending::Known(_) => None,
        })
        .collect();
    let recorded = match recorder.record_group(&requests) {
        Ok(r) => r,
        Err(e) => {
            let first = group[0].0;
            group.clear();
            return Err(Error::new(
                Kind::Storage,
                format!(
                    "line {first}: {e}; the lines before line {first} are recorded, the lines after \
                     its group are not, and its group (from line {first}) may or may not be: a \
                     commit that fails can have been written; check `planledger history` or \
                     `head` before sending them again"
                ),
            ));
        }
    };
    let mut recorded = recorded.into_iter();
    for (number, bytes, pending) in group.drain(..) {
        let outcome = match pending {
            Pending::Known(outcome) => outcome,
            Pending::Record(_) => match recorded.next().expect("one outcome per request") {
                Ok(written) => LineOutcome::Recorded(written.len() as u64),
                Err(e) => match e.already_recorded() {
                    Some(position) => LineOutcome::AlreadyRecorded(position),
                    None => LineOutcome::Rejected(e.to_string()),
                },
            },
        };
        summary.lines += 1;
        match &outcome {
            LineOutcome::Recorded(n) => summary.records += n,
            LineOutcome::AlreadyRecorded(_) => summary.already_recorded += 1,
            LineOutcome::Rejected(_) => summary.rejected += 1,
        }
        on_line(number, bytes, &outcome);
    }
    Ok(())
}

/// How one line was read.
struct LineRead {
    /// Bytes consumed, with the newline.
    len: u64,
    /// The line was longer than the limit: `buf` holds only its start.
    too_long: bool,
}

/// Reads one line (without its newline) into `buf`, holding at most `limit` + 1 bytes
/// of it: the rest of a longer line is skipped unread into memory. `None` at the end.
fn read_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: u64,
) -> std::io::Result<Option<LineRead>> {
    use std::io::Read;
    let mut len = reader
        .by_ref()
        .take(limit.saturating_add(1))
        .read_until(b'\n', buf)? as u64;
    if len == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        return Ok(Some(LineRead {
            len,
            too_long: buf.len() as u64 > limit,
        }));
    }
    if (buf.len() as u64) <= limit {
        // The end of the file, without a final newline.
        return Ok(Some(LineRead {
            len,
            too_long: false,
        }));
    }
    // Over the limit: skip to the end of the line without keeping it.
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let (used, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        reader.consume(used);
        len += used as u64;
        if done {
            break;
        }
    }
    Ok(Some(LineRead {
        len,
        too_long: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use planledger_plan::DeadlinePolicy;

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

    /// A feed that hands over its chunks one read at a time, noting each handover.
    struct Feed<'a> {
        chunks: std::collections::VecDeque<&'static [u8]>,
        log: &'a std::cell::RefCell<Vec<String>>,
    }

    impl std::io::Read for Feed<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some(chunk) = self.chunks.pop_front() else {
                return Ok(0);
            };
            self.log.borrow_mut().push("read".into());
            buf[..chunk.len()].copy_from_slice(chunk);
            Ok(chunk.len())
        }
    }

    #[test]
    fn a_live_feed_is_acknowledged_before_waiting_for_the_rest_of_a_partial_line() {
        use chrono::TimeZone;
        const FIRST: &[u8] = b"{\"actor\":{\"user\":\"h7\",\"role\":\"case_officer\"},\"command\":\"receive_order\",\"plan\":\"plan-1\",\"order\":\"o\",\"unit\":\"u\",\"act\":\"home_care\",\"client\":\"196408233234\",\"received_on\":\"2026-03-02\"}\n{\"actor\":";
        const REST: &[u8] = b"{\"user\":\"h7\",\"role\":\"case_officer\"},\"command\":\"receive_order\",\"plan\":\"plan-2\",\"order\":\"o\",\"unit\":\"u\",\"act\":\"home_care\",\"client\":\"197010632391\",\"received_on\":\"2026-03-02\"}\n";
        let log = std::cell::RefCell::new(Vec::new());
        let feed = Feed {
            chunks: [FIRST, REST].into(),
            log: &log,
        };
        let store = planledger_store::MemoryStore::new();
        let mut recorder = Recorder::new(&store, DeadlinePolicy::default());
        let now = Utc.with_ymd_and_hms(2026, 3, 5, 9, 0, 0).unwrap();
        let mut reader = std::io::BufReader::new(feed);
        let (summary, done) = import(
            &mut recorder,
            &mut reader,
            now,
            &Limits::default(),
            &mut |n, _, o| {
                log.borrow_mut().push(format!(
                    "line {n} {}",
                    matches!(o, LineOutcome::Recorded(_))
                ));
            },
        );
        done.unwrap();
        assert_eq!(summary.records, 2);
        // Line 1 is committed and reported before the rest of line 2 is asked for.
        assert_eq!(
            *log.borrow(),
            ["read", "line 1 true", "read", "line 2 true"]
        );
    }

    const ORDER: &str = r#"{"actor":{"user":"h7","role":"case_officer"},"command":"receive_order","plan":"plan-1","order":"o","unit":"u","act":"home_care","client":"196408233234","received_on":"2026-03-02"}"#;

    fn run(input: &[u8], limits: &Limits) -> (ImportSummary, Vec<(u64, String)>) {
        use chrono::TimeZone;
        let store = planledger_store::MemoryStore::new();
        let mut recorder = Recorder::new(&store, DeadlinePolicy::default());
        let now = Utc.with_ymd_and_hms(2026, 3, 5, 9, 0, 0).unwrap();
        let mut rejected = Vec::new();
        let mut input = std::io::BufReader::new(input);
        let (summary, done) = import(&mut recorder, &mut input, now, limits, &mut |n, _, o| {
            if let LineOutcome::Rejected(why) = o {
                rejected.push((n, why.clone()));
            }
        });
        done.unwrap();
        (summary, rejected)
    }

    fn order(plan: &str) -> String {
        ORDER.replace("plan-1", plan)
    }

    #[test]
    fn invalid_utf8_in_the_middle_line_rejects_only_that_line() {
        let mut input = order("p1").into_bytes();
        input.extend_from_slice(b"\n{\"actor\":\"\xff\xfe\"}\n");
        input.extend_from_slice(order("p3").as_bytes());
        let (summary, rejected) = run(&input, &Limits::default());
        assert_eq!(
            (summary.lines, summary.records, summary.rejected),
            (3, 2, 1)
        );
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].0, 2);
        assert!(rejected[0].1.contains("not UTF-8"), "{rejected:?}");
    }

    #[test]
    fn a_bom_is_skipped_at_the_start_of_the_file_and_refused_by_name_later() {
        let input = format!("\u{feff}{}\n\u{feff}{}\n", order("p1"), order("p2"));
        let (summary, rejected) = run(input.as_bytes(), &Limits::default());
        assert_eq!((summary.records, summary.rejected), (1, 1));
        assert_eq!(rejected[0].0, 2);
        assert!(rejected[0].1.contains("byte-order mark"), "{rejected:?}");
    }

    #[test]
    fn an_over_long_line_is_rejected_naming_the_limit_and_the_next_line_is_read() {
        let limits = Limits {
            line_bytes: 300,
            ..Limits::default()
        };
        let long = format!("{{\"x\":\"{}\"}}", "a".repeat(5000));
        // The last line, without a final newline, is over the limit too.
        let input = format!("{long}\n{}\n{long}", order("p2"));
        let (summary, rejected) = run(input.as_bytes(), &limits);
        assert_eq!(
            (summary.lines, summary.records, summary.rejected),
            (3, 1, 2)
        );
        assert_eq!(rejected[0].0, 1);
        assert_eq!(rejected[1].0, 3);
        assert!(
            rejected[0]
                .1
                .contains("limit of 300 bytes (--max-line-bytes)"),
            "{rejected:?}"
        );
        // A line of exactly the limit is read.
        let exact = order("p9");
        let limits = Limits {
            line_bytes: exact.len() as u64,
            ..Limits::default()
        };
        assert_eq!(run(exact.as_bytes(), &limits).0.records, 1);
    }

    #[test]
    fn a_text_field_over_its_limit_is_rejected_by_its_path() {
        let limits = Limits {
            text_field_bytes: 16,
            ..Limits::default()
        };
        let line = order("p1").replace(
            r#""received_on""#,
            r#""granted_services":["short","a service far too long"],"received_on""#,
        );
        let (summary, rejected) = run(line.as_bytes(), &limits);
        assert_eq!(summary.rejected, 1);
        assert!(
            rejected[0].1.contains("`granted_services.1`")
                && rejected[0]
                    .1
                    .contains("limit is 16 bytes (--max-text-bytes)"),
            "{rejected:?}"
        );
        assert!(!rejected[0].1.contains("far too long"), "{rejected:?}");
    }

    #[test]
    fn a_duplicate_key_rejects_the_line_by_name() {
        let line = order("p1").replace(r#""unit":"u""#, r#""unit":"u","unit":"v""#);
        let e = parse_line(&line).unwrap_err();
        assert!(e.contains("the key `unit` appears twice"), "{e}");
    }

    #[test]
    fn a_date_that_does_not_exist_names_its_field() {
        let line = order("p1").replace("2026-03-02", "2026-02-30");
        let e = parse_line(&line).unwrap_err();
        assert!(e.contains("`received_on`"), "{e}");
        // A date in the middle of the line (serde reports the end of the object).
        let line = order("p1").replace(r#""unit":"u""#, r#""unit":"u","received_on":"2026-02-30""#);
        let line = line.replace(r#","received_on":"2026-03-02""#, "");
        let e = parse_line(&line).unwrap_err();
        assert!(e.contains("`received_on` is not a date that exists"), "{e}");
        let content = r#"{"actor":{"user":"kim","role":"key_worker"},"command":"draft","plan":"p","content":{"provider":"P","unit":"u","act":"home_care","client":{"name":"N","personnummer":"196408233234"},"drawn_up_on":"2026-13-01","goals":[]}}"#;
        let e = parse_line(content).unwrap_err();
        assert!(e.contains("`content.drawn_up_on`"), "{e}");
    }
}
