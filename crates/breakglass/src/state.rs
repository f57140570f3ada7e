//! Sessions as a fold over the log, the policy checks that decide what may be appended, and
//! the audit rules.
//!
//! Audit rules (each names the rule id its alerts carry):
//! - `out_of_scope`: an action outside the session's declared scope;
//! - `inactive_session`: an action before approval, after expiry or closing, or under a
//!   denied or lapsed request;
//! - `unknown_session`: actions under a session id that was never opened (one alert per id,
//!   at most [`MAX_UNKNOWN_PER_MINUTE`] ids a minute, then one alert for the rest of that
//!   minute under the session `*`);
//! - `foreign_session`: an action by someone other than the requester (directly or on
//!   their behalf);
//! - `unverified_actor`: an action whose claimed actor (or `on_behalf_of`) is not the
//!   authenticated submitter, sent by a principal the policy does not trust to report for
//!   others; the action is then taken as the submitter's own;
//! - `review_overdue`: an ended session without a review past the policy's deadline;
//! - `unusual_volume`, `unusual_rate`: more actions in a session, or in any 60 seconds of
//!   it, than the policy allows;
//! - `unauthorized_requester`: a session opened (or an attempt to open one) by a principal
//!   the policy does not allow to request;
//! - `secret_in_session`: a secret was redacted from a session's justification or actions,
//!   so a credential was exposed during the emergency and should be rotated.

use crate::policy::{Policy, Principal};
use crate::record::{Alert, Event, Located, Record, Scope, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Rule: action outside scope.
pub const RULE_OUT_OF_SCOPE: &str = "out_of_scope";
/// Rule: action while the session is not active.
pub const RULE_INACTIVE: &str = "inactive_session";
/// Rule: action under a session that does not exist.
pub const RULE_UNKNOWN: &str = "unknown_session";
/// Rule: action by someone other than the requester.
pub const RULE_FOREIGN: &str = "foreign_session";
/// Rule: action claiming an actor the authenticated submitter may not speak for.
pub const RULE_UNVERIFIED: &str = "unverified_actor";
/// Rule: no review by the deadline.
pub const RULE_REVIEW_OVERDUE: &str = "review_overdue";
/// Rule: too many actions.
pub const RULE_VOLUME: &str = "unusual_volume";
/// Rule: actions too fast.
pub const RULE_RATE: &str = "unusual_rate";
/// Rule: requester outside the allowed principals.
pub const RULE_UNAUTHORIZED: &str = "unauthorized_requester";
/// Rule: secret redacted inside a session.
pub const RULE_SECRET: &str = "secret_in_session";

/// Every rule id.
pub const RULES: &[&str] = &[
    RULE_OUT_OF_SCOPE,
    RULE_INACTIVE,
    RULE_UNKNOWN,
    RULE_FOREIGN,
    RULE_UNVERIFIED,
    RULE_REVIEW_OVERDUE,
    RULE_VOLUME,
    RULE_RATE,
    RULE_UNAUTHORIZED,
    RULE_SECRET,
];

const MINUTE_MS: u64 = 60_000;
/// Distinct never-opened session ids alerted on within a minute: ids are the submitter's
/// choice, so without a bound every made-up id would cost an alert entry and memory.
pub const MAX_UNKNOWN_PER_MINUTE: usize = 10;
const MAX_TEXT: usize = 4096;
const MAX_SHORT: usize = 256;
const MAX_PATTERNS: usize = 64;

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
    action_times: VecDeque<u64>,
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

    fn ended_word(&self) -> &'static str {
        match self.status {
            Status::Closed => "been closed",
            _ => "expired",
        }
    }

    /// Whether its review is still missing although it ended and needs one.
    fn needs_review(&self) -> bool {
        self.review.is_none() && matches!(self.status, Status::Closed | Status::Expired)
    }

    fn add_entry(&mut self, index: u64) {
        if let Err(at) = self.entries.binary_search(&index) {
            self.entries.insert(at, index);
        }
    }
}

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

/// Something that is due because time passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Due {
    /// A session reached its end or its approval window passed: record [`Event::Expired`].
    Expire(String),
    /// An alert to record.
    Alert(Alert),
}

type AlertKey = (String, String, Option<u64>);

/// All sessions, folded from the log.
#[derive(Clone, Debug, Default)]
pub struct State {
    sessions: BTreeMap<String, Session>,
    /// Alerts the log holds.
    recorded: BTreeSet<AlertKey>,
    /// Alerts the rules raised, whether or not recorded yet.
    raised: BTreeMap<AlertKey, Alert>,
    policy: Option<String>,
    /// Receive times of the unknown-session alerts of the last minute, and the end of the
    /// minute for which the rest are folded into one.
    unknown_recent: VecDeque<u64>,
    unknown_quiet_until: u64,
}

fn key(a: &Alert) -> AlertKey {
    (a.rule.clone(), a.session.clone(), a.subject)
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
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// A session.
    pub fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.get(id)
    }

    /// Every session, by id.
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    /// The fingerprint of the last policy recorded in the log.
    pub fn policy_fingerprint(&self) -> Option<&str> {
        self.policy.as_deref()
    }

    /// Folds one entry in. Entries must come in log order; this never consults the policy.
    pub fn apply(&mut self, l: &Located) {
        match &l.record {
            Record::Policy(fp) => self.policy = Some(fp.clone()),
            Record::Alert(a) => {
                self.recorded.insert(key(a));
                if let Some(s) = self.sessions.get_mut(&a.session) {
                    s.add_entry(l.index);
                    s.alerts.push(RecordedAlert {
                        index: l.index,
                        rule: a.rule.clone(),
                        subject: a.subject,
                        detail: a.detail.clone(),
                    });
                }
            }
            Record::Action(a) => {
                if let Some(s) = self.sessions.get_mut(&a.session) {
                    s.add_entry(l.index);
                    s.actions += 1;
                    s.action_times.push_back(l.at);
                }
            }
            Record::Lifecycle {
                session,
                actor,
                event,
            } => self.apply_lifecycle(l, session, actor, event),
        }
    }

    fn apply_lifecycle(&mut self, l: &Located, id: &str, actor: &str, event: &Event) {
        if let Event::Opened {
            justification,
            ticket,
            scope,
            duration_seconds,
            emergency,
            approvals_required,
            requester_role,
        } = event
        {
            if self.sessions.contains_key(id) {
                return;
            }
            let mut s = Session {
                id: id.to_owned(),
                requester: actor.to_owned(),
                requester_role: requester_role.clone(),
                justification: justification.clone(),
                ticket: ticket.clone(),
                scope: scope.clone(),
                duration_seconds: *duration_seconds,
                emergency: *emergency,
                approvals_required: *approvals_required,
                status: Status::Pending,
                opened_at: l.at,
                approvals: Vec::new(),
                activated_at: None,
                expires_at: None,
                ended_at: None,
                ended_by: None,
                end_reason: None,
                extensions: Vec::new(),
                review: None,
                urgent_review: false,
                actions: 0,
                alerts: Vec::new(),
                entries: vec![l.index],
                retries: 0,
                action_times: VecDeque::new(),
            };
            if *approvals_required == 0 {
                activate(&mut s, l.at);
            }
            self.sessions.insert(id.to_owned(), s);
            return;
        }
        let Some(s) = self.sessions.get_mut(id) else {
            return;
        };
        s.add_entry(l.index);
        match event {
            Event::Opened { .. } => {}
            Event::Approved {
                self_approval,
                activates,
            } => {
                if s.status != Status::Pending {
                    return;
                }
                s.approvals.push(Approval {
                    by: actor.to_owned(),
                    at: l.at,
                    self_approval: *self_approval,
                });
                if *self_approval {
                    s.urgent_review = true;
                }
                let count = u32::try_from(s.approvals.len()).unwrap_or(u32::MAX);
                if *activates || count >= s.approvals_required {
                    activate(s, l.at);
                }
            }
            Event::Denied { reason } => {
                if s.status == Status::Pending {
                    s.status = Status::Denied;
                    s.ended_at = Some(l.at);
                    s.ended_by = Some(actor.to_owned());
                    s.end_reason = Some(reason.clone());
                }
            }
            Event::Extended { seconds, reason } => {
                if s.status == Status::Active {
                    s.expires_at = s
                        .expires_at
                        .map(|e| e.saturating_add(seconds.saturating_mul(1000)));
                    s.extensions.push(Extension {
                        by: actor.to_owned(),
                        at: l.at,
                        seconds: *seconds,
                        reason: reason.clone(),
                    });
                }
            }
            Event::Closed { reason } => {
                if matches!(s.status, Status::Pending | Status::Active) {
                    s.status = Status::Closed;
                    // Closing after the end changes nothing about when access ended.
                    s.ended_at = Some(s.expires_at.map_or(l.at, |e| e.min(l.at)));
                    s.ended_by = Some(actor.to_owned());
                    s.end_reason = Some(reason.clone());
                }
            }
            Event::Expired => match s.status {
                Status::Active => {
                    s.status = Status::Expired;
                    s.ended_at = s.expires_at;
                }
                Status::Pending => {
                    s.status = Status::Lapsed;
                    s.ended_at = Some(l.at);
                }
                _ => {}
            },
            Event::Reviewed { verdict, notes } => {
                if s.review.is_none() {
                    s.review = Some(Review {
                        by: actor.to_owned(),
                        at: l.at,
                        verdict: *verdict,
                        notes: notes.clone(),
                    });
                }
            }
        }
    }

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
            return Ok(Event::Opened {
                justification: justification.clone(),
                ticket: ticket.clone(),
                scope: scope.clone(),
                duration_seconds: *duration_seconds,
                emergency: *emergency,
                approvals_required: policy.approvals_required,
                requester_role: who.role.clone(),
            });
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

    /// Runs the audit rules on an entry already folded in with [`State::apply`]. Returns the
    /// alerts not raised before.
    pub fn audit(&mut self, l: &Located, policy: &Policy) -> Vec<Alert> {
        let mut out = Vec::new();
        let mut extra = Vec::new();
        let mut raise = |rule: &str, session: &str, subject: Option<u64>, detail: String| {
            out.push(Alert {
                rule: rule.into(),
                session: session.into(),
                subject,
                detail,
            });
        };
        match &l.record {
            Record::Action(a) => {
                let (actor, on_behalf_of) = match &a.submitter {
                    // Written before the server recorded submitters: as claimed.
                    None => (a.actor.as_str(), a.on_behalf_of.as_deref()),
                    Some(sub) => {
                        let reporter = Principal {
                            name: sub.principal.clone(),
                            role: sub.role.clone(),
                        };
                        let claims_other = a.actor != sub.principal
                            || a.on_behalf_of.as_ref().is_some_and(|o| *o != sub.principal);
                        if !claims_other || policy.may_report(&reporter) {
                            (a.actor.as_str(), a.on_behalf_of.as_deref())
                        } else {
                            raise(
                                RULE_UNVERIFIED,
                                &a.session,
                                Some(l.index),
                                format!(
                                    "entry {} claims to be done by {:?}{} but was submitted by {:?} (token {}), which the policy does not trust to report for others: it counts as theirs",
                                    l.index,
                                    a.actor,
                                    a.on_behalf_of
                                        .as_ref()
                                        .map(|o| format!(" on behalf of {o:?}"))
                                        .unwrap_or_default(),
                                    sub.principal,
                                    sub.token
                                ),
                            );
                            (sub.principal.as_str(), None)
                        }
                    }
                };
                match self.sessions.get_mut(&a.session) {
                    None => {
                        if let Some(alert) = unknown(
                            &mut self.unknown_recent,
                            &mut self.unknown_quiet_until,
                            &self.recorded,
                            &self.raised,
                            &a.session,
                            l,
                        ) {
                            extra.push(alert);
                        }
                    }
                    Some(s) => {
                        if actor != s.requester && on_behalf_of != Some(s.requester.as_str()) {
                            raise(
                                RULE_FOREIGN,
                                &s.id,
                                Some(l.index),
                                format!(
                                    "entry {} was done by {:?} under a session opened by {:?}",
                                    l.index, actor, s.requester
                                ),
                            );
                        }
                        if let Err(why) = s.active_at(l.at) {
                            raise(
                                RULE_INACTIVE,
                                &s.id,
                                Some(l.index),
                                format!("entry {}: {why}", l.index),
                            );
                        }
                        if !s.scope.covers(&a.operation, &a.resources) {
                            raise(
                                RULE_OUT_OF_SCOPE,
                                &s.id,
                                Some(l.index),
                                format!(
                                    "entry {}: {:?} on {:?} is outside the declared scope",
                                    l.index, a.operation, a.resources
                                ),
                            );
                        }
                        extra.extend(volume_and_rate(s, l.at, policy));
                    }
                }
            }
            Record::Lifecycle {
                session,
                actor,
                event: Event::Opened { requester_role, .. },
            } => {
                let p = Principal {
                    name: actor.clone(),
                    role: requester_role.clone(),
                };
                if !policy.may_request(&p) {
                    raise(
                        RULE_UNAUTHORIZED,
                        session,
                        Some(l.index),
                        format!(
                            "{actor} (role {requester_role}) is not allowed to open break-glass sessions"
                        ),
                    );
                }
            }
            _ => {}
        }
        if l.redactions > 0 {
            let session = match &l.record {
                Record::Action(a) => Some(&a.session),
                Record::Lifecycle { session, .. } => Some(session),
                _ => None,
            };
            if let Some(session) = session {
                raise(
                    RULE_SECRET,
                    session,
                    Some(l.index),
                    format!(
                        "{} secret(s) redacted from entry {}: rotate the exposed credential",
                        l.redactions, l.index
                    ),
                );
            }
        }
        out.extend(extra);
        self.raise_new(out)
    }

    /// Counts a keyed retry of an action under `session`, received at `at` (ms), toward the
    /// volume and rate rules: the log keeps one entry, but each attempt was an action.
    /// Returns the alerts not raised before. Retries live only in memory (they are not in
    /// the log), so a restart forgets them; the alerts they raised stay recorded.
    pub fn observe_retry(&mut self, session: &str, at: u64, policy: &Policy) -> Vec<Alert> {
        let Some(s) = self.sessions.get_mut(session) else {
            return Vec::new();
        };
        s.retries += 1;
        s.action_times.push_back(at);
        let alerts = volume_and_rate(s, at, policy);
        self.raise_new(alerts)
    }

    /// Records alerts raised outside the rules above (a refused request) so that they are
    /// not raised twice; returns those not raised before.
    pub fn raise_new(&mut self, alerts: Vec<Alert>) -> Vec<Alert> {
        alerts
            .into_iter()
            .filter(|a| {
                let k = key(a);
                if self.recorded.contains(&k) || self.raised.contains_key(&k) {
                    false
                } else {
                    self.raised.insert(k, a.clone());
                    true
                }
            })
            .collect()
    }

    /// Every alert the rules raised, recorded or not.
    pub fn raised(&self) -> Vec<Alert> {
        self.raised.values().cloned().collect()
    }

    /// Alerts raised but not found in the log: after a crash between an entry and its alert,
    /// these are appended on the next start.
    pub fn unrecorded(&self) -> Vec<Alert> {
        self.raised
            .iter()
            .filter(|(k, _)| !self.recorded.contains(*k))
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// What has come due at time `now` (ms).
    pub fn due(&self, now: u64, policy: &Policy) -> Vec<Due> {
        let mut out = Vec::new();
        for s in self.sessions.values() {
            match s.status {
                Status::Active if s.expires_at.is_some_and(|e| now >= e) => {
                    out.push(Due::Expire(s.id.clone()));
                }
                Status::Pending
                    if now
                        >= s.opened_at.saturating_add(
                            policy.approval_window_seconds.saturating_mul(1000),
                        ) =>
                {
                    out.push(Due::Expire(s.id.clone()));
                }
                _ => {}
            }
            if s.needs_review() {
                let deadline = if s.urgent_review {
                    policy.urgent_review_deadline_seconds
                } else {
                    policy.review_deadline_seconds
                };
                let ended = s.ended_at.unwrap_or(s.opened_at);
                let k = (RULE_REVIEW_OVERDUE.to_owned(), s.id.clone(), None);
                if now >= ended.saturating_add(deadline.saturating_mul(1000))
                    && !self.recorded.contains(&k)
                    && !self.raised.contains_key(&k)
                {
                    out.push(Due::Alert(Alert {
                        rule: RULE_REVIEW_OVERDUE.into(),
                        session: s.id.clone(),
                        subject: None,
                        detail: format!(
                            "session {} ended without a review within {deadline} seconds",
                            s.id
                        ),
                    }));
                }
            }
        }
        out
    }
}

/// The volume and rate rules for an action at `at`, keeping `action_times` a sliding window
/// of at most `max_actions_per_minute + 1` times (enough to tell whether the limit was
/// passed), so each check is amortized O(1) however long the session.
fn volume_and_rate(s: &mut Session, at: u64, policy: &Policy) -> Vec<Alert> {
    let mut out = Vec::new();
    if s.actions.saturating_add(s.retries) > policy.max_actions {
        out.push(Alert {
            rule: RULE_VOLUME.into(),
            session: s.id.clone(),
            subject: None,
            detail: format!("more than {} actions in one session", policy.max_actions),
        });
    }
    let since = at.saturating_sub(MINUTE_MS);
    let keep = usize::try_from(policy.max_actions_per_minute)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    while s
        .action_times
        .front()
        .is_some_and(|&t| t <= since || s.action_times.len() > keep)
    {
        s.action_times.pop_front();
    }
    if s.action_times.len() as u64 > policy.max_actions_per_minute {
        out.push(Alert {
            rule: RULE_RATE.into(),
            session: s.id.clone(),
            subject: None,
            detail: format!(
                "more than {} actions within 60 seconds",
                policy.max_actions_per_minute
            ),
        });
    }
    out
}

/// The alert for an action under a session that was never opened, if one is due: the first
/// action under each id, at most [`MAX_UNKNOWN_PER_MINUTE`] ids a minute (by receive time),
/// then a single alert under the session `*` for the rest of that minute. A pure function of
/// the log, like every rule, so a restart raises exactly what was raised before.
fn unknown(
    recent: &mut VecDeque<u64>,
    quiet_until: &mut u64,
    recorded: &BTreeSet<AlertKey>,
    raised: &BTreeMap<AlertKey, Alert>,
    session: &str,
    l: &Located,
) -> Option<Alert> {
    let k = (RULE_UNKNOWN.to_owned(), session.to_owned(), None);
    if recorded.contains(&k) || raised.contains_key(&k) || l.at < *quiet_until {
        return None;
    }
    let since = l.at.saturating_sub(MINUTE_MS);
    while recent.front().is_some_and(|&t| t <= since) {
        recent.pop_front();
    }
    if recent.len() >= MAX_UNKNOWN_PER_MINUTE {
        *quiet_until = l.at.saturating_add(MINUTE_MS);
        return Some(Alert {
            rule: RULE_UNKNOWN.into(),
            session: "*".into(),
            subject: Some(l.index),
            detail: format!(
                "from entry {} on, more than {MAX_UNKNOWN_PER_MINUTE} session ids that were never opened within a minute: actions under further unknown ids are not alerted on for 60 seconds",
                l.index
            ),
        });
    }
    recent.push_back(l.at);
    Some(Alert {
        rule: RULE_UNKNOWN.into(),
        session: session.to_owned(),
        subject: None,
        detail: format!("entry {} names a session that was never opened", l.index),
    })
}

fn activate(s: &mut Session, at: u64) {
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
