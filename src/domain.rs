//! The domain subcommands (`order`, `draft`, …) and `import`: both become a
//! `planledger_plan::Command` through its JSON shape, so flags and import lines are
//! validated by the same code and recorded by the same `Recorder`.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use chrono::{DateTime, Utc};
use planledger_plan::{Actor, Command, Role, UserId};
use serde_json::{Map, Value, json};

use crate::exit::{Exit, failure};
use crate::flags::{Cmd, Who};
use crate::record::Recorder;

/// The actor and command a domain subcommand's flags describe.
pub fn from_flags(cmd: &Cmd) -> anyhow::Result<Option<(Actor, Command, Option<u64>)>> {
    let text_of = |path: &std::path::Path| -> anyhow::Result<Value> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the content file {}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            failure(
                Exit::BadInput,
                format!("{} is not JSON: {e}", path.display()),
            )
        })
    };
    let (who, name, fields): (&Who, &str, Value) = match cmd {
        Cmd::Order(a) => (
            &a.who,
            "receive_order",
            json!({"order": a.order, "unit": a.unit, "act": a.act, "client": a.client,
                   "received_on": a.received_on, "granted_services": a.services}),
        ),
        Cmd::Draft(a) => (&a.who, "draft", json!({"content": text_of(&a.content)?})),
        Cmd::Revise(a) => (
            &a.who,
            "revise",
            json!({"reason": a.reason, "note": a.note, "content": text_of(&a.content)?}),
        ),
        Cmd::Sign(a) => (
            &a.who,
            "sign",
            json!({"version": a.version, "signer": signer(&a.signer)?}),
        ),
        Cmd::Submit(a) => (&a.who, "submit", json!({"version": a.version})),
        Cmd::Approve(a) => (&a.who, "approve", json!({"version": a.version})),
        Cmd::RequestSupplement(a) => (
            &a.who,
            "request_supplement",
            json!({"version": a.version, "reason": a.reason, "due_on": a.due_on}),
        ),
        Cmd::Supplement(a) => (
            &a.who,
            "provide_supplement",
            json!({"version": a.version, "note": a.note}),
        ),
        Cmd::Review(a) => (
            &a.who,
            "record_review",
            json!({"version": a.version, "findings": a.findings, "checklist": {
                "participation_described": a.participation_described,
                "services_and_goals_clear": a.services_and_goals_clear,
                "usable_by_new_staff": a.usable_by_new_staff,
                "matches_order": a.matches_order}}),
        ),
        Cmd::FollowUp(a) => (
            &a.who,
            "record_follow_up",
            json!({"version": a.version, "findings": a.findings,
                   "next_follow_up_on": a.next_follow_up_on}),
        ),
        Cmd::Deviation(a) => (
            &a.who,
            "record_deviation",
            json!({"occurred_on": a.occurred_on, "service": a.service,
                   "description": a.description}),
        ),
        Cmd::Correct(a) => (
            &a.who,
            "correct",
            json!({"refers_to": a.refers_to, "note": a.note}),
        ),
        Cmd::Close(a) => (
            &a.who,
            "close",
            json!({"reason": a.reason, "closed_on": a.closed_on}),
        ),
        _ => return Ok(None),
    };
    let actor = actor(&who.user, &who.role)?;
    let mut object = match fields {
        Value::Object(m) => m,
        _ => unreachable!("every arm builds an object"),
    };
    object.insert("command".into(), name.into());
    object.insert("plan".into(), who.plan.clone().into());
    let command = command_of(object).map_err(|e| failure(Exit::BadInput, e))?;
    Ok(Some((actor, command, who.expect_version)))
}

fn actor(user: &str, role: &str) -> anyhow::Result<Actor> {
    let user = UserId::new(user).map_err(|e| failure(Exit::BadInput, format!("--as: {e}")))?;
    let role: Role = role
        .parse()
        .map_err(|e| failure(Exit::BadInput, format!("--role: {e}")))?;
    Ok(Actor::new(user, role))
}

/// `--signer` to the command's JSON: client, trustee, guardian or staff:USER.
fn signer(text: &str) -> anyhow::Result<Value> {
    Ok(match text {
        "client" => json!("client"),
        "trustee" | "guardian" => json!({"representative": text}),
        s if s.starts_with("staff:") => json!({"staff_member": &s["staff:".len()..]}),
        _ => {
            return Err(failure(
                Exit::BadInput,
                format!(
                    "--signer {text:?} is not a signer; use client, trustee, guardian or staff:USER"
                ),
            ));
        }
    })
}

/// A command from its JSON object; the error says which field is wrong.
fn command_of(object: Map<String, Value>) -> Result<Command, String> {
    serde_json::from_value(Value::Object(object))
        .map_err(|e| format!("invalid command: {}", redact(&e.to_string())))
}

/// A serde error message without the values it quotes: serde repeats a wrongly typed
/// value (`invalid type: integer `196408233234``, `invalid value: string "…"`), which
/// may be a personnummer or a name. Quoted strings become `"…"`, and any run of ten or
/// more digits (a personnummer with or without its separator) becomes `…`.
fn redact(message: &str) -> String {
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

/// Prints what a recorded command wrote.
pub fn record_one(
    recorder: &mut Recorder,
    actor: &Actor,
    command: &Command,
    now: DateTime<Utc>,
    expect_version: Option<u64>,
) -> anyhow::Result<()> {
    let recorded = recorder
        .record(command, actor, now, expect_version)
        .map_err(|e| failure(e.exit(), e.to_string()))?;
    for r in recorded {
        println!(
            "recorded {} at position {}: plan {} record {}",
            r.event_type,
            r.position,
            command.plan(),
            r.stream_version
        );
    }
    Ok(())
}

/// One parsed import line.
struct Line {
    actor: Actor,
    at: Option<DateTime<Utc>>,
    expect_version: Option<u64>,
    command: Command,
}

/// Parses one import line: a JSON object with `actor`, an optional `at` and the
/// command's own fields.
fn parse_line(text: &str) -> Result<Line, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the line is not valid JSON: {e}"))?;
    let Value::Object(mut object) = value else {
        return Err("a line is one JSON object".into());
    };
    let actor = object
        .remove("actor")
        .ok_or("the line has no \"actor\": give {\"user\": …, \"role\": …}")?;
    let actor: Actor = serde_json::from_value(actor)
        .map_err(|e| format!("invalid \"actor\": {}", redact(&e.to_string())))?;
    let at = match object.remove("at") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            DateTime::parse_from_rfc3339(&s)
                .map_err(|e| format!("\"at\" is not an RFC 3339 time: {e}"))?
                .with_timezone(&Utc),
        ),
        Some(_) => return Err("\"at\" is an RFC 3339 time string".into()),
    };
    let expect_version = match object.remove("expect_version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or("\"expect_version\" is the plan's record count, a whole number")?,
        ),
    };
    let command = command_of(object)?;
    Ok(Line {
        actor,
        at,
        expect_version,
        command,
    })
}

/// `import FILE`: records each line on its own; prints each rejection with its line
/// number. Returns an error (exit 2) if any line was rejected; stops at once on a
/// storage failure.
pub fn import(recorder: &mut Recorder, file: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
    let (reader, size): (Box<dyn BufRead>, Option<u64>) = if file == "-" {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let f = std::fs::File::open(file).with_context(|| format!("cannot open {file}"))?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(std::io::BufReader::new(f)), size)
    };
    let bar = match size {
        Some(total) if std::io::stderr().is_terminal() => {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "importing {wide_bar} {bytes}/{total_bytes} ({eta})",
                )
                .expect("a valid template"),
            );
            bar
        }
        _ => indicatif::ProgressBar::hidden(),
    };
    let (mut lines, mut records, mut rejected) = (0u64, 0u64, 0u64);
    for (number, line) in reader.lines().enumerate() {
        let number = number + 1;
        let line = line.with_context(|| format!("cannot read line {number} of {file}"))?;
        bar.inc(line.len() as u64 + 1);
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let parsed = match parse_line(&line) {
            Ok(l) => l,
            Err(e) => {
                rejected += 1;
                bar.suspend(|| eprintln!("line {number}: {e}"));
                continue;
            }
        };
        match recorder.record(
            &parsed.command,
            &parsed.actor,
            parsed.at.unwrap_or(now),
            parsed.expect_version,
        ) {
            Ok(written) => records += written.len() as u64,
            Err(e) if e.is_storage() => {
                bar.finish_and_clear();
                return Err(failure(
                    Exit::Storage,
                    format!(
                        "line {number}: {e}; the lines before it are recorded, it and the lines after it are not"
                    ),
                ));
            }
            Err(e) => {
                rejected += 1;
                bar.suspend(|| eprintln!("line {number}: {e}"));
            }
        }
    }
    bar.finish_and_clear();
    println!(
        "imported {} of {lines} lines ({records} records); {rejected} rejected",
        lines - rejected
    );
    if rejected > 0 {
        return Err(failure(
            Exit::BadInput,
            format!("{rejected} lines were rejected (see above); nothing of them was written"),
        ));
    }
    Ok(())
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
            redact("missing field `due_on` at version 2"),
            "missing field `due_on` at version 2"
        );
    }

    #[test]
    fn a_wrongly_typed_personnummer_is_not_repeated_in_the_error() {
        let line = r#"{"actor":{"user":"h7","role":"case_officer"},"command":"receive_order","plan":"p","order":"o","unit":"u","act":"home_care","client":196408233234,"received_on":"2026-03-02"}"#;
        let Err(e) = parse_line(line) else {
            panic!("a number is no personnummer")
        };
        assert!(e.contains("invalid type"), "{e}");
        assert!(!e.contains("3234"), "{e}");
    }
}
