//! Redaction beyond the rules' own examples: the events a new user found stored in clear, every
//! rule's example in every wrapper and context, strict placeholders, and fingerprints that
//! confirm nothing to a principal who did not submit the entry.

use crate::sanitizer;
use base64::Engine as _;
use glasslog_ingest::rules::{Kind, RULES};
use glasslog_ingest::{Body, Scope};
use proptest::strategy::Strategy as _;
use serde_json::{Value, json};

fn stored_event(event: Value) -> (String, Vec<glasslog_ingest::Finding>) {
    let out = sanitizer("")
        .sanitize("svc", Body::Event(event), 0)
        .unwrap();
    (String::from_utf8(out.encoded.bytes).unwrap(), out.findings)
}

fn stored_text(text: &str) -> String {
    let out = sanitizer("")
        .sanitize("svc", Body::Text(text.to_owned()), 0)
        .unwrap();
    String::from_utf8(out.encoded.bytes).unwrap()
}

fn event(details: Value) -> Value {
    json!({"actor": "alice", "action": "login", "resource": "app", "details": details})
}

/// Each of these was stored in clear before (issue #11).
#[test]
fn the_reported_events_are_stored_redacted() {
    for (details, secret) in [
        (
            json!({"headers": {"Authorization": "Basic YWRtaW46aHVudGVyMg=="}}),
            "YWRtaW46aHVudGVyMg==",
        ),
        (
            json!({"headers": {"Proxy-Authorization": "Basic YWRtaW46aHVudGVyMg=="}}),
            "YWRtaW46aHVudGVyMg==",
        ),
        (json!({"password": "$uperS3cret!"}), "$uperS3cret!"),
    ] {
        let (stored, findings) = stored_event(event(details));
        assert!(!stored.contains(secret), "{stored}");
        assert!(!findings.is_empty());
    }
    for (text, secret) in [
        ("ALTER USER app WITH PASSWORD 'Sup3rS3cret';", "Sup3rS3cret"),
        (
            "CREATE USER 'app'@'%' IDENTIFIED BY 'Sup3rS3cret';",
            "Sup3rS3cret",
        ),
        ("GET /login?user=bob&password%3Dhunter2xyz", "hunter2xyz"),
    ] {
        let stored = stored_text(text);
        assert!(!stored.contains(secret), "{stored}");
        // The same text as a field of an event.
        let (stored, _) = stored_event(event(json!({"statement": text})));
        assert!(!stored.contains(secret), "{stored}");
    }
}

#[test]
fn values_under_credential_keys_are_secrets_whatever_their_shape() {
    let (stored, _) = stored_event(event(json!({
        "db": {"Password": 123456, "api_key": ["k1-short", "k2-short"]},
        "X-Api-Key": "abc",
        "config": {"client_secret": {"value": "plain words here"}},
        "set-cookie": "sid=1",
        "nested": {"deeper": {"PWD": "a"}},
    })));
    for secret in [
        "123456",
        "k1-short",
        "k2-short",
        "\"abc\"",
        "plain words here",
        "sid=1",
        "\"a\"",
    ] {
        assert!(!stored.contains(secret), "{secret}: {stored}");
    }
    // Metadata about credentials, and glasslog's own break-glass session field, stay.
    let (stored, findings) = stored_event(json!({
        "actor": "alice", "action": "rotate", "breakglass_session": "bg-4f2a",
        "details": {"token_type": "Bearer", "password_min_length": 12, "next_token": "CAEQAA",
                    "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA"}
    }));
    assert!(findings.is_empty(), "{findings:?}");
    for kept in ["bg-4f2a", "Bearer", "CAEQAA", "ssh-ed25519"] {
        assert!(stored.contains(kept), "{kept}: {stored}");
    }
}

#[test]
fn placeholders_are_recognised_by_strict_shapes_only() {
    for placeholder in [
        "${DB_PASSWORD}",
        "{{ .Values.password }}",
        "<your-password>",
        "********",
        "xxxxxxxx",
        "••••••",
    ] {
        let (stored, findings) = stored_event(event(json!({"password": placeholder})));
        assert!(findings.is_empty(), "{placeholder}: {findings:?}");
        assert!(stored.contains(placeholder), "{stored}");
    }
    for text in [
        "export AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "Stripe.api_key = 'sk_test_YOUR_SECRET_KEY'",
        "image ghcr.io/acme/api@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "request 3f2504e0-4f89-11d3-9a0c-0305e82c3301 trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
        "secret arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
        "password: changed by admin",
    ] {
        let out = sanitizer("")
            .sanitize("svc", Body::Text(text.to_owned()), 0)
            .unwrap();
        assert!(out.findings.is_empty(), "{text}: {:?}", out.findings);
    }
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn json_escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap();
    quoted[1..quoted.len() - 1].to_owned()
}

/// What the stored entry must not contain for a secret carried by a wrapper.
fn leaked(stored: &str, secret: &str, wrapped: &str, wrapper: &str) -> bool {
    // The stored entry is JSON: look in its decoded strings, where a secret would be read.
    let v: Value = serde_json::from_str(stored).unwrap();
    let mut strings = Vec::new();
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            Value::Object(m) => m.iter().for_each(|(k, x)| {
                out.push(k.clone());
                collect(x, out);
            }),
            _ => {}
        }
    }
    collect(&v, &mut strings);
    let all = strings.join("\n");
    all.contains(secret)
        || match wrapper {
            "percent" => all.contains(&pct(secret)),
            "json" => all.contains(&json_escaped(secret)),
            "base64" => all.contains(wrapped),
            _ => false,
        }
}

/// Every rule's examples, in every wrapper (none, percent-encoding, JSON escapes, base64) and
/// every context (JSON value, JSON key, JSON in a JSON string, query string, header, env line,
/// YAML), are found and covered whole.
#[test]
fn every_example_in_every_wrapper_and_context_is_covered() {
    let s = sanitizer("");
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in RULES.iter().filter(|r| r.kind != Kind::Pii) {
        for (text, secret) in rule.examples {
            for wrapper in ["none", "percent", "json", "base64"] {
                let wrapped = match wrapper {
                    "percent" => pct(text),
                    "json" => json_escaped(text),
                    "base64" => b64.encode(text),
                    _ => (*text).to_owned(),
                };
                let contexts = [
                    (
                        "json-value",
                        Body::Event(event(json!({"message": wrapped}))),
                    ),
                    (
                        "json-key",
                        Body::Event(event(json!({ wrapped.clone(): 1 }))),
                    ),
                    (
                        "json-in-string",
                        Body::Event(event(json!({
                            "payload": json!({"message": wrapped}).to_string()
                        }))),
                    ),
                    (
                        "query",
                        Body::Text(format!("GET /debug?note={} HTTP/1.1", pct(&wrapped))),
                    ),
                    (
                        "header",
                        Body::Text(format!("X-Debug-Note: {wrapped}\r\nHost: a")),
                    ),
                    ("env", Body::Text(format!("DEBUG_NOTE={wrapped}\nLANG=C"))),
                    ("yaml", Body::Text(format!("debug:\n  note: {wrapped}\n"))),
                ];
                for (context, body) in contexts {
                    checked += 1;
                    let out = s.sanitize("svc", body, 0).unwrap();
                    let stored = String::from_utf8(out.encoded.bytes).unwrap();
                    let wrapped_here = if context == "query" {
                        pct(&wrapped)
                    } else {
                        wrapped.clone()
                    };
                    if leaked(&stored, secret, &wrapped_here, wrapper) {
                        failures.push(format!("{} / {wrapper} / {context}: {stored}", rule.id));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} leaked:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A random value under a service's name is that service's key; its ids and URLs stay.
#[test]
fn a_random_value_under_a_service_name_is_its_key() {
    let (stored, _) = stored_event(event(json!({
        "mailgun": "gRtZTX7RaarK8pXdNcUBDcgvmIP6qiX5",
        "datadog": {"api": "5f4dcc3b5aa765d61d8327deb882cf99e1"},
        "stripe_customer": "cus_N1a2b3c4d5e6f7g8",
        "sentry_event": "0f3c9a7e2b1d4c6f8a0b2c4d6e8f0a1b",
        "zendesk_url": "https://acme.zendesk.com/agent/tickets/42",
        "mailgun_region": "eu"
    })));
    assert!(
        !stored.contains("gRtZTX7RaarK8pXdNcUBDcgvmIP6qiX5"),
        "{stored}"
    );
    assert!(
        !stored.contains("5f4dcc3b5aa765d61d8327deb882cf99e1"),
        "{stored}"
    );
    for kept in [
        "cus_N1a2b3c4d5e6f7g8",
        "0f3c9a7e2b1d4c6f8a0b2c4d6e8f0a1b",
        "https://acme.zendesk.com/agent/tickets/42",
        "\"eu\"",
    ] {
        assert!(stored.contains(kept), "{kept} must stay: {stored}");
    }
}

/// JSON shapes where the name is a sibling, not the key: name/value pairs, change records,
/// argument vectors; and a PIN, a secret as a number.
#[test]
fn names_beside_values_and_flags_before_them_mark_secrets() {
    let (stored, _) = stored_event(event(json!({
        "env": [
            {"name": "DB_PASSWORD", "value": "Winter4821!"},
            {"name": "LOG_LEVEL", "value": "info"}
        ],
        "changes": [{"key": "smtp.password", "old": "Copper1111#", "new": "Copper2222#"}],
        "argv": ["psql", "-h", "db", "--password", "Harbor9090$", "-d", "app"],
        "pin_code": 48213377,
        "pin_count": 3
    })));
    for gone in [
        "Winter4821!",
        "Copper1111#",
        "Copper2222#",
        "Harbor9090$",
        "48213377",
    ] {
        assert!(!stored.contains(gone), "{gone} must be redacted: {stored}");
    }
    for kept in ["\"info\"", "\"-d\"", "\"app\"", "\"db\"", "\"pin_count\":3"] {
        assert!(stored.contains(kept), "{kept} must stay: {stored}");
    }
}

/// ARCHITECTURE.md, "Redaction fingerprints": a fingerprint is keyed per source and principal.
#[test]
fn fingerprints_confirm_nothing_to_other_principals() {
    let s = sanitizer("");
    let secret = json!({"password": "Winter2026!"});
    let fp = |source: &str, principal: &str, v: &Value| {
        let out = s
            .sanitize_as(
                Scope { source, principal },
                Body::Event(event(v.clone())),
                0,
            )
            .unwrap();
        out.findings[0].fingerprint.clone()
    };
    let alice = fp("billing", "tok-alice", &secret);
    // Stable for the submitter, so its own entries correlate.
    assert_eq!(alice, fp("billing", "tok-alice", &secret));
    assert_eq!(alice.len(), 16);
    assert!(alice.bytes().all(|b| b.is_ascii_hexdigit()));
    // Mallory submits the right guess to the same source, and to another: neither fingerprint
    // equals the marker in Alice's entry.
    assert_ne!(alice, fp("billing", "tok-mallory", &secret));
    assert_ne!(alice, fp("other", "tok-alice", &secret));
    // The marker in the stored entry carries the same fingerprint as the finding.
    let out = s
        .sanitize_as(
            Scope {
                source: "billing",
                principal: "tok-alice",
            },
            Body::Event(event(secret.clone())),
            0,
        )
        .unwrap();
    let stored = String::from_utf8(out.encoded.bytes).unwrap();
    assert!(
        stored.contains(&format!("[REDACTED:json-secret-field:{alice}]")),
        "{stored}"
    );
}

/// How languages and config formats assign a value to a name, each with `{name}` and `{value}`
/// slots: the shapes a credential takes in source, config and build files that end up in logs.
const ASSIGNMENTS: &[&str] = &[
    "{name}={value}",
    "{name} = {value}",
    "{name}=\"{value}\"",
    "{name} = '{value}'",
    "{\n  \"{name}\": \"{value}\"\n}",
    "{\\\"{name}\\\": \\\"{value}\\\"}",
    "<{name}>{value}</{name}>",
    "<{name}>\n    {value}\n</{name}>",
    "{name}: {value}",
    "{name}: \"{value}\"",
    "{name}: |\n  {value}",
    "{name}: >-\n  {value}",
    "string {name} = \"{value}\";",
    "var {name} string = \"{value}\"",
    "{name} := \"{value}\"",
    "{name} := `{value}`",
    "val {name}: String = \"{value}\"",
    "let {name}: &str = \"{value}\";",
    "${name} = \"{value}\";",
    "${name} .= \"{value}\";",
    "'{name}' => '{value}',",
    ":{name} => \"{value}\",",
    "{name} <- \"{value}\"",
    "{name} ||= \"{value}\"",
    "{name} ?= {value}",
    "{name} ::= {value}",
    "{name} += \"{value}\"",
    "{name},{value},",
    "  \"{name}\" => \"{value}\"",
    "export {name}=\"{value}\"",
    "set {name}={value}",
    "$env:{name} = \"{value}\"",
    "System.setProperty(\"{name}\", \"{value}\")",
    "[{name}]: {value}",
];

/// Built once: a detector takes longer to compile than a case takes to run.
static DETECTOR: std::sync::LazyLock<glasslog_ingest::Detector> = std::sync::LazyLock::new(|| {
    glasslog_ingest::Detector::new(&glasslog_ingest::DetectorOptions::default()).unwrap()
});

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// A random credential under a name that says so is found, and covered whole, in every
    /// assignment syntax, whichever provider the name mentions (none of these has a rule).
    /// (It found that a random token opening with `Tbd` was taken for a placeholder.)
    #[test]
    fn a_random_credential_under_its_name_is_found_in_every_syntax(
        provider in proptest::sample::select(&[
            "adafruit", "asana", "zendesk", "fastly", "okta", "twitch", "kraken", "etsy",
            "finnhub", "sumologic", "rapidapi", "acme", "billing", "warehouse", "crm",
        ][..]),
        style in 0usize..6,
        syntax in proptest::sample::select(ASSIGNMENTS),
        value in "[A-Za-z0-9]{20,48}".prop_filter("mixed classes and varied", |v| {
            v.bytes().any(|b| b.is_ascii_digit())
                && v.bytes().any(|b| b.is_ascii_uppercase())
                && v.bytes().any(|b| b.is_ascii_lowercase())
                && v.bytes().collect::<std::collections::BTreeSet<_>>().len() >= 14
        }),
    ) {
        let upper = provider.to_ascii_uppercase();
        let name = match style {
            0 => format!("{provider}Token"),
            1 => format!("{provider}_token"),
            2 => format!("{upper}_TOKEN"),
            3 => format!("{provider}ApiKey"),
            4 => format!("{upper}_CLIENT_SECRET"),
            _ => format!("{provider}.api.secret"),
        };
        let text = syntax.replace("{name}", &name).replace("{value}", &value);
        let d = &*DETECTOR;
        let (start, end) = (text.find(&value).unwrap(), text.find(&value).unwrap() + value.len());
        let found = d.scan(&text);
        proptest::prop_assert!(
            found.iter().any(|m| m.start <= start && end <= m.end),
            "{text:?}: {:?}",
            found.iter().map(|m| &text[m.start..m.end]).collect::<Vec<_>>()
        );
    }
}
