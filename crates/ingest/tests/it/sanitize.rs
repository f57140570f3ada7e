//! Submissions end to end through the sanitizer: model, policy, redaction, encoding.

use crate::sanitizer;
use glasslog_ingest::entry::{canonical_json, to_ocsf};
use glasslog_ingest::{Body, EntryError, IngestError, MAX_ENTRY_BYTES};
use proptest::prelude::*;
use serde_json::{Value, json};

const GH: &str = "ghp_R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0jG8sE2u";

fn stored(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn native_events_become_ocsf_api_activity_with_secrets_redacted() {
    let s = sanitizer("");
    let event = json!({
        "actor": {"user": "alice", "on_behalf_of": "deploy-bot"},
        "action": "update",
        "resource": {"name": "db/prod", "type": "database"},
        "outcome": "success",
        "time": 1_700_000_000_000u64,
        "source": {"service": "billing", "host": "web-1", "ip": "10.0.0.7"},
        "reason": "rotate credentials",
        "ticket": "INC-42",
        "details": {"headers": {"Authorization": format!("token {GH}")}, "password": "hunter2", "note": "fine"},
    });
    let out = s
        .sanitize("billing", Body::Event(event), 1_700_000_000_123)
        .unwrap();
    let text = String::from_utf8(out.encoded.bytes.clone()).unwrap();
    assert!(!text.contains(GH) && !text.contains("hunter2"), "{text}");
    let v = stored(&out.encoded.bytes);
    assert_eq!(v["event"]["class_uid"], 6003);
    assert_eq!(v["event"]["type_uid"], 600303);
    assert_eq!(v["event"]["actor"]["user"]["name"], "alice");
    assert_eq!(v["event"]["unmapped"]["on_behalf_of"], "deploy-bot");
    assert_eq!(v["event"]["unmapped"]["details"]["note"], "fine");
    let auth = v["event"]["unmapped"]["details"]["headers"]["Authorization"]
        .as_str()
        .unwrap();
    // A value under a credential's name is redacted whole, scheme included; the most specific
    // rule that finds something inside names the marker.
    assert!(auth.starts_with("[REDACTED:github-token:"), "{auth}");
    let rules: Vec<(&str, &str)> = out
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.path.as_deref().unwrap()))
        .collect();
    assert!(
        rules.contains(&("github-token", "$.unmapped.details.headers.Authorization")),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("json-secret-field", "$.unmapped.details.password")),
        "{rules:?}"
    );
    // The stored bytes are canonical, and the OCSF read-back carries the receive time.
    assert_eq!(canonical_json(&v), out.encoded.bytes);
    let ocsf = to_ocsf(&out.encoded.bytes).unwrap();
    assert_eq!(ocsf["metadata"]["logged_time"], 1_700_000_000_123u64);
    assert_eq!(ocsf["time"], 1_700_000_000_000u64);
}

#[test]
fn the_same_secret_gets_the_same_fingerprint_and_findings_never_hold_it() {
    let s = sanitizer("");
    let a = s
        .sanitize("x", Body::Text(format!("first {GH}")), 1)
        .unwrap();
    let b = s
        .sanitize("x", Body::Text(format!("again: {GH} !")), 2)
        .unwrap();
    assert_eq!(a.findings[0].fingerprint, b.findings[0].fingerprint);
    assert_eq!((a.findings[0].start, a.findings[0].end), (6, 6 + GH.len()));
    let report = serde_json::to_string(&a.findings).unwrap();
    assert!(!report.contains(GH));
    let other = glasslog_ingest::Sanitizer::new(Default::default(), [1; 32]).unwrap();
    let c = other.sanitize("x", Body::Text(GH.into()), 1).unwrap();
    assert_ne!(
        c.findings[0].fingerprint, a.findings[0].fingerprint,
        "fingerprints are keyed"
    );
}

#[test]
fn entries_differ_by_the_receive_time_and_the_source_only() {
    let s = sanitizer("");
    let e = || Body::Event(json!({"actor": "bob", "action": "login"}));
    let a = s.sanitize("svc", e(), 1).unwrap().encoded;
    let b = s.sanitize("svc", e(), 2).unwrap().encoded;
    let without_time = |bytes: &[u8]| {
        let mut v = stored(bytes);
        v.as_object_mut().unwrap().remove("received");
        canonical_json(&v)
    };
    assert_eq!(without_time(&a.bytes), without_time(&b.bytes));
    assert_ne!(a.bytes, b.bytes);
    let c = s.sanitize("other-svc", e(), 1).unwrap().encoded;
    assert_ne!(without_time(&a.bytes), without_time(&c.bytes));
}

#[test]
fn ocsf_records_are_checked_for_their_class() {
    let s = sanitizer("");
    let good = json!({
        "class_uid": 3002, "category_uid": 3, "activity_id": 1, "type_uid": 300201, "severity_id": 1,
        "time": 1_700_000_000_000u64, "user": {"name": "carol"},
        "metadata": {"version": "1.3.0", "product": {"name": "idp", "vendor_name": "acme"}},
    });
    let out = s.sanitize("idp", Body::Event(good.clone()), 5).unwrap();
    assert_eq!(stored(&out.encoded.bytes)["event"]["user"]["name"], "carol");
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("user");
    let err = s.sanitize("idp", Body::Event(missing), 5).unwrap_err();
    assert!(
        err.to_string().contains("`user`") && err.to_string().contains("Authentication"),
        "{err}"
    );
    let mut wrong = good;
    wrong["type_uid"] = json!(300202);
    assert!(
        s.sanitize("idp", Body::Event(wrong), 5)
            .unwrap_err()
            .to_string()
            .contains("type_uid")
    );
}

#[test]
fn malformed_native_events_are_refused_clearly() {
    let s = sanitizer("");
    for (event, needle) in [
        (json!({"action": "x"}), "`actor`"),
        (json!({"actor": "a"}), "`action`"),
        (
            json!({"actor": "a", "action": "x", "colour": "red"}),
            "colour",
        ),
        (json!({"actor": "a", "action": " "}), "action"),
        (json!([1, 2]), "object"),
        (json!({"actor": 5, "action": "x"}), "event"),
    ] {
        let err = s
            .sanitize("svc", Body::Event(event.clone()), 0)
            .unwrap_err();
        assert!(err.to_string().contains(needle), "{event}: {err}");
    }
}

#[test]
fn oversized_entries_are_refused_not_truncated() {
    let s = sanitizer("");
    let err = s
        .sanitize("svc", Body::Text("x".repeat(MAX_ENTRY_BYTES)), 0)
        .unwrap_err();
    assert!(
        matches!(
            err,
            IngestError::Entry(EntryError::TooLarge {
                max: MAX_ENTRY_BYTES,
                ..
            })
        ),
        "{err}"
    );
}

#[test]
fn policy_modes_per_source() {
    let s = sanitizer("[sources.strict]\nmode = \"reject\"\n[sources.trusted]\nmode = \"allow\"\n");
    let text = || Body::Text(format!("leaked {GH}"));
    match s.sanitize("strict", text(), 0) {
        Err(IngestError::Rejected { findings }) => assert_eq!(findings[0].rule, "github-token"),
        other => panic!("{other:?}"),
    }
    let allowed = s.sanitize("trusted", text(), 0).unwrap();
    assert!(
        String::from_utf8(allowed.encoded.bytes)
            .unwrap()
            .contains(GH)
            && allowed.findings.is_empty()
    );
    assert!(
        s.sanitize("strict", Body::Text("nothing here".into()), 0)
            .is_ok()
    );
}

#[test]
fn allow_lists_let_known_test_values_through() {
    let s = sanitizer(
        "[[allow]]\nrule = \"github-token\"\nliteral = \"ghp_R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0jG8sE2u\"\n",
    );
    let out = s
        .sanitize("x", Body::Text(format!("fixture {GH}")), 0)
        .unwrap();
    assert!(out.findings.is_empty());
}

#[test]
fn pathological_inputs_are_handled() {
    // Shapes that make backtracking engines explode. The engines here are linear, and the
    // criterion benchmark `scan/pathological` shows the throughput stays flat with size.
    let s = sanitizer("");
    let inputs = [
        "password=".repeat(20_000),
        format!("-----BEGIN PRIVATE KEY-----{}", "A".repeat(60_000)),
        "a://b:c@".repeat(8_000),
        "Authorization: Basic ".repeat(3_000),
        format!("{}!", "eyJ".repeat(20_000)),
        "token=".repeat(10_000) + &"x".repeat(10_000),
    ];
    for input in inputs {
        let _ = s.redactor().detector().scan(&input);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn planted_secrets_never_survive(prefix in "[ -~]{0,40}", suffix in "[ -~]{0,40}", which in 0usize..6) {
        let secrets = [
            GH, "AKIAZ7VRSQ5TQDL3XWMB", "sk_live_51Hq2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs",
            "xoxb-4593026905-8939204605984-yAedSrx8rNbHlVqGzK7PTnrg", "glpat-Xk9mQ2Lp7Rv3Tz8Wb1Nc",
            "npm_R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0jG8sE2u",
        ];
        let secret = secrets[which];
        let s = sanitizer("");
        let text = format!("{prefix} {secret} {suffix}");
        let out = s.sanitize("p", Body::Text(text.clone()), 0).unwrap();
        let stored = String::from_utf8(out.encoded.bytes).unwrap();
        prop_assert!(!stored.contains(secret));
        let json = Body::Event(json!({"actor": prefix, "action": "x", "details": {"k": text, "list": [suffix, secret]}}));
        let out = s.sanitize("p", json, 0).unwrap();
        let stored = String::from_utf8(out.encoded.bytes).unwrap();
        prop_assert!(!stored.contains(secret));
        let _: Value = serde_json::from_str(&stored).unwrap();
    }

    #[test]
    fn sanitizing_never_panics(text in "\\PC{0,300}", raw in prop::collection::vec(any::<u8>(), 0..300)) {
        let s = sanitizer("[detection]\npii = true\n");
        let _ = s.sanitize("p", Body::Text(text.clone()), 0);
        if let Ok(v) = serde_json::from_slice::<Value>(&raw) {
            let _ = s.sanitize("p", Body::Event(v), 0);
        }
        let _ = s.sanitize("p", Body::Event(json!({"actor": text, "action": "a", "details": {"x": text}})), 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The receive time is spliced into the canonical envelope rather than canonicalizing twice;
    /// the result must equal a full RFC 8785 encoding, whatever the source and nested keys hold.
    #[test]
    fn stored_entries_are_canonical(source in "[ -~]{1,30}", inner in "[ -~]{0,20}", received in any::<u64>(), text in any::<bool>(), bound in any::<bool>()) {
        let s = sanitizer("");
        let body = if text {
            Body::Text(format!(r#"{inner},"source":"{inner}""#))
        } else {
            Body::Event(json!({"actor": inner, "action": "x", "details": {"source": inner, "z": {"source": source}}}))
        };
        // A recorded submitter sits after `source` in key order and may hold anything.
        let submitter = glasslog_ingest::Submitter {
            principal: format!(r#"{inner}","source":"#),
            token: inner.clone(),
            role: "submitter".into(),
        };
        let scope = glasslog_ingest::Scope { source: &source, principal: "" };
        let out = s.sanitize_bound(scope, bound.then_some(&submitter), body, received).unwrap();
        let v: Value = serde_json::from_slice(&out.encoded.bytes).unwrap();
        prop_assert_eq!(canonical_json(&v), out.encoded.bytes.clone());
        prop_assert_eq!(&v["received"], &json!(received));
        prop_assert_eq!(&v["source"], &json!(source));
        prop_assert_eq!(v.get("submitter").is_some(), bound);
    }
}

#[test]
fn json_keys_named_in_other_languages_are_credentials() {
    let s = sanitizer("");
    let event = json!({
        "actor": "alice", "action": "configure",
        "details": {
            "contraseña": "verde",
            "Пароль": "1234",
            "DB_WACHTWOORD": "tulp",
            "パスワード": "sakura",
            "chiave API": "k1",
            "utente": "alice",
        },
    });
    let out = s.sanitize("it", Body::Event(event), 1).unwrap();
    let v = stored(&out.encoded.bytes);
    let d = &v["event"]["unmapped"]["details"];
    // Short and simple as they are, they are redacted for the name they are under.
    for k in [
        "contraseña",
        "Пароль",
        "DB_WACHTWOORD",
        "パスワード",
        "chiave API",
    ] {
        assert!(d[k].as_str().unwrap().starts_with("[REDACTED:"), "{k}: {d}");
    }
    assert_eq!(d["utente"], "alice");
}
