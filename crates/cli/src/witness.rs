//! `glasslog witness`: runs a C2SP tlog-witness for the logs it is told to trust.

use anyhow::{Context as _, Result, bail};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// `glasslog witness` arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(
        long,
        env = "GLASSLOG_WITNESS_LISTEN",
        default_value = "127.0.0.1:8081"
    )]
    listen: SocketAddr,
    /// The witness's name (its cosigning key's name), e.g. witness.example.com/w1.
    #[arg(long, env = "GLASSLOG_WITNESS_NAME")]
    name: String,
    /// The witness's signer key file; created (mode 0600) if missing.
    #[arg(long, default_value = "witness.key")]
    key: PathBuf,
    /// Where the last cosigned checkpoint of each log is kept.
    #[arg(long, default_value = "witness-state.json")]
    state: PathBuf,
    /// A log to witness, as ORIGIN=VKEY (repeatable).
    #[arg(long = "log", required = true)]
    logs: Vec<String>,
}

/// Runs the witness until SIGINT or SIGTERM.
pub fn run(args: &Args) -> Result<ExitCode> {
    let signer = glasslog_log::load_or_create_signer(&args.key, &args.name)?;
    let mut logs = Vec::new();
    for l in &args.logs {
        let Some((origin, vkey)) = l.split_once('=') else {
            bail!("--log takes ORIGIN=VKEY, got {l:?}")
        };
        logs.push((origin.to_owned(), vkey.to_owned()));
    }
    let witness = glasslog_api::witness::Witness::new(signer, &logs, args.state.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let listen = args.listen;
    // The signal handlers are installed inside the runtime, before the witness listens.
    runtime.block_on(async move {
        glasslog_api::witness::serve(
            witness,
            listen,
            |addr, vkey| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "glasslog witness: listening on http://{addr}");
                let _ = writeln!(out, "glasslog witness: cosigner key {vkey}");
                let _ = out.flush();
            },
            crate::serve::shutdown_signal(),
        )
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}
