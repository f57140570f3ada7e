//! Runs the default detectors over a JSON Lines corpus and prints what they found, in the form
//! `../shared/secrets-dev/score.py` and `benches/secrets/score.py` read.
//!
//! `cargo run --release -p glasslog-ingest --example findings < corpus.jsonl > findings.jsonl`:
//! each input line is an object with `id` and `text`; each output line is
//! `{"id":…,"findings":[{"start":S,"end":E,"rule":R}]}` with UTF-8 byte offsets into `text`.

use glasslog_ingest::{Detector, DetectorOptions};
use std::io::{BufRead as _, Write as _};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let detector = Detector::new(&DetectorOptions::default())?;
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let case: serde_json::Value = serde_json::from_str(&line)?;
        let text = case["text"].as_str().unwrap_or_default();
        let findings: Vec<serde_json::Value> = detector
            .scan(text)
            .iter()
            .map(|m| {
                serde_json::json!({
                    "start": m.start, "end": m.end, "rule": detector.rules()[m.rule].id,
                })
            })
            .collect();
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"id": case["id"], "findings": findings}),
        )?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
