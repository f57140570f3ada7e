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
    for round in 0..3 {
        let items: Vec<serde_json::Value> = (0..100)
            .map(|i| serde_json::json!({"actor": format!("r{round}-{i}"), "action": "read"}))
            .collect();
        let r = log.post_json(
            "/v1/entries/batch",
            Some(&log.admin),
            &serde_json::Value::Array(items),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
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
