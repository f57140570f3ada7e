//! Start-up: the data directory and its secret files, the log, the token store, the
//! break-glass engine, witness cosigning, then the listener until shutdown.

use crate::auth::{Role, TokenStore};
use crate::config::ServerConfig;
use crate::state::AppState;
use crate::{auth, breakglass, cosign, listener, metrics, routes};
use glasslog_ingest::Sanitizer;
use glasslog_log::{
    Log, LogConfig, LogSigner, RocksOptions, RocksStore, load_or_create_mldsa_signer,
    load_or_create_signer,
};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The data directory could not be prepared.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The witness policy file does not read, parse, or fit the witness list.
    #[error("witness policy {path}: {reason}")]
    WitnessPolicy {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A witness's verifier key file.
    #[error("witness verifier key {path}: {source}")]
    WitnessKey {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The signing key.
    #[error(transparent)]
    Key(#[from] glasslog_log::KeyFileError),
    /// The ML-DSA-44 key is not named by the origin.
    #[error(transparent)]
    LogKeys(#[from] glasslog_log::LogSignerError),
    /// `sign_ed25519 = false` without an ML-DSA-44 key: nothing would sign.
    #[error("sign_ed25519 = false needs mldsa_key_file: the log would have no key")]
    NoLogKey,
    /// `[pkcs11]` and `key_file`, or `[pkcs11]` and `sign_ed25519 = false`.
    #[error("[pkcs11] holds the Ed25519 checkpoint key: {0}")]
    Pkcs11Conflict(&'static str),
    /// Another front-end sequences on this PostgreSQL database.
    #[error(
        "another front-end holds the sequencer lease in this database; set store_standby = true to wait and take over when it stops"
    )]
    LeaseHeld,
    /// This front-end lost the sequencer lease while serving (paused or cut off past its
    /// expiry) and another one sequences now. It wrote nothing after losing it; started again
    /// with `store_standby = true` it waits to take over.
    #[error(
        "another front-end took over the sequencer lease; this one stopped without writing again (restart it to wait as a standby)"
    )]
    Superseded,
    /// `[rotation]` cannot be applied.
    #[error("[rotation]: {0}")]
    Rotation(String),
    /// The master key of encryption at rest.
    #[error("[encryption]: {0}")]
    MasterKey(#[from] crate::protect::MasterKeyError),
    /// Encryption settings that cannot work.
    #[error("{0}")]
    Encryption(String),
    /// Opening the token failed inside the vendor's module.
    #[error("the PKCS#11 module failed while the token key was opened")]
    Pkcs11Module,
    /// The token key cannot be opened.
    #[error(transparent)]
    Pkcs11(#[from] crate::config::Pkcs11SettingsError),
    /// The log could not be opened or recovered.
    #[error(transparent)]
    Log(#[from] glasslog_log::LogError),
    /// The storage could not be opened.
    #[error(transparent)]
    Store(#[from] glasslog_log::StoreError),
    /// The ingestion policy is invalid.
    #[error(transparent)]
    Policy(#[from] glasslog_ingest::PolicyError),
    /// The break-glass policy is invalid.
    #[error(transparent)]
    BreakGlass(#[from] glasslog_breakglass::PolicyError),
    /// The token file.
    #[error(transparent)]
    Tokens(#[from] auth::TokenError),
    /// The TLS certificate or key.
    #[error(transparent)]
    Tls(#[from] listener::TlsError),
    /// The witness list or its quorum.
    #[error(transparent)]
    Witnesses(#[from] cosign::WitnessConfigError),
    /// The listening socket.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Applies `[rotation]`: the previous key (a file, or a key pair in the `[pkcs11]` token) and
/// the retired verifier keys.
async fn rotate(
    signer: LogSigner,
    r: &crate::config::RotationSettings,
    config: &ServerConfig,
) -> Result<LogSigner, ServeError> {
    let bad = |why: String| ServeError::Rotation(why);
    let retired = r
        .retired_vkeys
        .iter()
        .map(|v| {
            glasslog_merkle::Ed25519Verifier::from_vkey(v)
                .map_err(|e| bad(format!("retired key {v:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let signer = match (&r.previous_key_file, &r.previous_pkcs11_key, &config.pkcs11) {
        (Some(path), None, _) => {
            let old = glasslog_log::load_signer(path, &config.origin)?;
            signer.with_previous(old, r.overlap_until)
        }
        (None, Some(label), Some(p11)) => {
            let mut token = p11.token_config()?;
            token.key_label.clone_from(label);
            let old = open_token(token, &config.origin).await?;
            signer.with_previous(old, r.overlap_until)
        }
        (None, Some(_), None) => {
            return Err(bad("previous_pkcs11_key needs [pkcs11]".into()));
        }
        (None, None, _) => Ok(signer),
        (Some(_), Some(_), _) => {
            return Err(bad(
                "give previous_key_file or previous_pkcs11_key, not both".into(),
            ));
        }
    }?;
    Ok(signer.with_retired(retired)?)
}

/// Opens a key pair in a PKCS#11 token on the blocking pool: loading the vendor's module and
/// logging in are blocking calls.
async fn open_token(
    token: glasslog_hsm::TokenConfig,
    origin: &str,
) -> Result<glasslog_hsm::TokenKey, ServeError> {
    let origin = origin.to_owned();
    tokio::task::spawn_blocking(move || glasslog_hsm::TokenKey::open(token, &origin))
        .await
        .map_err(|_| ServeError::Pkcs11Module)?
        .map_err(|e| ServeError::Pkcs11(e.into()))
}

/// Publishes the log into `dir` at start and after new checkpoints, on the blocking pool, at
/// most every [`PUBLISH_EVERY`]; checkpoints that arrive meanwhile are coalesced into one run.
fn publish_tiles(log: Arc<Log>, dir: &Path) -> Result<(), ServeError> {
    let publisher = glasslog_log::DirPublisher::open(dir).map_err(|e| ServeError::DataDir {
        path: dir.to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let publisher = Arc::new(std::sync::Mutex::new(publisher));
    let mut changes = log.subscribe();
    tokio::spawn(async move {
        loop {
            let (log, publisher) = (Arc::clone(&log), Arc::clone(&publisher));
            let run = tokio::task::spawn_blocking(move || {
                let mut p = publisher
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                p.publish(&log)
            })
            .await;
            match run {
                Ok(Ok(_)) => {}
                // An empty ML-DSA-only log has nothing to publish yet.
                Ok(Err(glasslog_log::PublishError::Log(
                    glasslog_log::LogError::NoCheckpointYet,
                ))) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "publishing tiles failed; retried at the next checkpoint")
                }
                Err(_) => tracing::warn!("the tile publisher stopped"),
            }
            // At most four runs a second: each new checkpoint rewrites the right-edge partial
            // tiles, and a run per small batch cost single-entry ingest 40% (BENCHMARKS.md).
            tokio::time::sleep(PUBLISH_EVERY).await;
            if changes.changed().await.is_err() {
                return;
            }
        }
    });
    Ok(())
}

/// A standby's forwarding: the listener it shares with the server that follows, and the
/// thread that watches the lease.
struct Forwarding {
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<()>,
    watching: Arc<std::sync::atomic::AtomicBool>,
}

impl Forwarding {
    /// Stops forwarding: requests under way get a second to finish (one forwarded to a
    /// sequencer that stopped answering would wait out its timeout), then are cut off, and
    /// their callers retry here.
    async fn stop(mut self) {
        self.watching
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = self.stop.send(());
        if tokio::time::timeout(std::time::Duration::from_secs(1), &mut self.serving)
            .await
            .is_err()
        {
            self.serving.abort();
        }
    }
}

/// Serves `forward::router` on a second handle of `listener` until stopped; returns the first.
fn start_forwarding(
    listener: tokio::net::TcpListener,
    url: &str,
    own: &str,
    max_body: usize,
    lease: std::time::Duration,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: listener::Limits,
) -> Result<(tokio::net::TcpListener, Forwarding), ServeError> {
    let at = listener
        .local_addr()
        .unwrap_or(std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
    let io = |source: std::io::Error| ServeError::Listen { addr: at, source };
    let std_listener = listener.into_std().map_err(io)?;
    let second = std_listener.try_clone().map_err(io)?;
    let listener = tokio::net::TcpListener::from_std(std_listener).map_err(io)?;
    let second = tokio::net::TcpListener::from_std(second).map_err(io)?;
    let fwd = crate::forward::Forwarder::new(max_body, lease);
    let watching = Arc::new(std::sync::atomic::AtomicBool::new(false));
    crate::forward::watch(
        Arc::clone(&fwd),
        glasslog_postgres::LeaseWatch::new(url),
        own.to_owned(),
        lease / 4,
        Arc::clone(&watching),
    )
    .map_err(io)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(listener::run(
        second,
        crate::forward::router(fwd),
        tls,
        limits,
        async move {
            let _ = stopped.await;
        },
    ));
    Ok((
        listener,
        Forwarding {
            stop,
            serving,
            watching,
        },
    ))
}

/// The shortest time between two runs of the tile publisher: its publication lag.
const PUBLISH_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// The tag of the entries that record the log's signing keys.
pub const SIGNING_KEYS_TAG: &str = "glasslog:signing-keys";

/// Records the signing keys in force as an entry in the log when they differ from the last
/// such entry (or there is none): a rotation is on the record, and during the overlap the
/// checkpoint that covers the record carries the old key's signature, so a client that
/// trusts only the old key learns the new one from the log itself.
async fn record_signing_keys(log: &Arc<Log>, sanitizer: &Arc<Sanitizer>) -> Result<(), ServeError> {
    use sha2::Digest as _;
    let keys = serde_json::json!({
        "signers": log.keys().iter().map(glasslog_merkle::LogKey::vkey).collect::<Vec<_>>(),
        "previous": log.previous_key().map(|(vkey, until)| serde_json::json!({
            "signer": vkey,
            "cosigns_until": until,
        })),
        "retired": log.retired_keys(),
    });
    let digest =
        glasslog_merkle::Hash(sha2::Sha256::digest(keys.to_string().as_bytes()).into()).to_hex();
    let reader = Arc::clone(log);
    let wanted = digest.clone();
    // Whether a record exists, and whether the last one is this key set.
    let recorded =
        tokio::task::spawn_blocking(move || -> Result<Option<bool>, glasslog_log::LogError> {
            let (mut from, mut last) = (0, None);
            loop {
                let page = reader.tagged(SIGNING_KEYS_TAG, from, 256)?;
                let Some(&end) = page.last() else { break };
                last = Some(end);
                from = end + 1;
            }
            last.map(|i| {
                reader
                    .entry(i)
                    .map(|e| String::from_utf8_lossy(&e).contains(&wanted))
            })
            .transpose()
        })
        .await
        .map_err(|_| ServeError::Rotation("the key record could not be read".into()))??;
    let rotating = log.previous_key().is_some() || !log.retired_keys().is_empty();
    match recorded {
        Some(true) => return Ok(()),
        // A log that never rotated has its first key out of band, where its users found it.
        None if !rotating => return Ok(()),
        _ => {}
    }
    let event = serde_json::json!({
        "actor": { "user": "glasslog", "type": "service" },
        "action": "glasslog.signing_keys",
        "resource": { "name": log.origin(), "type": "log" },
        "outcome": "success",
        "source": { "service": "glasslog" },
        "details": { "signing": keys, "digest": digest },
    });
    let sanitizer = Arc::clone(sanitizer);
    let s = tokio::task::spawn_blocking(move || {
        sanitizer.sanitize(
            "glasslog",
            glasslog_ingest::Body::Event(event),
            crate::clock::now_ms(),
        )
    })
    .await
    .map_err(|_| ServeError::Rotation("the key record could not be sanitized".into()))?
    .map_err(|e| ServeError::Rotation(format!("the key record was refused: {e}")))?;
    log.append(vec![glasslog_log::NewEntry {
        data: s.encoded.bytes,
        identity: glasslog_log::Identity::Leaf,
        tags: vec![SIGNING_KEYS_TAG.to_owned()],
        subject: crate::protect::system_subject(),
    }])
    .await?;
    tracing::info!(digest = %digest, "signing keys recorded in the log");
    Ok(())
}

fn fingerprint_key(dir: &Path) -> Result<zeroize::Zeroizing<[u8; 32]>, ServeError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join("fingerprint.key");
    let io = |source| ServeError::DataDir {
        path: path.clone(),
        source,
    };
    crate::secret_file::owner_only(&path).map_err(io)?;
    match std::fs::read(&path).map(zeroize::Zeroizing::new) {
        Ok(bytes) => bytes
            .as_slice()
            .try_into()
            .map(zeroize::Zeroizing::new)
            .map_err(|_| {
                io(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "fingerprint.key must be 32 bytes",
                ))
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = zeroize::Zeroizing::new([0u8; 32]);
            getrandom::fill(&mut *key).map_err(|e| io(std::io::Error::other(e.to_string())))?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(io)?;
            f.write_all(&*key).map_err(io)?;
            f.sync_all().map_err(io)?;
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

/// What a started server tells its operator.
#[derive(Debug, Clone)]
pub struct Started {
    /// The bound address.
    pub addr: std::net::SocketAddr,
    /// The log's verifier key.
    pub verifier_key: String,
    /// The log's ML-DSA-44 verifier key, when it signs with one too.
    pub mldsa_verifier_key: Option<String>,
    /// Where a first-start admin token was written, if one was.
    pub admin_token_file: Option<std::path::PathBuf>,
    /// Whether it speaks HTTPS.
    pub tls: bool,
}

/// Opens everything under `config.data_dir`, binds, calls `on_start`, and serves until
/// `shutdown` resolves; then stops accepting, finishes in-flight requests and closes the log
/// (its last checkpoint is already signed and the store is flushed as it drops).
pub async fn serve(
    config: ServerConfig,
    on_start: impl FnOnce(&Started),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    // Called once: early by a standby (it takes requests while it waits), else when serving.
    let mut on_start = Some(on_start);
    let dir = config.data_dir.clone();
    std::fs::create_dir_all(&dir).map_err(|source| ServeError::DataDir {
        path: dir.clone(),
        source,
    })?;
    let key_file = config
        .key_file
        .clone()
        .unwrap_or_else(|| dir.join("log.key"));
    let signer: Option<Box<dyn glasslog_merkle::Ed25519Key>> =
        match (&config.pkcs11, config.sign_ed25519) {
            (Some(_), _) if config.key_file.is_some() => {
                return Err(ServeError::Pkcs11Conflict("remove key_file"));
            }
            (Some(_), false) => {
                return Err(ServeError::Pkcs11Conflict(
                    "sign_ed25519 = false contradicts it",
                ));
            }
            (Some(p11), true) => Some(Box::new(
                open_token(p11.token_config()?, &config.origin).await?,
            )),
            (None, true) => Some(Box::new(load_or_create_signer(&key_file, &config.origin)?)),
            (None, false) => None,
        };
    let mldsa = config
        .mldsa_key_file
        .as_ref()
        .map(|path| load_or_create_mldsa_signer(path, &config.origin))
        .transpose()?;
    let publish = |path: &Option<PathBuf>, vkey: String| match path {
        Some(path) => {
            std::fs::write(path, format!("{vkey}\n")).map_err(|source| ServeError::DataDir {
                path: path.clone(),
                source,
            })
        }
        None => Ok(()),
    };
    if let Some(m) = &mldsa {
        publish(&config.mldsa_vkey_file, m.vkey())?;
    }
    let signer = match (signer, mldsa) {
        (Some(ed), mldsa) => {
            publish(&config.vkey_file, ed.verifier().vkey())?;
            LogSigner::new(ed, mldsa)?
        }
        (None, Some(m)) => {
            publish(&config.vkey_file, m.vkey())?;
            LogSigner::mldsa_only(m)
        }
        (None, None) => return Err(ServeError::NoLogKey),
    };
    let signer = match &config.rotation {
        None => signer,
        Some(r) => rotate(signer, r, &config).await?,
    };
    let mut config = config;
    for w in &mut config.witnesses {
        if w.vkey.is_empty()
            && let Some(path) = &w.vkey_file
        {
            w.vkey = std::fs::read_to_string(path)
                .map_err(|source| ServeError::WitnessKey {
                    path: path.clone(),
                    source,
                })?
                .trim()
                .to_owned();
        }
    }
    cosign::check_witnesses(&config.witnesses, config.witness_quorum)?;
    let witness_policy = match &config.witness_policy {
        None => None,
        Some(path) => {
            let bad = |reason: String| ServeError::WitnessPolicy {
                path: path.clone(),
                reason,
            };
            let text = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
            let policy = glasslog_merkle::Policy::parse(&text).map_err(|e| bad(e.to_string()))?;
            for vkey in policy.witness_vkeys() {
                if !config.witnesses.iter().any(|w| w.vkey == vkey) {
                    return Err(bad(format!(
                        "witness {vkey} is not under [[witnesses]], so nothing would ask it to cosign"
                    )));
                }
            }
            // The served checkpoint waits for cosignatures whenever the policy needs any.
            if policy.needs_witnesses() {
                config.witness_quorum = config.witness_quorum.max(1);
            }
            Some(Arc::new(policy))
        }
    };
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(listener::tls_acceptor(cert, key)?),
        (None, None) => None,
        _ => {
            return Err(ServeError::Tls(listener::TlsError(
                "give both tls_cert and tls_key".into(),
            )));
        }
    };
    // Bound before the store opens: the lease records where this front-end is reached.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: config.listen,
        source,
    })?;
    let limits = listener::Limits {
        header_timeout: std::time::Duration::from_secs(config.header_timeout_secs.max(1)),
        max_connections: config.max_connections.max(1),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    // What the server says when it listens: a standby says it early, before its log opens.
    let keys = signer.keys();
    let started = |admin_token_file| Started {
        addr,
        verifier_key: keys
            .first()
            .map(glasslog_merkle::LogKey::vkey)
            .unwrap_or_default(),
        mldsa_verifier_key: keys.get(1).map(glasslog_merkle::LogKey::vkey),
        admin_token_file,
        tls: tls.is_some(),
    };
    let advertise = config.advertise_url.clone().unwrap_or_else(|| {
        if addr.ip().is_unspecified() {
            String::new()
        } else {
            format!("{scheme}://{addr}")
        }
    });
    let db = dir.join("db");
    let store_url = config.store.clone();
    let connections = config.store_connections;
    let lease_ttl = std::time::Duration::from_secs(config.store_lease_seconds.max(1));
    let lease = glasslog_postgres::LeaseOptions {
        ttl: lease_ttl,
        wait: config.store_standby,
        url: advertise.clone(),
        ..glasslog_postgres::LeaseOptions::default()
    };
    let open = |wait: bool| {
        let (url, db, mut lease) = (store_url.clone(), db.clone(), lease.clone());
        lease.wait = wait;
        tokio::task::spawn_blocking(
            move || -> Result<Arc<dyn glasslog_log::Store>, glasslog_log::StoreError> {
                Ok(match url {
                    Some(url) => Arc::new(glasslog_postgres::PgStore::open_with(
                        &url,
                        connections,
                        &lease,
                    )?),
                    None => Arc::new(RocksStore::open(&db, &RocksOptions::default())?),
                })
            },
        )
    };
    let joined = |e: tokio::task::JoinError| ServeError::DataDir {
        path: dir.clone(),
        source: std::io::Error::other(e.to_string()),
    };
    // Locked is a RocksDB directory in use, or another front-end's lease on a database.
    let shared = store_url.is_some();
    let refused = |e| match e {
        glasslog_log::StoreError::Locked if shared => ServeError::LeaseHeld,
        other => other.into(),
    };
    // A standby first tries for the lease once: free, it sequences at once. Held by another
    // (or the database unreachable), it takes requests and forwards them to the sequencer
    // while it waits.
    let first = open(false).await.map_err(joined)?;
    let (listener, store, forwarding) = match (first, &store_url) {
        (Err(e), Some(url)) if config.store_standby => {
            let reason = match e {
                glasslog_log::StoreError::Locked => "another front-end holds the lease".to_owned(),
                other => other.to_string(),
            };
            tracing::info!(%reason, "standby: forwarding to the sequencer while waiting for its lease");
            let (listener, forwarding) = start_forwarding(
                listener,
                url,
                &advertise,
                config.max_body_bytes,
                lease_ttl,
                tls.clone(),
                limits,
            )?;
            if let Some(on_start) = on_start.take() {
                on_start(&started(None));
            }
            let store = open(true).await.map_err(joined)?.map_err(refused)?;
            (listener, store, Some(forwarding))
        }
        (first, _) => (listener, first.map_err(refused)?, None),
    };
    let sealing = match &config.encryption {
        Some(e) => Some(glasslog_log::Sealing {
            master: Arc::new(crate::protect::load_master_key(e, &dir)?),
            epoch_days: e.epoch_days.max(1),
        }),
        None if config.retention.is_set() => {
            return Err(ServeError::Encryption(
                "[retention] expires entries by destroying their keys: it needs [encryption]"
                    .into(),
            ));
        }
        None => None,
    };
    let log_config = LogConfig {
        sealing,
        ..LogConfig::default()
    };
    let token_store = Arc::clone(&store);
    let log = tokio::task::spawn_blocking(move || Log::open(store, signer, log_config))
        .await
        .map_err(|e| ServeError::DataDir {
            path: dir.clone(),
            source: std::io::Error::other(e.to_string()),
        })??;
    let log = Arc::new(log);
    if let Some(dir) = &config.publish_dir {
        publish_tiles(Arc::clone(&log), dir)?;
    }
    let sanitizer = Arc::new(
        Sanitizer::new(config.policy.clone(), fingerprint_key(&dir)?)?
            .with_search_terms(config.search_index),
    );
    record_signing_keys(&log, &sanitizer).await?;
    // On a shared store (PostgreSQL) the token records live in the database, read now that
    // this front-end holds the lease; on the embedded one, in a file beside it. The first
    // start makes the first admin token.
    let (tokens, first_admin) = {
        let (file, store) = (dir.join("tokens.json"), Arc::clone(&token_store));
        tokio::task::spawn_blocking(move || -> Result<_, crate::auth::TokenError> {
            let tokens = if shared {
                TokenStore::open_shared(store, file)?
            } else {
                TokenStore::open(file)?
            };
            let first = if tokens.is_empty() {
                Some(tokens.create("admin", None, Role::Admin, Vec::new())?.1)
            } else {
                None
            };
            Ok((tokens, first))
        })
        .await
        .map_err(|e| ServeError::DataDir {
            path: dir.clone(),
            source: std::io::Error::other(e.to_string()),
        })??
    };
    let mut admin_token_file = None;
    if let Some(token) = first_admin {
        let path = dir.join("admin.token");
        // Replaced whole, never truncated in place: a crash leaves the old file or the new one.
        glasslog_log::durable::write_file(&path, format!("{token}\n").as_bytes(), 0o600).map_err(
            |source| ServeError::DataDir {
                path: path.clone(),
                source,
            },
        )?;
        admin_token_file = Some(path);
    }
    let started = started(admin_token_file);
    let metrics = metrics::Metrics::new();
    config.breakglass.validate()?;
    let cosigned = cosign::Cosigned::default();
    let breakglass = breakglass::BreakGlass::start(
        Arc::clone(&log),
        Arc::clone(&sanitizer),
        config.breakglass.clone(),
        &metrics,
        Arc::clone(&cosigned),
        config.witness_quorum,
    )
    .await?;
    let limiter = std::num::NonZeroU32::new(config.rate_limit_per_second).map(|rate| {
        let burst = std::num::NonZeroU32::new(config.rate_limit_burst)
            .unwrap_or(rate.saturating_mul(std::num::NonZeroU32::MIN.saturating_add(1)));
        governor::RateLimiter::keyed(governor::Quota::per_second(rate).allow_burst(burst))
    });
    let config_tile_cache = config.tile_cache_bytes;
    let state = Arc::new(AppState {
        limiter,
        log: Arc::clone(&log),
        sanitizer,
        tokens,
        config,
        metrics,
        breakglass,
        cosigned,
        tiles: crate::state::tile_cache(config_tile_cache),
    });
    if !state.config.witnesses.is_empty() {
        let (log, targets, quorum, out) = (
            Arc::clone(&log),
            state.config.witnesses.clone(),
            state.config.witness_quorum,
            Arc::clone(&state.cosigned),
        );
        tokio::spawn(async move {
            if let Err(e) = cosign::run(log, targets, quorum, witness_policy, out).await {
                tracing::error!(error = %e, "witness cosigning stopped");
            }
        });
    }
    if state.config.retention.is_set() {
        let st = Arc::clone(&state);
        let every = std::time::Duration::from_secs(st.config.retention.interval_secs.max(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                // The first tick is at once: a server that was down catches up on start.
                tick.tick().await;
                match routes::protect::retention_pass(&st).await {
                    Ok(v) => tracing::info!(
                        keys_destroyed = %v["keys_destroyed"],
                        keys_held = %v["keys_held"],
                        "retention pass"
                    ),
                    Err(p) => tracing::warn!(problem = %p.detail, "retention pass failed"),
                }
            }
        });
    }
    match forwarding {
        // Requests forwarded meanwhile finish first; then this front-end answers them itself.
        Some(f) => {
            f.stop().await;
            tracing::info!(%addr, "sequencing now: serving, no longer forwarding");
        }
        None => {
            if let Some(on_start) = on_start.take() {
                on_start(&started);
            }
        }
    }
    tracing::info!(%addr, verifier_key = %started.verifier_key, "serving");
    // A front-end that another took the lease from stops, so that its supervisor starts it
    // again as a standby: it can never write, and must not go on serving an old head.
    let superseded = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = {
        let (log, superseded) = (Arc::clone(&log), Arc::clone(&superseded));
        async move {
            // The sequencer finds out at its next write; the lease's renewal, sooner.
            let lost = {
                let log = Arc::clone(&log);
                async move {
                    while log.lease() != glasslog_log::Lease::Lost {
                        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                    }
                }
            };
            let taken_over = tokio::select! {
                () = shutdown => false,
                () = log.superseded() => true,
                () = lost => true,
            };
            if taken_over {
                superseded.store(true, std::sync::atomic::Ordering::SeqCst);
                tracing::error!("another front-end took over the sequencer lease: stopping");
            }
        }
    };
    listener::run(listener, routes::router(state), tls, limits, stop).await;
    let closing = Arc::clone(&log);
    let _ = tokio::task::spawn_blocking(move || closing.close()).await;
    if superseded.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(ServeError::Superseded);
    }
    tracing::info!("stopped; the last checkpoint is signed and the log is closed");
    Ok(())
}
