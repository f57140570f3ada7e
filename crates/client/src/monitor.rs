//! A monitor of any C2SP tlog-tiles log: each new checkpoint must verify and be consistent
//! with the last good one, proven from the new tree's tiles rather than asked of the log; new
//! entries can be followed, each checked into the signed root before it is handed out.
//!
//! <https://c2sp.org/tlog-tiles>, <https://c2sp.org/tlog-checkpoint>

use crate::{Client, Error, TileFetcher, VerifiedCheckpoint};
use glasslog_merkle::{
    TILE_WIDTH, Tile, consistency_proof, decode_entry_bundle, leaf_hash, verify_consistency,
};

/// What receives each new entry, with its index, once verified.
pub type EntrySink<'s> = &'s mut dyn FnMut(u64, &[u8]);

/// Follows one log from its last good checkpoint. A rollback, a fork, or a tile or bundle that
/// does not match the signed root is [`Error::Lied`]: evidence to keep.
pub struct Monitor<'a> {
    client: &'a Client,
    last: Option<VerifiedCheckpoint>,
}

impl<'a> Monitor<'a> {
    /// A monitor that last saw `last` (from its saved state), or nothing yet.
    pub fn new(client: &'a Client, last: Option<VerifiedCheckpoint>) -> Self {
        Monitor { client, last }
    }

    /// The last good checkpoint.
    pub fn last(&self) -> Option<&VerifiedCheckpoint> {
        self.last.as_ref()
    }

    /// Fetches the latest checkpoint and checks it against the last good one. With `each`,
    /// every entry new since then is passed to it with its index, after its level-0 tile was
    /// checked into the new root and the entry against its tile. Returns the new checkpoint,
    /// which becomes the last good one.
    pub fn poll(&mut self, each: Option<EntrySink<'_>>) -> Result<&VerifiedCheckpoint, Error> {
        let new = self.client.checkpoint()?;
        let m = match &self.last {
            None => None,
            Some(old) => Some(self.check_extends(old, &new)?),
        };
        if let (Some(m), Some(each)) = (m, each) {
            self.follow(&new, m, each)?;
        }
        Ok(self.last.insert(new))
    }

    /// The old size, if `new` extends `old` (same root at the same size, or a proof).
    fn check_extends(
        &self,
        old: &VerifiedCheckpoint,
        new: &VerifiedCheckpoint,
    ) -> Result<u64, Error> {
        let (m, n) = (old.checkpoint.size, new.checkpoint.size);
        if n < m {
            return Err(Error::Lied(format!(
                "rollback: the log went from size {m} to size {n}"
            )));
        }
        if n == m {
            if new.checkpoint.root != old.checkpoint.root {
                return Err(Error::Lied(format!(
                    "fork: two different roots for size {n}"
                )));
            }
            return Ok(m);
        }
        if m > 0 {
            let tiles = TileFetcher::new(self.client, new);
            let proof = consistency_proof(m, n, &tiles)
                .map_err(|e| Error::Unreachable(format!("reading tiles: {e}")))?;
            verify_consistency(m, n, &proof, &old.checkpoint.root, &new.checkpoint.root).map_err(
                |e| {
                    Error::Lied(format!(
                        "fork: size {n} does not extend the checkpoint of size {m}: {e}"
                    ))
                },
            )?;
        }
        Ok(m)
    }

    /// Hands every entry in `[from, size)` of `cp` to `each`, verified.
    fn follow(
        &self,
        cp: &VerifiedCheckpoint,
        from: u64,
        each: &mut dyn FnMut(u64, &[u8]),
    ) -> Result<(), Error> {
        let n = cp.checkpoint.size;
        let width = u64::from(TILE_WIDTH);
        let tiles = TileFetcher::new(self.client, cp);
        for index in from / width..n.div_ceil(width) {
            let Some(tile) = Tile::at_size(0, index, n) else {
                break;
            };
            let hashes = tiles.verified_leaves(index, cp)?;
            let bundle = self.client.fetch(&tile.entries_path())?;
            let entries = decode_entry_bundle(&bundle)
                .map_err(|e| Error::Lied(format!("{}: {e}", tile.entries_path())))?;
            if entries.len() != hashes.len() {
                return Err(Error::Lied(format!(
                    "{} does not match {}",
                    tile.entries_path(),
                    tile.path()
                )));
            }
            for ((entry, hash), at) in entries.iter().zip(&hashes).zip(index * width..) {
                if leaf_hash(entry) != *hash {
                    return Err(Error::Lied(format!("entry {at} does not hash to its tile")));
                }
                if at >= from {
                    each(at, entry);
                }
            }
        }
        Ok(())
    }
}
