//! The routes: one module per concern, and the router that ties them to paths.

pub(crate) mod admin;
pub(crate) mod breakglass;
pub(crate) mod protect;
pub(crate) mod read;
pub(crate) mod search;
pub(crate) mod shared;
pub(crate) mod submit;

use crate::problem;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use std::sync::Arc;

/// Every route, as `(method, path)` in OpenAPI path syntax: the contract test compares this
/// list with `api/openapi.yaml`.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/entries"),
    ("post", "/v1/entries/batch"),
    ("get", "/v1/entries"),
    ("get", "/v1/entries/{index}"),
    ("get", "/v1/search"),
    ("get", "/checkpoint"),
    ("get", "/tile/{path}"),
    ("get", "/v1/proofs/inclusion"),
    ("get", "/v1/proofs/consistency"),
    ("get", "/v1/log"),
    ("post", "/v1/admin/tokens"),
    ("get", "/v1/admin/tokens"),
    ("delete", "/v1/admin/tokens/{id}"),
    ("post", "/v1/admin/erasures"),
    ("get", "/v1/admin/holds"),
    ("post", "/v1/admin/holds"),
    ("delete", "/v1/admin/holds/{id}"),
    ("post", "/v1/admin/retention/run"),
    ("post", "/v1/breakglass/sessions"),
    ("get", "/v1/breakglass/sessions"),
    ("get", "/v1/breakglass/sessions/{id}"),
    ("post", "/v1/breakglass/sessions/{id}/approve"),
    ("post", "/v1/breakglass/sessions/{id}/deny"),
    ("post", "/v1/breakglass/sessions/{id}/extend"),
    ("post", "/v1/breakglass/sessions/{id}/close"),
    ("post", "/v1/breakglass/sessions/{id}/review"),
    ("get", "/v1/breakglass/sessions/{id}/report"),
    ("post", "/v1/breakglass/audit"),
    ("get", "/metrics"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/ui"),
    ("get", "/ui/"),
    ("get", "/ui/{file}"),
];

#[cfg(feature = "testing")]
/// The `(method, path)` pairs of an OpenAPI document in the layout of `api/openapi.yaml`
/// (paths at two spaces, methods at four). Used by the contract tests.
pub fn openapi_routes(spec: &str) -> std::collections::BTreeSet<(String, String)> {
    let (mut path, mut out, mut in_paths) =
        (String::new(), std::collections::BTreeSet::new(), false);
    for line in spec.lines() {
        in_paths |= line == "paths:";
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            path = format!("/{p}");
        } else if let Some(m) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
            && ["get", "post", "put", "delete", "patch"].contains(&m)
        {
            out.insert((m.to_owned(), path.clone()));
        }
    }
    out
}

/// Largest body of a request that is not a batch nor a single entry (tokens, break-glass).
const MAX_CONTROL_BODY: usize = 64 << 10;

/// A body-taking route that takes at most `max` bytes. A body announced larger is refused on
/// its headers, before any of it is read; a chunked one is cut off at `max`.
fn limited<S: Clone + Send + Sync + 'static>(
    route: axum::routing::MethodRouter<S>,
    max: usize,
) -> axum::routing::MethodRouter<S> {
    route
        .layer(DefaultBodyLimit::max(max))
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| async move {
                let announced = req
                    .headers()
                    .get(axum::http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if announced.is_some_and(|n| n > max as u64) {
                    return axum::response::IntoResponse::into_response(
                        problem::Problem::new(
                            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                            "too-large",
                            format!("this route takes bodies of at most {max} bytes"),
                        )
                        .with("limit", serde_json::json!(max)),
                    );
                }
                next.run(req).await
            },
        ))
}

/// The router over a state.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    // A single entry's body may hold whitespace and fields that normalizing drops, so it may
    // be larger than the entry it makes, but not unboundedly.
    let single = limit.min(4 * glasslog_ingest::MAX_ENTRY_BYTES);
    let control = limit.min(MAX_CONTROL_BODY);
    let timeout = std::time::Duration::from_secs(state.config.request_timeout_secs.max(1));
    let in_flight = state.config.max_concurrent_requests.max(1);
    Router::new()
        .route(
            "/v1/entries",
            limited(post(submit::submit), single).get(read::entries),
        )
        .route(
            "/v1/entries/batch",
            limited(post(submit::submit_batch), limit),
        )
        .route("/v1/entries/{index}", get(read::entry))
        .route("/v1/search", get(search::search))
        .route("/checkpoint", get(read::checkpoint))
        .route("/tile/{*path}", get(read::tile))
        .route("/v1/proofs/inclusion", get(read::inclusion))
        .route("/v1/proofs/consistency", get(read::consistency))
        .route("/v1/log", get(read::log_info))
        .route(
            "/v1/admin/tokens",
            limited(post(admin::create_token), control).get(admin::list_tokens),
        )
        .route("/v1/admin/tokens/{id}", delete(admin::revoke_token))
        .route("/v1/admin/erasures", limited(post(protect::erase), control))
        .route(
            "/v1/admin/holds",
            limited(post(protect::place_hold), control).get(protect::list_holds),
        )
        .route("/v1/admin/holds/{id}", delete(protect::release_hold))
        .route(
            "/v1/admin/retention/run",
            limited(post(protect::run_retention), control),
        )
        .route(
            "/v1/breakglass/sessions",
            limited(post(breakglass::open), control).get(breakglass::list),
        )
        .route("/v1/breakglass/sessions/{id}", get(breakglass::show))
        .route(
            "/v1/breakglass/sessions/{id}/{step}",
            limited(post(breakglass::step), control),
        )
        .route(
            "/v1/breakglass/sessions/{id}/report",
            get(breakglass::report),
        )
        .route(
            "/v1/breakglass/audit",
            limited(post(breakglass::audit), control),
        )
        .route("/metrics", get(read::metrics))
        .route("/healthz", get(read::healthz))
        .route("/readyz", get(read::readyz))
        .route("/ui", get(crate::console::redirect))
        .route("/ui/", get(crate::console::index))
        .route("/ui/{file}", get(crate::console::file))
        .fallback(read::fallback)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            crate::state::authenticate_before_body,
        ))
        .layer(axum::middleware::from_fn(
            move |req, next: axum::middleware::Next| async move {
                // The whole request, body included, has a deadline: a client trickling its body
                // cannot hold a worker forever.
                match tokio::time::timeout(timeout, next.run(req)).await {
                    Ok(resp) => resp,
                    Err(_) => axum::response::IntoResponse::into_response(problem::Problem::new(
                        axum::http::StatusCode::REQUEST_TIMEOUT,
                        "timeout",
                        format!("the request took longer than {} s", timeout.as_secs()),
                    )),
                }
            },
        ))
        // One semaphore for every route (a per-route limit would multiply the bound), and a
        // full server sheds the request at once instead of queueing it.
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(
                    |_: tower::BoxError| async { problem::Problem::overloaded() },
                ))
                .load_shed()
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(in_flight)),
        )
        .layer(axum::middleware::map_response(problem::normalize))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            problem::redact_secrets,
        ))
        .with_state(state)
}
