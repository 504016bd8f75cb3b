//! A plan's history, or every plan of one client: each version with who drew it up,
//! who signed, who approved, when, and what changed; and every other event, a
//! correction showing what it corrects (the corrected record stays as it was).

use chrono::{DateTime, NaiveDate, Utc};
use planledger_plan::{
    Actor, CloseReason, Event, Personnummer, PlanId, PlanState, RevisionReason, Role, Signer,
    UnitId,
};
use std::borrow::Cow;

use planledger_ledger::Hash;
use planledger_projection::{PlanView, Plans};
use serde::Serialize;

use crate::diff::{FieldChange, content_diff};
use crate::render::{Column, Lang, Row};
use crate::scope::Scoped;

/// One plan of a subject, folded whole, as it stood at the scope's cutoff.
pub(crate) struct Viewed<'a> {
    pub view: &'a PlanView,
    pub state: Cow<'a, PlanState>,
    pub unit: UnitId,
    pub client: Personnummer,
}

impl<'a> Viewed<'a> {
    /// `None` for a plan with no order by `cutoff` (it did not exist yet).
    fn new(view: &'a PlanView, cutoff: DateTime<Utc>) -> Option<Viewed<'a>> {
        let state = view.state_at(cutoff);
        let unit = state.unit()?.clone();
        let client = *state.client()?;
        Some(Viewed {
            view,
            state,
            unit,
            client,
        })
    }

    fn id(&self) -> &PlanId {
        self.view.id()
    }
}
use crate::{AuditError, Scope, text};

/// Whose history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Plan(PlanId),
    /// Every plan of the client.
    Client(Personnummer),
}

/// The plans a subject names, each folded whole.
pub(crate) fn subject_views<'a>(
    plans: &'a dyn Plans,
    subject: &Subject,
) -> Result<Vec<Cow<'a, PlanView>>, AuditError> {
    Ok(match subject {
        Subject::Plan(id) => plans.plan(id)?.into_iter().collect(),
        Subject::Client(c) => plans.plans_of_client(c)?,
    })
}

/// Those of `views` within the scope (unit filter, existing by the cutoff); an error
/// naming the subject if none is.
pub(crate) fn subject_plans<'a>(
    views: &'a [Cow<'a, PlanView>],
    scope: &Scope,
    subject: &Subject,
) -> Result<Vec<Viewed<'a>>, AuditError> {
    let cutoff = scope.cutoff();
    let plans: Vec<Viewed<'a>> = views
        .iter()
        .filter_map(|v| Viewed::new(v, cutoff))
        .filter(|p| scope.unit.as_ref().is_none_or(|u| *u == p.unit))
        .collect();
    if plans.is_empty() {
        return Err(match subject {
            Subject::Plan(plan) => AuditError::NoSuchPlan {
                plan: plan.clone(),
                as_of: scope.as_of,
            },
            Subject::Client(c) => AuditError::NoPlansOfClient {
                client: c.to_string(),
                as_of: scope.as_of,
            },
        });
    }
    Ok(plans)
}

/// Who did something, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Done {
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// A signature on a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    pub signer: Signer,
    /// Who recorded it.
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// One version of a plan (a journal record, active or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRow {
    pub plan: PlanId,
    pub version: u32,
    /// Who drew it up and when it was recorded.
    pub drawn_up: Done,
    /// `None` for version 1.
    pub reason: Option<RevisionReason>,
    pub note: String,
    pub signatures: Vec<Signature>,
    pub submitted: Option<Done>,
    pub approved: Option<Done>,
    /// When the next version replaced it (as of the scope's date).
    pub replaced_at: Option<DateTime<Utc>>,
    /// What changed from the version before (empty for version 1).
    pub changes: Vec<FieldChange>,
    /// The record that holds it: position and hash (hex), checkable against the
    /// ledger and its inclusion proofs, and when the ledger sealed it (`drawn_up.at` is
    /// the time the entry claims; `None` for a record of layout 1).
    pub position: Option<u64>,
    pub hash: Option<String>,
    pub sealed_at: Option<DateTime<Utc>>,
}

/// What an event says, without the plan's content (a version's content is in
/// [`VersionRow`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Detail {
    Order {
        order: String,
        received_on: NaiveDate,
        granted_services: Vec<String>,
    },
    Version {
        version: u32,
        reason: Option<RevisionReason>,
        note: String,
    },
    Signed {
        version: u32,
        signer: Signer,
    },
    Submitted {
        version: u32,
    },
    Approved {
        version: u32,
    },
    SupplementRequested {
        version: u32,
        reason: String,
        due_on: NaiveDate,
    },
    SupplementProvided {
        version: u32,
        note: String,
    },
    Review {
        version: u32,
        all_clear: bool,
        findings: String,
    },
    FollowUp {
        version: u32,
        findings: String,
        next_follow_up_on: Option<NaiveDate>,
    },
    Deviation {
        occurred_on: NaiveDate,
        service: Option<String>,
        description: String,
    },
    /// A correction of the record at `refers_to` (stream version) of this plan.
    Correction {
        refers_to: u64,
        /// The corrected record's event type and time, when it exists.
        refers_to_event: Option<String>,
        refers_to_at: Option<DateTime<Utc>>,
        note: String,
    },
    Closed {
        reason: CloseReason,
        closed_on: NaiveDate,
    },
    /// An event type this build does not describe.
    Other,
}

/// One event of a plan, with its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRow {
    pub plan: PlanId,
    /// The event's number in the plan's stream (what corrections refer to).
    pub stream_version: u64,
    pub position: u64,
    /// When it happened, as the entry claims.
    pub claimed_at: DateTime<Utc>,
    /// When the ledger sealed the record (`None`: layout 1, which has no sealing time).
    pub sealed_at: Option<DateTime<Utc>>,
    pub by: Actor,
    pub event_type: String,
    pub detail: Detail,
    /// Stream versions of the corrections that refer to this event.
    pub corrected_by: Vec<u64>,
    pub hash: String,
}

/// The history of one plan or one client's plans, as of the scope's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct History {
    /// Every version, by plan then version number.
    pub versions: Vec<VersionRow>,
    /// Every event, by plan then stream order.
    pub events: Vec<EventRow>,
}

/// The history of `subject` as of the scope's date (nothing recorded later).
pub fn history(plans: &dyn Plans, scope: &Scope, subject: &Subject) -> Result<History, AuditError> {
    let mut history = History {
        versions: Vec::new(),
        events: Vec::new(),
    };
    let cutoff = scope.cutoff();
    let views = subject_views(plans, subject)?;
    for p in subject_plans(&views, scope, subject)? {
        let state = &p.state;
        let mut previous: Option<&planledger_plan::VersionRecord> = None;
        for v in state.versions() {
            let record = p.view.event(v.stream_version);
            history.versions.push(VersionRow {
                plan: p.id().clone(),
                version: v.number,
                drawn_up: Done {
                    by: v.by.clone(),
                    at: v.recorded_at,
                },
                reason: v.reason,
                note: v.note.clone(),
                signatures: v
                    .signatures
                    .iter()
                    .map(|s| Signature {
                        signer: s.signer.clone(),
                        by: s.by.clone(),
                        at: s.at,
                    })
                    .collect(),
                submitted: v.submitted.as_ref().map(|s| Done {
                    by: s.by.clone(),
                    at: s.at,
                }),
                approved: v.approved.as_ref().map(|s| Done {
                    by: s.by.clone(),
                    at: s.at,
                }),
                replaced_at: v.superseded_at,
                changes: match (
                    previous.and_then(|prev| state.content(prev.number)),
                    state.content(v.number),
                ) {
                    (Some(before), Some(after)) => {
                        content_diff(before, after, scope.reveal_personnummer)
                    }
                    _ => Vec::new(),
                },
                position: record.map(|r| r.position),
                hash: record.map(|r| r.hash.to_hex()),
                sealed_at: record.and_then(|r| r.sealed_at),
            });
            previous = Some(v);
        }
        let events: Vec<_> = p.view.events_until(cutoff).collect();
        for e in &events {
            let corrected_by = events
                .iter()
                .filter(|c| {
                    matches!(&c.event, Event::CorrectionNoted(n) if n.refers_to == e.stream_version)
                })
                .map(|c| c.stream_version)
                .collect();
            history.events.push(EventRow {
                plan: p.id().clone(),
                stream_version: e.stream_version,
                position: e.position,
                claimed_at: e.claimed_at,
                sealed_at: e.sealed_at,
                by: e.actor.clone(),
                event_type: e.event_type().to_owned(),
                detail: detail(p.view, &e.event, cutoff),
                corrected_by,
                hash: e.hash.to_hex(),
            });
        }
    }
    Ok(history)
}

fn detail(view: &PlanView, event: &Event, cutoff: DateTime<Utc>) -> Detail {
    match event {
        Event::OrderReceived(e) => Detail::Order {
            order: e.order.to_string(),
            received_on: e.received_on,
            granted_services: e.granted_services.clone(),
        },
        Event::PlanDrafted(e) => Detail::Version {
            version: e.version,
            reason: None,
            note: String::new(),
        },
        Event::PlanRevised(e) => Detail::Version {
            version: e.version,
            reason: Some(e.reason),
            note: e.note.clone(),
        },
        Event::PlanSigned(e) => Detail::Signed {
            version: e.version,
            signer: e.signer.clone(),
        },
        Event::PlanSubmitted(e) => Detail::Submitted { version: e.version },
        Event::PlanApproved(e) => Detail::Approved { version: e.version },
        Event::SupplementRequested(e) => Detail::SupplementRequested {
            version: e.version,
            reason: e.reason.clone(),
            due_on: e.due_on,
        },
        Event::SupplementProvided(e) => Detail::SupplementProvided {
            version: e.version,
            note: e.note.clone(),
        },
        Event::ReviewDone(e) => Detail::Review {
            version: e.version,
            all_clear: e.checklist.all_clear(),
            findings: e.findings.clone(),
        },
        Event::FollowUpDone(e) => Detail::FollowUp {
            version: e.version,
            findings: e.findings.clone(),
            next_follow_up_on: e.next_follow_up_on,
        },
        Event::DeviationRecorded(e) => Detail::Deviation {
            occurred_on: e.occurred_on,
            service: e.service.clone(),
            description: e.description.clone(),
        },
        Event::CorrectionNoted(e) => {
            let target = view.event(e.refers_to).filter(|t| t.claimed_at <= cutoff);
            Detail::Correction {
                refers_to: e.refers_to,
                refers_to_event: target.map(|t| t.event_type().to_owned()),
                refers_to_at: target.map(|t| t.claimed_at),
                note: e.note.clone(),
            }
        }
        Event::PlanClosed(e) => Detail::Closed {
            reason: e.reason,
            closed_on: e.closed_on,
        },
        _ => Detail::Other,
    }
}

fn role(lang: Lang, r: Role) -> &'static str {
    match r {
        Role::KeyWorker => lang.pick("kontaktperson", "key worker"),
        Role::Staff => lang.pick("medarbetare", "staff"),
        Role::UnitManager => lang.pick("enhetschef", "unit manager"),
        Role::CaseOfficer => lang.pick("handläggare", "case officer"),
        Role::AdministrativeOfficer => lang.pick("förvaltningsassistent", "administrative officer"),
        Role::Inspector => lang.pick("inspektör", "inspector"),
        Role::Admin => lang.pick("administratör", "administrator"),
    }
}

pub(crate) fn actor(lang: Lang, a: &Actor) -> String {
    format!("{} ({})", a.user, role(lang, a.role))
}

/// A recorded time as people in Sweden read it: local time with its offset.
pub(crate) fn instant(at: DateTime<Utc>) -> String {
    planledger_plan::format_local(at)
}

/// Who drew a version up and when, as the entry claims; and when the ledger sealed it,
/// if that was another day ("drawn up 2026-03-05 according to the entry, recorded in
/// the ledger 2026-11-20").
fn drawn_up(lang: Lang, d: &Done, sealed_at: Option<DateTime<Utc>>) -> String {
    let claimed = format!("{} {}", instant(d.at), actor(lang, &d.by));
    match sealed_at {
        Some(sealed) if crate::scope::day_of(sealed) != crate::scope::day_of(d.at) => {
            let (according, recorded) = match lang {
                Lang::Sv => ("enligt anteckningen", "registrerad i liggaren"),
                Lang::En => ("according to the entry", "recorded in the ledger"),
            };
            format!("{claimed} {according}, {recorded} {}", instant(sealed))
        }
        _ => claimed,
    }
}

fn done(lang: Lang, d: &Option<Done>) -> String {
    match d {
        Some(d) => format!("{} {}", instant(d.at), actor(lang, &d.by)),
        None => "–".to_owned(),
    }
}

pub(crate) fn event_name(lang: Lang, event_type: &str) -> String {
    let (sv, en) = match event_type {
        "order_received" => ("beställning mottagen", "order received"),
        "plan_drafted" => ("plan upprättad", "plan drawn up"),
        "plan_revised" => ("ny version", "new version"),
        "plan_signed" => ("signerad", "signed"),
        "plan_submitted" => ("skickad till handläggare", "sent to case officer"),
        "plan_approved" => ("godkänd", "approved"),
        "supplement_requested" => ("komplettering begärd", "supplement requested"),
        "supplement_provided" => ("komplettering inlämnad", "supplement provided"),
        "review_done" => ("genomgång", "review"),
        "follow_up_done" => ("uppföljning", "follow-up"),
        "deviation_recorded" => ("avvikelse", "deviation"),
        "correction_noted" => ("rättelse", "correction"),
        "plan_closed" => ("avslutad", "closed"),
        other => (other, other),
    };
    lang.pick(sv, en).to_owned()
}

fn detail_text(lang: Lang, d: &Detail) -> String {
    let v = lang.pick("version", "version");
    match d {
        Detail::Order {
            order,
            received_on,
            granted_services,
        } => format!(
            "{order} {} {received_on}: {}",
            lang.pick("mottagen", "received"),
            granted_services.join(", ")
        ),
        Detail::Version {
            version,
            reason,
            note,
        } => {
            let mut s = format!("{v} {version}");
            if let Some(r) = reason {
                s.push_str(&format!(" ({})", text::revision_reason(lang, *r)));
            }
            if !note.is_empty() {
                s.push_str(&format!(": {note}"));
            }
            s
        }
        Detail::Signed { version, signer } => format!(
            "{v} {version} {} {}",
            lang.pick("signerad av", "signed by"),
            text::signer(lang, signer)
        ),
        Detail::Submitted { version } | Detail::Approved { version } => {
            format!("{v} {version}")
        }
        Detail::SupplementRequested {
            version,
            reason,
            due_on,
        } => format!(
            "{v} {version}: {reason} ({} {due_on})",
            lang.pick("senast", "due")
        ),
        Detail::SupplementProvided { version, note } => format!("{v} {version}: {note}"),
        Detail::Review {
            version,
            all_clear,
            findings,
        } => {
            let verdict = if *all_clear {
                lang.pick("utan anmärkning", "all clear")
            } else {
                lang.pick("brister", "needs action")
            };
            if findings.is_empty() {
                format!("{v} {version}: {verdict}")
            } else {
                format!("{v} {version}: {verdict}; {findings}")
            }
        }
        Detail::FollowUp {
            version,
            findings,
            next_follow_up_on,
        } => match next_follow_up_on {
            Some(next) => format!(
                "{v} {version}: {findings} ({} {next})",
                lang.pick("nästa", "next")
            ),
            None => format!("{v} {version}: {findings}"),
        },
        Detail::Deviation {
            occurred_on,
            service,
            description,
        } => match service {
            Some(s) => format!("{occurred_on} {s}: {description}"),
            None => format!("{occurred_on}: {description}"),
        },
        Detail::Correction {
            refers_to,
            refers_to_event,
            refers_to_at,
            note,
        } => {
            let target = match (refers_to_event, refers_to_at) {
                (Some(e), Some(at)) => format!(" ({}, {})", event_name(lang, e), instant(*at)),
                _ => String::new(),
            };
            format!(
                "{} #{refers_to}{target}: {note}",
                lang.pick("rättar", "corrects")
            )
        }
        Detail::Closed { reason, closed_on } => {
            format!("{closed_on}: {}", text::close_reason(lang, *reason))
        }
        Detail::Other => String::new(),
    }
}

impl Row for VersionRow {
    fn columns() -> &'static [Column] {
        const C: &[Column] = &[
            Column::new("plan", "plan", "plan"),
            Column::new("version", "version", "version"),
            Column::new("drawn_up", "upprättad", "drawn up"),
            Column::new("reason", "skäl", "reason"),
            Column::new("signatures", "signerad", "signed"),
            Column::new("submitted", "skickad", "sent"),
            Column::new("approved", "godkänd", "approved"),
            Column::new("replaced_at", "ersatt", "replaced"),
            Column::new("changes", "ändringar", "changes"),
            Column::new("position", "post", "record"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        let reason = match (self.reason, self.note.is_empty()) {
            (None, _) => "–".to_owned(),
            (Some(r), true) => text::revision_reason(lang, r).to_owned(),
            (Some(r), false) => format!("{}: {}", text::revision_reason(lang, r), self.note),
        };
        let signatures: Vec<String> = self
            .signatures
            .iter()
            .map(|s| {
                format!(
                    "{} {} ({})",
                    text::signer(lang, &s.signer),
                    instant(s.at),
                    s.by.user
                )
            })
            .collect();
        let changes: Vec<String> = self.changes.iter().map(|c| c.to_string()).collect();
        vec![
            self.plan.to_string(),
            self.version.to_string(),
            drawn_up(lang, &self.drawn_up, self.sealed_at),
            reason,
            if signatures.is_empty() {
                "–".to_owned()
            } else {
                signatures.join("; ")
            },
            done(lang, &self.submitted),
            done(lang, &self.approved),
            self.replaced_at.map_or_else(|| "–".to_owned(), instant),
            if changes.is_empty() {
                "–".to_owned()
            } else {
                changes.join("; ")
            },
            text::opt(self.position),
        ]
    }
}

impl Row for EventRow {
    fn columns() -> &'static [Column] {
        const C: &[Column] = &[
            Column::new("plan", "plan", "plan"),
            Column::new("stream_version", "nr", "no"),
            Column::new("position", "post", "record"),
            Column::new(
                "claimed_at",
                "enligt anteckningen",
                "according to the entry",
            ),
            Column::new("sealed_at", "i liggaren", "in the ledger"),
            Column::new("by", "av", "by"),
            Column::new("event_type", "händelse", "event"),
            Column::new("detail", "innehåll", "details"),
            Column::new("corrected_by", "rättad i", "corrected in"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        let corrected: Vec<String> = self.corrected_by.iter().map(|n| format!("#{n}")).collect();
        vec![
            self.plan.to_string(),
            format!("#{}", self.stream_version),
            self.position.to_string(),
            instant(self.claimed_at),
            self.sealed_at.map_or_else(|| "–".to_owned(), instant),
            actor(lang, &self.by),
            event_name(lang, &self.event_type),
            detail_text(lang, &self.detail),
            if corrected.is_empty() {
                "–".to_owned()
            } else {
                corrected.join(", ")
            },
        ]
    }
}

impl History {
    /// Writes the history: for a table or CSV, the versions, a blank line, then the
    /// events; for JSON, one object `{"versions": [...], "events": [...]}`.
    pub fn render(
        &self,
        format: crate::Format,
        lang: Lang,
        out: &mut dyn std::io::Write,
    ) -> Result<(), crate::RenderError> {
        if format == crate::Format::Json {
            serde_json::to_writer_pretty(&mut *out, self)?;
            out.write_all(b"\n")?;
            return Ok(());
        }
        crate::render(&self.versions, format, lang, out)?;
        out.write_all(b"\n")?;
        crate::render(&self.events, format, lang, out)
    }
}

/// The version of each plan in force at the end of the scope's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InForceRow {
    pub plan: PlanId,
    pub unit: UnitId,
    pub client: String,
    /// `None`: no version was in force (not drawn up yet, or closed by then).
    pub version: Option<u32>,
    pub drawn_up: Option<Done>,
    /// Whether it carried the signature its act requires, by then.
    pub signed: bool,
    pub approved: Option<Done>,
    pub position: Option<u64>,
    pub hash: Option<String>,
}

/// The plan in force on the scope's date: for one plan, one client, or (with no
/// subject) every plan in scope.
pub fn in_force(
    plans: &dyn Plans,
    scope: &Scope,
    subject: Option<&Subject>,
) -> Result<Vec<InForceRow>, AuditError> {
    let cutoff = scope.cutoff();
    let row = |id: &PlanId,
               state: &PlanState,
               unit: &UnitId,
               client: &Personnummer,
               record: &dyn Fn(u64) -> Result<Option<(u64, Hash)>, AuditError>|
     -> Result<InForceRow, AuditError> {
        let v = state.version_in_force(cutoff);
        let record = match v {
            Some(v) => record(v.stream_version)?,
            None => None,
        };
        let required = state.act().map(|a| a.required_signature());
        Ok(InForceRow {
            plan: id.clone(),
            unit: unit.clone(),
            client: scope.client_label(client),
            version: v.map(|v| v.number),
            drawn_up: v.map(|v| Done {
                by: v.by.clone(),
                at: v.recorded_at,
            }),
            signed: matches!((v, required), (Some(v), Some(r)) if v.is_signed(r)),
            approved: v.and_then(|v| v.approved.as_ref()).map(|a| Done {
                by: a.by.clone(),
                at: a.at,
            }),
            position: record.map(|(position, _)| position),
            hash: record.map(|(_, hash)| hash.to_hex()),
        })
    };
    let mut rows = Vec::new();
    match subject {
        Some(s) => {
            let views = subject_views(plans, s)?;
            for p in subject_plans(&views, scope, s)? {
                let record = |n| Ok(p.view.event(n).map(|e| (e.position, e.hash)));
                rows.push(row(p.id(), &p.state, &p.unit, &p.client, &record)?);
            }
        }
        None => {
            let mut failed = None;
            scope.each_plan(plans, &mut |p: Scoped<'_>| {
                let record = |n| Ok(plans.record_at(p.id(), n)?);
                match row(p.id(), p.state, &p.unit, &p.client, &record) {
                    Ok(r) => rows.push(r),
                    Err(e) => {
                        failed.get_or_insert(e);
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
    }
    Ok(rows)
}

impl Row for InForceRow {
    fn columns() -> &'static [Column] {
        const C: &[Column] = &[
            Column::new("plan", "plan", "plan"),
            Column::new("unit", "enhet", "unit"),
            Column::new("client", "personnummer", "personal id"),
            Column::new("version", "gällande version", "version in force"),
            Column::new("drawn_up", "upprättad", "drawn up"),
            Column::new("signed", "signerad", "signed"),
            Column::new("approved", "godkänd", "approved"),
            Column::new("position", "post", "record"),
        ];
        C
    }

    fn cells(&self, lang: Lang) -> Vec<String> {
        vec![
            self.plan.to_string(),
            self.unit.to_string(),
            self.client.clone(),
            match self.version {
                Some(v) => v.to_string(),
                None => lang.pick("ingen", "none").to_owned(),
            },
            done(lang, &self.drawn_up),
            text::yes_no(lang, self.signed),
            done(lang, &self.approved),
            text::opt(self.position),
        ]
    }
}

#[cfg(test)]
mod tests {
    use planledger_app::testkit::*;
    use planledger_plan::{ActKind, Command, Weekday};

    use super::*;
    use crate::{Format, render_to_string};

    /// plan-1 (home care, client 0): v1 drawn up, signed, sent, approved; v2 with the
    /// shower on Fridays too, signed; a deviation and its correction. plan-2
    /// (residential care, same client, another unit): ordered and drawn up.
    fn scenario() -> Scenario {
        let s = Scenario::new();
        let u = unit("hemtjanst-norr");
        let p1 = plan("plan-1");
        s.ok(
            &officer(),
            at(2026, 3, 2),
            order(&p1, ActKind::HomeCare, &u, client(0), date(2026, 3, 2)),
        );
        let v1 = content(ActKind::HomeCare, &u, client(0), date(2026, 3, 10));
        s.ok(
            &key_worker(),
            at(2026, 3, 10),
            Command::Draft {
                plan: p1.clone(),
                content: v1.clone(),
            },
        );
        s.ok(
            &key_worker(),
            at_hm(2026, 3, 10, 10, 30),
            Command::Sign {
                plan: p1.clone(),
                version: 1,
                signer: Signer::Client,
            },
        );
        s.ok(
            &key_worker(),
            at(2026, 3, 12),
            Command::Submit {
                plan: p1.clone(),
                version: 1,
            },
        );
        s.ok(
            &officer(),
            at(2026, 3, 16),
            Command::Approve {
                plan: p1.clone(),
                version: 1,
            },
        );
        let mut v2 = v1;
        v2.services[0].when.days.push(Weekday::Friday);
        s.ok(
            &key_worker(),
            at(2026, 4, 1),
            Command::Revise {
                plan: p1.clone(),
                reason: RevisionReason::ChangedNeeds,
                note: "Dusch även fredagar".into(),
                content: v2,
            },
        );
        s.ok(
            &key_worker(),
            at_hm(2026, 4, 1, 11, 0),
            Command::Sign {
                plan: p1.clone(),
                version: 2,
                signer: Signer::Client,
            },
        );
        s.ok(
            &staff(),
            at(2026, 4, 5),
            Command::RecordDeviation {
                plan: p1.clone(),
                occurred_on: date(2026, 4, 4),
                service: Some("Dusch".into()),
                description: "Duschen uteblev, personalbrist".into(),
            },
        );
        s.ok(
            &staff(),
            at(2026, 4, 6),
            Command::Correct {
                plan: p1,
                refers_to: 8,
                note: "Avvikelsen gällde 2026-04-03".into(),
            },
        );
        let sabo = unit("sabo-ekbacken");
        let p2 = plan("plan-2");
        s.ok(
            &officer(),
            at(2026, 5, 4),
            order(
                &p2,
                ActKind::ResidentialCare,
                &sabo,
                client(0),
                date(2026, 5, 4),
            ),
        );
        s.ok(
            &key_worker(),
            at(2026, 5, 4),
            Command::Draft {
                plan: p2,
                content: content(ActKind::ResidentialCare, &sabo, client(0), date(2026, 5, 4)),
            },
        );
        s
    }

    #[test]
    fn the_history_of_a_plan_shows_each_version_with_who_and_what_changed() {
        let p = scenario().projection();
        let h = history(
            &p,
            &Scope::new(date(2026, 4, 30)),
            &Subject::Plan(plan("plan-1")),
        )
        .unwrap();
        assert_eq!(h.versions.len(), 2);
        let (v1, v2) = (&h.versions[0], &h.versions[1]);
        assert_eq!(v1.drawn_up.by, key_worker());
        assert_eq!(v1.drawn_up.at, at(2026, 3, 10));
        assert_eq!(v1.signatures.len(), 1);
        assert_eq!(v1.signatures[0].signer, Signer::Client);
        assert_eq!(v1.submitted.as_ref().unwrap().at, at(2026, 3, 12));
        assert_eq!(v1.approved.as_ref().unwrap().by, officer());
        assert_eq!(v1.replaced_at, Some(at(2026, 4, 1)));
        assert!(v1.changes.is_empty());
        assert_eq!((v1.position, v2.position), (Some(1), Some(5)));
        assert_eq!(v2.reason, Some(RevisionReason::ChangedNeeds));
        assert!(v2.approved.is_none());
        let changes: Vec<String> = v2.changes.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            changes,
            ["services[Dusch].when: tisdagar 09:00–09:45 -> tisdagar och fredagar 09:00–09:45"]
        );

        let table = render_to_string(&h.versions, Format::Table, Lang::Sv).unwrap();
        assert!(
            table.contains("2026-03-16 10:00 +01:00 bo-handlaggare (handläggare)"),
            "{table}"
        );
        assert!(
            table.contains("ändrade behov: Dusch även fredagar"),
            "{table}"
        );
    }

    #[test]
    fn a_correction_shows_what_it_corrects_and_the_original_stays() {
        let p = scenario().projection();
        let h = history(
            &p,
            &Scope::new(date(2026, 4, 30)),
            &Subject::Plan(plan("plan-1")),
        )
        .unwrap();
        let types: Vec<&str> = h.events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "order_received",
                "plan_drafted",
                "plan_signed",
                "plan_submitted",
                "plan_approved",
                "plan_revised",
                "plan_signed",
                "deviation_recorded",
                "correction_noted"
            ]
        );
        let deviation = &h.events[7];
        assert_eq!(deviation.corrected_by, [9]);
        assert_eq!(
            deviation.detail,
            Detail::Deviation {
                occurred_on: date(2026, 4, 4),
                service: Some("Dusch".into()),
                description: "Duschen uteblev, personalbrist".into(),
            }
        );
        assert_eq!(
            h.events[8].detail,
            Detail::Correction {
                refers_to: 8,
                refers_to_event: Some("deviation_recorded".into()),
                refers_to_at: Some(at(2026, 4, 5)),
                note: "Avvikelsen gällde 2026-04-03".into(),
            }
        );
        // The store sealed them at its clock's time; pinned here to render known text.
        let mut rows = h.events[7..].to_vec();
        rows.iter_mut()
            .for_each(|e| e.sealed_at = Some(at(2026, 4, 7)));
        let csv = render_to_string(&rows, Format::Csv, Lang::Sv).unwrap();
        let expected = [
            "plan,nr,post,enligt anteckningen,i liggaren,av,händelse,innehåll,rättad i",
            "plan-1,#8,7,2026-04-05 11:00 +02:00,2026-04-07 11:00 +02:00,sam-personal (medarbetare),avvikelse,\
             \"2026-04-04 Dusch: Duschen uteblev, personalbrist\",#9",
            "plan-1,#9,8,2026-04-06 11:00 +02:00,2026-04-07 11:00 +02:00,sam-personal (medarbetare),rättelse,\
             \"rättar #8 (avvikelse, 2026-04-05 11:00 +02:00): Avvikelsen gällde 2026-04-03\",–",
        ];
        assert_eq!(csv.lines().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn a_history_renders_versions_then_events_or_one_json_object() {
        let p = scenario().projection();
        let h = history(
            &p,
            &Scope::new(date(2026, 3, 12)),
            &Subject::Plan(plan("plan-1")),
        )
        .unwrap();
        let mut out = Vec::new();
        h.render(Format::Csv, Lang::En, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let blocks: Vec<&str> = text.split("\n\n").collect();
        assert_eq!(blocks.len(), 2, "{text}");
        assert!(blocks[0].starts_with("plan,version,drawn up,"), "{text}");
        assert_eq!(blocks[1].lines().count(), 1 + 4, "{text}");
        let mut out = Vec::new();
        h.render(Format::Json, Lang::En, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["versions"][0]["version"], 1);
        assert_eq!(v["events"][3]["event_type"], "plan_submitted");
    }

    #[test]
    fn the_history_as_of_an_earlier_date_sees_nothing_later() {
        let p = scenario().projection();
        let h = history(
            &p,
            &Scope::new(date(2026, 3, 20)),
            &Subject::Plan(plan("plan-1")),
        )
        .unwrap();
        assert_eq!(h.versions.len(), 1);
        assert_eq!(h.versions[0].replaced_at, None);
        assert_eq!(h.events.len(), 5);
    }

    #[test]
    fn the_history_of_a_client_covers_all_their_plans_and_unknowns_are_errors() {
        let p = scenario().projection();
        let scope = Scope::new(date(2026, 6, 1));
        let h = history(&p, &scope, &Subject::Client(client(0))).unwrap();
        let plans: Vec<(&str, u32)> = h
            .versions
            .iter()
            .map(|v| (v.plan.as_str(), v.version))
            .collect();
        assert_eq!(plans, [("plan-1", 1), ("plan-1", 2), ("plan-2", 1)]);
        assert_eq!(h.events.len(), 11);
        // The unit filter narrows a client's history to that unit.
        let one_unit = history(
            &p,
            &scope.clone().unit(unit("sabo-ekbacken")),
            &Subject::Client(client(0)),
        )
        .unwrap();
        assert_eq!(one_unit.versions.len(), 1);

        let err = history(&p, &scope, &Subject::Plan(plan("plan-9"))).unwrap_err();
        assert!(matches!(err, AuditError::NoSuchPlan { .. }), "{err}");
        let err = history(&p, &scope, &Subject::Client(client(1))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "client 19701063-**** has no plan in scope as of 2026-06-01"
        );
        // Before plan-1's order the client had no plan.
        assert!(
            history(
                &p,
                &Scope::new(date(2026, 3, 1)),
                &Subject::Client(client(0))
            )
            .is_err()
        );
    }

    #[test]
    fn the_plan_in_force_is_the_latest_version_recorded_by_the_end_of_the_date() {
        let p = scenario().projection();
        let subject = Subject::Plan(plan("plan-1"));
        let at_date = |d| in_force(&p, &Scope::new(d), Some(&subject)).unwrap();
        let before = at_date(date(2026, 3, 9));
        assert_eq!(before[0].version, None);
        assert!(!before[0].signed);
        let first = at_date(date(2026, 3, 20));
        assert_eq!(first[0].version, Some(1));
        assert!(first[0].signed);
        assert_eq!(first[0].approved.as_ref().unwrap().at, at(2026, 3, 16));
        assert_eq!(first[0].position, Some(1));
        let second = at_date(date(2026, 4, 1));
        assert_eq!(second[0].version, Some(2));
        assert!(second[0].signed);
        assert!(second[0].approved.is_none());

        // Every plan in scope: plan-2 did not exist yet on 1 April.
        let all = in_force(&p, &Scope::new(date(2026, 4, 1)), None).unwrap();
        assert_eq!(all.len(), 1);
        let all = in_force(&p, &Scope::new(date(2026, 5, 4)), None).unwrap();
        let got: Vec<_> = all.iter().map(|r| (r.plan.as_str(), r.version)).collect();
        assert_eq!(got, [("plan-1", Some(2)), ("plan-2", Some(1))]);
        let table = render_to_string(&all, Format::Table, Lang::En).unwrap();
        assert!(
            table.starts_with("plan    unit            personal id    version in force"),
            "{table}"
        );
    }

    /// A plan whose versions are recorded just after Swedish midnight: v2 at 23:30 UTC
    /// on 2 March (00:30 on 3 March, CET) and v3 at 22:30 UTC on 2 July (00:30 on
    /// 3 July, CEST).
    fn just_after_midnight() -> Scenario {
        let s = Scenario::new();
        let u = unit("hemtjanst-norr");
        let p = plan("plan-midnatt");
        s.ok(
            &officer(),
            at(2026, 2, 2),
            order(&p, ActKind::HomeCare, &u, client(0), date(2026, 2, 2)),
        );
        let v1 = content(ActKind::HomeCare, &u, client(0), date(2026, 2, 10));
        s.ok(
            &key_worker(),
            at(2026, 2, 10),
            Command::Draft {
                plan: p.clone(),
                content: v1.clone(),
            },
        );
        let mut v2 = v1.clone();
        v2.services[0].when.days.push(Weekday::Friday);
        let mut v3 = v2.clone();
        v3.services[0].when.days.push(Weekday::Monday);
        for (recorded, c) in [
            (at_hm(2026, 3, 2, 23, 30), v2),
            (at_hm(2026, 7, 2, 22, 30), v3),
        ] {
            s.ok(
                &key_worker(),
                recorded,
                Command::Revise {
                    plan: p.clone(),
                    reason: RevisionReason::ChangedNeeds,
                    note: String::new(),
                    content: c,
                },
            );
        }
        s
    }

    #[test]
    fn a_version_recorded_after_swedish_midnight_is_in_force_from_the_swedish_day_it_was_recorded()
    {
        let p = just_after_midnight().projection();
        let subject = Subject::Plan(plan("plan-midnatt"));
        let version_on = |d| {
            in_force(&p, &Scope::new(d), Some(&subject)).unwrap()[0]
                .version
                .unwrap()
        };
        // Winter (CET, UTC+1): 23:30 UTC on 2 March is 00:30 on 3 March in Sweden.
        assert_eq!(version_on(date(2026, 3, 2)), 1);
        assert_eq!(version_on(date(2026, 3, 3)), 2);
        // Summer (CEST, UTC+2): 22:30 UTC on 2 July is 00:30 on 3 July in Sweden.
        assert_eq!(version_on(date(2026, 7, 2)), 2);
        assert_eq!(version_on(date(2026, 7, 3)), 3);
        // The history as of 2 March does not see version 2 either.
        let h = history(&p, &Scope::new(date(2026, 3, 2)), &subject).unwrap();
        assert_eq!(h.versions.len(), 1);
    }

    #[test]
    fn times_in_a_history_are_swedish_local_time_with_their_offset() {
        let p = just_after_midnight().projection();
        let h = history(
            &p,
            &Scope::new(date(2026, 7, 3)),
            &Subject::Plan(plan("plan-midnatt")),
        )
        .unwrap();
        let csv = render_to_string(&h.events, Format::Csv, Lang::En).unwrap();
        let recorded: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap())
            .collect();
        assert_eq!(
            recorded,
            [
                "2026-02-02 10:00 +01:00",
                "2026-02-10 10:00 +01:00",
                "2026-03-03 00:30 +01:00",
                "2026-07-03 00:30 +02:00",
            ]
        );
        let versions = render_to_string(&h.versions, Format::Csv, Lang::En).unwrap();
        assert!(
            versions.contains(",2026-03-03 00:30 +01:00,"),
            "v1 replaced at: {versions}"
        );
    }
}
