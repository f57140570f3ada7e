//! Data protection: erasure by subject, legal holds and retention passes (admin), each one
//! an entry in the log. See `crate::protect` for what they do.

use crate::auth::{Principal, Role};
use crate::problem::{Problem, Result};
use crate::protect::{self, ERASURE_TAG, HOLD_TAG, pseudonym_hex};
use crate::routes::shared::blocking;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Longest reason or ticket accepted.
const MAX_TEXT: usize = 1024;

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| Problem::bad_request(format!("invalid body: {e}")))
}

fn text(what: &str, s: &str) -> Result<()> {
    if s.trim().is_empty() || s.len() > MAX_TEXT {
        return Err(Problem::bad_request(format!(
            "`{what}` must be 1 to {MAX_TEXT} bytes"
        )));
    }
    Ok(())
}

/// A sealed log, or the 409 that explains there are no keys to destroy.
fn sealed(st: &AppState) -> Result<()> {
    if st.log.is_sealed() {
        Ok(())
    } else {
        Err(crate::problem::log_problem(
            glasslog_log::LogError::NotSealed,
        ))
    }
}

/// The erasure subject a request names: `actor` (as submitted entries carry it) or a
/// `subject` as the log keys it (`actor:<name>`, `source:<name>`).
fn subject_of(actor: Option<&str>, subject: Option<&str>) -> Result<String> {
    match (actor, subject) {
        (Some(a), None) if !a.is_empty() => Ok(glasslog_ingest::index::actor_subject(a)),
        (None, Some(s)) if !s.is_empty() => Ok(s.to_owned()),
        _ => Err(Problem::bad_request(
            "name exactly one of `actor` or `subject`",
        )),
    }
}

fn principal_json(p: &Principal) -> Value {
    json!({ "user": p.name, "type": "admin-token" })
}

/// `POST /v1/admin/erasures` with `{"actor" | "subject", "reason", "ticket"?}`: destroys the
/// subject's data keys unless a legal hold covers them, and records the erasure (by the
/// subject's pseudonym, never its name).
pub async fn erase(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let admin = st.require(&headers, Role::Admin)?;
    sealed(&st)?;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Req {
        actor: Option<String>,
        subject: Option<String>,
        reason: String,
        ticket: Option<String>,
    }
    let req: Req = parse(&body)?;
    text("reason", &req.reason)?;
    if let Some(t) = &req.ticket {
        text("ticket", t)?;
    }
    let subject = subject_of(req.actor.as_deref(), req.subject.as_deref())?;
    let log = Arc::clone(&st.log);
    let (pseudonym, erased, held, postings) = blocking(move || {
        let master = log.master_key().ok_or(glasslog_log::LogError::NotSealed)?;
        let p = master.subject(&subject);
        let holds = protect::holds(&log)?;
        // Read before the keys go: the search terms of the subject's entries, so that none
        // of them still finds an erased entry afterwards.
        let terms = protect::subject_terms(&log, &subject)?;
        let held = std::sync::atomic::AtomicUsize::new(0);
        let erased = log.erase(&|k| {
            if k.subject != p {
                return false;
            }
            if k.erased_ms.is_none() && holds.iter().any(|h| h.covers(k)) {
                held.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return false;
            }
            true
        })?;
        // Only entries whose key is now gone: a held key keeps its entries findable.
        let gone: Vec<(u64, Vec<String>)> = terms
            .into_iter()
            .filter(|(i, _)| matches!(log.entry(*i), Err(glasslog_log::LogError::Erased(_))))
            .collect();
        let postings = log.delete_postings(&gone)?;
        Ok((p, erased, held.into_inner(), postings))
    })
    .await?;
    st.metrics
        .keys_destroyed
        .get_or_create(&vec![("cause".to_owned(), "erasure".to_owned())])
        .inc_by(erased.keys as u64);
    let record = protect::record(
        &st.log,
        &st.sanitizer,
        json!({
            "actor": principal_json(&admin),
            "action": "glasslog.erasure",
            "resource": { "name": pseudonym_hex(&pseudonym), "type": "erasure-subject" },
            "outcome": if held > 0 { "failure" } else { "success" },
            "reason": req.reason,
            "details": {
                "erasure": {
                    "subject": pseudonym_hex(&pseudonym),
                    "keys_destroyed": erased.keys,
                    "keys_already_destroyed": erased.already,
                    "keys_held": held,
                    "search_postings_removed": postings,
                    "ticket": req.ticket,
                }
            },
        }),
        vec![ERASURE_TAG.to_owned()],
    )
    .await?;
    let status = if held > 0 {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let out = json!({
        "subject_pseudonym": pseudonym_hex(&pseudonym),
        "keys_destroyed": erased.keys,
        "keys_already_destroyed": erased.already,
        "keys_held": held,
        "search_postings_removed": postings,
        "record_index": record,
    });
    if held > 0 {
        return Err(Problem::new(
            status,
            "legal-hold",
            format!("{held} of the subject's data keys are under a legal hold and were kept"),
        )
        .with("result", out));
    }
    Ok((status, axum::Json(out)).into_response())
}

/// `GET /v1/admin/holds`: the legal holds in force.
pub async fn list_holds(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response> {
    st.require(&headers, Role::Admin)?;
    let log = Arc::clone(&st.log);
    let holds = blocking(move || protect::holds(&log)).await?;
    let list: Vec<Value> = holds.iter().map(protect::Hold::to_json).collect();
    Ok(axum::Json(json!({ "holds": list })).into_response())
}

/// `POST /v1/admin/holds` with `{"actor"? | "subject"?, "source"?, "reason"}`: suspends
/// retention and erasure for what it names (everything when it names nothing).
pub async fn place_hold(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let admin = st.require(&headers, Role::Admin)?;
    sealed(&st)?;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Req {
        actor: Option<String>,
        subject: Option<String>,
        source: Option<String>,
        reason: String,
    }
    let req: Req = parse(&body)?;
    text("reason", &req.reason)?;
    let subject = match (&req.actor, &req.subject) {
        (None, None) => None,
        (a, s) => Some(subject_of(a.as_deref(), s.as_deref())?),
    };
    let master = st
        .log
        .master_key()
        .ok_or_else(|| crate::problem::log_problem(glasslog_log::LogError::NotSealed))?;
    let subject_p = subject
        .as_deref()
        .map(|s| pseudonym_hex(&master.subject(s)));
    let source_p = req
        .source
        .as_deref()
        .map(|s| pseudonym_hex(&master.source(s)));
    let index = protect::record(
        &st.log,
        &st.sanitizer,
        json!({
            "actor": principal_json(&admin),
            "action": "glasslog.legal_hold.place",
            "resource": { "name": "legal-hold", "type": "legal-hold" },
            "outcome": "success",
            "reason": req.reason,
            "details": { "hold": {
                "op": "place",
                "subject": subject_p,
                "source": source_p,
                "reason": req.reason,
            } },
        }),
        vec![HOLD_TAG.to_owned()],
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "id": index,
            "subject_pseudonym": subject_p,
            "source_pseudonym": source_p,
            "reason": req.reason,
        })),
    )
        .into_response())
}

/// `DELETE /v1/admin/holds/<id>`: lifts a hold; retention catches up on its next pass.
pub async fn release_hold(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let admin = st.require(&headers, Role::Admin)?;
    sealed(&st)?;
    let id: u64 = id
        .parse()
        .map_err(|_| Problem::bad_request("a hold id is the index of the entry that placed it"))?;
    let log = Arc::clone(&st.log);
    let holds = blocking(move || protect::holds(&log)).await?;
    if !holds.iter().any(|h| h.id == id) {
        return Err(Problem::not_found(format!("no legal hold {id} in force")));
    }
    protect::record(
        &st.log,
        &st.sanitizer,
        json!({
            "actor": principal_json(&admin),
            "action": "glasslog.legal_hold.release",
            "resource": { "name": id.to_string(), "type": "legal-hold" },
            "outcome": "success",
            "details": { "hold": { "op": "release", "id": id } },
        }),
        vec![HOLD_TAG.to_owned()],
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /v1/admin/retention/run`: one retention pass now, as the background task runs it.
pub async fn run_retention(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response> {
    st.require(&headers, Role::Admin)?;
    sealed(&st)?;
    let out = retention_pass(&st).await?;
    Ok(axum::Json(out).into_response())
}

/// One retention pass, its metrics and its record in the log.
pub(crate) async fn retention_pass(st: &AppState) -> Result<Value> {
    let log = Arc::clone(&st.log);
    let settings = st.config.retention.clone();
    let now = crate::clock::now_ms();
    let result = blocking(move || {
        let holds = protect::holds(&log)?;
        protect::retention_pass(&log, &settings, &holds, now)
    })
    .await;
    let outcome = if result.is_ok() { "success" } else { "failure" };
    st.metrics
        .retention_runs
        .get_or_create(&vec![("outcome".to_owned(), outcome.to_owned())])
        .inc();
    let pass = result?;
    st.metrics
        .keys_destroyed
        .get_or_create(&vec![("cause".to_owned(), "retention".to_owned())])
        .inc_by(pass.expired as u64);
    st.metrics
        .retention_held
        .set(i64::try_from(pass.held).unwrap_or(i64::MAX));
    st.metrics
        .retention_last_run
        .set(i64::try_from(now / 1000).unwrap_or(i64::MAX));
    let index = protect::record(
        &st.log,
        &st.sanitizer,
        json!({
            "actor": { "user": "glasslog", "type": "service" },
            "action": "glasslog.retention",
            "resource": { "name": "retention", "type": "retention-policy" },
            "outcome": "success",
            "details": { "retention": {
                "keys_destroyed": pass.expired,
                "keys_held": pass.held,
                "policy": {
                    "sources": st.config.retention.sources,
                    "default_days": st.config.retention.default_days,
                },
            } },
        }),
        vec![ERASURE_TAG.to_owned()],
    )
    .await?;
    Ok(json!({
        "keys_destroyed": pass.expired,
        "keys_held": pass.held,
        "record_index": index,
    }))
}
