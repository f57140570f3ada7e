//! `glasslog mirror`: keeps a verified copy of another tlog-tiles log (ours or anyone's) and
//! serves it, cosigned, at `/<origin hash>/` (C2SP tlog-mirror), taking new checkpoints and
//! entries by polling the log or as they are pushed (`add-checkpoint`, `add-entries`).
//!
//! One thread polls the log as a monitor does: each new checkpoint must verify under the
//! log's keys and be consistent with the copy, every new entry is checked into the new root
//! through the log's tiles, and the copy then recomputes the root from its own tree before it
//! stores anything or cosigns. A rollback or fork is reported and the last good copy stays
//! served.

use anyhow::{Context as _, Result};
use glasslog_client::{Error as ClientError, Monitor, VerifiedCheckpoint};
use glasslog_merkle::{Checkpoint, EMPTY_ROOT};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `glasslog mirror` arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The log to mirror, and how to trust it (`--url`, `--vkey`, `--log-key`, `--token`).
    #[command(flatten)]
    conn: crate::conn::Conn,
    /// Address to serve the copy on.
    #[arg(long, env = "GLASSLOG_MIRROR_LISTEN", default_value = "127.0.0.1:8082")]
    listen: SocketAddr,
    /// The mirror's name (its cosigning key's name), e.g. mirror.example.com/m1.
    #[arg(long, env = "GLASSLOG_MIRROR_NAME")]
    name: String,
    /// The mirror's Ed25519 signer key file; created (mode 0600) if missing.
    #[arg(long, default_value = "mirror.key")]
    key: PathBuf,
    /// The mirror's ML-DSA-44 signer key file, with `--algorithms ed25519,ml-dsa-44`; created
    /// (mode 0600) if missing.
    #[arg(long, default_value = "mirror-mldsa.key")]
    mldsa_key: PathBuf,
    /// Which cosignatures to add: ed25519 (`cosignature/v1`, always), and ml-dsa-44
    /// (`subtree/v1`) beside it (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "ed25519")]
    algorithms: Vec<crate::keygen::Algorithm>,
    /// Where the copy is kept (a RocksDB directory).
    #[arg(long, default_value = "glasslog-mirror")]
    data: PathBuf,
    /// Seconds between polls of the log.
    #[arg(long, default_value_t = 10)]
    interval: u64,
    /// Do not poll the log: take checkpoints and entries only as they are pushed to
    /// `POST /add-checkpoint` and `POST /add-entries` (the log's URL is then unused).
    #[arg(long)]
    no_pull: bool,
}

/// Mirrors the log until SIGINT or SIGTERM.
pub fn run(args: &Args) -> Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GLASSLOG_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let client = args.conn.client()?;
    let cosigner = glasslog_log::load_or_create_signer(&args.key, &args.name)?;
    let store = glasslog_log::RocksStore::open(&args.data, &glasslog_log::RocksOptions::default())
        .with_context(|| format!("cannot open {}", args.data.display()))?;
    let mut log_keys = vec![args.conn.vkey().to_owned()];
    log_keys.extend(args.conn.log_keys().iter().cloned());
    let origin = client.trust().origin().to_owned();
    let mut mirror = glasslog_log::Mirror::open(Arc::new(store), &origin, &log_keys, cosigner)?;
    if args.algorithms.contains(&crate::keygen::Algorithm::MlDsa44) {
        mirror = mirror.with_mldsa(glasslog_log::load_or_create_mldsa_signer(
            &args.mldsa_key,
            &args.name,
        )?)?;
    }
    let mirror = Arc::new(mirror);
    let stop = Arc::new(AtomicBool::new(false));
    let puller = if args.no_pull {
        None
    } else {
        let (mirror, stop) = (Arc::clone(&mirror), Arc::clone(&stop));
        let interval = Duration::from_secs(args.interval.max(1));
        Some(
            std::thread::Builder::new()
                .name("glasslog-mirror-pull".into())
                .spawn(move || pull(&client, &mirror, interval, &stop))
                .context("cannot start the mirror thread")?,
        )
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let mirrors = Arc::new(glasslog_api::mirror::Mirrors::new([Arc::clone(&mirror)]));
    let path = glasslog_api::mirror::origin_hash(&origin);
    let vkeys = mirror.cosigner_vkeys();
    let listen = args.listen;
    // The signal handlers are installed inside the runtime, before the mirror listens.
    let served = runtime.block_on(async move {
        glasslog_api::mirror::serve(
            mirrors,
            listen,
            |addr| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "glasslog mirror: listening on http://{addr}");
                let _ = writeln!(out, "glasslog mirror: {origin} at http://{addr}/{path}/");
                for vkey in &vkeys {
                    let _ = writeln!(out, "glasslog mirror: cosigner key {vkey}");
                }
                let _ = out.flush();
            },
            crate::serve::shutdown_signal(),
        )
        .await
    });
    stop.store(true, Ordering::Relaxed);
    if let Some(p) = puller {
        let _ = p.join();
    }
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Polls until `stop`, extending the copy after each new checkpoint.
fn pull(
    client: &glasslog_client::Client,
    mirror: &glasslog_log::Mirror,
    interval: Duration,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        match pull_once(client, mirror) {
            Ok(Some(size)) => tracing::info!(size, "mirrored"),
            Ok(None) => {}
            // Evidence against the log (or whoever serves it): keep the copy as it was, say
            // so loudly, and keep watching.
            Err(e) => tracing::error!(error = %e, "not mirrored"),
        }
        let mut slept = Duration::ZERO;
        while slept < interval && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(200));
            slept += Duration::from_millis(200);
        }
    }
}

/// One poll: the new size, if the copy grew (or was first made).
fn pull_once(
    client: &glasslog_client::Client,
    mirror: &glasslog_log::Mirror,
) -> Result<Option<u64>> {
    let published = mirror.checkpoint();
    let had = published.is_some();
    let last = match published {
        Some(cp) => client.open_checkpoint(&cp.note)?,
        // Nothing mirrored yet: follow the log from its first entry.
        None => VerifiedCheckpoint {
            checkpoint: Checkpoint::new(mirror.origin(), 0, EMPTY_ROOT),
            note: String::new(),
        },
    };
    let from = last.checkpoint.size;
    let mut monitor = Monitor::new(client, Some(last));
    let mut entries = Vec::new();
    let new = match monitor.poll(Some(&mut |_, entry: &[u8]| entries.push(entry.to_vec()))) {
        Ok(new) => new.clone(),
        Err(ClientError::Unwitnessed { .. } | ClientError::PolicyNotMet(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if had && new.checkpoint.size == from {
        return Ok(None);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let cp = mirror.extend(&new.note, from, &entries, now)?;
    Ok(Some(cp.size))
}
