//! Signing keys on disk (the log's, a witness's; Ed25519 or ML-DSA-44): created once with mode
//! 0600, refused when others can read it.

use glasslog_merkle::{KeyError, MlDsaSigner, Signer};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Why the key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// Reading or creating the file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Group or others may read or write the file.
    #[error("key file {path} has mode {mode:o}; it must be readable by its owner only (chmod 600)")]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold a signer key string.
    #[error("key file {path} does not hold a valid signer key: {source}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: KeyError,
    },
    /// The key's name is not the configured origin.
    #[error("key file {path} is for origin {found:?}, but the log's origin is {origin:?}")]
    OriginMismatch {
        /// The file.
        path: PathBuf,
        /// The name in the key.
        found: String,
        /// The configured origin.
        origin: String,
    },
    /// The system's random number generator failed.
    #[error("no randomness for a new key: {0}")]
    Random(String),
}

/// A signer key type that lives in a `PRIVATE+KEY+...` file.
trait KeyKind: Sized {
    fn from_skey(skey: &str) -> Result<Self, KeyError>;
    fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, KeyError>;
    fn to_skey(&self) -> Zeroizing<String>;
    fn name(&self) -> &str;
}

impl KeyKind for Signer {
    fn from_skey(skey: &str) -> Result<Self, KeyError> {
        Signer::from_skey(skey)
    }
    fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, KeyError> {
        Signer::from_seed(name, *seed)
    }
    fn to_skey(&self) -> Zeroizing<String> {
        Signer::to_skey(self)
    }
    fn name(&self) -> &str {
        Signer::name(self)
    }
}

impl KeyKind for MlDsaSigner {
    fn from_skey(skey: &str) -> Result<Self, KeyError> {
        MlDsaSigner::from_skey(skey)
    }
    fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, KeyError> {
        MlDsaSigner::from_seed(name, seed)
    }
    fn to_skey(&self) -> Zeroizing<String> {
        MlDsaSigner::to_skey(self)
    }
    fn name(&self) -> &str {
        MlDsaSigner::name(self)
    }
}

/// Loads the Ed25519 signer key at `path`, or creates one for `origin` if the file does not
/// exist. The file holds Go's `PRIVATE+KEY+...` signer key string.
pub fn load_or_create_signer(path: &Path, origin: &str) -> Result<Signer, KeyFileError> {
    load_or_create(path, origin)
}

/// Loads the ML-DSA-44 signer key at `path`, or creates one named `name` if the file does not
/// exist. The file holds `PRIVATE+KEY+<name>+<id>+base64(0x06 || seed)`, as
/// transparency-dev/formats writes it.
pub fn load_or_create_mldsa_signer(path: &Path, name: &str) -> Result<MlDsaSigner, KeyFileError> {
    load_or_create(path, name)
}

/// Loads the Ed25519 signer key at `path`, which must exist: a key that signed before (the
/// previous key of a rotation) is never made up.
pub fn load_signer(path: &Path, origin: &str) -> Result<Signer, KeyFileError> {
    match std::fs::metadata(path) {
        Ok(_) => load_or_create(path, origin),
        Err(source) => Err(KeyFileError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

fn load_or_create<K: KeyKind>(path: &Path, origin: &str) -> Result<K, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let malformed = |source| KeyFileError::Malformed {
        path: path.to_owned(),
        source,
    };
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyFileError::Permissions {
                    path: path.to_owned(),
                    mode,
                });
            }
            let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
            let signer = K::from_skey(text.trim()).map_err(malformed)?;
            if signer.name() != origin {
                return Err(KeyFileError::OriginMismatch {
                    path: path.to_owned(),
                    found: signer.name().to_owned(),
                    origin: origin.to_owned(),
                });
            }
            Ok(signer)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = Zeroizing::new([0u8; 32]);
            getrandom::fill(&mut *seed).map_err(|e| KeyFileError::Random(e.to_string()))?;
            let signer = K::from_seed(origin, &seed).map_err(malformed)?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(io)?;
            let mut line = signer.to_skey();
            line.push('\n');
            file.write_all(line.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            // The directory entry must be durable too, or a crash could lose the key that
            // signed published checkpoints.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(io)?;
            }
            Ok(signer)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_private_key_and_refuses_readable_or_foreign_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.key");
        let a = load_or_create_signer(&path, "example.com/log").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = load_or_create_signer(&path, "example.com/log").unwrap();
        assert_eq!(a.vkey(), b.vkey());
        assert!(matches!(
            load_or_create_signer(&path, "other.example/log"),
            Err(KeyFileError::OriginMismatch { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load_or_create_signer(&path, "example.com/log"),
            Err(KeyFileError::Permissions { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        // An Ed25519 key file is not an ML-DSA-44 one.
        assert!(matches!(
            load_or_create_mldsa_signer(&path, "example.com/log"),
            Err(KeyFileError::Malformed { .. })
        ));
        let ml = dir.path().join("log-mldsa.key");
        let m1 = load_or_create_mldsa_signer(&ml, "example.com/log").unwrap();
        let m2 = load_or_create_mldsa_signer(&ml, "example.com/log").unwrap();
        assert_eq!(m1.vkey(), m2.vkey());
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            load_or_create_signer(&path, "example.com/log"),
            Err(KeyFileError::Malformed { .. })
        ));
    }
}
