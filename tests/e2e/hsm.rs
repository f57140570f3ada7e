//! The log's checkpoint key in a PKCS#11 token: SoftHSM2 from Debian (`softhsm2`), driven by
//! the real binary. `glasslog keygen --pkcs11-*` makes the key in the token, `glasslog serve`
//! signs every checkpoint there, and what it publishes is an ordinary Ed25519 log: the note
//! verifies under the printed key, `glasslog audit` and `glasslog monitor` accept it, across a
//! restart too, and no key file is ever written. A wrong PIN, a PIN file others can read and a
//! missing key are refused at start with a message that says which. Without SoftHSM2 this
//! skips with a message, unless `GLASSLOG_REQUIRE_ORACLES` is set (CI installs it). A
//! witness's cosigning key works the same way.

use crate::Server;
use glasslog_merkle::{Note, VerifierSet};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// A fresh SoftHSM2 token store in `dir` with one initialised token; returns its config file.
fn softhsm(dir: &Path, label: &str) -> Result<PathBuf, String> {
    if !Path::new(MODULE).exists() {
        return Err(format!("no {MODULE} (apt-get install softhsm2)"));
    }
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).map_err(|e| e.to_string())?;
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let out = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", label])
        .args(["--pin", "4321", "--so-pin", "87654321"])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .map_err(|e| format!("no softhsm2-util ({e}); apt-get install softhsm2"))?;
    if !out.status.success() {
        return Err(format!(
            "softhsm2-util failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(conf)
}

/// [`softhsm`], or `None` after saying why the test skips (a failure under
/// `GLASSLOG_REQUIRE_ORACLES`).
fn softhsm_or_skip(dir: &Path) -> Option<PathBuf> {
    match softhsm(dir, "glasslog-e2e") {
        Ok(c) => Some(c),
        Err(why) if std::env::var_os("GLASSLOG_REQUIRE_ORACLES").is_none() => {
            eprintln!("skipped: {why}");
            None
        }
        Err(why) => panic!("{why}"),
    }
}

fn pin_file(dir: &Path, pin: &str, mode: u32) -> PathBuf {
    let path = dir.join(format!("pin-{mode:o}-{pin}"));
    std::fs::write(&path, format!("{pin}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn keygen(conf: &Path, pin: &Path, key_label: &str) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args(["keygen", "--name", "e2e.glasslog.example/log"])
        .args(["--pkcs11-module", MODULE, "--pkcs11-token", "glasslog-e2e"])
        .args(["--pkcs11-key", key_label, "--pkcs11-pin-file"])
        .arg(pin)
        .env("SOFTHSM2_CONF", conf)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn config(dir: &Path, pin: &Path, key_label: &str) -> PathBuf {
    let pin_name = pin.file_name().unwrap().to_str().unwrap();
    let path = dir.join(format!("glasslog-{key_label}-{pin_name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[pkcs11]\nmodule = {MODULE:?}\ntoken_label = \"glasslog-e2e\"\nkey_label = {key_label:?}\npin_file = {pin:?}\n"
        ),
    )
    .unwrap();
    path
}

/// Starts `glasslog serve` expecting it to refuse; returns its stderr.
fn refused(dir: &Path, conf: &Path, config: &Path) -> String {
    crate::server::refused_to_start(dir, config, &[("SOFTHSM2_CONF", conf)])
}

#[test]
fn a_log_signs_its_checkpoints_in_a_pkcs11_token() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(conf) = softhsm_or_skip(tmp.path()) else {
        return;
    };
    let pin = pin_file(tmp.path(), "4321", 0o600);

    // The key is made in the token; asked again, the same key is found, not a second one.
    let (ok, vkey, err) = keygen(&conf, &pin, "checkpoint");
    assert!(ok, "{err}");
    assert!(vkey.starts_with("e2e.glasslog.example/log+"), "{vkey}");
    let (ok, again, err) = keygen(&conf, &pin, "checkpoint");
    assert!(ok, "{err}");
    assert_eq!(again, vkey);

    let data = tmp.path().join("log");
    std::fs::create_dir_all(&data).unwrap();
    let cfg = config(tmp.path(), &pin, "checkpoint");
    let env = [("SOFTHSM2_CONF", conf.to_str().unwrap())];
    let log = Server::start_with_env(&data, &["--config", cfg.to_str().unwrap()], &env);
    assert_eq!(log.vkey, vkey, "the server signs with the token's key");
    log.append_events(150, "r");
    let note = log.get("/checkpoint", None).text();
    let set = VerifierSet::from_vkeys([vkey.as_str()]).unwrap();
    let opened = Note::open(note.as_bytes(), &set).unwrap();
    assert!(opened.text.contains("\n150\n"), "{note}");
    // Another key does not verify it: the check above can fail.
    let other = glasslog_merkle::Signer::from_seed("e2e.glasslog.example/log", [3; 32]).unwrap();
    assert!(
        Note::open(
            note.as_bytes(),
            &VerifierSet::from_vkeys([other.vkey().as_str()]).unwrap()
        )
        .is_err()
    );

    let state = tmp.path().join("monitor.json");
    let state = state.to_str().unwrap();
    let (code, _, err) = log.cli(&["monitor", "--once", "--state", state]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = log.cli(&["audit"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(!data.join("log.key").exists(), "a key file was written");

    // After a restart the same token key signs on, consistently with what the monitor saw.
    let data = log.stop();
    let log = Server::start_with_env(&data, &["--config", cfg.to_str().unwrap()], &env);
    assert_eq!(log.vkey, vkey);
    let r = log.post_json(
        "/v1/entries",
        Some(&log.admin),
        &serde_json::json!({"actor": "after-restart", "action": "read"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["index"], 150);
    let (code, _, err) = log.cli(&["monitor", "--once", "--state", state]);
    assert_eq!(code, Some(0), "{err}");
    let data = log.stop();

    // Refused at start, each with its reason.
    let bad_pin = pin_file(tmp.path(), "1111", 0o600);
    let err = refused(&data, &conf, &config(tmp.path(), &bad_pin, "checkpoint"));
    assert!(err.contains("refused the PIN"), "{err}");
    let open_pin = pin_file(tmp.path(), "4321", 0o644);
    let err = refused(&data, &conf, &config(tmp.path(), &open_pin, "checkpoint"));
    assert!(err.contains("must not be readable"), "{err}");
    let err = refused(&data, &conf, &config(tmp.path(), &pin, "no-such-key"));
    assert!(
        err.contains("no Ed25519 private key labelled \"no-such-key\""),
        "{err}"
    );
    let (ok, _, err) = keygen(&conf, &bad_pin, "other");
    assert!(!ok && err.contains("refused the PIN"), "{err}");
}

/// A witness whose cosigning key is in the token: `glasslog keygen --cosigner --pkcs11-*` makes
/// it, `glasslog witness --pkcs11-*` cosigns with it, and the log serves checkpoints carrying a
/// cosignature that verifies under the key keygen printed.
#[test]
fn a_witness_cosigns_with_a_key_in_a_pkcs11_token() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(conf) = softhsm_or_skip(tmp.path()) else {
        return;
    };
    let pin = pin_file(tmp.path(), "4321", 0o600);
    let token_flags = |key: &str| -> Vec<String> {
        [
            "--pkcs11-module",
            MODULE,
            "--pkcs11-token",
            "glasslog-e2e",
            "--pkcs11-key",
            key,
            "--pkcs11-pin-file",
            pin.to_str().unwrap(),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let name = "witness.e2e.example/w1";
    let out = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args(["keygen", "--cosigner", "--name", name])
        .args(token_flags("witness"))
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wvkey = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    // The log's own key is a file, provisioned first so the witness can be told it.
    let data = tmp.path().join("log");
    std::fs::create_dir_all(&data).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args(["keygen", "--name", "e2e.glasslog.example/log", "--key"])
        .arg(data.join("log.key"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let lvkey = String::from_utf8_lossy(&out.stdout).trim().to_owned();

    let mut child = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args([
            "witness",
            "--listen",
            "127.0.0.1:0",
            "--name",
            name,
            "--log",
        ])
        .arg(format!("e2e.glasslog.example/log={lvkey}"))
        .args(token_flags("witness"))
        .arg("--key")
        .arg(tmp.path().join("never-written.key"))
        .arg("--state")
        .arg(tmp.path().join("witness-state.json"))
        .env("SOFTHSM2_CONF", &conf)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let (mut base, mut printed) = (String::new(), String::new());
    while base.is_empty() || printed.is_empty() {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("the witness did not start");
        };
        if let Some(a) = line.strip_prefix("glasslog witness: listening on ") {
            base = a.to_owned();
        }
        if let Some(k) = line.strip_prefix("glasslog witness: cosigner key ") {
            printed = k.to_owned();
        }
    }
    let witness = Guard(child);
    assert_eq!(printed, wvkey, "the witness cosigns with the token's key");

    let cfg = tmp.path().join("log.toml");
    std::fs::write(
        &cfg,
        format!("witness_quorum = 1\n[[witnesses]]\nurl = {base:?}\nvkey = {wvkey:?}\n"),
    )
    .unwrap();
    let log = Server::start_with(&data, &["--config", cfg.to_str().unwrap()]);
    log.append_events(20, "w");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let set = VerifierSet::from_vkeys([lvkey.as_str(), wvkey.as_str()]).unwrap();
    loop {
        let note = log.get("/checkpoint", None).text();
        if let Ok(n) = Note::open(note.as_bytes(), &set)
            && n.text.contains("\n20\n")
        {
            assert_eq!(
                n.verify(&set).unwrap().len(),
                2,
                "log + token witness: {note}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no cosigned checkpoint: {note}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!tmp.path().join("never-written.key").exists());
    drop(witness);
}

/// Kills the child when dropped.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
