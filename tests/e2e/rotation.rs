//! Rotating the log's checkpoint key on the real binary: during the overlap every checkpoint
//! carries the old key's signature and the new one's, each verifying alone, so a monitor that
//! knows only the old key follows on; the key set is an entry in the log, recorded once per
//! change; after the overlap only the new key signs, and the old one still opens the stored
//! history.

use crate::Server;
use glasslog_merkle::{Note, VerifierSet};
use std::path::Path;

fn signatures(note: &str, vkey: &str) -> Option<usize> {
    let set = VerifierSet::from_vkeys([vkey]).unwrap();
    Note::open(note.as_bytes(), &set)
        .ok()
        .map(|n| n.verify(&set).unwrap().len())
}

fn rotation_config(dir: &Path, name: &str, until: u64, retired: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "key_file = {:?}\n[rotation]\nprevious_key_file = {:?}\noverlap_until = {until}\nretired_vkeys = [{retired}]\n",
            dir.join("new.key"),
            dir.join("log").join("log.key"),
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

/// Entries the log recorded its signing keys in.
fn key_records(log: &Server) -> Vec<serde_json::Value> {
    let size = log.get("/v1/log", None).json()["tree_size"]
        .as_u64()
        .unwrap();
    (0..size)
        .map(|i| {
            log.get(&format!("/v1/entries/{i}"), Some(&log.admin))
                .json()
        })
        .filter(|e| e.to_string().contains("glasslog.signing_keys"))
        .collect()
}

#[test]
fn a_rotated_key_cosigns_for_the_overlap_and_is_on_the_record() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("log");
    std::fs::create_dir_all(&data).unwrap();

    // A log under its first key, followed by a monitor that knows only that key.
    let log = Server::start(&data);
    let old = log.vkey.clone();
    for i in 0..5 {
        let r = log.post_json(
            "/v1/entries",
            Some(&log.admin),
            &serde_json::json!({"actor": format!("u{i}"), "action": "read"}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    assert!(
        key_records(&log).is_empty(),
        "a log that never rotated records nothing"
    );
    let state = tmp.path().join("monitor.json");
    let state = state.to_str().unwrap();
    let (code, _, err) = log.cli(&["monitor", "--once", "--state", state]);
    assert_eq!(code, Some(0), "{err}");
    let data = log.stop();

    // Rotate: a new key, the old one co-signing for an hour.
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let cfg = rotation_config(tmp.path(), "overlap.toml", until, "");
    let log = Server::start_with(&data, &["--config", &cfg]);
    let new = log.vkey.clone();
    assert_ne!(new, old, "the published key is the new one");
    let r = log.post_json(
        "/v1/entries",
        Some(&log.admin),
        &serde_json::json!({"actor": "after-rotation", "action": "read"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let note = log.get("/checkpoint", None).text();
    // Two lines, each verifying under its key alone.
    assert_eq!(Note::parse(note.as_bytes()).unwrap().signatures.len(), 2);
    assert_eq!(signatures(&note, &old), Some(1), "{note}");
    assert_eq!(signatures(&note, &new), Some(1), "{note}");
    // The monitor that knows only the old key follows the rotated log.
    let (code, _, err) = crate::server::run_cli(
        &log.base,
        &old,
        &log.admin,
        &["monitor", "--once", "--state", state],
    );
    assert_eq!(code, Some(0), "{err}");
    let records = key_records(&log);
    assert_eq!(records.len(), 1, "{records:?}");
    let text = records[0].to_string();
    assert!(text.contains(&new) && text.contains(&old), "{text}");
    assert!(text.contains(&until.to_string()), "{text}");
    // The same keys again: no second record.
    let data = log.stop();
    let log = Server::start_with(&data, &["--config", &cfg]);
    assert_eq!(key_records(&log).len(), 1);
    let data = log.stop();

    // The overlap is over: the new key signs alone; the old key verifies the history it signed.
    let cfg = rotation_config(tmp.path(), "after.toml", 1, &format!("{old:?}"));
    let log = Server::start_with(&data, &["--config", &cfg]);
    let r = log.post_json(
        "/v1/entries",
        Some(&log.admin),
        &serde_json::json!({"actor": "after-overlap", "action": "read"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let note = log.get("/checkpoint", None).text();
    assert_eq!(Note::parse(note.as_bytes()).unwrap().signatures.len(), 1);
    assert_eq!(signatures(&note, &new), Some(1), "{note}");
    assert_eq!(signatures(&note, &old), None, "{note}");
    assert_eq!(
        key_records(&log).len(),
        2,
        "the end of the overlap is a change"
    );
    let (code, out, err) = log.cli(&["audit"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let data = log.stop();

    // A previous key file that does not exist is refused, never made up.
    std::fs::write(
        tmp.path().join("missing.toml"),
        format!(
            "key_file = {:?}\n[rotation]\nprevious_key_file = {:?}\noverlap_until = 1\n",
            tmp.path().join("new.key"),
            tmp.path().join("nowhere.key")
        ),
    )
    .unwrap();
    crate::server::refused_to_start(&data, &tmp.path().join("missing.toml"), &[]);
    assert!(!tmp.path().join("nowhere.key").exists());
}
