//! Fuzzes what `glasslog verify` reads from a break-glass report file, and the decoding of
//! stored entries the server folds into session state.
#![no_main]
use glasslog_breakglass::{Report, State, decode, verify_report};
use glasslog_merkle::{Signer, VerifierSet};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static KNOWN: OnceLock<VerifierSet> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let known = KNOWN.get_or_init(|| {
        let mut set = VerifierSet::new();
        set.add(Signer::from_seed("fuzz.example/log", [3; 32]).expect("seed").verifier());
        set
    });
    if let Ok(report) = serde_json::from_slice::<Report>(data) {
        // Nobody holds the key's secret here, so nothing may verify.
        assert!(verify_report(&report, known).is_err());
        let _ = report.to_markdown();
    }
    if let Some(l) = decode(0, data) {
        let mut state = State::new();
        state.apply(&l);
        let _ = state.audit(&l, &Default::default());
        let _ = state.due(u64::MAX, &Default::default());
    }
});
