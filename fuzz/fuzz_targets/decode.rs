//! Fuzzes the wrappers' decoders (percent, JSON escapes, HTML entities, ANSI, base64): no panic,
//! and every decoded character maps back to an in-bounds span of the input on character boundaries.
#![no_main]
use glasslog_ingest::decode;
use libfuzzer_sys::fuzz_target;

fn check(input: &str, d: Option<decode::Decoded>) {
    let Some(d) = d else { return };
    let n = d.text.len();
    for (start, c) in d.text.char_indices() {
        let (a, b) = d.source_span(start, start + c.len_utf8()).expect("every character maps back");
        assert!(a < b && b <= input.len());
        assert!(input.is_char_boundary(a) && input.is_char_boundary(b));
    }
    if n > 0 {
        let (a, b) = d.source_span(0, n).expect("the whole text maps back");
        assert!(a <= b && b <= input.len());
    }
    assert!(d.source_span(n, n + 1).is_none());
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    check(text, decode::percent(text));
    check(text, decode::json_escapes(text));
    check(text, decode::html_entities(text));
    check(text, decode::ansi_stripped(text));
    for run in decode::base64_runs(text) {
        assert!(run.start < run.end && run.end <= text.len());
        assert!(text.is_char_boundary(run.start) && text.is_char_boundary(run.end));
    }
});
