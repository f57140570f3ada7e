//! A verified copy of another log (the read side of C2SP tlog-mirror): entries are stored only
//! once the tree they extend hashes to a checkpoint the log signed, and the copy's checkpoint
//! carries the log's signatures that verified plus the mirror's own cosignature.
//!
//! Spec: <https://c2sp.org/tlog-mirror> (untagged, HEAD 5ba5ee8), restated in
//! `shared/specs/TLOG-STANDARDS.md` §14; served with <https://c2sp.org/tlog-tiles>.
//!
//! Consistency is checked by construction rather than by proof: the new entries are appended
//! to the stored tree, so a root that matches the new signed root proves that the old tree is
//! a prefix of the new one. A log that rolls back or forks is refused, and nothing is written.

use crate::error::StoreError;
use crate::store::{Commit, Store};
use crate::tiles::{TileReader, TreeState, served_entry_bundle, served_tile};
use glasslog_merkle::{
    Checkpoint, EMPTY_ROOT, Hash, HashReader as _, KeyError, MlDsaSigner, NodeId, Note, NoteError,
    Signer, Tile, VerifierSet, leaf_hash, tree_root,
};
use std::sync::{Arc, Mutex, PoisonError};

/// Why the mirror refused a checkpoint or a read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MirrorError {
    /// A mirrored log's verifier key does not parse.
    #[error("bad log key: {0}")]
    Key(#[from] KeyError),
    /// The note is not signed by the mirrored log, or is malformed.
    #[error("the checkpoint is not the log's: {0}")]
    Note(#[from] NoteError),
    /// The note's text is not a checkpoint.
    #[error("the note is not a checkpoint: {0}")]
    Checkpoint(String),
    /// The checkpoint is for another origin.
    #[error("the checkpoint is for {got:?}, not the mirrored {want:?}")]
    Origin {
        /// The mirrored origin.
        want: String,
        /// The checkpoint's origin.
        got: String,
    },
    /// The log signed a smaller tree than the one the mirror holds.
    #[error("rollback: the log signed size {got} after size {have}")]
    Rollback {
        /// The mirror's size.
        have: u64,
        /// The size the log signed.
        got: u64,
    },
    /// The log signed two different trees of one size, or entries that do not hash to what it
    /// signed: evidence against the log (or against whoever served the entries).
    #[error("fork: the entries to size {size} do not hash to the root the log signed")]
    Fork {
        /// The tree size.
        size: u64,
    },
    /// The entries given do not start at the mirror's size or do not reach the checkpoint.
    #[error("entries [{from}, {to}) do not take a mirror of size {have} to size {want}")]
    Gap {
        /// The mirror's size.
        have: u64,
        /// Where the given entries start.
        from: u64,
        /// Where they end.
        to: u64,
        /// The checkpoint's size.
        want: u64,
    },
    /// A tile or bundle the mirrored tree does not have (yet).
    #[error("{0} is not in the mirror")]
    NotFound(String),
    /// Storage failed, or holds what the mirror did not write.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The mirror's latest checkpoint: the log's note, its verified signatures and the mirror's
/// cosignature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorCheckpoint {
    /// The tree size.
    pub size: u64,
    /// The root hash.
    pub root: Hash,
    /// The note as served at `<prefix>/<origin hash>/checkpoint`.
    pub note: String,
    /// The mirror's own signature lines in it (what `add-entries` answers).
    pub cosignature: String,
}

struct State {
    tree: TreeState,
    published: Option<Arc<MirrorCheckpoint>>,
}

/// One mirrored log over its own [`Store`]. Calls block on storage: async callers use
/// `spawn_blocking`.
pub struct Mirror {
    store: Arc<dyn Store>,
    origin: String,
    log_keys: VerifierSet,
    cosigner: Signer,
    /// An ML-DSA-44 key of the same name: a `subtree/v1` cosignature beside the Ed25519 one.
    mldsa: Option<MlDsaSigner>,
    state: Mutex<State>,
}

impl Mirror {
    /// Opens the mirror of `origin`, whose checkpoints must verify under one of `log_vkeys`,
    /// cosigning as `cosigner`. The stored copy is reloaded and its checkpoint re-verified.
    pub fn open(
        store: Arc<dyn Store>,
        origin: &str,
        log_vkeys: &[String],
        cosigner: Signer,
    ) -> Result<Self, MirrorError> {
        let log_keys = VerifierSet::from_vkeys(log_vkeys.iter().map(String::as_str))?;
        let size = store.tree_size()?;
        let tree = TreeState::load(store.as_ref(), size)?;
        let published = match store.latest_checkpoint()? {
            None if size == 0 => None,
            None => {
                return Err(StoreError::Corrupt(format!(
                    "{size} mirrored entries and no checkpoint"
                ))
                .into());
            }
            Some((at, note)) => {
                let note = String::from_utf8(note)
                    .map_err(|_| StoreError::Corrupt("a stored checkpoint is not UTF-8".into()))?;
                let cp = open_checkpoint(&note, &log_keys, origin)?;
                // Entries are committed before the checkpoint that covers them, so the tree may
                // run ahead of it (verified entries of an unfinished upload), never behind.
                let root = if at == 0 {
                    EMPTY_ROOT
                } else {
                    tree_root(
                        at,
                        &TileReader {
                            store: store.as_ref(),
                        },
                    )
                    .map_err(|e| StoreError::Corrupt(format!("mirrored tree: {e}")))?
                };
                if at > size || cp.size != at || cp.root != root {
                    return Err(StoreError::Corrupt(format!(
                        "the stored checkpoint (size {at}) does not match the stored tree (size {size})"
                    ))
                    .into());
                }
                let cosignature = note_cosignature(&note, &cosigner);
                Some(Arc::new(MirrorCheckpoint {
                    size: at,
                    root: cp.root,
                    note,
                    cosignature,
                }))
            }
        };
        Ok(Mirror {
            store,
            origin: origin.to_owned(),
            log_keys,
            cosigner,
            mldsa: None,
            state: Mutex::new(State { tree, published }),
        })
    }

    /// Also cosigns with `mldsa` (ML-DSA-44 `subtree/v1` over `[0, size)`, C2SP
    /// tlog-cosignature v1.1), from the next checkpoint on. Its name must be the mirror's.
    pub fn with_mldsa(mut self, mldsa: MlDsaSigner) -> Result<Self, MirrorError> {
        if mldsa.name() != self.cosigner.name() {
            return Err(MirrorError::Key(KeyError::Malformed));
        }
        self.mldsa = Some(mldsa);
        Ok(self)
    }

    /// The mirror's cosigner verifier keys: Ed25519 (type 0x04), then ML-DSA-44 if it has one.
    pub fn cosigner_vkeys(&self) -> Vec<String> {
        std::iter::once(self.cosigner.cosigner_vkey())
            .chain(self.mldsa.as_ref().map(MlDsaSigner::vkey))
            .collect()
    }

    /// The mirrored log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The mirror's cosigner verifier key (type 0x04).
    pub fn cosigner_vkey(&self) -> String {
        self.cosigner.cosigner_vkey()
    }

    /// How many entries the mirror holds: its next entry. Entries of an unfinished upload,
    /// verified but not yet covered by a mirror checkpoint, count.
    pub fn size(&self) -> u64 {
        self.lock().tree.size()
    }

    /// Opens a note as a checkpoint of the mirrored log: its signature and origin.
    pub fn open_log_checkpoint(&self, note: &str) -> Result<Checkpoint, MirrorError> {
        open_checkpoint(note, &self.log_keys, &self.origin)
    }

    /// The stored leaf hashes `[start, end)`, all below [`Mirror::size`].
    pub fn stored_leaves(&self, start: u64, end: u64) -> Result<Vec<Hash>, MirrorError> {
        let have = self.size();
        if start > end || end > have {
            return Err(MirrorError::NotFound(format!("leaves [{start}, {end})")));
        }
        let nodes: Vec<NodeId> = (start..end).map(|i| NodeId::new(0, i)).collect();
        Ok(TileReader {
            store: self.store.as_ref(),
        }
        .read_hashes(&nodes)?)
    }

    /// Stores entries from index `from` (the mirror's size) that the caller has already proven
    /// to be the log's (tlog-mirror's pending entries): durable on return, not yet served.
    pub fn append_verified(&self, from: u64, entries: &[Vec<u8>]) -> Result<u64, MirrorError> {
        let mut state = self.lock();
        let have = state.tree.size();
        let to = from + entries.len() as u64;
        if from != have {
            return Err(MirrorError::Gap {
                have,
                from,
                to,
                want: to,
            });
        }
        let mut tree = state.tree.clone();
        let commit = append_commit(&mut tree, from, entries);
        self.store.commit(&commit)?;
        state.tree = tree;
        Ok(to)
    }

    /// Publishes the signed checkpoint `note` of exactly the stored tree, cosigned at
    /// `timestamp`; the same size again refreshes the cosignature. Durable on return.
    pub fn publish(
        &self,
        note: &str,
        timestamp: u64,
    ) -> Result<Arc<MirrorCheckpoint>, MirrorError> {
        let cp = open_checkpoint(note, &self.log_keys, &self.origin)?;
        let mut state = self.lock();
        let have = state.tree.size();
        if let Some(p) = &state.published
            && cp.size < p.size
        {
            return Err(MirrorError::Rollback {
                have: p.size,
                got: cp.size,
            });
        }
        if cp.size != have {
            return Err(MirrorError::Gap {
                have,
                from: have,
                to: have,
                want: cp.size,
            });
        }
        let root = if have == 0 {
            EMPTY_ROOT
        } else {
            state.tree.range.root()
        };
        if root != cp.root {
            return Err(MirrorError::Fork { size: cp.size });
        }
        let published = self.write_checkpoint(&cp, note, timestamp)?;
        state.published = Some(Arc::clone(&published));
        Ok(published)
    }

    /// The latest mirror checkpoint, if any entry (or the empty tree) was mirrored.
    pub fn checkpoint(&self) -> Option<Arc<MirrorCheckpoint>> {
        self.lock().published.clone()
    }

    /// Takes the mirror to the tree of the signed checkpoint `note`: `entries` are the log's
    /// entries from index `from` up to the checkpoint's size. `from` is the mirror's size, or
    /// anywhere from its checkpoint's size up when an unfinished upload already stored some of
    /// them (those must be the stored ones).
    /// They are stored and the checkpoint published, cosigned at `timestamp` (POSIX seconds),
    /// only if the extended tree hashes to the signed root. Durable before it returns.
    pub fn extend(
        &self,
        note: &str,
        from: u64,
        entries: &[Vec<u8>],
        timestamp: u64,
    ) -> Result<Arc<MirrorCheckpoint>, MirrorError> {
        let cp = open_checkpoint(note, &self.log_keys, &self.origin)?;
        let mut state = self.lock();
        let have = state.tree.size();
        if cp.size < have {
            return Err(MirrorError::Rollback { have, got: cp.size });
        }
        let to = from + entries.len() as u64;
        let mirrored = state.published.as_ref().map_or(0, |p| p.size);
        // From the mirror's size, or from its checkpoint when pending entries lie beyond it.
        if from > have || from < mirrored || to != cp.size {
            return Err(MirrorError::Gap {
                have,
                from,
                to,
                want: cp.size,
            });
        }
        // Entries already stored as pending (a partial push): they must be the same ones.
        let already = usize::try_from(have - from)
            .unwrap_or(usize::MAX)
            .min(entries.len());
        if already > 0 {
            let nodes: Vec<NodeId> = (from..have).map(|i| NodeId::new(0, i)).collect();
            let stored = TileReader {
                store: self.store.as_ref(),
            }
            .read_hashes(&nodes)?;
            if stored.iter().zip(entries).any(|(h, e)| *h != leaf_hash(e)) {
                return Err(MirrorError::Fork { size: cp.size });
            }
        }
        let (from, entries) = (have, &entries[already..]);
        let mut tree = state.tree.clone();
        let commit = append_commit(&mut tree, from, entries);
        let root = if cp.size == 0 {
            EMPTY_ROOT
        } else {
            tree.range.root()
        };
        if root != cp.root {
            return Err(MirrorError::Fork { size: cp.size });
        }
        if cp.size == have
            && let Some(published) = &state.published
        {
            // Nothing new: the same tree (its root matched), already cosigned.
            return Ok(Arc::clone(published));
        }
        // The entries first: a crash before the checkpoint leaves them pending, which `open`
        // accepts, never a checkpoint beyond the stored tree.
        self.store.commit(&commit)?;
        state.tree = tree;
        let published = self.write_checkpoint(&cp, note, timestamp)?;
        state.published = Some(Arc::clone(&published));
        Ok(published)
    }

    /// Writes the mirror's checkpoint of `cp` durably: the note, then an empty synced commit.
    fn write_checkpoint(
        &self,
        cp: &Checkpoint,
        note: &str,
        timestamp: u64,
    ) -> Result<Arc<MirrorCheckpoint>, MirrorError> {
        let (served, cosignature) = self.mirror_note(note, timestamp)?;
        // Callers hold the state lock and have checked that the stored tree is `cp`'s, so the
        // empty commit (which only makes the note durable) keeps the tree size as it is.
        self.store.put_checkpoint(cp.size, served.as_bytes())?;
        self.store.commit(&Commit {
            tree_size: cp.size,
            ..Commit::default()
        })?;
        Ok(Arc::new(MirrorCheckpoint {
            size: cp.size,
            root: cp.root,
            note: served,
            cosignature,
        }))
    }

    /// The served bytes of hash tile `tile` at the mirror's checkpoint.
    pub fn tile(&self, tile: Tile) -> Result<Vec<u8>, MirrorError> {
        let size = self.checkpoint().map_or(0, |c| c.size);
        served_tile(self.store.as_ref(), size, tile)?
            .ok_or_else(|| MirrorError::NotFound(tile.path()))
    }

    /// The entry bundle `tile/entries/<index>[.p/<width>]` at the mirror's checkpoint.
    pub fn entry_bundle(&self, tile: Tile) -> Result<Vec<u8>, MirrorError> {
        let size = self.checkpoint().map_or(0, |c| c.size);
        served_entry_bundle(self.store.as_ref(), size, tile)?
            .ok_or_else(|| MirrorError::NotFound(tile.entries_path()))
    }

    /// The log's note with only its verified signatures, then the mirror's cosignature; and
    /// that cosignature's line.
    fn mirror_note(&self, note: &str, timestamp: u64) -> Result<(String, String), MirrorError> {
        let parsed = Note::parse(note.as_bytes())?;
        let mut signatures: Vec<_> = parsed
            .verify(&self.log_keys)?
            .into_iter()
            .cloned()
            .collect();
        let own = self.cosigner.cosign(&parsed.text, timestamp);
        let mut line = own.to_line();
        signatures.push(own);
        // An empty tree has no ML-DSA-44 cosignature: `[0, 0)` is not a subtree.
        if let Some(ml) = &self.mldsa
            && let Ok(cp) = Checkpoint::parse(&parsed.text)
            && cp.size > 0
            && let Ok(sig) = ml.sign_checkpoint(&cp, timestamp)
        {
            line.push_str(&sig.to_line());
            signatures.push(sig);
        }
        Ok((
            Note {
                text: parsed.text,
                signatures,
            }
            .to_string(),
            line,
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as it was before `extend` (the new
        // tree replaces the old only after both writes succeeded).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The commit that appends `entries` at `from` to `tree` (which it advances).
fn append_commit(tree: &mut TreeState, from: u64, entries: &[Vec<u8>]) -> Commit {
    for entry in entries {
        tree.append(leaf_hash(entry));
    }
    Commit {
        entries: (from..).zip(entries.iter().cloned()).collect(),
        leaves: entries
            .iter()
            .zip(from..)
            .map(|(e, i)| (leaf_hash(e), i))
            .collect(),
        tiles: tree.take_writes(),
        tree_size: from + entries.len() as u64,
        ..Commit::default()
    }
}

/// The mirror's cosignature lines in a stored note: every line under its name.
fn note_cosignature(note: &str, cosigner: &Signer) -> String {
    Note::parse(note.as_bytes())
        .map(|n| {
            n.signatures
                .iter()
                .filter(|s| s.name == cosigner.name())
                .map(glasslog_merkle::NoteSignature::to_line)
                .collect()
        })
        .unwrap_or_default()
}

fn open_checkpoint(
    note: &str,
    log_keys: &VerifierSet,
    origin: &str,
) -> Result<Checkpoint, MirrorError> {
    let opened = Note::open(note.as_bytes(), log_keys)?;
    let cp = Checkpoint::parse(&opened.text).map_err(|e| MirrorError::Checkpoint(e.to_string()))?;
    if cp.origin != origin {
        return Err(MirrorError::Origin {
            want: origin.to_owned(),
            got: cp.origin,
        });
    }
    Ok(cp)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]
    use super::*;
    use crate::memory::MemoryStore;
    use glasslog_merkle::{MemoryHashes, TILE_WIDTH, decode_entry_bundle, tree_root};

    fn entries(n: u64) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
    }

    fn signed(log: &Signer, entries: &[Vec<u8>]) -> String {
        let mut hashes = MemoryHashes::new();
        for e in entries {
            hashes.push(leaf_hash(e));
        }
        let size = entries.len() as u64;
        let root = if size == 0 {
            EMPTY_ROOT
        } else {
            tree_root(size, &hashes).unwrap()
        };
        log.sign_note(&Checkpoint::new(log.name(), size, root).to_text())
    }

    fn mirror(store: Arc<dyn Store>, log: &Signer) -> Mirror {
        let cosigner = Signer::from_seed("mirror.example/m", [7; 32]).unwrap();
        Mirror::open(store, log.name(), &[log.vkey()], cosigner).unwrap()
    }

    #[test]
    fn mirrors_in_steps_serves_tiles_and_reopens() {
        let log = Signer::from_seed("log.example/a", [1; 32]).unwrap();
        let all = entries(600);
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let m = mirror(Arc::clone(&store), &log);
        let mut at = 0usize;
        for to in [0usize, 1, 255, 256, 257, 513, 600] {
            let cp = m
                .extend(
                    &signed(&log, &all[..to]),
                    at as u64,
                    &all[at..to],
                    1_700_000_000,
                )
                .unwrap();
            assert_eq!(cp.size, to as u64);
            at = to;
        }
        let cp = m.checkpoint().unwrap();
        // The served checkpoint verifies under the log's key and under the mirror's cosigner.
        let both =
            VerifierSet::from_vkeys([log.vkey().as_str(), m.cosigner_vkey().as_str()]).unwrap();
        assert_eq!(
            Note::open(cp.note.as_bytes(), &both)
                .unwrap()
                .verify(&both)
                .unwrap()
                .len(),
            2
        );
        // Tiles and bundles are the log's.
        let bundle = m.entry_bundle(Tile::at_size(0, 1, 600).unwrap()).unwrap();
        assert_eq!(
            decode_entry_bundle(&bundle).unwrap(),
            all[256..512].to_vec()
        );
        let partial = m.entry_bundle(Tile::at_size(0, 2, 600).unwrap()).unwrap();
        assert_eq!(decode_entry_bundle(&partial).unwrap().len(), 600 - 512);
        let tile = m.tile(Tile::at_size(0, 0, 600).unwrap()).unwrap();
        assert_eq!(&tile[..32], &leaf_hash(&all[0]).0);
        assert_eq!(tile.len(), 32 * usize::from(TILE_WIDTH));
        assert!(matches!(
            m.entry_bundle(Tile::at_size(0, 3, 900).unwrap()),
            Err(MirrorError::NotFound(_))
        ));
        drop(m);
        let again = mirror(store, &log);
        assert_eq!(again.checkpoint().unwrap().as_ref(), cp.as_ref());
        assert_eq!(again.size(), 600);
    }

    /// sunlight's mirrored tree (`shared/specs/vectors/tlog-mirror.json`): mirrored here from
    /// its 300 entries, the served tiles are sunlight's byte for byte and the root is the one
    /// its mirror cosigned.
    #[test]
    fn serves_the_tiles_sunlights_mirror_serves() {
        use base64::Engine as _;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/specs/vectors/tlog-mirror.json");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let m = v["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == "sunlight-mirror-monitoring-prefix")
            .unwrap();
        let origin = m["origin"].as_str().unwrap();
        let theirs = Note::parse(m["checkpoint"].as_str().unwrap().as_bytes()).unwrap();
        let their_cp = Checkpoint::parse(&theirs.text).unwrap();
        // The vector's note carries only the mirror's cosignature; our mirror needs the log's
        // signature, so a stand-in log key of the same origin signs the same checkpoint text.
        let log = Signer::from_seed(origin, [9; 32]).unwrap();
        let all: Vec<Vec<u8>> = (0..300)
            .map(|i| format!("record {i}").into_bytes())
            .collect();
        let m2 = mirror(Arc::new(MemoryStore::new()), &log);
        let cp = m2
            .extend(&log.sign_note(&theirs.text), 0, &all, 1_767_139_200)
            .unwrap();
        assert_eq!((cp.size, cp.root), (their_cp.size, their_cp.root));
        for path in ["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"] {
            let want = base64::engine::general_purpose::STANDARD
                .decode(m["tiles"][path]["b64"].as_str().unwrap())
                .unwrap();
            let (tile, _) = Tile::parse_path(path).unwrap();
            assert_eq!(m2.tile(tile).unwrap(), want, "{path}");
        }
    }

    /// A poll that follows a partial push: the entries the push stored are checked against
    /// what the poll brings, not stored twice; different ones are a fork.
    #[test]
    fn a_poll_after_a_partial_push_checks_the_pending_entries() {
        let log = Signer::from_seed("log.example/a", [1; 32]).unwrap();
        let all = entries(300);
        let m = mirror(Arc::new(MemoryStore::new()), &log);
        m.extend(&signed(&log, &all[..10]), 0, &all[..10], 1)
            .unwrap();
        assert_eq!(m.append_verified(10, &all[10..200]).unwrap(), 200);
        let mut forged = all[10..300].to_vec();
        forged[5] = b"not the stored one".to_vec();
        assert!(matches!(
            m.extend(&signed(&log, &all), 10, &forged, 2),
            Err(MirrorError::Fork { size: 300 })
        ));
        let cp = m.extend(&signed(&log, &all), 10, &all[10..], 2).unwrap();
        assert_eq!((cp.size, m.size()), (300, 300));
    }

    #[test]
    fn cosigns_with_mldsa_beside_ed25519() {
        let log = Signer::from_seed("log.example/a", [1; 32]).unwrap();
        let all = entries(10);
        let ml = MlDsaSigner::from_seed("mirror.example/m", &[8; 32]).unwrap();
        let m = mirror(Arc::new(MemoryStore::new()), &log)
            .with_mldsa(ml)
            .unwrap();
        let cp = m
            .extend(&signed(&log, &all), 0, &all, 1_700_000_000)
            .unwrap();
        let keys = m.cosigner_vkeys();
        assert_eq!(keys.len(), 2);
        for k in &keys {
            let set = VerifierSet::from_vkeys([k.as_str()]).unwrap();
            assert_eq!(
                Note::open(cp.note.as_bytes(), &set)
                    .unwrap()
                    .verify(&set)
                    .unwrap()
                    .len(),
                1,
                "{k}"
            );
        }
        assert_eq!(cp.cosignature.lines().count(), 2);
        let other = MlDsaSigner::from_seed("someone.else/m", &[8; 32]).unwrap();
        assert!(
            mirror(Arc::new(MemoryStore::new()), &log)
                .with_mldsa(other)
                .is_err()
        );
    }

    #[test]
    fn refuses_forks_rollbacks_gaps_strangers_and_writes_nothing() {
        let log = Signer::from_seed("log.example/a", [1; 32]).unwrap();
        let other = Signer::from_seed("log.example/a", [2; 32]).unwrap();
        let all = entries(300);
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let m = mirror(Arc::clone(&store), &log);
        m.extend(&signed(&log, &all[..100]), 0, &all[..100], 1)
            .unwrap();
        // Entries that are not the ones the log signed.
        let mut forged = all[100..200].to_vec();
        forged[50] = b"not the log's".to_vec();
        assert!(matches!(
            m.extend(&signed(&log, &all[..200]), 100, &forged, 2),
            Err(MirrorError::Fork { size: 200 })
        ));
        // A different tree of the same size.
        let mut fork = all[..100].to_vec();
        fork[3] = b"rewritten".to_vec();
        assert!(matches!(
            m.extend(&signed(&log, &fork), 100, &[], 2),
            Err(MirrorError::Fork { size: 100 })
        ));
        assert!(matches!(
            m.extend(&signed(&log, &all[..50]), 100, &[], 2),
            Err(MirrorError::Rollback { have: 100, got: 50 })
        ));
        assert!(matches!(
            m.extend(&signed(&log, &all[..200]), 90, &all[90..200], 2),
            Err(MirrorError::Gap { .. })
        ));
        assert!(matches!(
            m.extend(&signed(&other, &all[..200]), 100, &all[100..200], 2),
            Err(MirrorError::Note(_))
        ));
        let stranger = Signer::from_seed("log.example/b", [1; 32]).unwrap();
        let m2 = Mirror::open(
            Arc::new(MemoryStore::new()),
            "log.example/a",
            &[stranger.vkey()],
            Signer::from_seed("m", [3; 32]).unwrap(),
        )
        .unwrap();
        assert!(matches!(
            m2.extend(&signed(&stranger, &all[..1]), 0, &all[..1], 2),
            Err(MirrorError::Origin { .. })
        ));
        assert_eq!(store.tree_size().unwrap(), 100);
        assert_eq!(m.size(), 100);
        // The same tree again is not an error, and the log moving on is mirrored.
        assert_eq!(
            m.extend(&signed(&log, &all[..100]), 100, &[], 3)
                .unwrap()
                .size,
            100
        );
        assert_eq!(
            m.extend(&signed(&log, &all), 100, &all[100..], 4)
                .unwrap()
                .size,
            300
        );
    }
}
