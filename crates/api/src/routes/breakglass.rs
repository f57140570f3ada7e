//! The break-glass routes: open, list and show sessions, lifecycle steps, reports, audits.

use crate::auth::{Principal as Token, Role};
use crate::breakglass::session_json;
use crate::problem::Problem;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use glasslog_breakglass::{Command, Principal, Scope, Session, Status, Verdict};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::sync::Arc;

type Result<T> = std::result::Result<T, Problem>;

/// The break-glass identity of a token: its holder, so that two tokens of one person are one
/// requester and one approver.
fn principal(t: &Token) -> Principal {
    Principal {
        name: t.principal.clone(),
        role: t.role.as_str().to_owned(),
    }
}

fn caller(st: &AppState, headers: &HeaderMap) -> Result<(Token, Principal)> {
    let t = st.principal(headers)?.ok_or_else(Problem::unauthorized)?;
    let p = principal(&t);
    Ok((t, p))
}

/// Whether the caller may see every session (and not only their own).
fn sees_all(st: &AppState, t: &Token, p: &Principal) -> bool {
    t.role.allows(Role::Auditor)
        || st.breakglass.policy().may_approve(p)
        || st.breakglass.policy().may_review(p)
}

fn body<T: DeserializeOwned>(headers: &HeaderMap, bytes: &Bytes, empty: &str) -> Result<T> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        empty.as_bytes()
    } else {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "break-glass requests are application/json",
            ));
        }
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| {
        Problem::bad_request(format!(
            "invalid request: {}",
            glasslog_ingest::entry::scrub_json_error(&e)
        ))
    })
}

fn new_id() -> Result<String> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|_| Problem::unavailable("no randomness"))?;
    Ok(format!(
        "bg-{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenRequest {
    justification: String,
    ticket: String,
    scope: Scope,
    duration_seconds: u64,
    #[serde(default)]
    emergency: bool,
}

/// `POST /v1/breakglass/sessions`: any token the policy lists as a requester.
pub async fn open(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response> {
    let (_, p) = caller(&st, &headers)?;
    let r: OpenRequest = body(&headers, &bytes, "")?;
    let id = new_id()?;
    let s = st
        .breakglass
        .command(
            &id,
            Command::Open {
                justification: r.justification,
                ticket: r.ticket,
                scope: r.scope,
                duration_seconds: r.duration_seconds,
                emergency: r.emergency,
            },
            &p,
        )
        .await?;
    let mut resp = (StatusCode::CREATED, axum::Json(session_json(&s))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/breakglass/sessions/{id}")) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

fn visible(st: &AppState, t: &Token, p: &Principal, s: &Session) -> bool {
    sees_all(st, t, p) || s.requester == p.name
}

/// `GET /v1/breakglass/sessions[?status=]`: everything for auditors, approvers and reviewers,
/// one's own sessions for everyone else.
pub async fn list(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let (t, p) = caller(&st, &headers)?;
    let mut status = None;
    for pair in raw
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
    {
        match pair.split_once('=') {
            Some(("status", v)) => {
                status = Some(serde_json::from_value::<Status>(json!(v)).map_err(|_| {
                    Problem::bad_request(
                        "status is one of pending, active, denied, closed, expired, lapsed",
                    )
                })?);
            }
            _ => return Err(Problem::bad_request("the only parameter is status")),
        }
    }
    let sessions: Vec<_> = st
        .breakglass
        .sessions()
        .await
        .into_iter()
        .filter(|s| visible(&st, &t, &p, s) && status.is_none_or(|w| s.status == w))
        .map(|s| session_json(&s))
        .collect();
    Ok(axum::Json(json!({ "sessions": sessions })).into_response())
}

async fn visible_session(st: &AppState, headers: &HeaderMap, id: &str) -> Result<Session> {
    let (t, p) = caller(st, headers)?;
    match st.breakglass.session(id).await {
        Some(s) if visible(st, &t, &p, &s) => Ok(s),
        // Someone else's session is as invisible as a missing one.
        _ => Err(Problem::not_found(format!("no break-glass session {id}"))),
    }
}

/// `GET /v1/breakglass/sessions/{id}`.
pub async fn show(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let s = visible_session(&st, &headers, &id).await?;
    Ok(axum::Json(session_json(&s)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Reason {
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendRequest {
    seconds: u64,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewRequest {
    verdict: Verdict,
    #[serde(default)]
    notes: String,
}

/// `POST /v1/breakglass/sessions/{id}/{approve|deny|extend|close|review}`.
pub async fn step(
    State(st): State<Arc<AppState>>,
    Path((id, step)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response> {
    let (_, p) = caller(&st, &headers)?;
    let command = match step.as_str() {
        "approve" => {
            let _: serde_json::Map<String, serde_json::Value> = body(&headers, &bytes, "{}")?;
            Command::Approve
        }
        "deny" => Command::Deny {
            reason: body::<Reason>(&headers, &bytes, "{}")?.reason,
        },
        "close" => Command::Close {
            reason: body::<Reason>(&headers, &bytes, "{}")?.reason,
        },
        "extend" => {
            let r: ExtendRequest = body(&headers, &bytes, "")?;
            Command::Extend {
                seconds: r.seconds,
                reason: r.reason,
            }
        }
        "review" => {
            let r: ReviewRequest = body(&headers, &bytes, "")?;
            Command::Review {
                verdict: r.verdict,
                notes: r.notes,
            }
        }
        _ => {
            return Err(Problem::not_found(
                "no such break-glass step; use approve, deny, extend, close or review",
            ));
        }
    };
    let s = st.breakglass.command(&id, command, &p).await?;
    Ok(axum::Json(session_json(&s)).into_response())
}

/// `GET /v1/breakglass/sessions/{id}/report[?format=markdown]`: auditors and reviewers (the
/// report carries entry contents).
pub async fn report(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let (t, p) = caller(&st, &headers)?;
    if !(t.role.allows(Role::Auditor) || st.breakglass.policy().may_review(&p)) {
        return Err(Problem::forbidden(
            "reports are for auditors and break-glass reviewers",
        ));
    }
    let markdown = match raw.as_deref().unwrap_or("") {
        "" | "format=json" => false,
        "format=markdown" => true,
        _ => {
            return Err(Problem::bad_request(
                "the only parameter is format=json|markdown",
            ));
        }
    };
    let r = st.breakglass.report(&id).await?;
    if markdown {
        let mut resp = r.to_markdown().into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/markdown; charset=utf-8"),
        );
        return Ok(resp);
    }
    Ok(axum::Json(r).into_response())
}

/// `POST /v1/breakglass/audit`: auditors run every rule over the whole log now.
pub async fn audit(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response> {
    st.require(&headers, Role::Auditor)?;
    let (findings, recorded) = st.breakglass.audit_all().await?;
    Ok(axum::Json(json!({ "findings": findings, "recorded": recorded })).into_response())
}
