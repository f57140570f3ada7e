//! The ingest crate's integration tests, in one binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::print_stdout,
    missing_docs,
    reason = "tests: a failed expectation is the test failing, their numbers are small, and scorers print figures"
)]

mod corpus;
mod generalise;
mod sanitize;

use glasslog_ingest::{PolicyConfig, Sanitizer};

pub fn sanitizer(policy: &str) -> Sanitizer {
    Sanitizer::new(PolicyConfig::from_toml(policy).unwrap(), [9; 32]).unwrap()
}
