//! What a verified bundle proves, for people and for programs: the plan content of every
//! version in full, each record's event in words (Swedish or English), times in Swedish
//! local time (Europe/Stockholm, with the offset), as text, as one HTML page, or as a
//! JSON report.
//!
//! Written by hand rather than with the complaint dossier's renderer (`planledger-app`),
//! which would pull the whole application into this small offline verifier. Every text
//! in the HTML is escaped ([`esc`]); the page has no script and no external resource.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use planledger_plan::{CloseReason, Event, Personnummer, RevisionReason, Role, Signer};
use serde_json::{Value, json};

use crate::{Proven, ProvenRecord, WeededPlan};

/// The language of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    Sv,
    /// English, the default (the text of earlier versions, which scripts may read).
    #[default]
    En,
}

impl Lang {
    /// `sv` or `en`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "sv" => Some(Lang::Sv),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    fn pick(self, sv: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Sv => sv,
            Lang::En => en,
        }
    }

    fn code(self) -> &'static str {
        self.pick("sv", "en")
    }
}

/// How to render: the language, and whether personnummer are shown in full.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub lang: Lang,
    pub show_personnummer: bool,
    /// With a witness policy: how many witness keys were trusted and how many
    /// cosignatures were needed.
    pub witness_policy: Option<(usize, usize)>,
}

/// A UTC time in µs in Swedish local time with its offset: `2026-03-02 10:00 +01:00`.
pub fn local_micros(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .map(planledger_plan::format_local)
        .unwrap_or_else(|| format!("{micros}µs"))
}

fn pnr(p: &Personnummer, show: bool) -> String {
    if show { p.expose() } else { p.to_string() }
}

/// A role's name (`key_worker` as stored in the record) for people.
pub fn role_name(lang: Lang, role: &str) -> String {
    let Ok(r) = serde_json::from_value::<Role>(Value::String(role.to_owned())) else {
        return role.replace('_', " ");
    };
    match lang {
        Lang::En => r.describe().to_owned(),
        Lang::Sv => match r {
            Role::KeyWorker => "kontaktperson",
            Role::Staff => "medarbetare",
            Role::UnitManager => "enhetschef",
            Role::CaseOfficer => "biståndshandläggare",
            Role::AdministrativeOfficer => "förvaltningsassistent",
            Role::Inspector => "inspektör",
            Role::Admin => "administratör",
        }
        .to_owned(),
    }
}

fn signer(lang: Lang, s: &Signer) -> String {
    use planledger_plan::RepresentativeKind as R;
    match (s, lang) {
        (Signer::Client, Lang::Sv) => "den enskilde".into(),
        (Signer::Client, Lang::En) => "the client".into(),
        (Signer::Representative(R::Trustee), Lang::Sv) => "god man".into(),
        (Signer::Representative(R::Trustee), Lang::En) => "the trustee".into(),
        (Signer::Representative(R::Guardian), Lang::Sv) => "förvaltare".into(),
        (Signer::Representative(R::Guardian), Lang::En) => "the guardian".into(),
        (Signer::StaffMember(u), Lang::Sv) => format!("medarbetaren {u}"),
        (Signer::StaffMember(u), Lang::En) => format!("staff member {u}"),
    }
}

fn revision_reason(lang: Lang, r: RevisionReason) -> String {
    match lang {
        Lang::En => r.as_str().replace('_', " "),
        Lang::Sv => match r {
            RevisionReason::NewDecision => "nytt beslut",
            RevisionReason::ChangedNeeds => "ändrade behov",
            RevisionReason::FollowUp => "uppföljning",
            RevisionReason::ClientWish => "den enskildes önskemål",
            RevisionReason::RelativeRequest => "anhörigs begäran",
            RevisionReason::StaffRequest => "personalens begäran",
            RevisionReason::Supplement => "komplettering",
            RevisionReason::Correction => "rättelse",
        }
        .to_owned(),
    }
}

fn close_reason(lang: Lang, r: CloseReason) -> &'static str {
    match r {
        CloseReason::Moved => lang.pick("flyttat", "moved"),
        CloseReason::Ended => lang.pick("insatsen upphört", "ended"),
        CloseReason::Deceased => lang.pick("avliden", "deceased"),
    }
}

fn note(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// One line saying what an event recorded, in `lang`. Personnummer are masked
/// (`19640823-****`) unless `show_personnummer`; the free text the event carries
/// (notes, findings) is shown, as it is what the history is about. A version's content
/// is not in the line: see [`content_lines`].
pub fn event_line(event: &Event, lang: Lang, show_personnummer: bool) -> String {
    let sv = lang == Lang::Sv;
    match event {
        Event::OrderReceived(e) => {
            let granted = if e.granted_services.is_empty() {
                String::new()
            } else {
                format!(
                    "; {}: {}",
                    lang.pick("beviljat", "granted"),
                    e.granted_services.join(", ")
                )
            };
            let act = value_word(lang, e.act.as_str());
            let client = pnr(&e.client, show_personnummer);
            if sv {
                format!(
                    "beställning {} mottagen {} för enhet {}, {act}, den enskilde {client}{granted}",
                    e.order, e.received_on, e.unit
                )
            } else {
                format!(
                    "order {} received {} for unit {}, act {act}, client {client}{granted}",
                    e.order, e.received_on, e.unit
                )
            }
        }
        Event::PlanDrafted(e) if sv => format!("version {} upprättad", e.version),
        Event::PlanDrafted(e) => format!("version {} drawn up", e.version),
        Event::PlanRevised(e) => format!(
            "version {} {} ({}){}",
            e.version,
            lang.pick("upprättad", "made"),
            revision_reason(lang, e.reason),
            note(&e.note)
        ),
        Event::PlanSigned(e) => format!(
            "version {} {} {}",
            e.version,
            lang.pick("undertecknad av", "signed by"),
            signer(lang, &e.signer)
        ),
        Event::PlanSubmitted(e) => format!(
            "version {} {}",
            e.version,
            lang.pick("avgiven till myndigheten", "submitted to the authority")
        ),
        Event::PlanApproved(e) => {
            format!("version {} {}", e.version, lang.pick("godkänd", "approved"))
        }
        Event::SupplementRequested(e) if sv => format!(
            "komplettering av version {} begärd senast {}: {}",
            e.version, e.due_on, e.reason
        ),
        Event::SupplementRequested(e) => format!(
            "supplement to version {} requested by {}: {}",
            e.version, e.due_on, e.reason
        ),
        Event::SupplementProvided(e) => format!(
            "{} {}{}",
            lang.pick(
                "komplettering lämnad som version",
                "supplement provided as version"
            ),
            e.version,
            note(&e.note)
        ),
        Event::ReviewDone(e) => format!(
            "version {} {} ({}){}",
            e.version,
            lang.pick("genomgången", "reviewed"),
            if e.checklist.all_clear() {
                lang.pick("alla punkter uppfyllda", "all points clear")
            } else {
                lang.pick("punkter kräver åtgärd", "points need action")
            },
            note(&e.findings)
        ),
        Event::FollowUpDone(e) => format!(
            "version {} {}{}{}",
            e.version,
            lang.pick("följd upp", "followed up"),
            e.next_follow_up_on
                .map(|d| format!(", {} {d}", lang.pick("nästa", "next on")))
                .unwrap_or_default(),
            note(&e.findings)
        ),
        Event::DeviationRecorded(e) => format!(
            "{} {}{}: {}",
            lang.pick("avvikelse", "deviation on"),
            e.occurred_on,
            e.service
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            e.description
        ),
        Event::CorrectionNoted(e) => format!(
            "{} {}: {}",
            lang.pick("rättelse av post", "correction of record"),
            e.refers_to,
            e.note
        ),
        Event::PlanClosed(e) => format!(
            "{} {} ({})",
            lang.pick("planen avslutad", "plan closed"),
            e.closed_on,
            close_reason(lang, e.reason)
        ),
        other => format!(
            "{} ({})",
            lang.pick("händelse", "event"),
            other.event_type()
        ),
    }
}

/// The content a plan version holds (its JSON), personnummer masked unless `show`.
fn content_value(record: &ProvenRecord, show: bool) -> Option<Value> {
    let content = match &record.event {
        Event::PlanDrafted(e) => &e.content,
        Event::PlanRevised(e) => &e.content,
        _ => return None,
    };
    let mut v = serde_json::to_value(content).ok()?;
    if !show {
        mask_value(&mut v);
    }
    Some(v)
}

/// Masks every string in `v` that is a personnummer.
fn mask_value(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Ok(p) = Personnummer::parse(s) {
                *s = p.to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_value),
        Value::Object(map) => map.values_mut().for_each(mask_value),
        _ => {}
    }
}

/// The plan content's field names for people (Swedish, English), in the order they are
/// shown (the order of the plan's form); fields not named here come last.
const FIELDS: &[(&str, &str, &str)] = &[
    ("provider", "Utförare", "Provider"),
    ("unit", "Enhet", "Unit"),
    ("act", "Insatstyp", "Type of service"),
    ("client", "Den enskilde", "Client"),
    ("name", "Namn", "Name"),
    ("personnummer", "Personnummer", "Personal identity number"),
    ("key_worker", "Kontaktperson", "Key worker"),
    ("user", "Användare", "User"),
    ("drawn_up_on", "Upprättad", "Drawn up on"),
    ("adopted_on", "Fastställd", "Adopted on"),
    ("service_starts_on", "Insatsen startar", "Service starts on"),
    ("services", "Insatser", "Services"),
    ("what", "Vad", "What"),
    ("when", "När", "When"),
    ("days", "Dagar", "Days"),
    ("start", "Från", "From"),
    ("end", "Till", "To"),
    ("part_of_day", "Del av dygnet", "Part of day"),
    ("every_weeks", "Var n:e vecka", "Every n weeks"),
    ("note", "Anteckning", "Note"),
    ("how", "Hur", "How"),
    ("who", "Vem", "Who"),
    ("goal", "Mål", "Goal"),
    ("goals", "Mål", "Goals"),
    ("participation", "Delaktighet", "Participation"),
    (
        "client_took_part",
        "Den enskilde deltog",
        "The client took part",
    ),
    (
        "views_considered",
        "Synpunkter som beaktats",
        "Views considered",
    ),
    ("participants", "Deltagare", "Participants"),
    ("role", "Roll", "Role"),
    ("collaboration", "Samverkan", "Collaboration"),
    ("with", "Med", "With"),
    ("clinical_orders", "Ordinationer", "Clinical orders"),
    ("by", "Av", "By"),
    ("subject", "Ämne", "Subject"),
    ("where_to_read", "Var den finns", "Where to read it"),
    ("life_areas", "Livsområden", "Life areas"),
    ("area", "Område", "Area"),
    ("assessed_function", "Bedömd förmåga", "Assessed function"),
    (
        "needs_and_services",
        "Behov och insatser",
        "Needs and services",
    ),
    ("text", "Text", "Text"),
    ("routine_notes", "Rutiner", "Routine notes"),
    ("topic", "Ämne", "Topic"),
    ("follow_up", "Uppföljning", "Follow-up"),
    ("on", "Datum", "On"),
];

/// A field name of the plan content for people.
fn label(lang: Lang, key: &str) -> String {
    match FIELDS.iter().find(|(k, _, _)| *k == key) {
        Some((_, sv, en)) => lang.pick(sv, en).to_owned(),
        None => key.replace('_', " "),
    }
}

/// An object's fields worth showing (empty ones and a schedule of every week left out),
/// in the order of [`FIELDS`].
fn fields(map: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut fields: Vec<(&String, &Value)> = map
        .iter()
        .filter(|(k, v)| {
            let every_week = k.as_str() == "every_weeks" && v.as_u64() == Some(1);
            !is_empty(v) && !every_week
        })
        .collect();
    fields.sort_by_key(|(k, _)| {
        FIELDS
            .iter()
            .position(|(f, _, _)| f == k)
            .unwrap_or(usize::MAX)
    });
    fields
}

/// A value word of the plan content (`home_care`, `tuesday`, `relative`) for people.
fn value_word(lang: Lang, word: &str) -> String {
    let (sv, en) = match word {
        "home_care" => ("hemtjänst", "home care"),
        "residential_care" => ("särskilt boende", "residential care"),
        "lss_daily_activity" => ("daglig verksamhet (LSS)", "daily activity (LSS)"),
        "housing_support" => ("boendestöd", "housing support"),
        "monday" => ("måndag", "Monday"),
        "tuesday" => ("tisdag", "Tuesday"),
        "wednesday" => ("onsdag", "Wednesday"),
        "thursday" => ("torsdag", "Thursday"),
        "friday" => ("fredag", "Friday"),
        "saturday" => ("lördag", "Saturday"),
        "sunday" => ("söndag", "Sunday"),
        "morning" => ("morgon", "morning"),
        "forenoon" => ("förmiddag", "forenoon"),
        "afternoon" => ("eftermiddag", "afternoon"),
        "evening" => ("kväll", "evening"),
        "night" => ("natt", "night"),
        "relative" => ("anhörig", "relative"),
        "trustee" => ("god man", "trustee"),
        "guardian" => ("förvaltare", "guardian"),
        "key_worker" => ("kontaktperson", "key worker"),
        "nurse" => ("sjuksköterska", "nurse"),
        "doctor" => ("läkare", "doctor"),
        "unit_manager" => ("enhetschef", "unit manager"),
        "case_officer" => ("biståndshandläggare", "case officer"),
        _ => return word.to_owned(),
    };
    lang.pick(sv, en).to_owned()
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.values().all(is_empty),
        _ => false,
    }
}

fn scalar(lang: Lang, v: &Value) -> String {
    match v {
        Value::String(s) => value_word(lang, s),
        Value::Bool(b) => lang
            .pick(if *b { "ja" } else { "nej" }, if *b { "yes" } else { "no" })
            .to_owned(),
        other => other.to_string(),
    }
}

/// A plan version's content as indented text lines (empty fields left out).
pub fn content_lines(lang: Lang, v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (k, v) in fields(map) {
                match v {
                    Value::Object(_) => {
                        let _ = writeln!(out, "{pad}{}:", label(lang, k));
                        content_lines(lang, v, indent + 2, out);
                    }
                    Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
                        let words: Vec<String> = items.iter().map(|i| scalar(lang, i)).collect();
                        let _ = writeln!(out, "{pad}{}: {}", label(lang, k), words.join(", "));
                    }
                    Value::Array(items) => {
                        let _ = writeln!(out, "{pad}{}:", label(lang, k));
                        for (n, item) in items.iter().enumerate() {
                            let _ = writeln!(out, "{pad}  {}.", n + 1);
                            content_lines(lang, item, indent + 4, out);
                        }
                    }
                    scalar_value => {
                        let _ = writeln!(
                            out,
                            "{pad}{}: {}",
                            label(lang, k),
                            scalar(lang, scalar_value)
                        );
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(lang, other));
        }
    }
}

/// The closing lines: how many records are proven, and whether completely.
pub(crate) fn summary_lines(proven: &Proven, o: &Options) -> Vec<String> {
    let lang = o.lang;
    let cp = &proven.checkpoint;
    let n = proven_count(proven);
    let mut lines = vec![match lang {
        Lang::Sv => {
            format!("{n} poster bevisade av kontrollpunktens signatur och inkluderingsbevisen")
        }
        Lang::En => {
            format!("{n} records proven by the checkpoint's signature and inclusion proofs")
        }
    }];
    lines.push(match (&proven.complete, lang) {
        (Some(c), Lang::Sv) => format!(
            "fullständig historik för {} plan{} per kontrollpunkt {} (den enskilde {}): kontrollpunktens karta bevisar att paketet innehåller varje post i den enskildes planer och inga andra",
            c.plans,
            if c.plans == 1 { "" } else { "er" },
            cp.size,
            pnr(&c.client, o.show_personnummer)
        ),
        (Some(c), Lang::En) => format!(
            "complete history of {} plan{} as of checkpoint {} (client {}): the checkpoint's map proves the bundle holds every record of the client's plans and no other",
            c.plans,
            if c.plans == 1 { "" } else { "s" },
            cp.size,
            pnr(&c.client, o.show_personnummer)
        ),
        (None, Lang::Sv) => "endast inkludering: kontrollpunkten binder ingen karta (den gjordes innan kartan fanns, eller utan kartnyckel), så paketet bevisar inte att detta är alla den enskildes poster".to_owned(),
        (None, Lang::En) => "inclusion only: the checkpoint commits no map (it was made before the map existed, or without a map key), so the bundle does not prove that these are all of the client's records".to_owned(),
    });
    if proven.decrypted > 0 {
        let n = proven.decrypted;
        lines.push(match lang {
            Lang::Sv => format!(
                "{n} poster är krypterade i liggaren: de öppnades med den enskildes datanyckel som paketet bär, och deras hashar och bevis gäller de krypterade byte som lagrats"
            ),
            Lang::En => format!(
                "{n} records are encrypted in the ledger: they were opened with the client's data key the bundle carries, and their hashes and proofs are of the encrypted bytes as stored"
            ),
        });
    }
    if let Some((trusted, threshold)) = o.witness_policy {
        let names: Vec<&str> = proven
            .cosigned_by
            .iter()
            .map(|c| c.key_name.as_str())
            .collect();
        let names = planledger_plan::json::mask_personnummer(&names.join(", "));
        lines.push(match lang {
            Lang::Sv => format!(
                "OK: kontrollpunkten är kontrasignerad av {} av de {trusted} vittnen du litar på ({names}; minst {threshold} krävs)",
                proven.cosigned_by.len()
            ),
            Lang::En => format!(
                "OK: the checkpoint is cosigned by {} of the {trusted} witnesses you trust ({names}; at least {threshold} needed)",
                proven.cosigned_by.len()
            ),
        });
    }
    if let Some(old) = &proven.extends {
        lines.push(match lang {
            Lang::Sv => format!(
                "OK: loggen i paketets kontrollpunkt ({} poster) bygger vidare på den tidigare kontrollpunkten med {} poster",
                cp.size, old.size
            ),
            Lang::En => format!(
                "OK: the log of the bundle's checkpoint ({} records) extends the earlier checkpoint of {} records",
                cp.size, old.size
            ),
        });
    }
    lines.push(
        lang.pick("OK: paketet är verifierat", "OK: the bundle verifies")
            .to_owned(),
    );
    lines
}

/// Every record the bundle proved: the readable ones and the weeded plans' sealed ones.
fn proven_count(proven: &Proven) -> usize {
    proven.records.len() + proven.weeded.iter().map(|w| w.records.len()).sum::<usize>()
}

/// What a weeded plan's bundle says in place of its content: weeded on DATE under RULE.
pub fn weeded_line(w: &WeededPlan, lang: Lang) -> String {
    let first = w.records.first().map_or(0, |r| r.position());
    let last = w.records.last().map_or(0, |r| r.position());
    match lang {
        Lang::Sv => format!(
            "gallrad {} enligt {} (beslut {}; senaste anteckning {}): dess {} poster (position {first}–{last}) är förseglade och innehållet förstört med den enskildes nyckel; deras plats i den signerade liggaren är bevisad, och gallringen är posten på position {}",
            w.on,
            w.rule,
            w.decision,
            w.last_entry,
            w.records.len(),
            w.weeding.position()
        ),
        Lang::En => format!(
            "weeded on {} under {} (decision {}; last entry {}): its {} records (positions {first}–{last}) are sealed, their content destroyed with the client's key; their place in the signed ledger is proven, and the weeding is the record at position {}",
            w.on,
            w.rule,
            w.decision,
            w.last_entry,
            w.records.len(),
            w.weeding.position()
        ),
    }
}

/// The sealing time when it reads differently from the claimed one.
fn sealed_differs(r: &ProvenRecord) -> Option<String> {
    let claimed = local_micros(r.record.entry().claimed_at_micros);
    r.record
        .sealed_at_micros()
        .map(local_micros)
        .filter(|t| *t != claimed)
}

/// The history as text: the checkpoint, then by plan each record with its time (Swedish
/// local time), who and what, each version's content in full, and the closing lines
/// ending in `OK: the bundle verifies`.
pub fn text(proven: &Proven, o: &Options) -> String {
    let mut out = history_text(proven, o);
    for line in summary_lines(proven, o) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// [`text`] without the OK lines of the witness policy, the consistency proof and the
/// verdict (what `render_history` returned before).
pub(crate) fn history_text(proven: &Proven, o: &Options) -> String {
    let lang = o.lang;
    let cp = &proven.checkpoint;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} {} {}, {} {}, {} {}",
        lang.pick("kontrollpunkt", "checkpoint"),
        cp.origin,
        lang.pick("vid storlek", "at size"),
        cp.size,
        lang.pick("signerad", "signed"),
        local_micros(cp.time_micros),
        lang.pick("rot", "root"),
        cp.root
    );
    let mut current: Option<&str> = None;
    for p in &proven.records {
        let r = &p.record;
        if current != Some(r.stream_id()) {
            current = Some(r.stream_id());
            let _ = writeln!(out, "\n{} {}", lang.pick("plan", "plan"), r.stream_id());
        }
        let actor = &r.entry().actor;
        let sealed = sealed_differs(p)
            .map(|t| format!(" ({} {t})", lang.pick("förseglad", "sealed")))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  #{:<3} {} {:<6} {}{sealed}  {} ({})  {}",
            r.stream_version(),
            lang.pick("position", "position"),
            r.position(),
            local_micros(r.entry().claimed_at_micros),
            actor.user_id,
            role_name(lang, &actor.role),
            event_line(&p.event, lang, o.show_personnummer)
        );
        if let Some(content) = content_value(p, o.show_personnummer) {
            content_lines(lang, &content, 8, &mut out);
        }
    }
    for w in &proven.weeded {
        let _ = writeln!(out, "\n{} {}", lang.pick("plan", "plan"), w.plan);
        let _ = writeln!(out, "  {}", weeded_line(w, lang));
    }
    let _ = writeln!(out);
    out
}

/// Escapes `s` for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn content_html(lang: Lang, v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            out.push_str("<dl>");
            for (k, v) in fields(map) {
                let _ = write!(out, "<dt>{}</dt><dd>", esc(&label(lang, k)));
                content_html(lang, v, out);
                out.push_str("</dd>");
            }
            out.push_str("</dl>");
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
            let words: Vec<String> = items.iter().map(|i| scalar(lang, i)).collect();
            out.push_str(&esc(&words.join(", ")));
        }
        Value::Array(items) => {
            out.push_str("<ol>");
            for item in items {
                out.push_str("<li>");
                content_html(lang, item, out);
                out.push_str("</li>");
            }
            out.push_str("</ol>");
        }
        other => out.push_str(&esc(&scalar(lang, other))),
    }
}

const CSS: &str = "body{font-family:system-ui,\"DejaVu Sans\",Arial,sans-serif;color:#1a1a1a;background:#fff;margin:1rem;line-height:1.45;max-width:80rem}\
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #767676;padding:.25rem .45rem;text-align:left;vertical-align:top}\
th{background:#e8eef5}caption{text-align:left;font-weight:bold}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.2rem 0}\
dt{font-weight:bold}dd{margin:0}.ok{color:#1d6b2c;font-weight:bold}code{word-break:break-all}";

/// The history as one HTML page (no script, no external resource), in `lang`.
pub fn html(proven: &Proven, o: &Options) -> String {
    let lang = o.lang;
    let cp = &proven.checkpoint;
    let title = lang.pick(
        "Bevisad planhistorik (verify-bundle)",
        "Proven plan history (verify-bundle)",
    );
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><style>{CSS}</style></head><body><main><h1>{title}</h1>",
        lang.code()
    );
    let _ = write!(
        out,
        "<h2>{}</h2><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><code>{}</code></dd></dl>",
        lang.pick("Kontrollpunkt", "Checkpoint"),
        lang.pick("Logg", "Log"),
        esc(&cp.origin),
        lang.pick("Storlek", "Size"),
        cp.size,
        lang.pick("Signerad", "Signed"),
        esc(&local_micros(cp.time_micros)),
        lang.pick("Rot", "Root"),
        cp.root
    );
    let mut plans: Vec<(&str, Vec<&ProvenRecord>)> = Vec::new();
    for p in &proven.records {
        match plans.last_mut() {
            Some((id, rs)) if *id == p.record.stream_id() => rs.push(p),
            _ => plans.push((p.record.stream_id(), vec![p])),
        }
    }
    for (plan, records) in &plans {
        let _ = write!(
            out,
            "<section><h2>{} {}</h2><table><caption>{}</caption><thead><tr><th scope=\"col\">#</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            lang.pick("Plan", "Plan"),
            esc(plan),
            lang.pick("Poster", "Records"),
            lang.pick("Tid", "Time"),
            lang.pick("Vem", "Who"),
            lang.pick("Vad", "What"),
            lang.pick("Position", "Position"),
            lang.pick("Posthash (blake3)", "Record hash (blake3)"),
        );
        for p in records {
            let r = &p.record;
            let actor = &r.entry().actor;
            let sealed = sealed_differs(p)
                .map(|t| format!(" ({} {})", lang.pick("förseglad", "sealed"), esc(&t)))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}{sealed}</td><td>{} ({})</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                r.stream_version(),
                esc(&local_micros(r.entry().claimed_at_micros)),
                esc(&actor.user_id),
                esc(&role_name(lang, &actor.role)),
                esc(&event_line(&p.event, lang, o.show_personnummer)),
                r.position(),
                r.hash().to_hex()
            );
        }
        out.push_str("</tbody></table>");
        for p in records {
            if let Some(content) = content_value(p, o.show_personnummer) {
                let _ = write!(
                    out,
                    "<h3>{}</h3>",
                    esc(&event_line(&p.event, lang, o.show_personnummer))
                );
                content_html(lang, &content, &mut out);
            }
        }
        out.push_str("</section>");
    }
    for w in &proven.weeded {
        let _ = write!(
            out,
            "<section><h2>{} {}</h2><p>{}</p><table><caption>{}</caption><thead><tr><th scope=\"col\">#</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            lang.pick("Plan", "Plan"),
            esc(&w.plan),
            esc(&weeded_line(w, lang)),
            lang.pick("Förseglade poster", "Sealed records"),
            lang.pick("Position", "Position"),
            lang.pick("Posthash (blake3)", "Record hash (blake3)"),
        );
        for r in &w.records {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                r.stream_version(),
                r.position(),
                r.hash().to_hex()
            );
        }
        out.push_str("</tbody></table></section>");
    }
    out.push_str("<h2>");
    out.push_str(lang.pick("Resultat", "Result"));
    out.push_str("</h2>");
    for line in summary_lines(proven, o) {
        let class = if line.starts_with("OK:") {
            " class=\"ok\""
        } else {
            ""
        };
        let _ = write!(out, "<p{class}>{}</p>", esc(&line));
    }
    out.push_str("</main></body></html>\n");
    out
}

/// The history as a JSON report for programs: `ok`, the checkpoint, completeness,
/// witnesses, and by plan every record with its times (UTC and Swedish local), actor,
/// event type, the line for people in `lang`, and the event itself (personnummer masked
/// unless `show_personnummer`).
pub fn json(proven: &Proven, o: &Options) -> Value {
    let cp = &proven.checkpoint;
    let utc = |micros: i64| {
        DateTime::<Utc>::from_timestamp_micros(micros)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    };
    let mut plans: Vec<Value> = Vec::new();
    let mut current: Option<&str> = None;
    for p in &proven.records {
        let r = &p.record;
        if current != Some(r.stream_id()) {
            current = Some(r.stream_id());
            plans.push(json!({ "plan": r.stream_id(), "records": [] }));
        }
        let mut event = serde_json::to_value(&p.event).unwrap_or(Value::Null);
        if !o.show_personnummer {
            mask_value(&mut event);
        }
        let entry = r.entry();
        let record = json!({
            "stream_version": r.stream_version(),
            "position": r.position(),
            "hash": r.hash().to_hex(),
            "claimed_at": utc(entry.claimed_at_micros),
            "claimed_at_local": local_micros(entry.claimed_at_micros),
            "sealed_at": r.sealed_at_micros().and_then(utc),
            "sealed_at_local": r.sealed_at_micros().map(local_micros),
            "actor": { "user": entry.actor.user_id, "role": entry.actor.role },
            "event_type": p.event.event_type(),
            "summary": event_line(&p.event, o.lang, o.show_personnummer),
            "event": event,
        });
        if let Some(Value::Array(rs)) = plans.last_mut().and_then(|v| v.get_mut("records")) {
            rs.push(record);
        }
    }
    json!({
        "ok": true,
        "lang": o.lang.code(),
        "checkpoint": {
            "origin": cp.origin,
            "size": cp.size,
            "root": cp.root.to_hex(),
            "signed_at": utc(cp.time_micros),
            "signed_at_local": local_micros(cp.time_micros),
            "map": cp.map_root.map(|h| h.to_hex()),
        },
        "records": proven_count(proven),
        "decrypted": proven.decrypted,
        "weeded": proven.weeded.iter().map(|w| json!({
            "plan": w.plan,
            "weeded_on": w.on.to_string(),
            "rule": w.rule,
            "decision": w.decision,
            "last_entry": w.last_entry,
            "summary": weeded_line(w, o.lang),
            "weeding": { "position": w.weeding.position(), "hash": w.weeding.hash().to_hex() },
            "records": w.records.iter().map(|r| json!({
                "stream_version": r.stream_version(),
                "position": r.position(),
                "hash": r.hash().to_hex(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "complete": proven.complete.as_ref().map(|c| json!({
            "client": pnr(&c.client, o.show_personnummer),
            "plans": c.plans,
        })),
        "cosigned_by": proven.cosigned_by.iter().map(|c| planledger_plan::json::mask_personnummer(&c.key_name)).collect::<Vec<_>>(),
        "extends": proven.extends.as_ref().map(|e| json!({ "size": e.size, "root": e.root.to_hex() })),
        "plans": plans,
    })
}
