//! The log's error types: what storage reports, and what callers of the log see.

use glasslog_merkle::{NoteError, ProofError};

/// A storage backend failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process holds the data directory.
    #[error("the data directory is in use by another process")]
    Locked,
    /// Stored bytes do not have the shape the log wrote.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A read asked to be answered from memory alone ([`crate::Store::read_tiles_in_memory`])
    /// would have needed storage I/O. Callers retry on a blocking thread; never a failure.
    #[error("the read needs storage I/O")]
    NotInMemory,
    /// The backend failed; the operation may or may not have been applied.
    #[error("storage backend error: {0}")]
    Backend(String),
    /// Another writer took the store over (a shared database's sequencer lease went to another
    /// front-end): this one's write was refused and every later one will be.
    #[error("{0}")]
    LeaseLost(String),
    /// [`crate::Store::swap_head`] found another head than the one it was told to replace.
    #[error("the published head is not the one this writer last saw")]
    HeadMoved,
}

/// What the log reports to its callers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// An entry does not fit in an entry bundle.
    #[error("entry of {len} bytes exceeds the limit of {max} bytes")]
    EntryTooLarge {
        /// The entry's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A tag is longer than [`crate::MAX_TAG_BYTES`].
    #[error("a tag of {0} bytes exceeds the limit of 255 bytes")]
    TagTooLong(usize),
    /// A tree size beyond the latest signed checkpoint was asked for.
    #[error("tree size {size} is beyond the latest checkpoint ({current})")]
    SizeBeyondCheckpoint {
        /// The size asked for.
        size: u64,
        /// The latest checkpointed size.
        current: u64,
    },
    /// An index or tile that the tree does not contain.
    #[error("{0} is not in the log")]
    NotFound(String),
    /// The arguments of a proof request are invalid.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// The storage backend failed. Appends in the failed batch were not acknowledged.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored state does not verify: the log refuses to sign over it.
    #[error("log state does not verify: {0}")]
    Corrupt(String),
    /// A stored checkpoint does not verify with this log's key.
    #[error("stored checkpoint does not verify with the configured key: {0}")]
    ForeignCheckpoint(#[source] NoteError),
    /// The log stopped sequencing after an unrecoverable error; restart after repair.
    #[error("the log has stopped accepting entries after an unrecoverable error")]
    Halted,
    /// Another front-end sequences this log now (its store's lease was taken over): this one
    /// can never write again and should be restarted, to wait as a standby.
    #[error("another front-end sequences this log now")]
    Superseded,
    /// The log is shutting down.
    #[error("the log is closed")]
    Closed,
    /// No checkpoint is signed yet: a log that signs with ML-DSA-44 alone signs its first one
    /// with its first entry.
    #[error("the log has no signed checkpoint yet")]
    NoCheckpointYet,
    /// The entry's data key was destroyed (erasure or retention): its leaf stays in the tree,
    /// its plaintext is gone.
    #[error("entry {0} was erased")]
    Erased(u64),
    /// Sealing was asked of a log without a master key, or a sealed entry read without one.
    #[error("the log is not configured for encryption at rest")]
    NotSealed,
    /// The log was created sealed and opened without a master key, or the other way round:
    /// a log is encrypted at rest, or not, for its whole life.
    #[error("{0}")]
    SealingChanged(&'static str),
    /// The checkpoint key did not sign (a token that is away). Entries stay durable and
    /// acknowledged; the sequencer tries again.
    #[error(transparent)]
    Signing(#[from] glasslog_merkle::SignError),
}

impl LogError {
    /// Whether the same request may succeed if retried later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LogError::Store(StoreError::Backend(_)) | LogError::Closed | LogError::NoCheckpointYet
        )
    }
}
