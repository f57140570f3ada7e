//! Prints what each built-in rule costs on its own over a file (one entry per line): the
//! detector with only that rule on, minus the detector with none, best of three passes. The
//! profile to read before optimising the scan (BENCHMARKS.md, issue #11's throughput).
//!
//! `cargo run --release -p glasslog-ingest --example rule_costs -- FILE [TOP]`
//!
//! `... -- FILE --only RULE` scans the file ten times with that rule alone and prints nothing:
//! the form to run under `perf record`.

use glasslog_ingest::rules::{Kind, RULES};
use glasslog_ingest::{Detector, DetectorOptions};
use std::io::Write as _;
use std::time::Instant;

fn best_seconds(detector: &Detector, lines: &[&str]) -> f64 {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            let found: usize = lines.iter().map(|l| detector.scan(l).len()).sum();
            std::hint::black_box(found);
            started.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

fn only(id: Option<&str>) -> Result<Detector, Box<dyn std::error::Error>> {
    Ok(Detector::new(&DetectorOptions {
        disabled: RULES
            .iter()
            .filter(|r| r.kind != Kind::Pii && Some(r.id) != id)
            .map(|r| r.id.to_owned())
            .collect(),
        ..Default::default()
    })?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: rule_costs FILE [TOP]")?;
    let text = std::fs::read_to_string(path)?;
    let lines: Vec<&str> = text.lines().collect();
    if std::env::args().nth(2).as_deref() == Some("--only") {
        let id = std::env::args().nth(3).ok_or("--only needs a rule id")?;
        let detector = only(Some(&id))?;
        for _ in 0..10 {
            std::hint::black_box(best_seconds(&detector, &lines));
        }
        return Ok(());
    }
    let top: usize = std::env::args().nth(2).map_or(Ok(25), |t| t.parse())?;
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let base = best_seconds(&only(None)?, &lines);
    let all = best_seconds(&Detector::new(&DetectorOptions::default())?, &lines);
    let mut costs = Vec::new();
    for rule in RULES.iter().filter(|r| r.kind != Kind::Pii) {
        let t = best_seconds(&only(Some(rule.id))?, &lines);
        costs.push((t - base, rule.id));
    }
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let sum: f64 = costs.iter().map(|c| c.0.max(0.0)).sum();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{bytes} bytes: all rules {:.1} MB/s, no rules {:.1} MB/s; rules alone add {:.3} s in sum, {:.3} s together",
        bytes as f64 / all / 1e6,
        bytes as f64 / base / 1e6,
        sum,
        all - base
    )?;
    for (t, id) in costs.iter().take(top) {
        writeln!(out, "{:>8.1} ms  {:>5.1}%  {id}", t * 1e3, 100.0 * t / sum)?;
    }
    Ok(())
}
