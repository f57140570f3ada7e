//! An in-memory [`Store`]: the reference backend for the conformance suite and fast tests.

use crate::error::StoreError;
use crate::store::{Commit, KeyId, Store, TileKey};
use glasslog_merkle::Hash;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::RwLock;

#[derive(Default)]
struct Inner {
    size: u64,
    entries: BTreeMap<u64, Vec<u8>>,
    tiles: HashMap<TileKey, Vec<u8>>,
    identities: HashMap<Hash, u64>,
    leaves: HashMap<Hash, u64>,
    checkpoints: BTreeMap<u64, Vec<u8>>,
    head: Option<(u64, Hash)>,
    settings: HashMap<String, Vec<u8>>,
    tags: BTreeSet<(String, u64)>,
    keys: BTreeMap<KeyId, Vec<u8>>,
    scopes: HashMap<KeyId, KeyId>,
}

/// Keeps everything in memory; nothing survives the process.
#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Inner>, StoreError> {
        self.inner
            .read()
            .map_err(|_| StoreError::Backend("memory store poisoned".into()))
    }

    fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, Inner>, StoreError> {
        self.inner
            .write()
            .map_err(|_| StoreError::Backend("memory store poisoned".into()))
    }

    /// Overwrites a stored tile, bypassing the log: for tamper tests.
    pub fn tamper_tile(&self, key: TileKey, value: Vec<u8>) {
        if let Ok(mut g) = self.inner.write() {
            g.tiles.insert(key, value);
        }
    }

    /// Overwrites a stored entry, bypassing the log: for tamper tests.
    pub fn tamper_entry(&self, index: u64, value: Vec<u8>) {
        if let Ok(mut g) = self.inner.write() {
            g.entries.insert(index, value);
        }
    }
}

impl Store for MemoryStore {
    fn tree_size(&self) -> Result<u64, StoreError> {
        Ok(self.read()?.size)
    }

    fn read_tiles(&self, keys: &[TileKey]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let g = self.read()?;
        Ok(keys.iter().map(|k| g.tiles.get(k).cloned()).collect())
    }

    fn read_tiles_in_memory(
        &self,
        keys: &[TileKey],
    ) -> Result<Option<Vec<Option<Vec<u8>>>>, StoreError> {
        self.read_tiles(keys).map(Some)
    }

    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let g = self.read()?;
        let mut out = Vec::new();
        for i in start..end {
            match g.entries.get(&i) {
                Some(e) => out.push(e.clone()),
                None => break,
            }
        }
        Ok(out)
    }

    fn find_identity(&self, identity: &Hash) -> Result<Option<u64>, StoreError> {
        Ok(self.read()?.identities.get(identity).copied())
    }

    fn find_leaf(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        Ok(self.read()?.leaves.get(leaf).copied())
    }

    fn tagged(&self, tag: &str, from: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        Ok(self
            .read()?
            .tags
            .range((tag.to_owned(), from)..)
            .take_while(|(t, _)| t == tag)
            .take(limit)
            .map(|(_, i)| *i)
            .collect())
    }

    fn tagged_before(&self, tag: &str, below: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        Ok(self
            .read()?
            .tags
            .range((tag.to_owned(), 0)..(tag.to_owned(), below))
            .rev()
            .take(limit)
            .map(|(_, i)| *i)
            .collect())
    }

    fn scope_key(&self, scope: &KeyId) -> Result<Option<KeyId>, StoreError> {
        Ok(self.read()?.scopes.get(scope).copied())
    }

    fn data_key(&self, id: &KeyId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read()?.keys.get(id).cloned())
    }

    fn data_keys(
        &self,
        after: Option<KeyId>,
        limit: usize,
    ) -> Result<Vec<(KeyId, Vec<u8>)>, StoreError> {
        let g = self.read()?;
        let range = match after {
            Some(a) => g
                .keys
                .range::<KeyId, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)),
            None => g.keys.range::<KeyId, _>(..),
        };
        Ok(range.take(limit).map(|(k, v)| (*k, v.clone())).collect())
    }

    fn erase_keys(
        &self,
        tombstones: &[(KeyId, Vec<u8>)],
        scopes: &[KeyId],
    ) -> Result<(), StoreError> {
        let mut g = self.write()?;
        g.keys.extend(tombstones.iter().cloned());
        for s in scopes {
            g.scopes.remove(s);
        }
        Ok(())
    }

    fn delete_tags(&self, tags: &[(String, u64)]) -> Result<(), StoreError> {
        let mut g = self.write()?;
        for t in tags {
            g.tags.remove(t);
        }
        Ok(())
    }

    fn commit(&self, c: &Commit) -> Result<(), StoreError> {
        let mut g = self.write()?;
        for k in &c.keys {
            g.keys.insert(k.id, k.record.clone());
            g.scopes.insert(k.scope, k.id);
        }
        g.entries.extend(c.entries.iter().cloned());
        g.identities.extend(c.identities.iter().copied());
        g.leaves.extend(c.leaves.iter().copied());
        g.tiles.extend(c.tiles.iter().cloned());
        g.tags.extend(c.tags.iter().cloned());
        g.size = c.tree_size;
        Ok(())
    }

    fn put_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        let mut g = self
            .inner
            .write()
            .map_err(|_| StoreError::Backend("memory store poisoned".into()))?;
        g.checkpoints.insert(size, note.to_vec());
        Ok(())
    }

    fn setting(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read()?.settings.get(name).cloned())
    }

    fn put_setting(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner
            .write()
            .map_err(|_| StoreError::Backend("memory store poisoned".into()))?
            .settings
            .insert(name.to_owned(), value.to_vec());
        Ok(())
    }

    fn head(&self) -> Result<Option<(u64, Hash)>, StoreError> {
        Ok(self.read()?.head)
    }

    fn swap_head(
        &self,
        previous: Option<(u64, Hash)>,
        size: u64,
        root: &Hash,
        note: &[u8],
    ) -> Result<(), StoreError> {
        let mut g = self
            .inner
            .write()
            .map_err(|_| StoreError::Backend("memory store poisoned".into()))?;
        if g.head != previous {
            return Err(StoreError::HeadMoved);
        }
        g.head = Some((size, *root));
        g.checkpoints.insert(size, note.to_vec());
        Ok(())
    }

    fn read_checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read()?.checkpoints.get(&size).cloned())
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        Ok(self
            .read()?
            .checkpoints
            .iter()
            .next_back()
            .map(|(s, n)| (*s, n.clone())))
    }

    fn read_checkpoints(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        Ok(self
            .read()?
            .checkpoints
            .range(from..)
            .take(limit)
            .map(|(s, n)| (*s, n.clone()))
            .collect())
    }
}
