//! Route handlers. Every blocking log read runs in `spawn_blocking`; appends go through the
//! log's channel and never block a worker thread.

use crate::auth::{Principal, Role};
use crate::problem::Problem;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use glasslog_ingest::{Body, EntryError, Finding, IngestError};
use glasslog_log::{Appended, LogError, NewEntry};
use glasslog_merkle::{Hash, Tile};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

type Result<T> = std::result::Result<T, Problem>;

/// Parses a query string into a map, refusing repeated or unknown keys.
fn query(raw: Option<String>, allowed: &[&str]) -> Result<HashMap<String, String>> {
    crate::query::parse(raw.as_deref().unwrap_or(""), allowed).map_err(Problem::bad_request)
}

fn number(q: &HashMap<String, String>, key: &str) -> Result<Option<u64>> {
    crate::query::number(q, key).map_err(Problem::bad_request)
}

fn required(q: &HashMap<String, String>, key: &str) -> Result<u64> {
    number(q, key)?.ok_or_else(|| Problem::bad_request(format!("`{key}` is required")))
}

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
        other => {
            tracing::warn!(error = %other, "transient log error");
            Problem::unavailable("the log could not complete this request; retry later")
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, LogError> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Problem::unavailable("worker failed"))?
        .map_err(log_problem)
}

impl AppState {
    pub(crate) fn principal(&self, headers: &HeaderMap) -> Result<Option<Principal>> {
        let value = match headers.get(header::AUTHORIZATION) {
            Some(v) => Some(
                v.to_str()
                    .map_err(|_| Problem::bad_request("the Authorization header is not text"))?,
            ),
            None => None,
        };
        let principal = self.tokens.authenticate(value)?;
        if let (Some(limiter), Some(p)) = (&self.limiter, &principal)
            && limiter.check_key(&p.id).is_err()
        {
            self.metrics.rate_limited.inc();
            return Err(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                format!(
                    "this token is limited to {} requests per second; retry after a second",
                    self.config.rate_limit_per_second
                ),
            )
            .with("limit", json!(self.config.rate_limit_per_second)));
        }
        Ok(principal)
    }

    /// The caller, who must hold `role`.
    pub(crate) fn require(&self, headers: &HeaderMap, role: Role) -> Result<Principal> {
        let p = self.principal(headers)?.ok_or_else(Problem::unauthorized)?;
        if !p.role.allows(role) {
            return Err(Problem::forbidden(
                format!("this route needs the {role:?} role").to_lowercase(),
            ));
        }
        Ok(p)
    }

    /// Checks read access: public when `public`, otherwise `role`.
    fn read_access(&self, headers: &HeaderMap, public: bool, role: Role) -> Result<()> {
        if public {
            // A malformed or unknown token is still refused, so mistakes are visible.
            self.principal(headers)?;
            return Ok(());
        }
        self.require(headers, role).map(|_| ())
    }
}

/// Every route that takes a body needs a token: this runs before the body is read, so an
/// unauthenticated client cannot make the server buffer a body of up to `max_body_bytes` (or
/// hold a connection open while it trickles one). The role is still checked by each route;
/// rate limiting is charged there, once.
pub async fn authenticate_before_body(
    State(st): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // Every route that reads a body is a POST under /v1/ (ROUTES); anything else is answered
    // by its route or by the fallback, which read none.
    let takes_body =
        req.method() == axum::http::Method::POST && req.uri().path().starts_with("/v1/");
    if takes_body {
        let value = match req
            .headers()
            .get(header::AUTHORIZATION)
            .map(HeaderValue::to_str)
        {
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => {
                return Problem::bad_request("the Authorization header is not text")
                    .into_response();
            }
            None => None,
        };
        match st.tokens.authenticate(value) {
            Ok(Some(_)) => {}
            Ok(None) => return Problem::unauthorized().into_response(),
            Err(p) => return p.into_response(),
        }
    }
    next.run(req).await
}

/// The `Idempotency-Key` header, if any: 1 to 255 visible ASCII characters.
fn idempotency_header(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            Problem::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters")
        })?;
    Ok(Some(key.to_owned()))
}

/// An event's own id: OCSF `metadata.uid`.
fn event_uid(body: &Body) -> Option<String> {
    match body {
        Body::Event(v) => v
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty() && u.len() <= 255)
            .map(str::to_owned),
        Body::Text(_) => None,
    }
}

/// The deduplication identity of a submission. An audit log keeps every event, so only an
/// explicit key makes two submissions one: the `Idempotency-Key` header or the event's own id,
/// scoped to the source. Keys are remembered for the life of the log. Without one, the
/// identity is random, so that two identical events (five failed logins in one millisecond)
/// are five entries: the log would otherwise deduplicate them by their identical bytes.
fn idempotency_identity(source: &str, key: Option<&str>) -> Option<Hash> {
    use sha2::Digest as _;
    let Some(key) = key else {
        let mut nonce = [0u8; 32];
        getrandom::fill(&mut nonce).ok()?;
        return Some(Hash(nonce));
    };
    let mut h = sha2::Sha256::new();
    h.update(b"glasslog idempotency v1\0");
    h.update(source.as_bytes());
    h.update(b"\0");
    h.update(key.as_bytes());
    Some(Hash(h.finalize().into()))
}

fn findings_json(findings: &[Finding]) -> Value {
    serde_json::to_value(findings).unwrap_or(Value::Array(Vec::new()))
}

fn ingest_problem(e: IngestError) -> Problem {
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

/// Milliseconds since the Unix epoch: the receive time the server stamps.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The source a submission is for: `?source=` or the token's name, and allowed to the token.
fn source_for(p: &Principal, q: &HashMap<String, String>) -> Result<String> {
    let source = q.get("source").cloned().unwrap_or_else(|| p.name.clone());
    let allowed = p.role == Role::Admin
        || if p.sources.is_empty() {
            source == p.name
        } else {
            p.sources.contains(&source)
        };
    // The server writes its own records (break-glass steps, admin actions) under `glasslog-`
    // sources; nobody else may, or they could forge a lifecycle step.
    if source.starts_with("glasslog-") {
        return Err(Problem::forbidden(
            "sources starting with `glasslog-` are reserved for the server's own records",
        ));
    }
    if !allowed || source.is_empty() || source.len() > 128 {
        return Err(Problem::forbidden(
            "this token may not submit for the requested source (its name, or the sources it lists)",
        ));
    }
    Ok(source)
}

enum Kind {
    Json,
    Text,
    Ndjson,
}

fn content_kind(headers: &HeaderMap) -> Result<Kind> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => Ok(Kind::Json),
        "text/plain" => Ok(Kind::Text),
        "application/x-ndjson" | "application/jsonl" => Ok(Kind::Ndjson),
        _ => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!(
                "Content-Type {ct:?} is not accepted; use application/json, text/plain or application/x-ndjson"
            ),
        )),
    }
}

/// The header naming the break-glass session a submission acts under.
pub const SESSION_HEADER: &str = "glasslog-breakglass-session";

/// The session named by the header, if any, checked for length.
fn session_header(headers: &HeaderMap) -> Result<Option<String>> {
    match headers.get(SESSION_HEADER) {
        None => Ok(None),
        Some(v) => {
            let s = v
                .to_str()
                .map_err(|_| Problem::bad_request("the break-glass session header is not text"))?
                .trim();
            // Checked here too, so that a bad header fails a batch once, not once per item.
            check_session_id(s)?;
            Ok(Some(s.to_owned()))
        }
    }
}

fn check_session_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > glasslog_breakglass::MAX_SESSION_ID {
        return Err(Problem::bad_request(format!(
            "a break-glass session id is 1 to {} bytes",
            glasslog_breakglass::MAX_SESSION_ID
        )));
    }
    Ok(())
}

/// Puts the header's session into an event (unless it names one already) and returns the
/// tags the entry is stored under. Text entries cannot act under a session.
fn session_tags(body: &mut Body, header: Option<&str>) -> Result<Vec<String>> {
    let event = match body {
        Body::Event(v) => v,
        Body::Text(_) if header.is_some() => {
            return Err(Problem::bad_request(
                "actions under a break-glass session must be events, not text",
            ));
        }
        Body::Text(_) => return Ok(Vec::new()),
    };
    let named = glasslog_breakglass::session_of(event).is_some();
    if let (Some(h), false, Value::Object(map)) = (header, named, &mut *event) {
        if map.contains_key("class_uid") {
            let unmapped = map
                .entry("unmapped")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(u) = unmapped {
                u.insert("breakglass_session".into(), json!(h));
            }
        } else {
            map.insert("breakglass_session".into(), json!(h));
        }
    }
    match glasslog_breakglass::session_of(event) {
        None => Ok(Vec::new()),
        Some(id) => {
            check_session_id(id)?;
            Ok(vec![
                glasslog_breakglass::TAG_ALL.to_owned(),
                glasslog_breakglass::session_tag(id),
            ])
        }
    }
}

/// The authenticated identity recorded with an action under a break-glass session.
fn submitter(p: &Principal) -> glasslog_ingest::Submitter {
    glasslog_ingest::Submitter {
        principal: p.principal.clone(),
        token: p.id.clone(),
        role: format!("{:?}", p.role).to_lowercase(),
    }
}

fn appended_json(a: &Appended, findings: &[Finding]) -> Value {
    json!({
        "index": a.index,
        "leaf_hash": a.leaf_hash.to_base64(),
        "duplicate": a.duplicate,
        "redactions": findings_json(findings),
    })
}

/// `POST /v1/entries`.
pub async fn submit(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let started = Instant::now();
    let q = query(raw, &["wait", "source"])?;
    let principal = st.require(&headers, Role::Submitter)?;
    let source = source_for(&principal, &q)?;
    let wait = match q.get("wait").map(String::as_str) {
        None => false,
        Some("checkpoint") => true,
        Some(_) => {
            return Err(Problem::bad_request(
                "the only supported wait is wait=checkpoint",
            ));
        }
    };
    let in_session = session_header(&headers)?;
    let mut parsed = match content_kind(&headers)? {
        Kind::Json => Body::Event(serde_json::from_slice(&body).map_err(|e| {
            Problem::bad_request(format!(
                "invalid JSON: {}",
                glasslog_ingest::entry::scrub_json_error(&e)
            ))
        })?),
        Kind::Text => Body::Text(
            String::from_utf8(body.to_vec())
                .map_err(|_| Problem::bad_request("a text entry must be UTF-8"))?,
        ),
        Kind::Ndjson => {
            return Err(Problem::bad_request(
                "NDJSON bodies go to /v1/entries/batch",
            ));
        }
    };
    let tags = session_tags(&mut parsed, in_session.as_deref())?;
    let key = idempotency_header(&headers)?.or_else(|| event_uid(&parsed));
    let identity = idempotency_identity(&source, key.as_deref());
    // Detection is CPU work: off the async workers, like batches.
    let sanitizer = Arc::clone(&st.sanitizer);
    let (src, principal_id) = (source.clone(), principal.id.clone());
    let submitter = (!tags.is_empty()).then(|| submitter(&principal));
    let received = now_ms();
    let result = tokio::task::spawn_blocking(move || {
        let scope = glasslog_ingest::Scope {
            source: &src,
            principal: &principal_id,
        };
        sanitizer.sanitize_bound(scope, submitter.as_ref(), parsed, received)
    })
    .await
    .map_err(|_| Problem::unavailable("worker failed"))?;
    let sanitized = match result {
        Ok(s) => s,
        Err(e) => {
            st.metrics
                .submission(if matches!(e, IngestError::Rejected { .. }) {
                    "rejected"
                } else {
                    "invalid"
                });
            return Err(ingest_problem(e));
        }
    };
    for f in &sanitized.findings {
        st.metrics
            .redactions
            .get_or_create(&vec![("rule".to_owned(), f.rule.clone())])
            .inc();
    }
    // Only actions under a session keep a copy, for the break-glass audit.
    let action = (!tags.is_empty()).then(|| sanitized.encoded.bytes.clone());
    let entry = NewEntry {
        data: sanitized.encoded.bytes,
        identity,
        tags,
    };
    let appended = st.log.append(vec![entry]).await.map_err(log_problem)?;
    let a = appended
        .first()
        .copied()
        .ok_or_else(|| Problem::unavailable("the log returned no index"))?;
    if let Some(bytes) = action {
        st.breakglass
            .observe(vec![(a.index, bytes, a.duplicate)])
            .await;
    }
    st.metrics.batch_entries.observe(1.0);
    st.metrics
        .integration_seconds
        .observe(started.elapsed().as_secs_f64());
    st.metrics
        .submission(if a.duplicate { "duplicate" } else { "accepted" });
    let mut out = appended_json(&a, &sanitized.findings);
    if wait {
        let (cp, note) = served(&st, Some(a.index)).await?;
        let size = cp.size;
        let log = Arc::clone(&st.log);
        let proof = blocking(move || log.inclusion_proof(a.index, size)).await?;
        out["checkpoint"] = json!(note);
        out["tree_size"] = json!(size);
        out["inclusion_proof"] = json!(proof.iter().map(Hash::to_base64).collect::<Vec<_>>());
    }
    let status = if a.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(out)).into_response())
}

/// `POST /v1/entries/batch`.
pub async fn submit_batch(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let started = Instant::now();
    let q = query(raw, &["source"])?;
    let principal = st.require(&headers, Role::Submitter)?;
    let source = source_for(&principal, &q)?;
    let ndjson = match content_kind(&headers)? {
        Kind::Json => false,
        Kind::Ndjson => true,
        Kind::Text => return Err(Problem::bad_request("a batch is a JSON array or NDJSON")),
    };
    let items = glasslog_ingest::entry::parse_batch(&body, ndjson)
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    if items.is_empty() || items.len() > st.config.max_batch_entries {
        return Err(Problem::bad_request(format!(
            "a batch holds 1 to {} entries",
            st.config.max_batch_entries
        ))
        .with("limit", json!(st.config.max_batch_entries)));
    }
    let in_session = session_header(&headers)?;
    let batch_key = idempotency_header(&headers)?;
    let sanitizer = Arc::clone(&st.sanitizer);
    let received = now_ms();
    let src = source.clone();
    let principal_id = principal.id.clone();
    let bound = submitter(&principal);
    let results = tokio::task::spawn_blocking(move || {
        let scope = glasslog_ingest::Scope {
            source: &src,
            principal: &principal_id,
        };
        items
            .into_iter()
            .enumerate()
            .map(|(position, item)| {
                let mut body = item.map_err(|e| Problem::bad_request(e.to_string()))?;
                let tags = session_tags(&mut body, in_session.as_deref())?;
                // An item's own id, else the batch's key and the item's position in it.
                let key = event_uid(&body)
                    .or_else(|| batch_key.as_ref().map(|k| format!("{k}#{position}")));
                let identity = idempotency_identity(&src, key.as_deref());
                // Actions under a session record who really sent them.
                let submitter = (!tags.is_empty()).then_some(&bound);
                sanitizer
                    .sanitize_bound(scope, submitter, body, received)
                    .map(|s| (s, tags, identity))
                    .map_err(ingest_problem)
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|_| Problem::unavailable("worker failed"))?;
    let mut entries = Vec::new();
    for (r, tags, identity) in results.iter().flatten() {
        entries.push(NewEntry {
            data: r.encoded.bytes.clone(),
            identity: *identity,
            tags: tags.clone(),
        });
        for f in &r.findings {
            st.metrics
                .redactions
                .get_or_create(&vec![("rule".to_owned(), f.rule.clone())])
                .inc();
        }
    }
    let appended = if entries.is_empty() {
        Vec::new()
    } else {
        st.log.append(entries).await.map_err(log_problem)?
    };
    st.metrics.batch_entries.observe(appended.len() as f64);
    st.metrics
        .integration_seconds
        .observe(started.elapsed().as_secs_f64());
    let actions: Vec<(u64, Vec<u8>, bool)> = results
        .iter()
        .flatten()
        .zip(&appended)
        .filter(|((_, tags, _), _)| !tags.is_empty())
        .map(|((s, _, _), a)| (a.index, s.encoded.bytes.clone(), a.duplicate))
        .collect();
    if !actions.is_empty() {
        st.breakglass.observe(actions).await;
    }
    let mut appended = appended.into_iter();
    let out: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            Ok((s, _, _)) => match appended.next() {
                Some(a) => {
                    st.metrics
                        .submission(if a.duplicate { "duplicate" } else { "accepted" });
                    appended_json(&a, &s.findings)
                }
                None => json!({ "error": Problem::unavailable("not appended") }),
            },
            Err(p) => {
                // Counted as a single submission would be: a policy rejection is a rejection.
                st.metrics
                    .submission(if p.kind.ends_with("secrets-rejected") {
                        "rejected"
                    } else {
                        "invalid"
                    });
                // A per-item problem travels inside a 200 `application/json` answer, past the
                // middleware that redacts problem documents: redact it here, as that would.
                let mut error = serde_json::to_value(&p).unwrap_or(Value::Null);
                let mut findings = Vec::new();
                st.sanitizer
                    .redactor()
                    .redact_json(&mut error, &mut findings);
                json!({ "error": error })
            }
        })
        .collect();
    Ok((StatusCode::OK, axum::Json(json!({ "results": out }))).into_response())
}

/// The checkpoint this server vouches for ([`crate::cosign::served`]).
async fn served(
    st: &AppState,
    covering: Option<u64>,
) -> Result<(glasslog_merkle::Checkpoint, String)> {
    crate::cosign::served(&st.log, &st.cosigned, st.config.witness_quorum, covering).await
}

/// `GET /checkpoint`.
pub async fn checkpoint(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response> {
    st.read_access(&headers, st.config.public_reads, Role::Reader)?;
    let (_, note) = served(&st, None).await?;
    let mut resp = note.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

/// `GET /tile/<L>/<N>[.p/<W>]` and `GET /tile/entries/<N>[.p/<W>]`.
pub async fn tile(
    State(st): State<Arc<AppState>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let (tile, entries) = Tile::parse_path(&format!("tile/{path}"))
        .map_err(|e| Problem::not_found(format!("tile/{path}: {e}")))?;
    if entries {
        st.read_access(&headers, st.config.public_entries, Role::Auditor)?;
    } else {
        st.read_access(&headers, st.config.public_reads, Role::Reader)?;
    }
    let log = Arc::clone(&st.log);
    let bytes = blocking(move || {
        if entries {
            log.entry_bundle(tile)
        } else {
            log.tile(tile)
        }
    })
    .await?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    // Full and partial tiles alike never change: a wider partial tile has another URL.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(resp)
}

/// `GET /v1/proofs/inclusion`.
pub async fn inclusion(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    st.read_access(&headers, st.config.public_reads, Role::Reader)?;
    let q = query(raw, &["index", "leaf_hash", "tree_size"])?;
    let size = required(&q, "tree_size")?;
    let started = Instant::now();
    let log = Arc::clone(&st.log);
    let (index, proof) = match (number(&q, "index")?, q.get("leaf_hash")) {
        (Some(index), None) => (
            index,
            blocking(move || log.inclusion_proof(index, size)).await?,
        ),
        (None, Some(h)) => {
            let leaf = Hash::from_base64(h)
                .map_err(|e| Problem::bad_request(format!("`leaf_hash`: {e}")))?;
            blocking(move || log.inclusion_proof_by_hash(&leaf, size)).await?
        }
        _ => {
            return Err(Problem::bad_request(
                "give exactly one of `index` and `leaf_hash`",
            ));
        }
    };
    st.metrics
        .proof_seconds
        .observe(started.elapsed().as_secs_f64());
    let path: Vec<String> = proof.iter().map(Hash::to_base64).collect();
    Ok(
        axum::Json(json!({ "leaf_index": index, "tree_size": size, "audit_path": path }))
            .into_response(),
    )
}

/// `GET /v1/proofs/consistency`.
pub async fn consistency(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    st.read_access(&headers, st.config.public_reads, Role::Reader)?;
    let q = query(raw, &["from", "to"])?;
    let (from, to) = (required(&q, "from")?, required(&q, "to")?);
    let started = Instant::now();
    let log = Arc::clone(&st.log);
    let proof = blocking(move || log.consistency_proof(from, to)).await?;
    st.metrics
        .proof_seconds
        .observe(started.elapsed().as_secs_f64());
    let path: Vec<String> = proof.iter().map(Hash::to_base64).collect();
    Ok(axum::Json(json!({ "from": from, "to": to, "consistency": path })).into_response())
}

fn entry_json(index: u64, bytes: &[u8]) -> Value {
    json!({
        "index": index,
        "leaf_hash": glasslog_merkle::leaf_hash(bytes).to_base64(),
        "entry": serde_json::from_slice::<Value>(bytes).unwrap_or(Value::Null),
        "entry_base64": STANDARD.encode(bytes),
    })
}

/// `GET /v1/entries/<index>`.
pub async fn entry(
    State(st): State<Arc<AppState>>,
    Path(index): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    st.read_access(&headers, st.config.public_entries, Role::Auditor)?;
    let index: u64 = index
        .parse()
        .map_err(|_| Problem::bad_request("the entry index must be a non-negative integer"))?;
    let log = Arc::clone(&st.log);
    let bytes = blocking(move || log.entry(index)).await?;
    Ok(axum::Json(entry_json(index, &bytes)).into_response())
}

/// `GET /v1/entries?start=&end=` (end exclusive).
pub async fn entries(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    st.read_access(&headers, st.config.public_entries, Role::Auditor)?;
    let q = query(raw, &["start", "end"])?;
    let (start, end) = (required(&q, "start")?, required(&q, "end")?);
    if end <= start || end - start > st.config.max_range_entries {
        return Err(Problem::bad_request(format!(
            "need start < end and at most {} entries",
            st.config.max_range_entries
        )));
    }
    let log = Arc::clone(&st.log);
    let list = blocking(move || log.entries(start, end)).await?;
    let out: Vec<Value> = (start..)
        .zip(&list)
        .map(|(i, b)| entry_json(i, b))
        .collect();
    Ok(axum::Json(json!({ "entries": out })).into_response())
}

/// `GET /v1/log`.
pub async fn log_info(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response> {
    st.read_access(&headers, st.config.public_reads, Role::Reader)?;
    let (cp, note) = served(&st, None).await?;
    Ok(axum::Json(json!({
        "origin": st.log.origin(),
        "verifier_key": st.log.verifier().vkey(),
        "tree_size": cp.size,
        "root_hash": cp.root.to_base64(),
        "checkpoint": note,
    }))
    .into_response())
}

/// Appends an admin action to the log itself.
async fn record_admin_action(
    st: &AppState,
    actor: &Principal,
    action: &str,
    resource: &str,
) -> Result<()> {
    let event = json!({
        "actor": { "user": actor.name, "type": "admin-token" },
        "action": action,
        "resource": { "name": resource, "type": "api-token" },
        "outcome": "success",
        "source": { "service": "glasslog" },
    });
    let s = st
        .sanitizer
        .sanitize("glasslog-admin", Body::Event(event), now_ms())
        .map_err(ingest_problem)?;
    st.log
        .append(vec![NewEntry {
            data: s.encoded.bytes,
            identity: None,
            tags: Vec::new(),
        }])
        .await
        .map_err(log_problem)?;
    Ok(())
}

/// `POST /v1/admin/tokens` with `{"role", "name", "principal"?, "sources"?}`.
pub async fn create_token(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let admin = st.require(&headers, Role::Admin)?;
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Req {
        role: Role,
        name: String,
        #[serde(default)]
        principal: Option<String>,
        #[serde(default)]
        sources: Vec<String>,
    }
    let req: Req = serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request(format!("invalid token request: {e}")))?;
    if req.name.is_empty() || req.name.len() > 128 {
        return Err(Problem::bad_request("a token name is 1 to 128 characters"));
    }
    if req
        .principal
        .as_ref()
        .is_some_and(|p| p.is_empty() || p.len() > 128)
    {
        return Err(Problem::bad_request("a principal is 1 to 128 characters"));
    }
    // The token file is fsynced (file and directory) under the store's lock: blocking work,
    // off the async workers.
    let store = Arc::clone(&st);
    let (record, token) = tokio::task::spawn_blocking(move || {
        store
            .tokens
            .create(&req.name, req.principal.as_deref(), req.role, req.sources)
    })
    .await
    .map_err(|_| Problem::unavailable("worker failed"))?
    .map_err(|e| match e {
        crate::auth::TokenError::NameTaken(_) => {
            Problem::new(StatusCode::CONFLICT, "conflict", e.to_string())
        }
        e => {
            tracing::error!(error = %e, "cannot save tokens");
            Problem::unavailable("cannot save the token")
        }
    })?;
    record_admin_action(&st, &admin, "create api token", &record.id).await?;
    tracing::info!(id = %record.id, role = ?record.role, "token created");
    Ok((StatusCode::CREATED, axum::Json(json!({ "id": record.id, "name": record.name, "principal": record.principal(), "role": record.role, "sources": record.sources, "token": token }))).into_response())
}

/// `GET /v1/admin/tokens`.
pub async fn list_tokens(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response> {
    st.require(&headers, Role::Admin)?;
    let list: Vec<Value> = st
        .tokens
        .list()
        .into_iter()
        .map(|r| json!({ "id": r.id, "name": r.name, "principal": r.principal(), "role": r.role, "sources": r.sources, "revoked": r.revoked }))
        .collect();
    Ok(axum::Json(json!({ "tokens": list })).into_response())
}

/// `DELETE /v1/admin/tokens/<id>`.
pub async fn revoke_token(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let admin = st.require(&headers, Role::Admin)?;
    let store = Arc::clone(&st);
    let target = id.clone();
    let revoked = tokio::task::spawn_blocking(move || store.tokens.revoke(&target))
        .await
        .map_err(|_| Problem::unavailable("worker failed"))?
        .map_err(|_| Problem::unavailable("cannot save the token store"))?;
    if !revoked {
        return Err(Problem::not_found(format!("no live token with id {id}")));
    }
    record_admin_action(&st, &admin, "revoke api token", &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /metrics`.
pub async fn metrics(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response> {
    st.read_access(&headers, st.config.public_metrics, Role::Reader)?;
    if let Ok(cp) = st.log.checkpoint() {
        st.metrics
            .tree_size
            .set(i64::try_from(cp.checkpoint.size).unwrap_or(i64::MAX));
    }
    let mut resp = st.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(resp)
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: the log is open and has a checkpoint.
pub async fn readyz(State(st): State<Arc<AppState>>) -> Result<&'static str> {
    st.log.checkpoint().map_err(log_problem)?;
    Ok("ready\n")
}

/// Unknown routes.
pub async fn fallback() -> Problem {
    Problem::not_found("no such route; see api/openapi.yaml")
}
