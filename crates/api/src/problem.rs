//! RFC 9457 problem details: every error the server sends is `application/problem+json`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use glasslog_ingest::{EntryError, Finding, IngestError};
use glasslog_log::LogError;
use serde::Serialize;
use serde_json::{Value, json};

/// An error response.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What exactly is wrong with this request.
    pub detail: String,
    /// Extra members (findings of a rejected entry, a limit).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Problem {
    /// A problem of a named kind.
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:glasslog:problem:{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            extra: None,
        }
    }

    /// Adds a member.
    pub fn with(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), value);
        self
    }

    /// 400.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this route needs a bearer token",
        )
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 429: the server is handling as many requests as it is configured to; this one was
    /// shed before anything of it was read. (A 4xx, not a 503: the server is sound, and the
    /// answer, with `Retry-After`, tells the client exactly what to do.)
    pub fn overloaded() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "overloaded",
            "the server is handling as many requests as it allows (max_concurrent_requests); retry after a second",
        )
    }

    /// 503: the log cannot take or serve this now; retrying later may work.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::TOO_MANY_REQUESTS {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        // A request shed for load was not read at all: the connection cannot carry another.
        if self.kind.ends_with(":overloaded") {
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // An oversized body is not read to its end, so the connection cannot carry another
        // request: say so, or keep-alive clients send their next request into a closed socket.
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

/// Runs the secret detectors over every problem document before it leaves, as over every
/// entry: an error message that quotes a request (a mistyped field, a framework rejection)
/// must not carry a credential back out, into a client's logs or a proxy's.
pub async fn redact_secrets(
    axum::extract::State(st): axum::extract::State<std::sync::Arc<crate::AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let resp = next.run(req).await;
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    if !is_problem {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let mut value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => return Response::from_parts(parts, axum::body::Body::from(bytes)),
    };
    let mut findings = Vec::new();
    st.sanitizer
        .redactor()
        .redact_json(&mut value, &mut findings);
    let out = if findings.is_empty() {
        bytes.to_vec()
    } else {
        serde_json::to_vec(&value).unwrap_or_default()
    };
    let mut resp = Response::from_parts(parts, axum::body::Body::from(out));
    resp.headers_mut().remove(header::CONTENT_LENGTH);
    resp
}

/// Turns any error response that is not already a problem (axum's own 404, 405, 413, 415 and
/// extractor rejections) into one, so that clients see one error format.
pub async fn normalize(resp: Response) -> Response {
    let status = resp.status();
    // Only untyped or plain-text errors (the framework's own) are rewritten: a problem document
    // stays as it is, and so does a deliberately typed protocol answer such as tlog-witness's
    // `409 text/x.tlog.size`.
    let rewrite = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !rewrite {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    // Framework messages describe the request's shape (never its content); keep them short.
    let detail: String = String::from_utf8_lossy(&text).chars().take(300).collect();
    let kind = match status {
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        _ if status.is_server_error() => "server-error",
        _ => "bad-request",
    };
    let detail = if detail.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        detail
    };
    let mut out = Problem::new(status, kind, detail).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && !out.headers().contains_key(name)
        {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// What a handler returns.
pub type Result<T> = std::result::Result<T, Problem>;

/// Maps log errors to responses; nothing from the network can make a 500 here.
pub fn log_problem(e: LogError) -> Problem {
    match e {
        LogError::SizeBeyondCheckpoint { size, current } => Problem::bad_request(format!(
            "tree size {size} is beyond the latest checkpoint ({current})"
        ))
        .with("tree_size", json!(current)),
        LogError::TagTooLong(_) => Problem::bad_request(e.to_string()),
        LogError::NotFound(what) => Problem::not_found(format!("{what} is not in the log")),
        LogError::Proof(p) => Problem::bad_request(p.to_string()),
        LogError::EntryTooLarge { len, max } => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "entry-too-large",
            format!("entry of {len} bytes exceeds {max}"),
        )
        .with("limit", json!(max)),
        LogError::Halted | LogError::Corrupt(_) | LogError::ForeignCheckpoint(_) => {
            tracing::error!(error = %e, "log unavailable");
            Problem::unavailable(
                "the log has stopped accepting entries; operators have been alerted",
            )
        }
        LogError::Superseded => Problem::unavailable(
            "this front-end no longer sequences the log (another one took over): retry, the load balancer sends you to the one that does",
        ),
        LogError::Erased(index) => Problem::new(
            StatusCode::GONE,
            "entry-erased",
            format!("entry {index} was erased: its data key was destroyed"),
        )
        .with("index", json!(index)),
        LogError::NotSealed => Problem::new(
            StatusCode::CONFLICT,
            "not-encrypted",
            "this log is not configured for encryption at rest ([encryption]), so it has no data keys to destroy",
        ),
        LogError::NoCheckpointYet => Problem::unavailable(
            "the log has no signed checkpoint yet: it signs with ML-DSA-44 alone, which cannot sign the empty tree, so its first checkpoint comes with its first entry",
        ),
        // Storage that cannot be reached (a database failing over) is reported by the log
        // once per outage; each request it refuses meanwhile is not worth a warning.
        other if other.is_retryable() => {
            tracing::debug!(error = %other, "transient log error");
            Problem::unavailable("the log could not complete this request; retry later")
        }
        other => {
            tracing::warn!(error = %other, "transient log error");
            Problem::unavailable("the log could not complete this request; retry later")
        }
    }
}

pub(crate) fn findings_json(findings: &[Finding]) -> Value {
    serde_json::to_value(findings).unwrap_or(Value::Array(Vec::new()))
}

pub(crate) fn ingest_problem(e: IngestError) -> Problem {
    match e {
        IngestError::Entry(EntryError::TooLarge { len, max }) => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "entry-too-large",
            format!("the encoded entry is {len} bytes; the limit is {max} bytes"),
        )
        .with("limit", json!(max)),
        IngestError::Entry(EntryError::Json(m)) => {
            Problem::bad_request(format!("invalid JSON: {m}"))
        }
        IngestError::Entry(e) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-entry",
            e.to_string(),
        ),
        IngestError::Rejected { findings } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "secrets-rejected",
            format!(
                "the source's policy rejects entries with secrets; {} found",
                findings.len()
            ),
        )
        .with("redactions", findings_json(&findings)),
        other => Problem::bad_request(other.to_string()),
    }
}
