//! Injected storage faults: nothing acknowledged is lost, and the log recovers by itself.

use crate::{entry, open};
use glasslog_log::testing::{Fault, FaultyStore};
use glasslog_log::{LogError, MemoryStore, Store};
use glasslog_merkle::leaf_hash;
use std::sync::Arc;

fn run(fault: Fault) {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let log = open(Arc::clone(&store) as Arc<dyn Store>);
    let mut acknowledged = Vec::new();
    acknowledged.extend(log.append_blocking((0..100).map(entry).collect()).unwrap());

    // A batch aborted midway: nothing in it is acknowledged.
    store.inject(fault, 1);
    let failed = log.append_blocking((100..150).map(entry).collect());
    assert!(matches!(failed, Err(LogError::Store(_))), "{failed:?}");
    let size_after_fault = log.checkpoint().unwrap().checkpoint.size;
    match fault {
        Fault::FailNotPersisted => assert_eq!(size_after_fault, 100),
        // The write landed though it was reported lost: the log reloads and covers it.
        _ => assert_eq!(size_after_fault, 150),
    }

    // The log keeps going, and a retry of the failed batch lands exactly once.
    let retried = log
        .append_blocking((100..150).map(entry).collect())
        .unwrap();
    for (i, a) in (100u64..).zip(&retried) {
        assert_eq!(a.index, i);
        assert_eq!(a.duplicate, fault == Fault::FailButPersisted);
    }
    acknowledged.extend(retried);
    acknowledged.extend(
        log.append_blocking((150..300).map(entry).collect())
            .unwrap(),
    );

    // Everything acknowledged is there, at its index, with its bytes.
    for a in &acknowledged {
        assert_eq!(leaf_hash(&log.entry(a.index).unwrap()), a.leaf_hash);
    }
    assert_eq!(log.checkpoint().unwrap().checkpoint.size, 300);
    assert_eq!(log.verify().unwrap().entries, 300);
}

#[test]
fn a_commit_that_fails_before_writing_acknowledges_nothing() {
    run(Fault::FailNotPersisted);
}

#[test]
fn a_commit_that_fails_after_writing_is_recovered() {
    run(Fault::FailButPersisted);
}

#[test]
fn many_faults_in_a_row_under_concurrent_load() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let log = Arc::new(open(Arc::clone(&store) as Arc<dyn Store>));
    let mut handles = Vec::new();
    for t in 0..8u64 {
        let log = Arc::clone(&log);
        handles.push(std::thread::spawn(move || {
            let mut acked = Vec::new();
            for i in 0..200u64 {
                if let Ok(a) = log.append_blocking(vec![entry(t * 10_000 + i)]) {
                    acked.push((t * 10_000 + i, a[0].index));
                }
            }
            acked
        }));
    }
    for round in 0..20 {
        store.inject(
            if round % 2 == 0 {
                Fault::FailNotPersisted
            } else {
                Fault::FailButPersisted
            },
            1,
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let acked: Vec<(u64, u64)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    for (id, index) in acked {
        assert_eq!(
            log.entry(index).unwrap(),
            entry(id).data,
            "entry {id} at {index}"
        );
    }
    log.verify().unwrap();
}

/// A database that cannot be reached for a while (failing over): appends are refused as
/// retryable, reads of what was published go on, and once it is back the log sequences again
/// by itself, with nothing acknowledged lost and no restart.
#[test]
fn a_store_that_cannot_be_reached_for_a_while_is_waited_out() {
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let log = open(Arc::clone(&store) as Arc<dyn Store>);
    let first = log.append_blocking((0..50).map(entry).collect()).unwrap();

    store.set_unreachable(true);
    for _ in 0..3 {
        let refused = log.append_blocking((50..60).map(entry).collect());
        assert!(
            refused.as_ref().is_err_and(LogError::is_retryable),
            "{refused:?}"
        );
    }
    assert_eq!(log.checkpoint().unwrap().checkpoint.size, 50);

    store.set_unreachable(false);
    let after = log.append_blocking((50..60).map(entry).collect()).unwrap();
    assert_eq!(after[0].index, 50);
    assert!(!after[0].duplicate);
    for a in first.iter().chain(&after) {
        assert_eq!(leaf_hash(&log.entry(a.index).unwrap()), a.leaf_hash);
    }
    assert_eq!(log.checkpoint().unwrap().checkpoint.size, 60);
    assert_eq!(log.verify().unwrap().entries, 60);
}
