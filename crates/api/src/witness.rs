//! A C2SP tlog-witness: `POST /add-checkpoint` cosigns a checkpoint only if it is consistent
//! with the last one this witness cosigned for the same origin, and stores it durably before
//! answering; `GET /<hex SHA-256 of origin>/checkpoint` serves the latest cosigned checkpoint.

use crate::problem::Problem;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use glasslog_merkle::{
    AddCheckpoint, Checkpoint, EMPTY_ROOT, Hash, Note, Signer, VerifierSet, verify_consistency,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The latest cosigned checkpoint of one origin.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Latest {
    size: u64,
    root: String,
    /// The checkpoint with this witness's cosignature appended.
    cosigned: String,
}

/// Why a checkpoint was not cosigned.
enum Refusal {
    /// An error with a problem document.
    Problem(Box<Problem>),
    /// The client's old size is not the stored one (409, `text/x.tlog.size`).
    Conflict(u64),
}

impl From<Problem> for Refusal {
    fn from(p: Problem) -> Self {
        Refusal::Problem(Box::new(p))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Problem(p) => p.into_response(),
            Refusal::Conflict(size) => {
                let mut resp = (StatusCode::CONFLICT, format!("{size}\n")).into_response();
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/x.tlog.size"),
                );
                resp
            }
        }
    }
}

/// A witness's configuration and state.
pub struct Witness {
    signer: Signer,
    logs: BTreeMap<String, VerifierSet>,
    state_file: PathBuf,
    // Check-and-update must be one atomic step: two concurrent requests must not roll the
    // state back. One lock serializes them; the file is rewritten before the lock is released.
    state: Mutex<BTreeMap<String, Latest>>,
}

/// Why a witness could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The state file could not be read.
    #[error("witness state {0}: {1}")]
    State(PathBuf, String),
    /// A log's verifier key is invalid.
    #[error("log {0}: {1}")]
    Log(String, String),
}

impl Witness {
    /// A witness signing with `signer`, trusting each `(origin, vkey)`, keeping state in
    /// `state_file`.
    pub fn new(
        signer: Signer,
        logs: &[(String, String)],
        state_file: PathBuf,
    ) -> Result<Self, WitnessError> {
        let mut map = BTreeMap::new();
        for (origin, vkey) in logs {
            let set = VerifierSet::from_vkeys([vkey.as_str()])
                .map_err(|e| WitnessError::Log(origin.clone(), e.to_string()))?;
            map.insert(origin.clone(), set);
        }
        let state = match std::fs::read(&state_file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| WitnessError::State(state_file.clone(), e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(WitnessError::State(state_file.clone(), e.to_string())),
        };
        Ok(Witness {
            signer,
            logs: map,
            state_file,
            state: Mutex::new(state),
        })
    }

    /// The witness's cosigner verifier key (type 0x04), for clients and logs.
    pub fn vkey(&self) -> String {
        self.signer.cosigner_vkey()
    }

    fn persist(&self, state: &BTreeMap<String, Latest>) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
        glasslog_log::durable::write_file(&self.state_file, &bytes, 0o644)
    }

    /// The tlog-witness decision for one request body.
    fn add_checkpoint(&self, body: &[u8]) -> Result<String, Refusal> {
        let req = AddCheckpoint::parse(body).map_err(|e| Problem::bad_request(e.to_string()))?;
        let note = Note::parse(req.checkpoint.as_bytes())
            .map_err(|e| Problem::bad_request(format!("checkpoint: {e}")))?;
        let cp = Checkpoint::parse(&note.text)
            .map_err(|e| Problem::bad_request(format!("checkpoint: {e}")))?;
        let known = self
            .logs
            .get(&cp.origin)
            .ok_or_else(|| Problem::not_found(format!("unknown origin {:?}", cp.origin)))?;
        note.verify(known)
            .map_err(|e| Problem::forbidden(format!("checkpoint signature: {e}")))?;
        if req.old_size > cp.size {
            let detail = format!(
                "old size {} is beyond the checkpoint's size {}",
                req.old_size, cp.size
            );
            return Err(Problem::bad_request(detail).into());
        }
        let unprocessable = |detail: String| {
            Refusal::from(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "inconsistent",
                detail,
            ))
        };
        let mut state = self
            .state
            .lock()
            .map_err(|_| Problem::unavailable("witness state unavailable"))?;
        let (stored_size, stored_root) = match state.get(&cp.origin) {
            Some(l) => (
                l.size,
                Hash::from_base64(&l.root)
                    .map_err(|_| Problem::unavailable("witness state is corrupt"))?,
            ),
            None => (0, EMPTY_ROOT),
        };
        if req.old_size != stored_size {
            return Err(Refusal::Conflict(stored_size));
        }
        if cp.size == 0 && cp.root != EMPTY_ROOT {
            return Err(unprocessable("a tree of size 0 has the empty root".into()));
        }
        if req.old_size == 0 {
            if !req.proof.is_empty() {
                return Err(unprocessable("old size 0 takes an empty proof".into()));
            }
        } else if req.old_size == cp.size {
            if cp.root != stored_root || !req.proof.is_empty() {
                return Err(unprocessable(format!(
                    "a different root for size {}",
                    cp.size
                )));
            }
        } else {
            verify_consistency(req.old_size, cp.size, &req.proof, &stored_root, &cp.root).map_err(
                |e| unprocessable(format!("not consistent with size {}: {e}", req.old_size)),
            )?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs().max(1));
        let line = self.signer.cosign(&note.text, now).to_line();
        // A replay of the checkpoint already stored changes nothing the witness must remember:
        // cosign it again, but neither rewrite nor fsync the state.
        if req.old_size == cp.size && stored_size == cp.size && state.contains_key(&cp.origin) {
            return Ok(line);
        }
        let latest = Latest {
            size: cp.size,
            root: cp.root.to_base64(),
            cosigned: format!("{}{line}", req.checkpoint),
        };
        let previous = state.insert(cp.origin.clone(), latest);
        // Durable before the answer: a crash after replying must not forget what was cosigned.
        if let Err(e) = self.persist(&state) {
            match previous {
                Some(p) => state.insert(cp.origin.clone(), p),
                None => state.remove(&cp.origin),
            };
            tracing::error!(error = %e, "cannot store witness state");
            return Err(Problem::unavailable("cannot store the witness state").into());
        }
        Ok(line)
    }

    fn latest(&self, origin_hash: &str) -> Option<String> {
        let state = self.state.lock().ok()?;
        state
            .iter()
            .find(|(origin, _)| {
                Sha256::digest(origin.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
                    == origin_hash
            })
            .map(|(_, l)| l.cosigned.clone())
    }
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    let w2 = Arc::clone(&w);
    // The decision writes and fsyncs the state file: keep it off the async workers.
    match tokio::task::spawn_blocking(move || w2.add_checkpoint(&body)).await {
        Ok(Ok(line)) => {
            let mut resp = line.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            resp
        }
        Ok(Err(refusal)) => refusal.into_response(),
        Err(_) => Problem::unavailable("worker failed").into_response(),
    }
}

async fn latest(State(w): State<Arc<Witness>>, Path(origin_hash): Path<String>) -> Response {
    match w.latest(&origin_hash) {
        Some(note) => {
            let mut resp = note.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            resp
        }
        None => Problem::not_found("no cosigned checkpoint for that origin").into_response(),
    }
}

/// The witness's router.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/{origin_hash}/checkpoint", get(latest))
        .fallback(|| async { Problem::not_found("no such route") })
        .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
        .layer(axum::middleware::map_response(crate::problem::normalize))
        .with_state(witness)
}

/// Serves a witness until `shutdown` resolves; `on_start` gets the bound address.
pub async fn serve(
    witness: Witness,
    listen: std::net::SocketAddr,
    on_start: impl FnOnce(std::net::SocketAddr, &str),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    on_start(addr, &witness.vkey());
    crate::listener::run(
        listener,
        router(Arc::new(witness)),
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
