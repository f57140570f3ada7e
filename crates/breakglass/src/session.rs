//! A session as the log tells it, and the steps of its life.

use crate::record::{Scope, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Where a session is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for approvals.
    Pending,
    /// Approved and within its duration.
    Active,
    /// Denied by an approver.
    Denied,
    /// Closed before its end.
    Closed,
    /// Reached its end.
    Expired,
    /// Never approved within the approval window.
    Lapsed,
}

/// One approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The approver.
    pub by: String,
    /// When (ms).
    pub at: u64,
    /// Whether the requester approved their own session.
    pub self_approval: bool,
}

/// One extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Who extended it.
    pub by: String,
    /// When (ms).
    pub at: u64,
    /// By how long.
    pub seconds: u64,
    /// Why.
    pub reason: String,
}

/// The review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The reviewer.
    pub by: String,
    /// When (ms).
    pub at: u64,
    /// The verdict.
    pub verdict: Verdict,
    /// Notes.
    pub notes: String,
}

/// An alert recorded against a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedAlert {
    /// The alert entry's index.
    pub index: u64,
    /// The rule.
    pub rule: String,
    /// The triggering entry, if any.
    pub subject: Option<u64>,
    /// What was found.
    pub detail: String,
}

/// A session as the log tells it. Times are the server's receive times, in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// Session id.
    pub id: String,
    /// Who opened it.
    pub requester: String,
    /// Their token role.
    pub requester_role: String,
    /// Why.
    pub justification: String,
    /// Ticket or incident reference.
    pub ticket: String,
    /// What it covers.
    pub scope: Scope,
    /// Requested duration.
    pub duration_seconds: u64,
    /// Whether an emergency was declared.
    pub emergency: bool,
    /// Approvals needed.
    pub approvals_required: u32,
    /// Where it stands.
    pub status: Status,
    /// When it was opened.
    pub opened_at: u64,
    /// Approvals so far.
    pub approvals: Vec<Approval>,
    /// When it became active.
    pub activated_at: Option<u64>,
    /// When it ends (or ended) if not closed first.
    pub expires_at: Option<u64>,
    /// When it ended (closed, expired, denied or lapsed).
    pub ended_at: Option<u64>,
    /// Who closed or denied it, and why.
    pub ended_by: Option<String>,
    /// The closing or denial reason.
    pub end_reason: Option<String>,
    /// Extensions.
    pub extensions: Vec<Extension>,
    /// The review, once recorded.
    pub review: Option<Review>,
    /// Whether the review is due within the urgent deadline (self-approved sessions).
    pub urgent_review: bool,
    /// Actions recorded under it.
    pub actions: u64,
    /// Keyed retries of its actions since the server started: not entries (the log keeps
    /// one), but attempts, so they count toward the volume and rate rules.
    #[serde(skip)]
    pub retries: u64,
    /// Alerts recorded against it.
    pub alerts: Vec<RecordedAlert>,
    /// Indices of every entry about it (lifecycle, actions, alerts), increasing.
    pub entries: Vec<u64>,
    /// Receive times of its latest actions, oldest first: only those inside the rate
    /// window, and no more than the rate rule needs to see (a sliding window).
    #[serde(skip)]
    pub(crate) action_times: VecDeque<u64>,
}

impl Session {
    /// Whether actions at time `t` fall inside the approved window.
    pub fn active_at(&self, t: u64) -> Result<(), String> {
        let Some(start) = self.activated_at else {
            return Err(match self.status {
                Status::Denied => "the request was denied".into(),
                Status::Lapsed => "the request lapsed without approval".into(),
                _ => "the session was not approved yet".into(),
            });
        };
        if t < start {
            return Err("the action precedes the session's approval".into());
        }
        if self.ended_at.is_some_and(|e| t >= e) {
            return Err(format!("the session had {}", self.ended_word()));
        }
        if self.expires_at.is_some_and(|e| t >= e) {
            return Err("the session had expired".into());
        }
        Ok(())
    }

    pub(crate) fn ended_word(&self) -> &'static str {
        match self.status {
            Status::Closed => "been closed",
            _ => "expired",
        }
    }

    /// Whether its review is still missing although it ended and needs one.
    pub(crate) fn needs_review(&self) -> bool {
        self.review.is_none() && matches!(self.status, Status::Closed | Status::Expired)
    }

    pub(crate) fn add_entry(&mut self, index: u64) {
        if let Err(at) = self.entries.binary_search(&index) {
            self.entries.insert(at, index);
        }
    }
}

pub(crate) fn activate(s: &mut Session, at: u64) {
    s.status = Status::Active;
    s.activated_at = Some(at);
    let extra: u64 = s.extensions.iter().map(|e| e.seconds).sum();
    s.expires_at = Some(
        at.saturating_add(
            s.duration_seconds
                .saturating_add(extra)
                .saturating_mul(1000),
        ),
    );
}
