//! Fuzzes the query-string parser of proof, entry and tile requests (the api crate's
//! `query.rs`, included by path so that fuzzing does not build the server).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../../crates/api/src/query.rs"]
#[allow(dead_code)]
mod query;

const ALLOWED: &[&str] = &["index", "tree_size", "leaf_hash", "from", "to", "start", "end"];

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(q) = query::parse(raw, ALLOWED) {
        assert!(q.len() <= ALLOWED.len());
        assert!(q.keys().all(|k| ALLOWED.contains(&k.as_str())));
        for key in ALLOWED {
            if let Ok(Some(n)) = query::number(&q, key) {
                assert_eq!(q[*key].parse::<u64>(), Ok(n));
            }
        }
    }
});
