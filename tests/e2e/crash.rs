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
        let head = {
            let acked = acked.lock().unwrap();
            let fresh: BTreeMap<u64, Hash> = acked
                .iter()
                .filter(|(i, _)| !checked.contains_key(i))
                .map(|(i, h)| (*i, *h))
                .collect();
            // Every entry acknowledged since the last check, and a sample of the older ones.
            let sample: BTreeMap<u64, Hash> = checked
                .iter()
                .step_by(checked.len() / 200 + 1)
                .map(|(i, h)| (*i, *h))
                .collect();
            let head = check_recovered(
                &client,
                &fresh,
                &sample,
                last_head.iter().chain(&seen),
                cycle,
            );
            checked.extend(fresh);
            head
        };
        seen_total += seen.len();
        seen.clear();
        last_head = Some(head);
        if cycle == cycles {
            // Final: recompute the whole tree from tiles and bundles against the signature.
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_glasslog"))
                .args([
                    "audit",
                    "--state",
                    tmp.path().join("audit.json").to_str().unwrap(),
                ])
                .env("GLASSLOG_URL", &s.base)
                .env("GLASSLOG_VKEY", &s.vkey)
                .env("GLASSLOG_TOKEN", &s.admin)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "audit after {cycles} crashes: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            println!(
                "crash test: {cycles} SIGKILL cycles, {} acknowledged entries, {} checkpoints seen, {:.1} s",
                acked.lock().unwrap().len(),
                seen_total,
                started.elapsed().as_secs_f64()
            );
            break;
        }
        // Load: submitters (singles and batches) and a checkpoint watcher, until the kill.
        let stop = Arc::new(AtomicBool::new(false));
        let seen_now: Arc<Mutex<Vec<VerifiedCheckpoint>>> = Arc::default();
        let mut workers = Vec::new();
        for w in 0..4u64 {
            let (base, vkey, token) = (s.base.clone(), s.vkey.clone(), s.admin.clone());
            let (acked, seq, stop) = (Arc::clone(&acked), Arc::clone(&seq), Arc::clone(&stop));
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
                s.base.clone(),
                s.vkey.clone(),
                Arc::clone(&stop),
                Arc::clone(&seen_now),
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
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(30 + rng % 400));
        s.kill();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            let _ = w.join();
        }
        seen.extend(seen_now.lock().unwrap().drain(..));
    }
}

/// After a restart: the entries acknowledged since the last check (and a sample of older
/// ones) are there, unchanged, and every given checkpoint is consistent with the recovered
/// head, which is returned.
fn check_recovered<'a>(
    client: &Client,
    fresh: &BTreeMap<u64, Hash>,
    sample: &BTreeMap<u64, Hash>,
    seen: impl Iterator<Item = &'a VerifiedCheckpoint>,
    cycle: u64,
) -> VerifiedCheckpoint {
    let current = client.checkpoint().unwrap();
    let size = current.checkpoint.size;
    if let Some((&last, _)) = fresh.iter().next_back() {
        assert!(
            last < size,
            "cycle {cycle}: acknowledged entry {last} is beyond the recovered size {size}"
        );
    }
    // Read in 256-entry ranges, only the windows that hold an index to check.
    let windows: std::collections::BTreeSet<u64> =
        fresh.keys().chain(sample.keys()).map(|i| i / 256).collect();
    for w in windows {
        let (start, end) = (w * 256, size.min(w * 256 + 256));
        for e in client
            .entries(start, end)
            .unwrap_or_else(|e| panic!("cycle {cycle}: entries {start}..{end}: {e}"))
        {
            if let Some(h) = fresh.get(&e.index).or_else(|| sample.get(&e.index)) {
                assert_eq!(&e.leaf_hash, h, "cycle {cycle}: entry {} changed", e.index);
            }
        }
    }
    // Distinct sizes only: the watcher saw many copies of the same checkpoint.
    let mut by_size: BTreeMap<u64, &VerifiedCheckpoint> = BTreeMap::new();
    for cp in seen {
        if let Some(prev) = by_size.insert(cp.checkpoint.size, cp) {
            assert_eq!(
                prev.checkpoint.root, cp.checkpoint.root,
                "cycle {cycle}: two roots for size {}",
                cp.checkpoint.size
            );
        }
    }
    for cp in by_size.values() {
        assert!(
            cp.checkpoint.size <= size,
            "cycle {cycle}: a checkpoint of size {} was published but only {size} entries survived",
            cp.checkpoint.size
        );
        client.prove_consistency(cp, &current).unwrap_or_else(|e| {
            panic!(
                "cycle {cycle}: checkpoint {} is not consistent after restart: {e}",
                cp.checkpoint.size
            )
        });
    }
    current
}
