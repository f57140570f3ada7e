//! Self-contained proofs of inclusion: an entry, the signed checkpoint, and the audit path,
//! enough for anyone with the verifier key to check inclusion offline. Written as C2SP
//! tlog-proof files (<https://c2sp.org/tlog-proof>, the entry in `extra`), which any tlog-proof
//! verifier reads; the older JSON bundle is still read and written on request.

use crate::{Entry, Error, Trust, VerifiedCheckpoint};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use glasslog_merkle::{
    Checkpoint, Hash, LogKey, Note, TlogProof, VerifierSet, leaf_hash, verify_inclusion,
};
use serde::{Deserialize, Serialize};

/// A proof bundle, as JSON.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProofBundle {
    /// Format marker.
    pub format: String,
    /// The entry's index.
    pub index: u64,
    /// The entry's exact bytes, base64.
    pub entry_base64: String,
    /// The signed checkpoint note.
    pub checkpoint: String,
    /// The audit path, base64 hashes, leaf's sibling first.
    pub audit_path: Vec<String>,
    /// In a log encrypted at rest, the sealed record the leaf hashes and the salt that proves
    /// the entry is what it commits to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<glasslog_seal::SealedParts>,
}

const FORMAT: &str = "glasslog-proof-bundle/v1";

impl ProofBundle {
    /// Builds a bundle from verified parts.
    pub fn new(entry: &Entry, checkpoint: &VerifiedCheckpoint, path: &[Hash]) -> Self {
        ProofBundle {
            format: FORMAT.into(),
            index: entry.index,
            entry_base64: STANDARD.encode(&entry.bytes),
            checkpoint: checkpoint.note.clone(),
            audit_path: path.iter().map(Hash::to_base64).collect(),
            sealed: entry.sealed.clone(),
        }
    }

    /// The bytes the leaf hashes: the entry, or its sealed record once the entry is checked
    /// against it.
    fn leaf_data(&self) -> Result<Vec<u8>, Error> {
        let entry = STANDARD
            .decode(&self.entry_base64)
            .map_err(|_| Error::Lied("entry is not base64".into()))?;
        match &self.sealed {
            Some(parts) => parts
                .leaf_data(&entry)
                .map_err(|e| Error::Lied(format!("sealed record: {e}"))),
            None => Ok(entry),
        }
    }

    /// The same proof as a C2SP tlog-proof, with the entry's bytes as its `extra` data.
    pub fn to_tlog_proof(&self) -> Result<TlogProof, Error> {
        let entry = self.leaf_data()?;
        let proof = self
            .audit_path
            .iter()
            .map(|h| Hash::from_base64(h).map_err(|e| Error::Invalid(format!("audit path: {e}"))))
            .collect::<Result<_, _>>()?;
        Ok(TlogProof {
            extra: Some(entry),
            index: self.index,
            proof,
            checkpoint: self.checkpoint.clone(),
        })
    }
}

/// Checks a tlog-proof (ours, or any log's that hashes leaves as RFC 6962 does) against
/// `trust`: the checkpoint's log signature, witnesses and policy, then the inclusion of the
/// entry. The entry is `entry` when the caller has it, else the proof's `extra` data, which
/// counts only once its leaf hash is proven included. Returns the checkpoint and the entry.
pub fn verify_tlog_proof(
    proof: &TlogProof,
    trust: &Trust,
    entry: Option<&[u8]>,
) -> Result<(VerifiedCheckpoint, Vec<u8>), Error> {
    let entry = match (entry, &proof.extra) {
        (Some(e), _) => e.to_vec(),
        (None, Some(extra)) => extra.clone(),
        (None, None) => {
            return Err(Error::Invalid(
                "the proof carries no entry (no extra line): give the entry".into(),
            ));
        }
    };
    let cp = trust.open_checkpoint(&proof.checkpoint)?;
    verify_inclusion(
        proof.index,
        cp.checkpoint.size,
        &leaf_hash(&entry),
        &proof.proof,
        &cp.checkpoint.root,
    )
    .map_err(|e| {
        Error::Lied(format!(
            "entry {} is not in the signed tree of size {}: {e}",
            proof.index, cp.checkpoint.size
        ))
    })?;
    Ok((cp, entry))
}

/// Checks a bundle with nothing but the verifier key: the checkpoint's signature, and the
/// entry's inclusion in the signed tree. Returns the checkpoint and the entry bytes.
pub fn verify_bundle(bundle: &ProofBundle, vkey: &str) -> Result<(Checkpoint, Vec<u8>), Error> {
    if bundle.format != FORMAT {
        return Err(Error::Invalid(format!(
            "unknown bundle format {:?}",
            bundle.format
        )));
    }
    let verifier =
        LogKey::from_vkey(vkey).map_err(|e| Error::Invalid(format!("verifier key: {e}")))?;
    let mut set = VerifierSet::new();
    set.add(verifier);
    let note = Note::open(bundle.checkpoint.as_bytes(), &set)
        .map_err(|e| Error::Lied(format!("checkpoint: {e}")))?;
    let cp = Checkpoint::parse(&note.text).map_err(|e| Error::Lied(format!("checkpoint: {e}")))?;
    // A log's key is named for its origin (C2SP tlog-checkpoint): a checkpoint that claims
    // another origin is not this log's, whoever signed it.
    if cp.origin != verifier_name(vkey) {
        return Err(Error::Lied(format!(
            "checkpoint origin {:?} is not the key's name",
            cp.origin
        )));
    }
    let leaf_data = bundle.leaf_data()?;
    let entry = STANDARD
        .decode(&bundle.entry_base64)
        .map_err(|_| Error::Lied("entry is not base64".into()))?;
    let path: Vec<Hash> = bundle
        .audit_path
        .iter()
        .map(|h| Hash::from_base64(h).map_err(|e| Error::Lied(format!("audit path: {e}"))))
        .collect::<Result<_, _>>()?;
    verify_inclusion(
        bundle.index,
        cp.size,
        &leaf_hash(&leaf_data),
        &path,
        &cp.root,
    )
    .map_err(|e| {
        Error::Lied(format!(
            "entry {} is not in the signed tree of size {}: {e}",
            bundle.index, cp.size
        ))
    })?;
    Ok((cp, entry))
}

/// The key name of a verifier key string (`name+hex+base64`).
fn verifier_name(vkey: &str) -> &str {
    vkey.split_once('+').map_or(vkey, |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use glasslog_merkle::Signer;

    fn bundle(origin: &str, signer: &Signer) -> ProofBundle {
        let entry = b"one entry".to_vec();
        let cp = Checkpoint::new(origin, 1, leaf_hash(&entry));
        ProofBundle {
            format: FORMAT.into(),
            index: 0,
            entry_base64: STANDARD.encode(&entry),
            checkpoint: signer.sign_note(&cp.to_text()),
            audit_path: Vec::new(),
            sealed: None,
        }
    }

    /// Issue #12: the checkpoint's origin must be the key's name.
    #[test]
    fn a_checkpoint_of_another_origin_is_refused() {
        let signer = Signer::from_seed("example.com/log", [5; 32]).unwrap();
        let vkey = signer.vkey();
        assert!(verify_bundle(&bundle("example.com/log", &signer), &vkey).is_ok());
        let err = verify_bundle(&bundle("other.example/log", &signer), &vkey).unwrap_err();
        assert!(matches!(err, Error::Lied(_)), "{err}");
    }
}
