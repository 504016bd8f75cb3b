//! The pages: server-rendered HTML (maud) for people, under `/ui/`, usable without
//! JavaScript, in Swedish by default with an English switch.
//!
//! - `/ui/` the start page; `/ui/login`, `/ui/callback`, `/ui/logout` the OpenID
//!   Connect login ([`session`]).
//! - `/ui/overview` a unit's plans (filter, sort); `/ui/reports/{report}` a report, with
//!   its CSV at `/ui/reports/{report}/csv` (`?spreadsheet=1`: UTF-8 BOM and `;`).
//! - `/ui/plans/{plan}` a plan's timeline; `/ui/plans/{plan}/as-of?date=` the version in
//!   force on a day; `POST /ui/client` every plan of a client (the personnummer in the
//!   body, never in a URL).
//! - `/ui/verify` the verification status; `POST /ui/dossier` the complaint dossier.
//!
//! The same rules as the API decide who sees what (roles and units from the
//! configuration). Every page that shows a client's personal data (a timeline, a plan,
//! a dossier) needs a stated purpose and is logged in the API's read-access log before
//! it is sent; the overview and the reports show personnummer masked, as the API's
//! reports do, and are not logged.

pub mod session;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use planledger_app::html as frag;
use planledger_app::read::{self, Output, Report};
use planledger_audit::{Column, Format, Lang, Row, Scope, Subject};
use planledger_plan::{Personnummer, PlanId, Role, UnitId, swedish_date};
use planledger_projection::Plans;
use serde::Deserialize;

use crate::AppState;
use crate::access::AccessEntry;
use crate::api::{log_reads, may_read_unit, plan_for_read, reading_role, role_in};
use crate::auth::Principal;
use crate::config::Units;
use crate::error::ApiError;
use session::{LANG_COOKIE, LOGIN_COOKIE, SESSION_COOKIE, Session, cookie, encode, set_cookie};

type S = State<Arc<AppState>>;

/// What the pages keep beside the API's state: the sessions and the last verification.
#[derive(Default)]
pub struct PagesState {
    pub sessions: session::Sessions,
    last_verify: Mutex<Option<Verified>>,
}

#[derive(Clone)]
struct Verified {
    at: DateTime<Utc>,
    by: String,
    ok: bool,
    records: u64,
    access_records: u64,
    problem: Option<String>,
}

/// The pages' routes.
pub fn router(state: Arc<AppState>) -> axum::Router {
    axum::Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(home))
        .route("/ui/login", get(login))
        .route("/ui/callback", get(callback))
        .route("/ui/logout", post(logout))
        .route("/ui/lang", get(switch_lang))
        .route("/ui/purpose", post(set_purpose))
        .route("/ui/overview", get(overview))
        .route("/ui/reports/{report}", get(report_page))
        .route("/ui/reports/{report}/csv", get(report_csv))
        .route("/ui/plans/{plan}", get(timeline_page))
        .route("/ui/plans/{plan}/as-of", get(as_of_page))
        .route("/ui/client", post(client_page))
        .route("/ui/verify", get(verify_page).post(verify_now))
        .route("/ui/dossier", post(dossier))
        .with_state(state)
}

// ---- the frame ----

/// An error as a page (its message carries no personal data).
pub struct PageError {
    lang: Lang,
    error: ApiError,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let lang = self.lang;
        let title = match self.error.status {
            StatusCode::FORBIDDEN => lang.pick("Åtkomst nekad", "Access refused"),
            StatusCode::NOT_FOUND => lang.pick("Hittades inte", "Not found"),
            StatusCode::BAD_REQUEST => lang.pick("Felaktig begäran", "Bad request"),
            StatusCode::UNAUTHORIZED => lang.pick("Inte inloggad", "Not logged in"),
            _ => lang.pick("Något gick fel", "Something went wrong"),
        };
        let body = html! {
            main id="main" {
                h1 { (title) }
                p role="alert" { (self.error.body.message) }
                @if let Some(rule) = &self.error.body.rule { p { (lang.pick("Regel: ", "Rule: ")) code { (rule) } } }
                p { a href="/ui/" { (lang.pick("Till startsidan", "To the start page")) } }
            }
        };
        (
            self.error.status,
            Html(frag::document(lang, title, body).into_string()),
        )
            .into_response()
    }
}

type PageResult<T = Response> = Result<T, PageError>;

/// The caller of a page: the session and its principal, and the language.
struct Viewer {
    session_id: String,
    session: Session,
    principal: Principal,
    lang: Lang,
    secure: bool,
}

fn lang_of(headers: &HeaderMap, query: Option<&str>) -> Lang {
    query
        .map(str::to_owned)
        .or_else(|| cookie(headers, LANG_COOKIE))
        .and_then(|l| l.parse().ok())
        .unwrap_or_default()
}

fn secure(state: &AppState) -> bool {
    state.config.tls.is_some()
        || state
            .config
            .pages
            .as_ref()
            .is_some_and(|p| p.public_url.starts_with("https:"))
}

/// The viewer, or a redirect to the login (back to `here` afterwards).
fn viewer(state: &AppState, headers: &HeaderMap, here: &str) -> Result<Viewer, Box<Response>> {
    let lang = lang_of(headers, None);
    let found = cookie(headers, SESSION_COOKIE)
        .and_then(|id| state.pages.sessions.get(&id).map(|s| (id, s)));
    let Some((session_id, session)) = found else {
        return Err(Box::new(
            Redirect::to(&format!("/ui/login?back={}", encode(here))).into_response(),
        ));
    };
    let principal = session::principal(&state.config, &session.user)
        .map_err(|error| Box::new(PageError { lang, error }.into_response()))?;
    Ok(Viewer {
        session_id,
        session,
        principal,
        lang,
        secure: secure(state),
    })
}

macro_rules! viewer_or_login {
    ($state:expr, $headers:expr, $here:expr) => {
        match viewer(&$state, &$headers, &$here) {
            Ok(v) => v,
            Err(redirect) => return Ok(*redirect),
        }
    };
}

fn page(v: &Viewer, here: &str, title: &str, body: Markup) -> Response {
    let lang = v.lang;
    let other = lang.pick("en", "sv");
    let body = html! {
        a.skip href="#main" { (lang.pick("Hoppa till innehållet", "Skip to the content")) }
        header.site {
            strong { "planledger" }
            nav aria-label=(lang.pick("Huvudmeny", "Main menu")) {
                ul {
                    li { a href="/ui/overview" { (lang.pick("Översikt", "Overview")) } }
                    li { a href="/ui/" { (lang.pick("Rapporter och klient", "Reports and client")) } }
                    li { a href="/ui/verify" { (lang.pick("Verifiering", "Verification")) } }
                    li { a href=(format!("/ui/lang?to={other}&back={}", encode(here))) lang=(other) {
                        (lang.pick("English", "Svenska"))
                    } }
                }
            }
            span { (v.principal.id) " (" (frag::role_name(lang, v.principal.role.unwrap_or(Role::Staff))) ")" }
            form method="post" action="/ui/logout" {
                input type="hidden" name="csrf" value=(v.session.csrf);
                button type="submit" { (lang.pick("Logga ut", "Log out")) }
            }
        }
        main id="main" { (body) }
    };
    let mut r = Html(frag::document(lang, title, body).into_string()).into_response();
    no_store(&mut r);
    r
}

/// Pages with personal data are not kept in caches.
fn no_store(r: &mut Response) {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn err(lang: Lang) -> impl Fn(ApiError) -> PageError {
    move |error| PageError { lang, error }
}

async fn blocking<T: Send + 'static>(
    lang: Lang,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> PageResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal("the request's work failed"))
        .and_then(|r| r)
        .map_err(err(lang))
}

fn check_csrf(v: &Viewer, given: &str) -> PageResult<()> {
    if given.is_empty() || given != v.session.csrf {
        return Err(PageError {
            lang: v.lang,
            error: ApiError::forbidden(
                "csrf",
                "the form is not from this session; open the page again",
            ),
        });
    }
    Ok(())
}

/// A stated purpose: 1 to 200 characters, personnummer masked.
fn checked_purpose(lang: Lang, text: &str) -> PageResult<String> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 200 {
        return Err(PageError {
            lang,
            error: ApiError::bad_input(
                "state the purpose of this read of personal data (1 to 200 characters)",
            ),
        });
    }
    Ok(planledger_plan::json::mask_personnummer(t))
}

/// The form asking for the purpose of a session's reads of personal data.
fn purpose_form(v: &Viewer, here: &str) -> Response {
    let lang = v.lang;
    page(
        v,
        here,
        lang.pick("Ange syfte", "State the purpose"),
        html! {
            h1 { (lang.pick("Varför läser du personuppgifter?", "Why are you reading personal data?")) }
            p { (lang.pick(
                "Sidan visar personuppgifter. Varje läsning loggas med ditt syfte, och den enskilde har rätt att få veta vem som läst.",
                "This page shows personal data. Every read is logged with your purpose, and the person has a right to know who read it.")) }
            form.inline method="post" action="/ui/purpose" {
                input type="hidden" name="csrf" value=(v.session.csrf);
                input type="hidden" name="back" value=(here);
                div {
                    label for="purpose" { (lang.pick("Syfte", "Purpose")) }
                    input id="purpose" name="purpose" type="text" required maxlength="200" size="50"
                        autocomplete="off" placeholder=(lang.pick("t.ex. klagomål 2026-17", "e.g. complaint 2026-17"));
                }
                button type="submit" { (lang.pick("Fortsätt", "Continue")) }
            }
        },
    )
}

// ---- login ----

#[derive(Deserialize)]
struct LoginQuery {
    back: Option<String>,
}

/// Only a path of the pages is gone back to (never another site).
fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b) if b.starts_with("/ui/") && !b.starts_with("//") && !b.contains('\\') => {
            b.to_owned()
        }
        _ => "/ui/".to_owned(),
    }
}

async fn login(State(state): S, headers: HeaderMap, Query(q): Query<LoginQuery>) -> PageResult {
    let lang = lang_of(&headers, None);
    let back = safe_back(q.back.as_deref());
    let st = state.clone();
    let (url, login_state) = blocking(lang, move || {
        let (Some(issuer), Some(pages)) = (st.issuer.as_ref(), st.config.pages.as_ref()) else {
            return Err(ApiError::not_found(
                "the pages need [oidc] and [pages] in the service's configuration",
            ));
        };
        let doc = issuer
            .discovery()
            .map_err(|why| ApiError::unavailable("issuer_unreachable", &why))?;
        let endpoint = doc
            .get("authorization_endpoint")
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                ApiError::unavailable(
                    "issuer_unusable",
                    "the issuer's discovery document has no authorization_endpoint",
                )
            })?;
        Ok(st.pages.sessions.begin_login(pages, endpoint, &back))
    })
    .await?;
    let mut r = Redirect::to(&url).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&set_cookie(
            LOGIN_COOKIE,
            &login_state,
            secure(&state),
            Some(600),
        ))
        .expect("a cookie of URL-safe characters"),
    );
    Ok(r)
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): S,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> PageResult {
    let lang = lang_of(&headers, None);
    let bad = |m: &str| PageError {
        lang,
        error: ApiError::unauthenticated(m),
    };
    if q.error.is_some() {
        return Err(bad("the issuer refused the login"));
    }
    let (Some(code), Some(login_state)) = (q.code, q.state) else {
        return Err(bad("the issuer's answer lacks code or state"));
    };
    if cookie(&headers, LOGIN_COOKIE).as_deref() != Some(login_state.as_str()) {
        return Err(bad("the login was not begun in this browser; log in again"));
    }
    let st = state.clone();
    let (id, back) = blocking(lang, move || {
        let (Some(issuer), Some(pages)) = (st.issuer.as_ref(), st.config.pages.as_ref()) else {
            return Err(ApiError::not_found("the pages are not configured"));
        };
        st.pages
            .sessions
            .complete_login(&st.config, issuer, pages, &login_state, &code)
    })
    .await?;
    let secure = secure(&state);
    let mut r = Redirect::to(&back).into_response();
    for c in [
        set_cookie(SESSION_COOKIE, &id, secure, None),
        set_cookie(LOGIN_COOKIE, "", secure, Some(0)),
    ] {
        r.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_str(&c).expect("a cookie of URL-safe characters"),
        );
    }
    Ok(r)
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(State(state): S, headers: HeaderMap, Form(f): Form<CsrfForm>) -> PageResult {
    let v = viewer_or_login!(state, headers, "/ui/");
    check_csrf(&v, &f.csrf)?;
    state.pages.sessions.end(&v.session_id);
    let mut r = Redirect::to("/ui/").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", v.secure, Some(0)))
            .expect("a cookie"),
    );
    Ok(r)
}

#[derive(Deserialize)]
struct LangQuery {
    to: String,
    back: Option<String>,
}

async fn switch_lang(State(state): S, Query(q): Query<LangQuery>) -> Response {
    let lang: Lang = q.to.parse().unwrap_or_default();
    let mut r = Redirect::to(&safe_back(q.back.as_deref())).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&set_cookie(
            LANG_COOKIE,
            lang.pick("sv", "en"),
            secure(&state),
            Some(365 * 24 * 3600),
        ))
        .expect("a cookie"),
    );
    r
}

#[derive(Deserialize)]
struct PurposeForm {
    #[serde(default)]
    csrf: String,
    purpose: String,
    back: Option<String>,
}

async fn set_purpose(
    State(state): S,
    headers: HeaderMap,
    Form(f): Form<PurposeForm>,
) -> PageResult {
    let v = viewer_or_login!(state, headers, "/ui/");
    check_csrf(&v, &f.csrf)?;
    let purpose = checked_purpose(v.lang, &f.purpose)?;
    state.pages.sessions.set_purpose(&v.session_id, purpose);
    Ok(Redirect::to(&safe_back(f.back.as_deref())).into_response())
}

// ---- the start page ----

async fn home(State(state): S, headers: HeaderMap) -> PageResult {
    let v = viewer_or_login!(state, headers, "/ui/");
    let lang = v.lang;
    let reports = [
        (
            Report::Overdue,
            "Försenade (ej uppfyllda) frister",
            "Overdue deadlines",
        ),
        (
            Report::Late,
            "Frister uppfyllda för sent",
            "Deadlines met late",
        ),
        (
            Report::Unsigned,
            "Ej undertecknade planer",
            "Unsigned plans",
        ),
        (Report::Unapproved, "Ej godkända planer", "Unapproved plans"),
        (Report::Fee, "Nykundsavgift", "New-client fee"),
        (
            Report::Backdated,
            "Efterregistrerade poster",
            "Backdated entries",
        ),
        (
            Report::Incomplete,
            "Ofullständiga planer",
            "Incomplete plans",
        ),
    ];
    let dossier_roles = matches!(v.principal.role, Some(Role::Admin | Role::Inspector));
    Ok(page(
        &v,
        "/ui/",
        "planledger",
        html! {
            h1 { (lang.pick("Genomförandeplaner", "Implementation plans")) }
            h2 { (lang.pick("Rapporter", "Reports")) }
            ul { @for (r, sv, en) in reports {
                li { a href=(format!("/ui/reports/{}", r.name())) { (lang.pick(sv, en)) } }
            } }
            h2 { (lang.pick("En klients planer", "A client's plans")) }
            p { (lang.pick("Personnumret skickas i formuläret, aldrig i adressen. Läsningen loggas med ditt syfte.",
                           "The personnummer goes in the form, never in the address. The read is logged with your purpose.")) }
            form.inline method="post" action="/ui/client" {
                input type="hidden" name="csrf" value=(v.session.csrf);
                div { label for="client" { (lang.pick("Personnummer", "Personnummer")) }
                      input id="client" name="client" type="text" required inputmode="numeric" autocomplete="off" placeholder="ÅÅÅÅMMDD-NNNN"; }
                div { label for="purpose-c" { (lang.pick("Syfte", "Purpose")) }
                      input id="purpose-c" name="purpose" type="text" required maxlength="200" value=(v.session.purpose.clone().unwrap_or_default()); }
                button type="submit" { (lang.pick("Visa tidslinje", "Show the timeline")) }
            }
            @if dossier_roles {
                h2 { (lang.pick("Klagomålsakt", "Complaint dossier")) }
                (dossier_form(&v, None))
            }
        },
    ))
}

/// The dossier form; on a plan's page it names the plan (the client is the plan's), so
/// the page holds no personnummer.
fn dossier_form(v: &Viewer, plan: Option<&str>) -> Markup {
    let lang = v.lang;
    html! {
        form.inline method="post" action="/ui/dossier" {
            input type="hidden" name="csrf" value=(v.session.csrf);
            @if let Some(p) = plan {
                input type="hidden" name="plan" value=(p);
            } @else {
                div { label for="client-d" { (lang.pick("Personnummer", "Personnummer")) }
                      input id="client-d" name="client" type="text" required inputmode="numeric" autocomplete="off"; }
            }
            div { label for="purpose-d" { (lang.pick("Syfte", "Purpose")) }
                  input id="purpose-d" name="purpose" type="text" required maxlength="200" value=(v.session.purpose.clone().unwrap_or_default()); }
            div { label for="lang-d" { (lang.pick("Språk", "Language")) }
                  select id="lang-d" name="lang" {
                      option value="sv" selected[lang == Lang::Sv] { "svenska" }
                      option value="en" selected[lang == Lang::En] { "English" }
                  } }
            div { label for="format-d" { (lang.pick("Format", "Format")) }
                  select id="format-d" name="format" {
                      option value="html" selected { "HTML" }
                      option value="pdf" { "PDF" }
                  } }
            button type="submit" id="dossier-button" { (lang.pick("Skapa klagomålsakt", "Make the complaint dossier")) }
        }
    }
}

// ---- overview and reports ----

#[derive(Deserialize, Default)]
struct ReportQuery {
    unit: Option<String>,
    as_of: Option<NaiveDate>,
    /// Only rows with this text in some cell.
    q: Option<String>,
    /// Only rows with this status (overview).
    status: Option<String>,
    /// The column key to sort by, and `desc` for descending.
    sort: Option<String>,
    dir: Option<String>,
    #[serde(default)]
    spreadsheet: bool,
}

/// The unit a report page shows: given, or required unless the caller reads every unit.
fn report_scope(state: &AppState, p: &Principal, q: &ReportQuery) -> Result<Scope, ApiError> {
    let unit = q
        .unit
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|u| UnitId::new(u).map_err(|_| ApiError::bad_input("unit is not a unit id")))
        .transpose()?;
    match &unit {
        Some(u) => may_read_unit(p, u)?,
        None => {
            if reading_role(p)? != Role::Inspector && p.units != Units::All {
                return Err(ApiError::forbidden(
                    "unit_required",
                    "choose a unit: you may read only your own units",
                ));
            }
        }
    }
    let mut scope = Scope::new(q.as_of.unwrap_or_else(|| swedish_date((state.clock)())));
    scope.unit = unit;
    Ok(scope)
}

fn cells_of<R: Row>(rows: &[R], lang: Lang) -> (&'static [Column], Vec<Vec<String>>) {
    (R::columns(), rows.iter().map(|r| r.cells(lang)).collect())
}

type Table = (&'static [Column], Vec<Vec<String>>);

fn report_table(
    state: &AppState,
    which: Report,
    scope: &Scope,
    lang: Lang,
) -> Result<Table, ApiError> {
    use planledger_audit as a;
    let plans = read::plans(state.store.as_ref())?;
    if let Some(unit) = &scope.unit {
        if !plans.has_unit(unit).map_err(planledger_app::Error::from)? {
            return Ok((a::OverviewRow::columns(), Vec::new()));
        }
    }
    let p = &plans;
    let policy = &state.policy;
    let e = |e: a::AuditError| ApiError::from(planledger_app::Error::from(e));
    Ok(match which {
        Report::Overdue => cells_of(&a::overdue(p, policy, scope).map_err(e)?, lang),
        Report::Late => cells_of(&a::late(p, policy, scope).map_err(e)?, lang),
        Report::Unsigned => cells_of(&a::unsigned(p, scope).map_err(e)?, lang),
        Report::Unapproved => cells_of(&a::unapproved(p, policy, scope).map_err(e)?, lang),
        Report::Incomplete => cells_of(&a::incomplete(p, scope).map_err(e)?, lang),
        Report::Fee => cells_of(&a::new_client_fee(p, policy, scope).map_err(e)?, lang),
        Report::Overview => cells_of(&a::overview(p, policy, scope).map_err(e)?, lang),
        Report::InForce => cells_of(&a::in_force(p, scope, None).map_err(e)?, lang),
        Report::Backdated => cells_of(&a::backdated(p, policy, scope).map_err(e)?, lang),
    })
}

/// Compares two cells: as numbers when both are, else as text (ISO dates sort so).
fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.cmp(b),
    }
}

fn report_title(which: Report, lang: Lang) -> &'static str {
    match which {
        Report::Overdue => lang.pick("Försenade frister", "Overdue deadlines"),
        Report::Late => lang.pick("Frister uppfyllda för sent", "Deadlines met late"),
        Report::Unsigned => lang.pick("Ej undertecknade planer", "Unsigned plans"),
        Report::Unapproved => lang.pick("Ej godkända planer", "Unapproved plans"),
        Report::Incomplete => lang.pick("Ofullständiga planer", "Incomplete plans"),
        Report::Fee => lang.pick("Nykundsavgift", "New-client fee"),
        Report::Overview => lang.pick("Översikt", "Overview"),
        Report::InForce => lang.pick("Gällande versioner", "Versions in force"),
        Report::Backdated => lang.pick("Efterregistrerade poster", "Backdated entries"),
    }
}

async fn overview(State(state): S, headers: HeaderMap, Query(q): Query<ReportQuery>) -> PageResult {
    show_report(state, headers, Report::Overview, q).await
}

async fn report_page(
    State(state): S,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let lang = lang_of(&headers, None);
    let which: Report = name.parse().map_err(|_| PageError {
        lang,
        error: ApiError::not_found("no such report"),
    })?;
    show_report(state, headers, which, q).await
}

fn query_string(q: &ReportQuery, sort: Option<(&str, &str)>) -> String {
    let mut parts = Vec::new();
    if let Some(u) = q.unit.as_deref().filter(|u| !u.is_empty()) {
        parts.push(format!("unit={}", encode(u)));
    }
    if let Some(d) = q.as_of {
        parts.push(format!("as_of={d}"));
    }
    if let Some(t) = q.q.as_deref().filter(|t| !t.is_empty()) {
        parts.push(format!("q={}", encode(t)));
    }
    if let Some(s) = q.status.as_deref().filter(|t| !t.is_empty()) {
        parts.push(format!("status={}", encode(s)));
    }
    if let Some((key, dir)) = sort {
        parts.push(format!("sort={key}&dir={dir}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

async fn show_report(
    state: Arc<AppState>,
    headers: HeaderMap,
    which: Report,
    q: ReportQuery,
) -> PageResult {
    let path = if which == Report::Overview {
        "/ui/overview".to_owned()
    } else {
        format!("/ui/reports/{}", which.name())
    };
    let here = format!(
        "{path}{}",
        query_string(
            &q,
            q.sort
                .as_deref()
                .map(|s| (s, q.dir.as_deref().unwrap_or("asc")))
        )
    );
    let v = viewer_or_login!(state, headers, here);
    let lang = v.lang;
    let p = v.principal.clone();
    let st = state.clone();
    let units_choice: Vec<String> = match &v.principal.units {
        Units::Some(us) => us.iter().map(|u| u.to_string()).collect(),
        Units::All => Vec::new(),
    };
    let chosen_unit = q.unit.clone().filter(|u| !u.is_empty());
    let (scope, (columns, mut rows)) = {
        let scope = report_scope(&state, &p, &q).map_err(err(lang));
        match scope {
            Ok(scope) => {
                let sc = scope.clone();
                (
                    scope,
                    blocking(lang, move || report_table(&st, which, &sc, lang)).await?,
                )
            }
            Err(e)
                if e.error.body.rule.as_deref() == Some("unit_required")
                    && !units_choice.is_empty() =>
            {
                // Start with the caller's first unit.
                let first = units_choice[0].clone();
                return Ok(Redirect::to(&format!("{path}?unit={}", encode(&first))).into_response());
            }
            Err(e) => return Err(e),
        }
    };
    // Filter and sort.
    let statuses: Vec<String> = {
        let i = columns.iter().position(|c| c.key == "status");
        let mut s: Vec<String> = i
            .map(|i| rows.iter().map(|r| r[i].clone()).collect())
            .unwrap_or_default();
        s.sort();
        s.dedup();
        s
    };
    if let Some(t) = q.q.as_deref().filter(|t| !t.is_empty()) {
        let t = t.to_lowercase();
        rows.retain(|r| r.iter().any(|c| c.to_lowercase().contains(&t)));
    }
    if let (Some(s), Some(i)) = (
        q.status.as_deref().filter(|s| !s.is_empty()),
        columns.iter().position(|c| c.key == "status"),
    ) {
        rows.retain(|r| r[i] == s);
    }
    let sort_key = q.sort.clone();
    let desc = q.dir.as_deref() == Some("desc");
    if let Some(i) = sort_key
        .as_deref()
        .and_then(|k| columns.iter().position(|c| c.key == k))
    {
        rows.sort_by(|a, b| {
            let o = compare(&a[i], &b[i]);
            if desc { o.reverse() } else { o }
        });
    }
    let plan_col = columns.iter().position(|c| c.key == "plan");
    let csv_link = format!("{path}/csv{}", query_string(&q, None))
        .replace("/ui/overview/csv", "/ui/reports/overview/csv");
    let sep = if csv_link.contains('?') { '&' } else { '?' };
    let title = report_title(which, lang);
    let body = html! {
        h1 { (title) }
        p.muted { (which.describe()) }
        form.inline method="get" action=(path) role="search" {
            @if units_choice.len() > 1 || (units_choice.is_empty()) {
                div { label for="unit" { (lang.pick("Enhet", "Unit")) }
                      @if units_choice.is_empty() {
                          input id="unit" name="unit" type="text" value=(chosen_unit.clone().unwrap_or_default()) placeholder=(lang.pick("alla", "all"));
                      } @else {
                          select id="unit" name="unit" { @for u in &units_choice {
                              option value=(u) selected[Some(u) == chosen_unit.as_ref()] { (u) }
                          } }
                      } }
            } @else {
                input type="hidden" name="unit" value=(units_choice[0]);
            }
            div { label for="as_of" { (lang.pick("Per dag", "As of")) }
                  input id="as_of" name="as_of" type="date" value=(scope.as_of); }
            div { label for="q" { (lang.pick("Filtrera", "Filter")) }
                  input id="q" name="q" type="search" value=(q.q.clone().unwrap_or_default()); }
            @if !statuses.is_empty() {
                div { label for="status" { (lang.pick("Status", "Status")) }
                      select id="status" name="status" {
                          option value="" { (lang.pick("alla", "all")) }
                          @for s in &statuses { option value=(s) selected[q.status.as_deref() == Some(s.as_str())] { (s) } }
                      } }
            }
            button type="submit" { (lang.pick("Visa", "Show")) }
        }
        p {
            a href=(csv_link) download { (lang.pick("Ladda ner CSV", "Download CSV")) }
            " · "
            a href=(format!("{csv_link}{sep}spreadsheet=true")) download { (lang.pick("CSV för kalkylprogram (semikolon, BOM)", "CSV for spreadsheets (semicolon, BOM)")) }
        }
        table {
            caption { (title) " — " (rows.len()) " " (lang.pick("rader", "rows")) ", " (lang.pick("per ", "as of ")) (scope.as_of) }
            thead { tr { @for c in columns {
                @let active = sort_key.as_deref() == Some(c.key);
                @let next = if active && !desc { "desc" } else { "asc" };
                th scope="col" aria-sort=(if active { if desc { "descending" } else { "ascending" } } else { "none" }) {
                    a href=(format!("{path}{}", query_string(&q, Some((c.key, next))))) {
                        (c.heading(lang))
                        @if active { (if desc { " ▼" } else { " ▲" }) }
                    }
                }
            } } }
            tbody {
                @for r in &rows { tr { @for (i, cell) in r.iter().enumerate() {
                    @if Some(i) == plan_col {
                        td { a href=(format!("/ui/plans/{}", encode(cell))) { (cell) } }
                    } @else {
                        td { (cell) }
                    }
                } } }
                @if rows.is_empty() { tr { td colspan=(columns.len()) { (lang.pick("Inga rader.", "No rows.")) } } }
            }
        }
    };
    Ok(page(&v, &here, title, body))
}

/// Turns CSV into what a spreadsheet opens right: a UTF-8 byte order mark and `;`
/// between fields.
pub fn spreadsheet_csv(csv_bytes: &[u8], lang: Lang) -> Result<Vec<u8>, ApiError> {
    planledger_audit::spreadsheet_csv(csv_bytes, lang)
        .map_err(|_| ApiError::internal("a report could not be written as CSV"))
}

async fn report_csv(
    State(state): S,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let here = format!("/ui/reports/{name}");
    let v = viewer_or_login!(state, headers, here);
    let lang = v.lang;
    let which: Report = name.parse().map_err(|_| PageError {
        lang,
        error: ApiError::not_found("no such report"),
    })?;
    let scope = report_scope(&state, &v.principal, &q).map_err(err(lang))?;
    let st = state.clone();
    let spreadsheet = q.spreadsheet;
    let bytes = blocking(lang, move || {
        let plans = read::plans(st.store.as_ref())?;
        let mut out = Vec::new();
        read::write_report(
            &plans,
            which,
            &st.policy,
            &scope,
            None,
            Output {
                format: Format::Csv,
                lang,
            },
            &mut out,
        )?;
        if spreadsheet {
            out = spreadsheet_csv(&out, lang)?;
        }
        Ok(out)
    })
    .await?;
    let file = format!("{}.csv", which.name());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---- a plan's timeline, a plan as of a day, a client ----

#[derive(Deserialize)]
struct TimelineQuery {
    as_of: Option<NaiveDate>,
}

/// The contents of every version of `plans` (personnummer masked).
fn contents_of(
    state: &AppState,
    plans: &[PlanId],
) -> Result<BTreeMap<(String, u32), serde_json::Value>, ApiError> {
    let mut out = BTreeMap::new();
    for id in plans {
        let s = planledger_app::load_plan(state.store.as_ref(), id)?;
        for v in s.versions() {
            if let Some(c) = s.content(v.number) {
                let mut value = serde_json::to_value(c).expect("plan content serialises");
                if let Some(p) = value.pointer_mut("/client/personnummer") {
                    *p = c.client.personnummer.to_string().into();
                }
                out.insert((id.to_string(), v.number), value);
            }
        }
    }
    Ok(out)
}

async fn timeline_page(
    State(state): S,
    headers: HeaderMap,
    Path(plan): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> PageResult {
    let here = format!(
        "/ui/plans/{}{}",
        encode(&plan),
        q.as_of.map(|d| format!("?as_of={d}")).unwrap_or_default()
    );
    let v = viewer_or_login!(state, headers, here);
    let lang = v.lang;
    let Some(purpose) = v.session.purpose.clone() else {
        return Ok(purpose_form(&v, &here));
    };
    let plan = PlanId::new(plan.as_str()).map_err(|_| PageError {
        lang,
        error: ApiError::bad_input("the plan id is not a plan id"),
    })?;
    let as_of = q.as_of.unwrap_or_else(|| swedish_date((state.clock)()));
    let st = state.clone();
    let p = v.principal.clone();
    let id = plan.clone();
    let (unit, client, history, contents) = blocking(lang, move || {
        let (unit, client) = plan_for_read(&st, &p, &id)?;
        let plans = read::plans(st.store.as_ref())?;
        let history =
            planledger_audit::history(&plans, &Scope::new(as_of), &Subject::Plan(id.clone()))
                .map_err(|e| ApiError::from(planledger_app::Error::from(e)))?;
        let contents = contents_of(&st, std::slice::from_ref(&id))?;
        Ok((unit, client, history, contents))
    })
    .await?;
    log_reads(
        &state,
        &v.principal,
        vec![AccessEntry {
            client,
            unit: Some(unit.to_string()),
            plan: Some(plan.to_string()),
            query: format!("GET /ui/plans/{plan}?as_of={as_of}"),
            purpose,
        }],
    )
    .await
    .map_err(err(lang))?;
    let title = format!("{} {plan}", lang.pick("Tidslinje", "Timeline"));
    let dossier_roles = matches!(v.principal.role, Some(Role::Admin | Role::Inspector));
    let body = html! {
        h1 { (title) }
        dl.facts {
            dt { (lang.pick("Klient", "Client")) } dd { (client) }
            dt { (lang.pick("Enhet", "Unit")) } dd { (unit) }
            dt { (lang.pick("Per dag", "As of")) } dd { (as_of) }
        }
        form.inline method="get" action=(format!("/ui/plans/{plan}/as-of")) {
            div { label for="date" { (lang.pick("Planen som den gällde dagen", "The plan as in force on")) }
                  input id="date" name="date" type="date" required value=(as_of); }
            button type="submit" { (lang.pick("Visa", "Show")) }
        }
        (frag::timeline(lang, &history, &contents))
        @if dossier_roles {
            h2 { (lang.pick("Klagomålsakt för klienten", "The client's complaint dossier")) }
            (dossier_form(&v, Some(plan.as_str())))
        }
    };
    Ok(page(&v, &here, &title, body))
}

#[derive(Deserialize)]
struct AsOfQuery {
    date: NaiveDate,
}

async fn as_of_page(
    State(state): S,
    headers: HeaderMap,
    Path(plan): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> PageResult {
    let here = format!("/ui/plans/{}/as-of?date={}", encode(&plan), q.date);
    let v = viewer_or_login!(state, headers, here);
    let lang = v.lang;
    let Some(purpose) = v.session.purpose.clone() else {
        return Ok(purpose_form(&v, &here));
    };
    let plan = PlanId::new(plan.as_str()).map_err(|_| PageError {
        lang,
        error: ApiError::bad_input("the plan id is not a plan id"),
    })?;
    let st = state.clone();
    let p = v.principal.clone();
    let id = plan.clone();
    let day = q.date;
    let (unit, client, shown) = blocking(lang, move || {
        let (unit, client) = plan_for_read(&st, &p, &id)?;
        let mut bytes = Vec::new();
        read::show(
            st.store.as_ref(),
            &id,
            read::Which::InForceOn(day),
            false,
            Output {
                format: Format::Json,
                lang,
            },
            &mut bytes,
        )?;
        let shown: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|_| ApiError::internal("a plan is not JSON"))?;
        Ok((unit, client, shown))
    })
    .await?;
    log_reads(
        &state,
        &v.principal,
        vec![AccessEntry {
            client,
            unit: Some(unit.to_string()),
            plan: Some(plan.to_string()),
            query: format!("GET /ui/plans/{plan}/as-of?date={day}"),
            purpose,
        }],
    )
    .await
    .map_err(err(lang))?;
    let title = format!(
        "{} {plan}, {day}",
        lang.pick("Planen som den gällde", "The plan in force")
    );
    let get = |k: &str| {
        shown
            .get(k)
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "–".into(),
                o => o.to_string(),
            })
            .unwrap_or_default()
    };
    let body = html! {
        h1 { (title) }
        dl.facts {
            dt { (lang.pick("Version", "Version")) } dd { (get("version")) " " (lang.pick("av", "of")) " " (get("versions")) }
            dt { (lang.pick("Upprättad", "Drawn up")) } dd { (get("recorded_on")) ", " (get("by")) }
            dt { (lang.pick("Undertecknad av", "Signed by")) } dd { (get("signatures")) }
            dt { (lang.pick("Skickad", "Sent")) } dd { (get("submitted_on")) }
            dt { (lang.pick("Godkänd", "Approved")) } dd { (get("approved_on")) }
            dt { (lang.pick("Ersatt", "Replaced")) } dd { (get("replaced_on")) }
        }
        h2 { (lang.pick("Innehåll", "Content")) }
        (frag::content(shown.get("content").unwrap_or(&serde_json::Value::Null)))
        p { a href=(format!("/ui/plans/{plan}")) { (lang.pick("Hela tidslinjen", "The whole timeline")) } }
    };
    Ok(page(&v, &here, &title, body))
}

#[derive(Deserialize)]
struct ClientForm {
    #[serde(default)]
    csrf: String,
    client: String,
    purpose: String,
}

fn parse_client(lang: Lang, text: &str) -> PageResult<Personnummer> {
    Personnummer::parse(text.trim()).map_err(|_| PageError {
        lang,
        error: ApiError::bad_input("the personnummer is not valid (YYYYMMDD-NNNN)"),
    })
}

async fn client_page(State(state): S, headers: HeaderMap, Form(f): Form<ClientForm>) -> PageResult {
    let v = viewer_or_login!(state, headers, "/ui/");
    let lang = v.lang;
    check_csrf(&v, &f.csrf)?;
    let purpose = checked_purpose(lang, &f.purpose)?;
    state
        .pages
        .sessions
        .set_purpose(&v.session_id, purpose.clone());
    let client = parse_client(lang, &f.client)?;
    let as_of = swedish_date((state.clock)());
    let st = state.clone();
    let p = v.principal.clone();
    let (history, contents, units) = blocking(lang, move || {
        let plans = read::plans(st.store.as_ref())?;
        let history =
            planledger_audit::history(&plans, &Scope::new(as_of), &Subject::Client(client))
                .map_err(|e| ApiError::from(planledger_app::Error::from(e)))?;
        let mut ids: Vec<PlanId> = history.versions.iter().map(|v| v.plan.clone()).collect();
        ids.extend(history.events.iter().map(|e| e.plan.clone()));
        ids.sort();
        ids.dedup();
        // Every plan of the client must be in the caller's units.
        let mut units = Vec::new();
        for id in &ids {
            let (unit, _) = plan_for_read(&st, &p, id)?;
            units.push((id.clone(), unit));
        }
        let contents = contents_of(&st, &ids)?;
        Ok((history, contents, units))
    })
    .await?;
    log_reads(
        &state,
        &v.principal,
        units
            .iter()
            .map(|(plan, unit)| AccessEntry {
                client,
                unit: Some(unit.to_string()),
                plan: Some(plan.to_string()),
                query: format!("POST /ui/client as_of={as_of}"),
                purpose: purpose.clone(),
            })
            .collect(),
    )
    .await
    .map_err(err(lang))?;
    let title = format!(
        "{} {client}",
        lang.pick("Klientens planer", "The client's plans")
    );
    let dossier_roles = matches!(v.principal.role, Some(Role::Admin | Role::Inspector));
    let body = html! {
        h1 { (title) }
        (frag::timeline(lang, &history, &contents))
        @if dossier_roles {
            h2 { (lang.pick("Klagomålsakt", "Complaint dossier")) }
            (dossier_form(&v, units.first().map(|(p, _)| p.as_str())))
        }
    };
    let mut r = page(&v, "/ui/", &title, body);
    no_store(&mut r);
    Ok(r)
}

// ---- verification ----

async fn verify_page(State(state): S, headers: HeaderMap) -> PageResult {
    let v = viewer_or_login!(state, headers, "/ui/verify");
    let lang = v.lang;
    role_in(
        &v.principal,
        &[Role::Admin, Role::Inspector],
        "verification",
    )
    .map_err(err(lang))?;
    let last = state
        .pages
        .last_verify
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let st = state.clone();
    let latest = blocking(lang, move || {
        let Some(c) = st.config.checkpoint.as_ref() else {
            return Ok(None);
        };
        let signer = planledger_app::keys::load_signer(&c.key, &st.limits)?;
        let all = planledger_app::witness::checkpoints(&c.witness, &signer.verifier(), &st.limits)?;
        Ok(all.into_iter().last())
    })
    .await?;
    let title = lang.pick("Verifiering", "Verification");
    let body = html! {
        h1 { (title) }
        h2 { (lang.pick("Senaste verifiering", "Last verification")) }
        @match &last {
            None => p { (lang.pick("Ingen verifiering sedan tjänsten startade.", "No verification since the service started.")) },
            Some(l) => dl.facts {
                dt { (lang.pick("När", "When")) } dd { (frag::local(l.at)) ", " (l.by) }
                dt { (lang.pick("Utfall", "Outcome")) } dd {
                    @if l.ok { span.good { (lang.pick("intakt", "intact")) } } @else { span.bad { (lang.pick("FEL", "FAILED")) } }
                    @if let Some(p) = &l.problem { ": " (p) }
                }
                dt { (lang.pick("Poster i liggaren", "Records in the ledger")) } dd { (l.records) }
                dt { (lang.pick("Poster i åtkomstloggen", "Records in the access log")) } dd { (l.access_records) }
            },
        }
        form method="post" action="/ui/verify" {
            input type="hidden" name="csrf" value=(v.session.csrf);
            button type="submit" { (lang.pick("Verifiera nu", "Verify now")) }
        }
        h2 { (lang.pick("Senaste kontrollpunkt", "Latest checkpoint")) }
        @match &latest {
            None => p { (lang.pick("Ingen kontrollpunkt (tjänsten har ingen [checkpoint] eller katalogen är tom).", "No checkpoint (the service has no [checkpoint], or the directory is empty).")) },
            Some(w) => {
                @let sigs: Vec<&str> = w.note.lines().skip_while(|l| !l.is_empty()).filter(|l| l.starts_with('—')).collect();
                dl.facts {
                    dt { (lang.pick("Liggare (origin)", "Ledger (origin)")) } dd { code { (w.checkpoint.origin) } }
                    dt { (lang.pick("Antal poster", "Records")) } dd { (w.checkpoint.size) }
                    dt { (lang.pick("Rothash", "Root hash")) } dd { code { (w.checkpoint.root.to_hex()) } }
                    dt { (lang.pick("Tid", "Time")) } dd { (DateTime::from_timestamp_micros(w.checkpoint.time_micros).map(frag::local).unwrap_or_default()) }
                    dt { (lang.pick("Vittnen", "Witnesses")) } dd {
                        @if sigs.len() <= 1 { (lang.pick("inga kontrasignaturer", "no cosignatures")) }
                        @else { ul { @for s in sigs.iter().skip(1) { li { code { (s.split_whitespace().nth(1).unwrap_or("")) } } } } }
                    }
                }
                pre { (w.note) }
            }
        }
    };
    Ok(page(&v, "/ui/verify", title, body))
}

async fn verify_now(State(state): S, headers: HeaderMap, Form(f): Form<CsrfForm>) -> PageResult {
    let v = viewer_or_login!(state, headers, "/ui/verify");
    let lang = v.lang;
    check_csrf(&v, &f.csrf)?;
    role_in(
        &v.principal,
        &[Role::Admin, Role::Inspector],
        "verification",
    )
    .map_err(err(lang))?;
    let st = state.clone();
    let by = v.principal.id.to_string();
    let verified = blocking(lang, move || {
        let one = |s: &dyn planledger_store::Store| {
            planledger_store::verify_store(s, &[], &mut |_, _| {})
                .map_err(|e| ApiError::from(planledger_app::Error::from(e)))
        };
        let a = one(st.store.as_ref())?;
        let b = one(st.access.store().as_ref())?;
        let problem = a
            .violation
            .as_ref()
            .map(|x| format!("ledger at position {}: {}", x.position, x.kind))
            .or_else(|| {
                b.violation
                    .as_ref()
                    .map(|x| format!("access log at position {}: {}", x.position, x.kind))
            });
        Ok(Verified {
            at: (st.clock)(),
            by,
            ok: problem.is_none(),
            records: a.records,
            access_records: b.records,
            problem,
        })
    })
    .await?;
    state.metrics.verified(verified.at.timestamp(), verified.ok);
    *state
        .pages
        .last_verify
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(verified);
    Ok(Redirect::to("/ui/verify").into_response())
}

// ---- the dossier ----

#[derive(Deserialize)]
struct DossierForm {
    #[serde(default)]
    csrf: String,
    /// The client's personnummer, or
    client: Option<String>,
    /// a plan of theirs.
    plan: Option<String>,
    purpose: String,
    lang: Option<String>,
    format: Option<String>,
}

async fn dossier(State(state): S, headers: HeaderMap, Form(f): Form<DossierForm>) -> PageResult {
    let v = viewer_or_login!(state, headers, "/ui/");
    let lang = v.lang;
    check_csrf(&v, &f.csrf)?;
    role_in(
        &v.principal,
        &[Role::Admin, Role::Inspector],
        "a complaint dossier",
    )
    .map_err(err(lang))?;
    let purpose = checked_purpose(lang, &f.purpose)?;
    state
        .pages
        .sessions
        .set_purpose(&v.session_id, purpose.clone());
    let plan = f.plan.as_deref().filter(|p| !p.is_empty()).map(|p| {
        PlanId::new(p).map_err(|_| PageError {
            lang,
            error: ApiError::bad_input("the plan id is not a plan id"),
        })
    });
    let client = match (plan, f.client.as_deref()) {
        (Some(plan), _) => {
            let plan = plan?;
            let st = state.clone();
            let p = v.principal.clone();
            blocking(lang, move || Ok(plan_for_read(&st, &p, &plan)?.1)).await?
        }
        (None, Some(c)) => parse_client(lang, c)?,
        (None, None) => {
            return Err(PageError {
                lang,
                error: ApiError::bad_input("give the client's personnummer"),
            });
        }
    };
    let doc_lang: Lang = f
        .lang
        .as_deref()
        .unwrap_or("sv")
        .parse()
        .unwrap_or_default();
    let pdf = f.format.as_deref() == Some("pdf");
    let st = state.clone();
    let p = v.principal.clone();
    let made_by = format!(
        "{} ({})",
        v.principal.id,
        lang.pick("via planledger serve", "via planledger serve")
    );
    let (bytes, units) = blocking(lang, move || {
        let c = st.config.checkpoint.as_ref().ok_or_else(|| {
            ApiError::not_found("this service has no [checkpoint] configured: a dossier needs one")
        })?;
        let signer = planledger_app::keys::load_signer(&c.key, &st.limits)?;
        let map_key = c
            .map_key
            .as_deref()
            .map(|k| planledger_app::map::load_key(k, &st.limits))
            .transpose()?;
        let verifier = signer.verifier();
        let latest =
            planledger_app::witness::latest(st.store.as_ref(), &c.witness, &verifier, &st.limits)?;
        let ids = st
            .store
            .streams_tagged(planledger_projection::TAG_CLIENT, &client.digits())
            .map_err(|e| ApiError::from(planledger_app::Error::from(e)))?;
        let mut units = Vec::new();
        for id in ids {
            if let Ok(id) = PlanId::new(id) {
                let (unit, _) = plan_for_read(&st, &p, &id)?;
                units.push((id, unit));
            }
        }
        let d = planledger_app::dossier::build(&planledger_app::dossier::DossierInput {
            store: st.store.as_ref(),
            client: &client,
            policy: &st.policy,
            lang: doc_lang,
            checkpoint: &latest,
            verifier: &verifier,
            map_key: map_key.as_ref(),
            now: (st.clock)(),
            made_by: &made_by,
        })?;
        let bytes = if pdf {
            planledger_app::dossier::print_pdf(&d.html)?
        } else {
            d.html.into_bytes()
        };
        Ok((bytes, units))
    })
    .await?;
    let entries = if units.is_empty() {
        vec![AccessEntry {
            client,
            unit: None,
            plan: None,
            query: "POST /ui/dossier".into(),
            purpose,
        }]
    } else {
        units
            .iter()
            .map(|(plan, unit)| AccessEntry {
                client,
                unit: Some(unit.to_string()),
                plan: Some(plan.to_string()),
                query: "POST /ui/dossier".into(),
                purpose: purpose.clone(),
            })
            .collect()
    };
    log_reads(&state, &v.principal, entries)
        .await
        .map_err(err(lang))?;
    let (ctype, ext) = if pdf {
        ("application/pdf", "pdf")
    } else {
        ("text/html; charset=utf-8", "html")
    };
    let mut r = (
        [
            (header::CONTENT_TYPE, ctype.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"dossier-{}.{ext}\"",
                    swedish_date((state.clock)())
                ),
            ),
        ],
        bytes,
    )
        .into_response();
    no_store(&mut r);
    Ok(r)
}
