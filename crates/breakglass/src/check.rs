//! What may be appended: [`State::check`] decides, under the policy, whether a principal may
//! apply a command to a session, and returns the lifecycle event to record.

use crate::policy::{Policy, Principal};
use crate::record::{Event, Opened, Scope, Verdict};
use crate::session::Status;
use crate::state::State;

const MAX_TEXT: usize = 4096;

const MAX_SHORT: usize = 256;

const MAX_PATTERNS: usize = 64;

/// A request to change a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Open a new session.
    Open {
        /// Why.
        justification: String,
        /// Ticket or incident reference.
        ticket: String,
        /// What it covers.
        scope: Scope,
        /// How long.
        duration_seconds: u64,
        /// Whether the requester declares an emergency.
        emergency: bool,
    },
    /// Approve it.
    Approve,
    /// Deny it.
    Deny {
        /// Why.
        reason: String,
    },
    /// Push its end back.
    Extend {
        /// By how long.
        seconds: u64,
        /// Why.
        reason: String,
    },
    /// End it now.
    Close {
        /// Why.
        reason: String,
    },
    /// Record the review.
    Review {
        /// Verdict.
        verdict: Verdict,
        /// Notes.
        notes: String,
    },
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No such session.
    #[error("no break-glass session {0}")]
    NotFound(String),
    /// The policy does not allow this principal to do this.
    #[error("{0}")]
    Forbidden(String),
    /// The session is not in a state that allows it.
    #[error("{0}")]
    Conflict(String),
    /// The request itself is invalid.
    #[error("{0}")]
    Invalid(String),
}

fn bounded(field: &str, value: &str, max: usize, required: bool) -> Result<(), Refusal> {
    if required && value.trim().is_empty() {
        return Err(Refusal::Invalid(format!("{field} is required")));
    }
    if value.len() > max {
        return Err(Refusal::Invalid(format!(
            "{field} is longer than {max} bytes"
        )));
    }
    Ok(())
}

impl State {
    /// Decides whether `who` may apply `command` to session `id` at time `now` (ms) under
    /// `policy`; returns the lifecycle event to record if so.
    pub fn check(
        &self,
        id: &str,
        command: &Command,
        who: &Principal,
        now: u64,
        policy: &Policy,
    ) -> Result<Event, Refusal> {
        if let Command::Open {
            justification,
            ticket,
            scope,
            duration_seconds,
            emergency,
        } = command
        {
            if !policy.may_request(who) {
                return Err(Refusal::Forbidden(format!(
                    "{} (role {}) may not open break-glass sessions",
                    who.name, who.role
                )));
            }
            bounded("justification", justification, MAX_TEXT, true)?;
            bounded("ticket", ticket, MAX_SHORT, true)?;
            if scope.is_empty() {
                return Err(Refusal::Invalid(
                    "scope must name at least one resource or action pattern".into(),
                ));
            }
            if scope.resources.len() + scope.actions.len() > MAX_PATTERNS
                || scope
                    .resources
                    .iter()
                    .chain(&scope.actions)
                    .any(|p| p.is_empty() || p.len() > MAX_SHORT)
            {
                return Err(Refusal::Invalid(format!(
                    "scope holds at most {MAX_PATTERNS} patterns of 1 to {MAX_SHORT} bytes"
                )));
            }
            if *duration_seconds == 0 || *duration_seconds > policy.max_duration_seconds {
                return Err(Refusal::Invalid(format!(
                    "duration must be 1 to {} seconds",
                    policy.max_duration_seconds
                )));
            }
            if self.sessions.contains_key(id) {
                return Err(Refusal::Conflict(format!("session {id} exists")));
            }
            let open = self
                .sessions
                .values()
                .filter(|s| {
                    s.requester == who.name && matches!(s.status, Status::Pending | Status::Active)
                })
                .count();
            if open >= usize::try_from(policy.max_open_sessions_per_requester).unwrap_or(usize::MAX)
            {
                return Err(Refusal::Conflict(format!(
                    "{} already has {open} pending or active sessions (the policy allows {})",
                    who.name, policy.max_open_sessions_per_requester
                )));
            }
            return Ok(Event::Opened(Opened {
                justification: justification.clone(),
                ticket: ticket.clone(),
                scope: scope.clone(),
                duration_seconds: *duration_seconds,
                emergency: *emergency,
                approvals_required: policy.approvals_required,
                requester_role: who.role.clone(),
            }));
        }
        let s = self
            .sessions
            .get(id)
            .ok_or_else(|| Refusal::NotFound(id.to_owned()))?;
        let own = s.requester == who.name;
        let status = |want: &[Status], what: &str| {
            if want.contains(&s.status) {
                Ok(())
            } else {
                Err(Refusal::Conflict(format!(
                    "cannot {what} a session that is {}",
                    status_word(s.status)
                )))
            }
        };
        match command {
            Command::Open { .. } => Err(Refusal::Conflict(format!("session {id} exists"))),
            Command::Approve => {
                status(&[Status::Pending], "approve")?;
                let self_approval = own;
                if own {
                    if !(policy.self_approval_in_emergency && s.emergency) {
                        return Err(Refusal::Forbidden(
                            "approvers cannot approve their own request (the policy allows it only in a declared emergency)".into(),
                        ));
                    }
                    if policy.self_approval_needs_approver && !policy.may_approve(who) {
                        return Err(Refusal::Forbidden(format!(
                            "{} (role {}) may not approve break-glass sessions, their own included",
                            who.name, who.role
                        )));
                    }
                } else if !policy.may_approve(who) {
                    return Err(Refusal::Forbidden(format!(
                        "{} (role {}) may not approve break-glass sessions",
                        who.name, who.role
                    )));
                }
                if s.approvals.iter().any(|a| a.by == who.name) {
                    return Err(Refusal::Conflict(format!(
                        "{} has already approved this session",
                        who.name
                    )));
                }
                let window = policy.approval_window_seconds.saturating_mul(1000);
                if now >= s.opened_at.saturating_add(window) {
                    return Err(Refusal::Conflict(
                        "the approval window of this request has passed".into(),
                    ));
                }
                Ok(Event::Approved {
                    self_approval,
                    activates: self_approval && policy.self_approval_activates,
                })
            }
            Command::Deny { reason } => {
                status(&[Status::Pending], "deny")?;
                bounded("reason", reason, MAX_TEXT, false)?;
                if own || !policy.may_approve(who) {
                    return Err(Refusal::Forbidden(format!(
                        "{} may not deny this session",
                        who.name
                    )));
                }
                Ok(Event::Denied {
                    reason: reason.clone(),
                })
            }
            Command::Extend { seconds, reason } => {
                status(&[Status::Active], "extend")?;
                bounded("reason", reason, MAX_TEXT, true)?;
                if own && !policy.self_extension {
                    return Err(Refusal::Forbidden(
                        "a requester cannot extend their own session (the policy leaves it to approvers)".into(),
                    ));
                }
                if !own && !policy.may_approve(who) {
                    return Err(Refusal::Forbidden(format!(
                        "{} may not extend this session",
                        who.name
                    )));
                }
                if s.expires_at.is_some_and(|e| now >= e) {
                    return Err(Refusal::Conflict("the session has expired".into()));
                }
                if u32::try_from(s.extensions.len()).unwrap_or(u32::MAX) >= policy.max_extensions {
                    return Err(Refusal::Conflict(format!(
                        "the policy allows at most {} extensions",
                        policy.max_extensions
                    )));
                }
                if *seconds == 0 || *seconds > policy.max_duration_seconds {
                    return Err(Refusal::Invalid(format!(
                        "an extension is 1 to {} seconds",
                        policy.max_duration_seconds
                    )));
                }
                Ok(Event::Extended {
                    seconds: *seconds,
                    reason: reason.clone(),
                })
            }
            Command::Close { reason } => {
                status(&[Status::Pending, Status::Active], "close")?;
                bounded("reason", reason, MAX_TEXT, false)?;
                if !own && !policy.may_approve(who) {
                    return Err(Refusal::Forbidden(format!(
                        "{} may not close this session",
                        who.name
                    )));
                }
                Ok(Event::Closed {
                    reason: reason.clone(),
                })
            }
            Command::Review { verdict, notes } => {
                status(&[Status::Closed, Status::Expired], "review")?;
                bounded("notes", notes, MAX_TEXT, false)?;
                if own {
                    return Err(Refusal::Forbidden(
                        "a requester cannot review their own session".into(),
                    ));
                }
                if !policy.approver_may_review && s.approvals.iter().any(|a| a.by == who.name) {
                    return Err(Refusal::Forbidden(
                        "an approver cannot review the session they approved".into(),
                    ));
                }
                if !policy.may_review(who) {
                    return Err(Refusal::Forbidden(format!(
                        "{} (role {}) may not review break-glass sessions",
                        who.name, who.role
                    )));
                }
                if s.review.is_some() {
                    return Err(Refusal::Conflict("the session was already reviewed".into()));
                }
                Ok(Event::Reviewed {
                    verdict: *verdict,
                    notes: notes.clone(),
                })
            }
        }
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pending => "pending",
        Status::Active => "active",
        Status::Denied => "denied",
        Status::Closed => "closed",
        Status::Expired => "expired",
        Status::Lapsed => "lapsed",
    }
}
