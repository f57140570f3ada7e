//! The conformance suite, a whole log on PostgreSQL, and a reopen.

use crate::cluster;
use glasslog_log::testing::conformance;
use glasslog_log::{Identity, Log, LogConfig, NewEntry, Store};
use glasslog_merkle::Signer;
use glasslog_postgres::PgStore;
use std::sync::Arc;

#[test]
fn the_postgres_store_conforms_and_persists_across_reopen() {
    let Some(pg) = cluster() else { return };
    let url = pg.database("conformance");
    {
        let store = PgStore::open(&url, 2).unwrap();
        conformance(&store);
    }
    // Migrations run once: a second open finds the schema and the data.
    let store = PgStore::open(&url, 1).unwrap();
    assert_eq!(store.tree_size().unwrap(), 5);
    assert_eq!(store.read_entries(0, 10).unwrap().len(), 5);
    // The conformance suite's last head, its checkpoint and its settings survive too.
    assert_eq!(store.latest_checkpoint().unwrap().unwrap().0, 9);
    assert_eq!(store.head().unwrap().unwrap().0, 9);
    assert_eq!(store.setting("tokens").unwrap(), Some(b"[1,2]".to_vec()));
}

#[test]
fn a_log_on_postgres_appends_proves_verifies_and_reopens() {
    let Some(pg) = cluster() else { return };
    let url = pg.database("log");
    let signer = Signer::from_seed("pg.glasslog.example/log", [7; 32]).unwrap();
    let entry = |i: u64| NewEntry::new(format!("{{\"event\":{i}}}").into_bytes());
    {
        let log = Log::open(
            Arc::new(PgStore::open(&url, 4).unwrap()),
            signer.clone(),
            LogConfig::default(),
        )
        .unwrap();
        // Across a tile boundary, with a duplicate leaf inside one batch.
        let mut batch: Vec<NewEntry> = (0..300).map(entry).collect();
        batch.push(NewEntry {
            identity: Identity::Unique,
            ..entry(5)
        });
        let got = log.append_blocking(batch).unwrap();
        assert_eq!(got.len(), 301);
        assert_eq!(log.checkpoint().unwrap().checkpoint.size, 301);
        log.verify().unwrap();
        let p = log.inclusion_proof(257, 301).unwrap();
        assert!(!p.is_empty());
    }
    let log = Log::open(
        Arc::new(PgStore::open(&url, 1).unwrap()),
        signer,
        LogConfig::default(),
    )
    .unwrap();
    assert_eq!(log.checkpoint().unwrap().checkpoint.size, 301);
    assert_eq!(
        log.append_blocking(vec![entry(1000)]).unwrap()[0].index,
        301
    );
    log.verify().unwrap();
    assert_eq!(log.tagged("none", 0, 10).unwrap(), Vec::<u64>::new());
}

/// Encryption at rest on PostgreSQL: keys are made in the entries' commit, an erasure
/// destroys one subject's (fenced like a commit), and a reopened log keeps both facts.
#[test]
fn a_sealed_log_on_postgres_erases_one_subject_and_reopens() {
    use glasslog_log::seal::MasterKey;
    use glasslog_log::{LogError, Sealing, Subject};
    let Some(pg) = cluster() else { return };
    let url = pg.database("sealed");
    let signer = Signer::from_seed("pg.glasslog.example/log", [7; 32]).unwrap();
    let config = || LogConfig {
        sealing: Some(Sealing {
            master: Arc::new(MasterKey::from_bytes(&[4; 32])),
            epoch_days: 1,
        }),
        ..LogConfig::default()
    };
    let entry = |i: u64| NewEntry {
        data: format!("{{\"event\":{i}}}").into_bytes(),
        identity: Identity::Unique,
        tags: vec![format!("n:{}", i % 2)],
        subject: Some(Subject {
            subject: format!("actor:{}", i % 2),
            source: "s".into(),
            received_ms: 1_700_000_000_000,
        }),
    };
    {
        let log = Log::open(
            Arc::new(PgStore::open(&url, 2).unwrap()),
            signer.clone(),
            config(),
        )
        .unwrap();
        log.append_blocking((0..20).map(entry).collect()).unwrap();
        assert_eq!(log.tagged("n:1", 0, 100).unwrap().len(), 10);
        let one = log.master_key().unwrap().subject("actor:1");
        assert_eq!(log.erase(&|k| k.subject == one).unwrap().keys, 1);
        log.verify().unwrap();
    }
    let log = Log::open(Arc::new(PgStore::open(&url, 1).unwrap()), signer, config()).unwrap();
    assert_eq!(log.entry(0).unwrap(), b"{\"event\":0}");
    assert!(matches!(log.entry(1), Err(LogError::Erased(1))));
    log.verify().unwrap();
}
