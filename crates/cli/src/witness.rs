//! `glasslog witness`: runs a C2SP tlog-witness for the logs it is told to trust.

use anyhow::{Context as _, Result, bail};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// `glasslog witness` arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(
        long,
        env = "GLASSLOG_WITNESS_LISTEN",
        default_value = "127.0.0.1:8081"
    )]
    listen: SocketAddr,
    /// The witness's name (its cosigning key's name), e.g. witness.example.com/w1.
    #[arg(long, env = "GLASSLOG_WITNESS_NAME")]
    name: String,
    /// The witness's Ed25519 signer key file; created (mode 0600) if missing.
    #[arg(long, default_value = "witness.key")]
    key: PathBuf,
    /// Keep the Ed25519 key in a PKCS#11 token instead of `--key` (the pair must exist:
    /// `glasslog keygen --cosigner --pkcs11-*` makes it).
    #[command(flatten)]
    token: crate::pkcs11::TokenArgs,
    /// The witness's ML-DSA-44 signer key file; created (mode 0600) if missing.
    #[arg(long, default_value = "witness-mldsa.key")]
    mldsa_key: PathBuf,
    /// Which cosignatures to make: ed25519 (`cosignature/v1`), ml-dsa-44 (`subtree/v1`, which
    /// `sign-subtree` needs and the spec recommends), or both (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "ed25519")]
    algorithms: Vec<crate::keygen::Algorithm>,
    /// Where the last cosigned checkpoint of each log is kept.
    #[arg(long, default_value = "witness-state.json")]
    state: PathBuf,
    /// A log to witness, as ORIGIN=VKEY (repeatable).
    #[arg(long = "log", required = true)]
    logs: Vec<String>,
}

/// Runs the witness until SIGINT or SIGTERM.
pub fn run(args: &Args) -> Result<ExitCode> {
    let wants = |a| args.algorithms.contains(&a);
    let keys = glasslog_api::witness::WitnessKeys {
        ed25519: if wants(crate::keygen::Algorithm::Ed25519) {
            Some(match args.token.open(&args.name, false)? {
                Some(key) => Box::new(key) as Box<dyn glasslog_merkle::Ed25519Key>,
                None => Box::new(glasslog_log::load_or_create_signer(&args.key, &args.name)?),
            })
        } else {
            None
        },
        mldsa: wants(crate::keygen::Algorithm::MlDsa44)
            .then(|| glasslog_log::load_or_create_mldsa_signer(&args.mldsa_key, &args.name))
            .transpose()?,
    };
    let mut logs = Vec::new();
    for l in &args.logs {
        let Some((origin, vkey)) = l.split_once('=') else {
            bail!("--log takes ORIGIN=VKEY, got {l:?}")
        };
        logs.push((origin.to_owned(), vkey.to_owned()));
    }
    let witness = glasslog_api::witness::Witness::new(keys, &logs, args.state.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let listen = args.listen;
    // The signal handlers are installed inside the runtime, before the witness listens.
    runtime.block_on(async move {
        glasslog_api::witness::serve(
            witness,
            listen,
            |addr, vkeys| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "glasslog witness: listening on http://{addr}");
                for vkey in vkeys {
                    let _ = writeln!(out, "glasslog witness: cosigner key {vkey}");
                }
                let _ = out.flush();
            },
            crate::serve::shutdown_signal(),
        )
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}
