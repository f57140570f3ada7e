//! `GET /v1/search`: entries by actor, action, resource, source, outcome, break-glass session,
//! redaction rule, words and received time, newest first, from the log's tag index.
//!
//! Every field names one index term (`glasslog_ingest::index`); the log intersects them
//! (`glasslog_log::search`). A time range becomes an index range by binary search over the
//! entries' received times, then an exact check of each match. The answer is a page and a
//! cursor: a page stops at `limit` matches or at the step budget, so no query walks the
//! whole log in one request.

use crate::auth::Role;
use crate::problem::{Problem, Result};
use crate::routes::read::entry_json;
use crate::routes::shared::{blocking, number, query};
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use glasslog_ingest::index::{self, Field};
use serde_json::{Value, json};
use std::sync::Arc;

/// Matches per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 100;
/// Index seeks one page may spend (a seek is a few microseconds on RocksDB).
const STEP_BUDGET: usize = 20_000;
/// How long one page may seek before it answers with a cursor (PostgreSQL's seeks are round
/// trips: there the deadline, not the step budget, ends a long page).
const PAGE_TIME: std::time::Duration = std::time::Duration::from_millis(50);
/// How far out of order received times may be, at least. An entry's time is taken when its
/// request arrives and its index when the sequencer reaches it, so a later index can carry an
/// earlier time by about the time a request may wait: the slack is twice
/// `request_timeout_secs`, and never less than this. The binary search widens the range by it
/// and each match is then checked exactly.
const MIN_RECEIVED_SLACK_MS: u64 = 120_000;
/// Most words in one free-text query.
const MAX_QUERY_WORDS: usize = 8;

const PARAMS: &[&str] = &[
    "actor", "action", "resource", "source", "outcome", "session", "rule", "q", "since", "until",
    "before", "limit",
];

/// `GET /v1/search`.
pub async fn search(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    st.read_access(&headers, st.config.public_entries, Role::Auditor)?;
    let q = query(raw, PARAMS)?;
    let mut tags = Vec::new();
    for (param, field) in [
        ("actor", Field::Actor),
        ("action", Field::Action),
        ("resource", Field::Resource),
        ("source", Field::Source),
        ("outcome", Field::Outcome),
        ("rule", Field::Rule),
    ] {
        if let Some(v) = q.get(param).filter(|v| !v.is_empty()) {
            tags.push(index::term(field, v));
        }
    }
    if let Some(s) = q.get("session").filter(|v| !v.is_empty()) {
        if s.len() > glasslog_breakglass::MAX_SESSION_ID {
            return Err(Problem::bad_request(format!(
                "a break-glass session id is at most {} bytes",
                glasslog_breakglass::MAX_SESSION_ID
            )));
        }
        tags.push(glasslog_breakglass::session_tag(s));
    }
    if let Some(text) = q.get("q") {
        let words = index::words(text, MAX_QUERY_WORDS + 1);
        if words.len() > MAX_QUERY_WORDS {
            return Err(Problem::bad_request(format!(
                "a text query has at most {MAX_QUERY_WORDS} words"
            )));
        }
        if words.is_empty() && !text.trim().is_empty() {
            return Err(Problem::bad_request(
                "a text query needs a word of 2 to 40 letters or digits",
            ));
        }
        tags.extend(words.iter().map(|w| index::term(Field::Word, w)));
    }
    tags.sort();
    tags.dedup();
    let since = number(&q, "since")?;
    let until = number(&q, "until")?;
    if let (Some(s), Some(u)) = (since, until)
        && u < s
    {
        return Err(Problem::bad_request("`until` is before `since`"));
    }
    let below = number(&q, "before")?.unwrap_or(u64::MAX);
    let limit = number(&q, "limit")?.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(Problem::bad_request(format!("`limit` is 1 to {MAX_LIMIT}")));
    }
    let limit = usize::try_from(limit).unwrap_or(1);
    let slack = MIN_RECEIVED_SLACK_MS.max(st.config.request_timeout_secs.saturating_mul(2000));
    let log = Arc::clone(&st.log);
    let started = std::time::Instant::now();
    let (found, entries, size) = blocking(move || {
        let size = log.checkpoint()?.checkpoint.size;
        let received = |b: &[u8]| index::received_ms(b).unwrap_or(0);
        // The index range that can hold the time range, widened for out-of-order times.
        let from = match since {
            Some(s) => {
                let t = s.saturating_sub(slack);
                log.first_entry_where(&mut |b| received(b) >= t)?
            }
            None => 0,
        };
        let below = match until {
            Some(u) => {
                let t = u.saturating_add(slack);
                below.min(log.first_entry_where(&mut |b| received(b) > t)?)
            }
            None => below,
        };
        let mut entries = Vec::new();
        let found = log.search(
            &glasslog_log::search::Query {
                tags: &tags,
                below,
                from,
                limit,
                budget: STEP_BUDGET,
                deadline: Some(started + PAGE_TIME),
            },
            &mut |i, opening| {
                let t = received(opening.plaintext.as_deref().unwrap_or_default());
                let ok = since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u);
                if ok {
                    entries.push(entry_json(i, opening));
                }
                ok
            },
        )?;
        Ok((found, entries, size))
    })
    .await?;
    Ok(axum::Json(json!({
        "entries": entries,
        "next": found.next.map_or(Value::Null, |n| json!(n)),
        "tree_size": size,
        "steps": found.steps,
    }))
    .into_response())
}
