//! Two real witnesses cosign a real log's checkpoints, refuse inconsistent ones with the
//! tlog-witness status codes, and keep their state across a restart.

use crate::Server;
use glasslog_merkle::{Note, VerifierSet};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct Witness {
    child: Child,
    base: String,
    vkey: String,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn witness(dir: &Path, name: &str, log: &Server) -> Witness {
    witness_for(dir, name, &log.vkey)
}

fn add(w: &Witness, old: u64, proof: &[String], checkpoint: &str) -> (u16, String, String) {
    let mut body = format!("old {old}\n");
    for p in proof {
        body.push_str(p);
        body.push('\n');
    }
    body.push('\n');
    body.push_str(checkpoint);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .post(&format!("{}/add-checkpoint", w.base))
        .send(body.as_bytes())
        .unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (
        r.status().as_u16(),
        r.body_mut().read_to_string().unwrap(),
        ct,
    )
}

fn proof(s: &Server, from: u64, to: u64) -> Vec<String> {
    let v = s
        .get(&format!("/v1/proofs/consistency?from={from}&to={to}"), None)
        .json();
    v["consistency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_owned())
        .collect()
}

fn grow(s: &Server, n: u64, tag: &str) -> String {
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| serde_json::json!({"actor": format!("{tag}{i}"), "action": "x"}))
        .collect();
    s.post_json(
        "/v1/entries/batch",
        Some(&s.admin),
        &serde_json::Value::Array(items),
    );
    s.get("/checkpoint", None).text()
}

#[test]
fn two_witnesses_cosign_and_refuse_inconsistent_checkpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Server::start(&tmp.path().join("log"));
    let w1 = witness(&tmp.path().join("w1"), "witness.example/w1", &log);
    let w2 = witness(&tmp.path().join("w2"), "witness.example/w2", &log);
    let cp0 = log.get("/checkpoint", None).text();
    let cp100 = grow(&log, 100, "a");
    let mut cosigned = cp100.clone();
    for w in [&w1, &w2] {
        assert_eq!(add(w, 0, &[], &cp0).0, 200);
        let (status, line, _) = add(w, 0, &[], &cp100);
        assert_eq!(status, 200, "{line}");
        assert!(line.starts_with("\u{2014} witness.example/"), "{line}");
        cosigned.push_str(&line);
    }
    // The log's signature and both cosignatures verify.
    let keys =
        VerifierSet::from_vkeys([log.vkey.as_str(), w1.vkey.as_str(), w2.vkey.as_str()]).unwrap();
    assert_eq!(
        Note::open(cosigned.as_bytes(), &keys)
            .unwrap()
            .signatures
            .len(),
        3
    );

    // Growing with a consistency proof.
    let cp150 = grow(&log, 50, "b");
    let (status, line, _) = add(&w1, 100, &proof(&log, 100, 150), &cp150);
    assert_eq!(status, 200, "{line}");
    // A stale old size: 409 with the stored size.
    let (status, body, ct) = add(&w1, 100, &proof(&log, 100, 150), &cp150);
    assert_eq!(
        (status, body.as_str(), ct.as_str()),
        (409, "150\n", "text/x.tlog.size")
    );
    // A tampered proof: 422.
    let cp160 = grow(&log, 10, "c");
    let mut bad = proof(&log, 150, 160);
    bad[0] = bad[0].replacen(
        &bad[0][..1],
        if bad[0].starts_with('A') { "B" } else { "A" },
        1,
    );
    assert_eq!(add(&w1, 150, &bad, &cp160).0, 422);

    // A fork: another log with the same key and origin, not extending what was cosigned.
    std::fs::create_dir_all(tmp.path().join("fork")).unwrap();
    std::fs::copy(
        tmp.path().join("log/log.key"),
        tmp.path().join("fork/log.key"),
    )
    .unwrap();
    let fork = Server::start(&tmp.path().join("fork"));
    let forked = grow(&fork, 200, "z");
    assert_eq!(add(&w1, 150, &proof(&fork, 150, 200), &forked).0, 422);
    // Same origin, another key: 403. Another origin: 404.
    std::fs::create_dir_all(tmp.path().join("imposter")).unwrap();
    let imposter = Server::start(&tmp.path().join("imposter"));
    assert_eq!(
        add(&w1, 0, &[], &imposter.get("/checkpoint", None).text()).0,
        403
    );
    let other = Server::start_with(
        &tmp.path().join("other"),
        &["--origin", "other.example/log"],
    );
    assert_eq!(
        add(&w1, 0, &[], &other.get("/checkpoint", None).text()).0,
        404
    );

    // The monitoring endpoint serves the latest cosigned checkpoint.
    let origin_hash: String = sha256_hex(b"e2e.glasslog.example/log");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let latest = agent
        .get(&format!("{}/{origin_hash}/checkpoint", w1.base))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        latest.starts_with(&cp150[..cp150.len() - 1]) && latest.contains("witness.example/w1"),
        "{latest}"
    );

    // State survives a restart: the witness still knows it cosigned size 150.
    drop(w1);
    let w1 = witness(&tmp.path().join("w1"), "witness.example/w1", &log);
    let (status, body, _) = add(&w1, 0, &[], &cp160);
    assert_eq!((status, body.as_str()), (409, "150\n"));
    assert_eq!(add(&w1, 150, &proof(&log, 150, 160), &cp160).0, 200);
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_log_serves_checkpoints_cosigned_by_a_quorum_of_witnesses() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    // The log's key exists before the log starts, so the witnesses can be told its vkey.
    let data = tmp.path().join("log");
    std::fs::create_dir_all(&data).unwrap();
    let signer = glasslog_merkle::Signer::from_seed("e2e.glasslog.example/log", [11; 32]).unwrap();
    std::fs::write(
        data.join("log.key"),
        format!("{}\n", signer.to_skey().as_str()),
    )
    .unwrap();
    std::fs::set_permissions(data.join("log.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let w1 = witness_for(&tmp.path().join("w1"), "witness.example/w1", &signer.vkey());
    let w2 = witness_for(&tmp.path().join("w2"), "witness.example/w2", &signer.vkey());
    let config = tmp.path().join("glasslog.toml");
    std::fs::write(
        &config,
        format!(
            "witness_quorum = 2\n[[witnesses]]\nurl = {:?}\nvkey = {:?}\n[[witnesses]]\nurl = {:?}\nvkey = {:?}\n[breakglass]\napprovals_required = 0\n",
            w1.base, w1.vkey, w2.base, w2.vkey
        ),
    )
    .unwrap();
    let log = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    assert_eq!(log.vkey, signer.vkey());
    let keys =
        VerifierSet::from_vkeys([log.vkey.as_str(), w1.vkey.as_str(), w2.vkey.as_str()]).unwrap();
    let mut previous: Option<glasslog_merkle::Checkpoint> = None;
    for round in 0..3 {
        grow(&log, 40, &format!("r{round}"));
        let want = 40 * (round + 1);
        // Cosigning runs in the background: wait for the served checkpoint to catch up.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let note = loop {
            let r = log.get("/checkpoint", None);
            if r.status == 200 {
                let n = Note::open(r.text().as_bytes(), &keys).unwrap();
                let cp = glasslog_merkle::Checkpoint::parse(&n.text).unwrap();
                if cp.size == want {
                    break n;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no cosigned checkpoint of size {want}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert_eq!(note.verify(&keys).unwrap().len(), 3, "log + two witnesses");
        let cp = glasslog_merkle::Checkpoint::parse(&note.text).unwrap();
        if let Some(prev) = &previous {
            let p: Vec<glasslog_merkle::Hash> = proof(&log, prev.size, cp.size)
                .iter()
                .map(|h| glasslog_merkle::Hash::from_base64(h).unwrap())
                .collect();
            glasslog_merkle::verify_consistency(prev.size, cp.size, &p, &prev.root, &cp.root)
                .unwrap();
        }
        previous = Some(cp);
    }

    // Every route that hands out a checkpoint hands out a cosigned one.
    let info = log.get("/v1/log", None).json();
    let n = Note::open(info["checkpoint"].as_str().unwrap().as_bytes(), &keys).unwrap();
    assert_eq!(
        n.verify(&keys).unwrap().len(),
        3,
        "/v1/log: log + two witnesses"
    );
    let r = log.post_json(
        "/v1/entries?wait=checkpoint",
        Some(&log.admin),
        &serde_json::json!({"actor": "w", "action": "x"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let n = Note::open(r.json()["checkpoint"].as_str().unwrap().as_bytes(), &keys).unwrap();
    assert_eq!(
        n.verify(&keys).unwrap().len(),
        3,
        "wait=checkpoint: cosigned"
    );

    // So does a break-glass report.
    let r = log.post_json(
        "/v1/breakglass/sessions",
        Some(&log.admin),
        &serde_json::json!({"justification": "drill", "ticket": "INC-1",
                            "scope": {"resources": ["db/*"]}, "duration_seconds": 60}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let report = log
        .get(
            &format!("/v1/breakglass/sessions/{id}/report"),
            Some(&log.admin),
        )
        .json();
    let n = Note::open(report["checkpoint"].as_str().unwrap().as_bytes(), &keys).unwrap();
    assert_eq!(n.verify(&keys).unwrap().len(), 3, "report: cosigned");

    // Clients that ask for a quorum get it; one naming a witness that did not cosign is
    // refused, as is a quorum larger than the keys it names.
    let client = |witnesses: &[String], quorum| {
        glasslog_client::Client::new(&log.base, &log.vkey, None)
            .unwrap()
            .with_witnesses(witnesses, quorum)
    };
    let both = [w1.vkey.clone(), w2.vkey.clone()];
    client(&both, 2).unwrap().checkpoint().unwrap();
    let stranger = glasslog_merkle::Signer::from_seed("witness.example/stranger", [12; 32])
        .unwrap()
        .cosigner_vkey();
    let lone = [stranger.clone()];
    assert!(matches!(
        client(&lone, 1).unwrap().checkpoint(),
        Err(glasslog_client::Error::Unwitnessed { have: 0, need: 1 })
    ));
    assert!(client(&lone, 2).is_err());
    // The monitor takes the same flags: exit 0 with the real witnesses, 3 (not yet
    // trustworthy, not a lie) with a witness that never cosigned.
    let mon = |witnesses: &[&str], quorum: &str| {
        let state = tmp.path().join(format!("mon-{quorum}.json"));
        let mut args = vec!["monitor", "--once", "--state", state.to_str().unwrap()];
        for w in witnesses {
            args.extend(["--witness", w]);
        }
        args.extend(["--quorum", quorum]);
        let out = crate::server::run_cli(&log.base, &log.vkey, "", &args);
        drop(args);
        out
    };
    let (code, out, err) = mon(&[&w1.vkey, &w2.vkey], "2");
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, _, err) = mon(&[&stranger], "1");
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("cosigned by 0 of the 1"), "{err}");

    // A proof bundle carries the cosigned checkpoint; offline verification asks for the quorum.
    let bundle = tmp.path().join("proof.json");
    let (code, out, err) = crate::server::run_cli(
        &log.base,
        &log.vkey,
        &log.admin,
        &["prove", "0", "--out", bundle.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let verify = |witnesses: &[&str], quorum: &str| {
        let mut args = vec!["verify", bundle.to_str().unwrap(), "--quorum", quorum];
        for w in witnesses {
            args.extend(["--witness", w]);
        }
        crate::server::run_cli("", &log.vkey, "", &args)
    };
    let (code, out, err) = verify(&[&w1.vkey, &w2.vkey], "2");
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, _, err) = verify(&[&stranger], "1");
    assert_eq!(code, Some(1), "{err}");
    // The same proof under C2SP tlog-policy files: met by both witnesses, not by a stranger.
    let policy = |name: &str, body: String| {
        let path = tmp.path().join(name);
        std::fs::write(&path, format!("log {}\n{body}", log.vkey)).unwrap();
        let (code, out, err) = crate::server::run_cli(
            "",
            &log.vkey,
            "",
            &[
                "verify",
                bundle.to_str().unwrap(),
                "--policy",
                path.to_str().unwrap(),
            ],
        );
        (code, format!("{out}{err}"))
    };
    let both = format!(
        "witness a {}\nwitness b {}\ngroup g all a b\nquorum g\n",
        w1.vkey, w2.vkey
    );
    let (code, out) = policy("both.policy", both);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = policy(
        "stranger.policy",
        format!("witness s {stranger}\nquorum s\n"),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("trust policy"), "{out}");
}

fn witness_for(dir: &Path, name: &str, vkey: &str) -> Witness {
    std::fs::create_dir_all(dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args([
            "witness",
            "--listen",
            "127.0.0.1:0",
            "--name",
            name,
            "--log",
        ])
        .arg(format!("e2e.glasslog.example/log={vkey}"))
        .arg("--key")
        .arg(dir.join("witness.key"))
        .arg("--state")
        .arg(dir.join("state.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut wvkey) = (String::new(), String::new());
    while base.is_empty() || wvkey.is_empty() {
        let line = lines.next().unwrap().unwrap();
        if let Some(a) = line.strip_prefix("glasslog witness: listening on ") {
            base = a.to_owned();
        }
        if let Some(k) = line.strip_prefix("glasslog witness: cosigner key ") {
            wvkey = k.to_owned();
        }
    }
    Witness {
        child,
        base,
        vkey: wvkey,
    }
}

/// The deployment without Docker, as README.md shows it and docker-compose.yml wires it: keys
/// provisioned first by `glasslog keygen`, the server reading its key and the witness's
/// verifier key from files and publishing its own, a witness cosigning, a monitor polling.
#[test]
fn provisioned_keys_wire_a_server_a_witness_and_a_monitor() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |s: &str| tmp.path().join(s);
    std::fs::create_dir_all(p("keys")).unwrap();
    std::fs::create_dir_all(p("public")).unwrap();
    let keygen = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_glasslog"))
            .arg("keygen")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let origin = "e2e.glasslog.example/log";
    let log_vkey = keygen(&[
        "--name",
        origin,
        "--key",
        p("keys/log.key").to_str().unwrap(),
        "--vkey-out",
        p("public/log.vkey").to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(p("public/log.vkey"))
            .unwrap()
            .trim(),
        log_vkey
    );
    // Running it again keeps the key.
    assert_eq!(
        keygen(&[
            "--name",
            origin,
            "--key",
            p("keys/log.key").to_str().unwrap()
        ]),
        log_vkey
    );
    let witness_vkey = keygen(&[
        "--name",
        "witness.example/w1",
        "--cosigner",
        "--key",
        p("wit/witness.key").to_str().unwrap(),
        "--vkey-out",
        p("public/witness.vkey").to_str().unwrap(),
    ]);
    let w = witness_for(&p("wit"), "witness.example/w1", &log_vkey);
    assert_eq!(
        w.vkey, witness_vkey,
        "the witness runs with the provisioned key"
    );

    let config = p("glasslog.toml");
    std::fs::write(
        &config,
        format!(
            "key_file = {:?}\nvkey_file = {:?}\nwitness_quorum = 1\n[[witnesses]]\nurl = {:?}\nvkey_file = {:?}\n",
            p("keys/log.key"),
            p("public/served.vkey"),
            w.base,
            p("public/witness.vkey"),
        ),
    )
    .unwrap();
    let s = Server::start_with(&p("data"), &["--config", config.to_str().unwrap()]);
    assert_eq!(
        s.vkey, log_vkey,
        "the server signs with the provisioned key"
    );
    assert_eq!(
        std::fs::read_to_string(p("public/served.vkey"))
            .unwrap()
            .trim(),
        log_vkey
    );
    assert!(!p("data/log.key").exists());

    let r = s.post_json(
        "/v1/entries",
        Some(&s.admin),
        &serde_json::json!({"actor": "ops", "action": "deploy"}),
    );
    assert_eq!(r.status, 201);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = s.get("/checkpoint", None).text();
        if text.starts_with(&format!("{origin}\n1\n")) {
            let mut known = VerifierSet::new();
            known.add(glasslog_merkle::CosignatureVerifier::from_vkey(&witness_vkey).unwrap());
            Note::open(text.as_bytes(), &known).expect("cosigned by the witness");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no cosigned checkpoint: {text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let vkey = std::fs::read_to_string(p("public/log.vkey")).unwrap();
    let (code, out, err) = crate::server::run_cli(
        &s.base,
        vkey.trim(),
        "",
        &[
            "monitor",
            "--once",
            "--state",
            p("monitor.json").to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    s.stop();
}

/// Issue #12: a replayed, unchanged checkpoint is cosigned again without rewriting the state.
#[test]
fn a_replayed_checkpoint_does_not_rewrite_the_state() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("log"));
    let cp = grow(&s, 3, "r");
    let dir = tmp.path().join("w");
    let w = witness(&dir, "replay.example/w", &s);
    let (status, _, _) = add(&w, 0, &[], &cp);
    assert_eq!(status, 200);
    let size: u64 = cp.lines().nth(1).unwrap().parse().unwrap();
    let state = dir.join("state.json");
    let before = (
        std::fs::read(&state).unwrap(),
        std::fs::metadata(&state).unwrap().modified().unwrap(),
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (status, line, _) = add(&w, size, &[], &cp);
    assert_eq!(status, 200, "{line}");
    assert!(line.starts_with('\u{2014}'), "still cosigned: {line}");
    let after = (
        std::fs::read(&state).unwrap(),
        std::fs::metadata(&state).unwrap().modified().unwrap(),
    );
    assert_eq!(before, after, "the state file was rewritten for a replay");
}

/// `witness_policy`: a C2SP tlog-policy file decides when a checkpoint is served. Met by two
/// live witnesses, every served checkpoint carries both; a policy that also needs a witness
/// that never answers keeps every checkpoint unserved although one witness cosigned; a policy
/// naming a witness the server does not know stops it from starting.
#[test]
fn the_server_serves_only_checkpoints_that_meet_its_witness_policy() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let signer = glasslog_merkle::Signer::from_seed("e2e.glasslog.example/log", [12; 32]).unwrap();
    let provision = |dir: &Path| {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("log.key"),
            format!("{}\n", signer.to_skey().as_str()),
        )
        .unwrap();
        std::fs::set_permissions(dir.join("log.key"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    };
    let w1 = witness_for(&tmp.path().join("w1"), "witness.example/w1", &signer.vkey());
    let w2 = witness_for(&tmp.path().join("w2"), "witness.example/w2", &signer.vkey());
    let silent = glasslog_merkle::Signer::from_seed("witness.example/silent", [13; 32])
        .unwrap()
        .cosigner_vkey();
    let write = |name: &str, policy: &str, witnesses: &[(&str, &str)]| {
        let policy_file = tmp.path().join(format!("{name}.policy"));
        std::fs::write(&policy_file, policy).unwrap();
        let mut toml = format!("witness_policy = {policy_file:?}\n");
        for (url, vkey) in witnesses {
            toml.push_str(&format!("[[witnesses]]\nurl = {url:?}\nvkey = {vkey:?}\n"));
        }
        let config = tmp.path().join(format!("{name}.toml"));
        std::fs::write(&config, toml).unwrap();
        config
    };

    // Met: both witnesses, all of them.
    let both = format!(
        "log {}\nwitness a {}\nwitness b {}\ngroup ab all a b\nquorum ab\n",
        signer.vkey(),
        w1.vkey,
        w2.vkey
    );
    let config = write("met", &both, &[(&w1.base, &w1.vkey), (&w2.base, &w2.vkey)]);
    let data = tmp.path().join("met");
    provision(&data);
    let log = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    grow(&log, 30, "p");
    let keys =
        VerifierSet::from_vkeys([log.vkey.as_str(), w1.vkey.as_str(), w2.vkey.as_str()]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = log.get("/checkpoint", None);
        if r.status == 200 {
            let n = Note::open(r.text().as_bytes(), &keys).unwrap();
            if glasslog_merkle::Checkpoint::parse(&n.text).unwrap().size == 30 {
                assert_eq!(n.verify(&keys).unwrap().len(), 3, "log + both witnesses");
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint met the policy"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The monitor reads the same policy: met, it is fine; a policy this log's witnesses do not
    // meet is a short quorum (exit 3).
    let state = tmp.path().join("monitor.json");
    let policy = tmp.path().join("met.policy");
    let (code, _, err) = log.cli(&[
        "monitor",
        "--once",
        "--policy",
        policy.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let stricter = tmp.path().join("stricter.policy");
    std::fs::write(
        &stricter,
        format!(
            "log {}\nwitness a {}\nwitness c {}\ngroup ac all a c\nquorum ac\n",
            signer.vkey(),
            w1.vkey,
            silent
        ),
    )
    .unwrap();
    let (code, _, err) = log.cli(&[
        "monitor",
        "--once",
        "--policy",
        stricter.to_str().unwrap(),
        "--state",
        tmp.path().join("monitor2.json").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(3), "{err}");
    drop(log);

    // Not met: the policy also needs a witness that never answers. A fresh witness w3 cosigns
    // (its monitoring endpoint shows it), yet nothing is served.
    let w3 = witness_for(&tmp.path().join("w3"), "witness.example/w3", &signer.vkey());
    let unmet = format!(
        "log {}\nwitness a {}\nwitness c {}\ngroup ac all a c\nquorum ac\n",
        signer.vkey(),
        w3.vkey,
        silent
    );
    let config = write(
        "unmet",
        &unmet,
        &[(&w3.base, &w3.vkey), ("http://127.0.0.1:9", &silent)],
    );
    let data = tmp.path().join("unmet");
    provision(&data);
    let log = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    grow(&log, 5, "q");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let monitoring = format!(
        "{}/{}/checkpoint",
        w3.base,
        sha256_hex(b"e2e.glasslog.example/log")
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let mut r = agent.get(&monitoring).call().unwrap();
        let body = r.body_mut().read_to_string().unwrap();
        if r.status().as_u16() == 200 && body.lines().nth(1) == Some("5") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "w3 never cosigned size 5"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let r = log.get("/checkpoint", None);
    assert_eq!(r.status, 503, "{}", r.text());
    drop(log);

    // A policy witness the server would never ask: refused at start.
    let config = write("unknown", &both, &[(&w1.base, &w1.vkey)]);
    let data = tmp.path().join("unknown");
    provision(&data);
    let err = crate::server::refused_to_start(&data, &config, &[]);
    assert!(
        err.contains("witness policy") && err.contains(&w2.vkey),
        "{err}"
    );
}

/// An ML-DSA-44 witness over HTTP, the real binary: add-checkpoint answers with an Ed25519 and
/// an ML-DSA-44 line that verify; sign-subtree signs a subtree of a checkpoint the witness
/// cosigned, and refuses one it did not; the monitoring endpoint is read-only and only serves
/// its own path.
#[test]
fn an_mldsa_witness_cosigns_and_signs_subtrees_over_http() {
    use glasslog_merkle::{
        AddCheckpoint, MemoryHashes, MlDsaVerifier, SignSubtree, decode_entry_bundle, leaf_hash,
        subtree_consistency_proof, subtree_hash,
    };
    let tmp = tempfile::tempdir().unwrap();
    let log = Server::start(&tmp.path().join("log"));
    grow(&log, 300, "m");
    let note = log.get("/checkpoint", None).text();
    let dir = tmp.path().join("w");
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args([
            "witness",
            "--listen",
            "127.0.0.1:0",
            "--name",
            "witness.example/pq",
        ])
        .args(["--algorithms", "ed25519,ml-dsa-44", "--log"])
        .arg(format!("e2e.glasslog.example/log={}", log.vkey))
        .arg("--key")
        .arg(dir.join("w.key"))
        .arg("--mldsa-key")
        .arg(dir.join("w-mldsa.key"))
        .arg("--state")
        .arg(dir.join("state.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut keys) = (String::new(), Vec::new());
    while base.is_empty() || keys.len() < 2 {
        let line = lines.next().unwrap().unwrap();
        if let Some(a) = line.strip_prefix("glasslog witness: listening on ") {
            base = a.to_owned();
        } else if let Some(k) = line.strip_prefix("glasslog witness: cosigner key ") {
            keys.push(k.to_owned());
        }
    }
    let w = Witness {
        child,
        base,
        vkey: keys[0].clone(),
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let send = |method: &str, path: &str, body: &str| {
        let url = format!("{}{path}", w.base);
        let mut r = if method == "GET" {
            agent.get(&url).call().unwrap()
        } else {
            agent.post(&url).send(body.as_bytes()).unwrap()
        };
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    let body = AddCheckpoint {
        old_size: 0,
        proof: Vec::new(),
        checkpoint: note.clone(),
    }
    .to_body();
    let (status, cosigs) = send("POST", "/add-checkpoint", &body);
    assert_eq!(status, 200, "{cosigs}");
    assert_eq!(cosigs.lines().count(), 2, "{cosigs}");
    let cosigned = format!("{note}{cosigs}");
    for k in &keys {
        let set = VerifierSet::from_vkeys([k.as_str()]).unwrap();
        assert!(Note::open(cosigned.as_bytes(), &set).is_ok(), "{k}");
    }

    // sign-subtree for [256, 300) of the cosigned checkpoint.
    let mut entries: Vec<Vec<u8>> = Vec::new();
    for path in ["tile/entries/000", "tile/entries/001.p/44"] {
        let bundle = log.get(&format!("/{path}"), Some(&log.admin)).body;
        entries.extend(
            decode_entry_bundle(&bundle)
                .unwrap()
                .into_iter()
                .map(<[u8]>::to_vec),
        );
    }
    let mut tree = MemoryHashes::new();
    for e in &entries {
        tree.push(leaf_hash(e));
    }
    let hash = subtree_hash(256, 300, &tree).unwrap();
    let request = |checkpoint: &str| {
        SignSubtree {
            start: 256,
            end: 300,
            hash,
            proof: subtree_consistency_proof(256, 300, 300, &tree).unwrap(),
            checkpoint: checkpoint.to_owned(),
        }
        .to_body()
    };
    let (status, line) = send("POST", "/sign-subtree", &request(&cosigned));
    assert_eq!(status, 200, "{line}");
    let sig = Note::parse(format!("x\n\n{line}").as_bytes())
        .unwrap()
        .signatures[0]
        .clone();
    let ml = MlDsaVerifier::from_vkey(&keys[1]).unwrap();
    assert_eq!(
        ml.verified_subtree("e2e.glasslog.example/log", 256, 300, &hash, &sig.signature),
        Some(0),
        "a subtree cosignature carries timestamp 0"
    );
    // A reference checkpoint without the witness's own ML-DSA-44 line: refused.
    let (status, _) = send("POST", "/sign-subtree", &request(&note));
    assert!((400..500).contains(&status), "{status}");

    // Monitoring: GET only, on its own path; no tiles here.
    let hash_path = format!("/{}/checkpoint", sha256_hex(b"e2e.glasslog.example/log"));
    let (status, latest) = send("GET", &hash_path, "");
    assert_eq!(status, 200);
    assert!(latest.ends_with(&cosigs), "{latest}");
    assert_eq!(send("POST", &hash_path, "").0, 405);
    assert_eq!(send("GET", "/tile/0/000", "").0, 404);
    drop(w);
}
