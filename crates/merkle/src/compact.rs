//! Compact ranges: the O(log n) summary of a tree prefix that appends and yields the root.

use crate::hash::{EMPTY_ROOT, Hash, node_hash};
use crate::node::{NodeId, range_nodes};

/// The perfect nodes covering `[0, size)`, tallest first: everything needed to append to a
/// tree or compute its root, in at most 64 hashes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CompactRange {
    size: u64,
    hashes: Vec<Hash>,
}

impl CompactRange {
    /// The range of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a range from the hashes of `range_nodes(0, size)`, in that order.
    /// Returns `None` when the number of hashes does not match the size.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Option<Self> {
        (hashes.len() == size.count_ones() as usize).then_some(CompactRange { size, hashes })
    }

    /// The number of entries covered.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The node hashes, tallest first; their addresses are `range_nodes(0, self.size())`.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The addresses of [`Self::hashes`].
    pub fn nodes(&self) -> Vec<NodeId> {
        range_nodes(0, self.size)
    }

    /// Appends one leaf hash and calls `visit` with every perfect node that now exists for the
    /// first time: the leaf itself, then each parent it completes, bottom-up. These are exactly
    /// the nodes a log stores, since none of them will ever change.
    pub fn append(&mut self, leaf: Hash, mut visit: impl FnMut(NodeId, &Hash)) {
        let index = self.size;
        visit(NodeId::new(0, index), &leaf);
        let mut acc = leaf;
        let mut level = 0u8;
        // Each trailing one bit of the old size is a left sibling waiting for this leaf.
        let mut bits = index;
        while bits & 1 == 1 {
            // The invariant hashes.len() == popcount(size) guarantees a sibling for every one bit.
            let Some(left) = self.hashes.pop() else { break };
            acc = node_hash(&left, &acc);
            level += 1;
            bits >>= 1;
            visit(NodeId::new(level, bits), &acc);
        }
        self.hashes.push(acc);
        self.size += 1;
    }

    /// The root hash of `[0, size)`: fold the nodes right to left.
    pub fn root(&self) -> Hash {
        fold_right(&self.hashes).unwrap_or(EMPTY_ROOT)
    }
}

/// Folds a list of perfect nodes that covers a subtree, right to left, into its root.
/// `None` for an empty list.
pub(crate) fn fold_right(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn append_visits_every_perfect_node_once() {
        let mut range = CompactRange::new();
        let mut seen = Vec::new();
        for i in 0..16u64 {
            range.append(leaf_hash(&i.to_be_bytes()), |id, _| seen.push(id));
        }
        // 16 leaves, 8 + 4 + 2 + 1 parents.
        assert_eq!(seen.len(), 31);
        assert!(seen.contains(&NodeId::new(4, 0)));
        assert_eq!(range.hashes().len(), 1);
        assert_eq!(
            CompactRange::from_parts(16, range.hashes().to_vec()),
            Some(range)
        );
        assert_eq!(CompactRange::from_parts(15, vec![]), None);
    }
}
