//! Full verification: recompute every hash from the stored entries, compare it with every
//! stored tile, and check every stored checkpoint's signature and root.

use crate::error::LogError;
use crate::store::{Store, TileKey};
use crate::tiles::{StoredTile, TILE_LEVELS};
use glasslog_merkle::{
    BUNDLE_ENTRY_MAX, Checkpoint, CompactRange, EMPTY_ROOT, Hash, LogKey, Note, TILE_WIDTH,
    TileNode, VerifierSet, leaf_hash,
};

/// What a successful verification covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries re-hashed.
    pub entries: u64,
    /// Stored tiles compared node by node.
    pub tiles: u64,
    /// Checkpoints whose signature and root were checked.
    pub checkpoints: u64,
    /// The root recomputed from the entries.
    pub root: Hash,
}

struct Checkpoints<'a> {
    store: &'a dyn Store,
    known: VerifierSet,
    buffer: std::vec::IntoIter<(u64, Vec<u8>)>,
    next_from: u64,
    done: bool,
}

impl Checkpoints<'_> {
    /// The next stored checkpoint, opened and checked against its key.
    fn next(&mut self) -> Result<Option<Checkpoint>, LogError> {
        let (size, note) = match self.buffer.next() {
            Some(item) => item,
            None if self.done => return Ok(None),
            None => {
                let page = self.store.read_checkpoints(self.next_from, 1024)?;
                self.done = page.len() < 1024;
                self.next_from = page
                    .last()
                    .map_or(self.next_from, |(s, _)| s.saturating_add(1));
                self.buffer = page.into_iter();
                match self.buffer.next() {
                    Some(item) => item,
                    None => return Ok(None),
                }
            }
        };
        let opened = Note::open(&note, &self.known)
            .map_err(|e| LogError::Corrupt(format!("checkpoint at size {size}: {e}")))?;
        let cp = Checkpoint::parse(&opened.text)
            .map_err(|e| LogError::Corrupt(format!("checkpoint at size {size}: {e}")))?;
        if cp.size != size {
            return Err(LogError::Corrupt(format!(
                "checkpoint stored at size {size} says {}",
                cp.size
            )));
        }
        Ok(Some(cp))
    }
}

pub(crate) fn verify_store(store: &dyn Store, keys: &[LogKey]) -> Result<VerifyReport, LogError> {
    let size = store.tree_size()?;
    let mut known = VerifierSet::new();
    for k in keys {
        known.add(k.clone());
    }
    let mut cps = Checkpoints {
        store,
        known,
        buffer: Vec::new().into_iter(),
        next_from: 0,
        done: false,
    };
    let mut report = VerifyReport {
        entries: 0,
        tiles: 0,
        checkpoints: 0,
        root: EMPTY_ROOT,
    };
    let mut range = CompactRange::new();
    let mut tiles: [Option<(u64, StoredTile)>; TILE_LEVELS] = Default::default();
    let mut next_cp = cps.next()?;
    let mut new_nodes = Vec::with_capacity(64);
    let mut start = 0u64;
    // Checks every checkpoint whose size the recomputed tree has just reached.
    let mut check_checkpoints =
        |next_cp: &mut Option<Checkpoint>, range: &CompactRange, report: &mut VerifyReport| {
            while let Some(cp) = next_cp.as_ref().filter(|cp| cp.size == range.size()) {
                if cp.root != range.root() {
                    return Err(LogError::Corrupt(format!(
                        "checkpoint at size {} does not match the root recomputed from the entries",
                        cp.size
                    )));
                }
                report.checkpoints += 1;
                *next_cp = cps.next()?;
            }
            Ok(())
        };
    check_checkpoints(&mut next_cp, &range, &mut report)?;
    while start < size {
        let end = size.min(start + u64::from(TILE_WIDTH));
        let entries = store.read_entries(start, end)?;
        if entries.len() as u64 != end - start {
            return Err(LogError::Corrupt(format!(
                "entry {} is missing",
                start + entries.len() as u64
            )));
        }
        for (index, entry) in (start..).zip(&entries) {
            if entry.len() > BUNDLE_ENTRY_MAX {
                return Err(LogError::Corrupt(format!(
                    "entry {index} is longer than any entry bundle"
                )));
            }
            let leaf = leaf_hash(entry);
            if store.find_leaf(&leaf)?.is_none() {
                return Err(LogError::Corrupt(format!(
                    "entry {index}: its leaf hash is not in the leaf index"
                )));
            }
            new_nodes.clear();
            range.append(leaf, |id, h| new_nodes.push((id, *h)));
            for (id, hash) in &new_nodes {
                let place = TileNode::of(*id);
                let key = TileKey {
                    level: place.level,
                    index: place.index,
                };
                let slot = &mut tiles[usize::from(place.level)];
                if slot.as_ref().is_none_or(|(i, _)| *i != place.index) {
                    let bytes = store.read_tiles(&[key])?.pop().flatten().ok_or_else(|| {
                        LogError::Corrupt(format!("tile {}/{} is missing", key.level, key.index))
                    })?;
                    *slot = Some((key.index, StoredTile::decode(key, &bytes)?));
                    report.tiles += 1;
                }
                let stored = slot.as_ref().and_then(|(_, t)| {
                    t.levels[usize::from(place.inner_level)].get(usize::from(place.inner_index))
                });
                if stored != Some(hash) {
                    return Err(LogError::Corrupt(format!(
                        "tile {}/{}: node ({}, {}) does not match entries [{}, {}) (first differing entry or tile hash)",
                        key.level,
                        key.index,
                        id.level,
                        id.index,
                        id.begin(),
                        id.end(),
                    )));
                }
            }
            report.entries += 1;
            check_checkpoints(&mut next_cp, &range, &mut report)?;
        }
        start = end;
    }
    if let Some(cp) = next_cp {
        // Checkpoints come in size order, so one left over was skipped or is beyond the tree.
        return Err(LogError::Corrupt(format!(
            "checkpoint at size {} does not match the stored tree of size {size}",
            cp.size
        )));
    }
    if !store.read_entries(size, size.saturating_add(1))?.is_empty() {
        return Err(LogError::Corrupt(format!(
            "an entry is stored beyond the tree size {size}"
        )));
    }
    report.root = range.root();
    Ok(report)
}
