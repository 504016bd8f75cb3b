//! HTML fragments shared by the complaint dossier ([`crate::dossier`]) and the pages of
//! `planledger serve`: a report's rows as a table, a plan's timeline (every version with
//! who did what and when, the field-by-field diff, deviations, corrections linked to what
//! they correct), a plan's content, and the style sheet. Server-rendered with maud (every
//! text escaped), usable without JavaScript, in Swedish or English.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use planledger_audit::{Detail, Done, EventRow, History, Lang, Row, VersionRow};
use planledger_plan::{Actor, RepresentativeKind, Role, Signer, format_local};

/// The style sheet: system fonts, text at least 4.5:1 against its background (WCAG 2.1
/// AA), a visible focus ring, tables that print.
pub const CSS: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1a1a1a; background: #fff; margin: 0; line-height: 1.45; }
a { color: #0b4f9c; }
a:focus, button:focus, input:focus, select:focus, summary:focus { outline: 3px solid #b35900; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; z-index: 10; }
header.site { background: #12355b; color: #fff; padding: 0.5rem 1rem; display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
header.site a { color: #fff; }
header.site nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 1rem; margin: 0; padding: 0; }
main { padding: 1rem; max-width: 80rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
th, td { border: 1px solid #767676; padding: 0.25rem 0.45rem; text-align: left; vertical-align: top; }
th { background: #e8eef5; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
.muted { color: #505050; }
.bad { color: #a4000f; font-weight: bold; }
.good { color: #1d6b2c; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
section.version { border-left: 4px solid #12355b; padding-left: 0.8rem; margin: 1rem 0; }
pre { white-space: pre-wrap; word-break: break-all; background: #f4f4f4; padding: 0.5rem; border: 1px solid #767676; }
button, input[type=submit] { background: #12355b; color: #fff; border: 0; padding: 0.45rem 0.9rem; font-size: 1rem; cursor: pointer; }
label { font-weight: bold; margin-right: 0.3rem; }
input, select { font-size: 1rem; padding: 0.25rem; border: 1px solid #505050; }
form.inline { display: flex; flex-wrap: wrap; gap: 0.6rem; align-items: end; margin: 0.5rem 0; }
@media print { header.site, .noprint { display: none; } main { max-width: none; } section.version { break-inside: avoid; } a { color: #000; } }
"#;

/// A role's name for people.
pub fn role_name(lang: Lang, role: Role) -> &'static str {
    match (lang, role) {
        (Lang::Sv, Role::KeyWorker) => "kontaktperson",
        (Lang::Sv, Role::Staff) => "medarbetare",
        (Lang::Sv, Role::UnitManager) => "enhetschef",
        (Lang::Sv, Role::CaseOfficer) => "biståndshandläggare",
        (Lang::Sv, Role::AdministrativeOfficer) => "förvaltningsassistent",
        (Lang::Sv, Role::Inspector) => "inspektör",
        (Lang::Sv, Role::Admin) => "administratör",
        (Lang::En, r) => r.describe(),
    }
}

/// Who did something: `kim (kontaktperson)`.
pub fn actor(lang: Lang, a: &Actor) -> String {
    format!("{} ({})", a.user, role_name(lang, a.role))
}

/// Who signed.
pub fn signer(lang: Lang, s: &Signer) -> String {
    match (s, lang) {
        (Signer::Client, Lang::Sv) => "den enskilde".to_owned(),
        (Signer::Client, Lang::En) => "the client".to_owned(),
        (Signer::Representative(RepresentativeKind::Trustee), Lang::Sv) => "god man".to_owned(),
        (Signer::Representative(RepresentativeKind::Trustee), Lang::En) => "trustee".to_owned(),
        (Signer::Representative(RepresentativeKind::Guardian), Lang::Sv) => "förvaltare".to_owned(),
        (Signer::Representative(RepresentativeKind::Guardian), Lang::En) => "guardian".to_owned(),
        (Signer::StaffMember(u), Lang::Sv) => format!("medarbetaren {u}"),
        (Signer::StaffMember(u), Lang::En) => format!("staff member {u}"),
    }
}

/// A time as a person in Sweden reads it (local time with its offset).
pub fn local(at: DateTime<Utc>) -> String {
    format_local(at)
}

/// Any report's rows as a table: the row type's headings and cell texts in `lang`.
pub fn rows_table<R: Row>(rows: &[R], lang: Lang, caption: &str) -> Markup {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.cells(lang)).collect();
    table_of(R::columns(), &cells, lang, caption)
}

/// A table of `cells` under the headings of `columns`.
pub fn table_of(
    columns: &[planledger_audit::Column],
    cells: &[Vec<String>],
    lang: Lang,
    caption: &str,
) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr { @for c in columns { th scope="col" { (c.heading(lang)) } } } }
            tbody {
                @for row in cells { tr { @for cell in row { td { (cell) } } } }
                @if cells.is_empty() {
                    tr { td colspan=(columns.len()) { (lang.pick("Inga rader.", "No rows.")) } }
                }
            }
        }
    }
}

/// A plan's content (its JSON) as nested lists, field names as headings.
pub fn content(v: &serde_json::Value) -> Markup {
    use serde_json::Value;
    match v {
        Value::Object(map) => html! {
            dl.facts {
                @for (k, v) in map {
                    dt { (k.replace('_', " ")) }
                    dd { (content(v)) }
                }
            }
        },
        Value::Array(items) if items.is_empty() => html! { "–" },
        Value::Array(items) => html! { ol { @for i in items { li { (content(i)) } } } },
        Value::Null => html! { "–" },
        Value::String(s) => html! { (s) },
        other => html! { (other.to_string()) },
    }
}

fn done(lang: Lang, d: &Option<Done>) -> Markup {
    match d {
        Some(d) => html! { (local(d.at)) ", " (actor(lang, &d.by)) },
        None => html! { span.muted { (lang.pick("nej", "no")) } },
    }
}

/// The anchor of a plan's event (what a correction links to).
pub fn event_anchor(plan: &str, stream_version: u64) -> String {
    format!("{plan}-e{stream_version}")
}

fn version_section(
    lang: Lang,
    v: &VersionRow,
    contents: &BTreeMap<(String, u32), serde_json::Value>,
) -> Markup {
    let claimed = v.drawn_up.at;
    html! {
        section.version aria-labelledby=(format!("{}-v{}", v.plan, v.version)) {
            h3 id=(format!("{}-v{}", v.plan, v.version)) {
                (lang.pick("Version", "Version")) " " (v.version)
                @if v.replaced_at.is_none() { " " span.good { (lang.pick("(gällande)", "(current)")) } }
            }
            dl.facts {
                dt { (lang.pick("Upprättad (enligt anteckningen)", "Drawn up (according to the entry)")) }
                dd { (local(claimed)) ", " (actor(lang, &v.drawn_up.by)) }
                @if let Some(sealed) = v.sealed_at {
                    @if planledger_plan::swedish_date(sealed) != planledger_plan::swedish_date(claimed) || (sealed - claimed).num_minutes().abs() > 60 {
                        dt { (lang.pick("Förseglad i liggaren", "Sealed in the ledger")) }
                        dd.bad { (local(sealed)) }
                    }
                }
                @if let Some(r) = v.reason {
                    dt { (lang.pick("Skäl till ändring", "Reason for revision")) }
                    dd { (planledger_audit::text::revision_reason(lang, r)) @if !v.note.is_empty() { ": " (v.note) } }
                }
                dt { (lang.pick("Undertecknad", "Signed")) }
                dd {
                    @if v.signatures.is_empty() { span.bad { (lang.pick("nej", "no")) } }
                    @for (i, s) in v.signatures.iter().enumerate() {
                        @if i > 0 { "; " }
                        (signer(lang, &s.signer)) " " (local(s.at)) " (" (lang.pick("registrerat av ", "recorded by ")) (actor(lang, &s.by)) ")"
                    }
                }
                dt { (lang.pick("Skickad till handläggaren", "Sent to the case officer")) }
                dd { (done(lang, &v.submitted)) }
                dt { (lang.pick("Godkänd", "Approved")) }
                dd { (done(lang, &v.approved)) }
                @if let Some(r) = v.replaced_at {
                    dt { (lang.pick("Ersatt", "Replaced")) }
                    dd { (local(r)) }
                }
                @if let (Some(p), Some(h)) = (v.position, &v.hash) {
                    dt { (lang.pick("Post i liggaren", "Ledger record")) }
                    dd { (p) " " code { (h) } }
                }
            }
            @if !v.changes.is_empty() {
                table {
                    caption { (lang.pick("Ändringar från versionen före", "Changes from the version before")) }
                    thead { tr {
                        th scope="col" { (lang.pick("fält", "field")) }
                        th scope="col" { (lang.pick("före", "before")) }
                        th scope="col" { (lang.pick("efter", "after")) }
                    } }
                    tbody { @for c in &v.changes { tr {
                        td { (c.path) }
                        td { (c.before.as_deref().unwrap_or("–")) }
                        td { (c.after.as_deref().unwrap_or("–")) }
                    } } }
                }
            }
            @if let Some(c) = contents.get(&(v.plan.to_string(), v.version)) {
                details open {
                    summary { (lang.pick("Planens innehåll", "The plan's content")) }
                    (content(c))
                }
            }
        }
    }
}

fn events_table(lang: Lang, events: &[&EventRow]) -> Markup {
    let cols = EventRow::columns();
    html! {
        table {
            caption { (lang.pick("Alla poster", "Every record")) }
            thead { tr { @for c in cols { th scope="col" { (c.heading(lang)) } } } }
            tbody {
                @for e in events {
                    @let cells = e.cells(lang);
                    @let plan = e.plan.to_string();
                    tr id=(event_anchor(&plan, e.stream_version)) {
                        @for (i, cell) in cells.iter().enumerate() {
                            @if cols[i].key == "corrected_by" && !e.corrected_by.is_empty() {
                                td { @for (j, n) in e.corrected_by.iter().enumerate() {
                                    @if j > 0 { ", " }
                                    a href=(format!("#{}", event_anchor(&plan, *n))) { "#" (n) }
                                } }
                            } @else if cols[i].key == "detail" {
                                td {
                                    (cell)
                                    @if let Detail::Correction { refers_to, .. } = &e.detail {
                                        " " a href=(format!("#{}", event_anchor(&plan, *refers_to))) {
                                            (lang.pick("→ den rättade posten", "→ the corrected record"))
                                        }
                                    }
                                }
                            } @else if cols[i].key == "sealed_at" && e.sealed_at.is_some_and(|s| (s - e.claimed_at).num_minutes().abs() > 60) {
                                td.bad { (cell) }
                            } @else {
                                td { (cell) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The timeline of `history`: per plan, every version (with its content when
/// `contents` has it), the deviations, then every record with corrections linked.
pub fn timeline(
    lang: Lang,
    history: &History,
    contents: &BTreeMap<(String, u32), serde_json::Value>,
) -> Markup {
    let mut plans: Vec<String> = history
        .versions
        .iter()
        .map(|v| v.plan.to_string())
        .collect();
    for e in &history.events {
        plans.push(e.plan.to_string());
    }
    plans.dedup();
    let mut seen = std::collections::HashSet::new();
    plans.retain(|p| seen.insert(p.clone()));
    html! {
        @for plan in &plans {
            @let versions: Vec<&VersionRow> = history.versions.iter().filter(|v| v.plan.as_str() == plan).collect();
            @let events: Vec<&EventRow> = history.events.iter().filter(|e| e.plan.as_str() == plan).collect();
            @let deviations: Vec<&&EventRow> = events.iter().filter(|e| matches!(e.detail, Detail::Deviation { .. })).collect();
            section aria-labelledby=(format!("{plan}-h")) {
                h2 id=(format!("{plan}-h")) { (lang.pick("Plan ", "Plan ")) (plan) }
                @if versions.is_empty() { p { (lang.pick("Ingen version upprättad.", "No version drawn up.")) } }
                @for v in &versions { (version_section(lang, v, contents)) }
                h3 { (lang.pick("Avvikelser", "Deviations")) }
                @if deviations.is_empty() { p { (lang.pick("Inga avvikelser registrerade.", "No deviations recorded.")) } }
                @else {
                    ul { @for e in &deviations {
                        @if let Detail::Deviation { occurred_on, service, description } = &e.detail {
                            li {
                                a href=(format!("#{}", event_anchor(plan, e.stream_version))) { (occurred_on) }
                                @if let Some(s) = service { " (" (s) ")" }
                                ": " (description) " — " (actor(lang, &e.by))
                                @if !e.corrected_by.is_empty() { " " span.bad { (lang.pick("(rättad)", "(corrected)")) } }
                            }
                        }
                    } }
                }
                h3 { (lang.pick("Händelser", "Events")) }
                (events_table(lang, &events))
            }
        }
    }
}

/// A whole HTML document around `body`.
pub fn document(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (maud::DOCTYPE)
        html lang=(lang.pick("sv", "en")) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (maud::PreEscaped(CSS)) }
            }
            body { (body) }
        }
    }
}
