//! A [`HashReader`] over C2SP tiles fetched from the log, checked against a verified
//! checkpoint, so clients can compute proofs and roots themselves instead of trusting answers.

use crate::{Client, Error, VerifiedCheckpoint};
use glasslog_merkle::{
    Hash, HashReader, NodeId, TILE_HEIGHT, TILE_WIDTH, Tile, TileNode, inclusion_proof, tree_root,
    verify_inclusion,
};
use std::cell::RefCell;
use std::collections::HashMap;

/// Reads Merkle nodes from the tiles of one checkpoint's tree.
pub struct TileFetcher<'a> {
    client: &'a Client,
    size: u64,
    cache: RefCell<HashMap<(u8, u64), Vec<Hash>>>,
}

/// A tile-level failure, kept as text so that it fits [`HashReader::Error`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TileReadError(String);

impl<'a> TileFetcher<'a> {
    /// A reader for the tree of `checkpoint`. Call [`TileFetcher::verify_root`] before
    /// trusting anything read through it.
    pub fn new(client: &'a Client, checkpoint: &VerifiedCheckpoint) -> Self {
        TileFetcher {
            client,
            size: checkpoint.checkpoint.size,
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// Recomputes the root from the tiles and compares it with the signed one.
    pub fn verify_root(&self, checkpoint: &VerifiedCheckpoint) -> Result<(), Error> {
        let root = tree_root(self.size, self).map_err(|e| Error::Lied(format!("tiles: {e}")))?;
        if root != checkpoint.checkpoint.root {
            return Err(Error::Lied(format!(
                "the tiles of tree {} do not hash to its signed root",
                self.size
            )));
        }
        Ok(())
    }

    /// The leaf hashes of level-0 tile `index`, checked into the signed root: the inclusion
    /// proof of the tile's first leaf is built through this reader, so its siblings below the
    /// tile's top are folded from these very hashes, and together they cover every other leaf
    /// of the tile. If it verifies, every hash of the tile is the tree's.
    pub fn verified_leaves(
        &self,
        index: u64,
        checkpoint: &VerifiedCheckpoint,
    ) -> Result<Vec<Hash>, Error> {
        let hashes = self
            .tile_hashes(0, index)
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        let first = index * u64::from(TILE_WIDTH);
        let leaf = hashes
            .first()
            .copied()
            .ok_or_else(|| Error::Lied(format!("tile 0/{index} is empty")))?;
        let proof = inclusion_proof(first, self.size, self)
            .map_err(|e| Error::Lied(format!("tile 0/{index}: {e}")))?;
        verify_inclusion(first, self.size, &leaf, &proof, &checkpoint.checkpoint.root).map_err(
            |e| {
                Error::Lied(format!(
                    "tile 0/{index} does not hash into the signed root of tree {}: {e}",
                    self.size
                ))
            },
        )?;
        Ok(hashes)
    }

    fn tile_hashes(&self, level: u8, index: u64) -> Result<Vec<Hash>, TileReadError> {
        if let Some(h) = self.cache.borrow().get(&(level, index)) {
            return Ok(h.clone());
        }
        let tile = Tile::at_size(level, index, self.size)
            .ok_or_else(|| TileReadError(format!("tile {level}/{index} is outside the tree")))?;
        let bytes = self
            .client
            .fetch(&tile.path())
            .map_err(|e| TileReadError(e.to_string()))?;
        if bytes.len() != usize::from(tile.width) * 32 {
            return Err(TileReadError(format!(
                "{} has {} bytes, expected {}",
                tile.path(),
                bytes.len(),
                usize::from(tile.width) * 32
            )));
        }
        let hashes: Vec<Hash> = bytes
            .chunks_exact(32)
            .filter_map(|c| Hash::from_slice(c).ok())
            .collect();
        self.cache
            .borrow_mut()
            .insert((level, index), hashes.clone());
        Ok(hashes)
    }
}

impl HashReader for TileFetcher<'_> {
    type Error = TileReadError;

    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, TileReadError> {
        nodes
            .iter()
            .map(|id| {
                // A node inside a tile is rebuilt from the 2^r tile hashes under it.
                let place = TileNode::of(*id);
                let r = u32::from(place.inner_level);
                let first = u64::from(place.inner_index) << r;
                let hashes = self.tile_hashes(place.level, place.index)?;
                let start =
                    usize::try_from(first).map_err(|_| TileReadError("index overflow".into()))?;
                let span = hashes.get(start..start + (1usize << r)).ok_or_else(|| {
                    TileReadError(format!(
                        "node ({}, {}) is beyond tile {}/{}",
                        id.level, id.index, place.level, place.index
                    ))
                })?;
                let mut level: Vec<Hash> = span.to_vec();
                while level.len() > 1 {
                    level = level
                        .chunks_exact(2)
                        .map(|p| glasslog_merkle::node_hash(&p[0], &p[1]))
                        .collect();
                }
                level
                    .pop()
                    .ok_or_else(|| TileReadError("empty span".into()))
            })
            .collect()
    }
}

// Tiles are 8 levels high: a node up to 7 levels above a tile's hashes is folded from them.
const _: () = assert!(TILE_HEIGHT == 8);
