//! Shared helpers for glasslog's benchmarks: realistic entries and prebuilt logs.
#![allow(
    clippy::expect_used,
    reason = "benchmark set-up: a failure aborts the run, which is the right outcome"
)]

use glasslog_log::{Log, LogConfig, NewEntry, RocksOptions, RocksStore};
use glasslog_merkle::Signer;
use std::path::Path;
use std::sync::Arc;

/// An audit-event-shaped JSON entry of exactly `len` bytes, unique per `i`.
pub fn entry(i: u64, len: usize) -> NewEntry {
    let head = format!(
        "{{\"actor\":{{\"user\":\"svc-{}\"}},\"api\":{{\"operation\":\"update\"}},\"seq\":{i},\"pad\":\"",
        i % 97
    );
    let mut s = head.into_bytes();
    s.resize(len.saturating_sub(2).max(s.len()), b'x');
    s.extend_from_slice(b"\"}");
    NewEntry::new(s)
}

/// A RocksDB-backed log in `dir` with a fixed key.
pub fn rocks_log(dir: &Path) -> Log {
    let store = RocksStore::open(dir, &RocksOptions::default()).expect("open the RocksDB store");
    let signer =
        Signer::from_seed("bench.glasslog.example/log", [1; 32]).expect("a valid key name");
    Log::open(Arc::new(store), signer, LogConfig::default()).expect("open the log")
}
