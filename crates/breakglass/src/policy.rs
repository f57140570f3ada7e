//! The break-glass policy, read from the `[breakglass]` table of the server's TOML config.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Who is asking: an API token's principal and role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The token holder's principal (a person or a service; several tokens can share one).
    pub name: String,
    /// The token's role, lowercase (`submitter`, `reader`, `auditor`, `admin`).
    pub role: String,
}

/// Why a policy is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A setting is out of range.
    #[error("breakglass.{field}: {reason}")]
    Invalid {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// What break-glass sessions may do. Lists of principals hold principals (a token's holder),
/// `role:<role>` entries, or `*` for any authenticated token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Who may open a session.
    pub requesters: Vec<String>,
    /// Who may approve or deny one.
    pub approvers: Vec<String>,
    /// Who may record a review verdict.
    pub reviewers: Vec<String>,
    /// Approvals from distinct approvers needed before a session is active (0: active at once).
    pub approvals_required: u32,
    /// Whether a requester may approve their own session when they declared an emergency;
    /// such a session's review is due within `urgent_review_deadline_seconds`.
    pub self_approval_in_emergency: bool,
    /// Whether such a self-approval activates the session at once, whatever
    /// `approvals_required` says. Off (strict): it counts as one approval of the quorum.
    pub self_approval_activates: bool,
    /// Whether a self-approving requester must also be one of `approvers`. On (strict).
    pub self_approval_needs_approver: bool,
    /// Whether a requester may extend their own session. Off (strict): only approvers may.
    pub self_extension: bool,
    /// Whether an approver of a session may also review it. Off (strict).
    pub approver_may_review: bool,
    /// Principals trusted to record actions done by others (a bastion host, a database
    /// proxy): the actor and `on_behalf_of` their entries claim are taken as given. Anyone
    /// else's action counts as their own, whatever it claims (rule `unverified_actor`).
    pub reporters: Vec<String>,
    /// Sessions one requester may have pending or active at once.
    pub max_open_sessions_per_requester: u32,
    /// Longest duration a session may ask for, and longest single extension.
    pub max_duration_seconds: u64,
    /// How long a request waits for its approvals before it lapses.
    pub approval_window_seconds: u64,
    /// How many times a session may be extended.
    pub max_extensions: u32,
    /// Time after a session ends within which it must be reviewed.
    pub review_deadline_seconds: u64,
    /// The same for self-approved sessions.
    pub urgent_review_deadline_seconds: u64,
    /// Actions in one session above which the volume is flagged.
    pub max_actions: u64,
    /// Actions within any 60 seconds of one session above which the rate is flagged.
    pub max_actions_per_minute: u64,
    /// Where lifecycle notifications and alerts are POSTed as JSON, if anywhere.
    pub webhook: Option<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            requesters: vec!["*".into()],
            approvers: vec!["role:admin".into()],
            reviewers: vec!["role:auditor".into(), "role:admin".into()],
            approvals_required: 1,
            self_approval_in_emergency: false,
            self_approval_activates: false,
            self_approval_needs_approver: true,
            self_extension: false,
            approver_may_review: false,
            reporters: Vec::new(),
            max_open_sessions_per_requester: 5,
            max_duration_seconds: 4 * 3600,
            approval_window_seconds: 3600,
            max_extensions: 2,
            review_deadline_seconds: 7 * 24 * 3600,
            urgent_review_deadline_seconds: 24 * 3600,
            max_actions: 1000,
            max_actions_per_minute: 120,
            webhook: None,
        }
    }
}

fn matches(list: &[String], p: &Principal) -> bool {
    list.iter().any(|m| {
        m == "*"
            || *m == p.name
            || m.strip_prefix("role:")
                .is_some_and(|r| r.eq_ignore_ascii_case(&p.role))
    })
}

impl Policy {
    /// Checks the settings for values that would make every session fail or never end.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let positive = |field, v: u64| {
            if v == 0 {
                Err(PolicyError::Invalid {
                    field,
                    reason: "must be positive".into(),
                })
            } else {
                Ok(())
            }
        };
        positive("max_duration_seconds", self.max_duration_seconds)?;
        positive("approval_window_seconds", self.approval_window_seconds)?;
        positive("review_deadline_seconds", self.review_deadline_seconds)?;
        positive(
            "urgent_review_deadline_seconds",
            self.urgent_review_deadline_seconds,
        )?;
        positive("max_actions_per_minute", self.max_actions_per_minute)?;
        // Times are milliseconds in u64: bounding seconds keeps every sum far from overflow.
        const YEAR: u64 = 366 * 24 * 3600;
        for (field, v) in [
            ("max_duration_seconds", self.max_duration_seconds),
            ("approval_window_seconds", self.approval_window_seconds),
            ("review_deadline_seconds", self.review_deadline_seconds),
            (
                "urgent_review_deadline_seconds",
                self.urgent_review_deadline_seconds,
            ),
        ] {
            if v > YEAR {
                return Err(PolicyError::Invalid {
                    field,
                    reason: "must be at most one year".into(),
                });
            }
        }
        if self.max_open_sessions_per_requester == 0 {
            return Err(PolicyError::Invalid {
                field: "max_open_sessions_per_requester",
                reason: "must be positive".into(),
            });
        }
        if self.approvals_required > 0 && self.approvers.is_empty() {
            return Err(PolicyError::Invalid {
                field: "approvers",
                reason: "approvals are required but nobody may approve".into(),
            });
        }
        Ok(())
    }

    /// Whether `p` may open a session.
    pub fn may_request(&self, p: &Principal) -> bool {
        matches(&self.requesters, p)
    }

    /// Whether `p` may approve or deny.
    pub fn may_approve(&self, p: &Principal) -> bool {
        matches(&self.approvers, p)
    }

    /// Whether `p` may review.
    pub fn may_review(&self, p: &Principal) -> bool {
        matches(&self.reviewers, p)
    }

    /// Whether `p` may record actions done by others.
    pub fn may_report(&self, p: &Principal) -> bool {
        matches(&self.reporters, p)
    }

    /// The policy as recorded in the log (the webhook URL is left out: it may hold a secret).
    pub fn recorded(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("webhook");
        }
        v
    }

    /// SHA-256 of [`Policy::recorded`], hex: a policy change is a change of this value.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.recorded().to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}
