//! Fuzzes the secret detectors: no panic, and every match is a valid, in-bounds, non-overlapping span.
#![no_main]
use glasslog_ingest::{Detector, DetectorOptions};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static DETECTOR: OnceLock<Detector> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let d = DETECTOR.get_or_init(|| {
        Detector::new(&DetectorOptions { include_pii: true, ..Default::default() }).expect("built-in rules compile")
    });
    let mut last_end = 0;
    for m in d.scan(text) {
        assert!(m.start < m.end && m.end <= text.len());
        assert!(text.is_char_boundary(m.start) && text.is_char_boundary(m.end));
        assert!(m.start >= last_end, "matches overlap");
        last_end = m.end;
    }
});
