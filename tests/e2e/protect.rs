//! Data protection on the real binary: a log encrypted at rest serves sealed records to the
//! public and plaintext to auditors, erasure destroys one actor's entries for good while every
//! proof and the whole-tree audit still pass, a legal hold stops it, retention runs are on the
//! record, and no plaintext is ever on disk.

use crate::Server;
use serde_json::{Value, json};
use std::path::Path;

/// Whether any file under `dir` holds `needle`.
fn on_disk(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|f| {
        let p = f.unwrap().path();
        if p.is_dir() {
            on_disk(&p, needle)
        } else {
            std::fs::read(&p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        }
    })
}

fn event(actor: &str, i: u32) -> Value {
    json!({
        "actor": actor,
        "action": "record.read",
        "resource": format!("patient-{i}"),
        "reason": format!("{actor}-private-note-{i}"),
    })
}

/// A config sealing the log under a master key kept in `keys/`.
fn sealed_config(tmp: &Path, extra: &str) -> std::path::PathBuf {
    let key = tmp.join("keys").join("master.key");
    if !key.exists() {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_glasslog"))
            .args(["keygen", "--master-key"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let config = tmp.join("glasslog.toml");
    std::fs::write(
        &config,
        format!("[encryption]\nmaster_key_file = {key:?}\nepoch_days = 1\n{extra}"),
    )
    .unwrap();
    config
}

#[test]
fn an_erased_actor_is_gone_for_good_and_every_proof_still_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = sealed_config(tmp.path(), "[retention]\nsources = { billing = 400 }\n");
    let s = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    // Retention runs on its own from the start (and every interval_secs after).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !s
        .get("/metrics", Some(&s.admin))
        .text()
        .contains("glasslog_retention_runs_total{outcome=\"success\"} 1")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no retention pass ran"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let auditor = s.token("auditor", "audit");
    let mut indices = std::collections::BTreeMap::new();
    for i in 0..6 {
        let actor = ["alice", "bob"][i as usize % 2];
        let r = s.post_json("/v1/entries", Some(&s.admin), &event(actor, i));
        assert_eq!(r.status, 201, "{}", r.text());
        indices.insert(i, (actor, r.json()["index"].as_u64().unwrap()));
    }
    let (_, first) = indices[&0];
    // The verifying client submits to a sealed log as to any: the proof it checks is of the
    // sealed record's leaf.
    let (code, out, err) = s.cli(&["submit", "--wait", r#"{"actor":"dave","action":"login"}"#]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("\"verified\": true") || out.contains("\"verified\":true"),
        "{out}"
    );

    // An auditor reads plaintext, with what proves it against the leaf; the client checks it.
    let e = s
        .get(&format!("/v1/entries/{first}"), Some(&auditor))
        .json();
    assert_eq!(
        e["entry"]["event"]["message"], "alice-private-note-0",
        "{e}"
    );
    assert!(e["sealed"]["record_base64"].is_string() && e["sealed"]["salt_base64"].is_string());
    let (code, out, err) = s.cli(&["get", &first.to_string()]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("alice-private-note-0"), "{out}");
    let bundle = tmp.path().join("alice.json");
    let (code, _, err) = s.cli(&[
        "prove",
        &first.to_string(),
        "--out",
        bundle.to_str().unwrap(),
        "--format",
        "bundle",
    ]);
    assert_eq!(code, Some(0), "{err}");
    // Public bytes are sealed: the entry bundle has no plaintext, the index no words.
    let tile = s.get("/tile/entries/000.p/7", Some(&auditor));
    assert_eq!(tile.status, 200);
    assert!(!tile.body.windows(12).any(|w| w == b"private-note"));
    let found = s.get("/v1/search?actor=bob", Some(&auditor)).json();
    assert_eq!(found["entries"].as_array().unwrap().len(), 3, "{found}");

    // A hold on bob keeps his keys; alice's erasure goes through and is on the record.
    let hold = s.post_json(
        "/v1/admin/holds",
        Some(&s.admin),
        &json!({"actor": "bob", "reason": "litigation L-7"}),
    );
    assert_eq!(hold.status, 201, "{}", hold.text());
    let r = s.post_json(
        "/v1/admin/erasures",
        Some(&s.admin),
        &json!({"actor": "bob", "reason": "GDPR art. 17 request 9"}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.json()["result"]["keys_held"], 1);
    let r = s.post_json(
        "/v1/admin/erasures",
        Some(&s.admin),
        &json!({"actor": "Alice", "reason": "GDPR art. 17 request 8", "ticket": "DPO-8"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let erasure = r.json();
    assert_eq!(erasure["keys_destroyed"], 1, "{erasure}");
    // Each of alice's three entries loses every search term it had (actor, action, source,
    // outcome, resource and words).
    assert!(
        erasure["search_postings_removed"].as_u64().unwrap() >= 3 * 5,
        "{erasure}"
    );
    let record = s
        .get(
            &format!("/v1/entries/{}", erasure["record_index"]),
            Some(&auditor),
        )
        .json();
    assert_eq!(
        record["entry"]["event"]["api"]["operation"],
        "glasslog.erasure"
    );
    assert!(
        !record.to_string().to_lowercase().contains("alice"),
        "{record}"
    );

    // Alice's entries are gone, bob's are not; search no longer finds hers.
    for (i, (actor, index)) in &indices {
        let r = s.get(&format!("/v1/entries/{index}"), Some(&auditor));
        if *actor == "alice" {
            assert_eq!(r.status, 410, "{}", r.text());
            assert!(!r.text().contains("private-note"));
        } else {
            assert_eq!(r.status, 200);
            assert_eq!(
                r.json()["entry"]["event"]["message"],
                format!("bob-private-note-{i}")
            );
        }
    }
    let range = s.get("/v1/entries?start=0&end=6", Some(&auditor)).json();
    assert_eq!(range["entries"][first as usize]["erased"], true, "{range}");
    assert!(
        s.get("/v1/search?actor=alice", Some(&auditor)).json()["entries"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The index no longer holds her entries under any term: her name as a word finds
    // nothing, and words her notes shared with bob's find his alone, with no erased
    // candidate left to skip.
    let search = |q: &str| s.get(&format!("/v1/search?q={q}"), Some(&auditor)).json();
    let hers = search("alice");
    assert!(hers["entries"].as_array().unwrap().is_empty(), "{hers}");
    let shared = search("private%20note");
    let found: Vec<u64> = shared["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    let bobs: Vec<u64> = indices
        .values()
        .filter(|(a, _)| *a == "bob")
        .map(|(_, i)| *i)
        .rev()
        .collect();
    assert_eq!(found, bobs, "{shared}");
    // Her name is now a term the index never saw: the same seeks as a word nobody wrote.
    let never = search("zqxjwordnobodywrote");
    assert_eq!(hers["steps"], never["steps"], "{hers} {never}");

    // The tree is as it was: the saved proof of an erased entry still verifies offline (it
    // carries the plaintext the auditor saw), and the whole log audits from its tiles.
    let (code, out, err) = s.cli(&["verify", bundle.to_str().unwrap(), "--vkey", &s.vkey]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = s.cli(&["audit"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("sealed entries verified, not re-scanned"),
        "{out}"
    );
    // Hold and retention are on the record too; retention kept everything younger than 400
    // days, and its metrics say so.
    let pass = s.post_json("/v1/admin/retention/run", Some(&s.admin), &json!(null));
    assert_eq!(pass.status, 200, "{}", pass.text());
    assert_eq!(pass.json()["keys_destroyed"], 0);
    let holds = s.get("/v1/admin/holds", Some(&s.admin)).json();
    let id = holds["holds"][0]["id"].as_u64().unwrap();
    let lifted = s.request(
        "DELETE",
        &format!("/v1/admin/holds/{id}"),
        Some(&s.admin),
        None,
        b"",
    );
    assert_eq!(lifted.status, 204, "{}", lifted.text());
    assert!(
        s.get("/v1/admin/holds", Some(&s.admin)).json()["holds"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let metrics = s.get("/metrics", Some(&s.admin)).text();
    assert!(
        metrics.contains("glasslog_keys_destroyed_total{cause=\"erasure\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("glasslog_retention_runs_total{outcome=\"success\"}"));

    // After a clean stop: no plaintext anywhere under the data directory (WAL included), and
    // a restart keeps alice erased and bob readable.
    let data = s.stop();
    assert!(!on_disk(&data, b"private-note"));
    let s = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    let auditor = s.token("auditor", "audit2");
    assert_eq!(
        s.get(&format!("/v1/entries/{first}"), Some(&auditor))
            .status,
        410
    );
    assert_eq!(
        s.get(&format!("/v1/entries/{}", indices[&1].1), Some(&auditor))
            .status,
        200
    );
    let data = s.stop();

    // The log is sealed for life: without its key, or with the key in the data directory,
    // the server refuses to start and says why.
    let plain = tmp.path().join("plain.toml");
    std::fs::write(&plain, "").unwrap();
    let err = crate::server::refused_to_start(&data, &plain, &[]);
    assert!(err.contains("encrypted at rest"), "{err}");
    let inside = data.join("master.key");
    std::fs::copy(tmp.path().join("keys").join("master.key"), &inside).unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!("[encryption]\nmaster_key_file = {inside:?}\n"),
    )
    .unwrap();
    let err = crate::server::refused_to_start(&data, &bad, &[]);
    assert!(err.contains("inside the data directory"), "{err}");
}

/// The control for the check above: the same entries in a log without encryption are on
/// disk in clear, so `on_disk` does find what is there.
#[test]
fn a_clear_log_keeps_plaintext_on_disk_which_the_check_would_see() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start(&tmp.path().join("data"));
    let r = s.post_json("/v1/entries", Some(&s.admin), &event("carol", 1));
    assert_eq!(r.status, 201);
    let data = s.stop();
    assert!(on_disk(&data, b"private-note"));
    // And erasure is refused with a reason: there are no keys to destroy.
    let s = Server::start(&data);
    let r = s.post_json(
        "/v1/admin/erasures",
        Some(&s.admin),
        &json!({"actor": "carol", "reason": "x"}),
    );
    assert_eq!(r.status, 409);
    assert!(r.text().contains("not-encrypted"), "{}", r.text());
}
