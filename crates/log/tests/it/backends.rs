//! Every backend passes the same conformance suite; RocksDB-specific behaviour besides.

use glasslog_log::testing::conformance;
use glasslog_log::{MemoryStore, RocksOptions, RocksStore, Store, StoreError};
use std::sync::Arc;

#[test]
fn memory_store_conforms() {
    conformance(&MemoryStore::new());
}

#[test]
fn rocks_store_conforms_and_persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = RocksStore::open(dir.path(), &RocksOptions::default()).unwrap();
        conformance(&store);
    }
    let store = RocksStore::open(dir.path(), &RocksOptions::default()).unwrap();
    assert_eq!(store.tree_size().unwrap(), 5);
    assert_eq!(store.read_entries(0, 10).unwrap().len(), 5);
    // The conformance suite's last head, its checkpoint and its settings survive too.
    assert_eq!(store.latest_checkpoint().unwrap().unwrap().0, 9);
    assert_eq!(store.head().unwrap().unwrap().0, 9);
    assert_eq!(store.setting("tokens").unwrap(), Some(b"[1,2]".to_vec()));
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = Arc::new(RocksStore::open(dir.path(), &RocksOptions::default()).unwrap());
    let log = crate::open(first);
    log.append_blocking(vec![crate::entry(1)]).unwrap();
    assert!(matches!(
        RocksStore::open(dir.path(), &RocksOptions::default()),
        Err(StoreError::Locked)
    ));
    // The first owner is unaffected.
    assert_eq!(
        log.append_blocking(vec![crate::entry(2)]).unwrap()[0].index,
        1
    );
}
