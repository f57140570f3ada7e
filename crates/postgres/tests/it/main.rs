//! The PostgreSQL backend against a real PostgreSQL (Debian's `postgresql`, started here in a
//! temporary directory on a Unix socket): the conformance suite every backend passes, and a log
//! that survives a reopen. Without PostgreSQL it skips with a message, unless
//! `GLASSLOG_REQUIRE_ORACLES` is set (CI installs it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests: a failed expectation is the test failing"
)]

mod backend;
mod lease;

pub use glasslog_postgres::testing::cluster;
