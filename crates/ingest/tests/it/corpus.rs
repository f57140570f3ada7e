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

/// The realistic corpus (`benches/secrets/realistic.py`, text we wrote from real software's
/// output, BENCHMARKS.md) keeps what each split scores after its fixes: at least 95% of the
/// secrets covered whole in every split, no negative case flagged, no finding outside a
/// secret. The hold-outs' first scores are in BENCHMARKS.md; this keeps their fixes from
/// regressing. A split still held out (never tuned on) is measured, not asserted: it is left
/// out here. Needs `python3`; skips with a message without it.
/// Splits of `realistic.py` measured, not asserted (BENCHMARKS.md has their scores): holdout40,
/// scored once and not yet read; holdout31, read and its misses fixed, but with four kinds of
/// false positive still open (OpenVPN's `password "Auth" …` read as SQL, a Digest header, a
/// STOMP session id, and a Basic header its labels missed), so it cannot hold "no finding
/// outside a secret" yet.
const HELD_OUT: &[&str] = &["holdout31", "holdout40"];

#[test]
fn realistic_splits_keep_their_scores() {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/secrets/realistic.py");
    let Ok(out) = std::process::Command::new("python3").arg(&script).output() else {
        eprintln!("skipped: python3 is not installed");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = glasslog_ingest::Detector::new(&glasslog_ingest::DetectorOptions::default()).unwrap();
    // split -> (secrets, covered whole, findings, true findings, negatives flagged)
    let mut splits: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let c: Value = serde_json::from_str(line).unwrap();
        let text = c["text"].as_str().unwrap();
        let split = c["split"].as_str().unwrap().to_owned();
        if HELD_OUT.contains(&split.as_str()) {
            continue;
        }
        let spans: Vec<(usize, usize)> = c["secret_spans"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        (
                            s[0].as_u64().unwrap() as usize,
                            s[1].as_u64().unwrap() as usize,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let found = d.scan(text);
        let e = splits.entry(split).or_default();
        if c["label"] == "fp" {
            e[4] += usize::from(!found.is_empty());
        }
        for &(a, b) in &spans {
            e[0] += 1;
            e[1] += usize::from(found.iter().any(|m| m.start <= a && b <= m.end));
        }
        e[2] += found.len();
        e[3] += found
            .iter()
            .filter(|m| spans.iter().any(|&(a, b)| m.start < b && a < m.end))
            .count();
    }
    assert!(splits.len() >= 8, "{splits:?}");
    for (split, [secrets, covered, findings, true_findings, flagged]) in &splits {
        let cover = *covered as f64 / *secrets as f64;
        eprintln!(
            "{split}: full cover {:.1}%, {true_findings}/{findings} findings true, {flagged} negatives flagged",
            cover * 100.0
        );
        assert!(cover >= 0.95, "{split}: full cover {cover}");
        assert_eq!(
            findings, true_findings,
            "{split}: a finding outside every secret"
        );
        assert_eq!(*flagged, 0, "{split}: a negative case flagged");
    }
}
