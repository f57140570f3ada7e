//! `glasslog keygen`: create (or load) a signer key file and print or write its verifier key,
//! so deployments can provision logs and witnesses before anything starts.

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
    #[arg(long)]
    key: PathBuf,
    /// Print the witness cosigner key (signature type 0x04) instead of the log key.
    #[arg(long)]
    cosigner: bool,
    /// Also write the verifier key to this file.
    #[arg(long)]
    vkey_out: Option<PathBuf>,
}

/// Runs it.
pub fn run(args: &Args) -> Result<std::process::ExitCode> {
    for path in std::iter::once(&args.key).chain(&args.vkey_out) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    let signer = glasslog_log::load_or_create_signer(&args.key, &args.name)?;
    let vkey = if args.cosigner {
        signer.cosigner_vkey()
    } else {
        signer.vkey()
    };
    if let Some(out) = &args.vkey_out {
        std::fs::write(out, format!("{vkey}\n"))
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    writeln!(std::io::stdout().lock(), "{vkey}")?;
    Ok(std::process::ExitCode::SUCCESS)
}
