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
    #[arg(long, required_unless_present = "master_key")]
    name: Option<String>,
    /// The signer key file; created (mode 0600) if missing, otherwise loaded.
    #[arg(
        long,
        required_unless_present_any = ["pkcs11_module", "master_key"],
        conflicts_with = "pkcs11_module"
    )]
    key: Option<PathBuf>,
    /// Instead, write a new master key for encryption at rest (`[encryption]`
    /// master_key_file) to this file, mode 0600; an existing file is never overwritten. Keep
    /// it outside the data directory, and a copy somewhere safe: without it nothing sealed
    /// can be read again.
    #[arg(long, conflicts_with_all = ["key", "pkcs11_module", "vkey_out"])]
    master_key: Option<PathBuf>,
    /// Make (or find) the Ed25519 key in a PKCS#11 token instead of a file.
    #[command(flatten)]
    token: crate::pkcs11::TokenArgs,
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
    if let Some(path) = &args.master_key {
        return master_key(path);
    }
    if args.token.pkcs11_module.is_some() {
        return token_key(args);
    }
    let Some(key) = &args.key else {
        anyhow::bail!("--key or --pkcs11-module is needed");
    };
    let Some(name) = &args.name else {
        anyhow::bail!("--name is needed");
    };
    for path in std::iter::once(key).chain(&args.vkey_out) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    let vkey = match args.algorithm {
        Algorithm::Ed25519 => {
            let signer = glasslog_log::load_or_create_signer(key, name)?;
            if args.cosigner {
                signer.cosigner_vkey()
            } else {
                signer.vkey()
            }
        }
        Algorithm::MlDsa44 => glasslog_log::load_or_create_mldsa_signer(key, name)?.vkey(),
    };
    publish(args, &vkey)
}

fn master_key(path: &std::path::Path) -> Result<std::process::ExitCode> {
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = glasslog_log::seal::MasterKey::generate_text()?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {} (it is never overwritten)", path.display()))?;
    f.write_all(format!("{}\n", text.as_str()).as_bytes())?;
    f.sync_all()?;
    eprintln!("glasslog: wrote a new master key to {}", path.display());
    Ok(std::process::ExitCode::SUCCESS)
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
fn token_key(args: &Args) -> Result<std::process::ExitCode> {
    use glasslog_merkle::Ed25519Key as _;
    if args.algorithm != Algorithm::Ed25519 {
        anyhow::bail!("a PKCS#11 token key is Ed25519 (ML-DSA-44 keys live in files)");
    }
    let Some(key) = args
        .token
        .open(args.name.as_deref().unwrap_or_default(), true)?
    else {
        anyhow::bail!("--pkcs11-module is needed");
    };
    let verifier = key.verifier();
    let vkey = if args.cosigner {
        verifier.cosigner_vkey()
    } else {
        verifier.vkey()
    };
    publish(args, &vkey)
}
