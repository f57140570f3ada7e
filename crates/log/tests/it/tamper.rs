//! Bytes changed behind the log's back are found by `verify` and on reopen.

use crate::{entry, open, signer};
use glasslog_log::{Log, LogError, RocksOptions, RocksStore, Store};
use std::path::Path;
use std::sync::Arc;

fn build(dir: &Path, n: u64) {
    let log = open(Arc::new(
        RocksStore::open(dir, &RocksOptions::default()).unwrap(),
    ));
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        log.append_blocking(chunk.iter().map(|i| entry(*i)).collect())
            .unwrap();
    }
}

fn reopen(dir: &Path) -> Arc<RocksStore> {
    Arc::new(RocksStore::open(dir, &RocksOptions::default()).unwrap())
}

fn verify_error(store: Arc<RocksStore>) -> String {
    match Log::open(store as Arc<dyn Store>, signer(), Default::default()) {
        Err(e) => e.to_string(),
        Ok(log) => log
            .verify()
            .expect_err("tampering must be detected")
            .to_string(),
    }
}

#[test]
fn a_changed_entry_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 700);
    let store = reopen(dir.path());
    store
        .tamper("entries", &300u64.to_be_bytes(), b"{\"event\":301}")
        .unwrap();
    let err = verify_error(store);
    assert!(
        err.contains("tile 0/1") || err.contains("entry 300"),
        "{err}"
    );
}

#[test]
fn a_flipped_bit_in_a_tile_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 700);
    let store = reopen(dir.path());
    corrupt_tile(&store, 0, 1);
    let err = verify_error(store);
    assert!(err.contains("tile 0/1"), "{err}");
}

#[test]
fn a_changed_checkpoint_is_refused_on_open() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 50);
    let store = reopen(dir.path());
    let (size, note) = store.latest_checkpoint().unwrap().unwrap();
    let forged = String::from_utf8(note).unwrap().replace("\n50\n", "\n49\n");
    store
        .tamper("checkpoints", &size.to_be_bytes(), forged.as_bytes())
        .unwrap();
    let err = Log::open(store as Arc<dyn Store>, signer(), Default::default())
        .err()
        .unwrap();
    assert!(matches!(err, LogError::ForeignCheckpoint(_)), "{err}");
}

#[test]
fn an_old_checkpoint_that_no_longer_matches_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 300);
    let store = reopen(dir.path());
    // A validly signed checkpoint for a tree that is not the stored one.
    let bogus =
        glasslog_merkle::Checkpoint::new(crate::ORIGIN, 100, glasslog_merkle::leaf_hash(b"x"));
    store
        .put_checkpoint(100, signer().sign_note(&bogus.to_text()).as_bytes())
        .unwrap();
    let err = verify_error(store);
    assert!(err.contains("checkpoint at size 100"), "{err}");
}

#[test]
fn a_node_corrupted_at_open_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 300);
    let store = reopen(dir.path());
    // Tile 1/0 holds node (8, 0), part of the compact range every new head builds on.
    corrupt_tile(&store, 1, 0);
    let err = Log::open(store as Arc<dyn Store>, signer(), Default::default())
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("does not match its checkpoint"),
        "{err}"
    );
}

#[test]
fn corruption_while_running_halts_signing() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 300);
    let store = reopen(dir.path());
    let log = open(Arc::clone(&store) as Arc<dyn Store>);
    let before = log.checkpoint().unwrap().checkpoint.size;
    corrupt_tile(&store, 1, 0);
    // The consistency check reads node (8, 0) from storage: the new head is not signed.
    let _ = log.append_blocking(vec![entry(1_000_000)]);
    assert_eq!(log.checkpoint().unwrap().checkpoint.size, before);
    assert!(matches!(
        log.append_blocking(vec![entry(1_000_001)]),
        Err(LogError::Halted)
    ));
}

fn corrupt_tile(store: &RocksStore, level: u8, index: u64) {
    let mut key = vec![level];
    key.extend_from_slice(&index.to_be_bytes());
    let mut tile = store.raw("tiles", &key).unwrap().unwrap();
    tile[2] ^= 0x80;
    store.tamper("tiles", &key, &tile).unwrap();
}
