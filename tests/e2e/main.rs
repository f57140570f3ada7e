//! End-to-end tests: each starts the real `glasslog` binary on a free loopback port with its own
//! data directory, talks to it over HTTP as clients would, verifies what it serves with the
//! merkle crate, and stops it by process ID.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::print_stdout,
    missing_docs,
    reason = "tests: a failed expectation is the test failing"
)]

mod api;
mod breakglass;
mod clients;
mod console;
mod crash;
mod disk;
mod failover;
mod goverify;
mod house;
mod hsm;
mod mirror;
mod monitor;
mod postgres;
mod powerloss;
mod protect;
mod publish;
mod rotation;
mod search;
mod server;
mod transport;
mod witness;

pub use server::Server;
