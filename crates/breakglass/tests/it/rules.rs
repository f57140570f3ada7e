//! Every policy rule and every audit rule.

use crate::{Sim, open_cmd, who};
use glasslog_breakglass::{Command, Policy, Refusal, Status, Verdict};
use serde_json::json;

fn alice() -> glasslog_breakglass::Principal {
    who("alice", "submitter")
}
fn bob() -> glasslog_breakglass::Principal {
    who("bob", "admin")
}
fn carol() -> glasslog_breakglass::Principal {
    who("carol", "admin")
}

#[test]
fn quorum_needs_distinct_approvers() {
    let mut sim = Sim::new(Policy {
        approvals_required: 2,
        ..Policy::default()
    });
    sim.cmd("s", &alice(), open_cmd(false)).unwrap();
    sim.cmd("s", &bob(), Command::Approve).unwrap();
    assert_eq!(sim.state.session("s").unwrap().status, Status::Pending);
    assert!(matches!(
        sim.cmd("s", &bob(), Command::Approve),
        Err(Refusal::Conflict(_))
    ));
    sim.cmd("s", &carol(), Command::Approve).unwrap();
    let s = sim.state.session("s").unwrap();
    assert_eq!(s.status, Status::Active);
    assert_eq!(s.expires_at, Some(sim.now + 600_000));
}

#[test]
fn no_self_approval_unless_declared_emergency_and_allowed() {
    // Not allowed by policy: refused even in an emergency.
    let mut sim = Sim::new(Policy::default());
    let admin_requester = who("bob", "admin");
    sim.cmd("s", &admin_requester, open_cmd(true)).unwrap();
    assert!(matches!(
        sim.cmd("s", &admin_requester, Command::Approve),
        Err(Refusal::Forbidden(_))
    ));
    // Allowed by policy, but no emergency declared: refused.
    let mut sim = Sim::new(Policy {
        self_approval_in_emergency: true,
        approvals_required: 2,
        ..Policy::default()
    });
    sim.cmd("s", &alice(), open_cmd(false)).unwrap();
    assert!(matches!(
        sim.cmd("s", &alice(), Command::Approve),
        Err(Refusal::Forbidden(_))
    ));
    // Allowed and declared: active at once, review urgent.
    sim.cmd("e", &alice(), open_cmd(true)).unwrap();
    sim.cmd("e", &alice(), Command::Approve).unwrap();
    let s = sim.state.session("e").unwrap();
    assert_eq!(s.status, Status::Active);
    assert!(s.urgent_review);
    assert!(s.approvals[0].self_approval);
}

#[test]
fn duration_and_extensions_are_bounded() {
    let mut sim = Sim::new(Policy {
        max_duration_seconds: 900,
        max_extensions: 1,
        ..Policy::default()
    });
    let long = match open_cmd(false) {
        Command::Open {
            justification,
            ticket,
            scope,
            emergency,
            ..
        } => Command::Open {
            justification,
            ticket,
            scope,
            duration_seconds: 901,
            emergency,
        },
        _ => unreachable!(),
    };
    assert!(matches!(
        sim.cmd("s", &alice(), long),
        Err(Refusal::Invalid(_))
    ));
    sim.active("s");
    let extend = |seconds| Command::Extend {
        seconds,
        reason: "still broken".into(),
    };
    assert!(matches!(
        sim.cmd("s", &alice(), extend(901)),
        Err(Refusal::Invalid(_))
    ));
    sim.cmd("s", &alice(), extend(300)).unwrap();
    assert_eq!(
        sim.state.session("s").unwrap().expires_at,
        Some(sim.now + 900_000)
    );
    assert!(matches!(
        sim.cmd("s", &alice(), extend(300)),
        Err(Refusal::Conflict(_))
    ));
}

#[test]
fn roles_decide_who_requests_approves_and_reviews() {
    let mut sim = Sim::new(Policy {
        requesters: vec!["alice".into(), "role:auditor".into()],
        approvers: vec!["bob".into()],
        reviewers: vec!["role:auditor".into()],
        ..Policy::default()
    });
    assert!(matches!(
        sim.cmd("x", &who("mallory", "submitter"), open_cmd(false)),
        Err(Refusal::Forbidden(_))
    ));
    sim.cmd("y", &who("dana", "auditor"), open_cmd(false))
        .unwrap();
    sim.cmd("s", &alice(), open_cmd(false)).unwrap();
    // carol is an admin but not a listed approver.
    assert!(matches!(
        sim.cmd("s", &carol(), Command::Approve),
        Err(Refusal::Forbidden(_))
    ));
    sim.cmd("s", &bob(), Command::Approve).unwrap();
    sim.cmd(
        "s",
        &alice(),
        Command::Close {
            reason: "fixed".into(),
        },
    )
    .unwrap();
    let review = |notes: &str| Command::Review {
        verdict: Verdict::Appropriate,
        notes: notes.into(),
    };
    assert!(matches!(
        sim.cmd("s", &bob(), review("ok")),
        Err(Refusal::Forbidden(_))
    ));
    assert!(matches!(
        sim.cmd("s", &alice(), review("fine by me")),
        Err(Refusal::Forbidden(_))
    ));
    sim.cmd("s", &who("erin", "auditor"), review("ok")).unwrap();
    assert!(matches!(
        sim.cmd("s", &who("erin", "auditor"), review("again")),
        Err(Refusal::Conflict(_))
    ));
}

#[test]
fn requests_lapse_after_the_approval_window_and_sessions_expire() {
    let mut sim = Sim::new(Policy {
        approval_window_seconds: 60,
        ..Policy::default()
    });
    sim.cmd("s", &alice(), open_cmd(false)).unwrap();
    sim.now += 61_000;
    assert!(matches!(
        sim.cmd("s", &bob(), Command::Approve),
        Err(Refusal::Conflict(_))
    ));
    sim.tick();
    assert_eq!(sim.state.session("s").unwrap().status, Status::Lapsed);

    sim.active("t");
    sim.now += 599_999;
    sim.tick();
    assert_eq!(sim.state.session("t").unwrap().status, Status::Active);
    sim.now += 1;
    sim.tick();
    let t = sim.state.session("t").unwrap();
    assert_eq!(t.status, Status::Expired);
    assert_eq!(t.ended_at, t.expires_at);
}

#[test]
fn denied_requests_end_and_cannot_be_approved() {
    let mut sim = Sim::new(Policy::default());
    sim.cmd("s", &alice(), open_cmd(false)).unwrap();
    assert!(matches!(
        sim.cmd(
            "s",
            &alice(),
            Command::Deny {
                reason: "no".into()
            }
        ),
        Err(Refusal::Forbidden(_))
    ));
    sim.cmd(
        "s",
        &bob(),
        Command::Deny {
            reason: "use the runbook".into(),
        },
    )
    .unwrap();
    assert_eq!(sim.state.session("s").unwrap().status, Status::Denied);
    assert!(matches!(
        sim.cmd("s", &carol(), Command::Approve),
        Err(Refusal::Conflict(_))
    ));
}

// Audit rules: one case that fires, one that must not.

#[test]
fn in_scope_active_actions_by_the_requester_raise_nothing() {
    let mut sim = Sim::new(Policy::default());
    sim.active("s");
    sim.action("s", "alice", "restart", "db/prod-1");
    sim.action("s", "svc-deploy", "read", "db/prod-2");
    // on behalf of the requester is the requester acting
    sim.append(
        "svc",
        json!({"actor": {"user": "robot", "on_behalf_of": "alice"}, "action": "read",
               "resource": "db/prod-3", "breakglass_session": "s"}),
    );
    let alerts = sim.alerts();
    assert_eq!(
        alerts,
        vec!["foreign_session"],
        "only svc-deploy acted for someone else"
    );
    assert_eq!(sim.state.session("s").unwrap().actions, 3);
}

#[test]
fn out_of_scope() {
    let mut sim = Sim::new(Policy::default());
    sim.active("s");
    sim.action("s", "alice", "restart", "db/prod-1");
    assert!(sim.alerts().is_empty());
    sim.action("s", "alice", "restart", "db/staging-1");
    sim.action("s", "alice", "delete", "db/prod-1");
    assert_eq!(sim.alerts(), vec!["out_of_scope", "out_of_scope"]);
}

#[test]
fn inactive_before_approval_and_after_expiry() {
    let mut sim = Sim::new(Policy::default());
    sim.cmd("s", &alice(), open_cmd(false)).unwrap();
    sim.action("s", "alice", "restart", "db/prod-1");
    assert_eq!(sim.alerts(), vec!["inactive_session"]);
    sim.cmd("s", &bob(), Command::Approve).unwrap();
    sim.action("s", "alice", "restart", "db/prod-1");
    assert_eq!(sim.alerts().len(), 1);
    // After the end, even before the timer recorded the expiry.
    sim.now += 600_000;
    sim.action("s", "alice", "restart", "db/prod-1");
    assert_eq!(sim.alerts(), vec!["inactive_session", "inactive_session"]);
}

#[test]
fn inactive_after_close() {
    let mut sim = Sim::new(Policy::default());
    sim.active("s");
    sim.now += 1000;
    sim.cmd(
        "s",
        &alice(),
        Command::Close {
            reason: "done".into(),
        },
    )
    .unwrap();
    sim.action("s", "alice", "restart", "db/prod-1");
    assert_eq!(sim.alerts(), vec!["inactive_session"]);
}

#[test]
fn unknown_and_foreign_sessions() {
    let mut sim = Sim::new(Policy::default());
    sim.active("s");
    sim.action("s", "alice", "restart", "db/prod-1");
    assert!(sim.alerts().is_empty());
    sim.action("nope", "alice", "restart", "db/prod-1");
    sim.action("s", "mallory", "restart", "db/prod-1");
    assert_eq!(sim.alerts(), vec!["unknown_session", "foreign_session"]);
}

#[test]
fn review_overdue_fires_once_after_the_deadline() {
    let mut sim = Sim::new(Policy {
        review_deadline_seconds: 3600,
        ..Policy::default()
    });
    sim.active("s");
    sim.active("r");
    sim.cmd(
        "s",
        &alice(),
        Command::Close {
            reason: String::new(),
        },
    )
    .unwrap();
    sim.cmd(
        "r",
        &alice(),
        Command::Close {
            reason: String::new(),
        },
    )
    .unwrap();
    sim.cmd(
        "r",
        &carol(),
        Command::Review {
            verdict: Verdict::Appropriate,
            notes: String::new(),
        },
    )
    .unwrap();
    sim.now += 3_599_999;
    sim.tick();
    assert!(sim.alerts().is_empty());
    sim.now += 1;
    sim.tick();
    sim.now += 10_000;
    sim.tick();
    assert_eq!(
        sim.alerts(),
        vec!["review_overdue"],
        "only s, and only once"
    );
}

#[test]
fn urgent_review_deadline_for_self_approved_sessions() {
    let mut sim = Sim::new(Policy {
        self_approval_in_emergency: true,
        review_deadline_seconds: 7200,
        urgent_review_deadline_seconds: 60,
        ..Policy::default()
    });
    sim.cmd("e", &alice(), open_cmd(true)).unwrap();
    sim.cmd("e", &alice(), Command::Approve).unwrap();
    sim.cmd(
        "e",
        &alice(),
        Command::Close {
            reason: String::new(),
        },
    )
    .unwrap();
    sim.now += 60_000;
    sim.tick();
    assert_eq!(sim.alerts(), vec!["review_overdue"]);
}

#[test]
fn unusual_volume_and_rate() {
    let mut sim = Sim::new(Policy {
        max_actions: 5,
        max_actions_per_minute: 3,
        ..Policy::default()
    });
    sim.active("s");
    for _ in 0..3 {
        sim.action("s", "alice", "read", "db/prod-1");
        sim.now += 30_000;
    }
    // Three actions spread over 90 s: never more than 3 in a minute, never more than 5.
    assert!(sim.alerts().is_empty());
    for _ in 0..3 {
        sim.action("s", "alice", "read", "db/prod-1");
    }
    assert_eq!(sim.alerts(), vec!["unusual_volume", "unusual_rate"]);
    sim.action("s", "alice", "read", "db/prod-1");
    assert_eq!(sim.alerts().len(), 2, "each fires once per session");
}

#[test]
fn unauthorized_requester_under_a_narrowed_policy() {
    let mut sim = Sim::new(Policy::default());
    sim.active("s");
    assert!(sim.alerts().is_empty());
    // Re-audit the same log under a policy that no longer lets submitters request.
    let narrowed = Policy {
        requesters: vec!["role:admin".into()],
        ..Policy::default()
    };
    let mut state = glasslog_breakglass::State::new();
    let mut raised = Vec::new();
    for (i, b) in sim.log.iter().enumerate() {
        let l = glasslog_breakglass::decode(i as u64, b).unwrap();
        state.apply(&l);
        raised.extend(state.audit(&l, &narrowed));
    }
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].rule, "unauthorized_requester");
    assert_eq!(raised[0].subject, Some(0));
}

#[test]
fn secrets_in_a_session() {
    let mut sim = Sim::new(Policy::default());
    sim.active("s");
    sim.action("s", "alice", "read", "db/prod-1");
    assert!(sim.alerts().is_empty());
    sim.append(
        "svc",
        json!({"actor": "alice", "action": "read", "resource": "db/prod-1",
               "breakglass_session": "s",
               "details": {"cmd": "psql postgres://admin:hunter2hunter2@db/prod"}}),
    );
    assert_eq!(sim.alerts(), vec!["secret_in_session"]);
    // In a justification too.
    sim.cmd(
        "t",
        &alice(),
        glasslog_breakglass::Command::Open {
            justification: "use key AKIAZ7VRSQ5TQDL3XWMB to fix".into(),
            ticket: "INC-2".into(),
            scope: glasslog_breakglass::Scope {
                resources: vec!["x".into()],
                actions: vec![],
            },
            duration_seconds: 60,
            emergency: false,
        },
    )
    .unwrap();
    assert_eq!(sim.alerts(), vec!["secret_in_session", "secret_in_session"]);
    assert!(
        !sim.state
            .session("t")
            .unwrap()
            .justification
            .contains("AKIA"),
        "the secret never reaches the log"
    );
}

#[test]
fn replay_restores_state_and_finds_unrecorded_alerts() {
    let mut sim = Sim::new(Policy::default());
    sim.active("s");
    sim.action("s", "alice", "delete", "db/prod-1");
    // A crash between an action and its alert: drop the last entry (the alert).
    let mut log = sim.log.clone();
    assert_eq!(sim.alerts(), vec!["out_of_scope"]);
    log.pop();
    let mut state = glasslog_breakglass::State::new();
    for (i, b) in log.iter().enumerate() {
        let l = glasslog_breakglass::decode(i as u64, b).unwrap();
        state.apply(&l);
        state.audit(&l, &sim.policy);
    }
    let missing = state.unrecorded();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].rule, "out_of_scope");
    // With the alert present, nothing is missing, and the sessions fold the same.
    let mut full = glasslog_breakglass::State::new();
    for (i, b) in sim.log.iter().enumerate() {
        let l = glasslog_breakglass::decode(i as u64, b).unwrap();
        full.apply(&l);
        full.audit(&l, &sim.policy);
    }
    assert!(full.unrecorded().is_empty());
    assert_eq!(full.session("s"), sim.state.session("s"));
}

#[test]
fn submitters_cannot_forge_lifecycle_entries() {
    let mut sim = Sim::new(Policy::default());
    sim.cmd("s", &alice(), open_cmd(false)).unwrap();
    // An approval written by a service under its own source is just an action.
    let forged = glasslog_breakglass::Event::Approved {
        self_approval: false,
    }
    .to_native("s", "bob");
    sim.append("svc", forged);
    assert_eq!(sim.state.session("s").unwrap().status, Status::Pending);
}
