//! The log's checkpoint signer: an Ed25519 key, an ML-DSA-44 key, or both at once, so that
//! every checkpoint carries both signature lines during a migration to post-quantum keys.
//!
//! Spec: <https://c2sp.org/tlog-checkpoint> (logs SHOULD sign in the ML-DSA-44 cosignature
//! format, MAY use any type their ecosystem needs) and <https://c2sp.org/tlog-tiles> (a log
//! that talks to the public witness network MUST carry an Ed25519 signature); restated in
//! `shared/specs/TLOG-STANDARDS.md` §6. Only Ed25519 can sign the empty tree: `[0, 0)` is not
//! a subtree, so it has no ML-DSA-44 signature. The size-0 checkpoint carries the Ed25519 line
//! alone, and a log that signs with ML-DSA-44 only has no checkpoint before its first entry.

use glasslog_merkle::{
    Checkpoint, Ed25519Key, LogKey, MlDsaSigner, SignError, Signer, VerifierSet,
};

/// Why the two keys cannot sign together.
#[derive(Debug, thiserror::Error)]
#[error("the ML-DSA-44 key is named {mldsa:?}, but the log's origin is {origin:?}")]
pub struct LogSignerError {
    origin: String,
    mldsa: String,
}

/// The keys that sign the log's checkpoints, all named by its origin: at least one. The
/// Ed25519 key may live in memory or in a token ([`Ed25519Key`]); a token can refuse to sign
/// for a while, and the sequencer then retries (see `sequencer.rs`).
#[derive(Debug)]
pub struct LogSigner {
    origin: String,
    ed25519: Option<Box<dyn Ed25519Key>>,
    mldsa: Option<MlDsaSigner>,
}

impl From<Signer> for LogSigner {
    fn from(ed25519: Signer) -> Self {
        LogSigner {
            origin: ed25519.name().to_owned(),
            ed25519: Some(Box::new(ed25519)),
            mldsa: None,
        }
    }
}

impl LogSigner {
    /// Signs with `ed25519`, and with `mldsa` too when given; both must carry the origin.
    pub fn new(
        ed25519: impl Ed25519Key + 'static,
        mldsa: Option<MlDsaSigner>,
    ) -> Result<Self, LogSignerError> {
        use glasslog_merkle::Verifier as _;
        let origin = ed25519.verifier().name().to_owned();
        if let Some(m) = mldsa.as_ref().filter(|m| m.name() != origin) {
            return Err(LogSignerError {
                origin,
                mldsa: m.name().to_owned(),
            });
        }
        Ok(LogSigner {
            origin,
            ed25519: Some(Box::new(ed25519)),
            mldsa,
        })
    }

    /// Signs with ML-DSA-44 alone: no Ed25519 line, so no checkpoint of the empty tree, and
    /// no cosignatures from witnesses that require Ed25519 (the public witness network).
    pub fn mldsa_only(mldsa: MlDsaSigner) -> Self {
        LogSigner {
            origin: mldsa.name().to_owned(),
            ed25519: None,
            mldsa: Some(mldsa),
        }
    }

    /// The origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier keys of every key, Ed25519 first.
    pub fn keys(&self) -> Vec<LogKey> {
        let mut keys: Vec<LogKey> = self
            .ed25519
            .iter()
            .map(|e| LogKey::Ed25519(e.verifier()))
            .collect();
        keys.extend(self.mldsa.as_ref().map(|m| LogKey::MlDsa44(m.verifier())));
        keys
    }

    /// A verifier set holding every key.
    pub fn verifiers(&self) -> VerifierSet {
        let mut set = VerifierSet::new();
        for k in self.keys() {
            set.add(k);
        }
        set
    }

    /// The signed note of `cp`: the Ed25519 line, then (for a non-empty tree) the ML-DSA-44
    /// line stamped `now` (POSIX seconds). `Ok(None)` when no key can sign it: the empty tree
    /// of an ML-DSA-44-only log. An Ed25519 key that refuses is an error: a note without the
    /// line that witnesses and most clients check is not published.
    pub fn sign_note(&self, cp: &Checkpoint, now: u64) -> Result<Option<String>, SignError> {
        let text = cp.to_text();
        let mut note = match &self.ed25519 {
            Some(e) => format!("{text}\n{}", e.sign_text(&text)?.to_line()),
            None => format!("{text}\n"),
        };
        let mut signed = self.ed25519.is_some();
        if let Some(m) = self.mldsa.as_ref().filter(|_| cp.size > 0) {
            // The origin is at most 255 bytes when the ML-DSA key was made with it as its name,
            // so this cannot fail; if it ever did, the Ed25519 line alone still stands.
            if let Ok(sig) = m.sign_checkpoint(cp, now.max(1)) {
                note.push_str(&sig.to_line());
                signed = true;
            }
        }
        Ok(signed.then_some(note))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glasslog_merkle::{EMPTY_ROOT, Hash, Note};

    #[test]
    fn both_keys_sign_every_tree_but_the_empty_one() {
        let origin = "example.com/log";
        let signer = LogSigner::new(
            Signer::from_seed(origin, [1; 32]).unwrap(),
            Some(MlDsaSigner::from_seed(origin, &[2; 32]).unwrap()),
        )
        .unwrap();
        let set = signer.verifiers();
        let note = signer
            .sign_note(&Checkpoint::new(origin, 5, Hash([9; 32])), 1_700_000_000)
            .unwrap()
            .unwrap();
        let n = Note::open(note.as_bytes(), &set).unwrap();
        assert_eq!(n.verify(&set).unwrap().len(), 2);
        let empty = signer
            .sign_note(&Checkpoint::new(origin, 0, EMPTY_ROOT), 1_700_000_000)
            .unwrap()
            .unwrap();
        assert_eq!(
            Note::open(empty.as_bytes(), &set).unwrap().signatures.len(),
            1
        );
        assert!(
            LogSigner::new(
                Signer::from_seed(origin, [1; 32]).unwrap(),
                Some(MlDsaSigner::from_seed("other", &[2; 32]).unwrap()),
            )
            .is_err()
        );
    }

    #[test]
    fn an_mldsa_only_log_signs_every_tree_but_the_empty_one() {
        let origin = "example.com/log";
        let signer = LogSigner::mldsa_only(MlDsaSigner::from_seed(origin, &[2; 32]).unwrap());
        assert_eq!(signer.origin(), origin);
        assert_eq!(signer.keys().len(), 1);
        let set = signer.verifiers();
        let note = signer
            .sign_note(&Checkpoint::new(origin, 5, Hash([9; 32])), 1_700_000_000)
            .unwrap()
            .unwrap();
        let n = Note::open(note.as_bytes(), &set).unwrap();
        assert_eq!(n.signatures.len(), 1);
        assert!(
            signer
                .sign_note(&Checkpoint::new(origin, 0, EMPTY_ROOT), 1_700_000_000)
                .unwrap()
                .is_none()
        );
    }
}
