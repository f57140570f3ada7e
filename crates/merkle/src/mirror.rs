//! C2SP tlog-mirror wire formats: the `add-entries` body (header and packages), package
//! ranges, and the `text/x.tlog.mirror-info` body of 202 and 409 answers.
//!
//! Spec: <https://c2sp.org/tlog-mirror> (untagged, HEAD 5ba5ee8, last change d0fe789); restated
//! in `shared/specs/TLOG-STANDARDS.md` §14. A package covers the entries of one 256-entry
//! bundle span that fall inside the upload, and carries the subtree consistency proof from
//! `[rounded start, package end)` to the checkpoint of size `upload_end`.

use crate::hash::Hash;
use crate::tile::TILE_WIDTH;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Proof hashes allowed in one package.
const MAX_PACKAGE_HASHES: usize = 63;

/// Why a tlog-mirror body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MirrorWireError {
    /// The body ends early, or has bytes after what it declares.
    #[error("truncated or overlong body")]
    Length,
    /// The origin is not UTF-8.
    #[error("the origin is not UTF-8")]
    Origin,
    /// `upload_start > upload_end`.
    #[error("the upload starts after it ends")]
    Range,
    /// More than 63 proof hashes in a package.
    #[error("more than {MAX_PACKAGE_HASHES} proof hashes in a package")]
    TooManyHashes,
    /// A mirror-info body is not three newline-terminated lines of decimal, decimal, base64.
    #[error("malformed mirror-info body")]
    MirrorInfo,
    /// An entry over 65535 bytes, or an origin or ticket that does not fit its length field.
    #[error("a field is too long for its length prefix")]
    TooLong,
}

/// The `add-entries` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddEntriesHeader {
    /// The log's origin.
    pub origin: String,
    /// The first entry uploaded.
    pub upload_start: u64,
    /// The size of the pending checkpoint the upload proves against.
    pub upload_end: u64,
    /// The mirror's opaque ticket, or empty.
    pub ticket: Vec<u8>,
}

/// One package of an `add-entries` upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The entries, in order.
    pub entries: Vec<Vec<u8>>,
    /// The subtree consistency proof from `[rounded start, end)` to the checkpoint.
    pub proof: Vec<Hash>,
}

/// The entry ranges of the packages of an upload `[upload_start, upload_end)`, in order: one
/// per 256-entry span, clipped to the upload. Empty when the upload is. Lazy: the range comes
/// from the network and may span 2^64 entries.
pub fn package_ranges(upload_start: u64, upload_end: u64) -> impl Iterator<Item = (u64, u64)> {
    let width = u64::from(TILE_WIDTH);
    let mut at = upload_start;
    std::iter::from_fn(move || {
        if at >= upload_end {
            return None;
        }
        // The next multiple of 256 above `at`, or the end when that would overflow.
        let span_end = (at / width)
            .checked_add(1)
            .and_then(|n| n.checked_mul(width))
            .map_or(upload_end, |e| e.min(upload_end));
        let range = (at, span_end);
        at = span_end;
        Some(range)
    })
}

/// The first entry of the subtree a package's proof starts from: its 256-entry span's start.
pub fn package_subtree_start(package_start: u64) -> u64 {
    package_start - package_start % u64::from(TILE_WIDTH)
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MirrorWireError> {
        if self.bytes.len() < n {
            return Err(MirrorWireError::Length);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, MirrorWireError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<usize, MirrorWireError> {
        let b = self.take(2)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }
    fn u64(&mut self) -> Result<u64, MirrorWireError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    fn opaque16(&mut self) -> Result<&'a [u8], MirrorWireError> {
        let n = self.u16()?;
        self.take(n)
    }
}

fn push_opaque16(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), MirrorWireError> {
    let len = u16::try_from(bytes.len()).map_err(|_| MirrorWireError::TooLong)?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

impl AddEntriesHeader {
    /// Encodes the header.
    pub fn encode(&self) -> Result<Vec<u8>, MirrorWireError> {
        let mut out = Vec::with_capacity(22 + self.origin.len() + self.ticket.len());
        push_opaque16(&mut out, self.origin.as_bytes())?;
        out.extend_from_slice(&self.upload_start.to_be_bytes());
        out.extend_from_slice(&self.upload_end.to_be_bytes());
        push_opaque16(&mut out, &self.ticket)?;
        Ok(out)
    }
}

/// A whole `add-entries` body: the header, then the packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddEntries {
    /// The header.
    pub header: AddEntriesHeader,
    /// The packages, a prefix of the canonical sequence for the header's range.
    pub packages: Vec<Package>,
}

impl AddEntries {
    /// Parses a body. A body may stop after any whole package (clients send a prefix of the
    /// sequence); a package cut short is an error here, and a mirror keeps what came before it.
    pub fn parse(body: &[u8]) -> Result<Self, MirrorWireError> {
        let mut r = Reader { bytes: body };
        let origin = std::str::from_utf8(r.opaque16()?)
            .map_err(|_| MirrorWireError::Origin)?
            .to_owned();
        let upload_start = r.u64()?;
        let upload_end = r.u64()?;
        if upload_start > upload_end {
            return Err(MirrorWireError::Range);
        }
        let ticket = r.opaque16()?.to_vec();
        let mut packages = Vec::new();
        for (start, end) in package_ranges(upload_start, upload_end) {
            if r.bytes.is_empty() {
                break;
            }
            let count = usize::try_from(end - start).map_err(|_| MirrorWireError::Length)?;
            let mut entries = Vec::with_capacity(count);
            for _ in 0..count {
                entries.push(r.opaque16()?.to_vec());
            }
            let hashes = usize::from(r.u8()?);
            if hashes > MAX_PACKAGE_HASHES {
                return Err(MirrorWireError::TooManyHashes);
            }
            let mut proof = Vec::with_capacity(hashes);
            for _ in 0..hashes {
                let h = r.take(32)?;
                proof.push(Hash::from_slice(h).map_err(|_| MirrorWireError::Length)?);
            }
            packages.push(Package { entries, proof });
        }
        if !r.bytes.is_empty() {
            return Err(MirrorWireError::Length);
        }
        Ok(AddEntries {
            header: AddEntriesHeader {
                origin,
                upload_start,
                upload_end,
                ticket,
            },
            packages,
        })
    }

    /// Encodes the body.
    pub fn encode(&self) -> Result<Vec<u8>, MirrorWireError> {
        let mut out = self.header.encode()?;
        for p in &self.packages {
            for e in &p.entries {
                push_opaque16(&mut out, e)?;
            }
            if p.proof.len() > MAX_PACKAGE_HASHES {
                return Err(MirrorWireError::TooManyHashes);
            }
            #[expect(clippy::cast_possible_truncation, reason = "checked to be at most 63")]
            out.push(p.proof.len() as u8);
            for h in &p.proof {
                out.extend_from_slice(&h.0);
            }
        }
        Ok(out)
    }
}

/// The `text/x.tlog.mirror-info` body of a 202 or 409 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorInfo {
    /// A valid pending checkpoint size.
    pub pending_size: u64,
    /// The first entry the mirror lacks.
    pub next_entry: u64,
    /// An opaque ticket to send back, or empty.
    pub ticket: Vec<u8>,
}

impl MirrorInfo {
    /// The body: three lines, each ending in a newline.
    pub fn to_body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.pending_size,
            self.next_entry,
            STANDARD.encode(&self.ticket)
        )
    }

    /// Parses a body. Leading zeros are accepted (azul does, for Go's `ParseUint`); signs are not.
    pub fn parse(body: &str) -> Result<Self, MirrorWireError> {
        let body = body.strip_suffix('\n').ok_or(MirrorWireError::MirrorInfo)?;
        let mut lines = body.split('\n');
        let (Some(size), Some(next), Some(ticket), None) =
            (lines.next(), lines.next(), lines.next(), lines.next())
        else {
            return Err(MirrorWireError::MirrorInfo);
        };
        let number = |s: &str| {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u64>().ok())
                .flatten()
                .ok_or(MirrorWireError::MirrorInfo)
        };
        Ok(MirrorInfo {
            pending_size: number(size)?,
            next_entry: number(next)?,
            ticket: STANDARD
                .decode(ticket)
                .map_err(|_| MirrorWireError::MirrorInfo)?,
        })
    }
}
