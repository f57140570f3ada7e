//! C2SP tlog-policy: which logs, which witnesses, and which quorum of them a checkpoint needs.
//!
//! Spec: <https://c2sp.org/tlog-policy> (untagged, HEAD 5ba5ee8); restated in
//! `shared/specs/TLOG-STANDARDS.md` §13. The parser is strict where transparency-dev/formats is
//! lenient: whole-line comments only, witness keys of a cosignature type (0x04 or 0x06, never a
//! plain 0x01 note key), no key twice under any name, thresholds `1 ≤ k ≤ n`. One leniency: a
//! last line without its newline is read as if it had one.

use crate::checkpoint::Checkpoint;
use crate::note::{KeyError, Note, NoteError, Verifier, VerifierSet, parse_vkey};
use crate::vkeys::{Cosigner, LogKey};

/// More items than this and a policy file is refused; the spec asks for at least 32 logs,
/// 32 witnesses and 32 groups.
const MAX_ITEMS: usize = 4096;

/// Why a policy file was refused, and on which line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy line {line}: {reason}")]
pub struct PolicyError {
    /// The line, counting from 1 (0: the file as a whole).
    pub line: usize,
    /// What is wrong with it.
    pub reason: PolicyErrorKind,
}

/// What is wrong with a policy line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// A byte other than TAB, LF, printable ASCII or a high-bit octet (CR among them).
    #[error("control character {0:#04x}")]
    Character(u8),
    /// The first item is not `log`, `witness`, `group` or `quorum`.
    #[error("unknown keyword")]
    Keyword,
    /// Too few or too many items for the keyword.
    #[error("wrong number of items")]
    Arity,
    /// The verifier key is malformed, or its key ID is not the key's.
    #[error("bad verifier key: {0}")]
    Key(KeyError),
    /// A witness key of a type that is not a cosignature (0x04 or 0x06).
    #[error("a witness key must be a cosignature key (type 0x04 or 0x06)")]
    WitnessKeyType,
    /// A name defined twice, or `none` defined.
    #[error("the name is already defined")]
    DuplicateName,
    /// The same public key twice, under any name or key ID.
    #[error("the same key is listed twice")]
    DuplicateKey,
    /// A member or quorum that is not defined on an earlier line.
    #[error("names something not defined on an earlier line")]
    Undefined,
    /// A group member listed twice, or `none` as a member.
    #[error("a group member is listed twice, or is `none`")]
    Member,
    /// A threshold that is not `all`, `any` or a decimal `1 ≤ k ≤ n`.
    #[error("the threshold must be all, any, or a number from 1 to the member count")]
    Threshold,
    /// No `quorum` line, or more than one.
    #[error("a policy has exactly one quorum line")]
    Quorum,
    /// More items than this implementation accepts.
    #[error("more than {MAX_ITEMS} items")]
    TooLarge,
}

/// Why a checkpoint does not meet a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyRejection {
    /// The note is malformed, or a known key's signature on it fails.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The note text is not a checkpoint.
    #[error("the note is not a checkpoint")]
    Checkpoint,
    /// No listed log for the checkpoint's origin signed it.
    #[error("no trusted log key for {0:?} signed the checkpoint")]
    NoLogSignature(String),
    /// The quorum is not met.
    #[error("the checkpoint is not witnessed by the policy's quorum")]
    Unwitnessed,
}

struct LogLine {
    verifier: LogKey,
    url: Option<String>,
}

impl std::fmt::Debug for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLine")
            .field("vkey", &self.verifier.vkey())
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
enum Item {
    Witness {
        name: Vec<u8>,
        cosigner: Box<Cosigner>,
    },
    Group {
        name: Vec<u8>,
        threshold: usize,
        members: Vec<usize>,
    },
}

impl Item {
    fn name(&self) -> &[u8] {
        match self {
            Item::Witness { name, .. } | Item::Group { name, .. } => name,
        }
    }
}

/// A parsed tlog-policy file.
#[derive(Debug)]
pub struct Policy {
    logs: Vec<LogLine>,
    items: Vec<Item>,
    /// The quorum item; `None` for `quorum none`.
    quorum: Option<usize>,
}

/// A checkpoint that met a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The note, with every signature line as it came.
    pub note: Note,
    /// The policy's witnesses whose cosignatures verified, by the key name in their line, with
    /// the timestamp each signed.
    pub cosigned: Vec<(String, u64)>,
}

fn items(line: &[u8]) -> Vec<&[u8]> {
    line.split(|&b| b == b' ' || b == b'\t')
        .filter(|t| !t.is_empty())
        .collect()
}

fn text(token: &[u8]) -> Result<&str, PolicyErrorKind> {
    std::str::from_utf8(token).map_err(|_| PolicyErrorKind::Key(KeyError::Malformed))
}

fn url(token: Option<&&[u8]>) -> Result<Option<String>, PolicyErrorKind> {
    token.map(|t| text(t).map(str::to_owned)).transpose()
}

/// The raw public key of a vkey, without its type byte: what "the same key" compares.
fn raw_key(vkey: &str) -> Vec<u8> {
    parse_vkey(vkey)
        .map(|(_, _, key)| key[1..].to_vec())
        .unwrap_or_default()
}

impl Policy {
    /// Parses a policy file.
    pub fn parse(file: &[u8]) -> Result<Self, PolicyError> {
        let mut policy = Policy {
            logs: Vec::new(),
            items: Vec::new(),
            quorum: None,
        };
        let mut log_keys: Vec<Vec<u8>> = Vec::new();
        let mut witness_keys: Vec<Vec<u8>> = Vec::new();
        let mut quorum_lines = 0;
        let body = file.strip_suffix(b"\n").unwrap_or(file);
        for (n, line) in body.split(|&b| b == b'\n').enumerate() {
            let fail = |reason| PolicyError {
                line: n + 1,
                reason,
            };
            if let Some(&bad) = line
                .iter()
                .find(|&&b| b != b'\t' && (b < 0x20 || b == 0x7f))
            {
                return Err(fail(PolicyErrorKind::Character(bad)));
            }
            let toks = items(line);
            let Some((&keyword, args)) = toks.split_first() else {
                continue;
            };
            if keyword.starts_with(b"#") {
                continue;
            }
            if policy.logs.len() + policy.items.len() >= MAX_ITEMS {
                return Err(fail(PolicyErrorKind::TooLarge));
            }
            match keyword {
                b"log" => {
                    let (vkey, rest) = args.split_first().ok_or(fail(PolicyErrorKind::Arity))?;
                    if rest.len() > 1 {
                        return Err(fail(PolicyErrorKind::Arity));
                    }
                    let vkey = text(vkey).map_err(fail)?;
                    let verifier =
                        LogKey::from_vkey(vkey).map_err(|e| fail(PolicyErrorKind::Key(e)))?;
                    let key = raw_key(vkey);
                    if log_keys.contains(&key) {
                        return Err(fail(PolicyErrorKind::DuplicateKey));
                    }
                    log_keys.push(key);
                    policy.logs.push(LogLine {
                        verifier,
                        url: url(rest.first()).map_err(fail)?,
                    });
                }
                b"witness" => {
                    let [name, vkey, rest @ ..] = args else {
                        return Err(fail(PolicyErrorKind::Arity));
                    };
                    if rest.len() > 1 {
                        return Err(fail(PolicyErrorKind::Arity));
                    }
                    policy.check_new_name(name).map_err(fail)?;
                    let vkey = text(vkey).map_err(fail)?;
                    let cosigner = Cosigner::from_vkey(vkey).map_err(|e| {
                        fail(match e {
                            KeyError::UnsupportedType(_) => PolicyErrorKind::WitnessKeyType,
                            e => PolicyErrorKind::Key(e),
                        })
                    })?;
                    let key = raw_key(vkey);
                    if witness_keys.contains(&key) {
                        return Err(fail(PolicyErrorKind::DuplicateKey));
                    }
                    witness_keys.push(key);
                    // The URL is for online use only (a submission prefix); offline
                    // verification needs the key, so it is checked and not kept.
                    url(rest.first()).map_err(fail)?;
                    policy.items.push(Item::Witness {
                        name: name.to_vec(),
                        cosigner: Box::new(cosigner),
                    });
                }
                b"group" => {
                    let [name, threshold, members @ ..] = args else {
                        return Err(fail(PolicyErrorKind::Arity));
                    };
                    policy.check_new_name(name).map_err(fail)?;
                    if members.is_empty() {
                        return Err(fail(PolicyErrorKind::Arity));
                    }
                    let mut ids = Vec::with_capacity(members.len());
                    for m in members {
                        if *m == b"none" {
                            return Err(fail(PolicyErrorKind::Member));
                        }
                        let id = policy.find(m).ok_or(fail(PolicyErrorKind::Undefined))?;
                        if ids.contains(&id) {
                            return Err(fail(PolicyErrorKind::Member));
                        }
                        ids.push(id);
                    }
                    let threshold = match *threshold {
                        b"all" => ids.len(),
                        b"any" => 1,
                        k => crate::checkpoint::parse_decimal(text(k).map_err(fail)?)
                            .and_then(|k| usize::try_from(k).ok())
                            .filter(|&k| (1..=ids.len()).contains(&k))
                            .ok_or(fail(PolicyErrorKind::Threshold))?,
                    };
                    policy.items.push(Item::Group {
                        name: name.to_vec(),
                        threshold,
                        members: ids,
                    });
                }
                b"quorum" => {
                    let [name] = args else {
                        return Err(fail(PolicyErrorKind::Arity));
                    };
                    quorum_lines += 1;
                    if quorum_lines > 1 {
                        return Err(fail(PolicyErrorKind::Quorum));
                    }
                    policy.quorum = match *name {
                        b"none" => None,
                        name => Some(policy.find(name).ok_or(fail(PolicyErrorKind::Undefined))?),
                    };
                }
                _ => return Err(fail(PolicyErrorKind::Keyword)),
            }
        }
        if quorum_lines != 1 {
            return Err(PolicyError {
                line: 0,
                reason: PolicyErrorKind::Quorum,
            });
        }
        Ok(policy)
    }

    fn check_new_name(&self, name: &[u8]) -> Result<(), PolicyErrorKind> {
        if name == b"none" || self.find(name).is_some() {
            return Err(PolicyErrorKind::DuplicateName);
        }
        Ok(())
    }

    fn find(&self, name: &[u8]) -> Option<usize> {
        self.items.iter().position(|i| i.name() == name)
    }

    /// Whether the quorum needs any witness (`quorum none` does not).
    pub fn needs_witnesses(&self) -> bool {
        self.quorum.is_some()
    }

    /// The verifier keys of every witness the policy names.
    pub fn witness_vkeys(&self) -> Vec<String> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Witness { cosigner, .. } => Some(cosigner.vkey()),
                Item::Group { .. } => None,
            })
            .collect()
    }

    /// Whether the policy lists any log (a policy may leave the log to the application).
    pub fn has_logs(&self) -> bool {
        !self.logs.is_empty()
    }

    /// The listed logs' verifier keys, with their URLs.
    pub fn logs(&self) -> impl Iterator<Item = (&LogKey, Option<&str>)> {
        self.logs.iter().map(|l| (&l.verifier, l.url.as_deref()))
    }

    /// Checks a checkpoint note against the policy: a listed log for its origin (or one of
    /// `extra_logs`, the application's own keys, when the policy lists none) signed it, and
    /// the quorum witnessed it. A trusted key whose line fails to verify rejects the note.
    pub fn check(
        &self,
        note: &[u8],
        extra_logs: &VerifierSet,
    ) -> Result<Accepted, PolicyRejection> {
        let note = Note::parse(note)?;
        let checkpoint = Checkpoint::parse(&note.text).map_err(|_| PolicyRejection::Checkpoint)?;
        let mut logged = false;
        let mut witnessed = vec![false; self.items.len()];
        let mut cosigned = Vec::new();
        for sig in &note.signatures {
            let log = self
                .logs
                .iter()
                .map(|l| &l.verifier as &dyn Verifier)
                .chain(extra_logs.find(&sig.name, sig.key_id))
                .find(|v| v.name() == sig.name && v.key_id() == sig.key_id);
            if let Some(log) = log {
                if !log.verify(note.text.as_bytes(), &sig.signature) {
                    return Err(NoteError::BadSignature(sig.name.clone()).into());
                }
                logged |= sig.name == checkpoint.origin;
            }
            for (i, item) in self.items.iter().enumerate() {
                let Item::Witness { cosigner, .. } = item else {
                    continue;
                };
                if cosigner.name() != sig.name || cosigner.key_id() != sig.key_id {
                    continue;
                }
                let Some(ts) = cosigner.verified_timestamp(note.text.as_bytes(), &sig.signature)
                else {
                    return Err(NoteError::BadSignature(sig.name.clone()).into());
                };
                if !witnessed[i] {
                    witnessed[i] = true;
                    cosigned.push((sig.name.clone(), ts));
                }
            }
        }
        if !logged {
            return Err(PolicyRejection::NoLogSignature(checkpoint.origin));
        }
        // Members are defined on earlier lines, so one pass in file order decides every group.
        for i in 0..self.items.len() {
            if let Item::Group {
                threshold, members, ..
            } = &self.items[i]
            {
                let met = members.iter().filter(|&&m| witnessed[m]).count();
                witnessed[i] = met >= *threshold;
            }
        }
        if self.quorum.is_some_and(|q| !witnessed[q]) {
            return Err(PolicyRejection::Unwitnessed);
        }
        Ok(Accepted {
            checkpoint,
            note,
            cosigned,
        })
    }
}
