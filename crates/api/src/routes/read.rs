//! Reads: checkpoints, tiles, proofs, entries, the log's description, metrics and health.

use crate::auth::Role;
use crate::problem::{Problem, Result, log_problem};
use crate::routes::shared::{blocking, inclusion_proof, number, query, required, served};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use glasslog_merkle::{Hash, Tile};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

/// `GET /checkpoint`.
pub async fn checkpoint(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response> {
    st.read_access(&headers, st.config.public_reads, Role::Reader)?;
    let (_, note) = served(&st, None).await?;
    let mut resp = note.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

/// `GET /tile/<L>/<N>[.p/<W>]` and `GET /tile/entries/<N>[.p/<W>]`.
pub async fn tile(
    State(st): State<Arc<AppState>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let (tile, entries) = Tile::parse_path(&format!("tile/{path}"))
        .map_err(|e| Problem::not_found(format!("tile/{path}: {e}")))?;
    if entries {
        st.read_access(&headers, st.config.public_entries, Role::Auditor)?;
    } else {
        st.read_access(&headers, st.config.public_reads, Role::Reader)?;
    }
    // A tile path names bytes that never change (a wider partial tile has another path), so
    // a served tile answers every later read of that path without the store.
    let key = (entries, tile.level, tile.index, tile.width);
    let cached = st.tiles.as_ref().and_then(|c| c.get(&key));
    let bytes = match cached {
        Some(b) => {
            st.metrics.tile_cache_hits.inc();
            b
        }
        None => {
            let log = Arc::clone(&st.log);
            let bytes = axum::body::Bytes::from(
                blocking(move || {
                    if entries {
                        log.entry_bundle(tile)
                    } else {
                        log.tile(tile)
                    }
                })
                .await?,
            );
            if let Some(c) = &st.tiles {
                c.insert(key, bytes.clone());
            }
            bytes
        }
    };
    Ok(tile_response(bytes))
}

/// A tile or entry bundle as served, by the log and by its mirrors: octets that never change
/// (a wider partial tile has another URL), so any cache may keep them for good.
pub(crate) fn tile_response(bytes: impl IntoResponse) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    resp
}

/// `GET /v1/proofs/inclusion`.
pub async fn inclusion(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    st.read_access(&headers, st.config.public_reads, Role::Reader)?;
    let q = query(raw, &["index", "leaf_hash", "tree_size"])?;
    let size = required(&q, "tree_size")?;
    let started = Instant::now();
    let log = Arc::clone(&st.log);
    let (index, proof) = match (number(&q, "index")?, q.get("leaf_hash")) {
        (Some(index), None) => (index, inclusion_proof(&st, index, size).await?),
        (None, Some(h)) => {
            let leaf = Hash::from_base64(h)
                .map_err(|e| Problem::bad_request(format!("`leaf_hash`: {e}")))?;
            blocking(move || log.inclusion_proof_by_hash(&leaf, size)).await?
        }
        _ => {
            return Err(Problem::bad_request(
                "give exactly one of `index` and `leaf_hash`",
            ));
        }
    };
    st.metrics
        .proof_seconds
        .observe(started.elapsed().as_secs_f64());
    let path: Vec<String> = proof.iter().map(Hash::to_base64).collect();
    Ok(
        axum::Json(json!({ "leaf_index": index, "tree_size": size, "audit_path": path }))
            .into_response(),
    )
}

/// `GET /v1/proofs/consistency`.
pub async fn consistency(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    st.read_access(&headers, st.config.public_reads, Role::Reader)?;
    let q = query(raw, &["from", "to"])?;
    let (from, to) = (required(&q, "from")?, required(&q, "to")?);
    let started = Instant::now();
    let log = Arc::clone(&st.log);
    let proof = match log.try_consistency_proof(from, to) {
        Some(proof) => {
            st.metrics.proofs_in_place.inc();
            proof.map_err(log_problem)?
        }
        None => blocking(move || log.consistency_proof(from, to)).await?,
    };
    st.metrics
        .proof_seconds
        .observe(started.elapsed().as_secs_f64());
    let path: Vec<String> = proof.iter().map(Hash::to_base64).collect();
    Ok(axum::Json(json!({ "from": from, "to": to, "consistency": path })).into_response())
}

/// An entry as the API shows it. `entry_base64` is the plaintext; for a sealed log the
/// leaf hashes `sealed.record_base64`, and the plaintext with `sealed.salt_base64` is what
/// the record commits to (`glasslog_seal::verify_opening`), so a reader checks both without
/// any key. An erased entry keeps its index, leaf and record, and has no plaintext.
pub(crate) fn entry_json(index: u64, o: &glasslog_log::Opening) -> Value {
    let mut v = json!({
        "index": index,
        "leaf_hash": glasslog_merkle::leaf_hash(&o.leaf_data).to_base64(),
    });
    if let Some(p) = &o.plaintext {
        v["entry"] = serde_json::from_slice::<Value>(p).unwrap_or(Value::Null);
        v["entry_base64"] = json!(STANDARD.encode(p));
    } else {
        v["erased"] = json!(true);
    }
    if glasslog_log::seal::is_sealed(&o.leaf_data) {
        let mut sealed = json!({ "record_base64": STANDARD.encode(&o.leaf_data) });
        if let Some(salt) = &o.salt {
            sealed["salt_base64"] = json!(STANDARD.encode(salt));
        }
        v["sealed"] = sealed;
    }
    v
}

/// `GET /v1/entries/<index>`: 410 Gone once the entry was erased.
pub async fn entry(
    State(st): State<Arc<AppState>>,
    Path(index): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    st.read_access(&headers, st.config.public_entries, Role::Auditor)?;
    let index: u64 = index
        .parse()
        .map_err(|_| Problem::bad_request("the entry index must be a non-negative integer"))?;
    let log = Arc::clone(&st.log);
    let end = index
        .checked_add(1)
        .ok_or_else(|| Problem::not_found(format!("entry {index} is not in the log")))?;
    let opened = blocking(move || log.open_entries(index, end)).await?;
    let Some(o) = opened.first() else {
        return Err(Problem::not_found(format!(
            "entry {index} is not in the log"
        )));
    };
    if o.plaintext.is_none() {
        return Err(Problem::new(
            axum::http::StatusCode::GONE,
            "entry-erased",
            format!(
                "entry {index} was erased: its data key was destroyed; its leaf stays in the tree"
            ),
        )
        .with("index", json!(index))
        .with("entry", entry_json(index, o)));
    }
    Ok(axum::Json(entry_json(index, o)).into_response())
}

/// `GET /v1/entries?start=&end=` (end exclusive); erased entries are marked `erased`.
pub async fn entries(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    st.read_access(&headers, st.config.public_entries, Role::Auditor)?;
    let q = query(raw, &["start", "end"])?;
    let (start, end) = (required(&q, "start")?, required(&q, "end")?);
    if end <= start || end - start > st.config.max_range_entries {
        return Err(Problem::bad_request(format!(
            "need start < end and at most {} entries",
            st.config.max_range_entries
        )));
    }
    let log = Arc::clone(&st.log);
    let list = blocking(move || log.open_entries(start, end)).await?;
    let out: Vec<Value> = (start..)
        .zip(&list)
        .map(|(i, o)| entry_json(i, o))
        .collect();
    Ok(axum::Json(json!({ "entries": out })).into_response())
}

/// `GET /v1/log`.
pub async fn log_info(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response> {
    st.read_access(&headers, st.config.public_reads, Role::Reader)?;
    let (cp, note) = served(&st, None).await?;
    // The log's own newest signed head: ahead of the served one while witnesses have yet to
    // cosign it (the publication lag, in entries).
    let signed = st
        .log
        .checkpoint()
        .map_or(cp.size, |c| c.checkpoint.size.max(cp.size));
    Ok(axum::Json(json!({
        "origin": st.log.origin(),
        "verifier_key": st.log.vkey(),
        "tree_size": cp.size,
        "signed_size": signed,
        "root_hash": cp.root.to_base64(),
        "checkpoint": note,
    }))
    .into_response())
}

/// `GET /metrics`.
pub async fn metrics(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response> {
    st.read_access(&headers, st.config.public_metrics, Role::Reader)?;
    if let Ok(cp) = st.log.checkpoint() {
        st.metrics
            .tree_size
            .set(i64::try_from(cp.checkpoint.size).unwrap_or(i64::MAX));
    }
    let mut resp = st.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(resp)
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: the log is open and has a checkpoint.
pub async fn readyz(State(st): State<Arc<AppState>>) -> Result<&'static str> {
    st.log.checkpoint().map_err(log_problem)?;
    Ok("ready\n")
}

/// Unknown routes.
pub async fn fallback() -> Problem {
    Problem::not_found("no such route; see api/openapi.yaml")
}
