//! What every handler shares.

use crate::auth::TokenStore;
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use glasslog_ingest::Sanitizer;
use glasslog_log::Log;
use std::sync::Arc;

/// Shared server state.
pub struct AppState {
    /// The log.
    pub log: Arc<Log>,
    /// The ingestion policy and detectors.
    pub sanitizer: Arc<Sanitizer>,
    /// API tokens.
    pub tokens: TokenStore,
    /// Settings.
    pub config: ServerConfig,
    /// Metrics.
    pub metrics: Metrics,
    /// Per-token request limits, when configured.
    pub limiter: Option<governor::DefaultKeyedRateLimiter<String>>,
    /// Break-glass sessions.
    pub breakglass: Arc<crate::breakglass::BreakGlass>,
    /// The latest checkpoint cosigned by the witness quorum, when witnesses are configured.
    pub cosigned: crate::cosign::Cosigned,
}
