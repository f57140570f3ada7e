//! One sequencer at a time: a second store on the same database is refused while the first
//! holds the lease; a paused holder's lease expires and another front-end takes over with a
//! new fencing token; from then on the paused one writes nothing, neither entries nor
//! checkpoints, and the log the new holder serves verifies whole.

use crate::cluster;
use glasslog_log::{Log, LogConfig, LogError, NewEntry, Store, StoreError};
use glasslog_merkle::Signer;
use glasslog_postgres::{LeaseOptions, PgStore};
use std::sync::Arc;
use std::time::Duration;

fn lease(holder: &str, ttl_ms: u64, renew: bool) -> LeaseOptions {
    LeaseOptions {
        holder: holder.into(),
        ttl: Duration::from_millis(ttl_ms),
        renew,
        wait: false,
        url: String::new(),
    }
}

#[test]
fn a_front_end_that_lost_the_lease_writes_nothing() {
    let Some(pg) = cluster() else { return };
    let url = pg.database("lease");
    let signer = Signer::from_seed("pg.glasslog.example/log", [7; 32]).unwrap();
    let entry = |i: u64| NewEntry::new(format!("{{\"event\":{i}}}").into_bytes());

    // A holds the lease, renewed: B is refused, however long it waits.
    let a = PgStore::open_with(&url, 2, &lease("a", 600, true)).unwrap();
    std::thread::sleep(Duration::from_millis(900));
    assert!(matches!(
        PgStore::open_with(&url, 1, &lease("b", 600, true)),
        Err(StoreError::Locked)
    ));
    drop(a);
    // Closed cleanly, the lease passes at once; this holder does not renew (a paused process).
    let a = Arc::new(PgStore::open_with(&url, 2, &lease("a", 500, false)).unwrap());
    let log_a = Log::open(a.clone(), signer.clone(), LogConfig::default()).unwrap();
    assert_eq!(
        log_a
            .append_blocking((0..10).map(entry).collect())
            .unwrap()
            .len(),
        10
    );

    std::thread::sleep(Duration::from_millis(700));
    let b = Arc::new(PgStore::open_with(&url, 2, &lease("b", 5_000, true)).unwrap());
    assert!(b.fencing_token() > a.fencing_token());

    // A wakes up before B has written anything, so indices 10.. are free: only the fencing
    // token stops A's commit, and nothing of it reaches the database.
    let err = log_a
        .append_blocking((100..105).map(entry).collect())
        .unwrap_err();
    assert!(matches!(err, LogError::Superseded), "{err:?}");
    assert!(
        matches!(
            log_a.append_blocking(vec![entry(200)]),
            Err(LogError::Superseded)
        ),
        "A stays fenced"
    );
    assert_eq!(b.tree_size().unwrap(), 10);
    assert_eq!(b.read_entries(0, 100).unwrap().len(), 10);
    assert_eq!(b.latest_checkpoint().unwrap().unwrap().0, 10);

    // B sequences on from what A committed while it held the lease.
    let log_b = Log::open(b.clone(), signer, LogConfig::default()).unwrap();
    assert_eq!(
        log_b
            .append_blocking((10..15).map(entry).collect())
            .unwrap()[0]
            .index,
        10
    );
    let stored = b.read_entries(0, 100).unwrap();
    assert_eq!(stored.len(), 15);
    for e in &stored {
        let e = String::from_utf8_lossy(e);
        assert!(
            !e.contains("\"event\":100") && !e.contains("\"event\":200"),
            "{e}"
        );
    }
    assert_eq!(b.latest_checkpoint().unwrap().unwrap().0, 15);
    log_b.verify().unwrap();
}
