//! C2SP tlog-proof: an entry's inclusion proof and its witnessed checkpoint in one text file,
//! verifiable offline (`.tlog-proof`).
//!
//! Spec: <https://c2sp.org/tlog-proof> (untagged, HEAD 5ba5ee8); restated in
//! `shared/specs/TLOG-STANDARDS.md` §12. `extra` is opaque application data and is never
//! authenticated by itself: only the leaf hash it yields, once proven included, is.

use crate::checkpoint::parse_decimal;
use crate::hash::Hash;
use crate::note::VerifierSet;
use crate::policy::{Accepted, Policy, PolicyRejection};
use crate::proof::{ProofError, verify_inclusion};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The first line of every tlog-proof.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";
/// An inclusion proof in a tree of at most 2^64 entries has at most 64 hashes.
const MAX_PROOF_LINES: usize = 64;

/// Why a tlog-proof file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlogProofError {
    /// The first line is not `c2sp.org/tlog-proof@v1`.
    #[error("not a c2sp.org/tlog-proof@v1 file")]
    Header,
    /// The `extra` line is not base64, or is not the second line.
    #[error("the extra line must be the second line and base64")]
    Extra,
    /// No `index` line, or its number is not canonical decimal.
    #[error("the index line must be `index <decimal>` without leading zeros")]
    Index,
    /// A proof line is not base64 of 32 bytes, or there are more than 64.
    #[error("proof lines must be base64 of 32-byte hashes, at most {MAX_PROOF_LINES}")]
    ProofLine,
    /// Not UTF-8, or no empty line before the checkpoint.
    #[error("a tlog-proof is UTF-8 text with an empty line before the checkpoint")]
    Structure,
}

/// Why a well-formed tlog-proof does not prove its entry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlogProofRejection {
    /// The checkpoint is not signed by a trusted log, or not witnessed as the policy asks.
    #[error(transparent)]
    Checkpoint(#[from] PolicyRejection),
    /// The inclusion proof does not lead from the leaf to the checkpoint's root.
    #[error("the inclusion proof does not verify: {0}")]
    Inclusion(#[from] ProofError),
}

/// A parsed tlog-proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque application data, unauthenticated.
    pub extra: Option<Vec<u8>>,
    /// The entry's 0-based index.
    pub index: u64,
    /// The RFC 6962 audit path, leaf's sibling first.
    pub proof: Vec<Hash>,
    /// The checkpoint note, verbatim, with its signatures and cosignatures.
    pub checkpoint: String,
}

impl TlogProof {
    /// Parses a tlog-proof file. The checkpoint is kept as text and only checked by
    /// [`TlogProof::verify`].
    pub fn parse(bytes: &[u8]) -> Result<Self, TlogProofError> {
        let text = std::str::from_utf8(bytes).map_err(|_| TlogProofError::Structure)?;
        let (header, mut rest) = text.split_once('\n').ok_or(TlogProofError::Header)?;
        if header != TLOG_PROOF_HEADER {
            return Err(TlogProofError::Header);
        }
        let mut line = || -> Result<&str, TlogProofError> {
            let (l, r) = rest.split_once('\n').ok_or(TlogProofError::Structure)?;
            rest = r;
            Ok(l)
        };
        let mut next = line()?;
        let extra = match next.strip_prefix("extra ") {
            Some(b64) => {
                let data = STANDARD.decode(b64).map_err(|_| TlogProofError::Extra)?;
                next = line()?;
                Some(data)
            }
            None => None,
        };
        let index = next.strip_prefix("index ").and_then(parse_decimal).ok_or(
            if next.starts_with("extra ") {
                TlogProofError::Extra
            } else {
                TlogProofError::Index
            },
        )?;
        let mut proof = Vec::new();
        loop {
            let l = line()?;
            if l.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(TlogProofError::ProofLine);
            }
            let bytes = STANDARD.decode(l).map_err(|_| TlogProofError::ProofLine)?;
            proof.push(Hash::from_slice(&bytes).map_err(|_| TlogProofError::ProofLine)?);
        }
        if rest.is_empty() {
            return Err(TlogProofError::Structure);
        }
        Ok(TlogProof {
            extra,
            index,
            proof,
            checkpoint: rest.to_owned(),
        })
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(64 + 45 * self.proof.len() + self.checkpoint.len());
        out.push_str(TLOG_PROOF_HEADER);
        out.push('\n');
        if let Some(extra) = &self.extra {
            out.push_str("extra ");
            out.push_str(&STANDARD.encode(extra));
            out.push('\n');
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            out.push_str(&STANDARD.encode(h.0));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// The spec's verification: the checkpoint meets `policy` (a listed log, or one of
    /// `extra_logs`, signed it, and its quorum cosigned it), and `leaf` (the entry's RFC 6962
    /// leaf hash, which the application computes) is at `index` under the checkpoint's root.
    pub fn verify(
        &self,
        leaf: &Hash,
        policy: &Policy,
        extra_logs: &VerifierSet,
    ) -> Result<Accepted, TlogProofRejection> {
        let accepted = policy.check(self.checkpoint.as_bytes(), extra_logs)?;
        verify_inclusion(
            self.index,
            accepted.checkpoint.size,
            leaf,
            &self.proof,
            &accepted.checkpoint.root,
        )?;
        Ok(accepted)
    }
}
