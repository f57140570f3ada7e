//! The audit rules: what they flag in an entry just folded in ([`State::audit`]), in a keyed
//! retry ([`State::observe_retry`]), and as time passes ([`State::due`]).
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
use crate::record::{Alert, Event, Located, Opened, Record};
use crate::session::{Session, Status};
use crate::state::{AlertKey, State, key};
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

/// Something that is due because time passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Due {
    /// A session reached its end or its approval window passed: record [`Event::Expired`].
    Expire(String),
    /// An alert to record.
    Alert(Alert),
}

impl State {
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
                event: Event::Opened(Opened { requester_role, .. }),
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
