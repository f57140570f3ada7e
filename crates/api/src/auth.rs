//! API tokens: random 256-bit bearer tokens, stored only as SHA-256 hashes, each with a role.

use crate::problem::Problem;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May submit entries (optionally only for named sources).
    Submitter,
    /// May read tree heads, tiles and proofs when they are not public.
    Reader,
    /// A reader that may also read entry contents.
    Auditor,
    /// Everything, including managing tokens.
    Admin,
}

impl Role {
    /// The role's name, as tokens.json, the API and break-glass policies (`role:<name>`)
    /// spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Submitter => "submitter",
            Role::Reader => "reader",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Whether this role includes `needed`.
    pub fn allows(self, needed: Role) -> bool {
        match needed {
            Role::Submitter => matches!(self, Role::Submitter | Role::Admin),
            Role::Reader => matches!(self, Role::Reader | Role::Auditor | Role::Admin),
            Role::Auditor => matches!(self, Role::Auditor | Role::Admin),
            Role::Admin => self == Role::Admin,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored token: everything but the token itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Public identifier (for listing and revoking).
    pub id: String,
    /// The token's own name, unique among every token ever created (revoked ones too, so that
    /// a name in the log's history means one token); also the default source of its
    /// submissions.
    pub name: String,
    /// The person or service that holds it. Several tokens (a laptop's and a phone's, an old
    /// one and its replacement) can share one principal; break-glass counts approvals and
    /// recognises requesters by principal. Empty in files written before it existed: the
    /// name is the principal then.
    #[serde(default)]
    pub principal: String,
    /// Its role.
    pub role: Role,
    /// For submitters: the sources it may submit as; empty means its own name only.
    #[serde(default)]
    pub sources: Vec<String>,
    /// SHA-256 of the token, hex.
    pub hash: String,
    /// Whether it was revoked.
    #[serde(default)]
    pub revoked: bool,
}

impl TokenRecord {
    /// Who holds it: the principal, or the name when none was given.
    pub fn principal(&self) -> &str {
        if self.principal.is_empty() {
            &self.name
        } else {
            &self.principal
        }
    }
}

/// The caller of a request.
#[derive(Clone, Debug)]
pub struct Principal {
    /// Token ID.
    pub id: String,
    /// Token name.
    pub name: String,
    /// Who holds the token (see [`TokenRecord::principal`]).
    pub principal: String,
    /// Role.
    pub role: Role,
    /// Allowed sources.
    pub sources: Vec<String>,
}

/// Why the token file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Reading or writing failed.
    #[error("token file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("token file {0} is not valid JSON")]
    Format(PathBuf),
    /// No randomness.
    #[error("no randomness for a new token: {0}")]
    Random(String),
    /// The shared token store (in the log's database) could not be read or written.
    #[error("the token store in the log's database: {0}")]
    Shared(String),
    /// Another token has (or had) this name.
    #[error("a token named {0:?} exists (names are never reused, revoked tokens' included)")]
    NameTaken(String),
}

/// Tokens: their records (never the tokens themselves), persisted as a JSON file (mode 0600)
/// in the data directory, or in the log's own shared store.
pub struct TokenStore {
    path: PathBuf,
    shared: Option<Arc<dyn glasslog_log::Store>>,
    records: RwLock<Vec<TokenRecord>>,
}

/// The setting the records are kept under in a shared store.
const SHARED_SETTING: &str = "tokens";

fn hash_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two equal-length strings without an early exit.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn random_token() -> Result<(String, String), TokenError> {
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut *secret).map_err(|e| TokenError::Random(e.to_string()))?;
    let mut id = [0u8; 6];
    getrandom::fill(&mut id).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok((
        format!("glt_{}", URL_SAFE_NO_PAD.encode(*secret)),
        URL_SAFE_NO_PAD.encode(id),
    ))
}

impl TokenStore {
    /// Loads the store, or starts an empty one if the file does not exist.
    pub fn open(path: PathBuf) -> Result<Self, TokenError> {
        if let Err(source) = crate::secret_file::owner_only(&path) {
            return Err(TokenError::Io { path, source });
        }
        let records = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|_| TokenError::Format(path.clone()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(TokenError::Io { path, source }),
        };
        Ok(TokenStore {
            path,
            shared: None,
            records: RwLock::new(records),
        })
    }

    /// Keeps the records in the log's shared store (PostgreSQL), so that every front-end on
    /// it has one token store: only the front-end that holds the sequencer lease answers
    /// callers, it reads the records when it takes the lease, and it writes each change
    /// there, fenced and durably, before answering. A token created or revoked on one is so
    /// on whichever sequences next. A store with no records yet takes those of the file at
    /// `import` if there is one (a front-end that kept its tokens in a file before). Blocking.
    pub fn open_shared(
        store: Arc<dyn glasslog_log::Store>,
        import: PathBuf,
    ) -> Result<Self, TokenError> {
        let shared = |e: glasslog_log::StoreError| TokenError::Shared(e.to_string());
        let records = match store.setting(SHARED_SETTING).map_err(shared)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|_| TokenError::Shared("the token records are not valid JSON".into()))?,
            None => {
                let file = TokenStore::open(import.clone())?;
                let records = file.list();
                if !records.is_empty() {
                    store
                        .put_setting(
                            SHARED_SETTING,
                            &serde_json::to_vec(&records).unwrap_or_default(),
                        )
                        .map_err(shared)?;
                    tracing::info!(
                        tokens = records.len(),
                        "the token file was imported into the log's database"
                    );
                }
                records
            }
        };
        Ok(TokenStore {
            path: import,
            shared: Some(store),
            records: RwLock::new(records),
        })
    }

    /// Whether no token exists yet.
    pub fn is_empty(&self) -> bool {
        self.records.read().map(|r| r.is_empty()).unwrap_or(true)
    }

    fn save(&self, records: &[TokenRecord]) -> Result<(), TokenError> {
        if let Some(store) = &self.shared {
            return store
                .put_setting(
                    SHARED_SETTING,
                    &serde_json::to_vec(records).unwrap_or_default(),
                )
                .map_err(|e| TokenError::Shared(e.to_string()));
        }
        // Durable before the change is answered: a revocation must not come back after a
        // power loss, which a rename without a directory fsync allows.
        glasslog_log::durable::write_file(
            &self.path,
            &serde_json::to_vec_pretty(records).unwrap_or_default(),
            0o600,
        )
        .map_err(|source| TokenError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Creates a token held by `principal` (its name when `None`); returns its record and the
    /// token, which is shown only now.
    pub fn create(
        &self,
        name: &str,
        principal: Option<&str>,
        role: Role,
        sources: Vec<String>,
    ) -> Result<(TokenRecord, String), TokenError> {
        let (token, id) = random_token()?;
        let record = TokenRecord {
            id,
            name: name.to_owned(),
            principal: principal.unwrap_or(name).to_owned(),
            role,
            sources,
            hash: hash_hex(&token),
            revoked: false,
        };
        let mut records = self
            .records
            .write()
            .map_err(|_| TokenError::Format(self.path.clone()))?;
        if records.iter().any(|r| r.name == name) {
            return Err(TokenError::NameTaken(name.to_owned()));
        }
        records.push(record.clone());
        self.save(&records)?;
        Ok((record, token))
    }

    /// Revokes a token by ID; `false` if there is none.
    pub fn revoke(&self, id: &str) -> Result<bool, TokenError> {
        let mut records = self
            .records
            .write()
            .map_err(|_| TokenError::Format(self.path.clone()))?;
        let Some(r) = records.iter_mut().find(|r| r.id == id && !r.revoked) else {
            return Ok(false);
        };
        r.revoked = true;
        self.save(&records)?;
        Ok(true)
    }

    /// Every record (without tokens, which are never stored).
    pub fn list(&self) -> Vec<TokenRecord> {
        self.records.read().map(|r| r.clone()).unwrap_or_default()
    }

    /// The principal behind an `Authorization` header value, if it is a live token.
    pub fn authenticate(&self, header: Option<&str>) -> Result<Option<Principal>, Problem> {
        let Some(value) = header else { return Ok(None) };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| {
                Problem::bad_request("the Authorization header must be `Bearer <token>`")
            })?;
        let hash = hash_hex(token.trim());
        let records = self
            .records
            .read()
            .map_err(|_| Problem::unavailable("token store unavailable"))?;
        let found = records
            .iter()
            .find(|r| !r.revoked && constant_time_eq(&r.hash, &hash));
        match found {
            Some(r) => Ok(Some(Principal {
                id: r.id.clone(),
                name: r.name.clone(),
                principal: r.principal().to_owned(),
                role: r.role,
                sources: r.sources.clone(),
            })),
            None => Err(Problem::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "unauthorized",
                "unknown or revoked token",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    /// The name a role is written with is the one serde reads and writes.
    #[test]
    fn a_role_s_name_is_its_serialized_name() {
        for r in [Role::Submitter, Role::Reader, Role::Auditor, Role::Admin] {
            assert_eq!(
                serde_json::to_value(r).ok(),
                Some(serde_json::json!(r.as_str()))
            );
        }
    }
}
