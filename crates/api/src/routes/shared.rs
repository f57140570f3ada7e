//! What the routes share: query strings, the blocking pool, and the checkpoint the server
//! vouches for.

use crate::problem::{Problem, Result, log_problem};
use crate::state::AppState;
use glasslog_log::LogError;
use std::collections::HashMap;

/// Parses a query string into a map, refusing repeated or unknown keys.
pub(crate) fn query(raw: Option<String>, allowed: &[&str]) -> Result<HashMap<String, String>> {
    crate::query::parse(raw.as_deref().unwrap_or(""), allowed).map_err(Problem::bad_request)
}

pub(crate) fn number(q: &HashMap<String, String>, key: &str) -> Result<Option<u64>> {
    crate::query::number(q, key).map_err(Problem::bad_request)
}

pub(crate) fn required(q: &HashMap<String, String>, key: &str) -> Result<u64> {
    number(q, key)?.ok_or_else(|| Problem::bad_request(format!("`{key}` is required")))
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, LogError> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Problem::unavailable("worker failed"))?
        .map_err(log_problem)
}

/// The audit path of entry `index` in the tree of `size`: from memory in place when the
/// records are there (no hand-off to the blocking pool, which costs more than the proof),
/// from storage on a blocking thread otherwise.
pub(crate) async fn inclusion_proof(
    st: &AppState,
    index: u64,
    size: u64,
) -> Result<Vec<glasslog_merkle::Hash>> {
    match st.log.try_inclusion_proof(index, size) {
        Some(proof) => {
            st.metrics.proofs_in_place.inc();
            proof.map_err(log_problem)
        }
        None => {
            let log = std::sync::Arc::clone(&st.log);
            blocking(move || log.inclusion_proof(index, size)).await
        }
    }
}

/// The checkpoint this server vouches for ([`crate::cosign::served`]).
pub(crate) async fn served(
    st: &AppState,
    covering: Option<u64>,
) -> Result<(glasslog_merkle::Checkpoint, String)> {
    crate::cosign::served(&st.log, &st.cosigned, st.config.witness_quorum, covering).await
}
