//! Test support shared by every backend: the storage conformance suite, and a store wrapper
//! that fails on purpose (sunlight's "failed and not persisted" / "failed but persisted").
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failed expectation is the test failing"
)]

use crate::error::StoreError;
use crate::store::{Commit, KeyId, NewKey, Store, TileKey};
use glasslog_merkle::{Hash, leaf_hash};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// The key table, after the suite's second commit made keys 1 and 2.
fn keys_conform(store: &dyn Store) {
    let id = |b: u8| -> KeyId { [b; 16] };
    assert_eq!(store.scope_key(&id(10)).unwrap(), Some(id(1)));
    assert_eq!(store.scope_key(&id(20)).unwrap(), Some(id(2)));
    assert_eq!(store.scope_key(&id(1)).unwrap(), None);
    assert_eq!(store.data_key(&id(1)).unwrap(), Some(b"first key".to_vec()));
    assert_eq!(store.data_key(&id(10)).unwrap(), None);
    let all = store.data_keys(None, 10).unwrap();
    assert_eq!(
        all,
        vec![
            (id(1), b"first key".to_vec()),
            (id(2), b"second key".to_vec())
        ]
    );
    assert_eq!(store.data_keys(None, 1).unwrap(), all[..1]);
    assert_eq!(store.data_keys(Some(id(1)), 10).unwrap(), all[1..]);
    assert!(store.data_keys(Some(id(2)), 10).unwrap().is_empty());
    // Erasure replaces the record and forgets the scope, and nothing else.
    store
        .erase_keys(&[(id(1), b"tombstone".to_vec())], &[id(10)])
        .unwrap();
    assert_eq!(store.data_key(&id(1)).unwrap(), Some(b"tombstone".to_vec()));
    assert_eq!(store.scope_key(&id(10)).unwrap(), None);
    assert_eq!(store.scope_key(&id(20)).unwrap(), Some(id(2)));
    assert_eq!(store.data_keys(None, 10).unwrap().len(), 2);
    assert_eq!(store.tree_size().unwrap(), 5);
}

/// Runs the conformance suite against a new, empty store. Every backend must pass it.
pub fn conformance(store: &dyn Store) {
    // A new store is empty.
    assert_eq!(store.tree_size().unwrap(), 0);
    assert_eq!(store.latest_checkpoint().unwrap(), None);
    assert!(store.read_entries(0, 10).unwrap().is_empty());
    let h = |i: u64| leaf_hash(&i.to_be_bytes());
    assert_eq!(store.find_identity(&h(0)).unwrap(), None);
    assert_eq!(store.find_leaf(&h(0)).unwrap(), None);
    let k = |level, index| TileKey { level, index };
    assert_eq!(store.read_tiles(&[k(0, 0)]).unwrap(), vec![None]);

    // A commit is visible as a whole.
    let entries: Vec<(u64, Vec<u8>)> = (0..3u8)
        .map(|i| (u64::from(i), vec![i; usize::from(i)]))
        .collect();
    store
        .commit(&Commit {
            entries: entries.clone(),
            identities: (0..3).map(|i| (h(100 + i), i)).collect(),
            leaves: (0..3).map(|i| (h(i), i)).collect(),
            tiles: vec![(k(0, 0), b"first".to_vec())],
            tags: vec![("a".into(), 0), ("ab".into(), 1), ("a".into(), 2)],
            keys: Vec::new(),
            tree_size: 3,
        })
        .unwrap();
    assert_eq!(store.tree_size().unwrap(), 3);
    let all: Vec<Vec<u8>> = entries.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(store.read_entries(0, 3).unwrap(), all);
    assert_eq!(store.find_identity(&h(101)).unwrap(), Some(1));
    assert_eq!(store.find_leaf(&h(2)).unwrap(), Some(2));
    assert_eq!(store.find_leaf(&h(101)).unwrap(), None);
    // Tags are exact labels, not prefixes: "a" never finds an "ab" entry.
    assert_eq!(store.tagged("a", 0, 10).unwrap(), vec![0, 2]);
    assert_eq!(store.tagged("a", 1, 10).unwrap(), vec![2]);
    assert_eq!(store.tagged("a", 0, 1).unwrap(), vec![0]);
    assert_eq!(store.tagged("ab", 0, 10).unwrap(), vec![1]);
    assert!(store.tagged("b", 0, 10).unwrap().is_empty());
    // Newest first, strictly below the bound, never crossing into a longer or shorter tag.
    assert_eq!(store.tagged_before("a", 3, 10).unwrap(), vec![2, 0]);
    assert_eq!(store.tagged_before("a", 2, 10).unwrap(), vec![0]);
    assert_eq!(store.tagged_before("a", u64::MAX, 1).unwrap(), vec![2]);
    assert!(store.tagged_before("a", 0, 10).unwrap().is_empty());
    assert_eq!(store.tagged_before("ab", 5, 10).unwrap(), vec![1]);
    assert!(store.tagged_before("b", 5, 10).unwrap().is_empty());
    assert!(store.tagged_before("", 5, 10).unwrap().is_empty());
    // A cursor seeks the same answers, in any order of bounds.
    let mut c = store.tag_cursor("a").unwrap();
    for (below, want) in [
        (3, Some(2)),
        (2, Some(0)),
        (0, None),
        (u64::MAX, Some(2)),
        (1, Some(0)),
    ] {
        assert_eq!(c.last_below(below).unwrap(), want, "below {below}");
    }
    assert_eq!(store.tag_cursor("b").unwrap().last_below(9).unwrap(), None);

    // Later commits replace tiles and extend entries; keys of different levels never collide.
    store
        .commit(&Commit {
            entries: vec![(3, b"three".to_vec()), (4, Vec::new())],
            identities: vec![(h(103), 3), (h(104), 4)],
            leaves: vec![(h(3), 3), (h(4), 4)],
            tiles: vec![
                (k(0, 0), b"second".to_vec()),
                (k(1, 0), b"upper".to_vec()),
                (k(0, 1 << 56), b"far".to_vec()),
            ],
            tags: vec![("a".into(), 4)],
            keys: vec![
                NewKey {
                    id: [2; 16],
                    scope: [20; 16],
                    record: b"second key".to_vec(),
                },
                NewKey {
                    id: [1; 16],
                    scope: [10; 16],
                    record: b"first key".to_vec(),
                },
            ],
            tree_size: 5,
        })
        .unwrap();
    keys_conform(store);
    // Reads from memory, when a backend has them, see exactly what reads from storage see.
    let keys = [k(1, 0), k(0, 0), k(0, 2), k(0, 1 << 56)];
    if let Some(in_memory) = store.read_tiles_in_memory(&keys).unwrap() {
        assert_eq!(in_memory, store.read_tiles(&keys).unwrap());
    }
    assert_eq!(store.tree_size().unwrap(), 5);
    assert_eq!(
        store
            .read_tiles(&[k(1, 0), k(0, 0), k(2, 0), k(0, 1 << 56)])
            .unwrap(),
        vec![
            Some(b"upper".to_vec()),
            Some(b"second".to_vec()),
            None,
            Some(b"far".to_vec())
        ]
    );
    assert_eq!(store.read_entries(1, 4).unwrap().len(), 3);
    assert_eq!(
        store.read_entries(3, 100).unwrap(),
        vec![b"three".to_vec(), Vec::new()]
    );
    assert!(store.read_entries(5, 6).unwrap().is_empty());
    assert_eq!(store.tagged("a", 0, 10).unwrap(), vec![0, 2, 4]);
    // Postings go one by one: the others of the tag, and the entry's other tags, stay.
    store
        .delete_tags(&[("a".into(), 2), ("zz".into(), 1)])
        .unwrap();
    assert_eq!(store.tagged("a", 0, 10).unwrap(), vec![0, 4]);
    assert_eq!(store.tagged_before("a", 5, 10).unwrap(), vec![4, 0]);
    assert_eq!(store.tagged("ab", 0, 10).unwrap(), vec![1]);
    assert!(
        store
            .read_entries(u64::MAX - 1, u64::MAX)
            .unwrap()
            .is_empty()
    );

    // Checkpoints are ordered by size whatever the order they were written in.
    for size in [0u64, 5, 3] {
        store
            .put_checkpoint(size, format!("note {size}").as_bytes())
            .unwrap();
    }
    assert_eq!(
        store.latest_checkpoint().unwrap(),
        Some((5, b"note 5".to_vec()))
    );
    assert_eq!(store.read_checkpoint(3).unwrap(), Some(b"note 3".to_vec()));
    assert_eq!(store.read_checkpoint(4).unwrap(), None);
    let sizes = |from, limit| -> Vec<u64> {
        store
            .read_checkpoints(from, limit)
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    };
    assert_eq!(sizes(0, 10), vec![0, 3, 5]);
    assert_eq!(sizes(1, 10), vec![3, 5]);
    assert_eq!(sizes(0, 2), vec![0, 3]);
    assert_eq!(sizes(6, 10), Vec::<u64>::new());

    // Settings are replaced whole, by name.
    assert_eq!(store.setting("tokens").unwrap(), None);
    store.put_setting("tokens", b"[1]").unwrap();
    store.put_setting("other", b"x").unwrap();
    store.put_setting("tokens", b"[1,2]").unwrap();
    assert_eq!(store.setting("tokens").unwrap(), Some(b"[1,2]".to_vec()));
    assert_eq!(store.setting("other").unwrap(), Some(b"x".to_vec()));

    // The head moves only from the head it is told to replace, and takes its note along.
    let (r7, r9) = (Hash([7; 32]), Hash([9; 32]));
    assert_eq!(store.head().unwrap(), None);
    store.swap_head(None, 7, &r7, b"head 7").unwrap();
    assert_eq!(store.head().unwrap(), Some((7, r7)));
    assert_eq!(store.read_checkpoint(7).unwrap(), Some(b"head 7".to_vec()));
    for stale in [None, Some((5, r7)), Some((7, r9))] {
        assert!(matches!(
            store.swap_head(stale, 9, &r9, b"fork"),
            Err(StoreError::HeadMoved)
        ));
    }
    assert_eq!(
        store.read_checkpoint(9).unwrap(),
        None,
        "a refused swap wrote"
    );
    assert_eq!(store.head().unwrap(), Some((7, r7)));
    store.swap_head(Some((7, r7)), 9, &r9, b"head 9").unwrap();
    assert_eq!(store.head().unwrap(), Some((9, r9)));
    assert_eq!(
        store.latest_checkpoint().unwrap(),
        Some((9, b"head 9".to_vec()))
    );
}

/// What [`FaultyStore`] does to the next commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// Commits go through.
    None = 0,
    /// The commit fails and nothing is written.
    FailNotPersisted = 1,
    /// The commit is written, then reported as failed (a lost acknowledgement).
    FailButPersisted = 2,
}

/// Wraps a store and fails commits on demand.
pub struct FaultyStore<S> {
    inner: S,
    fault: AtomicU8,
    remaining: AtomicUsize,
    unreachable: std::sync::atomic::AtomicBool,
}

impl<S: Store> FaultyStore<S> {
    /// A wrapper that starts with no fault.
    pub fn new(inner: S) -> Self {
        FaultyStore {
            inner,
            fault: AtomicU8::new(0),
            remaining: AtomicUsize::new(0),
            unreachable: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// While set, every read and write fails as a database that cannot be reached does (one
    /// failing over): [`StoreError::Backend`], nothing applied.
    pub fn set_unreachable(&self, unreachable: bool) {
        self.unreachable.store(unreachable, Ordering::SeqCst);
    }

    fn reach(&self) -> Result<(), StoreError> {
        if self.unreachable.load(Ordering::SeqCst) {
            Err(StoreError::Backend(
                "injected: the database cannot be reached".into(),
            ))
        } else {
            Ok(())
        }
    }

    /// Applies `fault` to the next `count` commits.
    pub fn inject(&self, fault: Fault, count: usize) {
        self.fault.store(fault as u8, Ordering::SeqCst);
        self.remaining.store(count, Ordering::SeqCst);
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn take_fault(&self) -> Fault {
        let taken = self
            .remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        match (taken, self.fault.load(Ordering::SeqCst)) {
            (Ok(_), 1) => Fault::FailNotPersisted,
            (Ok(_), 2) => Fault::FailButPersisted,
            _ => Fault::None,
        }
    }
}

impl<S: Store> Store for FaultyStore<S> {
    fn tree_size(&self) -> Result<u64, StoreError> {
        self.reach()?;
        self.inner.tree_size()
    }
    fn read_tiles(&self, keys: &[TileKey]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.reach()?;
        self.inner.read_tiles(keys)
    }
    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        self.reach()?;
        self.inner.read_entries(start, end)
    }
    fn find_identity(&self, identity: &Hash) -> Result<Option<u64>, StoreError> {
        self.reach()?;
        self.inner.find_identity(identity)
    }
    fn find_leaf(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        self.inner.find_leaf(leaf)
    }
    fn tagged(&self, tag: &str, from: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        self.inner.tagged(tag, from, limit)
    }
    fn tagged_before(&self, tag: &str, below: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        self.inner.tagged_before(tag, below, limit)
    }
    fn tag_cursor<'a>(
        &'a self,
        tag: &str,
    ) -> Result<Box<dyn crate::store::TagCursor + 'a>, StoreError> {
        self.inner.tag_cursor(tag)
    }
    fn scope_key(&self, scope: &KeyId) -> Result<Option<KeyId>, StoreError> {
        self.inner.scope_key(scope)
    }
    fn data_key(&self, id: &KeyId) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.data_key(id)
    }
    fn data_keys(
        &self,
        after: Option<KeyId>,
        limit: usize,
    ) -> Result<Vec<(KeyId, Vec<u8>)>, StoreError> {
        self.inner.data_keys(after, limit)
    }
    fn erase_keys(
        &self,
        tombstones: &[(KeyId, Vec<u8>)],
        scopes: &[KeyId],
    ) -> Result<(), StoreError> {
        self.inner.erase_keys(tombstones, scopes)
    }
    fn delete_tags(&self, tags: &[(String, u64)]) -> Result<(), StoreError> {
        self.inner.delete_tags(tags)
    }
    fn commit(&self, commit: &Commit) -> Result<(), StoreError> {
        self.reach()?;
        match self.take_fault() {
            Fault::None => self.inner.commit(commit),
            Fault::FailNotPersisted => Err(StoreError::Backend(
                "injected fault before the write".into(),
            )),
            Fault::FailButPersisted => {
                self.inner.commit(commit)?;
                Err(StoreError::Backend("injected fault after the write".into()))
            }
        }
    }
    fn put_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        self.reach()?;
        self.inner.put_checkpoint(size, note)
    }
    fn setting(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.reach()?;
        self.inner.setting(name)
    }
    fn put_setting(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.reach()?;
        self.inner.put_setting(name, value)
    }
    fn head(&self) -> Result<Option<(u64, Hash)>, StoreError> {
        self.reach()?;
        self.inner.head()
    }
    fn swap_head(
        &self,
        previous: Option<(u64, Hash)>,
        size: u64,
        root: &Hash,
        note: &[u8],
    ) -> Result<(), StoreError> {
        self.reach()?;
        self.inner.swap_head(previous, size, root, note)
    }
    fn read_checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read_checkpoint(size)
    }
    fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.reach()?;
        self.inner.latest_checkpoint()
    }
    fn read_checkpoints(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.inner.read_checkpoints(from, limit)
    }
}
