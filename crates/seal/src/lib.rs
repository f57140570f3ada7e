//! Encryption at rest: entries sealed under per-subject data keys, wrapped by a master key.
//!
//! The key hierarchy and the threat model are in ARCHITECTURE.md ("Encryption at rest"). In
//! short: a 32-byte master key, never stored beside the data, derives (HKDF-SHA-256) a
//! wrapping key, a header key and an index key. Each *scope* (a subject, such as an actor,
//! within one source and one retention epoch) has its own random data key, stored only
//! wrapped (XChaCha20-Poly1305) under the wrapping key. An entry is stored, served in entry
//! bundles and hashed into the tree as a *sealed record*:
//!
//! ```text
//! MAGIC (5) || commitment (32) || nonce (24) || key ref (32) || ciphertext (32 + n + 16)
//! commitment = SHA-256("glasslog/v1/commitment\0" || salt || plaintext)
//! key ref    = XChaCha20-Poly1305(header key, nonce, key id,
//!                                 aad = MAGIC || commitment || nonce)
//! ciphertext = XChaCha20-Poly1305(data key, nonce, salt || plaintext,
//!                                 aad = MAGIC || commitment || key ref)
//! ```
//!
//! The leaf commits to the record, so destroying a scope's data key (crypto-shredding) leaves
//! every leaf, tile and proof as it was while the plaintext becomes unrecoverable. The salt is
//! 32 random bytes, so the public commitment hides even a guessable entry; whoever is given
//! the plaintext and the salt (an auditor, through the API) checks them against the record
//! with [`verify_opening`], without any key. The key id is encrypted, so bundles do not link
//! the entries of one subject.
//!
//! Nothing here does I/O or reads a clock: the log stores key records and chooses epochs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The first bytes of every sealed record. A zero byte first, so no JSON entry (the only kind
/// a clear log stores) starts like one.
pub const MAGIC: &[u8; 5] = b"\0gls1";
/// Bytes a sealed record adds to its plaintext.
pub const OVERHEAD: usize = MAGIC.len() + 32 + 24 + 32 + SALT_LEN + 16;
const SALT_LEN: usize = 32;
const COMMITMENT_DOMAIN: &[u8] = b"glasslog/v1/commitment\0";
const KEY_RECORD_VERSION: u8 = 1;
const LIVE: u8 = 1;
const ERASED: u8 = 2;
/// version, state, subject, source, epoch, created.
const KEY_HEADER_LEN: usize = 1 + 1 + 16 + 16 + 4 + 8;
const WRAPPED_LEN: usize = 24 + 32 + 16;

/// Why a record or key could not be used.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// The bytes are not a sealed record or key record of this version.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// Authentication failed: the record was changed, or belongs to another master key.
    #[error("{0} does not authenticate under this master key")]
    Unauthentic(&'static str),
    /// The master key is not 32 bytes of base64 or hex.
    #[error("the master key must be 32 bytes, in base64 or hex: {0}")]
    BadMasterKey(&'static str),
    /// The system's random source failed.
    #[error("no randomness: {0}")]
    Random(String),
}

/// A data key's identifier: random, stored in clear only in the key table.
pub type KeyId = [u8; 16];
/// A keyed hash naming a subject, source or scope in the key table (never the name itself).
pub type Pseudonym = [u8; 16];

/// What a data key covers. `subject` may be empty (keys per source and epoch only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope<'a> {
    /// The subject erasure is asked for by, such as `actor:alice`.
    pub subject: &'a str,
    /// The submitting source, which retention policies name.
    pub source: &'a str,
    /// The retention epoch: days since the Unix epoch divided by the epoch length.
    pub epoch: u32,
}

/// A data key in memory, zeroed on drop.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// The clear part of a key record: what erasure and retention select keys by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyMeta {
    /// [`MasterKey::subject`] of the scope's subject.
    pub subject: Pseudonym,
    /// [`MasterKey::source`] of the scope's source.
    pub source: Pseudonym,
    /// The scope's epoch.
    pub epoch: u32,
    /// When the key was made (ms since the Unix epoch).
    pub created_ms: u64,
    /// When it was destroyed, for a tombstone.
    pub erased_ms: Option<u64>,
}

/// A key record opened with the master key.
#[derive(Debug)]
pub enum KeyState {
    /// The key exists.
    Live(DataKey),
    /// The key was destroyed: entries sealed under it are unreadable forever.
    Erased,
}

/// An opened sealed record.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    /// The entry as submitted (after redaction).
    pub plaintext: Vec<u8>,
    /// The commitment's salt, which with the plaintext lets anyone check the record.
    pub salt: [u8; 32],
}

/// The master key and the keys derived from it.
pub struct MasterKey {
    wrap: XChaCha20Poly1305,
    header: XChaCha20Poly1305,
    /// HMAC-SHA-256 under the index key, keyed once: each pseudonym clones it rather than
    /// hashing the key's pads again (a sealed entry takes one per tag).
    index: Hmac<Sha256>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

fn random<const N: usize>() -> Result<[u8; N], SealError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| SealError::Random(e.to_string()))?;
    Ok(b)
}

fn cipher(key: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&(*key).into())
}

impl MasterKey {
    /// The master key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"glasslog/v1/master"), bytes);
        let derive = |info: &[u8]| {
            let mut k = Zeroizing::new([0u8; 32]);
            // 32 bytes is far below HKDF's limit of 255 hash lengths.
            let _ = hk.expand(info, k.as_mut());
            k
        };
        let index = derive(b"index");
        MasterKey {
            wrap: cipher(&derive(b"wrap")),
            header: cipher(&derive(b"header")),
            index: <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(index.as_ref())
                .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length")),
        }
    }

    /// A master key from a key file's or variable's text: 32 bytes in base64 (either
    /// alphabet, padded or not) or hex, surrounding whitespace ignored.
    pub fn parse(text: &str) -> Result<Self, SealError> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut out = [0u8; 32];
            for (i, pair) in t.as_bytes().chunks(2).enumerate() {
                let hi = (pair[0] as char).to_digit(16).unwrap_or(0);
                let lo = (pair[1] as char).to_digit(16).unwrap_or(0);
                out[i] = u8::try_from(hi * 16 + lo).unwrap_or(0);
            }
            Zeroizing::new(out.to_vec())
        } else {
            let cleaned: String = t.trim_end_matches('=').replace('+', "-").replace('/', "_");
            Zeroizing::new(
                URL_SAFE_NO_PAD
                    .decode(cleaned)
                    .map_err(|_| SealError::BadMasterKey("not base64 or hex"))?,
            )
        };
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SealError::BadMasterKey("wrong length"))?;
        let arr = Zeroizing::new(arr);
        Ok(Self::from_bytes(&arr))
    }

    /// A fresh random master key, as the text [`MasterKey::parse`] reads.
    pub fn generate_text() -> Result<Zeroizing<String>, SealError> {
        let b = Zeroizing::new(random::<32>()?);
        Ok(Zeroizing::new(URL_SAFE_NO_PAD.encode(b.as_ref())))
    }

    fn prf(&self, domain: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.index.clone();
        mac.update(domain);
        for p in parts {
            // Length-prefixed, so no two lists of parts hash alike.
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }

    fn pseudonym(&self, domain: &[u8], parts: &[&[u8]]) -> Pseudonym {
        let full = self.prf(domain, parts);
        let mut p = [0u8; 16];
        p.copy_from_slice(&full[..16]);
        p
    }

    /// The pseudonym of a subject in the key table and in erasure records.
    pub fn subject(&self, subject: &str) -> Pseudonym {
        self.pseudonym(b"subject", &[subject.as_bytes()])
    }

    /// The pseudonym of a source in the key table.
    pub fn source(&self, source: &str) -> Pseudonym {
        self.pseudonym(b"source", &[source.as_bytes()])
    }

    /// The pseudonym of a scope, from its subject's and source's pseudonyms and its epoch:
    /// the key table maps it to the scope's current key, and erasure and retention name a
    /// scope from a key record's clear part alone.
    pub fn scope(&self, subject: &Pseudonym, source: &Pseudonym, epoch: u32) -> Pseudonym {
        self.pseudonym(b"scope", &[subject, source, &epoch.to_be_bytes()])
    }

    /// A search or break-glass tag as stored: a keyed hash, so the index holds no words.
    pub fn tag(&self, tag: &str) -> String {
        let full = self.prf(b"tag", &[tag.as_bytes()]);
        format!("#{}", URL_SAFE_NO_PAD.encode(&full[..18]))
    }

    /// The identity under which identical plaintexts deduplicate, since sealed records of the
    /// same bytes differ.
    pub fn identity(&self, plaintext: &[u8]) -> [u8; 32] {
        self.prf(b"identity", &[plaintext])
    }

    /// A new random data key for `scope`, and its record to store under `id`.
    pub fn new_data_key(
        &self,
        scope: &Scope<'_>,
        created_ms: u64,
    ) -> Result<(KeyId, DataKey, Vec<u8>), SealError> {
        let id: KeyId = random()?;
        let key = DataKey(Zeroizing::new(random()?));
        let meta = KeyMeta {
            subject: self.subject(scope.subject),
            source: self.source(scope.source),
            epoch: scope.epoch,
            created_ms,
            erased_ms: None,
        };
        let mut record = key_header(&meta, LIVE);
        let nonce: [u8; 24] = random()?;
        let mut aad = id.to_vec();
        aad.extend_from_slice(&record);
        let wrapped = self
            .wrap
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: key.0.as_ref(),
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Malformed("data key"))?;
        record.extend_from_slice(&nonce);
        record.extend_from_slice(&wrapped);
        Ok((id, key, record))
    }

    /// Opens a key record stored under `id`.
    pub fn open_key(&self, id: &KeyId, record: &[u8]) -> Result<KeyState, SealError> {
        let meta = key_meta(record)?;
        if meta.erased_ms.is_some() {
            return Ok(KeyState::Erased);
        }
        let (header, rest) = record.split_at(KEY_HEADER_LEN);
        let (nonce, wrapped) = rest.split_at(24);
        let mut aad = id.to_vec();
        aad.extend_from_slice(header);
        let nonce: [u8; 24] = nonce
            .try_into()
            .map_err(|_| SealError::Malformed("key record"))?;
        let key = Zeroizing::new(
            self.wrap
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: wrapped,
                        aad: &aad,
                    },
                )
                .map_err(|_| SealError::Unauthentic("key record"))?,
        );
        let arr: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| SealError::Malformed("key record"))?;
        Ok(KeyState::Live(DataKey(Zeroizing::new(arr))))
    }

    /// Seals `plaintext` under a data key, with a fresh salt and nonce.
    pub fn seal(&self, id: &KeyId, key: &DataKey, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        // One call to the system's random source for both.
        let fresh: [u8; 56] = random()?;
        let (salt, nonce) = fresh.split_at(32);
        let salt: [u8; 32] = salt.try_into().map_err(|_| SealError::Malformed("salt"))?;
        let nonce: [u8; 24] = nonce
            .try_into()
            .map_err(|_| SealError::Malformed("nonce"))?;
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&commitment(&salt, plaintext));
        out.extend_from_slice(&nonce);
        let nonce = XNonce::from(nonce);
        let key_ref = self
            .header
            .encrypt(&nonce, Payload { msg: id, aad: &out })
            .map_err(|_| SealError::Malformed("key id"))?;
        let mut aad = out[..MAGIC.len() + 32].to_vec();
        aad.extend_from_slice(&key_ref);
        out.extend_from_slice(&key_ref);
        let mut msg = Zeroizing::new(Vec::with_capacity(SALT_LEN + plaintext.len()));
        msg.extend_from_slice(&salt);
        msg.extend_from_slice(plaintext);
        let ct = cipher(&key.0)
            .encrypt(
                &nonce,
                Payload {
                    msg: &msg,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Malformed("entry"))?;
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// The data key a sealed record was sealed under.
    pub fn key_of(&self, record: &[u8]) -> Result<KeyId, SealError> {
        let r = Parts::of(record)?;
        let id = self
            .header
            .decrypt(
                &XNonce::from(r.nonce),
                Payload {
                    msg: r.key_ref,
                    aad: &record[..MAGIC.len() + 32 + 24],
                },
            )
            .map_err(|_| SealError::Unauthentic("key reference"))?;
        id.try_into().map_err(|_| SealError::Malformed("key id"))
    }

    /// Opens a sealed record with its data key, and checks the commitment.
    pub fn open(&self, key: &DataKey, record: &[u8]) -> Result<Opened, SealError> {
        let r = Parts::of(record)?;
        let mut aad = record[..MAGIC.len() + 32].to_vec();
        aad.extend_from_slice(r.key_ref);
        let msg = Zeroizing::new(
            cipher(&key.0)
                .decrypt(
                    &XNonce::from(r.nonce),
                    Payload {
                        msg: r.ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| SealError::Unauthentic("entry"))?,
        );
        let (salt, plaintext) = msg.split_at(SALT_LEN);
        let salt: [u8; 32] = salt.try_into().map_err(|_| SealError::Malformed("entry"))?;
        if commitment(&salt, plaintext) != r.commitment {
            return Err(SealError::Unauthentic("commitment"));
        }
        Ok(Opened {
            plaintext: plaintext.to_vec(),
            salt,
        })
    }
}

/// A sealed record cut into its fields.
struct Parts<'a> {
    commitment: [u8; 32],
    nonce: [u8; 24],
    key_ref: &'a [u8],
    ciphertext: &'a [u8],
}

impl<'a> Parts<'a> {
    fn of(record: &'a [u8]) -> Result<Self, SealError> {
        let body = record
            .strip_prefix(MAGIC.as_slice())
            .ok_or(SealError::Malformed("sealed record"))?;
        if body.len() < OVERHEAD - MAGIC.len() {
            return Err(SealError::Malformed("sealed record"));
        }
        let (commitment, rest) = body.split_at(32);
        let (nonce, rest) = rest.split_at(24);
        let (key_ref, ciphertext) = rest.split_at(32);
        Ok(Parts {
            commitment: commitment
                .try_into()
                .map_err(|_| SealError::Malformed("sealed record"))?,
            nonce: nonce
                .try_into()
                .map_err(|_| SealError::Malformed("sealed record"))?,
            key_ref,
            ciphertext,
        })
    }
}

/// What a reader is given beside a sealed entry's plaintext so that it can check it against
/// the leaf: the record the leaf hashes and the commitment's salt (as proof bundles,
/// break-glass reports and the API carry them).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedParts {
    /// The sealed record, base64: the leaf data.
    pub record_base64: String,
    /// The commitment's salt, base64.
    pub salt_base64: String,
}

impl SealedParts {
    /// The parts of an opened record.
    pub fn new(record: &[u8], salt: &[u8; 32]) -> Self {
        use base64::engine::general_purpose::STANDARD;
        SealedParts {
            record_base64: STANDARD.encode(record),
            salt_base64: STANDARD.encode(salt),
        }
    }

    /// The leaf data (the record), once `plaintext` is checked to be what it commits to.
    pub fn leaf_data(&self, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        use base64::engine::general_purpose::STANDARD;
        let record = STANDARD
            .decode(&self.record_base64)
            .map_err(|_| SealError::Malformed("record_base64"))?;
        let salt: [u8; 32] = STANDARD
            .decode(&self.salt_base64)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or(SealError::Malformed("salt_base64"))?;
        if verify_opening(&record, &salt, plaintext) {
            Ok(record)
        } else {
            Err(SealError::Unauthentic(
                "the entry against its sealed record",
            ))
        }
    }
}

/// Whether stored or served entry bytes are a sealed record.
pub fn is_sealed(entry: &[u8]) -> bool {
    entry.starts_with(MAGIC)
}

/// The hiding commitment to an entry that a sealed record carries.
pub fn commitment(salt: &[u8; 32], plaintext: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(COMMITMENT_DOMAIN);
    h.update(salt);
    h.update(plaintext);
    h.finalize().into()
}

/// Whether `plaintext` with `salt` is what a sealed record commits to. Needs no key: this is
/// how an auditor given an entry checks it against the leaf the tree holds.
pub fn verify_opening(record: &[u8], salt: &[u8; 32], plaintext: &[u8]) -> bool {
    Parts::of(record).is_ok_and(|r| r.commitment == commitment(salt, plaintext))
}

fn key_header(meta: &KeyMeta, state: u8) -> Vec<u8> {
    let mut h = Vec::with_capacity(KEY_HEADER_LEN + WRAPPED_LEN);
    h.push(KEY_RECORD_VERSION);
    h.push(state);
    h.extend_from_slice(&meta.subject);
    h.extend_from_slice(&meta.source);
    h.extend_from_slice(&meta.epoch.to_be_bytes());
    h.extend_from_slice(&meta.created_ms.to_be_bytes());
    h
}

/// The clear part of a key record.
pub fn key_meta(record: &[u8]) -> Result<KeyMeta, SealError> {
    let bad = SealError::Malformed("key record");
    if record.len() < KEY_HEADER_LEN || record[0] != KEY_RECORD_VERSION {
        return Err(bad);
    }
    let arr16 = |r: std::ops::Range<usize>| <[u8; 16]>::try_from(&record[r]);
    let subject = arr16(2..18).map_err(|_| bad.clone())?;
    let source = arr16(18..34).map_err(|_| bad.clone())?;
    let epoch = u32::from_be_bytes(record[34..38].try_into().map_err(|_| bad.clone())?);
    let created_ms = u64::from_be_bytes(record[38..46].try_into().map_err(|_| bad.clone())?);
    let rest = &record[KEY_HEADER_LEN..];
    let erased_ms = match (record[1], rest.len()) {
        (LIVE, WRAPPED_LEN) => None,
        (ERASED, 8) => Some(u64::from_be_bytes(
            rest.try_into().map_err(|_| bad.clone())?,
        )),
        _ => return Err(bad),
    };
    Ok(KeyMeta {
        subject,
        source,
        epoch,
        created_ms,
        erased_ms,
    })
}

/// The tombstone that replaces a destroyed key's record: its clear part, and when.
pub fn tombstone(meta: &KeyMeta, erased_ms: u64) -> Vec<u8> {
    let mut t = key_header(meta, ERASED);
    t.extend_from_slice(&erased_ms.to_be_bytes());
    t
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn master() -> MasterKey {
        MasterKey::from_bytes(&[7u8; 32])
    }

    const SCOPE: Scope<'static> = Scope {
        subject: "actor:alice",
        source: "billing",
        epoch: 20_000,
    };

    #[test]
    fn a_sealed_entry_opens_and_verifies_without_a_key() {
        let m = master();
        let (id, key, record) = m.new_data_key(&SCOPE, 1).unwrap();
        let KeyState::Live(stored) = m.open_key(&id, &record).unwrap() else {
            panic!("a new key is live")
        };
        let sealed = m.seal(&id, &key, b"{\"actor\":\"alice\"}").unwrap();
        assert!(is_sealed(&sealed));
        assert_eq!(sealed.len(), 17 + OVERHEAD);
        assert_eq!(m.key_of(&sealed).unwrap(), id);
        let opened = m.open(&stored, &sealed).unwrap();
        assert_eq!(opened.plaintext, b"{\"actor\":\"alice\"}");
        assert!(verify_opening(&sealed, &opened.salt, &opened.plaintext));
        assert!(!verify_opening(
            &sealed,
            &opened.salt,
            b"{\"actor\":\"bob\"}"
        ));
        // Two seals of the same bytes share nothing a reader could link.
        let again = m.seal(&id, &key, b"{\"actor\":\"alice\"}").unwrap();
        assert_ne!(sealed[5..], again[5..]);
    }

    #[test]
    fn a_tombstone_keeps_the_clear_part_and_no_key() {
        let m = master();
        let (id, _, record) = m.new_data_key(&SCOPE, 5).unwrap();
        let meta = key_meta(&record).unwrap();
        assert_eq!(meta.subject, m.subject("actor:alice"));
        assert_eq!(meta.source, m.source("billing"));
        assert_eq!(
            (meta.epoch, meta.created_ms, meta.erased_ms),
            (20_000, 5, None)
        );
        let t = tombstone(&meta, 9);
        assert_eq!(key_meta(&t).unwrap().erased_ms, Some(9));
        assert!(matches!(m.open_key(&id, &t).unwrap(), KeyState::Erased));
        assert!(
            !t.windows(16)
                .any(|w| record[KEY_HEADER_LEN + 24..].starts_with(w))
        );
    }

    #[test]
    fn another_master_key_or_a_changed_byte_is_refused() {
        let m = master();
        let other = MasterKey::from_bytes(&[8u8; 32]);
        let (id, key, record) = m.new_data_key(&SCOPE, 1).unwrap();
        assert!(matches!(
            other.open_key(&id, &record),
            Err(SealError::Unauthentic(_))
        ));
        // A record moved to another id does not open either.
        assert!(m.open_key(&[0u8; 16], &record).is_err());
        let sealed = m.seal(&id, &key, b"entry").unwrap();
        assert!(other.key_of(&sealed).is_err());
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(m.open(&key, &bad).is_err(), "byte {i} flipped");
        }
    }

    #[test]
    fn pseudonyms_and_tags_are_keyed_and_distinct() {
        let (m, other) = (master(), MasterKey::from_bytes(&[9u8; 32]));
        assert_ne!(m.subject("a"), other.subject("a"));
        assert_ne!(m.subject("a"), m.source("a"));
        assert_ne!(m.tag("q:actor:a"), m.tag("q:actor:b"));
        assert!(m.tag("q:actor:a").len() < 32);
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        assert_ne!(
            m.pseudonym(b"t", &[b"ab", b"c"]),
            m.pseudonym(b"t", &[b"a", b"bc"])
        );
        let (a, b) = (m.subject("a"), m.source("a"));
        assert_ne!(m.scope(&a, &b, 1), m.scope(&a, &b, 2));
        assert_ne!(m.scope(&a, &b, 1), m.scope(&b, &a, 1));
    }

    #[test]
    fn master_keys_parse_from_hex_and_either_base64() {
        let text = MasterKey::generate_text().unwrap();
        let a = MasterKey::parse(&text).unwrap();
        let std_b64 = text.replace('-', "+").replace('_', "/") + "=";
        assert_eq!(
            a.subject("x"),
            MasterKey::parse(&std_b64).unwrap().subject("x")
        );
        let hex: String = [7u8; 32].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            MasterKey::parse(&format!(" {hex}\n")).unwrap().tag("t"),
            master().tag("t")
        );
        assert!(MasterKey::parse("c2hvcnQ").is_err());
        assert!(MasterKey::parse("not a key!").is_err());
    }

    #[test]
    fn sealed_parts_prove_the_plaintext_and_nothing_else() {
        let m = master();
        let (id, key, _) = m.new_data_key(&SCOPE, 1).unwrap();
        let sealed = m.seal(&id, &key, b"entry").unwrap();
        let opened = m.open(&key, &sealed).unwrap();
        let parts = SealedParts::new(&sealed, &opened.salt);
        assert_eq!(parts.leaf_data(b"entry").unwrap(), sealed);
        assert!(parts.leaf_data(b"entrx").is_err());
        let mut bad = parts.clone();
        bad.salt_base64 = "AAAA".into();
        assert!(bad.leaf_data(b"entry").is_err());
    }

    /// The fixture the console's verifier (ui/src/verify.js, a second implementation) is
    /// tested on: a sealed entry, its salt and its leaf hash.
    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../ui/test/sealed-entry.json"
    );

    #[test]
    fn the_console_fixture_is_a_valid_opening() {
        use base64::engine::general_purpose::STANDARD;
        let text = std::fs::read_to_string(FIXTURE).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let plaintext = STANDARD
            .decode(v["entry_base64"].as_str().unwrap())
            .unwrap();
        let parts: SealedParts = serde_json::from_value(v["sealed"].clone()).unwrap();
        let record = parts.leaf_data(&plaintext).unwrap();
        let mut leaf = Sha256::new();
        leaf.update([0u8]);
        leaf.update(&record);
        let leaf: [u8; 32] = leaf.finalize().into();
        assert_eq!(v["leaf_hash"].as_str().unwrap(), STANDARD.encode(leaf));
        assert!(parts.leaf_data(b"{\"actor\":\"mallory\"}").is_err());
    }

    /// Writes the fixture: `cargo test -p glasslog-seal -- --ignored write_console_fixture`.
    #[test]
    #[ignore = "regenerates ui/test/sealed-entry.json"]
    fn write_console_fixture() {
        use base64::engine::general_purpose::STANDARD;
        let m = master();
        let (id, key, _) = m.new_data_key(&SCOPE, 1).unwrap();
        let plaintext =
            br#"{"event":{"actor":{"user":{"name":"alice"}}},"received":1,"source":"billing"}"#;
        let sealed = m.seal(&id, &key, plaintext).unwrap();
        let opened = m.open(&key, &sealed).unwrap();
        let mut leaf = Sha256::new();
        leaf.update([0u8]);
        leaf.update(&sealed);
        let leaf: [u8; 32] = leaf.finalize().into();
        let v = serde_json::json!({
            "entry_base64": STANDARD.encode(plaintext),
            "sealed": SealedParts::new(&sealed, &opened.salt),
            "leaf_hash": STANDARD.encode(leaf),
        });
        std::fs::write(FIXTURE, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
    }

    proptest! {
        #[test]
        fn sealing_round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let m = master();
            let (id, key, _) = m.new_data_key(&SCOPE, 1).unwrap();
            let sealed = m.seal(&id, &key, &plaintext).unwrap();
            let opened = m.open(&key, &sealed).unwrap();
            prop_assert_eq!(&opened.plaintext, &plaintext);
            prop_assert!(verify_opening(&sealed, &opened.salt, &plaintext));
        }

        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let m = master();
            let _ = key_meta(&bytes);
            let _ = m.open_key(&[0; 16], &bytes);
            let _ = m.key_of(&bytes);
            let mut sealed = MAGIC.to_vec();
            sealed.extend_from_slice(&bytes);
            let _ = m.key_of(&sealed);
            let _ = verify_opening(&sealed, &[0; 32], b"");
        }
    }
}
