//! `glasslog keygen`: create (or load) a signer key, in a file or in a PKCS#11 token, and print
//! or write its verifier key, so deployments can provision logs and witnesses before anything
//! starts.

use anyhow::{Context as _, Result};
use std::io::Write as _;
use std::path::PathBuf;

/// `glasslog keygen` arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The key's name: a log's origin, or a witness's name.
    #[arg(long)]
    name: String,
    /// The signer key file; created (mode 0600) if missing, otherwise loaded.
    #[arg(
        long,
        required_unless_present = "pkcs11_module",
        conflicts_with = "pkcs11_module"
    )]
    key: Option<PathBuf>,
    /// Make (or find) the Ed25519 key in a PKCS#11 token instead: the vendor's module.
    #[arg(long, requires_all = ["pkcs11_token", "pkcs11_key"])]
    pkcs11_module: Option<PathBuf>,
    /// The token's label.
    #[arg(long)]
    pkcs11_token: Option<String>,
    /// The key pair's label in the token (`key_label` in `[pkcs11]`).
    #[arg(long)]
    pkcs11_key: Option<String>,
    /// A file whose first line is the token's user PIN (mode 0600); otherwise the PIN is
    /// read from `GLASSLOG_PKCS11_PIN`.
    #[arg(long)]
    pkcs11_pin_file: Option<PathBuf>,
    /// The signature algorithm: ed25519, or ml-dsa-44 (FIPS 204; C2SP `subtree/v1`
    /// cosignatures, type 0x06, which is also how a log signs its checkpoints with ML-DSA-44).
    #[arg(long, default_value = "ed25519")]
    algorithm: Algorithm,
    /// Print the Ed25519 key as a witness cosigner key (type 0x04) instead of a log key (0x01).
    /// An ML-DSA-44 key has one verifier key for both roles.
    #[arg(long)]
    cosigner: bool,
    /// Also write the verifier key to this file.
    #[arg(long)]
    vkey_out: Option<PathBuf>,
}

/// A signature algorithm for log and witness keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Algorithm {
    /// Ed25519: note signatures (0x01) and `cosignature/v1` (0x04).
    Ed25519,
    /// ML-DSA-44: `subtree/v1` cosignatures and checkpoint signatures (0x06).
    #[value(name = "ml-dsa-44")]
    MlDsa44,
}

/// Runs it.
pub fn run(args: &Args) -> Result<std::process::ExitCode> {
    if let Some(module) = &args.pkcs11_module {
        return token_key(args, module);
    }
    let Some(key) = &args.key else {
        anyhow::bail!("--key or --pkcs11-module is needed");
    };
    for path in std::iter::once(key).chain(&args.vkey_out) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    let vkey = match args.algorithm {
        Algorithm::Ed25519 => {
            let signer = glasslog_log::load_or_create_signer(key, &args.name)?;
            if args.cosigner {
                signer.cosigner_vkey()
            } else {
                signer.vkey()
            }
        }
        Algorithm::MlDsa44 => glasslog_log::load_or_create_mldsa_signer(key, &args.name)?.vkey(),
    };
    publish(args, &vkey)
}

fn publish(args: &Args, vkey: &str) -> Result<std::process::ExitCode> {
    if let Some(out) = &args.vkey_out {
        std::fs::write(out, format!("{vkey}\n"))
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    writeln!(std::io::stdout().lock(), "{vkey}")?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Finds the key pair labelled `--pkcs11-key` in the token, or makes it there (never
/// extractable); prints its verifier key.
fn token_key(args: &Args, module: &std::path::Path) -> Result<std::process::ExitCode> {
    use glasslog_merkle::Ed25519Key as _;
    if args.algorithm != Algorithm::Ed25519 {
        anyhow::bail!("a PKCS#11 token key is Ed25519 (ML-DSA-44 keys live in files)");
    }
    let pin = match &args.pkcs11_pin_file {
        Some(path) => glasslog_hsm::Pin::from_file(path)?,
        None => glasslog_hsm::Pin::new(
            std::env::var("GLASSLOG_PKCS11_PIN")
                .context("--pkcs11-pin-file or GLASSLOG_PKCS11_PIN is needed")?,
        ),
    };
    let config = glasslog_hsm::TokenConfig {
        module: module.to_owned(),
        token_label: args.pkcs11_token.clone().unwrap_or_default(),
        key_label: args.pkcs11_key.clone().unwrap_or_default(),
        pin,
    };
    let key = match glasslog_hsm::TokenKey::open(config.clone(), &args.name) {
        Err(glasslog_hsm::HsmError::NoKey { .. }) => {
            glasslog_hsm::TokenKey::generate(config, &args.name)?
        }
        other => other?,
    };
    let verifier = key.verifier();
    let vkey = if args.cosigner {
        verifier.cosigner_vkey()
    } else {
        verifier.vkey()
    };
    publish(args, &vkey)
}
