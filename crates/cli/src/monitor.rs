//! `glasslog monitor`: follows a log's signed checkpoints through the C2SP tlog-tiles interface
//! only (GET /checkpoint and tiles), so it can watch any tiled log. Each new checkpoint must
//! verify and be consistent with the last good one, kept in a state file; a rollback or a fork
//! is reported with a distinct exit status and an optional webhook.

use anyhow::{Context as _, Result};
use glasslog_client::{Error as ClientError, Monitor, VerifiedCheckpoint};
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
    let last = match load_state(&args.state)? {
        Some(note) => Some(
            client
                .open_checkpoint(&note)
                .context("the state file's checkpoint does not verify with this key")?,
        ),
        None => None,
    };
    let mut monitor = Monitor::new(&client, last);
    loop {
        let before = monitor.last().map(|l| l.checkpoint.size);
        let mut print = |at: u64, entry: &[u8]| {
            if watch_rule.as_ref().is_some_and(|re| re.is_match(entry)) {
                // A closed stdout must not stop the monitor.
                let _ = writeln!(
                    std::io::stdout().lock(),
                    "watch: entry {at}: {}",
                    String::from_utf8_lossy(entry)
                );
            }
        };
        let each: Option<glasslog_client::EntrySink<'_>> = if watch_rule.is_some() {
            Some(&mut print)
        } else {
            None
        };
        match monitor.poll(each).map_err(classify) {
            Ok(cp) => {
                if before != Some(cp.checkpoint.size) {
                    writeln!(
                        std::io::stdout().lock(),
                        "ok: size {} root {}",
                        cp.checkpoint.size,
                        cp.checkpoint.root.to_base64()
                    )?;
                    save_state(&args.state, cp)?;
                }
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
