//! Fuzzes batch bodies (JSON arrays and NDJSON) through splitting and sanitizing.
#![no_main]
use glasslog_ingest::entry::parse_batch;
use glasslog_ingest::{PolicyConfig, Sanitizer};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static SANITIZER: OnceLock<Sanitizer> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let s = SANITIZER.get_or_init(|| Sanitizer::new(PolicyConfig::default(), [7; 32]).expect("default policy"));
    for ndjson in [false, true] {
        if let Ok(items) = parse_batch(data, ndjson) {
            if ndjson {
                assert!(items.len() <= data.iter().filter(|&&b| b == b'\n').count() + 1);
            }
            for body in items.into_iter().flatten() {
                let _ = s.sanitize("fuzz", body, 1);
            }
        }
    }
});
