//! Verifier keys of every signature type glasslog reads: 0x01 (Ed25519 note signatures), 0x04
//! (Ed25519 `cosignature/v1`) and 0x06 (ML-DSA-44 `subtree/v1`), chosen by the key's type byte.
//!
//! Spec: <https://c2sp.org/signed-note> (key IDs and types), <https://c2sp.org/tlog-cosignature>.

use crate::mldsa::{MlDsaVerifier, TYPE_MLDSA44};
use crate::note::{
    CosignatureVerifier, Ed25519Verifier, KeyError, TYPE_COSIGNATURE, TYPE_ED25519, Verifier,
    VerifierSet, parse_vkey,
};

/// A cosigner's verifier of either cosignature type: what witnesses, mirrors and tlog-policy
/// `witness` lines name.
#[derive(Clone, Debug)]
pub enum Cosigner {
    /// Ed25519 `cosignature/v1` (type 0x04).
    Ed25519(CosignatureVerifier),
    /// ML-DSA-44 `subtree/v1` (type 0x06).
    MlDsa44(MlDsaVerifier),
}

impl Cosigner {
    /// Parses a cosigner verifier key of type 0x04 or 0x06.
    pub fn from_vkey(vkey: &str) -> Result<Self, KeyError> {
        let (_, _, key) = parse_vkey(vkey)?;
        match key[0] {
            TYPE_COSIGNATURE => Ok(Self::Ed25519(CosignatureVerifier::from_vkey(vkey)?)),
            TYPE_MLDSA44 => Ok(Self::MlDsa44(MlDsaVerifier::from_vkey(vkey)?)),
            other => Err(KeyError::UnsupportedType(other)),
        }
    }

    /// The verifier key string.
    pub fn vkey(&self) -> String {
        match self {
            Self::Ed25519(v) => v.vkey(),
            Self::MlDsa44(v) => v.vkey(),
        }
    }

    /// The timestamp of this cosigner's signature on checkpoint `text`, if it verifies.
    pub fn verified_timestamp(&self, text: &[u8], signature: &[u8]) -> Option<u64> {
        match self {
            Self::Ed25519(v) => v.verified_timestamp(text, signature),
            Self::MlDsa44(v) => v.verified_timestamp(text, signature),
        }
    }
}

impl Verifier for Cosigner {
    fn name(&self) -> &str {
        match self {
            Self::Ed25519(v) => Verifier::name(v),
            Self::MlDsa44(v) => Verifier::name(v),
        }
    }
    fn key_id(&self) -> u32 {
        match self {
            Self::Ed25519(v) => v.key_id(),
            Self::MlDsa44(v) => v.key_id(),
        }
    }
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        self.verified_timestamp(text, signature).is_some()
    }
}

/// A log's verifier key: an Ed25519 note key (0x01), or an ML-DSA-44 key (0x06) whose
/// `subtree/v1` signature on `[0, size)` is the log's checkpoint signature (tlog-checkpoint
/// recommends it since fcbd7d3). Its name is the log's origin.
#[derive(Clone, Debug)]
pub enum LogKey {
    /// Ed25519 note signatures.
    Ed25519(Ed25519Verifier),
    /// ML-DSA-44 checkpoint signatures.
    MlDsa44(MlDsaVerifier),
}

impl LogKey {
    /// Parses a log verifier key of type 0x01 or 0x06.
    pub fn from_vkey(vkey: &str) -> Result<Self, KeyError> {
        let (_, _, key) = parse_vkey(vkey)?;
        match key[0] {
            TYPE_ED25519 => Ok(Self::Ed25519(Ed25519Verifier::from_vkey(vkey)?)),
            TYPE_MLDSA44 => Ok(Self::MlDsa44(MlDsaVerifier::from_vkey(vkey)?)),
            other => Err(KeyError::UnsupportedType(other)),
        }
    }

    /// The verifier key string.
    pub fn vkey(&self) -> String {
        match self {
            Self::Ed25519(v) => v.vkey(),
            Self::MlDsa44(v) => v.vkey(),
        }
    }
}

impl Verifier for LogKey {
    fn name(&self) -> &str {
        match self {
            Self::Ed25519(v) => Verifier::name(v),
            Self::MlDsa44(v) => Verifier::name(v),
        }
    }
    fn key_id(&self) -> u32 {
        match self {
            Self::Ed25519(v) => v.key_id(),
            Self::MlDsa44(v) => v.key_id(),
        }
    }
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Ed25519(v) => v.verify(text, signature),
            Self::MlDsa44(v) => v.verify(text, signature),
        }
    }
}

impl VerifierSet {
    /// A set from verifier key strings of type 0x01, 0x04 or 0x06.
    pub fn from_vkeys<'a>(vkeys: impl IntoIterator<Item = &'a str>) -> Result<Self, KeyError> {
        let mut set = Self::new();
        for vkey in vkeys {
            let (_, _, key) = parse_vkey(vkey)?;
            match key[0] {
                TYPE_ED25519 => set.add(Ed25519Verifier::from_vkey(vkey)?),
                _ => set.add(Cosigner::from_vkey(vkey)?),
            }
        }
        Ok(set)
    }
}
