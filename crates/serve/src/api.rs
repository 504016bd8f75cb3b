//! The routes, the authorisation rules and the OpenAPI document (generated from the
//! handlers' annotations, served at `/openapi.json`).
//!
//! Authorisation (a refusal is 403 with `rule`, and nothing is written or logged):
//! - `role_reads_only`: an inspector or administrative officer records nothing.
//! - `actor_not_caller`: a command's `actor` must be the caller (user and configured
//!   role); a system names itself, or a user it records for.
//! - `system_not_delegated`, `user_not_configured`, `actor_role_mismatch`: a system
//!   records on a user's behalf only if allowed to, for a user in `[[users]]`, in that
//!   user's configured role; the record's user id is `USER/via/SYSTEM`.
//! - `unit_not_assigned`: records and reads of a plan need its unit among the caller's
//!   units (an inspector reads every unit).
//! - `unit_required`: a report over every unit needs `units = ["*"]` (or an inspector).
//! - `no_role`: a system without a role of its own reads nothing.
//! - `role_not_allowed`: the route is for other roles (named in the message).
//! - `not_permitted`: the domain's rule of who may give which command (docs/DOMAIN.md).
//!
//! Reads of a client's personal data (a plan, its history, a report with personnummer
//! revealed, a bundle, the access log itself) need a stated purpose (`X-Purpose`) and
//! are logged in the access log before the answer is sent.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;

use axum::extract::{FromRequestParts, MatchedPath, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use planledger_app::read::{self, Output, Report, Which};
use planledger_audit::{Format, Lang, Scope, Subject};
use planledger_plan::{
    Actor, Command, CommandId, ImportLine, Personnummer, PlanId, Role, UnitId, UserId, swedish_date,
};
use planledger_projection::{TAG_CLIENT, TAG_UNIT};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::access::{AccessEntry, LoggedRead};
use crate::auth::{Principal, authenticate};
use crate::config::{Units, VIA};
use crate::error::{ApiError, ErrorBody};
use crate::writer::Write;

mod clients;

type S = State<Arc<AppState>>;
type ApiResult<T = Response> = Result<T, ApiError>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "planledger",
        description = "The append-only audit ledger of implementation plans (genomförandeplaner), over HTTP. Every route under /v1 needs `Authorization: Bearer TOKEN` (an OpenID Connect token of a person, or a system's API token)."
    ),
    modifiers(&Bearer),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The service's router and its OpenAPI document (the same registrations).
pub fn router_and_doc(state: Arc<AppState>) -> (axum::Router, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
        .routes(routes!(record_command))
        .routes(routes!(import_lines))
        .routes(routes!(show_plan))
        .routes(routes!(plan_history))
        .routes(routes!(clients::client_history))
        .routes(routes!(report))
        .routes(routes!(verify))
        .routes(routes!(checkpoint))
        .routes(routes!(bundle))
        .routes(routes!(access_log_extract))
        .routes(routes!(access_log_sample))
        .split_for_parts();
    (router.with_state(state), doc)
}

/// The router with `/openapi.json`, the metrics layer and the body limit.
pub fn router(state: Arc<AppState>) -> axum::Router {
    let limit = state.config.max_body_bytes;
    let (router, doc) = router_and_doc(state.clone());
    let doc = Arc::new(doc);
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async { ApiError::not_found("no such route; see /openapi.json") })
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state, observe))
}

/// Counts every request by its route template and status, and times it.
async fn observe(State(state): S, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    state.metrics.request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The authenticated caller.
pub struct Caller(pub Principal);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Caller, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        let state = state.clone();
        tokio::task::spawn_blocking(move || {
            authenticate(&state.config, state.issuer.as_ref(), bearer.as_deref())
        })
        .await
        .map_err(|_| ApiError::internal("authentication failed"))?
        .map(Caller)
    }
}

/// Runs `f` on the blocking pool (the store is synchronous).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal("the request's work failed"))?
}

// ---- authorisation ----

/// The role a caller reads in.
pub(crate) fn reading_role(p: &Principal) -> ApiResult<Role> {
    p.role.ok_or_else(|| {
        ApiError::forbidden(
            "no_role",
            "this system records only on behalf of users; it has no role to read in",
        )
    })
}

pub(crate) fn may_read_unit(p: &Principal, unit: &UnitId) -> ApiResult<()> {
    let role = reading_role(p)?;
    if role == Role::Inspector || p.units.contains(unit) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "unit_not_assigned",
            "the plan's unit is not one of the caller's units",
        ))
    }
}

pub(crate) fn role_in(p: &Principal, allowed: &[Role], what: &str) -> ApiResult<Role> {
    let role = reading_role(p)?;
    if allowed.contains(&role) {
        Ok(role)
    } else {
        let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
        Err(ApiError::forbidden(
            "role_not_allowed",
            &format!("{what} is for the roles {}", names.join(", ")),
        ))
    }
}

/// A plan's unit and client, from the store's tags (no fold).
pub(crate) fn plan_tags(
    state: &AppState,
    plan: &PlanId,
) -> ApiResult<(Option<UnitId>, Option<Personnummer>)> {
    let tags = state
        .store
        .stream_tags(plan.as_str())
        .map_err(|e| ApiError::from(planledger_app::Error::from(e)))?;
    let get = |k: &str| {
        tags.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    Ok((
        get(TAG_UNIT).and_then(|u| UnitId::new(u).ok()),
        get(TAG_CLIENT).and_then(|c| Personnummer::parse(&c).ok()),
    ))
}

/// The actor a command of `line` is recorded with, and the units it may record in.
fn resolve_actor(state: &AppState, p: &Principal, line: &Actor) -> ApiResult<(Actor, Units)> {
    let (actor, units) = match &p.system {
        None => {
            if line.user != p.id || Some(line.role) != p.role {
                return Err(ApiError::forbidden(
                    "actor_not_caller",
                    "the command's actor must be the caller, in the caller's configured role",
                ));
            }
            (line.clone(), p.units.clone())
        }
        Some(_) if line.user == p.id => {
            if Some(line.role) != p.role {
                return Err(ApiError::forbidden(
                    "actor_not_caller",
                    "the command's actor must be the system in its configured role, or a user it records for",
                ));
            }
            (line.clone(), p.units.clone())
        }
        Some(grant) => {
            if !grant.on_behalf_of_users {
                return Err(ApiError::forbidden(
                    "system_not_delegated",
                    "this system may not record on behalf of users",
                ));
            }
            let user = state
                .config
                .users
                .iter()
                .find(|u| u.user == line.user)
                .ok_or_else(|| {
                    ApiError::forbidden(
                        "user_not_configured",
                        "the command's actor is not listed in the service's [[users]]",
                    )
                })?;
            if user.role != line.role {
                return Err(ApiError::forbidden(
                    "actor_role_mismatch",
                    "the command's role is not the user's configured role",
                ));
            }
            let id = UserId::new(format!("{}{VIA}{}", user.user, p.id))
                .map_err(|_| ApiError::bad_input("the combined user id is not a user id"))?;
            (Actor::new(id, user.role), Units::from_config(&user.units))
        }
    };
    if matches!(actor.role, Role::Inspector | Role::AdministrativeOfficer) {
        return Err(ApiError::forbidden(
            "role_reads_only",
            &format!("{} records nothing", actor.role.describe()),
        ));
    }
    Ok((actor, units))
}

/// Checks that `command` by the caller may be recorded; the actor to record it with.
fn authorise_write(state: &AppState, p: &Principal, line: &ImportLine) -> ApiResult<Actor> {
    let (actor, units) = resolve_actor(state, p, &line.actor)?;
    let (stored_unit, _) = plan_tags(state, line.command.plan())?;
    let named_unit = match &line.command {
        Command::ReceiveOrder { unit, .. } => Some(unit.clone()),
        _ => None,
    };
    for unit in stored_unit.iter().chain(named_unit.iter()) {
        if !units.contains(unit) {
            return Err(ApiError::forbidden(
                "unit_not_assigned",
                "the plan's unit is not one of the caller's units",
            ));
        }
    }
    Ok(actor)
}

/// The stated purpose of a read of personal data.
fn purpose(headers: &HeaderMap) -> ApiResult<String> {
    let text = headers
        .get("x-purpose")
        // UTF-8 (Swedish purposes have å, ä, ö), though HTTP promises only ASCII.
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .map(str::trim)
        .unwrap_or("");
    if text.is_empty() || text.len() > 200 {
        return Err(ApiError::bad_input(
            "state the purpose of this read of personal data in the X-Purpose header (1 to 200 characters)",
        ));
    }
    Ok(planledger_plan::json::mask_personnummer(text))
}

pub(crate) fn ledger_actor(p: &Principal) -> planledger_ledger::Actor {
    planledger_ledger::Actor {
        user_id: p.id.as_str().to_owned(),
        role: p.role.map(Role::as_str).unwrap_or("none").to_owned(),
    }
}

/// Logs `entries` as read by the caller now; the answer is sent only after this.
pub(crate) async fn log_reads(
    state: &AppState,
    p: &Principal,
    entries: Vec<AccessEntry>,
) -> ApiResult<()> {
    let n = entries.len() as u64;
    state
        .access
        .log(ledger_actor(p), (state.clock)(), entries)
        .await
        .map_err(|why| {
            tracing::warn!("a read could not be logged; it was not served");
            ApiError::unavailable("access_log_unavailable", &why)
        })?;
    state.metrics.access_logged(n);
    Ok(())
}

fn body(bytes: Vec<u8>, format: Format) -> Response {
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Json => "application/json",
        Format::Table => "text/plain; charset=utf-8",
    };
    ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
}

// ---- operations ----

#[derive(Serialize, ToSchema)]
struct Status {
    status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Status)))]
async fn health() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: both ledgers answer.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, body = Status), (status = 503, body = ErrorBody)))]
async fn ready(State(state): S) -> ApiResult<Json<Status>> {
    blocking(move || {
        state
            .store
            .head()
            .and_then(|_| state.access.store().head())
            .map_err(|_| ApiError::unavailable("not_ready", "a ledger does not answer"))?;
        Ok(Json(Status { status: "ready" }))
    })
    .await
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics(State(state): S) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

// ---- writes ----

#[derive(Serialize, ToSchema)]
struct RecordedEvent {
    event_type: &'static str,
    position: u64,
    stream_version: u64,
}

#[derive(Serialize, ToSchema)]
struct RecordResponse {
    recorded: Vec<RecordedEvent>,
    /// Set when the command was recorded before (a retried request): the position of
    /// its first record; nothing was recorded now.
    #[serde(skip_serializing_if = "Option::is_none")]
    already_recorded_at: Option<u64>,
}

fn recorded(r: Vec<planledger_app::Recorded>) -> Vec<RecordedEvent> {
    r.into_iter()
        .map(|r| RecordedEvent {
            event_type: r.event_type,
            position: r.position,
            stream_version: r.stream_version,
        })
        .collect()
}

/// Parses and checks one import line as the CLI's import does.
fn parse_line(state: &AppState, text: &str) -> ApiResult<ImportLine> {
    if text.len() as u64 > state.limits.line_bytes {
        return Err(ApiError::bad_input(&format!(
            "the command is longer than the limit of {} bytes",
            state.limits.line_bytes
        )));
    }
    planledger_app::import::check_line(text, &state.limits).map_err(|e| ApiError::bad_input(&e))
}

/// Records one command: the JSON of an import line (docs/IMPORT.md). The `actor` must
/// be the caller (or, for a system allowed to, the user it records for). An
/// `Idempotency-Key` is carried to the Recorder.
#[utoipa::path(post, path = "/v1/commands", tag = "writes",
    request_body(content = Object, description = "One import line (docs/IMPORT.md, schema/import-line.schema.json)", content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request be recorded once")),
    security(("bearer" = [])),
    responses(
        (status = 201, body = RecordResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn record_command(
    State(state): S,
    Caller(p): Caller,
    headers: HeaderMap,
    text: String,
) -> ApiResult<(StatusCode, Json<RecordResponse>)> {
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|k| CommandId::new(k).ok())
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "Idempotency-Key must be 1 to 255 visible characters without a run of \
                         10 digits (which could be a personnummer)",
                    )
                })
        })
        .transpose()?;
    let st = state.clone();
    let write = blocking(move || {
        let line = parse_line(&st, text.trim())?;
        let actor = authorise_write(&st, &p, &line)?;
        Ok(Write {
            at: line.at.unwrap_or_else(|| (st.clock)()),
            command: line.command,
            actor,
            expect_version: line.expect_version,
            // The header's key, else the line's id (its own or derived from its bytes).
            command_id: idempotency_key.or(line.id),
        })
    })
    .await?;
    match state.writer.record(write).await {
        Ok(r) => {
            state.metrics.appended(r.len() as u64);
            Ok((
                StatusCode::CREATED,
                Json(RecordResponse {
                    recorded: recorded(r),
                    already_recorded_at: None,
                }),
            ))
        }
        Err(e) => match e.already_recorded() {
            Some(position) => Ok((
                StatusCode::OK,
                Json(RecordResponse {
                    recorded: Vec::new(),
                    already_recorded_at: Some(position),
                }),
            )),
            None => Err(e.into()),
        },
    }
}

#[derive(Serialize, ToSchema)]
struct LineResult {
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded: Option<Vec<RecordedEvent>>,
    /// The line's command was recorded before, its first record at this position.
    #[serde(skip_serializing_if = "Option::is_none")]
    already_recorded_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorBody>,
}

#[derive(Serialize, ToSchema)]
struct ImportResponse {
    lines: u64,
    records: u64,
    rejected: u64,
    results: Vec<LineResult>,
}

/// Imports JSON Lines (one import line per line), each authorised as a single command;
/// each line is recorded or refused on its own, many lines to one commit.
#[utoipa::path(post, path = "/v1/import", tag = "writes",
    request_body(content = String, description = "JSON Lines of import lines", content_type = "application/x-ndjson"),
    security(("bearer" = [])),
    responses((status = 200, body = ImportResponse), (status = 401, body = ErrorBody)))]
async fn import_lines(
    State(state): S,
    Caller(p): Caller,
    text: String,
) -> ApiResult<Json<ImportResponse>> {
    let st = state.clone();
    let (mut results, writes) = blocking(move || {
        let mut results = Vec::new();
        let mut writes: Vec<(u64, Write)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let number = i as u64 + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let checked = parse_line(&st, raw.trim())
                .and_then(|line| authorise_write(&st, &p, &line).map(|actor| (line, actor)));
            match checked {
                Ok((line, actor)) => writes.push((
                    number,
                    Write {
                        at: line.at.unwrap_or_else(|| (st.clock)()),
                        command: line.command,
                        actor,
                        expect_version: line.expect_version,
                        command_id: line.id,
                    },
                )),
                Err(e) => results.push(LineResult {
                    line: number,
                    recorded: None,
                    already_recorded_at: None,
                    error: Some(e.body),
                }),
            }
        }
        Ok((results, writes))
    })
    .await?;
    let mut writes = writes.into_iter().peekable();
    while writes.peek().is_some() {
        let group: Vec<(u64, Write)> = writes
            .by_ref()
            .take(planledger_app::import::GROUP_LINES)
            .collect();
        let numbers: Vec<u64> = group.iter().map(|(n, _)| *n).collect();
        let outcomes = state
            .writer
            .record_group(group.into_iter().map(|(_, w)| w).collect())
            .await?;
        for (number, outcome) in numbers.into_iter().zip(outcomes) {
            results.push(match outcome {
                Ok(r) => {
                    state.metrics.appended(r.len() as u64);
                    LineResult {
                        line: number,
                        recorded: Some(recorded(r)),
                        already_recorded_at: None,
                        error: None,
                    }
                }
                Err(e) => LineResult {
                    line: number,
                    recorded: None,
                    already_recorded_at: e.already_recorded(),
                    error: e
                        .already_recorded()
                        .is_none()
                        .then(|| ApiError::from(e).body),
                },
            });
        }
    }
    results.sort_by_key(|r| r.line);
    let records = results
        .iter()
        .filter_map(|r| r.recorded.as_ref())
        .map(|r| r.len() as u64)
        .sum();
    let rejected = results.iter().filter(|r| r.error.is_some()).count() as u64;
    Ok(Json(ImportResponse {
        lines: results.len() as u64,
        records,
        rejected,
        results,
    }))
}

// ---- reads ----

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ShowQuery {
    /// A version number.
    version: Option<u32>,
    /// The version in force at the end of this Swedish day (YYYY-MM-DD).
    as_of: Option<NaiveDate>,
    /// Show the personnummer in full (masked otherwise).
    #[serde(default)]
    reveal_personnummer: bool,
    /// `json` (default), `csv` or `table` (the CLI's).
    format: Option<String>,
    /// `sv` (default) or `en`.
    lang: Option<String>,
}

pub(crate) fn output(format: Option<&str>, lang: Option<&str>) -> ApiResult<Output> {
    // `table` is the CLI's, for `planledger --server`.
    let format: Format = (format.unwrap_or("json").parse())
        .map_err(|_| ApiError::bad_input("format is json, csv or table"))?;
    let lang: Lang =
        (lang.unwrap_or("sv").parse()).map_err(|_| ApiError::bad_input("lang is sv or en"))?;
    Ok(Output { format, lang })
}

fn plan_id(text: &str) -> ApiResult<PlanId> {
    PlanId::new(text).map_err(|_| ApiError::bad_input("the plan id is not a plan id"))
}

/// A plan's unit and client for a read by `p`, authorised.
pub(crate) fn plan_for_read(
    state: &AppState,
    p: &Principal,
    plan: &PlanId,
) -> ApiResult<(UnitId, Personnummer)> {
    match plan_tags(state, plan)? {
        (Some(unit), Some(client)) => {
            may_read_unit(p, &unit)?;
            Ok((unit, client))
        }
        _ => {
            reading_role(p)?;
            Err(ApiError::not_found(&format!("there is no plan {plan}")))
        }
    }
}

/// What a read of a plan finds: the plan, of the unit and client its tags name (read,
/// and logged); or, for a plan weeded (gallrad), what the reader is told instead of its
/// content ("weeded on DATE under RULE", as `history` and `show` say it).
enum PlanRead {
    Live(UnitId, Personnummer),
    Weeded(Vec<u8>),
}

/// A plan for reading, as [`plan_for_read`], or its weeding. A weeded plan's tags went
/// with its client's key, so there is no unit to check: what is said of it (the day, the
/// rule, the decision) holds no personal data, so any caller with a reading role is told
/// it, and no read of personal data is logged.
fn plan_or_weeding(
    state: &AppState,
    p: &Principal,
    plan: &PlanId,
    out: Output,
) -> ApiResult<PlanRead> {
    match plan_for_read(state, p, plan) {
        Ok((unit, client)) => Ok(PlanRead::Live(unit, client)),
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            match read::weeded_text(state.store.as_ref(), plan, out)? {
                Some(text) => Ok(PlanRead::Weeded(text.into_bytes())),
                None => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// One version of a plan (the current one, a numbered one, or the one in force on a
/// day). Personal data: logged, needs `X-Purpose`.
#[utoipa::path(get, path = "/v1/plans/{plan}", tag = "reads",
    params(("plan" = String, Path, description = "The plan id"), ShowQuery,
           ("X-Purpose" = String, Header, description = "Why the plan is read (logged)")),
    security(("bearer" = [])),
    responses((status = 200, description = "The version, as `planledger show --format json`; for a weeded plan its weeding instead (`weeded_on`, `rule`, `decision`, `last_entry`: no personal data, not logged)", content_type = "application/json"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn show_plan(
    State(state): S,
    Caller(p): Caller,
    Path(plan): Path<String>,
    Query(q): Query<ShowQuery>,
    headers: HeaderMap,
) -> ApiResult {
    let purpose = purpose(&headers)?;
    let plan = plan_id(&plan)?;
    let out = output(q.format.as_deref(), q.lang.as_deref())?;
    let which = match (q.version, q.as_of) {
        (Some(n), _) => Which::Number(n),
        (None, Some(day)) => Which::InForceOn(day),
        (None, None) => Which::Current,
    };
    let st = state.clone();
    let pp = p.clone();
    let query = format!(
        "GET /v1/plans/{plan}{}",
        match (q.version, q.as_of) {
            (Some(n), _) => format!("?version={n}"),
            (None, Some(d)) => format!("?as_of={d}"),
            _ => String::new(),
        }
    );
    let read = blocking(move || {
        let (unit, client) = match plan_or_weeding(&st, &pp, &plan, out)? {
            PlanRead::Live(unit, client) => (unit, client),
            PlanRead::Weeded(bytes) => return Ok(Err(bytes)),
        };
        let mut bytes = Vec::new();
        read::show(
            st.store.as_ref(),
            &plan,
            which,
            q.reveal_personnummer,
            out,
            &mut bytes,
        )?;
        Ok(Ok((bytes, unit, client)))
    })
    .await?;
    let (bytes, unit, client) = match read {
        Ok(read) => read,
        Err(weeded) => return Ok(body(weeded, out.format)),
    };
    log_reads(
        &state,
        &p,
        vec![AccessEntry {
            client,
            unit: Some(unit.to_string()),
            plan: Some(
                query
                    .split('/')
                    .nth(3)
                    .unwrap_or("")
                    .split('?')
                    .next()
                    .unwrap_or("")
                    .to_owned(),
            ),
            query,
            purpose,
        }],
    )
    .await?;
    Ok(body(bytes, out.format))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    /// As the ledger stood at the end of this Swedish day (default today).
    as_of: Option<NaiveDate>,
    /// Show the personnummer in full.
    #[serde(default)]
    reveal_personnummer: bool,
    /// `json` (default), `csv` or `table` (the CLI's).
    format: Option<String>,
    /// `sv` (default) or `en`.
    lang: Option<String>,
}

/// Every version and record of a plan, as of a day. Personal data: logged.
#[utoipa::path(get, path = "/v1/plans/{plan}/history", tag = "reads",
    params(("plan" = String, Path, description = "The plan id"), HistoryQuery,
           ("X-Purpose" = String, Header, description = "Why the history is read (logged)")),
    security(("bearer" = [])),
    responses((status = 200, description = "As `planledger history`; for a weeded plan its weeding instead (as for `GET /v1/plans/{plan}`)", content_type = "application/json"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn plan_history(
    State(state): S,
    Caller(p): Caller,
    Path(plan): Path<String>,
    Query(q): Query<HistoryQuery>,
    headers: HeaderMap,
) -> ApiResult {
    let purpose = purpose(&headers)?;
    let plan = plan_id(&plan)?;
    let out = output(q.format.as_deref(), q.lang.as_deref())?;
    let as_of = q.as_of.unwrap_or_else(|| swedish_date((state.clock)()));
    let st = state.clone();
    let pp = p.clone();
    let id = plan.to_string();
    let read = blocking(move || {
        let (unit, client) = match plan_or_weeding(&st, &pp, &plan, out)? {
            PlanRead::Live(unit, client) => (unit, client),
            PlanRead::Weeded(bytes) => return Ok(Err(bytes)),
        };
        let mut scope = Scope::new(as_of);
        scope.reveal_personnummer = q.reveal_personnummer;
        let mut bytes = Vec::new();
        read::history(
            st.store.as_ref(),
            &scope,
            &Subject::Plan(plan),
            out,
            &mut bytes,
        )?;
        Ok(Ok((bytes, unit, client)))
    })
    .await?;
    let (bytes, unit, client) = match read {
        Ok(read) => read,
        Err(weeded) => return Ok(body(weeded, out.format)),
    };
    log_reads(
        &state,
        &p,
        vec![AccessEntry {
            client,
            unit: Some(unit.to_string()),
            query: format!("GET /v1/plans/{id}/history?as_of={as_of}"),
            plan: Some(id),
            purpose,
        }],
    )
    .await?;
    Ok(body(bytes, out.format))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportQuery {
    /// Only plans of this unit (required unless the caller has every unit).
    unit: Option<String>,
    /// As of the end of this Swedish day (default today).
    as_of: Option<NaiveDate>,
    /// Show personnummer in full: the read is then logged for every client listed, and
    /// needs `X-Purpose`.
    #[serde(default)]
    reveal_personnummer: bool,
    /// `json` (default), `csv` or `table` (the CLI's).
    format: Option<String>,
    /// `sv` (default) or `en`.
    lang: Option<String>,
}

/// An audit report (overdue, late, unsigned, unapproved, incomplete, fee, overview,
/// in-force), personnummer masked unless revealed.
#[utoipa::path(get, path = "/v1/reports/{report}", tag = "reads",
    params(("report" = String, Path, description = "overdue, late, unsigned, unapproved, incomplete, fee, overview or in-force"), ReportQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "The report's rows, as `planledger audit`", content_type = "application/json"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn report(
    State(state): S,
    Caller(p): Caller,
    Path(name): Path<String>,
    Query(q): Query<ReportQuery>,
    headers: HeaderMap,
) -> ApiResult {
    let which: Report = name
        .parse()
        .map_err(|_| ApiError::not_found("no such report"))?;
    let out = output(q.format.as_deref(), q.lang.as_deref())?;
    let purpose = if q.reveal_personnummer {
        Some(purpose(&headers)?)
    } else {
        None
    };
    let unit = q
        .unit
        .map(|u| UnitId::new(u).map_err(|_| ApiError::bad_input("unit is not a unit id")))
        .transpose()?;
    match &unit {
        Some(u) => may_read_unit(&p, u)?,
        None => {
            if reading_role(&p)? != Role::Inspector && p.units != Units::All {
                return Err(ApiError::forbidden(
                    "unit_required",
                    "give unit: the caller may read only their own units",
                ));
            }
        }
    }
    let mut scope = Scope::new(q.as_of.unwrap_or_else(|| swedish_date((state.clock)())));
    scope.unit = unit;
    scope.reveal_personnummer = q.reveal_personnummer;
    let st = state.clone();
    let query = format!(
        "GET /v1/reports/{}?as_of={}{}",
        which.name(),
        scope.as_of,
        scope
            .unit
            .as_ref()
            .map(|u| format!("&unit={u}"))
            .unwrap_or_default()
    );
    let (bytes, entries) = blocking(move || {
        let plans = read::plans(st.store.as_ref())?;
        let render = |output: Output| -> ApiResult<Vec<u8>> {
            let mut bytes = Vec::new();
            read::write_report(&plans, which, &st.policy, &scope, None, output, &mut bytes)?;
            Ok(bytes)
        };
        let json = render(Output {
            format: Format::Json,
            lang: out.lang,
        })?;
        let mut entries = Vec::new();
        if let Some(purpose) = purpose {
            // Every client the rows show in full.
            let rows: serde_json::Value = serde_json::from_slice(&json)
                .map_err(|_| ApiError::internal("a report is not JSON"))?;
            let mut seen = std::collections::HashSet::new();
            for row in rows.as_array().into_iter().flatten() {
                let Some(client) = row
                    .get("client")
                    .and_then(|c| c.as_str())
                    .and_then(|c| Personnummer::parse(c).ok())
                else {
                    continue;
                };
                let plan = row.get("plan").and_then(|v| v.as_str()).map(str::to_owned);
                if seen.insert((client.digits(), plan.clone())) {
                    entries.push(AccessEntry {
                        client,
                        unit: row.get("unit").and_then(|v| v.as_str()).map(str::to_owned),
                        plan,
                        query: format!("{query}&reveal_personnummer=true"),
                        purpose: purpose.clone(),
                    });
                }
            }
        }
        let bytes = match out.format {
            Format::Json => json,
            _ => render(out)?,
        };
        Ok((bytes, entries))
    })
    .await?;
    log_reads(&state, &p, entries).await?;
    Ok(body(bytes, out.format))
}

// ---- integrity ----

#[derive(Serialize, ToSchema)]
struct LedgerStatus {
    ok: bool,
    records: u64,
    root: String,
    /// What was found wrong, if anything (positions and kinds; no personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    violation: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct VerifyResponse {
    ok: bool,
    ledger: LedgerStatus,
    access_log: LedgerStatus,
}

fn verify_one(store: &dyn planledger_store::Store) -> ApiResult<LedgerStatus> {
    let report = planledger_store::verify_store(store, &[], &mut |_, _| {})
        .map_err(|e| ApiError::from(planledger_app::Error::from(e)))?;
    Ok(LedgerStatus {
        ok: report.violation.is_none(),
        records: report.records,
        root: report.root.to_hex(),
        violation: report
            .violation
            .map(|v| format!("at position {}: {}", v.position, v.kind)),
    })
}

/// Verifies both ledgers now: every record's hash, the chain and the Merkle root.
#[utoipa::path(get, path = "/v1/verify", tag = "integrity", security(("bearer" = [])),
    responses((status = 200, body = VerifyResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn verify(State(state): S, Caller(p): Caller) -> ApiResult<Json<VerifyResponse>> {
    role_in(&p, &[Role::Admin, Role::Inspector], "verification")?;
    let st = state.clone();
    let r = blocking(move || {
        let ledger = verify_one(st.store.as_ref())?;
        let access_log = verify_one(st.access.store().as_ref())?;
        Ok(VerifyResponse {
            ok: ledger.ok && access_log.ok,
            ledger,
            access_log,
        })
    })
    .await?;
    state.metrics.verified((state.clock)().timestamp(), r.ok);
    Ok(Json(r))
}

#[derive(Serialize, ToSchema)]
struct Signed {
    size: u64,
    root: String,
}

#[derive(Serialize, ToSchema)]
struct CheckpointResponse {
    ledger: Signed,
    access_log: Signed,
}

/// Signs a checkpoint of each ledger into the configured witness directory (the access
/// log's into its `access-log` subdirectory), each after checking it extends the last.
#[utoipa::path(post, path = "/v1/checkpoint", tag = "integrity", security(("bearer" = [])),
    responses((status = 200, body = CheckpointResponse), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn checkpoint(State(state): S, Caller(p): Caller) -> ApiResult<Json<CheckpointResponse>> {
    role_in(&p, &[Role::Admin], "signing a checkpoint")?;
    let st = state.clone();
    let r = blocking(move || {
        let c =
            st.config.checkpoint.as_ref().ok_or_else(|| {
                ApiError::not_found("this service has no [checkpoint] configured")
            })?;
        let signer = planledger_app::keys::load_signer(&c.key, &st.limits)?;
        let map_key = c
            .map_key
            .as_deref()
            .map(|k| planledger_app::map::load_key(k, &st.limits))
            .transpose()?;
        let now = (st.clock)();
        let (plans, _) = planledger_app::witness::checkpoint(
            st.store.as_ref(),
            &signer,
            &c.witness,
            c.origin.as_deref(),
            now,
            &st.limits,
            map_key.as_ref(),
        )?;
        let origin = format!("{}/access-log", c.origin.as_deref().unwrap_or("planledger"));
        let (access, _) = planledger_app::witness::checkpoint(
            st.access.store().as_ref(),
            &signer,
            &c.witness.join("access-log"),
            Some(&origin),
            now,
            &st.limits,
            None,
        )?;
        Ok(CheckpointResponse {
            ledger: Signed {
                size: plans.checkpoint.size,
                root: plans.checkpoint.root.to_hex(),
            },
            access_log: Signed {
                size: access.checkpoint.size,
                root: access.checkpoint.root.to_hex(),
            },
        })
    })
    .await?;
    state
        .metrics
        .checkpointed((state.clock)().timestamp(), r.ledger.size);
    Ok(Json(r))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ClientRequest {
    /// The client's personnummer (12 digits). In the body, never in a URL.
    client: String,
}

/// The client named by a request body `{"client": "…"}` (any content type: the body is
/// JSON whatever the header says, as for a command).
fn client_of(text: &str) -> ApiResult<Personnummer> {
    let req: ClientRequest = serde_json::from_str(text).map_err(|_| {
        ApiError::bad_input("the body must be {\"client\": \"YYYYMMDDNNNN\"} and nothing else")
    })?;
    Personnummer::parse(&req.client)
        .map_err(|_| ApiError::bad_input("client is not a valid personnummer (12 digits)"))
}

/// The evidence bundle of a client's records, proven against the latest checkpoint in
/// the witness directory (as `planledger export`). Personal data: logged.
#[utoipa::path(post, path = "/v1/bundles", tag = "integrity",
    request_body = ClientRequest,
    params(("X-Purpose" = String, Header, description = "Why the bundle is exported (logged)")),
    security(("bearer" = [])),
    responses((status = 200, description = "The bundle, for verify-bundle", content_type = "application/json"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn bundle(State(state): S, Caller(p): Caller, headers: HeaderMap, text: String) -> ApiResult {
    role_in(&p, &[Role::Admin, Role::Inspector], "exporting a bundle")?;
    let purpose = purpose(&headers)?;
    let client = client_of(&text)?;
    let st = state.clone();
    let c2 = client;
    let text = blocking(move || {
        let c =
            st.config.checkpoint.as_ref().ok_or_else(|| {
                ApiError::not_found("this service has no [checkpoint] configured")
            })?;
        let signer = planledger_app::keys::load_signer(&c.key, &st.limits)?;
        let map_key = c
            .map_key
            .as_deref()
            .map(|k| planledger_app::map::load_key(k, &st.limits))
            .transpose()?;
        let latest = planledger_app::witness::latest(
            st.store.as_ref(),
            &c.witness,
            &signer.verifier(),
            &st.limits,
        )?;
        let (bundle, _) = planledger_app::evidence::bundle(
            st.store.as_ref(),
            &c2,
            &latest,
            None,
            map_key.as_ref(),
        )?;
        Ok(serde_json::to_vec_pretty(&bundle).expect("a bundle serialises"))
    })
    .await?;
    log_reads(
        &state,
        &p,
        vec![AccessEntry {
            client,
            unit: None,
            plan: None,
            query: "POST /v1/bundles".into(),
            purpose,
        }],
    )
    .await?;
    Ok(body(text, Format::Json))
}

// ---- the access log ----

#[derive(Serialize, ToSchema)]
struct Reads {
    reads: Vec<LoggedRead>,
}

/// Everyone who read a client's personal data (the extract a person has a right to).
/// Reading it is itself logged.
#[utoipa::path(post, path = "/v1/access-log/extract", tag = "access log",
    request_body = ClientRequest,
    params(("X-Purpose" = String, Header, description = "Why the extract is made (logged)")),
    security(("bearer" = [])),
    responses((status = 200, body = Reads), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn access_log_extract(
    State(state): S,
    Caller(p): Caller,
    headers: HeaderMap,
    text: String,
) -> ApiResult<Json<Reads>> {
    role_in(&p, &[Role::Admin, Role::Inspector], "an access-log extract")?;
    let purpose = purpose(&headers)?;
    let client = client_of(&text)?;
    let st = state.clone();
    let c2 = client;
    let reads = blocking(move || {
        st.access
            .extract(&c2)
            .map_err(|why| ApiError::unavailable("access_log_unavailable", &why))
    })
    .await?;
    log_reads(
        &state,
        &p,
        vec![AccessEntry {
            client,
            unit: None,
            plan: None,
            query: "POST /v1/access-log/extract".into(),
            purpose,
        }],
    )
    .await?;
    Ok(Json(Reads { reads }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SampleQuery {
    /// How many reads to draw.
    n: usize,
    /// The unit whose plans were read.
    unit: String,
    /// The first Swedish day (YYYY-MM-DD).
    from: NaiveDate,
    /// The last Swedish day.
    to: NaiveDate,
}

/// A random sample of the reads of a unit's plans over a period, for the unit
/// manager's check. Reading it is itself logged (each sampled client).
#[utoipa::path(get, path = "/v1/access-log/sample", tag = "access log",
    params(SampleQuery, ("X-Purpose" = String, Header, description = "Why the sample is drawn (logged)")),
    security(("bearer" = [])),
    responses((status = 200, body = Reads), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn access_log_sample(
    State(state): S,
    Caller(p): Caller,
    Query(q): Query<SampleQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<Reads>> {
    role_in(
        &p,
        &[Role::UnitManager, Role::Admin, Role::Inspector],
        "an access-log sample",
    )?;
    let unit = UnitId::new(q.unit).map_err(|_| ApiError::bad_input("unit is not a unit id"))?;
    may_read_unit(&p, &unit)?;
    let purpose = purpose(&headers)?;
    if q.to < q.from || (q.to - q.from).num_days() > 366 {
        return Err(ApiError::bad_input(
            "from must not be after to, and the period at most a year",
        ));
    }
    let st = state.clone();
    let u = unit.to_string();
    let reads = blocking(move || {
        st.access
            .of_unit(&u, q.from, q.to)
            .map(|all| crate::access::sample(all, q.n))
            .map_err(|why| ApiError::unavailable("access_log_unavailable", &why))
    })
    .await?;
    let query = format!(
        "GET /v1/access-log/sample?n={}&unit={unit}&from={}&to={}",
        q.n, q.from, q.to
    );
    let entries = reads
        .iter()
        .map(|r| AccessEntry {
            client: r.entry.client,
            unit: Some(unit.to_string()),
            plan: r.entry.plan.clone(),
            query: query.clone(),
            purpose: purpose.clone(),
        })
        .collect();
    log_reads(&state, &p, entries).await?;
    Ok(Json(Reads { reads }))
}
