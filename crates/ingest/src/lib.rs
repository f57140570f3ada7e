//! Sanitized ingestion: nothing becomes immutable before secrets are found and redacted.
//!
//! A submission is read into the entry model ([`entry`]): a native glasslog event (mapped to
//! OCSF API Activity), an OCSF record (checked for its class's required fields), or raw text.
//! The [`Sanitizer`] applies the source's policy ([`policy`]): redact every finding of the
//! [`detect`] engine with a keyed fingerprint marker ([`redact`]), reject the submission, or
//! allow it as is. The result is encoded as RFC 8785 canonical JSON. This crate does no I/O and
//! knows nothing of HTTP or storage.

pub mod checks;
pub mod decode;
pub mod detect;
pub mod entry;
pub mod index;
pub mod keys;
pub mod lexicon;
pub mod policy;
pub mod redact;
pub mod rules;
pub mod values;

pub use detect::{Detector, DetectorOptions, Match};
pub use entry::{Body, Encoded, EntryError, MAX_ENTRY_BYTES, Submitter};
pub use policy::{Mode, PolicyConfig, PolicyError};
pub use redact::{Finding, Redactor, Scope};

use policy::AllowList;

/// What sanitizing a submission produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sanitized {
    /// The entry to append.
    pub encoded: Encoded,
    /// What was redacted (never the secrets themselves).
    pub findings: Vec<Finding>,
    /// The entry's search terms ([`index::terms_of`]), when the sanitizer indexes.
    pub terms: Vec<String>,
    /// The entry's erasure subject ([`index::subject_of`]): its actor, if it has one.
    pub subject: Option<String>,
}

/// Why a submission is not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The body is malformed or too large.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// The source's policy is `reject` and secrets were found.
    #[error("rejected by policy: {} secret(s) found", .findings.len())]
    Rejected {
        /// What was found.
        findings: Vec<Finding>,
    },
}

/// Applies a policy to submissions.
#[derive(Debug)]
pub struct Sanitizer {
    policy: PolicyConfig,
    redactor: Redactor,
    index: bool,
}

impl Sanitizer {
    /// A sanitizer for `policy`, with `fingerprint_key` keying the redaction fingerprints.
    pub fn new(
        policy: PolicyConfig,
        fingerprint_key: impl Into<zeroize::Zeroizing<[u8; 32]>>,
    ) -> Result<Self, PolicyError> {
        let redactor = Redactor::new(
            policy.detector()?,
            fingerprint_key,
            AllowList::new(&policy.allow)?,
        );
        Ok(Sanitizer {
            policy,
            redactor,
            index: false,
        })
    }

    /// Also derives each entry's search terms ([`Sanitized::terms`]) while the redacted body
    /// is at hand, instead of parsing the stored bytes again.
    pub fn with_search_terms(mut self, on: bool) -> Self {
        self.index = on;
        self
    }

    /// The redactor (for scanning without storing, as `glasslog scan` does).
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// [`Sanitizer::sanitize_as`] for the server's own entries (no submitting principal).
    pub fn sanitize(
        &self,
        source: &str,
        body: Body,
        received_ms: u64,
    ) -> Result<Sanitized, IngestError> {
        self.sanitize_as(
            Scope {
                source,
                principal: "",
            },
            body,
            received_ms,
        )
    }

    /// Reads, checks, sanitizes and encodes one submission to `scope.source` by
    /// `scope.principal`, received at `received_ms` (milliseconds since the Unix epoch).
    /// Fingerprints are keyed for that scope, so they confirm nothing to anyone else.
    pub fn sanitize_as(
        &self,
        scope: Scope<'_>,
        body: Body,
        received_ms: u64,
    ) -> Result<Sanitized, IngestError> {
        self.sanitize_bound(scope, None, body, received_ms)
    }

    /// [`Sanitizer::sanitize_as`], recording the authenticated `submitter` in the entry when
    /// given (for actions under a break-glass session, whose claimed actor is checked
    /// against it).
    pub fn sanitize_bound(
        &self,
        scope: Scope<'_>,
        submitter: Option<&Submitter>,
        body: Body,
        received_ms: u64,
    ) -> Result<Sanitized, IngestError> {
        let source = scope.source;
        let redactor = self.redactor.scoped(scope);
        let mut body = match body {
            Body::Event(v) => Body::Event(entry::normalize_event(v)?),
            text => text,
        };
        let mode = self.policy.mode(source);
        let mut findings = Vec::new();
        if mode != Mode::Allow {
            match &mut body {
                Body::Event(v) => redactor.redact_json(v, &mut findings),
                Body::Text(t) => {
                    if let Some(new) = redactor.redact_text(t, None, &mut findings) {
                        *t = new;
                    }
                }
            }
        }
        if mode == Mode::Reject && !findings.is_empty() {
            return Err(IngestError::Rejected { findings });
        }
        let encoded = entry::encode(source, submitter, &body, received_ms)?;
        let terms = if self.index {
            index::terms_of(source, &body, findings.iter().map(|f| f.rule.as_str()))
        } else {
            Vec::new()
        };
        Ok(Sanitized {
            subject: index::subject_of(&body),
            encoded,
            findings,
            terms,
        })
    }
}
