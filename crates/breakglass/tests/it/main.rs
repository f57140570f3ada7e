//! Break-glass sessions against a simulated log: every policy rule, every audit rule (one case
//! that fires and one that must not), and report verification.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    missing_docs,
    reason = "tests: a failed expectation is the test failing, and their numbers are small"
)]

mod report;
mod rules;

use glasslog_breakglass::{
    Alert, Command, Due, Event, Located, Policy, Principal, Refusal, SOURCE, Scope, State, decode,
};
use glasslog_ingest::{Body, PolicyConfig, Sanitizer};
use serde_json::{Value, json};

/// A log in memory with the server's append-apply-audit loop around it.
pub struct Sim {
    pub policy: Policy,
    pub state: State,
    sanitizer: Sanitizer,
    pub now: u64,
    pub log: Vec<Vec<u8>>,
}

pub fn who(name: &str, role: &str) -> Principal {
    Principal {
        name: name.into(),
        role: role.into(),
    }
}

pub fn open_cmd(emergency: bool) -> Command {
    Command::Open {
        justification: "database primary is down".into(),
        ticket: "INC-1".into(),
        scope: Scope {
            resources: vec!["db/prod-*".into()],
            actions: vec!["restart*".into(), "read*".into()],
        },
        duration_seconds: 600,
        emergency,
    }
}

impl Sim {
    pub fn new(policy: Policy) -> Self {
        Sim {
            policy,
            state: State::new(),
            sanitizer: Sanitizer::new(PolicyConfig::default(), [7; 32]).unwrap(),
            now: 1_700_000_000_000,
            log: Vec::new(),
        }
    }

    /// Appends a native event as `source`, folds it in, audits it and records its alerts.
    pub fn append(&mut self, source: &str, native: Value) -> Located {
        let s = self
            .sanitizer
            .sanitize(source, Body::Event(native), self.now)
            .unwrap();
        self.fold(s.encoded.bytes)
    }

    /// Appends stored bytes, folds them in, audits them and records their alerts.
    fn fold(&mut self, bytes: Vec<u8>) -> Located {
        let index = self.log.len() as u64;
        let l = decode(index, &bytes).expect("a break-glass entry");
        self.log.push(bytes);
        self.state.apply(&l);
        let alerts = self.state.audit(&l, &self.policy);
        self.record_alerts(alerts);
        l
    }

    pub fn record_alerts(&mut self, alerts: Vec<Alert>) {
        for a in alerts {
            self.append(SOURCE, a.to_native());
        }
    }

    pub fn cmd(&mut self, id: &str, p: &Principal, c: Command) -> Result<Event, Refusal> {
        let ev = self.state.check(id, &c, p, self.now, &self.policy)?;
        self.append(SOURCE, ev.to_native(id, &p.name));
        Ok(ev)
    }

    /// Appends an action under `session` submitted with a token of `principal` (role
    /// `submitter`), whatever `native` claims, as the server records it.
    pub fn action_by(&mut self, principal: &str, native: Value) -> Located {
        let submitter = glasslog_ingest::Submitter {
            principal: principal.into(),
            token: format!("tok-{principal}"),
            role: "submitter".into(),
        };
        let scope = glasslog_ingest::Scope {
            source: "svc",
            principal: &submitter.token,
        };
        let s = self
            .sanitizer
            .sanitize_bound(scope, Some(&submitter), Body::Event(native), self.now)
            .unwrap();
        self.fold(s.encoded.bytes)
    }

    pub fn action(&mut self, session: &str, actor: &str, op: &str, resource: &str) -> u64 {
        self.append(
            "svc",
            json!({
                "actor": actor, "action": op, "resource": resource,
                "breakglass_session": session,
            }),
        )
        .index
    }

    /// Runs what has come due, as the server's timer does.
    pub fn tick(&mut self) {
        for d in self.state.due(self.now, &self.policy) {
            match d {
                Due::Expire(id) => {
                    self.append(SOURCE, Event::Expired.to_native(&id, "glasslog"));
                }
                Due::Alert(a) => {
                    let fresh = self.state.raise_new(vec![a]);
                    self.record_alerts(fresh);
                }
            }
        }
    }

    /// The rules of every alert recorded so far, in log order.
    pub fn alerts(&self) -> Vec<String> {
        self.log
            .iter()
            .enumerate()
            .filter_map(|(i, b)| match decode(i as u64, b)?.record {
                glasslog_breakglass::Record::Alert(a) => Some(a.rule),
                _ => None,
            })
            .collect()
    }

    /// Opens and approves a session: requester alice, approver bob (admin).
    pub fn active(&mut self, id: &str) {
        self.cmd(id, &who("alice", "submitter"), open_cmd(false))
            .unwrap();
        self.cmd(id, &who("bob", "admin"), Command::Approve)
            .unwrap();
    }
}
