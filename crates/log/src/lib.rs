//! The transparency log itself: entries are sequenced, deduplicated, made durable in groups,
//! integrated into an RFC 6962 tree stored as tlog tiles, and covered by signed checkpoints.
//!
//! The log works over the narrow [`Store`] trait; [`RocksStore`] is the embedded default and the
//! only code in the workspace that knows RocksDB. [`MemoryStore`] is the reference backend that
//! the conformance suite in [`testing`] is checked against. See ARCHITECTURE.md for the
//! durability contract this crate enforces.

pub mod durable;
mod error;
mod key;
mod log;
mod memory;
mod mirror;
mod publish;
mod rocks;
pub mod search;
mod sequencer;
mod signer;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod tiles;
mod types;
mod vault;
mod verify;

pub use error::{LogError, StoreError};
/// The formats of encryption at rest, for callers that name keys and check openings.
pub use glasslog_seal as seal;
pub use key::{KeyFileError, load_or_create_mldsa_signer, load_or_create_signer, load_signer};
pub use log::{Log, Opening};
pub use memory::MemoryStore;
pub use mirror::{Mirror, MirrorCheckpoint, MirrorError};
pub use publish::{DirPublisher, PublishError};
pub use rocks::{RocksOptions, RocksStore};
pub use signer::{LogSigner, LogSignerError};
pub use store::{Commit, KeyId, Lease, NewKey, Store, TagCursor, TileKey};
pub use types::{
    Appended, Identity, LogConfig, MAX_TAG_BYTES, NewEntry, Prepared, SignedCheckpoint,
};
pub use vault::{Erased, Sealing, Subject};
pub use verify::VerifyReport;
