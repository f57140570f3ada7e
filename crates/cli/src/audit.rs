//! `glasslog audit`: downloads every tile and entry bundle of a signed checkpoint, recomputes
//! the whole tree, compares it with the signature, and re-scans every entry with today's
//! detection rules (a secret that slipped in under older rules is reported). The state is a
//! compact range, so an interrupted audit resumes where it stopped.

use anyhow::{Context as _, Result, bail};
use glasslog_client::{Client, VerifiedCheckpoint};
use glasslog_ingest::{Detector, DetectorOptions};
use glasslog_merkle::{
    CompactRange, Hash, NodeId, TILE_HEIGHT, TILE_WIDTH, Tile, decode_entry_bundle, leaf_hash,
};
use serde_json::json;
use std::collections::HashMap;
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

struct State {
    checkpoint: String,
    next_tile: u64,
    range: CompactRange,
    findings: u64,
}

fn load(path: &Path, client: &Client) -> Result<Option<(VerifiedCheckpoint, State)>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let v: serde_json::Value = serde_json::from_str(&text).context("audit state is not JSON")?;
    let note = v["checkpoint"]
        .as_str()
        .context("audit state without checkpoint")?
        .to_owned();
    let cp = client.open_checkpoint(&note)?;
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
    let state = State {
        checkpoint: note,
        next_tile: v["next_tile"].as_u64().unwrap_or(0),
        range,
        findings: v["findings"].as_u64().unwrap_or(0),
    };
    Ok(Some((cp, state)))
}

fn save(path: &Path, s: &State) -> Result<()> {
    let body = json!({
        "checkpoint": s.checkpoint, "next_tile": s.next_tile, "range_size": s.range.size(),
        "range": s.range.hashes().iter().map(Hash::to_base64).collect::<Vec<_>>(), "findings": s.findings,
    });
    glasslog_log::durable::write_file(path, &serde_json::to_vec(&body)?, 0o600)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Runs the audit. Exit status 0 when everything verifies, 1 on findings of secrets, 4 when
/// the log's data does not match its signed checkpoint.
pub fn run(args: &Args) -> Result<ExitCode> {
    let client = args.conn.client()?;
    let (cp, mut state) = match load(&args.state, &client)? {
        Some(resumed) => {
            eprintln!("resuming at tile {}", resumed.1.next_tile);
            resumed
        }
        None => {
            let cp = client.checkpoint()?;
            let state = State {
                checkpoint: cp.note.clone(),
                next_tile: 0,
                range: CompactRange::new(),
                findings: 0,
            };
            (cp, state)
        }
    };
    let size = cp.checkpoint.size;
    let detector = Detector::new(&DetectorOptions::default())?;
    let width = u64::from(TILE_WIDTH);
    let tiles = size.div_ceil(width);
    let mut upper: HashMap<(u8, u64), Vec<u8>> = HashMap::new();
    let (started, mut entries, mut bytes) = (Instant::now(), 0u64, 0u64);
    let mut out = std::io::stdout().lock();
    while state.next_tile < tiles {
        let index = state.next_tile;
        let tile = Tile::at_size(0, index, size).context("tile outside the tree")?;
        let hashes = client.fetch(&tile.path())?;
        let bundle = client.fetch(&tile.entries_path())?;
        let items = decode_entry_bundle(&bundle)
            .map_err(|e| anyhow::anyhow!("first bad tile: {}: {e}", tile.entries_path()))?;
        if items.len() != usize::from(tile.width) || hashes.len() != items.len() * 32 {
            bail!(
                "first bad tile: {} holds {} entries for {} hashes in {}",
                tile.entries_path(),
                items.len(),
                hashes.len() / 32,
                tile.path()
            );
        }
        for (i, (entry, expected)) in items.iter().zip(hashes.chunks_exact(32)).enumerate() {
            let at = index * width + i as u64;
            let leaf = leaf_hash(entry);
            if leaf.0 != expected {
                eprintln!(
                    "glasslog audit: first bad tile: {} (entry {at} does not hash to its tile entry)",
                    tile.entries_path()
                );
                return Ok(ExitCode::from(4));
            }
            // Every perfect node at a tile level above 0 must equal the served upper tile.
            // Every perfect node at a tile level above 0 must equal the served upper tile. The
            // nodes are collected first so that fetching a tile can fail as an outage (`?`),
            // never be mistaken for tampering.
            let mut completed = Vec::new();
            state.range.append(leaf, |id: NodeId, h: &Hash| {
                if id.level > 0 && id.level.is_multiple_of(TILE_HEIGHT) {
                    completed.push((id, *h));
                }
            });
            for (id, h) in completed {
                let level = id.level / TILE_HEIGHT;
                let key = (level, id.index / width);
                let tile = match upper.entry(key) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        let t = Tile::at_size(level, key.1, size)
                            .context("upper tile outside the tree")?;
                        v.insert(client.fetch(&t.path())?)
                    }
                };
                let off = usize::try_from(id.index % width)?.saturating_mul(32);
                if tile.get(off..off + 32) != Some(&h.0[..]) {
                    eprintln!(
                        "glasslog audit: first bad tile: tile/{level}/{} does not match the entries below it (node at level {}, index {})",
                        key.1, id.level, id.index
                    );
                    return Ok(ExitCode::from(4));
                }
            }
            let text = String::from_utf8_lossy(entry);
            for m in detector.scan(&text) {
                state.findings += 1;
                writeln!(
                    out,
                    "finding: entry {at}: {} at bytes {}..{}",
                    detector.rules()[m.rule].id,
                    m.start,
                    m.end
                )?;
            }
            entries += 1;
            bytes += entry.len() as u64;
        }
        state.next_tile += 1;
        if state.next_tile % 64 == 0 || state.next_tile == tiles {
            save(&args.state, &state)?;
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "audit: tile {}/{tiles}, {:.0} entries/s, {:.1} MB/s",
                state.next_tile,
                entries as f64 / secs,
                bytes as f64 / secs / 1e6
            );
        }
    }
    if state.range.root() != cp.checkpoint.root {
        eprintln!(
            "glasslog audit: the recomputed root of {size} entries differs from the signed root"
        );
        return Ok(ExitCode::from(4));
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    writeln!(
        out,
        "audit OK: {size} entries, root matches the signed checkpoint; {} finding(s); {:.0} entries/s, {:.1} MB/s",
        state.findings,
        entries as f64 / secs,
        bytes as f64 / secs / 1e6
    )?;
    let _ = std::fs::remove_file(&args.state);
    Ok(if state.findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
