//! Witness cosigning: every new checkpoint is sent to the configured tlog-witnesses, each
//! returned cosignature is verified, and once a quorum has cosigned, that checkpoint (with
//! the cosignatures appended) is what `GET /checkpoint` serves.

use crate::config::WitnessTarget;
use glasslog_log::Log;
use glasslog_merkle::{AddCheckpoint, Cosigner, Hash, Note, Policy, VerifierSet};
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

/// Checks a witness list before the server starts: every key parses, no witness is listed twice
/// (by URL or by key), and the quorum can be met by distinct witnesses.
///
/// # Errors
/// The first problem found, naming the witness.
pub fn check_witnesses(targets: &[WitnessTarget], quorum: usize) -> Result<(), WitnessConfigError> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for t in targets {
        Cosigner::from_vkey(&t.vkey).map_err(|e| WitnessConfigError {
            url: t.url.clone(),
            reason: e.to_string(),
        })?;
        let url = t.url.trim_end_matches('/').to_owned();
        if seen.iter().any(|(u, k)| *u == url || *k == t.vkey) {
            return Err(WitnessConfigError {
                url: t.url.clone(),
                reason: "listed twice (same URL or same key): a quorum counts distinct witnesses"
                    .into(),
            });
        }
        seen.push((url, t.vkey.clone()));
    }
    if quorum > targets.len() {
        return Err(WitnessConfigError {
            url: String::from("witness_quorum"),
            reason: format!(
                "a quorum of {quorum} cannot be met by {} witness(es)",
                targets.len()
            ),
        });
    }
    Ok(())
}

/// Runs until the log closes: cosigns each new checkpoint with `quorum` of `targets`, and
/// publishes it once that many cosigned and, with a `policy`, the cosignatures meet it.
pub async fn run(
    log: Arc<Log>,
    targets: Vec<WitnessTarget>,
    quorum: usize,
    policy: Option<Arc<Policy>>,
    out: Cosigned,
) -> Result<(), WitnessConfigError> {
    // The policy may leave the log to us: our own keys count as its log keys.
    let mut own = VerifierSet::new();
    for key in log.keys() {
        own.add(key);
    }
    let mut witnesses = Vec::new();
    for t in targets {
        let v = Cosigner::from_vkey(&t.vkey).map_err(|e| WitnessConfigError {
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
            let (back, lines, cosigners) =
                tokio::task::spawn_blocking(move || round(&log2, taken, &note, size))
                    .await
                    .unwrap_or_default();
            witnesses = back;
            let candidate = format!("{}{}", cp.note, lines.concat());
            let meets_policy = policy.as_ref().is_none_or(|p| {
                p.check(candidate.as_bytes(), &own)
                    .inspect_err(|e| tracing::warn!(size, error = %e, "checkpoint does not meet the witness policy"))
                    .is_ok()
            });
            if cosigners >= quorum && cosigners > 0 && meets_policy {
                if let Ok(mut slot) = out.write() {
                    *slot = Some(candidate);
                }
            } else {
                tracing::warn!(
                    size,
                    cosigned = cosigners,
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

/// One cosigning round over every witness; returns them (with updated sizes), the verified
/// cosignature lines, and how many distinct witnesses they came from.
fn round(
    log: &Log,
    mut witnesses: Vec<Target>,
    note: &str,
    size: u64,
) -> (Vec<Target>, Vec<String>, usize) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut lines = Vec::new();
    let mut cosigners = 0;
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
                    let verified = cosignature_lines(note, &text, &w.verifier);
                    if verified.is_empty() {
                        tracing::warn!(witness = %w.url, "witness answered with no cosignature that verifies");
                    } else {
                        lines.extend(verified);
                        cosigners += 1;
                        w.known = size;
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
    (witnesses, lines, cosigners)
}

/// The cosignature lines of a witness's reply that verify with its key, re-serialized. The
/// reply is never appended as it came: a blank line or any other text in it would move the
/// boundary between the note's text and its signatures, and every client would then reject the
/// served checkpoint.
fn cosignature_lines(note: &str, reply: &str, verifier: &VerifierSet) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for line in reply.lines().filter(|l| !l.trim().is_empty()) {
        let candidate = format!("{note}{line}\n");
        let Ok(parsed) = Note::parse(candidate.as_bytes()) else {
            continue;
        };
        let Ok(sigs) = parsed.verify(verifier) else {
            continue;
        };
        for sig in sigs {
            let line = sig.to_line();
            if !kept.contains(&line) {
                kept.push(line);
            }
        }
    }
    kept
}

/// The checkpoint the server vouches for, parsed, and its note: with a witness quorum, the
/// latest one the quorum cosigned. Every route that hands out a checkpoint (`/checkpoint`,
/// `/v1/log`, `?wait=checkpoint`, break-glass reports) goes through here, so none serves one
/// the quorum has not seen. With `covering`, waits for one whose tree holds that index; the
/// request deadline bounds the wait.
pub async fn served(
    log: &Log,
    cosigned: &Cosigned,
    quorum: usize,
    covering: Option<u64>,
) -> Result<(glasslog_merkle::Checkpoint, String), crate::problem::Problem> {
    use crate::problem::Problem;
    if quorum == 0 {
        let cp = match covering {
            Some(i) => log.wait_for_checkpoint(i).await,
            None => log.checkpoint(),
        }
        .map_err(crate::problem::log_problem)?;
        return Ok((cp.checkpoint.clone(), cp.note.clone()));
    }
    loop {
        let note = cosigned.read().ok().and_then(|c| c.clone());
        if let Some(note) = note {
            let cp = Note::parse(note.as_bytes())
                .ok()
                .and_then(|n| glasslog_merkle::Checkpoint::parse(&n.text).ok())
                .ok_or_else(|| Problem::unavailable("the cosigned checkpoint does not parse"))?;
            if covering.is_none_or(|i| cp.size > i) {
                return Ok((cp, note));
            }
        } else if covering.is_none() {
            return Err(Problem::unavailable(
                "no checkpoint has reached the witness quorum yet",
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glasslog_merkle::Signer;

    #[test]
    fn only_the_witness_cosignature_survives_whatever_surrounds_it() {
        let log = Signer::from_seed("example.com/log", [1; 32]).unwrap();
        let witness = Signer::from_seed("example.com/witness", [2; 32]).unwrap();
        let other = Signer::from_seed("example.com/other", [3; 32]).unwrap();
        let text = "example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let note = log.sign_note(text);
        let cosig = witness.cosign(text, 1_700_000_000).to_line();
        let mut verifier = VerifierSet::new();
        verifier.add(
            glasslog_merkle::CosignatureVerifier::from_vkey(&witness.cosigner_vkey()).unwrap(),
        );
        for reply in [
            cosig.clone(),
            format!("\n{cosig}"),
            format!("garbage\n{cosig}\n\n"),
            format!("{cosig}{}", other.cosign(text, 1).to_line()),
            format!("{cosig}{cosig}"),
        ] {
            let lines = cosignature_lines(&note, &reply, &verifier);
            assert_eq!(lines, vec![cosig.clone()], "{reply:?}");
            // The served note parses and verifies for a client that knows both keys.
            let served = format!("{note}{}", lines.concat());
            let parsed = Note::parse(served.as_bytes()).unwrap();
            assert_eq!(parsed.verify(&verifier).unwrap().len(), 1);
        }
        // The witness list: duplicates and an unreachable quorum are refused at start-up.
        let target = |url: &str, vkey: String| WitnessTarget {
            url: url.to_owned(),
            vkey,
            vkey_file: None,
        };
        let w1 = target("http://w1", witness.cosigner_vkey());
        let w2 = target("http://w2", other.cosigner_vkey());
        assert!(check_witnesses(&[w1.clone(), w2.clone()], 2).is_ok());
        assert!(
            check_witnesses(std::slice::from_ref(&w1), 2).is_err(),
            "quorum above the list"
        );
        let same_key = target("http://w3", witness.cosigner_vkey());
        assert!(
            check_witnesses(&[w1.clone(), same_key], 1).is_err(),
            "one key twice"
        );
        let same_url = target("http://w1/", other.cosigner_vkey());
        assert!(
            check_witnesses(&[w1, same_url], 1).is_err(),
            "one URL twice"
        );
        // A reply with no valid cosignature contributes nothing.
        assert!(cosignature_lines(&note, "\n", &verifier).is_empty());
        assert!(cosignature_lines(&note, &other.cosign(text, 1).to_line(), &verifier).is_empty());
    }
}
