//! Publishes the log as static files in the tlog-tiles layout, so that monitors and auditors
//! read it from any web server or cache with no glasslog process in the path.
//!
//! Spec: <https://c2sp.org/tlog-tiles> (restated in `shared/specs/TLOG-STANDARDS.md`): hash
//! tiles at `tile/<L>/<N>[.p/<W>]`, entry bundles at `tile/entries/<N>[.p/<W>]`, and the
//! checkpoint at `checkpoint`. Every tile path names bytes that never change, so each file is
//! written once; the checkpoint is replaced last, after every tile and bundle it covers is
//! durable (each file goes through `durable::write_file`), so a reader never sees a checkpoint
//! whose tiles are missing.

use crate::durable;
use crate::error::LogError;
use crate::log::Log;
use glasslog_merkle::{TILE_WIDTH, Tile};
use std::path::{Path, PathBuf};

/// Writes the log's tiles, entry bundles and checkpoint under a directory.
#[derive(Debug)]
pub struct DirPublisher {
    root: PathBuf,
    published: u64,
}

/// Why publishing failed; the next call starts again from the last published checkpoint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The log could not be read.
    #[error(transparent)]
    Log(#[from] LogError),
}

impl DirPublisher {
    /// A publisher into `root` (created if missing), continuing from the checkpoint published
    /// there before, if any.
    pub fn open(root: &Path) -> Result<Self, PublishError> {
        let io = |source| PublishError::Io {
            path: root.to_owned(),
            source,
        };
        std::fs::create_dir_all(root).map_err(io)?;
        let published = std::fs::read_to_string(root.join("checkpoint"))
            .ok()
            .and_then(|note| note.lines().nth(1).and_then(|l| l.parse().ok()))
            .unwrap_or(0);
        Ok(DirPublisher {
            root: root.to_owned(),
            published,
        })
    }

    /// The tree size of the checkpoint published last.
    pub fn published(&self) -> u64 {
        self.published
    }

    /// Publishes the log's latest checkpoint and whatever it covers that is not published yet.
    /// Returns how many files were written.
    pub fn publish(&mut self, log: &Log) -> Result<usize, PublishError> {
        let signed = log.checkpoint()?;
        let size = signed.checkpoint.size;
        if size <= self.published && self.published != 0 {
            return Ok(0);
        }
        let mut written = 0;
        for tile in new_tiles(self.published, size) {
            self.write(&tile.path(), &log.tile(tile)?)?;
            written += 1;
            if tile.level == 0 {
                self.write(&tile.entries_path(), &log.entry_bundle(tile)?)?;
                written += 1;
            }
        }
        self.write("checkpoint", signed.note.as_bytes())?;
        self.published = size;
        Ok(written + 1)
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), PublishError> {
        let path = self.root.join(rel);
        let io = |source| PublishError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        durable::write_file(&path, bytes, 0o644).map_err(io)
    }
}

/// The tiles of a tree of size `to` that a tree of size `from` did not have: per level, the
/// full tiles completed since, and the partial tile at the right edge if it changed.
fn new_tiles(from: u64, to: u64) -> Vec<Tile> {
    let width = u64::from(TILE_WIDTH);
    let mut out = Vec::new();
    let (mut old, mut new) = (from, to);
    let mut level = 0u8;
    while new > 0 {
        let (old_full, new_full) = (old / width, new / width);
        for index in old_full..new_full {
            out.push(Tile {
                level,
                index,
                width: TILE_WIDTH,
            });
        }
        #[expect(clippy::cast_possible_truncation, reason = "a remainder modulo 256")]
        let rem = (new % width) as u16;
        if rem > 0 && new != old {
            out.push(Tile {
                level,
                index: new_full,
                width: rem,
            });
        }
        old = old_full;
        new = new_full;
        level += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::new_tiles;
    use glasslog_merkle::{Tile, tiles_for_size};
    use std::collections::BTreeSet;

    fn key(t: &Tile) -> (u8, u64, u16) {
        (t.level, t.index, t.width)
    }

    /// Against the full enumeration: growing from `a` to `b` publishes exactly the tiles of
    /// `b` that `a` lacked, so a reader of the directory finds every tile of every size.
    #[test]
    fn new_tiles_are_what_the_larger_tree_adds() {
        let sizes = [
            0u64, 1, 255, 256, 257, 511, 512, 65_535, 65_536, 65_537, 70_000,
        ];
        for &a in &sizes {
            for &b in sizes.iter().filter(|&&b| b > a) {
                let old: BTreeSet<_> = tiles_for_size(a).iter().map(key).collect();
                let want: BTreeSet<_> = tiles_for_size(b)
                    .iter()
                    .map(key)
                    .filter(|k| !old.contains(k))
                    .collect();
                let got: BTreeSet<_> = new_tiles(a, b).iter().map(key).collect();
                assert_eq!(got, want, "{a} -> {b}");
            }
        }
    }
}
