//! Submissions: single entries and batches, through one pipeline: content negotiation,
//! idempotency keys, break-glass tagging, sanitizing off the async workers, appending.

use crate::auth::{Principal, Role};
use crate::clock::now_ms;
use crate::problem::{Problem, Result, log_problem};
use crate::problem::{findings_json, ingest_problem};
use crate::routes::shared::{inclusion_proof, query, served};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use glasslog_ingest::{Body, Finding};
use glasslog_log::{Appended, Identity, NewEntry};
use glasslog_merkle::Hash;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

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
/// scoped to the source. Keys are remembered for the life of the log. Without one, every
/// submission is its own entry, so that two identical events (five failed logins in one
/// millisecond) are five entries: the log would otherwise deduplicate them by their bytes.
fn idempotency_identity(source: &str, key: Option<&str>) -> Identity {
    use sha2::Digest as _;
    let Some(key) = key else {
        return Identity::Unique;
    };
    let mut h = sha2::Sha256::new();
    h.update(b"glasslog idempotency v1\0");
    h.update(source.as_bytes());
    h.update(b"\0");
    h.update(key.as_bytes());
    Identity::Key(Hash(h.finalize().into()))
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
        role: p.role.as_str().to_owned(),
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

/// One submission going into the pipeline.
struct Item {
    /// The parsed body, or why it could not be parsed.
    body: Result<Body>,
    /// A key that wins over the event's own id (the single submission's `Idempotency-Key`).
    key: Option<String>,
    /// A key used when the event has no id of its own (`<batch key>#<position>`).
    fallback_key: Option<String>,
}

/// Bodies up to this size are sanitized on the async worker that received them.
const IN_PLACE_BYTES: usize = 4096;

/// What became of one item: where it is and what was redacted from it, or why it was refused.
type Outcome = Result<(Appended, Vec<Finding>)>;

/// The one submission pipeline, for a single entry (a batch of one) and for batches: break-
/// glass tagging, idempotency identities and sanitizing on the blocking pool, one append for
/// every item that passed, break-glass observation (duplicates included, as retries), and the
/// metrics of each item. Refused items keep their place in the answer.
async fn ingest(
    st: &AppState,
    principal: &Principal,
    source: &str,
    in_session: Option<String>,
    items: Vec<Item>,
    body_bytes: usize,
) -> Result<Vec<Outcome>> {
    let started = Instant::now();
    let sanitizer = Arc::clone(&st.sanitizer);
    let received = now_ms();
    let src = source.to_owned();
    let principal_id = principal.id.clone();
    let bound = submitter(principal);
    let prepare = move || {
        let scope = glasslog_ingest::Scope {
            source: &src,
            principal: &principal_id,
        };
        items
            .into_iter()
            .map(|item| {
                let mut body = item.body?;
                let tags = session_tags(&mut body, in_session.as_deref())?;
                let key = item.key.or_else(|| event_uid(&body)).or(item.fallback_key);
                let identity = idempotency_identity(&src, key.as_deref());
                // Actions under a session record who really sent them.
                let submitter = (!tags.is_empty()).then_some(&bound);
                sanitizer
                    .sanitize_bound(scope, submitter, body, received)
                    .map(|s| (s, tags, identity))
                    .map_err(ingest_problem)
            })
            .collect::<Vec<_>>()
    };
    // Detection is CPU work, linear in the body. A small body (a single event) is tens of
    // microseconds of it, less than the hand-off to the blocking pool and back, which was the
    // largest cost of a single submission: it runs in place. Anything larger goes off the
    // async workers.
    let prepared = if body_bytes <= IN_PLACE_BYTES {
        prepare()
    } else {
        tokio::task::spawn_blocking(prepare)
            .await
            .map_err(|_| Problem::unavailable("worker failed"))?
    };
    let mut entries = Vec::new();
    for (r, tags, identity) in prepared.iter().flatten() {
        entries.push(NewEntry {
            data: r.encoded.bytes.clone(),
            identity: *identity,
            tags: tags.iter().chain(&r.terms).cloned().collect(),
            subject: st.config.encryption.as_ref().and_then(|e| {
                crate::protect::subject_for(e.subject, source, r.subject.as_deref(), received)
            }),
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
        // Sealing (a log encrypted at rest) is CPU work too, about 10 µs an entry: in place
        // for a small body, on the blocking pool for a batch, and never on the sequencer.
        let prepared = if body_bytes <= IN_PLACE_BYTES {
            st.log.prepare(entries)
        } else {
            let log = Arc::clone(&st.log);
            tokio::task::spawn_blocking(move || log.prepare(entries))
                .await
                .map_err(|_| Problem::unavailable("worker failed"))?
        }
        .map_err(log_problem)?;
        st.log
            .append_prepared(prepared)
            .await
            .map_err(log_problem)?
    };
    st.metrics.batch_entries.observe(appended.len() as f64);
    st.metrics
        .integration_seconds
        .observe(started.elapsed().as_secs_f64());
    let actions: Vec<(u64, Vec<u8>, bool)> = prepared
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
    Ok(prepared
        .into_iter()
        .map(|r| {
            let result = match r {
                Ok((s, _, _)) => appended
                    .next()
                    .map(|a| (a, s.findings))
                    .ok_or_else(|| Problem::unavailable("not appended")),
                Err(p) => Err(p),
            };
            st.metrics.submission(match &result {
                Ok((a, _)) if a.duplicate => "duplicate",
                Ok(_) => "accepted",
                // A policy rejection is a rejection, in a batch as alone.
                Err(p) if p.kind.ends_with("secrets-rejected") => "rejected",
                Err(_) => "invalid",
            });
            result
        })
        .collect())
}

/// `POST /v1/entries`: a batch of one.
pub async fn submit(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
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
    let parsed = match content_kind(&headers)? {
        Kind::Json => serde_json::from_slice(&body).map(Body::Event).map_err(|e| {
            Problem::bad_request(format!(
                "invalid JSON: {}",
                glasslog_ingest::entry::scrub_json_error(&e)
            ))
        }),
        Kind::Text => String::from_utf8(body.to_vec())
            .map(Body::Text)
            .map_err(|_| Problem::bad_request("a text entry must be UTF-8")),
        Kind::Ndjson => {
            return Err(Problem::bad_request(
                "NDJSON bodies go to /v1/entries/batch",
            ));
        }
    };
    let item = Item {
        body: parsed,
        key: idempotency_header(&headers)?,
        fallback_key: None,
    };
    let outcome = ingest(&st, &principal, &source, in_session, vec![item], body.len())
        .await?
        .pop()
        .ok_or_else(|| Problem::unavailable("the log returned no index"))?;
    let (a, findings) = outcome?;
    let mut out = appended_json(&a, &findings);
    if wait {
        let (cp, note) = served(&st, Some(a.index)).await?;
        let size = cp.size;
        let proof = inclusion_proof(&st, a.index, size).await?;
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
    let q = query(raw, &["source"])?;
    let principal = st.require(&headers, Role::Submitter)?;
    let source = source_for(&principal, &q)?;
    let ndjson = match content_kind(&headers)? {
        Kind::Json => false,
        Kind::Ndjson => true,
        Kind::Text => return Err(Problem::bad_request("a batch is a JSON array or NDJSON")),
    };
    let parsed = glasslog_ingest::entry::parse_batch(&body, ndjson)
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    if parsed.is_empty() || parsed.len() > st.config.max_batch_entries {
        return Err(Problem::bad_request(format!(
            "a batch holds 1 to {} entries",
            st.config.max_batch_entries
        ))
        .with("limit", json!(st.config.max_batch_entries)));
    }
    let in_session = session_header(&headers)?;
    let batch_key = idempotency_header(&headers)?;
    let items = parsed
        .into_iter()
        .enumerate()
        .map(|(position, item)| Item {
            body: item.map_err(|e| Problem::bad_request(e.to_string())),
            key: None,
            // An item's own id, else the batch's key and the item's position in it.
            fallback_key: batch_key.as_ref().map(|k| format!("{k}#{position}")),
        })
        .collect();
    let outcomes = ingest(&st, &principal, &source, in_session, items, body.len()).await?;
    let out: Vec<Value> = outcomes
        .into_iter()
        .map(|o| match o {
            Ok((a, findings)) => appended_json(&a, &findings),
            Err(p) => {
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
