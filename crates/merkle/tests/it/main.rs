//! The merkle crate's integration tests, in one binary: the shared standards vectors and the
//! property tests against independent oracles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    missing_docs,
    reason = "tests: a failed expectation is the test failing, and their numbers are small"
)]

mod oracles;
mod vectors;
