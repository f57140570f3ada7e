//! ML-DSA-44 against an independent implementation: OpenSSL's, through Python's `cryptography`
//! (`tests/oracles/mldsa44.py`). No upstream test pins an ML-DSA-44 cosignature, so this is what
//! says that our keys and signatures are the ones every other FIPS 204 implementation makes.
//! Without that Python it skips with a message, unless `GLASSLOG_REQUIRE_ORACLES` is set (CI).

use base64::Engine as _;
use glasslog_merkle::*;
use serde_json::{Value, json};
use std::io::Write as _;
use std::process::{Command, Stdio};

fn public_key(signer: &MlDsaSigner) -> Vec<u8> {
    let vkey = signer.vkey();
    let b64 = vkey.splitn(3, '+').nth(2).unwrap();
    let key = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(key[0], TYPE_MLDSA44);
    key[1..].to_vec()
}

/// Runs the oracle; `None` when this machine has no Python with ML-DSA and CI does not ask.
fn oracle(input: &Value) -> Option<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/mldsa44.py");
    let required = std::env::var_os("GLASSLOG_REQUIRE_ORACLES").is_some();
    let missing = |why: &str| {
        assert!(!required, "the ML-DSA-44 oracle is required but {why}");
        eprintln!("skipped: {why} (pip install 'cryptography>=48')");
        None
    };
    let Ok(mut child) = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        return missing("python3 is not installed");
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    match out.status.code() {
        Some(0) => Some(serde_json::from_slice(&out.stdout).unwrap()),
        Some(3) => missing("python3's cryptography has no ML-DSA"),
        other => panic!("the oracle failed: {other:?}"),
    }
}

#[test]
fn mldsa44_keys_and_signatures_agree_with_openssl() {
    let cases: Vec<(MlDsaSigner, Vec<u8>, u64, u64, u64)> = (0u8..6)
        .map(|i| {
            let seed: [u8; 32] = std::array::from_fn(|j| i.wrapping_mul(37).wrapping_add(j as u8));
            let signer = MlDsaSigner::from_seed(&format!("witness{i}.example/w"), &seed).unwrap();
            // Whole checkpoints with a timestamp, and subtrees off the left edge with none.
            let (start, end, ts) = match i % 3 {
                0 => (0, 1 + u64::from(i) * 1000, 1_700_000_000 + u64::from(i)),
                1 => (8, 13, 0),
                _ => (1 << 20, (1 << 20) + 77, 0),
            };
            (signer, seed.to_vec(), start, end, ts)
        })
        .collect();
    let hash = Hash([0x42; 32]);
    let mut input = Vec::new();
    for (signer, seed, start, end, ts) in &cases {
        let origin = "example.com/log";
        let sig = signer
            .sign_subtree(origin, *start, *end, &hash, *ts)
            .unwrap();
        let message = subtree_message(signer.name(), *ts, origin, *start, *end, &hash).unwrap();
        input.push(json!({
            "seed": hex::encode(seed),
            "message": hex::encode(&message),
            "signature": hex::encode(&sig.signature[8..]),
            "public": hex::encode(public_key(signer)),
        }));
    }
    let Some(answer) = oracle(&json!({ "cases": input })) else {
        return;
    };
    let answers = answer["cases"].as_array().unwrap();
    assert_eq!(answers.len(), cases.len());
    for ((signer, _, start, end, ts), a) in cases.iter().zip(answers) {
        assert_eq!(
            a["public_matches"],
            true,
            "key generation differs for {}",
            signer.name()
        );
        assert_eq!(
            a["verifies"],
            true,
            "OpenSSL refuses our signature by {}",
            signer.name()
        );
        assert_eq!(a["flipped_verifies"], false, "the oracle accepts anything");
        // OpenSSL signs hedged (randomised): a different signature that we must accept.
        let theirs = hex::decode(a["signature"].as_str().unwrap()).unwrap();
        let mut blob = ts.to_be_bytes().to_vec();
        blob.extend_from_slice(&theirs);
        let v = signer.verifier();
        assert_eq!(
            v.verified_subtree("example.com/log", *start, *end, &hash, &blob),
            Some(*ts),
            "we refuse OpenSSL's signature by {}",
            signer.name()
        );
        assert_eq!(
            v.verified_subtree("example.com/other", *start, *end, &hash, &blob),
            None
        );
    }
}
