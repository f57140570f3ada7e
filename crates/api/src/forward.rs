//! A standby front-end takes requests while another one sequences: it forwards each, whole, to
//! the front-end the lease row names (`glasslog_postgres::LeaseWatch`) and answers what that
//! one answers. So any front-end behind a load balancer takes submissions and serves reads,
//! and the one that sequences is the only one that authenticates, writes and signs: a token
//! revoked there is refused whichever front-end a caller reaches.
//!
//! Failure cases (ARCHITECTURE.md, "Standbys forward"): no live lease (the sequencer died, no
//! one took over yet) is a 503 at once; a sequencer that does not answer within a lease (paused,
//! cut off) is a 503 after it, by which time another has taken over; a forwarded submission
//! whose answer is lost may have landed, and is found by its idempotency key when the caller
//! retries. Nothing here holds state a caller relies on.

use crate::problem::Problem;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Where requests go, kept current by [`watch`].
pub(crate) struct Forwarder {
    target: RwLock<Option<String>>,
    agent: ureq::Agent,
    max_body: usize,
}

/// Headers that belong to one connection, not to the request (RFC 9110, 7.6.1), and the ones
/// the client library sets itself.
const HOP_BY_HOP: &[HeaderName] = &[
    header::CONNECTION,
    header::HOST,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
];

fn hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(name) || name.as_str() == "keep-alive"
}

/// The largest answer passed back: a page of entries or an entry bundle is far smaller.
const MAX_ANSWER: u64 = 64 << 20;

impl Forwarder {
    /// Forwards with `patience` for the sequencer to answer: a lease, after which another
    /// front-end has taken over from one that does not.
    pub(crate) fn new(max_body: usize, patience: Duration) -> Arc<Self> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(1)))
            .timeout_global(Some(patience))
            .build()
            .into();
        Arc::new(Forwarder {
            target: RwLock::new(None),
            agent,
            max_body,
        })
    }

    fn target(&self) -> Option<String> {
        self.target.read().ok().and_then(|t| t.clone())
    }
}

/// Keeps the forwarder's target current from the lease row, every `every`, until `stop` is set.
/// Runs on a thread of its own (it blocks on the database). `own` is this front-end's own
/// URL: once the lease names it, it is taking over, and forwarding there would loop.
pub(crate) fn watch(
    fwd: Arc<Forwarder>,
    mut lease: glasslog_postgres::LeaseWatch,
    own: String,
    every: Duration,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("glasslog-forward-watch".into())
        .spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                // A database that cannot be reached says nothing of who sequences: forget it,
                // and answer 503 until it says again.
                let now = lease.sequencer().unwrap_or(None).filter(|url| *url != own);
                if let Ok(mut t) = fwd.target.write() {
                    *t = now;
                }
                std::thread::sleep(every);
            }
        })
}

/// Every route of a forwarding front-end: its own health, everything else forwarded.
pub(crate) fn router(fwd: Arc<Forwarder>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .route("/readyz", axum::routing::get(readyz))
        .fallback(forward)
        .with_state(fwd)
}

/// `GET /readyz` on a standby: ready to take requests while some front-end sequences; its body
/// says it forwards (the sequencer's says `ready`).
async fn readyz(State(fwd): State<Arc<Forwarder>>) -> Response {
    match fwd.target() {
        Some(_) => "forwarding\n".into_response(),
        None => no_sequencer().into_response(),
    }
}

fn no_sequencer() -> Problem {
    Problem::unavailable(
        "no front-end sequences the log right now (one is taking over): retry in a few seconds",
    )
}

async fn forward(State(fwd): State<Arc<Forwarder>>, req: Request) -> Response {
    let Some(target) = fwd.target() else {
        return no_sequencer().into_response();
    };
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, fwd.max_body).await {
        Ok(b) => b,
        Err(_) => {
            return Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                format!("the body exceeds {} bytes", fwd.max_body),
            )
            .into_response();
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    let mut out = axum::http::Request::builder()
        .method(parts.method.clone())
        .uri(format!("{}{path}", target.trim_end_matches('/')));
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            out = out.header(name, value);
        }
    }
    let Ok(out) = out.body(body.to_vec()) else {
        return Problem::bad_request("the request cannot be forwarded").into_response();
    };
    let agent = fwd.agent.clone();
    let answer = tokio::task::spawn_blocking(move || -> Result<Response, ureq::Error> {
        let mut resp = agent.run(out)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()?;
        let mut r = Response::new(Body::from(bytes));
        *r.status_mut() = status;
        for (name, value) in &headers {
            if !hop_by_hop(name) {
                r.headers_mut().append(name, value.clone());
            }
        }
        // RFC 9110, 7.6.3: an intermediary says so.
        r.headers_mut().append(
            header::VIA,
            axum::http::HeaderValue::from_static("1.1 glasslog-standby"),
        );
        Ok(r)
    })
    .await;
    match answer {
        Ok(Ok(r)) => r,
        // The sequencer did not answer (dead, paused, cut off): a submission may or may not
        // have landed, which a retry with the same idempotency key settles.
        Ok(Err(_)) | Err(_) => Problem::unavailable(
            "the sequencing front-end did not answer: retry (with the same Idempotency-Key, a submission is taken once)",
        )
        .into_response(),
    }
}
