//! Pure math and wire formats of a transparency log: RFC 6962 hashing, compact ranges,
//! inclusion and consistency proofs, C2SP signed notes, checkpoints, cosignatures, tiles.
//!
//! Nothing in this crate does I/O. Proof generation reads stored hashes through the small
//! [`HashReader`] trait (after Go's `sumdb/tlog`), so the same code serves proofs from RocksDB,
//! from tiles fetched over HTTP, or from memory. Every parser here takes untrusted input and
//! returns a typed error instead of panicking.

mod checkpoint;
mod compact;
mod hash;
mod mirror;
mod mldsa;
mod node;
mod note;
mod policy;
mod proof;
mod subtree;
mod tile;
mod tlog_proof;
mod vkeys;
mod witness;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use compact::CompactRange;
pub use hash::{EMPTY_ROOT, HASH_SIZE, Hash, HashError, hash_children, leaf_hash, node_hash};
pub use mirror::{
    AddEntries, AddEntriesHeader, MirrorInfo, MirrorWireError, Package, package_ranges,
    package_subtree_start,
};
pub use mldsa::{MlDsaSigner, MlDsaVerifier, SubtreeMessageError, TYPE_MLDSA44, subtree_message};
pub use node::{NodeId, range_nodes};
pub use note::{
    CosignatureVerifier, Ed25519Key, Ed25519Verifier, KeyError, Note, NoteError, NoteSignature,
    SignError, Signer, TYPE_COSIGNATURE, TYPE_ED25519, Verifier, VerifierSet, cosignature_message,
    key_id,
};
pub use policy::{Accepted, Policy, PolicyError, PolicyErrorKind, PolicyRejection};
pub use proof::{
    HashReader, MemoryHashes, MissingNode, ProofError, consistency_proof, consistency_proof_nodes,
    inclusion_proof, inclusion_proof_nodes, tree_root, verify_consistency, verify_inclusion,
};
pub use subtree::{
    is_subtree, subtree_consistency_proof, subtree_hash, verify_subtree_consistency,
    verify_subtree_inclusion,
};
pub use tile::{
    BUNDLE_ENTRY_MAX, EntryBundleError, TILE_HEIGHT, TILE_WIDTH, Tile, TileError, TileNode,
    decode_entry_bundle, encode_entry_bundle, tiles_for_size,
};
pub use tlog_proof::{TLOG_PROOF_HEADER, TlogProof, TlogProofError, TlogProofRejection};
pub use vkeys::{Cosigner, LogKey};
pub use witness::{AddCheckpoint, AddCheckpointError, SignSubtree, SignSubtreeError};
