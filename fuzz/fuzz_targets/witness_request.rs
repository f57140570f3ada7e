//! Fuzzes the tlog-witness add-checkpoint body parser.
#![no_main]
use glasslog_merkle::AddCheckpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = AddCheckpoint::parse(data) {
        assert!(req.proof.len() <= 63);
        assert_eq!(AddCheckpoint::parse(req.to_body().as_bytes()), Ok(req));
    }
});
