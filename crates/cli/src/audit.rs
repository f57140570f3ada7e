//! `glasslog audit`: downloads every tile and entry bundle of a signed checkpoint, recomputes
//! the whole tree, compares it with the signature, and re-scans every entry with today's
//! detection rules (a secret that slipped in under older rules is reported). The state is a
//! compact range, so an interrupted audit resumes where it stopped.

use anyhow::{Context as _, Result};
use glasslog_client::{AuditState, Auditor, Client, Error as ClientError};
use glasslog_ingest::{Detector, DetectorOptions};
use glasslog_merkle::{CompactRange, Hash};
use serde_json::json;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// `glasslog audit` arguments.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: crate::conn::Conn,
    /// Progress and resume state.
    #[arg(long, default_value = "glasslog-audit.json")]
    state: PathBuf,
}

/// What the state file holds: the library's audit state and the findings so far.
struct Saved {
    audit: AuditState,
    findings: u64,
}

fn load(path: &Path, client: &Client) -> Result<Option<Saved>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let v: serde_json::Value = serde_json::from_str(&text).context("audit state is not JSON")?;
    let note = v["checkpoint"]
        .as_str()
        .context("audit state without checkpoint")?
        .to_owned();
    let checkpoint = client.open_checkpoint(&note)?;
    let hashes: Vec<Hash> = v["range"]
        .as_array()
        .context("audit state without range")?
        .iter()
        .filter_map(|h| h.as_str().and_then(|h| Hash::from_base64(h).ok()))
        .collect();
    let size = v["range_size"]
        .as_u64()
        .context("audit state without size")?;
    let range =
        CompactRange::from_parts(size, hashes).context("audit state has a malformed range")?;
    Ok(Some(Saved {
        audit: AuditState {
            checkpoint,
            next_tile: v["next_tile"].as_u64().unwrap_or(0),
            range,
        },
        findings: v["findings"].as_u64().unwrap_or(0),
    }))
}

fn save(path: &Path, audit: &AuditState, findings: u64) -> Result<()> {
    let body = json!({
        "checkpoint": audit.checkpoint.note, "next_tile": audit.next_tile,
        "range_size": audit.range.size(),
        "range": audit.range.hashes().iter().map(Hash::to_base64).collect::<Vec<_>>(),
        "findings": findings,
    });
    glasslog_log::durable::write_file(path, &serde_json::to_vec(&body)?, 0o600)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Runs the audit. Exit status 0 when everything verifies, 1 on findings of secrets, 4 when
/// the log's data does not match its signed checkpoint.
pub fn run(args: &Args) -> Result<ExitCode> {
    let client = args.conn.client()?;
    let (audit, mut findings) = match load(&args.state, &client)? {
        Some(saved) => {
            eprintln!("resuming at tile {}", saved.audit.next_tile);
            (saved.audit, saved.findings)
        }
        None => (Auditor::start(client.checkpoint()?), 0),
    };
    let size = audit.checkpoint.checkpoint.size;
    let mut auditor = Auditor::new(&client, audit);
    let detector = Detector::new(&DetectorOptions::default())?;
    let tiles = auditor.tiles();
    let (started, mut entries, mut bytes, mut sealed) = (Instant::now(), 0u64, 0u64, 0u64);
    let mut out = std::io::stdout().lock();
    let mut failed: Option<std::io::Error> = None;
    while !auditor.is_done() {
        let mut scan = |at: u64, entry: &[u8]| {
            entries += 1;
            bytes += entry.len() as u64;
            // A log encrypted at rest serves sealed records: ciphertext, nothing to re-scan
            // (the tree over them is still recomputed and checked).
            if glasslog_log::seal::is_sealed(entry) {
                sealed += 1;
                return;
            }
            let text = String::from_utf8_lossy(entry);
            for m in detector.scan(&text) {
                findings += 1;
                if let Err(e) = writeln!(
                    out,
                    "finding: entry {at}: {} at bytes {}..{}",
                    detector.rules()[m.rule].id,
                    m.start,
                    m.end
                ) {
                    failed.get_or_insert(e);
                }
            }
        };
        match auditor.next_tile(&mut scan) {
            Ok(()) => {}
            Err(ClientError::Lied(m)) => {
                eprintln!("glasslog audit: {m}");
                return Ok(ExitCode::from(4));
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(e) = failed.take() {
            return Err(e.into());
        }
        let next = auditor.state().next_tile;
        if next % 64 == 0 || next == tiles {
            save(&args.state, auditor.state(), findings)?;
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "audit: tile {next}/{tiles}, {:.0} entries/s, {:.1} MB/s",
                entries as f64 / secs,
                bytes as f64 / secs / 1e6
            );
        }
    }
    if let Err(e) = auditor.finish() {
        eprintln!("glasslog audit: {e}");
        return Ok(ExitCode::from(4));
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    writeln!(
        out,
        "audit OK: {size} entries, root matches the signed checkpoint; {findings} finding(s){}; {:.0} entries/s, {:.1} MB/s",
        if sealed > 0 {
            format!(" ({sealed} sealed entries verified, not re-scanned: encrypted at rest)")
        } else {
            String::new()
        },
        entries as f64 / secs,
        bytes as f64 / secs / 1e6
    )?;
    let _ = std::fs::remove_file(&args.state);
    Ok(if findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
