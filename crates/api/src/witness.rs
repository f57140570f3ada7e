//! A C2SP tlog-witness: `POST /add-checkpoint` cosigns a checkpoint only if it is consistent
//! with the last one this witness cosigned for the same origin, and stores it durably before
//! answering; `POST /sign-subtree` exchanges a checkpoint it cosigned for an ML-DSA-44
//! cosignature on a subtree of it; `GET /<hex SHA-256 of origin>/checkpoint` serves the latest
//! cosigned checkpoint to monitors.
//!
//! Spec: <https://c2sp.org/tlog-witness> v1.0.0 and HEAD 5ba5ee8 (status codes of §8.5 in
//! `shared/specs/TLOG-STANDARDS.md`), cosignatures per <https://c2sp.org/tlog-cosignature> v1.1:
//! Ed25519 `cosignature/v1`, ML-DSA-44 `subtree/v1`, or both.

use crate::problem::Problem;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use glasslog_merkle::{
    AddCheckpoint, Checkpoint, EMPTY_ROOT, Ed25519Key, Hash, MlDsaSigner, Note, NoteError,
    SignError, SignSubtree, Verifier as _, VerifierSet, verify_consistency,
    verify_subtree_consistency,
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
#[derive(Debug)]
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

/// A witness's cosigning keys, all under the witness's one name: Ed25519 (`cosignature/v1`),
/// ML-DSA-44 (`subtree/v1`, which the spec recommends and `sign-subtree` needs), or both.
pub struct WitnessKeys {
    /// The Ed25519 key: a key file's, or a PKCS#11 token's (`glasslog_hsm::TokenKey`).
    pub ed25519: Option<Box<dyn Ed25519Key>>,
    /// The ML-DSA-44 key.
    pub mldsa: Option<MlDsaSigner>,
}

impl WitnessKeys {
    /// The verifier key strings, Ed25519 first.
    pub fn vkeys(&self) -> Vec<String> {
        let ed = self.ed25519.as_ref().map(|e| e.verifier().cosigner_vkey());
        ed.into_iter()
            .chain(self.mldsa.as_ref().map(MlDsaSigner::vkey))
            .collect()
    }

    /// The cosignature lines for a whole checkpoint: one per key. An empty tree has no
    /// ML-DSA-44 cosignature (`[0, 0)` is not a subtree), so it gets the Ed25519 line only.
    /// A key in a token may refuse; then nothing is cosigned (the caller answers 503).
    fn cosign(&self, note_text: &str, cp: &Checkpoint, now: u64) -> Result<String, SignError> {
        let mut lines = String::new();
        if let Some(ed) = &self.ed25519 {
            lines.push_str(&ed.cosign_text(note_text, now)?.to_line());
        }
        if let Some(ml) = self.mldsa.as_ref().filter(|_| cp.size > 0) {
            // The origin was checked against the configured logs; a name or origin over 255
            // bytes cannot be cosigned in this format, and gets no line.
            if let Ok(sig) = ml.sign_checkpoint(cp, now) {
                lines.push_str(&sig.to_line());
            }
        }
        Ok(lines)
    }
}

/// A witness's configuration and state.
pub struct Witness {
    keys: WitnessKeys,
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
    /// No key, or keys under different names.
    #[error("a witness needs at least one key, and all its keys must carry its one name")]
    Keys,
}

impl Witness {
    /// A witness cosigning with `keys`, trusting each `(origin, vkey)`, keeping state in
    /// `state_file`.
    pub fn new(
        keys: WitnessKeys,
        logs: &[(String, String)],
        state_file: PathBuf,
    ) -> Result<Self, WitnessError> {
        match (&keys.ed25519, &keys.mldsa) {
            (None, None) => return Err(WitnessError::Keys),
            (Some(e), Some(m)) if e.verifier().name() != m.name() => {
                return Err(WitnessError::Keys);
            }
            _ => {}
        }
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
            keys,
            logs: map,
            state_file,
            state: Mutex::new(state),
        })
    }

    /// The witness's cosigner verifier keys (type 0x04 and/or 0x06), for clients and logs.
    pub fn vkeys(&self) -> Vec<String> {
        self.keys.vkeys()
    }

    /// Parses a request's checkpoint note for a configured origin: 400 when it does not parse,
    /// 404 for an unknown origin (checked before any signature, as the spec orders it).
    fn open_checkpoint(&self, text: &str) -> Result<(Note, Checkpoint, &VerifierSet), Problem> {
        let note = match Note::parse(text.as_bytes()) {
            Ok(note) => note,
            Err(e) => return Err(self.unparsable_note(text, &e)),
        };
        let cp = Checkpoint::parse(&note.text)
            .map_err(|e| Problem::bad_request(format!("checkpoint: {e}")))?;
        let known = self
            .logs
            .get(&cp.origin)
            .ok_or_else(|| Problem::not_found(format!("unknown origin {:?}", cp.origin)))?;
        Ok((note, cp, known))
    }

    /// A note that does not parse is a 400, except when the line that breaks it names a
    /// trusted key of a configured origin: a signature by a known key that cannot even be
    /// decoded fails to verify, which is a 403 (sunlight's "invalid signature" case, whose
    /// base64 is not canonical).
    fn unparsable_note(&self, text: &str, e: &NoteError) -> Problem {
        let bad = Problem::bad_request(format!("checkpoint: {e}"));
        if !matches!(e, NoteError::SignatureLine) {
            return bad;
        }
        let Some((body, sigs)) = text.rsplit_once("\n\n") else {
            return bad;
        };
        let Ok(cp) = Checkpoint::parse(&format!("{body}\n")) else {
            return bad;
        };
        let Some(known) = self.logs.get(&cp.origin) else {
            return Problem::not_found(format!("unknown origin {:?}", cp.origin));
        };
        let names_known = sigs.lines().any(|l| {
            l.strip_prefix("\u{2014} ")
                .and_then(|l| l.split_once(' '))
                .is_some_and(|(name, _)| known.names(name))
        });
        if names_known {
            Problem::forbidden("checkpoint signature: a trusted key's line does not verify")
        } else {
            bad
        }
    }

    fn persist(&self, state: &BTreeMap<String, Latest>) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
        glasslog_log::durable::write_file(&self.state_file, &bytes, 0o644)
    }

    /// The tlog-witness decision for one request body.
    fn add_checkpoint(&self, body: &[u8]) -> Result<String, Refusal> {
        let req = AddCheckpoint::parse(body).map_err(|e| Problem::bad_request(e.to_string()))?;
        let (note, cp, known) = self.open_checkpoint(&req.checkpoint)?;
        let verified: String = note
            .verify(known)
            .map_err(|e| Problem::forbidden(format!("checkpoint signature: {e}")))?
            .iter()
            .map(|s| s.to_line())
            .collect();
        // An ML-DSA-44 cosignature does not cover extension lines, so a witness with that key
        // would vouch for lines it never signed: refuse them, as sunlight does (local policy).
        if self.keys.mldsa.is_some() && !cp.extensions.is_empty() {
            return Err(Problem::bad_request(
                "this witness does not cosign checkpoints with extension lines",
            )
            .into());
        }
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
        let line = self.keys.cosign(&note.text, &cp, now).map_err(|e| {
            tracing::warn!(error = %e, "the witness key did not sign");
            Problem::unavailable("the witness's key did not sign; try again")
        })?;
        if line.is_empty() {
            return Err(Problem::bad_request(
                "this witness's only key is ML-DSA-44, which cannot cosign an empty tree",
            )
            .into());
        }
        // A replay of the checkpoint already stored changes nothing the witness must remember:
        // cosign it again, but neither rewrite nor fsync the state.
        if req.old_size == cp.size && stored_size == cp.size && state.contains_key(&cp.origin) {
            return Ok(line);
        }
        let latest = Latest {
            size: cp.size,
            root: cp.root.to_base64(),
            // Only the log lines that verified, and ours: a line forged under any name must
            // not be served to monitors or wedge later re-verification.
            cosigned: format!("{}\n{verified}{line}", note.text),
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

    /// The `sign-subtree` decision: stateless, because the witness's own ML-DSA-44 cosignature
    /// on the reference checkpoint proves it saw that tree.
    fn sign_subtree(&self, body: &[u8]) -> Result<String, Problem> {
        let req = SignSubtree::parse(body).map_err(|e| Problem::bad_request(e.to_string()))?;
        let (note, cp, _) = self.open_checkpoint(&req.checkpoint)?;
        let Some(ml) = &self.keys.mldsa else {
            return Err(Problem::forbidden(
                "this witness has no ML-DSA-44 key, and subtree cosignatures need one",
            ));
        };
        // An Ed25519 cosignature cannot be exchanged for a subtree one: only this witness's
        // ML-DSA-44 line vouches for the reference checkpoint.
        let own = ml.verifier();
        let vouched = note.signatures.iter().any(|s| {
            s.name == ml.name()
                && s.key_id == ml.key_id()
                && own.verify(note.text.as_bytes(), &s.signature)
        });
        if !vouched {
            return Err(Problem::forbidden(
                "the reference checkpoint carries no ML-DSA-44 cosignature of this witness",
            ));
        }
        if !cp.extensions.is_empty() {
            return Err(Problem::bad_request(
                "the reference checkpoint has extension lines",
            ));
        }
        if req.end > cp.size {
            return Err(Problem::bad_request(format!(
                "the subtree ends at {}, beyond the checkpoint's size {}",
                req.end, cp.size
            )));
        }
        verify_subtree_consistency(req.start, req.end, cp.size, &req.proof, &req.hash, &cp.root)
            .map_err(|e| {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "inconsistent",
                    format!("the subtree proof does not verify: {e}"),
                )
            })?;
        // Subtree cosignatures carry timestamp 0: no claim that this is the largest tree seen.
        let sig = ml
            .sign_subtree(&cp.origin, req.start, req.end, &req.hash, 0)
            .map_err(|e| Problem::bad_request(e.to_string()))?;
        Ok(sig.to_line())
    }

    fn latest(&self, origin_hash: &str) -> Option<String> {
        // Only a lowercase hex SHA-256 names an origin; anything else is a 404, never a match.
        if origin_hash.len() != 64
            || !origin_hash
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
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

/// A 200 with signature lines or a checkpoint, typed as tlog-tiles checkpoints are.
fn text_response(body: String) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    let w2 = Arc::clone(&w);
    // The decision writes and fsyncs the state file: keep it off the async workers.
    match tokio::task::spawn_blocking(move || w2.add_checkpoint(&body)).await {
        Ok(Ok(lines)) => text_response(lines),
        Ok(Err(refusal)) => refusal.into_response(),
        Err(_) => Problem::unavailable("worker failed").into_response(),
    }
}

async fn sign_subtree(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    // ML-DSA-44 signing and verifying is a fraction of a millisecond to a few: off the workers.
    match tokio::task::spawn_blocking(move || w.sign_subtree(&body)).await {
        Ok(Ok(lines)) => text_response(lines),
        Ok(Err(problem)) => problem.into_response(),
        Err(_) => Problem::unavailable("worker failed").into_response(),
    }
}

async fn latest(State(w): State<Arc<Witness>>, Path(origin_hash): Path<String>) -> Response {
    match w.latest(&origin_hash) {
        Some(note) => text_response(note),
        None => Problem::not_found("no cosigned checkpoint for that origin").into_response(),
    }
}

/// The witness's router.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/sign-subtree", post(sign_subtree))
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
    on_start: impl FnOnce(std::net::SocketAddr, &[String]),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let vkeys = witness.vkeys();
    crate::listener::serve_plain(
        router(Arc::new(witness)),
        listen,
        |addr| on_start(addr, &vkeys),
        shutdown,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use glasslog_merkle::{
        MemoryHashes, Signer, consistency_proof, leaf_hash, subtree_consistency_proof, subtree_hash,
    };
    use serde_json::Value;

    const NAME: &str = "example.com/witness";

    fn vectors(file: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/specs/vectors")
            .join(file);
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn keys() -> WitnessKeys {
        WitnessKeys {
            ed25519: Some(Box::new(Signer::from_seed(NAME, [21; 32]).unwrap())),
            mldsa: Some(MlDsaSigner::from_seed(NAME, &[22; 32]).unwrap()),
        }
    }

    fn status(r: &Result<String, Refusal>) -> u16 {
        match r {
            Ok(_) => 200,
            Err(Refusal::Conflict(_)) => 409,
            Err(Refusal::Problem(p)) => p.status,
        }
    }

    fn stored(w: &Witness, origin: &str) -> u64 {
        w.state.lock().unwrap().get(origin).map_or(0, |l| l.size)
    }

    /// Lines of a 200 body: every one a cosignature by this witness, verifying over `text`.
    fn check_cosignatures(w: &Witness, text: &str, body: &str) {
        let set = VerifierSet::from_vkeys(w.vkeys().iter().map(String::as_str)).unwrap();
        let note = Note::open(format!("{text}\n{body}").as_bytes(), &set).unwrap();
        assert!(!note.signatures.is_empty());
        assert!(note.signatures.iter().all(|s| s.name == NAME), "{body}");
        assert_eq!(note.verify(&set).unwrap().len(), note.signatures.len());
    }

    #[test]
    fn the_sunlight_sequence_gets_every_status_in_order() {
        let v = vectors("tlog-witness-add-checkpoint.json");
        let origin = v["log"]["origin"].as_str().unwrap().to_owned();
        let vkey = v["log"]["vkey"].as_str().unwrap().to_owned();
        let dir = tempfile::tempdir().unwrap();
        let w = Witness::new(keys(), &[(origin.clone(), vkey)], dir.path().join("s.json")).unwrap();
        let steps = v["sequence"].as_array().unwrap();
        assert_eq!(steps.len(), 11);
        for step in steps {
            let name = step["name"].as_str().unwrap();
            assert_eq!(
                stored(&w, &origin),
                step["stored_size_before"].as_u64().unwrap(),
                "{name}"
            );
            let body = step["request_body"].as_str().unwrap();
            let r = w.add_checkpoint(body.as_bytes());
            assert_eq!(
                status(&r),
                u16::try_from(step["expected_status"].as_u64().unwrap()).unwrap(),
                "{name}"
            );
            match &r {
                Ok(lines) => {
                    let req = AddCheckpoint::parse(body.as_bytes()).unwrap();
                    let text = Note::parse(req.checkpoint.as_bytes()).unwrap().text;
                    check_cosignatures(&w, &text, lines);
                    // One Ed25519 and one ML-DSA-44 line, as sunlight sends; no log line.
                    assert_eq!(lines.lines().count(), 2, "{name}");
                }
                Err(Refusal::Conflict(n)) => {
                    assert_eq!(format!("{n}\n"), step["expected_body"].as_str().unwrap());
                    let resp = Refusal::Conflict(*n).into_response();
                    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/x.tlog.size");
                }
                Err(Refusal::Problem(_)) => {}
            }
            assert_eq!(
                stored(&w, &origin),
                step["stored_size_after"].as_u64().unwrap(),
                "{name}"
            );
        }
    }

    /// A log of our own, for the behaviour cases the vectors give in words.
    struct TestLog {
        signer: Signer,
        tree: MemoryHashes,
    }

    impl TestLog {
        fn new(leaves: &[&[u8]]) -> Self {
            let mut tree = MemoryHashes::new();
            for l in leaves {
                tree.push(leaf_hash(l));
            }
            TestLog {
                signer: Signer::from_seed("example.com/log", [5; 32]).unwrap(),
                tree,
            }
        }

        fn checkpoint(&self, size: u64, root: Hash, extensions: &[&str]) -> (String, String) {
            let mut cp = Checkpoint::new("example.com/log", size, root);
            cp.extensions = extensions.iter().map(|e| (*e).to_owned()).collect();
            let text = cp.to_text();
            (self.signer.sign_note(&text), text)
        }

        fn at(&self, size: u64) -> (String, String) {
            let root = glasslog_merkle::tree_root(size, &self.tree).unwrap();
            self.checkpoint(size, root, &[])
        }

        fn witness(&self, dir: &std::path::Path, keys: WitnessKeys) -> Witness {
            let logs = [("example.com/log".to_owned(), self.signer.vkey())];
            Witness::new(keys, &logs, dir.join("state.json")).unwrap()
        }
    }

    fn add(w: &Witness, old: u64, proof: &[Hash], note: &str) -> Result<String, Refusal> {
        let body = AddCheckpoint {
            old_size: old,
            proof: proof.to_vec(),
            checkpoint: note.to_owned(),
        };
        w.add_checkpoint(body.to_body().as_bytes())
    }

    #[test]
    fn empty_trees_extensions_and_forged_lines_follow_the_spec() {
        let log = TestLog::new(&[b"1", b"2", b"3", b"4", b"5"]);
        let dir = tempfile::tempdir().unwrap();
        let w = log.witness(dir.path(), keys());
        // A size-0 checkpoint must carry the empty root.
        let (bad_empty, _) = log.checkpoint(0, Hash([1; 32]), &[]);
        assert_eq!(status(&add(&w, 0, &[], &bad_empty)), 422);
        let (empty, empty_text) = log.at(0);
        let r = add(&w, 0, &[], &empty);
        assert_eq!(status(&r), 200);
        // The empty tree gets the Ed25519 line only: [0, 0) has no ML-DSA-44 cosignature.
        assert_eq!(r.as_ref().unwrap().lines().count(), 1);
        check_cosignatures(&w, &empty_text, r.as_ref().unwrap());
        // Another empty root for size 0, once size 0 is stored: 422.
        assert_eq!(status(&add(&w, 0, &[], &bad_empty)), 422);
        // old 0 must come with an empty proof.
        let (five, five_text) = log.at(5);
        assert_eq!(status(&add(&w, 0, &[Hash([3; 32])], &five)), 422);
        // A line forged under the witness's own name is ignored, and never stored.
        let forged =
            format!("{five}\u{2014} {NAME} AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
        let r = add(&w, 0, &[], &forged);
        assert_eq!(status(&r), 200);
        assert!(
            !r.as_ref().unwrap().contains("example.com/log"),
            "the log's line is not echoed"
        );
        let hash = hex(&Sha256::digest(b"example.com/log"));
        let served = w.latest(&hash).unwrap();
        assert!(
            !served.contains(&format!("{NAME} AAAAAAAAAAAA")),
            "{served}"
        );
        let set = VerifierSet::from_vkeys(
            w.vkeys()
                .iter()
                .map(String::as_str)
                .chain([log.signer.vkey().as_str()]),
        )
        .unwrap();
        let opened = Note::open(served.as_bytes(), &set).unwrap();
        assert_eq!(opened.text, five_text);
        assert_eq!(
            opened.verify(&set).unwrap().len(),
            3,
            "log, Ed25519 and ML-DSA-44"
        );
        // Unknown or malformed hashes are 404s, never a match.
        assert!(w.latest(&hash.to_uppercase()).is_none());
        assert!(w.latest("checkpoint").is_none());
        // Extension lines: refused by a witness with an ML-DSA-44 key, which cannot cover them.
        let (ext, _) = log.checkpoint(5, glasslog_merkle::tree_root(5, &log.tree).unwrap(), &["x"]);
        assert_eq!(status(&add(&w, 5, &[], &ext)), 400);
        let ed_only = log.witness(
            &dir.path().join("ed"),
            WitnessKeys {
                ed25519: Some(Box::new(Signer::from_seed(NAME, [21; 32]).unwrap())),
                mldsa: None,
            },
        );
        std::fs::create_dir_all(dir.path().join("ed")).unwrap();
        assert_eq!(status(&add(&ed_only, 0, &[], &ext)), 200);
        // Growth keeps working after the forged line, from the stored state.
        let log8 = TestLog::new(&[b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8"]);
        let (eight, _) = log8.at(8);
        let proof = consistency_proof(5, 8, &log8.tree).unwrap();
        assert_eq!(status(&add(&w, 5, &proof, &eight)), 200);
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sign_subtree_exchanges_only_its_own_ml_dsa_cosignature() {
        let log = TestLog::new(&[b"1", b"2", b"3", b"4", b"5"]);
        let dir = tempfile::tempdir().unwrap();
        let w = log.witness(dir.path(), keys());
        let (five, five_text) = log.at(5);
        let lines = add(&w, 0, &[], &five).unwrap();
        let (ed_line, ml_line) = lines.split_once('\n').unwrap();
        let ml_line = ml_line.trim_end();
        let witnessed = format!("{five}{lines}");
        let req = |start, end, cp: &str| SignSubtree {
            start,
            end,
            hash: subtree_hash(start, end, &log.tree).unwrap(),
            proof: subtree_consistency_proof(start, end, 5, &log.tree).unwrap(),
            checkpoint: cp.to_owned(),
        };
        let run = |r: &SignSubtree| {
            let body = r.to_body();
            match w.sign_subtree(body.as_bytes()) {
                Ok(line) => (200, line),
                Err(p) => (p.status, String::new()),
            }
        };
        let ml = w.keys.mldsa.as_ref().unwrap().verifier();
        for (start, end) in [(4, 5), (0, 4), (0, 5)] {
            let r = req(start, end, &witnessed);
            let (code, line) = run(&r);
            assert_eq!(code, 200, "[{start}, {end})");
            // One ML-DSA-44 line with timestamp 0, verifying for that subtree.
            let n = Note::parse(format!("{five_text}\n{line}").as_bytes()).unwrap();
            assert_eq!(n.signatures.len(), 1);
            let blob = &n.signatures[0].signature;
            assert_eq!(
                ml.verified_subtree("example.com/log", start, end, &r.hash, blob),
                Some(0)
            );
        }
        let only_ml = format!("{five}{ml_line}\n");
        assert_eq!(run(&req(4, 5, &only_ml)).0, 200);
        // 400: not a subtree, beyond the checkpoint, a leading zero, no checkpoint.
        let mut bad = req(4, 5, &witnessed);
        bad.start = 1;
        bad.end = 3;
        assert_eq!(
            w.sign_subtree(bad.to_body().as_bytes()).unwrap_err().status,
            400
        );
        let mut beyond = req(4, 5, &witnessed);
        beyond.end = 6;
        assert_eq!(run(&beyond).0, 400);
        let zero = req(4, 5, &witnessed)
            .to_body()
            .replacen("subtree 4 5", "subtree 04 5", 1);
        assert_eq!(w.sign_subtree(zero.as_bytes()).unwrap_err().status, 400);
        let cut = req(4, 5, &witnessed).to_body();
        let cut = cut.split("\n\n").next().unwrap();
        assert_eq!(w.sign_subtree(cut.as_bytes()).unwrap_err().status, 400);
        // 422: a flipped bit in the hash or in the proof.
        let mut flipped = req(0, 4, &witnessed);
        flipped.hash.0[0] ^= 1;
        assert_eq!(run(&flipped).0, 422);
        let mut flipped = req(4, 5, &witnessed);
        flipped.proof[0].0[0] ^= 1;
        assert_eq!(run(&flipped).0, 422);
        // 404: another origin. 403: only the log's signature, or only our Ed25519 line.
        let other = Signer::from_seed("example.com/other", [9; 32]).unwrap();
        let foreign =
            other.sign_note(&Checkpoint::new("example.com/other", 5, Hash([0; 32])).to_text());
        assert_eq!(run(&req(4, 5, &foreign)).0, 404);
        assert_eq!(run(&req(4, 5, &five)).0, 403);
        let only_ed = format!("{five}{ed_line}\n");
        assert_eq!(run(&req(4, 5, &only_ed)).0, 403);
    }
}
