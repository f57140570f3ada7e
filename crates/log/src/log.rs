//! The public face of the log: appends, signed checkpoints, proofs, tiles and entries.

use crate::error::LogError;
use crate::error::StoreError;
use crate::search;
use crate::sequencer::{Request, Sequencer};
use crate::signer::LogSigner;
use crate::store::Store;
use crate::tiles::{
    MemoryTileReader, TileReader, served_entry_bundle, served_tile, stored_entries,
};
use crate::types::{Appended, LogConfig, MAX_TAG_BYTES, NewEntry, Shared, SignedCheckpoint};
use crate::verify::{VerifyReport, verify_store};
use glasslog_merkle::{BUNDLE_ENTRY_MAX, Hash, LogKey, Tile, consistency_proof, inclusion_proof};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::{oneshot, watch};

/// A transparency log over a [`Store`]. Appends go to one sequencer thread; reads run on the
/// caller's thread and block on storage, so async callers use `spawn_blocking` for them.
pub struct Log {
    shared: Arc<Shared>,
    tx: Mutex<Option<mpsc::Sender<Request>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Log {
    /// Opens the log: recovers the tree from storage, checks the latest checkpoint against it
    /// and the key, signs a checkpoint for any durable entries not yet covered, and starts the
    /// sequencer.
    pub fn open(
        store: Arc<dyn Store>,
        signer: impl Into<LogSigner>,
        config: LogConfig,
    ) -> Result<Self, LogError> {
        let (published, _) = watch::channel(None);
        let shared = Arc::new(Shared {
            store,
            signer: signer.into(),
            published,
        });
        let sequencer = Sequencer::recover(Arc::clone(&shared), config)?;
        let (tx, rx) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("glasslog-sequencer".into())
            .spawn(move || sequencer.run(rx))
            .map_err(|e| LogError::Corrupt(format!("cannot start the sequencer thread: {e}")))?;
        Ok(Log {
            shared,
            tx: Mutex::new(Some(tx)),
            worker: Mutex::new(Some(worker)),
        })
    }

    /// The log's origin line (its signer's key name).
    pub fn origin(&self) -> &str {
        self.shared.signer.origin()
    }

    /// The log's first verifier key: Ed25519 when it has one, else ML-DSA-44.
    pub fn vkey(&self) -> String {
        self.keys().first().map(LogKey::vkey).unwrap_or_default()
    }

    /// The previous Ed25519 key of a rotation, as a verifier key, and the POSIX second until
    /// which it signs beside the current one.
    pub fn previous_key(&self) -> Option<(String, u64)> {
        self.shared
            .signer
            .previous()
            .map(|(v, until)| (v.vkey(), until))
    }

    /// The verifier keys of retired keys (they verify stored checkpoints only).
    pub fn retired_keys(&self) -> Vec<String> {
        self.shared
            .signer
            .retired()
            .iter()
            .map(|v| v.vkey())
            .collect()
    }

    /// The verifier keys of every checkpoint signature the log makes (Ed25519 first, then
    /// ML-DSA-44 when configured).
    pub fn keys(&self) -> Vec<LogKey> {
        self.shared.signer.keys()
    }

    fn send(
        &self,
        entries: Vec<NewEntry>,
    ) -> Result<oneshot::Receiver<Result<Vec<Appended>, LogError>>, LogError> {
        if let Some(e) = entries.iter().find(|e| e.data.len() > BUNDLE_ENTRY_MAX) {
            return Err(LogError::EntryTooLarge {
                len: e.data.len(),
                max: BUNDLE_ENTRY_MAX,
            });
        }
        if let Some(t) = entries
            .iter()
            .flat_map(|e| &e.tags)
            .find(|t| t.len() > MAX_TAG_BYTES)
        {
            return Err(LogError::TagTooLong(t.len()));
        }
        let (reply, rx) = oneshot::channel();
        let guard = self.tx.lock().map_err(|_| LogError::Closed)?;
        let tx = guard.as_ref().ok_or(LogError::Closed)?;
        tx.send(Request { entries, reply })
            .map_err(|_| LogError::Closed)?;
        Ok(rx)
    }

    /// Appends entries and resolves once they are durable, in order. Never blocks the caller's
    /// thread: the work happens on the sequencer thread.
    pub async fn append(&self, entries: Vec<NewEntry>) -> Result<Vec<Appended>, LogError> {
        self.send(entries)?.await.map_err(|_| LogError::Closed)?
    }

    /// [`Log::append`] for synchronous callers.
    pub fn append_blocking(&self, entries: Vec<NewEntry>) -> Result<Vec<Appended>, LogError> {
        self.send(entries)?
            .blocking_recv()
            .map_err(|_| LogError::Closed)?
    }

    /// Up to `limit` indices of entries tagged `tag`, from index `from` on, in order. Blocks
    /// on storage: call it off async worker threads.
    pub fn tagged(&self, tag: &str, from: u64, limit: usize) -> Result<Vec<u64>, LogError> {
        Ok(self.shared.store.tagged(tag, from, limit)?)
    }

    /// The latest published checkpoint.
    pub fn checkpoint(&self) -> Result<Arc<SignedCheckpoint>, LogError> {
        self.shared
            .published
            .borrow()
            .clone()
            .ok_or(LogError::NoCheckpointYet)
    }

    /// A receiver that sees every newly published checkpoint.
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<SignedCheckpoint>>> {
        self.shared.published.subscribe()
    }

    /// Waits until a published checkpoint covers entry `index`, and returns it.
    pub async fn wait_for_checkpoint(&self, index: u64) -> Result<Arc<SignedCheckpoint>, LogError> {
        let mut rx = self.subscribe();
        let cp = rx
            .wait_for(|cp| cp.as_ref().is_some_and(|cp| cp.checkpoint.size > index))
            .await
            .map_err(|_| LogError::Closed)?;
        cp.clone().ok_or(LogError::Closed)
    }

    fn check_size(&self, size: u64) -> Result<(), LogError> {
        let current = self.checkpoint()?.checkpoint.size;
        if size > current {
            return Err(LogError::SizeBeyondCheckpoint { size, current });
        }
        Ok(())
    }

    fn memory_reader(&self) -> MemoryTileReader<'_> {
        MemoryTileReader {
            store: &*self.shared.store,
        }
    }

    fn reader(&self) -> TileReader<'_> {
        TileReader {
            store: &*self.shared.store,
        }
    }

    /// The audit path of entry `index` in the tree of `size` (at most the checkpointed size).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(size)?;
        Ok(inclusion_proof(index, size, &self.reader())?)
    }

    /// [`Log::inclusion_proof`] from memory alone, for async callers to run in place: `None`
    /// when it would need storage I/O (then call [`Log::inclusion_proof`] on a blocking
    /// thread). The proof is the same either way.
    pub fn try_inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Option<Result<Vec<Hash>, LogError>> {
        if let Err(e) = self.check_size(size) {
            return Some(Err(e));
        }
        in_memory(inclusion_proof(index, size, &self.memory_reader()))
    }

    /// [`Log::consistency_proof`] from memory alone; `None` when it would need storage I/O.
    pub fn try_consistency_proof(&self, from: u64, to: u64) -> Option<Result<Vec<Hash>, LogError>> {
        if let Err(e) = self.check_size(to) {
            return Some(Err(e));
        }
        in_memory(consistency_proof(from, to, &self.memory_reader()))
    }

    /// The index of the entry with leaf hash `leaf`, and its audit path in the tree of `size`.
    pub fn inclusion_proof_by_hash(
        &self,
        leaf: &Hash,
        size: u64,
    ) -> Result<(u64, Vec<Hash>), LogError> {
        self.check_size(size)?;
        let index = self
            .shared
            .store
            .find_leaf(leaf)?
            .filter(|i| *i < size)
            .ok_or_else(|| {
                LogError::NotFound(format!(
                    "leaf hash {} in the tree of size {size}",
                    leaf.to_base64()
                ))
            })?;
        Ok((index, inclusion_proof(index, size, &self.reader())?))
    }

    /// PROOF(from, to) for `0 < from <= to <=` the checkpointed size.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(to)?;
        Ok(consistency_proof(from, to, &self.reader())?)
    }

    /// The bytes of hash tile `tile`, which must exist at the checkpointed size.
    pub fn tile(&self, tile: Tile) -> Result<Vec<u8>, LogError> {
        let size = self.checkpoint()?.checkpoint.size;
        served_tile(self.shared.store.as_ref(), size, tile)?
            .ok_or_else(|| LogError::NotFound(tile.path()))
    }

    /// The entry bundle `tile/entries/<index>[.p/<width>]` at the checkpointed size.
    pub fn entry_bundle(&self, tile: Tile) -> Result<Vec<u8>, LogError> {
        let size = self.checkpoint()?.checkpoint.size;
        served_entry_bundle(self.shared.store.as_ref(), size, tile)?
            .ok_or_else(|| LogError::NotFound(tile.entries_path()))
    }

    /// Entries `[start, end)`, all below the checkpointed size.
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, LogError> {
        let size = self.checkpoint()?.checkpoint.size;
        stored_entries(self.shared.store.as_ref(), size, start, end)?.ok_or_else(|| {
            LogError::NotFound(format!("entries [{start}, {end}) of a log of size {size}"))
        })
    }

    /// One entry.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        let end = index
            .checked_add(1)
            .ok_or_else(|| LogError::NotFound(format!("entry {index}")))?;
        Ok(self.entries(index, end)?.pop().unwrap_or_default())
    }

    /// The entries carrying every tag of `q`, newest first, among those the latest checkpoint
    /// covers (so that every match can be proven); see [`crate::search`]. `accept` is called
    /// with each candidate's index and bytes. Blocks on storage: call it off async workers.
    pub fn search(
        &self,
        q: &search::Query<'_>,
        accept: &mut dyn FnMut(u64, &[u8]) -> bool,
    ) -> Result<search::Found, LogError> {
        let size = self.checkpoint()?.checkpoint.size;
        let store = &*self.shared.store;
        let q = search::Query {
            below: q.below.min(size),
            ..q.clone()
        };
        Ok(search::search(store, &q, &mut |i| {
            Ok(accept(i, &stored_entry(store, i)?))
        })?)
    }

    /// The first checkpointed index whose entry satisfies `pred`, given that every later entry
    /// does too (as "received at or after T" nearly is: see the API's search for the slack);
    /// the checkpointed size when none does. About `log2(size)` entry reads.
    pub fn first_entry_where(&self, pred: &mut dyn FnMut(&[u8]) -> bool) -> Result<u64, LogError> {
        let size = self.checkpoint()?.checkpoint.size;
        let store = &*self.shared.store;
        Ok(search::partition_point(size, &mut |i| {
            Ok(pred(&stored_entry(store, i)?))
        })?)
    }

    /// The signed checkpoint published at `size`, if one was.
    pub fn checkpoint_at(&self, size: u64) -> Result<Option<String>, LogError> {
        let note = self.shared.store.read_checkpoint(size)?;
        Ok(note.map(|n| String::from_utf8_lossy(&n).into_owned()))
    }

    /// Recomputes every hash from the stored entries and checks every stored checkpoint.
    pub fn verify(&self) -> Result<VerifyReport, LogError> {
        verify_store(&*self.shared.store, &self.shared.signer.history_keys())
    }

    /// Stops accepting appends, finishes those already queued (their last checkpoint is
    /// signed before this returns), and stops the sequencer.
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Some(worker) = self.worker.lock().ok().and_then(|mut w| w.take()) {
            // A panicking sequencer already reported itself; there is nothing left to stop.
            let _ = worker.join();
            // Only once: a second close finds no worker.
            if let Err(e) = self.shared.store.flush() {
                tracing::warn!(error = %e, "flush at close failed; the next start replays the WAL");
            }
        }
    }
}

/// A proof read from memory, or `None` when a read would have needed storage I/O.
fn in_memory(
    proof: Result<Vec<Hash>, glasslog_merkle::ProofError>,
) -> Option<Result<Vec<Hash>, LogError>> {
    match proof {
        Err(e) if is_not_in_memory(&e) => None,
        other => Some(other.map_err(LogError::from)),
    }
}

fn is_not_in_memory(e: &glasslog_merkle::ProofError) -> bool {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<StoreError>())
        .is_some_and(|s| matches!(s, StoreError::NotInMemory))
}

impl Drop for Log {
    fn drop(&mut self) {
        self.close();
    }
}

/// Entry `i`, which a checkpoint covers: missing is corruption.
fn stored_entry(store: &dyn Store, i: u64) -> Result<Vec<u8>, StoreError> {
    store
        .read_entries(i, i + 1)?
        .pop()
        .ok_or_else(|| StoreError::Corrupt(format!("entry {i} is missing")))
}
