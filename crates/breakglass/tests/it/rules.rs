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
        ..Policy::default()
    });
    sim.cmd("s", &bob(), open_cmd(false)).unwrap();
    assert!(matches!(
        sim.cmd("s", &bob(), Command::Approve),
        Err(Refusal::Forbidden(_))
    ));
    // Allowed and declared, by an approver: one approval, review urgent.
    sim.cmd("e", &bob(), open_cmd(true)).unwrap();
    sim.cmd("e", &bob(), Command::Approve).unwrap();
    let s = sim.state.session("e").unwrap();
    assert_eq!(s.status, Status::Active);
    assert!(s.urgent_review);
    assert!(s.approvals[0].self_approval);
}

#[test]
fn a_self_approval_needs_an_approver_unless_the_policy_says_otherwise() {
    let strict = Policy {
        self_approval_in_emergency: true,
        ..Policy::default()
    };
    // Strict (default): alice is no approver, so she cannot approve her own session.
    let mut sim = Sim::new(strict.clone());
    sim.cmd("e", &alice(), open_cmd(true)).unwrap();
    assert!(matches!(
        sim.cmd("e", &alice(), Command::Approve),
        Err(Refusal::Forbidden(_))
    ));
    // Relaxed: she can.
    let mut sim = Sim::new(Policy {
        self_approval_needs_approver: false,
        ..strict
    });
    sim.cmd("e", &alice(), open_cmd(true)).unwrap();
    sim.cmd("e", &alice(), Command::Approve).unwrap();
    assert_eq!(sim.state.session("e").unwrap().status, Status::Active);
}

#[test]
fn a_self_approval_counts_once_toward_the_quorum_unless_it_activates() {
    let strict = Policy {
        self_approval_in_emergency: true,
        approvals_required: 2,
        ..Policy::default()
    };
    // Strict (default): one of two approvals; carol's completes the quorum.
    let mut sim = Sim::new(strict.clone());
    sim.cmd("e", &bob(), open_cmd(true)).unwrap();
    sim.cmd("e", &bob(), Command::Approve).unwrap();
    assert_eq!(sim.state.session("e").unwrap().status, Status::Pending);
    sim.cmd("e", &carol(), Command::Approve).unwrap();
    assert_eq!(sim.state.session("e").unwrap().status, Status::Active);
    // Relaxed: active at once, and a replay of the log agrees without reading the policy.
    let mut sim = Sim::new(Policy {
        self_approval_activates: true,
        ..strict
    });
    sim.cmd("e", &bob(), open_cmd(true)).unwrap();
    sim.cmd("e", &bob(), Command::Approve).unwrap();
    assert_eq!(sim.state.session("e").unwrap().status, Status::Active);
    let mut replay = glasslog_breakglass::State::new();
    for (i, b) in sim.log.iter().enumerate() {
        replay.apply(&glasslog_breakglass::decode(i as u64, b).unwrap());
    }
    assert_eq!(replay.session("e"), sim.state.session("e"));
}

#[test]
fn a_requester_extends_their_own_session_only_if_the_policy_allows() {
    let extend = || Command::Extend {
        seconds: 60,
        reason: "still broken".into(),
    };
    let mut sim = Sim::new(Policy::default());
    sim.active("s");
    assert!(matches!(
        sim.cmd("s", &alice(), extend()),
        Err(Refusal::Forbidden(_))
    ));
    sim.cmd("s", &bob(), extend()).unwrap();
    let mut sim = Sim::new(Policy {
        self_extension: true,
        ..Policy::default()
    });
    sim.active("s");
    sim.cmd("s", &alice(), extend()).unwrap();
    assert_eq!(sim.state.session("s").unwrap().extensions.len(), 1);
}

#[test]
fn an_approver_reviews_the_session_they_approved_only_if_the_policy_allows() {
    let close = || Command::Close {
        reason: "done".into(),
    };
    let review = || Command::Review {
        verdict: Verdict::Appropriate,
        notes: String::new(),
    };
    let mut sim = Sim::new(Policy::default());
    sim.active("s");
    sim.cmd("s", &alice(), close()).unwrap();
    assert!(matches!(
        sim.cmd("s", &bob(), review()),
        Err(Refusal::Forbidden(_))
    ));
    sim.cmd("s", &carol(), review()).unwrap();
    let mut sim = Sim::new(Policy {
        approver_may_review: true,
        ..Policy::default()
    });
    sim.active("s");
    sim.cmd("s", &alice(), close()).unwrap();
    sim.cmd("s", &bob(), review()).unwrap();
}

#[test]
fn one_requester_holds_a_bounded_number_of_open_sessions() {
    let mut sim = Sim::new(Policy {
        max_open_sessions_per_requester: 2,
        ..Policy::default()
    });
    sim.cmd("a", &alice(), open_cmd(false)).unwrap();
    sim.cmd("b", &alice(), open_cmd(false)).unwrap();
    assert!(matches!(
        sim.cmd("c", &alice(), open_cmd(false)),
        Err(Refusal::Conflict(_))
    ));
    // Someone else is not held back, and closing one frees a place.
    sim.cmd("c", &carol(), open_cmd(false)).unwrap();
    sim.cmd(
        "a",
        &alice(),
        Command::Close {
            reason: String::new(),
        },
    )
    .unwrap();
    sim.cmd("d", &alice(), open_cmd(false)).unwrap();
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
        sim.cmd("s", &bob(), extend(901)),
        Err(Refusal::Invalid(_))
    ));
    sim.cmd("s", &bob(), extend(300)).unwrap();
    assert_eq!(
        sim.state.session("s").unwrap().expires_at,
        Some(sim.now + 900_000)
    );
    assert!(matches!(
        sim.cmd("s", &bob(), extend(300)),
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
    sim.cmd("e", &bob(), open_cmd(true)).unwrap();
    sim.cmd("e", &bob(), Command::Approve).unwrap();
    sim.cmd(
        "e",
        &bob(),
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
fn keyed_retries_count_toward_volume_and_rate() {
    let mut sim = Sim::new(Policy {
        max_actions: 5,
        max_actions_per_minute: 3,
        ..Policy::default()
    });
    sim.active("s");
    sim.action("s", "alice", "read", "db/prod-1");
    assert!(sim.alerts().is_empty());
    // The log keeps one entry; three more attempts arrive as keyed retries within a minute.
    for _ in 0..3 {
        let fresh = sim.state.observe_retry("s", sim.now, &sim.policy);
        sim.record_alerts(fresh);
    }
    assert_eq!(sim.alerts(), vec!["unusual_rate"]);
    assert_eq!(sim.state.session("s").unwrap().actions, 1);
    for _ in 0..2 {
        sim.now += 61_000;
        let fresh = sim.state.observe_retry("s", sim.now, &sim.policy);
        sim.record_alerts(fresh);
    }
    assert_eq!(sim.alerts(), vec!["unusual_rate", "unusual_volume"]);
    // Under a session that does not exist a retry raises nothing: its first entry did.
    assert!(
        sim.state
            .observe_retry("nope", sim.now, &sim.policy)
            .is_empty()
    );
}

#[test]
fn the_rate_rule_sees_what_a_full_scan_sees() {
    // The sliding window against the old full scan over every action time, on bursts and
    // gaps: both must flag the same first action.
    let mut rng = 0x1234_5678_9abc_def1u64;
    for round in 0..40 {
        let limit = 1 + round % 7;
        let mut sim = Sim::new(Policy {
            max_actions: 1_000_000,
            max_actions_per_minute: limit,
            ..Policy::default()
        });
        sim.active("s");
        let mut times = Vec::new();
        let mut expected = None;
        for n in 0..60 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            sim.now += [0, 500, 5_000, 20_000, 61_000][(rng % 5) as usize];
            times.push(sim.now);
            let recent = times
                .iter()
                .filter(|&&t| t > sim.now.saturating_sub(60_000))
                .count() as u64;
            if expected.is_none() && recent > limit {
                expected = Some(n);
            }
            sim.action("s", "alice", "read", "db/prod-1");
            let flagged = sim.alerts().iter().any(|r| r == "unusual_rate");
            assert_eq!(flagged, expected.is_some(), "round {round}, action {n}");
        }
    }
}

#[test]
fn an_action_counts_as_its_authenticated_submitter_s() {
    let mut sim = Sim::new(Policy::default());
    sim.active("s");
    // alice herself: nothing to say.
    sim.action_by(
        "alice",
        json!({"actor": "alice", "action": "read", "resource": "db/prod-1", "breakglass_session": "s"}),
    );
    assert!(sim.alerts().is_empty());
    // mallory claims to be alice: the claim is flagged and the action is mallory's, so it is
    // foreign to alice's session; alice is not framed.
    let l = sim.action_by(
        "mallory",
        json!({"actor": "alice", "action": "read", "resource": "db/prod-1", "breakglass_session": "s"}),
    );
    assert_eq!(sim.alerts(), vec!["unverified_actor", "foreign_session"]);
    let details: Vec<String> = sim
        .state
        .session("s")
        .unwrap()
        .alerts
        .iter()
        .map(|a| a.detail.clone())
        .collect();
    assert!(details.iter().all(|d| d.contains("mallory")), "{details:?}");
    assert!(details[0].contains(&format!("entry {}", l.index)));
    // on_behalf_of from an untrusted submitter is a claim too.
    sim.action_by(
        "robot",
        json!({"actor": {"user": "robot", "on_behalf_of": "alice"}, "action": "read",
               "resource": "db/prod-3", "breakglass_session": "s"}),
    );
    assert_eq!(
        sim.alerts(),
        vec![
            "unverified_actor",
            "foreign_session",
            "unverified_actor",
            "foreign_session"
        ]
    );
}

#[test]
fn a_trusted_reporter_speaks_for_the_actor() {
    let mut sim = Sim::new(Policy {
        reporters: vec!["bastion".into()],
        ..Policy::default()
    });
    sim.active("s");
    sim.action_by(
        "bastion",
        json!({"actor": "alice", "action": "read", "resource": "db/prod-1", "breakglass_session": "s"}),
    );
    sim.action_by(
        "bastion",
        json!({"actor": {"user": "bastion", "on_behalf_of": "alice"}, "action": "read",
               "resource": "db/prod-1", "breakglass_session": "s"}),
    );
    assert!(sim.alerts().is_empty());
    // It still cannot make someone else's action the requester's.
    sim.action_by(
        "bastion",
        json!({"actor": "mallory", "action": "read", "resource": "db/prod-1", "breakglass_session": "s"}),
    );
    assert_eq!(sim.alerts(), vec!["foreign_session"]);
}

#[test]
fn made_up_session_ids_cost_a_bounded_number_of_alerts() {
    let mut sim = Sim::new(Policy::default());
    // 1,000 actions under 500 ids within one minute, each id twice.
    for i in 0..1000u64 {
        sim.action(&format!("fake-{}", i % 500), "mallory", "read", "x");
        sim.now += 50;
    }
    let alerts = sim.alerts();
    assert_eq!(
        alerts.len(),
        glasslog_breakglass::rules::MAX_UNKNOWN_PER_MINUTE + 1,
        "one per id up to the bound, then one for the rest of the minute"
    );
    // A minute later, new ids are alerted on again.
    sim.now += 60_000;
    sim.action("fresh", "mallory", "read", "x");
    assert_eq!(sim.alerts().len(), alerts.len() + 1);
    // And a replay of the log raises exactly what was recorded.
    let mut replay = glasslog_breakglass::State::new();
    for (i, b) in sim.log.iter().enumerate() {
        let l = glasslog_breakglass::decode(i as u64, b).unwrap();
        replay.apply(&l);
        replay.audit(&l, &sim.policy);
    }
    assert!(replay.unrecorded().is_empty());
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
        activates: true,
    }
    .to_native("s", "bob");
    sim.append("svc", forged);
    assert_eq!(sim.state.session("s").unwrap().status, Status::Pending);
}
