//! Retention and weeding (*gallring*): the rules per act (how long after a client's last
//! entry their file is weeded), legal holds, and the events that record both.
//!
//! Holds and weedings are recorded in one stream of their own, [`RETENTION_STREAM`],
//! whose id no plan can have (plan ids hold no whitespace). A hold's payload (its reason
//! may name people) is sealed under the client's key like a plan's; a weeding's payload
//! holds no personal data (the client's key id, the plans, the rule, the decision) and
//! stays plaintext, so it is readable after the client's key is gone.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::content::ActKind;
use crate::decide::Rejection;
use crate::id::Personnummer;
use crate::role::{Actor, Role};

/// The stream of holds and weedings.
pub const RETENTION_STREAM: &str = "planledger retention";
/// Schema version of the retention events' payloads.
pub const RETENTION_SCHEMA: u16 = 1;

pub const HOLD_ADDED: &str = "hold_added";
pub const HOLD_RELEASED: &str = "hold_released";
pub const CLIENT_WEEDED: &str = "client_weeded";

/// The retention commands: legal holds and weeding. Like a plan's commands
/// ([`crate::decide`]), who may give each is the domain's rule, so that every entry
/// point (the command line, an HTTP service) applies the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetentionCommand {
    /// Place a legal hold on a client (`hold add`).
    AddHold,
    /// Release it (`hold release`).
    ReleaseHold,
    /// Weed the clients due (`weed`, without `--dry-run`).
    Weed,
}

impl RetentionCommand {
    /// The stable name, as in rejection messages.
    pub fn name(self) -> &'static str {
        match self {
            RetentionCommand::AddHold => "add_hold",
            RetentionCommand::ReleaseHold => "release_hold",
            RetentionCommand::Weed => "weed",
        }
    }
}

/// The roles that may give each retention command: a legal hold and a weeding are the
/// organisation's decisions about a client's whole file, taken by whoever answers for
/// the unit (its manager) or the system's administrator; the staff who write in the
/// plans, the case officer, and the readers (administrative officer, inspector) do not.
pub fn retention_roles(command: RetentionCommand) -> &'static [Role] {
    match command {
        RetentionCommand::AddHold | RetentionCommand::ReleaseHold | RetentionCommand::Weed => {
            &[Role::UnitManager, Role::Admin]
        }
    }
}

/// Whether `actor` may give `command`, or the rejection that says who may.
pub fn authorize(command: RetentionCommand, actor: &Actor) -> Result<(), Rejection> {
    let allowed = retention_roles(command);
    if allowed.contains(&actor.role) {
        Ok(())
    } else {
        Err(Rejection::NotPermitted {
            role: actor.role,
            command: command.name(),
            allowed,
        })
    }
}

/// A legal hold placed or released on a client (sealed under the client's key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The client's key id, hex.
    pub key_id: String,
    /// Why (a complaint, an inspection, a court case), as the user wrote it.
    pub reason: String,
}

/// A client weeded: their key destroyed, so every payload of theirs is unreadable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weeded {
    /// The destroyed key's id, hex.
    pub key_id: String,
    /// The client's plans, by id.
    pub plans: Vec<String>,
    /// The retention rule applied (its name in the policy).
    pub rule: String,
    /// The decision (*gallringsbeslut*) weeding was done under.
    pub decision: String,
    /// The day the client's last entry was made, `YYYY-MM-DD`.
    pub last_entry: String,
    /// The day the weeding was judged as of, `YYYY-MM-DD`.
    pub as_of: String,
}

/// A retention event's payload: postcard of the body, nothing after it.
pub fn encode_hold(h: &Hold) -> Vec<u8> {
    postcard::to_allocvec(h).expect("a hold is plain data")
}

pub fn decode_hold(bytes: &[u8]) -> Option<Hold> {
    match postcard::take_from_bytes(bytes) {
        Ok((h, [])) => Some(h),
        _ => None,
    }
}

pub fn encode_weeded(w: &Weeded) -> Vec<u8> {
    postcard::to_allocvec(w).expect("a weeding is plain data")
}

pub fn decode_weeded(bytes: &[u8]) -> Option<Weeded> {
    match postcard::take_from_bytes(bytes) {
        Ok((w, [])) => Some(w),
        _ => None,
    }
}

/// How long one act's files are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionRule {
    /// Its name, recorded in each weeding under it (`SoL`, `HSL`, `LSS`).
    pub name: String,
    /// Years after the last entry; `None`: never weeded.
    pub years: Option<u32>,
    /// Days of the month of birth whose people's files are kept (for research).
    pub keep_born_on: Vec<u32>,
}

/// The retention rules of every act: configuration, not code (`[retention.<act>]` in
/// the policy file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionPolicy {
    rules: [RetentionRule; 4],
}

fn act_index(act: ActKind) -> usize {
    ActKind::ALL
        .iter()
        .position(|a| *a == act)
        .expect("every act is listed")
}

impl Default for RetentionPolicy {
    /// docs/DOMAIN.md's rules: SoL files 5 years after the last entry, kept when the
    /// person was born on the 5th, 15th or 25th; residential care's health-care (HSL)
    /// parts at least 10 years, and one key covers the whole file, so 10; a private LSS
    /// provider's 2 years.
    fn default() -> RetentionPolicy {
        let sol = |years| RetentionRule {
            name: "SoL".into(),
            years: Some(years),
            keep_born_on: vec![5, 15, 25],
        };
        RetentionPolicy {
            rules: [
                RetentionRule {
                    name: "HSL".into(),
                    ..sol(10)
                },
                sol(5),
                RetentionRule {
                    name: "LSS".into(),
                    years: Some(2),
                    keep_born_on: Vec::new(),
                },
                sol(5),
            ],
        }
    }
}

/// Why a retention table is not valid: names the key and the rule, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[retention.{table}] {key}: {rule}")]
pub struct RetentionError {
    pub table: String,
    pub key: String,
    pub rule: &'static str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    years: Option<toml::Value>,
    keep_born_on: Option<Vec<i64>>,
}

#[derive(Debug, Default, Deserialize)]
struct RawFile {
    retention: Option<std::collections::BTreeMap<String, RawRule>>,
}

impl RetentionPolicy {
    /// The rule of `act`.
    pub fn for_act(&self, act: ActKind) -> &RetentionRule {
        &self.rules[act_index(act)]
    }

    /// The `[retention.<act>]` tables of a policy file over the defaults: `name` (a
    /// word), `years` (1–100, or `"off"`: never weeded), `keep_born_on` (days 1–31).
    pub fn from_toml(text: &str) -> Result<RetentionPolicy, RetentionError> {
        let err = |table: &str, key: &str, rule| RetentionError {
            table: table.to_owned(),
            key: key.to_owned(),
            rule,
        };
        let raw: RawFile = toml::from_str(text)
            .map_err(|_| err("", "", "the file's retention tables do not parse"))?;
        let mut policy = RetentionPolicy::default();
        for (table, r) in raw.retention.unwrap_or_default() {
            let act = ActKind::ALL
                .into_iter()
                .find(|a| a.as_str() == table)
                .ok_or_else(|| err(&table, "", "not an act"))?;
            let rule = &mut policy.rules[act_index(act)];
            if let Some(name) = r.name {
                if name.is_empty()
                    || name.len() > 40
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                {
                    return Err(err(&table, "name", "1 to 40 letters, digits, - _ ."));
                }
                rule.name = name;
            }
            match r.years {
                None => {}
                Some(toml::Value::String(s)) if s == "off" => rule.years = None,
                Some(toml::Value::Integer(y)) if (1..=100).contains(&y) => {
                    rule.years = Some(y as u32);
                }
                Some(_) => return Err(err(&table, "years", "a number of years 1-100, or \"off\"")),
            }
            if let Some(days) = r.keep_born_on {
                if days.iter().any(|d| !(1..=31).contains(d)) {
                    return Err(err(&table, "keep_born_on", "days of the month 1-31"));
                }
                rule.keep_born_on = days.into_iter().map(|d| d as u32).collect();
            }
        }
        Ok(policy)
    }
}

/// What retention says of a client's file as of a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Weeded now, under `rule`; the file was weedable from `from` and must be weeded
    /// by the end of the year after it (`by`).
    Due {
        rule: String,
        from: NaiveDate,
        by: NaiveDate,
    },
    /// Not yet: weedable from this day.
    NotYet { rule: String, from: NaiveDate },
    /// Kept: the rule never weeds, or the person was born on a day kept for research.
    Kept { rule: String, why: &'static str },
}

/// Whether a client's file (plans of `acts`, last entry on `last_entry`) is due for
/// weeding on `as_of`. Of several acts, the rule that keeps longest applies: one key
/// covers the whole file.
pub fn due(
    policy: &RetentionPolicy,
    client: &Personnummer,
    acts: &[ActKind],
    last_entry: NaiveDate,
    as_of: NaiveDate,
) -> Due {
    let mut longest: Option<&RetentionRule> = None;
    for act in acts {
        let rule = policy.for_act(*act);
        let Some(years) = rule.years else {
            return Due::Kept {
                rule: rule.name.clone(),
                why: "the rule never weeds",
            };
        };
        if longest.is_none_or(|l| l.years.is_some_and(|y| years > y)) {
            longest = Some(rule);
        }
    }
    let Some(rule) = longest else {
        return Due::Kept {
            rule: String::new(),
            why: "no plan",
        };
    };
    for act in acts {
        if policy
            .for_act(*act)
            .keep_born_on
            .contains(&client.birth_date().day())
        {
            return Due::Kept {
                rule: policy.for_act(*act).name.clone(),
                why: "born on a day kept for research",
            };
        }
    }
    let years = rule.years.expect("checked above");
    let from = last_entry
        .checked_add_months(chrono::Months::new(12 * years))
        .unwrap_or(NaiveDate::MAX);
    if as_of < from {
        return Due::NotYet {
            rule: rule.name.clone(),
            from,
        };
    }
    let by = NaiveDate::from_ymd_opt(from.year() + 1, 12, 31).unwrap_or(NaiveDate::MAX);
    Due::Due {
        rule: rule.name.clone(),
        from,
        by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pnr(s: &str) -> Personnummer {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn sol_files_are_due_five_years_after_the_last_entry() {
        let p = RetentionPolicy::default();
        let c = pnr("19640823-3234");
        assert_eq!(
            due(
                &p,
                &c,
                &[ActKind::HomeCare],
                day("2026-03-02"),
                day("2031-03-01")
            ),
            Due::NotYet {
                rule: "SoL".into(),
                from: day("2031-03-02")
            }
        );
        assert_eq!(
            due(
                &p,
                &c,
                &[ActKind::HomeCare],
                day("2026-03-02"),
                day("2031-03-02")
            ),
            Due::Due {
                rule: "SoL".into(),
                from: day("2031-03-02"),
                by: day("2032-12-31")
            }
        );
    }

    #[test]
    fn people_born_on_the_5th_15th_or_25th_are_kept() {
        let p = RetentionPolicy::default();
        // 19701063-2391 is a samordningsnummer: born on the 3rd.
        assert!(matches!(
            due(
                &p,
                &pnr("19701063-2391"),
                &[ActKind::HomeCare],
                day("2020-01-01"),
                day("2030-01-01")
            ),
            Due::Due { .. }
        ));
        for s in ["19640805-3237", "19640815-3235", "19640825-3233"] {
            let Ok(c) = s.parse::<Personnummer>() else {
                continue;
            };
            assert!(matches!(
                due(
                    &p,
                    &c,
                    &[ActKind::HomeCare],
                    day("2020-01-01"),
                    day("2030-01-01")
                ),
                Due::Kept { .. }
            ));
            // LSS has no such exception.
            assert!(matches!(
                due(
                    &p,
                    &c,
                    &[ActKind::LssDailyActivity],
                    day("2020-01-01"),
                    day("2030-01-01")
                ),
                Due::Kept { .. } | Due::Due { .. }
            ));
        }
    }

    #[test]
    fn the_longest_rule_of_a_file_applies_and_rules_come_from_the_policy() {
        let p = RetentionPolicy::default();
        let c = pnr("19640823-3234");
        assert!(matches!(
            due(&p, &c, &[ActKind::HomeCare, ActKind::ResidentialCare], day("2020-01-01"), day("2026-01-01")),
            Due::NotYet { ref rule, .. } if rule == "HSL"
        ));
        let p = RetentionPolicy::from_toml(
            "[home_care]\ndraw_up_days = 3\n[retention.home_care]\nyears = \"off\"\n[retention.lss_daily_activity]\nyears = 3\nname = \"LSS-municipal\"\n",
        )
        .unwrap();
        assert!(matches!(
            due(
                &p,
                &c,
                &[ActKind::HomeCare],
                day("2000-01-01"),
                day("2030-01-01")
            ),
            Due::Kept { .. }
        ));
        assert_eq!(p.for_act(ActKind::LssDailyActivity).name, "LSS-municipal");
        let e = RetentionPolicy::from_toml("[retention.home_care]\nyears = 0\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "[retention.home_care] years: a number of years 1-100, or \"off\""
        );
        assert!(RetentionPolicy::from_toml("[retention.nope]\nyears = 1\n").is_err());
    }

    #[test]
    fn retention_payloads_round_trip() {
        let w = Weeded {
            key_id: "00".repeat(16),
            plans: vec!["plan-1".into()],
            rule: "SoL".into(),
            decision: "GB-2032-1".into(),
            last_entry: "2026-03-02".into(),
            as_of: "2032-01-10".into(),
        };
        assert_eq!(decode_weeded(&encode_weeded(&w)), Some(w));
        let h = Hold {
            key_id: "ab".repeat(16),
            reason: "IVO".into(),
        };
        assert_eq!(decode_hold(&encode_hold(&h)), Some(h));
        assert_eq!(decode_hold(&[1, 2, 3]), None);
    }
}

#[cfg(test)]
mod authorize_tests {
    use super::*;
    use crate::id::UserId;

    #[test]
    fn holds_and_weeding_are_for_unit_managers_and_administrators_only() {
        for command in [
            RetentionCommand::AddHold,
            RetentionCommand::ReleaseHold,
            RetentionCommand::Weed,
        ] {
            for role in Role::ALL {
                let actor = Actor::new(UserId::new("u1").unwrap(), role);
                let verdict = authorize(command, &actor);
                let may = matches!(role, Role::UnitManager | Role::Admin);
                assert_eq!(verdict.is_ok(), may, "{role} {}", command.name());
                if let Err(e) = verdict {
                    assert_eq!(e.rule(), "not_permitted");
                    let text = e.to_string();
                    assert!(text.contains(command.name()), "{text}");
                    assert!(text.contains("unit manager, administrator"), "{text}");
                }
            }
        }
    }
}
