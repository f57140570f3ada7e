//! `glasslog mirror` against a real log: the copy follows the log, is served cosigned at
//! `/<origin hash>/` with the log's bytes, passes `glasslog audit` and `glasslog monitor` with
//! no glasslog log in the path, survives a restart, and refuses a fork while it keeps serving
//! the last good copy.

use crate::Server;
use crate::server::run_cli;
use glasslog_merkle::{Checkpoint, Note, VerifierSet};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Mirror {
    child: Child,
    base: String,
    copy: String,
    vkey: String,
}

impl Drop for Mirror {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mirror(dir: &Path, log: &Server, stderr: &Path) -> Mirror {
    mirror_with(dir, log, stderr, &[])
}

fn mirror_with(dir: &Path, log: &Server, stderr: &Path, extra: &[&str]) -> Mirror {
    std::fs::create_dir_all(dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args([
            "mirror",
            "--listen",
            "127.0.0.1:0",
            "--name",
            "mirror.example/m1",
        ])
        .args(extra)
        .args(["--interval", "1", "--url", &log.base, "--vkey", &log.vkey])
        .arg("--key")
        .arg(dir.join("mirror.key"))
        .arg("--mldsa-key")
        .arg(dir.join("mirror-mldsa.key"))
        .arg("--data")
        .arg(dir.join("data"))
        .env("GLASSLOG_TOKEN", &log.admin)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(stderr).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut copy, mut vkey) = (String::new(), String::new(), String::new());
    while base.is_empty() || copy.is_empty() || vkey.is_empty() {
        let line = lines.next().unwrap().unwrap();
        if let Some(a) = line.strip_prefix("glasslog mirror: listening on ") {
            base = a.to_owned();
        } else if let Some(k) = line.strip_prefix("glasslog mirror: cosigner key ") {
            vkey = k.to_owned();
        } else if let Some((_, url)) = line.split_once(" at ") {
            copy = url.trim_end_matches('/').to_owned();
        }
    }
    Mirror {
        child,
        base,
        copy,
        vkey,
    }
}

fn get(url: &str) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.get(url).call().unwrap();
    (r.status().as_u16(), r.body_mut().read_to_vec().unwrap())
}

fn grow(s: &Server, n: u64, tag: &str) {
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| serde_json::json!({"actor": format!("{tag}{i}"), "action": "x"}))
        .collect();
    let r = s.post_json(
        "/v1/entries/batch",
        Some(&s.admin),
        &serde_json::Value::Array(items),
    );
    assert_eq!(r.status, 200);
}

/// Waits for the mirror's checkpoint to reach `size`; returns it, with both signatures checked.
fn wait_for(m: &Mirror, log_vkey: &str, size: u64) -> String {
    let keys = VerifierSet::from_vkeys([log_vkey, m.vkey.as_str()]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(&format!("{}/checkpoint", m.copy));
        if status == 200 {
            let note = Note::open(&body, &keys).unwrap();
            if Checkpoint::parse(&note.text).unwrap().size == size {
                assert_eq!(note.verify(&keys).unwrap().len(), 2, "log + mirror");
                return String::from_utf8(body).unwrap();
            }
        }
        assert!(
            Instant::now() < deadline,
            "the mirror never reached size {size}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_mirror_follows_serves_survives_a_restart_and_refuses_a_fork() {
    let tmp = tempfile::tempdir().unwrap();
    let log = Server::start(&tmp.path().join("log"));
    grow(&log, 300, "a");
    let err = tmp.path().join("mirror.err");
    let m = mirror(&tmp.path().join("m"), &log, &err);
    assert!(
        m.copy.starts_with(&m.base) && m.copy.len() == m.base.len() + 65,
        "{}",
        m.copy
    );
    wait_for(&m, &log.vkey, 300);
    grow(&log, 213, "b");
    let cp = wait_for(&m, &log.vkey, 513);

    // The copy is the log's, byte for byte, under the tlog-tiles paths.
    for path in [
        "tile/entries/000",
        "tile/entries/002.p/1",
        "tile/0/001",
        "tile/1/000.p/2",
    ] {
        let (s1, ours) = get(&format!("{}/{path}", m.copy));
        let theirs = log.get(&format!("/{path}"), Some(&log.admin));
        assert_eq!(
            (s1, ours.as_slice()),
            (200, theirs.body.as_slice()),
            "{path}"
        );
    }
    // Only tlog-tiles paths, only held origins, never beyond the mirrored size.
    for url in [
        format!("{}/tile/data/000", m.copy),
        format!("{}/tile/entries/003", m.copy),
        format!("{}/{}/checkpoint", m.base, "0".repeat(64)),
        format!("{}/checkpoint", m.base),
    ] {
        assert_eq!(get(&url).0, 404, "{url}");
    }

    // Auditors and monitors read the copy with no glasslog log in the path.
    let (code, out, stderr) = run_cli(
        &m.copy,
        &log.vkey,
        "",
        &[
            "audit",
            "--state",
            tmp.path().join("audit.json").to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{out}{stderr}");
    let (code, _, stderr) = run_cli(
        &m.copy,
        &log.vkey,
        "",
        &[
            "monitor",
            "--once",
            "--state",
            tmp.path().join("monitor.json").to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");

    // A restart serves the same copy, then keeps following.
    drop(m);
    let m = mirror(&tmp.path().join("m"), &log, &err);
    assert_eq!(wait_for(&m, &log.vkey, 513), cp);
    drop(m);

    // A fork: the same key and origin, a different history. The mirror refuses it and keeps
    // serving the copy it had.
    let twin = tmp.path().join("twin");
    std::fs::create_dir_all(&twin).unwrap();
    std::fs::copy(tmp.path().join("log/log.key"), twin.join("log.key")).unwrap();
    let fork = Server::start(&twin);
    grow(&fork, 600, "z");
    let m = mirror(&tmp.path().join("m"), &fork, &err);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&err)
        .unwrap()
        .contains("not mirrored")
    {
        assert!(Instant::now() < deadline, "the fork was not reported");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, body) = get(&format!("{}/checkpoint", m.copy));
    assert_eq!((status, String::from_utf8(body).unwrap()), (200, cp));
}

/// The push side: a client holding the log's data sends its checkpoint to `add-checkpoint` and
/// its entries, in packages with subtree consistency proofs, to `add-entries` (gzip, as the
/// spec lets clients send); the mirror answers with its cosignature and serves the copy.
#[test]
fn a_mirror_takes_pushed_checkpoints_and_entries() {
    use glasslog_merkle::{
        AddCheckpoint, AddEntries, AddEntriesHeader, MemoryHashes, Package, decode_entry_bundle,
        leaf_hash, package_ranges, package_subtree_start, subtree_consistency_proof,
    };
    let tmp = tempfile::tempdir().unwrap();
    let log = Server::start(&tmp.path().join("log"));
    grow(&log, 300, "p");
    let note = log.get("/checkpoint", None).text();
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
    let m = mirror_with(
        &tmp.path().join("m"),
        &log,
        &tmp.path().join("push.err"),
        &["--no-pull", "--algorithms", "ed25519,ml-dsa-44"],
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |path: &str, body: &[u8], gzip: bool| {
        let mut req = agent.post(&format!("{}/{path}", m.base));
        if gzip {
            req = req.header("Content-Encoding", "gzip");
        }
        let mut r = req.send(body).unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    // Entries before any checkpoint: 422.
    let upload = AddEntries {
        header: AddEntriesHeader {
            origin: "e2e.glasslog.example/log".into(),
            upload_start: 0,
            upload_end: 300,
            ticket: Vec::new(),
        },
        packages: package_ranges(0, 300)
            .map(|(a, b)| Package {
                entries: entries[a as usize..b as usize].to_vec(),
                proof: subtree_consistency_proof(package_subtree_start(a), b, 300, &tree).unwrap(),
            })
            .collect(),
    }
    .encode()
    .unwrap();
    assert_eq!(post("add-entries", &upload, false).0, 422);
    let body = AddCheckpoint {
        old_size: 0,
        proof: Vec::new(),
        checkpoint: note.clone(),
    }
    .to_body();
    assert_eq!(
        post("add-checkpoint", body.as_bytes(), false),
        (200, String::new())
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &upload).unwrap();
    let (status, line) = post("add-entries", &gz.finish().unwrap(), true);
    assert_eq!(status, 200, "{line}");
    assert!(line.starts_with("\u{2014} mirror.example/m1 "), "{line}");
    let served = wait_for(&m, &log.vkey, 300);
    assert!(served.ends_with(&line), "{served}");
    // With an ML-DSA-44 key too: two lines, the second a subtree/v1 cosignature.
    assert_eq!(line.lines().count(), 2, "{line}");
    let skey = std::fs::read_to_string(tmp.path().join("m/mirror-mldsa.key")).unwrap();
    let ml = glasslog_merkle::MlDsaSigner::from_skey(skey.trim()).unwrap();
    let set = VerifierSet::from_vkeys([ml.vkey().as_str()]).unwrap();
    assert!(Note::open(served.as_bytes(), &set).is_ok());
    let (code, out, stderr) = run_cli(
        &m.copy,
        &log.vkey,
        "",
        &[
            "audit",
            "--state",
            tmp.path().join("push-audit.json").to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{out}{stderr}");
}
