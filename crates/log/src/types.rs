//! What the log and its sequencer share: settings, the entries going in, what comes out, and
//! the state both hold.

use crate::signer::LogSigner;
use crate::store::Store;
use glasslog_merkle::{Checkpoint, Hash};
use std::sync::Arc;
use tokio::sync::watch;

/// Settings of a log.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// Most entries integrated in one group commit. Larger groups share one fsync.
    pub max_batch_entries: usize,
    /// Encryption at rest: entries are sealed under per-subject data keys (`vault.rs`). A log
    /// is sealed or not for its whole life; a sealed log opened without it cannot read.
    pub sealing: Option<crate::vault::Sealing>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            max_batch_entries: 4096,
            sealing: None,
        }
    }
}

/// An entry to append.
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// The entry bytes, at most 65,535.
    pub data: Vec<u8>,
    /// What makes two submissions "the same entry".
    pub identity: Identity,
    /// Labels (at most 255 bytes each) under which [`Log::tagged`] finds this entry. Written
    /// in the same commit as the entry; a duplicate adds none.
    pub tags: Vec<String>,
    /// What a sealed log seals the entry under (the default scope when `None`).
    pub subject: Option<crate::vault::Subject>,
}

/// What makes two appends one entry: the second gets the first's index, marked duplicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// The same bytes (the leaf hash).
    Leaf,
    /// The same key: the API derives one from a submission's idempotency key.
    Key(Hash),
    /// Nothing: the entry is its own, and nothing is indexed to find it again. An audit event
    /// without a key (five identical failed logins are five events); indexing a random
    /// identity for it would cost a write and a lookup per entry and find nothing, ever.
    Unique,
}

/// Longest tag, in bytes.
pub const MAX_TAG_BYTES: usize = 255;

impl NewEntry {
    /// An entry deduplicated by its leaf hash.
    pub fn new(data: impl Into<Vec<u8>>) -> Self {
        NewEntry {
            data: data.into(),
            identity: Identity::Leaf,
            tags: Vec::new(),
            subject: None,
        }
    }
}

/// Entries checked and, for a sealed log, sealed ahead of the sequencer ([`crate::Log::prepare`]):
/// the CPU of sealing (an AEAD and a keyed hash per tag) is spent on the caller's thread, in
/// parallel, instead of on the one sequencer thread.
#[derive(Debug, Default)]
pub struct Prepared {
    pub(crate) items: Vec<Item>,
}

impl Prepared {
    /// How many entries.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// One prepared entry.
#[derive(Debug)]
pub(crate) struct Item {
    /// The bytes to store: the entry, or its sealed record once `sealed`.
    pub data: Vec<u8>,
    /// Whether `data` is already sealed (its data key was committed before).
    pub sealed: bool,
    /// The identity to deduplicate by, if any.
    pub identity: Option<Hash>,
    /// Tags as the index stores them.
    pub tags: Vec<String>,
    /// What to seal under when the sequencer seals it.
    pub subject: Option<crate::vault::Subject>,
}

/// Where an appended entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The entry's index.
    pub index: u64,
    /// The entry's leaf hash.
    pub leaf_hash: Hash,
    /// Whether the identity was already in the log (the index is the earlier one).
    pub duplicate: bool,
}

/// A checkpoint and its signed note, as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The parsed body.
    pub checkpoint: Checkpoint,
    /// The signed note, byte for byte what `GET /checkpoint` serves.
    pub note: String,
}

pub(crate) struct Shared {
    pub store: Arc<dyn Store>,
    /// The data keys, when the log is sealed.
    pub vault: Option<crate::vault::Vault>,
    pub signer: LogSigner,
    pub published: watch::Sender<Option<Arc<SignedCheckpoint>>>,
    /// Set once another writer holds the store's lease: this log never sequences again.
    pub superseded: watch::Sender<bool>,
}
