//! `glasslog mirror`'s HTTP side: each mirrored log's verified copy, served with the
//! tlog-tiles interface at `/<origin hash>/`, and the submission API through which a log (or
//! anyone holding its data) pushes checkpoints and entries: `add-checkpoint` (a pending
//! checkpoint, checked as a witness checks one) and `add-entries` (packages proven by subtree
//! consistency proofs). The mirror's checkpoint carries the log's signatures and its own.
//!
//! Spec: <https://c2sp.org/tlog-mirror> (untagged, HEAD 5ba5ee8) and
//! <https://c2sp.org/tlog-tiles>; `shared/specs/TLOG-STANDARDS.md` §14. The per-origin prefix
//! serves only tlog-tiles paths: `tile/data/` (static-ct-api) and anything else is 404, as is
//! an origin hash the mirror does not hold (never a fallback).

use crate::problem::Problem;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use glasslog_log::{Mirror, MirrorError};
use glasslog_merkle::{
    AddCheckpoint, AddEntries, Checkpoint, EMPTY_ROOT, Hash, MemoryHashes, MirrorInfo, Note, Tile,
    leaf_hash, package_ranges, package_subtree_start, tree_root, verify_consistency,
    verify_subtree_consistency,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read as _;
use std::sync::{Arc, Mutex, PoisonError};

/// Pending checkpoints remembered per log: clients may prove against any recent one.
const PENDING_KEPT: usize = 8;
/// Entries a client may re-send below the mirror's next entry in one upload.
const MAX_OVERLAP: u64 = 8192;
/// The largest `add-entries` body, after decompression.
const MAX_BODY: usize = 64 << 20;

/// A pending checkpoint: verified, consistent with the last one, its entries not all stored.
#[derive(Clone)]
struct Pending {
    size: u64,
    root: Hash,
    note: String,
}

/// The mirrored logs, by the lowercase hex SHA-256 of their origin.
pub struct Mirrors {
    by_hash: HashMap<String, Arc<Mirror>>,
    /// Pending checkpoints by origin hash, by increasing size. In memory: after a restart a
    /// client gets 422 and sends its checkpoint again.
    pending: Mutex<HashMap<String, Vec<Pending>>>,
}

impl Mirrors {
    /// Serves `mirrors`.
    pub fn new(mirrors: impl IntoIterator<Item = Arc<Mirror>>) -> Self {
        Mirrors {
            by_hash: mirrors
                .into_iter()
                .map(|m| (origin_hash(m.origin()), m))
                .collect(),
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Pending>>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `add-checkpoint`: as a witness checks one (C2SP tlog-witness), but it only becomes the
    /// log's pending checkpoint; nothing is cosigned here.
    fn add_checkpoint(&self, body: &[u8]) -> Response {
        let req = match AddCheckpoint::parse(body) {
            Ok(r) => r,
            Err(e) => return Problem::bad_request(e.to_string()).into_response(),
        };
        let Some(origin) = Note::parse(req.checkpoint.as_bytes())
            .ok()
            .and_then(|n| Checkpoint::parse(&n.text).ok())
            .map(|c| c.origin)
        else {
            return Problem::bad_request("the checkpoint does not parse").into_response();
        };
        let hash = origin_hash(&origin);
        let Ok(mirror) = self.get(&hash) else {
            return Problem::not_found("this mirror does not mirror that log").into_response();
        };
        let cp = match mirror.open_log_checkpoint(&req.checkpoint) {
            Ok(c) => c,
            Err(e) => {
                return Problem::new(StatusCode::FORBIDDEN, "unknown-key", e.to_string())
                    .into_response();
            }
        };
        let mut pending = self.pending();
        let list = pending.entry(hash).or_default();
        let (latest_size, latest_root) = list
            .last()
            .map(|p| (p.size, p.root))
            .or_else(|| mirror.checkpoint().map(|c| (c.size, c.root)))
            .unwrap_or((0, EMPTY_ROOT));
        if req.old_size != latest_size {
            return size_conflict(latest_size);
        }
        if cp.size < latest_size {
            return Problem::bad_request("the checkpoint is smaller than its old size")
                .into_response();
        }
        let consistent = if cp.size == latest_size {
            cp.root == latest_root
        } else if latest_size == 0 {
            req.proof.is_empty()
        } else {
            verify_consistency(latest_size, cp.size, &req.proof, &latest_root, &cp.root).is_ok()
        };
        if !consistent {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "inconsistent",
                "the checkpoint is not consistent with the last one",
            )
            .into_response();
        }
        if list.last().is_none_or(|p| p.size < cp.size) {
            list.push(Pending {
                size: cp.size,
                root: cp.root,
                note: req.checkpoint,
            });
            if list.len() > PENDING_KEPT {
                list.remove(0);
            }
        }
        // The mirror cosigns only in add-entries, once the entries are stored.
        StatusCode::OK.into_response()
    }

    /// `add-entries`, in the order tlog-mirror lists its checks.
    fn add_entries(&self, body: &[u8], now: u64) -> Response {
        let req = match AddEntries::parse(body) {
            Ok(r) => r,
            Err(e) => return Problem::bad_request(e.to_string()).into_response(),
        };
        let h = &req.header;
        let hash = origin_hash(&h.origin);
        let Ok(mirror) = self.get(&hash) else {
            return Problem::not_found("this mirror does not mirror that log").into_response();
        };
        let pending: Vec<Pending> = self.pending().get(&hash).cloned().unwrap_or_default();
        let published = mirror.checkpoint();
        let Some(latest) = pending.last().cloned() else {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no-pending-checkpoint",
                "send the checkpoint to add-checkpoint first",
            )
            .into_response();
        };
        let next = mirror.size();
        let info = |pending_size: u64, next_entry: u64| MirrorInfo {
            pending_size,
            next_entry,
            ticket: Vec::new(),
        };
        let target = pending
            .iter()
            .find(|p| p.size == h.upload_end)
            .cloned()
            .or_else(|| {
                published
                    .as_ref()
                    .filter(|c| c.size == h.upload_end)
                    .map(|c| Pending {
                        size: c.size,
                        root: c.root,
                        note: c.note.clone(),
                    })
            });
        let Some(target) = target else {
            return mirror_info(StatusCode::CONFLICT, &info(latest.size, next));
        };
        let mirrored = published.as_ref().map_or(0, |c| c.size);
        if h.upload_end < mirrored
            || h.upload_start > next
            || next.min(h.upload_end).saturating_sub(h.upload_start) > MAX_OVERLAP
        {
            return mirror_info(StatusCode::CONFLICT, &info(target.size, next));
        }
        // Timestamp refresh: nothing to upload, a fresh cosignature on the mirror checkpoint.
        if h.upload_start == h.upload_end && h.upload_end == mirrored {
            return match mirror.publish(&target.note, now) {
                Ok(cp) => cosignature_response(&cp.cosignature),
                Err(e) => mirror_problem(e).into_response(),
            };
        }
        let mut next = next;
        let mut done = 0;
        for ((start, end), package) in
            package_ranges(h.upload_start, h.upload_end).zip(&req.packages)
        {
            let from = package_subtree_start(start);
            // The subtree's leaves: stored ones below `next`, the uploaded ones above.
            let stored = match mirror.stored_leaves(from, next.min(end).max(from)) {
                Ok(s) => s,
                Err(e) => return mirror_problem(e).into_response(),
            };
            let mut tree = MemoryHashes::new();
            for leaf in &stored {
                tree.push(*leaf);
            }
            let first_new = next.max(start);
            let skip = usize::try_from(first_new - start).unwrap_or(usize::MAX);
            for entry in package.entries.iter().skip(skip) {
                tree.push(leaf_hash(entry));
            }
            let proven = tree_root(end - from, &tree).is_ok_and(|sub| {
                verify_subtree_consistency(
                    from,
                    end,
                    target.size,
                    &package.proof,
                    &sub,
                    &target.root,
                )
                .is_ok()
            });
            if !proven {
                return Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad-proof",
                    format!("the package for [{start}, {end}) does not prove into the checkpoint"),
                )
                .into_response();
            }
            let new: Vec<Vec<u8>> = package.entries.iter().skip(skip).cloned().collect();
            if !new.is_empty() {
                match mirror.append_verified(next, &new) {
                    Ok(n) => next = n,
                    Err(e) => return mirror_problem(e).into_response(),
                }
            }
            done += 1;
        }
        if next < h.upload_end {
            if done == 0 && h.upload_start < h.upload_end {
                return Problem::bad_request("no whole package in the body").into_response();
            }
            return mirror_info(StatusCode::ACCEPTED, &info(target.size, next));
        }
        match mirror.publish(&target.note, now) {
            Ok(cp) => cosignature_response(&cp.cosignature),
            Err(MirrorError::Rollback { .. }) => {
                mirror_info(StatusCode::CONFLICT, &info(latest.size, next))
            }
            Err(e) => mirror_problem(e).into_response(),
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
    Ok(crate::routes::read::tile_response(bytes))
}

fn size_conflict(size: u64) -> Response {
    let mut resp = (StatusCode::CONFLICT, format!("{size}\n")).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/x.tlog.size"),
    );
    resp
}

fn mirror_info(status: StatusCode, info: &MirrorInfo) -> Response {
    let mut resp = (status, info.to_body()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/x.tlog.mirror-info"),
    );
    h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    resp
}

fn cosignature_response(line: &str) -> Response {
    let mut resp = line.to_owned().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    resp
}

/// The body, gunzipped when it says it is gzip (tlog-mirror: mirrors MUST accept it).
fn body_bytes(headers: &HeaderMap, body: &Bytes) -> Result<Vec<u8>, Problem> {
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
    if !gzip {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .take(u64::try_from(MAX_BODY + 1).unwrap_or(u64::MAX))
        .read_to_end(&mut out)
        .map_err(|e| Problem::bad_request(format!("the gzip body does not decompress: {e}")))?;
    if out.len() > MAX_BODY {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "the body is too large once decompressed",
        ));
    }
    Ok(out)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn add_checkpoint(State(m): State<Arc<Mirrors>>, body: Bytes) -> Response {
    // Proof checks and the pending-state lock: keep them off the async workers.
    tokio::task::spawn_blocking(move || m.add_checkpoint(&body))
        .await
        .unwrap_or_else(|_| Problem::unavailable("the request was cancelled").into_response())
}

async fn add_entries(State(m): State<Arc<Mirrors>>, headers: HeaderMap, body: Bytes) -> Response {
    let body = match body_bytes(&headers, &body) {
        Ok(b) => b,
        Err(p) => return p.into_response(),
    };
    // Storage writes and proof checks block: keep them off the async workers.
    tokio::task::spawn_blocking(move || m.add_entries(&body, now()))
        .await
        .unwrap_or_else(|_| Problem::unavailable("the request was cancelled").into_response())
}

/// The mirror's router: `GET /<origin hash>/checkpoint`, `GET /<origin hash>/tile/…`, and
/// `POST /add-checkpoint`, `POST /add-entries`.
pub fn router(mirrors: Arc<Mirrors>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/add-entries", post(add_entries))
        .route("/{origin_hash}/checkpoint", get(checkpoint))
        .route("/{origin_hash}/tile/{*path}", get(tile))
        .fallback(|| async { Problem::not_found("no such route") })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
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
    crate::listener::serve_plain(router(mirrors), listen, on_start, shutdown).await
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::panic,
        clippy::cast_possible_truncation,
        reason = "tests: small numbers"
    )]
    use super::*;
    use glasslog_log::MemoryStore;
    use glasslog_merkle::{
        AddEntriesHeader, Package, Signer, VerifierSet, subtree_consistency_proof,
    };
    use serde_json::Value;

    const ORIGIN: &str = "example.com/tlog-test-log";

    fn vectors(file: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/specs/vectors")
            .join(file);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn vector(id: &str) -> Value {
        vectors("tlog-mirror.json")["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id)
            .unwrap()
            .clone()
    }

    fn body_of(id: &str) -> Vec<u8> {
        hex::decode(vector(id)["expected_body_hex"].as_str().unwrap()).unwrap()
    }

    struct Fixture {
        mirrors: Mirrors,
        log: Signer,
        cosigner: Signer,
        entries: Vec<Vec<u8>>,
        tree: MemoryHashes,
    }

    fn fixture(entries: Vec<Vec<u8>>) -> Fixture {
        let log = Signer::from_seed(ORIGIN, [5; 32]).unwrap();
        let cosigner = Signer::from_seed("mirror.example/m", [6; 32]).unwrap();
        let mirror = Mirror::open(
            Arc::new(MemoryStore::new()),
            ORIGIN,
            &[log.vkey()],
            cosigner.clone(),
        )
        .unwrap();
        let mut tree = MemoryHashes::new();
        for e in &entries {
            tree.push(leaf_hash(e));
        }
        Fixture {
            mirrors: Mirrors::new([Arc::new(mirror)]),
            log,
            cosigner,
            entries,
            tree,
        }
    }

    impl Fixture {
        fn note(&self, size: u64) -> String {
            let root = if size == 0 {
                EMPTY_ROOT
            } else {
                glasslog_merkle::tree_root(size, &self.tree).unwrap()
            };
            self.log
                .sign_note(&Checkpoint::new(ORIGIN, size, root).to_text())
        }
        fn add_checkpoint(&self, old: u64, size: u64) -> u16 {
            let proof = if old > 0 && old < size {
                glasslog_merkle::consistency_proof(old, size, &self.tree).unwrap()
            } else {
                Vec::new()
            };
            let body = AddCheckpoint {
                old_size: old,
                proof,
                checkpoint: self.note(size),
            }
            .to_body();
            self.mirrors
                .add_checkpoint(body.as_bytes())
                .status()
                .as_u16()
        }
        /// An upload of `[start, end)` to the checkpoint of size `upto`, with `packages` of them.
        fn upload(&self, start: u64, end: u64, upto: u64, packages: usize) -> Vec<u8> {
            let packages = package_ranges(start, end)
                .take(packages)
                .map(|(a, b)| Package {
                    entries: self.entries[a as usize..b as usize].to_vec(),
                    proof: subtree_consistency_proof(package_subtree_start(a), b, upto, &self.tree)
                        .unwrap(),
                })
                .collect();
            AddEntries {
                header: AddEntriesHeader {
                    origin: ORIGIN.into(),
                    upload_start: start,
                    upload_end: upto.min(end).max(end),
                    ticket: Vec::new(),
                },
                packages,
            }
            .encode()
            .unwrap()
        }
        fn add_entries(&self, body: &[u8]) -> (u16, String) {
            let resp = self.mirrors.add_entries(body, 1_767_139_200);
            let status = resp.status().as_u16();
            let bytes = futures_body(resp);
            (status, bytes)
        }
    }

    fn futures_body(resp: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = rt
            .block_on(axum::body::to_bytes(resp.into_body(), usize::MAX))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    /// The spec-derived bodies (`shared/specs/vectors/tlog-mirror.json`) on the 8-entry test
    /// tree, and every row of its status table, in the spec's order.
    #[test]
    fn add_entries_gives_every_status_of_the_spec_table() {
        let leaves: Vec<Vec<u8>> = vectors("rfc6962-tree.json")["leaves_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(leaves.len(), 8);
        let f = fixture(leaves);
        let cases = vector("derived-add-entries-status")["cases"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(cases.len(), 11);
        let want = |i: usize| cases[i]["expected_status"].as_u64().unwrap() as u16;
        let full = body_of("derived-add-entries-full");
        // 404: another origin.
        let mut other = full.clone();
        other[2] = b'E';
        assert_eq!(f.add_entries(&other).0, want(0));
        // 422: no pending checkpoint yet.
        assert_eq!(f.add_entries(&full).0, want(1));
        assert_eq!(f.add_checkpoint(0, 8), 200);
        // 409 with mirror-info: an upload_end that is no pending size.
        let (status, body) = f.add_entries(&f.upload(0, 5, 5, 1));
        assert_eq!((status, body.as_str()), (want(2), "8\n0\n\n"));
        // 409: upload_start beyond the next entry.
        assert_eq!(f.add_entries(&f.upload(3, 8, 8, 1)).0, want(4));
        // 422: a proof that fails (an entry changed).
        let mut bad = full.clone();
        let at = bad.len() - 2;
        bad[at] ^= 1;
        assert_eq!(f.add_entries(&bad).0, want(6));
        // 400: the sequence is not empty and the body stops before its first package.
        let header_only = &full[..f.upload(0, 8, 8, 0).len()];
        assert_eq!(f.add_entries(header_only).0, want(7));
        // 200: the spec's full upload; the answer is the mirror's cosignature on size 8.
        let (status, line) = f.add_entries(&full);
        assert_eq!(status, want(9), "{line}");
        let set = VerifierSet::from_vkeys([f.cosigner.cosigner_vkey().as_str()]).unwrap();
        let cosigned = format!("{}{line}", f.note(8));
        assert!(Note::open(cosigned.as_bytes(), &set).is_ok(), "{line}");
        // The resume body (entries 3.. again, a ticket) and the timestamp refresh: 200.
        assert_eq!(f.add_entries(&body_of("derived-add-entries-resume")).0, 200);
        assert_eq!(
            f.add_entries(&body_of("derived-add-entries-timestamp-refresh"))
                .0,
            200
        );
        // 409: an upload to a size below the mirror checkpoint (also what a request finds
        // when a concurrent one moved the checkpoint past its upload_end).
        assert_eq!(f.add_checkpoint(8, 8), 200);
        assert_eq!(f.add_entries(&f.upload(0, 5, 5, 1)).0, want(3));
        assert_eq!(want(10), 409);
        // The served copy is the log's tree, cosigned.
        let cp = f
            .mirrors
            .get(&origin_hash(ORIGIN))
            .unwrap()
            .checkpoint()
            .unwrap();
        assert_eq!(cp.size, 8);
    }

    /// Partial uploads: 202 with the advanced next entry, then the rest; a too-large overlap
    /// is 409; add-checkpoint answers as a witness would.
    #[test]
    fn partial_uploads_resume_and_checkpoints_are_checked_as_a_witness_checks_them() {
        let f = fixture(
            (0..700)
                .map(|i| format!("entry {i}").into_bytes())
                .collect(),
        );
        assert_eq!(f.add_checkpoint(0, 300), 200);
        // A stale old size: 409 with the size; an inconsistent checkpoint: 422.
        assert_eq!(f.add_checkpoint(0, 700), 409);
        let forged = Signer::from_seed(ORIGIN, [5; 32])
            .unwrap()
            .sign_note(&Checkpoint::new(ORIGIN, 700, Hash([7; 32])).to_text());
        let body = AddCheckpoint {
            old_size: 300,
            proof: glasslog_merkle::consistency_proof(300, 700, &f.tree).unwrap(),
            checkpoint: forged,
        }
        .to_body();
        assert_eq!(
            f.mirrors.add_checkpoint(body.as_bytes()).status().as_u16(),
            422
        );
        let stranger = Signer::from_seed(ORIGIN, [9; 32]).unwrap();
        let body = AddCheckpoint {
            old_size: 300,
            proof: Vec::new(),
            checkpoint: stranger.sign_note(&Checkpoint::new(ORIGIN, 300, Hash([1; 32])).to_text()),
        }
        .to_body();
        assert_eq!(
            f.mirrors.add_checkpoint(body.as_bytes()).status().as_u16(),
            403
        );
        // One package of two: 202, next entry 256.
        let (status, info) = f.add_entries(&f.upload(0, 300, 300, 1));
        assert_eq!((status, info.as_str()), (202, "300\n256\n\n"));
        let (status, _) = f.add_entries(&f.upload(256, 300, 300, 1));
        assert_eq!(status, 200);
        // The log moves on: a new checkpoint, then the rest, gzip-compressed.
        assert_eq!(f.add_checkpoint(300, 700), 200);
        let body = f.upload(300, 700, 700, 4);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &body).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        let plain = body_bytes(&headers, &Bytes::from(gz.finish().unwrap())).unwrap();
        assert_eq!(plain, body);
        assert_eq!(f.add_entries(&plain).0, 200);
        let mirror = f.mirrors.get(&origin_hash(ORIGIN)).unwrap();
        assert_eq!(mirror.checkpoint().unwrap().size, 700);
        // Re-sending more than the allowed overlap below the next entry: 409.
        let big = fixture((0..9000).map(|i| format!("e{i}").into_bytes()).collect());
        assert_eq!(big.add_checkpoint(0, 9000), 200);
        let all = big.upload(0, 9000, 9000, usize::MAX);
        assert_eq!(big.add_entries(&all).0, 200);
        assert_eq!(big.add_entries(&all).0, 409);
    }

    #[test]
    fn origin_hashes_are_the_specs() {
        // sunlight's mirror vector (`shared/specs/vectors/tlog-mirror.json`).
        assert_eq!(
            super::origin_hash("rome2026h1.example.org"),
            "000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706"
        );
    }
}
