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

/// MTC §4.4's SUBTREE_PROOF written out as TLOG-STANDARDS.md §11.3 restates it, over slices.
fn subtree_proof(s: usize, e: usize, d: &[Hash], whole: bool) -> Vec<Hash> {
    let n = d.len();
    if s == 0 && e == n {
        return if whole { vec![] } else { vec![mth(d)] };
    }
    let k = split(n);
    let mut p = if e <= k {
        subtree_proof(s, e, &d[..k], whole)
    } else if s >= k {
        subtree_proof(s - k, e - k, &d[k..], whole)
    } else {
        subtree_proof(0, e - k, &d[k..], false)
    };
    p.push(if e <= k { mth(&d[k..]) } else { mth(&d[..k]) });
    p
}

/// Every subtree of a tree of `n`, by brute force over the definition of MTC §4.1.
fn subtrees(n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for s in 0..n {
        for e in s + 1..=n {
            if s % (e - s).next_power_of_two() == 0 {
                out.push((s, e));
            }
        }
    }
    out
}

#[test]
fn every_subtree_proof_of_every_small_tree_matches_the_definition() {
    let all = leaves(40);
    let mem = memory(&all);
    let mut with_offset = 0;
    for n in 1..=all.len() {
        let d = &all[..n];
        let root = mth(d);
        for s in 0..n as u64 {
            for e in s + 1..=n as u64 {
                assert_eq!(
                    is_subtree(s, e, n as u64),
                    subtrees(n).contains(&(s as usize, e as usize))
                );
            }
        }
        for (s, e) in subtrees(n) {
            let sub = mth(&d[s..e]);
            let (su, eu, nu) = (s as u64, e as u64, n as u64);
            assert_eq!(subtree_hash(su, eu, &mem).unwrap(), sub);
            let p = subtree_consistency_proof(su, eu, nu, &mem).unwrap();
            assert_eq!(
                p,
                subtree_proof(s, e, d, true),
                "SUBTREE_PROOF({s}, {e}, {n})"
            );
            verify_subtree_consistency(su, eu, nu, &p, &sub, &root).unwrap();
            if s == 0 {
                // With start 0 it is RFC 6962's PROOF(end, D[n]).
                assert_eq!(p, subproof(e, d, true));
            } else {
                with_offset += 1;
            }
            // Any other subtree hash, root, or a proof one hash short or long is refused.
            assert!(
                verify_subtree_consistency(su, eu, nu, &p, &root, &root).is_err() || sub == root
            );
            assert!(verify_subtree_consistency(su, eu, nu, &p, &sub, &sub).is_err() || sub == root);
            if let Some((_, short)) = p.split_last() {
                assert!(verify_subtree_consistency(su, eu, nu, short, &sub, &root).is_err());
            }
            let mut long = p.clone();
            long.push(root);
            assert!(verify_subtree_consistency(su, eu, nu, &long, &sub, &root).is_err());
            for i in s..e {
                let ip = path(i - s, &d[s..e]);
                verify_subtree_inclusion(i as u64, su, eu, &d[i], &ip, &sub).unwrap();
            }
        }
    }
    // The upstream probes have no valid subtree with start > 0 (TLOG-STANDARDS.md §11.3).
    assert!(with_offset > 1000, "{with_offset}");
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
    fn any_changed_bit_in_a_subtree_proof_is_rejected(n in 2usize..300, a in any::<prop::sample::Index>(), bit in 0usize..256, which in any::<prop::sample::Index>()) {
        let d = leaves(n);
        let mem = memory(&d);
        let all = subtrees(n);
        let (s, e) = all[a.index(all.len())];
        let (sub, root) = (mth(&d[s..e]), mth(&d));
        let mut p = subtree_consistency_proof(s as u64, e as u64, n as u64, &mem).unwrap();
        prop_assume!(!p.is_empty());
        let i = which.index(p.len());
        p[i] = flip(p[i], bit);
        prop_assert!(verify_subtree_consistency(s as u64, e as u64, n as u64, &p, &sub, &root).is_err());
    }

    #[test]
    fn subtree_verification_never_panics(start in any::<u64>(), end in any::<u64>(), size in any::<u64>(), proof in prop::collection::vec(any::<[u8; 32]>(), 0..80), a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
        let proof: Vec<Hash> = proof.into_iter().map(Hash).collect();
        let _ = verify_subtree_consistency(start, end, size, &proof, &Hash(a), &Hash(b));
        let _ = verify_subtree_consistency(start % 64, end % 64, size % 64, &proof, &Hash(a), &Hash(b));
        let _ = verify_subtree_inclusion(size, start, end, &Hash(a), &proof, &Hash(b));
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
