//! Data protection in the server: the master key, each entry's subject, erasure, legal holds
//! and retention, every step recorded in the log itself.
//!
//! Holds live in the log (entries tagged [`HOLD_TAG`]) and are folded from it when needed,
//! so every front-end and every restart sees the same holds, and placing or lifting one is on
//! the record. Erasure and retention destroy data keys (`Log::erase`); what was destroyed is
//! named by keyed pseudonyms, never by the subject's name, so the record of an erasure does
//! not itself keep the personal data it erased.

use crate::clock::now_ms;
use crate::config::{EncryptionSettings, RetentionSettings, SubjectScope};
use glasslog_ingest::{Body, Sanitizer};
use glasslog_log::seal::{KeyMeta, MasterKey, Pseudonym};
use glasslog_log::{Identity, Log, LogError, NewEntry, Subject};
use serde_json::{Value, json};
use std::path::Path;

/// The source of the server's own records (break-glass, administration, holds, erasures,
/// retention runs). Their keys are per epoch only, and only a retention period that names
/// this source expires them.
pub const SYSTEM_SOURCE: &str = "glasslog";
/// The tag of hold records.
pub const HOLD_TAG: &str = "glasslog:hold";
/// The tag of erasure and retention records.
pub const ERASURE_TAG: &str = "glasslog:erasure";
const MS_PER_DAY: u64 = 86_400_000;

/// Why the master key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// Neither a file nor a variable was named.
    #[error("[encryption] needs master_key_file or master_key_env")]
    Missing,
    /// The file is unsafe or unreadable.
    #[error("master key file {path}: {reason}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The variable is not set.
    #[error("the environment variable {0} holding the master key is not set")]
    Env(String),
    /// The text is not a key.
    #[error(transparent)]
    Parse(#[from] glasslog_log::seal::SealError),
}

/// Loads the master key: from an owner-only file outside the data directory (a key kept
/// beside the data it protects protects nothing against whoever copies the directory), or
/// from an environment variable.
pub fn load_master_key(
    settings: &EncryptionSettings,
    data_dir: &Path,
) -> Result<MasterKey, MasterKeyError> {
    if let Some(path) = &settings.master_key_file {
        let file = |reason: String| MasterKeyError::File {
            path: path.clone(),
            reason,
        };
        let abs = std::fs::canonicalize(path).map_err(|e| file(e.to_string()))?;
        if let Ok(data) = std::fs::canonicalize(data_dir)
            && abs.starts_with(&data)
        {
            return Err(file(
                "it is inside the data directory; keep the master key apart from the data".into(),
            ));
        }
        crate::secret_file::owner_only(&abs).map_err(|e| file(e.to_string()))?;
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(&abs).map_err(|e| file(e.to_string()))?,
        );
        return Ok(MasterKey::parse(&text)?);
    }
    if let Some(var) = &settings.master_key_env {
        let text = zeroize::Zeroizing::new(
            std::env::var(var).map_err(|_| MasterKeyError::Env(var.clone()))?,
        );
        return Ok(MasterKey::parse(&text)?);
    }
    Err(MasterKeyError::Missing)
}

/// The subject a submitted entry is sealed under.
pub fn subject_for(
    scope: SubjectScope,
    source: &str,
    actor_subject: Option<&str>,
    received_ms: u64,
) -> Option<Subject> {
    let subject = match scope {
        SubjectScope::Actor => actor_subject.unwrap_or_default().to_owned(),
        SubjectScope::Source => format!("source:{source}"),
        SubjectScope::None => String::new(),
    };
    Some(Subject {
        subject,
        source: source.to_owned(),
        received_ms,
    })
}

/// The subject of the server's own records.
pub fn system_subject() -> Option<Subject> {
    Some(Subject {
        subject: String::new(),
        source: SYSTEM_SOURCE.to_owned(),
        received_ms: now_ms(),
    })
}

/// A pseudonym as records and answers show it.
pub fn pseudonym_hex(p: &Pseudonym) -> String {
    p.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_pseudonym(hex: &str) -> Option<Pseudonym> {
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A legal hold in force: retention and erasure leave the keys it covers alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hold {
    /// The index of the record that placed it, which is its id.
    pub id: u64,
    /// The subject it covers (all subjects when `None`).
    pub subject: Option<Pseudonym>,
    /// The source it covers (all sources when `None`).
    pub source: Option<Pseudonym>,
    /// Why, as given.
    pub reason: String,
}

impl Hold {
    /// Whether the hold covers a key.
    pub fn covers(&self, key: &KeyMeta) -> bool {
        self.subject.is_none_or(|s| s == key.subject) && self.source.is_none_or(|s| s == key.source)
    }

    /// The hold as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "subject_pseudonym": self.subject.as_ref().map(pseudonym_hex),
            "source_pseudonym": self.source.as_ref().map(pseudonym_hex),
            "reason": self.reason,
        })
    }
}

/// The holds in force: every placed hold not released since, folded from the log. Blocks on
/// storage.
pub fn holds(log: &Log) -> Result<Vec<Hold>, LogError> {
    let mut placed: Vec<Hold> = Vec::new();
    let mut from = 0;
    loop {
        let page = log.tagged(HOLD_TAG, from, 1024)?;
        let Some(&last) = page.last() else { break };
        from = last + 1;
        for i in page {
            let bytes = match log.entry(i) {
                Ok(b) => b,
                // Only retention naming the server's own source can erase these.
                Err(LogError::Erased(_)) => continue,
                Err(e) => return Err(e),
            };
            let Ok(stored) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            let Some(h) = stored.pointer("/event/unmapped/details/hold") else {
                continue;
            };
            let text = |k: &str| h.get(k).and_then(Value::as_str);
            match text("op") {
                Some("place") => placed.push(Hold {
                    id: i,
                    subject: text("subject").and_then(parse_pseudonym),
                    source: text("source").and_then(parse_pseudonym),
                    reason: text("reason").unwrap_or_default().to_owned(),
                }),
                Some("release") => {
                    let id = h.get("id").and_then(Value::as_u64);
                    placed.retain(|p| Some(p.id) != id);
                }
                _ => {}
            }
        }
    }
    Ok(placed)
}

/// The search terms of every readable entry of an actor subject (`actor:<name>`), by index,
/// found through the actor's own term; empty for other subjects or when nothing was indexed.
/// Blocks on storage.
pub fn subject_terms(log: &Log, subject: &str) -> Result<Vec<(u64, Vec<String>)>, LogError> {
    use glasslog_ingest::index;
    let Some(actor) = subject.strip_prefix("actor:") else {
        return Ok(Vec::new());
    };
    let term = index::term(index::Field::Actor, actor);
    let mut out = Vec::new();
    let mut from = 0;
    loop {
        let page = log.tagged(&term, from, 1024)?;
        let Some(&last) = page.last() else { break };
        from = last + 1;
        for i in page {
            match log.entry(i) {
                Ok(bytes) => out.push((i, index::terms(&bytes))),
                Err(LogError::Erased(_)) => {}
                // Not checkpointed yet: the next erasure of this subject finds it.
                Err(LogError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(out)
}

/// Appends one of the server's own records, sanitized like any entry, and returns its index.
pub async fn record(
    log: &Log,
    sanitizer: &std::sync::Arc<Sanitizer>,
    event: Value,
    tags: Vec<String>,
) -> Result<u64, crate::problem::Problem> {
    let sanitizer = std::sync::Arc::clone(sanitizer);
    let s = tokio::task::spawn_blocking(move || {
        sanitizer.sanitize(SYSTEM_SOURCE, Body::Event(event), now_ms())
    })
    .await
    .map_err(|_| crate::problem::Problem::unavailable("worker failed"))?
    .map_err(crate::problem::ingest_problem)?;
    let appended = log
        .append(vec![NewEntry {
            data: s.encoded.bytes,
            identity: Identity::Unique,
            tags,
            subject: system_subject(),
        }])
        .await
        .map_err(crate::problem::log_problem)?;
    appended
        .first()
        .map(|a| a.index)
        .ok_or_else(|| crate::problem::Problem::unavailable("the record was not appended"))
}

/// What one retention pass found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionPass {
    /// Keys past their source's period, destroyed now.
    pub expired: usize,
    /// Keys past their period that a hold keeps.
    pub held: usize,
}

/// Whether retention expires a key at `now_ms`: its source has a period, and the key's epoch
/// ended longer than that ago.
pub fn expires(
    settings: &RetentionSettings,
    log: &Log,
    names: &[(Pseudonym, u32)],
    key: &KeyMeta,
    now_ms: u64,
) -> bool {
    let Some(master) = log.master_key() else {
        return false;
    };
    let days = match names.iter().find(|(p, _)| *p == key.source) {
        Some((_, d)) => Some(*d),
        // The server's own records (break-glass sessions, holds, erasures) expire only when
        // a period names their source: the default is for submitted entries.
        None if key.source == master.source(SYSTEM_SOURCE) => None,
        None => settings.default_days,
    };
    let (Some(days), Some(end)) = (days, log.epoch_end_ms(key.epoch)) else {
        return false;
    };
    end.saturating_add(u64::from(days).saturating_mul(MS_PER_DAY)) <= now_ms
}

/// One retention pass at `now_ms`: destroys every expired key no hold covers. Blocks on
/// storage.
pub fn retention_pass(
    log: &Log,
    settings: &RetentionSettings,
    holds: &[Hold],
    now_ms: u64,
) -> Result<RetentionPass, LogError> {
    let Some(master) = log.master_key() else {
        return Err(LogError::NotSealed);
    };
    let names: Vec<(Pseudonym, u32)> = settings
        .sources
        .iter()
        .map(|(s, d)| (master.source(s), *d))
        .collect();
    let held = std::sync::atomic::AtomicUsize::new(0);
    let erased = log.erase(&|k| {
        if k.erased_ms.is_some() || !expires(settings, log, &names, k, now_ms) {
            return false;
        }
        if holds.iter().any(|h| h.covers(k)) {
            held.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return false;
        }
        true
    })?;
    Ok(RetentionPass {
        expired: erased.keys,
        held: held.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use glasslog_log::{LogConfig, MemoryStore, Sealing};
    use std::sync::Arc;

    fn log() -> Log {
        let signer = glasslog_merkle::Signer::from_seed("test/retention", [1; 32]).unwrap();
        let config = LogConfig {
            sealing: Some(Sealing {
                master: Arc::new(MasterKey::from_bytes(&[5; 32])),
                epoch_days: 7,
            }),
            ..LogConfig::default()
        };
        Log::open(Arc::new(MemoryStore::new()), signer, config).unwrap()
    }

    fn entry(source: &str, actor: &str, day: u64) -> NewEntry {
        NewEntry {
            data: format!("{{\"source\":\"{source}\",\"actor\":\"{actor}\",\"day\":{day}}}")
                .into_bytes(),
            identity: Identity::Unique,
            tags: Vec::new(),
            subject: subject_for(
                SubjectScope::Actor,
                source,
                Some(&format!("actor:{actor}")),
                day * MS_PER_DAY,
            ),
        }
    }

    #[test]
    fn retention_destroys_expired_epochs_per_source_and_spares_holds() {
        let log = log();
        // Days 700 and 800 (epochs 100 and 114 of 7 days), for two sources and the server.
        let entries = vec![
            entry("billing", "alice", 700),
            entry("billing", "bob", 700),
            entry("billing", "alice", 800),
            entry("auth", "alice", 700),
            entry("other", "carol", 700),
            entry(SYSTEM_SOURCE, "", 700),
        ];
        log.append_blocking(entries).unwrap();
        let settings = RetentionSettings {
            sources: [("billing".to_owned(), 30), ("auth".to_owned(), 1000)].into(),
            default_days: Some(60),
            interval_secs: 60,
        };
        let master = log.master_key().unwrap();
        let hold = Hold {
            id: 1,
            subject: Some(master.subject("actor:bob")),
            source: None,
            reason: "litigation".into(),
        };
        // Day 790: billing's epoch 100 (ended day 707) is 83 days old, past 30; auth keeps
        // 1000 days; carol's source has the default, 60, also past; the server's own record
        // has no period; bob is held.
        let pass = retention_pass(&log, &settings, &[hold], 790 * MS_PER_DAY).unwrap();
        assert_eq!(
            pass,
            RetentionPass {
                expired: 2,
                held: 1
            }
        );
        let readable: Vec<bool> = (0..6).map(|i| log.entry(i).is_ok()).collect();
        assert_eq!(readable, [false, true, true, true, false, true]);
        // Nothing expires twice, and the tree never changed.
        let again = retention_pass(&log, &settings, &[], 790 * MS_PER_DAY).unwrap();
        assert_eq!(
            again,
            RetentionPass {
                expired: 1,
                held: 0
            },
            "bob, unheld"
        );
        log.verify().unwrap();
        // The day-800 epoch (114, ending day 805) expires 30 days after it ends.
        assert_eq!(
            retention_pass(&log, &settings, &[], 834 * MS_PER_DAY)
                .unwrap()
                .expired,
            0
        );
        assert_eq!(
            retention_pass(&log, &settings, &[], 835 * MS_PER_DAY)
                .unwrap()
                .expired,
            1
        );
        assert!(log.entry(2).is_err());
    }

    #[test]
    fn a_hold_covers_by_subject_source_or_both() {
        let m = MasterKey::from_bytes(&[5; 32]);
        let key = |subject: &str, source: &str| KeyMeta {
            subject: m.subject(subject),
            source: m.source(source),
            epoch: 1,
            created_ms: 0,
            erased_ms: None,
        };
        let hold = |subject: Option<&str>, source: Option<&str>| Hold {
            id: 0,
            subject: subject.map(|s| m.subject(s)),
            source: source.map(|s| m.source(s)),
            reason: String::new(),
        };
        let k = key("actor:alice", "billing");
        assert!(hold(Some("actor:alice"), None).covers(&k));
        assert!(hold(None, Some("billing")).covers(&k));
        assert!(hold(Some("actor:alice"), Some("billing")).covers(&k));
        assert!(!hold(Some("actor:alice"), Some("auth")).covers(&k));
        assert!(!hold(Some("actor:bob"), None).covers(&k));
        assert_eq!(
            parse_pseudonym(&pseudonym_hex(&m.subject("x"))),
            Some(m.subject("x"))
        );
        assert_eq!(parse_pseudonym("zz"), None);
    }
}
