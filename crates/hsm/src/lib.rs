//! Ed25519 signing keys that never leave a PKCS#11 token (an HSM, or SoftHSM2 in tests).
//!
//! Spec: PKCS#11 v3.0 `CKK_EC_EDWARDS` keys and the `CKM_EDDSA` mechanism (pure Ed25519, RFC
//! 8032 §5.1, no parameters), so a signature from the token is byte for byte the signature an
//! in-memory key would make, and every verifier of C2SP signed notes accepts it.
//!
//! The token holds the private key; glasslog holds a logged-in session and the key's handle.
//! Opening checks the pair before anything is served: the token signs a probe and the public
//! key read from the token must verify it, so a mislabelled or mismatched key is refused at
//! start, not discovered by a monitor. A session the token has dropped (restart, device
//! reset) is opened again once per signature before the error is returned.

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use glasslog_merkle::{Ed25519Key, Ed25519Verifier, KeyError, SignError};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use zeroize::Zeroizing;

/// DER `PrintableString "edwards25519"`: the `CKA_EC_PARAMS` PKCS#11 v3.0 names the curve by.
const EDWARDS25519: &[u8] = b"\x13\x0cedwards25519";

/// Where the key lives and how to log in.
#[derive(Clone)]
pub struct TokenConfig {
    /// The PKCS#11 module (`/usr/lib/softhsm/libsofthsm2.so` for SoftHSM2).
    pub module: PathBuf,
    /// The token's label (`CKA_LABEL` of the token, as `softhsm2-util --init-token --label`).
    pub token_label: String,
    /// The key pair's label (`CKA_LABEL` of both the private and the public key).
    pub key_label: String,
    /// The user PIN.
    pub pin: Pin,
}

impl fmt::Debug for TokenConfig {
    // The PIN must never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenConfig")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("key_label", &self.key_label)
            .finish_non_exhaustive()
    }
}

/// A token's user PIN, wiped when dropped.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// A PIN given as it is.
    pub fn new(pin: impl Into<String>) -> Self {
        Pin(Zeroizing::new(pin.into()))
    }

    /// The first line of `path`, which group and others must not be able to read (as for a
    /// key file: a PIN readable by every local user is no secret).
    pub fn from_file(path: &Path) -> Result<Self, HsmError> {
        let io = |source| HsmError::PinFile {
            path: path.to_owned(),
            source,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(HsmError::PinFileMode {
                    path: path.to_owned(),
                    mode: mode & 0o777,
                });
            }
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
        let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
        if line.is_empty() {
            return Err(HsmError::EmptyPin(path.to_owned()));
        }
        Ok(Pin::new(line))
    }

    fn auth(&self) -> AuthPin {
        AuthPin::from(self.0.as_str())
    }
}

/// Why a token key cannot be opened, made or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HsmError {
    /// The module could not be loaded or initialised.
    #[error("cannot load the PKCS#11 module {path}: {source}")]
    Module {
        /// The module.
        path: PathBuf,
        /// Why.
        #[source]
        source: CkError,
    },
    /// No token carries the label.
    #[error("no PKCS#11 token is labelled {0:?}")]
    NoToken(String),
    /// The PIN was refused.
    #[error("the token {0:?} refused the PIN")]
    BadPin(String),
    /// No key pair carries the label, or only half of one.
    #[error("the token has no Ed25519 {what} labelled {label:?}")]
    NoKey {
        /// Private or public key.
        what: &'static str,
        /// The key label.
        label: String,
    },
    /// More than one key carries the label: which one signs would be the token's choice.
    #[error("the token has {count} Ed25519 {what}s labelled {label:?}; labels must be unique")]
    AmbiguousKey {
        /// Private or public key.
        what: &'static str,
        /// How many.
        count: usize,
        /// The key label.
        label: String,
    },
    /// A key with the label exists already (`generate` never replaces a key).
    #[error("the token already has a key labelled {0:?}")]
    KeyExists(String),
    /// The public key is not a 32-byte Ed25519 point.
    #[error("the public key labelled {0:?} is not an Ed25519 key")]
    BadPublicKey(String),
    /// The token's signature does not verify under the token's public key.
    #[error(
        "the key pair labelled {0:?} does not match: the token's signature does not verify under its public key"
    )]
    Mismatch(String),
    /// The key name is not a valid note key name.
    #[error(transparent)]
    Name(#[from] KeyError),
    /// The PIN file.
    #[error("cannot read the PIN file {path}: {source}")]
    PinFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The PIN file can be read by group or others.
    #[error(
        "the PIN file {path} has mode {mode:o}; it must not be readable by group or others (chmod 600)"
    )]
    PinFileMode {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The PIN file's first line is empty.
    #[error("the PIN file {0} is empty")]
    EmptyPin(PathBuf),
    /// Any other answer of the token.
    #[error("PKCS#11: {0}")]
    Token(#[from] CkError),
}

/// An Ed25519 key pair in a token, named for signed notes (a log's origin, a witness's name).
pub struct TokenKey {
    config: TokenConfig,
    verifier: Ed25519Verifier,
    // A session is one thread's at a time (PKCS#11 sessions are not thread-safe); signing is
    // rare (a checkpoint per batch), so one session behind a lock is enough.
    session: Mutex<Option<Opened>>,
}

struct Opened {
    session: Session,
    private: ObjectHandle,
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("config", &self.config)
            .field("vkey", &self.verifier.vkey())
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    /// Opens the key pair labelled `config.key_label`, named `name`, and checks that the
    /// token's signature verifies under the token's public key.
    pub fn open(config: TokenConfig, name: &str) -> Result<Self, HsmError> {
        let (opened, public) = open_session(&config)?;
        let verifier = Ed25519Verifier::from_public(name, &public)?;
        let key = TokenKey {
            config,
            verifier,
            session: Mutex::new(Some(opened)),
        };
        key.self_test()?;
        Ok(key)
    }

    /// Makes a new key pair labelled `config.key_label` in the token (never extractable, never
    /// readable in clear), then opens it as [`TokenKey::open`] does.
    pub fn generate(config: TokenConfig, name: &str) -> Result<Self, HsmError> {
        let ctx = context(&config.module)?;
        let slot = find_slot(&ctx, &config.token_label)?;
        let session = ctx.open_rw_session(slot)?;
        login(&session, &config)?;
        let label = config.key_label.as_bytes().to_vec();
        if !session
            .find_objects(&[Attribute::Label(label.clone())])?
            .is_empty()
        {
            return Err(HsmError::KeyExists(config.key_label.clone()));
        }
        let public = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(EDWARDS25519.to_vec()),
            Attribute::Label(label.clone()),
        ];
        let private = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label),
        ];
        session.generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &public, &private)?;
        drop(session);
        TokenKey::open(config, name)
    }

    /// The token configuration this key was opened with.
    pub fn config(&self) -> &TokenConfig {
        &self.config
    }

    fn self_test(&self) -> Result<(), HsmError> {
        use glasslog_merkle::Verifier as _;
        let probe = b"glasslog: token key self-test\n";
        let sig = self.sign_with_retry(probe)?;
        if self.verifier.verify(probe, &sig) {
            Ok(())
        } else {
            Err(HsmError::Mismatch(self.config.key_label.clone()))
        }
    }

    fn sign_with_retry(&self, message: &[u8]) -> Result<[u8; 64], HsmError> {
        let mut slot = self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(opened) = slot.as_ref() {
            match sign(opened, message) {
                Ok(sig) => return Ok(sig),
                Err(e) if !session_lost(&e) => return Err(e),
                Err(_) => {}
            }
        }
        // The token dropped the session (or an earlier reopen failed): log in again, once.
        *slot = None;
        let (opened, public) = open_session(&self.config)?;
        if public != self.verifier.public_key() {
            return Err(HsmError::Mismatch(self.config.key_label.clone()));
        }
        let sig = sign(&opened, message)?;
        *slot = Some(opened);
        Ok(sig)
    }
}

impl Ed25519Key for TokenKey {
    fn verifier(&self) -> Ed25519Verifier {
        self.verifier.clone()
    }

    fn sign_ed25519(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        self.sign_with_retry(message)
            .map_err(|e| SignError::new(e.to_string()))
    }
}

fn sign(opened: &Opened, message: &[u8]) -> Result<[u8; 64], HsmError> {
    let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
    let sig = opened.session.sign(&mechanism, opened.private, message)?;
    <[u8; 64]>::try_from(sig.as_slice()).map_err(|_| {
        HsmError::Token(CkError::Pkcs11(
            RvError::SignatureLenRange,
            cryptoki::context::Function::Sign,
        ))
    })
}

/// Whether an error means the session is gone and a new one may succeed.
fn session_lost(e: &HsmError) -> bool {
    matches!(
        e,
        HsmError::Token(CkError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::UserNotLoggedIn
                | RvError::CryptokiNotInitialized,
            _
        ))
    )
}

fn open_session(config: &TokenConfig) -> Result<(Opened, [u8; 32]), HsmError> {
    let ctx = context(&config.module)?;
    let slot = find_slot(&ctx, &config.token_label)?;
    let session = ctx.open_ro_session(slot)?;
    login(&session, config)?;
    let private = find_one(&session, ObjectClass::PRIVATE_KEY, "private key", config)?;
    let public_handle = find_one(&session, ObjectClass::PUBLIC_KEY, "public key", config)?;
    let public = public_key(&session, public_handle, &config.key_label)?;
    Ok((Opened { session, private }, public))
}

fn login(session: &Session, config: &TokenConfig) -> Result<(), HsmError> {
    match session.login(UserType::User, Some(&config.pin.auth())) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(
            RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
            _,
        )) => Err(HsmError::BadPin(config.token_label.clone())),
        Err(e) => Err(e.into()),
    }
}

fn find_one(
    session: &Session,
    class: ObjectClass,
    what: &'static str,
    config: &TokenConfig,
) -> Result<ObjectHandle, HsmError> {
    let found = session.find_objects(&[
        Attribute::Class(class),
        Attribute::KeyType(KeyType::EC_EDWARDS),
        Attribute::Label(config.key_label.as_bytes().to_vec()),
    ])?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(HsmError::NoKey {
            what,
            label: config.key_label.clone(),
        }),
        many => Err(HsmError::AmbiguousKey {
            what,
            count: many.len(),
            label: config.key_label.clone(),
        }),
    }
}

/// The 32 bytes of `CKA_EC_POINT`: PKCS#11 v3.0 says a DER OCTET STRING holding them, and some
/// tokens give them bare.
fn public_key(session: &Session, key: ObjectHandle, label: &str) -> Result<[u8; 32], HsmError> {
    let bad = || HsmError::BadPublicKey(label.to_owned());
    let attrs = session.get_attributes(key, &[AttributeType::EcPoint])?;
    let point = attrs
        .into_iter()
        .find_map(|a| match a {
            Attribute::EcPoint(p) => Some(p),
            _ => None,
        })
        .ok_or_else(bad)?;
    let raw = match point.as_slice() {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest,
        bare if bare.len() == 32 => bare,
        _ => return Err(bad()),
    };
    <[u8; 32]>::try_from(raw).map_err(|_| bad())
}

fn find_slot(ctx: &Pkcs11, label: &str) -> Result<Slot, HsmError> {
    for slot in ctx.get_slots_with_token()? {
        if ctx.get_token_info(slot)?.label().trim_end() == label {
            return Ok(slot);
        }
    }
    Err(HsmError::NoToken(label.to_owned()))
}

/// One initialised context per module for the whole process: `C_Initialize` may be called
/// once per process, and every key and every session shares it.
fn context(module: &Path) -> Result<Pkcs11, HsmError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Arc<Pkcs11>>>> = OnceLock::new();
    let mut map = CONTEXTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(ctx) = map.get(module) {
        return Ok((**ctx).clone());
    }
    let err = |source| HsmError::Module {
        path: module.to_owned(),
        source,
    };
    let ctx = Pkcs11::new(module).map_err(err)?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(err(e)),
    }
    map.insert(module.to_owned(), Arc::new(ctx.clone()));
    Ok(ctx)
}
