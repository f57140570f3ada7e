//! `glasslog mirror`'s HTTP side: each mirrored log's verified copy, served with the
//! tlog-tiles interface at `/<origin hash>/` (C2SP tlog-mirror's read side). The mirror's
//! checkpoint carries the log's signatures and the mirror's cosignature.
//!
//! Spec: <https://c2sp.org/tlog-mirror> (untagged, HEAD 5ba5ee8) and
//! <https://c2sp.org/tlog-tiles>; `shared/specs/TLOG-STANDARDS.md` §14. The per-origin prefix
//! serves only tlog-tiles paths: `tile/data/` (static-ct-api) and anything else is 404, as is
//! an origin hash the mirror does not hold (never a fallback).

use crate::problem::Problem;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use glasslog_log::{Mirror, MirrorError};
use glasslog_merkle::Tile;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// The mirrored logs, by the lowercase hex SHA-256 of their origin.
pub struct Mirrors {
    by_hash: HashMap<String, Arc<Mirror>>,
}

impl Mirrors {
    /// Serves `mirrors`.
    pub fn new(mirrors: impl IntoIterator<Item = Arc<Mirror>>) -> Self {
        Mirrors {
            by_hash: mirrors
                .into_iter()
                .map(|m| (origin_hash(m.origin()), m))
                .collect(),
        }
    }

    fn get(&self, hash: &str) -> Result<Arc<Mirror>, Problem> {
        self.by_hash
            .get(hash)
            .cloned()
            .ok_or_else(|| Problem::not_found("this mirror holds no log with that origin hash"))
    }
}

/// The path segment a log's copy is served under: lowercase hex SHA-256 of its origin.
pub fn origin_hash(origin: &str) -> String {
    Sha256::digest(origin.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn mirror_problem(e: MirrorError) -> Problem {
    match e {
        MirrorError::NotFound(what) => Problem::not_found(format!("{what} is not in the mirror")),
        other => Problem::unavailable(format!("the mirror cannot read its copy: {other}")),
    }
}

async fn checkpoint(
    State(m): State<Arc<Mirrors>>,
    Path(hash): Path<String>,
) -> Result<Response, Problem> {
    let mirror = m.get(&hash)?;
    let cp = mirror
        .checkpoint()
        .ok_or_else(|| Problem::not_found("nothing mirrored yet"))?;
    let mut resp = cp.note.clone().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

async fn tile(
    State(m): State<Arc<Mirrors>>,
    Path((hash, path)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let mirror = m.get(&hash)?;
    let (tile, entries) = Tile::parse_path(&format!("tile/{path}"))
        .map_err(|e| Problem::not_found(format!("tile/{path}: {e}")))?;
    // Storage reads block: keep them off the async workers.
    let bytes = tokio::task::spawn_blocking(move || {
        if entries {
            mirror.entry_bundle(tile)
        } else {
            mirror.tile(tile)
        }
    })
    .await
    .map_err(|_| Problem::unavailable("the read was cancelled"))?
    .map_err(mirror_problem)?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    // A tile path names bytes that never change: a wider partial tile has another path.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(resp)
}

/// The mirror's router: `GET /<origin hash>/checkpoint` and `GET /<origin hash>/tile/…`.
pub fn router(mirrors: Arc<Mirrors>) -> Router {
    Router::new()
        .route("/{origin_hash}/checkpoint", get(checkpoint))
        .route("/{origin_hash}/tile/{*path}", get(tile))
        .fallback(|| async { Problem::not_found("no such route") })
        .layer(axum::middleware::map_response(crate::problem::normalize))
        .with_state(mirrors)
}

/// Serves `mirrors` until `shutdown` resolves; `on_start` gets the bound address.
pub async fn serve(
    mirrors: Arc<Mirrors>,
    listen: std::net::SocketAddr,
    on_start: impl FnOnce(std::net::SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    on_start(listener.local_addr()?);
    crate::listener::run(
        listener,
        router(mirrors),
        None,
        crate::listener::Limits {
            header_timeout: std::time::Duration::from_secs(10),
            max_connections: 1024,
        },
        shutdown,
    )
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_hashes_are_the_specs() {
        // sunlight's mirror vector (`shared/specs/vectors/tlog-mirror.json`).
        assert_eq!(
            super::origin_hash("rome2026h1.example.org"),
            "000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706"
        );
    }
}
