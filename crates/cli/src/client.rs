//! Client commands: `submit`, `get`, `prove` and the offline `verify`. Everything the log
//! returns is verified against the verifier key before it is printed.

use crate::conn::{Conn, print};
use anyhow::{Context as _, Result};
use glasslog_client::{Error as ClientError, ProofBundle, Trust, verify_bundle};
use glasslog_merkle::Hash;
use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status 1 when the log's answer does not verify: that is evidence, not an outage.
fn status_for(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<ClientError>() {
        Some(
            ClientError::Lied(_) | ClientError::Unwitnessed { .. } | ClientError::PolicyNotMet(_),
        ) => 1,
        Some(ClientError::Unreachable(_)) => 3,
        _ => 2,
    }
}

/// Runs a command and maps its failure to the documented exit statuses.
pub fn exit(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("glasslog: {e:#}");
            ExitCode::from(status_for(&e))
        }
    }
}

/// `glasslog submit`.
pub fn submit(conn: &Conn, data: Option<&str>, text: bool, wait: bool) -> Result<()> {
    let body = match data {
        Some(d) => d.as_bytes().to_vec(),
        None => {
            let mut b = Vec::new();
            std::io::stdin()
                .read_to_end(&mut b)
                .context("reading standard input")?;
            b
        }
    };
    let json = !text && serde_json::from_slice::<Value>(&body).is_ok();
    let s = conn.client()?.submit(&body, json, wait)?;
    let mut out = json!({
        "index": s.index, "leaf_hash": s.leaf_hash.to_base64(), "duplicate": s.duplicate, "redactions": s.redactions,
    });
    if let Some((cp, path)) = s.proof {
        out["checkpoint"] = json!(cp.note);
        out["tree_size"] = json!(cp.checkpoint.size);
        out["inclusion_proof"] = json!(path.iter().map(Hash::to_base64).collect::<Vec<_>>());
        out["verified"] = json!(true);
    }
    print(&out)
}

/// `glasslog submit --file`: NDJSON (one event, or a JSON string for a text entry, per line)
/// in batches of 1,000; prints one result line per entry. With `wait`, every entry's inclusion
/// is verified against one final verified checkpoint, which is printed last.
pub fn submit_many(conn: &Conn, file: &std::path::Path, wait: bool) -> Result<()> {
    let text = if file.as_os_str() == "-" {
        let mut t = String::new();
        std::io::stdin()
            .read_to_string(&mut t)
            .context("reading standard input")?;
        t
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let client = conn.client()?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = std::io::stdout().lock();
    let mut appended: Vec<(u64, Hash)> = Vec::new();
    let mut failed = 0usize;
    for chunk in lines.chunks(1000) {
        let body = chunk.join("\n");
        for r in client.submit_batch(body.as_bytes())? {
            if let (Some(i), Some(h)) = (
                r["index"].as_u64(),
                r["leaf_hash"]
                    .as_str()
                    .and_then(|h| Hash::from_base64(h).ok()),
            ) {
                appended.push((i, h));
            } else {
                failed += 1;
            }
            writeln!(out, "{r}")?;
        }
    }
    if wait && !appended.is_empty() {
        let cp = client.checkpoint()?;
        for (index, leaf) in &appended {
            client.prove_inclusion(*index, leaf, &cp)?;
        }
        writeln!(
            out,
            "{}",
            json!({ "verified": appended.len(), "checkpoint": cp.note })
        )?;
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} entries were refused", lines.len());
    }
    Ok(())
}

/// `glasslog get`.
pub fn get(conn: &Conn, index: u64) -> Result<()> {
    let e = conn.client()?.entry(index)?;
    let entry: Value = serde_json::from_slice(&e.bytes).unwrap_or(Value::Null);
    print(&json!({ "index": e.index, "leaf_hash": e.leaf_hash.to_base64(), "entry": entry }))
}

/// How `glasslog prove` writes its proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProofFormat {
    /// C2SP tlog-proof, the entry in its `extra` line: any tlog-proof verifier checks it.
    TlogProof,
    /// glasslog's JSON bundle (`glasslog-proof-bundle/v1`).
    Bundle,
}

/// `glasslog prove`.
pub fn prove(conn: &Conn, index: u64, out: Option<&PathBuf>, format: ProofFormat) -> Result<()> {
    let bundle = conn.client()?.bundle(index)?;
    let text = match format {
        ProofFormat::TlogProof => bundle.to_tlog_proof()?.to_text(),
        ProofFormat::Bundle => format!("{}\n", serde_json::to_string_pretty(&bundle)?),
    };
    match out {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(
                std::io::stderr(),
                "verified; proof written to {}",
                path.display()
            )?;
        }
        None => write!(std::io::stdout().lock(), "{text}")?,
    }
    Ok(())
}

/// `glasslog verify`: offline, no network. Takes a tlog-proof (ours or another log's), a proof
/// bundle or a break-glass report; `trust` says which log keys, witnesses and policy count.
pub fn verify(bundle: &PathBuf, trust: &Trust, entry: Option<&PathBuf>) -> Result<()> {
    let text = std::fs::read_to_string(bundle)
        .with_context(|| format!("cannot read {}", bundle.display()))?;
    if text.starts_with(glasslog_merkle::TLOG_PROOF_HEADER) {
        let proof = glasslog_merkle::TlogProof::parse(text.as_bytes())
            .map_err(|e| ClientError::Lied(format!("not a tlog-proof: {e}")))?;
        let entry = entry
            .map(|p| std::fs::read(p).with_context(|| format!("cannot read {}", p.display())))
            .transpose()?;
        let (cp, _) = glasslog_client::verify_tlog_proof(&proof, trust, entry.as_deref())?;
        writeln!(
            std::io::stdout().lock(),
            "OK: entry {} is in the tree of size {} signed by {} (root {})",
            proof.index,
            cp.checkpoint.size,
            cp.checkpoint.origin,
            cp.checkpoint.root.to_base64()
        )?;
        return Ok(());
    }
    let vkey = trust.primary_vkey();
    let format = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["format"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if format.starts_with("glasslog-breakglass-report") {
        let report: glasslog_breakglass::Report = serde_json::from_str(&text)
            .map_err(|e| ClientError::Lied(format!("not a break-glass report: {e}")))?;
        let v = crate::breakglass::check(&report, &vkey)?;
        // The proofs hold; with witnesses given, the checkpoint must also carry the quorum.
        trust.open_checkpoint(&report.checkpoint)?;
        writeln!(
            std::io::stdout().lock(),
            "OK: break-glass report of session {}: {} entries ({} actions, {} alerts) are in the tree of size {} signed by {} (root {})",
            report.session,
            report.entries.len(),
            v.session.actions,
            v.session.alerts.len(),
            v.checkpoint.size,
            v.checkpoint.origin,
            v.checkpoint.root.to_base64()
        )?;
        return Ok(());
    }
    let bundle: ProofBundle = serde_json::from_str(&text).with_context(|| "not a proof bundle")?;
    let (cp, _) = verify_bundle(&bundle, &vkey)?;
    trust.open_checkpoint(&bundle.checkpoint)?;
    writeln!(
        std::io::stdout().lock(),
        "OK: entry {} is in the tree of size {} signed by {} (root {})",
        bundle.index,
        cp.size,
        cp.origin,
        cp.root.to_base64()
    )?;
    Ok(())
}
