//! Criterion benchmarks of secret detection: throughput on the labelled corpus (one entry at a
//! time, as ingestion sees them), how it scales with the number of rules, and pathological
//! inputs at two sizes (flat throughput across sizes is what linear time looks like).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark set-up"
)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use glasslog_ingest::rules::RULES;
use glasslog_ingest::{Detector, DetectorOptions};
use std::hint::black_box;

fn corpus() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/secrets/corpus.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn detector_with(n: usize) -> Detector {
    let disabled = RULES
        .iter()
        .skip(n)
        .filter(|r| r.kind != glasslog_ingest::rules::Kind::Pii)
        .map(|r| r.id.to_owned())
        .collect();
    Detector::new(&DetectorOptions {
        disabled,
        ..Default::default()
    })
    .unwrap()
}

fn scan(c: &mut Criterion) {
    let lines = corpus();
    let bytes: usize = lines.iter().map(String::len).sum();
    let mut g = c.benchmark_group("scan_corpus");
    g.throughput(Throughput::Bytes(bytes as u64));
    for n in [10, 40, RULES.len()] {
        let d = detector_with(n);
        let rules = d.rules().len();
        g.bench_function(BenchmarkId::new("rules", rules), |b| {
            b.iter(|| {
                lines
                    .iter()
                    .map(|l| d.scan(black_box(l)).len())
                    .sum::<usize>()
            })
        });
    }
    g.finish();

    // Log text with no secret-ish keyword at all: what most audit entries look like.
    let plain: String = (0..2000)
        .map(|i| format!("10.0.{}.{} - - [22/Nov/2026:05:{:02}:11 +0000] \"GET /api/v1/items/{i} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0\"\n", i % 256, i % 200, i % 60, i * 7))
        .collect();
    let d = detector_with(RULES.len());
    let mut g = c.benchmark_group("scan_plain_access_log");
    g.throughput(Throughput::Bytes(plain.len() as u64));
    g.bench_function("all_rules", |b| b.iter(|| d.scan(black_box(&plain)).len()));
    g.finish();

    let mut g = c.benchmark_group("scan_pathological");
    g.sample_size(10);
    for (name, unit) in [
        ("password_eq", "password="),
        ("basic_auth", "Authorization: Basic "),
        ("url_at", "a://b:c@"),
        ("eyJ", "eyJ."),
    ] {
        for size in [64 << 10, 1 << 20] {
            let text = unit.repeat(size / unit.len());
            g.throughput(Throughput::Bytes(text.len() as u64));
            g.bench_function(BenchmarkId::new(name, size), |b| {
                b.iter(|| d.scan(black_box(&text)).len())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
