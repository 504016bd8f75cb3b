//! What a plan version contains (the union of the seeds' lists; docs/DOMAIN.md).
//!
//! Every type here is stored inside event payloads, postcard-encoded: field order and
//! enum variant order are part of the schema. Add at the end, never reorder.

use std::fmt;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::id::{Personnummer, UnitId, UserId};

/// The act (lagrum and kind of service) a plan implements. Deadlines and required
/// contents differ per act.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActKind {
    /// Residential care under SoL/HSL (särskilt boende), seed 000.
    ResidentialCare,
    /// Home care under SoL (hemtjänst), seed 001.
    HomeCare,
    /// LSS daily activity (daglig verksamhet), seed 003.
    LssDailyActivity,
    /// Housing support (boendestöd), seed 004.
    HousingSupport,
}

impl ActKind {
    pub const ALL: [ActKind; 4] = [
        ActKind::ResidentialCare,
        ActKind::HomeCare,
        ActKind::LssDailyActivity,
        ActKind::HousingSupport,
    ];

    /// The stable snake_case name (also the policy file's table name).
    pub fn as_str(self) -> &'static str {
        match self {
            ActKind::ResidentialCare => "residential_care",
            ActKind::HomeCare => "home_care",
            ActKind::LssDailyActivity => "lss_daily_activity",
            ActKind::HousingSupport => "housing_support",
        }
    }

    /// Who must sign a version of a plan under this act: the client (or a
    /// representative) in 000 and 001 and, by the same practice, LSS; a staff member in
    /// housing support (004).
    pub fn required_signature(self) -> SignatureRequirement {
        match self {
            ActKind::HousingSupport => SignatureRequirement::StaffMember,
            _ => SignatureRequirement::ClientOrRepresentative,
        }
    }
}

impl fmt::Display for ActKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ActKind {
    type Err = UnknownActKind;
    fn from_str(s: &str) -> Result<ActKind, UnknownActKind> {
        ActKind::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownActKind(s.to_owned()))
    }
}

/// An act name that is not one of [`ActKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown act kind {0:?}; expected one of residential_care, home_care, lss_daily_activity, housing_support"
)]
pub struct UnknownActKind(pub String);

/// Whose signature makes a version signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureRequirement {
    /// The client, or a trustee or guardian for them (000, 001).
    ClientOrRepresentative,
    /// The staff member who wrote it (004).
    StaffMember,
}

impl SignatureRequirement {
    pub fn describe(self) -> &'static str {
        match self {
            SignatureRequirement::ClientOrRepresentative => {
                "the client or their trustee or guardian"
            }
            SignatureRequirement::StaffMember => "a staff member",
        }
    }
}

/// A day of the week.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
}

impl From<chrono::Weekday> for Weekday {
    fn from(w: chrono::Weekday) -> Weekday {
        Weekday::ALL[w.num_days_from_monday() as usize]
    }
}

/// A time of day to the minute, written `HH:MM` in JSON and in payloads.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeOfDay {
    hour: u8,
    minute: u8,
}

/// A string that is not a time `HH:MM` (00:00–23:59).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a time of day HH:MM (00:00-23:59)")]
pub struct TimeOfDayError(pub String);

impl TimeOfDay {
    pub fn new(hour: u8, minute: u8) -> Option<TimeOfDay> {
        (hour < 24 && minute < 60).then_some(TimeOfDay { hour, minute })
    }

    pub fn hour(self) -> u8 {
        self.hour
    }

    pub fn minute(self) -> u8 {
        self.minute
    }

    /// The part of the day this time falls in (for seed 003's chronological order).
    pub fn part_of_day(self) -> PartOfDay {
        match self.hour {
            5..=9 => PartOfDay::Morning,
            10..=11 => PartOfDay::Forenoon,
            12..=16 => PartOfDay::Afternoon,
            17..=21 => PartOfDay::Evening,
            _ => PartOfDay::Night,
        }
    }
}

impl std::str::FromStr for TimeOfDay {
    type Err = TimeOfDayError;
    fn from_str(s: &str) -> Result<TimeOfDay, TimeOfDayError> {
        let err = || TimeOfDayError(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 5 || b[2] != b':' || ![0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()) {
            return Err(err());
        }
        let hour = (b[0] - b'0') * 10 + (b[1] - b'0');
        let minute = (b[3] - b'0') * 10 + (b[4] - b'0');
        TimeOfDay::new(hour, minute).ok_or_else(err)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl fmt::Debug for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl JsonSchema for TimeOfDay {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TimeOfDay".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-2][0-9]:[0-5][0-9]$",
            "description": "A time of day, HH:MM (24-hour clock)"
        })
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Part of the day, for the chronological order of seed 003 (morning … night).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PartOfDay {
    Morning,
    Forenoon,
    Afternoon,
    Evening,
    Night,
}

/// When a service is given: weekdays and a time of day ("tisdagar kl. 09.00–09.45").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// The weekdays; every day is all seven.
    #[serde(default)]
    pub days: Vec<Weekday>,
    /// Start time, when a fixed time is agreed.
    #[serde(default)]
    pub start: Option<TimeOfDay>,
    /// End time, when agreed.
    #[serde(default)]
    pub end: Option<TimeOfDay>,
    /// Part of the day, when no fixed time is agreed ("på förmiddagen").
    #[serde(default)]
    pub part_of_day: Option<PartOfDay>,
    /// 1 = every week, 2 = every other week (städning), …
    #[serde(default = "one")]
    pub every_weeks: u8,
    /// Anything the fields cannot say ("efter lunch", "vid behov").
    #[serde(default)]
    pub note: String,
}

fn one() -> u8 {
    1
}

impl Schedule {
    /// Whether the client can tell from this when the service comes: at least one
    /// weekday and a time or part of the day (001: "dag och klockslag").
    pub fn is_specific(&self) -> bool {
        !self.days.is_empty() && (self.start.is_some() || self.part_of_day.is_some())
    }
}

/// A service (insats): what, when, how, who, and its goal (000, 001, 002, 004).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// What is done ("Dusch").
    pub what: String,
    /// When (weekday and time of day).
    #[serde(default)]
    pub when: Schedule,
    /// How ("Två personal; kunden tvättar själv ansikte och armar …").
    #[serde(default)]
    pub how: String,
    /// Who does it ("Hemtjänstgrupp Norr, kontaktperson").
    #[serde(default)]
    pub who: String,
    /// The goal of the service ("Kunden känner sig ren och trygg i duschen").
    #[serde(default)]
    pub goal: String,
}

/// The client the plan is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub name: String,
    pub personnummer: Personnummer,
}

/// The key worker named in the plan (001).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyWorkerRef {
    pub name: String,
    /// Their user id, when they are a user of the ledger.
    #[serde(default)]
    pub user: Option<UserId>,
}

/// How the client took part and how their views and wishes were considered (002, 004).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Participation {
    /// Whether the client took part in planning.
    #[serde(default)]
    pub client_took_part: bool,
    /// How they took part (or why they could not).
    #[serde(default)]
    pub how: String,
    /// How their views and wishes were considered.
    #[serde(default)]
    pub views_considered: String,
}

/// The role of someone else who took part in planning (000, 001, 002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    /// Närstående.
    Relative,
    /// God man.
    Trustee,
    /// Förvaltare.
    Guardian,
    KeyWorker,
    Nurse,
    /// Arbetsterapeut.
    OccupationalTherapist,
    /// Fysioterapeut / sjukgymnast.
    Physiotherapist,
    Doctor,
    UnitManager,
    CaseOfficer,
    Staff,
    Other,
}

/// Someone else who took part in planning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub name: String,
    pub role: ParticipantRole,
}

/// Whom the provider works with (002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Partner {
    CaseOfficer,
    OtherProvider,
    HealthCare,
    School,
    Other,
}

/// How the provider works with a partner (002).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Collaboration {
    pub with: Partner,
    pub how: String,
}

/// Who issued a clinical order (ordination).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Clinician {
    Nurse,
    OccupationalTherapist,
    Physiotherapist,
    Doctor,
    /// Habiliteringspersonal (003).
    Habilitation,
}

/// A reference to a clinical order and where it can be read (003: "förflyttnings-
/// ordination finns att läsa i kundens akt"). The order itself is not copied here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicalOrderRef {
    pub by: Clinician,
    /// What it is about ("förflyttning").
    pub subject: String,
    /// Where to read it.
    pub where_to_read: String,
}

/// A routine topic of seed 003's guide (rutinbeskrivning).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RoutineTopic {
    /// Bemötande / förhållningssätt.
    Approach,
    /// Ankomst till DV.
    Arrival,
    SocialActivities,
    Allergies,
    Medication,
    /// Kost, matvanor, aptit.
    Diet,
    /// Syn, hörsel, tal.
    SightHearingSpeech,
    Communication,
    /// Munvård.
    OralCare,
    /// Förflyttning, rörelseförmåga.
    Mobility,
    /// Hjälpmedel.
    Aids,
    /// Pauser / vila.
    Rest,
    /// Oro, otrygghet.
    Anxiety,
    /// Orientering, minne.
    OrientationMemory,
}

/// A note under a routine topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutineNote {
    pub topic: RoutineTopic,
    pub note: String,
}

/// A need and the service that meets it, at a part of the day (003: in chronological
/// order, morning … night).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimedNeed {
    pub part_of_day: PartOfDay,
    pub text: String,
}

/// A life area (livsområde) of an LSS daily-activity plan (003).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifeArea {
    /// The life area's name ("Kommunikation", "Arbete", …).
    pub area: String,
    /// Bedömt funktionstillstånd.
    #[serde(default)]
    pub assessed_function: String,
    /// How the case officer's goal is met here.
    #[serde(default)]
    pub goal: String,
    /// Needs and services, in chronological order.
    #[serde(default)]
    pub needs_and_services: Vec<TimedNeed>,
    /// Routine notes.
    #[serde(default)]
    pub routine_notes: Vec<RoutineNote>,
}

/// When and how the plan is followed up (000, 001, 002).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpPlan {
    #[serde(default)]
    pub on: Option<NaiveDate>,
    #[serde(default)]
    pub how: String,
}

/// One whole version of a plan. Every version is kept: it is a journal record (000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanContent {
    /// Provider (utförare), by name.
    pub provider: String,
    /// The unit; must be the plan's unit.
    pub unit: UnitId,
    /// The act; must be the plan's act.
    pub act: ActKind,
    pub client: Client,
    #[serde(default)]
    pub key_worker: Option<KeyWorkerRef>,
    /// Upprättad.
    #[serde(default)]
    pub drawn_up_on: Option<NaiveDate>,
    /// Fastställd.
    #[serde(default)]
    pub adopted_on: Option<NaiveDate>,
    /// When the service starts.
    #[serde(default)]
    pub service_starts_on: Option<NaiveDate>,
    #[serde(default)]
    pub follow_up: FollowUpPlan,
    #[serde(default)]
    pub services: Vec<Service>,
    /// The goals of the support, per SoL/LSS or HSL (000, 003).
    #[serde(default)]
    pub goals: Vec<String>,
    #[serde(default)]
    pub participation: Participation,
    #[serde(default)]
    pub participants: Vec<Participant>,
    #[serde(default)]
    pub collaboration: Vec<Collaboration>,
    #[serde(default)]
    pub clinical_orders: Vec<ClinicalOrderRef>,
    /// LSS daily activity only (003).
    #[serde(default)]
    pub life_areas: Vec<LifeArea>,
}
