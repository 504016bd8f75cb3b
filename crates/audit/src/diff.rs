//! What changed between two versions of a plan, field by field, with the values before
//! and after: "services[Dusch].when: tisdagar 09:00–09:45 -> tisdagar och fredagar
//! 09:00–09:45".
//!
//! The contents are compared as the JSON trees they serialize to, so a field added to
//! `PlanContent` later shows up here without a change. Paths use the serde field names;
//! list items are named by what the plan calls them (a service by its `what`, a life
//! area by its `area`, a participant by `name`, …) so that inserting a service does not
//! make every later one look changed. Schedules read as a person writes them, and a
//! personnummer stays masked unless asked for.

use std::fmt;

use planledger_plan::{PartOfDay, Personnummer, PlanContent, Schedule, Weekday};
use serde::Serialize;
use serde_json::{Map, Value};

/// One field that differs. `None` is a field (or list item) that is absent or empty on
/// that side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".to_owned());
        write!(
            f,
            "{}: {} -> {}",
            self.path,
            side(&self.before),
            side(&self.after)
        )
    }
}

/// The fields of `after` that differ from `before`, in path order.
pub fn content_diff(
    before: &PlanContent,
    after: &PlanContent,
    reveal_personnummer: bool,
) -> Vec<FieldChange> {
    // Plain data with string keys: serialising it to a JSON tree cannot fail.
    let a = serde_json::to_value(before).unwrap_or(Value::Null);
    let b = serde_json::to_value(after).unwrap_or(Value::Null);
    let mut out = Vec::new();
    let differ = Differ {
        reveal: reveal_personnummer,
    };
    differ.walk("", "", Some(&a), Some(&b), &mut out);
    out
}

/// The keys that name an item of a list, in order of preference.
const NAME_KEYS: [&str; 6] = ["what", "area", "name", "subject", "topic", "with"];

struct Differ {
    reveal: bool,
}

impl Differ {
    fn walk(
        &self,
        path: &str,
        key: &str,
        a: Option<&Value>,
        b: Option<&Value>,
        out: &mut Vec<FieldChange>,
    ) {
        if a == b {
            return;
        }
        match (a, b) {
            (Some(Value::Object(x)), Some(Value::Object(y))) if key != "when" => {
                self.objects(path, x, y, out)
            }
            (Some(Value::Array(x)), Some(Value::Array(y)))
                if x.iter().chain(y).any(Value::is_object) =>
            {
                self.arrays(path, x, y, out)
            }
            _ => {
                let before = a.and_then(|v| self.text(key, v));
                let after = b.and_then(|v| self.text(key, v));
                if before != after {
                    out.push(FieldChange {
                        path: path.to_owned(),
                        before,
                        after,
                    });
                }
            }
        }
    }

    fn objects(
        &self,
        path: &str,
        x: &Map<String, Value>,
        y: &Map<String, Value>,
        out: &mut Vec<FieldChange>,
    ) {
        let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
        for k in keys {
            let child = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            self.walk(&child, k, x.get(k), y.get(k), out);
        }
    }

    fn arrays(&self, path: &str, x: &[Value], y: &[Value], out: &mut Vec<FieldChange>) {
        let named = NAME_KEYS.iter().find_map(|k| {
            let nx = names(x, k)?;
            let ny = names(y, k)?;
            Some((nx, ny))
        });
        match named {
            Some((nx, ny)) => {
                for (i, name) in nx.iter().enumerate() {
                    let other = ny.iter().position(|n| n == name).map(|j| &y[j]);
                    self.walk(&format!("{path}[{name}]"), "", Some(&x[i]), other, out);
                }
                for (j, name) in ny.iter().enumerate() {
                    if !nx.contains(name) {
                        self.walk(&format!("{path}[{name}]"), "", None, Some(&y[j]), out);
                    }
                }
            }
            None => {
                for i in 0..x.len().max(y.len()) {
                    self.walk(&format!("{path}[{}]", i + 1), "", x.get(i), y.get(i), out);
                }
            }
        }
    }

    /// A value as a person reads it; `None` for absent or empty.
    fn text(&self, key: &str, v: &Value) -> Option<String> {
        let s = match v {
            Value::Null => return None,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) if key == "personnummer" => self.personnummer(s),
            Value::String(s) => s.clone(),
            Value::Object(_) if key == "when" => {
                match serde_json::from_value::<Schedule>(v.clone()) {
                    Ok(schedule) => schedule_text(&schedule),
                    Err(_) => compact(v),
                }
            }
            Value::Array(items) => {
                let parts: Vec<String> = items.iter().filter_map(|i| self.text("", i)).collect();
                parts.join(", ")
            }
            Value::Object(map) => {
                let parts: Vec<String> = map
                    .iter()
                    .filter_map(|(k, v)| self.text(k, v).map(|t| format!("{k}: {t}")))
                    .collect();
                parts.join("; ")
            }
        };
        (!s.is_empty()).then_some(s)
    }

    fn personnummer(&self, digits: &str) -> String {
        match Personnummer::parse(digits) {
            Ok(p) if self.reveal => p.expose(),
            Ok(p) => p.to_string(),
            // Not a valid number: show none of it.
            Err(_) => "****".to_owned(),
        }
    }
}

/// The item names under `key`, if every item has a distinct, non-empty one.
fn names(items: &[Value], key: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let name = match item.get(key)? {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::String(_) => return None,
            other => compact(other),
        };
        if out.contains(&name) {
            return None;
        }
        out.push(name);
    }
    Some(out)
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn weekday_plural(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "måndagar",
        Weekday::Tuesday => "tisdagar",
        Weekday::Wednesday => "onsdagar",
        Weekday::Thursday => "torsdagar",
        Weekday::Friday => "fredagar",
        Weekday::Saturday => "lördagar",
        Weekday::Sunday => "söndagar",
    }
}

fn part_of_day(p: PartOfDay) -> &'static str {
    match p {
        PartOfDay::Morning => "morgon",
        PartOfDay::Forenoon => "förmiddag",
        PartOfDay::Afternoon => "eftermiddag",
        PartOfDay::Evening => "kväll",
        PartOfDay::Night => "natt",
    }
}

/// A schedule as the plan's reader writes it, in Swedish like the plan itself:
/// "tisdagar och fredagar 09:00–09:45", "alla dagar kväll, varannan vecka".
pub fn schedule_text(s: &Schedule) -> String {
    let mut days: Vec<Weekday> = s.days.clone();
    days.sort();
    days.dedup();
    let mut parts = Vec::new();
    if days.len() == 7 {
        parts.push("alla dagar".to_owned());
    } else if !days.is_empty() {
        let names: Vec<&str> = days.iter().map(|d| weekday_plural(*d)).collect();
        let (last, init) = names.split_last().expect("not empty");
        parts.push(if init.is_empty() {
            (*last).to_owned()
        } else {
            format!("{} och {last}", init.join(", "))
        });
    }
    match (s.start, s.end) {
        (Some(a), Some(b)) => parts.push(format!("{a}–{b}")),
        (Some(a), None) => parts.push(format!("kl. {a}")),
        (None, Some(b)) => parts.push(format!("till {b}")),
        (None, None) => {}
    }
    if let Some(p) = s.part_of_day {
        parts.push(part_of_day(p).to_owned());
    }
    let mut text = parts.join(" ");
    match s.every_weeks {
        0 | 1 => {}
        2 => text.push_str(", varannan vecka"),
        n => text.push_str(&format!(", var {n}:e vecka")),
    }
    if !s.note.is_empty() {
        if !text.is_empty() {
            text.push_str(", ");
        }
        text.push_str(&s.note);
    }
    text
}

#[cfg(test)]
mod tests {
    use planledger_app::testkit::*;
    use planledger_plan::{ActKind, Participant, ParticipantRole, Service};

    use super::*;

    fn base() -> PlanContent {
        content(
            ActKind::HomeCare,
            &unit("hemtjanst-norr"),
            client(0),
            date(2026, 3, 10),
        )
    }

    fn lines(changes: &[FieldChange]) -> Vec<String> {
        changes.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn identical_contents_have_no_changes() {
        assert!(content_diff(&base(), &base(), false).is_empty());
    }

    #[test]
    fn a_schedule_change_reads_as_the_schedule_before_and_after() {
        let old = base();
        let mut new = old.clone();
        new.services[0].when.days.push(Weekday::Friday);
        assert_eq!(
            lines(&content_diff(&old, &new, false)),
            ["services[Dusch].when: tisdagar 09:00–09:45 -> tisdagar och fredagar 09:00–09:45"]
        );
    }

    #[test]
    fn list_items_are_matched_by_name_so_an_insert_changes_only_itself() {
        let old = base();
        let mut new = old.clone();
        new.services.insert(
            0,
            Service {
                what: "Inköp".into(),
                who: "Hemtjänstgrupp Norr".into(),
                ..Service::default()
            },
        );
        new.services[1].who = "Kvällsgruppen".into();
        new.participants.push(Participant {
            name: "Sjuksköterska".into(),
            role: ParticipantRole::Nurse,
        });
        new.goals.push("Träffa grannar".into());
        new.drawn_up_on = Some(date(2026, 4, 1));
        assert_eq!(
            lines(&content_diff(&old, &new, false)),
            [
                "drawn_up_on: 2026-03-10 -> 2026-04-01",
                "goals: Kunden kan bo kvar hemma tryggt -> Kunden kan bo kvar hemma tryggt, Träffa grannar",
                "participants[Sjuksköterska]: – -> name: Sjuksköterska; role: nurse",
                "services[Dusch].who: Hemtjänstgrupp Norr, kontaktperson -> Kvällsgruppen",
                "services[Inköp]: – -> what: Inköp; who: Hemtjänstgrupp Norr",
            ]
        );
        // And the other way round, the service is removed.
        assert!(
            lines(&content_diff(&new, &old, false)).contains(
                &"services[Inköp]: what: Inköp; who: Hemtjänstgrupp Norr -> –".to_owned()
            )
        );
    }

    #[test]
    fn a_personnummer_in_a_change_is_masked_unless_revealed() {
        let old = base();
        let mut new = old.clone();
        new.client.personnummer = client(1);
        assert_eq!(
            lines(&content_diff(&old, &new, false)),
            ["client.personnummer: 19640823-**** -> 19701063-****"]
        );
        assert_eq!(
            lines(&content_diff(&old, &new, true)),
            ["client.personnummer: 19640823-3234 -> 19701063-2391"]
        );
    }

    #[test]
    fn schedules_read_like_the_plan_writes_them() {
        let mut s = Schedule {
            days: Weekday::ALL.to_vec(),
            start: None,
            end: None,
            part_of_day: Some(PartOfDay::Evening),
            every_weeks: 2,
            note: "vid behov".into(),
        };
        assert_eq!(
            schedule_text(&s),
            "alla dagar kväll, varannan vecka, vid behov"
        );
        s.days = vec![Weekday::Friday, Weekday::Monday, Weekday::Wednesday];
        s.part_of_day = None;
        s.start = time(8, 0);
        s.every_weeks = 1;
        s.note.clear();
        assert_eq!(
            schedule_text(&s),
            "måndagar, onsdagar och fredagar kl. 08:00"
        );
    }
}
