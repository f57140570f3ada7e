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
    Checkpoint, Ed25519Key, Ed25519Verifier, LogKey, MlDsaSigner, SignError, Signer, Verifier as _,
    VerifierSet,
};

/// Why the keys cannot sign together: each must carry the log's origin, and a previous key
/// must be another key.
#[derive(Debug, thiserror::Error)]
#[error("the {role} key is named {found:?}, but the log's origin is {origin:?}")]
pub struct LogSignerError {
    origin: String,
    role: &'static str,
    found: String,
}

/// The keys that sign the log's checkpoints, all named by its origin: at least one. The
/// Ed25519 key may live in memory or in a token ([`Ed25519Key`]); a token can refuse to sign
/// for a while, and the sequencer then retries (see `sequencer.rs`).
///
/// A key rotation: the previous Ed25519 key signs beside the new one until `until` (POSIX
/// seconds), so clients that know only the old key keep verifying while they learn the new
/// one; after that it only verifies. Retired keys signed earlier checkpoints and verify them.
#[derive(Debug)]
pub struct LogSigner {
    origin: String,
    ed25519: Option<Box<dyn Ed25519Key>>,
    mldsa: Option<MlDsaSigner>,
    previous: Option<(Box<dyn Ed25519Key>, u64)>,
    retired: Vec<Ed25519Verifier>,
}

impl From<Signer> for LogSigner {
    fn from(ed25519: Signer) -> Self {
        LogSigner {
            origin: ed25519.name().to_owned(),
            ed25519: Some(Box::new(ed25519)),
            mldsa: None,
            previous: None,
            retired: Vec::new(),
        }
    }
}

impl LogSigner {
    /// Signs with `ed25519`, and with `mldsa` too when given; both must carry the origin.
    pub fn new(
        ed25519: impl Ed25519Key + 'static,
        mldsa: Option<MlDsaSigner>,
    ) -> Result<Self, LogSignerError> {
        let origin = ed25519.verifier().name().to_owned();
        if let Some(m) = mldsa.as_ref().filter(|m| m.name() != origin) {
            return Err(LogSignerError {
                origin,
                role: "ML-DSA-44",
                found: m.name().to_owned(),
            });
        }
        Ok(LogSigner {
            origin,
            ed25519: Some(Box::new(ed25519)),
            mldsa,
            previous: None,
            retired: Vec::new(),
        })
    }

    /// Signs with ML-DSA-44 alone: no Ed25519 line, so no checkpoint of the empty tree, and
    /// no cosignatures from witnesses that require Ed25519 (the public witness network).
    pub fn mldsa_only(mldsa: MlDsaSigner) -> Self {
        LogSigner {
            origin: mldsa.name().to_owned(),
            ed25519: None,
            mldsa: Some(mldsa),
            previous: None,
            retired: Vec::new(),
        }
    }

    /// Rotates from `previous`: it signs every checkpoint beside the current key until `until`
    /// (POSIX seconds), and verifies the ones it signed for good.
    pub fn with_previous(
        mut self,
        previous: impl Ed25519Key + 'static,
        until: u64,
    ) -> Result<Self, LogSignerError> {
        let v = previous.verifier();
        self.check_name("previous", v.name())?;
        if self
            .ed25519
            .as_ref()
            .is_some_and(|e| e.verifier().public_key() == v.public_key())
        {
            return Err(LogSignerError {
                origin: self.origin.clone(),
                role: "previous (it is the current key)",
                found: v.name().to_owned(),
            });
        }
        self.previous = Some((Box::new(previous), until));
        Ok(self)
    }

    /// Keys that signed earlier checkpoints and sign no more: they verify stored history.
    pub fn with_retired(mut self, retired: Vec<Ed25519Verifier>) -> Result<Self, LogSignerError> {
        for v in &retired {
            self.check_name("retired", v.name())?;
        }
        self.retired = retired;
        Ok(self)
    }

    fn check_name(&self, role: &'static str, name: &str) -> Result<(), LogSignerError> {
        if name == self.origin {
            Ok(())
        } else {
            Err(LogSignerError {
                origin: self.origin.clone(),
                role,
                found: name.to_owned(),
            })
        }
    }

    /// The previous key of a rotation and the POSIX second its co-signing ends, if any.
    pub fn previous(&self) -> Option<(Ed25519Verifier, u64)> {
        self.previous
            .as_ref()
            .map(|(k, until)| (k.verifier(), *until))
    }

    /// The retired keys.
    pub fn retired(&self) -> &[Ed25519Verifier] {
        &self.retired
    }

    /// Every key that signed or signs a stored checkpoint: the current ones, the previous and
    /// the retired ones.
    pub fn history_keys(&self) -> Vec<LogKey> {
        let mut keys = self.keys();
        keys.extend(self.previous().map(|(v, _)| LogKey::Ed25519(v)));
        keys.extend(self.retired.iter().cloned().map(LogKey::Ed25519));
        keys
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

    /// A verifier set holding every key that signed or signs a checkpoint of this log.
    pub fn verifiers(&self) -> VerifierSet {
        let mut set = VerifierSet::new();
        for k in self.history_keys() {
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
        if let Some((key, until)) = self.previous.as_ref().filter(|(_, until)| now < *until) {
            // The new key's line already stands: an old key that cannot sign costs clients
            // that know only it one checkpoint, and is not a reason to publish none.
            match key.sign_text(&text) {
                Ok(sig) => {
                    note.push_str(&sig.to_line());
                    signed = true;
                }
                Err(e) => {
                    tracing::warn!(error = %e, until, "the previous checkpoint key did not sign");
                }
            }
        }
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
    fn a_previous_key_cosigns_until_its_overlap_ends_then_only_verifies() {
        let origin = "example.com/log";
        let old = Signer::from_seed(origin, [1; 32]).unwrap();
        let new = Signer::from_seed(origin, [3; 32]).unwrap();
        let retired = Signer::from_seed(origin, [5; 32]).unwrap();
        let signer = LogSigner::new(new.clone(), None)
            .unwrap()
            .with_previous(old.clone(), 1_700_000_100)
            .unwrap()
            .with_retired(vec![retired.verifier()])
            .unwrap();
        let cp = Checkpoint::new(origin, 5, Hash([9; 32]));
        let during = signer.sign_note(&cp, 1_700_000_000).unwrap().unwrap();
        for key in [&old, &new] {
            let alone = VerifierSet::from_vkeys([key.vkey().as_str()]).unwrap();
            let n = Note::open(during.as_bytes(), &alone).unwrap();
            assert_eq!(n.signatures.len(), 2, "both lines, each verifying alone");
        }
        let after = signer.sign_note(&cp, 1_700_000_100).unwrap().unwrap();
        let n = Note::open(after.as_bytes(), &signer.verifiers()).unwrap();
        assert_eq!(n.signatures.len(), 1);
        let old_only = VerifierSet::from_vkeys([old.vkey().as_str()]).unwrap();
        assert!(Note::open(after.as_bytes(), &old_only).is_err());
        // History verifies under the previous and the retired keys; the published key is new.
        assert_eq!(signer.history_keys().len(), 3);
        assert_eq!(signer.keys().len(), 1);
        let note = format!(
            "{}\n{}",
            cp.to_text(),
            retired.sign(&cp.to_text()).to_line()
        );
        assert!(Note::open(note.as_bytes(), &signer.verifiers()).is_ok());
        // The same key twice, or another origin's key, is refused.
        assert!(LogSigner::from(new.clone()).with_previous(new, 1).is_err());
        let stranger = Signer::from_seed("other.example/log", [7; 32]).unwrap();
        assert!(LogSigner::from(old).with_previous(stranger, 1).is_err());
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
