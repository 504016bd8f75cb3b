//! Deadline policy: per organisation and act, from a TOML file, with docs/DOMAIN.md's table
//! as defaults. The seeds disagree on purpose; an organisation sets its own.
//!
//! ```toml
//! organisation = "Exempelkommunen vård och omsorg"
//!
//! # Applied to every act before the act's own table (002: monthly review).
//! [all]
//! review_every_months = 1
//!
//! [home_care]
//! draw_up_days = 14
//! submit_days_after_order = 15
//! submit_revision_days = 15
//! follow_up_every_months = "off"
//! follow_up_at_date_in_plan = true
//! ```
//!
//! Every key is optional; `"off"` turns a deadline off. Unknown keys are errors, so a
//! typo cannot silently leave a default in force.

use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

use crate::content::ActKind;

/// The deadlines of one act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActDeadlines {
    /// Days from the order to version 1 (and from a later order to a new version).
    pub draw_up_days: Option<u32>,
    /// Days from the order to the first submission to the authority.
    pub submit_days_after_order: Option<u32>,
    /// Days from each new version, the first included, to its submission (003: "när
    /// klar eller uppdaterad").
    pub submit_days_after_version: Option<u32>,
    /// Days from each revision (version 2 and later) to its submission: a changed plan
    /// goes to the authority like the first (001, 003). Where
    /// `submit_days_after_version` also applies, the earlier deadline counts.
    pub submit_revision_days: Option<u32>,
    /// Months between follow-ups (counted from version 1 or the last follow-up).
    pub follow_up_every_months: Option<u32>,
    /// Whether the follow-up date written in the plan is a deadline (001).
    pub follow_up_at_date_in_plan: bool,
    /// Months between the key worker's reviews (002).
    pub review_every_months: Option<u32>,
}

impl ActDeadlines {
    /// Whether plans of this act are sent to the authority at all (a first version or a
    /// revision); housing support (004) sends none by default.
    pub fn sends_to_authority(&self) -> bool {
        self.submit_days_after_order.is_some()
            || self.submit_days_after_version.is_some()
            || self.submit_revision_days.is_some()
    }

    /// docs/DOMAIN.md's defaults for `act`.
    pub fn default_for(act: ActKind) -> ActDeadlines {
        match act {
            // 000: "påbörjas vid inflyttning" (begun at move-in, the order's day) and
            // "avgiven till myndigheten inom fyra veckor": the routine sets a start, not a
            // completion deadline, for drawing up. The only completion date it gives is
            // the sending, four weeks after move-in, and a plan must be drawn up to be
            // sent; so it is drawn up in time when drawn up by then (issue 10: a plan
            // drawn up nine days after move-in is not late). Updated every six months.
            // A revision is sent within the same four weeks (000's only period for
            // handing a plan to the authority).
            ActKind::ResidentialCare => ActDeadlines {
                draw_up_days: Some(28),
                submit_days_after_order: Some(28),
                submit_days_after_version: None,
                submit_revision_days: Some(28),
                follow_up_every_months: Some(6),
                follow_up_at_date_in_plan: true,
                review_every_months: None,
            },
            // 001: drawn up within 14 days, sent within 15, followed up at the plan's date.
            // A plan is also made at "förändringar i tidigare upprättad
            // genomförandeplan", and the routine gives every plan 15 days to reach the
            // case officer, so a revision is sent within 15 days of being recorded.
            ActKind::HomeCare => ActDeadlines {
                draw_up_days: Some(14),
                submit_days_after_order: Some(15),
                submit_days_after_version: None,
                submit_revision_days: Some(15),
                follow_up_every_months: None,
                follow_up_at_date_in_plan: true,
                review_every_months: None,
            },
            // 003: finished within 14 days, sent when finished or updated (the same
            // day), updated at least yearly.
            // "När en genomförandeplan är klar eller uppdaterad så ska den alltid avges
            // till myndigheten": a revision too, the same day.
            ActKind::LssDailyActivity => ActDeadlines {
                draw_up_days: Some(14),
                submit_days_after_order: None,
                submit_days_after_version: Some(0),
                submit_revision_days: Some(0),
                follow_up_every_months: Some(12),
                follow_up_at_date_in_plan: true,
                review_every_months: None,
            },
            // 004: drawn up within 14 days, a new plan at least yearly. The routine
            // sends no plan to the authority, the first or a revision.
            ActKind::HousingSupport => ActDeadlines {
                draw_up_days: Some(14),
                submit_days_after_order: None,
                submit_days_after_version: None,
                submit_revision_days: None,
                follow_up_every_months: Some(12),
                follow_up_at_date_in_plan: true,
                review_every_months: None,
            },
        }
    }
}

/// An organisation's deadlines for every act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlinePolicy {
    pub organisation: Option<String>,
    acts: [ActDeadlines; 4],
    /// An entry sealed more than this many days after the time it claims is back-dated
    /// (`audit backdated` lists it); `None` (`"off"`) lists none.
    pub backdated_after_days: Option<u32>,
}

impl DeadlinePolicy {
    /// Documentation is to be kept up to date as things happen; a week covers a paper
    /// note entered after a weekend or a short absence, and not much more.
    pub const DEFAULT_BACKDATED_AFTER_DAYS: u32 = 7;
}

impl Default for DeadlinePolicy {
    fn default() -> DeadlinePolicy {
        DeadlinePolicy {
            organisation: None,
            acts: ActKind::ALL.map(ActDeadlines::default_for),
            backdated_after_days: Some(Self::DEFAULT_BACKDATED_AFTER_DAYS),
        }
    }
}

fn act_index(act: ActKind) -> usize {
    ActKind::ALL
        .iter()
        .position(|a| *a == act)
        .expect("ALL lists every act")
}

/// Why a policy file was rejected: where, which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("policy line {line}, column {column}{}: {message}", field_suffix(.field))]
    Invalid {
        line: usize,
        column: usize,
        /// `table.key` at fault, when known.
        field: Option<String>,
        message: String,
    },
}

fn field_suffix(field: &Option<String>) -> String {
    field
        .as_ref()
        .map(|f| format!(" (field {f})"))
        .unwrap_or_default()
}

impl PolicyError {
    pub fn line(&self) -> usize {
        match self {
            PolicyError::Invalid { line, .. } => *line,
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            PolicyError::Invalid { field, .. } => field.as_deref(),
        }
    }
}

/// A number of days or months, or `"off"`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Setting {
    Number(i64),
    Word(String),
}

impl<'de> Deserialize<'de> for Setting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Setting, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Setting;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number or \"off\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Setting, E> {
                Ok(Setting::Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Setting, E> {
                Ok(Setting::Number(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Setting, E> {
                Ok(Setting::Word(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAct {
    draw_up_days: Option<Spanned<Setting>>,
    submit_days_after_order: Option<Spanned<Setting>>,
    submit_days_after_version: Option<Spanned<Setting>>,
    submit_revision_days: Option<Spanned<Setting>>,
    follow_up_every_months: Option<Spanned<Setting>>,
    follow_up_at_date_in_plan: Option<bool>,
    review_every_months: Option<Spanned<Setting>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    organisation: Option<String>,
    backdated_after_days: Option<Spanned<Setting>>,
    all: Option<RawAct>,
    residential_care: Option<RawAct>,
    home_care: Option<RawAct>,
    lss_daily_activity: Option<RawAct>,
    housing_support: Option<RawAct>,
    /// Read by [`crate::retention::RetentionPolicy::from_toml`].
    #[allow(dead_code)]
    retention: Option<toml::Value>,
}

/// Longest deadline accepted: beyond it a value is a typo, not a policy.
const MAX_DAYS: i64 = 366;
const MAX_MONTHS: i64 = 60;

impl DeadlinePolicy {
    /// The deadlines of `act`.
    pub fn for_act(&self, act: ActKind) -> &ActDeadlines {
        &self.acts[act_index(act)]
    }

    /// Replaces the deadlines of `act`.
    pub fn set(&mut self, act: ActKind, deadlines: ActDeadlines) {
        self.acts[act_index(act)] = deadlines;
    }

    /// Reads a policy file; keys it does not set keep docs/DOMAIN.md's defaults.
    pub fn from_toml(text: &str) -> Result<DeadlinePolicy, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            located(text, span, e.message().trim().to_owned(), None)
        })?;
        let mut policy = DeadlinePolicy {
            organisation: raw.organisation,
            ..DeadlinePolicy::default()
        };
        setting(
            text,
            "",
            "backdated_after_days",
            &raw.backdated_after_days,
            0,
            MAX_DAYS,
            "days",
            &mut policy.backdated_after_days,
        )?;
        let tables = [
            (ActKind::ResidentialCare, raw.residential_care),
            (ActKind::HomeCare, raw.home_care),
            (ActKind::LssDailyActivity, raw.lss_daily_activity),
            (ActKind::HousingSupport, raw.housing_support),
        ];
        for (act, own) in tables {
            let mut d = *policy.for_act(act);
            if let Some(all) = &raw.all {
                apply_raw(text, "all", all, &mut d)?;
            }
            if let Some(own) = &own {
                apply_raw(text, act.as_str(), own, &mut d)?;
            }
            policy.set(act, d);
        }
        Ok(policy)
    }
}

fn apply_raw(
    text: &str,
    table: &str,
    raw: &RawAct,
    d: &mut ActDeadlines,
) -> Result<(), PolicyError> {
    let days = |key: &str, s: &Option<Spanned<Setting>>, into: &mut Option<u32>| {
        setting(text, table, key, s, 0, MAX_DAYS, "days", into)
    };
    days("draw_up_days", &raw.draw_up_days, &mut d.draw_up_days)?;
    days(
        "submit_days_after_order",
        &raw.submit_days_after_order,
        &mut d.submit_days_after_order,
    )?;
    days(
        "submit_days_after_version",
        &raw.submit_days_after_version,
        &mut d.submit_days_after_version,
    )?;
    days(
        "submit_revision_days",
        &raw.submit_revision_days,
        &mut d.submit_revision_days,
    )?;
    let months = |key: &str, s: &Option<Spanned<Setting>>, into: &mut Option<u32>| {
        setting(text, table, key, s, 1, MAX_MONTHS, "months", into)
    };
    months(
        "follow_up_every_months",
        &raw.follow_up_every_months,
        &mut d.follow_up_every_months,
    )?;
    months(
        "review_every_months",
        &raw.review_every_months,
        &mut d.review_every_months,
    )?;
    if let Some(b) = raw.follow_up_at_date_in_plan {
        d.follow_up_at_date_in_plan = b;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)] // one call shape for both units; clearer than a struct
fn setting(
    text: &str,
    table: &str,
    key: &str,
    s: &Option<Spanned<Setting>>,
    min: i64,
    max: i64,
    unit: &str,
    into: &mut Option<u32>,
) -> Result<(), PolicyError> {
    let Some(s) = s else { return Ok(()) };
    let field = Some(if table.is_empty() {
        key.to_owned()
    } else {
        format!("{table}.{key}")
    });
    match s.get_ref() {
        Setting::Word(w) if w == "off" => *into = None,
        Setting::Word(w) => {
            return Err(located(
                text,
                s.span(),
                format!("{w:?} is not a setting; write a number of {unit} or \"off\""),
                field,
            ));
        }
        Setting::Number(n) if (min..=max).contains(n) => *into = Some(*n as u32),
        Setting::Number(n) => {
            return Err(located(
                text,
                s.span(),
                format!("{n} {unit} is out of range; write {min} to {max} {unit}, or \"off\""),
                field,
            ));
        }
    }
    Ok(())
}

/// Builds an error at `span`, naming the field from the text when not given: the key
/// before `=` on that line, under the last `[table]` header above it.
fn located(text: &str, span: Range<usize>, message: String, field: Option<String>) -> PolicyError {
    let start = span.start.min(text.len());
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..start].chars().count() + 1;
    let field = field.or_else(|| {
        let line_text = text[line_start..].lines().next().unwrap_or("");
        let key = line_text.split_once('=')?.0.trim();
        if key.is_empty() || key.starts_with('[') || key.starts_with('#') {
            return None;
        }
        let table = before
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('[') && !l.starts_with("[["))
            .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
        Some(match table {
            Some(t) => format!("{t}.{key}"),
            None => key.to_owned(),
        })
    });
    PolicyError::Invalid {
        line,
        column,
        field,
        message,
    }
}
