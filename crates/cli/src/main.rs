//! The `glasslog` binary: a thin command-line layer over the library crates.

mod scan;
mod serve;
mod token;

use clap::{Parser, Subcommand};

// Ingestion allocates many small strings and JSON nodes per request; glibc's malloc and free
// were a quarter of the server's profile under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "glasslog",
    version,
    about = "An append-only audit log whose history cannot be rewritten unnoticed"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the log server. With no configuration it keeps its data in ./glasslog-data and
    /// listens on 127.0.0.1:8080.
    Serve(serve::Args),
    /// Create, list and revoke API tokens through a running server's admin API.
    #[command(subcommand)]
    Token(token::Command),
    /// Scan files (or stdin) for secrets with the same rules the server applies on ingest.
    /// Exit status: 0 nothing found, 1 secrets found, 2 error.
    Scan(scan::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Token(cmd) => token::run(&cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("glasslog: {e:#}");
            ExitCode::from(2)
        }
    }
}
