//! Subtrees and subtree proofs, as tlog-witness `sign-subtree`, tlog-cosignature `subtree/v1`
//! and tlog-mirror use them (draft-ietf-plants-merkle-tree-certs §4.1, §4.3–4.4).
//!
//! Spec: <https://c2sp.org/tlog-witness>, <https://c2sp.org/tlog-mirror>; restated in
//! `shared/specs/TLOG-STANDARDS.md` §11.
//!
//! A subtree `[start, end)` is the RFC 6962 tree over those entries, where `start` is a
//! multiple of the smallest power of two ≥ `end − start`: it sits at the left edge of one
//! aligned perfect node. Its consistency proof against a tree of `size ≥ end` generalises
//! RFC 6962's SUBPROOF; with `start = 0` it is exactly `PROOF(end, D[size])`.

use crate::hash::{EMPTY_ROOT, Hash, node_hash};
use crate::proof::{HashReader, Plan, ProofError, verify_inclusion};

/// Whether `[start, end)` is a non-empty subtree of a tree of `size` entries.
pub fn is_subtree(start: u64, end: u64, size: u64) -> bool {
    if start >= end || end > size {
        return false;
    }
    if start == 0 {
        return true;
    }
    // Only start = 0 can hold a width above 2^63, so the power of two exists here.
    (end - start)
        .checked_next_power_of_two()
        .is_some_and(|width| start.is_multiple_of(width))
}

/// One level of the subtree proof recursion, outermost first.
#[derive(Clone, Copy)]
enum Step {
    /// The subtree is in the left half; the proof element is the right half.
    Left,
    /// The subtree is in the right half; the proof element is the left half.
    Right,
    /// The subtree starts at 0 and crosses the split: the left half is part of it.
    Split,
}

/// The recursion of `SUBTREE_PROOF(start, end, D[0:size])` as (steps, ranges of their proof
/// elements, whether the innermost level adds its own root), outermost level first.
fn subtree_steps(start: u64, end: u64, size: u64) -> (Vec<(Step, u64, u64)>, bool) {
    let (mut s, mut e, mut lo, mut hi) = (start, end, 0u64, size);
    let mut whole = true;
    let mut steps = Vec::with_capacity(64);
    loop {
        let n = hi - lo;
        if s == 0 && e == n {
            return (steps, !whole);
        }
        // n ≥ 2 here: a valid subtree that is not the whole tree leaves at least one entry out.
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        if e <= k {
            steps.push((Step::Left, lo + k, hi));
            hi = lo + k;
        } else if s >= k {
            steps.push((Step::Right, lo, lo + k));
            lo += k;
            s -= k;
            e -= k;
        } else {
            steps.push((Step::Split, lo, lo + k));
            lo += k;
            e -= k;
            whole = false;
        }
    }
}

fn check_subtree(start: u64, end: u64, size: u64) -> Result<(), ProofError> {
    if is_subtree(start, end, size) {
        Ok(())
    } else {
        Err(ProofError::InvalidSubtree { start, end, size })
    }
}

/// The hash of subtree `[start, end)`: `MTH(D[start:end])`.
pub fn subtree_hash<R: HashReader + ?Sized>(
    start: u64,
    end: u64,
    reader: &R,
) -> Result<Hash, ProofError> {
    check_subtree(start, end, end)?;
    let mut plan = Plan::new();
    plan.push_range(start, end);
    Ok(plan.run(reader)?.pop().unwrap_or(EMPTY_ROOT))
}

/// The subtree consistency proof from `[start, end)` to the tree of `size` entries, innermost
/// element first (MTC §4.4; the proof of `sign-subtree` and of each tlog-mirror package).
pub fn subtree_consistency_proof<R: HashReader + ?Sized>(
    start: u64,
    end: u64,
    size: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProofError> {
    check_subtree(start, end, size)?;
    let (steps, own_root) = subtree_steps(start, end, size);
    let mut plan = Plan::new();
    if own_root {
        // The innermost level is the right part [lo, hi) of a split, whole in its tree.
        let (lo, hi) = innermost_range(&steps, size);
        plan.push_range(lo, hi);
    }
    for &(_, a, b) in steps.iter().rev() {
        plan.push_range(a, b);
    }
    plan.run(reader)
}

/// The range the recursion ends on, replayed from its steps.
fn innermost_range(steps: &[(Step, u64, u64)], size: u64) -> (u64, u64) {
    let (mut lo, mut hi) = (0, size);
    for &(step, a, b) in steps {
        match step {
            Step::Left => hi = a,
            Step::Right | Step::Split => lo = b,
        }
    }
    (lo, hi)
}

/// Checks that `proof` shows subtree `[start, end)` with hash `subtree` consistent with the
/// tree of `size` with root `root`.
///
/// Follows transparency-dev/merkle's `VerifySubtreeConsistency` on its edge cases: the empty
/// subtree `start = end` needs an empty proof and `subtree = SHA-256("")`, and says nothing of
/// `root`. Requests (`sign-subtree`, mirror packages) refuse empty subtrees before this.
pub fn verify_subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Hash],
    subtree: &Hash,
    root: &Hash,
) -> Result<(), ProofError> {
    if start == end && end <= size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if *subtree == EMPTY_ROOT {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    check_subtree(start, end, size)?;
    let (steps, own_root) = subtree_steps(start, end, size);
    if proof.len() != steps.len() + usize::from(own_root) {
        return Err(ProofError::WrongLength);
    }
    let mut hashes = proof.iter();
    let (mut sub, mut tree) = match own_root {
        true => {
            let first = hashes.next().ok_or(ProofError::WrongLength)?;
            (*first, *first)
        }
        false => (*subtree, *subtree),
    };
    for (&(step, _, _), p) in steps.iter().rev().zip(hashes) {
        match step {
            Step::Left => tree = node_hash(&tree, p),
            Step::Right => tree = node_hash(p, &tree),
            Step::Split => {
                sub = node_hash(p, &sub);
                tree = node_hash(p, &tree);
            }
        }
    }
    if sub != *subtree || tree != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that `proof` is the audit path of the leaf at `index` inside subtree `[start, end)`
/// with hash `subtree` (MTC §4.3): an RFC 6962 inclusion of `index − start` in a tree of
/// `end − start` entries.
pub fn verify_subtree_inclusion(
    index: u64,
    start: u64,
    end: u64,
    leaf: &Hash,
    proof: &[Hash],
    subtree: &Hash,
) -> Result<(), ProofError> {
    check_subtree(start, end, end)?;
    if index < start || index >= end {
        return Err(ProofError::IndexOutOfRange { index, size: end });
    }
    verify_inclusion(index - start, end - start, leaf, proof, subtree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtrees_sit_at_the_left_edge_of_an_aligned_node() {
        assert!(is_subtree(0, 13, 13));
        assert!(is_subtree(8, 13, 14));
        assert!(is_subtree(4, 5, 5));
        assert!(!is_subtree(1, 3, 8));
        assert!(!is_subtree(2, 5, 8));
        assert!(!is_subtree(2, 6, 8));
        assert!(!is_subtree(16, 100, 200));
        assert!(!is_subtree(3, 3, 8));
        assert!(!is_subtree(8, 13, 12));
        assert!(is_subtree(0, u64::MAX, u64::MAX));
        assert!(!is_subtree(1, u64::MAX, u64::MAX));
    }

    #[test]
    fn the_spec_example_has_four_proof_lines() {
        // TLOG-STANDARDS.md §11.3: [8, 13) in a tree of 14.
        let (steps, own) = subtree_steps(8, 13, 14);
        assert_eq!(steps.len() + usize::from(own), 4);
    }
}
