//! `glasslog breakglass ...`: request, approve, extend, close and review emergency access, and
//! fetch incident reports that are verified before they are written.

use crate::conn::{Conn, print};
use anyhow::{Context as _, Result, bail};
use glasslog_breakglass::{Report, verify_report};
use glasslog_client::Error as ClientError;
use glasslog_merkle::{Ed25519Verifier, VerifierSet};
use serde_json::{Value, json};
use std::io::Write as _;
use std::path::PathBuf;

/// The subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Request a session. Prints it, with its id.
    Open {
        #[command(flatten)]
        conn: Conn,
        /// Why the emergency needs privileged access.
        #[arg(long)]
        justification: String,
        /// The ticket or incident reference.
        #[arg(long)]
        ticket: String,
        /// A resource pattern the session covers (`*` matches anything); repeatable.
        #[arg(long = "resource")]
        resources: Vec<String>,
        /// An operation pattern the session covers; repeatable.
        #[arg(long = "action")]
        actions: Vec<String>,
        /// How long: seconds, or with a unit (90s, 30m, 2h).
        #[arg(long, value_parser = parse_duration)]
        duration: u64,
        /// Declare an emergency (the policy may then allow self-approval).
        #[arg(long)]
        emergency: bool,
    },
    /// Approve a session.
    Approve {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
    },
    /// Deny a session.
    Deny {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Extend an active session.
    Extend {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// By how long (90s, 30m, 2h).
        #[arg(long, value_parser = parse_duration)]
        duration: u64,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Close a session early.
    Close {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Record the review of an ended session.
    Review {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// appropriate, inappropriate or needs_follow_up.
        #[arg(long)]
        verdict: String,
        /// Notes.
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// Show one session.
    Show {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
    },
    /// List sessions (all of them for auditors, approvers and reviewers; one's own otherwise).
    List {
        #[command(flatten)]
        conn: Conn,
        /// Only sessions in this status (pending, active, denied, closed, expired, lapsed).
        #[arg(long)]
        status: Option<String>,
    },
    /// Fetch a session's incident report, verify every proof in it, and write it.
    /// Exit status: 0 verified, 1 does not verify, 2 error, 3 unreachable.
    Report {
        #[command(flatten)]
        conn: Conn,
        /// Session id.
        id: String,
        /// Write the JSON report (verifiable offline with `glasslog verify`) here; stdout
        /// when neither --out nor --markdown is given.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write the Markdown report here.
        #[arg(long)]
        markdown: Option<PathBuf>,
        /// Write each entry's proof here as a C2SP tlog-proof file, `<index>.tlog-proof`, that
        /// any tlog-proof verifier (and `glasslog verify`) checks on its own.
        #[arg(long)]
        tlog_proofs: Option<PathBuf>,
    },
    /// Run every audit rule over the whole log now; prints the findings.
    Audit {
        #[command(flatten)]
        conn: Conn,
    },
}

/// `90`, `90s`, `30m`, `2h` as seconds.
fn parse_duration(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 30m or 2h"))?;
    let mul = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("unknown unit {unit:?}; use s, m or h")),
    };
    n.checked_mul(mul).ok_or_else(|| "duration too long".into())
}

fn step(conn: &Conn, id: &str, step: &str, body: Value) -> Result<()> {
    let path = format!("/v1/breakglass/sessions/{id}/{step}");
    print(&conn.client()?.call("POST", &path, Some(&body))?)
}

/// Runs a subcommand.
pub fn run(cmd: &Command) -> Result<()> {
    match cmd {
        Command::Open {
            conn,
            justification,
            ticket,
            resources,
            actions,
            duration,
            emergency,
        } => {
            let body = json!({
                "justification": justification, "ticket": ticket,
                "scope": { "resources": resources, "actions": actions },
                "duration_seconds": duration, "emergency": emergency,
            });
            print(
                &conn
                    .client()?
                    .call("POST", "/v1/breakglass/sessions", Some(&body))?,
            )
        }
        Command::Approve { conn, id } => step(conn, id, "approve", json!({})),
        Command::Deny { conn, id, reason } => step(conn, id, "deny", json!({ "reason": reason })),
        Command::Extend {
            conn,
            id,
            duration,
            reason,
        } => step(
            conn,
            id,
            "extend",
            json!({ "seconds": duration, "reason": reason }),
        ),
        Command::Close { conn, id, reason } => step(conn, id, "close", json!({ "reason": reason })),
        Command::Review {
            conn,
            id,
            verdict,
            notes,
        } => step(
            conn,
            id,
            "review",
            json!({ "verdict": verdict, "notes": notes }),
        ),
        Command::Show { conn, id } => print(&conn.client()?.call(
            "GET",
            &format!("/v1/breakglass/sessions/{id}"),
            None,
        )?),
        Command::List { conn, status } => {
            let path = match status {
                Some(s) => format!("/v1/breakglass/sessions?status={s}"),
                None => "/v1/breakglass/sessions".into(),
            };
            print(&conn.client()?.call("GET", &path, None)?)
        }
        Command::Audit { conn } => {
            print(&conn.client()?.call("POST", "/v1/breakglass/audit", None)?)
        }
        Command::Report {
            conn,
            id,
            out,
            markdown,
            tlog_proofs,
        } => {
            let v = conn.client()?.call(
                "GET",
                &format!("/v1/breakglass/sessions/{id}/report"),
                None,
            )?;
            let report: Report = serde_json::from_value(v)
                .map_err(|e| ClientError::Lied(format!("not a report: {e}")))?;
            check(&report, conn.vkey())?;
            let text = serde_json::to_string_pretty(&report)?;
            if out.is_none() && markdown.is_none() {
                writeln!(std::io::stdout().lock(), "{text}")?;
            }
            if let Some(p) = out {
                std::fs::write(p, format!("{text}\n"))
                    .with_context(|| format!("cannot write {}", p.display()))?;
            }
            if let Some(p) = markdown {
                std::fs::write(p, report.to_markdown())
                    .with_context(|| format!("cannot write {}", p.display()))?;
            }
            if let Some(dir) = tlog_proofs {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                for e in &report.entries {
                    let Some(proof) = &e.tlog_proof else {
                        bail!(
                            "the server sent a report without tlog-proofs (format {})",
                            report.format
                        );
                    };
                    let p = dir.join(format!("{}.tlog-proof", e.index));
                    std::fs::write(&p, proof)
                        .with_context(|| format!("cannot write {}", p.display()))?;
                }
            }
            writeln!(
                std::io::stderr(),
                "verified: {} entries of session {} are in the signed tree",
                report.entries.len(),
                report.session
            )?;
            Ok(())
        }
    }
}

/// Verifies a report with the log's verifier key; a failure is [`ClientError::Lied`].
pub fn check(report: &Report, vkey: &str) -> Result<glasslog_breakglass::VerifiedReport> {
    let verifier = Ed25519Verifier::from_vkey(vkey).context("verifier key")?;
    let origin = glasslog_merkle::Verifier::name(&verifier).to_owned();
    let mut known = VerifierSet::new();
    known.add(verifier);
    let v = verify_report(report, &known).map_err(|e| ClientError::Lied(e.to_string()))?;
    if v.checkpoint.origin != origin {
        bail!(ClientError::Lied(format!(
            "checkpoint origin {:?} is not the key's",
            v.checkpoint.origin
        )));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert!(parse_duration("2d").is_err());
        assert!(parse_duration("h").is_err());
    }
}
