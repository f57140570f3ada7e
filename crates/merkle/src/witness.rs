//! The body of a C2SP tlog-witness `add-checkpoint` request: old size, proof, checkpoint.

use crate::checkpoint::parse_decimal;
use crate::hash::Hash;

/// Proof lines allowed by the spec.
const MAX_PROOF_LINES: usize = 63;

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
        let proof_lines: Vec<&str> = lines.collect();
        if proof_lines.len() > MAX_PROOF_LINES {
            return Err(AddCheckpointError::TooManyProofLines);
        }
        let proof = proof_lines
            .into_iter()
            .map(|l| Hash::from_base64(l).map_err(|_| AddCheckpointError::ProofLine))
            .collect::<Result<_, _>>()?;
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
}
