//! The single writer: group commit, deduplication, integration and checkpoint signing.
//!
//! One thread owns the tree state. It drains every queued append into one batch, writes the
//! batch in one atomic, synced commit (entries, indexes, tiles and the new size together), then
//! checks the new head against the last published one using only stored hashes, signs and
//! publishes it, and only then acknowledges. A failed commit acknowledges nothing and reloads the state
//! from storage, whether or not the failed write reached it.

use crate::error::{LogError, StoreError};
use crate::store::Commit;
use crate::tiles::{TileReader, TreeState};
use crate::types::{Appended, Item, LogConfig, Shared, SignedCheckpoint};
use glasslog_merkle::{
    Checkpoint, EMPTY_ROOT, Hash, Note, consistency_proof, leaf_hash, tree_root, verify_consistency,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How often a key that refused to sign is asked again while nothing new arrives.
const SIGNING_RETRY: Duration = Duration::from_millis(500);

pub(crate) struct Request {
    pub entries: Vec<Item>,
    pub reply: oneshot::Sender<Result<Vec<Appended>, LogError>>,
}

pub(crate) struct Sequencer {
    shared: Arc<Shared>,
    config: LogConfig,
    state: TreeState,
    /// The last checkpoint signed, if any.
    published: Option<Checkpoint>,
    /// The head as last recorded in storage, which the next checkpoint replaces by a
    /// compare-and-swap ([`crate::Store::swap_head`]).
    head: Option<(u64, Hash)>,
    /// Storage could not be read back after a failed write (a database failing over): the
    /// state is reloaded before anything else is sequenced.
    stale: bool,
    /// Why sequencing stopped for good, if it did.
    halted: Option<Stop>,
}

/// Why a sequencer stopped.
#[derive(Clone, Copy)]
enum Stop {
    /// Stored state failed verification, or the log refused to sign over it.
    Broken,
    /// Another writer holds the store's lease.
    Superseded,
}

impl Sequencer {
    /// Rebuilds the state from storage and makes sure a checkpoint covers every durable entry.
    pub fn recover(shared: Arc<Shared>, config: LogConfig) -> Result<Self, LogError> {
        let store = &*shared.store;
        let size = store.tree_size()?;
        let state = TreeState::load(store, size)?;
        let published = match store.latest_checkpoint()? {
            None => None,
            Some((cp_size, note)) => {
                let cp = open_checkpoint(&shared, &note)?;
                if cp.size != cp_size {
                    return Err(LogError::Corrupt(format!(
                        "checkpoint stored under size {cp_size} says size {}",
                        cp.size
                    )));
                }
                // A checkpoint beyond the durable tree would mean the contract was broken.
                if cp.size > size {
                    return Err(LogError::Corrupt(format!(
                        "checkpoint for size {} but only {size} entries are stored",
                        cp.size
                    )));
                }
                let stored_root = tree_root(cp.size, &TileReader { store })?;
                if stored_root != cp.root {
                    return Err(LogError::Corrupt(format!(
                        "the stored tree of size {} does not match its checkpoint",
                        cp.size
                    )));
                }
                let note = String::from_utf8_lossy(&note).into_owned();
                let sc = SignedCheckpoint {
                    checkpoint: cp.clone(),
                    note,
                };
                shared.published.send_replace(Some(Arc::new(sc)));
                Some(cp)
            }
        };
        let head = store.head()?;
        let mut seq = Sequencer {
            head,
            shared,
            config,
            state,
            published,
            stale: false,
            halted: None,
        };
        match seq.publish() {
            // Durable entries wait for the key; `run` asks it again.
            Err(LogError::Signing(e)) => {
                tracing::warn!(error = %e, "the checkpoint key did not sign at open; signing is retried");
            }
            other => other?,
        }
        Ok(seq)
    }

    pub fn run(mut self, rx: mpsc::Receiver<Request>) {
        loop {
            // While the key refuses (a token away), durable entries wait for a checkpoint:
            // try again every so often even when nothing new arrives.
            let first = if self.unsigned() || (self.stale && self.halted.is_none()) {
                match rx.recv_timeout(SIGNING_RETRY) {
                    Ok(r) => r,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.retry_signing();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match rx.recv() {
                    Ok(r) => r,
                    Err(_) => break,
                }
            };
            let mut count = first.entries.len();
            let mut batch = vec![first];
            while count < self.config.max_batch_entries {
                match rx.try_recv() {
                    Ok(r) => {
                        count += r.entries.len();
                        batch.push(r);
                    }
                    Err(_) => break,
                }
            }
            self.process(batch);
        }
    }

    fn process(&mut self, batch: Vec<Request>) {
        if self.stale
            && self.halted.is_none()
            && let Err(e) = self.resync()
        {
            let message = backend_message(&e);
            for r in batch {
                let _ = r.reply.send(Err(self.refusal(&message)));
            }
            return;
        }
        if self.halted.is_some() {
            for r in batch {
                let _ = r.reply.send(Err(self.refusal("")));
            }
            return;
        }
        match self.integrate(&batch) {
            Ok(results) => {
                // Sign before answering, so that when an append returns, a published checkpoint
                // already covers it. The entries are durable either way: if signing is refused,
                // or the checkpoint cannot be stored (a database failing over), they are still
                // acknowledged, and signing is retried until it lands.
                match self.publish() {
                    Ok(()) => {}
                    Err(LogError::Signing(e)) => {
                        tracing::warn!(error = %e, "the checkpoint key did not sign; the entries are durable, signing is retried");
                    }
                    Err(e) => self.failed("storing the checkpoint", &e),
                }
                for (r, res) in batch.into_iter().zip(results) {
                    // A caller that went away no longer needs its answer; the entry stays.
                    let _ = r.reply.send(Ok(res));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed; nothing in it was acknowledged");
                // The failed write may or may not have reached storage: start again from what
                // storage says, and cover whatever did land, before answering. Entries that
                // landed are found by deduplication when the client retries.
                // A resync that fails says so itself (`failed`).
                if is_superseded(&e) {
                    self.failed("the group commit", &e);
                } else {
                    let _ = self.resync();
                }
                let message = backend_message(&e);
                for r in batch {
                    let _ = r.reply.send(Err(self.refusal(&message)));
                }
            }
        }
    }

    /// What a request that cannot be sequenced now is answered.
    fn refusal(&self, message: &str) -> LogError {
        match self.halted {
            Some(Stop::Broken) => LogError::Halted,
            Some(Stop::Superseded) => LogError::Superseded,
            None => LogError::Store(StoreError::Backend(message.to_owned())),
        }
    }

    /// Reads the state back from storage and covers it with a checkpoint. Storage that cannot
    /// be reached leaves the sequencer stale (tried again at the next request); anything else
    /// stops it.
    fn resync(&mut self) -> Result<(), LogError> {
        match self.reload().and_then(|()| self.publish()) {
            Ok(()) | Err(LogError::Signing(_)) => {
                if self.stale {
                    tracing::info!(
                        size = self.state.size(),
                        "storage is read back; sequencing again"
                    );
                }
                self.stale = false;
                Ok(())
            }
            Err(e) => {
                self.failed("reading storage back", &e);
                Err(e)
            }
        }
    }

    /// Records a failure: storage that cannot be reached is retried, another writer's lease
    /// or state that does not verify stops sequencing for good.
    fn failed(&mut self, what: &str, e: &LogError) {
        if is_unavailable(e) {
            // Once per outage: it is tried again every half second.
            if self.stale {
                tracing::debug!(error = %e, "{what} failed again");
            } else {
                tracing::warn!(error = %e, "{what} failed; storage is read back and it is retried");
            }
            self.stale = true;
        } else if is_superseded(e) {
            tracing::error!(error = %e, "another front-end sequences this log now; this one writes nothing more");
            self.halted = Some(Stop::Superseded);
            self.shared.superseded.send_replace(true);
        } else {
            tracing::error!(error = %e, "{what} failed; refusing to sign, the log is halted");
            self.halted = Some(Stop::Broken);
        }
    }

    /// Whether durable entries wait for a checkpoint because the key refused to sign.
    fn unsigned(&self) -> bool {
        self.halted.is_none()
            && self
                .published
                .as_ref()
                .is_none_or(|p| p.size < self.state.size())
            // An ML-DSA-44-only log has nothing to sign at size 0.
            && self.state.size() > 0
    }

    fn retry_signing(&mut self) {
        if self.stale {
            let _ = self.resync();
            return;
        }
        match self.publish() {
            Ok(()) => tracing::info!(size = self.state.size(), "the checkpoint key signs again"),
            Err(LogError::Signing(_)) => {}
            Err(e) => self.failed("signing the checkpoint", &e),
        }
    }

    fn reload(&mut self) -> Result<(), LogError> {
        let store = &*self.shared.store;
        self.state = TreeState::load(store, store.tree_size()?)?;
        Ok(())
    }

    /// Sequences one batch and commits it. Returns the per-request results on success.
    fn integrate(&mut self, batch: &[Request]) -> Result<Vec<Vec<Appended>>, LogError> {
        let store = &*self.shared.store;
        let mut next = self.state.clone();
        let mut commit = Commit::default();
        let mut seen: HashMap<Hash, (u64, Hash)> = HashMap::new();
        let mut results = Vec::with_capacity(batch.len());
        let vault = self.shared.vault.as_ref();
        let mut pending = crate::vault::Pending::default();
        for req in batch {
            let mut out = Vec::with_capacity(req.entries.len());
            for e in &req.entries {
                let identity = e.identity;
                if let Some(identity) = identity {
                    if let Some(&(index, leaf_hash)) = seen.get(&identity) {
                        out.push(Appended {
                            index,
                            leaf_hash,
                            duplicate: true,
                        });
                        continue;
                    }
                    if let Some(index) = store.find_identity(&identity)? {
                        let leaf_hash = TileReader { store }.leaf_hash(index)?;
                        seen.insert(identity, (index, leaf_hash));
                        out.push(Appended {
                            index,
                            leaf_hash,
                            duplicate: true,
                        });
                        continue;
                    }
                }
                // Sealed here only when its scope had no committed key when it was prepared:
                // the key is made in this commit.
                let stored = match vault {
                    Some(v) if !e.sealed => v.seal(
                        store,
                        e.subject.as_ref(),
                        &e.data,
                        &mut pending,
                        &mut commit.keys,
                    )?,
                    _ => e.data.clone(),
                };
                let leaf = leaf_hash(&stored);
                let index = next.size();
                next.append(leaf);
                commit.entries.push((index, stored));
                if let Some(identity) = identity {
                    commit.identities.push((identity, index));
                    seen.insert(identity, (index, leaf));
                }
                commit.leaves.push((leaf, index));
                commit
                    .tags
                    .extend(e.tags.iter().map(|t| (t.clone(), index)));
                out.push(Appended {
                    index,
                    leaf_hash: leaf,
                    duplicate: false,
                });
            }
            results.push(out);
        }
        if !commit.entries.is_empty() {
            commit.tiles = next.take_writes();
            commit.tree_size = next.size();
            store.commit(&commit)?;
            self.state = next;
            if let Some(v) = vault {
                v.committed(pending)?;
            }
        }
        Ok(results)
    }

    /// Signs and publishes a checkpoint for the current size, after checking from stored hashes
    /// alone that it extends the last one.
    fn publish(&mut self) -> Result<(), LogError> {
        let size = self.state.size();
        let root = self.state.range.root();
        if self.published.as_ref().is_some_and(|p| p.size == size) {
            return Ok(());
        }
        let reader = TileReader {
            store: &*self.shared.store,
        };
        match &self.published {
            Some(prev) if prev.size > 0 => {
                let proof = consistency_proof(prev.size, size, &reader)?;
                verify_consistency(prev.size, size, &proof, &prev.root, &root).map_err(|e| {
                    LogError::Corrupt(format!(
                        "new head {size} is not consistent with checkpoint {}: {e}",
                        prev.size
                    ))
                })?;
            }
            _ => {
                let stored = if size == 0 {
                    EMPTY_ROOT
                } else {
                    tree_root(size, &reader)?
                };
                if stored != root {
                    return Err(LogError::Corrupt(format!(
                        "stored tree of size {size} does not match the sequencer"
                    )));
                }
            }
        }
        let cp = Checkpoint::new(self.shared.signer.origin(), size, root);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs());
        // An ML-DSA-44-only log cannot sign the empty tree: it publishes nothing until its
        // first entry (readers get `LogError::NoCheckpointYet`).
        let Some(note) = self.shared.signer.sign_note(&cp, now)? else {
            return Ok(());
        };
        self.swap_head(size, &root, note.as_bytes())?;
        self.published = Some(cp.clone());
        let sc = SignedCheckpoint {
            checkpoint: cp,
            note,
        };
        self.shared.published.send_replace(Some(Arc::new(sc)));
        Ok(())
    }

    /// Records the new head over the one last recorded. If another head is recorded now (a
    /// checkpoint lost in a database failover, or another writer), it is read back, and the
    /// new one replaces it only if it is a prefix of the new tree: never a fork, never a
    /// rollback.
    fn swap_head(&mut self, size: u64, root: &Hash, note: &[u8]) -> Result<(), LogError> {
        let store = &*self.shared.store;
        for _ in 0..2 {
            match store.swap_head(self.head, size, root, note) {
                Ok(()) => {
                    self.head = Some((size, *root));
                    return Ok(());
                }
                Err(StoreError::HeadMoved) => {}
                Err(e) => return Err(e.into()),
            }
            let head = store.head()?;
            if let Some((at, at_root)) = head {
                if at > size {
                    return Err(LogError::Store(StoreError::LeaseLost(format!(
                        "a head of size {at}, beyond this sequencer's {size}, was published: another writer sequences"
                    ))));
                }
                if at > 0 {
                    let proof = consistency_proof(at, size, &TileReader { store })?;
                    verify_consistency(at, size, &proof, &at_root, root).map_err(|e| {
                        LogError::Corrupt(format!(
                            "the published head of size {at} is not a prefix of the new head {size}: {e}"
                        ))
                    })?;
                }
            }
            tracing::warn!(
                recorded = head.map(|h| h.0),
                expected = self.head.map(|h| h.0),
                "the published head moved (a checkpoint lost in a failover?); it is a prefix of the new one, which replaces it"
            );
            self.head = head;
        }
        Err(LogError::Store(StoreError::Backend(
            "the published head keeps moving".into(),
        )))
    }
}

/// What a refused request is told of a storage failure.
fn backend_message(e: &LogError) -> String {
    match e {
        LogError::Store(StoreError::Backend(m)) => m.clone(),
        other => other.to_string(),
    }
}

/// A failure that says nothing about the log, only that storage could not be reached.
fn is_unavailable(e: &LogError) -> bool {
    matches!(e, LogError::Store(StoreError::Backend(_)))
}

fn is_superseded(e: &LogError) -> bool {
    matches!(e, LogError::Store(StoreError::LeaseLost(_)))
}

fn open_checkpoint(shared: &Shared, note: &[u8]) -> Result<Checkpoint, LogError> {
    let known = shared.signer.verifiers();
    let note = Note::open(note, &known).map_err(LogError::ForeignCheckpoint)?;
    Checkpoint::parse(&note.text).map_err(|e| LogError::Corrupt(format!("stored checkpoint: {e}")))
}
