//! Where the log is and how to trust it: the connection flags every client command shares,
//! and the one way results are printed.

use anyhow::Result;
use glasslog_client::Client;
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
}

impl Conn {
    /// A verifying client for this log.
    pub fn client(&self) -> Result<Client> {
        // An empty GLASSLOG_TOKEN means no token, as shells and compose files often leave it.
        let token = self.token.clone().filter(|t| !t.trim().is_empty());
        Ok(Client::new(&self.url, &self.vkey, token)?
            .with_witnesses(&self.witnesses, self.quorum)?)
    }

    /// The log's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The log's verifier key.
    pub fn vkey(&self) -> &str {
        &self.vkey
    }
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
