//! Where the log is and how to trust it: the connection flags every client command shares,
//! and the one way results are printed.

use anyhow::{Context as _, Result};
use glasslog_client::{Client, Trust};
use serde_json::Value;
use std::io::Write as _;

/// Where the log is and how to trust it.
#[derive(clap::Args)]
pub struct Conn {
    /// Server base URL.
    #[arg(long, env = "GLASSLOG_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The log's verifier key (`glasslog serve` prints it; also in GET /v1/log).
    #[arg(long, env = "GLASSLOG_VKEY")]
    vkey: String,
    /// API token (submitter to submit, auditor to read entries).
    #[arg(long, env = "GLASSLOG_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A witness's cosigner key (repeatable, or comma-separated in GLASSLOG_WITNESSES): with
    /// `--quorum`, checkpoints it has not cosigned do not count.
    #[arg(long = "witness", env = "GLASSLOG_WITNESSES", value_delimiter = ',')]
    witnesses: Vec<String>,
    /// Distinct witnesses of `--witness` that must cosign every checkpoint relied on.
    #[arg(long, env = "GLASSLOG_QUORUM", default_value_t = 0)]
    quorum: usize,
    /// Another key of the same log, trusted beside `--vkey` (its ML-DSA-44 key, say).
    #[arg(long = "log-key", env = "GLASSLOG_LOG_KEYS", value_delimiter = ',')]
    log_keys: Vec<String>,
    /// A C2SP tlog-policy file (logs, witnesses, quorum): every checkpoint relied on must meet
    /// it, besides `--quorum`.
    #[arg(long, env = "GLASSLOG_POLICY")]
    policy: Option<std::path::PathBuf>,
}

impl Conn {
    /// A verifying client for this log.
    pub fn client(&self) -> Result<Client> {
        // An empty GLASSLOG_TOKEN means no token, as shells and compose files often leave it.
        let token = self.token.clone().filter(|t| !t.trim().is_empty());
        Ok(Client::new(&self.url, &self.vkey, token)?.with_trust(self.trust()?))
    }

    /// What a checkpoint must carry to be relied on: `--vkey` and `--log-key`, `--witness`
    /// with `--quorum`, and `--policy`.
    pub fn trust(&self) -> Result<Trust> {
        trust(
            &self.vkey,
            &self.log_keys,
            &self.witnesses,
            self.quorum,
            self.policy.as_deref(),
        )
    }

    /// The log's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The log's verifier key.
    pub fn vkey(&self) -> &str {
        &self.vkey
    }

    /// The log's other keys (`--log-key`).
    pub fn log_keys(&self) -> &[String] {
        &self.log_keys
    }
}

/// Builds the trust of a log from its keys, witnesses, quorum and optional policy file.
pub fn trust(
    vkey: &str,
    log_keys: &[String],
    witnesses: &[String],
    quorum: usize,
    policy: Option<&std::path::Path>,
) -> Result<Trust> {
    let mut trust = Trust::new(vkey)?;
    for k in log_keys {
        trust = trust.with_log_key(k)?;
    }
    trust = trust.with_witnesses(witnesses, quorum)?;
    if let Some(path) = policy {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the policy file {}", path.display()))?;
        let policy = glasslog_merkle::Policy::parse(&bytes)
            .with_context(|| format!("the policy file {}", path.display()))?;
        trust = trust.with_policy(policy)?;
    }
    Ok(trust)
}

/// Prints a JSON answer, pretty, on stdout.
pub fn print(v: &Value) -> Result<()> {
    writeln!(
        std::io::stdout().lock(),
        "{}",
        serde_json::to_string_pretty(v)?
    )?;
    Ok(())
}
