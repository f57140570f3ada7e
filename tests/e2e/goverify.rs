//! A log that signs with Ed25519 and ML-DSA-44 at once, checked by code nobody here wrote:
//! Go's `sumdb/note` and `sumdb/tlog` (Debian's golang-golang-x-mod-dev, built by
//! `tests/oracles/goverify`) accept its checkpoint, ignoring the ML-DSA-44 line they do not
//! know, hash its tiles to the signed root and prove every entry of every bundle into it; and
//! `glasslog monitor` follows it trusting either key. Without Go this test skips with a
//! message, unless `GLASSLOG_REQUIRE_ORACLES` is set (CI installs Go).

use crate::Server;
use crate::server::run_cli;
use glasslog_merkle::{Note, VerifierSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the Go verifier into `dir`, or says why it cannot.
fn go_verifier(dir: &Path) -> Result<PathBuf, String> {
    let gopath = Path::new("/usr/share/gocode");
    if !gopath.join("src/golang.org/x/mod/sumdb/tlog").is_dir() {
        return Err(
            "no golang.org/x/mod in /usr/share/gocode (apt-get install golang-golang-x-mod-dev)"
                .into(),
        );
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oracles/goverify");
    let out = dir.join("goverify");
    let status = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(&source)
        .env("GO111MODULE", "off")
        .env("GOPATH", gopath)
        .env("GOCACHE", dir.join("gocache"))
        .status()
        .map_err(|e| format!("no go toolchain ({e}); apt-get install golang-go"))?;
    if !status.success() {
        return Err(format!("go build failed: {status}"));
    }
    Ok(out)
}

fn goverify(bin: &Path, base: &str, vkey: &str, token: &str) -> (bool, String) {
    let out = Command::new(bin)
        .args([base, vkey, token])
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_log_signing_with_ed25519_and_mldsa_is_accepted_by_go_and_by_the_monitor() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = match go_verifier(tmp.path()) {
        Ok(b) => b,
        Err(why) if std::env::var_os("GLASSLOG_REQUIRE_ORACLES").is_none() => {
            eprintln!("skipped: {why}");
            return;
        }
        Err(why) => panic!("{why}"),
    };
    let data = tmp.path().join("log");
    std::fs::create_dir_all(&data).unwrap();
    let config = tmp.path().join("glasslog.toml");
    std::fs::write(
        &config,
        format!(
            "mldsa_key_file = {:?}\nmldsa_vkey_file = {:?}\n",
            data.join("log-mldsa.key"),
            data.join("log-mldsa.vkey")
        ),
    )
    .unwrap();
    let log = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    let mldsa = std::fs::read_to_string(data.join("log-mldsa.vkey"))
        .unwrap()
        .trim()
        .to_owned();
    for round in 0..3 {
        let items: Vec<serde_json::Value> = (0..200)
            .map(|i| serde_json::json!({"actor": format!("r{round}-{i}"), "action": "read"}))
            .collect();
        let r = log.post_json(
            "/v1/entries/batch",
            Some(&log.admin),
            &serde_json::Value::Array(items),
        );
        assert_eq!(r.status, 200);
    }
    // Two signature lines, each verifying under its own key alone.
    let note = log.get("/checkpoint", None).text();
    for key in [&log.vkey, &mldsa] {
        let set = VerifierSet::from_vkeys([key.as_str()]).unwrap();
        assert_eq!(
            Note::open(note.as_bytes(), &set).unwrap().signatures.len(),
            2
        );
    }

    let (ok, out) = goverify(&bin, &log.base, &log.vkey, &log.admin);
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "ok 600 600");
    // The verifier can fail: a key of another log is refused.
    let other = glasslog_merkle::Signer::from_seed("e2e.glasslog.example/log", [3; 32]).unwrap();
    let (ok, out) = goverify(&bin, &log.base, &other.vkey(), &log.admin);
    assert!(!ok && out.contains("checkpoint"), "{out}");

    // The monitor follows it trusting both keys, or the ML-DSA-44 key alone.
    let state = tmp.path().join("m1.json");
    let (code, _, err) = log.cli(&[
        "monitor",
        "--once",
        "--log-key",
        &mldsa,
        "--state",
        state.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let state = tmp.path().join("m2.json");
    let (code, _, err) = run_cli(
        &log.base,
        &mldsa,
        &log.admin,
        &["monitor", "--once", "--state", state.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
}

/// `sign_ed25519 = false`: the log signs with ML-DSA-44 alone. It has no Ed25519 key file, its
/// printed verifier key is the ML-DSA-44 one, every checkpoint carries that one line, and the
/// monitor, `prove` and `verify` work with it; without an ML-DSA-44 key it refuses to start.
#[test]
fn a_log_signing_with_mldsa_alone_is_followed_and_proven() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("log");
    std::fs::create_dir_all(&data).unwrap();
    let config = tmp.path().join("glasslog.toml");
    std::fs::write(
        &config,
        format!(
            "sign_ed25519 = false\nmldsa_key_file = {:?}\n",
            data.join("log-mldsa.key")
        ),
    )
    .unwrap();
    let log = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    assert!(!data.join("log.key").exists());
    assert!(
        glasslog_merkle::MlDsaVerifier::from_vkey(&log.vkey).is_ok(),
        "{}",
        log.vkey
    );
    // No checkpoint of the empty tree: an answer to retry, not an error.
    assert_eq!(log.get("/checkpoint", None).status, 503);
    let r = log.post_json(
        "/v1/entries?wait=checkpoint",
        Some(&log.admin),
        &serde_json::json!({"actor": "alice", "action": "read"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let note = log.get("/checkpoint", None).text();
    let set = VerifierSet::from_vkeys([log.vkey.as_str()]).unwrap();
    let n = Note::open(note.as_bytes(), &set).unwrap();
    assert_eq!(n.signatures.len(), 1, "{note}");
    let state = tmp.path().join("m.json");
    let (code, _, err) = log.cli(&["monitor", "--once", "--state", state.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let proof = tmp.path().join("p.tlog-proof");
    let (code, _, err) = log.cli(&["prove", "0", "--out", proof.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run_cli(
        "",
        "",
        "",
        &["verify", proof.to_str().unwrap(), "--vkey", &log.vkey],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    drop(log);

    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "sign_ed25519 = false\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path().join("other"))
        .arg("--config")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mldsa_key_file"));
}
