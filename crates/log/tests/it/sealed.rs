//! Encryption at rest: a sealed log proves, searches and verifies like a clear one, and an
//! erasure destroys exactly one subject's plaintext while every proof stays valid.

use crate::signer;
use glasslog_log::seal::{MasterKey, verify_opening};
use glasslog_log::{
    Identity, Log, LogConfig, LogError, MemoryStore, NewEntry, RocksOptions, RocksStore, Sealing,
    Store, Subject,
};
use glasslog_merkle::{
    Checkpoint, Note, Tile, VerifierSet, decode_entry_bundle, leaf_hash, verify_inclusion,
};
use std::sync::Arc;

const DAY_MS: u64 = 86_400_000;

fn sealing() -> Sealing {
    Sealing {
        master: Arc::new(MasterKey::from_bytes(&[3; 32])),
        epoch_days: 1,
    }
}

fn open_sealed(store: Arc<dyn Store>) -> Log {
    let config = LogConfig {
        sealing: Some(sealing()),
        ..LogConfig::default()
    };
    Log::open(store, signer(), config).unwrap()
}

/// An event of `actor`'s, received on `day`, carrying a marker nobody else's entry has.
fn event(actor: &str, i: u64, day: u64) -> NewEntry {
    NewEntry {
        data: format!("{{\"actor\":\"{actor}\",\"marker\":\"secret-of-{actor}-{i}\"}}")
            .into_bytes(),
        identity: Identity::Unique,
        tags: vec![format!("q:actor:{actor}")],
        subject: Some(Subject {
            subject: format!("actor:{actor}"),
            source: "billing".into(),
            received_ms: day * DAY_MS + i,
        }),
    }
}

fn verifiers(log: &Log) -> VerifierSet {
    VerifierSet::from_vkeys([log.vkey().as_str()]).unwrap()
}

/// Every entry's leaf is in the signed tree, by a proof checked against the signed root.
fn all_proofs_verify(log: &Log) {
    let note = log.checkpoint().unwrap().note.clone();
    let cp =
        Checkpoint::parse(&Note::open(note.as_bytes(), &verifiers(log)).unwrap().text).unwrap();
    for (i, o) in (0..).zip(log.open_entries(0, cp.size).unwrap()) {
        let proof = log.inclusion_proof(i, cp.size).unwrap();
        verify_inclusion(i, cp.size, &leaf_hash(&o.leaf_data), &proof, &cp.root).unwrap();
        // What a reader is given proves the leaf without any key.
        if let (Some(p), Some(salt)) = (&o.plaintext, &o.salt) {
            assert!(verify_opening(&o.leaf_data, salt, p));
        }
    }
    log.verify().unwrap();
}

#[test]
fn a_sealed_log_serves_no_plaintext_and_reads_back_its_entries() {
    let store = Arc::new(MemoryStore::new());
    let log = open_sealed(store.clone());
    let batch: Vec<NewEntry> = (0..10)
        .map(|i| event(if i % 2 == 0 { "alice" } else { "bob" }, i, 20_000))
        .collect();
    log.append_blocking(batch.clone()).unwrap();
    for (i, e) in (0..).zip(&batch) {
        assert_eq!(log.entry(i).unwrap(), e.data);
    }
    // Public bytes: bundles hold sealed records, and the stored index holds no words.
    let bundle = log.entry_bundle(Tile::at_size(0, 0, 10).unwrap()).unwrap();
    for record in decode_entry_bundle(&bundle).unwrap() {
        assert!(glasslog_log::seal::is_sealed(record));
        assert!(!String::from_utf8_lossy(record).contains("secret-of"));
    }
    assert_eq!(
        log.tagged("q:actor:alice", 0, 100).unwrap(),
        [0, 2, 4, 6, 8]
    );
    assert!(store.tagged("q:actor:alice", 0, 100).unwrap().is_empty());
    // Two scopes (alice, bob) on one day: two keys, one per subject.
    assert_eq!(store.data_keys(None, 100).unwrap().len(), 2);
    // Identical plaintexts deduplicate though their records differ.
    let first = log
        .append_blocking(vec![NewEntry::new(b"{\"same\":1}".to_vec())])
        .unwrap();
    let again = log
        .append_blocking(vec![NewEntry::new(b"{\"same\":1}".to_vec())])
        .unwrap();
    assert_eq!((again[0].index, again[0].duplicate), (first[0].index, true));
    all_proofs_verify(&log);
    // A sealed entry may be no larger than a bundle takes with its seal.
    let big = NewEntry::new(vec![b'x'; log.max_entry_bytes() + 1]);
    assert!(matches!(
        log.append_blocking(vec![big]),
        Err(LogError::EntryTooLarge { .. })
    ));
}

#[test]
fn a_clear_log_cannot_be_sealed_later() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let clear = Log::open(Arc::clone(&store), signer(), LogConfig::default()).unwrap();
    clear
        .append_blocking(vec![NewEntry::new(b"{}".to_vec())])
        .unwrap();
    clear.close();
    drop(clear);
    assert!(matches!(
        Log::open(
            store,
            signer(),
            LogConfig {
                sealing: Some(sealing()),
                ..LogConfig::default()
            }
        ),
        Err(LogError::SealingChanged(_))
    ));
}

#[test]
fn erasing_a_subject_destroys_its_entries_and_keeps_every_proof() {
    let store = Arc::new(MemoryStore::new());
    let log = open_sealed(store.clone());
    let mut batch = Vec::new();
    for day in [20_000, 20_001] {
        for i in 0..6 {
            batch.push(event(if i % 3 == 0 { "alice" } else { "bob" }, i, day));
        }
    }
    log.append_blocking(batch.clone()).unwrap();
    let before = log.checkpoint().unwrap();
    let m = log.master_key().unwrap();
    let alice = m.subject("actor:alice");
    let erased = log.erase(&|k| k.subject == alice).unwrap();
    assert_eq!((erased.keys, erased.already), (2, 0), "one key per day");
    for (i, e) in (0..).zip(&batch) {
        let alices = String::from_utf8_lossy(&e.data).contains("alice");
        match log.entry(i) {
            Err(LogError::Erased(j)) => assert!(alices && j == i, "entry {i}"),
            Ok(p) => assert!(!alices && p == e.data, "entry {i}"),
            Err(e) => panic!("entry {i}: {e}"),
        }
    }
    // The tree is untouched: the same head, every proof, the whole verification.
    assert_eq!(log.checkpoint().unwrap(), before);
    all_proofs_verify(&log);
    // A second erasure finds nothing left to destroy; alice's next entry gets a new key.
    assert_eq!(log.erase(&|k| k.subject == alice).unwrap().already, 2);
    let later = log
        .append_blocking(vec![event("alice", 99, 20_001)])
        .unwrap();
    assert!(log.entry(later[0].index).is_ok());
    // Search skips what it cannot show.
    let q = glasslog_log::search::Query {
        tags: &["q:actor:alice".to_owned()],
        below: u64::MAX,
        from: 0,
        limit: 100,
        budget: 10_000,
        deadline: None,
    };
    let mut seen = Vec::new();
    log.search(&q, &mut |i, _| {
        seen.push(i);
        true
    })
    .unwrap();
    assert_eq!(seen, [later[0].index]);
}

#[test]
fn a_sealed_rocksdb_log_reopens_and_an_erased_key_leaves_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let open_rocks = || -> Arc<dyn Store> {
        Arc::new(RocksStore::open(dir.path(), &RocksOptions::default()).unwrap())
    };
    let batch: Vec<NewEntry> = (0..40)
        .map(|i| event(["alice", "bob"][i as usize % 2], i, 20_000))
        .collect();
    let alice_key = {
        let store = open_rocks();
        let log = open_sealed(Arc::clone(&store));
        log.append_blocking(batch.clone()).unwrap();
        log.close();
        let alice = sealing().master.subject("actor:alice");
        let keys = store.data_keys(None, 10).unwrap();
        keys.into_iter()
            .find(|(_, r)| glasslog_log::seal::key_meta(r).unwrap().subject == alice)
            .unwrap()
            .1
    };
    // The wrapped key is on disk now (WAL or table file): the control for the check below.
    assert!(files_contain(
        dir.path(),
        &alice_key[alice_key.len() - 32..]
    ));
    {
        let log = open_sealed(open_rocks());
        for (i, e) in (0..).zip(&batch) {
            assert_eq!(log.entry(i).unwrap(), e.data, "after reopening");
        }
        let alice = log.master_key().unwrap().subject("actor:alice");
        assert_eq!(log.erase(&|k| k.subject == alice).unwrap().keys, 1);
        // Erasure is durable and complete on return: no byte of the wrapped key is left in
        // the WAL or any table file, while the log still runs.
        assert!(!files_contain(
            dir.path(),
            &alice_key[alice_key.len() - 32..]
        ));
        assert!(
            !files_contain(dir.path(), b"secret-of-"),
            "no plaintext, ever"
        );
        all_proofs_verify(&log);
    }
    // The log is sealed for life: without its key it does not open.
    assert!(matches!(
        Log::open(open_rocks(), signer(), LogConfig::default()),
        Err(LogError::SealingChanged(_))
    ));
    let log = open_sealed(open_rocks());
    assert!(matches!(log.entry(0), Err(LogError::Erased(0))));
    assert_eq!(log.entry(1).unwrap(), batch[1].data);
    all_proofs_verify(&log);
}

fn files_contain(dir: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|f| {
        let path = f.unwrap().path();
        path.is_file()
            && std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
    })
}
