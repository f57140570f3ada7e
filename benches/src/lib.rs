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
    rocks_log_with(dir, LogConfig::default())
}

/// [`rocks_log`], encrypted at rest under a fixed master key (one data key per day).
pub fn sealed_rocks_log(dir: &Path) -> Log {
    let sealing = glasslog_log::Sealing {
        master: Arc::new(glasslog_log::seal::MasterKey::from_bytes(&[2; 32])),
        epoch_days: 1,
    };
    rocks_log_with(
        dir,
        LogConfig {
            sealing: Some(sealing),
            ..LogConfig::default()
        },
    )
}

fn rocks_log_with(dir: &Path, config: LogConfig) -> Log {
    let store = RocksStore::open(dir, &RocksOptions::default()).expect("open the RocksDB store");
    let signer =
        Signer::from_seed("bench.glasslog.example/log", [1; 32]).expect("a valid key name");
    Log::open(Arc::new(store), signer, config).expect("open the log")
}
