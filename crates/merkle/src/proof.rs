//! Inclusion and consistency proofs: generation over a [`HashReader`], verification per
//! RFC 9162 §2.1.3.2 and §2.1.4.2.
//!
//! Generation works in two steps, as Go's `sumdb/tlog` does: first the list of stored perfect
//! nodes the proof needs, then one batched read, then pure folding. Every proof element is
//! `MTH(D[a:b])` for some subtree `[a, b)`; when `b` is on the ragged right edge the element is
//! folded from the perfect nodes of that range, which is why only perfect nodes are ever stored.

use crate::compact::fold_right;
use crate::hash::{EMPTY_ROOT, Hash, node_hash};
use crate::node::{NodeId, range_nodes};
use std::error::Error as StdError;

/// Reads stored perfect-node hashes. Implemented by the log's storage, by tile fetchers and by
/// [`MemoryHashes`]; the answer must hold one hash per requested node, in order.
pub trait HashReader {
    /// What a failed read reports.
    type Error: StdError + Send + Sync + 'static;

    /// Returns the hashes of `nodes`, in the same order.
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, Self::Error>;
}

/// Why a proof could not be built or did not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The requested leaf.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Consistency is defined only for `0 < from <= to`.
    #[error("no consistency proof exists from size {from} to size {to}")]
    InvalidSizes {
        /// The older size.
        from: u64,
        /// The newer size.
        to: u64,
    },
    /// `[start, end)` is not a subtree of the tree of `size` (tlog-witness, MTC §4.1).
    #[error("[{start}, {end}) is not a subtree of a tree of size {size}")]
    InvalidSubtree {
        /// First entry.
        start: u64,
        /// One past the last entry.
        end: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof has more or fewer hashes than the tree shape requires.
    #[error("the proof has the wrong number of hashes for this tree")]
    WrongLength,
    /// The proof is well formed but leads to a different root.
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    /// The hash reader answered with a different number of hashes than asked for.
    #[error("the hash reader returned {got} hashes for {wanted} nodes")]
    ShortRead {
        /// How many were asked for.
        wanted: usize,
        /// How many came back.
        got: usize,
    },
    /// The hash reader failed.
    #[error("reading stored hashes failed")]
    Read(#[source] Box<dyn StdError + Send + Sync>),
}

/// The stored nodes a proof needs, grouped by proof element.
pub(crate) struct Plan {
    pub(crate) nodes: Vec<NodeId>,
    /// `ends[k]` is one past the last node of element `k`.
    ends: Vec<usize>,
}

impl Plan {
    pub(crate) fn new() -> Self {
        Plan {
            nodes: Vec::with_capacity(64),
            ends: Vec::with_capacity(64),
        }
    }

    pub(crate) fn push_range(&mut self, begin: u64, end: u64) {
        self.nodes.extend(range_nodes(begin, end));
        self.ends.push(self.nodes.len());
    }

    /// Adds the sibling subtrees of node `(level, index)` up to the root of a tree of `size`:
    /// the iterative form of RFC 6962's PATH, which skips siblings beyond the right edge.
    fn push_path(&mut self, mut level: u32, mut index: u64, size: u64) {
        let size = u128::from(size);
        while !(index == 0 && (1u128 << level) >= size) {
            let sibling = u128::from(index ^ 1);
            let begin = sibling << level;
            let end = ((sibling + 1) << level).min(size);
            if begin < end {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "begin < end <= size, a u64"
                )]
                let (begin, end) = (begin as u64, end as u64);
                self.push_range(begin, end);
            }
            level += 1;
            index >>= 1;
        }
    }

    pub(crate) fn run<R: HashReader + ?Sized>(self, reader: &R) -> Result<Vec<Hash>, ProofError> {
        if self.nodes.is_empty() {
            return Ok(Vec::new());
        }
        let hashes = reader
            .read_hashes(&self.nodes)
            .map_err(|e| ProofError::Read(Box::new(e)))?;
        if hashes.len() != self.nodes.len() {
            return Err(ProofError::ShortRead {
                wanted: self.nodes.len(),
                got: hashes.len(),
            });
        }
        let mut out = Vec::with_capacity(self.ends.len());
        let mut start = 0;
        for &end in &self.ends {
            // Every group is non-empty: push_range is only called with begin < end.
            out.extend(fold_right(&hashes[start..end]));
            start = end;
        }
        Ok(out)
    }
}

/// The audit path of leaf `index` in the tree of `size` entries, leaf's sibling first.
pub fn inclusion_proof<R: HashReader + ?Sized>(
    index: u64,
    size: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut plan = Plan::new();
    plan.push_path(0, index, size);
    plan.run(reader)
}

/// The nodes [`inclusion_proof`] reads, for callers that prefetch them (tiles over HTTP).
pub fn inclusion_proof_nodes(index: u64, size: u64) -> Result<Vec<NodeId>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut plan = Plan::new();
    plan.push_path(0, index, size);
    Ok(plan.nodes)
}

fn consistency_plan(from: u64, to: u64) -> Result<Plan, ProofError> {
    if from == 0 || from > to {
        return Err(ProofError::InvalidSizes { from, to });
    }
    let mut plan = Plan::new();
    if from == to {
        return Ok(plan);
    }
    // [from - 2^t, from) is the last perfect node of the old tree. Unless the old tree is that
    // node alone (the verifier already holds its root), the proof starts with it.
    let t = from.trailing_zeros();
    let node = (from >> t) - 1;
    if node != 0 {
        plan.push_range(node << t, from);
    }
    plan.push_path(t, node, to);
    Ok(plan)
}

/// RFC 6962's PROOF(from, D[to]): the consistency proof between two sizes, bottom-up.
/// Empty when `from == to`; an error when `from == 0` or `from > to`.
pub fn consistency_proof<R: HashReader + ?Sized>(
    from: u64,
    to: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProofError> {
    consistency_plan(from, to)?.run(reader)
}

/// The nodes [`consistency_proof`] reads.
pub fn consistency_proof_nodes(from: u64, to: u64) -> Result<Vec<NodeId>, ProofError> {
    Ok(consistency_plan(from, to)?.nodes)
}

/// The root of the tree of `size` entries, folded from its compact range.
pub fn tree_root<R: HashReader + ?Sized>(size: u64, reader: &R) -> Result<Hash, ProofError> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    let mut plan = Plan::new();
    plan.push_range(0, size);
    Ok(plan.run(reader)?.pop().unwrap_or(EMPTY_ROOT))
}

/// Right-shifts both counters until `fn_` is odd or zero: the levels where the path's node is
/// the right edge's lone node and has no sibling.
fn skip_right_edge(fn_: &mut u64, sn: &mut u64) {
    while *fn_ != 0 && *fn_ & 1 == 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// Checks that `proof` is the audit path of `leaf` at `index` in the tree of `size` with
/// `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            skip_right_edge(&mut fn_, &mut sn);
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of size `from` with root `from_root` is a prefix of the tree of size
/// `to` with root `to_root` (RFC 9162 §2.1.4.2). `from == to` needs an empty proof and equal
/// roots; `from == 0` is rejected, as in transparency-dev/merkle (a witness treats it apart).
pub fn verify_consistency(
    from: u64,
    to: u64,
    proof: &[Hash],
    from_root: &Hash,
    to_root: &Hash,
) -> Result<(), ProofError> {
    if from == 0 || from > to {
        return Err(ProofError::InvalidSizes { from, to });
    }
    if from == to {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if from_root == to_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    // When the old tree is a perfect subtree, its root is the proof's implicit first element.
    let (first, rest) = if from.is_power_of_two() {
        (from_root, proof)
    } else {
        proof.split_first().ok_or(ProofError::WrongLength)?
    };
    let (mut fn_, mut sn) = (from - 1, to - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            skip_right_edge(&mut fn_, &mut sn);
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *from_root || sr != *to_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// An in-memory tree that keeps every perfect node: a reference [`HashReader`] for tests,
/// benchmarks and small clients.
#[derive(Clone, Debug, Default)]
pub struct MemoryHashes {
    levels: Vec<Vec<Hash>>,
    range: crate::compact::CompactRange,
}

impl MemoryHashes {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let levels = &mut self.levels;
        self.range.append(leaf, |id, h| {
            let level = usize::from(id.level);
            if levels.len() <= level {
                levels.resize_with(level + 1, Vec::new);
            }
            levels[level].push(*h);
        });
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.range.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.range.root()
    }
}

/// A node a [`MemoryHashes`] does not hold.
#[derive(Debug, thiserror::Error)]
#[error("node ({}, {}) is not stored", .0.level, .0.index)]
pub struct MissingNode(pub NodeId);

impl HashReader for MemoryHashes {
    type Error = MissingNode;

    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, MissingNode> {
        nodes
            .iter()
            .map(|id| {
                usize::try_from(id.index)
                    .ok()
                    .and_then(|i| self.levels.get(usize::from(id.level))?.get(i))
                    .copied()
                    .ok_or(MissingNode(*id))
            })
            .collect()
    }
}
