//! Break-glass end to end against the real server: the whole lifecycle through the CLI and
//! the API, webhooks, every alert kind that needs a live server, the report verified offline
//! and failing after one changed byte, and state rebuilt from the log after a restart.

use crate::Server;
use crate::server::run_cli;
use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A webhook receiver: every POST body, in order.
fn webhook() -> (String, mpsc::Receiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; len];
            if reader.read_exact(&mut body).is_ok()
                && let Ok(v) = serde_json::from_slice(&body)
            {
                let _ = tx.send(v);
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, rx)
}

/// Waits for a notification of `kind`, skipping others.
fn expect(rx: &mpsc::Receiver<Value>, kind: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let v = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {kind} notification"));
        if v["type"] == kind {
            return v;
        }
    }
}

fn config(dir: &Path, hook: &str, extra: &str) -> String {
    let path = dir.with_extension("toml");
    std::fs::write(
        &path,
        format!(
            "[breakglass]\napprovals_required = 2\napprovers = [\"bob\", \"carol\"]\n\
             reviewers = [\"role:auditor\"]\nmax_duration_seconds = 3600\nreporters = [\"svc\"]\n\
             review_deadline_seconds = 2\nwebhook = \"{hook}\"\n{extra}"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

fn alerts(s: &Server, id: &str, token: &str) -> Vec<String> {
    let r = s.get(&format!("/v1/breakglass/sessions/{id}"), Some(token));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap().to_owned())
        .collect()
}

/// A plain submission, under no session.
fn action(s: &Server, token: &str, actor: &str, op: &str, res: &str) -> u16 {
    s.request(
        "POST",
        "/v1/entries",
        Some(token),
        Some("application/json"),
        json!({"actor": actor, "action": op, "resource": res})
            .to_string()
            .as_bytes(),
    )
    .status
}

/// A submission under a session, named by the header.
fn action_in(s: &Server, token: &str, session: &str, actor: &str, op: &str, res: &str) -> u16 {
    let url = format!("{}/v1/entries", s.base);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .header("Glasslog-Breakglass-Session", session)
        .send(
            json!({"actor": actor, "action": op, "resource": res})
                .to_string()
                .as_bytes(),
        )
        .unwrap()
        .status()
        .as_u16()
}

fn tree_size(s: &Server) -> u64 {
    s.get("/v1/log", Some(&s.admin)).json()["tree_size"]
        .as_u64()
        .unwrap()
}

#[test]
fn full_lifecycle_with_alerts_webhooks_report_and_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let (hook, rx) = webhook();
    let cfg = config(&dir, &hook, "");
    let s = Server::start_with(&dir, &["--config", &cfg]);
    let alice = s.token("submitter", "alice");
    let bob = s.token("reader", "bob");
    let carol = s.token("reader", "carol");
    let erin = s.token("auditor", "erin");
    let svc = s.token("submitter", "svc");
    let mallory = s.token("submitter", "mallory");
    let cli = |token: &str, args: &[&str]| run_cli(&s.base, &s.vkey, token, args);

    // Open through the CLI.
    let (code, out, err) = cli(
        &alice,
        &[
            "breakglass",
            "open",
            "--justification",
            "primary database is down",
            "--ticket",
            "INC-42",
            "--resource",
            "db/prod-*",
            "--action",
            "restart*",
            "--action",
            "read*",
            "--duration",
            "30m",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let opened: Value = serde_json::from_str(&out).unwrap();
    let id = opened["id"].as_str().unwrap().to_owned();
    assert_eq!(opened["status"], "pending");
    assert_eq!(
        expect(&rx, "breakglass.opened")["session"]["id"],
        id.as_str()
    );

    // Policy: the requester cannot approve; a non-approver cannot; quorum is two.
    let approve = |token: &str| {
        s.post_json(
            &format!("/v1/breakglass/sessions/{id}/approve"),
            Some(token),
            &json!({}),
        )
    };
    let r = approve(&alice);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(approve(&erin).status, 403);
    // An action before approval.
    assert_eq!(
        action_in(&s, &svc, &id, "alice", "restart", "db/prod-1"),
        201
    );
    let (code, out, err) = cli(&bob, &["breakglass", "approve", &id]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["status"],
        "pending"
    );
    assert_eq!(approve(&bob).status, 409);
    let r = approve(&carol);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "active");
    expect(&rx, "breakglass.approved");
    assert_eq!(alerts(&s, &id, &erin), vec!["inactive_session"]);

    // Actions: in scope (header and field), out of scope, someone else's, an unknown session.
    // (Each differs from the others, so that each alert is told apart.)
    assert_eq!(
        action_in(&s, &svc, &id, "alice", "restart", "db/prod-9"),
        201
    );
    let (code, _, err) = cli(
        &svc,
        &[
            "submit",
            "--actor",
            "alice",
            "--action",
            "read",
            "--resource",
            "db/prod-2",
            "--session",
            &id,
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(alerts(&s, &id, &erin), vec!["inactive_session"]);
    assert_eq!(action_in(&s, &svc, &id, "alice", "drop", "db/prod-1"), 201);
    assert_eq!(
        action_in(&s, &mallory, &id, "mallory", "read", "db/prod-1"),
        201
    );
    assert_eq!(
        action_in(&s, &svc, "bg-nope", "alice", "read", "db/prod-1"),
        201
    );
    assert_eq!(
        alerts(&s, &id, &erin),
        vec!["inactive_session", "out_of_scope", "foreign_session"]
    );
    let alert = expect(&rx, "breakglass.alert");
    assert!(alert["alert"]["rule"].is_string());
    // Submitters cannot write as the server.
    let r = s.request(
        "POST",
        "/v1/entries?source=glasslog-breakglass",
        Some(&s.admin),
        Some("application/json"),
        br#"{"actor":"x","action":"breakglass.approved"}"#,
    );
    assert_eq!(r.status, 403);
    // Plain submissions without a session are untouched by all this.
    assert_eq!(action(&s, &svc, "alice", "read", "db/prod-1"), 201);

    // Extend, then close; an action after closing.
    // By an approver: a requester does not extend their own session under the default policy.
    let (code, out, err) = cli(
        &bob,
        &[
            "breakglass",
            "extend",
            &id,
            "--duration",
            "10m",
            "--reason",
            "still degraded",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["extensions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    expect(&rx, "breakglass.extended");
    let (code, _, err) = cli(&alice, &["breakglass", "close", &id, "--reason", "fixed"]);
    assert_eq!(code, Some(0), "{err}");
    expect(&rx, "breakglass.closed");
    assert_eq!(
        action_in(&s, &svc, &id, "alice", "restart", "db/prod-5"),
        201
    );
    // The review deadline (2 s) passes.
    let overdue = expect(&rx, "breakglass.alert");
    let mut seen = vec![overdue["alert"]["rule"].as_str().unwrap().to_owned()];
    while !seen.iter().any(|r| r == "review_overdue") {
        seen.push(
            expect(&rx, "breakglass.alert")["alert"]["rule"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let rules = alerts(&s, &id, &erin);
    assert_eq!(rules.iter().filter(|r| *r == "inactive_session").count(), 2);
    assert!(rules.contains(&"review_overdue".to_owned()));

    // Review: not by the requester, not twice.
    let (code, _, _) = cli(
        &alice,
        &["breakglass", "review", &id, "--verdict", "appropriate"],
    );
    assert_eq!(code, Some(2));
    let (code, out, err) = cli(
        &erin,
        &[
            "breakglass",
            "review",
            &id,
            "--verdict",
            "needs_follow_up",
            "--notes",
            "rotate the db password",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["review"]["verdict"],
        "needs_follow_up"
    );
    expect(&rx, "breakglass.reviewed");

    // Metrics count the alerts.
    let metrics = s.get("/metrics", Some(&s.admin)).text();
    assert!(
        metrics.contains("glasslog_breakglass_alerts_total{rule=\"out_of_scope\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("glasslog_breakglass_alerts_total{rule=\"unknown_session\"} 1"));

    // Visibility: alice sees her own session; mallory does not.
    assert_eq!(
        s.get(&format!("/v1/breakglass/sessions/{id}"), Some(&alice))
            .status,
        200
    );
    assert_eq!(
        s.get(&format!("/v1/breakglass/sessions/{id}"), Some(&mallory))
            .status,
        404
    );
    assert_eq!(
        s.get(
            &format!("/v1/breakglass/sessions/{id}/report"),
            Some(&alice)
        )
        .status,
        403
    );

    // The report: verified by the CLI as it is fetched, and again offline; one changed byte
    // fails.
    let report = tmp.path().join("report.json");
    let md = tmp.path().join("report.md");
    let (code, _, err) = cli(
        &erin,
        &[
            "breakglass",
            "report",
            &id,
            "--out",
            report.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.contains("out_of_scope") && markdown.contains("INC-42"));
    // Each entry's proof, as a C2SP tlog-proof file that `glasslog verify` checks on its own.
    let proofs = tmp.path().join("proofs");
    let (code, _, err) = cli(
        &erin,
        &[
            "breakglass",
            "report",
            &id,
            "--tlog-proofs",
            proofs.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let files: Vec<_> = std::fs::read_dir(&proofs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() >= 8, "{files:?}");
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(text.starts_with("c2sp.org/tlog-proof@v1\n"), "{text}");
        let (code, out, err) = run_cli(
            "",
            "",
            "",
            &["verify", f.to_str().unwrap(), "--vkey", &s.vkey],
        );
        assert_eq!(code, Some(0), "{out}{err}");
    }
    let (code, out, err) = run_cli(
        "",
        "",
        "",
        &["verify", report.to_str().unwrap(), "--vkey", &s.vkey],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("break-glass report"), "{out}");
    let text = std::fs::read_to_string(&report).unwrap();
    let tampered = text.replacen("\\\"drop\\\"", "\\\"dRop\\\"", 1);
    assert_ne!(tampered, text, "the report holds the out-of-scope action");
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, tampered).unwrap();
    let (code, _, err) = run_cli(
        "",
        "",
        "",
        &["verify", bad.to_str().unwrap(), "--vkey", &s.vkey],
    );
    assert_eq!(code, Some(1), "{err}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["summary"]["actions"], 6);

    // On-demand audit finds every recorded alert again and records nothing new.
    let r = s.post_json("/v1/breakglass/audit", Some(&erin), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["recorded"], 0);
    assert!(r.json()["findings"].as_array().unwrap().len() >= 5);

    // A restart folds the same state from the log, and records the policy only when it
    // changed.
    let before = s
        .get(&format!("/v1/breakglass/sessions/{id}"), Some(&erin))
        .json();
    let size = tree_size(&s);
    let admin = s.admin.clone();
    s.stop();
    let s = Server::start_with(&dir, &["--config", &cfg]);
    assert_eq!(s.admin, admin);
    assert_eq!(
        s.get(&format!("/v1/breakglass/sessions/{id}"), Some(&erin))
            .json(),
        before
    );
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(tree_size(&s), size, "nothing new to record");
    s.stop();
    let cfg2 = config(&dir, &hook, "max_actions = 10\n");
    let s = Server::start_with(&dir, &["--config", &cfg2]);
    assert_eq!(tree_size(&s), size + 1, "the policy change is recorded");
    let last = s.get(&format!("/v1/entries/{size}"), Some(&s.admin)).json();
    assert_eq!(
        last["entry"]["event"]["api"]["operation"],
        "breakglass.policy"
    );
    s.stop();
}

/// Submits `body` under `session` with an idempotency key; returns the status and the answer.
fn keyed_action(s: &Server, token: &str, session: &str, key: &str, body: &Value) -> (u16, Value) {
    let r = s.post_json_with(
        "/v1/entries",
        Some(token),
        body,
        &[
            ("Glasslog-Breakglass-Session", session),
            ("Idempotency-Key", key),
        ],
    );
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

#[test]
fn identities_are_principals_and_actions_are_bound_to_their_submitter() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let path = dir.with_extension("toml");
    std::fs::write(
        &path,
        "[breakglass]\napprovals_required = 2\napprovers = [\"bob\", \"carol\"]\n\
         self_approval_in_emergency = true\nmax_actions_per_minute = 3\n",
    )
    .unwrap();
    let s = Server::start_with(&dir, &["--config", path.to_str().unwrap()]);
    let token = |name: &str, principal: &str, role: &str| {
        let r = s.post_json(
            "/v1/admin/tokens",
            Some(&s.admin),
            &json!({"role": role, "name": name, "principal": principal}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.json()["principal"], principal);
        r.json()["token"].as_str().unwrap().to_owned()
    };
    let alice = token("alice", "alice", "submitter");
    let bob_laptop = token("bob-laptop", "bob", "reader");
    let bob_phone = token("bob-phone", "bob", "reader");
    let carol = token("carol", "carol", "reader");
    let mallory = token("mallory", "mallory", "submitter");
    // Names are never reused.
    let r = s.post_json(
        "/v1/admin/tokens",
        Some(&s.admin),
        &json!({"role": "admin", "name": "bob-laptop"}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.content_type, "application/problem+json");

    let r = s.post_json(
        "/v1/breakglass/sessions",
        Some(&alice),
        &json!({"justification": "primary is down", "ticket": "INC-9", "emergency": true,
                "scope": {"resources": ["db/*"]}, "duration_seconds": 600}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let approve = |token: &str| {
        s.post_json(
            &format!("/v1/breakglass/sessions/{id}/approve"),
            Some(token),
            &json!({}),
        )
    };
    // Self-approval in an emergency needs an approver under the default policy.
    assert_eq!(approve(&alice).status, 403);
    // Two tokens of one principal are one approval.
    assert_eq!(approve(&bob_laptop).status, 200);
    let r = approve(&bob_phone);
    assert_eq!(r.status, 409, "{}", r.text());
    let r = approve(&carol);
    assert_eq!(r.json()["status"], "active", "{}", r.text());

    // mallory claims to be alice: both identities are stored, the action is mallory's.
    let (status, v) = keyed_action(
        &s,
        &mallory,
        &id,
        "m-1",
        &json!({"actor": "alice", "action": "read", "resource": "db/prod-1"}),
    );
    assert_eq!(status, 201);
    let index = v["index"].as_u64().unwrap();
    let stored = s
        .get(&format!("/v1/entries/{index}"), Some(&s.admin))
        .json();
    assert_eq!(stored["entry"]["submitter"]["principal"], "mallory");
    assert_eq!(stored["entry"]["event"]["actor"]["user"]["name"], "alice");
    assert_eq!(
        alerts(&s, &id, &s.admin),
        vec!["unverified_actor", "foreign_session"]
    );

    // Keyed retries are one entry but count as attempts: the fourth within a minute is
    // unusual.
    let body = json!({"actor": "alice", "action": "read", "resource": "db/prod-2"});
    let (first, v) = keyed_action(&s, &alice, &id, "a-1", &body);
    assert_eq!(first, 201);
    for _ in 0..3 {
        let (status, again) = keyed_action(&s, &alice, &id, "a-1", &body);
        assert_eq!((status, &again["index"]), (200, &v["index"]));
    }
    let rules = alerts(&s, &id, &s.admin);
    assert!(rules.contains(&"unusual_rate".to_owned()), "{rules:?}");
    s.stop();
}

#[test]
fn sessions_expire_on_their_own() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let (hook, rx) = webhook();
    let path = dir.with_extension("toml");
    std::fs::write(
        &path,
        format!("[breakglass]\napprovals_required = 0\nwebhook = \"{hook}\"\n"),
    )
    .unwrap();
    let s = Server::start_with(&dir, &["--config", path.to_str().unwrap()]);
    let alice = s.token("submitter", "alice");
    let r = s.post_json(
        "/v1/breakglass/sessions",
        Some(&alice),
        &json!({"justification": "cache stampede", "ticket": "INC-7",
                "scope": {"resources": ["cache/*"]}, "duration_seconds": 1}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["status"], "active");
    let expired = expect(&rx, "breakglass.expired");
    assert_eq!(expired["session"]["status"], "expired");
    assert_eq!(action_in(&s, &alice, &id, "alice", "flush", "cache/a"), 201);
    assert_eq!(alerts(&s, &id, &s.admin), vec!["inactive_session"]);
    // Bad requests get problems, not 5xx.
    for body in [
        json!({}),
        json!({"justification": "", "ticket": "x", "scope": {"resources": ["a"]}, "duration_seconds": 1}),
        json!({"justification": "x", "ticket": "x", "scope": {}, "duration_seconds": 1}),
        json!({"justification": "x", "ticket": "x", "scope": {"resources": ["a"]}, "duration_seconds": 999999}),
    ] {
        let r = s.post_json("/v1/breakglass/sessions", Some(&alice), &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(r.content_type, "application/problem+json");
    }
    assert_eq!(
        s.post_json("/v1/breakglass/sessions", None, &json!({}))
            .status,
        401
    );
    let r = s.post_json(
        &format!("/v1/breakglass/sessions/{id}/frobnicate"),
        Some(&alice),
        &json!({}),
    );
    assert_eq!(r.status, 404);
    s.stop();
}
