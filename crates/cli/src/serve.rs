//! `glasslog serve`: the embedded default, a TOML file, environment variables and flags, in
//! increasing precedence.

use anyhow::{Context as _, Result};
use glasslog_api::ServerConfig;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// `glasslog serve` arguments.
#[derive(clap::Args)]
pub struct Args {
    /// A TOML configuration file (see glasslog.example.toml).
    #[arg(long, env = "GLASSLOG_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "GLASSLOG_LISTEN")]
    listen: Option<SocketAddr>,
    /// Data directory.
    #[arg(long, env = "GLASSLOG_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The log's origin line.
    #[arg(long, env = "GLASSLOG_ORIGIN")]
    origin: Option<String>,
    /// Keep the log in PostgreSQL instead of the embedded RocksDB: a connection string
    /// (`postgres://user@host/db`, libpq multi-host, or `key=value`).
    #[arg(long, env = "GLASSLOG_STORE", hide_env_values = true)]
    store: Option<String>,
}

/// Starts the server and runs until SIGINT or SIGTERM.
pub fn run(args: &Args) -> Result<ExitCode> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GLASSLOG_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut config = match &args.config {
        Some(p) => ServerConfig::from_toml(
            &std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        None => ServerConfig::default(),
    };
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if let Some(d) = &args.data_dir {
        config.data_dir = d.clone();
    }
    if let Some(url) = &args.store {
        config.store = Some(url.clone());
    }
    if let Some(o) = &args.origin {
        config.origin = o.clone();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        let on_start = |s: &glasslog_api::Started| {
            // One line a script can read: tests start the server on port 0 and parse it.
            let mut out = std::io::stdout().lock();
            let scheme = if s.tls { "https" } else { "http" };
            let _ = writeln!(out, "glasslog: listening on {scheme}://{}", s.addr);
            let _ = writeln!(out, "glasslog: verifier key {}", s.verifier_key);
            if let Some(k) = &s.mldsa_verifier_key {
                let _ = writeln!(out, "glasslog: ML-DSA-44 verifier key {k}");
            }
            if let Some(f) = &s.admin_token_file {
                let _ = writeln!(
                    out,
                    "glasslog: first start: admin token written to {}",
                    f.display()
                );
            }
            let _ = out.flush();
        };
        glasslog_api::serve(config, on_start, shutdown_signal()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled: a SIGTERM that arrives right after the server says it is
/// listening must shut it down gracefully, not kill it. Call it inside the runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(int) => {}
            () = wait(term) => {}
        }
        tracing::info!("shutdown requested: finishing in-flight requests");
    }
}
