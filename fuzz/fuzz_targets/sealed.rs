//! Fuzzes what a client reads of a log encrypted at rest: the sealed parts beside an entry
//! (API answers, proof bundles, break-glass reports) and key and sealed records.
#![no_main]
use glasslog_seal::{MasterKey, SealedParts, key_meta, verify_opening};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static MASTER: OnceLock<MasterKey> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let m = MASTER.get_or_init(|| MasterKey::from_bytes(&[7; 32]));
    // Untrusted JSON parts against an untrusted plaintext: never a panic, and a record is
    // returned only when it commits to the plaintext.
    let (json, plaintext) = data.split_at(data.len() / 2);
    if let Ok(parts) = serde_json::from_slice::<SealedParts>(json) {
        if let Ok(record) = parts.leaf_data(plaintext) {
            assert!(glasslog_seal::is_sealed(&record));
        }
    }
    let _ = key_meta(data);
    let _ = m.open_key(&[0; 16], data);
    let _ = m.key_of(data);
    let salt = [0u8; 32];
    let _ = verify_opening(data, &salt, plaintext);
    let _ = MasterKey::parse(&String::from_utf8_lossy(data));
});
