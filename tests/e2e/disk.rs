//! A full disk: the data directory on a small tmpfs fills up under load. Submissions then get a
//! clear 503 problem, reads keep working, nothing acknowledged is lost, and once space is back
//! the log takes entries again and verifies end to end. Needs root to mount a tmpfs; where
//! mounting is not permitted the test says so and passes vacuously (CI runs as root).

use crate::Server;
use glasslog_client::Client;
use glasslog_merkle::Hash;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs, unmounted on drop (also when the test fails).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_owned()))
    }

    fn resize(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn batch(s: &Server, round: usize) -> (u16, Value) {
    let pad = "x".repeat(900);
    let items: Vec<Value> = (0..200)
        .map(|i| json!({"actor": format!("filler-{round}-{i}"), "action": "write", "reason": pad}))
        .collect();
    let r = s.post_json("/v1/entries/batch", Some(&s.admin), &Value::Array(items));
    let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, body)
}

#[test]
fn a_full_disk_refuses_cleanly_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&tmp.path().join("disk"), "24m") else {
        eprintln!("a_full_disk: cannot mount a tmpfs here (not root?): not run");
        return;
    };
    let data = disk.0.join("data");
    let s = Server::start(&data);
    let mut acked: Vec<(u64, Hash)> = Vec::new();
    let mut refused = None;
    for round in 0..400 {
        let (status, body) = batch(&s, round);
        if status == 200 {
            for r in body["results"].as_array().unwrap() {
                acked.push((
                    r["index"].as_u64().unwrap(),
                    Hash::from_base64(r["leaf_hash"].as_str().unwrap()).unwrap(),
                ));
            }
        } else {
            refused = Some((status, body));
            break;
        }
    }
    let (status, body) = refused.expect("the disk never filled");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["type"], "urn:glasslog:problem:unavailable");
    assert!(acked.len() > 1000, "only {} entries fitted", acked.len());
    // Still up, still serving reads and proofs of everything acknowledged.
    assert_eq!(s.get("/healthz", None).status, 200);
    let client = Client::new(&s.base, &s.vkey, Some(s.admin.clone())).unwrap();
    let cp = client.checkpoint().unwrap();
    for (index, leaf) in acked.iter().step_by(97) {
        client.prove_inclusion(*index, leaf, &cp).unwrap();
    }
    assert!(!s.server_log().contains("panicked"));

    // Space comes back: after a restart (RocksDB stays read-only after a failed WAL write)
    // every acknowledged entry is there and the log grows again.
    s.stop();
    disk.resize("256m");
    let s = Server::start(&data);
    let client = Client::new(&s.base, &s.vkey, Some(s.admin.clone())).unwrap();
    let cp = client.checkpoint().unwrap();
    assert!(cp.checkpoint.size >= acked.len() as u64);
    for (index, leaf) in &acked {
        client.prove_inclusion(*index, leaf, &cp).unwrap();
    }
    let (status, body) = batch(&s, 10_000);
    assert_eq!(status, 200, "{body}");
    let (code, out, err) = s.cli(&[
        "audit",
        "--state",
        tmp.path().join("a.json").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    s.stop();
}
