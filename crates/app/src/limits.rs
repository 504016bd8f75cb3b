//! Limits on what planledger reads, so that a hostile or broken input (a 50 MB line, a
//! witness file that is a symlink to `/dev/zero`) is refused by name instead of being
//! recorded or exhausting memory. Each has a default that fits every real plan with a
//! wide margin; the command line can change them (`--max-line-bytes`,
//! `--max-text-bytes`, `--max-file-bytes`, or their `PLANLEDGER_MAX_…` variables).

use serde::Serialize;

/// The limits in force. A refusal names the limit, its value and the flag that sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in one import line, and in a content file (`--content`) or policy file.
    pub line_bytes: u64,
    /// Bytes in one text field of a command (a service's `how`, a deviation's
    /// description), checked on the decoded command.
    pub text_field_bytes: u64,
    /// Bytes in a witness checkpoint file or a key file.
    pub file_bytes: u64,
}

impl Limits {
    /// 1 MiB per import line: the largest synthetic plan is about 4 KiB.
    pub const DEFAULT_LINE_BYTES: u64 = 1 << 20;
    /// 64 KiB per text field: some 30 pages of prose.
    pub const DEFAULT_TEXT_FIELD_BYTES: u64 = 64 << 10;
    /// 64 KiB per checkpoint or key file: a checkpoint note is about 300 bytes.
    pub const DEFAULT_FILE_BYTES: u64 = 64 << 10;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            line_bytes: Limits::DEFAULT_LINE_BYTES,
            text_field_bytes: Limits::DEFAULT_TEXT_FIELD_BYTES,
            file_bytes: Limits::DEFAULT_FILE_BYTES,
        }
    }
}

/// Checks every string in `value` (a decoded command or a plan's content) against the
/// text-field limit; the error names the field by its path (`content.services.0.how`),
/// never its text.
pub fn check_text_fields<T: Serialize>(value: &T, limits: &Limits) -> Result<(), String> {
    let value = serde_json::to_value(value).map_err(|e| format!("cannot inspect: {e}"))?;
    let mut path = Vec::new();
    walk(&value, &mut path, limits.text_field_bytes)
}

fn walk(value: &serde_json::Value, path: &mut Vec<String>, max: u64) -> Result<(), String> {
    match value {
        serde_json::Value::String(s) if s.len() as u64 > max => Err(format!(
            "the text field `{}` is {} bytes long; the limit is {max} bytes (--max-text-bytes)",
            path.join("."),
            s.len()
        )),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                walk(item, path, max)?;
                path.pop();
            }
            Ok(())
        }
        serde_json::Value::Object(fields) => {
            // The keys are the types' own field names, never input values.
            for (key, item) in fields {
                path.push(key.clone());
                walk(item, path, max)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
