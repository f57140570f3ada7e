//! A client for glasslog (and, for the tile routes, any C2SP tiled log) that verifies every
//! answer it can before returning it: checkpoint signatures against the configured verifier
//! key, inclusion and consistency proofs against verified checkpoints, tiles against the
//! signed root. Errors say whether the log misbehaved ([`Error::Lied`]) or could not be
//! reached ([`Error::Unreachable`]). It depends on the merkle crate only.

mod audit;
mod bundle;
mod monitor;
mod tiles;

pub use audit::{AuditState, Auditor};
pub use bundle::{ProofBundle, verify_bundle, verify_tlog_proof};
pub use monitor::{EntrySink, Monitor};
pub use tiles::TileFetcher;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use glasslog_merkle::{
    Checkpoint, Cosigner, Hash, LogKey, Note, NoteSignature, Policy, PolicyRejection,
    Verifier as _, VerifierSet, leaf_hash, verify_consistency, verify_inclusion,
};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// What went wrong, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The log answered something that does not verify: a bad signature, a proof that fails,
    /// checkpoints that are not consistent, a tile that does not hash to the signed root. This
    /// is evidence; keep it.
    #[error("the log's answer does not verify: {0}")]
    Lied(String),
    /// The log could not be reached or kept failing (after retries).
    #[error("the log is unreachable: {0}")]
    Unreachable(String),
    /// The log refused the request (4xx), with its problem detail.
    #[error("the log refused the request ({status}): {detail}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The problem document's detail.
        detail: String,
        /// The whole problem document.
        problem: Value,
    },
    /// A local argument or configuration is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The checkpoint is the log's, but fewer of the trusted witnesses cosigned it than the
    /// quorum asks: not (yet) evidence of anything, but not to be relied on either.
    #[error("the checkpoint is cosigned by {have} of the {need} witnesses the quorum needs")]
    Unwitnessed {
        /// Distinct trusted witnesses whose cosignature verified.
        have: usize,
        /// The quorum.
        need: usize,
    },
    /// The checkpoint is the log's, but it does not meet the trust policy's quorum (C2SP
    /// tlog-policy): like [`Error::Unwitnessed`], not evidence of a lie.
    #[error("the checkpoint does not meet the trust policy's quorum (cosigned by: {0})")]
    PolicyNotMet(String),
}

/// A checkpoint whose signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The parsed body.
    pub checkpoint: Checkpoint,
    /// The signed note as served.
    pub note: String,
}

/// An appended entry as the log reported it.
#[derive(Clone, Debug)]
pub struct Submitted {
    /// Its index.
    pub index: u64,
    /// Its leaf hash.
    pub leaf_hash: Hash,
    /// Whether it was already in the log.
    pub duplicate: bool,
    /// The redaction report.
    pub redactions: Value,
    /// With `wait`: the verified checkpoint covering it and the verified audit path.
    pub proof: Option<(VerifiedCheckpoint, Vec<Hash>)>,
}

/// A stored entry and its leaf hash, checked against each other.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its index.
    pub index: u64,
    /// The entry's bytes (canonical JSON): the leaf data, or in a log encrypted at rest the
    /// plaintext its sealed record commits to.
    pub bytes: Vec<u8>,
    /// The leaf hash: of `bytes`, or of the sealed record.
    pub leaf_hash: Hash,
    /// In a log encrypted at rest, the record and salt that tie `bytes` to the leaf.
    pub sealed: Option<glasslog_seal::SealedParts>,
}

/// An entry from the API's JSON (`GET /v1/entries…`), checked: the leaf hash the server
/// states is the hash of the bytes, or of a sealed record that commits to them.
fn checked_entry(v: &Value, index: u64) -> Result<Entry, Error> {
    if v["erased"].as_bool() == Some(true) {
        return Err(Error::Invalid(format!(
            "entry {index} was erased: its leaf stays in the tree, its contents are gone"
        )));
    }
    let bytes = v["entry_base64"]
        .as_str()
        .and_then(|b| STANDARD.decode(b).ok())
        .ok_or_else(|| Error::Lied("entry without bytes".into()))?;
    let sealed = match v.get("sealed") {
        None | Some(Value::Null) => None,
        Some(s) => Some(
            serde_json::from_value::<glasslog_seal::SealedParts>(s.clone())
                .map_err(|e| Error::Lied(format!("entry {index}: sealed parts: {e}")))?,
        ),
    };
    let leaf = match &sealed {
        Some(parts) => leaf_hash(
            &parts
                .leaf_data(&bytes)
                .map_err(|e| Error::Lied(format!("entry {index}: {e}")))?,
        ),
        None => leaf_hash(&bytes),
    };
    if v["index"].as_u64() != Some(index)
        || v["leaf_hash"].as_str() != Some(leaf.to_base64().as_str())
    {
        return Err(Error::Lied(format!(
            "entry {index}: the index or leaf hash does not match the bytes"
        )));
    }
    Ok(Entry {
        index,
        bytes,
        leaf_hash: leaf,
        sealed,
    })
}

/// What a checkpoint must carry to be relied on: the log's signature, and with witnesses
/// configured, cosignatures from a quorum of them (a count, or a C2SP tlog-policy). Used by
/// [`Client`] and for offline checks of bundles and reports.
#[derive(Clone, Debug)]
pub struct Trust {
    /// The log's keys (Ed25519 and/or ML-DSA-44), all named by its origin; any one signing
    /// is enough, and a failing one rejects the note.
    logs: Vec<LogKey>,
    witnesses: Vec<Cosigner>,
    quorum: usize,
    policy: Option<Arc<Policy>>,
}

impl Trust {
    /// Trust in checkpoints signed by the log key `vkey` (Ed25519, type 0x01, or ML-DSA-44,
    /// type 0x06), no witnesses needed.
    pub fn new(vkey: &str) -> Result<Self, Error> {
        let key =
            LogKey::from_vkey(vkey).map_err(|e| Error::Invalid(format!("verifier key: {e}")))?;
        Ok(Trust {
            logs: vec![key],
            witnesses: Vec::new(),
            quorum: 0,
            policy: None,
        })
    }

    /// Also trusts `vkey`, another key of the same log (its ML-DSA-44 key beside its Ed25519
    /// one, or the other way round).
    pub fn with_log_key(mut self, vkey: &str) -> Result<Self, Error> {
        let key =
            LogKey::from_vkey(vkey).map_err(|e| Error::Invalid(format!("verifier key: {e}")))?;
        if key.name() != self.origin() {
            return Err(Error::Invalid(format!(
                "verifier key {vkey:?} is not named by the origin {:?}",
                self.origin()
            )));
        }
        self.logs.push(key);
        Ok(self)
    }

    /// The log's origin: its keys' name.
    pub fn origin(&self) -> &str {
        self.logs.first().map_or("", |k| k.name())
    }

    /// The first log key given, as a key string.
    pub fn primary_vkey(&self) -> String {
        self.logs.first().map(LogKey::vkey).unwrap_or_default()
    }

    /// Whether `vkey` is one of the log keys trusted here.
    pub fn trusts_log_key(&self, vkey: &str) -> bool {
        self.logs.iter().any(|k| k.vkey() == vkey)
    }

    /// Requires every checkpoint to be cosigned by `quorum` distinct witnesses among `vkeys`
    /// (C2SP tlog-cosignature verifier keys, Ed25519 or ML-DSA-44), as `glasslog serve`'s
    /// `witness_quorum` does before it serves one. Keys that share a name are one witness.
    pub fn with_witnesses(mut self, vkeys: &[String], quorum: usize) -> Result<Self, Error> {
        let mut witnesses: Vec<Cosigner> = Vec::new();
        for k in vkeys {
            let v = Cosigner::from_vkey(k)
                .map_err(|e| Error::Invalid(format!("witness key {k:?}: {e}")))?;
            if witnesses
                .iter()
                .any(|w| w.name() == v.name() && w.key_id() == v.key_id())
            {
                return Err(Error::Invalid(format!(
                    "witness key {k:?} is given twice: a quorum counts distinct witnesses"
                )));
            }
            witnesses.push(v);
        }
        let mut names: Vec<&str> = witnesses.iter().map(|w| w.name()).collect();
        names.sort_unstable();
        names.dedup();
        if quorum > names.len() {
            return Err(Error::Invalid(format!(
                "a quorum of {quorum} cannot be met by {} witness(es)",
                names.len()
            )));
        }
        self.witnesses = witnesses;
        self.quorum = quorum;
        Ok(self)
    }

    /// Requires every checkpoint to meet a C2SP tlog-policy, on top of the log's signature
    /// and any quorum given with [`Trust::with_witnesses`]. A policy that lists logs must
    /// list one of this log's keys.
    pub fn with_policy(mut self, policy: Policy) -> Result<Self, Error> {
        if policy.has_logs() && !policy.logs().any(|(k, _)| self.trusts_log_key(&k.vkey())) {
            return Err(Error::Invalid(format!(
                "the policy lists no key of the log {:?}",
                self.origin()
            )));
        }
        self.policy = Some(Arc::new(policy));
        Ok(self)
    }

    /// Opens a signed note with this client's key and parses it as a checkpoint for its
    /// origin; with witnesses configured, also counts their cosignatures against the quorum,
    /// and with a policy, checks it. A trusted key's signature that fails rejects the note
    /// (signed-note, "Verifying").
    pub fn open_checkpoint(&self, note: &str) -> Result<VerifiedCheckpoint, Error> {
        let mut set = VerifierSet::new();
        for k in &self.logs {
            set.add(k.clone());
        }
        for w in &self.witnesses {
            set.add(w.clone());
        }
        let opened =
            Note::parse(note.as_bytes()).map_err(|e| Error::Lied(format!("checkpoint: {e}")))?;
        let verified = opened
            .verify(&set)
            .map_err(|e| Error::Lied(format!("checkpoint: {e}")))?;
        let is_log = |s: &&NoteSignature| {
            self.logs
                .iter()
                .any(|k| s.name == k.name() && s.key_id == k.key_id())
        };
        if !verified.iter().any(is_log) {
            return Err(Error::Lied(
                "checkpoint: not signed by the log's key".into(),
            ));
        }
        if self.quorum > 0 {
            let mut cosigners: Vec<&str> = verified
                .iter()
                .filter(|s| !is_log(s))
                .map(|s| s.name.as_str())
                .collect();
            cosigners.sort_unstable();
            cosigners.dedup();
            if cosigners.len() < self.quorum {
                return Err(Error::Unwitnessed {
                    have: cosigners.len(),
                    need: self.quorum,
                });
            }
        }
        if let Some(policy) = &self.policy {
            // Only the log's own keys stand in for a policy without `log` lines.
            let mut logs = VerifierSet::new();
            for k in &self.logs {
                logs.add(k.clone());
            }
            policy.check(note.as_bytes(), &logs).map_err(|e| match e {
                PolicyRejection::Unwitnessed => {
                    let names: Vec<&str> = verified
                        .iter()
                        .filter(|s| !is_log(s))
                        .map(|s| s.name.as_str())
                        .collect();
                    Error::PolicyNotMet(if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    })
                }
                e => Error::Lied(format!("checkpoint: {e}")),
            })?;
        }
        let checkpoint =
            Checkpoint::parse(&opened.text).map_err(|e| Error::Lied(format!("checkpoint: {e}")))?;
        if checkpoint.origin != self.origin() {
            return Err(Error::Lied(format!(
                "checkpoint origin {:?} is not the key's",
                checkpoint.origin
            )));
        }
        Ok(VerifiedCheckpoint {
            checkpoint,
            note: note.to_owned(),
        })
    }
}

/// A glasslog client.
pub struct Client {
    base: String,
    trust: Trust,
    token: Option<String>,
    agent: ureq::Agent,
    retries: u32,
}

fn hashes(v: &Value, what: &str) -> Result<Vec<Hash>, Error> {
    v.as_array()
        .ok_or_else(|| Error::Lied(format!("{what} is not a list")))?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| Hash::from_base64(s).ok())
                .ok_or_else(|| Error::Lied(format!("{what} holds a malformed hash")))
        })
        .collect()
}

impl Client {
    /// A client for the log at `base` (e.g. `http://127.0.0.1:8080`) whose checkpoints must be
    /// signed by `vkey`.
    pub fn new(base: &str, vkey: &str, token: Option<String>) -> Result<Self, Error> {
        let trust = Trust::new(vkey)?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Ok(Client {
            base: base.trim_end_matches('/').to_owned(),
            trust,
            token,
            agent,
            retries: 4,
        })
    }

    /// Requires every checkpoint to be cosigned by `quorum` distinct witnesses among `vkeys`
    /// (see [`Trust::with_witnesses`]).
    pub fn with_witnesses(mut self, vkeys: &[String], quorum: usize) -> Result<Self, Error> {
        self.trust = self.trust.with_witnesses(vkeys, quorum)?;
        Ok(self)
    }

    /// Replaces what this client trusts (keys, witnesses, policy) with `trust`.
    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    /// What this client trusts.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// Opens a signed note as a checkpoint of this log ([`Trust::open_checkpoint`]).
    pub fn open_checkpoint(&self, note: &str) -> Result<VerifiedCheckpoint, Error> {
        self.trust.open_checkpoint(note)
    }

    /// One request with retries on transport errors, 5xx and 429; returns status and body.
    fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), Error> {
        let url = format!("{}{path}", self.base);
        let mut delay = Duration::from_millis(100);
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            let mut builder = match method {
                "POST" => None,
                "DELETE" => Some(self.agent.delete(&url)),
                _ => Some(self.agent.get(&url)),
            };
            let result = match builder.take() {
                Some(mut get) => {
                    if let Some(t) = &self.token {
                        get = get.header("Authorization", &format!("Bearer {t}"));
                    }
                    get.call()
                }
                None => {
                    let mut post = self.agent.post(&url);
                    if let Some(t) = &self.token {
                        post = post.header("Authorization", &format!("Bearer {t}"));
                    }
                    if let Some(ct) = content_type {
                        post = post.header("Content-Type", ct);
                    }
                    post.send(body)
                }
            };
            match result {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let bytes = resp
                        .body_mut()
                        .with_config()
                        .limit(64 << 20)
                        .read_to_vec()
                        .map_err(|e| Error::Unreachable(e.to_string()))?;
                    if status >= 500 || status == 429 {
                        last = format!("{status}: {}", String::from_utf8_lossy(&bytes));
                        continue;
                    }
                    if status >= 400 {
                        let problem: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                        let detail = problem["detail"].as_str().unwrap_or("").to_owned();
                        return Err(Error::Refused {
                            status,
                            detail,
                            problem,
                        });
                    }
                    return Ok((status, bytes));
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(Error::Unreachable(format!("{url}: {last}")))
    }

    fn json(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Value, Error> {
        let (_, bytes) = self.request(method, path, content_type, body)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Lied(format!("{path}: not JSON: {e}")))
    }

    /// The latest checkpoint, verified.
    pub fn checkpoint(&self) -> Result<VerifiedCheckpoint, Error> {
        let (_, bytes) = self.request("GET", "/checkpoint", None, b"")?;
        let note =
            String::from_utf8(bytes).map_err(|_| Error::Lied("checkpoint is not UTF-8".into()))?;
        self.open_checkpoint(&note)
    }

    /// Submits one JSON event or text entry; with `wait`, also returns the checkpoint covering
    /// it and its audit path, both verified (the leaf hash is the log's).
    pub fn submit(&self, body: &[u8], json: bool, wait: bool) -> Result<Submitted, Error> {
        let path = if wait {
            "/v1/entries?wait=checkpoint"
        } else {
            "/v1/entries"
        };
        let ct = if json {
            "application/json"
        } else {
            "text/plain"
        };
        let v = self.json("POST", path, Some(ct), body)?;
        let index = v["index"]
            .as_u64()
            .ok_or_else(|| Error::Lied("no index".into()))?;
        let leaf = v["leaf_hash"]
            .as_str()
            .and_then(|h| Hash::from_base64(h).ok())
            .ok_or_else(|| Error::Lied("no leaf hash".into()))?;
        let proof = if wait {
            let cp = self.open_checkpoint(
                v["checkpoint"]
                    .as_str()
                    .ok_or_else(|| Error::Lied("no checkpoint".into()))?,
            )?;
            let path = hashes(&v["inclusion_proof"], "inclusion_proof")?;
            verify_inclusion(index, cp.checkpoint.size, &leaf, &path, &cp.checkpoint.root)
                .map_err(|e| Error::Lied(format!("inclusion proof for entry {index}: {e}")))?;
            Some((cp, path))
        } else {
            None
        };
        Ok(Submitted {
            index,
            leaf_hash: leaf,
            duplicate: v["duplicate"].as_bool().unwrap_or(false),
            redactions: v["redactions"].clone(),
            proof,
        })
    }

    /// Submits many entries as NDJSON (one JSON event, or JSON string for a text entry, per
    /// line) and returns the per-entry results in order: each an appended entry or an error.
    pub fn submit_batch(&self, ndjson: &[u8]) -> Result<Vec<Value>, Error> {
        let v = self.json(
            "POST",
            "/v1/entries/batch",
            Some("application/x-ndjson"),
            ndjson,
        )?;
        v["results"]
            .as_array()
            .cloned()
            .ok_or_else(|| Error::Lied("batch answer without results".into()))
    }

    /// An entry's exact stored bytes (needs an auditor token unless entries are public).
    pub fn entry(&self, index: u64) -> Result<Entry, Error> {
        let v = self.json("GET", &format!("/v1/entries/{index}"), None, b"")?;
        checked_entry(&v, index)
    }

    /// The audit path of entry `index` in `checkpoint`'s tree, verified against its root.
    pub fn prove_inclusion(
        &self,
        index: u64,
        leaf: &Hash,
        checkpoint: &VerifiedCheckpoint,
    ) -> Result<Vec<Hash>, Error> {
        let size = checkpoint.checkpoint.size;
        let v = self.json(
            "GET",
            &format!("/v1/proofs/inclusion?index={index}&tree_size={size}"),
            None,
            b"",
        )?;
        let path = hashes(&v["audit_path"], "audit_path")?;
        verify_inclusion(index, size, leaf, &path, &checkpoint.checkpoint.root).map_err(|e| {
            Error::Lied(format!(
                "inclusion proof for entry {index} in tree {size}: {e}"
            ))
        })?;
        Ok(path)
    }

    /// Verifies that `new` extends `old` with the log's consistency proof.
    pub fn prove_consistency(
        &self,
        old: &VerifiedCheckpoint,
        new: &VerifiedCheckpoint,
    ) -> Result<Vec<Hash>, Error> {
        let (m, n) = (old.checkpoint.size, new.checkpoint.size);
        if m > n {
            return Err(Error::Lied(format!(
                "rollback: tree size went from {m} to {n}"
            )));
        }
        if m == 0 {
            return Ok(Vec::new());
        }
        let v = self.json(
            "GET",
            &format!("/v1/proofs/consistency?from={m}&to={n}"),
            None,
            b"",
        )?;
        let proof = hashes(&v["consistency"], "consistency")?;
        verify_consistency(m, n, &proof, &old.checkpoint.root, &new.checkpoint.root)
            .map_err(|e| Error::Lied(format!("checkpoints {m} and {n} are not consistent: {e}")))?;
        Ok(proof)
    }

    /// `GET /v1/log`: origin, verifier key, size, root. The checkpoint in it is verified, and
    /// the log's verifier key must be the one this client trusts.
    pub fn log_info(&self) -> Result<(Value, VerifiedCheckpoint), Error> {
        let v = self.json("GET", "/v1/log", None, b"")?;
        let cp = self.open_checkpoint(
            v["checkpoint"]
                .as_str()
                .ok_or_else(|| Error::Lied("no checkpoint".into()))?,
        )?;
        let reported = [&v["verifier_key"], &v["mldsa_verifier_key"]];
        if !reported
            .iter()
            .filter_map(|k| k.as_str())
            .any(|k| self.trust.trusts_log_key(k))
        {
            return Err(Error::Lied("the log reports another verifier key".into()));
        }
        Ok((v, cp))
    }

    /// Entries `[start, end)`, each checked against its leaf hash.
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Entry>, Error> {
        let v = self.json(
            "GET",
            &format!("/v1/entries?start={start}&end={end}"),
            None,
            b"",
        )?;
        v["entries"]
            .as_array()
            .ok_or_else(|| Error::Lied("no entries".into()))?
            .iter()
            .zip(start..)
            .map(|(e, index)| checked_entry(e, index))
            .collect()
    }

    /// The index and audit path of the entry with leaf hash `leaf`, verified against
    /// `checkpoint`.
    pub fn prove_inclusion_by_hash(
        &self,
        leaf: &Hash,
        checkpoint: &VerifiedCheckpoint,
    ) -> Result<(u64, Vec<Hash>), Error> {
        let size = checkpoint.checkpoint.size;
        let encoded = leaf
            .to_base64()
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        let v = self.json(
            "GET",
            &format!("/v1/proofs/inclusion?leaf_hash={encoded}&tree_size={size}"),
            None,
            b"",
        )?;
        let index = v["leaf_index"]
            .as_u64()
            .ok_or_else(|| Error::Lied("no leaf index".into()))?;
        let path = hashes(&v["audit_path"], "audit_path")?;
        verify_inclusion(index, size, leaf, &path, &checkpoint.checkpoint.root).map_err(|e| {
            Error::Lied(format!(
                "inclusion proof for leaf {}: {e}",
                leaf.to_base64()
            ))
        })?;
        Ok((index, path))
    }

    /// `POST /v1/admin/tokens` (admin): returns the new token's record, including the token.
    pub fn create_token(&self, role: &str, name: &str, sources: &[String]) -> Result<Value, Error> {
        let body = serde_json::json!({ "role": role, "name": name, "sources": sources });
        self.json(
            "POST",
            "/v1/admin/tokens",
            Some("application/json"),
            body.to_string().as_bytes(),
        )
    }

    /// A JSON API call (`GET` without a body, or `POST` with one) returning the JSON answer;
    /// for routes this client has no typed method for, such as break-glass sessions.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, Error> {
        match body {
            Some(b) => self.json(
                method,
                path,
                Some("application/json"),
                b.to_string().as_bytes(),
            ),
            None => self.json(method, path, None, b""),
        }
    }

    /// `GET /v1/admin/tokens` (admin).
    pub fn list_tokens(&self) -> Result<Value, Error> {
        self.json("GET", "/v1/admin/tokens", None, b"")
    }

    /// `DELETE /v1/admin/tokens/<id>` (admin).
    pub fn revoke_token(&self, id: &str) -> Result<(), Error> {
        self.request("DELETE", &format!("/v1/admin/tokens/{id}"), None, b"")
            .map(|_| ())
    }

    /// Fetches a path relative to the log (tiles), without interpretation.
    pub fn fetch(&self, path: &str) -> Result<Vec<u8>, Error> {
        Ok(self
            .request(
                "GET",
                &format!("/{}", path.trim_start_matches('/')),
                None,
                b"",
            )?
            .1)
    }

    /// A self-contained proof bundle for entry `index`: the entry, a verified checkpoint, and
    /// the verified audit path. [`verify_bundle`] checks it offline.
    pub fn bundle(&self, index: u64) -> Result<ProofBundle, Error> {
        let cp = self.checkpoint()?;
        let entry = self.entry(index)?;
        let path = self.prove_inclusion(index, &entry.leaf_hash, &cp)?;
        Ok(ProofBundle::new(&entry, &cp, &path))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]
    use super::{Client, Error};
    use glasslog_merkle::{Checkpoint, EMPTY_ROOT, Note, Signer};

    /// A checkpoint of the log `origin`, signed by `log`, cosigned by `witnesses`.
    fn note(log: &Signer, witnesses: &[&Signer]) -> Note {
        let text = Checkpoint::new(log.name(), 0, EMPTY_ROOT).to_text();
        let mut signatures = vec![log.sign(&text)];
        signatures.extend(witnesses.iter().map(|w| w.cosign(&text, 1_700_000_000)));
        Note { text, signatures }
    }

    #[test]
    fn a_quorum_counts_distinct_trusted_witnesses_and_a_bad_cosignature_is_a_lie() {
        let log = Signer::from_seed("example.com/log", [1; 32]).unwrap();
        let w1 = Signer::from_seed("example.com/w1", [2; 32]).unwrap();
        let w2 = Signer::from_seed("example.com/w2", [3; 32]).unwrap();
        let keys = [w1.cosigner_vkey(), w2.cosigner_vkey()];
        let client = |quorum| {
            Client::new("http://127.0.0.1:1", &log.vkey(), None)
                .unwrap()
                .with_witnesses(&keys, quorum)
                .unwrap()
        };
        let both = note(&log, &[&w1, &w2]).to_string();
        client(2).open_checkpoint(&both).unwrap();
        // The same witness twice is one witness.
        let twice = note(&log, &[&w1, &w1]).to_string();
        assert!(matches!(
            client(2).open_checkpoint(&twice),
            Err(Error::Unwitnessed { have: 1, need: 2 })
        ));
        client(1).open_checkpoint(&twice).unwrap();
        // Without a quorum, witnesses are not needed.
        client(0)
            .open_checkpoint(&note(&log, &[]).to_string())
            .unwrap();
        // A trusted witness's cosignature that does not verify rejects the note.
        let mut bad = note(&log, &[&w1, &w2]);
        if let Some(last) = bad
            .signatures
            .last_mut()
            .and_then(|s| s.signature.last_mut())
        {
            *last ^= 1;
        }
        assert!(matches!(
            client(1).open_checkpoint(&bad.to_string()),
            Err(Error::Lied(_))
        ));
        // Cosignatures alone are no checkpoint of the log.
        let unsigned = Note {
            signatures: note(&log, &[&w1, &w2]).signatures[1..].to_vec(),
            ..note(&log, &[])
        };
        assert!(matches!(
            client(2).open_checkpoint(&unsigned.to_string()),
            Err(Error::Lied(_))
        ));
        // Duplicate keys and an unreachable quorum are refused up front.
        let dup = [w1.cosigner_vkey(), w1.cosigner_vkey()];
        assert!(
            Client::new("http://127.0.0.1:1", &log.vkey(), None)
                .unwrap()
                .with_witnesses(&dup, 1)
                .is_err()
        );
    }
}
