//! What break-glass entries say, and how they are written into and read back from the log.
//!
//! The server writes lifecycle steps and alerts as native glasslog events under [`SOURCE`],
//! so they pass through the same sanitizer as everything else (a justification can hold a
//! secret too). [`decode`] reads a stored entry back; it trusts lifecycle entries only under
//! that source, which no submitter may use.

use crate::SOURCE;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What a session covers. An action is in scope when its operation matches one of `actions`
/// (or `actions` is empty) and each of its resources matches one of `resources` (or
/// `resources` is empty). Patterns are literal except for `*`, which matches any run of
/// characters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scope {
    /// Resource-name patterns.
    pub resources: Vec<String>,
    /// Operation patterns.
    pub actions: Vec<String>,
}

/// `*`-glob match, linear in practice: patterns are short and come from the policy-checked
/// session request.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

impl Scope {
    /// Whether an action with `operation` on `resources` is covered.
    pub fn covers(&self, operation: &str, resources: &[String]) -> bool {
        let op = self.actions.is_empty() || self.actions.iter().any(|p| glob(p, operation));
        let res = self.resources.is_empty()
            || resources
                .iter()
                .all(|r| self.resources.iter().any(|p| glob(p, r)));
        op && res
    }

    /// Whether the scope names anything at all.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.actions.is_empty()
    }
}

/// A review's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The access was justified and stayed within bounds.
    Appropriate,
    /// It was not.
    Inappropriate,
    /// Something must still be done (rotate a credential, fix a process).
    NeedsFollowUp,
}

/// An audit finding, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule that fired (see [`crate::state`] for the list).
    pub rule: String,
    /// The session concerned (possibly one that does not exist).
    pub session: String,
    /// The index of the entry that triggered it, for rules about one action.
    #[serde(default)]
    pub subject: Option<u64>,
    /// What was found, in words.
    pub detail: String,
}

/// A session request, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// Why, in free text.
    pub justification: String,
    /// The ticket or incident reference.
    pub ticket: String,
    /// What it covers.
    pub scope: Scope,
    /// Requested duration.
    pub duration_seconds: u64,
    /// Whether the requester declared an emergency.
    pub emergency: bool,
    /// Approvals the policy required when it was opened.
    pub approvals_required: u32,
    /// The requester's token role when it was opened.
    pub requester_role: String,
}

/// One lifecycle step of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A session was requested.
    Opened(Opened),
    /// An approver approved it (or the requester did, in a declared emergency).
    Approved {
        /// Whether this is the requester approving their own session.
        self_approval: bool,
        /// Whether this approval activates the session whatever the quorum (a self-approval
        /// under `self_approval_activates`). Recorded, so the fold never reads the policy.
        activates: bool,
    },
    /// An approver denied it.
    Denied {
        /// Why.
        reason: String,
    },
    /// Its end was pushed back.
    Extended {
        /// By how long.
        seconds: u64,
        /// Why.
        reason: String,
    },
    /// It was closed before its end.
    Closed {
        /// Why.
        reason: String,
    },
    /// It reached its end (active) or its approval window passed (pending).
    Expired,
    /// A reviewer recorded a verdict.
    Reviewed {
        /// The verdict.
        verdict: Verdict,
        /// Notes.
        notes: String,
    },
}

impl Event {
    /// The operation name recorded in the log.
    pub fn operation(&self) -> &'static str {
        match self {
            Event::Opened(_) => "breakglass.opened",
            Event::Approved { .. } => "breakglass.approved",
            Event::Denied { .. } => "breakglass.denied",
            Event::Extended { .. } => "breakglass.extended",
            Event::Closed { .. } => "breakglass.closed",
            Event::Expired => "breakglass.expired",
            Event::Reviewed { .. } => "breakglass.reviewed",
        }
    }

    /// The native glasslog event the server submits for this step by `actor` on `session`.
    pub fn to_native(&self, session: &str, actor: &str) -> Value {
        let (reason, ticket, details) = match self {
            Event::Opened(Opened {
                justification,
                ticket,
                scope,
                duration_seconds,
                emergency,
                approvals_required,
                requester_role,
            }) => (
                Some(justification.as_str()),
                Some(ticket.as_str()),
                json!({
                    "scope": scope,
                    "duration_seconds": duration_seconds,
                    "emergency": emergency,
                    "approvals_required": approvals_required,
                    "requester_role": requester_role,
                }),
            ),
            Event::Approved {
                self_approval,
                activates,
            } => (
                None,
                None,
                json!({ "self_approval": self_approval, "activates": activates }),
            ),
            Event::Denied { reason } | Event::Closed { reason } => {
                (Some(reason.as_str()), None, json!({}))
            }
            Event::Extended { seconds, reason } => {
                (Some(reason.as_str()), None, json!({ "seconds": seconds }))
            }
            Event::Expired => (None, None, json!({})),
            Event::Reviewed { verdict, notes } => {
                (Some(notes.as_str()), None, json!({ "verdict": verdict }))
            }
        };
        native(self.operation(), session, actor, reason, ticket, details)
    }
}

fn native(
    operation: &str,
    session: &str,
    actor: &str,
    reason: Option<&str>,
    ticket: Option<&str>,
    details: Value,
) -> Value {
    let mut v = json!({
        "actor": { "user": actor },
        "action": operation,
        "resource": { "name": session, "type": "breakglass-session" },
        "outcome": "success",
        "source": { "service": "glasslog" },
        "breakglass_session": session,
        "details": details,
    });
    if let Some(r) = reason.filter(|r| !r.is_empty()) {
        v["reason"] = json!(r);
    }
    if let Some(t) = ticket.filter(|t| !t.is_empty()) {
        v["ticket"] = json!(t);
    }
    v
}

impl Alert {
    /// The native glasslog event the server submits for this alert.
    pub fn to_native(&self) -> Value {
        let mut v = native(
            "breakglass.alert",
            &self.session,
            "glasslog",
            Some(&self.detail),
            None,
            json!({ "rule": self.rule, "subject": self.subject }),
        );
        v["outcome"] = json!("failure");
        v
    }
}

/// The native event recording that the break-glass policy in force changed.
pub fn policy_native(recorded: &Value, fingerprint: &str) -> Value {
    json!({
        "actor": { "user": "glasslog" },
        "action": "breakglass.policy",
        "resource": { "name": "breakglass-policy", "type": "policy" },
        "outcome": "success",
        "source": { "service": "glasslog" },
        "details": { "policy": recorded, "fingerprint": fingerprint },
    })
}

/// Who submitted an entry, as the server authenticated them (the envelope's `submitter`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitter {
    /// The token holder's principal.
    pub principal: String,
    /// The token's id.
    pub token: String,
    /// The token's role.
    pub role: String,
}

/// An event some service submitted under a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// The session it names.
    pub session: String,
    /// Who acted, as the entry claims.
    pub actor: String,
    /// Who submitted it, as the server authenticated them (absent in entries written before
    /// the server recorded it).
    pub submitter: Option<Submitter>,
    /// On whose behalf, if recorded.
    pub on_behalf_of: Option<String>,
    /// The operation.
    pub operation: String,
    /// The resources acted on.
    pub resources: Vec<String>,
}

/// A decoded break-glass entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A lifecycle step.
    Lifecycle {
        /// The session.
        session: String,
        /// Who took the step.
        actor: String,
        /// The step.
        event: Event,
    },
    /// An audit finding.
    Alert(Alert),
    /// The policy in force changed; the value is its fingerprint.
    Policy(String),
    /// An action under a session.
    Action(Action),
}

/// A decoded entry with where and when the log put it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// The entry's index.
    pub index: u64,
    /// The server's receive time, milliseconds since the Unix epoch.
    pub at: u64,
    /// Secrets the sanitizer redacted from it (counted from its redaction markers, so that
    /// the audit rule is a pure function of the log).
    pub redactions: usize,
    /// What it says.
    pub record: Record,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Reads a stored entry (the canonical JSON the log holds at `index`). `None` when it is not
/// a break-glass entry or does not have the shape the server writes.
pub fn decode(index: u64, bytes: &[u8]) -> Option<Located> {
    let stored: Value = serde_json::from_slice(bytes).ok()?;
    let at = stored.get("received")?.as_u64()?;
    let source = stored.get("source")?.as_str()?;
    let ev = stored.get("event")?;
    let unmapped = ev.get("unmapped");
    let session = unmapped
        .and_then(|u| u.get("breakglass_session"))
        .and_then(Value::as_str);
    let operation = ev
        .get("api")
        .and_then(|a| a.get("operation"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let actor = ev
        .get("actor")
        .and_then(|a| a.get("user"))
        .and_then(|u| u.get("name"))
        .map(text)
        .unwrap_or_default();
    let record = if source == SOURCE {
        let details = unmapped
            .and_then(|u| u.get("details"))
            .unwrap_or(&Value::Null);
        let message = ev.get("message").map(text).unwrap_or_default();
        if operation == "breakglass.policy" {
            return Some(Located {
                index,
                at,
                redactions: 0,
                record: Record::Policy(text(&details["fingerprint"])),
            });
        }
        let session = session?.to_owned();
        if operation == "breakglass.alert" {
            Record::Alert(Alert {
                rule: text(&details["rule"]),
                session,
                subject: details["subject"].as_u64(),
                detail: message,
            })
        } else {
            let event = match operation {
                "breakglass.opened" => Event::Opened(Opened {
                    justification: message,
                    ticket: unmapped
                        .and_then(|u| u.get("ticket"))
                        .map(text)
                        .unwrap_or_default(),
                    scope: serde_json::from_value(details["scope"].clone()).ok()?,
                    duration_seconds: details["duration_seconds"].as_u64()?,
                    emergency: details["emergency"].as_bool()?,
                    approvals_required: u32::try_from(details["approvals_required"].as_u64()?)
                        .ok()?,
                    requester_role: text(&details["requester_role"]),
                }),
                "breakglass.approved" => {
                    let self_approval = details["self_approval"].as_bool()?;
                    Event::Approved {
                        self_approval,
                        // Entries from before the setting: a self-approval activated.
                        activates: details["activates"].as_bool().unwrap_or(self_approval),
                    }
                }
                "breakglass.denied" => Event::Denied { reason: message },
                "breakglass.extended" => Event::Extended {
                    seconds: details["seconds"].as_u64()?,
                    reason: message,
                },
                "breakglass.closed" => Event::Closed { reason: message },
                "breakglass.expired" => Event::Expired,
                "breakglass.reviewed" => Event::Reviewed {
                    verdict: serde_json::from_value(details["verdict"].clone()).ok()?,
                    notes: message,
                },
                _ => return None,
            };
            Record::Lifecycle {
                session,
                actor,
                event,
            }
        }
    } else {
        let resources = ev
            .get("resources")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .map(|r| r.get("name").map(text).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default();
        Record::Action(Action {
            session: session?.to_owned(),
            actor,
            submitter: stored
                .get("submitter")
                .and_then(|s| serde_json::from_value(s.clone()).ok()),
            on_behalf_of: unmapped
                .and_then(|u| u.get("on_behalf_of"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            operation: operation.to_owned(),
            resources,
        })
    };
    let redactions = match record {
        Record::Alert(_) => 0,
        _ => count(bytes, b"[REDACTED:"),
    };
    Some(Located {
        index,
        at,
        redactions,
        record,
    })
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// The session a submitted event names (`breakglass_session` in a native event, or
/// `unmapped.breakglass_session` in an OCSF record), before it is sanitized.
pub fn session_of(event: &Value) -> Option<&str> {
    event
        .get("breakglass_session")
        .or_else(|| {
            event
                .get("unmapped")
                .and_then(|u| u.get("breakglass_session"))
        })
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_like_a_shell_star() {
        assert!(glob("db/prod-*", "db/prod-1"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(!glob("db/prod-*", "db/staging-1"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
        assert!(glob("*ly", "exactly"));
    }
}
