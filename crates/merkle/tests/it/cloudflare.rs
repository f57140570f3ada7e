//! Against Cloudflare's C2SP crates (`signed_note`, `tlog_tiles` from azul), written by people
//! who never saw this code: our signed notes and checkpoints open with theirs and theirs with
//! ours, byte for byte; their tree hashes, record and tree proofs and tile bytes equal ours,
//! and each side's proofs check with the other's verifier.

use glasslog_merkle::HashReader as _;
use glasslog_merkle::{
    Checkpoint, Ed25519Verifier, Hash, MemoryHashes, NodeId, Note, Signer, Tile, VerifierSet,
    consistency_proof, inclusion_proof, leaf_hash, tree_root,
};
use proptest::prelude::*;
use signed_note::{Note as TheirNote, StandardSigner, StandardVerifier, VerifierList};
use std::cell::RefCell;
use tlog_tiles::{
    Checkpoint as TheirCheckpoint, Hash as TheirHash, HashReader as TheirReader, Tile as TheirTile,
};

/// Go-style stored hashes (their layout), filled by their `stored_hashes`.
#[derive(Default)]
struct TheirStore(RefCell<Vec<TheirHash>>);

impl TheirReader for TheirStore {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<TheirHash>, tlog_tiles::Error> {
        let v = self.0.borrow();
        Ok(indexes.iter().map(|&i| v[i as usize]).collect())
    }
}

fn record(i: u64) -> Vec<u8> {
    format!("glasslog record {i}").into_bytes()
}

fn trees(n: u64) -> (MemoryHashes, TheirStore) {
    let mut ours = MemoryHashes::new();
    let theirs = TheirStore::default();
    for i in 0..n {
        ours.push(leaf_hash(&record(i)));
        let add = tlog_tiles::stored_hashes(i, &record(i), &theirs).unwrap();
        theirs.0.borrow_mut().extend(add);
    }
    (ours, theirs)
}

fn ours_of(h: &TheirHash) -> Hash {
    Hash(h.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn notes_and_checkpoints_cross_verify_byte_for_byte(
        seed in any::<[u8; 32]>(),
        size in any::<u64>(),
        root in any::<[u8; 32]>(),
        host in "[a-z]{1,12}",
        flip in any::<prop::sample::Index>(),
    ) {
        let name = format!("{host}.example/log");
        let signer = Signer::from_seed(&name, seed).unwrap();
        let text = Checkpoint::new(&name, size, Hash(root)).to_text();
        let ours = signer.sign_note(&text);

        // Theirs opens ours and reads the same checkpoint.
        let verifiers = VerifierList::new(vec![Box::new(StandardVerifier::new(&signer.vkey()).unwrap())]);
        let opened = TheirNote::from_bytes(ours.as_bytes()).unwrap();
        prop_assert_eq!(opened.verify(&verifiers).unwrap().0.len(), 1);
        let cp = TheirCheckpoint::from_bytes(opened.text()).unwrap();
        prop_assert_eq!((cp.origin(), cp.size(), cp.hash().0), (name.as_str(), size, root));
        prop_assert_eq!(TheirCheckpoint::new(&name, size, TheirHash(root), "").unwrap().to_bytes(), text.as_bytes());

        // Theirs signs with our key: the same bytes (Ed25519 is deterministic), and ours opens it.
        let their_signer = StandardSigner::new(&signer.to_skey()).unwrap();
        let mut theirs = TheirNote::new(text.as_bytes(), &[]).unwrap();
        theirs.add_sigs(&[&their_signer]).unwrap();
        prop_assert_eq!(&theirs.to_bytes(), ours.as_bytes());
        let mut set = VerifierSet::new();
        set.add(Ed25519Verifier::from_vkey(&signer.vkey()).unwrap());
        prop_assert!(Note::open(&theirs.to_bytes(), &set).is_ok());

        // A changed byte of the text fails on both sides.
        let mut bad = ours.clone().into_bytes();
        let at = flip.index(text.len() - 1);
        bad[at] = if bad[at] == b'0' { b'1' } else { b'0' };
        let their_bad = TheirNote::from_bytes(&bad).map(|n| n.verify(&verifiers).is_ok());
        prop_assert!(!matches!(their_bad, Ok(true)));
        prop_assert!(Note::open(&bad, &set).is_err());
    }

    #[test]
    fn tree_hashes_proofs_and_tiles_agree(n in 1u64..1200, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let (ours, theirs) = trees(n);
        let root = tree_root(n, &ours).unwrap();
        let their_root = tlog_tiles::tree_hash(n, &theirs).unwrap();
        prop_assert_eq!(root, ours_of(&their_root));

        // Record proofs: equal hash for hash, and each side checks the other's.
        let i = a.index(n as usize) as u64;
        let proof = inclusion_proof(i, n, &ours).unwrap();
        let their_proof = tlog_tiles::prove_record(n, i, &theirs).unwrap();
        prop_assert_eq!(&proof, &their_proof.iter().map(ours_of).collect::<Vec<_>>());
        let ours_as_theirs: Vec<TheirHash> = proof.iter().map(|h| TheirHash(h.0)).collect();
        prop_assert!(tlog_tiles::check_record(&ours_as_theirs, n, their_root, i, tlog_tiles::record_hash(&record(i))).is_ok());

        // Tree proofs between two sizes.
        let m = 1 + b.index(n as usize) as u64;
        let (small, _) = trees(m);
        let old_root = tree_root(m, &small).unwrap();
        let proof = consistency_proof(m, n, &ours).unwrap();
        let their_proof = tlog_tiles::prove_tree(n, m, &theirs).unwrap();
        prop_assert_eq!(&proof, &their_proof.iter().map(ours_of).collect::<Vec<_>>());
        let ours_as_theirs: Vec<TheirHash> = proof.iter().map(|h| TheirHash(h.0)).collect();
        prop_assert!(tlog_tiles::check_tree(&ours_as_theirs, n, their_root, m, TheirHash(old_root.0)).is_ok());

        // Every tile of the tree: the same hashes, at the same path (theirs spells the height).
        for level in 0u8..2 {
            let mut index = 0;
            while let Some(tile) = Tile::at_size(level, index, n) {
                let nodes: Vec<NodeId> = (0..u64::from(tile.width))
                    .map(|k| NodeId::new(8 * level, index * 256 + k))
                    .collect();
                let bytes: Vec<u8> = ours.read_hashes(&nodes).unwrap().iter().flat_map(|h| h.0).collect();
                let their_tile = TheirTile::new(8, level, index, u32::from(tile.width), false);
                prop_assert_eq!(&bytes, &their_tile.read_data(&theirs).unwrap());
                prop_assert_eq!(tile.path(), their_tile.path().replacen("tile/8/", "tile/", 1));
                index += 1;
            }
        }
    }
}
