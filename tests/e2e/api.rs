//! The HTTP API as submitters, monitors, auditors and attackers use it.

use crate::Server;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use glasslog_merkle::*;
use serde_json::{Value, json};

const GH: &str = "ghp_R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0jG8sE2u";

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect()
}

fn open_checkpoint(s: &Server, note: &str) -> Checkpoint {
    let set = VerifierSet::from_vkeys([s.vkey.as_str()]).unwrap();
    Checkpoint::parse(&Note::open(note.as_bytes(), &set).unwrap().text).unwrap()
}

fn event(i: u64) -> Value {
    json!({"actor": format!("user-{i}"), "action": "update", "resource": {"name": format!("doc/{i}"), "type": "document"}, "outcome": "success"})
}

#[test]
fn submissions_are_checkpointed_and_verify_offline() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let info = s.get("/v1/log", None).json();
    assert_eq!(info["verifier_key"], s.vkey);
    let first = open_checkpoint(&s, info["checkpoint"].as_str().unwrap());
    assert_eq!(first.size, 0);

    // One submission with wait=checkpoint: the proof verifies against the signed checkpoint.
    let r = s.request(
        "POST",
        "/v1/entries?wait=checkpoint",
        Some(&s.admin),
        Some("application/json"),
        &serde_json::to_vec(&event(0)).unwrap(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    let cp = open_checkpoint(&s, v["checkpoint"].as_str().unwrap());
    let leaf = Hash::from_base64(v["leaf_hash"].as_str().unwrap()).unwrap();
    verify_inclusion(
        v["index"].as_u64().unwrap(),
        cp.size,
        &leaf,
        &hashes(&v["inclusion_proof"]),
        &cp.root,
    )
    .unwrap();

    // Batches (JSON array and NDJSON) cross a tile boundary.
    for chunk in 0..3u64 {
        let items: Vec<Value> = (1 + chunk * 100..1 + (chunk + 1) * 100)
            .map(event)
            .collect();
        let r = if chunk == 1 {
            let nd: String = items.iter().map(|i| format!("{i}\n")).collect();
            s.request(
                "POST",
                "/v1/entries/batch",
                Some(&s.admin),
                Some("application/x-ndjson"),
                nd.as_bytes(),
            )
        } else {
            s.post_json("/v1/entries/batch", Some(&s.admin), &Value::Array(items))
        };
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(
            r.json()["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["index"].is_u64())
        );
    }
    let cp_note = s.get("/checkpoint", None);
    assert_eq!(cp_note.content_type, "text/plain; charset=utf-8");
    let cp = open_checkpoint(&s, &cp_note.text());
    assert_eq!(cp.size, 301);

    // A monitor's view: every tile and entry bundle of this size rebuilds the signed root.
    let mut tree = MemoryHashes::new();
    for t in tiles_for_size(cp.size).into_iter().filter(|t| t.level == 0) {
        let tile = s.get(&format!("/{}", t.path()), None);
        assert_eq!(tile.status, 200);
        assert_eq!(tile.content_type, "application/octet-stream");
        let bundle = s.get(&format!("/{}", t.entries_path()), Some(&s.admin));
        assert_eq!(bundle.status, 200, "{}", t.entries_path());
        let entries = decode_entry_bundle(&bundle.body).unwrap();
        let leaves: Vec<u8> = entries.iter().flat_map(|e| leaf_hash(e).0).collect();
        assert_eq!(leaves, tile.body, "bundle hashes to its tile");
        for e in entries {
            tree.push(leaf_hash(e));
        }
    }
    assert_eq!(tree.root(), cp.root);
    assert_eq!(
        s.get("/tile/1/000.p/1", None).body,
        tree.read_hashes(&[NodeId::new(8, 0)]).unwrap()[0].0
    );

    // An auditor's view: entries, proofs by index and by hash, consistency.
    let e = s.get("/v1/entries/150", Some(&s.admin)).json();
    let bytes = STANDARD
        .decode(e["entry_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        e["leaf_hash"].as_str().unwrap(),
        leaf_hash(&bytes).to_base64()
    );
    assert_eq!(e["entry"]["event"]["actor"]["user"]["name"], "user-150");
    let p = s
        .get(
            &format!("/v1/proofs/inclusion?index=150&tree_size={}", cp.size),
            None,
        )
        .json();
    verify_inclusion(
        150,
        cp.size,
        &leaf_hash(&bytes),
        &hashes(&p["audit_path"]),
        &cp.root,
    )
    .unwrap();
    let by_hash = format!(
        "/v1/proofs/inclusion?leaf_hash={}&tree_size={}",
        leaf_hash(&bytes)
            .to_base64()
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D"),
        cp.size
    );
    assert_eq!(s.get(&by_hash, None).json()["leaf_index"], 150);
    let c = s
        .get(
            &format!("/v1/proofs/consistency?from=1&to={}", cp.size),
            None,
        )
        .json();
    let one = open_checkpoint(&s, v["checkpoint"].as_str().unwrap());
    verify_consistency(1, cp.size, &hashes(&c["consistency"]), &one.root, &cp.root).unwrap();
    let range = s.get("/v1/entries?start=10&end=20", Some(&s.admin)).json();
    assert_eq!(range["entries"].as_array().unwrap().len(), 10);
}

#[test]
fn secrets_are_redacted_everywhere_and_logged_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let r = s.request(
        "POST",
        "/v1/entries",
        Some(&s.admin),
        Some("text/plain"),
        format!("deploy used {GH} and password=hunter2hunter2").as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let rules: Vec<String> = r.json()["redactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        rules.contains(&"github-token".to_owned())
            && rules.contains(&"password-assignment".to_owned()),
        "{rules:?}"
    );
    let ev = json!({"actor": "ops", "action": "login", "details": {"password": "Winter2024!", "Authorization": format!("token {GH}")}});
    assert_eq!(s.post_json("/v1/entries", Some(&s.admin), &ev).status, 201);
    let bundle = s.get("/tile/entries/000.p/2", Some(&s.admin));
    let stored = String::from_utf8_lossy(&bundle.body).into_owned();
    for secret in [GH, "hunter2hunter2", "Winter2024!"] {
        assert!(!stored.contains(secret), "{secret} reached storage");
        assert!(
            !s.get("/v1/entries/1", Some(&s.admin))
                .text()
                .contains(secret)
        );
        assert!(!s.get("/metrics", Some(&s.admin)).text().contains(secret));
    }
    assert!(stored.contains("[REDACTED:github-token:"));
    let metrics = s.get("/metrics", Some(&s.admin)).text();
    assert!(
        metrics.contains("glasslog_redactions_total{rule=\"github-token\"} 2"),
        "{metrics}"
    );
    let token = s.admin.clone();
    let log = s.stop();
    let _ = log;
    let server_log = std::fs::read_to_string(dir.path().join("data.stderr.log")).unwrap();
    for secret in [GH, "hunter2hunter2", "Winter2024!", token.as_str()] {
        assert!(
            !server_log.contains(secret),
            "the server log holds a secret"
        );
    }
}

#[test]
fn duplicates_rejections_and_batches_with_bad_items() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        &dir.path().join("data"),
        &[
            "--config",
            &write_config(dir.path(), "[policy.sources.strict]\nmode = \"reject\"\n"),
        ],
    );
    let key = [("Idempotency-Key", "retry-7")];
    let a = s.post_json_with("/v1/entries", Some(&s.admin), &event(7), &key);
    let b = s.post_json_with("/v1/entries", Some(&s.admin), &event(7), &key);
    assert_eq!((a.status, b.status), (201, 200));
    assert_eq!(a.json()["index"], b.json()["index"]);
    assert_eq!(b.json()["duplicate"], true);
    let batch = json!([event(1), {"action": "no actor"}, "a raw text entry", event(1)]);
    let r = s
        .post_json("/v1/entries/batch", Some(&s.admin), &batch)
        .json();
    let results = r["results"].as_array().unwrap();
    assert!(results[0]["index"].is_u64() && results[2]["index"].is_u64());
    assert_eq!(results[1]["error"]["status"], 422);
    assert_ne!(
        results[3]["index"], results[0]["index"],
        "without a key, a repeat inside one batch is another event"
    );
    let strict = s.request(
        "POST",
        "/v1/entries?source=strict",
        Some(&s.admin),
        Some("text/plain"),
        format!("x {GH}").as_bytes(),
    );
    assert_eq!(strict.status, 422);
    assert_eq!(
        strict.json()["type"],
        "urn:glasslog:problem:secrets-rejected"
    );
    assert!(!strict.text().contains(GH));
}

/// Runs `glasslog serve` on `data` in the foreground, for start-up refusals: it exits at once.
fn serve_once(data: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--origin",
            "e2e.glasslog.example/log",
            "--data-dir",
        ])
        .arg(data)
        .output()
        .unwrap()
}

fn write_config(dir: &std::path::Path, body: &str) -> String {
    let p = dir.join("glasslog.toml");
    std::fs::write(&p, body).unwrap();
    p.display().to_string()
}

/// Method, path, content type, body, expected status.
type Case<'a> = (&'a str, &'a str, Option<&'a str>, &'a [u8], u16);

#[test]
fn bad_input_gets_a_problem_document_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let t = s.admin.clone();
    let big_text = "x".repeat(70_000);
    let huge = vec![b'a'; 9 << 20];
    let cases: Vec<Case<'_>> = vec![
        ("POST", "/v1/entries", Some("application/json"), b"{", 400),
        (
            "POST",
            "/v1/entries",
            Some("application/json"),
            b"[1,2]",
            422,
        ),
        (
            "POST",
            "/v1/entries",
            Some("application/json"),
            br#"{"actor":"a","action":"b","extra":1}"#,
            422,
        ),
        ("POST", "/v1/entries", Some("application/xml"), b"<a/>", 415),
        ("POST", "/v1/entries", None, b"{}", 415),
        ("POST", "/v1/entries", Some("text/plain"), b"\xff\xfe", 400),
        (
            "POST",
            "/v1/entries",
            Some("text/plain"),
            big_text.as_bytes(),
            413,
        ),
        ("POST", "/v1/entries", Some("text/plain"), &huge, 413),
        (
            "POST",
            "/v1/entries?wait=later",
            Some("text/plain"),
            b"x",
            400,
        ),
        ("POST", "/v1/entries?bogus=1", Some("text/plain"), b"x", 400),
        (
            "POST",
            "/v1/entries/batch",
            Some("application/json"),
            b"[]",
            400,
        ),
        (
            "POST",
            "/v1/entries/batch",
            Some("application/json"),
            b"{}",
            400,
        ),
        ("GET", "/v1/entries/99999999999999999999", None, b"", 400),
        ("GET", "/v1/entries/5", None, b"", 404),
        ("GET", "/v1/entries?start=5&end=1", None, b"", 400),
        (
            "GET",
            "/v1/proofs/inclusion?index=0&tree_size=18446744073709551615",
            None,
            b"",
            400,
        ),
        ("GET", "/v1/proofs/inclusion?index=0", None, b"", 400),
        (
            "GET",
            "/v1/proofs/inclusion?index=-1&tree_size=1",
            None,
            b"",
            400,
        ),
        (
            "GET",
            "/v1/proofs/inclusion?leaf_hash=%%%&tree_size=1",
            None,
            b"",
            400,
        ),
        (
            "GET",
            "/v1/proofs/inclusion?leaf_hash=AAAA&tree_size=1",
            None,
            b"",
            400,
        ),
        ("GET", "/v1/proofs/consistency?from=0&to=1", None, b"", 400),
        ("GET", "/v1/proofs/consistency?from=2&to=1", None, b"", 400),
        ("GET", "/tile/0/5", None, b"", 404),
        ("GET", "/tile/0/000.p/9", None, b"", 404),
        ("GET", "/tile/63/x999/999", None, b"", 404),
        ("GET", "/tile/18/780", None, b"", 404),
        ("GET", "/no/such/route", None, b"", 404),
        ("DELETE", "/checkpoint", None, b"", 405),
    ];
    // Two entries so that sizes 1..2 exist.
    s.post_json("/v1/entries/batch", Some(&t), &json!([event(1), event(2)]));
    for (method, path, ct, body, want) in cases {
        let token = if path.starts_with("/v1/entries") {
            Some(t.as_str())
        } else {
            None
        };
        let r = match s.try_request(method, path, token, ct, body) {
            Ok(r) => r,
            // Refusing an oversized body by closing the connection is also a correct answer.
            Err(_) if body.len() > (8 << 20) => continue,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        assert_eq!(
            r.status,
            want,
            "{method} {path}: {}",
            String::from_utf8_lossy(&r.body[..r.body.len().min(300)])
        );
        assert!(
            r.content_type.starts_with("application/problem+json"),
            "{method} {path}: {}",
            r.content_type
        );
        let p = r.json();
        assert_eq!(p["status"], want);
        assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    assert_eq!(s.get("/healthz", None).status, 200);
    assert_eq!(s.get("/checkpoint", None).status, 200);
    assert_eq!(
        open_checkpoint(&s, &s.get("/checkpoint", None).text()).size,
        2,
        "nothing was added by bad requests"
    );
}

#[test]
fn every_route_with_every_role() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    s.post_json("/v1/entries", Some(&s.admin), &event(1));
    let tokens = [
        ("none", None),
        ("submitter", Some(s.token("submitter", "svc-a"))),
        ("reader", Some(s.token("reader", "monitor"))),
        ("auditor", Some(s.token("auditor", "audit"))),
        ("admin", Some(s.admin.clone())),
    ];
    // (method, path, body, allowed roles); public reads are on by default.
    let routes: Vec<(&str, &str, Value, &[&str])> = vec![
        ("POST", "/v1/entries", event(9), &["submitter", "admin"]),
        (
            "POST",
            "/v1/entries/batch",
            json!([event(10)]),
            &["submitter", "admin"],
        ),
        ("GET", "/v1/entries/0", Value::Null, &["auditor", "admin"]),
        (
            "GET",
            "/v1/entries?start=0&end=1",
            Value::Null,
            &["auditor", "admin"],
        ),
        (
            "GET",
            "/v1/search?actor=a",
            Value::Null,
            &["auditor", "admin"],
        ),
        (
            "GET",
            "/tile/entries/000.p/1",
            Value::Null,
            &["auditor", "admin"],
        ),
        (
            "GET",
            "/tile/0/000.p/1",
            Value::Null,
            &["none", "submitter", "reader", "auditor", "admin"],
        ),
        (
            "GET",
            "/checkpoint",
            Value::Null,
            &["none", "submitter", "reader", "auditor", "admin"],
        ),
        (
            "GET",
            "/v1/proofs/inclusion?index=0&tree_size=1",
            Value::Null,
            &["none", "submitter", "reader", "auditor", "admin"],
        ),
        (
            "GET",
            "/v1/proofs/consistency?from=1&to=1",
            Value::Null,
            &["none", "submitter", "reader", "auditor", "admin"],
        ),
        (
            "GET",
            "/v1/log",
            Value::Null,
            &["none", "submitter", "reader", "auditor", "admin"],
        ),
        ("GET", "/v1/admin/tokens", Value::Null, &["admin"]),
        (
            "POST",
            "/v1/admin/tokens",
            json!({"role": "reader", "name": "x"}),
            &["admin"],
        ),
        (
            "DELETE",
            "/v1/admin/tokens/nonexistent",
            Value::Null,
            &["admin"],
        ),
        // Data protection is admin-only; this log is not encrypted at rest, so an admin gets
        // 409 not-encrypted where keys would be destroyed (tests/e2e/protect.rs has the rest).
        (
            "POST",
            "/v1/admin/erasures",
            json!({"actor": "x", "reason": "matrix"}),
            &["admin"],
        ),
        ("GET", "/v1/admin/holds", Value::Null, &["admin"]),
        (
            "POST",
            "/v1/admin/holds",
            json!({"reason": "matrix"}),
            &["admin"],
        ),
        (
            "DELETE",
            "/v1/admin/holds/nonexistent",
            Value::Null,
            &["admin"],
        ),
        ("POST", "/v1/admin/retention/run", Value::Null, &["admin"]),
        (
            "GET",
            "/metrics",
            Value::Null,
            &["reader", "auditor", "admin"],
        ),
        (
            "GET",
            "/healthz",
            Value::Null,
            &["none", "submitter", "reader", "auditor", "admin"],
        ),
        // Break-glass: the embedded default lets any token request, admins approve, and
        // auditors and admins review and read reports. Steps on a session that does not exist
        // answer 404 once the caller is known.
        (
            "POST",
            "/v1/breakglass/sessions",
            json!({"justification": "matrix", "ticket": "T-1",
                   "scope": {"resources": ["x"]}, "duration_seconds": 60}),
            &["submitter", "reader", "auditor", "admin"],
        ),
        (
            "GET",
            "/v1/breakglass/sessions",
            Value::Null,
            &["submitter", "reader", "auditor", "admin"],
        ),
        (
            "GET",
            "/v1/breakglass/sessions/nonexistent",
            Value::Null,
            &["submitter", "reader", "auditor", "admin"],
        ),
        (
            "POST",
            "/v1/breakglass/sessions/nonexistent/approve",
            json!({}),
            &["submitter", "reader", "auditor", "admin"],
        ),
        (
            "POST",
            "/v1/breakglass/sessions/nonexistent/deny",
            json!({"reason": "no"}),
            &["submitter", "reader", "auditor", "admin"],
        ),
        (
            "POST",
            "/v1/breakglass/sessions/nonexistent/extend",
            json!({"seconds": 60, "reason": "more"}),
            &["submitter", "reader", "auditor", "admin"],
        ),
        (
            "POST",
            "/v1/breakglass/sessions/nonexistent/close",
            json!({}),
            &["submitter", "reader", "auditor", "admin"],
        ),
        (
            "POST",
            "/v1/breakglass/sessions/nonexistent/review",
            json!({"verdict": "appropriate"}),
            &["submitter", "reader", "auditor", "admin"],
        ),
        (
            "GET",
            "/v1/breakglass/sessions/nonexistent/report",
            Value::Null,
            &["auditor", "admin"],
        ),
        (
            "POST",
            "/v1/breakglass/audit",
            Value::Null,
            &["auditor", "admin"],
        ),
        (
            "GET",
            "/readyz",
            Value::Null,
            &["none", "submitter", "reader", "auditor", "admin"],
        ),
        // The console is code, not data: it is served to anyone, and signs in with a token
        // itself.
        (
            "GET",
            "/ui",
            Value::Null,
            &["none", "submitter", "reader", "auditor", "admin"],
        ),
        (
            "GET",
            "/ui/",
            Value::Null,
            &["none", "submitter", "reader", "auditor", "admin"],
        ),
        (
            "GET",
            "/ui/console.js",
            Value::Null,
            &["none", "submitter", "reader", "auditor", "admin"],
        ),
    ];
    let templates: std::collections::BTreeSet<(String, String)> = routes
        .iter()
        .map(|(m, p, _, _)| (m.to_lowercase(), route_template(p)))
        .collect();
    assert_eq!(
        templates,
        spec_routes(),
        "the matrix covers every route of the contract"
    );
    for (method, path, body, allowed) in &routes {
        for (role, token) in &tokens {
            let bytes = if body.is_null() {
                Vec::new()
            } else {
                serde_json::to_vec(body).unwrap()
            };
            let r = s.request(
                method,
                path,
                token.as_deref(),
                Some("application/json"),
                &bytes,
            );
            let ok = r.status < 400
                || (r.status == 404 && path.contains("nonexistent"))
                || (r.status == 409 && r.text().contains("not-encrypted"));
            let want_ok = allowed.contains(role);
            assert_eq!(
                ok,
                want_ok,
                "{role} {method} {path}: {} {}",
                r.status,
                r.text()
            );
            if !want_ok {
                assert_eq!(
                    r.status,
                    if *role == "none" { 401 } else { 403 },
                    "{role} {method} {path}"
                );
            }
        }
    }
    // A revoked token stops working at once; a bad token is refused even on public routes.
    let reader = tokens[2].1.clone().unwrap();
    let list = s.get("/v1/admin/tokens", Some(&s.admin)).json();
    let id = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "monitor")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.request(
            "DELETE",
            &format!("/v1/admin/tokens/{id}"),
            Some(&s.admin),
            None,
            b""
        )
        .status,
        204
    );
    assert_eq!(s.get("/checkpoint", Some(&reader)).status, 401);
    assert_eq!(s.get("/checkpoint", Some("garbage")).status, 401);
    // Admin actions are entries in the log.
    let cp = open_checkpoint(&s, &s.get("/checkpoint", None).text());
    let all = s
        .get(
            &format!("/v1/entries?start=0&end={}", cp.size.min(256)),
            Some(&s.admin),
        )
        .json();
    let actions: Vec<String> = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            e["entry"]["event"]["api"]["operation"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(
        actions.iter().filter(|a| *a == "create api token").count() >= 3,
        "{actions:?}"
    );
    assert!(actions.contains(&"revoke api token".to_owned()));
}

/// The OpenAPI path template a concrete request path falls under.
fn route_template(path: &str) -> String {
    let path = path.split('?').next().unwrap();
    if path.starts_with("/tile/") {
        return "/tile/{path}".into();
    }
    if let Some(rest) = path.strip_prefix("/v1/entries/")
        && rest != "batch"
    {
        return "/v1/entries/{index}".into();
    }
    if path.starts_with("/ui/") && path.len() > "/ui/".len() {
        return "/ui/{file}".into();
    }
    if path.starts_with("/v1/admin/tokens/") {
        return "/v1/admin/tokens/{id}".into();
    }
    if path.starts_with("/v1/admin/holds/") {
        return "/v1/admin/holds/{id}".into();
    }
    if let Some(rest) = path.strip_prefix("/v1/breakglass/sessions/") {
        return match rest.split_once('/') {
            Some((_, step)) => format!("/v1/breakglass/sessions/{{id}}/{step}"),
            None => "/v1/breakglass/sessions/{id}".into(),
        };
    }
    path.to_owned()
}

/// `(method, path)` pairs of api/openapi.yaml.
fn spec_routes() -> std::collections::BTreeSet<(String, String)> {
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../api/openapi.yaml"
    ))
    .unwrap();
    glasslog_api::openapi_routes(&spec)
}

#[test]
fn restart_keeps_every_entry_and_a_second_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(&data);
    let items: Vec<Value> = (0..50).map(event).collect();
    s.post_json_with(
        "/v1/entries/batch",
        Some(&s.admin),
        &Value::Array(items),
        &[("Idempotency-Key", "before-restart")],
    );
    let before = s.get("/checkpoint", None).text();
    // A second server on the same directory must be refused, not corrupt it.
    let second = serve_once(&data);
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    s.stop();
    let s = Server::start(&data);
    assert_eq!(
        s.get("/checkpoint", None).text(),
        before,
        "the same signed head after a restart"
    );
    let old = open_checkpoint(&s, &before);
    let r = s.request(
        "POST",
        "/v1/entries?wait=checkpoint",
        Some(&s.admin),
        Some("application/json"),
        &serde_json::to_vec(&event(99)).unwrap(),
    );
    let new = open_checkpoint(&s, r.json()["checkpoint"].as_str().unwrap());
    assert_eq!(new.size, 51);
    let c = s
        .get(
            &format!("/v1/proofs/consistency?from={}&to={}", old.size, new.size),
            None,
        )
        .json();
    verify_consistency(
        old.size,
        new.size,
        &hashes(&c["consistency"]),
        &old.root,
        &new.root,
    )
    .unwrap();
    let again = s.post_json_with(
        "/v1/entries",
        Some(&s.admin),
        &event(3),
        &[("Idempotency-Key", "before-restart#3")],
    );
    assert_eq!(again.json()["duplicate"], true, "dedup survives a restart");
}

#[test]
fn token_commands_manage_tokens_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let glasslog = |args: &[&str]| s.cli(args);
    let (code, out, err) = glasslog(&[
        "token",
        "create",
        "--role",
        "submitter",
        "--name",
        "billing",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let token = out
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap()
        .to_owned();
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("id:    "))
        .unwrap()
        .to_owned();
    assert_eq!(
        s.post_json("/v1/entries", Some(&token), &event(1)).status,
        201
    );
    let (_, list, _) = glasslog(&["token", "list"]);
    assert!(list.contains(&id) && list.contains("billing") && !list.contains(&token));
    assert_eq!(glasslog(&["token", "revoke", &id]).0, Some(0));
    assert_eq!(
        s.post_json("/v1/entries", Some(&token), &event(2)).status,
        401
    );
    let (code, _, err) = glasslog(&["token", "create", "--role", "emperor", "--name", "x"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("400"), "{err}");
}

/// Percent-encodes everything but unreserved characters.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn secrets_of_every_rule_planted_in_headers_queries_and_justifications_leak_nowhere() {
    use glasslog_ingest::rules::{Kind, RULES};
    let dir = tempfile::tempdir().unwrap();
    // One session per rule, all open at once.
    let cfg = dir.path().join("glasslog.toml");
    std::fs::write(
        &cfg,
        "[breakglass]\nmax_open_sessions_per_requester = 1000\n",
    )
    .unwrap();
    // Debug logging: the strictest setting an operator might run with.
    let s = Server::start_with_env(
        &dir.path().join("data"),
        &["--config", cfg.to_str().unwrap()],
        &[("GLASSLOG_LOG", "debug")],
    );
    let alice = s.token("submitter", "alice");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut planted = Vec::new();
    let mut sessions = Vec::new();
    for rule in RULES.iter().filter(|r| !matches!(r.kind, Kind::Pii)) {
        let (text, secret) = rule.examples[0];
        planted.push((rule.id, secret));
        // In headers, where the value is a valid header value.
        if secret.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            let r = agent
                .post(&format!("{}/v1/entries", s.base))
                .header("Authorization", &format!("Bearer {secret}"))
                .header("User-Agent", secret)
                .header("X-Debug-Note", text.lines().next().unwrap_or(secret))
                .header("Content-Type", "application/json")
                .send(br#"{"actor":"a","action":"read"}"#)
                .unwrap();
            let status = r.status().as_u16();
            assert!(status == 400 || status == 401);
            let body = r.into_body().read_to_string().unwrap();
            assert!(!body.contains(secret), "{}: the error echoes it", rule.id);
        }
        // In query strings of a real request and of refused ones.
        for path in [
            format!("/v1/entries?source={}", pct(secret)),
            format!("/v1/entries?wait={}", pct(secret)),
            format!("/v1/proofs/inclusion?index={}&tree_size=1", pct(secret)),
        ] {
            let r = s.request(
                "POST",
                &path,
                Some(&alice),
                Some("application/json"),
                br#"{"actor":"alice","action":"read"}"#,
            );
            assert!(r.status >= 400 && r.status < 500, "{path}: {}", r.status);
            assert!(!r.text().contains(secret), "{}: {path} echoes it", rule.id);
        }
        // As the value of a field with the wrong type or variant, which parsers quote back.
        let r = s.post_json(
            "/v1/entries",
            Some(&alice),
            &json!({"actor": "alice", "action": "read", "outcome": secret}),
        );
        assert!(r.status >= 400 && r.status < 500);
        assert!(
            !r.text().contains(secret),
            "{}: the error quotes it",
            rule.id
        );
        // In a break-glass justification.
        let r = s.post_json(
            "/v1/breakglass/sessions",
            Some(&alice),
            &json!({"justification": text, "ticket": "INC-1",
                    "scope": {"resources": ["x"]}, "duration_seconds": 60}),
        );
        assert_eq!(r.status, 201, "{}: {}", rule.id, r.text());
        assert!(!r.text().contains(secret), "{} is in the session", rule.id);
        sessions.push((rule.id, r.json()["id"].as_str().unwrap().to_owned()));
    }
    assert!(
        sessions.len() >= 70,
        "only {} rules planted",
        sessions.len()
    );
    // Every justification raised the rotate-this-credential alert.
    for (rule, id) in &sessions {
        let session = s
            .get(&format!("/v1/breakglass/sessions/{id}"), Some(&s.admin))
            .json();
        assert!(
            session["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["rule"] == "secret_in_session"),
            "{rule}: {session}"
        );
    }
    // Nothing stored, served or logged holds any of them.
    let size = s.get("/v1/log", None).json()["tree_size"].as_u64().unwrap();
    let mut stored = String::new();
    for start in (0..size).step_by(256) {
        let end = (start + 256).min(size);
        stored.push_str(
            &s.get(
                &format!("/v1/entries?start={start}&end={end}"),
                Some(&s.admin),
            )
            .text(),
        );
    }
    let metrics = s.get("/metrics", Some(&s.admin)).text();
    s.stop();
    let server_log = std::fs::read_to_string(dir.path().join("data.stderr.log")).unwrap();
    assert!(
        server_log.contains("break-glass alert"),
        "the log was written"
    );
    for (rule, secret) in planted {
        assert!(
            !stored.contains(secret),
            "{rule}: its secret reached storage"
        );
        assert!(
            !metrics.contains(secret),
            "{rule}: its secret is in /metrics"
        );
        assert!(
            !server_log.contains(secret),
            "{rule}: its secret is in the server log"
        );
    }
}

/// Issue #11: each of these was stored in clear by `glasslog serve`.
#[test]
fn the_reported_leaks_are_stored_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let event = |details: Value| json!({"actor": "alice", "action": "login", "resource": "app", "details": details});
    let events = [
        (
            event(json!({"headers": {"Authorization": "Basic YWRtaW46aHVudGVyMg=="}})),
            "YWRtaW46aHVudGVyMg==",
        ),
        (
            event(json!({"headers": {"Proxy-Authorization": "Basic YWRtaW46aHVudGVyMg=="}})),
            "YWRtaW46aHVudGVyMg==",
        ),
        (event(json!({"password": "$uperS3cret!"})), "$uperS3cret!"),
    ];
    let texts = [
        ("ALTER USER app WITH PASSWORD 'Sup3rS3cret';", "Sup3rS3cret"),
        (
            "CREATE USER 'app'@'%' IDENTIFIED BY 'Sup3rS3cret';",
            "Sup3rS3cret",
        ),
        ("GET /login?user=bob&password%3Dhunter2xyz", "hunter2xyz"),
    ];
    let mut secrets = Vec::new();
    for (ev, secret) in &events {
        let r = s.post_json("/v1/entries", Some(&s.admin), ev);
        assert_eq!(r.status, 201, "{}", r.text());
        assert!(!r.json()["redactions"].as_array().unwrap().is_empty());
        secrets.push(*secret);
    }
    for (text, secret) in &texts {
        let r = s.request(
            "POST",
            "/v1/entries",
            Some(&s.admin),
            Some("text/plain"),
            text.as_bytes(),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        assert!(
            !r.json()["redactions"].as_array().unwrap().is_empty(),
            "{text}"
        );
        // And the same statement inside an event's details.
        let r = s.post_json(
            "/v1/entries",
            Some(&s.admin),
            &event(json!({"statement": text})),
        );
        assert_eq!(r.status, 201);
        secrets.push(*secret);
    }
    let bundle = s.get("/tile/entries/000.p/9", Some(&s.admin));
    assert_eq!(bundle.status, 200);
    let stored = String::from_utf8_lossy(&bundle.body).into_owned();
    for secret in secrets {
        assert!(!stored.contains(secret), "{secret} reached storage");
    }
}

/// ARCHITECTURE.md, "Redaction fingerprints": a submitter who guesses another's redacted
/// password gets a fingerprint that does not match the stored marker.
#[test]
fn a_guess_submitted_by_another_principal_confirms_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let alice = s.token("submitter", "alice");
    let mallory = s.token("submitter", "mallory");
    let ev = json!({"actor": "alice", "action": "login", "details": {"password": "Winter2026!"}});
    let fp = |token: &str| {
        let r = s.post_json("/v1/entries", Some(token), &ev);
        assert!(r.status == 201 || r.status == 200, "{}", r.text());
        let v = r.json();
        (
            v["redactions"][0]["fingerprint"]
                .as_str()
                .unwrap()
                .to_owned(),
            v["index"].as_u64().unwrap(),
        )
    };
    let (alices, index) = fp(&alice);
    let stored = s
        .get(&format!("/v1/entries/{index}"), Some(&s.admin))
        .text();
    assert!(
        stored.contains(&alices),
        "the marker carries the submitter's fingerprint"
    );
    assert_ne!(
        fp(&mallory).0,
        alices,
        "mallory's right guess must not match alice's marker"
    );
    assert_eq!(fp(&alice).0, alices, "alice's own entries still correlate");
}

/// Issue #12: a per-item problem in a batch answer (200 `application/json`) went around the
/// redaction of problem documents, so a secret used as a field name came back.
#[test]
fn batch_item_problems_never_echo_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let items = json!([
        {"actor": "a", "action": "read"},
        {"actor": "a", "action": "read", GH: 1},
        {"actor": "a", "action": "read", "outcome": GH},
    ]);
    let r = s.post_json("/v1/entries/batch", Some(&s.admin), &items);
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(!text.contains(GH), "{text}");
    let results = r.json()["results"].as_array().unwrap().clone();
    assert!(results[0].get("index").is_some());
    assert!(
        results[1].get("error").is_some() && results[2].get("error").is_some(),
        "{text}"
    );
    // The single-submission path, through the middleware, agrees.
    let one = s.post_json(
        "/v1/entries",
        Some(&s.admin),
        &json!({"actor": "a", "action": "read", GH: 1}),
    );
    assert!(one.status >= 400 && one.status < 500);
    assert!(!one.text().contains(GH));
}

/// Issue #12: `/metrics` has its own setting, off by default, instead of following
/// `public_reads`.
#[test]
fn metrics_need_a_reader_unless_made_public() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    assert_eq!(s.get("/metrics", None).status, 401);
    assert_eq!(
        s.get("/checkpoint", None).status,
        200,
        "public reads are still public"
    );
    let reader = s.token("reader", "scraper");
    assert_eq!(s.get("/metrics", Some(&reader)).status, 200);
    s.stop();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "public_metrics = true\n");
    let s = Server::start_with(&dir.path().join("data"), &["--config", &cfg]);
    assert_eq!(s.get("/metrics", None).status, 200);
}

/// Issue #12: the fingerprint key and the token file get the signing key's permission check.
#[test]
fn secret_files_others_can_read_are_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(&data);
    s.stop();
    for file in ["fingerprint.key", "tokens.json"] {
        let path = data.join(file);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = serve_once(&data);
        assert!(
            !out.status.success(),
            "{file} readable by others was accepted"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("chmod 600") && stderr.contains(file),
            "{stderr}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // Owner-only again: it starts.
    let s = Server::start(&data);
    assert_eq!(s.get("/checkpoint", None).status, 200);
}

/// Issue #12: an audit log keeps every event. Identical events without a key are separate
/// entries; only an idempotency key (the header, or OCSF `metadata.uid`) makes a retry the
/// same entry, and only within one source.
#[test]
fn every_event_is_kept_and_only_a_key_deduplicates() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let failed_login = json!({"actor": "mallory", "action": "login", "outcome": "failure",
                              "source": {"ip": "203.0.113.9"}});
    let indexes: std::collections::BTreeSet<u64> = (0..5)
        .map(|_| {
            let r = s.post_json("/v1/entries", Some(&s.admin), &failed_login);
            assert_eq!(r.status, 201, "{}", r.text());
            r.json()["index"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(indexes.len(), 5, "five failed logins are five entries");
    // The header: a retry is the same entry; another source's same key is not.
    let key = [("Idempotency-Key", "login-42")];
    let first = s.post_json_with("/v1/entries", Some(&s.admin), &failed_login, &key);
    let retry = s.post_json_with("/v1/entries", Some(&s.admin), &failed_login, &key);
    assert_eq!(first.json()["index"], retry.json()["index"]);
    assert_eq!(retry.status, 200);
    let elsewhere = s.post_json_with(
        "/v1/entries?source=other",
        Some(&s.admin),
        &failed_login,
        &key,
    );
    assert_eq!(elsewhere.status, 201);
    assert_ne!(elsewhere.json()["index"], first.json()["index"]);
    // An OCSF record's own uid, in single submissions and batches alike.
    let ocsf = json!({"class_uid": 3002, "category_uid": 3, "activity_id": 1, "type_uid": 300201,
                      "severity_id": 1, "time": 1_700_000_000_000u64, "user": {"name": "bob"},
                      "metadata": {"version": "1.3.0", "uid": "evt-7", "product": {"name": "idp"}}});
    let one = s.post_json("/v1/entries", Some(&s.admin), &ocsf);
    assert_eq!(one.status, 201, "{}", one.text());
    let batch = s
        .post_json(
            "/v1/entries/batch",
            Some(&s.admin),
            &json!([ocsf, failed_login]),
        )
        .json();
    assert_eq!(batch["results"][0]["index"], one.json()["index"]);
    assert_eq!(batch["results"][0]["duplicate"], true);
    // A malformed key is refused.
    let bad = s.post_json_with(
        "/v1/entries",
        Some(&s.admin),
        &failed_login,
        &[("Idempotency-Key", "")],
    );
    assert_eq!(bad.status, 400);
}

/// Issue #12: the server authenticates before it reads a body. A client without a token that
/// announces 8 MB and sends none is refused at once, not buffered for.
#[test]
fn a_body_is_never_read_before_authentication() {
    use std::io::{Read as _, Write as _};
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let addr = s.base.trim_start_matches("http://").to_owned();
    for (path, auth) in [
        ("/v1/entries", ""),
        ("/v1/entries/batch", "Authorization: Bearer nope\r\n"),
    ] {
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        c.set_read_timeout(Some(std::time::Duration::from_secs(3)))
            .unwrap();
        write!(
            c,
            "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 8000000\r\n\r\n"
        )
        .unwrap();
        let mut buf = [0u8; 512];
        let n = c
            .read(&mut buf)
            .expect("an answer before any body byte was sent");
        let head = String::from_utf8_lossy(&buf[..n]);
        assert!(head.starts_with("HTTP/1.1 401"), "{path}: {head}");
    }
    // With a valid token the route reads the body as before.
    let r = s.post_json(
        "/v1/entries",
        Some(&s.admin),
        &json!({"actor": "a", "action": "read"}),
    );
    assert_eq!(r.status, 201);
}

/// Issue #17: a single submission is a batch of one, through the same pipeline: the same
/// stored event, the same redactions, the same metrics, for an event and for a refusal.
#[test]
fn a_single_submission_is_a_batch_of_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let event = json!({"actor": "ci", "action": "deploy",
                       "details": {"password": "Sup3r-S3cret-pw!", "note": "ok"}});
    let single = s.post_json("/v1/entries", Some(&s.admin), &event);
    assert_eq!(single.status, 201, "{}", single.text());
    let batch = s.post_json("/v1/entries/batch", Some(&s.admin), &json!([event]));
    assert_eq!(batch.status, 200, "{}", batch.text());
    let (one, many) = (single.json(), batch.json()["results"][0].clone());
    assert_eq!(one["redactions"], many["redactions"]);
    let stored = |i: &Value| {
        let mut e = s
            .get(
                &format!("/v1/entries/{}", i.as_u64().unwrap()),
                Some(&s.admin),
            )
            .json()["entry"]
            .clone();
        e.as_object_mut().unwrap().remove("received");
        e
    };
    assert_eq!(stored(&one["index"]), stored(&many["index"]));
    // Refusals are counted alike: an invalid body, alone or in a batch, is `invalid`.
    let bad = s.request(
        "POST",
        "/v1/entries",
        Some(&s.admin),
        Some("application/json"),
        b"{",
    );
    assert_eq!(bad.status, 400);
    let r = s.request(
        "POST",
        "/v1/entries/batch",
        Some(&s.admin),
        Some("application/x-ndjson"),
        b"{\n",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let metrics = s.get("/metrics", Some(&s.admin)).text();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("glasslog_submissions_total{outcome=\"invalid\"} 2")),
        "{metrics}"
    );
}

/// Issue #17: `ROUTES` (which the contract test holds to `api/openapi.yaml`) and the router
/// agree: every listed route reaches a handler, neither the fallback nor a 405.
#[test]
fn every_listed_route_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    for (method, path) in glasslog_api::ROUTES {
        let concrete = path
            .replace("{index}", "0")
            .replace("{id}", "bg-nope")
            .replace("{path}", "0/000");
        let r = s.request(
            &method.to_uppercase(),
            &concrete,
            Some(&s.admin),
            Some("application/json"),
            if *method == "post" { b"{}" } else { b"" },
        );
        assert_ne!(r.status, 405, "{method} {path}: method not routed");
        let fell_through =
            r.status == 404 && String::from_utf8_lossy(&r.body).contains("no such route");
        assert!(!fell_through, "{method} {path}: not routed: {}", r.text());
    }
}

/// Served tiles are kept in memory by their path: a second read is a cache hit with the same
/// bytes, and a tree that grew serves its wider tile under its own path, never a stale one.
#[test]
fn tiles_are_served_again_from_memory_and_never_stale() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let batch = |n: usize, tag: &str| {
        let items: Vec<Value> = (0..n)
            .map(|i| json!({"actor": format!("{tag}{i}"), "action": "x"}))
            .collect();
        assert_eq!(
            s.post_json("/v1/entries/batch", Some(&s.admin), &Value::Array(items))
                .status,
            200
        );
    };
    let hits = || {
        s.get("/metrics", Some(&s.admin))
            .text()
            .lines()
            .find_map(|l| l.strip_prefix("glasslog_tile_cache_hits_total "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap()
    };
    batch(10, "a");
    let first = s.get("/tile/0/000.p/10", None);
    assert_eq!(first.status, 200);
    let before = hits();
    let again = s.get("/tile/0/000.p/10", None);
    assert_eq!(again.body, first.body);
    assert_eq!(hits(), before + 1);
    batch(246, "b");
    let full = s.get("/tile/0/000", None);
    assert_eq!(full.status, 200);
    assert_eq!(full.body.len(), 256 * 32);
    assert_eq!(
        &full.body[..320],
        &first.body[..],
        "the wider tile extends the narrow one"
    );
    // A tile beyond the tree is still refused, and never cached.
    assert_eq!(s.get("/tile/0/001.p/3", None).status, 404);
}
