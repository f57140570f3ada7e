//! The glasslog HTTP server, and the only crate that knows HTTP.
//!
//! Services submit audit events (`POST /v1/entries`, `/v1/entries/batch`); monitors read the
//! signed checkpoint and C2SP tiles (`/checkpoint`, `/tile/...`); auditors fetch proofs
//! (`/v1/proofs/...`) and entries. Every error is an RFC 9457 problem document. Blocking log
//! reads run on tokio's blocking pool; appends go through the log's sequencer channel.

pub mod auth;
pub mod breakglass;
mod breakglass_routes;
pub mod config;
pub mod cosign;
mod handlers;
pub mod listener;
pub mod metrics;
pub mod problem;
pub mod query;
mod state;
pub mod witness;

pub use config::ServerConfig;
pub use state::AppState;

use auth::{Role, TokenStore};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use glasslog_ingest::Sanitizer;
use glasslog_log::{Log, LogConfig, RocksOptions, RocksStore, load_or_create_signer};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

/// Every route, as `(method, path)` in OpenAPI path syntax: the contract test compares this
/// list with `api/openapi.yaml`.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/entries"),
    ("post", "/v1/entries/batch"),
    ("get", "/v1/entries"),
    ("get", "/v1/entries/{index}"),
    ("get", "/checkpoint"),
    ("get", "/tile/{path}"),
    ("get", "/v1/proofs/inclusion"),
    ("get", "/v1/proofs/consistency"),
    ("get", "/v1/log"),
    ("post", "/v1/admin/tokens"),
    ("get", "/v1/admin/tokens"),
    ("delete", "/v1/admin/tokens/{id}"),
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
];

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
            limited(post(handlers::submit), single).get(handlers::entries),
        )
        .route(
            "/v1/entries/batch",
            limited(post(handlers::submit_batch), limit),
        )
        .route("/v1/entries/{index}", get(handlers::entry))
        .route("/checkpoint", get(handlers::checkpoint))
        .route("/tile/{*path}", get(handlers::tile))
        .route("/v1/proofs/inclusion", get(handlers::inclusion))
        .route("/v1/proofs/consistency", get(handlers::consistency))
        .route("/v1/log", get(handlers::log_info))
        .route(
            "/v1/admin/tokens",
            limited(post(handlers::create_token), control).get(handlers::list_tokens),
        )
        .route("/v1/admin/tokens/{id}", delete(handlers::revoke_token))
        .route(
            "/v1/breakglass/sessions",
            limited(post(breakglass_routes::open), control).get(breakglass_routes::list),
        )
        .route("/v1/breakglass/sessions/{id}", get(breakglass_routes::show))
        .route(
            "/v1/breakglass/sessions/{id}/{step}",
            limited(post(breakglass_routes::step), control),
        )
        .route(
            "/v1/breakglass/sessions/{id}/report",
            get(breakglass_routes::report),
        )
        .route(
            "/v1/breakglass/audit",
            limited(post(breakglass_routes::audit), control),
        )
        .route("/metrics", get(handlers::metrics))
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(handlers::readyz))
        .fallback(handlers::fallback)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            handlers::authenticate_before_body,
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

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The data directory could not be prepared.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A witness's verifier key file.
    #[error("witness verifier key {path}: {source}")]
    WitnessKey {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The signing key.
    #[error(transparent)]
    Key(#[from] glasslog_log::KeyFileError),
    /// The log could not be opened or recovered.
    #[error(transparent)]
    Log(#[from] glasslog_log::LogError),
    /// The storage could not be opened.
    #[error(transparent)]
    Store(#[from] glasslog_log::StoreError),
    /// The ingestion policy is invalid.
    #[error(transparent)]
    Policy(#[from] glasslog_ingest::PolicyError),
    /// The break-glass policy is invalid.
    #[error(transparent)]
    BreakGlass(#[from] glasslog_breakglass::PolicyError),
    /// The token file.
    #[error(transparent)]
    Tokens(#[from] auth::TokenError),
    /// The TLS certificate or key.
    #[error(transparent)]
    Tls(#[from] listener::TlsError),
    /// The witness list or its quorum.
    #[error(transparent)]
    Witnesses(#[from] cosign::WitnessConfigError),
    /// The listening socket.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn fingerprint_key(dir: &Path) -> Result<zeroize::Zeroizing<[u8; 32]>, ServeError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join("fingerprint.key");
    let io = |source| ServeError::DataDir {
        path: path.clone(),
        source,
    };
    owner_only(&path).map_err(io)?;
    match std::fs::read(&path).map(zeroize::Zeroizing::new) {
        Ok(bytes) => bytes
            .as_slice()
            .try_into()
            .map(zeroize::Zeroizing::new)
            .map_err(|_| {
                io(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "fingerprint.key must be 32 bytes",
                ))
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = zeroize::Zeroizing::new([0u8; 32]);
            getrandom::fill(&mut *key).map_err(|e| io(std::io::Error::other(e.to_string())))?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(io)?;
            f.write_all(&*key).map_err(io)?;
            f.sync_all().map_err(io)?;
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

/// Refuses a secret file that others than its owner may read or write, as the signing key's
/// loader does: a token hash file or fingerprint key readable by the group is a leak waiting.
/// A file that does not exist yet passes (it is created with mode 0600).
pub(crate) fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("mode {mode:o}; it must be readable by its owner only (chmod 600)"),
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// What a started server tells its operator.
#[derive(Debug, Clone)]
pub struct Started {
    /// The bound address.
    pub addr: std::net::SocketAddr,
    /// The log's verifier key.
    pub verifier_key: String,
    /// Where a first-start admin token was written, if one was.
    pub admin_token_file: Option<std::path::PathBuf>,
    /// Whether it speaks HTTPS.
    pub tls: bool,
}

/// Opens everything under `config.data_dir`, binds, calls `on_start`, and serves until
/// `shutdown` resolves; then stops accepting, finishes in-flight requests and closes the log
/// (its last checkpoint is already signed and the store is flushed as it drops).
pub async fn serve(
    config: ServerConfig,
    on_start: impl FnOnce(&Started),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let dir = config.data_dir.clone();
    std::fs::create_dir_all(&dir).map_err(|source| ServeError::DataDir {
        path: dir.clone(),
        source,
    })?;
    let key_file = config
        .key_file
        .clone()
        .unwrap_or_else(|| dir.join("log.key"));
    let signer = load_or_create_signer(&key_file, &config.origin)?;
    if let Some(path) = &config.vkey_file {
        std::fs::write(path, format!("{}\n", signer.vkey())).map_err(|source| {
            ServeError::DataDir {
                path: path.clone(),
                source,
            }
        })?;
    }
    let mut config = config;
    for w in &mut config.witnesses {
        if w.vkey.is_empty()
            && let Some(path) = &w.vkey_file
        {
            w.vkey = std::fs::read_to_string(path)
                .map_err(|source| ServeError::WitnessKey {
                    path: path.clone(),
                    source,
                })?
                .trim()
                .to_owned();
        }
    }
    cosign::check_witnesses(&config.witnesses, config.witness_quorum)?;
    let db = dir.join("db");
    let store =
        tokio::task::spawn_blocking(move || RocksStore::open(&db, &RocksOptions::default()))
            .await
            .map_err(|e| ServeError::DataDir {
                path: dir.clone(),
                source: std::io::Error::other(e.to_string()),
            })??;
    let log = tokio::task::spawn_blocking(move || {
        Log::open(Arc::new(store), signer, LogConfig::default())
    })
    .await
    .map_err(|e| ServeError::DataDir {
        path: dir.clone(),
        source: std::io::Error::other(e.to_string()),
    })??;
    let log = Arc::new(log);
    let sanitizer = Arc::new(Sanitizer::new(
        config.policy.clone(),
        fingerprint_key(&dir)?,
    )?);
    let tokens = TokenStore::open(dir.join("tokens.json"))?;
    let mut admin_token_file = None;
    if tokens.is_empty() {
        let (_, token) = tokens.create("admin", None, Role::Admin, Vec::new())?;
        let path = dir.join("admin.token");
        // Replaced whole, never truncated in place: a crash leaves the old file or the new one.
        glasslog_log::durable::write_file(&path, format!("{token}\n").as_bytes(), 0o600).map_err(
            |source| ServeError::DataDir {
                path: path.clone(),
                source,
            },
        )?;
        admin_token_file = Some(path);
    }
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(listener::tls_acceptor(cert, key)?),
        (None, None) => None,
        _ => {
            return Err(ServeError::Tls(listener::TlsError(
                "give both tls_cert and tls_key".into(),
            )));
        }
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: config.listen,
        source,
    })?;
    let started = Started {
        addr,
        verifier_key: log.verifier().vkey(),
        admin_token_file,
        tls: tls.is_some(),
    };
    let header_timeout = std::time::Duration::from_secs(config.header_timeout_secs.max(1));
    let max_connections = config.max_connections.max(1);
    let metrics = metrics::Metrics::new();
    config.breakglass.validate()?;
    let cosigned = cosign::Cosigned::default();
    let breakglass = breakglass::BreakGlass::start(
        Arc::clone(&log),
        Arc::clone(&sanitizer),
        config.breakglass.clone(),
        &metrics,
        Arc::clone(&cosigned),
        config.witness_quorum,
    )
    .await?;
    let limiter = std::num::NonZeroU32::new(config.rate_limit_per_second).map(|rate| {
        let burst = std::num::NonZeroU32::new(config.rate_limit_burst)
            .unwrap_or(rate.saturating_mul(std::num::NonZeroU32::MIN.saturating_add(1)));
        governor::RateLimiter::keyed(governor::Quota::per_second(rate).allow_burst(burst))
    });
    let state = Arc::new(AppState {
        limiter,
        log: Arc::clone(&log),
        sanitizer,
        tokens,
        config,
        metrics,
        breakglass,
        cosigned,
    });
    if !state.config.witnesses.is_empty() {
        let (log, targets, quorum, out) = (
            Arc::clone(&log),
            state.config.witnesses.clone(),
            state.config.witness_quorum,
            Arc::clone(&state.cosigned),
        );
        tokio::spawn(async move {
            if let Err(e) = cosign::run(log, targets, quorum, out).await {
                tracing::error!(error = %e, "witness cosigning stopped");
            }
        });
    }
    on_start(&started);
    tracing::info!(%addr, verifier_key = %started.verifier_key, "serving");
    let limits = listener::Limits {
        header_timeout,
        max_connections,
    };
    listener::run(listener, router(state), tls, limits, shutdown).await;
    let closing = Arc::clone(&log);
    let _ = tokio::task::spawn_blocking(move || closing.close()).await;
    tracing::info!("stopped; the last checkpoint is signed and the log is closed");
    Ok(())
}
