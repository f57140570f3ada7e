//! Search: the entries that carry every tag of a query, newest first, found by leapfrogging
//! the tags' posting lists in the store's tag index (no scan of entries, whatever the log's
//! size).
//!
//! Which tags an entry carries is the caller's business (`glasslog_ingest::index` derives
//! them from the stored event); this module only intersects. Each step is one
//! [`crate::store::TagCursor`] seek, so the cost of a page is bounded by a step budget, not by
//! the log: a query whose terms rarely meet answers with a cursor to continue from instead
//! of walking millions of postings in one request.

use crate::error::StoreError;
use crate::store::Store;

/// One search request over the tag index.
#[derive(Clone, Debug)]
pub struct Query<'a> {
    /// Tags every match carries. None: every index is a candidate (the log, newest first).
    pub tags: &'a [String],
    /// Only indices below this one (the tree size, or a previous page's cursor).
    pub below: u64,
    /// Only indices at or above this one.
    pub from: u64,
    /// Most matches to return.
    pub limit: usize,
    /// Most index seeks before answering with a cursor (raised to one more than the number of
    /// tags, so that every page moves the cursor down). The filter is called at most once per
    /// seek.
    pub budget: usize,
    /// When to answer with a cursor whatever the budget says, checked every few seeks: a
    /// seek costs microseconds on RocksDB and a round trip on PostgreSQL, so a step budget
    /// alone cannot bound a page's time on every backend. At least one more seek than there
    /// are tags is always made.
    pub deadline: Option<std::time::Instant>,
}

/// What one search request found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Matching indices, in decreasing order.
    pub indices: Vec<u64>,
    /// Where the next page starts (pass it as [`Query::below`]); `None` when nothing below
    /// the last match can match.
    pub next: Option<u64>,
    /// Index seeks spent.
    pub steps: usize,
}

/// Runs a query. `accept` sees each index that carries every tag, newest first, and says
/// whether it matches (the caller's check of what the index cannot answer, such as an exact
/// time range).
pub fn search(
    store: &dyn Store,
    q: &Query<'_>,
    accept: &mut dyn FnMut(u64) -> Result<bool, StoreError>,
) -> Result<Found, StoreError> {
    let mut found = Found {
        indices: Vec::new(),
        next: None,
        steps: 0,
    };
    // `cand` is the largest index still possible, inclusive; `None` once below `from`.
    let mut cand = match q.below.checked_sub(1) {
        Some(c) if c >= q.from => c,
        _ => return Ok(found),
    };
    let budget = q.budget.max(q.tags.len() + 1);
    let mut cursors = q
        .tags
        .iter()
        .map(|t| store.tag_cursor(t))
        .collect::<Result<Vec<_>, _>>()?;
    // How many tags in a row have agreed that `cand` carries them.
    let mut agreed = 0;
    let mut turn = 0;
    loop {
        let late = found.steps > q.tags.len()
            && found.steps.is_multiple_of(16)
            && q.deadline.is_some_and(|d| std::time::Instant::now() >= d);
        if found.indices.len() >= q.limit || found.steps >= budget || late {
            found.next = Some(cand + 1);
            return Ok(found);
        }
        found.steps += 1;
        let at = if cursors.is_empty() {
            Some(cand)
        } else {
            let n = cursors.len();
            let cursor = &mut cursors[turn % n];
            turn += 1;
            cursor.last_below(cand + 1)?
        };
        let Some(at) = at.filter(|at| *at >= q.from) else {
            return Ok(found);
        };
        if at == cand {
            agreed += 1;
        } else {
            // A tag skipped ahead (down): only it has agreed on the new candidate so far.
            cand = at;
            agreed = 1;
        }
        if agreed >= q.tags.len() {
            if accept(cand)? {
                found.indices.push(cand);
            }
            agreed = 0;
            match cand.checked_sub(1) {
                Some(c) if c >= q.from => cand = c,
                _ => return Ok(found),
            }
        }
    }
}

/// The first index in `[0, size)` for which `pred` holds, given that it holds for every index
/// after that one (a monotone predicate, such as "received at or after T" over an
/// append-ordered log); `size` when it holds for none. About `log2(size)` calls.
pub fn partition_point(
    size: u64,
    pred: &mut dyn FnMut(u64) -> Result<bool, StoreError>,
) -> Result<u64, StoreError> {
    let (mut lo, mut hi) = (0u64, size);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid)? {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use crate::memory::MemoryStore;
    use crate::store::Commit;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn store(postings: &[BTreeSet<u64>]) -> MemoryStore {
        let s = MemoryStore::new();
        let tags = postings
            .iter()
            .enumerate()
            .flat_map(|(t, p)| p.iter().map(move |i| (format!("t{t}"), *i)))
            .collect();
        s.commit(&Commit {
            tags,
            ..Commit::default()
        })
        .unwrap();
        s
    }

    /// Pages through a query to the end, as the API's cursor does.
    fn all_pages(
        s: &MemoryStore,
        tags: &[String],
        below: u64,
        from: u64,
        limit: usize,
    ) -> Vec<u64> {
        let mut out = Vec::new();
        let mut below = below;
        loop {
            let q = Query {
                tags,
                below,
                from,
                limit,
                budget: 1,
                deadline: None,
            };
            let f = search(s, &q, &mut |i| Ok(i % 5 != 3)).unwrap();
            assert!(f.indices.windows(2).all(|w| w[0] > w[1]), "newest first");
            out.extend(&f.indices);
            match f.next {
                Some(n) => {
                    assert!(n < below, "every page moves the cursor down");
                    below = n;
                }
                None => return out,
            }
        }
    }

    proptest! {
        /// Against the obvious oracle: every index in range carrying every tag and accepted,
        /// newest first, whatever the page size and however small the budget.
        #[test]
        fn matches_the_intersection(
            postings in prop::collection::vec(prop::collection::btree_set(0u64..200, 0..80), 1..4),
            below in 0u64..220,
            from in 0u64..50,
            limit in 1usize..10,
        ) {
            let s = store(&postings);
            let tags: Vec<String> = (0..postings.len()).map(|t| format!("t{t}")).collect();
            let want: Vec<u64> = (from..below)
                .rev()
                .filter(|i| postings.iter().all(|p| p.contains(i)) && i % 5 != 3)
                .collect();
            prop_assert_eq!(all_pages(&s, &tags, below, from, limit), want);
        }
    }

    proptest! {
        /// The paged cursor every backend but RocksDB uses, on lists longer than a page,
        /// sought in any order, against the obvious oracle.
        #[test]
        fn a_paged_cursor_seeks_like_the_oracle(
            postings in prop::collection::btree_set(0u64..3000, 0..1200),
            seeks in prop::collection::vec(0u64..3100, 1..60),
        ) {
            let s = store(std::slice::from_ref(&postings));
            let mut c = s.tag_cursor("t0").unwrap();
            for below in seeks {
                let want = postings.range(..below).next_back().copied();
                prop_assert_eq!(c.last_below(below).unwrap(), want, "below {}", below);
            }
        }
    }

    #[test]
    fn no_tags_walks_the_log_newest_first() {
        let s = MemoryStore::new();
        // The filter drops 8 and 3.
        assert_eq!(all_pages(&s, &[], 10, 2, 3), vec![9, 7, 6, 5, 4, 2]);
        assert!(all_pages(&s, &[], 0, 0, 3).is_empty());
    }

    #[test]
    fn the_budget_bounds_a_page() {
        // Two tags that never meet: each request stops at the budget with a cursor.
        let evens: BTreeSet<u64> = (0..1000).filter(|i| i % 2 == 0).collect();
        let odds: BTreeSet<u64> = (0..1000).filter(|i| i % 2 == 1).collect();
        let s = store(&[evens, odds]);
        let tags = vec!["t0".to_owned(), "t1".to_owned()];
        let q = Query {
            tags: &tags,
            below: 1000,
            from: 0,
            limit: 10,
            budget: 50,
            deadline: None,
        };
        let f = search(&s, &q, &mut |_| Ok(true)).unwrap();
        assert!(f.indices.is_empty());
        assert_eq!(f.steps, 50);
        let next = f.next.unwrap();
        assert!(next < 1000 && next > 900, "{next}");
        // A deadline already past ends the page at the first check, whatever the budget.
        let late = Query {
            budget: usize::MAX,
            deadline: Some(std::time::Instant::now()),
            ..q
        };
        let f = search(&s, &late, &mut |_| Ok(true)).unwrap();
        assert_eq!(f.steps, 16);
        assert!(f.next.is_some());
    }

    #[test]
    fn partition_point_finds_the_boundary() {
        for size in 0..40u64 {
            for t in 0..=size {
                let got = partition_point(size, &mut |i| Ok(i >= t)).unwrap();
                assert_eq!(got, t);
            }
        }
    }
}
