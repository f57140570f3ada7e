//! Property tests against two independent oracles: `rs_merkle` with an RFC 6962 hasher, and
//! the recursive MTH / PATH / PROOF definitions of RFC 6962 §2.1 written out naively.

use glasslog_merkle::*;
use proptest::prelude::*;

/// RFC 6962 node hashing for rs_merkle; leaves are handed to it already hashed.
#[derive(Clone)]
struct Rfc6962;

impl rs_merkle::Hasher for Rfc6962 {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        // Only used by rs_merkle for leaves we do not give it; hash as a leaf to be safe.
        leaf_hash(data).0
    }

    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(r) => hash_children(left, r).0,
            // A lone right-edge node is promoted unchanged, as in RFC 6962.
            None => *left,
        }
    }
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n as u64).map(|i| leaf_hash(&i.to_le_bytes())).collect()
}

fn split(n: usize) -> usize {
    // Largest power of two strictly below n.
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => EMPTY_ROOT,
        1 => d[0],
        n => {
            let k = split(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    if d.len() <= 1 {
        return vec![];
    }
    let k = split(d.len());
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

fn subproof(m: usize, d: &[Hash], complete: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if complete { vec![] } else { vec![mth(d)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], complete);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

fn memory(d: &[Hash]) -> MemoryHashes {
    let mut mem = MemoryHashes::new();
    d.iter().for_each(|h| mem.push(*h));
    mem
}

#[test]
fn every_proof_of_every_small_tree_matches_the_definitions() {
    let all = leaves(70);
    let mem = memory(&all);
    for n in 1..=all.len() {
        let d = &all[..n];
        let root = mth(d);
        assert_eq!(tree_root(n as u64, &mem).unwrap(), root);
        for m in 0..n {
            let p = inclusion_proof(m as u64, n as u64, &mem).unwrap();
            assert_eq!(p, path(m, d), "PATH({m}, {n})");
            verify_inclusion(m as u64, n as u64, &d[m], &p, &root).unwrap();
        }
        for m in 1..=n {
            let p = consistency_proof(m as u64, n as u64, &mem).unwrap();
            assert_eq!(p, subproof(m, d, true), "PROOF({m}, {n})");
            verify_consistency(m as u64, n as u64, &p, &mth(&d[..m]), &root).unwrap();
        }
    }
}

fn flip(mut h: Hash, bit: usize) -> Hash {
    h.0[bit / 8 % 32] ^= 1 << (bit % 8);
    h
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn agrees_with_rs_merkle(n in 1usize..600, pick in any::<prop::sample::Index>()) {
        let d = leaves(n);
        let mem = memory(&d);
        let raw: Vec<[u8; 32]> = d.iter().map(|h| h.0).collect();
        let tree = rs_merkle::MerkleTree::<Rfc6962>::from_leaves(&raw);
        prop_assert_eq!(tree.root(), Some(mth(&d).0));
        prop_assert_eq!(tree_root(n as u64, &mem).unwrap(), mth(&d));
        let i = pick.index(n);
        let theirs: Vec<Hash> = tree.proof(&[i]).proof_hashes().iter().map(|h| Hash(*h)).collect();
        prop_assert_eq!(inclusion_proof(i as u64, n as u64, &mem).unwrap(), theirs);
    }

    #[test]
    fn agrees_with_the_recursive_definitions(n in 1usize..400, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let d = leaves(n);
        let mem = memory(&d);
        let (i, m) = (a.index(n), b.index(n) + 1);
        prop_assert_eq!(inclusion_proof(i as u64, n as u64, &mem).unwrap(), path(i, &d));
        prop_assert_eq!(consistency_proof(m as u64, n as u64, &mem).unwrap(), subproof(m, &d, true));
    }

    #[test]
    fn any_changed_bit_is_rejected(n in 2usize..300, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>(), bit in 0usize..256, which in any::<prop::sample::Index>()) {
        let d = leaves(n);
        let mem = memory(&d);
        let root = mth(&d);
        let i = a.index(n) as u64;
        let mut p = inclusion_proof(i, n as u64, &mem).unwrap();
        if !p.is_empty() {
            let k = which.index(p.len());
            p[k] = flip(p[k], bit);
            prop_assert!(verify_inclusion(i, n as u64, &d[i as usize], &p, &root).is_err());
        }
        prop_assert!(verify_inclusion(i, n as u64, &flip(d[i as usize], bit), &inclusion_proof(i, n as u64, &mem).unwrap(), &root).is_err());
        let m = (b.index(n - 1) + 1) as u64;
        let mut c = consistency_proof(m, n as u64, &mem).unwrap();
        let old = mth(&d[..m as usize]);
        let k = which.index(c.len());
        c[k] = flip(c[k], bit);
        prop_assert!(verify_consistency(m, n as u64, &c, &old, &root).is_err());
        let good = consistency_proof(m, n as u64, &mem).unwrap();
        prop_assert!(verify_consistency(m, n as u64, &good, &flip(old, bit), &root).is_err());
        prop_assert!(verify_consistency(m, n as u64, &good[..good.len() - 1], &old, &root).is_err());
    }

    #[test]
    fn verification_never_panics(index in any::<u64>(), size in any::<u64>(), m in any::<u64>(), proof in prop::collection::vec(any::<[u8; 32]>(), 0..80), a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
        let proof: Vec<Hash> = proof.into_iter().map(Hash).collect();
        let _ = verify_inclusion(index, size, &Hash(a), &proof, &Hash(b));
        let _ = verify_consistency(m, size, &proof, &Hash(a), &Hash(b));
        let _ = verify_consistency(index, size, &proof, &Hash(a), &Hash(b));
    }

    #[test]
    fn compact_range_root_and_nodes_match(n in 0usize..2000) {
        let d = leaves(n);
        let mut range = CompactRange::new();
        let mut count = 0usize;
        for h in &d {
            range.append(*h, |_, _| count += 1);
        }
        prop_assert_eq!(range.root(), mth(&d));
        // A tree of n leaves has 2n - popcount(n) perfect nodes.
        prop_assert_eq!(count, 2 * n - n.count_ones() as usize);
        prop_assert_eq!(range.nodes(), range_nodes(0, n as u64));
    }

    #[test]
    fn parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), s in "\\PC{0,120}") {
        let _ = Note::parse(&bytes);
        let _ = Note::parse(s.as_bytes());
        let _ = Checkpoint::parse(&s);
        let _ = Tile::parse_path(&s);
        let _ = Tile::parse_path(&format!("tile/{s}"));
        let _ = AddCheckpoint::parse(&bytes);
        let _ = decode_entry_bundle(&bytes);
        let _ = VerifierSet::from_vkeys([s.as_str()]);
        let _ = Signer::from_skey(&s);
    }
}
