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
use crate::types::{
    Appended, Identity, Item, LogConfig, MAX_TAG_BYTES, NewEntry, Prepared, Shared,
    SignedCheckpoint,
};
use crate::vault::{Erased, Vault};
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
            vault: config.sealing.clone().map(Vault::new),
            store,
            signer: signer.into(),
            published,
            superseded: watch::channel(false).0,
        });
        // A log is sealed or clear for its whole life: its first entry says which.
        if let Some(first) = shared.store.read_entries(0, 1)?.first() {
            match (glasslog_seal::is_sealed(first), shared.vault.is_some()) {
                (true, false) => {
                    return Err(LogError::SealingChanged(
                        "this log is encrypted at rest: configure its master key ([encryption])",
                    ));
                }
                (false, true) => {
                    return Err(LogError::SealingChanged(
                        "this log was created without encryption at rest; an existing log cannot be sealed",
                    ));
                }
                _ => {}
            }
        }
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

    /// Checks entries (size, tags) and, for a sealed log, seals them ahead of the sequencer:
    /// keyed tags and identities always, and the entry itself when its data key is one the
    /// log has already committed (else the sequencer seals it, making the key in the same
    /// commit). CPU only, about 10 µs an entry when sealed; callers with many entries run it
    /// off async workers, then [`Log::append_prepared`].
    pub fn prepare(&self, entries: Vec<NewEntry>) -> Result<Prepared, LogError> {
        let max = self.max_entry_bytes();
        if let Some(e) = entries.iter().find(|e| e.data.len() > max) {
            return Err(LogError::EntryTooLarge {
                len: e.data.len(),
                max,
            });
        }
        if let Some(t) = entries
            .iter()
            .flat_map(|e| &e.tags)
            .find(|t| t.len() > MAX_TAG_BYTES)
        {
            return Err(LogError::TagTooLong(t.len()));
        }
        let vault = self.shared.vault.as_ref();
        let items = entries
            .into_iter()
            .map(|e| {
                let identity = match (e.identity, vault) {
                    // Sealed records of the same bytes differ: identical plaintexts meet
                    // under a keyed hash instead.
                    (Identity::Leaf, Some(v)) => Some(Hash(v.master().identity(&e.data))),
                    (Identity::Leaf, None) => Some(glasslog_merkle::leaf_hash(&e.data)),
                    (Identity::Key(key), _) => Some(key),
                    (Identity::Unique, _) => None,
                };
                let Some(v) = vault else {
                    return Ok(Item {
                        data: e.data,
                        sealed: false,
                        identity,
                        tags: e.tags,
                        subject: e.subject,
                    });
                };
                let tags = e.tags.iter().map(|t| v.master().tag(t)).collect();
                let (data, sealed) = match v.seal_cached(e.subject.as_ref(), &e.data)? {
                    Some(record) => (record, true),
                    None => (e.data, false),
                };
                Ok(Item {
                    data,
                    sealed,
                    identity,
                    tags,
                    subject: e.subject,
                })
            })
            .collect::<Result<_, LogError>>()?;
        Ok(Prepared { items })
    }

    fn send(
        &self,
        entries: Prepared,
    ) -> Result<oneshot::Receiver<Result<Vec<Appended>, LogError>>, LogError> {
        let entries = entries.items;
        let (reply, rx) = oneshot::channel();
        let guard = self.tx.lock().map_err(|_| LogError::Closed)?;
        let tx = guard.as_ref().ok_or(LogError::Closed)?;
        tx.send(Request { entries, reply })
            .map_err(|_| LogError::Closed)?;
        Ok(rx)
    }

    /// Appends entries and resolves once they are durable, in order. Never blocks the caller's
    /// thread: the work happens on the sequencer thread.
    /// Prepares them on the caller's thread ([`Log::prepare`]): callers with many entries of
    /// a sealed log prepare them off async workers and use [`Log::append_prepared`].
    pub async fn append(&self, entries: Vec<NewEntry>) -> Result<Vec<Appended>, LogError> {
        let prepared = self.prepare(entries)?;
        self.append_prepared(prepared).await
    }

    /// Appends entries [`Log::prepare`] checked (and sealed); resolves once they are durable.
    pub async fn append_prepared(&self, entries: Prepared) -> Result<Vec<Appended>, LogError> {
        self.send(entries)?.await.map_err(|_| LogError::Closed)?
    }

    /// [`Log::append`] for synchronous callers.
    pub fn append_blocking(&self, entries: Vec<NewEntry>) -> Result<Vec<Appended>, LogError> {
        let prepared = self.prepare(entries)?;
        self.send(prepared)?
            .blocking_recv()
            .map_err(|_| LogError::Closed)?
    }

    /// Up to `limit` indices of entries tagged `tag`, from index `from` on, in order. Blocks
    /// on storage: call it off async worker threads.
    pub fn tagged(&self, tag: &str, from: u64, limit: usize) -> Result<Vec<u64>, LogError> {
        Ok(self
            .shared
            .store
            .tagged(&self.stored_tag(tag), from, limit)?)
    }

    /// A tag as the index stores it: a sealed log keeps keyed hashes, never words.
    fn stored_tag(&self, tag: &str) -> String {
        match &self.shared.vault {
            Some(v) => v.master().tag(tag),
            None => tag.to_owned(),
        }
    }

    /// The largest entry an append takes: what fits a bundle, less a seal's overhead.
    pub fn max_entry_bytes(&self) -> usize {
        match self.shared.vault {
            Some(_) => BUNDLE_ENTRY_MAX - glasslog_seal::OVERHEAD,
            None => BUNDLE_ENTRY_MAX,
        }
    }

    /// Whether entries are sealed (encrypted at rest).
    pub fn is_sealed(&self) -> bool {
        self.shared.vault.is_some()
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

    /// Whether this process still holds its store, as far as it knows without asking: on a
    /// shared store, not once its lease went unrenewed for as long as it lasts, since another
    /// front-end may sequence now ([`crate::Lease`]).
    pub fn lease(&self) -> crate::Lease {
        self.shared.store.lease()
    }

    /// Resolves once another writer has taken the store over (a shared database's sequencer
    /// lease went to another front-end): from then on this log refuses every append with
    /// [`LogError::Superseded`], and a server should stop so that it can be started again as a
    /// standby.
    pub async fn superseded(&self) {
        let mut rx = self.shared.superseded.subscribe();
        let _ = rx.wait_for(|s| *s).await;
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

    /// Entries `[start, end)`, all below the checkpointed size, opened: plaintext, and for a
    /// sealed log what proves it against its leaf, or that it was erased.
    pub fn open_entries(&self, start: u64, end: u64) -> Result<Vec<Opening>, LogError> {
        let size = self.checkpoint()?.checkpoint.size;
        let store = self.shared.store.as_ref();
        let stored = stored_entries(store, size, start, end)?.ok_or_else(|| {
            LogError::NotFound(format!("entries [{start}, {end}) of a log of size {size}"))
        })?;
        stored
            .into_iter()
            .map(|record| open_stored(self.shared.vault.as_ref(), store, record))
            .collect()
    }

    /// The plaintext of entries `[start, end)`, all below the checkpointed size; an erased
    /// one is [`LogError::Erased`].
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, LogError> {
        (start..)
            .zip(self.open_entries(start, end)?)
            .map(|(i, o)| o.plaintext.ok_or(LogError::Erased(i)))
            .collect()
    }

    /// One entry's plaintext.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        let end = index
            .checked_add(1)
            .ok_or_else(|| LogError::NotFound(format!("entry {index}")))?;
        Ok(self.entries(index, end)?.pop().unwrap_or_default())
    }

    /// Destroys the data keys of every scope whose key record `select`s (crypto-shredding):
    /// their entries' plaintext becomes unrecoverable while every leaf, tile and proof stays
    /// as it was. Durable on return. Blocks on storage. An error for a log that is not sealed.
    pub fn erase(
        &self,
        select: &dyn Fn(&glasslog_seal::KeyMeta) -> bool,
    ) -> Result<Erased, LogError> {
        let vault = self.shared.vault.as_ref().ok_or(LogError::NotSealed)?;
        vault.erase(self.shared.store.as_ref(), select, crate::vault::now_ms())
    }

    /// Removes the postings of entries from the tag index: each entry's tags, given as the
    /// caller wrote them (a sealed log stores their keyed form). Erasure uses it so that an
    /// erased entry is no longer found by a term it held. Durable on return; blocks on
    /// storage. Returns how many postings were removed.
    pub fn delete_postings(&self, postings: &[(u64, Vec<String>)]) -> Result<usize, LogError> {
        let stored: Vec<(String, u64)> = postings
            .iter()
            .flat_map(|(i, tags)| tags.iter().map(move |t| (self.stored_tag(t), *i)))
            .collect();
        for chunk in stored.chunks(4096) {
            self.shared.store.delete_tags(chunk)?;
        }
        Ok(stored.len())
    }

    /// The master key of a sealed log: erasure and retention name subjects and sources by
    /// its pseudonyms.
    pub fn master_key(&self) -> Option<&glasslog_seal::MasterKey> {
        self.shared.vault.as_ref().map(Vault::master)
    }

    /// The first instant (ms) after which a key's epoch holds no entries: retention destroys
    /// a key once this is older than the retention period.
    pub fn epoch_end_ms(&self, epoch: u32) -> Option<u64> {
        self.shared.vault.as_ref().map(|v| v.epoch_end_ms(epoch))
    }

    /// The entries carrying every tag of `q`, newest first, among those the latest checkpoint
    /// covers (so that every match can be proven); see [`crate::search`]. `accept` is called
    /// with each candidate's index and opening (never an erased one). Blocks on storage: call it off async workers.
    pub fn search(
        &self,
        q: &search::Query<'_>,
        accept: &mut dyn FnMut(u64, &Opening) -> bool,
    ) -> Result<search::Found, LogError> {
        let size = self.checkpoint()?.checkpoint.size;
        let store = &*self.shared.store;
        let vault = self.shared.vault.as_ref();
        let tags: Vec<String> = q.tags.iter().map(|t| self.stored_tag(t)).collect();
        let q = search::Query {
            below: q.below.min(size),
            tags: &tags,
            ..q.clone()
        };
        // An erased match is skipped: nothing of it can be shown.
        let mut failed = None;
        let found = search::search(store, &q, &mut |i| match open_stored(
            vault,
            store,
            stored_entry(store, i)?,
        ) {
            Ok(o) if o.plaintext.is_some() => Ok(accept(i, &o)),
            Ok(_) => Ok(false),
            Err(e) => {
                failed = Some(e);
                Ok(false)
            }
        })?;
        match failed {
            Some(e) => Err(e),
            None => Ok(found),
        }
    }

    /// The first checkpointed index whose entry satisfies `pred`, given that every later entry
    /// does too (as "received at or after T" nearly is: see the API's search for the slack);
    /// the checkpointed size when none does. About `log2(size)` entry reads.
    pub fn first_entry_where(&self, pred: &mut dyn FnMut(&[u8]) -> bool) -> Result<u64, LogError> {
        let size = self.checkpoint()?.checkpoint.size;
        let store = &*self.shared.store;
        let vault = self.shared.vault.as_ref();
        let mut failed = None;
        let at = search::partition_point(size, &mut |i| {
            // An erased entry has no time: the nearest readable one after it stands in (a
            // later entry satisfies the predicate if this one would, near enough).
            for j in i..size.min(i.saturating_add(ERASED_PROBE)) {
                match open_stored(vault, store, stored_entry(store, j)?) {
                    Ok(Opening {
                        plaintext: Some(p), ..
                    }) => return Ok(pred(&p)),
                    Ok(_) => {}
                    Err(e) => {
                        failed = Some(e);
                        return Ok(false);
                    }
                }
            }
            Ok(false)
        })?;
        match failed {
            Some(e) => Err(e),
            None => Ok(at),
        }
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

/// Entries a time search reads past an erased one before giving up on finding a time there.
const ERASED_PROBE: u64 = 1024;

/// An entry read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opening {
    /// The bytes the leaf hashes: the entry itself, or for a sealed log its sealed record.
    pub leaf_data: Vec<u8>,
    /// The entry as submitted (after redaction); `None` once its key was destroyed.
    pub plaintext: Option<Vec<u8>>,
    /// For a sealed entry, the commitment's salt: with the plaintext it proves the record
    /// (`glasslog_seal::verify_opening`), without any key.
    pub salt: Option<[u8; 32]>,
}

fn open_stored(
    vault: Option<&Vault>,
    store: &dyn Store,
    record: Vec<u8>,
) -> Result<Opening, LogError> {
    if !glasslog_seal::is_sealed(&record) {
        return Ok(Opening {
            plaintext: Some(record.clone()),
            leaf_data: record,
            salt: None,
        });
    }
    let vault = vault.ok_or(LogError::NotSealed)?;
    let opened = vault.open(store, &record)?;
    Ok(Opening {
        leaf_data: record,
        salt: opened.as_ref().map(|o| o.salt),
        plaintext: opened.map(|o| o.plaintext),
    })
}

/// Entry `i`, which a checkpoint covers: missing is corruption.
fn stored_entry(store: &dyn Store, i: u64) -> Result<Vec<u8>, StoreError> {
    store
        .read_entries(i, i + 1)?
        .pop()
        .ok_or_else(|| StoreError::Corrupt(format!("entry {i} is missing")))
}
