//! C2SP signed notes: Ed25519 note signatures (type 0x01), timestamped cosignatures
//! (type 0x04), key IDs, and the `vkey` / `skey` key strings of Go's `sumdb/note`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::{Zeroize as _, Zeroizing};

/// Signature type of a plain Ed25519 note signature.
pub const TYPE_ED25519: u8 = 0x01;
/// Signature type of an Ed25519 `cosignature/v1` (tlog-cosignature).
pub const TYPE_COSIGNATURE: u8 = 0x04;
/// More signature lines than this and the note is refused: the spec asks verifiers to accept
/// at least 16 and to bound the rest.
const MAX_SIGNATURES: usize = 100;
/// Bytes in the signature part of an Ed25519 signature line: key ID and signature.
const ED25519_BLOB: usize = 4 + 64;

/// `SHA-256(name || 0x0A || type || public key)[0..4]`, big-endian: the key ID of signed-note.
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', sig_type]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The message an Ed25519 cosigner signs: `cosignature/v1\ntime <t>\n` and the checkpoint text.
pub fn cosignature_message(timestamp: u64, checkpoint_text: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}").into_bytes()
}

/// Why a key string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not of the form `name+hex8+base64`, or `PRIVATE+KEY+name+hex8+base64`.
    #[error("malformed key string")]
    Malformed,
    /// Names are non-empty and have no whitespace and no `+`.
    #[error("invalid key name")]
    Name,
    /// The type byte names an algorithm this implementation does not handle.
    #[error("unsupported key type {0:#04x}")]
    UnsupportedType(u8),
    /// The key bytes are not a valid key.
    #[error("invalid key material")]
    Material,
    /// The key ID in the string is not the one the key hashes to.
    #[error("key ID does not match the key")]
    KeyIdMismatch,
}

/// Why a note was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// Not UTF-8, a control character other than LF, or no final LF.
    #[error("a note is UTF-8 text without control characters, ending in a newline")]
    Encoding,
    /// No blank line separates the text from the signatures, or the text is empty.
    #[error("a note needs text, a blank line, then signature lines")]
    Structure,
    /// A signature line is not `— <name> <base64>`.
    #[error("malformed signature line")]
    SignatureLine,
    /// More signature lines than this implementation accepts.
    #[error("more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// A known key's signature does not verify.
    #[error("the signature by {0} does not verify")]
    BadSignature(String),
    /// No signature from any known key.
    #[error("the note has no signature from a known key")]
    UnverifiedNote,
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The 4-byte key ID.
    pub key_id: u32,
    /// The signature bytes after the key ID (for a cosignature: timestamp, then signature).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line as it appears in a note, with its final newline.
    pub fn to_line(&self) -> String {
        let mut blob = Vec::with_capacity(4 + self.signature.len());
        blob.extend_from_slice(&self.key_id.to_be_bytes());
        blob.extend_from_slice(&self.signature);
        format!("\u{2014} {} {}\n", self.name, STANDARD.encode(blob))
    }

    /// Parses one line without its newline.
    fn parse(line: &str) -> Result<Self, NoteError> {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or(NoteError::SignatureLine)?;
        let (name, b64) = rest.split_once(' ').ok_or(NoteError::SignatureLine)?;
        if !valid_name(name) {
            return Err(NoteError::SignatureLine);
        }
        let blob = STANDARD.decode(b64).map_err(|_| NoteError::SignatureLine)?;
        if blob.len() < 5 {
            return Err(NoteError::SignatureLine);
        }
        let (id, sig) = blob.split_at(4);
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            signature: sig.to_vec(),
        })
    }
}

pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

/// A signed note: text and the signature lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final newline.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a note without checking any signature.
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        let msg = std::str::from_utf8(bytes).map_err(|_| NoteError::Encoding)?;
        if msg.chars().any(|c| c.is_control() && c != '\n') || !msg.ends_with('\n') {
            return Err(NoteError::Encoding);
        }
        // The text may contain blank lines: it ends at the last one.
        let split = msg.rfind("\n\n").ok_or(NoteError::Structure)?;
        let (text, sigs) = (&msg[..=split], &msg[split + 2..]);
        if text.len() < 2 {
            return Err(NoteError::Structure);
        }
        let lines: Vec<&str> = sigs
            .strip_suffix('\n')
            .unwrap_or(sigs)
            .split('\n')
            .collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let signatures = lines
            .into_iter()
            .map(NoteSignature::parse)
            .collect::<Result<_, _>>()?;
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Checks the signatures against `known` (signed-note §"Verifying"): a signature from an
    /// unknown (name, key ID) is ignored; a known one that fails rejects the note; at least one
    /// known signature must verify. Returns the signatures that verified.
    pub fn verify(&self, known: &VerifierSet) -> Result<Vec<&NoteSignature>, NoteError> {
        let mut verified = Vec::new();
        for sig in &self.signatures {
            let Some(v) = known.find(&sig.name, sig.key_id) else {
                continue;
            };
            if !v.verify(self.text.as_bytes(), &sig.signature) {
                return Err(NoteError::BadSignature(sig.name.clone()));
            }
            verified.push(sig);
        }
        if verified.is_empty() {
            return Err(NoteError::UnverifiedNote);
        }
        Ok(verified)
    }

    /// Parses `bytes` and verifies it in one step.
    pub fn open(bytes: &[u8], known: &VerifierSet) -> Result<Self, NoteError> {
        let note = Self::parse(bytes)?;
        note.verify(known)?;
        Ok(note)
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for s in &self.signatures {
            f.write_str(&s.to_line())?;
        }
        Ok(())
    }
}

/// Checks one kind of signature by one key.
pub trait Verifier: Send + Sync {
    /// The key name.
    fn name(&self) -> &str;
    /// The key ID.
    fn key_id(&self) -> u32;
    /// Whether `signature` (the bytes after the key ID) signs `text` (the note text).
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool;
}

pub(crate) fn parse_vkey(vkey: &str) -> Result<(&str, u32, Vec<u8>), KeyError> {
    let (name, rest) = vkey.split_once('+').ok_or(KeyError::Malformed)?;
    let (id_hex, b64) = rest.split_once('+').ok_or(KeyError::Malformed)?;
    if !valid_name(name) {
        return Err(KeyError::Name);
    }
    if id_hex.len() != 8 {
        return Err(KeyError::Malformed);
    }
    let id = u32::from_str_radix(id_hex, 16).map_err(|_| KeyError::Malformed)?;
    let key = STANDARD.decode(b64).map_err(|_| KeyError::Malformed)?;
    if key.is_empty() {
        return Err(KeyError::Malformed);
    }
    if key_id(name, key[0], &key[1..]) != id {
        return Err(KeyError::KeyIdMismatch);
    }
    Ok((name, id, key))
}

fn ed25519_public(bytes: &[u8]) -> Result<VerifyingKey, KeyError> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Material)?;
    VerifyingKey::from_bytes(&arr).map_err(|_| KeyError::Material)
}

pub(crate) fn vkey_string(name: &str, id: u32, sig_type: u8, public: &[u8]) -> String {
    let mut key = vec![sig_type];
    key.extend_from_slice(public);
    format!("{name}+{id:08x}+{}", STANDARD.encode(key))
}

/// Why a key did not sign: a key held elsewhere (a PKCS#11 token) can fail where an
/// in-memory key cannot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the signing key did not sign: {0}")]
pub struct SignError(String);

impl SignError {
    /// A refusal, with the reason the key's holder gave.
    pub fn new(why: impl Into<String>) -> Self {
        SignError(why.into())
    }
}

/// An Ed25519 key that signs notes, wherever its private half lives: in memory ([`Signer`]),
/// or in a token that signs on request (glasslog's `hsm` crate). Go's `note.Signer` is the
/// model: a name, a key, and a signature over the message that may fail.
pub trait Ed25519Key: Send + Sync + fmt::Debug {
    /// The verifier of its note signatures (type 0x01); it carries the key's name.
    fn verifier(&self) -> Ed25519Verifier;

    /// A pure Ed25519 signature (RFC 8032 §5.1) over `message`.
    fn sign_ed25519(&self, message: &[u8]) -> Result<[u8; 64], SignError>;

    /// Signs note text (which must end in a newline): one signature line.
    fn sign_text(&self, text: &str) -> Result<NoteSignature, SignError> {
        let v = self.verifier();
        Ok(NoteSignature {
            key_id: v.id,
            signature: self.sign_ed25519(text.as_bytes())?.to_vec(),
            name: v.name,
        })
    }

    /// A `cosignature/v1` (type 0x04) over checkpoint text at `timestamp` (POSIX seconds), as a
    /// witness makes it.
    fn cosign_text(
        &self,
        checkpoint_text: &str,
        timestamp: u64,
    ) -> Result<NoteSignature, SignError> {
        let v = self.verifier();
        let sig = self.sign_ed25519(&cosignature_message(timestamp, checkpoint_text))?;
        let mut blob = Vec::with_capacity(ED25519_BLOB + 4);
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&sig);
        Ok(NoteSignature {
            key_id: key_id(&v.name, TYPE_COSIGNATURE, v.key.as_bytes()),
            signature: blob,
            name: v.name,
        })
    }
}

/// Verifies plain Ed25519 note signatures (type 0x01), such as a log's checkpoint signature.
#[derive(Clone, Debug)]
pub struct Ed25519Verifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl Ed25519Verifier {
    /// The verifier of the Ed25519 public key `public` named `name`.
    pub fn from_public(name: &str, public: &[u8; 32]) -> Result<Self, KeyError> {
        if !valid_name(name) {
            return Err(KeyError::Name);
        }
        Ok(Ed25519Verifier {
            name: name.to_owned(),
            id: key_id(name, TYPE_ED25519, public),
            key: ed25519_public(public)?,
        })
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The verifier key string of the same key as a cosigner (type 0x04).
    pub fn cosigner_vkey(&self) -> String {
        let public = self.key.as_bytes();
        vkey_string(
            &self.name,
            key_id(&self.name, TYPE_COSIGNATURE, public),
            TYPE_COSIGNATURE,
            public,
        )
    }

    /// Parses a verifier key `name+hex8+base64(0x01 || key)`.
    pub fn from_vkey(vkey: &str) -> Result<Self, KeyError> {
        let (name, id, key) = parse_vkey(vkey)?;
        if key[0] != TYPE_ED25519 {
            return Err(KeyError::UnsupportedType(key[0]));
        }
        Ok(Ed25519Verifier {
            name: name.to_owned(),
            id,
            key: ed25519_public(&key[1..])?,
        })
    }

    /// The verifier key string.
    pub fn vkey(&self) -> String {
        vkey_string(&self.name, self.id, TYPE_ED25519, self.key.as_bytes())
    }
}

impl Verifier for Ed25519Verifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        // Strict: weak (small-order) keys and non-canonical signatures are refused, so a key
        // that "verifies" everything can never stand for a log.
        Signature::from_slice(signature).is_ok_and(|sig| self.key.verify_strict(text, &sig).is_ok())
    }
}

/// Verifies Ed25519 `cosignature/v1` signatures (type 0x04) of a witness over checkpoints.
#[derive(Clone, Debug)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Parses a verifier key `name+hex8+base64(0x04 || key)`.
    pub fn from_vkey(vkey: &str) -> Result<Self, KeyError> {
        let (name, id, key) = parse_vkey(vkey)?;
        if key[0] != TYPE_COSIGNATURE {
            return Err(KeyError::UnsupportedType(key[0]));
        }
        Ok(CosignatureVerifier {
            name: name.to_owned(),
            id,
            key: ed25519_public(&key[1..])?,
        })
    }

    /// The verifier key string.
    pub fn vkey(&self) -> String {
        vkey_string(&self.name, self.id, TYPE_COSIGNATURE, self.key.as_bytes())
    }

    /// The timestamp of a cosignature made by this key, if it is one and it verifies.
    pub fn verified_timestamp(&self, text: &[u8], signature: &[u8]) -> Option<u64> {
        if signature.len() != 8 + 64 {
            return None;
        }
        let (ts, sig) = signature.split_at(8);
        let ts = u64::from_be_bytes(ts.try_into().ok()?);
        // The spec bounds timestamps to 2^63 - 1.
        if ts > i64::MAX as u64 {
            return None;
        }
        let text = std::str::from_utf8(text).ok()?;
        let sig = Signature::from_slice(sig).ok()?;
        self.key
            .verify_strict(&cosignature_message(ts, text), &sig)
            .is_ok()
            .then_some(ts)
    }
}

impl Verifier for CosignatureVerifier {
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

/// The keys a reader trusts, looked up by (name, key ID).
#[derive(Default)]
pub struct VerifierSet {
    verifiers: Vec<Box<dyn Verifier>>,
}

impl VerifierSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a verifier.
    pub fn add(&mut self, v: impl Verifier + 'static) {
        self.verifiers.push(Box::new(v));
    }

    /// Whether any trusted key carries `name`.
    pub fn names(&self, name: &str) -> bool {
        self.verifiers.iter().any(|v| v.name() == name)
    }

    /// The verifier for a (name, key ID), if trusted.
    pub fn find(&self, name: &str, id: u32) -> Option<&dyn Verifier> {
        self.verifiers
            .iter()
            .find(|v| v.key_id() == id && v.name() == name)
            .map(|v| &**v)
    }
}

/// Splits a signer key string `PRIVATE+KEY+name+hex8+base64(type || key)` into its parts;
/// the key bytes are wiped when dropped.
pub(crate) fn split_skey(skey: &str) -> Result<(&str, u32, Zeroizing<Vec<u8>>), KeyError> {
    let rest = skey
        .strip_prefix("PRIVATE+KEY+")
        .ok_or(KeyError::Malformed)?;
    let (name, rest) = rest.split_once('+').ok_or(KeyError::Malformed)?;
    let (id_hex, b64) = rest.split_once('+').ok_or(KeyError::Malformed)?;
    if id_hex.len() != 8 {
        return Err(KeyError::Malformed);
    }
    let id = u32::from_str_radix(id_hex, 16).map_err(|_| KeyError::Malformed)?;
    let key = Zeroizing::new(
        STANDARD
            .decode(b64.trim_end())
            .map_err(|_| KeyError::Malformed)?,
    );
    Ok((name, id, key))
}

/// An Ed25519 key that signs notes (type 0x01) and, as a witness, cosignatures (type 0x04).
#[derive(Clone)]
pub struct Signer {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for Signer {
    // The seed must never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer from a 32-byte Ed25519 seed.
    /// The copy of the seed it is given is wiped before it returns; the signing key wipes
    /// itself on drop.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, KeyError> {
        let mut seed = seed;
        let key = SigningKey::from_bytes(&seed);
        seed.zeroize();
        if !valid_name(name) {
            return Err(KeyError::Name);
        }
        Ok(Signer {
            name: name.to_owned(),
            key,
        })
    }

    /// Parses Go's signer key string `PRIVATE+KEY+name+hex8+base64(0x01 || seed)`.
    pub fn from_skey(skey: &str) -> Result<Self, KeyError> {
        let (name, id, key) = split_skey(skey)?;
        match key.split_first() {
            Some((&TYPE_ED25519, seed)) => {
                let seed: Zeroizing<[u8; 32]> =
                    Zeroizing::new(seed.try_into().map_err(|_| KeyError::Material)?);
                let signer = Self::from_seed(name, *seed)?;
                if signer.key_id() != id {
                    return Err(KeyError::KeyIdMismatch);
                }
                Ok(signer)
            }
            Some((&other, _)) => Err(KeyError::UnsupportedType(other)),
            None => Err(KeyError::Malformed),
        }
    }

    /// The signer key string; it holds the private key, and is wiped when dropped.
    pub fn to_skey(&self) -> Zeroizing<String> {
        let mut key = Zeroizing::new(Vec::with_capacity(33));
        key.push(TYPE_ED25519);
        key.extend_from_slice(self.key.as_bytes());
        let encoded = Zeroizing::new(STANDARD.encode(&*key));
        let mut out = Zeroizing::new(String::with_capacity(64 + self.name.len()));
        out.push_str("PRIVATE+KEY+");
        out.push_str(&self.name);
        out.push_str(&format!("+{:08x}+", self.key_id()));
        out.push_str(&encoded);
        out
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The note key ID (type 0x01).
    pub fn key_id(&self) -> u32 {
        key_id(
            &self.name,
            TYPE_ED25519,
            self.key.verifying_key().as_bytes(),
        )
    }

    /// The verifier key string for note signatures (type 0x01).
    pub fn vkey(&self) -> String {
        vkey_string(
            &self.name,
            self.key_id(),
            TYPE_ED25519,
            self.key.verifying_key().as_bytes(),
        )
    }

    /// The verifier for this key's note signatures.
    pub fn verifier(&self) -> Ed25519Verifier {
        Ed25519Verifier {
            name: self.name.clone(),
            id: self.key_id(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs note text (which must end in a newline).
    pub fn sign(&self, text: &str) -> NoteSignature {
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id(),
            signature: self.key.sign(text.as_bytes()).to_bytes().to_vec(),
        }
    }

    /// Signs `text` and returns the whole note.
    pub fn sign_note(&self, text: &str) -> String {
        format!("{text}\n{}", self.sign(text).to_line())
    }

    /// The key ID of this key as a cosigner (type 0x04).
    pub fn cosigner_key_id(&self) -> u32 {
        key_id(
            &self.name,
            TYPE_COSIGNATURE,
            self.key.verifying_key().as_bytes(),
        )
    }

    /// The verifier key string of this key as a cosigner (type 0x04).
    pub fn cosigner_vkey(&self) -> String {
        let public = self.key.verifying_key();
        vkey_string(
            &self.name,
            self.cosigner_key_id(),
            TYPE_COSIGNATURE,
            public.as_bytes(),
        )
    }

    /// A `cosignature/v1` over checkpoint text at `timestamp` (POSIX seconds).
    pub fn cosign(&self, checkpoint_text: &str, timestamp: u64) -> NoteSignature {
        let sig = self
            .key
            .sign(&cosignature_message(timestamp, checkpoint_text));
        let mut blob = Vec::with_capacity(ED25519_BLOB + 4);
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        NoteSignature {
            name: self.name.clone(),
            key_id: self.cosigner_key_id(),
            signature: blob,
        }
    }
}

/// A key chosen at run time (a file's or a token's) signs as the key it holds.
impl<K: Ed25519Key + ?Sized> Ed25519Key for Box<K> {
    fn verifier(&self) -> Ed25519Verifier {
        (**self).verifier()
    }

    fn sign_ed25519(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        (**self).sign_ed25519(message)
    }
}

impl Ed25519Key for Signer {
    fn verifier(&self) -> Ed25519Verifier {
        Signer::verifier(self)
    }

    fn sign_ed25519(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        Ok(self.key.sign(message).to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Verifier as _;

    /// The identity point as a public key, with the signature R = identity, S = 0, satisfies
    /// the cofactorless equation for every message: a key that "signs" everything. Issue #12.
    #[test]
    fn weak_keys_verify_nothing() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut sig = [0u8; 64];
        sig[0] = 1;
        let name = "weak.example/log";
        for (ty, text) in [(TYPE_ED25519, "any text\n"), (TYPE_COSIGNATURE, "")] {
            let id = key_id(name, ty, &identity);
            let vkey = vkey_string(name, id, ty, &identity);
            if ty == TYPE_ED25519 {
                let v = Ed25519Verifier::from_vkey(&vkey).unwrap();
                // The non-strict check would accept it: that is the hole being closed.
                assert!(
                    v.key
                        .verify(text.as_bytes(), &Signature::from_bytes(&sig))
                        .is_ok()
                );
                assert!(!Verifier::verify(&v, text.as_bytes(), &sig));
            } else {
                let v = CosignatureVerifier::from_vkey(&vkey).unwrap();
                let mut cosig = vec![0u8; 8];
                cosig.extend_from_slice(&sig);
                assert!(v.verified_timestamp(b"origin\n1\nAAAA\n", &cosig).is_none());
            }
        }
    }

    #[test]
    fn parse_rejects_malformed_notes() {
        let signer = Signer::from_seed("a", [7; 32]).unwrap();
        let good = signer.sign_note("hello\n");
        assert!(Note::parse(good.as_bytes()).is_ok());
        for bad in [
            "hello\n".to_owned(),
            "\n\n\u{2014} a AAAAAAA=\n".to_owned(),
            good.replace('\n', "\r\n"),
            good.trim_end().to_owned(),
            good.replace("\u{2014} a", "\u{2014} a+b"),
            good.replace("\u{2014} ", "- "),
            "hello\n\n\u{2014} a AAAA\n".to_owned(),
        ] {
            assert!(Note::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert_eq!(Note::parse(&[0xff, b'\n']), Err(NoteError::Encoding));
        let many = format!(
            "t\n\n{}",
            signer.sign("t\n").to_line().repeat(MAX_SIGNATURES + 1)
        );
        assert_eq!(
            Note::parse(many.as_bytes()),
            Err(NoteError::TooManySignatures)
        );
    }

    /// A key held elsewhere signs through the trait's provided methods; on an in-memory key
    /// they must give exactly what `Signer`'s own (vector-tested) methods give.
    #[test]
    fn the_key_trait_signs_as_the_signer_does() {
        let s = Signer::from_seed("example.com/w", [8; 32]).unwrap();
        let text = "example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        assert_eq!(Ed25519Key::sign_text(&s, text).unwrap(), s.sign(text));
        assert_eq!(
            Ed25519Key::cosign_text(&s, text, 1_700_000_000).unwrap(),
            s.cosign(text, 1_700_000_000)
        );
        let v = Ed25519Key::verifier(&s);
        assert_eq!(v.cosigner_vkey(), s.cosigner_vkey());
        let again = Ed25519Verifier::from_public("example.com/w", &v.public_key()).unwrap();
        assert_eq!(again.vkey(), s.vkey());
        assert!(Ed25519Verifier::from_public("bad name", &v.public_key()).is_err());
    }

    #[test]
    fn signer_round_trips_through_its_key_strings() {
        let signer = Signer::from_seed("log.example/x", [9; 32]).unwrap();
        let again = Signer::from_skey(&signer.to_skey()).unwrap();
        assert_eq!(again.vkey(), signer.vkey());
        let set = VerifierSet::from_vkeys([signer.vkey().as_str()]).unwrap();
        let note = Note::open(signer.sign_note("x\n").as_bytes(), &set).unwrap();
        assert_eq!(note.text, "x\n");
        assert!(Signer::from_seed("bad name", [0; 32]).is_err());
    }

    /// Issue #12: key material is wiped when it goes out of scope. The signing key is
    /// ed25519-dalek's, built with its `zeroize` feature (ZeroizeOnDrop); the key string and
    /// every intermediate buffer are `Zeroizing`. Checked by the types, so removing either
    /// stops this from compiling.
    #[test]
    fn key_material_is_wiped_on_drop() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let signer = Signer::from_seed("log.example/x", [9; 32]).unwrap();
        wiped_on_drop(&signer.key);
        let skey: zeroize::Zeroizing<String> = signer.to_skey();
        wiped_on_drop(&skey);
        assert_eq!(Signer::from_skey(&skey).unwrap().vkey(), signer.vkey());
        assert_eq!(
            Ed25519Verifier::from_vkey(&signer.cosigner_vkey()).unwrap_err(),
            KeyError::UnsupportedType(4)
        );
    }
}
