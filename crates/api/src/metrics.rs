//! Prometheus metrics. Labels carry rule IDs, outcomes and routes, never entry contents.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    /// Submissions by outcome.
    pub submissions: Family<Labels, Counter>,
    /// Redactions by rule.
    pub redactions: Family<Labels, Counter>,
    /// Entries per append call.
    pub batch_entries: Histogram,
    /// Seconds from receipt to durable and checkpointed.
    pub integration_seconds: Histogram,
    /// Seconds to build a proof.
    pub proof_seconds: Histogram,
    /// Size of the latest checkpoint.
    pub tree_size: Gauge,
    /// Break-glass alerts by rule.
    pub breakglass_alerts: Family<Labels, Counter>,
    /// Break-glass lifecycle steps and alerts by kind.
    pub breakglass_events: Family<Labels, Counter>,
    /// Break-glass sessions now active.
    pub breakglass_active: Gauge,
    /// Webhook notifications given up on after retries.
    pub breakglass_webhook_failures: Counter,
    /// Refused break-glass requests not recorded as alerts (one a minute per principal is).
    pub breakglass_refusals_suppressed: Counter,
    /// Requests refused by the per-token rate limit.
    pub rate_limited: Counter,
    /// Tile and bundle reads answered from the tile cache.
    pub tile_cache_hits: Counter,
    /// Proofs answered from memory on the async thread, without the blocking pool.
    pub proofs_in_place: Counter,
    /// Data keys destroyed, by cause (erasure, retention).
    pub keys_destroyed: Family<Labels, Counter>,
    /// Retention passes run, by outcome.
    pub retention_runs: Family<Labels, Counter>,
    /// Expired keys a legal hold kept, in the last retention pass.
    pub retention_held: Gauge,
    /// When the last retention pass finished (seconds since the Unix epoch).
    pub retention_last_run: Gauge,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("glasslog");
        let submissions = Family::<Labels, Counter>::default();
        let redactions = Family::<Labels, Counter>::default();
        let batch_entries = Histogram::new(exponential_buckets(1.0, 4.0, 8));
        let integration_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        let proof_seconds = Histogram::new(exponential_buckets(0.000_005, 2.0, 14));
        let tree_size = Gauge::default();
        registry.register(
            "submissions",
            "Submitted entries by outcome",
            submissions.clone(),
        );
        registry.register(
            "redactions",
            "Secrets redacted, by rule",
            redactions.clone(),
        );
        registry.register("batch_entries", "Entries per append", batch_entries.clone());
        registry.register(
            "integration_seconds",
            "Receipt to durable and checkpointed",
            integration_seconds.clone(),
        );
        registry.register(
            "proof_seconds",
            "Time to build a proof",
            proof_seconds.clone(),
        );
        registry.register(
            "tree_size",
            "Size of the latest checkpoint",
            tree_size.clone(),
        );
        let breakglass_alerts = Family::<Labels, Counter>::default();
        let breakglass_events = Family::<Labels, Counter>::default();
        let breakglass_active = Gauge::default();
        let breakglass_webhook_failures = Counter::default();
        registry.register(
            "breakglass_alerts",
            "Break-glass audit alerts, by rule",
            breakglass_alerts.clone(),
        );
        registry.register(
            "breakglass_events",
            "Break-glass lifecycle steps and alerts, by kind",
            breakglass_events.clone(),
        );
        registry.register(
            "breakglass_active_sessions",
            "Break-glass sessions now active",
            breakglass_active.clone(),
        );
        registry.register(
            "breakglass_webhook_failures",
            "Break-glass notifications not delivered after retries",
            breakglass_webhook_failures.clone(),
        );
        let breakglass_refusals_suppressed = Counter::default();
        registry.register(
            "breakglass_refusals_suppressed",
            "Refused break-glass requests not recorded as alerts (one a minute per principal is)",
            breakglass_refusals_suppressed.clone(),
        );
        let tile_cache_hits = Counter::default();
        registry.register(
            "tile_cache_hits",
            "Tile and entry-bundle reads answered from memory",
            tile_cache_hits.clone(),
        );
        let proofs_in_place = Counter::default();
        registry.register(
            "proofs_in_place",
            "Proofs answered from memory without a hand-off to the blocking pool",
            proofs_in_place.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "rate_limited",
            "Requests refused by the per-token rate limit",
            rate_limited.clone(),
        );
        let keys_destroyed = Family::<Labels, Counter>::default();
        registry.register(
            "keys_destroyed",
            "Data keys destroyed (crypto-shredding), by cause",
            keys_destroyed.clone(),
        );
        let retention_runs = Family::<Labels, Counter>::default();
        registry.register(
            "retention_runs",
            "Retention passes, by outcome",
            retention_runs.clone(),
        );
        let retention_held = Gauge::default();
        registry.register(
            "retention_held_keys",
            "Expired data keys kept by a legal hold in the last retention pass",
            retention_held.clone(),
        );
        let retention_last_run = Gauge::default();
        registry.register(
            "retention_last_run_timestamp_seconds",
            "When the last retention pass finished",
            retention_last_run.clone(),
        );
        Metrics {
            keys_destroyed,
            retention_runs,
            retention_held,
            retention_last_run,
            rate_limited,
            tile_cache_hits,
            proofs_in_place,
            registry,
            breakglass_alerts,
            breakglass_events,
            breakglass_active,
            breakglass_webhook_failures,
            breakglass_refusals_suppressed,
            submissions,
            redactions,
            batch_entries,
            integration_seconds,
            proof_seconds,
            tree_size,
        }
    }

    /// Counts a submission outcome.
    pub fn submission(&self, outcome: &str) {
        self.submissions
            .get_or_create(&vec![("outcome".to_owned(), outcome.to_owned())])
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
