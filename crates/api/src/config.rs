//! Server settings: an embedded default, overridden by a TOML file, then by the command line.

use glasslog_ingest::PolicyConfig;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything `glasslog serve` can be told.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory of the database, the signing key, the tokens and the fingerprint key.
    pub data_dir: PathBuf,
    /// Where the log's entries, tiles and checkpoints live: unset for the embedded RocksDB
    /// under `data_dir`; a PostgreSQL connection string (`postgres://…`, libpq multi-host with
    /// `target_session_attrs=read-write` to follow a failover, or `key=value` form) for a
    /// database. Its password, if it carries one, is never logged.
    pub store: Option<String>,
    /// Connections the PostgreSQL store keeps (one thread each).
    pub store_connections: usize,
    /// Seconds the PostgreSQL sequencer lease lasts without renewal (renewed every third of
    /// it): how long a standby waits after the sequencing front-end dies.
    pub store_lease_seconds: u64,
    /// Start as a standby when another front-end holds the lease: take requests at once and
    /// forward them to the front-end that sequences, wait for its lease to end, then take over,
    /// instead of refusing to start.
    pub store_standby: bool,
    /// The URL other front-ends reach this one at (`http://10.0.0.5:8080`), recorded with the
    /// sequencer lease so that standbys forward to it. Unset: `http(s)://` and the listening
    /// address, unless that is unspecified (`0.0.0.0`), in which case standbys cannot forward
    /// to this front-end and answer 503 while it sequences.
    pub advertise_url: Option<String>,
    /// A directory to publish the log into as static tlog-tiles files (every tile, entry
    /// bundle and the latest checkpoint), for a web server or a CDN to serve with no glasslog
    /// process in the path. The checkpoint is replaced only after what it covers is written.
    pub publish_dir: Option<PathBuf>,
    /// The log's origin line (and its key name).
    pub origin: String,
    /// The log's signer key file (created, mode 0600, if missing); `<data_dir>/log.key` when
    /// not set.
    pub key_file: Option<PathBuf>,
    /// Where to write the log's verifier key at every start, for monitors and witnesses to
    /// read (it is public).
    pub vkey_file: Option<PathBuf>,
    /// A second checkpoint key, ML-DSA-44 (created, mode 0600, if missing): every checkpoint
    /// of a non-empty tree then carries an ML-DSA-44 `subtree/v1` signature line after the
    /// Ed25519 one, for clients moving to post-quantum keys. Unset: Ed25519 only.
    pub mldsa_key_file: Option<PathBuf>,
    /// Where to write the ML-DSA-44 verifier key at every start.
    pub mldsa_vkey_file: Option<PathBuf>,
    /// The log's Ed25519 checkpoint key in a PKCS#11 token (an HSM) instead of `key_file`:
    /// the private key never leaves the token, and no key file is read or written.
    pub pkcs11: Option<Pkcs11Settings>,
    /// A rotation of the Ed25519 checkpoint key (`[rotation]`): the previous key co-signs for
    /// an overlap, and the key set in force is recorded in the log whenever it changes.
    pub rotation: Option<RotationSettings>,
    /// Whether checkpoints carry an Ed25519 signature (`key_file`). `false` signs with the
    /// ML-DSA-44 key alone (`mldsa_key_file` is then required): the empty tree has no ML-DSA-44
    /// signature, so there is no checkpoint before the first entry, and witnesses that require
    /// Ed25519 (the public witness network does) will not cosign.
    pub sign_ed25519: bool,
    /// Whether checkpoints, hash tiles and proofs may be read without a token.
    pub public_reads: bool,
    /// Whether entry bundles and entries may be read without a token (they hold the
    /// sanitized events).
    pub public_entries: bool,
    /// Whether `/metrics` may be read without a token. Off by default: the figures say which
    /// rules redact, how much each source submits and who is rate-limited. A reader token (or
    /// higher) reads them either way.
    pub public_metrics: bool,
    /// Largest request body: that of a batch. A single entry's body may be at most four times
    /// the largest entry, and token and break-glass requests at most 64 KiB.
    pub max_body_bytes: usize,
    /// Requests handled at once; above it a request gets 429 with `Retry-After` at once,
    /// before its body is read.
    pub max_concurrent_requests: usize,
    /// Connections open at once; above it new connections wait in the listen backlog.
    pub max_connections: usize,
    /// Bytes of tiles and entry bundles kept in memory to answer repeated reads without the
    /// store (0: no cache). Every tile path, partial ones included, names bytes that never
    /// change, so nothing is ever invalidated.
    pub tile_cache_bytes: u64,
    /// Most entries in one batch request.
    pub max_batch_entries: usize,
    /// Most entries in one `GET /v1/entries` range.
    pub max_range_entries: u64,
    /// Whether appended entries are indexed for `GET /v1/search` (by actor, action,
    /// resource, source, outcome, redaction rule and words). Each entry then writes one
    /// index key per term (see BENCHMARKS.md for the cost); entries appended with it off are
    /// never found by search, though listing, proofs and break-glass sessions are unaffected.
    pub search_index: bool,
    /// Seconds a client has to send its request headers; slow clients are cut off.
    pub header_timeout_secs: u64,
    /// Seconds a whole request may take, body included (408 after that).
    pub request_timeout_secs: u64,
    /// PEM certificate chain; with `tls_key`, the server speaks HTTPS only.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// tlog-witnesses to send every new checkpoint to.
    pub witnesses: Vec<WitnessTarget>,
    /// How many of them must cosign before `GET /checkpoint` serves a checkpoint; 0 serves the
    /// log's own signature at once and cosigns on a best-effort basis.
    pub witness_quorum: usize,
    /// A C2SP tlog-policy file (<https://c2sp.org/tlog-policy>): a checkpoint is served only
    /// once its cosignatures also meet it. Every witness it names must be one of `witnesses`
    /// (which give their URLs); with a policy that needs witnesses, at least one must cosign.
    pub witness_policy: Option<PathBuf>,
    /// The ingestion policy (modes per source, rules, allow-lists).
    pub policy: PolicyConfig,
    /// Requests per second each API token may make (a token bucket per token; 0: no limit).
    /// Over the limit a request gets 429 with `Retry-After`, so one runaway service cannot
    /// starve the others.
    pub rate_limit_per_second: u32,
    /// Requests a token may make at once above its rate (0: twice the rate).
    pub rate_limit_burst: u32,
    /// The break-glass policy (who requests, approves and reviews; bounds; webhook).
    pub breakglass: glasslog_breakglass::Policy,
    /// Encryption at rest and crypto-shredding (off when absent). A log is sealed or clear
    /// for its whole life.
    pub encryption: Option<EncryptionSettings>,
    /// Retention: how long each source's entries stay readable (needs `encryption`).
    pub retention: RetentionSettings,
}

/// `[encryption]`: entries are sealed under per-subject data keys wrapped by a master key
/// (ARCHITECTURE.md, "Encryption at rest").
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionSettings {
    /// A file holding the 32-byte master key (base64 or hex), owner-only and outside the
    /// data directory; `glasslog keygen --master-key FILE` makes one.
    #[serde(default)]
    pub master_key_file: Option<PathBuf>,
    /// Or the environment variable that holds it.
    #[serde(default)]
    pub master_key_env: Option<String>,
    /// What a data key covers besides the source and the epoch: `actor` (erasure by actor,
    /// the default), `source` or `none` (erasure only by retention).
    #[serde(default)]
    pub subject: SubjectScope,
    /// Days per data key epoch: retention destroys whole epochs, so an entry stays readable
    /// up to this long past its retention period.
    #[serde(default = "default_epoch_days")]
    pub epoch_days: u32,
}

fn default_epoch_days() -> u32 {
    7
}

/// What a data key covers besides source and epoch.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SubjectScope {
    /// One key per actor (per source and epoch): erasure by actor.
    #[default]
    Actor,
    /// One key per source (and epoch).
    Source,
    /// One key per epoch and source only.
    None,
}

/// `[retention]`: per-source retention periods, enforced by crypto-shredding.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Days each named source's entries are kept readable.
    pub sources: std::collections::BTreeMap<String, u32>,
    /// Days for sources not named (none: kept for ever).
    pub default_days: Option<u32>,
    /// Seconds between retention runs.
    pub interval_secs: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            sources: std::collections::BTreeMap::new(),
            default_days: None,
            interval_secs: 3600,
        }
    }
}

impl RetentionSettings {
    /// Whether any source has a retention period.
    pub fn is_set(&self) -> bool {
        !self.sources.is_empty() || self.default_days.is_some()
    }
}

/// A key pair in a PKCS#11 token: `glasslog keygen --pkcs11-*` makes it, or the token's own
/// tools (`pkcs11-tool --keypairgen --key-type EC:edwards25519`), with one label on both halves.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Settings {
    /// The vendor's PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The label of the key pair (both its private and its public object).
    pub key_label: String,
    /// A file whose first line is the user PIN; group and others must not read it.
    #[serde(default)]
    pub pin_file: Option<PathBuf>,
    /// Or the name of an environment variable that holds the PIN.
    #[serde(default)]
    pub pin_env: Option<String>,
}

/// The key a log rotates from. The current key is `key_file` or `[pkcs11]` as usual.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationSettings {
    /// The previous key's signer key file (it must exist; it is never created).
    #[serde(default)]
    pub previous_key_file: Option<PathBuf>,
    /// Or the label of the previous key pair in the `[pkcs11]` token.
    #[serde(default)]
    pub previous_pkcs11_key: Option<String>,
    /// POSIX seconds: until then every checkpoint carries the previous key's signature beside
    /// the current one's, so clients that know only the old key keep verifying.
    pub overlap_until: u64,
    /// Verifier keys that signed earlier checkpoints and sign no more (public): stored
    /// checkpoints they signed still verify.
    #[serde(default)]
    pub retired_vkeys: Vec<String>,
}

/// Why the PKCS#11 settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11SettingsError {
    /// Neither or both of `pin_file` and `pin_env`.
    #[error("[pkcs11] needs exactly one of pin_file and pin_env")]
    PinSource,
    /// `pin_env` names a variable that is not set.
    #[error("[pkcs11] pin_env names {0}, which is not set")]
    PinEnvUnset(String),
    /// The token refused, or the PIN file did.
    #[error(transparent)]
    Token(#[from] glasslog_hsm::HsmError),
}

impl Pkcs11Settings {
    /// The token configuration, with the PIN read from its file or variable.
    pub fn token_config(&self) -> Result<glasslog_hsm::TokenConfig, Pkcs11SettingsError> {
        let pin = match (&self.pin_file, &self.pin_env) {
            (Some(path), None) => glasslog_hsm::Pin::from_file(path)?,
            (None, Some(var)) => glasslog_hsm::Pin::new(
                std::env::var(var).map_err(|_| Pkcs11SettingsError::PinEnvUnset(var.clone()))?,
            ),
            _ => return Err(Pkcs11SettingsError::PinSource),
        };
        Ok(glasslog_hsm::TokenConfig {
            module: self.module.clone(),
            token_label: self.token_label.clone(),
            key_label: self.key_label.clone(),
            pin,
        })
    }
}

/// One witness: where it listens and its cosigner verifier key (type 0x04, Ed25519, or 0x06,
/// ML-DSA-44).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessTarget {
    /// Its submission prefix, e.g. `https://witness.example.com`.
    pub url: String,
    /// Its cosignature verifier key.
    #[serde(default)]
    pub vkey: String,
    /// A file holding the key instead (as `glasslog keygen --cosigner --vkey-out` writes it).
    #[serde(default)]
    pub vkey_file: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("glasslog-data"),
            origin: "localhost/glasslog".into(),
            store: None,
            publish_dir: None,
            store_connections: 8,
            store_lease_seconds: 10,
            store_standby: false,
            advertise_url: None,
            key_file: None,
            vkey_file: None,
            mldsa_key_file: None,
            mldsa_vkey_file: None,
            pkcs11: None,
            rotation: None,
            sign_ed25519: true,
            public_reads: true,
            public_entries: false,
            public_metrics: false,
            max_body_bytes: 8 << 20,
            max_concurrent_requests: 512,
            max_connections: 4096,
            tile_cache_bytes: 64 << 20,
            max_batch_entries: 1000,
            max_range_entries: 256,
            search_index: true,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            tls_cert: None,
            tls_key: None,
            witnesses: Vec::new(),
            witness_quorum: 0,
            witness_policy: None,
            policy: PolicyConfig::default(),
            breakglass: glasslog_breakglass::Policy::default(),
            rate_limit_per_second: 0,
            rate_limit_burst: 0,
            encryption: None,
            retention: RetentionSettings::default(),
        }
    }
}

impl ServerConfig {
    /// Reads a TOML file over the defaults.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}
