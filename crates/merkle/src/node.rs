//! Addressing of perfect subtrees, and the split of any range into them.

/// A perfect subtree: node `(level, index)` is the root over entries
/// `[index * 2^level, (index + 1) * 2^level)`. Level 0 holds the leaf hashes.
///
/// Only perfect nodes are ever stored: they never change once their last entry exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves, 0..=63.
    pub level: u8,
    /// Position within the level, counting from the left.
    pub index: u64,
}

impl NodeId {
    /// Builds a node address.
    pub const fn new(level: u8, index: u64) -> Self {
        NodeId { level, index }
    }

    /// The first entry the node covers.
    pub fn begin(&self) -> u128 {
        u128::from(self.index) << self.level
    }

    /// One past the last entry the node covers.
    pub fn end(&self) -> u128 {
        (u128::from(self.index) + 1) << self.level
    }
}

/// Splits `[begin, end)` into maximal perfect nodes, left to right.
///
/// For a prefix `[0, n)` this is the compact range: one node per set bit of `n`, tallest first.
/// The nodes grow and then shrink; an empty range gives no nodes.
pub fn range_nodes(begin: u64, end: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut at = begin;
    while at < end {
        // The largest aligned block starting at `at` that still fits before `end`.
        let align = if at == 0 { 63 } else { at.trailing_zeros() };
        let fit = 63 - (end - at).leading_zeros();
        let level = align.min(fit);
        #[expect(
            clippy::cast_possible_truncation,
            reason = "a level of a 64-bit tree is below 64"
        )]
        let id = NodeId::new(level as u8, at >> level);
        out.push(id);
        at += 1u64 << level;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges_follow_the_bits_of_the_size() {
        assert_eq!(range_nodes(0, 0), vec![]);
        assert_eq!(
            range_nodes(0, 7),
            vec![NodeId::new(2, 0), NodeId::new(1, 2), NodeId::new(0, 6)]
        );
        assert_eq!(range_nodes(0, 8), vec![NodeId::new(3, 0)]);
        assert_eq!(range_nodes(0, u64::MAX).len(), 64);
    }

    #[test]
    fn inner_ranges_grow_then_shrink() {
        assert_eq!(
            range_nodes(3, 13),
            vec![
                NodeId::new(0, 3),
                NodeId::new(2, 1),
                NodeId::new(2, 2),
                NodeId::new(0, 12)
            ]
        );
        for b in 0..40u64 {
            for e in b..40 {
                let nodes = range_nodes(b, e);
                let mut at = u128::from(b);
                for n in &nodes {
                    assert_eq!(n.begin(), at);
                    at = n.end();
                }
                assert_eq!(at, u128::from(e));
            }
        }
    }
}
