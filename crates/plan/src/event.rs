//! Events: what happened to one plan, each sealed into one ledger record.
//!
//! Payload encoding (schema version [`SCHEMA_VERSION`]): one byte, the event's tag
//! (its position in [`Event`], starting at 0), then the event's body in postcard
//! (<https://postcard.jamesmunns.com/wire-format>), nothing after. The record carries
//! the event type name beside it; `decode` checks neither more nor less than the bytes.
//! Tags and field orders are part of the schema: add variants and fields at the end
//! under a new schema version, never reorder.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::content::{ActKind, PlanContent};
use crate::id::{OrderId, Personnummer, PlanId, UnitId, UserId};

/// The payload schema this crate writes and reads.
pub const SCHEMA_VERSION: u16 = 1;

/// Why a revision was made (000, 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevisionReason {
    /// A new decision that changes the services (nytt beslut).
    NewDecision,
    /// The client's needs changed.
    ChangedNeeds,
    /// A scheduled follow-up (uppföljning) gave a new version.
    FollowUp,
    /// The client's wish.
    ClientWish,
    /// A relative asked for it (000).
    RelativeRequest,
    /// A staff member asked for it (000).
    StaffRequest,
    /// The case officer asked for a supplement (001).
    Supplement,
    /// The previous version was wrong.
    Correction,
}

impl RevisionReason {
    pub const ALL: [RevisionReason; 8] = [
        RevisionReason::NewDecision,
        RevisionReason::ChangedNeeds,
        RevisionReason::FollowUp,
        RevisionReason::ClientWish,
        RevisionReason::RelativeRequest,
        RevisionReason::StaffRequest,
        RevisionReason::Supplement,
        RevisionReason::Correction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RevisionReason::NewDecision => "new_decision",
            RevisionReason::ChangedNeeds => "changed_needs",
            RevisionReason::FollowUp => "follow_up",
            RevisionReason::ClientWish => "client_wish",
            RevisionReason::RelativeRequest => "relative_request",
            RevisionReason::StaffRequest => "staff_request",
            RevisionReason::Supplement => "supplement",
            RevisionReason::Correction => "correction",
        }
    }
}

/// A representative who may sign for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RepresentativeKind {
    /// God man.
    Trustee,
    /// Förvaltare.
    Guardian,
}

/// Who signed a version. In JSON (and on the command line) one string: `client`,
/// `trustee`, `guardian` or `staff:USER`; in the postcard payload the enum as derived
/// (its bytes are pinned by FORMAT.md and must not change).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Signer {
    /// The client themself (000, 001).
    Client,
    /// A trustee or guardian for the client.
    Representative(RepresentativeKind),
    /// A staff member, signing in their own name (004).
    StaffMember(UserId),
}

/// The payload shape of [`Signer`]: the derived enum, variant order fixed.
#[derive(Serialize, Deserialize)]
enum SignerPayload {
    Client,
    Representative(RepresentativeKind),
    StaffMember(UserId),
}

/// Why a string is not a signer; it never repeats the string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a signer is client, trustee, guardian or staff:USER (a staff member's user id)")]
pub struct UnknownSigner;

impl std::str::FromStr for Signer {
    type Err = UnknownSigner;
    fn from_str(s: &str) -> Result<Signer, UnknownSigner> {
        Ok(match s {
            "client" => Signer::Client,
            "trustee" => Signer::Representative(RepresentativeKind::Trustee),
            "guardian" => Signer::Representative(RepresentativeKind::Guardian),
            _ => Signer::StaffMember(
                s.strip_prefix("staff:")
                    .and_then(|user| UserId::new(user).ok())
                    .ok_or(UnknownSigner)?,
            ),
        })
    }
}

impl std::fmt::Display for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signer::Client => f.write_str("client"),
            Signer::Representative(RepresentativeKind::Trustee) => f.write_str("trustee"),
            Signer::Representative(RepresentativeKind::Guardian) => f.write_str("guardian"),
            Signer::StaffMember(user) => write!(f, "staff:{user}"),
        }
    }
}

impl Serialize for Signer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return s.collect_str(self);
        }
        match self.clone() {
            Signer::Client => SignerPayload::Client,
            Signer::Representative(kind) => SignerPayload::Representative(kind),
            Signer::StaffMember(user) => SignerPayload::StaffMember(user),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Signer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Signer, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            return text.parse().map_err(serde::de::Error::custom);
        }
        Ok(match SignerPayload::deserialize(d)? {
            SignerPayload::Client => Signer::Client,
            SignerPayload::Representative(kind) => Signer::Representative(kind),
            SignerPayload::StaffMember(user) => Signer::StaffMember(user),
        })
    }
}

impl JsonSchema for Signer {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Signer".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(client|trustee|guardian|staff:.+)$",
            "description": "Who signed: client, trustee, guardian, or staff:USER (a staff member signing in their own name)"
        })
    }
}

impl Signer {
    pub fn describe(&self) -> &'static str {
        match self {
            Signer::Client => "the client",
            Signer::Representative(RepresentativeKind::Trustee) => "the trustee",
            Signer::Representative(RepresentativeKind::Guardian) => "the guardian",
            Signer::StaffMember(_) => "the staff member",
        }
    }
}

/// Why a plan was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Moved,
    Ended,
    Deceased,
}

impl CloseReason {
    pub const ALL: [CloseReason; 3] = [
        CloseReason::Moved,
        CloseReason::Ended,
        CloseReason::Deceased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Moved => "moved",
            CloseReason::Ended => "ended",
            CloseReason::Deceased => "deceased",
        }
    }
}

/// The checklist of a monthly review (002, "Stöd för tillvägagångssätt"). `true` means
/// the point is clearly documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewChecklist {
    /// How the client could take part and influence the plan (views and wishes).
    pub participation_described: bool,
    /// Services described by what, how, when and who, with clear goals.
    pub services_and_goals_clear: bool,
    /// Staff who do not know the client could give the support from the plan alone.
    pub usable_by_new_staff: bool,
    /// The plan matches the case officer's order.
    pub matches_order: bool,
}

impl ReviewChecklist {
    /// Whether every point holds; if not, 002 asks for prompt action.
    pub fn all_clear(&self) -> bool {
        self.participation_described
            && self.services_and_goals_clear
            && self.usable_by_new_staff
            && self.matches_order
    }
}

/// The authority's order reached the provider: the plan's first event, which fixes its
/// unit, act and client and starts the deadline clock. A later order on the same plan
/// is a new decision for the same client (001) and restarts the draw-up and submit
/// clocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderReceived {
    pub plan: PlanId,
    pub order: OrderId,
    pub unit: UnitId,
    pub act: ActKind,
    pub client: Personnummer,
    /// The day the provider received the order (for residential care: move-in).
    pub received_on: NaiveDate,
    /// The services granted, as the order names them.
    pub granted_services: Vec<String>,
}

/// Version 1 of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDrafted {
    pub version: u32,
    pub content: PlanContent,
}

/// A new whole version; the earlier ones stay (journal records, 000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRevised {
    pub version: u32,
    pub reason: RevisionReason,
    pub note: String,
    pub content: PlanContent,
}

/// A signature, binding to exactly one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSigned {
    pub version: u32,
    pub signer: Signer,
}

/// A version was sent to the authority (avgiven till myndigheten).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSubmitted {
    pub version: u32,
}

/// The case officer approved a submitted version (001).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanApproved {
    pub version: u32,
}

/// The case officer asked for a supplement by a due date (001).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementRequested {
    pub version: u32,
    pub reason: String,
    pub due_on: NaiveDate,
}

/// The provider supplied what was asked, as `version` (the same or a revised one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementProvided {
    pub version: u32,
    pub note: String,
}

/// The key worker's monthly review (genomgång, 002).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDone {
    pub version: u32,
    pub checklist: ReviewChecklist,
    pub findings: String,
}

/// A scheduled follow-up (uppföljning) was held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpDone {
    pub version: u32,
    pub findings: String,
    /// The next follow-up, when one was set.
    pub next_follow_up_on: Option<NaiveDate>,
}

/// Support departed from the plan (avvikelse, 003).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviationRecorded {
    pub occurred_on: NaiveDate,
    /// The service concerned, as the plan names it.
    pub service: Option<String>,
    pub description: String,
}

/// A correction (rättelse) of an earlier record of this plan; the original stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionNoted {
    /// The stream version (1-based position in the plan's stream) corrected.
    pub refers_to: u64,
    pub note: String,
}

/// The plan ended. It is kept whole as a journal record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanClosed {
    pub reason: CloseReason,
    pub closed_on: NaiveDate,
}

/// Everything that can happen to a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    OrderReceived(OrderReceived),
    PlanDrafted(PlanDrafted),
    PlanRevised(PlanRevised),
    PlanSigned(PlanSigned),
    PlanSubmitted(PlanSubmitted),
    PlanApproved(PlanApproved),
    SupplementRequested(SupplementRequested),
    SupplementProvided(SupplementProvided),
    ReviewDone(ReviewDone),
    FollowUpDone(FollowUpDone),
    DeviationRecorded(DeviationRecorded),
    CorrectionNoted(CorrectionNoted),
    PlanClosed(PlanClosed),
}

/// Every event type name, in tag order.
pub const EVENT_TYPES: [&str; 13] = [
    "order_received",
    "plan_drafted",
    "plan_revised",
    "plan_signed",
    "plan_submitted",
    "plan_approved",
    "supplement_requested",
    "supplement_provided",
    "review_done",
    "follow_up_done",
    "deviation_recorded",
    "correction_noted",
    "plan_closed",
];

/// Why bytes are not an event of this schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("the payload is empty; an event starts with its tag byte")]
    Empty,
    #[error("tag {0} is no event of schema version {SCHEMA_VERSION}")]
    UnknownTag(u8),
    #[error("the body of {event_type} does not decode: {reason}")]
    Body {
        event_type: &'static str,
        reason: String,
    },
    #[error("{count} bytes follow the body of {event_type}; a payload ends with its body")]
    TrailingBytes {
        event_type: &'static str,
        count: usize,
    },
    #[error("schema version {0} is not supported (this build reads version {SCHEMA_VERSION})")]
    UnsupportedSchema(u16),
}

/// Why an event could not be encoded (postcard fails only on types we do not use;
/// kept typed so that a future field cannot turn into a panic).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event_type} does not encode: {reason}")]
pub struct EncodeError {
    pub event_type: &'static str,
    pub reason: String,
}

impl Event {
    /// The event's tag byte in the payload.
    pub fn tag(&self) -> u8 {
        match self {
            Event::OrderReceived(_) => 0,
            Event::PlanDrafted(_) => 1,
            Event::PlanRevised(_) => 2,
            Event::PlanSigned(_) => 3,
            Event::PlanSubmitted(_) => 4,
            Event::PlanApproved(_) => 5,
            Event::SupplementRequested(_) => 6,
            Event::SupplementProvided(_) => 7,
            Event::ReviewDone(_) => 8,
            Event::FollowUpDone(_) => 9,
            Event::DeviationRecorded(_) => 10,
            Event::CorrectionNoted(_) => 11,
            Event::PlanClosed(_) => 12,
        }
    }

    /// The record's event type (`plan_drafted`, …).
    pub fn event_type(&self) -> &'static str {
        EVENT_TYPES[usize::from(self.tag())]
    }

    /// The payload bytes: tag, then the postcard body.
    pub fn encode(&self) -> Vec<u8> {
        self.try_encode()
            .expect("every event body is plain data that postcard encodes")
    }

    /// [`Event::encode`], returning the (never expected) error instead of panicking.
    pub fn try_encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![self.tag()];
        let body = match self {
            Event::OrderReceived(b) => postcard::to_extend(b, out),
            Event::PlanDrafted(b) => postcard::to_extend(b, out),
            Event::PlanRevised(b) => postcard::to_extend(b, out),
            Event::PlanSigned(b) => postcard::to_extend(b, out),
            Event::PlanSubmitted(b) => postcard::to_extend(b, out),
            Event::PlanApproved(b) => postcard::to_extend(b, out),
            Event::SupplementRequested(b) => postcard::to_extend(b, out),
            Event::SupplementProvided(b) => postcard::to_extend(b, out),
            Event::ReviewDone(b) => postcard::to_extend(b, out),
            Event::FollowUpDone(b) => postcard::to_extend(b, out),
            Event::DeviationRecorded(b) => postcard::to_extend(b, out),
            Event::CorrectionNoted(b) => postcard::to_extend(b, out),
            Event::PlanClosed(b) => postcard::to_extend(b, out),
        };
        out = body.map_err(|e| EncodeError {
            event_type: self.event_type(),
            reason: e.to_string(),
        })?;
        Ok(out)
    }

    /// Decodes a payload of schema version [`SCHEMA_VERSION`].
    pub fn decode(bytes: &[u8]) -> Result<Event, DecodeError> {
        let (&tag, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
        let event_type = *EVENT_TYPES
            .get(usize::from(tag))
            .ok_or(DecodeError::UnknownTag(tag))?;
        fn body_of<'a, T: Deserialize<'a>>(
            event_type: &'static str,
            body: &'a [u8],
        ) -> Result<T, DecodeError> {
            let (value, rest) =
                postcard::take_from_bytes::<T>(body).map_err(|e| DecodeError::Body {
                    event_type,
                    reason: e.to_string(),
                })?;
            if !rest.is_empty() {
                return Err(DecodeError::TrailingBytes {
                    event_type,
                    count: rest.len(),
                });
            }
            Ok(value)
        }
        Ok(match tag {
            0 => Event::OrderReceived(body_of(event_type, body)?),
            1 => Event::PlanDrafted(body_of(event_type, body)?),
            2 => Event::PlanRevised(body_of(event_type, body)?),
            3 => Event::PlanSigned(body_of(event_type, body)?),
            4 => Event::PlanSubmitted(body_of(event_type, body)?),
            5 => Event::PlanApproved(body_of(event_type, body)?),
            6 => Event::SupplementRequested(body_of(event_type, body)?),
            7 => Event::SupplementProvided(body_of(event_type, body)?),
            8 => Event::ReviewDone(body_of(event_type, body)?),
            9 => Event::FollowUpDone(body_of(event_type, body)?),
            10 => Event::DeviationRecorded(body_of(event_type, body)?),
            11 => Event::CorrectionNoted(body_of(event_type, body)?),
            12 => Event::PlanClosed(body_of(event_type, body)?),
            _ => unreachable!("EVENT_TYPES has 13 entries"),
        })
    }

    /// Decodes a payload recorded under `schema_version` (the record's field).
    pub fn decode_versioned(schema_version: u16, bytes: &[u8]) -> Result<Event, DecodeError> {
        if schema_version != SCHEMA_VERSION {
            return Err(DecodeError::UnsupportedSchema(schema_version));
        }
        Event::decode(bytes)
    }

    /// The version this event concerns, if it concerns one.
    pub fn version(&self) -> Option<u32> {
        match self {
            Event::PlanDrafted(e) => Some(e.version),
            Event::PlanRevised(e) => Some(e.version),
            Event::PlanSigned(e) => Some(e.version),
            Event::PlanSubmitted(e) => Some(e.version),
            Event::PlanApproved(e) => Some(e.version),
            Event::SupplementRequested(e) => Some(e.version),
            Event::SupplementProvided(e) => Some(e.version),
            Event::ReviewDone(e) => Some(e.version),
            Event::FollowUpDone(e) => Some(e.version),
            Event::OrderReceived(_)
            | Event::DeviationRecorded(_)
            | Event::CorrectionNoted(_)
            | Event::PlanClosed(_) => None,
        }
    }
}
