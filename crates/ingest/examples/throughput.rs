//! Measures detection throughput on one core: every line of a file is scanned as one entry
//! would be, and the bytes per second of the best of five passes are printed, next to the same
//! figure with half the rules (twice the rules must cost less than twice the time).
//!
//! `cargo run --release -p glasslog-ingest --example throughput -- FILE`
//!
//! With `--once` (or `--once-half`) it scans the file once with every rule (or the first half
//! of them) and prints nothing else: the form to count instructions in, which unlike time does not move with the machine's load:
//! `valgrind --tool=callgrind --collect-atstart=no
//! --toggle-collect='glasslog_ingest::detect::Detector::scan' target/release/examples/throughput FILE --once`

use glasslog_ingest::rules::{Kind, RULES};
use glasslog_ingest::{Detector, DetectorOptions};
use std::io::Write as _;
use std::time::Instant;

fn best_mb_per_s(detector: &Detector, lines: &[&str], bytes: usize) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut found = 0;
    for _ in 0..5 {
        let started = Instant::now();
        found = lines.iter().map(|l| detector.scan(l).len()).sum();
        best = best.min(started.elapsed().as_secs_f64());
    }
    (bytes as f64 / best / 1e6, found)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: throughput FILE [--once | --once-half]")?;
    let mode = std::env::args().nth(2).unwrap_or_default();
    let text = std::fs::read_to_string(path)?;
    let lines: Vec<&str> = text.lines().collect();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let all = Detector::new(&DetectorOptions::default())?;
    let half = Detector::new(&DetectorOptions {
        disabled: RULES
            .iter()
            .filter(|r| r.kind != Kind::Pii)
            .skip(RULES.len() / 2)
            .map(|r| r.id.to_owned())
            .collect(),
        ..Default::default()
    })?;
    if mode == "--once" || mode == "--once-half" {
        let detector = if mode == "--once" { &all } else { &half };
        let found: usize = lines.iter().map(|l| detector.scan(l).len()).sum();
        std::hint::black_box(found);
        return Ok(());
    }

    let (full, found) = best_mb_per_s(&all, &lines, bytes);
    let (halved, _) = best_mb_per_s(&half, &lines, bytes);
    writeln!(
        std::io::stdout(),
        "{} lines, {bytes} bytes, {found} findings: {full:.1} MB/s with {} rules, {halved:.1} MB/s with {} rules (time ratio {:.2})",
        lines.len(),
        all.rules().len(),
        half.rules().len(),
        halved / full
    )?;
    Ok(())
}
