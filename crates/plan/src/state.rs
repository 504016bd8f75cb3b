//! A plan's state: the fold of its events, each with its recorded time and actor.
//!
//! `apply` never fails and never panics: the records are the truth, so the fold takes
//! what was recorded even where today's `decide` would have refused it (an import of
//! old history, a rule changed since). Rules live in `decide`, not here.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::swedish_date;
use crate::completeness::{Gap, completeness};
use crate::content::{ActKind, PlanContent, SignatureRequirement};
use crate::event::{CloseReason, Event, ReviewChecklist, RevisionReason, Signer};
use crate::id::{OrderId, Personnummer, PlanId, UnitId};
use crate::policy::DeadlinePolicy;
use crate::role::Actor;

/// An order received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub order: OrderId,
    pub received_on: NaiveDate,
    pub granted_services: Vec<String>,
    pub recorded_at: DateTime<Utc>,
    pub by: Actor,
}

/// A signature on one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRecord {
    pub signer: Signer,
    pub at: DateTime<Utc>,
    pub by: Actor,
}

/// Who did something, and when it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub at: DateTime<Utc>,
    pub by: Actor,
}

/// One version of the plan (a journal record, 000), with what happened to it. Its
/// content is kept whole beside it ([`PlanState::content`]); what the deadline and
/// completeness rules read of the content is copied here when it is recorded, so that a
/// state without contents ([`PlanState::without_contents`]) answers every report but the
/// history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub number: u32,
    /// The number, in the plan's stream, of the record that carries this version.
    pub stream_version: u64,
    /// The content's "drawn up" date.
    pub drawn_up_on: Option<NaiveDate>,
    /// The follow-up date the content sets.
    pub follow_up_on: Option<NaiveDate>,
    /// What the content lacks for the plan's act (signatures aside: [`PlanState::gaps`]).
    pub content_gaps: Vec<Gap>,
    /// `None` for version 1 (drafted), the reason for a revision otherwise.
    pub reason: Option<RevisionReason>,
    pub note: String,
    pub recorded_at: DateTime<Utc>,
    pub by: Actor,
    pub signatures: Vec<SignatureRecord>,
    /// First submission of this version to the authority.
    pub submitted: Option<Stamp>,
    pub approved: Option<Stamp>,
    /// When the next version replaced it.
    pub superseded_at: Option<DateTime<Utc>>,
}

impl VersionRecord {
    /// Whether the signatures `requirement` asks for are on this version.
    pub fn is_signed(&self, requirement: SignatureRequirement) -> bool {
        self.signatures.iter().any(|s| match requirement {
            SignatureRequirement::ClientOrRepresentative => {
                matches!(s.signer, Signer::Client | Signer::Representative(_))
            }
            SignatureRequirement::StaffMember => matches!(s.signer, Signer::StaffMember(_)),
        })
    }

    /// The day this version was recorded (in Sweden).
    pub fn recorded_on(&self) -> NaiveDate {
        swedish_date(self.recorded_at)
    }
}

/// A supplement the case officer asked for (001).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementRecord {
    pub version: u32,
    pub reason: String,
    pub due_on: NaiveDate,
    pub requested: Stamp,
    pub provided: Option<ProvidedRecord>,
}

/// The supplement as delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvidedRecord {
    pub version: u32,
    pub note: String,
    pub stamp: Stamp,
}

/// A submission of a version to the authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionRecord {
    pub version: u32,
    pub stamp: Stamp,
}

/// A monthly review (002).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRecord {
    pub version: u32,
    pub checklist: ReviewChecklist,
    pub findings: String,
    pub stamp: Stamp,
}

/// A follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpRecord {
    pub version: u32,
    pub findings: String,
    pub next_follow_up_on: Option<NaiveDate>,
    pub stamp: Stamp,
}

/// A deviation (003).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviationRecord {
    pub occurred_on: NaiveDate,
    pub service: Option<String>,
    pub description: String,
    pub stamp: Stamp,
}

/// A correction note; the corrected record stays as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionRecord {
    pub refers_to: u64,
    pub note: String,
    pub stamp: Stamp,
}

/// The plan's closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedRecord {
    pub reason: CloseReason,
    pub closed_on: NaiveDate,
    pub stamp: Stamp,
}

/// Where the plan stands with the authority (the latest submitted version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AuthorityState {
    /// Nothing was sent yet.
    NotSubmitted,
    /// `version` was sent and awaits the case officer.
    Submitted { version: u32 },
    /// A supplement was asked for and is due.
    SupplementRequested { version: u32, due_on: NaiveDate },
    /// The supplement was delivered and awaits the case officer.
    SupplementProvided { version: u32 },
    /// `version` is approved.
    Approved { version: u32 },
}

/// Which deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueKind {
    /// Draw up the plan (version 1, or a new version after a new order).
    DrawUp,
    /// Send the plan to the authority.
    Submit,
    /// The key worker's review (002).
    Review,
    /// Follow up (and renew) the plan.
    FollowUp,
    /// Deliver a supplement the case officer asked for.
    Supplement,
}

impl DueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DueKind::DrawUp => "draw_up",
            DueKind::Submit => "submit",
            DueKind::Review => "review",
            DueKind::FollowUp => "follow_up",
            DueKind::Supplement => "supplement",
        }
    }
}

/// A deadline, and when it was met if it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub kind: DueKind,
    pub due_on: NaiveDate,
    pub met_on: Option<NaiveDate>,
    /// The version concerned, where one is.
    pub version: Option<u32>,
}

impl Due {
    /// Days late it was met (positive), or `None` if met in time or not yet met.
    pub fn met_late_by(&self) -> Option<i64> {
        let met = self.met_on?;
        let late = (met - self.due_on).num_days();
        (late > 0).then_some(late)
    }
}

/// A deadline passed and not met as of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overdue {
    pub kind: DueKind,
    pub due_on: NaiveDate,
    pub days_late: i64,
    pub version: Option<u32>,
}

/// Whether the new-client fee (ny kund-ersättning) is payable (001). It is about a new
/// client's first plan: the first version sent, counted from the first order. Later
/// versions follow the same path to the authority (see [`PlanState::overdue`]) but do
/// not change the fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeDecision {
    pub payable: bool,
    pub reason: FeeReason,
}

/// Why the fee is or is not payable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeeReason {
    /// The fee belongs to home care only.
    NotHomeCare { act: ActKind },
    /// No order was recorded.
    NoOrder,
    /// The plan was not submitted (yet); `due_on` is the last day to do so.
    NotSubmitted { due_on: NaiveDate },
    /// Submitted after the deadline: no fee, whatever follows.
    SubmittedLate {
        submitted_on: NaiveDate,
        due_on: NaiveDate,
        days_late: i64,
    },
    /// Submitted in time; the case officer has not decided.
    AwaitingDecision,
    /// A supplement was asked for and has not been delivered.
    SupplementOutstanding { due_on: NaiveDate },
    /// The supplement came after its due date and the plan is not approved.
    SupplementLate {
        due_on: NaiveDate,
        provided_on: NaiveDate,
    },
    /// Submitted in time and approved.
    Approved { approved_on: NaiveDate },
    /// Submitted in time and supplemented as asked.
    Supplemented { provided_on: NaiveDate },
}

impl std::fmt::Display for FeeReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeeReason::NotHomeCare { act } => {
                write!(f, "the new-client fee is for home care; this plan is {act}")
            }
            FeeReason::NoOrder => f.write_str("no order is recorded"),
            FeeReason::NotSubmitted { due_on } => {
                write!(f, "the first plan is not submitted; it is due by {due_on}")
            }
            FeeReason::SubmittedLate {
                submitted_on,
                due_on,
                days_late,
            } => write!(
                f,
                "the first plan was submitted {submitted_on}, {days_late} days after the deadline {due_on}"
            ),
            FeeReason::AwaitingDecision => f.write_str(
                "the first plan was submitted in time; awaiting the case officer's approval",
            ),
            FeeReason::SupplementOutstanding { due_on } => {
                write!(f, "a supplement is outstanding, due {due_on}")
            }
            FeeReason::SupplementLate {
                due_on,
                provided_on,
            } => write!(
                f,
                "the supplement came {provided_on}, after its due date {due_on}"
            ),
            FeeReason::Approved { approved_on } => {
                write!(
                    f,
                    "the first plan was submitted in time and approved {approved_on}"
                )
            }
            FeeReason::Supplemented { provided_on } => {
                write!(
                    f,
                    "the first plan was submitted in time and supplemented as asked {provided_on}"
                )
            }
        }
    }
}

/// The fold of one plan's events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanState {
    plan: Option<PlanId>,
    unit: Option<UnitId>,
    act: Option<ActKind>,
    client: Option<Personnummer>,
    orders: Vec<OrderRecord>,
    versions: Vec<VersionRecord>,
    submissions: Vec<SubmissionRecord>,
    supplements: Vec<SupplementRecord>,
    reviews: Vec<ReviewRecord>,
    follow_ups: Vec<FollowUpRecord>,
    deviations: Vec<DeviationRecord>,
    corrections: Vec<CorrectionRecord>,
    closed: Option<ClosedRecord>,
    events: u64,
    /// How many deviations were recorded (kept also in a state without contents, which
    /// keeps none of them).
    deviation_count: u64,
    /// The latest recorded time among the events folded.
    latest: Option<DateTime<Utc>>,
    /// Each version's content, in the order of `versions`; empty in a state without
    /// contents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    contents: Vec<PlanContent>,
}

fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

fn add_days(d: NaiveDate, days: u32) -> NaiveDate {
    d.checked_add_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

impl PlanState {
    /// The state of a plan with no events.
    pub fn new() -> PlanState {
        PlanState::default()
    }

    /// Folds `events` (each with its recorded time and actor) from the start.
    pub fn from_events<'a>(
        events: impl IntoIterator<Item = (&'a Event, DateTime<Utc>, &'a Actor)>,
    ) -> PlanState {
        let mut s = PlanState::new();
        for (e, at, actor) in events {
            s.apply(e, at, actor);
        }
        s
    }

    /// Folds one more event, recorded at `at` by `actor`.
    pub fn apply(&mut self, event: &Event, at: DateTime<Utc>, actor: &Actor) {
        self.events += 1;
        self.latest = self.latest.max(Some(at));
        let stamp = || Stamp {
            at,
            by: actor.clone(),
        };
        match event {
            Event::OrderReceived(e) => {
                // The first order fixes the plan's identity; later orders add to it.
                if self.plan.is_none() {
                    self.plan = Some(e.plan.clone());
                    self.unit = Some(e.unit.clone());
                    self.act = Some(e.act);
                    self.client = Some(e.client);
                }
                self.orders.push(OrderRecord {
                    order: e.order.clone(),
                    received_on: e.received_on,
                    granted_services: e.granted_services.clone(),
                    recorded_at: at,
                    by: actor.clone(),
                });
            }
            Event::PlanDrafted(e) => self.push_version(e.version, &e.content, None, "", at, actor),
            Event::PlanRevised(e) => {
                self.push_version(e.version, &e.content, Some(e.reason), &e.note, at, actor)
            }
            Event::PlanSigned(e) => {
                if let Some(v) = self.version_mut(e.version) {
                    v.signatures.push(SignatureRecord {
                        signer: e.signer.clone(),
                        at,
                        by: actor.clone(),
                    });
                }
            }
            Event::PlanSubmitted(e) => self.submit(e.version, stamp()),
            Event::PlanApproved(e) => {
                if let Some(v) = self.version_mut(e.version) {
                    v.approved.get_or_insert_with(stamp);
                }
            }
            Event::SupplementRequested(e) => self.supplements.push(SupplementRecord {
                version: e.version,
                reason: e.reason.clone(),
                due_on: e.due_on,
                requested: stamp(),
                provided: None,
            }),
            Event::SupplementProvided(e) => {
                if let Some(open) = self
                    .supplements
                    .iter_mut()
                    .rev()
                    .find(|s| s.provided.is_none())
                {
                    open.provided = Some(ProvidedRecord {
                        version: e.version,
                        note: e.note.clone(),
                        stamp: stamp(),
                    });
                }
                // Delivering the supplement sends that version to the authority.
                self.submit(e.version, stamp());
            }
            Event::ReviewDone(e) => self.reviews.push(ReviewRecord {
                version: e.version,
                checklist: e.checklist,
                findings: e.findings.clone(),
                stamp: stamp(),
            }),
            Event::FollowUpDone(e) => self.follow_ups.push(FollowUpRecord {
                version: e.version,
                findings: e.findings.clone(),
                next_follow_up_on: e.next_follow_up_on,
                stamp: stamp(),
            }),
            Event::DeviationRecorded(e) => {
                self.deviation_count += 1;
                self.deviations.push(DeviationRecord {
                    occurred_on: e.occurred_on,
                    service: e.service.clone(),
                    description: e.description.clone(),
                    stamp: stamp(),
                });
            }
            Event::CorrectionNoted(e) => self.corrections.push(CorrectionRecord {
                refers_to: e.refers_to,
                note: e.note.clone(),
                stamp: stamp(),
            }),
            Event::PlanClosed(e) => {
                if self.closed.is_none() {
                    self.closed = Some(ClosedRecord {
                        reason: e.reason,
                        closed_on: e.closed_on,
                        stamp: stamp(),
                    });
                }
            }
        }
    }

    fn push_version(
        &mut self,
        number: u32,
        content: &PlanContent,
        reason: Option<RevisionReason>,
        note: &str,
        at: DateTime<Utc>,
        actor: &Actor,
    ) {
        if let Some(prev) = self.versions.last_mut() {
            prev.superseded_at.get_or_insert(at);
        }
        self.contents.push(content.clone());
        self.versions.push(VersionRecord {
            number,
            stream_version: self.events,
            drawn_up_on: content.drawn_up_on,
            follow_up_on: content.follow_up.on,
            content_gaps: self
                .act
                .map_or_else(Vec::new, |act| completeness(content, act)),
            reason,
            note: note.to_owned(),
            recorded_at: at,
            by: actor.clone(),
            signatures: Vec::new(),
            submitted: None,
            approved: None,
            superseded_at: None,
        });
    }

    fn submit(&mut self, version: u32, stamp: Stamp) {
        if let Some(v) = self.version_mut(version) {
            v.submitted.get_or_insert_with(|| stamp.clone());
        }
        self.submissions.push(SubmissionRecord { version, stamp });
    }

    fn version_mut(&mut self, number: u32) -> Option<&mut VersionRecord> {
        self.versions.iter_mut().rev().find(|v| v.number == number)
    }

    /// The plan's id, from its first event.
    pub fn plan(&self) -> Option<&PlanId> {
        self.plan.as_ref()
    }

    /// The unit the plan belongs to, from its first event.
    pub fn unit(&self) -> Option<&UnitId> {
        self.unit.as_ref()
    }

    /// The act, from the first event.
    pub fn act(&self) -> Option<ActKind> {
        self.act
    }

    /// The client, from the first event.
    pub fn client(&self) -> Option<&Personnummer> {
        self.client.as_ref()
    }

    /// How many events were folded: the stream version of the last one.
    pub fn stream_version(&self) -> u64 {
        self.events
    }

    pub fn orders(&self) -> &[OrderRecord] {
        &self.orders
    }

    /// Every version, oldest first; none is ever dropped.
    pub fn versions(&self) -> &[VersionRecord] {
        &self.versions
    }

    pub fn version(&self, number: u32) -> Option<&VersionRecord> {
        self.versions.iter().rev().find(|v| v.number == number)
    }

    pub fn current_version(&self) -> Option<&VersionRecord> {
        self.versions.last()
    }

    /// The content of version `number`, kept whole; `None` for a version that does not
    /// exist, and in a state without contents.
    pub fn content(&self, number: u32) -> Option<&PlanContent> {
        let i = self.versions.iter().rposition(|v| v.number == number)?;
        self.contents.get(i)
    }

    /// The latest recorded time among the plan's events (`None` before any).
    pub fn latest(&self) -> Option<DateTime<Utc>> {
        self.latest
    }

    /// This state without the versions' contents, without free text (notes, findings,
    /// descriptions, reasons) and without the history that no deadline or status depends
    /// on (reviews and follow-ups but the last, deviations but their count,
    /// corrections): what every report over many plans reads (all but the history and
    /// the plan itself), kept per plan by the read model. Personal data left in it: the
    /// client's personnummer, as in the index.
    pub fn without_contents(&self) -> PlanState {
        let mut s = PlanState {
            contents: Vec::new(),
            reviews: self.reviews.last().cloned().into_iter().collect(),
            follow_ups: self.follow_ups.last().cloned().into_iter().collect(),
            deviations: Vec::new(),
            corrections: Vec::new(),
            versions: self.versions.clone(),
            supplements: self.supplements.clone(),
            orders: self.orders.clone(),
            submissions: self.submissions.clone(),
            plan: self.plan.clone(),
            unit: self.unit.clone(),
            client: self.client,
            act: self.act,
            closed: self.closed.clone(),
            events: self.events,
            deviation_count: self.deviation_count,
            latest: self.latest,
        };
        for v in &mut s.versions {
            v.note = String::new();
        }
        for x in &mut s.supplements {
            x.reason = String::new();
            if let Some(p) = &mut x.provided {
                p.note = String::new();
            }
        }
        for r in &mut s.reviews {
            r.findings = String::new();
        }
        for f in &mut s.follow_ups {
            f.findings = String::new();
        }
        s
    }

    pub fn submissions(&self) -> &[SubmissionRecord] {
        &self.submissions
    }

    pub fn supplements(&self) -> &[SupplementRecord] {
        &self.supplements
    }

    /// The supplement request not yet delivered, if any.
    pub fn open_supplement(&self) -> Option<&SupplementRecord> {
        self.supplements.iter().rev().find(|s| s.provided.is_none())
    }

    /// The day version `number` was sent to the authority, in Sweden: its first
    /// submission. Delivering a supplement for a version already sent does not send it
    /// again (001: the plan "inkommit" when it first reached the case officer; the
    /// supplement completes it); a supplement delivered as a new version sends that
    /// version. Every report that shows a "sent" date asks this, so that they agree.
    pub fn sent_on(&self, number: u32) -> Option<NaiveDate> {
        let v = self.version(number)?;
        v.submitted.as_ref().map(|s| swedish_date(s.at))
    }

    /// The first version sent to the authority and the day it was sent: what the
    /// new-client fee asks of a new client's first plan (001).
    pub fn first_sent(&self) -> Option<(u32, NaiveDate)> {
        let first = self
            .versions
            .iter()
            .filter_map(|v| v.submitted.as_ref().map(|s| (s.at, v.number)))
            .min()?;
        Some((first.1, self.sent_on(first.1)?))
    }

    /// The latest version sent to the authority and the day it was sent.
    pub fn last_sent(&self) -> Option<(u32, NaiveDate)> {
        let v = self.versions.iter().rev().find(|v| v.submitted.is_some())?;
        Some((v.number, self.sent_on(v.number)?))
    }

    pub fn reviews(&self) -> &[ReviewRecord] {
        &self.reviews
    }

    pub fn follow_ups(&self) -> &[FollowUpRecord] {
        &self.follow_ups
    }

    /// Every deviation; none in a state without contents ([`Self::deviation_count`]).
    pub fn deviations(&self) -> &[DeviationRecord] {
        &self.deviations
    }

    /// How many deviations were recorded.
    pub fn deviation_count(&self) -> u64 {
        self.deviation_count
    }

    pub fn corrections(&self) -> &[CorrectionRecord] {
        &self.corrections
    }

    pub fn closed(&self) -> Option<&ClosedRecord> {
        self.closed.as_ref()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Whether the current version carries the signature its act asks for.
    pub fn is_current_signed(&self) -> bool {
        match (self.current_version(), self.act) {
            (Some(v), Some(act)) => v.is_signed(act.required_signature()),
            _ => false,
        }
    }

    /// Where the plan stands with the authority.
    pub fn authority_state(&self) -> AuthorityState {
        let Some(last) = self.submissions.last() else {
            return AuthorityState::NotSubmitted;
        };
        let version = last.version;
        if self.version(version).is_some_and(|v| v.approved.is_some()) {
            return AuthorityState::Approved { version };
        }
        if let Some(s) = self.supplements.last() {
            if s.requested.at >= last.stamp.at {
                return match &s.provided {
                    None => AuthorityState::SupplementRequested {
                        version: s.version,
                        due_on: s.due_on,
                    },
                    Some(p) => AuthorityState::SupplementProvided { version: p.version },
                };
            }
            if let Some(p) = &s.provided {
                if p.version == version && p.stamp.at >= last.stamp.at {
                    return AuthorityState::SupplementProvided { version };
                }
            }
        }
        AuthorityState::Submitted { version }
    }

    /// The version in force at `at`: the latest recorded by then, unless the plan was
    /// closed by then.
    pub fn version_in_force(&self, at: DateTime<Utc>) -> Option<&VersionRecord> {
        if self.closed.as_ref().is_some_and(|c| c.stamp.at <= at) {
            return None;
        }
        self.versions.iter().rev().find(|v| v.recorded_at <= at)
    }

    /// What version `number` changed from the version before it (nothing for version 1
    /// or a version that does not exist).
    pub fn changes(&self, number: u32) -> Vec<crate::diff::Change> {
        let Some(i) = self.versions.iter().rposition(|v| v.number == number) else {
            return Vec::new();
        };
        match i.checked_sub(1) {
            Some(prev) => match (self.contents.get(prev), self.contents.get(i)) {
                (Some(before), Some(after)) => crate::diff::changes(before, after),
                _ => Vec::new(),
            },
            None => Vec::new(),
        }
    }

    /// The gaps of version `number` for the plan's act, signatures included.
    pub fn gaps(&self, number: u32) -> Vec<Gap> {
        let (Some(v), Some(act)) = (self.version(number), self.act) else {
            return Vec::new();
        };
        let mut gaps = v.content_gaps.clone();
        let required = act.required_signature();
        if !v.is_signed(required) {
            gaps.push(Gap::Unsigned { required });
        }
        gaps
    }

    /// Every deadline of the plan under `policy`: met ones (with the day they were met)
    /// and open ones.
    pub fn due_dates(&self, policy: &DeadlinePolicy) -> Vec<Due> {
        let Some(act) = self.act else {
            return Vec::new();
        };
        let rules = policy.for_act(act);
        let mut dues = Vec::new();
        for order in &self.orders {
            let after = |at: DateTime<Utc>| at >= order.recorded_at;
            if let Some(days) = rules.draw_up_days {
                let met = self.versions.iter().find(|v| after(v.recorded_at));
                dues.push(Due {
                    kind: DueKind::DrawUp,
                    due_on: add_days(order.received_on, days),
                    met_on: met.map(|v| v.recorded_on()),
                    version: met.map(|v| v.number),
                });
            }
            if let Some(days) = rules.submit_days_after_order {
                let met = self.submissions.iter().find(|s| after(s.stamp.at));
                dues.push(Due {
                    kind: DueKind::Submit,
                    due_on: add_days(order.received_on, days),
                    met_on: met.map(|s| swedish_date(s.stamp.at)),
                    version: met.map(|s| s.version),
                });
            }
        }
        for v in &self.versions {
            // Every version follows the same path to the authority (issue 20): the
            // first by the order's clock or the version's, a revision by the version's
            // or the revision's, whichever is earlier.
            let revision_days = if v.number > 1 {
                rules.submit_revision_days
            } else {
                None
            };
            let days = match (rules.submit_days_after_version, revision_days) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let Some(days) = days else { continue };
            // A later version sent in its place also meets it.
            let met = self
                .submissions
                .iter()
                .find(|s| s.version >= v.number && s.stamp.at >= v.recorded_at);
            // A version replaced before it was sent has no deadline of its own: the
            // version that replaced it carries one.
            if met.is_some() || v.superseded_at.is_none() {
                dues.push(Due {
                    kind: DueKind::Submit,
                    due_on: add_days(v.recorded_on(), days),
                    met_on: met.map(|s| swedish_date(s.stamp.at)),
                    version: Some(v.number),
                });
            }
        }
        for s in &self.supplements {
            dues.push(Due {
                kind: DueKind::Supplement,
                due_on: s.due_on,
                met_on: s.provided.as_ref().map(|p| swedish_date(p.stamp.at)),
                version: Some(s.version),
            });
        }
        if let Some(current) = self.current_version() {
            if let Some(months) = rules.review_every_months {
                // 002: a revision is documented as "drawn up / revised / reviewed", so
                // a new version restarts the review clock as a review does.
                let last_review = self.reviews.last().map(|r| swedish_date(r.stamp.at));
                let base =
                    last_review.map_or(current.recorded_on(), |r| r.max(current.recorded_on()));
                dues.push(Due {
                    kind: DueKind::Review,
                    due_on: add_months(base, months),
                    met_on: None,
                    version: Some(current.number),
                });
            }
            if let Some(due_on) = self.follow_up_due(policy, act) {
                dues.push(Due {
                    kind: DueKind::FollowUp,
                    due_on,
                    met_on: None,
                    version: Some(current.number),
                });
            }
        }
        dues
    }

    /// The day of the last follow-up: a follow-up event, or a version made because of one.
    pub fn last_follow_up_on(&self) -> Option<NaiveDate> {
        let by_event = self.follow_ups.last().map(|f| swedish_date(f.stamp.at));
        let by_version = self
            .versions
            .iter()
            .rev()
            .find(|v| v.reason == Some(RevisionReason::FollowUp))
            .map(|v| v.recorded_on());
        by_event.max(by_version)
    }

    fn follow_up_due(&self, policy: &DeadlinePolicy, act: ActKind) -> Option<NaiveDate> {
        let rules = policy.for_act(act);
        let current = self.current_version()?;
        let first = self.versions.first()?;
        let last = self.last_follow_up_on();
        let interval = rules
            .follow_up_every_months
            .map(|m| add_months(last.unwrap_or(first.recorded_on()), m));
        let planned = if rules.follow_up_at_date_in_plan {
            [
                current.follow_up_on,
                self.follow_ups.last().and_then(|f| f.next_follow_up_on),
            ]
            .into_iter()
            .flatten()
            .filter(|d| last.is_none_or(|l| *d > l))
            .min()
        } else {
            None
        };
        match (interval, planned) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The deadlines not met as of `date`, and how many days late each is. A plan closed
    /// by `date` has none.
    pub fn overdue(&self, policy: &DeadlinePolicy, date: NaiveDate) -> Vec<Overdue> {
        if self.closed.as_ref().is_some_and(|c| c.closed_on <= date) {
            return Vec::new();
        }
        self.due_dates(policy)
            .into_iter()
            .filter(|d| d.due_on < date && d.met_on.is_none_or(|m| m > date))
            .map(|d| Overdue {
                kind: d.kind,
                due_on: d.due_on,
                days_late: (date - d.due_on).num_days(),
                version: d.version,
            })
            .collect()
    }

    /// Whether the new-client fee is payable (001): home care, submitted within the
    /// policy's days of the first order, and then approved or supplemented as asked.
    pub fn new_client_fee(&self, policy: &DeadlinePolicy) -> FeeDecision {
        let no = |reason| FeeDecision {
            payable: false,
            reason,
        };
        let Some(act) = self.act else {
            return no(FeeReason::NoOrder);
        };
        if act != ActKind::HomeCare {
            return no(FeeReason::NotHomeCare { act });
        }
        let Some(order) = self.orders.first() else {
            return no(FeeReason::NoOrder);
        };
        let days = policy.for_act(act).submit_days_after_order.unwrap_or(15);
        let due_on = add_days(order.received_on, days);
        let Some((_, submitted_on)) = self.first_sent() else {
            return no(FeeReason::NotSubmitted { due_on });
        };
        if submitted_on > due_on {
            return no(FeeReason::SubmittedLate {
                submitted_on,
                due_on,
                days_late: (submitted_on - due_on).num_days(),
            });
        }
        if let Some(approved) = self
            .versions
            .iter()
            .filter_map(|v| v.approved.as_ref())
            .map(|s| s.at)
            .min()
        {
            return FeeDecision {
                payable: true,
                reason: FeeReason::Approved {
                    approved_on: swedish_date(approved),
                },
            };
        }
        // "Supplemented as asked" (001): every supplement asked for came by its due date.
        if let Some(open) = self.open_supplement() {
            return no(FeeReason::SupplementOutstanding {
                due_on: open.due_on,
            });
        }
        for s in &self.supplements {
            if let Some(p) = &s.provided {
                let provided_on = swedish_date(p.stamp.at);
                if provided_on > s.due_on {
                    return no(FeeReason::SupplementLate {
                        due_on: s.due_on,
                        provided_on,
                    });
                }
            }
        }
        if let Some(p) = self.supplements.last().and_then(|s| s.provided.as_ref()) {
            return FeeDecision {
                payable: true,
                reason: FeeReason::Supplemented {
                    provided_on: swedish_date(p.stamp.at),
                },
            };
        }
        no(FeeReason::AwaitingDecision)
    }
}
