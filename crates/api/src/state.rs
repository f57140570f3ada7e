//! What every handler shares: the state, and who the caller is.

use crate::auth::{Principal, Role, TokenStore};
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::problem::{Problem, Result};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use glasslog_ingest::Sanitizer;
use glasslog_log::Log;
use serde_json::json;
use std::sync::Arc;

/// Shared server state.
pub struct AppState {
    /// The log.
    pub log: Arc<Log>,
    /// The ingestion policy and detectors.
    pub sanitizer: Arc<Sanitizer>,
    /// API tokens.
    pub tokens: TokenStore,
    /// Settings.
    pub config: ServerConfig,
    /// Metrics.
    pub metrics: Metrics,
    /// Per-token request limits, when configured.
    pub limiter: Option<governor::DefaultKeyedRateLimiter<String>>,
    /// Break-glass sessions.
    pub breakglass: Arc<crate::breakglass::BreakGlass>,
    /// The latest checkpoint cosigned by the witness quorum, when witnesses are configured.
    pub cosigned: crate::cosign::Cosigned,
    /// Tiles and entry bundles already served, when `tile_cache_bytes` is not 0.
    pub tiles: Option<TileCache>,
}

/// Where a tile or bundle is: entries or hashes, level, index, width.
pub type TileKey = (bool, u8, u64, u16);

/// Weighs a cached tile by its size.
#[derive(Clone, Copy, Debug)]
pub struct TileBytes;

impl quick_cache::Weighter<TileKey, axum::body::Bytes> for TileBytes {
    fn weight(&self, _: &TileKey, v: &axum::body::Bytes) -> u64 {
        v.len() as u64
    }
}

/// Served tiles and bundles by coordinates: they never change once served.
pub type TileCache = quick_cache::sync::Cache<TileKey, axum::body::Bytes, TileBytes>;

/// A tile cache of at most `bytes`, or none.
pub fn tile_cache(bytes: u64) -> Option<TileCache> {
    // An estimate for the table's size: full level-0 tiles are 8 KiB.
    let items = usize::try_from(bytes / 8192).unwrap_or(usize::MAX).max(16);
    (bytes > 0).then(|| TileCache::with_weighter(items, bytes, TileBytes))
}

impl AppState {
    pub(crate) fn principal(&self, headers: &HeaderMap) -> Result<Option<Principal>> {
        let value = match headers.get(header::AUTHORIZATION) {
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| Problem::bad_request("the Authorization header is not text"))?,
            ),
            None => None,
        };
        // A front-end that may have lost its lease (paused or cut off past it) answers no
        // caller by token: another one may sequence now, and may have revoked the token.
        if value.is_some() && self.log.lease() != glasslog_log::Lease::Held {
            return Err(Problem::unavailable(
                "this front-end cannot confirm it still sequences the log (its lease went unrenewed): retry, the load balancer sends you to the one that does",
            ));
        }
        let principal = self.tokens.authenticate(value)?;
        if let (Some(limiter), Some(p)) = (&self.limiter, &principal)
            && limiter.check_key(&p.id).is_err()
        {
            self.metrics.rate_limited.inc();
            return Err(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                format!(
                    "this token is limited to {} requests per second; retry after a second",
                    self.config.rate_limit_per_second
                ),
            )
            .with("limit", json!(self.config.rate_limit_per_second)));
        }
        Ok(principal)
    }

    /// The caller, who must hold `role`.
    pub(crate) fn require(&self, headers: &HeaderMap, role: Role) -> Result<Principal> {
        let p = self.principal(headers)?.ok_or_else(Problem::unauthorized)?;
        if !p.role.allows(role) {
            return Err(Problem::forbidden(format!(
                "this route needs the {role} role"
            )));
        }
        Ok(p)
    }

    /// Checks read access: public when `public`, otherwise `role`.
    pub(crate) fn read_access(&self, headers: &HeaderMap, public: bool, role: Role) -> Result<()> {
        if public {
            // A malformed or unknown token is still refused, so mistakes are visible.
            self.principal(headers)?;
            return Ok(());
        }
        self.require(headers, role).map(|_| ())
    }
}

/// Largest body read whole before routing: an unauthenticated one is dropped, an
/// authenticated one handed on.
const DRAIN_UNAUTHENTICATED: usize = 64 << 10;

/// Every route that takes a body needs a token: this runs before the body is read, so an
/// unauthenticated client cannot make the server buffer a body of up to `max_body_bytes` (or
/// hold a connection open while it trickles one). The role is still checked by each route;
/// rate limiting is charged there, once.
pub async fn authenticate_before_body(
    State(st): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // Every route that reads a body is a POST under /v1/ (ROUTES); anything else is answered
    // by its route or by the fallback, which read none.
    let takes_body =
        req.method() == axum::http::Method::POST && req.uri().path().starts_with("/v1/");
    if takes_body {
        let refused = match req
            .headers()
            .get(header::AUTHORIZATION)
            .map(HeaderValue::to_str)
        {
            Some(Err(_)) => Some(Problem::bad_request("the Authorization header is not text")),
            value => match st
                .tokens
                .authenticate(value.and_then(std::result::Result::ok))
            {
                Ok(Some(_)) => None,
                Ok(None) => Some(Problem::unauthorized()),
                Err(p) => Some(p),
            },
        };
        let small = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n <= DRAIN_UNAUTHENTICATED as u64);
        if let Some(p) = refused {
            // A small body is read and dropped, so the connection stays usable and the client
            // reads its answer (closing on unread bytes resets the connection under it). A
            // larger one is never read: the answer says the connection closes.
            let drained = small
                && axum::body::to_bytes(req.into_body(), DRAIN_UNAUTHENTICATED)
                    .await
                    .is_ok();
            let mut resp = p.into_response();
            if !drained {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            return resp;
        }
        // An authenticated small body is read now, whole: a route or a refusal (405, 404)
        // that answers without reading it would otherwise leave bytes unread, and closing on
        // them resets the connection before the client reads the answer.
        if small {
            let (parts, body) = req.into_parts();
            return match axum::body::to_bytes(body, DRAIN_UNAUTHENTICATED).await {
                Ok(bytes) => {
                    next.run(axum::extract::Request::from_parts(
                        parts,
                        axum::body::Body::from(bytes),
                    ))
                    .await
                }
                Err(_) => {
                    Problem::bad_request("the request body could not be read").into_response()
                }
            };
        }
    }
    next.run(req).await
}
