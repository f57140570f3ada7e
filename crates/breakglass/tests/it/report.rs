//! Reports verify offline, and fail after any change.

use crate::{Sim, who};
use glasslog_breakglass::{Command, Policy, Report, ReportError, Verdict, verify_report};
use glasslog_merkle::{Checkpoint, MemoryHashes, Signer, VerifierSet, inclusion_proof, leaf_hash};

fn report() -> (Report, VerifierSet) {
    let mut sim = Sim::new(Policy::default());
    sim.active("other");
    sim.active("s");
    sim.action("s", "alice", "restart", "db/prod-1");
    sim.action("other", "alice", "restart", "db/prod-1");
    sim.action("s", "alice", "drop", "db/prod-1");
    sim.cmd(
        "s",
        &who("alice", "submitter"),
        Command::Close {
            reason: "fixed".into(),
        },
    )
    .unwrap();
    sim.cmd(
        "s",
        &who("carol", "auditor"),
        Command::Review {
            verdict: Verdict::NeedsFollowUp,
            notes: "rotate the db password".into(),
        },
    )
    .unwrap();
    let mut tree = MemoryHashes::new();
    for e in &sim.log {
        tree.push(leaf_hash(e));
    }
    let signer = Signer::from_seed("example.com/log", [9; 32]).unwrap();
    let cp = Checkpoint::new("example.com/log", tree.size(), tree.root());
    let note = signer.sign_note(&cp.to_text());
    let entries = sim.state.session("s").unwrap().entries.clone();
    let parts = entries
        .iter()
        .map(|&i| glasslog_breakglass::report::BuildEntry {
            index: i,
            bytes: sim.log[i as usize].clone(),
            path: inclusion_proof(i, tree.size(), &tree).unwrap(),
            sealed: None,
        })
        .collect();
    let report = Report::build("s", note, parts).unwrap();
    assert_eq!(&report.summary, sim.state.session("s").unwrap());
    let mut known = VerifierSet::new();
    known.add(signer.verifier());
    (report, known)
}

#[test]
fn a_report_verifies_and_says_what_happened() {
    let (report, known) = report();
    let v = verify_report(&report, &known).unwrap();
    assert_eq!(v.session.actions, 2);
    assert_eq!(v.session.alerts.len(), 1);
    assert_eq!(v.session.alerts[0].rule, "out_of_scope");
    assert_eq!(
        v.session.review.as_ref().unwrap().verdict,
        Verdict::NeedsFollowUp
    );
    let md = report.to_markdown();
    assert!(md.contains("session `s`"));
    assert!(md.contains("out_of_scope"));
    assert!(md.contains("rotate the db password"));
    // JSON round trip.
    let back: Report = serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    verify_report(&back, &known).unwrap();
}

#[test]
fn one_changed_byte_anywhere_fails_verification() {
    let (report, known) = report();
    let json = serde_json::to_vec(&report).unwrap();
    let mut failures = 0;
    let mut tried = 0;
    // Every byte of every entry and of the summary's values.
    for i in 0..json.len() {
        let mut bad = json.clone();
        bad[i] ^= 0x01;
        let Ok(parsed) = serde_json::from_slice::<Report>(&bad) else {
            continue;
        };
        if parsed == report {
            continue; // e.g. a flipped byte inside an escape that decodes the same
        }
        tried += 1;
        if verify_report(&parsed, &known).is_err() {
            failures += 1;
        }
    }
    assert!(tried > 1000, "only {tried} variants parsed");
    assert_eq!(failures, tried, "every change must fail");
}

#[test]
fn dropping_or_adding_an_entry_fails() {
    let (report, known) = report();
    let mut dropped = report.clone();
    dropped.entries.remove(2);
    assert!(matches!(
        verify_report(&dropped, &known),
        Err(ReportError::Summary(_))
    ));
    let mut wrong_key = VerifierSet::new();
    wrong_key.add(
        Signer::from_seed("example.com/log", [8; 32])
            .unwrap()
            .verifier(),
    );
    assert!(matches!(
        verify_report(&report, &wrong_key),
        Err(ReportError::Checkpoint(_))
    ));
}

/// Issue #12: a checkpoint signed by a trusted key but claiming another log's origin is refused.
#[test]
fn a_checkpoint_of_another_origin_is_refused() {
    let (mut report, known) = report();
    let signer = Signer::from_seed("example.com/log", [9; 32]).unwrap();
    let note = glasslog_merkle::Note::parse(report.checkpoint.as_bytes()).unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    let forged = Checkpoint::new("other.example/log", cp.size, cp.root);
    report.checkpoint = signer.sign_note(&forged.to_text());
    assert!(matches!(
        verify_report(&report, &known),
        Err(ReportError::Checkpoint(_))
    ));
}

/// Each entry's tlog-proof checks alone with the C2SP tlog-proof verification (a policy naming
/// the log's key), is the report's own proof, and v1 reports without them still verify.
#[test]
fn every_entry_carries_a_tlog_proof_any_verifier_checks() {
    let (report, known) = report();
    let signer = Signer::from_seed("example.com/log", [9; 32]).unwrap();
    let policy =
        glasslog_merkle::Policy::parse(format!("log {}\nquorum none\n", signer.vkey()).as_bytes())
            .unwrap();
    for e in &report.entries {
        let t =
            glasslog_merkle::TlogProof::parse(e.tlog_proof.as_ref().unwrap().as_bytes()).unwrap();
        assert_eq!(t.extra.as_deref(), Some(e.entry.as_bytes()));
        let accepted = t
            .verify(&leaf_hash(e.entry.as_bytes()), &policy, &VerifierSet::new())
            .unwrap();
        assert_eq!(accepted.checkpoint.origin, "example.com/log");
    }
    // A tlog-proof of another entry, or none, fails the report.
    let mut swapped = report.clone();
    swapped.entries[0].tlog_proof = report.entries[1].tlog_proof.clone();
    assert!(matches!(
        verify_report(&swapped, &known),
        Err(ReportError::Entry { .. })
    ));
    let mut missing = report.clone();
    missing.entries[1].tlog_proof = None;
    assert!(verify_report(&missing, &known).is_err());
    // The v1 format: the same report without tlog-proofs.
    let mut v1 = report.clone();
    v1.format = "glasslog-breakglass-report/v1".into();
    assert!(verify_report(&v1, &known).is_err(), "v1 has no tlog-proofs");
    for e in &mut v1.entries {
        e.tlog_proof = None;
    }
    verify_report(&v1, &known).unwrap();
}
