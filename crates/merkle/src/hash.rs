//! RFC 6962 §2.1 hashing: the leaf and node prefixes that keep leaves and nodes apart.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use std::fmt;

/// Bytes in a SHA-256 hash.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 hash: a leaf hash, an interior node, or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; HASH_SIZE]);

/// The root of the empty tree, `SHA-256("")`.
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// Why bytes or text could not be read as a [`Hash`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The decoded value is not 32 bytes long.
    #[error("a hash is 32 bytes, got {0}")]
    Length(usize),
    /// The text is not standard padded base64.
    #[error("a hash must be standard padded base64")]
    Base64,
    /// The text is not lowercase or uppercase hexadecimal.
    #[error("a hash must be 64 hexadecimal digits")]
    Hex,
}

impl Hash {
    /// Reads a hash from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, HashError> {
        <[u8; HASH_SIZE]>::try_from(bytes)
            .map(Hash)
            .map_err(|_| HashError::Length(bytes.len()))
    }

    /// Reads a hash from standard padded base64 (the encoding of checkpoints and proofs).
    pub fn from_base64(text: &str) -> Result<Self, HashError> {
        // A 32-byte value is always 44 characters; checking first bounds the decode's work.
        if text.len() != 44 {
            return Err(HashError::Base64);
        }
        let bytes = STANDARD.decode(text).map_err(|_| HashError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// Reads a hash from 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Result<Self, HashError> {
        let bytes = text.as_bytes();
        if bytes.len() != 2 * HASH_SIZE {
            return Err(HashError::Hex);
        }
        let mut out = [0u8; HASH_SIZE];
        for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let hi = hex_digit(pair[0]).ok_or(HashError::Hex)?;
            let lo = hex_digit(pair[1]).ok_or(HashError::Hex)?;
            *o = (hi << 4) | lo;
        }
        Ok(Hash(out))
    }

    /// Standard padded base64, as used in checkpoints, tiles' neighbours and JSON proofs.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Lowercase hexadecimal.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(2 * HASH_SIZE);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        s
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; HASH_SIZE] {
        &self.0
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The hash of a leaf: `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    Hash(h.finalize().into())
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    hash_children(&left.0, &right.0)
}

/// [`node_hash`] over children of any length; RFC 6962's known answers use short strings.
pub fn hash_children(left: &[u8], right: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    Hash(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, Hash(Sha256::digest(b"").into()));
    }

    #[test]
    fn text_round_trips_and_rejects_wrong_lengths() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_base64(&h.to_base64()), Ok(h));
        assert_eq!(Hash::from_hex(&h.to_hex()), Ok(h));
        assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()), Ok(h));
        assert_eq!(Hash::from_slice(&[0; 31]), Err(HashError::Length(31)));
        assert_eq!(Hash::from_base64("AAAA"), Err(HashError::Base64));
        assert_eq!(Hash::from_hex(&"g".repeat(64)), Err(HashError::Hex));
    }
}
