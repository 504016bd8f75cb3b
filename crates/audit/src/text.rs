//! The words of the reports, in Swedish and English. The domain types speak English in
//! their `Display`; reports for Swedish readers need their own words.

use chrono::NaiveDate;
use planledger_plan::{
    ActKind, CloseReason, DueKind, FeeReason, Gap, LifeAreaField, RepresentativeKind,
    RevisionReason, ServiceField, SignatureRequirement, Signer,
};

use crate::Lang;

pub fn yes_no(lang: Lang, b: bool) -> String {
    match (lang, b) {
        (Lang::Sv, true) => "ja",
        (Lang::Sv, false) => "nej",
        (Lang::En, true) => "yes",
        (Lang::En, false) => "no",
    }
    .to_owned()
}

pub fn date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "–".to_owned(), |d| d.to_string())
}

pub fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

pub fn act(lang: Lang, act: ActKind) -> &'static str {
    match act {
        ActKind::ResidentialCare => lang.pick("särskilt boende", "residential care"),
        ActKind::HomeCare => lang.pick("hemtjänst", "home care"),
        ActKind::LssDailyActivity => lang.pick("daglig verksamhet (LSS)", "LSS daily activity"),
        ActKind::HousingSupport => lang.pick("boendestöd", "housing support"),
    }
}

pub fn due_kind(lang: Lang, kind: DueKind) -> &'static str {
    match kind {
        DueKind::DrawUp => lang.pick("upprätta plan", "draw up plan"),
        DueKind::Submit => lang.pick("skicka till handläggare", "send to case officer"),
        DueKind::Review => lang.pick("månatlig genomgång", "monthly review"),
        DueKind::FollowUp => lang.pick("uppföljning", "follow-up"),
        DueKind::Supplement => lang.pick("komplettering", "supplement"),
    }
}

pub fn signature_requirement(lang: Lang, r: SignatureRequirement) -> &'static str {
    match r {
        SignatureRequirement::ClientOrRepresentative => lang.pick(
            "kunden eller god man/förvaltare",
            "client or trustee/guardian",
        ),
        SignatureRequirement::StaffMember => lang.pick("medarbetare", "staff member"),
    }
}

pub fn signer(lang: Lang, s: &Signer) -> String {
    match s {
        Signer::Client => lang.pick("kunden", "the client").to_owned(),
        Signer::Representative(RepresentativeKind::Trustee) => {
            lang.pick("god man", "the trustee").to_owned()
        }
        Signer::Representative(RepresentativeKind::Guardian) => {
            lang.pick("förvaltare", "the guardian").to_owned()
        }
        Signer::StaffMember(user) => format!("{} {user}", lang.pick("medarbetare", "staff member")),
    }
}

pub fn revision_reason(lang: Lang, r: RevisionReason) -> &'static str {
    match r {
        RevisionReason::NewDecision => lang.pick("nytt beslut", "new decision"),
        RevisionReason::ChangedNeeds => lang.pick("ändrade behov", "changed needs"),
        RevisionReason::FollowUp => lang.pick("uppföljning", "follow-up"),
        RevisionReason::ClientWish => lang.pick("kundens önskemål", "client's wish"),
        RevisionReason::RelativeRequest => lang.pick("närståendes begäran", "relative's request"),
        RevisionReason::StaffRequest => lang.pick("personalens begäran", "staff request"),
        RevisionReason::Supplement => lang.pick("komplettering", "supplement"),
        RevisionReason::Correction => lang.pick("rättelse", "correction"),
    }
}

pub fn close_reason(lang: Lang, r: CloseReason) -> &'static str {
    match r {
        CloseReason::Moved => lang.pick("flyttat", "moved"),
        CloseReason::Ended => lang.pick("insatsen avslutad", "service ended"),
        CloseReason::Deceased => lang.pick("avliden", "deceased"),
    }
}

fn service_field(lang: Lang, f: ServiceField) -> &'static str {
    match f {
        ServiceField::What => lang.pick("vad", "what"),
        ServiceField::When => lang.pick("när (veckodag och tid)", "when (weekday and time)"),
        ServiceField::How => lang.pick("hur", "how"),
        ServiceField::Who => lang.pick("vem", "who"),
        ServiceField::Goal => lang.pick("mål", "goal"),
    }
}

fn life_area_field(lang: Lang, f: LifeAreaField) -> &'static str {
    match f {
        LifeAreaField::Name => lang.pick("namn", "name"),
        LifeAreaField::AssessedFunction => {
            lang.pick("bedömt funktionstillstånd", "assessed functional state")
        }
        LifeAreaField::Goal => lang.pick("mål", "goal"),
        LifeAreaField::NeedsAndServices => lang.pick("behov och insatser", "needs and services"),
        LifeAreaField::Chronology => lang.pick(
            "kronologisk ordning (morgon till natt)",
            "chronological order (morning to night)",
        ),
    }
}

/// A gap in the reader's language. English uses the domain's own text.
pub fn gap(lang: Lang, g: &Gap) -> String {
    if lang == Lang::En {
        return g.to_string();
    }
    match g {
        Gap::Provider => "utföraren anges inte".into(),
        Gap::ClientName => "kundens namn saknas".into(),
        Gap::KeyWorker => "kontaktperson anges inte".into(),
        Gap::DrawnUpDate => "datum då planen upprättades saknas".into(),
        Gap::AdoptedDate => "datum då planen fastställdes saknas".into(),
        Gap::ServiceStartDate => "datum då insatsen startar saknas".into(),
        Gap::NoServices => "ingen insats beskrivs".into(),
        Gap::Service { service, field } => {
            format!(
                "insats {service} anger inte {}",
                service_field(lang, *field)
            )
        }
        Gap::NoGoals => "stödets mål anges inte".into(),
        Gap::ParticipationNotDescribed => "det framgår inte hur kunden deltagit".into(),
        Gap::ViewsNotConsidered => {
            "det framgår inte hur kundens synpunkter och önskemål beaktats".into()
        }
        Gap::NoParticipants => "det framgår inte vilka som deltagit i planeringen".into(),
        Gap::FollowUpDate => "datum för uppföljning saknas".into(),
        Gap::FollowUpHow => "det framgår inte hur planen följs upp".into(),
        Gap::LifeAreasMissing => "inget livsområde beskrivs".into(),
        Gap::LifeArea { area, field } => {
            format!(
                "livsområde {area} anger inte {}",
                life_area_field(lang, *field)
            )
        }
        Gap::ClinicalOrderLocation { order } => {
            format!("ordination {order} anger inte var den kan läsas")
        }
        Gap::Unsigned { required } => format!(
            "versionen är inte signerad av {}",
            signature_requirement(lang, *required)
        ),
        // A gap added to the domain later: its English text rather than nothing.
        other => other.to_string(),
    }
}

/// Why the new-client fee is or is not payable, in the reader's language.
pub fn fee_reason(lang: Lang, r: &FeeReason) -> String {
    if lang == Lang::En {
        return r.to_string();
    }
    match r {
        FeeReason::NotHomeCare { act: a } => {
            format!(
                "ersättningen gäller hemtjänst; planen gäller {}",
                act(lang, *a)
            )
        }
        FeeReason::NoOrder => "ingen beställning är registrerad".into(),
        FeeReason::NotSubmitted { due_on } => {
            format!("första planen har inte skickats; den ska skickas senast {due_on}")
        }
        FeeReason::SubmittedLate {
            submitted_on,
            due_on,
            days_late,
        } => format!(
            "första planen skickad {submitted_on}, {days_late} dagar efter sista dag {due_on}"
        ),
        FeeReason::AwaitingDecision => {
            "första planen skickad i tid; väntar på handläggarens godkännande".into()
        }
        FeeReason::SupplementOutstanding { due_on } => {
            format!("begärd komplettering har inte kommit in, senast {due_on}")
        }
        FeeReason::SupplementLate {
            due_on,
            provided_on,
        } => format!("kompletteringen kom {provided_on}, efter sista dag {due_on}"),
        FeeReason::Approved { approved_on } => {
            format!("första planen skickad i tid och godkänd {approved_on}")
        }
        FeeReason::Supplemented { provided_on } => {
            format!("första planen skickad i tid och kompletterad som begärts {provided_on}")
        }
        other => other.to_string(),
    }
}
