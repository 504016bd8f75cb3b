//! One line of the JSON Lines import: who gives a command, when it happened, the
//! version of the plan the sender read, and the command. The CLI's `import` reads it,
//! the synthetic generator writes it, and the JSON Schema in `schema/` is generated
//! from it: one type, so the three cannot drift apart.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::id::CommandId;
use crate::role::Actor;

/// `{"actor":{"user":"kim","role":"key_worker"},"at":"2026-03-10T10:00:00Z","command":"sign","plan":"plan-0001","version":1,"signer":"client"}`
///
/// Strict: a field that is neither the line's (`actor`, `at`, `expect_version`) nor the
/// command's is rejected, in the line, the command and the plan content alike, so a
/// misspelt optional field is an error rather than silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImportLine {
    /// The source system's id of the command: a line whose id the ledger holds already
    /// is reported as recorded and skipped. Without it, an id derived from the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<CommandId>,
    /// Who gives the command.
    pub actor: Actor,
    /// When it happened (RFC 3339). Without it, the time of the import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// The plan's number of records when the sender read it: the line is a conflict if
    /// the plan has changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_version: Option<u64>,
    /// The command, tagged by `"command"`, its fields beside the line's.
    #[serde(flatten)]
    pub command: Command,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGN: &str = r#"{"actor":{"user":"kim","role":"key_worker"},"at":"2026-03-10T10:00:00Z","command":"sign","plan":"plan-0001","version":1,"signer":"staff:kim"}"#;

    #[test]
    fn a_line_reads_and_writes_the_same_json() {
        let line: ImportLine = serde_json::from_str(SIGN).unwrap();
        assert_eq!(line.command.name(), "sign");
        assert_eq!(serde_json::to_string(&line).unwrap(), SIGN);
    }

    #[test]
    fn an_unknown_field_in_the_line_or_the_command_is_rejected_by_name() {
        for field in [r#""atx":"2026-03-10T10:00:00Z""#, r#""folow_up":"x""#] {
            let text = SIGN.replace(r#""version":1"#, &format!(r#""version":1,{field}"#));
            let err = serde_json::from_str::<ImportLine>(&text).unwrap_err();
            let name = field.split('"').nth(1).unwrap();
            assert!(
                err.to_string().contains(&format!("unknown field `{name}`")),
                "{err}"
            );
        }
    }

    #[test]
    fn an_unknown_field_in_the_actor_is_rejected() {
        let text = SIGN.replace(
            r#""role":"key_worker""#,
            r#""role":"key_worker","unit":"u""#,
        );
        let err = serde_json::from_str::<ImportLine>(&text).unwrap_err();
        assert!(err.to_string().contains("unknown field `unit`"), "{err}");
    }
}
