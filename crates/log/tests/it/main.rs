//! The log crate's integration tests, in one binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::print_stdout,
    missing_docs,
    reason = "tests: a failed expectation is the test failing, their numbers are small, and scorers print figures"
)]

mod backends;
mod faults;
mod head;
mod lifecycle;
mod sealed;
mod signing;
mod tamper;

use glasslog_log::{Log, LogConfig, NewEntry, Store};
use glasslog_merkle::Signer;
use std::sync::Arc;

pub const ORIGIN: &str = "test.glasslog.example/log";

pub fn signer() -> Signer {
    Signer::from_seed(ORIGIN, [42; 32]).unwrap()
}

pub fn open(store: Arc<dyn Store>) -> Log {
    Log::open(store, signer(), LogConfig::default()).unwrap()
}

pub fn entry(i: u64) -> NewEntry {
    NewEntry::new(format!("{{\"event\":{i}}}").into_bytes())
}
