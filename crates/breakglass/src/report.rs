//! Incident reports: every entry of one session with its inclusion proof against one signed
//! checkpoint, and a summary that anyone can recompute from those entries.

use crate::record::{Event, Record, decode};
use crate::session::Session;
use crate::state::State;
use glasslog_merkle::{
    Checkpoint, Hash, Note, TlogProof, VerifierSet, leaf_hash, verify_inclusion,
};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The report format marker. v2 adds each entry's proof as a C2SP tlog-proof file.
pub const FORMAT: &str = "glasslog-breakglass-report/v2";

/// The first format, still verified: the same report without the tlog-proofs.
pub const FORMAT_V1: &str = "glasslog-breakglass-report/v1";

/// A report, as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// [`FORMAT`].
    pub format: String,
    /// The session.
    pub session: String,
    /// The signed checkpoint every proof leads to.
    pub checkpoint: String,
    /// Every entry about the session, by increasing index.
    pub entries: Vec<ReportEntry>,
    /// The session as those entries tell it.
    pub summary: Session,
}

/// One entry of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportEntry {
    /// Its index in the log.
    pub index: u64,
    /// Its exact stored bytes (canonical JSON, so valid UTF-8).
    pub entry: String,
    /// Its audit path to the checkpoint's root, base64, leaf's sibling first.
    pub inclusion_proof: Vec<String>,
    /// The same proof as a C2SP tlog-proof file (<https://c2sp.org/tlog-proof>), with the
    /// entry as its `extra` data and the report's checkpoint: any tlog-proof verifier checks
    /// it alone. Present in v2 reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlog_proof: Option<String>,
    /// In a log encrypted at rest, the sealed record the leaf hashes and the salt that proves
    /// `entry` is what it commits to; the tlog-proof's `extra` is then the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<glasslog_seal::SealedParts>,
}

/// One entry given to [`Report::build`].
#[derive(Clone, Debug)]
pub struct BuildEntry {
    /// Its index.
    pub index: u64,
    /// Its plaintext (canonical JSON).
    pub bytes: Vec<u8>,
    /// Its audit path.
    pub path: Vec<Hash>,
    /// For a sealed log, the record the leaf hashes and the commitment's salt.
    pub sealed: Option<(Vec<u8>, [u8; 32])>,
}

/// Why a report does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Not a report of this format.
    #[error("not a {FORMAT} report: {0}")]
    Format(String),
    /// The checkpoint's signature or text is wrong.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// An entry is not in the signed tree.
    #[error("entry {index}: {reason}")]
    Entry {
        /// The entry's index.
        index: u64,
        /// What is wrong.
        reason: String,
    },
    /// The summary is not what the entries say.
    #[error("the summary does not match the entries: {0}")]
    Summary(String),
}

/// What a verified report proves.
#[derive(Clone, Debug)]
pub struct VerifiedReport {
    /// The signed checkpoint.
    pub checkpoint: Checkpoint,
    /// The session recomputed from the proven entries.
    pub session: Session,
}

/// Folds a session's entries (index, bytes), in log order, into its summary.
pub fn summarize(session: &str, entries: &[(u64, &[u8])]) -> Result<Session, ReportError> {
    let mut state = State::new();
    let mut last = None;
    for (index, bytes) in entries {
        if last.is_some_and(|l| *index <= l) {
            return Err(ReportError::Entry {
                index: *index,
                reason: "entries are not in increasing index order".into(),
            });
        }
        last = Some(*index);
        let l = decode(*index, bytes).ok_or_else(|| ReportError::Entry {
            index: *index,
            reason: "not a break-glass entry".into(),
        })?;
        let about = match &l.record {
            Record::Lifecycle { session, .. } => session,
            Record::Alert(a) => &a.session,
            Record::Action(a) => &a.session,
            Record::Policy(_) => {
                return Err(ReportError::Entry {
                    index: *index,
                    reason: "a policy entry is not about a session".into(),
                });
            }
        };
        if about != session {
            return Err(ReportError::Entry {
                index: *index,
                reason: format!("belongs to session {about:?}"),
            });
        }
        state.apply(&l);
    }
    state
        .session(session)
        .cloned()
        .ok_or_else(|| ReportError::Summary("no entry opens the session".into()))
}

impl Report {
    /// Builds a report from the session's entries (index, bytes, audit path) and the signed
    /// checkpoint their paths lead to.
    pub fn build(
        session: &str,
        checkpoint: String,
        entries: Vec<BuildEntry>,
    ) -> Result<Report, ReportError> {
        let raw: Vec<(u64, &[u8])> = entries
            .iter()
            .map(|e| (e.index, e.bytes.as_slice()))
            .collect();
        let summary = summarize(session, &raw)?;
        let entries = entries
            .into_iter()
            .map(|e| {
                let index = e.index;
                let leaf_data = e.sealed.as_ref().map_or(&e.bytes, |(r, _)| r);
                let tlog_proof = TlogProof {
                    extra: Some(leaf_data.clone()),
                    index,
                    proof: e.path.clone(),
                    checkpoint: checkpoint.clone(),
                }
                .to_text();
                Ok(ReportEntry {
                    index,
                    inclusion_proof: e.path.iter().map(Hash::to_base64).collect(),
                    tlog_proof: Some(tlog_proof),
                    sealed: e
                        .sealed
                        .as_ref()
                        .map(|(r, salt)| glasslog_seal::SealedParts::new(r, salt)),
                    entry: String::from_utf8(e.bytes).map_err(|_| ReportError::Entry {
                        index,
                        reason: "not UTF-8".into(),
                    })?,
                })
            })
            .collect::<Result<_, ReportError>>()?;
        Ok(Report {
            format: FORMAT.into(),
            session: session.to_owned(),
            checkpoint,
            entries,
            summary,
        })
    }

    /// The report for people: what happened, in order, and how to check it.
    pub fn to_markdown(&self) -> String {
        let s = &self.summary;
        let mut md = String::new();
        let _ = writeln!(md, "# Break-glass incident report: session `{}`\n", s.id);
        let _ = writeln!(md, "| | |\n|---|---|");
        let row = |md: &mut String, k: &str, v: &str| {
            let _ = writeln!(md, "| {k} | {} |", v.replace('|', "\\|").replace('\n', " "));
        };
        row(
            &mut md,
            "Requester",
            &format!("{} (role {})", s.requester, s.requester_role),
        );
        row(&mut md, "Ticket", &s.ticket);
        row(&mut md, "Justification", &s.justification);
        row(
            &mut md,
            "Emergency declared",
            if s.emergency { "yes" } else { "no" },
        );
        row(&mut md, "Scope: resources", &s.scope.resources.join(", "));
        row(&mut md, "Scope: actions", &s.scope.actions.join(", "));
        row(&mut md, "Status", &format!("{:?}", s.status).to_lowercase());
        row(&mut md, "Opened", &time(s.opened_at));
        row(
            &mut md,
            "Active from",
            &s.activated_at.map(time).unwrap_or_default(),
        );
        row(
            &mut md,
            "Ends / ended",
            &s.ended_at.or(s.expires_at).map(time).unwrap_or_default(),
        );
        row(
            &mut md,
            "Approvals",
            &format!(
                "{} of {} required: {}",
                s.approvals.len(),
                s.approvals_required,
                s.approvals
                    .iter()
                    .map(|a| if a.self_approval {
                        format!("{} (self-approval)", a.by)
                    } else {
                        a.by.clone()
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        row(&mut md, "Extensions", &s.extensions.len().to_string());
        row(&mut md, "Actions", &s.actions.to_string());
        row(&mut md, "Alerts", &s.alerts.len().to_string());
        row(
            &mut md,
            "Review",
            &match &s.review {
                Some(r) => format!("{:?} by {} at {}: {}", r.verdict, r.by, time(r.at), r.notes),
                None => "not reviewed".into(),
            },
        );
        let _ = writeln!(md, "\n## Timeline\n");
        let _ = writeln!(md, "| Index | Time (UTC) | What |\n|---|---|---|");
        for e in &self.entries {
            let what = match decode(e.index, e.entry.as_bytes()) {
                Some(l) => {
                    let text = match &l.record {
                        Record::Lifecycle { actor, event, .. } => describe(actor, event),
                        Record::Action(a) => format!(
                            "action by {}: `{}` on {}",
                            a.actor,
                            a.operation,
                            a.resources.join(", ")
                        ),
                        Record::Alert(a) => format!("**ALERT** `{}`: {}", a.rule, a.detail),
                        Record::Policy(_) => "policy change".into(),
                    };
                    (time(l.at), text)
                }
                None => (String::new(), "(not a break-glass entry)".into()),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                e.index,
                what.0,
                what.1.replace('|', "\\|").replace('\n', " ")
            );
        }
        if !s.alerts.is_empty() {
            let _ = writeln!(md, "\n## Audit findings\n");
            for a in &s.alerts {
                let _ = writeln!(md, "- `{}` (entry {}): {}", a.rule, a.index, a.detail);
            }
        }
        let _ = writeln!(
            md,
            "\n## Verification\n\nEvery entry above is included in this signed checkpoint; the JSON \
             report carries each entry's exact bytes and inclusion proof. Check it offline with \
             `glasslog verify <report.json> --vkey <verifier key>`.\n\n```\n{}```",
            self.checkpoint
        );
        md
    }
}

fn describe(actor: &str, event: &Event) -> String {
    match event {
        Event::Opened(crate::record::Opened {
            justification,
            duration_seconds,
            emergency,
            ..
        }) => format!(
            "opened by {actor} for {duration_seconds} s{}: {justification}",
            if *emergency { " (emergency)" } else { "" }
        ),
        Event::Approved { self_approval, .. } => format!(
            "approved by {actor}{}",
            if *self_approval {
                " (self-approval)"
            } else {
                ""
            }
        ),
        Event::Denied { reason } => format!("denied by {actor}: {reason}"),
        Event::Extended { seconds, reason } => {
            format!("extended by {actor} for {seconds} s: {reason}")
        }
        Event::Closed { reason } => format!("closed by {actor}: {reason}"),
        Event::Expired => "expired".into(),
        Event::Reviewed { verdict, notes } => format!("reviewed by {actor}: {verdict:?}. {notes}"),
    }
}

/// Milliseconds since the epoch as RFC 3339 UTC (civil-from-days, proleptic Gregorian).
fn time(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms % 1000
    )
}

/// Checks a report with nothing but the log's verifier keys: the checkpoint's signature, each
/// entry's inclusion, that every entry is about the session, and that the summary is what the
/// entries say. (A report cannot prove that no entry of the session was left out; an auditor
/// who needs that runs `glasslog audit` over the whole log.)
pub fn verify_report(report: &Report, known: &VerifierSet) -> Result<VerifiedReport, ReportError> {
    let v2 = report.format == FORMAT;
    if !v2 && report.format != FORMAT_V1 {
        return Err(ReportError::Format(format!(
            "format is {:?}",
            report.format
        )));
    }
    let note = Note::parse(report.checkpoint.as_bytes())
        .map_err(|e| ReportError::Checkpoint(e.to_string()))?;
    let signers: Vec<String> = note
        .verify(known)
        .map_err(|e| ReportError::Checkpoint(e.to_string()))?
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let checkpoint =
        Checkpoint::parse(&note.text).map_err(|e| ReportError::Checkpoint(e.to_string()))?;
    // A log's key is named for its origin: the checkpoint must be signed by the key of the
    // log it claims to be, not by any key the reader trusts.
    if !signers.contains(&checkpoint.origin) {
        return Err(ReportError::Checkpoint(format!(
            "checkpoint origin {:?} is not the name of a key that signed it",
            checkpoint.origin
        )));
    }
    let mut raw = Vec::with_capacity(report.entries.len());
    for e in &report.entries {
        let path = e
            .inclusion_proof
            .iter()
            .map(|h| Hash::from_base64(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| ReportError::Entry {
                index: e.index,
                reason: format!("inclusion proof: {err}"),
            })?;
        let leaf_data = match &e.sealed {
            Some(parts) => {
                parts
                    .leaf_data(e.entry.as_bytes())
                    .map_err(|err| ReportError::Entry {
                        index: e.index,
                        reason: format!("sealed record: {err}"),
                    })?
            }
            None => e.entry.as_bytes().to_vec(),
        };
        verify_inclusion(
            e.index,
            checkpoint.size,
            &leaf_hash(&leaf_data),
            &path,
            &checkpoint.root,
        )
        .map_err(|err| ReportError::Entry {
            index: e.index,
            reason: format!("not in the signed tree of size {}: {err}", checkpoint.size),
        })?;
        // The tlog-proof must be this very proof, so that checking it alone (with any
        // verifier) checks what the report says.
        match (&e.tlog_proof, v2) {
            (Some(text), true) => {
                let t = TlogProof::parse(text.as_bytes()).map_err(|err| ReportError::Entry {
                    index: e.index,
                    reason: format!("tlog-proof: {err}"),
                })?;
                if t.index != e.index
                    || t.proof != path
                    || t.checkpoint != report.checkpoint
                    || t.extra.as_deref() != Some(leaf_data.as_slice())
                {
                    return Err(ReportError::Entry {
                        index: e.index,
                        reason: "its tlog-proof is not the report's proof".into(),
                    });
                }
            }
            (None, false) => {}
            (None, true) => {
                return Err(ReportError::Entry {
                    index: e.index,
                    reason: "a v2 report entry carries its tlog-proof".into(),
                });
            }
            (Some(_), false) => {
                return Err(ReportError::Format("a v1 report has no tlog-proofs".into()));
            }
        }
        raw.push((e.index, e.entry.as_bytes()));
    }
    let session = summarize(&report.session, &raw)?;
    let recomputed =
        serde_json::to_value(&session).map_err(|e| ReportError::Summary(e.to_string()))?;
    let claimed =
        serde_json::to_value(&report.summary).map_err(|e| ReportError::Summary(e.to_string()))?;
    if recomputed != claimed {
        let field = recomputed
            .as_object()
            .and_then(|r| {
                r.iter()
                    .find(|(k, v)| claimed.get(k.as_str()) != Some(*v))
                    .map(|(k, _)| k.clone())
            })
            .unwrap_or_default();
        return Err(ReportError::Summary(format!("field `{field}` differs")));
    }
    Ok(VerifiedReport {
        checkpoint,
        session,
    })
}

#[cfg(test)]
mod tests {
    use super::time;

    #[test]
    fn formats_utc_times() {
        assert_eq!(time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(time(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(time(1_795_305_600_000), "2026-11-22T00:00:00.000Z");
    }
}
