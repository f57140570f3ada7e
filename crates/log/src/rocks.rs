//! The RocksDB [`Store`]: the embedded default, and the only code that knows RocksDB.
//!
//! Column families and keys (all integers big-endian, so keys sort numerically):
//!
//! | family        | key                        | value                                  |
//! |---------------|----------------------------|----------------------------------------|
//! | `entries`     | index (8 bytes)            | entry bytes                            |
//! | `tiles`       | tile level (1) + index (8) | stored tile record (see `tiles.rs`)    |
//! | `identity`    | identity hash (32)         | index (8)                              |
//! | `leaf`        | leaf hash (32)             | index (8)                              |
//! | `checkpoints` | tree size (8)              | signed checkpoint note                 |
//! | `tags`        | tag length (1) + tag + index (8) | empty                            |
//! | `meta`        | `tree_size`                | tree size of the last commit (8)       |
//! | `keys`        | `k` + key id (16)          | data key record (wrapped, or tombstone) |
//! | `keys`        | `s` + scope pseudonym (16) | the scope's current key id (16)        |
//!
//! A group commit is one `WriteBatch` across families, written with `sync = true`: RocksDB
//! applies a batch atomically and the synced WAL makes it durable before `commit` returns.

use crate::error::StoreError;
use crate::store::{Commit, KeyId, Store, TagCursor, TileKey};
use glasslog_merkle::Hash;
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DB, DBCompactionStyle,
    DBCompressionType, Direction, IteratorMode, Options, ReadOptions, ReadTier, WriteBatch,
    WriteOptions,
};
use std::path::Path;

const CF_ENTRIES: &str = "entries";
const CF_TILES: &str = "tiles";
const CF_IDENTITY: &str = "identity";
const CF_LEAF: &str = "leaf";
const CF_CHECKPOINTS: &str = "checkpoints";
const CF_META: &str = "meta";
const CF_TAGS: &str = "tags";
const CF_KEYS: &str = "keys";
const ALL_FAMILIES: [&str; 8] = [
    CF_ENTRIES,
    CF_TILES,
    CF_IDENTITY,
    CF_LEAF,
    CF_CHECKPOINTS,
    CF_META,
    CF_TAGS,
    CF_KEYS,
];
const KEY_TREE_SIZE: &[u8] = b"tree_size";
/// The published head: size (8 bytes, big-endian), then root (32).
const KEY_HEAD: &[u8] = b"head";

/// The head record as stored: size (8 bytes, big-endian), then root (32).
fn read_head(db: &DB) -> Result<Option<(u64, Hash)>, StoreError> {
    let meta = db
        .cf_handle(CF_META)
        .ok_or_else(|| StoreError::Backend(format!("column family {CF_META} is missing")))?;
    let Some(v) = db.get_cf(meta, KEY_HEAD).map_err(backend)? else {
        return Ok(None);
    };
    let (size, root) = v
        .split_first_chunk::<8>()
        .ok_or_else(|| StoreError::Corrupt("the head record is short".into()))?;
    let root = <[u8; 32]>::try_from(root)
        .map_err(|_| StoreError::Corrupt("the head record's root is not 32 bytes".into()))?;
    Ok(Some((u64::from_be_bytes(*size), Hash(root))))
}

/// A setting's key in the meta family, apart from the family's fixed keys.
fn setting_key(name: &str) -> Vec<u8> {
    [b"setting/".as_slice(), name.as_bytes()].concat()
}
/// Memtable size of the two hash-keyed index families.
const INDEX_MEMTABLE_BYTES: usize = 4 << 20;

/// Tuning of the RocksDB store.
#[derive(Clone, Debug)]
pub struct RocksOptions {
    /// Bytes of block cache shared by all column families.
    pub block_cache_bytes: usize,
}

impl Default for RocksOptions {
    fn default() -> Self {
        RocksOptions {
            block_cache_bytes: 256 << 20,
        }
    }
}

/// A log's storage in one RocksDB directory. RocksDB's own `LOCK` file keeps a second process
/// from opening the same directory.
pub struct RocksStore {
    db: DB,
    /// The published head, read at open and kept here: the directory lock keeps every other
    /// process out, so only [`Store::swap_head`] changes it, and holding this lock makes its
    /// compare and its write one step.
    head: std::sync::Mutex<Option<(u64, Hash)>>,
}

fn backend(e: rocksdb::Error) -> StoreError {
    StoreError::Backend(e.into_string())
}

fn u64_value(bytes: &[u8], what: &str) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt(format!("{what} is not an 8-byte integer")))
}

/// A tag's key prefix is its length, so that no tag's keys interleave with another's.
fn tag_key(tag: &str, index: u64) -> Result<Vec<u8>, StoreError> {
    let len = u8::try_from(tag.len())
        .map_err(|_| StoreError::Backend(format!("tag of {} bytes is too long", tag.len())))?;
    let mut k = Vec::with_capacity(tag.len() + 9);
    k.push(len);
    k.extend_from_slice(tag.as_bytes());
    k.extend_from_slice(&index.to_be_bytes());
    Ok(k)
}

/// A key-table key: `k` + key id, or `s` + scope pseudonym.
fn key_table(kind: u8, id: &KeyId) -> [u8; 17] {
    let mut k = [kind; 17];
    k[1..].copy_from_slice(id);
    k
}

impl RocksStore {
    /// Opens or creates the store in `dir`.
    pub fn open(dir: &Path, options: &RocksOptions) -> Result<Self, StoreError> {
        let cache = Cache::new_lru_cache(options.block_cache_bytes);
        let table = |bloom: bool| {
            let mut t = BlockBasedOptions::default();
            t.set_block_cache(&cache);
            t.set_cache_index_and_filter_blocks(true);
            t.set_pin_l0_filter_and_index_blocks_in_cache(true);
            if bloom {
                // Most dedup lookups miss: a filter answers them without touching data blocks.
                t.set_bloom_filter(10.0, false);
            }
            t
        };
        let family = |name: &str, bloom: bool, compress: bool| {
            let mut o = Options::default();
            o.set_block_based_table_factory(&table(bloom));
            o.set_compression_type(if compress {
                DBCompressionType::Lz4
            } else {
                DBCompressionType::None
            });
            if bloom {
                o.optimize_for_point_lookup(options.block_cache_bytes as u64 >> 20);
                // Hash keys arrive in random order: every insert walks the memtable's skiplist
                // from the top through cold cache lines, the largest cost of a group commit
                // under the 64 MiB default. A small memtable keeps the skiplist shallow and
                // cache-resident. Universal compaction rewrites these random keys fewer times
                // than levelled compaction, which matters with two cores to share.
                o.set_write_buffer_size(INDEX_MEMTABLE_BYTES);
                o.set_compaction_style(DBCompactionStyle::Universal);
            }
            ColumnFamilyDescriptor::new(name, o)
        };
        let families = vec![
            // Entries are text (JSON): they compress. Hashes do not.
            family(CF_ENTRIES, false, true),
            family(CF_TILES, false, false),
            family(CF_IDENTITY, true, false),
            family(CF_LEAF, true, false),
            family(CF_CHECKPOINTS, false, true),
            family(CF_META, false, false),
            family(CF_TAGS, false, false),
            family(CF_KEYS, false, false),
        ];
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.set_max_background_jobs(2);
        db_opts.set_bytes_per_sync(1 << 20);
        let db = DB::open_cf_descriptors(&db_opts, dir, families).map_err(|e| {
            let msg = e.into_string();
            if msg.contains("lock") || msg.contains("LOCK") {
                StoreError::Locked
            } else {
                StoreError::Backend(msg)
            }
        })?;
        let head = read_head(&db)?;
        Ok(RocksStore {
            db,
            head: std::sync::Mutex::new(head),
        })
    }

    fn cf(&self, name: &str) -> Result<&ColumnFamily, StoreError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| StoreError::Backend(format!("column family {name} is missing")))
    }

    /// Overwrites a raw value, bypassing the log: for tamper-evidence tests only.
    #[cfg(feature = "testing")]
    pub fn tamper(&self, family: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.db
            .put_cf(self.cf(family)?, key, value)
            .map_err(backend)
    }

    /// Reads a raw value, bypassing the log: for tamper-evidence tests only.
    #[cfg(feature = "testing")]
    pub fn raw(&self, family: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db.get_cf(self.cf(family)?, key).map_err(backend)
    }

    fn index_lookup(&self, family: &str, key: &Hash) -> Result<Option<u64>, StoreError> {
        match self
            .db
            .get_pinned_cf(self.cf(family)?, key.as_bytes())
            .map_err(backend)?
        {
            Some(v) => Ok(Some(u64_value(&v, family)?)),
            None => Ok(None),
        }
    }
}

/// A tag's keys walked downwards on one open iterator.
struct RocksTagCursor<'a> {
    iter: rocksdb::DBRawIteratorWithThreadMode<'a, DB>,
    tag: String,
}

impl TagCursor for RocksTagCursor<'_> {
    fn last_below(&mut self, below: u64) -> Result<Option<u64>, StoreError> {
        let Some(last) = below.checked_sub(1) else {
            return Ok(None);
        };
        let key = tag_key(&self.tag, last)?;
        self.iter.seek_for_prev(&key);
        if !self.iter.valid() {
            self.iter.status().map_err(backend)?;
            return Ok(None);
        }
        let k = self.iter.key().unwrap_or_default();
        u64_value(k.get(key.len() - 8..).unwrap_or_default(), "tag key").map(Some)
    }
}

impl Store for RocksStore {
    fn tree_size(&self) -> Result<u64, StoreError> {
        match self
            .db
            .get_cf(self.cf(CF_META)?, KEY_TREE_SIZE)
            .map_err(backend)?
        {
            Some(v) => u64_value(&v, "tree size"),
            None => Ok(0),
        }
    }

    fn read_tiles(&self, keys: &[TileKey]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let cf = self.cf(CF_TILES)?;
        let raw: Vec<[u8; 9]> = keys.iter().map(|k| k.to_bytes()).collect();
        self.db
            .multi_get_cf(raw.iter().map(|k| (cf, k)))
            .into_iter()
            .map(|r| r.map_err(backend))
            .collect()
    }

    fn read_tiles_in_memory(
        &self,
        keys: &[TileKey],
    ) -> Result<Option<Vec<Option<Vec<u8>>>>, StoreError> {
        let cf = self.cf(CF_TILES)?;
        let raw: Vec<[u8; 9]> = keys.iter().map(|k| k.to_bytes()).collect();
        // Memtables and the block cache only: RocksDB answers `Incomplete` instead of reading
        // a file. Point reads, not `multi_get`, which reads files whatever the tier says
        // (`rocks_proofs_from_memory_fall_back_to_storage` caught it); a proof needs at most
        // one record per tile level.
        let mut opts = ReadOptions::default();
        opts.set_read_tier(ReadTier::BlockCache);
        let mut out = Vec::with_capacity(keys.len());
        for k in &raw {
            match self.db.get_cf_opt(cf, k, &opts) {
                Ok(v) => out.push(v),
                Err(e) if e.kind() == rocksdb::ErrorKind::Incomplete => return Ok(None),
                Err(e) => return Err(backend(e)),
            }
        }
        Ok(Some(out))
    }

    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let cf = self.cf(CF_ENTRIES)?;
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound(end.to_be_bytes().to_vec());
        let from = start.to_be_bytes();
        let mut out = Vec::new();
        let iter = self
            .db
            .iterator_cf_opt(cf, opts, IteratorMode::From(&from, Direction::Forward));
        for (want, item) in (start..).zip(iter) {
            let (k, v) = item.map_err(backend)?;
            // Stop at the first gap: callers decide whether a short answer is corruption.
            if u64_value(&k, "entry key")? != want {
                break;
            }
            out.push(v.into_vec());
        }
        Ok(out)
    }

    fn find_identity(&self, identity: &Hash) -> Result<Option<u64>, StoreError> {
        self.index_lookup(CF_IDENTITY, identity)
    }

    fn find_leaf(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        self.index_lookup(CF_LEAF, leaf)
    }

    fn tagged(&self, tag: &str, from: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        let start = tag_key(tag, from)?;
        let prefix_len = start.len() - 8;
        let mut end = start[..prefix_len].to_vec();
        end.extend_from_slice(&[0xff; 9]);
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound(end);
        self.db
            .iterator_cf_opt(
                self.cf(CF_TAGS)?,
                opts,
                IteratorMode::From(&start, Direction::Forward),
            )
            .take(limit)
            .map(|item| {
                let (k, _) = item.map_err(backend)?;
                u64_value(k.get(prefix_len..).unwrap_or_default(), "tag key")
            })
            .collect()
    }

    fn tagged_before(&self, tag: &str, below: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        if below == 0 {
            return Ok(Vec::new());
        }
        // The last key below `below` is the tag's key for `below - 1`; the lower bound is the
        // tag's key for index 0, so the walk never leaves the tag.
        let start = tag_key(tag, below - 1)?;
        let prefix_len = start.len() - 8;
        let lower = tag_key(tag, 0)?;
        let mut opts = ReadOptions::default();
        opts.set_iterate_lower_bound(lower);
        self.db
            .iterator_cf_opt(
                self.cf(CF_TAGS)?,
                opts,
                IteratorMode::From(&start, Direction::Reverse),
            )
            .take(limit)
            .map(|item| {
                let (k, _) = item.map_err(backend)?;
                u64_value(k.get(prefix_len..).unwrap_or_default(), "tag key")
            })
            .collect()
    }

    fn tag_cursor<'a>(&'a self, tag: &str) -> Result<Box<dyn TagCursor + 'a>, StoreError> {
        // One iterator for the whole walk: creating one (pinning the memtables and files) costs
        // more than the seek itself. Bounded to the tag's keys, so a seek never leaves it.
        let lower = tag_key(tag, 0)?;
        let mut upper = lower[..lower.len() - 8].to_vec();
        upper.extend_from_slice(&[0xff; 9]);
        let mut opts = ReadOptions::default();
        opts.set_iterate_lower_bound(lower);
        opts.set_iterate_upper_bound(upper);
        Ok(Box::new(RocksTagCursor {
            iter: self.db.raw_iterator_cf_opt(self.cf(CF_TAGS)?, opts),
            tag: tag.to_owned(),
        }))
    }

    fn scope_key(&self, scope: &KeyId) -> Result<Option<KeyId>, StoreError> {
        match self
            .db
            .get_pinned_cf(self.cf(CF_KEYS)?, key_table(b's', scope))
            .map_err(backend)?
        {
            Some(v) => KeyId::try_from(&v[..])
                .map(Some)
                .map_err(|_| StoreError::Corrupt("a scope's key id is not 16 bytes".into())),
            None => Ok(None),
        }
    }

    fn data_key(&self, id: &KeyId) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf(self.cf(CF_KEYS)?, key_table(b'k', id))
            .map_err(backend)
    }

    fn data_keys(
        &self,
        after: Option<KeyId>,
        limit: usize,
    ) -> Result<Vec<(KeyId, Vec<u8>)>, StoreError> {
        let start = key_table(b'k', &after.unwrap_or_default());
        let mut out = Vec::new();
        for item in self.db.iterator_cf(
            self.cf(CF_KEYS)?,
            IteratorMode::From(&start, Direction::Forward),
        ) {
            let (k, v) = item.map_err(backend)?;
            let Some(id) = k.strip_prefix(b"k") else {
                break;
            };
            let id = KeyId::try_from(id)
                .map_err(|_| StoreError::Corrupt("a key id is not 16 bytes".into()))?;
            if after == Some(id) {
                continue;
            }
            out.push((id, v.into_vec()));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn erase_keys(
        &self,
        tombstones: &[(KeyId, Vec<u8>)],
        scopes: &[KeyId],
    ) -> Result<(), StoreError> {
        let cf = self.cf(CF_KEYS)?;
        let mut batch = WriteBatch::default();
        for (id, t) in tombstones {
            batch.put_cf(cf, key_table(b'k', id), t);
        }
        for s in scopes {
            batch.delete_cf(cf, key_table(b's', s));
        }
        let mut opts = WriteOptions::default();
        opts.set_sync(true);
        self.db.write_opt(batch, &opts).map_err(backend)?;
        // The old records are still in the WAL, a memtable and table files. Flushing every
        // family lets RocksDB delete the WAL files that held them (a WAL file goes once no
        // memtable needs it); a full compaction of the key table rewrites its files without
        // the overwritten versions (no snapshot is ever held, so none is kept).
        self.flush()?;
        let mut compact = rocksdb::CompactOptions::default();
        compact.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
        self.db
            .compact_range_cf_opt(cf, None::<&[u8]>, None::<&[u8]>, &compact);
        Ok(())
    }

    fn delete_tags(&self, tags: &[(String, u64)]) -> Result<(), StoreError> {
        let cf = self.cf(CF_TAGS)?;
        let mut batch = WriteBatch::default();
        for (t, i) in tags {
            batch.delete_cf(cf, tag_key(t, *i)?);
        }
        let mut opts = WriteOptions::default();
        opts.set_sync(true);
        self.db.write_opt(batch, &opts).map_err(backend)
    }

    fn commit(&self, c: &Commit) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        if !c.keys.is_empty() {
            let keys = self.cf(CF_KEYS)?;
            for k in &c.keys {
                batch.put_cf(keys, key_table(b'k', &k.id), &k.record);
                batch.put_cf(keys, key_table(b's', &k.scope), k.id);
            }
        }
        let entries = self.cf(CF_ENTRIES)?;
        for (i, e) in &c.entries {
            batch.put_cf(entries, i.to_be_bytes(), e);
        }
        let identity = self.cf(CF_IDENTITY)?;
        for (h, i) in &c.identities {
            batch.put_cf(identity, h.as_bytes(), i.to_be_bytes());
        }
        let leaf = self.cf(CF_LEAF)?;
        for (h, i) in &c.leaves {
            batch.put_cf(leaf, h.as_bytes(), i.to_be_bytes());
        }
        let tiles = self.cf(CF_TILES)?;
        for (k, t) in &c.tiles {
            batch.put_cf(tiles, k.to_bytes(), t);
        }
        let tags = self.cf(CF_TAGS)?;
        // In key order: each memtable insert then lands beside the one before, on cache lines
        // that insert just warmed, instead of walking the skiplist through cold ones; a batch
        // holds many entries' terms, and most of a term's keys are neighbours.
        let mut tag_keys = c
            .tags
            .iter()
            .map(|(t, i)| tag_key(t, *i))
            .collect::<Result<Vec<_>, _>>()?;
        tag_keys.sort_unstable();
        for k in &tag_keys {
            batch.put_cf(tags, k, []);
        }
        batch.put_cf(self.cf(CF_META)?, KEY_TREE_SIZE, c.tree_size.to_be_bytes());
        let mut opts = WriteOptions::default();
        opts.set_sync(true);
        self.db.write_opt(batch, &opts).map_err(backend)
    }

    fn put_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        self.db
            .put_cf(self.cf(CF_CHECKPOINTS)?, size.to_be_bytes(), note)
            .map_err(backend)
    }

    fn setting(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf(self.cf(CF_META)?, setting_key(name))
            .map_err(backend)
    }

    fn put_setting(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        let mut opts = WriteOptions::default();
        opts.set_sync(true);
        self.db
            .put_cf_opt(self.cf(CF_META)?, setting_key(name), value, &opts)
            .map_err(backend)
    }

    fn head(&self) -> Result<Option<(u64, Hash)>, StoreError> {
        self.head
            .lock()
            .map(|h| *h)
            .map_err(|_| StoreError::Backend("head lock poisoned".into()))
    }

    fn swap_head(
        &self,
        previous: Option<(u64, Hash)>,
        size: u64,
        root: &Hash,
        note: &[u8],
    ) -> Result<(), StoreError> {
        let mut head = self
            .head
            .lock()
            .map_err(|_| StoreError::Backend("head lock poisoned".into()))?;
        if *head != previous {
            return Err(StoreError::HeadMoved);
        }
        let mut record = Vec::with_capacity(40);
        record.extend_from_slice(&size.to_be_bytes());
        record.extend_from_slice(&root.0);
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_META)?, KEY_HEAD, record);
        batch.put_cf(self.cf(CF_CHECKPOINTS)?, size.to_be_bytes(), note);
        self.db.write(batch).map_err(backend)?;
        *head = Some((size, *root));
        Ok(())
    }

    fn read_checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf(self.cf(CF_CHECKPOINTS)?, size.to_be_bytes())
            .map_err(backend)
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let cf = self.cf(CF_CHECKPOINTS)?;
        match self.db.iterator_cf(cf, IteratorMode::End).next() {
            Some(item) => {
                let (k, v) = item.map_err(backend)?;
                Ok(Some((u64_value(&k, "checkpoint key")?, v.into_vec())))
            }
            None => Ok(None),
        }
    }

    fn flush(&self) -> Result<(), StoreError> {
        // Every committed write is already in the synced WAL; flushing the memtables now means
        // the next start replays no WAL, which is most of a restart's time.
        let families: Vec<&ColumnFamily> = ALL_FAMILIES
            .iter()
            .map(|n| self.cf(n))
            .collect::<Result<_, _>>()?;
        self.db
            .flush_cfs_opt(&families, &rocksdb::FlushOptions::default())
            .map_err(backend)
    }

    fn read_checkpoints(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let cf = self.cf(CF_CHECKPOINTS)?;
        let key = from.to_be_bytes();
        self.db
            .iterator_cf(cf, IteratorMode::From(&key, Direction::Forward))
            .take(limit)
            .map(|item| {
                let (k, v) = item.map_err(backend)?;
                Ok((u64_value(&k, "checkpoint key")?, v.into_vec()))
            })
            .collect()
    }
}
