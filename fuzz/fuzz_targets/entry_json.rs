//! Fuzzes submission parsing and sanitizing: arbitrary bytes as a JSON event or as text.
#![no_main]
use glasslog_ingest::{Body, PolicyConfig, Sanitizer};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static SANITIZER: OnceLock<Sanitizer> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let s = SANITIZER.get_or_init(|| Sanitizer::new(PolicyConfig::default(), [7; 32]).expect("default policy"));
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(out) = s.sanitize("fuzz", Body::Event(v), 1) {
            // The stored bytes are valid JSON and within the bundle limit.
            let _: serde_json::Value = serde_json::from_slice(&out.encoded.bytes).expect("stored entry is JSON");
            assert!(out.encoded.bytes.len() <= glasslog_ingest::MAX_ENTRY_BYTES);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = s.sanitize("fuzz", Body::Text(text.to_owned()), 1);
    }
});
