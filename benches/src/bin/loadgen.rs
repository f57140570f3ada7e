//! glasslog's load generator: many connections against a running server, closed loop (as fast
//! as answers come) or open loop (a fixed offered rate, latency measured from when each
//! request was due, so a stalled server cannot hide its queueing). Prints one JSON line.
#![allow(
    clippy::print_stdout,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    reason = "a command-line tool"
)]

use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Mode {
    /// POST /v1/entries, one entry per request.
    Submit,
    /// POST /v1/entries/batch with --batch entries per request.
    Batch,
    /// POST /v1/entries?wait=checkpoint: submit to signed checkpoint and proof.
    Wait,
    /// GET /v1/proofs/inclusion at random indices of the current tree.
    Proof,
    /// GET /v1/proofs/inclusion by leaf hash (the hashes are read from tiles first).
    ProofByHash,
    /// GET a random full or partial level-0 tile.
    Tile,
    /// Per request at random: 40% single submissions, 10% batches, 30% proofs by index,
    /// 20% tiles (services writing while monitors and auditors read).
    Mixed,
    /// GET --path over and over: an anchor's static file (nginx serving 1 KiB).
    Get,
}

#[derive(Parser, Debug)]
#[command(about = "Load generator for a glasslog server")]
struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Bearer token (a submitter or admin for writes).
    #[arg(long, env = "GLASSLOG_TOKEN", default_value = "")]
    token: String,
    #[arg(long, value_enum)]
    mode: Mode,
    /// Concurrent connections (one thread each).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Entries per batch request.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Bytes per entry (JSON event padded to this size).
    #[arg(long, default_value_t = 1024)]
    entry_bytes: usize,
    /// Offered requests per second across all connections (open loop); 0 = closed loop.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Server process ID, to report its resident memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Every this many seconds, print a progress line (JSON) with the throughput and errors of
    /// the interval and the server's RSS: a soak test's memory over time. 0 = only the summary.
    #[arg(long, default_value_t = 0)]
    report_every: u64,
    /// The path `--mode get` asks for.
    #[arg(long, default_value = "/")]
    path: String,
}

fn event(n: u64, bytes: usize) -> Vec<u8> {
    let head = format!(
        r#"{{"actor":"svc-{}","action":"update","resource":"doc/{n}","details":{{"seq":{n},"pad":""#,
        n % 97
    );
    let mut s = head.into_bytes();
    s.resize(bytes.saturating_sub(3).max(s.len()), b'x');
    s.extend_from_slice(b"\"}}");
    s
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

fn tree_size(agent: &ureq::Agent, url: &str) -> u64 {
    let mut r = agent
        .get(&format!("{url}/v1/log"))
        .call()
        .expect("GET /v1/log");
    let v: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().expect("body")).expect("JSON");
    v["tree_size"].as_u64().unwrap_or(0)
}

fn main() {
    let args = Arc::new(Args::parse());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let size = if args.mode == Mode::Get {
        0
    } else {
        tree_size(&agent, &args.url)
    };
    if matches!(
        args.mode,
        Mode::Proof | Mode::ProofByHash | Mode::Tile | Mode::Mixed
    ) && size == 0
    {
        eprintln!("the log is empty: load it first (--mode batch)");
        std::process::exit(2);
    }
    let leaves: Arc<Vec<String>> = Arc::new(if args.mode == Mode::ProofByHash {
        // The first full tile's leaf hashes, percent-encoded for the query string.
        let width = size.min(256);
        let path = if width == 256 {
            "tile/0/000".to_owned()
        } else {
            format!("tile/0/000.p/{width}")
        };
        let mut r = agent
            .get(&format!("{}/{path}", args.url))
            .call()
            .expect("tile");
        let bytes = r.body_mut().read_to_vec().expect("tile body");
        bytes
            .chunks(32)
            .map(|h| {
                glasslog_merkle::Hash::from_slice(h)
                    .expect("32 bytes")
                    .to_base64()
                    .replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D")
            })
            .collect()
    } else {
        Vec::new()
    });
    let seq = Arc::new(AtomicU64::new(rand_seed()));
    let errors = Arc::new(AtomicU64::new(0));
    let entries_done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let per_conn_interval =
        (args.rate > 0.0).then(|| Duration::from_secs_f64(args.connections as f64 / args.rate));
    // Latencies of the current report interval (only kept with --report-every).
    let interval_hist = Arc::new(std::sync::Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram"),
    ));
    if args.report_every > 0 {
        let (args, entries_done, errors, interval_hist) = (
            Arc::clone(&args),
            Arc::clone(&entries_done),
            Arc::clone(&errors),
            Arc::clone(&interval_hist),
        );
        std::thread::spawn(move || {
            let every = Duration::from_secs(args.report_every);
            let (mut last_entries, mut last_errors) = (0, 0);
            let mut next = start + every;
            while next <= deadline {
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
                let (e, x) = (
                    entries_done.load(Ordering::Relaxed),
                    errors.load(Ordering::Relaxed),
                );
                let (p50, p99) = match interval_hist.lock() {
                    Ok(mut h) => {
                        let q = (h.value_at_quantile(0.5), h.value_at_quantile(0.99));
                        h.reset();
                        q
                    }
                    Err(_) => (0, 0),
                };
                println!(
                    "{}",
                    json!({
                        "t": start.elapsed().as_secs(),
                        "entries_per_s": (e - last_entries) as f64 / every.as_secs_f64(),
                        "errors": x - last_errors,
                        "p50_ms": p50 as f64 / 1000.0,
                        "p99_ms": p99 as f64 / 1000.0,
                        "server_rss_kib": args.server_pid.and_then(rss_kib),
                    })
                );
                (last_entries, last_errors) = (e, x);
                next += every;
            }
        });
    }
    let handles: Vec<_> = (0..args.connections)
        .map(|c| {
            let (args, seq, errors, entries_done, leaves, interval_hist) = (
                Arc::clone(&args),
                Arc::clone(&seq),
                Arc::clone(&errors),
                Arc::clone(&entries_done),
                Arc::clone(&leaves),
                Arc::clone(&interval_hist),
            );
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut hist =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
                let auth = format!("Bearer {}", args.token);
                // Spread open-loop connections over one interval so they do not fire together.
                let mut due = start
                    + per_conn_interval.map_or(Duration::ZERO, |i| {
                        i.mul_f64(c as f64 / args.connections as f64)
                    });
                let mut rng =
                    0x9e37_79b9_7f4a_7c15u64 ^ (c as u64).wrapping_mul(0x2545_f491_4f6c_dd1d);
                while Instant::now() < deadline {
                    if per_conn_interval.is_some() {
                        let now = Instant::now();
                        if due > now {
                            std::thread::sleep(due - now);
                        }
                    } else {
                        due = Instant::now();
                    }
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let mode = match args.mode {
                        Mode::Mixed => match rng % 10 {
                            0..=3 => Mode::Submit,
                            4 => Mode::Batch,
                            5..=7 => Mode::Proof,
                            _ => Mode::Tile,
                        },
                        m => m,
                    };
                    let result = match mode {
                        Mode::Submit | Mode::Wait => {
                            let n = seq.fetch_add(1, Ordering::Relaxed);
                            let path = if mode == Mode::Wait {
                                "/v1/entries?wait=checkpoint"
                            } else {
                                "/v1/entries"
                            };
                            agent
                                .post(&format!("{}{path}", args.url))
                                .header("Authorization", &auth)
                                .header("Content-Type", "application/json")
                                .send(&event(n, args.entry_bytes)[..])
                        }
                        Mode::Batch => {
                            let mut body = Vec::with_capacity(args.batch * (args.entry_bytes + 1));
                            for _ in 0..args.batch {
                                body.extend_from_slice(&event(
                                    seq.fetch_add(1, Ordering::Relaxed),
                                    args.entry_bytes,
                                ));
                                body.push(b'\n');
                            }
                            agent
                                .post(&format!("{}/v1/entries/batch", args.url))
                                .header("Authorization", &auth)
                                .header("Content-Type", "application/x-ndjson")
                                .send(&body[..])
                        }
                        Mode::Proof => agent
                            .get(&format!(
                                "{}/v1/proofs/inclusion?index={}&tree_size={size}",
                                args.url,
                                rng % size
                            ))
                            .call(),
                        Mode::ProofByHash => agent
                            .get(&format!(
                                "{}/v1/proofs/inclusion?leaf_hash={}&tree_size={size}",
                                args.url,
                                leaves[(rng as usize) % leaves.len()]
                            ))
                            .call(),
                        Mode::Get => agent.get(&format!("{}{}", args.url, args.path)).call(),
                        // Mixed was resolved to one of the others above.
                        Mode::Tile | Mode::Mixed => {
                            let full = size / 256;
                            let path = if full > 0 {
                                format!("tile/0/{:03}", (rng % full) % 1000)
                            } else {
                                format!("tile/0/000.p/{size}")
                            };
                            agent.get(&format!("{}/{path}", args.url)).call()
                        }
                    };
                    let ok = match result {
                        Ok(mut r) => {
                            let ok = r.status().is_success();
                            let _ = r.body_mut().read_to_vec();
                            ok
                        }
                        Err(_) => false,
                    };
                    if ok {
                        entries_done.fetch_add(
                            if mode == Mode::Batch {
                                args.batch as u64
                            } else {
                                1
                            },
                            Ordering::Relaxed,
                        );
                        let micros = due.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
                        let _ = hist.record(micros.max(1));
                        if args.report_every > 0
                            && let Ok(mut h) = interval_hist.lock()
                        {
                            let _ = h.record(micros.max(1));
                        }
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Some(i) = per_conn_interval {
                        due += i;
                    }
                }
                hist
            })
        })
        .collect();
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    for h in handles {
        if let Ok(h) = h.join() {
            let _ = hist.add(h);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let out = json!({
        "mode": format!("{:?}", args.mode).to_lowercase(),
        "connections": args.connections,
        "offered_rate": args.rate,
        "seconds": elapsed,
        "requests": hist.len(),
        "requests_per_s": hist.len() as f64 / elapsed,
        "entries_per_s": entries_done.load(Ordering::Relaxed) as f64 / elapsed,
        "errors": errors.load(Ordering::Relaxed),
        "latency_ms": { "p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99), "p99_9": ms(0.999), "max": hist.max() as f64 / 1000.0 },
        "server_rss_kib": args.server_pid.and_then(rss_kib),
        "tree_size_before": size,
    });
    println!("{out}");
}

fn rand_seed() -> u64 {
    // Distinct entries per run, so that reruns against one server are not deduplicated.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        << 20
}
