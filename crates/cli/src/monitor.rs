//! `glasslog monitor`: follows a log's signed checkpoints through the C2SP tlog-tiles interface
//! only (GET /checkpoint and tiles), so it can watch any tiled log. Each new checkpoint must
//! verify and be consistent with the last good one, kept in a state file; a rollback or a fork
//! is reported with a distinct exit status and an optional webhook.

use anyhow::{Context as _, Result};
use glasslog_client::{Client, Error as ClientError, TileFetcher, VerifiedCheckpoint};
use glasslog_merkle::{
    TILE_WIDTH, Tile, consistency_proof, decode_entry_bundle, leaf_hash, verify_consistency,
};
use serde_json::json;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Exit status when the log cannot be reached.
pub const EXIT_UNREACHABLE: u8 = 3;
/// Exit status when the log contradicts itself (bad signature, rollback, fork, bad proof).
pub const EXIT_INCONSISTENT: u8 = 4;

/// `glasslog monitor` arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: crate::conn::Conn,
    /// Where the last good checkpoint is kept.
    #[arg(long, default_value = "glasslog-monitor.json")]
    state: PathBuf,
    /// Seconds between polls.
    #[arg(long, default_value_t = 30)]
    interval: u64,
    /// Poll once and exit.
    #[arg(long)]
    once: bool,
    /// Report new entries whose bytes match this regex (reads entry bundles).
    #[arg(long)]
    watch: Option<String>,
    /// POST a JSON report here when something is wrong.
    #[arg(long)]
    webhook: Option<String>,
}

#[derive(Debug)]
enum Trouble {
    Unreachable(String),
    Inconsistent(String),
}

fn load_state(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let v: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a monitor state file", path.display()))?;
            Ok(v["checkpoint"].as_str().map(str::to_owned))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn save_state(path: &Path, cp: &VerifiedCheckpoint) -> Result<()> {
    let body = json!({ "checkpoint": cp.note, "size": cp.checkpoint.size, "root": cp.checkpoint.root.to_base64() });
    // The last verified head is what detects a rollback: it must survive a power loss.
    glasslog_log::durable::write_file(path, &serde_json::to_vec_pretty(&body)?, 0o600)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn classify(e: ClientError) -> Trouble {
    match e {
        ClientError::Lied(m) => Trouble::Inconsistent(m),
        // A checkpoint the witnesses have not cosigned yet is not one to follow: wait for it.
        other => Trouble::Unreachable(other.to_string()),
    }
}

/// One poll: returns the new good checkpoint, or what is wrong.
fn poll(
    client: &Client,
    watch_rule: Option<&regex::bytes::Regex>,
    last: Option<&VerifiedCheckpoint>,
) -> std::result::Result<VerifiedCheckpoint, Trouble> {
    let new = client.checkpoint().map_err(classify)?;
    let Some(old) = last else { return Ok(new) };
    let (m, n) = (old.checkpoint.size, new.checkpoint.size);
    if n < m {
        return Err(Trouble::Inconsistent(format!(
            "rollback: the log went from size {m} to size {n}"
        )));
    }
    if n == m {
        if new.checkpoint.root != old.checkpoint.root {
            return Err(Trouble::Inconsistent(format!(
                "fork: two different roots for size {n}"
            )));
        }
        return Ok(new);
    }
    // Proofs are built here from the new tree's tiles, not asked of the log.
    let tiles = TileFetcher::new(client, &new);
    if m > 0 {
        let proof = consistency_proof(m, n, &tiles)
            .map_err(|e| Trouble::Unreachable(format!("reading tiles: {e}")))?;
        verify_consistency(m, n, &proof, &old.checkpoint.root, &new.checkpoint.root).map_err(
            |e| {
                Trouble::Inconsistent(format!(
                    "fork: size {n} does not extend the checkpoint of size {m}: {e}"
                ))
            },
        )?;
    }
    if let Some(re) = watch_rule {
        watch(client, &tiles, &new, m, re)?;
    }
    Ok(new)
}

/// Reads the new entries from bundles, checks them against the level-0 tiles, which are
/// checked into the signed root first, and prints those matching the watch rule. A tile or a
/// bundle that does not match is an inconsistency, not an outage.
fn watch(
    client: &Client,
    tiles: &TileFetcher<'_>,
    cp: &VerifiedCheckpoint,
    from: u64,
    re: &regex::bytes::Regex,
) -> std::result::Result<(), Trouble> {
    let n = cp.checkpoint.size;
    let width = u64::from(TILE_WIDTH);
    let mut out = std::io::stdout().lock();
    for index in from / width..n.div_ceil(width) {
        let Some(tile) = Tile::at_size(0, index, n) else {
            break;
        };
        let hashes = tiles.verified_leaves(index, cp).map_err(classify)?;
        let bundle = client.fetch(&tile.entries_path()).map_err(classify)?;
        let entries = decode_entry_bundle(&bundle)
            .map_err(|e| Trouble::Inconsistent(format!("{}: {e}", tile.entries_path())))?;
        if entries.len() != hashes.len() {
            return Err(Trouble::Inconsistent(format!(
                "{} does not match {}",
                tile.entries_path(),
                tile.path()
            )));
        }
        for ((entry, hash), at) in entries.iter().zip(&hashes).zip(index * width..) {
            if leaf_hash(entry) != *hash {
                return Err(Trouble::Inconsistent(format!(
                    "entry {at} does not hash to its tile"
                )));
            }
            if at >= from && re.is_match(entry) {
                // A closed stdout must not stop the monitor.
                let _ = writeln!(out, "watch: entry {at}: {}", String::from_utf8_lossy(entry));
            }
        }
    }
    Ok(())
}

fn notify(webhook: Option<&str>, status: &str, message: &str, url: &str) {
    if let Some(hook) = webhook {
        let body = json!({ "log": url, "status": status, "message": message });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        if let Err(e) = agent
            .post(hook)
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes())
        {
            eprintln!("glasslog monitor: webhook failed: {e}");
        }
    }
}

/// Runs the monitor.
pub fn run(args: &Args) -> Result<ExitCode> {
    let client = args.conn.client()?;
    let watch_rule = args
        .watch
        .as_deref()
        .map(regex::bytes::Regex::new)
        .transpose()
        .context("--watch is not a valid regex")?;
    let mut last = match load_state(&args.state)? {
        Some(note) => Some(
            client
                .open_checkpoint(&note)
                .context("the state file's checkpoint does not verify with this key")?,
        ),
        None => None,
    };
    loop {
        match poll(&client, watch_rule.as_ref(), last.as_ref()) {
            Ok(cp) => {
                let grew = last
                    .as_ref()
                    .is_none_or(|l| l.checkpoint.size != cp.checkpoint.size);
                if grew {
                    let mut out = std::io::stdout().lock();
                    writeln!(
                        out,
                        "ok: size {} root {}",
                        cp.checkpoint.size,
                        cp.checkpoint.root.to_base64()
                    )?;
                    save_state(&args.state, &cp)?;
                }
                last = Some(cp);
            }
            Err(Trouble::Inconsistent(m)) => {
                eprintln!("glasslog monitor: INCONSISTENT: {m}");
                notify(args.webhook.as_deref(), "inconsistent", &m, args.conn.url());
                return Ok(ExitCode::from(EXIT_INCONSISTENT));
            }
            Err(Trouble::Unreachable(m)) => {
                eprintln!("glasslog monitor: unreachable: {m}");
                if args.once {
                    notify(args.webhook.as_deref(), "unreachable", &m, args.conn.url());
                    return Ok(ExitCode::from(EXIT_UNREACHABLE));
                }
            }
        }
        if args.once {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs(args.interval.max(1)));
    }
}
