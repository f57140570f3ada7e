//! The bodies of C2SP tlog-witness requests: `add-checkpoint` (old size, proof, checkpoint) and
//! `sign-subtree` (subtree, its hash, subtree consistency proof, reference checkpoint).
//!
//! Spec: <https://c2sp.org/tlog-witness> (v1.0.0 and HEAD 5ba5ee8); restated in
//! `shared/specs/TLOG-STANDARDS.md` §8.1–8.2.

use crate::checkpoint::parse_decimal;
use crate::hash::Hash;
use crate::subtree::is_subtree;

/// Proof lines allowed by the spec.
const MAX_PROOF_LINES: usize = 63;

/// Up to 63 base64 hash lines; the error says whether there were too many (else one is bad).
fn proof_lines<'a>(lines: impl Iterator<Item = &'a str>) -> Result<Vec<Hash>, bool> {
    let mut proof = Vec::new();
    for l in lines {
        if proof.len() == MAX_PROOF_LINES {
            return Err(true);
        }
        proof.push(Hash::from_base64(l).map_err(|_| false)?);
    }
    Ok(proof)
}

/// An `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size the client believes the witness last cosigned.
    pub old_size: u64,
    /// PROOF(old, new), bottom-up.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, as sent.
    pub checkpoint: String,
}

/// Why an `add-checkpoint` body was refused (the witness answers 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddCheckpointError {
    /// The body is not UTF-8, or lacks the `old` line or the blank line.
    #[error("malformed add-checkpoint body")]
    Malformed,
    /// `old` is not canonical decimal.
    #[error("malformed old size")]
    OldSize,
    /// A proof line is not base64 of 32 bytes.
    #[error("malformed proof line")]
    ProofLine,
    /// More than 63 proof lines.
    #[error("too many proof lines")]
    TooManyProofLines,
}

impl AddCheckpoint {
    /// Parses a request body.
    pub fn parse(body: &[u8]) -> Result<Self, AddCheckpointError> {
        let body = std::str::from_utf8(body).map_err(|_| AddCheckpointError::Malformed)?;
        let (head, checkpoint) = body
            .split_once("\n\n")
            .ok_or(AddCheckpointError::Malformed)?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .ok_or(AddCheckpointError::Malformed)?;
        let old_size = parse_decimal(old).ok_or(AddCheckpointError::OldSize)?;
        let proof = proof_lines(lines).map_err(|too_many| match too_many {
            true => AddCheckpointError::TooManyProofLines,
            false => AddCheckpointError::ProofLine,
        })?;
        Ok(AddCheckpoint {
            old_size,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }

    /// The request body.
    pub fn to_body(&self) -> String {
        let mut s = format!("old {}\n", self.old_size);
        for h in &self.proof {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }
}

/// A `sign-subtree` request: cosign `[start, end)` with `hash`, shown consistent by `proof` with
/// a checkpoint this witness already cosigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignSubtree {
    /// First entry of the subtree.
    pub start: u64,
    /// One past its last entry.
    pub end: u64,
    /// `MTH(D[start:end])`.
    pub hash: Hash,
    /// The subtree consistency proof to the reference checkpoint.
    pub proof: Vec<Hash>,
    /// The reference checkpoint note, as sent.
    pub checkpoint: String,
}

/// Why a `sign-subtree` body was refused (the witness answers 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignSubtreeError {
    /// Not UTF-8, no `subtree` line, no hash line, or no blank line before the checkpoint.
    #[error("malformed sign-subtree body")]
    Malformed,
    /// The start or end is not canonical decimal.
    #[error("malformed subtree range")]
    Range,
    /// `[start, end)` is not a non-empty subtree.
    #[error("the range is not a subtree")]
    NotSubtree,
    /// The hash or a proof line is not base64 of 32 bytes.
    #[error("malformed hash line")]
    HashLine,
    /// More than 63 proof lines.
    #[error("too many proof lines")]
    TooManyProofLines,
}

impl SignSubtree {
    /// Parses a request body.
    pub fn parse(body: &[u8]) -> Result<Self, SignSubtreeError> {
        let body = std::str::from_utf8(body).map_err(|_| SignSubtreeError::Malformed)?;
        let (head, checkpoint) = body.split_once("\n\n").ok_or(SignSubtreeError::Malformed)?;
        let mut lines = head.split('\n');
        let range = lines
            .next()
            .and_then(|l| l.strip_prefix("subtree "))
            .ok_or(SignSubtreeError::Malformed)?;
        let (start, end) = range.split_once(' ').ok_or(SignSubtreeError::Range)?;
        let (start, end) = parse_decimal(start)
            .zip(parse_decimal(end))
            .ok_or(SignSubtreeError::Range)?;
        if !is_subtree(start, end, end) {
            return Err(SignSubtreeError::NotSubtree);
        }
        let hash = lines.next().ok_or(SignSubtreeError::Malformed)?;
        let hash = Hash::from_base64(hash).map_err(|_| SignSubtreeError::HashLine)?;
        let proof = proof_lines(lines).map_err(|too_many| match too_many {
            true => SignSubtreeError::TooManyProofLines,
            false => SignSubtreeError::HashLine,
        })?;
        Ok(SignSubtree {
            start,
            end,
            hash,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }

    /// The request body.
    pub fn to_body(&self) -> String {
        let mut s = format!(
            "subtree {} {}\n{}\n",
            self.start,
            self.end,
            self.hash.to_base64()
        );
        for h in &self.proof {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_malformed_bodies() {
        for bad in [
            &b"old 1\n"[..],
            b"old 01\n\nx",
            b"new 1\n\nx",
            b"old 1\nAAAA\n\nx",
            b"\xff\n\n",
        ] {
            assert!(AddCheckpoint::parse(bad).is_err());
        }
        let lines = format!(
            "old 0\n{}\nx",
            format!("{}\n", Hash::default().to_base64()).repeat(64)
        );
        assert_eq!(
            AddCheckpoint::parse(lines.as_bytes()),
            Err(AddCheckpointError::TooManyProofLines)
        );
    }

    #[test]
    fn sign_subtree_bodies_follow_the_spec_shapes() {
        let h = Hash([1; 32]).to_base64();
        let ok = format!("subtree 8 13\n{h}\n{h}\n\ncheckpoint\n");
        let req = SignSubtree::parse(ok.as_bytes()).unwrap();
        assert_eq!((req.start, req.end, req.proof.len()), (8, 13, 1));
        assert_eq!(req.to_body(), ok);
        // azul's negatives: leading zeros, '+', a short hash, no keyword, no checkpoint; and
        // the pre-merge draft's cosignature lines in the proof block.
        let short = Hash([1; 32]).to_base64()[..24].to_owned();
        for bad in [
            format!("subtree 008 16\n{h}\n\nc\n"),
            format!("subtree +0 +1\n{h}\n\nc\n"),
            format!("subtree 0 1\n{short}\n\nc\n"),
            format!("0 1\n{h}\n\nc\n"),
            "subtree 0 1\nAAAA\n".to_owned(),
            format!("subtree 1 3\n{h}\n\nc\n"),
            format!("subtree 3 3\n{h}\n\nc\n"),
            format!("subtree 0 4\n{h}\n\u{2014} w AAAA\n\nc\n"),
        ] {
            assert!(SignSubtree::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }
}
