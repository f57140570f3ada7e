//! Search at scale: loads a server with audit events shaped like a real audit trail (skewed
//! actors and words, many resources, mostly successes, a few redacted secrets), then times a
//! mix of `GET /v1/search` queries drawn from the same distributions. Prints one JSON line.
//!   searchbench load  --url URL --entries 1000000
//!   searchbench query --url URL --seconds 20
#![allow(
    clippy::print_stdout,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    reason = "a command-line tool"
)]

use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(about = "Search benchmark for a glasslog server")]
struct Args {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Bearer token (admin: it loads and searches).
    #[arg(long, env = "GLASSLOG_TOKEN", default_value = "")]
    token: String,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Appends `--entries` events in batches of 1000 over 4 connections.
    Load {
        #[arg(long)]
        entries: u64,
    },
    /// Runs the query mix, one query at a time per connection.
    Query {
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        #[arg(long, default_value_t = 2)]
        connections: usize,
        /// The redaction rule the `rule` class asks for (the one the load's API keys get).
        #[arg(long, default_value = "stripe-secret-key")]
        rule: String,
    },
}

/// A small deterministic generator (xorshift), so that loads and queries agree on values.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Roughly Zipf over `0..n`: rank r has weight about 1/r.
    fn zipf(&mut self, n: u64) -> u64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) as u64).saturating_sub(1).min(n - 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ACTORS: u64 = 10_000;
const ACTIONS: &[&str] = &[
    "login",
    "logout",
    "read",
    "list",
    "update",
    "create",
    "delete",
    "export",
    "grant",
    "revoke",
    "deploy",
    "rotate",
    "approve",
    "download",
    "share",
    "reset-password",
    "enable-mfa",
    "disable-user",
    "impersonate",
    "query",
];
const RESOURCES: u64 = 200_000;
const VOCABULARY: u64 = 3_000;
const SOURCES: &[&str] = &["payments", "identity", "billing", "deploy-bot", "warehouse"];

fn actor(r: &mut Rng) -> String {
    format!("user{}@corp.example", r.zipf(ACTORS))
}

fn word(r: &mut Rng) -> String {
    // Words are made up but shaped like words, so that the tokenizer cuts them as words.
    let n = r.zipf(VOCABULARY);
    format!("w{n}x")
}

fn event(r: &mut Rng) -> Value {
    let action = ACTIONS[r.zipf(ACTIONS.len() as u64) as usize];
    let words: Vec<String> = (0..6).map(|_| word(r)).collect();
    let mut e = json!({
        "actor": actor(r),
        "action": action,
        "resource": format!("res/{}", r.zipf(RESOURCES)),
        "outcome": if r.below(10) == 0 { "failure" } else { "success" },
        "reason": format!("{} ticket INC-{}", words.join(" "), r.below(5000)),
        "details": {"client": "10.0.0.1", "latency_ms": r.below(900)},
    });
    if r.below(100) == 0 {
        e["details"]["api_key"] = json!(format!("sk_live_{:024x}", r.next()));
    }
    e
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn load(args: &Args, entries: u64) {
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let sent = Arc::clone(&sent);
            let (url, auth) = (args.url.clone(), format!("Bearer {}", args.token));
            std::thread::spawn(move || {
                let agent = agent();
                let mut r =
                    Rng(0x9E37_79B9_7F4A_7C15 ^ (t + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
                loop {
                    let have = sent.fetch_add(1000, Ordering::Relaxed);
                    if have >= entries {
                        return;
                    }
                    let n = (entries - have).min(1000);
                    let mut body = Vec::new();
                    for _ in 0..n {
                        body.extend_from_slice(&serde_json::to_vec(&event(&mut r)).expect("JSON"));
                        body.push(b'\n');
                    }
                    let resp = agent
                        .post(&format!(
                            "{url}/v1/entries/batch?source={}",
                            SOURCES[r.below(SOURCES.len() as u64) as usize]
                        ))
                        .header("Authorization", &auth)
                        .header("Content-Type", "application/x-ndjson")
                        .send(&body[..])
                        .expect("POST");
                    assert_eq!(resp.status(), 200, "a batch was refused");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("loader thread");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"loaded": entries, "seconds": secs, "entries_per_second": entries as f64 / secs})
    );
}

/// The query classes, each a query string drawn from the load's distributions.
fn query(class: &str, r: &mut Rng, time: (u64, u64), rule: &str) -> String {
    let pct = |s: &str| s.replace('@', "%40");
    match class {
        "actor" => format!("actor={}", pct(&actor(r))),
        "actor+action" => format!(
            "actor={}&action={}",
            pct(&actor(r)),
            ACTIONS[r.zipf(ACTIONS.len() as u64) as usize]
        ),
        "resource" => format!("resource=res/{}", r.zipf(RESOURCES)),
        "failure+action" => format!(
            "outcome=failure&action={}",
            ACTIONS[r.below(ACTIONS.len() as u64) as usize]
        ),
        "two-words" => format!("q={}%20{}", word(r), word(r)),
        "rare-3-terms" => format!("actor={}&outcome=failure&q={}", pct(&actor(r)), word(r)),
        "rule" => format!("rule={rule}"),
        "source+word" => format!(
            "source={}&q={}",
            SOURCES[r.below(SOURCES.len() as u64) as usize],
            word(r)
        ),
        "minute+action" => {
            let span = time.1.saturating_sub(time.0).max(1);
            let at = time.0 + r.below(span);
            format!(
                "since={at}&until={}&action={}",
                at + 60_000,
                ACTIONS[r.zipf(ACTIONS.len() as u64) as usize]
            )
        }
        _ => "limit=50".to_owned(),
    }
}

const CLASSES: &[&str] = &[
    "newest",
    "actor",
    "actor+action",
    "resource",
    "failure+action",
    "two-words",
    "rare-3-terms",
    "rule",
    "source+word",
    "minute+action",
];

fn get_json(agent: &ureq::Agent, url: &str, auth: &str) -> Value {
    let mut resp = agent
        .get(url)
        .header("Authorization", auth)
        .call()
        .expect("GET");
    assert_eq!(resp.status(), 200, "{url}");
    serde_json::from_str(&resp.body_mut().read_to_string().expect("body")).expect("JSON")
}

fn run_queries(args: &Args, seconds: u64, connections: usize, rule: &str) {
    let auth = format!("Bearer {}", args.token);
    let a = agent();
    let size = get_json(&a, &format!("{}/v1/log", args.url), &auth)["tree_size"]
        .as_u64()
        .unwrap_or(0);
    let received = |i: u64| {
        let v = get_json(&a, &format!("{}/v1/entries/{i}", args.url), &auth);
        v["entry"]["received"].as_u64().unwrap_or(0)
    };
    let time = (received(0), received(size.saturating_sub(1)));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let threads: Vec<_> = (0..connections)
        .map(|t| {
            let (url, auth, rule) = (args.url.clone(), auth.clone(), rule.to_owned());
            std::thread::spawn(move || {
                let agent = agent();
                let mut r = Rng(0x2545_F491_4F6C_DD1D ^ ((t as u64 + 7) << 32));
                let mut out: BTreeMap<&str, (Histogram<u64>, u64, u64, u64)> = BTreeMap::new();
                let mut n = 0usize;
                while Instant::now() < deadline {
                    let class = CLASSES[n % CLASSES.len()];
                    n += 1;
                    let q = query(class, &mut r, time, &rule);
                    let t0 = Instant::now();
                    let v = get_json(&agent, &format!("{url}/v1/search?{q}"), &auth);
                    let us = t0.elapsed().as_micros() as u64;
                    let e = out.entry(class).or_insert_with(|| {
                        (
                            Histogram::new_with_max(60_000_000, 3).expect("histogram"),
                            0,
                            0,
                            0,
                        )
                    });
                    e.0.record(us.max(1)).expect("record");
                    let found = v["entries"].as_array().map_or(0, Vec::len) as u64;
                    e.1 += found;
                    // A page cut short by the step budget: fewer than the limit, more to come.
                    if found < 50 && !v["next"].is_null() {
                        e.2 += 1;
                    }
                    e.3 += v["steps"].as_u64().unwrap_or(0);
                }
                out
            })
        })
        .collect();
    let mut all: BTreeMap<&str, (Histogram<u64>, u64, u64, u64)> = BTreeMap::new();
    for t in threads {
        for (k, (h, found, cut, steps)) in t.join().expect("query thread") {
            let e = all
                .entry(k)
                .or_insert_with(|| (Histogram::new_with_max(60_000_000, 3).expect("h"), 0, 0, 0));
            e.0.add(&h).expect("merge");
            e.1 += found;
            e.2 += cut;
            e.3 += steps;
        }
    }
    let mut overall = Histogram::<u64>::new_with_max(60_000_000, 3).expect("h");
    let classes: Vec<Value> = all
        .iter()
        .map(|(k, (h, found, cut, steps))| {
            overall.add(h).expect("merge");
            let n = h.len().max(1);
            json!({
                "class": k, "queries": h.len(),
                "p50_ms": h.value_at_quantile(0.5) as f64 / 1000.0,
                "p99_ms": h.value_at_quantile(0.99) as f64 / 1000.0,
                "max_ms": h.max() as f64 / 1000.0,
                "mean_matches": *found as f64 / n as f64,
                "cut_by_budget": cut, "mean_steps": *steps as f64 / n as f64,
            })
        })
        .collect();
    println!(
        "{}",
        json!({
            "tree_size": size, "connections": connections,
            "p50_ms": overall.value_at_quantile(0.5) as f64 / 1000.0,
            "p99_ms": overall.value_at_quantile(0.99) as f64 / 1000.0,
            "queries": overall.len(), "classes": classes,
        })
    );
}

fn main() {
    let args = Args::parse();
    match args.cmd {
        Cmd::Load { entries } => load(&args, entries),
        Cmd::Query {
            seconds,
            connections,
            ref rule,
        } => run_queries(&args, seconds, connections, rule),
    }
}
