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
    halted: bool,
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
        let mut seq = Sequencer {
            shared,
            config,
            state,
            published,
            halted: false,
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
            let first = if self.unsigned() {
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
        if self.halted {
            for r in batch {
                let _ = r.reply.send(Err(LogError::Halted));
            }
            return;
        }
        match self.integrate(&batch) {
            Ok(results) => {
                // Sign before answering, so that when an append returns, a published checkpoint
                // already covers it. The entries are durable either way: if signing is refused,
                // they are still acknowledged, and no later checkpoint is signed until repair.
                match self.publish() {
                    Ok(()) => {}
                    Err(LogError::Signing(e)) => {
                        tracing::warn!(error = %e, "the checkpoint key did not sign; the entries are durable, signing is retried");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "refusing to sign a checkpoint; the log is halted");
                        self.halted = true;
                    }
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
                match self.reload().and_then(|()| self.publish()) {
                    Ok(()) | Err(LogError::Signing(_)) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "cannot recover after a failed commit; the log is halted");
                        self.halted = true;
                    }
                }
                let message = e.to_string();
                for r in batch {
                    let _ = r
                        .reply
                        .send(Err(LogError::Store(StoreError::Backend(message.clone()))));
                }
            }
        }
    }

    /// Whether durable entries wait for a checkpoint because the key refused to sign.
    fn unsigned(&self) -> bool {
        !self.halted
            && self
                .published
                .as_ref()
                .is_none_or(|p| p.size < self.state.size())
            // An ML-DSA-44-only log has nothing to sign at size 0.
            && self.state.size() > 0
    }

    fn retry_signing(&mut self) {
        match self.publish() {
            Ok(()) => tracing::info!(size = self.state.size(), "the checkpoint key signs again"),
            Err(LogError::Signing(_)) => {}
            Err(e) => {
                tracing::error!(error = %e, "refusing to sign a checkpoint; the log is halted");
                self.halted = true;
            }
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
        self.shared.store.put_checkpoint(size, note.as_bytes())?;
        self.published = Some(cp.clone());
        let sc = SignedCheckpoint {
            checkpoint: cp,
            note,
        };
        self.shared.published.send_replace(Some(Arc::new(sc)));
        Ok(())
    }
}

fn open_checkpoint(shared: &Shared, note: &[u8]) -> Result<Checkpoint, LogError> {
    let known = shared.signer.verifiers();
    let note = Note::open(note, &known).map_err(LogError::ForeignCheckpoint)?;
    Checkpoint::parse(&note.text).map_err(|e| LogError::Corrupt(format!("stored checkpoint: {e}")))
}
