//! Completeness: which required contents of a plan version are missing or vague, per act.
//!
//! The list is the union of the seeds (docs/DOMAIN.md, "What a plan must contain"); each gap
//! names the seeds that ask for it, so a report can say why.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::content::{ActKind, PlanContent, SignatureRequirement};

/// A field of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceField {
    What,
    When,
    How,
    Who,
    Goal,
}

impl ServiceField {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceField::What => "what",
            ServiceField::When => "when (weekday and time of day)",
            ServiceField::How => "how",
            ServiceField::Who => "who",
            ServiceField::Goal => "goal",
        }
    }
}

/// A field of an LSS life area (003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifeAreaField {
    Name,
    AssessedFunction,
    Goal,
    NeedsAndServices,
    /// Needs are not in chronological order (morning … night).
    Chronology,
}

impl LifeAreaField {
    pub fn as_str(self) -> &'static str {
        match self {
            LifeAreaField::Name => "name",
            LifeAreaField::AssessedFunction => "assessed functional state",
            LifeAreaField::Goal => "goal",
            LifeAreaField::NeedsAndServices => "needs and services",
            LifeAreaField::Chronology => "chronological order (morning to night)",
        }
    }
}

/// A required content that is missing or too vague to act on. Services, life areas and
/// clinical orders are named by their position (1-based), never by content, so a gap
/// list carries no personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "gap", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Gap {
    Provider,
    ClientName,
    KeyWorker,
    DrawnUpDate,
    AdoptedDate,
    ServiceStartDate,
    NoServices,
    Service { service: usize, field: ServiceField },
    NoGoals,
    ParticipationNotDescribed,
    ViewsNotConsidered,
    NoParticipants,
    FollowUpDate,
    FollowUpHow,
    LifeAreasMissing,
    LifeArea { area: usize, field: LifeAreaField },
    ClinicalOrderLocation { order: usize },
    Unsigned { required: SignatureRequirement },
}

impl Gap {
    /// The seeds that require this content.
    pub fn seeds(&self) -> &'static str {
        match self {
            Gap::Provider | Gap::ClientName | Gap::KeyWorker | Gap::ServiceStartDate => "001",
            Gap::DrawnUpDate => "001, 002",
            Gap::AdoptedDate => "002",
            Gap::NoServices | Gap::Service { .. } => "000, 001, 002, 004",
            Gap::NoGoals => "000, 003",
            Gap::ParticipationNotDescribed => "002, 004",
            Gap::ViewsNotConsidered => "002",
            Gap::NoParticipants => "000, 001, 002",
            Gap::FollowUpDate => "000, 001, 002",
            Gap::FollowUpHow => "002",
            Gap::LifeAreasMissing | Gap::LifeArea { .. } | Gap::ClinicalOrderLocation { .. } => {
                "003"
            }
            Gap::Unsigned {
                required: SignatureRequirement::StaffMember,
            } => "004",
            Gap::Unsigned { .. } => "000, 001",
        }
    }
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gap::Provider => f.write_str("the provider is not named"),
            Gap::ClientName => f.write_str("the client's name is missing"),
            Gap::KeyWorker => f.write_str("no key worker is named"),
            Gap::DrawnUpDate => f.write_str("the date the plan was drawn up is missing"),
            Gap::AdoptedDate => f.write_str("the date the plan was adopted is missing"),
            Gap::ServiceStartDate => f.write_str("the date the service starts is missing"),
            Gap::NoServices => f.write_str("no service is described"),
            Gap::Service { service, field } => {
                write!(f, "service {service} does not say {}", field.as_str())
            }
            Gap::NoGoals => f.write_str("the goals of the support are not stated"),
            Gap::ParticipationNotDescribed => {
                f.write_str("it does not say how the client took part")
            }
            Gap::ViewsNotConsidered => {
                f.write_str("it does not say how the client's views and wishes were considered")
            }
            Gap::NoParticipants => f.write_str("it does not say who took part in planning"),
            Gap::FollowUpDate => f.write_str("no follow-up date is set"),
            Gap::FollowUpHow => f.write_str("it does not say how the plan is followed up"),
            Gap::LifeAreasMissing => f.write_str("no life area is described"),
            Gap::LifeArea { area, field } => {
                write!(f, "life area {area} does not give its {}", field.as_str())
            }
            Gap::ClinicalOrderLocation { order } => {
                write!(
                    f,
                    "clinical order {order} does not say where it can be read"
                )
            }
            Gap::Unsigned { required } => {
                write!(f, "the version is not signed by {}", required.describe())
            }
        }
    }
}

/// Whether a text says too little to act on: fewer than two letters or digits ("", "-",
/// "?", "x").
pub(crate) fn is_vague(s: &str) -> bool {
    s.chars().filter(|c| c.is_alphanumeric()).take(2).count() < 2
}

/// The required contents missing or vague in `content` for a plan under `act`.
/// Signatures are not part of the content: see [`crate::PlanState::gaps`].
pub fn completeness(content: &PlanContent, act: ActKind) -> Vec<Gap> {
    let mut gaps = Vec::new();
    if is_vague(&content.provider) {
        gaps.push(Gap::Provider);
    }
    if is_vague(&content.client.name) {
        gaps.push(Gap::ClientName);
    }
    if content
        .key_worker
        .as_ref()
        .is_none_or(|k| is_vague(&k.name))
    {
        gaps.push(Gap::KeyWorker);
    }
    if content.drawn_up_on.is_none() {
        gaps.push(Gap::DrawnUpDate);
    }
    if content.adopted_on.is_none() {
        gaps.push(Gap::AdoptedDate);
    }
    if act == ActKind::HomeCare && content.service_starts_on.is_none() {
        gaps.push(Gap::ServiceStartDate);
    }

    // 003 describes the support per life area; there the life areas may carry it all.
    let lss_needs = act == ActKind::LssDailyActivity
        && content
            .life_areas
            .iter()
            .any(|a| !a.needs_and_services.is_empty());
    if content.services.is_empty() && !lss_needs {
        gaps.push(Gap::NoServices);
    }
    for (i, s) in content.services.iter().enumerate() {
        let service = i + 1;
        let mut missing = |field| gaps.push(Gap::Service { service, field });
        if is_vague(&s.what) {
            missing(ServiceField::What);
        }
        if !s.when.is_specific() {
            missing(ServiceField::When);
        }
        if is_vague(&s.how) {
            missing(ServiceField::How);
        }
        if is_vague(&s.who) {
            missing(ServiceField::Who);
        }
        if is_vague(&s.goal) {
            missing(ServiceField::Goal);
        }
    }

    let overall_goals = content.goals.iter().any(|g| !is_vague(g));
    let goals_required_overall =
        matches!(act, ActKind::ResidentialCare | ActKind::LssDailyActivity);
    let any_service_goal = content.services.iter().any(|s| !is_vague(&s.goal));
    if !overall_goals && (goals_required_overall || !any_service_goal) {
        gaps.push(Gap::NoGoals);
    }

    if is_vague(&content.participation.how) {
        gaps.push(Gap::ParticipationNotDescribed);
    }
    if is_vague(&content.participation.views_considered) {
        gaps.push(Gap::ViewsNotConsidered);
    }
    if matches!(act, ActKind::HomeCare | ActKind::ResidentialCare)
        && content.participants.is_empty()
    {
        gaps.push(Gap::NoParticipants);
    }
    if content.follow_up.on.is_none() {
        gaps.push(Gap::FollowUpDate);
    }
    if is_vague(&content.follow_up.how) {
        gaps.push(Gap::FollowUpHow);
    }

    if act == ActKind::LssDailyActivity {
        if content.life_areas.is_empty() {
            gaps.push(Gap::LifeAreasMissing);
        }
        for (i, a) in content.life_areas.iter().enumerate() {
            let area = i + 1;
            let mut missing = |field| gaps.push(Gap::LifeArea { area, field });
            if is_vague(&a.area) {
                missing(LifeAreaField::Name);
            }
            if is_vague(&a.assessed_function) {
                missing(LifeAreaField::AssessedFunction);
            }
            if is_vague(&a.goal) {
                missing(LifeAreaField::Goal);
            }
            if a.needs_and_services.iter().all(|n| is_vague(&n.text)) {
                missing(LifeAreaField::NeedsAndServices);
            }
            if a.needs_and_services
                .windows(2)
                .any(|w| w[0].part_of_day > w[1].part_of_day)
            {
                missing(LifeAreaField::Chronology);
            }
        }
    }
    for (i, o) in content.clinical_orders.iter().enumerate() {
        if is_vague(&o.where_to_read) {
            gaps.push(Gap::ClinicalOrderLocation { order: i + 1 });
        }
    }
    gaps
}
