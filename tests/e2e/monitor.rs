//! Monitors and auditors against real servers: a growing log passes; a fork, a rollback and
//! altered stored bytes are caught with the documented exit statuses.

use crate::Server;
use crate::server::run_cli as run;
use std::path::Path;

fn submit(s: &Server, n: u64, tag: &str) {
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| serde_json::json!({"actor": format!("{tag}-{i}"), "action": "update"}))
        .collect();
    assert_eq!(
        s.post_json(
            "/v1/entries/batch",
            Some(&s.admin),
            &serde_json::Value::Array(items)
        )
        .status,
        200
    );
}

fn monitor_once(s: &Server, state: &Path) -> (Option<i32>, String, String) {
    run(
        &s.base,
        &s.vkey,
        &s.admin,
        &["monitor", "--once", "--state", state.to_str().unwrap()],
    )
}

/// A second server with the first one's key and origin: a log that can fork.
fn twin(original: &Path, dir: &Path) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(original.join("log.key"), dir.join("log.key")).unwrap();
    Server::start(dir)
}

#[test]
fn a_monitor_follows_a_growing_log_and_catches_forks_and_rollbacks() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Server::start(&tmp.path().join("a"));
    let state = tmp.path().join("monitor.json");
    for round in 0..4 {
        submit(&a, 100 + round * 50, &format!("a{round}"));
        let (code, out, err) = monitor_once(&a, &state);
        assert_eq!(code, Some(0), "{err}");
        assert!(out.starts_with("ok: size"), "{out}");
    }
    // Nothing new: still fine, one request.
    assert_eq!(monitor_once(&a, &state).0, Some(0));

    // A fork: another log with the same key and origin, bigger but not an extension.
    let b = twin(&tmp.path().join("a"), &tmp.path().join("b"));
    submit(&b, 1000, "b");
    let forked = tmp.path().join("forked.json");
    std::fs::copy(&state, &forked).unwrap();
    let (code, _, err) = monitor_once(&b, &forked);
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("fork"), "{err}");

    // A rollback: the same state file against a smaller log with that key.
    let c = twin(&tmp.path().join("a"), &tmp.path().join("c"));
    submit(&c, 10, "c");
    let rolled = tmp.path().join("rolled.json");
    std::fs::copy(&state, &rolled).unwrap();
    let (code, _, err) = monitor_once(&c, &rolled);
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("rollback"), "{err}");

    // A watch rule reads the new entries from bundles.
    let watched = tmp.path().join("watched.json");
    assert_eq!(monitor_once(&a, &watched).0, Some(0));
    submit(&a, 3, "needle");
    let (code, out, err) = run(
        &a.base,
        &a.vkey,
        &a.admin,
        &[
            "monitor",
            "--once",
            "--state",
            watched.to_str().unwrap(),
            "--watch",
            "needle-1",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.matches("watch: entry").count(), 1, "{out}");

    // Unreachable is not inconsistent.
    let port_closed = "http://127.0.0.1:9";
    let (code, _, _) = run(
        port_closed,
        &a.vkey,
        "",
        &[
            "monitor",
            "--once",
            "--state",
            tmp.path().join("x.json").to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(3));
}

#[test]
fn audit_recomputes_the_tree_and_names_the_first_bad_tile() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let s = Server::start(&data);
    submit(&s, 700, "x");
    let leak = serde_json::json!({"actor": "ops", "action": "run", "details": {"note": "done"}});
    s.post_json("/v1/entries", Some(&s.admin), &leak);
    let state = tmp.path().join("audit.json");
    let (code, out, err) = run(
        &s.base,
        &s.vkey,
        &s.admin,
        &["audit", "--state", state.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("audit OK: 701 entries"), "{out}");
    let (vkey, admin) = (s.vkey.clone(), s.admin.clone());
    s.stop();

    // Alter one stored entry behind the server's back, then restart it.
    {
        let store = glasslog_log::RocksStore::open(&data.join("db"), &Default::default()).unwrap();
        let key = 300u64.to_be_bytes();
        let mut entry = store.raw("entries", &key).unwrap().unwrap();
        entry[20] ^= 0x01;
        store.tamper("entries", &key, &entry).unwrap();
    }
    let s = Server::start(&data);
    let (code, _, err) = run(
        &s.base,
        &vkey,
        &admin,
        &["audit", "--state", state.to_str().unwrap()],
    );
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("first bad tile: tile/entries/001"), "{err}");
}

#[test]
fn a_watching_monitor_checks_level_0_tiles_into_the_signed_root() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let s = Server::start(&data);
    let state = tmp.path().join("mon.json");
    // The monitor knows size 256; then the log grows to 700.
    submit(&s, 256, "w");
    assert_eq!(monitor_once(&s, &state).0, Some(0));
    submit(&s, 444, "x");
    let (vkey, admin) = (s.vkey.clone(), s.admin.clone());
    s.stop();
    // Entry 300 and its hash in level-0 tile 1 altered together, behind the server's back:
    // the bundle matches its tile, but the tile no longer hashes to the signed root.
    {
        let store = glasslog_log::RocksStore::open(&data.join("db"), &Default::default()).unwrap();
        let key = 300u64.to_be_bytes();
        let mut entry = store.raw("entries", &key).unwrap().unwrap();
        let at = entry.windows(4).position(|w| w == b"x-44").unwrap();
        entry[at] = b'y';
        store.tamper("entries", &key, &entry).unwrap();
        let tile_key = [0u8, 0, 0, 0, 0, 0, 0, 0, 1];
        let mut tile = store.raw("tiles", &tile_key).unwrap().unwrap();
        let offset = 2 + 44 * 32;
        tile[offset..offset + 32].copy_from_slice(&glasslog_merkle::leaf_hash(&entry).0);
        store.tamper("tiles", &tile_key, &tile).unwrap();
    }
    let s = Server::start(&data);
    let (code, out, err) = run(
        &s.base,
        &vkey,
        &admin,
        &[
            "monitor",
            "--once",
            "--watch",
            "y-44",
            "--state",
            state.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(4), "{out}{err}");
    assert!(
        err.contains("tile 0/1 does not hash into the signed root"),
        "{err}"
    );
    assert!(
        !out.contains("y-44"),
        "the altered entry was reported as the log's: {out}"
    );
}
