//! A sealed log's data keys: sealing at sequencing, opening at reads, erasure by subject.
//!
//! The formats and the key hierarchy are `glasslog_seal`'s; this module keeps the keys in the
//! [`Store`]'s key table and in a cache. A key made for a batch is written in that batch's
//! commit and cached only after the commit succeeded, so no entry is ever durable without its
//! key, and a failed commit leaves no key in memory that storage does not have.

use crate::error::{LogError, StoreError};
use crate::store::{KeyId, NewKey, Store};
use glasslog_seal::{DataKey, KeyState, MasterKey, Opened, Pseudonym, Scope, SealError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What an entry is sealed under. A log that is not sealed ignores it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    /// The subject an erasure names, such as `actor:alice`; empty for keys per source and
    /// period only.
    pub subject: String,
    /// The submitting source, which retention policies name.
    pub source: String,
    /// When the entry was received (ms since the Unix epoch): it picks the retention epoch.
    pub received_ms: u64,
}

/// Settings of encryption at rest.
#[derive(Clone)]
pub struct Sealing {
    /// The master key that wraps every data key.
    pub master: Arc<MasterKey>,
    /// Days per data key: an entry's key covers its subject, source and epoch, so retention
    /// can destroy old epochs and keep new ones.
    pub epoch_days: u32,
}

impl std::fmt::Debug for Sealing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealing")
            .field("epoch_days", &self.epoch_days)
            .finish_non_exhaustive()
    }
}

/// What an erasure destroyed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erased {
    /// Data keys destroyed now.
    pub keys: usize,
    /// Keys of the selection that an earlier erasure had already destroyed.
    pub already: usize,
}

const MS_PER_DAY: u64 = 86_400_000;
/// Live keys kept in memory; beyond it the cache starts again (a key is one store read away).
const CACHE_KEYS: usize = 100_000;

pub(crate) struct Vault {
    sealing: Sealing,
    /// Live keys by id, and each scope's current key id, as storage has them.
    keys: Mutex<HashMap<KeyId, Arc<DataKey>>>,
    scopes: Mutex<HashMap<Pseudonym, KeyId>>,
}

/// Keys made by one batch, not yet committed.
#[derive(Default)]
pub(crate) struct Pending {
    scopes: HashMap<Pseudonym, (KeyId, Arc<DataKey>)>,
}

fn sealing_failed(e: SealError) -> LogError {
    LogError::Corrupt(format!("sealing: {e}"))
}

impl Vault {
    pub fn new(sealing: Sealing) -> Self {
        Vault {
            sealing,
            keys: Mutex::new(HashMap::new()),
            scopes: Mutex::new(HashMap::new()),
        }
    }

    pub fn master(&self) -> &MasterKey {
        &self.sealing.master
    }

    fn epoch(&self, received_ms: u64) -> u32 {
        let days = received_ms / MS_PER_DAY;
        u32::try_from(days / u64::from(self.sealing.epoch_days.max(1))).unwrap_or(u32::MAX)
    }

    /// The pseudonym under which the key table files a scope: from the pseudonyms of its
    /// subject and source, so erasure and retention can name a scope from a key's record.
    pub fn scope_of(&self, subject: &Pseudonym, source: &Pseudonym, epoch: u32) -> Pseudonym {
        self.master().scope(subject, source, epoch)
    }

    /// Seals one entry under its scope's key if that key is committed and cached; `None`
    /// otherwise (the sequencer then seals it). No storage access.
    pub fn seal_cached(
        &self,
        subject: Option<&Subject>,
        plaintext: &[u8],
    ) -> Result<Option<Vec<u8>>, LogError> {
        let scope = self.scope_for(subject);
        let Some(id) = lock(&self.scopes)?.get(&scope.0).copied() else {
            return Ok(None);
        };
        let Some(key) = lock(&self.keys)?.get(&id).cloned() else {
            return Ok(None);
        };
        self.master()
            .seal(&id, &key, plaintext)
            .map(Some)
            .map_err(sealing_failed)
    }

    /// An entry's scope: its pseudonym, and the names and epoch a new key records.
    fn scope_for<'a>(&self, subject: Option<&'a Subject>) -> (Pseudonym, &'a str, &'a str, u32) {
        let (name, source, received) = match subject {
            Some(s) => (s.subject.as_str(), s.source.as_str(), s.received_ms),
            None => ("", "", now_ms()),
        };
        let m = self.master();
        let epoch = self.epoch(received);
        (
            self.scope_of(&m.subject(name), &m.source(source), epoch),
            name,
            source,
            epoch,
        )
    }

    /// Seals one entry, making its scope's key if there is none yet (then in `commit_keys`).
    pub fn seal(
        &self,
        store: &dyn Store,
        subject: Option<&Subject>,
        plaintext: &[u8],
        pending: &mut Pending,
        commit_keys: &mut Vec<NewKey>,
    ) -> Result<Vec<u8>, LogError> {
        let (id, key) = self.key_for(store, subject, pending, commit_keys)?;
        self.master()
            .seal(&id, &key, plaintext)
            .map_err(sealing_failed)
    }

    fn key_for(
        &self,
        store: &dyn Store,
        subject: Option<&Subject>,
        pending: &mut Pending,
        commit_keys: &mut Vec<NewKey>,
    ) -> Result<(KeyId, Arc<DataKey>), LogError> {
        let (scope, name, source, epoch) = self.scope_for(subject);
        let m = self.master();
        if let Some((id, key)) = pending.scopes.get(&scope) {
            return Ok((*id, Arc::clone(key)));
        }
        let cached = lock(&self.scopes)?.get(&scope).copied();
        let current = match cached {
            Some(id) => Some(id),
            None => store.scope_key(&scope)?,
        };
        if let Some(id) = current
            && let Some(key) = self.live_key(store, &id)?
        {
            lock(&self.scopes)?.insert(scope, id);
            return Ok((id, key));
        }
        let (id, key, record) = m
            .new_data_key(
                &Scope {
                    subject: name,
                    source,
                    epoch,
                },
                now_ms(),
            )
            .map_err(sealing_failed)?;
        let key = Arc::new(key);
        commit_keys.push(NewKey { id, scope, record });
        pending.scopes.insert(scope, (id, Arc::clone(&key)));
        Ok((id, key))
    }

    /// After a successful commit: its keys are durable, so they may be cached.
    pub fn committed(&self, pending: Pending) -> Result<(), LogError> {
        let mut keys = lock(&self.keys)?;
        let mut scopes = lock(&self.scopes)?;
        if keys.len() + pending.scopes.len() > CACHE_KEYS {
            keys.clear();
            scopes.clear();
        }
        for (scope, (id, key)) in pending.scopes {
            keys.insert(id, key);
            scopes.insert(scope, id);
        }
        Ok(())
    }

    /// A live key by id, from the cache or storage; `None` when it was destroyed.
    fn live_key(&self, store: &dyn Store, id: &KeyId) -> Result<Option<Arc<DataKey>>, LogError> {
        if let Some(k) = lock(&self.keys)?.get(id) {
            return Ok(Some(Arc::clone(k)));
        }
        let Some(record) = store.data_key(id)? else {
            return Err(StoreError::Corrupt("a sealed entry's data key is missing".into()).into());
        };
        match self.master().open_key(id, &record) {
            Ok(KeyState::Live(k)) => {
                let k = Arc::new(k);
                let mut keys = lock(&self.keys)?;
                if keys.len() >= CACHE_KEYS {
                    keys.clear();
                }
                keys.insert(*id, Arc::clone(&k));
                Ok(Some(k))
            }
            Ok(KeyState::Erased) => Ok(None),
            Err(e) => Err(LogError::Corrupt(format!("a data key record: {e}"))),
        }
    }

    /// Opens a sealed record; `None` when its key was destroyed.
    pub fn open(&self, store: &dyn Store, record: &[u8]) -> Result<Option<Opened>, LogError> {
        let id = self
            .master()
            .key_of(record)
            .map_err(|e| LogError::Corrupt(format!("a sealed entry: {e}")))?;
        let Some(key) = self.live_key(store, &id)? else {
            return Ok(None);
        };
        self.master()
            .open(&key, record)
            .map(Some)
            .map_err(|e| LogError::Corrupt(format!("a sealed entry: {e}")))
    }

    /// Destroys every live key whose record `select`s, durably, and forgets them.
    pub fn erase(
        &self,
        store: &dyn Store,
        select: &dyn Fn(&glasslog_seal::KeyMeta) -> bool,
        now_ms: u64,
    ) -> Result<Erased, LogError> {
        let mut out = Erased::default();
        let (mut tombstones, mut scopes) = (Vec::new(), Vec::new());
        let mut after = None;
        loop {
            let page = store.data_keys(after, 1024)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            for (id, record) in page {
                let meta = glasslog_seal::key_meta(&record)
                    .map_err(|e| LogError::Corrupt(format!("a data key record: {e}")))?;
                if !select(&meta) {
                    continue;
                }
                if meta.erased_ms.is_some() {
                    out.already += 1;
                    continue;
                }
                tombstones.push((id, glasslog_seal::tombstone(&meta, now_ms)));
                scopes.push(self.scope_of(&meta.subject, &meta.source, meta.epoch));
            }
        }
        if !tombstones.is_empty() {
            // Forget first: a read racing the erasure finds the tombstone in storage, never
            // a cached key.
            {
                let mut keys = lock(&self.keys)?;
                let mut cached = lock(&self.scopes)?;
                for (id, _) in &tombstones {
                    keys.remove(id);
                }
                for s in &scopes {
                    cached.remove(s);
                }
            }
            store.erase_keys(&tombstones, &scopes)?;
            let mut keys = lock(&self.keys)?;
            for (id, _) in &tombstones {
                keys.remove(id);
            }
            let mut cached = lock(&self.scopes)?;
            for s in &scopes {
                cached.remove(s);
            }
        }
        out.keys = tombstones.len();
        Ok(out)
    }

    /// The first instant (ms) after an epoch ends.
    pub fn epoch_end_ms(&self, epoch: u32) -> u64 {
        (u64::from(epoch) + 1)
            .saturating_mul(u64::from(self.sealing.epoch_days.max(1)))
            .saturating_mul(MS_PER_DAY)
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, LogError> {
    m.lock()
        .map_err(|_| LogError::Corrupt("the key cache is poisoned".into()))
}
