//! The narrow storage trait every backend implements; all RocksDB specifics stay behind it.

use crate::error::StoreError;
use glasslog_merkle::Hash;

/// The address of a stored tile: tile level and index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileKey {
    /// Tile level (Merkle height / 8).
    pub level: u8,
    /// Index within the level.
    pub index: u64,
}

impl TileKey {
    /// The 9-byte key: level, then big-endian index, so a level's tiles sort by index.
    pub fn to_bytes(self) -> [u8; 9] {
        let mut k = [0u8; 9];
        k[0] = self.level;
        k[1..].copy_from_slice(&self.index.to_be_bytes());
        k
    }
}

/// Whether this process may still act as the writer of its store ([`Store::lease`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lease {
    /// It holds the store: an embedded store always, a shared one while its lease is renewed.
    Held,
    /// It has not renewed its lease for as long as the lease lasts (a pause, or cut off from
    /// the database): another writer may have taken over, so it must not answer as the log.
    Unsure,
    /// Another writer holds the lease now.
    Lost,
}

/// Everything one group commit writes. A backend applies it atomically and durably: after
/// [`Store::commit`] returns `Ok`, all of it survives a crash; after an `Err` or a crash during
/// the call, either all of it or none of it is visible on the next open.
#[derive(Debug, Default, Clone)]
pub struct Commit {
    /// New entries by index.
    pub entries: Vec<(u64, Vec<u8>)>,
    /// Identity hash to index, for deduplication.
    pub identities: Vec<(Hash, u64)>,
    /// Leaf hash to index, for proofs by hash.
    pub leaves: Vec<(Hash, u64)>,
    /// Stored tiles (see `tiles.rs` for the layout), replacing any earlier value.
    pub tiles: Vec<(TileKey, Vec<u8>)>,
    /// Tag to index, for finding entries by a label the caller chose (a break-glass session).
    pub tags: Vec<(String, u64)>,
    /// Data keys made for this commit's sealed entries (encryption at rest): written with
    /// the entries they seal, so no entry is ever durable without its key.
    pub keys: Vec<NewKey>,
    /// The tree size after this commit.
    pub tree_size: u64,
}

/// A data key's id, and the pseudonym of the scope a key table maps to its current key.
pub type KeyId = [u8; 16];

/// A data key made in a commit (see `glasslog_seal` for the record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// The key's random id.
    pub id: KeyId,
    /// Its scope's pseudonym, which from now on maps to this key.
    pub scope: KeyId,
    /// The key record: the wrapped key and its clear metadata.
    pub record: Vec<u8>,
}

/// Storage for one log. Implementations must be safe to read from many threads while one
/// thread commits, and reads must never observe half of a commit.
pub trait Store: Send + Sync + 'static {
    /// The tree size of the last successful commit; 0 for a new store.
    fn tree_size(&self) -> Result<u64, StoreError>;
    /// Stored tiles, in the order asked; `None` where there is none.
    fn read_tiles(&self, keys: &[TileKey]) -> Result<Vec<Option<Vec<u8>>>, StoreError>;
    /// [`Store::read_tiles`] answered from memory alone (caches included): `None` when any of
    /// the keys would need storage I/O. It never waits on a disk, so async callers may call it
    /// in place and go to a blocking thread only on `None`. A backend without such a mode
    /// keeps the default, which always says `None`.
    fn read_tiles_in_memory(
        &self,
        keys: &[TileKey],
    ) -> Result<Option<Vec<Option<Vec<u8>>>>, StoreError> {
        let _ = keys;
        Ok(None)
    }
    /// Entries `[start, end)` in order, stopping early at the first missing index.
    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError>;
    /// The index recorded for an identity hash.
    fn find_identity(&self, identity: &Hash) -> Result<Option<u64>, StoreError>;
    /// The index recorded for a leaf hash.
    fn find_leaf(&self, leaf: &Hash) -> Result<Option<u64>, StoreError>;
    /// Up to `limit` indices carrying `tag`, from index `from` on, in increasing order.
    fn tagged(&self, tag: &str, from: u64, limit: usize) -> Result<Vec<u64>, StoreError>;
    /// Up to `limit` indices carrying `tag` below index `below`, in decreasing order: the
    /// newest-first walk that search leapfrogs over (see `search.rs`).
    fn tagged_before(&self, tag: &str, below: u64, limit: usize) -> Result<Vec<u64>, StoreError>;
    /// A cursor over `tag`'s indices, for a walk that seeks it many times (a search). The
    /// default reads [`Store::tagged_before`] a page at a time and answers seeks
    /// inside a page from memory; a backend whose seeks are cheaper on an open iterator
    /// (RocksDB) keeps one open for the walk.
    fn tag_cursor<'a>(&'a self, tag: &str) -> Result<Box<dyn TagCursor + 'a>, StoreError> {
        Ok(Box::new(Paged {
            store: self,
            tag: tag.to_owned(),
            below: 0,
            page: Vec::new(),
        }))
    }
    /// The current key of a scope (by pseudonym).
    fn scope_key(&self, scope: &KeyId) -> Result<Option<KeyId>, StoreError>;
    /// A key record by id: a wrapped key, or the tombstone of one that was destroyed.
    fn data_key(&self, id: &KeyId) -> Result<Option<Vec<u8>>, StoreError>;
    /// Up to `limit` key records with ids above `after`, by increasing id: erasure and
    /// retention walk the (small) key table to choose what to destroy.
    fn data_keys(
        &self,
        after: Option<KeyId>,
        limit: usize,
    ) -> Result<Vec<(KeyId, Vec<u8>)>, StoreError>;
    /// Destroys keys: each record is replaced by its tombstone and each scope forgets its
    /// current key, atomically and durably, and then the backend drops the old bytes from its
    /// files (RocksDB flushes and compacts the key table, so the wrapped keys leave the WAL
    /// and the table files).
    fn erase_keys(
        &self,
        tombstones: &[(KeyId, Vec<u8>)],
        scopes: &[KeyId],
    ) -> Result<(), StoreError>;
    /// Removes tag postings (an erased entry's search terms), durably.
    fn delete_tags(&self, tags: &[(String, u64)]) -> Result<(), StoreError>;
    /// Applies a group commit atomically and durably.
    fn commit(&self, commit: &Commit) -> Result<(), StoreError>;
    /// Records a signed checkpoint. It need not be durable on return: after a crash the log
    /// re-signs the same tree head, and Ed25519 gives the same bytes.
    fn put_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), StoreError>;
    /// Whether this process still holds the store, as far as it can tell without asking.
    fn lease(&self) -> Lease {
        Lease::Held
    }
    /// A small named record that every front-end of a shared store reads (the token store),
    /// or `None` if it was never written.
    fn setting(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Replaces a named record, durably when it returns; on a shared store only while this
    /// writer holds it, as a commit.
    fn put_setting(&self, name: &str, value: &[u8]) -> Result<(), StoreError>;
    /// The head the sequencer last published through [`Store::swap_head`]: (size, root).
    fn head(&self) -> Result<Option<(u64, Hash)>, StoreError>;
    /// Publishes a checkpoint as a compare-and-swap on the head: only if the recorded head is
    /// `previous` (`None`: none yet) does it become (`size`, `root`), with `note` recorded as
    /// [`Store::put_checkpoint`] records it, in one atomic step. Otherwise nothing is written
    /// and the answer is [`StoreError::HeadMoved`]. So two writers that each believe they
    /// sequence (a fencing that failed, an operator's mistake) can never publish diverging
    /// heads: each one checks that the head it replaces is a prefix of its own. Like
    /// [`Store::put_checkpoint`], need not be durable on return.
    fn swap_head(
        &self,
        previous: Option<(u64, Hash)>,
        size: u64,
        root: &Hash,
        note: &[u8],
    ) -> Result<(), StoreError>;
    /// The checkpoint recorded for a size.
    fn read_checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// The checkpoint with the largest size.
    fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError>;
    /// Up to `limit` checkpoints with size `>= from`, by increasing size.
    fn read_checkpoints(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    /// Moves buffered writes into their final form before a clean shutdown, so that the next
    /// open has nothing to replay. Durability never depends on it.
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// One tag's indices, walked downwards by seeks (see [`Store::tag_cursor`]).
pub trait TagCursor {
    /// The largest index below `below` that carries the tag.
    fn last_below(&mut self, below: u64) -> Result<Option<u64>, StoreError>;
}

/// [`TagCursor`] over [`Store::tagged_before`] pages: each page is every index of the tag in
/// `[its last, its bound)`, so a seek inside that range is answered from memory and only a seek
/// below it asks the store again. A search's seeks mostly move down a little at a time, so on
/// a backend where each call is a round trip (PostgreSQL) most seeks cost none.
struct Paged<'a, S: ?Sized> {
    store: &'a S,
    tag: String,
    /// The bound the page was asked below, and the page (decreasing).
    below: u64,
    page: Vec<u64>,
}

/// Indices one page of a [`Paged`] cursor asks for.
const CURSOR_PAGE: usize = 256;

impl<S: Store + ?Sized> TagCursor for Paged<'_, S> {
    fn last_below(&mut self, below: u64) -> Result<Option<u64>, StoreError> {
        // The page holds every index in [floor, self.below): all of [0, self.below) when it
        // came back short.
        let floor = if self.page.len() < CURSOR_PAGE {
            0
        } else {
            self.page.last().copied().unwrap_or(0)
        };
        let covered = below <= self.below && below > floor;
        if !covered {
            self.page = self.store.tagged_before(&self.tag, below, CURSOR_PAGE)?;
            self.below = below;
        }
        // The first index below `below` in a decreasing page.
        let at = self.page.partition_point(|i| *i >= below);
        Ok(self.page.get(at).copied())
    }
}
