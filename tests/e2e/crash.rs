//! Crash safety: the real server under concurrent load is killed with SIGKILL at random
//! moments (during batches, group commits, checkpoint signing, RocksDB flushes and
//! compactions) and restarted. After every restart: each acknowledged entry is at its index
//! with its bytes, every checkpoint any client saw is consistent with the recovered tree (so
//! none was published for entries that were not durable), and at the end the whole tree
//! recomputes to the signed root. `GLASSLOG_CRASH_CYCLES=300` runs the long version.

use crate::Server;
use glasslog_client::{Client, VerifiedCheckpoint};
use glasslog_merkle::Hash;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn sigkill_under_load_loses_nothing_acknowledged() {
    let cycles: u64 = std::env::var("GLASSLOG_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let acked: Arc<Mutex<BTreeMap<u64, Hash>>> = Arc::default();
    // Checkpoints seen since the last restart, and the head recovered at the last restart:
    // consistency is transitive, so each restart checks only these against the new head.
    let mut seen: Vec<VerifiedCheckpoint> = Vec::new();
    let mut last_head: Option<VerifiedCheckpoint> = None;
    let mut checked: BTreeMap<u64, Hash> = BTreeMap::new();
    let mut seen_total = 0usize;
    let seq = Arc::new(AtomicU64::new(0));
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let started = Instant::now();
    for cycle in 0..=cycles {
        let s = Server::start(&data);
        let client = Client::new(&s.base, &s.vkey, Some(s.admin.clone())).unwrap();
        let head = check_since(
            &client,
            &acked,
            &mut checked,
            last_head.iter().chain(&seen),
            cycle,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        seen_total += seen.len();
        seen.clear();
        last_head = Some(head);
        if cycle == cycles {
            // Final: recompute the whole tree from tiles and bundles against the signature.
            let state = tmp.path().join("audit.json");
            let (code, _, err) = crate::server::run_cli(
                &s.base,
                &s.vkey,
                &s.admin,
                &["audit", "--state", state.to_str().unwrap()],
            );
            assert_eq!(code, Some(0), "audit after {cycles} crashes: {err}");
            println!(
                "crash test: {cycles} SIGKILL cycles, {} acknowledged entries, {} checkpoints seen, {:.1} s",
                acked.lock().unwrap().len(),
                seen_total,
                started.elapsed().as_secs_f64()
            );
            break;
        }
        // Load: submitters (singles and batches) and a checkpoint watcher, until the kill.
        let load = Load::start(&s.base, &s.vkey, &s.admin, &acked, &seq);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(30 + rng % 400));
        s.kill();
        seen.extend(load.stop());
    }
}

/// After a restart: [`check_recovered`] on every entry acknowledged since the last check and
/// a sample of the older ones, which are then counted as checked.
pub(crate) fn check_since<'a>(
    client: &Client,
    acked: &Mutex<BTreeMap<u64, Hash>>,
    checked: &mut BTreeMap<u64, Hash>,
    seen: impl Iterator<Item = &'a VerifiedCheckpoint>,
    cycle: u64,
) -> Result<VerifiedCheckpoint, String> {
    let fresh: BTreeMap<u64, Hash> = acked
        .lock()
        .unwrap()
        .iter()
        .filter(|(i, _)| !checked.contains_key(i))
        .map(|(i, h)| (*i, *h))
        .collect();
    let sample: BTreeMap<u64, Hash> = checked
        .iter()
        .step_by(checked.len() / 200 + 1)
        .map(|(i, h)| (*i, *h))
        .collect();
    let head = check_recovered(client, &fresh, &sample, seen, cycle)?;
    checked.extend(fresh);
    Ok(head)
}

/// After a restart: the entries acknowledged since the last check (and a sample of older
/// ones) are there, unchanged, and every given checkpoint is consistent with the recovered
/// head, which is returned. An `Err` says what was lost or forked.
pub(crate) fn check_recovered<'a>(
    client: &Client,
    fresh: &BTreeMap<u64, Hash>,
    sample: &BTreeMap<u64, Hash>,
    seen: impl Iterator<Item = &'a VerifiedCheckpoint>,
    cycle: u64,
) -> Result<VerifiedCheckpoint, String> {
    let current = client
        .checkpoint()
        .map_err(|e| format!("cycle {cycle}: no valid checkpoint after restart: {e}"))?;
    let size = current.checkpoint.size;
    if let Some((&last, _)) = fresh.iter().next_back()
        && last >= size
    {
        return Err(format!(
            "cycle {cycle}: acknowledged entry {last} is beyond the recovered size {size}"
        ));
    }
    // Read in 256-entry ranges, only the windows that hold an index to check.
    let windows: std::collections::BTreeSet<u64> =
        fresh.keys().chain(sample.keys()).map(|i| i / 256).collect();
    for w in windows {
        let (start, end) = (w * 256, size.min(w * 256 + 256));
        let entries = client
            .entries(start, end)
            .map_err(|e| format!("cycle {cycle}: entries {start}..{end}: {e}"))?;
        for e in entries {
            if let Some(h) = fresh.get(&e.index).or_else(|| sample.get(&e.index))
                && &e.leaf_hash != h
            {
                return Err(format!("cycle {cycle}: entry {} changed", e.index));
            }
        }
    }
    // Distinct sizes only: the watcher saw many copies of the same checkpoint.
    let mut by_size: BTreeMap<u64, &VerifiedCheckpoint> = BTreeMap::new();
    for cp in seen {
        if let Some(prev) = by_size.insert(cp.checkpoint.size, cp)
            && prev.checkpoint.root != cp.checkpoint.root
        {
            return Err(format!(
                "cycle {cycle}: two roots for size {}",
                cp.checkpoint.size
            ));
        }
    }
    for cp in by_size.values() {
        if cp.checkpoint.size > size {
            return Err(format!(
                "cycle {cycle}: a checkpoint of size {} was published but only {size} entries survived",
                cp.checkpoint.size
            ));
        }
        client.prove_consistency(cp, &current).map_err(|e| {
            format!(
                "cycle {cycle}: checkpoint {} is not consistent after restart: {e}",
                cp.checkpoint.size
            )
        })?;
    }
    Ok(current)
}

/// Concurrent load on a server until [`Load::stop`]: two writers of single entries, two of
/// 50-entry batches (each acknowledgement recorded in `acked`), and a checkpoint watcher.
pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    workers: Vec<std::thread::JoinHandle<()>>,
    seen: Arc<Mutex<Vec<VerifiedCheckpoint>>>,
}

impl Load {
    pub(crate) fn start(
        base: &str,
        vkey: &str,
        token: &str,
        acked: &Arc<Mutex<BTreeMap<u64, Hash>>>,
        seq: &Arc<AtomicU64>,
    ) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let seen: Arc<Mutex<Vec<VerifiedCheckpoint>>> = Arc::default();
        let mut workers = Vec::new();
        for w in 0..4u64 {
            let (base, vkey, token) = (base.to_owned(), vkey.to_owned(), token.to_owned());
            let (acked, seq, stop) = (Arc::clone(acked), Arc::clone(seq), Arc::clone(&stop));
            workers.push(std::thread::spawn(move || {
                let c = Client::new(&base, &vkey, Some(token)).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    if w % 2 == 0 {
                        let n = seq.fetch_add(1, Ordering::Relaxed);
                        if let Ok(sub) = c.submit(format!(r#"{{"actor":"w{w}","action":"write","resource":"r{n}"}}"#).as_bytes(), true, false) {
                            acked.lock().unwrap().insert(sub.index, sub.leaf_hash);
                        }
                    } else {
                        let nd: String = (0..50)
                            .map(|_| format!("{{\"actor\":\"b{w}\",\"action\":\"write\",\"resource\":\"r{}\"}}\n", seq.fetch_add(1, Ordering::Relaxed)))
                            .collect();
                        if let Ok(results) = c.submit_batch(nd.as_bytes()) {
                            let mut a = acked.lock().unwrap();
                            for r in results {
                                if let (Some(i), Some(h)) = (r["index"].as_u64(), r["leaf_hash"].as_str().and_then(|h| Hash::from_base64(h).ok())) {
                                    a.insert(i, h);
                                }
                            }
                        }
                    }
                }
            }));
        }
        {
            let (base, vkey, stop, seen_now) = (
                base.to_owned(),
                vkey.to_owned(),
                Arc::clone(&stop),
                Arc::clone(&seen),
            );
            workers.push(std::thread::spawn(move || {
                let c = Client::new(&base, &vkey, None).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(cp) = c.checkpoint() {
                        seen_now.lock().unwrap().push(cp);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }));
        }
        Load {
            stop,
            workers,
            seen,
        }
    }

    /// Stops the load (after the server is gone, so no acknowledgement is missed) and returns
    /// the checkpoints the watcher saw.
    pub(crate) fn stop(self) -> Vec<VerifiedCheckpoint> {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            let _ = w.join();
        }
        let mut seen = self.seen.lock().unwrap();
        seen.drain(..).collect()
    }
}
