//! The `glasslog` binary: a thin command-line layer over the library crates.

mod audit;
mod breakglass;
mod client;
mod conn;
mod keygen;
mod mirror;
mod monitor;
mod pkcs11;
mod scan;
mod serve;
mod token;
mod witness;

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
    /// Submit one event (JSON) or text entry, from the argument or standard input.
    Submit {
        #[command(flatten)]
        conn: conn::Conn,
        /// The entry; standard input when absent.
        data: Option<String>,
        /// Send as a raw text entry even if it parses as JSON.
        #[arg(long)]
        text: bool,
        /// Wait for the signed checkpoint and print the verified inclusion proof.
        #[arg(long)]
        wait: bool,
        /// Submit many entries from an NDJSON file ("-" for standard input), in batches.
        #[arg(long, conflicts_with = "data")]
        file: Option<std::path::PathBuf>,
        /// Build the event from flags: who acted.
        #[arg(long, conflicts_with_all = ["data", "file"], requires = "action")]
        actor: Option<String>,
        /// What they did (with --actor).
        #[arg(long, requires = "actor")]
        action: Option<String>,
        /// What they did it to.
        #[arg(long, requires = "actor")]
        resource: Option<String>,
        /// success, failure or unknown.
        #[arg(long, requires = "actor")]
        outcome: Option<String>,
        /// Why (free text or a ticket).
        #[arg(long, requires = "actor")]
        reason: Option<String>,
        /// The break-glass session this action is done under.
        #[arg(long, requires = "actor")]
        session: Option<String>,
    },
    /// Fetch an entry and check its bytes against its leaf hash.
    Get {
        #[command(flatten)]
        conn: conn::Conn,
        /// The entry's index.
        index: u64,
    },
    /// Fetch and verify an inclusion proof; --out saves a self-contained bundle.
    Prove {
        #[command(flatten)]
        conn: conn::Conn,
        /// The entry's index.
        index: u64,
        /// Write the proof (entry, signed checkpoint, audit path) here.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// tlog-proof (C2SP, the default) or bundle (glasslog's JSON).
        #[arg(long, default_value = "tlog-proof")]
        format: client::ProofFormat,
    },
    /// Check a saved tlog-proof (any log's), proof bundle or break-glass report offline. Exit 0
    /// valid, 1 does not verify, 2 error.
    Verify {
        /// The proof file.
        bundle: std::path::PathBuf,
        /// The log's verifier key.
        #[arg(long, env = "GLASSLOG_VKEY")]
        vkey: String,
        /// Another key of the same log, trusted beside `--vkey`.
        #[arg(long = "log-key", env = "GLASSLOG_LOG_KEYS", value_delimiter = ',')]
        log_keys: Vec<String>,
        /// A C2SP tlog-policy file the checkpoint must meet.
        #[arg(long, env = "GLASSLOG_POLICY")]
        policy: Option<std::path::PathBuf>,
        /// The entry's bytes, for a tlog-proof that does not carry them in `extra`.
        #[arg(long)]
        entry: Option<std::path::PathBuf>,
        /// A witness's cosigner key (repeatable, or comma-separated in GLASSLOG_WITNESSES).
        #[arg(long = "witness", env = "GLASSLOG_WITNESSES", value_delimiter = ',')]
        witnesses: Vec<String>,
        /// Distinct witnesses of `--witness` that must have cosigned the checkpoint.
        #[arg(long, env = "GLASSLOG_QUORUM", default_value_t = 0)]
        quorum: usize,
    },
    /// Download every tile and entry bundle, recompute the tree, re-scan every entry.
    /// Exit status: 0 fine, 1 secrets found, 4 data does not match the signed checkpoint.
    Audit(audit::Args),
    /// Follow a log's checkpoints through its tiles; detect rollbacks and forks.
    /// Exit status: 0 fine, 3 unreachable, 4 inconsistent.
    Monitor(monitor::Args),
    /// Run a C2SP tlog-witness that cosigns consistent checkpoints of the given logs.
    Witness(witness::Args),
    /// Keep a verified, cosigned copy of a tlog-tiles log (C2SP tlog-mirror), polled or pushed
    /// (add-checkpoint, add-entries), and serve it at /<origin hash>/.
    Mirror(mirror::Args),
    /// Create or load a signer key file and print its verifier key (a log's, or with
    /// --cosigner a witness's), for provisioning before anything starts.
    Keygen(keygen::Args),
    /// Create, list and revoke API tokens through a running server's admin API.
    #[command(subcommand)]
    Token(token::Command),
    /// Emergency privileged access: open, approve, extend, close and review sessions; fetch
    /// verified incident reports; run the audit rules.
    #[command(subcommand)]
    Breakglass(breakglass::Command),
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
        Command::Monitor(args) => monitor::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Witness(args) => witness::run(&args),
        Command::Mirror(args) => mirror::run(&args),
        Command::Keygen(args) => keygen::run(&args),
        Command::Breakglass(cmd) => return client::exit(breakglass::run(&cmd)),
        Command::Submit {
            conn,
            data,
            text,
            wait,
            file,
            actor,
            action,
            resource,
            outcome,
            reason,
            session,
        } => {
            let from_flags = actor.map(|actor| {
                let mut e =
                    serde_json::json!({ "actor": actor, "action": action.unwrap_or_default() });
                for (k, v) in [
                    ("resource", resource),
                    ("outcome", outcome),
                    ("reason", reason),
                    ("breakglass_session", session),
                ] {
                    if let Some(v) = v {
                        e[k] = serde_json::Value::String(v);
                    }
                }
                e.to_string()
            });
            return client::exit(match file {
                Some(f) => client::submit_many(&conn, &f, wait),
                None => {
                    client::submit(&conn, from_flags.as_deref().or(data.as_deref()), text, wait)
                }
            });
        }
        Command::Get { conn, index } => return client::exit(client::get(&conn, index)),
        Command::Prove {
            conn,
            index,
            out,
            format,
        } => {
            return client::exit(client::prove(&conn, index, out.as_ref(), format));
        }
        Command::Verify {
            bundle,
            vkey,
            log_keys,
            policy,
            entry,
            witnesses,
            quorum,
        } => {
            let trust = conn::trust(&vkey, &log_keys, &witnesses, quorum, policy.as_deref());
            return client::exit(trust.and_then(|t| client::verify(&bundle, &t, entry.as_ref())));
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("glasslog: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::Parser as _;

    /// Token ids are base64url: one in 32 starts with `-`, and must still be an id.
    #[test]
    fn a_token_id_that_starts_with_a_dash_is_an_id() {
        let parsed =
            Cli::try_parse_from(["glasslog", "token", "revoke", "--token", "t", "-Ab_12cd"]);
        assert!(parsed.is_ok(), "{:?}", parsed.err());
    }
}
