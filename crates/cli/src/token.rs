//! `glasslog token create|list|revoke`: token management through the server's admin API, so
//! that every change is recorded in the log by the server itself.

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use std::io::Write as _;
use std::process::ExitCode;

/// Where the server is and who is asking.
#[derive(clap::Args)]
pub struct Conn {
    /// Server base URL.
    #[arg(long, env = "GLASSLOG_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An admin token (for a local default install: the contents of glasslog-data/admin.token).
    #[arg(long, env = "GLASSLOG_TOKEN", hide_env_values = true)]
    token: String,
}

/// `glasslog token` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a token; it is printed once and never stored in clear.
    Create {
        #[command(flatten)]
        conn: Conn,
        /// submitter, reader, auditor or admin.
        #[arg(long)]
        role: String,
        /// The token's name, never reused; also the default source of its submissions.
        #[arg(long)]
        name: String,
        /// The person or service holding it, if not `--name` (several tokens of one holder
        /// share it: break-glass counts approvals by principal).
        #[arg(long)]
        principal: Option<String>,
        /// For submitters: a source it may submit as (repeatable).
        #[arg(long = "source")]
        sources: Vec<String>,
    },
    /// List tokens (IDs, names, roles; never the tokens).
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// Revoke a token by ID.
    Revoke {
        #[command(flatten)]
        conn: Conn,
        /// The token's ID (from `create` or `list`). IDs are base64url and may start with
        /// `-`, which must not be taken for a flag.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

fn call(conn: &Conn, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", conn.url.trim_end_matches('/'));
    let auth = format!("Bearer {}", conn.token.trim());
    let mut resp = match (method, body) {
        ("POST", Some(b)) => agent
            .post(&url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .send(serde_json::to_vec(b)?.as_slice()),
        ("DELETE", _) => agent.delete(&url).header("Authorization", &auth).call(),
        _ => agent.get(&url).header("Authorization", &auth).call(),
    }
    .with_context(|| format!("cannot reach {}", conn.url))?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if status >= 400 {
        let detail = value
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or("request failed");
        bail!("the server answered {status}: {detail}");
    }
    Ok((status, value))
}

/// Runs a token subcommand.
pub fn run(command: &Command) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Create {
            conn,
            role,
            name,
            principal,
            sources,
        } => {
            let (_, v) = call(
                conn,
                "POST",
                "/v1/admin/tokens",
                Some(
                    &json!({ "role": role, "name": name, "principal": principal, "sources": sources }),
                ),
            )?;
            writeln!(out, "id:    {}", v["id"].as_str().unwrap_or(""))?;
            writeln!(out, "role:  {}", v["role"].as_str().unwrap_or(""))?;
            writeln!(out, "token: {}", v["token"].as_str().unwrap_or(""))?;
            writeln!(
                out,
                "(the token is shown only now; store it in a secret manager)"
            )?;
        }
        Command::List { conn } => {
            let (_, v) = call(conn, "GET", "/v1/admin/tokens", None)?;
            for t in v["tokens"].as_array().into_iter().flatten() {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    t["id"].as_str().unwrap_or(""),
                    t["role"].as_str().unwrap_or(""),
                    t["name"].as_str().unwrap_or(""),
                    if t["revoked"].as_bool() == Some(true) {
                        "revoked"
                    } else {
                        "active"
                    }
                )?;
            }
        }
        Command::Revoke { conn, id } => {
            call(conn, "DELETE", &format!("/v1/admin/tokens/{id}"), None)?;
            writeln!(out, "revoked {id}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
