//! A client's history by personnummer: `POST /v1/clients/history`, the number in the
//! body `{"client": "…"}`.
//!
//! Why a POST body and not `GET /v1/clients/{pnr}/history` or a query: a URL is written
//! to the access logs of every proxy and load balancer on the way, to browser history
//! and `Referer` headers, and to this service's own request metrics and traces, none of
//! which is the read-access log and none of which the organisation can weed. A header
//! (`X-Client`) stays out of most access logs, but proxies and web application firewalls
//! log headers more often than bodies, and the service already takes a personnummer in
//! a body for the extract (`/v1/access-log/extract`) and bundles (`/v1/bundles`): one
//! rule for every route. A POST is also never cached by an intermediary.

use super::*;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ClientHistoryQuery {
    /// Only the client's plans of this unit (needed when the caller may not read every
    /// unit the client has plans in).
    unit: Option<String>,
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

/// Every version and record of every plan of a client (as `planledger history
/// --client`), as of a day. Personal data: logged, one entry per plan shown; needs
/// `X-Purpose`. The caller must be able to read each plan's unit (an inspector reads
/// every unit), or name one of their units in `unit`.
#[utoipa::path(post, path = "/v1/clients/history", tag = "reads",
    request_body = ClientRequest,
    params(ClientHistoryQuery,
           ("X-Purpose" = String, Header, description = "Why the history is read (logged)")),
    security(("bearer" = [])),
    responses((status = 200, description = "As `planledger history --client`", content_type = "application/json"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn client_history(
    State(state): S,
    Caller(p): Caller,
    Query(q): Query<ClientHistoryQuery>,
    headers: HeaderMap,
    text: String,
) -> ApiResult {
    let purpose = purpose(&headers)?;
    let client = client_of(&text)?;
    let out = output(q.format.as_deref(), q.lang.as_deref())?;
    let unit = q
        .unit
        .map(|u| UnitId::new(u).map_err(|_| ApiError::bad_input("unit is not a unit id")))
        .transpose()?;
    if let Some(u) = &unit {
        may_read_unit(&p, u)?;
    }
    let as_of = q.as_of.unwrap_or_else(|| swedish_date((state.clock)()));
    let query = format!(
        "POST /v1/clients/history?as_of={as_of}{}",
        unit.as_ref()
            .map(|u| format!("&unit={u}"))
            .unwrap_or_default()
    );
    let st = state.clone();
    let pp = p.clone();
    let (bytes, shown) = blocking(move || {
        let streams = st
            .store
            .streams_tagged(TAG_CLIENT, &client.digits())
            .map_err(|e| ApiError::from(planledger_app::Error::from(e)))?;
        // The plans shown, each authorised: all of the client's, or those of `unit`.
        let mut shown = Vec::new();
        for stream in streams {
            let plan = plan_id(&stream)?;
            let Some(plan_unit) = plan_tags(&st, &plan)?.0 else {
                continue;
            };
            match &unit {
                Some(u) if *u != plan_unit => continue,
                Some(_) => {}
                None => may_read_unit(&pp, &plan_unit)?,
            }
            shown.push((plan, plan_unit));
        }
        if shown.is_empty() {
            reading_role(&pp)?;
            return Err(ApiError::not_found(
                "there are no plans of this client (in this unit)",
            ));
        }
        let mut scope = Scope::new(as_of);
        scope.unit = unit;
        scope.reveal_personnummer = q.reveal_personnummer;
        let mut bytes = Vec::new();
        read::history(
            st.store.as_ref(),
            &scope,
            &Subject::Client(client),
            out,
            &mut bytes,
        )?;
        Ok((bytes, shown))
    })
    .await?;
    let entries = shown
        .into_iter()
        .map(|(plan, unit)| AccessEntry {
            client,
            unit: Some(unit.to_string()),
            plan: Some(plan.to_string()),
            query: query.clone(),
            purpose: purpose.clone(),
        })
        .collect();
    log_reads(&state, &p, entries).await?;
    Ok(body(bytes, out.format))
}
