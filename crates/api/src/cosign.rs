//! Witness cosigning: every new checkpoint is sent to the configured tlog-witnesses, each
//! returned cosignature is verified, and once a quorum has cosigned, that checkpoint (with
//! the cosignatures appended) is what `GET /checkpoint` serves.

use crate::config::WitnessTarget;
use glasslog_log::Log;
use glasslog_merkle::{AddCheckpoint, CosignatureVerifier, Hash, Note, VerifierSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The latest checkpoint that reached the quorum, with its cosignatures.
pub type Cosigned = Arc<RwLock<Option<String>>>;

struct Target {
    url: String,
    verifier: VerifierSet,
    /// The size this witness last cosigned, as far as we know (its 409 corrects us).
    known: u64,
}

/// Why the witness list is invalid.
#[derive(Debug, thiserror::Error)]
#[error("witness {url}: {reason}")]
pub struct WitnessConfigError {
    url: String,
    reason: String,
}

/// Runs until the log closes: cosigns each new checkpoint with `quorum` of `targets`.
pub async fn run(
    log: Arc<Log>,
    targets: Vec<WitnessTarget>,
    quorum: usize,
    out: Cosigned,
) -> Result<(), WitnessConfigError> {
    let mut witnesses = Vec::new();
    for t in targets {
        let v = CosignatureVerifier::from_vkey(&t.vkey).map_err(|e| WitnessConfigError {
            url: t.url.clone(),
            reason: e.to_string(),
        })?;
        let mut verifier = VerifierSet::new();
        verifier.add(v);
        witnesses.push(Target {
            url: t.url.trim_end_matches('/').to_owned(),
            verifier,
            known: 0,
        });
    }
    let mut rx = log.subscribe();
    loop {
        let current = rx.borrow_and_update().clone();
        if let Some(cp) = current {
            let log2 = Arc::clone(&log);
            let note = cp.note.clone();
            let size = cp.checkpoint.size;
            let taken = std::mem::take(&mut witnesses);
            // Blocking HTTP and proof reads: off the async workers.
            let (back, lines) =
                tokio::task::spawn_blocking(move || round(&log2, taken, &note, size))
                    .await
                    .unwrap_or_default();
            witnesses = back;
            if lines.len() >= quorum && !lines.is_empty() {
                if let Ok(mut slot) = out.write() {
                    *slot = Some(format!("{}{}", cp.note, lines.concat()));
                }
            } else {
                tracing::warn!(
                    size,
                    cosigned = lines.len(),
                    quorum,
                    "checkpoint did not reach the witness quorum"
                );
            }
        }
        if rx.changed().await.is_err() {
            return Ok(());
        }
    }
}

/// One cosigning round over every witness; returns them (with updated sizes) and the verified
/// cosignature lines.
fn round(
    log: &Log,
    mut witnesses: Vec<Target>,
    note: &str,
    size: u64,
) -> (Vec<Target>, Vec<String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut lines = Vec::new();
    for w in &mut witnesses {
        // Two tries: the second after a 409 has told us the witness's real size.
        for _ in 0..2 {
            let old = w.known.min(size);
            let proof: Vec<Hash> = if old > 0 && old < size {
                log.consistency_proof(old, size).unwrap_or_default()
            } else {
                Vec::new()
            };
            let body = AddCheckpoint {
                old_size: old,
                proof,
                checkpoint: note.to_owned(),
            }
            .to_body();
            let mut resp = match agent
                .post(&format!("{}/add-checkpoint", w.url))
                .send(body.as_bytes())
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(witness = %w.url, error = %e, "witness unreachable");
                    break;
                }
            };
            let status = resp.status().as_u16();
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            match status {
                200 => {
                    // Keep only cosignatures that verify with this witness's key.
                    let candidate = format!("{note}{text}");
                    match Note::parse(candidate.as_bytes())
                        .and_then(|n| n.verify(&w.verifier).map(|v| v.len()))
                    {
                        Ok(n) if n > 0 => {
                            lines.push(text);
                            w.known = size;
                        }
                        _ => {
                            tracing::warn!(witness = %w.url, "witness answered with a cosignature that does not verify")
                        }
                    }
                    break;
                }
                409 => match text.trim().parse::<u64>() {
                    Ok(n) if n != old => w.known = n,
                    _ => break,
                },
                other => {
                    tracing::warn!(witness = %w.url, status = other, "witness refused the checkpoint");
                    break;
                }
            }
        }
    }
    (witnesses, lines)
}
