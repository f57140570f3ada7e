//! `glasslog serve --store <PostgreSQL>` on the real binary against a real PostgreSQL: entries
//! acknowledged, proven and audited, the whole log still there after a restart, and no RocksDB
//! under the data directory. Without PostgreSQL it skips with a message, unless
//! `GLASSLOG_REQUIRE_ORACLES` is set (CI installs it).

use crate::Server;
use glasslog_merkle::{Note, VerifierSet};

#[test]
fn a_log_served_from_postgres_survives_a_restart() {
    let Some(pg) = glasslog_postgres::testing::cluster() else {
        return;
    };
    let url = pg.database("e2e");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("log");
    std::fs::create_dir_all(&data).unwrap();
    let log = Server::start_with(&data, &["--store", &url]);
    log.append_events(300, "r");
    let state = tmp.path().join("monitor.json");
    let state = state.to_str().unwrap();
    let (code, _, err) = log.cli(&["monitor", "--once", "--state", state]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!data.join("db").exists(), "the embedded store was opened");
    let data = log.stop();

    let log = Server::start_with(&data, &["--store", &url]);
    let r = log.post_json(
        "/v1/entries",
        Some(&log.admin),
        &serde_json::json!({"actor": "after-restart", "action": "read"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["index"], 300);
    let note = log.get("/checkpoint", None).text();
    let set = VerifierSet::from_vkeys([log.vkey.as_str()]).unwrap();
    assert!(
        Note::open(note.as_bytes(), &set)
            .unwrap()
            .text
            .contains("\n301\n")
    );
    let (code, _, err) = log.cli(&["monitor", "--once", "--state", state]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = log.cli(&["audit"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = log.cli(&["prove", "257"]);
    assert_eq!(code, Some(0), "{out}{err}");
    // The server log never carries the connection string.
    drop(log);
    let logged = std::fs::read_to_string(data.with_extension("stderr.log")).unwrap_or_default();
    assert!(!logged.contains(&url), "the store URL was logged");
}

/// Two front-ends on one database, provisioned alike (the signing key file and the
/// fingerprint key; the token store is in the database): the second starts as a standby and
/// forwards what it gets to the first, and when the first is killed with SIGKILL it takes over
/// once the lease runs out, with every acknowledged entry at its index, a checkpoint
/// consistent with what a monitor saw before, and the tokens as the first left them: one made
/// after the standby started works, one revoked is refused.
#[test]
fn a_standby_takes_over_when_the_sequencer_is_killed() {
    let Some(pg) = glasslog_postgres::testing::cluster() else {
        return;
    };
    let url = pg.database("failover");
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("front.toml");
    std::fs::write(
        &cfg,
        format!(
            "key_file = {:?}\nstore_lease_seconds = 2\nstore_standby = true\n",
            tmp.path().join("log.key")
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap().to_owned();
    let (data_a, data_b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&data_a).unwrap();
    std::fs::create_dir_all(&data_b).unwrap();
    let a = Server::start_with(&data_a, &["--config", &cfg, "--store", &url]);
    a.append_events(100, "a-");
    let state = tmp.path().join("monitor.json");
    let state = state.to_str().unwrap().to_owned();
    let (code, _, err) = a.cli(&["monitor", "--once", "--state", &state]);
    assert_eq!(code, Some(0), "{err}");
    // The admin token file only so that the test's helper finds it; no tokens.json.
    for f in ["fingerprint.key", "admin.token"] {
        std::fs::copy(data_a.join(f), data_b.join(f)).unwrap();
    }

    // Not a standby: refused at once, saying why.
    let plain = tmp.path().join("plain.toml");
    std::fs::write(&plain, format!("store = {url:?}\n")).unwrap();
    let err = crate::server::refused_to_start(&tmp.path().join("c"), &plain, &[]);
    assert!(err.contains("holds the sequencer lease"), "{err}");

    // The standby listens at once and forwards: a submission to it lands in the first's log.
    let b = Server::start_with(&data_b, &["--config", &cfg, "--store", &url]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while b.get("/readyz", None).text() != "forwarding\n" {
        assert!(
            std::time::Instant::now() < deadline,
            "the standby never found the sequencer"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let r = b.post_json(
        "/v1/entries",
        Some(&b.admin),
        &serde_json::json!({"actor": "through-the-standby", "action": "read"}),
    );
    assert_eq!(r.status, 201, "forwarded: {}", r.text());
    assert_eq!(r.json()["index"], 100);
    assert_eq!(r.header("via").as_deref(), Some("1.1 glasslog-standby"));
    let e = a.get("/v1/entries/100", Some(&a.admin)).text();
    assert!(e.contains("through-the-standby"), "{e}");
    assert_eq!(b.get("/readyz", None).text(), "forwarding\n");
    // Tokens made and revoked on the sequencer while the standby waits.
    let made = a.token("submitter", "made-while-b-forwarded");
    let doomed = a.post_json(
        "/v1/admin/tokens",
        Some(&a.admin),
        &serde_json::json!({"role": "submitter", "name": "revoked-on-a"}),
    );
    assert_eq!(doomed.status, 201, "{}", doomed.text());
    let doomed = doomed.json();
    let r = a.request(
        "DELETE",
        &format!("/v1/admin/tokens/{}", doomed["id"].as_str().unwrap()),
        Some(&a.admin),
        None,
        b"",
    );
    assert!(r.status < 300, "{} {}", r.status, r.text());
    assert!(!data_b.join("tokens.json").exists());
    // The token changes are audited: entries of their own.
    let size = a.get("/v1/log", None).json()["tree_size"].as_u64().unwrap();
    assert_eq!(size, 104);
    let killed = std::time::Instant::now();
    a.kill();
    // Meanwhile the standby says no one sequences, then takes over.
    let deadline = killed + std::time::Duration::from_secs(30);
    while b.get("/readyz", None).text() != "ready\n" {
        assert!(
            std::time::Instant::now() < deadline,
            "the standby never took over"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let takeover = killed.elapsed();
    eprintln!("standby sequencing {takeover:?} after the SIGKILL (lease 2 s)");

    for i in [0u64, 57, 99] {
        let e = b.get(&format!("/v1/entries/{i}"), Some(&b.admin)).text();
        assert!(e.contains(&format!("a-{i}")), "entry {i}: {e}");
    }
    let r = b.post_json(
        "/v1/entries",
        Some(&b.admin),
        &serde_json::json!({"actor": "after-failover", "action": "read"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["index"], size);
    let r = b.post_json(
        "/v1/entries",
        Some(&made),
        &serde_json::json!({"actor": "with-a-token-made-on-a", "action": "read"}),
    );
    assert_eq!(
        r.status,
        201,
        "a token made on the first front-end: {}",
        r.text()
    );
    let r = b.post_json(
        "/v1/entries",
        Some(doomed["token"].as_str().unwrap()),
        &serde_json::json!({"actor": "revoked", "action": "read"}),
    );
    assert_eq!(
        r.status,
        401,
        "a token revoked on the first front-end: {}",
        r.text()
    );
    let (code, _, err) = b.cli(&["monitor", "--once", "--state", &state]);
    assert_eq!(code, Some(0), "the monitor saw no fork: {err}");
    let (code, out, err) = b.cli(&["audit"]);
    assert_eq!(code, Some(0), "{out}{err}");
}
