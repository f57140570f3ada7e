//! Append, prove, verify and reopen, at sizes that cross tile boundaries, on both backends.

use crate::{ORIGIN, entry, open};
use glasslog_log::{Identity, LogError, MemoryStore, NewEntry, RocksOptions, RocksStore, Store};
use glasslog_merkle::*;
use std::sync::Arc;

/// Appends `n` entries in batches, then checks everything the log serves against an
/// independent in-memory tree.
fn grow_and_check(store: Arc<dyn Store>, memory_only: bool, sizes: &[u64]) {
    let log = open(store);
    let mut oracle = MemoryHashes::new();
    let vkey = VerifierSet::from_vkeys([log.vkey().as_str()]).unwrap();
    let mut next = 0u64;
    let mut previous: Option<Checkpoint> = None;
    for &target in sizes {
        while next < target {
            let batch: Vec<NewEntry> = (next..target.min(next + 1000)).map(entry).collect();
            let got = log.append_blocking(batch.clone()).unwrap();
            for (e, a) in batch.iter().zip(&got) {
                assert_eq!(a.index, next);
                assert!(!a.duplicate);
                assert_eq!(a.leaf_hash, leaf_hash(&e.data));
                oracle.push(a.leaf_hash);
                next += 1;
            }
        }
        let signed = log.checkpoint().unwrap();
        let note = Note::open(signed.note.as_bytes(), &vkey).unwrap();
        let cp = Checkpoint::parse(&note.text).unwrap();
        assert_eq!(cp, signed.checkpoint);
        assert_eq!(
            (cp.origin.as_str(), cp.size, cp.root),
            (ORIGIN, target, oracle.root())
        );
        // Inclusion proofs at the edges and in the middle, against this size.
        let mut picks = vec![0, 1, target / 2, target.saturating_sub(2), target - 1];
        picks.retain(|i| *i < target);
        picks.dedup();
        for i in picks {
            let p = log.inclusion_proof(i, target).unwrap();
            assert_eq!(
                p,
                inclusion_proof(i, target, &oracle).unwrap(),
                "PATH({i}, {target})"
            );
            verify_inclusion(
                i,
                target,
                &oracle.read_hashes(&[NodeId::new(0, i)]).unwrap()[0],
                &p,
                &cp.root,
            )
            .unwrap();
            // From memory, when the records are there, the same proof.
            if let Some(in_memory) = log.try_inclusion_proof(i, target) {
                assert_eq!(in_memory.unwrap(), p, "PATH({i}, {target}) from memory");
            } else {
                assert!(!memory_only, "a memory store always answers from memory");
            }
            let leaf = leaf_hash(&log.entry(i).unwrap());
            assert_eq!(log.inclusion_proof_by_hash(&leaf, target).unwrap(), (i, p));
        }
        if let Some(prev) = &previous {
            let p = log.consistency_proof(prev.size, cp.size).unwrap();
            verify_consistency(prev.size, cp.size, &p, &prev.root, &cp.root).unwrap();
            assert_eq!(p, consistency_proof(prev.size, cp.size, &oracle).unwrap());
            if let Some(in_memory) = log.try_consistency_proof(prev.size, cp.size) {
                assert_eq!(in_memory.unwrap(), p);
            } else {
                assert!(!memory_only);
            }
        }
        // Every tile and entry bundle of this size, byte for byte.
        for tile in tiles_for_size(target) {
            let bytes = log.tile(tile).unwrap();
            assert_eq!(bytes.len(), usize::from(tile.width) * 32, "{}", tile.path());
            let first = tile.index * 256;
            let ids: Vec<NodeId> = (first..first + u64::from(tile.width))
                .map(|i| NodeId::new(8 * tile.level, i))
                .collect();
            let want: Vec<u8> = oracle
                .read_hashes(&ids)
                .unwrap()
                .iter()
                .flat_map(|h| h.0)
                .collect();
            assert_eq!(bytes, want, "{}", tile.path());
            if tile.level == 0 {
                let bundle = log.entry_bundle(tile).unwrap();
                let hashed: Vec<u8> = decode_entry_bundle(&bundle)
                    .unwrap()
                    .iter()
                    .flat_map(|e| leaf_hash(e).0)
                    .collect();
                assert_eq!(hashed, bytes, "bundle of {}", tile.path());
            }
        }
        previous = Some(cp);
    }
    let report = log.verify().unwrap();
    assert_eq!(report.entries, next);
    assert_eq!(report.root, oracle.root());
    assert!(report.checkpoints >= sizes.len() as u64);
}

#[test]
fn memory_log_crosses_tile_boundaries() {
    grow_and_check(
        Arc::new(MemoryStore::new()),
        true,
        &[1, 255, 256, 257, 511, 65536, 65537],
    );
}

#[test]
fn rocks_log_crosses_tile_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RocksStore::open(dir.path(), &RocksOptions::default()).unwrap());
    grow_and_check(store, false, &[255, 256, 257, 65536, 65537]);
}

/// A proof from memory says "not in memory" rather than wait on a disk, and is the same proof
/// once the records are cached.
#[test]
fn rocks_proofs_from_memory_fall_back_to_storage() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Arc::new(RocksStore::open(dir.path(), &RocksOptions::default()).unwrap());
        let log = open(store);
        log.append_blocking((0..70_000).map(entry).collect())
            .unwrap();
        log.close();
    }
    // A clean close flushed the memtables: a fresh open has them only in files.
    let store = Arc::new(RocksStore::open(dir.path(), &RocksOptions::default()).unwrap());
    let tile4 = glasslog_log::TileKey { level: 0, index: 4 };
    assert_eq!(store.read_tiles_in_memory(&[tile4]).unwrap(), None);
    let log = open(store);
    assert!(log.try_inclusion_proof(1234, 70_000).is_none());
    let from_storage = log.inclusion_proof(1234, 70_000).unwrap();
    assert_eq!(
        log.try_inclusion_proof(1234, 70_000).unwrap().unwrap(),
        from_storage
    );
    // Errors that are not about memory still come back, from memory or not.
    assert!(matches!(
        log.try_inclusion_proof(70_000, 70_000),
        Some(Err(LogError::Proof(_)))
    ));
    assert!(matches!(
        log.try_inclusion_proof(1, 70_001),
        Some(Err(LogError::SizeBeyondCheckpoint { .. }))
    ));
}

#[test]
fn reads_beyond_the_checkpoint_are_refused() {
    let log = open(Arc::new(MemoryStore::new()));
    assert_eq!(
        log.checkpoint().unwrap().checkpoint.size,
        0,
        "a new log publishes the empty tree"
    );
    log.append_blocking((0..10).map(entry).collect()).unwrap();
    assert!(matches!(
        log.inclusion_proof(0, 11),
        Err(LogError::SizeBeyondCheckpoint {
            size: 11,
            current: 10
        })
    ));
    assert!(matches!(
        log.inclusion_proof(10, 10),
        Err(LogError::Proof(ProofError::IndexOutOfRange { .. }))
    ));
    assert!(matches!(
        log.consistency_proof(0, 10),
        Err(LogError::Proof(ProofError::InvalidSizes { .. }))
    ));
    assert!(matches!(
        log.consistency_proof(5, 4),
        Err(LogError::Proof(ProofError::InvalidSizes { .. }))
    ));
    assert!(log.consistency_proof(10, 10).unwrap().is_empty());
    assert!(matches!(
        log.tile(Tile {
            level: 0,
            index: 0,
            width: 11
        }),
        Err(LogError::NotFound(_))
    ));
    assert!(matches!(
        log.tile(Tile {
            level: 1,
            index: 0,
            width: 1
        }),
        Err(LogError::NotFound(_))
    ));
    assert!(matches!(
        log.entry_bundle(Tile {
            level: 0,
            index: 1,
            width: 1
        }),
        Err(LogError::NotFound(_))
    ));
    assert!(matches!(log.entry(10), Err(LogError::NotFound(_))));
    assert!(matches!(log.entry(u64::MAX), Err(LogError::NotFound(_))));
    assert!(matches!(
        log.inclusion_proof_by_hash(&leaf_hash(b"nope"), 10),
        Err(LogError::NotFound(_))
    ));
    let big = NewEntry::new(vec![b'x'; BUNDLE_ENTRY_MAX + 1]);
    assert!(matches!(
        log.append_blocking(vec![big]),
        Err(LogError::EntryTooLarge { .. })
    ));
    log.append_blocking(vec![NewEntry::new(vec![b'x'; BUNDLE_ENTRY_MAX])])
        .unwrap();
}

#[test]
fn duplicates_get_their_first_index() {
    let log = open(Arc::new(MemoryStore::new()));
    let first = log
        .append_blocking(vec![entry(1), entry(2), entry(1)])
        .unwrap();
    assert_eq!(
        first
            .iter()
            .map(|a| (a.index, a.duplicate))
            .collect::<Vec<_>>(),
        vec![(0, false), (1, false), (0, true)]
    );
    let again = log.append_blocking(vec![entry(2)]).unwrap();
    assert_eq!(
        (again[0].index, again[0].duplicate, again[0].leaf_hash),
        (1, true, first[1].leaf_hash)
    );
    // A caller-supplied identity: different bytes, same identity, same entry.
    let id = leaf_hash(b"submission-7");
    let a = log
        .append_blocking(vec![NewEntry {
            data: b"v1".to_vec(),
            identity: Identity::Key(id),
            tags: Vec::new(),
            subject: None,
        }])
        .unwrap();
    let b = log
        .append_blocking(vec![NewEntry {
            data: b"v2".to_vec(),
            identity: Identity::Key(id),
            tags: Vec::new(),
            subject: None,
        }])
        .unwrap();
    assert_eq!((a[0].index, b[0].index, b[0].duplicate), (2, 2, true));
    assert_eq!(log.checkpoint().unwrap().checkpoint.size, 3);
}

#[test]
fn reopen_continues_the_same_tree() {
    let dir = tempfile::tempdir().unwrap();
    let open_store = || -> Arc<dyn Store> {
        Arc::new(RocksStore::open(dir.path(), &RocksOptions::default()).unwrap())
    };
    let (cp1, note1) = {
        let log = open(open_store());
        log.append_blocking((0..300).map(entry).collect()).unwrap();
        let cp = log.checkpoint().unwrap();
        (cp.checkpoint.clone(), cp.note.clone())
    };
    let log = open(open_store());
    let cp = log.checkpoint().unwrap();
    assert_eq!(cp.note, note1, "the same head, byte for byte, after reopen");
    // Re-submitting an old entry after reopen is still a duplicate.
    assert!(log.append_blocking(vec![entry(5)]).unwrap()[0].duplicate);
    log.append_blocking((300..600).map(entry).collect())
        .unwrap();
    let cp2 = log.checkpoint().unwrap().checkpoint.clone();
    let p = log.consistency_proof(cp1.size, cp2.size).unwrap();
    verify_consistency(cp1.size, cp2.size, &p, &cp1.root, &cp2.root).unwrap();
    assert_eq!(log.verify().unwrap().entries, 600);
}

#[test]
fn opening_with_another_key_is_refused() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    drop(open(Arc::clone(&store)));
    let other = Signer::from_seed(ORIGIN, [7; 32]).unwrap();
    let err = glasslog_log::Log::open(store, other, Default::default())
        .err()
        .unwrap();
    assert!(matches!(err, LogError::ForeignCheckpoint(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_get_dense_distinct_indices() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RocksStore::open(dir.path(), &RocksOptions::default()).unwrap());
    let log = Arc::new(open(store));
    let mut tasks = Vec::new();
    for t in 0..32u64 {
        let log = Arc::clone(&log);
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..50u64 {
                let a = log.append(vec![entry(t * 1000 + i)]).await.unwrap();
                got.push(a[0].index);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (0..32 * 50).collect::<Vec<u64>>());
    let cp = log.wait_for_checkpoint(32 * 50 - 1).await.unwrap();
    assert_eq!(cp.checkpoint.size, 32 * 50);
    assert_eq!(log.verify().unwrap().entries, 1600);
}

/// A log that signs with ML-DSA-44 alone has no checkpoint before its first entry (the empty
/// tree has no ML-DSA-44 signature), then signs every tree, and reopens.
#[test]
fn an_mldsa_only_log_signs_from_its_first_entry() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let signer =
        || glasslog_log::LogSigner::mldsa_only(MlDsaSigner::from_seed(ORIGIN, &[4; 32]).unwrap());
    let log = glasslog_log::Log::open(Arc::clone(&store), signer(), Default::default()).unwrap();
    assert!(matches!(log.checkpoint(), Err(LogError::NoCheckpointYet)));
    assert!(matches!(log.keys().as_slice(), [LogKey::MlDsa44(_)]));
    let vkey = log.vkey();
    assert!(MlDsaVerifier::from_vkey(&vkey).is_ok(), "{vkey}");
    log.append_blocking((0..3).map(entry).collect()).unwrap();
    let cp = log.checkpoint().unwrap();
    assert_eq!(cp.checkpoint.size, 3);
    let set = VerifierSet::from_vkeys([vkey.as_str()]).unwrap();
    let note = Note::open(cp.note.as_bytes(), &set).unwrap();
    assert_eq!(note.signatures.len(), 1);
    assert!(log.verify().is_ok());
    log.close();
    drop(log);
    let again = glasslog_log::Log::open(store, signer(), Default::default()).unwrap();
    assert_eq!(again.checkpoint().unwrap().checkpoint.size, 3);
}
