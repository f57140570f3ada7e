//! The auditor's console (`ui/`): served from the binary with its security headers, the
//! committed bundle rebuilt from its sources byte for byte, its verifier run over every
//! standards vector in Node, and the whole console driven in Debian's Chromium by Playwright
//! (`ui/e2e/console.mjs`) against this server, tampering included.
//!
//! Needs Node.js, `npm ci` in `ui/` and Chromium (`apt-get install chromium`); without them
//! the Node and browser parts skip with a message, unless `GLASSLOG_REQUIRE_ORACLES` is set
//! (CI installs all three). `GLASSLOG_SCREENSHOTS=<dir>` keeps the browser's screenshots.

use crate::Server;
use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ui() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui")
}

/// Whether `what` is missing and the test should skip (or fail, under CI).
fn missing(what: &str, present: bool) -> bool {
    if present {
        return false;
    }
    assert!(
        std::env::var_os("GLASSLOG_REQUIRE_ORACLES").is_none(),
        "{what} is required here"
    );
    eprintln!("skipped: {what} is not installed");
    true
}

fn node_ready() -> bool {
    !missing(
        "node",
        Command::new("node").arg("--version").output().is_ok(),
    ) && !missing(
        "ui/node_modules (npm ci in ui/)",
        ui().join("node_modules/esbuild").exists()
            && ui().join("node_modules/playwright-core").exists(),
    )
}

#[test]
fn the_console_is_served_from_the_binary_with_a_strict_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("log"));
    let page = s.get("/ui/", None);
    assert_eq!(page.status, 200);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    assert!(page.text().contains("console.js"));
    let js = s.get("/ui/console.js", None);
    assert_eq!(js.status, 200);
    assert!(js.content_type.starts_with("text/javascript"));
    assert_eq!(
        js.body,
        std::fs::read(ui().join("dist/console.js")).unwrap(),
        "the binary serves another bundle than ui/dist/"
    );
    let missing = s.get("/ui/secrets.json", None);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.content_type, "application/problem+json");
    let headers = Command::new("curl")
        .args(["-sSI", &format!("{}/ui/", s.base)])
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&headers.stdout).to_ascii_lowercase();
    for h in [
        "content-security-policy: default-src 'none'; script-src 'self'",
        "x-content-type-options: nosniff",
        "referrer-policy: no-referrer",
        "x-frame-options: deny",
    ] {
        assert!(headers.contains(h), "{h} missing from\n{headers}");
    }
    let redirect = Command::new("curl")
        .args(["-sSI", &format!("{}/ui", s.base)])
        .output()
        .unwrap();
    let redirect = String::from_utf8_lossy(&redirect.stdout).to_ascii_lowercase();
    assert!(
        redirect.contains("308") && redirect.contains("location: /ui/"),
        "{redirect}"
    );
}

#[test]
fn the_committed_bundle_is_what_the_sources_build() {
    if !node_ready() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let st = Command::new("node")
        .arg(ui().join("scripts/build.mjs"))
        .arg("--out")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(st.success());
    for f in ["index.html", "console.js", "console.css"] {
        assert!(
            std::fs::read(out.path().join(f)).unwrap()
                == std::fs::read(ui().join("dist").join(f)).unwrap(),
            "ui/dist/{f} is stale: run `npm run build` in ui/ and commit it"
        );
    }
}

#[test]
fn the_browser_verifier_passes_every_vector() {
    if missing(
        "node",
        Command::new("node").arg("--version").output().is_ok(),
    ) {
        return;
    }
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs/vectors");
    let out = Command::new("node")
        .args(["--test", "test/"])
        .current_dir(ui())
        .env("GLASSLOG_VECTORS", vectors)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("# fail 0"), "{text}");
}

/// `text` (a checkpoint body) with its root replaced, signed with the log's own key.
fn forged(key: &glasslog_merkle::Signer, body: &str, root: [u8; 32]) -> String {
    let mut lines: Vec<String> = body.lines().map(str::to_owned).collect();
    lines[2] = base64::engine::general_purpose::STANDARD.encode(root);
    key.sign_note(&format!("{}\n", lines.join("\n")))
}

#[test]
fn the_console_in_chromium_verifies_and_raises_the_alarm_on_tampering() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !node_ready() || missing("chromium", Path::new(&chromium).exists()) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("log");
    // A break-glass policy with one approver (bob) and auditors as reviewers, so that the
    // browser walks a session from request to review.
    let cfg = tmp.path().join("glasslog.toml");
    std::fs::write(
        &cfg,
        "[breakglass]\napprovals_required = 1\napprovers = [\"bob\"]\nreviewers = [\"role:auditor\"]\n",
    )
    .unwrap();
    let s = Server::start_with(&data, &["--config", cfg.to_str().unwrap()]);
    let reader = s.token("reader", "console-reader");
    let breakglass = serde_json::json!({
        "alice": s.token("submitter", "alice"),
        "bob": s.token("reader", "bob"),
        "erin": s.token("auditor", "erin"),
    });
    s.append_events(10, "early");
    let old = s.get("/checkpoint", Some(&s.admin)).text();
    let secret = "Zq3t8Kd9vB2mX7nL0pR4sW6yA1cE5gH8jK2oQ9uT";
    let r = s.post_json(
        "/v1/entries?wait=checkpoint",
        Some(&s.admin),
        &serde_json::json!({"actor": "alice", "action": "update", "resource": "db/prod",
            "outcome": "success",
            "details": {"cmd": format!("export AWS_SECRET_ACCESS_KEY={secret}")}}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let redacted = r.json()["index"].as_u64().unwrap();
    s.append_events(30, "late");
    let r = s.post_json(
        "/v1/entries?wait=checkpoint",
        Some(&s.admin),
        &serde_json::json!({"actor": "bob", "action": "read"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let current = s.get("/checkpoint", Some(&s.admin)).text();
    assert_ne!(old, current);
    // The attacker holds the log's key: a second root for the current size, validly signed.
    let key = glasslog_merkle::Signer::from_skey(
        std::fs::read_to_string(data.join("log.key"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let body = current.split("\n\n").next().unwrap();
    let fork = forged(&key, body, [7; 32]);

    // A proof file, as an auditor saves it, for the page opened from disk: as a tlog-proof,
    // and as glasslog's JSON bundle.
    let prove = |path: &std::path::Path, format: &str| {
        let (code, _, err) = crate::server::run_cli(
            &s.base,
            &s.vkey,
            &s.admin,
            &[
                "prove",
                &redacted.to_string(),
                "--format",
                format,
                "--out",
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(code, Some(0), "{err}");
    };
    let proof = tmp.path().join("entry.tlog-proof");
    prove(&proof, "tlog-proof");
    let bundle = tmp.path().join("entry.bundle.json");
    prove(&bundle, "bundle");

    let mut cmd = Command::new("node");
    cmd.arg(ui().join("e2e/console.mjs"))
        .env("GLASSLOG_URL", &s.base)
        .env("GLASSLOG_TOKEN", &s.admin)
        .env("GLASSLOG_READER_TOKEN", &reader)
        .env("GLASSLOG_BREAKGLASS_TOKENS", breakglass.to_string())
        .env("GLASSLOG_VKEY", &s.vkey)
        .env("GLASSLOG_SECRET", secret)
        .env("GLASSLOG_OLD_NOTE", &old)
        .env("GLASSLOG_FORK_NOTE", &fork)
        .env("GLASSLOG_REDACTED_INDEX", redacted.to_string())
        .env("GLASSLOG_TLOG_PROOF", &proof)
        .env("GLASSLOG_PROOF_BUNDLE", &bundle)
        .env(
            "GLASSLOG_DIST",
            std::fs::canonicalize(ui().join("dist")).unwrap(),
        )
        .env("CHROMIUM", &chromium);
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    println!("{stdout}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("all steps passed"), "{stdout}");
    // What the browser saw, the server never logged.
    assert!(!s.server_log().contains(secret));
}

/// A log encrypted at rest in Chromium: `ui/e2e/sealed.mjs` checks a sealed entry against its
/// record and the signed root, catches a plaintext changed on the wire, and shows an erased
/// entry as erased.
#[test]
fn the_console_verifies_sealed_entries_and_shows_erased_ones() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !node_ready() || missing("chromium", Path::new(&chromium).exists()) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("master.key");
    let out = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args(["keygen", "--master-key"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let cfg = tmp.path().join("glasslog.toml");
    std::fs::write(&cfg, format!("[encryption]\nmaster_key_file = {key:?}\n")).unwrap();
    let s = Server::start_with(
        &tmp.path().join("log"),
        &["--config", cfg.to_str().unwrap()],
    );
    let index = |actor: &str| {
        let r = s.post_json(
            "/v1/entries?wait=checkpoint",
            Some(&s.admin),
            &serde_json::json!({"actor": actor, "action": "read",
                "reason": format!("{actor}-private-note")}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["index"].as_u64().unwrap()
    };
    let (erased, sealed) = (index("alice"), index("bob"));
    let r = s.post_json(
        "/v1/admin/erasures",
        Some(&s.admin),
        &serde_json::json!({"actor": "alice", "reason": "request 1"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let out = Command::new("node")
        .arg(ui().join("e2e/sealed.mjs"))
        .env("GLASSLOG_URL", &s.base)
        .env("GLASSLOG_TOKEN", &s.admin)
        .env("GLASSLOG_VKEY", &s.vkey)
        .env("GLASSLOG_SEALED_INDEX", sealed.to_string())
        .env("GLASSLOG_ERASED_INDEX", erased.to_string())
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all steps passed"), "{stdout}");
}
