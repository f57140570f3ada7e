//! Break-glass accountability without I/O: the policy, the session state machine, the audit
//! rules and the verifiable incident report.
//!
//! Every step of a break-glass session is an entry in the log, so the log is the only record:
//! the server's session state is a fold of those entries ([`State::apply`]), rebuilt on every
//! start, and a report's summary is the same fold over the entries it carries, which is what
//! makes it checkable offline. Policy decides what may be appended ([`State::check`]) and what
//! the audit rules flag ([`State::audit`], [`State::due`]); it never changes how
//! recorded entries fold, so a policy change cannot rewrite history.

pub mod check;
pub mod policy;
pub mod record;
pub mod report;
pub mod rules;
pub mod session;
pub mod state;

pub use check::{Command, Refusal};
pub use policy::{Policy, PolicyError, Principal};
pub use record::{
    Action, Alert, Event, Located, Opened, Record, Scope, Submitter, Verdict, decode, session_of,
};
pub use report::{BuildEntry, Report, ReportEntry, ReportError, VerifiedReport, verify_report};
pub use rules::Due;
pub use session::{Session, Status};
pub use state::State;

/// The source under which the server records break-glass lifecycle entries and alerts.
/// Submitters can never use it (the API reserves every `glasslog-` source).
pub const SOURCE: &str = "glasslog-breakglass";
/// The tag of every break-glass entry: lifecycle, alerts, policy changes and actions.
pub const TAG_ALL: &str = "bg";
/// Longest session id a submission may name.
pub const MAX_SESSION_ID: usize = 128;

/// The tag of one session's entries.
pub fn session_tag(session: &str) -> String {
    format!("bg:{session}")
}
