//! The merkle crate's integration tests, in one binary: the shared standards vectors and the
//! property tests against independent oracles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::print_stdout,
    missing_docs,
    reason = "tests: a failed expectation is the test failing, their numbers are small, and scorers print figures"
)]

mod cloudflare;
mod openssl;
mod oracles;
mod vectors;
