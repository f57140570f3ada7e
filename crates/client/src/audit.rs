//! A whole-log audit: every level-0 tile and entry bundle of one signed checkpoint is
//! downloaded, every entry hashed into a compact range, every upper-tile node compared with
//! what the range computes, and the final root with the signed one. It resumes from its
//! state, so a long audit can stop and go on.
//!
//! <https://c2sp.org/tlog-tiles>

use crate::{Client, Error, VerifiedCheckpoint};
use glasslog_merkle::{
    CompactRange, Hash, NodeId, TILE_HEIGHT, TILE_WIDTH, Tile, decode_entry_bundle, leaf_hash,
};
use std::collections::HashMap;

/// Where an audit stands: what a caller saves to resume it.
#[derive(Clone, Debug)]
pub struct AuditState {
    /// The checkpoint audited.
    pub checkpoint: VerifiedCheckpoint,
    /// The next level-0 tile to read.
    pub next_tile: u64,
    /// The compact range over every entry read so far.
    pub range: CompactRange,
}

/// Audits one checkpoint's tree, a tile at a time. Data that does not match the signed
/// checkpoint is [`Error::Lied`] naming the first bad tile; a tile that cannot be fetched is
/// an outage, never mistaken for tampering.
pub struct Auditor<'a> {
    client: &'a Client,
    state: AuditState,
    upper: HashMap<(u8, u64), Vec<u8>>,
}

impl<'a> Auditor<'a> {
    /// Starts an audit of `checkpoint`, or resumes one from `state`.
    pub fn new(client: &'a Client, state: AuditState) -> Self {
        Auditor {
            client,
            state,
            upper: HashMap::new(),
        }
    }

    /// A fresh audit state for `checkpoint`.
    pub fn start(checkpoint: VerifiedCheckpoint) -> AuditState {
        AuditState {
            checkpoint,
            next_tile: 0,
            range: CompactRange::new(),
        }
    }

    /// Where it stands.
    pub fn state(&self) -> &AuditState {
        &self.state
    }

    /// Level-0 tiles in the audited tree.
    pub fn tiles(&self) -> u64 {
        self.state
            .checkpoint
            .checkpoint
            .size
            .div_ceil(u64::from(TILE_WIDTH))
    }

    /// Whether every tile was read.
    pub fn is_done(&self) -> bool {
        self.state.next_tile >= self.tiles()
    }

    /// Reads and checks the next level-0 tile, passing each of its entries to `each` with its
    /// index once it hashed to its tile entry.
    pub fn next_tile(&mut self, each: &mut dyn FnMut(u64, &[u8])) -> Result<(), Error> {
        let size = self.state.checkpoint.checkpoint.size;
        let width = u64::from(TILE_WIDTH);
        let index = self.state.next_tile;
        let tile = Tile::at_size(0, index, size)
            .ok_or_else(|| Error::Invalid(format!("tile 0/{index} is outside the tree")))?;
        let hashes = self.client.fetch(&tile.path())?;
        let bundle = self.client.fetch(&tile.entries_path())?;
        let bad = |what: String| Error::Lied(format!("first bad tile: {what}"));
        let items = decode_entry_bundle(&bundle)
            .map_err(|e| bad(format!("{}: {e}", tile.entries_path())))?;
        if items.len() != usize::from(tile.width) || hashes.len() != items.len() * 32 {
            return Err(bad(format!(
                "{} holds {} entries for {} hashes in {}",
                tile.entries_path(),
                items.len(),
                hashes.len() / 32,
                tile.path()
            )));
        }
        for (i, (entry, expected)) in items.iter().zip(hashes.chunks_exact(32)).enumerate() {
            let at = index * width + i as u64;
            let leaf = leaf_hash(entry);
            if leaf.0 != expected {
                return Err(bad(format!(
                    "{} (entry {at} does not hash to its tile entry)",
                    tile.entries_path()
                )));
            }
            // Every perfect node at a tile level above 0 must equal the served upper tile. The
            // nodes are collected first so that fetching a tile can fail as an outage, never
            // be mistaken for tampering.
            let mut completed = Vec::new();
            self.state.range.append(leaf, |id: NodeId, h: &Hash| {
                if id.level > 0 && id.level.is_multiple_of(TILE_HEIGHT) {
                    completed.push((id, *h));
                }
            });
            for (id, h) in completed {
                let level = id.level / TILE_HEIGHT;
                let key = (level, id.index / width);
                let tile = match self.upper.entry(key) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        let t = Tile::at_size(level, key.1, size).ok_or_else(|| {
                            Error::Invalid(format!("tile {level}/{} is outside the tree", key.1))
                        })?;
                        v.insert(self.client.fetch(&t.path())?)
                    }
                };
                let off = usize::try_from(id.index % width)
                    .unwrap_or(usize::MAX)
                    .saturating_mul(32);
                if tile.get(off..off.saturating_add(32)) != Some(&h.0[..]) {
                    return Err(bad(format!(
                        "tile/{level}/{} does not match the entries below it (node at level {}, index {})",
                        key.1, id.level, id.index
                    )));
                }
            }
            each(at, entry);
        }
        self.state.next_tile += 1;
        Ok(())
    }

    /// After the last tile: the recomputed root must be the signed one.
    pub fn finish(&self) -> Result<(), Error> {
        let cp = &self.state.checkpoint.checkpoint;
        if !self.is_done() {
            return Err(Error::Invalid(format!(
                "the audit stopped at tile {} of {}",
                self.state.next_tile,
                self.tiles()
            )));
        }
        if self.state.range.root() != cp.root {
            return Err(Error::Lied(format!(
                "the recomputed root of {} entries differs from the signed root",
                cp.size
            )));
        }
        Ok(())
    }
}
