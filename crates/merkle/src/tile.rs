//! C2SP tlog-tiles: tile coordinates, their URL paths, which tiles a tree size implies, where a
//! perfect node lives inside a tile, and entry bundles.

use crate::node::NodeId;

/// Merkle levels spanned by one tile level.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes in a full tile.
pub const TILE_WIDTH: u16 = 256;
/// The largest entry an entry bundle can hold: its length prefix is two bytes.
pub const BUNDLE_ENTRY_MAX: usize = u16::MAX as usize;

/// A hash tile `tile/<level>/<index>[.p/<width>]`, or (with level 0) the entry bundle of the
/// same index and width. A tile of width `w` holds the first `w` of its 256 hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Tile level: its hashes are Merkle nodes at height `8 * level`.
    pub level: u8,
    /// Position in the level.
    pub index: u64,
    /// Number of hashes, 1..=256; 256 is a full tile.
    pub width: u16,
}

/// Where a perfect Merkle node sits inside the tiles: in tile (`level`, `index`), at height
/// `inner_level` (0..8) above the tile's own hashes, position `inner_index` at that height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileNode {
    /// The tile level.
    pub level: u8,
    /// The tile index.
    pub index: u64,
    /// Height inside the tile, 0..8; 0 is the tile's served hashes.
    pub inner_level: u8,
    /// Position at that height inside the tile, below `256 >> inner_level`.
    pub inner_index: u16,
}

impl TileNode {
    /// The tile holding perfect node `id`.
    pub fn of(id: NodeId) -> Self {
        let level = id.level / TILE_HEIGHT;
        let inner_level = id.level % TILE_HEIGHT;
        let per_tile = u32::from(TILE_HEIGHT - inner_level);
        #[expect(clippy::cast_possible_truncation, reason = "masked to at most 8 bits")]
        let inner_index = (id.index & ((1u64 << per_tile) - 1)) as u16;
        TileNode {
            level,
            index: id.index >> per_tile,
            inner_level,
            inner_index,
        }
    }
}

/// Why a tile path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// Not `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` in canonical form.
    #[error("not a canonical tile path")]
    Path,
    /// The level is above 63.
    #[error("tile level above 63")]
    Level,
    /// The index does not fit the tree's 64-bit address space.
    #[error("tile index out of range")]
    Index,
    /// Partial widths are 1..=255.
    #[error("partial tile width must be 1..255")]
    Width,
}

impl Tile {
    /// Whether this is a partial tile.
    pub fn is_partial(&self) -> bool {
        self.width < TILE_WIDTH
    }

    /// The path of this hash tile, relative to the log prefix.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, self.suffix())
    }

    /// The path of the entry bundle with this index and width (level 0 only).
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}", self.suffix())
    }

    fn suffix(&self) -> String {
        let mut s = encode_index(self.index);
        if self.is_partial() {
            s.push_str(&format!(".p/{}", self.width));
        }
        s
    }

    /// The first entry this tile covers, or `None` when that is beyond the 64-bit address
    /// space of a tree.
    pub fn first_entry(&self) -> Option<u64> {
        let shift = u32::from(TILE_HEIGHT) * (u32::from(self.level) + 1);
        if self.index == 0 {
            return Some(0);
        }
        // Shifting by 64 or more would overflow, and any index above 0 lands past 2^64 anyway.
        if shift >= 64 {
            return None;
        }
        u64::try_from(u128::from(self.index) << shift).ok()
    }

    /// Whether a log pruned to minimum index `min_index` may refuse this tile (or the entry
    /// bundle of the same coordinates): only a full one whose end index is at most the minimum
    /// (tlog-tiles "Pruning"). Partial tiles of the current checkpoint always stay servable.
    /// glasslog itself never prunes: its minimum index is 0, so this is always false there.
    pub fn may_refuse_when_pruned(&self, min_index: u64) -> bool {
        if self.is_partial() {
            return false;
        }
        let shift = u32::from(TILE_HEIGHT) * (u32::from(self.level) + 1);
        let end = (u128::from(self.index) + 1) << shift.min(127);
        end <= u128::from(min_index)
    }

    /// Parses a path relative to the log prefix. Returns the tile and whether it names the
    /// entry bundle rather than the hash tile.
    pub fn parse_path(path: &str) -> Result<(Tile, bool), TileError> {
        let rest = path.strip_prefix("tile/").ok_or(TileError::Path)?;
        let (level_str, rest) = rest.split_once('/').ok_or(TileError::Path)?;
        let (level, entries) = if level_str == "entries" {
            (0, true)
        } else {
            let level = crate::checkpoint::parse_decimal(level_str).ok_or(TileError::Path)?;
            (
                u8::try_from(level)
                    .ok()
                    .filter(|l| *l <= 63)
                    .ok_or(TileError::Level)?,
                false,
            )
        };
        let (index_str, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let w = crate::checkpoint::parse_decimal(w).ok_or(TileError::Path)?;
                (
                    i,
                    u16::try_from(w)
                        .ok()
                        .filter(|w| (1..TILE_WIDTH).contains(w))
                        .ok_or(TileError::Width)?,
                )
            }
            None => (rest, TILE_WIDTH),
        };
        let index = decode_index(index_str)?;
        let tile = Tile {
            level,
            index,
            width,
        };
        // A tile whose first entry is past 2^64 addresses nothing.
        if tile.first_entry().is_none() {
            return Err(TileError::Index);
        }
        Ok((tile, entries))
    }
}

/// `x`-prefixed groups of three digits: 1234067 becomes `x001/x234/067`.
fn encode_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn decode_index(s: &str) -> Result<u64, TileError> {
    let groups: Vec<&str> = s.split('/').collect();
    let (last, rest) = groups.split_last().ok_or(TileError::Path)?;
    let mut n: u64 = 0;
    for (i, g) in rest.iter().map(|g| g.strip_prefix('x')).enumerate() {
        let g = g.ok_or(TileError::Path)?;
        // Canonical form has no leading all-zero group.
        if i == 0 && g == "000" {
            return Err(TileError::Path);
        }
        n = push_group(n, g)?;
    }
    push_group(n, last)
}

fn push_group(n: u64, g: &str) -> Result<u64, TileError> {
    if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TileError::Path);
    }
    let digits: u64 = g.parse().map_err(|_| TileError::Path)?;
    n.checked_mul(1000)
        .and_then(|n| n.checked_add(digits))
        .ok_or(TileError::Index)
}

/// Every tile, full and partial, of a tree of `size` entries, level by level.
pub fn tiles_for_size(size: u64) -> Vec<Tile> {
    let mut out = Vec::new();
    let mut level = 0u8;
    // Hashes at this tile level: entries, then full tiles of the level below, and so on.
    let mut count = size;
    while count > 0 {
        let full = count / u64::from(TILE_WIDTH);
        out.extend((0..full).map(|index| Tile {
            level,
            index,
            width: TILE_WIDTH,
        }));
        #[expect(clippy::cast_possible_truncation, reason = "a remainder modulo 256")]
        let rem = (count % u64::from(TILE_WIDTH)) as u16;
        if rem > 0 {
            out.push(Tile {
                level,
                index: full,
                width: rem,
            });
        }
        count = full;
        level += 1;
    }
    out
}

impl Tile {
    /// The tile at `level` and `index` as it is in a tree of `size` entries: full, partial, or
    /// absent (`None`) when the tree has none of its hashes yet.
    pub fn at_size(level: u8, index: u64, size: u64) -> Option<Tile> {
        let shift = u32::from(TILE_HEIGHT) * u32::from(level);
        let count = if shift >= 64 { 0 } else { size >> shift };
        let start = u128::from(index) * u128::from(TILE_WIDTH);
        let have = u128::from(count).checked_sub(start).filter(|h| *h > 0)?;
        #[expect(clippy::cast_possible_truncation, reason = "at most 256")]
        let width = have.min(u128::from(TILE_WIDTH)) as u16;
        Some(Tile {
            level,
            index,
            width,
        })
    }
}

/// Why an entry bundle could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryBundleError {
    /// An entry is longer than the two-byte length prefix allows.
    #[error("entry of {0} bytes exceeds the bundle limit of {BUNDLE_ENTRY_MAX}")]
    TooLarge(usize),
    /// The bytes end inside a length prefix or an entry.
    #[error("entry bundle is truncated")]
    Truncated,
}

/// Encodes entries as `u16 big-endian length || bytes`, one after another.
pub fn encode_entry_bundle<'a>(
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, EntryBundleError> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| EntryBundleError::TooLarge(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits an entry bundle into its entries.
pub fn decode_entry_bundle(mut bytes: &[u8]) -> Result<Vec<&[u8]>, EntryBundleError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes
            .split_first_chunk::<2>()
            .ok_or(EntryBundleError::Truncated)?;
        let len = usize::from(u16::from_be_bytes(*len));
        if rest.len() < len {
            return Err(EntryBundleError::Truncated);
        }
        let (entry, rest) = rest.split_at(len);
        out.push(entry);
        bytes = rest;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_and_non_canonical_ones_fail() {
        for t in [
            Tile {
                level: 0,
                index: 0,
                width: 256,
            },
            Tile {
                level: 3,
                index: 1_234_067,
                width: 17,
            },
            Tile {
                level: 1,
                index: 999,
                width: 1,
            },
        ] {
            assert_eq!(Tile::parse_path(&t.path()), Ok((t, false)));
            if t.level == 0 {
                assert_eq!(Tile::parse_path(&t.entries_path()), Ok((t, true)));
            }
        }
        for bad in [
            "tile/0/x000/005",
            "tile/0/5",
            "tile/0/0005",
            "tile/00/005",
            "tile/64/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/08",
            "tile/0/001/002",
            "tile/0/x1/002",
            "tile/0/000/",
            "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
            "tile/entries/x001",
            "tile/1",
            "tiles/0/000",
            "tile/7/x100/000",
            // Found by the tile_path fuzz target: a high level used to overflow a shift.
            "tile/18/780",
            "tile/63/001",
            "tile/62/x999/999",
        ] {
            assert!(Tile::parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nodes_map_into_their_tiles() {
        assert_eq!(
            TileNode::of(NodeId::new(0, 300)),
            TileNode {
                level: 0,
                index: 1,
                inner_level: 0,
                inner_index: 44
            }
        );
        assert_eq!(
            TileNode::of(NodeId::new(9, 5)),
            TileNode {
                level: 1,
                index: 0,
                inner_level: 1,
                inner_index: 5
            }
        );
        assert_eq!(
            TileNode::of(NodeId::new(8, 256)),
            TileNode {
                level: 1,
                index: 1,
                inner_level: 0,
                inner_index: 0
            }
        );
    }

    #[test]
    fn tile_at_size() {
        assert_eq!(Tile::at_size(0, 0, 0), None);
        assert_eq!(
            Tile::at_size(0, 1, 300),
            Some(Tile {
                level: 0,
                index: 1,
                width: 44
            })
        );
        assert_eq!(
            Tile::at_size(1, 0, 300),
            Some(Tile {
                level: 1,
                index: 0,
                width: 1
            })
        );
        assert_eq!(Tile::at_size(1, 1, 300), None);
        assert_eq!(Tile::at_size(63, 0, u64::MAX), None);
    }

    #[test]
    fn bundles_reject_truncation_and_oversize() {
        let big = vec![0u8; BUNDLE_ENTRY_MAX + 1];
        assert_eq!(
            encode_entry_bundle([big.as_slice()]),
            Err(EntryBundleError::TooLarge(BUNDLE_ENTRY_MAX + 1))
        );
        let b = encode_entry_bundle([&b"ab"[..], b""]).unwrap();
        assert_eq!(decode_entry_bundle(&b).unwrap(), vec![&b"ab"[..], b""]);
        assert_eq!(
            decode_entry_bundle(&b[..3]),
            Err(EntryBundleError::Truncated)
        );
        assert_eq!(decode_entry_bundle(&[0]), Err(EntryBundleError::Truncated));
    }
}
