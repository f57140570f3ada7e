//! The client commands and library against the real server: every answer verified, bundles
//! checked offline, and a flipped bit caught.

use crate::Server;
use glasslog_client::{Client, TileFetcher};
use glasslog_merkle::{inclusion_proof, verify_inclusion};
use std::process::Command;

fn glasslog(s: &Server, args: &[&str]) -> (Option<i32>, String, String) {
    s.cli(args)
}

#[test]
fn submit_prove_and_verify_offline() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    for i in 0..20 {
        let (code, out, err) = glasslog(
            &s,
            &[
                "submit",
                "--wait",
                &format!(r#"{{"actor":"u{i}","action":"update"}}"#),
            ],
        );
        assert_eq!(code, Some(0), "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["verified"], true);
        assert_eq!(v["index"], i);
    }
    let (code, out, err) = glasslog(
        &s,
        &[
            "submit",
            "--actor",
            "carol",
            "--action",
            "delete",
            "--resource",
            "vm/7",
            "--outcome",
            "failure",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("\"index\": 20"), "{out}");
    let (code, out, _) = glasslog(&s, &["get", "20"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("\"carol\"") && out.contains("\"Failure\""),
        "{out}"
    );
    let (code, out, _) = glasslog(&s, &["submit", "--text", "plain text entry"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("\"index\": 21"));
    let (code, out, _) = glasslog(&s, &["get", "3"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("\"u3\""));

    let bundle = dir.path().join("bundle.json");
    let (code, _, err) = glasslog(
        &s,
        &[
            "prove",
            "7",
            "--out",
            bundle.to_str().unwrap(),
            "--format",
            "bundle",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    // Offline: no server needed.
    let url_free = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_glasslog"))
            .args(args)
            .env("GLASSLOG_VKEY", &s.vkey)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = url_free(&["verify", bundle.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("OK: entry 7 is in the tree of size 22"),
        "{out}"
    );

    // The default is a C2SP tlog-proof: the entry in `extra`, then index, path, checkpoint.
    let tlog = dir.path().join("entry7.tlog-proof");
    let (code, _, err) = glasslog(&s, &["prove", "7", "--out", tlog.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(&tlog).unwrap();
    let parsed = glasslog_merkle::TlogProof::parse(text.as_bytes()).unwrap();
    assert_eq!(parsed.index, 7);
    let (code, out, err) = url_free(&["verify", tlog.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("OK: entry 7 is in the tree of size 22"),
        "{out}"
    );
    let tampered_proof = dir.path().join("tampered.tlog-proof");
    let mut flipped_extra = parsed.clone();
    if let Some(e) = flipped_extra.extra.as_mut() {
        e[10] ^= 1;
    }
    let mut other_index = parsed.clone();
    other_index.index = 6;
    let mut bent_path = parsed.clone();
    bent_path.proof[0].0[0] ^= 1;
    for (what, p) in [
        ("extra", flipped_extra),
        ("index", other_index),
        ("path", bent_path),
    ] {
        std::fs::write(&tampered_proof, p.to_text()).unwrap();
        let (code, _, err) = url_free(&["verify", tampered_proof.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{what}: {err}");
    }

    // One flipped bit anywhere that matters makes verification fail with status 1.
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let tampered = dir.path().join("tampered.json");
    for field in ["entry_base64", "checkpoint", "audit_path"] {
        let mut b = original.clone();
        match field {
            "audit_path" => {
                let h = b["audit_path"][0].as_str().unwrap().to_owned();
                let flipped = if h.starts_with('A') {
                    h.replacen('A', "B", 1)
                } else {
                    format!("A{}", &h[1..])
                };
                b["audit_path"][0] = flipped.into();
            }
            "checkpoint" => {
                b["checkpoint"] = b["checkpoint"]
                    .as_str()
                    .unwrap()
                    .replacen("\n22\n", "\n21\n", 1)
                    .into()
            }
            _ => {
                let e = b["entry_base64"].as_str().unwrap();
                let mut bytes =
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, e).unwrap();
                bytes[10] ^= 0x01;
                b["entry_base64"] =
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
                        .into();
            }
        }
        std::fs::write(&tampered, serde_json::to_string(&b).unwrap()).unwrap();
        let (code, _, err) = url_free(&["verify", tampered.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{field}: {err}");
        assert!(err.contains("does not verify"), "{err}");
    }
    // The wrong key rejects a genuine bundle.
    let other = glasslog_merkle::Signer::from_seed("e2e.glasslog.example/log", [5; 32])
        .unwrap()
        .vkey();
    let out = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args(["verify", bundle.to_str().unwrap(), "--vkey", &other])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_library_verifies_everything_and_rebuilds_the_root_from_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let client = Client::new(&s.base, &s.vkey, Some(s.admin.clone())).unwrap();
    let first = client.checkpoint().unwrap();
    for i in 0..300 {
        client
            .submit(
                format!(r#"{{"actor":"a{i}","action":"read"}}"#).as_bytes(),
                true,
                false,
            )
            .unwrap();
    }
    let cp = client.checkpoint().unwrap();
    assert_eq!(cp.checkpoint.size, 300);
    client.prove_consistency(&first, &cp).unwrap();
    assert!(
        client.prove_consistency(&cp, &first).is_err(),
        "a rollback is refused"
    );
    let entry = client.entry(299).unwrap();
    let path = client.prove_inclusion(299, &entry.leaf_hash, &cp).unwrap();
    // The same proof computed locally from tiles, after checking the tiles against the root.
    let tiles = TileFetcher::new(&client, &cp);
    tiles.verify_root(&cp).unwrap();
    assert_eq!(inclusion_proof(299, 300, &tiles).unwrap(), path);
    verify_inclusion(299, 300, &entry.leaf_hash, &path, &cp.checkpoint.root).unwrap();
    // The other typed calls, each verified.
    let (info, latest) = client.log_info().unwrap();
    assert_eq!(info["tree_size"], 300);
    assert_eq!(latest.checkpoint, cp.checkpoint);
    let range = client.entries(290, 300).unwrap();
    assert_eq!(range.len(), 10);
    assert_eq!(range[9].leaf_hash, entry.leaf_hash);
    assert_eq!(
        client
            .prove_inclusion_by_hash(&entry.leaf_hash, &cp)
            .unwrap(),
        (299, path.clone())
    );
    let created = client.create_token("reader", "dashboard", &[]).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(
        client.list_tokens().unwrap()["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id.as_str())
    );
    client.revoke_token(&id).unwrap();
    assert!(matches!(
        client.revoke_token(&id),
        Err(glasslog_client::Error::Refused { status: 404, .. })
    ));
    // A client configured with another key refuses the log's checkpoints.
    let other = glasslog_merkle::Signer::from_seed("e2e.glasslog.example/log", [5; 32])
        .unwrap()
        .vkey();
    let wrong = Client::new(&s.base, &other, None).unwrap();
    assert!(matches!(
        wrong.checkpoint(),
        Err(glasslog_client::Error::Lied(_))
    ));
}

#[test]
fn submit_many_from_ndjson_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let mut nd = String::new();
    for i in 0..2500 {
        nd.push_str(&format!("{{\"actor\":\"n{i}\",\"action\":\"read\"}}\n"));
    }
    nd.push_str("\"a text entry\"\n");
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, &nd).unwrap();
    let (code, out, err) = glasslog(&s, &["submit", "--wait", "--file", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2502, "one line per entry and the checkpoint");
    assert!(lines.last().unwrap().contains("\"verified\":2501"));
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        "{\"actor\":\"x\"}\n{\"actor\":\"y\",\"action\":\"z\"}\n",
    )
    .unwrap();
    let (code, out, err) = glasslog(&s, &["submit", "--file", bad.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        out.contains("\"error\"") && err.contains("1 of 2 entries were refused"),
        "{err}"
    );
}
