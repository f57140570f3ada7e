//! Fuzzes signed-note and checkpoint parsing, and signature checking against a fixed key.
#![no_main]
use glasslog_merkle::{Checkpoint, Note, Signer, VerifierSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        // A parsed note re-encodes to the same bytes.
        assert_eq!(note.to_string().as_bytes(), data);
        let _ = Checkpoint::parse(&note.text);
        let signer = Signer::from_seed("fuzz.example/log", [3; 32]).expect("valid name");
        let mut set = VerifierSet::new();
        set.add(signer.verifier());
        let _ = note.verify(&set);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = Checkpoint::parse(text) {
            assert_eq!(cp.to_text(), text);
        }
        let _ = VerifierSet::from_vkeys([text]);
        let _ = Signer::from_skey(text);
    }
});
