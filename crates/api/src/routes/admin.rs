//! Administration: API tokens, each change recorded in the log itself.

use crate::auth::{Principal, Role};
use crate::clock::now_ms;
use crate::problem::ingest_problem;
use crate::problem::{Problem, Result, log_problem};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use glasslog_ingest::Body;
use glasslog_log::NewEntry;
use serde_json::{Value, json};
use std::sync::Arc;

/// Appends an admin action to the log itself.
async fn record_admin_action(
    st: &AppState,
    actor: &Principal,
    action: &str,
    resource: &str,
) -> Result<()> {
    let event = json!({
        "actor": { "user": actor.name, "type": "admin-token" },
        "action": action,
        "resource": { "name": resource, "type": "api-token" },
        "outcome": "success",
        "source": { "service": "glasslog" },
    });
    // Detection is CPU work, even for the server's own small events: off the async workers.
    let sanitizer = Arc::clone(&st.sanitizer);
    let s = tokio::task::spawn_blocking(move || {
        sanitizer.sanitize("glasslog-admin", Body::Event(event), now_ms())
    })
    .await
    .map_err(|_| Problem::unavailable("worker failed"))?
    .map_err(ingest_problem)?;
    st.log
        .append(vec![NewEntry {
            data: s.encoded.bytes,
            identity: glasslog_log::Identity::Leaf,
            tags: Vec::new(),
            subject: crate::protect::system_subject(),
        }])
        .await
        .map_err(log_problem)?;
    Ok(())
}

/// `POST /v1/admin/tokens` with `{"role", "name", "principal"?, "sources"?}`.
pub async fn create_token(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let admin = st.require(&headers, Role::Admin)?;
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Req {
        role: Role,
        name: String,
        #[serde(default)]
        principal: Option<String>,
        #[serde(default)]
        sources: Vec<String>,
    }
    let req: Req = serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request(format!("invalid token request: {e}")))?;
    if req.name.is_empty() || req.name.len() > 128 {
        return Err(Problem::bad_request("a token name is 1 to 128 characters"));
    }
    if req
        .principal
        .as_ref()
        .is_some_and(|p| p.is_empty() || p.len() > 128)
    {
        return Err(Problem::bad_request("a principal is 1 to 128 characters"));
    }
    // The token file is fsynced (file and directory) under the store's lock: blocking work,
    // off the async workers.
    let store = Arc::clone(&st);
    let (record, token) = tokio::task::spawn_blocking(move || {
        store
            .tokens
            .create(&req.name, req.principal.as_deref(), req.role, req.sources)
    })
    .await
    .map_err(|_| Problem::unavailable("worker failed"))?
    .map_err(|e| match e {
        crate::auth::TokenError::NameTaken(_) => {
            Problem::new(StatusCode::CONFLICT, "conflict", e.to_string())
        }
        e => {
            tracing::error!(error = %e, "cannot save tokens");
            Problem::unavailable("cannot save the token")
        }
    })?;
    record_admin_action(&st, &admin, "create api token", &record.id).await?;
    tracing::info!(id = %record.id, role = ?record.role, "token created");
    Ok((StatusCode::CREATED, axum::Json(json!({ "id": record.id, "name": record.name, "principal": record.principal(), "role": record.role, "sources": record.sources, "token": token }))).into_response())
}

/// `GET /v1/admin/tokens`.
pub async fn list_tokens(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response> {
    st.require(&headers, Role::Admin)?;
    let list: Vec<Value> = st
        .tokens
        .list()
        .into_iter()
        .map(|r| json!({ "id": r.id, "name": r.name, "principal": r.principal(), "role": r.role, "sources": r.sources, "revoked": r.revoked }))
        .collect();
    Ok(axum::Json(json!({ "tokens": list })).into_response())
}

/// `DELETE /v1/admin/tokens/<id>`.
pub async fn revoke_token(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let admin = st.require(&headers, Role::Admin)?;
    let store = Arc::clone(&st);
    let target = id.clone();
    let revoked = tokio::task::spawn_blocking(move || store.tokens.revoke(&target))
        .await
        .map_err(|_| Problem::unavailable("worker failed"))?
        .map_err(|_| Problem::unavailable("cannot save the token store"))?;
    if !revoked {
        return Err(Problem::not_found(format!("no live token with id {id}")));
    }
    record_admin_action(&st, &admin, "revoke api token", &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
