//! The log's storage on PostgreSQL: the [`Store`] trait over seven tables (`schema.sql`), for
//! operators who keep state in a replicated cluster (Patroni, a managed service) rather than on
//! one machine's disk.
//!
//! A commit is one statement (a `WITH` of inserts), so one transaction: atomic, and durable
//! when it returns under the server's `synchronous_commit` (with `synchronous_standby_names`, on
//! a standby too).
//! Every call runs on one of the store's own threads, each holding a connection: the blocking
//! client drives a runtime of its own, which must not start on a thread that is inside tokio
//! (the server's blocking pool is), so callers only wait on a channel. A connection that broke
//! (a failover) is opened again before the next call; with a libpq multi-host URL and
//! `target_session_attrs=read-write` that finds the new primary.

use glasslog_log::{Commit, KeyId, Store, StoreError, TileKey};
use glasslog_merkle::Hash;
use postgres::{Client, NoTls};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::thread::JoinHandle;

#[cfg(feature = "testing")]
pub mod testing;

/// The migrations, in order; `glasslog_schema` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("lease.sql"),
    include_str!("keys.sql"),
    include_str!("head.sql"),
    include_str!("settings.sql"),
    include_str!("lease_url.sql"),
];

/// How a store holds the sequencer lease.
#[derive(Clone, Debug)]
pub struct LeaseOptions {
    /// This front-end's name in the lease row (for operators reading it).
    pub holder: String,
    /// How long the lease lasts without renewal; it is renewed every third of it.
    pub ttl: std::time::Duration,
    /// Whether a thread renews it (tests turn it off to play a paused front-end).
    pub renew: bool,
    /// Whether to wait for another front-end's lease to end instead of refusing at once: a
    /// standby that takes over when the sequencing front-end dies.
    pub wait: bool,
    /// The URL other front-ends reach this one at, recorded with the lease so that standbys
    /// forward to it ([`LeaseWatch`]); empty when it cannot be reached.
    pub url: String,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        LeaseOptions {
            holder: format!("{}:{}", host.trim(), std::process::id()),
            ttl: std::time::Duration::from_secs(10),
            renew: true,
            wait: false,
            url: String::new(),
        }
    }
}

type Job = Box<dyn FnOnce(&mut Conn) + Send>;

/// A connection and the statements prepared on it: a prepared statement executes in one round
/// trip, where a statement given as text takes two (parse, then execute).
pub(crate) struct Conn {
    client: Client,
    prepared: HashMap<&'static str, postgres::Statement>,
}

impl Conn {
    fn statement(&mut self, sql: &'static str) -> Result<postgres::Statement, StoreError> {
        if let Some(st) = self.prepared.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql).map_err(pg)?;
        self.prepared.insert(sql, st.clone());
        Ok(st)
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, StoreError> {
        let st = self.statement(sql)?;
        self.client.query(&st, params).map_err(pg)
    }

    fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Option<postgres::Row>, StoreError> {
        let st = self.statement(sql)?;
        self.client.query_opt(&st, params).map_err(pg)
    }

    fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let st = self.statement(sql)?;
        self.client.execute(&st, params).map_err(pg)
    }
}

/// Bytes of tile records kept in memory before the cache starts again empty.
const TILE_CACHE_BYTES: usize = 64 << 20;

/// A log's storage in one PostgreSQL database, writable while it holds the sequencer lease.
pub struct PgStore {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    workers: Vec<JoinHandle<()>>,
    // The fencing token this store took the lease with: every write checks it in the database.
    token: i64,
    renewal: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
    // What this process knows of its lease without asking: see `Store::lease`.
    held: Arc<Held>,
    // Grows each time a connection thread finds its connection closed (a database that
    // failed over closes them all): every thread then opens a new one before its next job,
    // instead of each failing one call first, and a read that failed on one is tried again.
    broken: Arc<std::sync::atomic::AtomicU64>,
    // Tile records as this process committed or read them: proofs are answered from here in
    // place (`read_tiles_in_memory`), without a round trip. Valid because this process is the
    // database's only writer (one front-end); several writers will need invalidation.
    tiles: RwLock<TileCache>,
}

/// The lease as the renewal thread last saw it.
struct Held {
    /// When the last renewal that succeeded was *sent* (milliseconds after `since`): the
    /// database's expiry is at least a lease after it, so until then no one else can hold it.
    sent_ms: std::sync::atomic::AtomicU64,
    since: std::time::Instant,
    ttl: std::time::Duration,
    /// A renewal found another token: the lease is gone.
    lost: std::sync::atomic::AtomicBool,
}

impl Held {
    fn new(ttl: std::time::Duration) -> Self {
        Held {
            sent_ms: std::sync::atomic::AtomicU64::new(0),
            since: std::time::Instant::now(),
            ttl,
            lost: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lease(&self) -> glasslog_log::Lease {
        use std::sync::atomic::Ordering::SeqCst;
        if self.lost.load(SeqCst) {
            return glasslog_log::Lease::Lost;
        }
        // A tenth of the lease for clocks that run at slightly different rates.
        let safe = u64::try_from((self.ttl * 9 / 10).as_millis()).unwrap_or(u64::MAX);
        if self.now_ms().saturating_sub(self.sent_ms.load(SeqCst)) < safe {
            glasslog_log::Lease::Held
        } else {
            glasslog_log::Lease::Unsure
        }
    }
}

#[derive(Default)]
struct TileCache {
    records: HashMap<TileKey, Vec<u8>>,
    bytes: usize,
}

impl TileCache {
    fn remove(&mut self, key: &TileKey) {
        if let Some(old) = self.records.remove(key) {
            self.bytes -= old.len();
        }
    }

    fn put(&mut self, key: TileKey, record: Vec<u8>) {
        if self.bytes + record.len() > TILE_CACHE_BYTES {
            *self = TileCache::default();
        }
        self.bytes += record.len();
        if let Some(old) = self.records.insert(key, record) {
            self.bytes -= old.len();
        }
    }
}

impl PgStore {
    /// Connects `connections` times (at least one) to `url` (a libpq URL or key=value string),
    /// applies the migrations not yet applied, takes the sequencer lease with the default
    /// options, and returns the store.
    pub fn open(url: &str, connections: usize) -> Result<Self, StoreError> {
        Self::open_with(url, connections, &LeaseOptions::default())
    }

    /// [`PgStore::open`] with the lease's holder name, duration and renewal given. Another
    /// front-end's live lease is [`StoreError::Locked`], as a RocksDB directory in use is.
    pub fn open_with(
        url: &str,
        connections: usize,
        lease: &LeaseOptions,
    ) -> Result<Self, StoreError> {
        // A standby also waits out a database that cannot be reached (failing over).
        let mut store = loop {
            match Self::connect_all(url, connections) {
                Err(StoreError::Backend(e)) if lease.wait => {
                    tracing::warn!(error = %e, "the database cannot be reached; waiting");
                    std::thread::sleep(lease.ttl / 4);
                }
                other => break other?,
            }
        };
        let held = Arc::new(Held::new(lease.ttl));
        let token = loop {
            let (holder, ttl) = (lease.holder.clone(), lease.ttl.as_secs_f64());
            let addr = lease.url.clone();
            let sent = held.now_ms();
            let taken = store.call(move |c| {
                let row = c.query_opt(
                    "UPDATE glasslog_lease SET holder = $1, token = token + 1, url = $3, \
                     expires_at = now() + make_interval(secs => $2) \
                     WHERE id = 1 AND expires_at < now() RETURNING token",
                    &[&holder, &ttl, &addr],
                )?;
                row.map(|r| r.get::<_, i64>(0)).ok_or(StoreError::Locked)
            });
            match taken {
                Err(StoreError::Locked) if lease.wait => std::thread::sleep(lease.ttl / 4),
                Err(StoreError::Backend(e)) if lease.wait => {
                    tracing::warn!(error = %e, "the lease cannot be read; waiting");
                    std::thread::sleep(lease.ttl / 4);
                }
                other => {
                    held.sent_ms
                        .store(sent, std::sync::atomic::Ordering::SeqCst);
                    break other?;
                }
            }
        };
        store.token = token;
        store.held = Arc::clone(&held);
        if lease.renew {
            store.renewal = Some(renew(url, token, held)?);
        }
        Ok(store)
    }

    /// The fencing token this store holds the lease with.
    pub fn fencing_token(&self) -> i64 {
        self.token
    }

    fn connect_all(url: &str, connections: usize) -> Result<Self, StoreError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut workers = Vec::new();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), StoreError>>();
        let broken = Arc::new(std::sync::atomic::AtomicU64::new(0));
        for n in 0..connections.max(1) {
            let rx = Arc::clone(&rx);
            let broken = Arc::clone(&broken);
            let ready = ready_tx.clone();
            let url = url.to_owned();
            let worker = std::thread::Builder::new()
                .name(format!("glasslog-pg-{n}"))
                .spawn(move || {
                    let mut conn = match connect(&url, n == 0) {
                        Ok(client) => {
                            let _ = ready.send(Ok(()));
                            Conn {
                                client,
                                prepared: HashMap::new(),
                            }
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                            return;
                        }
                    };
                    drop(ready);
                    let mut generation = broken.load(std::sync::atomic::Ordering::SeqCst);
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let now = broken.load(std::sync::atomic::Ordering::SeqCst);
                        if (conn.client.is_closed() || now != generation)
                            && let Ok(client) = connect(&url, false)
                        {
                            // Statements belong to the connection they were prepared on.
                            conn = Conn {
                                client,
                                prepared: HashMap::new(),
                            };
                            generation = now;
                        }
                        // A job that panics (a bug) fails its own call, whose answer channel
                        // drops, and leaves the connection thread serving the others.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            job(&mut conn);
                        }));
                        if conn.client.is_closed() {
                            generation =
                                broken.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                        }
                    }
                })
                .map_err(|e| StoreError::Backend(format!("cannot start a thread: {e}")))?;
            workers.push(worker);
            // The first connection migrates; the others start after it, on the new schema.
            if n == 0 {
                ready_rx
                    .recv()
                    .map_err(|_| StoreError::Backend("the first connection died".into()))??;
            }
        }
        drop(ready_tx);
        for r in ready_rx.iter() {
            r?;
        }
        Ok(PgStore {
            jobs: Mutex::new(Some(tx)),
            workers,
            token: -1,
            renewal: None,
            held: Arc::new(Held::new(std::time::Duration::ZERO)),
            broken,
            tiles: RwLock::new(TileCache::default()),
        })
    }

    /// [`PgStore::call`] for a read, which is tried once more if it failed on a connection
    /// found closed meanwhile (the database failed over): reading twice changes nothing.
    fn read<T: Send + 'static>(
        &self,
        f: impl Fn(&mut Conn) -> Result<T, StoreError> + Clone + Send + 'static,
    ) -> Result<T, StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        let before = self.broken.load(SeqCst);
        match self.call(f.clone()) {
            Err(StoreError::Backend(_)) if self.broken.load(SeqCst) != before => self.call(f),
            other => other,
        }
    }

    /// Runs `f` on a connection thread and waits for its answer.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |client| {
            let _ = tx.send(f(client));
        });
        self.jobs
            .lock()
            .map_err(|_| StoreError::Backend("store lock poisoned".into()))?
            .as_ref()
            .ok_or_else(|| StoreError::Backend("the store is closed".into()))?
            .send(job)
            .map_err(|_| StoreError::Backend("every connection thread has stopped".into()))?;
        rx.recv()
            .map_err(|_| StoreError::Backend("a connection thread stopped".into()))?
    }
}

/// Where the front-end that holds the lease now is reached, read on a connection of its own:
/// what a standby forwards requests to.
pub struct LeaseWatch {
    url: String,
    client: Option<Client>,
}

impl LeaseWatch {
    /// A watch on the lease of the database at `url`; connects at the first read.
    pub fn new(url: &str) -> Self {
        LeaseWatch {
            url: url.to_owned(),
            client: None,
        }
    }

    /// The URL the holder of a live lease advertised, or `None` when no lease is live (the
    /// sequencer died and no one took over yet) or its holder gave none. Blocking.
    pub fn sequencer(&mut self) -> Result<Option<String>, StoreError> {
        let c = match &mut self.client {
            Some(c) if !c.is_closed() => c,
            _ => self.client.insert(connect(&self.url, false)?),
        };
        let row = c
            .query_opt(
                "SELECT url FROM glasslog_lease WHERE id = 1 AND expires_at > now() AND url <> ''",
                &[],
            )
            .map_err(pg)?;
        Ok(row.map(|r| r.get(0)))
    }
}

/// Renews the lease every third of `ttl` on a connection of its own, until told to stop. A
/// renewal that finds another token stops: the lease is lost, and the fencing check in every
/// write refuses this store from then on.
fn renew(
    url: &str,
    token: i64,
    held: Arc<Held>,
) -> Result<(mpsc::Sender<()>, JoinHandle<()>), StoreError> {
    let (stop, stopped) = mpsc::channel::<()>();
    let url = url.to_owned();
    let ttl = held.ttl;
    let secs = ttl.as_secs_f64();
    let handle = std::thread::Builder::new()
        .name("glasslog-pg-lease".into())
        .spawn(move || {
            let mut client: Option<Client> = None;
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(ttl / 3) {
                if client.as_ref().is_none_or(Client::is_closed) {
                    client = connect(&url, false).ok();
                }
                let Some(c) = client.as_mut() else { continue };
                // No row: another token holds the lease, it is lost. An error (the primary is
                // failing over) tries again next round, while the lease may still run.
                let sent = held.now_ms();
                match c.execute(
                    "UPDATE glasslog_lease SET expires_at = now() + make_interval(secs => $2) \
                     WHERE id = 1 AND token = $1",
                    &[&token, &secs],
                ) {
                    Ok(0) => {
                        held.lost.store(true, std::sync::atomic::Ordering::SeqCst);
                        return;
                    }
                    Ok(_) => held
                        .sent_ms
                        .store(sent, std::sync::atomic::Ordering::SeqCst),
                    Err(_) => {}
                }
            }
        })
        .map_err(|e| StoreError::Backend(format!("cannot start a thread: {e}")))?;
    Ok((stop, handle))
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.renewal.take() {
            drop(stop);
            let _ = handle.join();
        }
        // A clean close hands the lease over at once instead of after it expires.
        if self.token >= 0 {
            let token = self.token;
            let _ = self.call(move |c| {
                c.execute(
                    "UPDATE glasslog_lease SET expires_at = 'epoch' WHERE id = 1 AND token = $1",
                    &[&token],
                )
            });
        }
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// How long bytes sent to the database may go unacknowledged by its host before the
/// connection is given up, and how soon an idle one is probed, unless the URL says otherwise.
/// Without them a connection across a partition (packets dropped, not refused) waits for
/// TCP's own limits, many minutes, and `connect_timeout` covers only the socket's connect, not
/// the startup that follows. The peer's kernel acknowledges at once however slow the database
/// is, so this does not cut off a slow commit.
const DARK_LINK: std::time::Duration = std::time::Duration::from_secs(5);

/// The connection settings of `url`, with [`DARK_LINK`] where it sets none.
fn config(url: &str) -> Result<postgres::Config, StoreError> {
    let mut config: postgres::Config = url.parse().map_err(pg)?;
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(DARK_LINK);
    }
    // The client's default idle time before the first probe is two hours.
    if config.get_keepalives_idle() >= std::time::Duration::from_secs(7200) {
        config.keepalives_idle(DARK_LINK);
    }
    Ok(config)
}

fn connect(url: &str, migrate: bool) -> Result<Client, StoreError> {
    let mut client = config(url)?.connect(NoTls).map_err(pg)?;
    if migrate {
        apply_migrations(&mut client)?;
    }
    Ok(client)
}

fn apply_migrations(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(pg)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS glasslog_schema (version integer NOT NULL)")
        .map_err(pg)?;
    // One migrator at a time, even with several front-ends starting together.
    tx.batch_execute("LOCK TABLE glasslog_schema IN EXCLUSIVE MODE")
        .map_err(pg)?;
    let done: i32 = tx
        .query_opt("SELECT version FROM glasslog_schema", &[])
        .map_err(pg)?
        .map_or(0, |row| row.get(0));
    let done = usize::try_from(done).unwrap_or(0);
    if done > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database is at schema version {done}, newer than this glasslog ({})",
            MIGRATIONS.len()
        )));
    }
    for sql in &MIGRATIONS[done..] {
        tx.batch_execute(sql).map_err(pg)?;
    }
    let version = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    tx.execute("DELETE FROM glasslog_schema", &[]).map_err(pg)?;
    tx.execute(
        "INSERT INTO glasslog_schema (version) VALUES ($1)",
        &[&version],
    )
    .map_err(pg)?;
    tx.commit().map_err(pg)
}

fn lost(token: i64) -> StoreError {
    StoreError::LeaseLost(format!(
        "this front-end no longer holds the sequencer lease (fencing token {token}): another one sequences now"
    ))
}

fn pg(e: postgres::Error) -> StoreError {
    // The message names the failing statement's error, never the parameters (entry bytes).
    StoreError::Backend(format!("postgres: {e}"))
}

fn idx(i: u64) -> Result<i64, StoreError> {
    i64::try_from(i)
        .map_err(|_| StoreError::Backend(format!("index {i} is beyond PostgreSQL's bigint")))
}

/// A query's bound: an index past PostgreSQL's bigint holds nothing, so it bounds as the largest.
fn bound(i: u64) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

fn unidx(i: i64) -> Result<u64, StoreError> {
    u64::try_from(i).map_err(|_| StoreError::Corrupt(format!("negative index {i}")))
}

/// Keeps the last value given for each key, in first-seen order: one statement may not touch a
/// row twice (`ON CONFLICT DO UPDATE`), and a batch may carry the same leaf twice.
fn last_per_key<K: std::hash::Hash + Eq + Clone, V: Clone>(pairs: &[(K, V)]) -> Vec<(K, V)> {
    let mut at: HashMap<K, usize> = HashMap::with_capacity(pairs.len());
    let mut out: Vec<(K, V)> = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        match at.get(k) {
            Some(&i) => out[i].1 = v.clone(),
            None => {
                at.insert(k.clone(), out.len());
                out.push((k.clone(), v.clone()));
            }
        }
    }
    out
}

impl PgStore {
    fn read_tiles_from_db(&self, keys: &[TileKey]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let levels: Vec<i16> = keys.iter().map(|k| i16::from(k.level)).collect();
        let indices: Vec<i64> = keys.iter().map(|k| bound(k.index)).collect();
        let keys = keys.to_vec();
        self.read(move |c| {
            let rows = c.query(
                "SELECT t.level, t.idx, t.record FROM glasslog_tiles t \
                     JOIN UNNEST($1::int2[], $2::int8[]) AS k(level, idx) \
                     ON t.level = k.level AND t.idx = k.idx",
                &[&levels, &indices],
            )?;
            let mut found: HashMap<(i16, i64), Vec<u8>> = HashMap::with_capacity(rows.len());
            for r in rows {
                found.insert((r.get(0), r.get(1)), r.get(2));
            }
            keys.iter()
                .map(|k| Ok(found.get(&(i16::from(k.level), bound(k.index))).cloned()))
                .collect()
        })
    }
}

impl Store for PgStore {
    fn lease(&self) -> glasslog_log::Lease {
        // A store opened without taking the lease (never written through) holds nothing.
        if self.token < 0 {
            return glasslog_log::Lease::Unsure;
        }
        self.held.lease()
    }

    fn tree_size(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let row = c.query_opt("SELECT v FROM glasslog_meta WHERE k = 'tree_size'", &[])?;
            row.map_or(Ok(0), |r| unidx(r.get(0)))
        })
    }

    fn read_tiles_in_memory(
        &self,
        keys: &[TileKey],
    ) -> Result<Option<Vec<Option<Vec<u8>>>>, StoreError> {
        let cache = self
            .tiles
            .read()
            .map_err(|_| StoreError::Backend("tile cache poisoned".into()))?;
        Ok(keys
            .iter()
            .map(|k| cache.records.get(k).cloned().map(Some))
            .collect())
    }

    fn read_tiles(&self, keys: &[TileKey]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if let Some(all) = self.read_tiles_in_memory(keys)? {
            return Ok(all);
        }
        let found = self.read_tiles_from_db(keys)?;
        if let Ok(mut cache) = self.tiles.write() {
            for (k, r) in keys.iter().zip(&found) {
                if let Some(r) = r {
                    cache.put(*k, r.clone());
                }
            }
        }
        Ok(found)
    }

    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let (s, e) = (bound(start), bound(end));
        self.read(move |c| {
            let rows = c.query(
                "SELECT idx, data FROM glasslog_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                &[&s, &e],
            )?;
            // Stop at the first missing index, as every backend does.
            let mut out = Vec::with_capacity(rows.len());
            for (i, r) in rows.iter().enumerate() {
                let want = i64::try_from(i).ok().and_then(|i| s.checked_add(i));
                if want != Some(r.get::<_, i64>(0)) {
                    break;
                }
                out.push(r.get(1));
            }
            Ok(out)
        })
    }

    fn find_identity(&self, identity: &Hash) -> Result<Option<u64>, StoreError> {
        let h = identity.0.to_vec();
        self.read(move |c| {
            c.query_opt("SELECT idx FROM glasslog_identity WHERE hash = $1", &[&h])?
                .map(|r| unidx(r.get(0)))
                .transpose()
        })
    }

    fn find_leaf(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        let h = leaf.0.to_vec();
        self.read(move |c| {
            c.query_opt("SELECT idx FROM glasslog_leaf WHERE hash = $1", &[&h])?
                .map(|r| unidx(r.get(0)))
                .transpose()
        })
    }

    fn tagged(&self, tag: &str, from: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        let (tag, from) = (tag.to_owned(), bound(from));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            c.query(
                "SELECT idx FROM glasslog_tags WHERE tag = $1 AND idx >= $2 ORDER BY idx LIMIT $3",
                &[&tag, &from, &limit],
            )?
            .iter()
            .map(|r| unidx(r.get(0)))
            .collect()
        })
    }

    fn tagged_before(&self, tag: &str, below: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        let (tag, below) = (tag.to_owned(), bound(below));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            // The primary key (tag, idx) is walked backwards: an index scan, no sort.
            c.query(
                "SELECT idx FROM glasslog_tags WHERE tag = $1 AND idx < $2 ORDER BY idx DESC LIMIT $3",
                &[&tag, &below, &limit],
            )?
            .iter()
            .map(|r| unidx(r.get(0)))
            .collect()
        })
    }

    fn scope_key(&self, scope: &KeyId) -> Result<Option<KeyId>, StoreError> {
        let scope = scope.to_vec();
        self.read(move |c| {
            c.query_opt(
                "SELECT id FROM glasslog_key_scopes WHERE scope = $1",
                &[&scope],
            )?
            .map(|r| {
                KeyId::try_from(r.get::<_, &[u8]>(0))
                    .map_err(|_| StoreError::Corrupt("a scope's key id is not 16 bytes".into()))
            })
            .transpose()
        })
    }

    fn data_key(&self, id: &KeyId) -> Result<Option<Vec<u8>>, StoreError> {
        let id = id.to_vec();
        self.read(move |c| {
            Ok(
                c.query_opt("SELECT record FROM glasslog_keys WHERE id = $1", &[&id])?
                    .map(|r| r.get(0)),
            )
        })
    }

    fn data_keys(
        &self,
        after: Option<KeyId>,
        limit: usize,
    ) -> Result<Vec<(KeyId, Vec<u8>)>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // An empty bytea sorts before every id, so no bound means all of them.
        let after = after.map(|a| a.to_vec()).unwrap_or_default();
        self.read(move |c| {
            c.query(
                "SELECT id, record FROM glasslog_keys WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &limit],
            )?
            .iter()
            .map(|r| {
                let id = KeyId::try_from(r.get::<_, &[u8]>(0))
                    .map_err(|_| StoreError::Corrupt("a key id is not 16 bytes".into()))?;
                Ok((id, r.get(1)))
            })
            .collect()
        })
    }

    fn erase_keys(
        &self,
        tombstones: &[(KeyId, Vec<u8>)],
        scopes: &[KeyId],
    ) -> Result<(), StoreError> {
        let ti: Vec<Vec<u8>> = tombstones.iter().map(|(i, _)| i.to_vec()).collect();
        let tr: Vec<Vec<u8>> = tombstones.iter().map(|(_, r)| r.clone()).collect();
        let sc: Vec<Vec<u8>> = scopes.iter().map(|s| s.to_vec()).collect();
        let token = self.token;
        // One statement, fenced like a commit. The old row versions stay in the heap until
        // VACUUM and in the WAL (and its archive) until it is recycled: ARCHITECTURE.md says
        // what an operator of PostgreSQL must do for an erasure to reach the disk.
        self.call(move |c| {
            let written = c.execute(
                "WITH f AS (SELECT token FROM glasslog_lease WHERE id = 1 AND token = $4 FOR SHARE), \
                 d AS (DELETE FROM glasslog_key_scopes WHERE scope = ANY($3::bytea[]) \
                     AND EXISTS (SELECT 1 FROM f)) \
                 UPDATE glasslog_keys SET record = t.record \
                 FROM UNNEST($1::bytea[], $2::bytea[]) AS t(id, record) \
                 WHERE glasslog_keys.id = t.id AND EXISTS (SELECT 1 FROM f)",
                &[&ti, &tr, &sc, &token],
            )?;
            if usize::try_from(written).is_ok_and(|w| w == ti.len()) {
                Ok(())
            } else {
                Err(lost(token))
            }
        })
    }

    fn delete_tags(&self, tags: &[(String, u64)]) -> Result<(), StoreError> {
        let gt: Vec<String> = tags.iter().map(|(t, _)| t.clone()).collect();
        let gi = tags
            .iter()
            .map(|(_, i)| idx(*i))
            .collect::<Result<Vec<i64>, _>>()?;
        let token = self.token;
        self.call(move |c| {
            // Fenced like a commit: the lease row must still be ours.
            let held = c.query_opt(
                "SELECT 1 FROM glasslog_lease WHERE id = 1 AND token = $1",
                &[&token],
            )?;
            if held.is_none() {
                return Err(lost(token));
            }
            c.execute(
                "DELETE FROM glasslog_tags WHERE (tag, idx) IN \
                 (SELECT * FROM UNNEST($1::text[], $2::int8[]))",
                &[&gt, &gi],
            )?;
            Ok(())
        })
    }

    fn commit(&self, commit: &Commit) -> Result<(), StoreError> {
        let (ei, ed): (Vec<i64>, Vec<Vec<u8>>) = {
            let mut i = Vec::with_capacity(commit.entries.len());
            let mut d = Vec::with_capacity(commit.entries.len());
            for (index, data) in &commit.entries {
                i.push(idx(*index)?);
                d.push(data.clone());
            }
            (i, d)
        };
        let split = |pairs: Vec<(Hash, u64)>| -> Result<(Vec<Vec<u8>>, Vec<i64>), StoreError> {
            let mut h = Vec::with_capacity(pairs.len());
            let mut i = Vec::with_capacity(pairs.len());
            for (hash, index) in pairs {
                h.push(hash.0.to_vec());
                i.push(idx(index)?);
            }
            Ok((h, i))
        };
        let (ih, ii) = split(last_per_key(&commit.identities))?;
        let (lh, li) = split(last_per_key(&commit.leaves))?;
        let tiles = last_per_key(&commit.tiles);
        let tl: Vec<i16> = tiles.iter().map(|(k, _)| i16::from(k.level)).collect();
        let ti = tiles
            .iter()
            .map(|(k, _)| idx(k.index))
            .collect::<Result<Vec<i64>, _>>()?;
        let tr: Vec<Vec<u8>> = tiles.into_iter().map(|(_, r)| r).collect();
        let gt: Vec<String> = commit.tags.iter().map(|(t, _)| t.clone()).collect();
        let gi = commit
            .tags
            .iter()
            .map(|(_, i)| idx(*i))
            .collect::<Result<Vec<i64>, _>>()?;
        let ki: Vec<Vec<u8>> = commit.keys.iter().map(|k| k.id.to_vec()).collect();
        let kr: Vec<Vec<u8>> = commit.keys.iter().map(|k| k.record.clone()).collect();
        let ks: Vec<Vec<u8>> = commit.keys.iter().map(|k| k.scope.to_vec()).collect();
        let size = idx(commit.tree_size)?;
        let token = self.token;
        let written = commit.tiles.clone();
        let result = self.call(move |c| {
            // One statement, so one transaction and two round trips (parse, execute): every
            // data-modifying part of a WITH runs, all or none of them.
            // The lease row, locked for the statement: a takeover waits until this commit is
            // done, and after one the token no longer matches, so nothing below is written.
            let written = c.execute(
                "WITH f AS (SELECT token FROM glasslog_lease WHERE id = 1 AND token = $13 FOR SHARE), \
                 e AS (INSERT INTO glasslog_entries (idx, data) \
                     SELECT * FROM UNNEST($1::int8[], $2::bytea[]) WHERE EXISTS (SELECT 1 FROM f)), \
                 i AS (INSERT INTO glasslog_identity (hash, idx) \
                     SELECT * FROM UNNEST($3::bytea[], $4::int8[]) WHERE EXISTS (SELECT 1 FROM f) \
                     ON CONFLICT (hash) DO UPDATE SET idx = EXCLUDED.idx), \
                 l AS (INSERT INTO glasslog_leaf (hash, idx) \
                     SELECT * FROM UNNEST($5::bytea[], $6::int8[]) WHERE EXISTS (SELECT 1 FROM f) \
                     ON CONFLICT (hash) DO UPDATE SET idx = EXCLUDED.idx), \
                 t AS (INSERT INTO glasslog_tiles (level, idx, record) \
                     SELECT * FROM UNNEST($7::int2[], $8::int8[], $9::bytea[]) \
                     WHERE EXISTS (SELECT 1 FROM f) \
                     ON CONFLICT (level, idx) DO UPDATE SET record = EXCLUDED.record), \
                 g AS (INSERT INTO glasslog_tags (tag, idx) \
                     SELECT * FROM UNNEST($10::text[], $11::int8[]) WHERE EXISTS (SELECT 1 FROM f) \
                     ON CONFLICT DO NOTHING), \
                 k AS (INSERT INTO glasslog_keys (id, record) \
                     SELECT * FROM UNNEST($14::bytea[], $15::bytea[]) WHERE EXISTS (SELECT 1 FROM f)), \
                 s AS (INSERT INTO glasslog_key_scopes (scope, id) \
                     SELECT * FROM UNNEST($16::bytea[], $14::bytea[]) WHERE EXISTS (SELECT 1 FROM f) \
                     ON CONFLICT (scope) DO UPDATE SET id = EXCLUDED.id) \
                 INSERT INTO glasslog_meta (k, v) SELECT 'tree_size', $12 WHERE EXISTS (SELECT 1 FROM f) \
                 ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
                &[
                    &ei, &ed, &ih, &ii, &lh, &li, &tl, &ti, &tr, &gt, &gi, &size, &token, &ki, &kr,
                    &ks,
                ],
            )?;
            if written == 1 {
                Ok(())
            } else {
                Err(lost(token))
            }
        });
        let mut cache = self
            .tiles
            .write()
            .map_err(|_| StoreError::Backend("tile cache poisoned".into()))?;
        match result {
            Ok(()) => {
                for (k, r) in written {
                    cache.put(k, r);
                }
                Ok(())
            }
            Err(e) => {
                // A commit that failed may still have landed (the answer was lost): its tiles
                // are no longer known, and the sequencer's reload must read them from the
                // database, not an older copy from here.
                for (k, _) in &written {
                    cache.remove(k);
                }
                Err(e)
            }
        }
    }

    fn put_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        let (size, note) = (idx(size)?, note.to_vec());
        // A checkpoint need not be durable on return (the log re-signs the same head after a
        // crash), so it does not wait for a WAL flush of its own: one round trip, in the
        // simple protocol, with the note as a hex literal (digits and a-f only, and the size
        // a number, so nothing in it is SQL).
        let hex = hex::encode(note);
        let token = self.token;
        let sql = format!(
            "BEGIN; SET LOCAL synchronous_commit = off; \
             INSERT INTO glasslog_checkpoints (size, note) SELECT {size}, '\\x{hex}'::bytea \
             WHERE EXISTS (SELECT 1 FROM glasslog_lease WHERE id = 1 AND token = {token} FOR SHARE) \
             ON CONFLICT (size) DO UPDATE SET note = EXCLUDED.note; COMMIT"
        );
        self.call(move |c| {
            let inserted = c
                .client
                .simple_query(&sql)
                .map_err(pg)?
                .iter()
                .filter_map(|m| match m {
                    postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n),
                    _ => None,
                })
                .sum::<u64>();
            if inserted == 1 {
                Ok(())
            } else {
                Err(lost(token))
            }
        })
    }

    fn setting(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let name = name.to_owned();
        self.read(move |c| {
            Ok(c.query_opt(
                "SELECT value FROM glasslog_settings WHERE name = $1",
                &[&name],
            )?
            .map(|r| r.get(0)))
        })
    }

    fn put_setting(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        let (name, value, token) = (name.to_owned(), value.to_vec(), self.token);
        self.call(move |c| {
            // Fenced like a commit, and durable as one (the server's synchronous_commit): a
            // token revoked here is revoked on whichever front-end sequences next.
            let written = c.execute(
                "WITH f AS (SELECT token FROM glasslog_lease WHERE id = 1 AND token = $3 FOR SHARE) \
                 INSERT INTO glasslog_settings (name, value) SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM f) \
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                &[&name, &value, &token],
            )?;
            if written == 1 { Ok(()) } else { Err(lost(token)) }
        })
    }

    fn head(&self) -> Result<Option<(u64, Hash)>, StoreError> {
        self.read(|c| {
            let row = c.query_opt("SELECT size, root FROM glasslog_head WHERE id = 1", &[])?;
            let Some(row) = row else { return Ok(None) };
            let (size, root): (i64, Vec<u8>) = (row.get(0), row.get(1));
            if size < 0 {
                return Ok(None);
            }
            let root = <[u8; 32]>::try_from(root.as_slice())
                .map_err(|_| StoreError::Corrupt("the head's root is not 32 bytes".into()))?;
            Ok(Some((unidx(size)?, Hash(root))))
        })
    }

    fn swap_head(
        &self,
        previous: Option<(u64, Hash)>,
        size: u64,
        root: &Hash,
        note: &[u8],
    ) -> Result<(), StoreError> {
        let (was_size, was_root) = match previous {
            Some((s, r)) => (idx(s)?, hex::encode(r.0)),
            None => (-1, String::new()),
        };
        let (size, root, note) = (idx(size)?, hex::encode(root.0), hex::encode(note));
        let token = self.token;
        // Like a checkpoint, the head need not be durable on return, so it waits for no WAL
        // flush of its own: one round trip in the simple protocol, every value a number or a
        // hex literal (so nothing in it is SQL). Fenced like a commit; then the head row's
        // UPDATE is the compare-and-swap, and a second writer waits on the row lock and then
        // finds the head moved.
        let sql = format!(
            "BEGIN; SET LOCAL synchronous_commit = off; \
             WITH f AS (SELECT token FROM glasslog_lease WHERE id = 1 AND token = {token} FOR SHARE), \
             h AS (UPDATE glasslog_head SET size = {size}, root = '\\x{root}'::bytea \
                 WHERE id = 1 AND size = {was_size} AND root = '\\x{was_root}'::bytea \
                 AND EXISTS (SELECT 1 FROM f) RETURNING 1), \
             n AS (INSERT INTO glasslog_checkpoints (size, note) \
                 SELECT {size}, '\\x{note}'::bytea WHERE EXISTS (SELECT 1 FROM h) \
                 ON CONFLICT (size) DO UPDATE SET note = EXCLUDED.note) \
             SELECT EXISTS (SELECT 1 FROM f)::int, EXISTS (SELECT 1 FROM h)::int; COMMIT"
        );
        self.call(move |c| {
            let answer = c.client.simple_query(&sql).map_err(pg)?;
            let row = answer.iter().find_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => Some((r.get(0), r.get(1))),
                _ => None,
            });
            match row {
                Some((Some("1"), Some("1"))) => Ok(()),
                Some((Some("1"), _)) => Err(StoreError::HeadMoved),
                _ => Err(lost(token)),
            }
        })
    }

    fn read_checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let size = bound(size);
        self.read(move |c| {
            Ok(c.query_opt(
                "SELECT note FROM glasslog_checkpoints WHERE size = $1",
                &[&size],
            )?
            .map(|r| r.get(0)))
        })
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.read(|c| {
            c.query_opt(
                "SELECT size, note FROM glasslog_checkpoints ORDER BY size DESC LIMIT 1",
                &[],
            )?
            .map(|r| Ok((unidx(r.get(0))?, r.get(1))))
            .transpose()
        })
    }

    fn read_checkpoints(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let from = bound(from);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            c.query(
                "SELECT size, note FROM glasslog_checkpoints WHERE size >= $1 ORDER BY size LIMIT $2",
                &[&from, &limit],
            )
            ?
            .iter()
            .map(|r| Ok((unidx(r.get(0))?, r.get(1))))
            .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{DARK_LINK, config, last_per_key};

    /// A URL that sets no TCP limits gets ones that give up on a dark link within seconds; one
    /// that sets them keeps its own.
    #[test]
    fn a_connection_gives_up_on_a_dark_link_unless_told_otherwise() {
        let c = config("postgresql://u@h1:1,h2:2/db?target_session_attrs=read-write").unwrap();
        assert_eq!(c.get_tcp_user_timeout(), Some(&DARK_LINK));
        assert_eq!(c.get_keepalives_idle(), DARK_LINK);
        let c = config("host=h user=u tcp_user_timeout=30 keepalives_idle=60").unwrap();
        assert_eq!(
            c.get_tcp_user_timeout(),
            Some(&std::time::Duration::from_secs(30))
        );
        assert_eq!(c.get_keepalives_idle(), std::time::Duration::from_secs(60));
    }

    #[test]
    fn the_last_value_of_a_key_wins_in_first_seen_order() {
        let pairs = [(1, 'a'), (2, 'b'), (1, 'c'), (3, 'd'), (2, 'e')];
        assert_eq!(last_per_key(&pairs), vec![(1, 'c'), (2, 'e'), (3, 'd')]);
    }
}
