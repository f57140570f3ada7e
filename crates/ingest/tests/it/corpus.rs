//! Scores the detectors on the labelled corpus in `benches/secrets/corpus.jsonl`: recall and
//! precision must reach 99%, and hard negatives (UUIDs, SHAs, digests, base64) get no finding.
//! `cargo test --release -p glasslog-ingest --test it corpus -- --nocapture` prints the figures.

use glasslog_ingest::Body;
use serde_json::Value;
use std::collections::BTreeMap;

#[test]
fn corpus_recall_and_precision() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/secrets/corpus.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let s = crate::sanitizer("");
    let (mut planted, mut caught, mut findings, mut true_findings) =
        (0usize, 0usize, 0usize, 0usize);
    let mut misses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut false_positives: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut lines = 0;
    for line in text.lines() {
        lines += 1;
        let v: Value = serde_json::from_str(line).unwrap();
        let body = v["text"].as_str().unwrap();
        let secrets: Vec<&str> = v["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        let label = v["rule"].as_str().map_or_else(
            || format!("negative:{}", v["genre"].as_str().unwrap()),
            str::to_owned,
        );
        let out = s
            .sanitize("corpus", Body::Text(body.to_owned()), 0)
            .unwrap();
        let stored: Value = serde_json::from_slice(&out.encoded.bytes).unwrap();
        let redacted = stored["text"].as_str().unwrap();
        let spans: Vec<(usize, usize)> = secrets
            .iter()
            .filter_map(|sec| body.find(sec).map(|at| (at, at + sec.len())))
            .collect();
        for sec in &secrets {
            planted += 1;
            if redacted.contains(sec) {
                misses
                    .entry(label.clone())
                    .or_default()
                    .push(body.to_owned());
            } else {
                caught += 1;
            }
        }
        for f in &out.findings {
            findings += 1;
            if spans.iter().any(|(a, b)| f.start < *b && *a < f.end) {
                true_findings += 1;
            } else {
                false_positives
                    .entry(format!("{label} -> {}", f.rule))
                    .or_default()
                    .push(body[f.start..f.end].to_owned());
            }
        }
    }
    let recall = caught as f64 / planted as f64;
    let precision = true_findings as f64 / findings as f64;
    println!("corpus: {lines} lines, {planted} planted secrets, {findings} findings");
    println!(
        "recall {:.2}% ({caught}/{planted}), precision {:.2}% ({true_findings}/{findings})",
        100.0 * recall,
        100.0 * precision
    );
    for (label, texts) in &misses {
        println!("MISS {label}: {} e.g. {:?}", texts.len(), texts[0]);
    }
    for (label, values) in &false_positives {
        println!(
            "FALSE POSITIVE {label}: {} e.g. {:?}",
            values.len(),
            values[0]
        );
    }
    assert!(recall >= 0.99, "recall {recall}");
    assert!(precision >= 0.99, "precision {precision}");
    for kind in ["uuid", "sha", "hash", "base64", "trace"] {
        assert!(
            !false_positives
                .keys()
                .any(|k| k.starts_with(&format!("negative:{kind} "))),
            "a hard negative of kind {kind} was flagged"
        );
    }
}
