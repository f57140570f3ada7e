//! The published head is a compare-and-swap (`Store::swap_head`): a head that moved behind the
//! sequencer's back is replaced only when it is a prefix of the new one. A head lost in a
//! failover (an older one recorded) is caught up; a head that forks from the sequencer's tree
//! halts it; a head beyond its tree means another writer sequences, and it stops.

use crate::{entry, open};
use glasslog_log::{LogError, MemoryStore, Store};
use glasslog_merkle::Hash;
use std::sync::Arc;

/// A log of `n` entries, the heads it recorded at 5 and at `n`, and its store.
fn log_with_heads(
    n: u64,
) -> (
    glasslog_log::Log,
    Arc<MemoryStore>,
    (u64, Hash),
    (u64, Hash),
) {
    let store = Arc::new(MemoryStore::new());
    let log = open(Arc::clone(&store) as Arc<dyn Store>);
    log.append_blocking((0..5).map(entry).collect()).unwrap();
    let at5 = store.head().unwrap().unwrap();
    log.append_blocking((5..n).map(entry).collect()).unwrap();
    let now = store.head().unwrap().unwrap();
    assert_eq!(now.0, n);
    (log, store, at5, now)
}

#[test]
fn an_older_recorded_head_is_caught_up() {
    let (log, store, at5, now) = log_with_heads(10);
    // As a checkpoint written without waiting for replication is lost in a failover.
    store.swap_head(Some(now), at5.0, &at5.1, b"older").unwrap();
    let a = log.append_blocking(vec![entry(10)]).unwrap();
    assert_eq!(a[0].index, 10);
    assert_eq!(store.head().unwrap().unwrap().0, 11);
    assert_eq!(log.checkpoint().unwrap().checkpoint.size, 11);
}

#[test]
fn a_recorded_head_that_forks_halts_the_log() {
    let (log, store, at5, now) = log_with_heads(10);
    store
        .swap_head(Some(now), at5.0, &Hash([1; 32]), b"fork")
        .unwrap();
    // The entry is durable (its commit landed), but no checkpoint covers it: the log stops.
    log.append_blocking(vec![entry(10)]).unwrap();
    assert_eq!(log.checkpoint().unwrap().checkpoint.size, 10);
    let again = log.append_blocking(vec![entry(11)]);
    assert!(matches!(again, Err(LogError::Halted)), "{again:?}");
    assert_eq!(
        store.head().unwrap().unwrap().1,
        Hash([1; 32]),
        "the fork was replaced"
    );
}

#[test]
fn a_recorded_head_beyond_the_tree_means_another_writer() {
    let (log, store, _, now) = log_with_heads(10);
    store
        .swap_head(Some(now), 50, &Hash([2; 32]), b"beyond")
        .unwrap();
    log.append_blocking(vec![entry(10)]).unwrap();
    assert_eq!(log.checkpoint().unwrap().checkpoint.size, 10);
    let again = log.append_blocking(vec![entry(11)]);
    assert!(matches!(again, Err(LogError::Superseded)), "{again:?}");
    assert_eq!(
        store.head().unwrap().unwrap().0,
        50,
        "a smaller head replaced it"
    );
}
