//! Sessions as a fold over the log: [`State::apply`] reads entries in log order and never
//! looks at the policy. What may be appended is decided in [`crate::check`]; what the audit
//! rules flag, in [`crate::rules`].

use crate::record::{Alert, Event, Located, Opened, Record};
use crate::session::{Approval, Extension, RecordedAlert, Review, Session, Status, activate};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

pub(crate) type AlertKey = (String, String, Option<u64>);

/// All sessions, folded from the log.
#[derive(Clone, Debug, Default)]
pub struct State {
    pub(crate) sessions: BTreeMap<String, Session>,
    /// Alerts the log holds.
    pub(crate) recorded: BTreeSet<AlertKey>,
    /// Alerts the rules raised, whether or not recorded yet.
    pub(crate) raised: BTreeMap<AlertKey, Alert>,
    pub(crate) policy: Option<String>,
    /// Receive times of the unknown-session alerts of the last minute, and the end of the
    /// minute for which the rest are folded into one.
    pub(crate) unknown_recent: VecDeque<u64>,
    pub(crate) unknown_quiet_until: u64,
}

pub(crate) fn key(a: &Alert) -> AlertKey {
    (a.rule.clone(), a.session.clone(), a.subject)
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
        if let Event::Opened(Opened {
            justification,
            ticket,
            scope,
            duration_seconds,
            emergency,
            approvals_required,
            requester_role,
        }) = event
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
            Event::Opened(_) => {}
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
}
