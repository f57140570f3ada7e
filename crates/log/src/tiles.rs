//! How hashes are stored: one record per tlog tile holding the tile's served hashes and every
//! perfect node inside it, so a proof costs one point read per tile level and no hashing.
//!
//! Record layout: `u16 BE width || inner level 0 || inner level 1 || ... || inner level 7`,
//! where inner level `r` holds `width >> r` hashes. Inner level 0 is exactly the served tile.
//! The tile's own root (height 8 inside it) is the next tile level's hash, stored there.

use crate::error::StoreError;
use crate::store::{Store, TileKey};
use glasslog_merkle::{
    CompactRange, HASH_SIZE, Hash, HashReader, NodeId, TILE_HEIGHT, TILE_WIDTH, Tile, TileNode,
    encode_entry_bundle,
};

/// Levels of nodes stored inside one tile.
const INNER_LEVELS: usize = TILE_HEIGHT as usize;
/// Tile levels needed to address every height of a 64-bit tree.
pub(crate) const TILE_LEVELS: usize = 64 / INNER_LEVELS;

/// A stored record's width and its hashes, after checking that its length matches the width.
fn record_shape(key: TileKey, bytes: &[u8]) -> Result<(usize, &[u8]), StoreError> {
    let corrupt =
        |what: &str| StoreError::Corrupt(format!("tile {}/{}: {what}", key.level, key.index));
    let (width, rest) = bytes
        .split_first_chunk::<2>()
        .ok_or_else(|| corrupt("truncated"))?;
    let width = usize::from(u16::from_be_bytes(*width));
    if width == 0 || width > usize::from(TILE_WIDTH) {
        return Err(corrupt("bad width"));
    }
    let expected: usize = (0..INNER_LEVELS).map(|r| width >> r).sum();
    if rest.len() != expected * HASH_SIZE {
        return Err(corrupt("length does not match width"));
    }
    Ok((width, rest))
}

/// A decoded tile record.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct StoredTile {
    pub levels: [Vec<Hash>; INNER_LEVELS],
}

impl StoredTile {
    pub fn width(&self) -> usize {
        self.levels[0].len()
    }

    pub fn encode(&self) -> Vec<u8> {
        let count: usize = self.levels.iter().map(Vec::len).sum();
        let mut out = Vec::with_capacity(2 + count * HASH_SIZE);
        #[expect(
            clippy::cast_possible_truncation,
            reason = "a tile holds at most 256 hashes"
        )]
        let width = self.width() as u16;
        out.extend_from_slice(&width.to_be_bytes());
        for level in &self.levels {
            for h in level {
                out.extend_from_slice(&h.0);
            }
        }
        out
    }

    pub fn decode(key: TileKey, bytes: &[u8]) -> Result<Self, StoreError> {
        let (width, mut rest) = record_shape(key, bytes)?;
        let mut tile = StoredTile::default();
        for (r, level) in tile.levels.iter_mut().enumerate() {
            let (here, next) = rest.split_at((width >> r) * HASH_SIZE);
            level.extend(
                here.chunks_exact(HASH_SIZE)
                    .filter_map(|c| Hash::from_slice(c).ok()),
            );
            rest = next;
        }
        Ok(tile)
    }

    /// The served tile bytes of width `width`: the first `width` hashes of inner level 0.
    pub fn served(&self, width: usize) -> Vec<u8> {
        self.levels[0]
            .iter()
            .take(width)
            .flat_map(|h| h.0)
            .collect()
    }
}

/// The served bytes of hash tile `tile` in a tree of `size`, or `None` when the tree is too
/// small to have it at that width. Shared by the log and its mirrors (`mirror.rs`).
pub(crate) fn served_tile(
    store: &dyn Store,
    size: u64,
    tile: Tile,
) -> Result<Option<Vec<u8>>, StoreError> {
    let available = Tile::at_size(tile.level, tile.index, size).map_or(0, |t| t.width);
    if tile.width > available {
        return Ok(None);
    }
    let key = TileKey {
        level: tile.level,
        index: tile.index,
    };
    let bytes = store.read_tiles(&[key])?.pop().flatten().ok_or_else(|| {
        StoreError::Corrupt(format!("tile {} is missing from storage", tile.path()))
    })?;
    let stored = StoredTile::decode(key, &bytes)?;
    if stored.width() < usize::from(tile.width) {
        return Err(StoreError::Corrupt(format!(
            "tile {} is narrower than the tree",
            tile.path()
        )));
    }
    Ok(Some(stored.served(usize::from(tile.width))))
}

/// Entries `[start, end)` of a tree of `size`, or `None` when the range is not inside it.
pub(crate) fn stored_entries(
    store: &dyn Store,
    size: u64,
    start: u64,
    end: u64,
) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
    if start >= end || end > size {
        return Ok(None);
    }
    let entries = store.read_entries(start, end)?;
    if entries.len() as u64 != end - start {
        return Err(StoreError::Corrupt(format!(
            "entry {} is missing",
            start + entries.len() as u64
        )));
    }
    Ok(Some(entries))
}

/// The entry bundle `tile/entries/<index>[.p/<width>]` of a tree of `size`, or `None` when the
/// tree is too small to have it.
pub(crate) fn served_entry_bundle(
    store: &dyn Store,
    size: u64,
    tile: Tile,
) -> Result<Option<Vec<u8>>, StoreError> {
    let available = Tile::at_size(0, tile.index, size).map_or(0, |t| t.width);
    if tile.level != 0 || tile.width > available {
        return Ok(None);
    }
    let start = tile.index * u64::from(TILE_WIDTH);
    let Some(entries) = stored_entries(store, size, start, start + u64::from(tile.width))? else {
        return Ok(None);
    };
    encode_entry_bundle(entries.iter().map(Vec::as_slice))
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("stored entry does not fit a bundle: {e}")))
}

/// Reads perfect nodes from stored tiles, one point read per distinct tile.
pub(crate) struct TileReader<'a> {
    pub store: &'a dyn Store,
}

impl TileReader<'_> {
    /// The stored leaf hash of entry `index`.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash, StoreError> {
        let mut hashes = self.read_hashes(&[NodeId::new(0, index)])?;
        hashes
            .pop()
            .ok_or_else(|| StoreError::Corrupt(format!("leaf {index} is missing")))
    }
}

impl HashReader for TileReader<'_> {
    type Error = StoreError;

    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        hashes_from_records(nodes, |keys| self.store.read_tiles(keys))
    }
}

/// A [`TileReader`] that never waits on storage I/O: it fails with
/// [`StoreError::NotInMemory`] when a record is not in memory, so async callers may run a
/// proof in place and go to a blocking thread only then.
pub(crate) struct MemoryTileReader<'a> {
    pub store: &'a dyn Store,
}

impl HashReader for MemoryTileReader<'_> {
    type Error = StoreError;

    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        hashes_from_records(nodes, |keys| {
            self.store
                .read_tiles_in_memory(keys)?
                .ok_or(StoreError::NotInMemory)
        })
    }
}

/// The hashes of `nodes`, from one read of the distinct records that hold them. Each hash is
/// copied straight out of its record: a proof needs a few hashes of records that hold up to
/// 511.
fn hashes_from_records(
    nodes: &[NodeId],
    read: impl FnOnce(&[TileKey]) -> Result<Vec<Option<Vec<u8>>>, StoreError>,
) -> Result<Vec<Hash>, StoreError> {
    let places: Vec<TileNode> = nodes.iter().map(|n| TileNode::of(*n)).collect();
    let key_of = |p: &TileNode| TileKey {
        level: p.level,
        index: p.index,
    };
    let mut keys: Vec<TileKey> = places.iter().map(key_of).collect();
    keys.sort_unstable();
    keys.dedup();
    let values = read(&keys)?;
    places
        .iter()
        .zip(nodes)
        .map(|(p, id)| {
            let key = key_of(p);
            let record = keys
                .binary_search(&key)
                .ok()
                .and_then(|i| values.get(i))
                .and_then(Option::as_ref);
            let hash = match record {
                Some(bytes) => record_hash(key, bytes, p.inner_level, p.inner_index)?,
                None => None,
            };
            hash.ok_or_else(|| {
                StoreError::Corrupt(format!("node ({}, {}) is missing", id.level, id.index))
            })
        })
        .collect()
}

/// The hash at `inner_index` of inner level `inner_level` of a stored record, or `None` when
/// the record is not that wide yet.
fn record_hash(
    key: TileKey,
    bytes: &[u8],
    inner_level: u8,
    inner_index: u16,
) -> Result<Option<Hash>, StoreError> {
    let (width, rest) = record_shape(key, bytes)?;
    let level = usize::from(inner_level);
    if level >= INNER_LEVELS || usize::from(inner_index) >= width >> level {
        return Ok(None);
    }
    let before: usize = (0..level).map(|r| width >> r).sum();
    let at = (before + usize::from(inner_index)) * HASH_SIZE;
    Ok(rest
        .get(at..at + HASH_SIZE)
        .and_then(|h| Hash::from_slice(h).ok()))
}

/// The sequencer's view of the tree: the compact range, and the right-edge tile of each tile
/// level, which is where every new node lands.
#[derive(Clone, Debug, Default)]
pub(crate) struct TreeState {
    pub range: CompactRange,
    edges: [Option<(u64, StoredTile)>; TILE_LEVELS],
    dirty: [bool; TILE_LEVELS],
    /// Tiles that filled up and were replaced during this batch, already encoded.
    finished: Vec<(TileKey, Vec<u8>)>,
}

impl TreeState {
    /// Loads the state of a tree of `size` from storage.
    pub fn load(store: &dyn Store, size: u64) -> Result<Self, StoreError> {
        let reader = TileReader { store };
        let nodes = glasslog_merkle::range_nodes(0, size);
        let hashes = reader.read_hashes(&nodes)?;
        let range = CompactRange::from_parts(size, hashes)
            .ok_or_else(|| StoreError::Corrupt("compact range has the wrong shape".into()))?;
        let mut state = TreeState {
            range,
            ..Default::default()
        };
        for (level, edge) in (0u8..).zip(state.edges.iter_mut()) {
            let count = size >> (u32::from(TILE_HEIGHT) * u32::from(level));
            #[expect(clippy::cast_possible_truncation, reason = "a remainder modulo 256")]
            let width = (count % u64::from(TILE_WIDTH)) as usize;
            if width == 0 {
                continue;
            }
            let key = TileKey {
                level,
                index: count / u64::from(TILE_WIDTH),
            };
            let bytes = store.read_tiles(&[key])?.pop().flatten().ok_or_else(|| {
                StoreError::Corrupt(format!("edge tile {}/{} is missing", key.level, key.index))
            })?;
            let tile = StoredTile::decode(key, &bytes)?;
            if tile.width() != width {
                return Err(StoreError::Corrupt(format!(
                    "edge tile {}/{} has width {} for tree size {size}, expected {width}",
                    key.level,
                    key.index,
                    tile.width()
                )));
            }
            *edge = Some((key.index, tile));
        }
        Ok(state)
    }

    pub fn size(&self) -> u64 {
        self.range.size()
    }

    /// Appends a leaf and files every new perfect node into its edge tile.
    pub fn append(&mut self, leaf: Hash) {
        let TreeState {
            range,
            edges,
            dirty,
            finished,
        } = self;
        range.append(leaf, |id, hash| {
            let place = TileNode::of(id);
            let slot = usize::from(place.level);
            let (Some(edge), Some(is_dirty)) = (edges.get_mut(slot), dirty.get_mut(slot)) else {
                return;
            };
            if edge.as_ref().is_none_or(|(index, _)| *index != place.index) {
                if let Some((index, old)) = edge.take()
                    && *is_dirty
                {
                    finished.push((
                        TileKey {
                            level: place.level,
                            index,
                        },
                        old.encode(),
                    ));
                }
                *edge = Some((place.index, StoredTile::default()));
            }
            if let Some((_, tile)) = edge {
                tile.levels[usize::from(place.inner_level)].push(*hash);
            }
            *is_dirty = true;
        });
    }

    /// The tile records this batch changed, and a state with nothing pending.
    pub fn take_writes(&mut self) -> Vec<(TileKey, Vec<u8>)> {
        let mut out = std::mem::take(&mut self.finished);
        for (level, (edge, dirty)) in (0u8..).zip(self.edges.iter().zip(self.dirty.iter_mut())) {
            if let (Some((index, tile)), true) = (edge, *dirty) {
                out.push((
                    TileKey {
                        level,
                        index: *index,
                    },
                    tile.encode(),
                ));
            }
            *dirty = false;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use crate::store::Commit;
    use glasslog_merkle::{MemoryHashes, leaf_hash, range_nodes};

    #[test]
    fn records_round_trip_and_reject_bad_lengths() {
        let mut state = TreeState::default();
        for i in 0..300u64 {
            state.append(leaf_hash(&i.to_be_bytes()));
        }
        let writes = state.take_writes();
        // Full tile 0/0, edge tile 0/1 (44 wide), edge tile 1/0 (1 wide).
        assert_eq!(writes.len(), 3);
        for (key, bytes) in &writes {
            let tile = StoredTile::decode(*key, bytes).unwrap();
            assert_eq!(&tile.encode(), bytes);
            assert!(StoredTile::decode(*key, &bytes[..bytes.len() - 1]).is_err());
        }
        assert!(StoredTile::decode(TileKey { level: 0, index: 0 }, &[0, 0]).is_err());
        assert!(StoredTile::decode(TileKey { level: 0, index: 0 }, &[1, 1]).is_err());
    }

    #[test]
    fn stored_tiles_answer_every_perfect_node_and_reload() {
        let store = MemoryStore::new();
        let mut state = TreeState::default();
        let mut mem = MemoryHashes::new();
        let mut next = 0u64;
        // Uneven batches that cross tile boundaries at both tile levels.
        for batch in [1u64, 7, 250, 1, 300, 65000, 536, 1] {
            for _ in 0..batch {
                let leaf = leaf_hash(&next.to_be_bytes());
                state.append(leaf);
                mem.push(leaf);
                next += 1;
            }
            let commit = Commit {
                tiles: state.take_writes(),
                tree_size: next,
                ..Default::default()
            };
            store.commit(&commit).unwrap();
            let reloaded = TreeState::load(&store, next).unwrap();
            assert_eq!(reloaded.range, state.range);
        }
        let reader = TileReader { store: &store };
        let all: Vec<NodeId> = (0..17u8)
            .flat_map(|level| (0..(next >> level)).map(move |i| NodeId::new(level, i)))
            .collect();
        assert_eq!(
            reader.read_hashes(&all).unwrap(),
            mem.read_hashes(&all).unwrap()
        );
        assert!(reader.read_hashes(&range_nodes(0, next + 1)).is_err());
    }
}
