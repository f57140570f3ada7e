//! Fuzzes tlog-policy files, tlog-proof files and ML-DSA-44 key strings, and a parsed proof's
//! verification under a parsed policy.
#![no_main]
use glasslog_merkle::{MlDsaSigner, Policy, TlogProof, VerifierSet, leaf_hash};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let policy = Policy::parse(data);
    if let Ok(proof) = TlogProof::parse(data) {
        // A parsed proof re-encodes to the same bytes, and verifying it never panics.
        assert_eq!(proof.to_text().as_bytes(), data);
        if let Ok(policy) = Policy::parse(b"quorum none\n") {
            let _ = proof.verify(&leaf_hash(b""), &policy, &VerifierSet::new());
        }
    }
    if let (Ok(policy), Some(split)) = (policy, data.iter().position(|&b| b == 0)) {
        let _ = policy.check(&data[split + 1..], &VerifierSet::new());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = MlDsaSigner::from_skey(text);
        let _ = VerifierSet::from_vkeys([text]);
    }
});
