//! ML-DSA-44 `subtree/v1` cosignatures (signature type 0x06), and log checkpoint signatures
//! in the same format.
//!
//! Spec: <https://c2sp.org/tlog-cosignature> v1.1 (§ "ML-DSA-44"), <https://c2sp.org/signed-note>
//! (type 0x06), <https://c2sp.org/tlog-checkpoint> (logs SHOULD sign this way); restated in
//! `shared/specs/TLOG-STANDARDS.md` §9.2. The signature is pure ML-DSA-44 of FIPS 204 with an
//! empty context, from RustCrypto's `ml-dsa`, over the `cosigned_message` struct. That message
//! commits to the cosigner's name, the origin and a subtree `[start, end)` with its hash, not to
//! the checkpoint text, so extension lines are never covered.

use crate::checkpoint::Checkpoint;
use crate::hash::Hash;
use crate::note::{
    KeyError, NoteSignature, Verifier, key_id, parse_vkey, split_skey, valid_name, vkey_string,
};
use crate::subtree::is_subtree;
use ml_dsa::signature::Keypair as _;
use ml_dsa::{EncodedVerifyingKey, MlDsa44, Seed, Signature, SigningKey, VerifyingKey};
use std::fmt;
use zeroize::Zeroizing;

/// Signature type of an ML-DSA-44 `subtree/v1` cosignature.
pub const TYPE_MLDSA44: u8 = 0x06;
/// Bytes of an ML-DSA-44 public key.
const PUBLIC_KEY_LEN: usize = 1312;
/// Bytes of an ML-DSA-44 signature.
const SIGNATURE_LEN: usize = 2420;
/// The domain-separation label that starts every message: `subtree/v1\n\0`.
const LABEL: &[u8; 12] = b"subtree/v1\n\0";

/// Why a `subtree/v1` message cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubtreeMessageError {
    /// The cosigner name or the origin is empty or longer than 255 bytes.
    #[error("the cosigner name and the origin must each be 1 to 255 bytes")]
    Length,
    /// A timestamp above 2^63 − 1, or a non-zero timestamp on a subtree that does not start at 0.
    #[error("the timestamp must be at most 2^63 - 1, and 0 unless the subtree starts at 0")]
    Timestamp,
    /// `[start, end)` is not a non-empty subtree.
    #[error("[{0}, {1}) is not a subtree")]
    Subtree(u64, u64),
}

/// The `cosigned_message` of tlog-cosignature: what an ML-DSA-44 cosigner signs for subtree
/// `[start, end)` with hash `hash` of the log `origin`, at `timestamp` (0: no claim that it is
/// the largest tree seen).
pub fn subtree_message(
    cosigner: &str,
    timestamp: u64,
    origin: &str,
    start: u64,
    end: u64,
    hash: &Hash,
) -> Result<Vec<u8>, SubtreeMessageError> {
    let short = |s: &str| (1..=255).contains(&s.len());
    if !short(cosigner) || !short(origin) {
        return Err(SubtreeMessageError::Length);
    }
    if timestamp > i64::MAX as u64 || (start != 0 && timestamp != 0) {
        return Err(SubtreeMessageError::Timestamp);
    }
    if !is_subtree(start, end, end) {
        return Err(SubtreeMessageError::Subtree(start, end));
    }
    let mut m = Vec::with_capacity(LABEL.len() + 2 + cosigner.len() + origin.len() + 56);
    m.extend_from_slice(LABEL);
    push_opaque8(&mut m, cosigner.as_bytes());
    m.extend_from_slice(&timestamp.to_be_bytes());
    push_opaque8(&mut m, origin.as_bytes());
    m.extend_from_slice(&start.to_be_bytes());
    m.extend_from_slice(&end.to_be_bytes());
    m.extend_from_slice(&hash.0);
    Ok(m)
}

fn push_opaque8(m: &mut Vec<u8>, bytes: &[u8]) {
    #[expect(clippy::cast_possible_truncation, reason = "checked to be at most 255")]
    m.push(bytes.len() as u8);
    m.extend_from_slice(bytes);
}

/// Splits a signature blob (after the key ID) into its timestamp and signature.
fn split_blob(blob: &[u8]) -> Option<(u64, &[u8])> {
    if blob.len() != 8 + SIGNATURE_LEN {
        return None;
    }
    let (ts, sig) = blob.split_at(8);
    Some((u64::from_be_bytes(ts.try_into().ok()?), sig))
}

/// Verifies ML-DSA-44 `subtree/v1` cosignatures of one key: a witness's or a mirror's
/// cosignatures, or a log's own checkpoint signature in this format.
#[derive(Clone)]
pub struct MlDsaVerifier {
    name: String,
    id: u32,
    key: Box<VerifyingKey<MlDsa44>>,
}

impl fmt::Debug for MlDsaVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MlDsaVerifier")
            .field("name", &self.name)
            .field("id", &format_args!("{:08x}", self.id))
            .finish_non_exhaustive()
    }
}

fn decode_public(bytes: &[u8]) -> Result<Box<VerifyingKey<MlDsa44>>, KeyError> {
    if bytes.len() != PUBLIC_KEY_LEN {
        return Err(KeyError::Material);
    }
    let enc = EncodedVerifyingKey::<MlDsa44>::try_from(bytes).map_err(|_| KeyError::Material)?;
    Ok(Box::new(VerifyingKey::decode(&enc)))
}

impl MlDsaVerifier {
    /// Parses a verifier key `name+hex8+base64(0x06 || 1312-byte key)`; the key ID must be the
    /// one the key hashes to.
    pub fn from_vkey(vkey: &str) -> Result<Self, KeyError> {
        let (name, id, key) = parse_vkey(vkey)?;
        if key[0] != TYPE_MLDSA44 {
            return Err(KeyError::UnsupportedType(key[0]));
        }
        Ok(MlDsaVerifier {
            name: name.to_owned(),
            id,
            key: decode_public(&key[1..])?,
        })
    }

    /// The verifier key string.
    pub fn vkey(&self) -> String {
        vkey_string(&self.name, self.id, TYPE_MLDSA44, &self.key.encode())
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The timestamp of this key's cosignature `blob` (the bytes after the key ID) on subtree
    /// `[start, end)` with `hash` of `origin`, if it verifies.
    pub fn verified_subtree(
        &self,
        origin: &str,
        start: u64,
        end: u64,
        hash: &Hash,
        blob: &[u8],
    ) -> Option<u64> {
        let (timestamp, sig) = split_blob(blob)?;
        let message = subtree_message(&self.name, timestamp, origin, start, end, hash).ok()?;
        let sig = Signature::<MlDsa44>::try_from(sig).ok()?;
        self.key
            .verify_with_context(&message, &[], &sig)
            .then_some(timestamp)
    }

    /// The timestamp of this key's cosignature on the checkpoint `text`, if it verifies: the
    /// subtree `[0, size)` with the checkpoint's root. Size 0 is not a subtree, so an empty
    /// tree has no ML-DSA-44 cosignature.
    pub fn verified_timestamp(&self, text: &[u8], blob: &[u8]) -> Option<u64> {
        let cp = Checkpoint::parse(std::str::from_utf8(text).ok()?).ok()?;
        self.verified_subtree(&cp.origin, 0, cp.size, &cp.root, blob)
    }
}

impl Verifier for MlDsaVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        self.verified_timestamp(text, signature).is_some()
    }
}

/// An ML-DSA-44 key that makes `subtree/v1` cosignatures: a witness's or mirror's key, or a
/// log's checkpoint key (named by the origin).
///
/// The key is kept as its 32-byte seed ξ (FIPS 204's preferred private key form) and the
/// expanded key; both are wiped on drop. Signing is FIPS 204's deterministic variant, so the
/// same message always gets the same signature and no randomness is needed at signing time.
pub struct MlDsaSigner {
    name: String,
    key: Box<SigningKey<MlDsa44>>,
    id: u32,
}

impl fmt::Debug for MlDsaSigner {
    // The seed must never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MlDsaSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl MlDsaSigner {
    /// A signer from a 32-byte seed ξ.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, KeyError> {
        if !valid_name(name) || name.len() > 255 {
            return Err(KeyError::Name);
        }
        let seed: Zeroizing<Seed> = Zeroizing::new((*seed).into());
        let key = Box::new(SigningKey::<MlDsa44>::from_seed(&seed));
        let id = key_id(name, TYPE_MLDSA44, &key.verifying_key().encode());
        Ok(MlDsaSigner {
            name: name.to_owned(),
            key,
            id,
        })
    }

    /// Parses `PRIVATE+KEY+name+hex8+base64(0x06 || seed)`, the form transparency-dev/formats
    /// uses (ML-DSA signer keys have no standard string form).
    pub fn from_skey(skey: &str) -> Result<Self, KeyError> {
        let (name, id, key) = split_skey(skey)?;
        match key.split_first() {
            Some((&TYPE_MLDSA44, seed)) => {
                let seed: Zeroizing<[u8; 32]> =
                    Zeroizing::new(seed.try_into().map_err(|_| KeyError::Material)?);
                let signer = Self::from_seed(name, &seed)?;
                if signer.id != id {
                    return Err(KeyError::KeyIdMismatch);
                }
                Ok(signer)
            }
            Some((&other, _)) => Err(KeyError::UnsupportedType(other)),
            None => Err(KeyError::Malformed),
        }
    }

    /// The signer key string; it holds the private seed, and is wiped when dropped.
    pub fn to_skey(&self) -> Zeroizing<String> {
        use base64::Engine as _;
        let mut key = Zeroizing::new(Vec::with_capacity(33));
        key.push(TYPE_MLDSA44);
        key.extend_from_slice(&self.key.to_seed());
        let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*key));
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name, self.id, *encoded
        ))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID (type 0x06).
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The verifier key string (type 0x06).
    pub fn vkey(&self) -> String {
        vkey_string(
            &self.name,
            self.id,
            TYPE_MLDSA44,
            &self.key.verifying_key().encode(),
        )
    }

    /// The verifier of this key's cosignatures.
    pub fn verifier(&self) -> MlDsaVerifier {
        MlDsaVerifier {
            name: self.name.clone(),
            id: self.id,
            key: Box::new(self.key.verifying_key()),
        }
    }

    /// A cosignature on subtree `[start, end)` with `hash` of `origin` at `timestamp`.
    pub fn sign_subtree(
        &self,
        origin: &str,
        start: u64,
        end: u64,
        hash: &Hash,
        timestamp: u64,
    ) -> Result<NoteSignature, SubtreeMessageError> {
        let message = subtree_message(&self.name, timestamp, origin, start, end, hash)?;
        // Deterministic signing fails only for a context over 255 bytes; ours is empty.
        let sig = self
            .key
            .expanded_key()
            .sign_deterministic(&message, &[])
            .map_err(|_| SubtreeMessageError::Length)?;
        let mut blob = Vec::with_capacity(8 + SIGNATURE_LEN);
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&sig.encode());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.id,
            signature: blob,
        })
    }

    /// A cosignature on a whole checkpoint: the subtree `[0, size)` with its root.
    pub fn sign_checkpoint(
        &self,
        checkpoint: &Checkpoint,
        timestamp: u64,
    ) -> Result<NoteSignature, SubtreeMessageError> {
        self.sign_subtree(
            &checkpoint.origin,
            0,
            checkpoint.size,
            &checkpoint.root,
            timestamp,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> MlDsaSigner {
        MlDsaSigner::from_seed("witness.example/w1", &[7; 32]).unwrap()
    }

    #[test]
    fn a_cosignature_verifies_only_for_what_it_signed() {
        let s = signer();
        let v = MlDsaVerifier::from_vkey(&s.vkey()).unwrap();
        let h = Hash([0xaa; 32]);
        let sig = s.sign_subtree("log", 0, 100, &h, 5).unwrap();
        assert_eq!(sig.signature.len(), 8 + SIGNATURE_LEN);
        assert_eq!(
            v.verified_subtree("log", 0, 100, &h, &sig.signature),
            Some(5)
        );
        assert_eq!(
            v.verified_subtree("other", 0, 100, &h, &sig.signature),
            None
        );
        assert_eq!(v.verified_subtree("log", 0, 99, &h, &sig.signature), None);
        assert_eq!(v.verified_subtree("log", 64, 128, &h, &sig.signature), None);
        assert_eq!(
            v.verified_subtree("log", 0, 100, &Hash([0xbb; 32]), &sig.signature),
            None
        );
        let mut truncated = sig.signature.clone();
        truncated.pop();
        assert_eq!(v.verified_subtree("log", 0, 100, &h, &truncated), None);
        // The timestamp is signed too.
        let mut later = sig.signature.clone();
        later[7] ^= 1;
        assert_eq!(v.verified_subtree("log", 0, 100, &h, &later), None);
    }

    #[test]
    fn subtrees_off_the_left_edge_carry_no_timestamp() {
        let s = signer();
        let h = Hash([1; 32]);
        assert_eq!(
            s.sign_subtree("log", 4, 8, &h, 12345).unwrap_err(),
            SubtreeMessageError::Timestamp
        );
        let sig = s.sign_subtree("log", 4, 8, &h, 0).unwrap();
        assert_eq!(
            s.verifier()
                .verified_subtree("log", 4, 8, &h, &sig.signature),
            Some(0)
        );
        assert!(s.sign_subtree("log", 0, 0, &h, 1).is_err());
        assert!(s.sign_subtree("log", 2, 5, &h, 0).is_err());
    }

    #[test]
    fn signer_keys_round_trip_and_are_checked() {
        let s = signer();
        let again = MlDsaSigner::from_skey(&s.to_skey()).unwrap();
        assert_eq!(again.vkey(), s.vkey());
        let skey = s
            .to_skey()
            .replace(&format!("+{:08x}+", s.key_id()), "+00000000+");
        assert_eq!(
            MlDsaSigner::from_skey(&skey).unwrap_err(),
            KeyError::KeyIdMismatch
        );
        assert!(format!("{s:?}").len() < 80);
    }
}
