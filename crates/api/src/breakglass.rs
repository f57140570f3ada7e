//! Break-glass in the server: every lifecycle step and alert is appended to the log through
//! the sanitizer, folded into the session state, audited, and announced on the webhook.
//!
//! The state is rebuilt on start by folding the entries tagged `bg` (see
//! `glasslog_breakglass`); alerts that a crash kept from being appended are appended then. One
//! async mutex serializes check, append and fold, so two approvals racing cannot both pass a
//! check that only one of them should.

use crate::clock::now_ms;
use crate::metrics::Metrics;
use crate::problem::Problem;
use glasslog_breakglass::report::Report;
use glasslog_breakglass::{
    Alert, Command, Due, Event, Located, Policy, Principal, Refusal, SOURCE, Session, State,
    TAG_ALL, decode, session_tag,
};
use glasslog_ingest::{Body, Sanitizer};
use glasslog_log::{Log, LogError, NewEntry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};

type Labels = Vec<(String, String)>;

/// How often expiries and review deadlines are checked.
const TICK: Duration = Duration::from_millis(500);
/// Indices read per page when folding the log.
const PAGE: usize = 4096;
/// Notifications waiting for the webhook, at most.
const WEBHOOK_QUEUE: usize = 10_000;
/// Shortest time between two alerts for refused requests by one principal.
const REFUSAL_ALERT_INTERVAL_MS: u64 = 60_000;

/// The break-glass engine.
pub struct BreakGlass {
    log: Arc<Log>,
    sanitizer: Arc<Sanitizer>,
    policy: Policy,
    /// `policy.fingerprint()`, computed once: it is compared before every session entry.
    fingerprint: String,
    state: Mutex<State>,
    notify: Option<mpsc::Sender<Value>>,
    webhook_failures: Counter,
    alerts: Family<Labels, Counter>,
    events: Family<Labels, Counter>,
    active: Gauge,
    /// When each principal's last refused request was recorded as an alert.
    refusal_alerts: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    refusals_suppressed: Counter,
    /// What reports are proven against: the checkpoint the server vouches for.
    cosigned: crate::cosign::Cosigned,
    quorum: usize,
}

fn refusal(r: Refusal) -> Problem {
    use axum::http::StatusCode;
    match r {
        Refusal::NotFound(_) => Problem::not_found(r.to_string()),
        Refusal::Forbidden(_) => Problem::forbidden(r.to_string()),
        Refusal::Conflict(_) => Problem::new(StatusCode::CONFLICT, "conflict", r.to_string()),
        Refusal::Invalid(_) => Problem::bad_request(r.to_string()),
        _ => Problem::bad_request(r.to_string()),
    }
}

impl BreakGlass {
    /// Folds the log's break-glass entries, appends what a crash left out (alerts, a policy
    /// change), and starts the timer and the webhook sender.
    pub async fn start(
        log: Arc<Log>,
        sanitizer: Arc<Sanitizer>,
        policy: Policy,
        metrics: &Metrics,
        cosigned: crate::cosign::Cosigned,
        quorum: usize,
    ) -> Result<Arc<Self>, LogError> {
        let notify = policy.webhook.clone().map(|url| {
            let (tx, rx) = mpsc::channel(WEBHOOK_QUEUE);
            tokio::spawn(deliver(
                url,
                rx,
                metrics.breakglass_webhook_failures.clone(),
            ));
            tx
        });
        let state = fold(&log, &policy).await?;
        let bg = Arc::new(BreakGlass {
            log,
            sanitizer,
            fingerprint: policy.fingerprint(),
            policy,
            state: Mutex::new(state),
            notify,
            webhook_failures: metrics.breakglass_webhook_failures.clone(),
            alerts: metrics.breakglass_alerts.clone(),
            events: metrics.breakglass_events.clone(),
            active: metrics.breakglass_active.clone(),
            refusal_alerts: std::sync::Mutex::default(),
            refusals_suppressed: metrics.breakglass_refusals_suppressed.clone(),
            cosigned,
            quorum,
        });
        {
            let mut st = bg.state.lock().await;
            let missing = st.unrecorded();
            if !missing.is_empty() {
                tracing::warn!(count = missing.len(), "appending alerts a crash left out");
            }
            bg.record_alerts(&mut st, missing).await;
            // A change of a policy already in the log is recorded at once; a first policy is
            // recorded before the first break-glass entry made under it (see `append`), so a
            // log that never uses break-glass holds only what was submitted.
            if st.policy_fingerprint().is_some() {
                bg.record_policy(&mut st)
                    .await
                    .map_err(|_| LogError::Closed)?;
            }
            bg.gauge(&st);
        }
        // The timer holds the engine weakly: once the server drops it at shutdown, the timer
        // stops instead of appending to a closing log.
        let ticker = Arc::downgrade(&bg);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(TICK);
            loop {
                interval.tick().await;
                let Some(bg) = ticker.upgrade() else { break };
                bg.tick().await;
            }
        });
        Ok(bg)
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn gauge(&self, st: &State) {
        let n = st
            .sessions()
            .filter(|s| s.status == glasslog_breakglass::Status::Active)
            .count();
        self.active.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    fn announce(&self, kind: &str, index: u64, body: Value) {
        self.events
            .get_or_create(&vec![("event".to_owned(), kind.to_owned())])
            .inc();
        if let Some(tx) = &self.notify {
            let mut msg = json!({ "type": kind, "index": index, "time": now_ms() });
            if let (Some(m), Value::Object(b)) = (msg.as_object_mut(), body) {
                m.extend(b);
            }
            // A receiver down for long must not grow the queue without bound: past
            // WEBHOOK_QUEUE waiting notifications, new ones are counted as failed (the log
            // still holds every step).
            if tx.try_send(msg).is_err() {
                self.webhook_failures.inc();
            }
        }
    }

    /// Appends the policy in force if the log's last recorded policy differs.
    async fn record_policy(&self, st: &mut State) -> Result<(), Problem> {
        let fp = &self.fingerprint;
        if st.policy_fingerprint() != Some(fp.as_str()) {
            let native = glasslog_breakglass::record::policy_native(&self.policy.recorded(), fp);
            self.append(st, native, None).await?;
            tracing::info!(fingerprint = %fp, "break-glass policy recorded");
        }
        Ok(())
    }

    /// Sanitizes and appends one entry under the break-glass source (the policy first, if
    /// the log does not hold it yet), then folds it in and audits it. Returns the entry; the
    /// alerts it raised are recorded after it.
    async fn append(
        &self,
        st: &mut State,
        native: Value,
        session: Option<&str>,
    ) -> Result<Located, Problem> {
        if session.is_some() {
            Box::pin(self.record_policy(st)).await?;
        }
        // Detection is CPU work: off the async workers (the state lock is async, so holding
        // it across the wait blocks no thread).
        let sanitizer = Arc::clone(&self.sanitizer);
        let s = tokio::task::spawn_blocking(move || {
            sanitizer.sanitize(SOURCE, Body::Event(native), now_ms())
        })
        .await
        .map_err(|_| Problem::unavailable("worker failed"))?
        .map_err(|e| Problem::bad_request(e.to_string()))?;
        let mut tags = vec![TAG_ALL.to_owned()];
        tags.extend(session.map(session_tag));
        let bytes = s.encoded.bytes;
        let appended = self
            .log
            .append(vec![NewEntry {
                data: bytes.clone(),
                identity: glasslog_log::Identity::Leaf,
                tags: tags.into_iter().chain(s.terms).collect(),
                subject: crate::protect::system_subject(),
            }])
            .await
            .map_err(crate::problem::log_problem)?;
        let index = appended
            .first()
            .map(|a| a.index)
            .ok_or_else(|| Problem::unavailable("the log returned no index"))?;
        let l = decode(index, &bytes)
            .ok_or_else(|| Problem::unavailable("a break-glass entry did not decode"))?;
        st.apply(&l);
        let alerts = st.audit(&l, &self.policy);
        Box::pin(self.record_alerts(st, alerts)).await;
        Ok(l)
    }

    async fn record_alerts(&self, st: &mut State, alerts: Vec<Alert>) {
        for a in alerts {
            self.alerts
                .get_or_create(&vec![("rule".to_owned(), a.rule.clone())])
                .inc();
            match Box::pin(self.append(st, a.to_native(), Some(&a.session))).await {
                Ok(l) => {
                    tracing::warn!(rule = %a.rule, index = l.index, "break-glass alert");
                    self.announce(
                        "breakglass.alert",
                        l.index,
                        json!({ "alert": {
                            "rule": a.rule, "session": a.session,
                            "subject": a.subject, "detail": a.detail,
                        }}),
                    );
                }
                // Raised but not recorded: the next start appends it (State::unrecorded).
                Err(p) => tracing::error!(rule = %a.rule, error = %p.detail, "alert not appended"),
            }
        }
    }

    /// Whether a refused request by `principal` should be recorded as an alert: at most one a
    /// minute per principal, so a script retrying a forbidden request cannot fill the log
    /// with alerts (the refusals are still counted, and answered 403). The map is bounded by
    /// the number of tokens, which only an admin creates.
    fn refusal_alert_due(&self, principal: &str) -> bool {
        let now = now_ms();
        let Ok(mut last) = self.refusal_alerts.lock() else {
            return true;
        };
        last.retain(|_, t| now.saturating_sub(*t) < REFUSAL_ALERT_INTERVAL_MS);
        if last.contains_key(principal) {
            self.refusals_suppressed.inc();
            return false;
        }
        last.insert(principal.to_owned(), now);
        true
    }

    /// Checks and records a lifecycle command by `who`; returns the session after it.
    pub async fn command(
        &self,
        id: &str,
        command: Command,
        who: &Principal,
    ) -> Result<Session, Problem> {
        let mut st = self.state.lock().await;
        let event = match st.check(id, &command, who, now_ms(), &self.policy) {
            Ok(e) => e,
            Err(r) => {
                if matches!(command, Command::Open { .. })
                    && matches!(r, Refusal::Forbidden(_))
                    && self.refusal_alert_due(&who.name)
                {
                    let alert = Alert {
                        rule: glasslog_breakglass::rules::RULE_UNAUTHORIZED.into(),
                        session: id.to_owned(),
                        subject: None,
                        detail: format!("refused: {r}"),
                    };
                    let fresh = st.raise_new(vec![alert]);
                    self.record_alerts(&mut st, fresh).await;
                }
                return Err(refusal(r));
            }
        };
        let l = self
            .append(&mut st, event.to_native(id, &who.name), Some(id))
            .await?;
        let session = st
            .session(id)
            .cloned()
            .ok_or_else(|| Problem::unavailable("the session did not fold"))?;
        self.gauge(&st);
        drop(st);
        self.announce(
            event.operation(),
            l.index,
            json!({ "session": session_json(&session) }),
        );
        Ok(session)
    }

    /// Folds and audits actions just submitted under sessions: `(index, stored bytes,
    /// duplicate)`. A duplicate (a keyed retry the log did not append again) still counts
    /// toward the session's volume and rate.
    pub async fn observe(&self, actions: Vec<(u64, Vec<u8>, bool)>) {
        let mut st = self.state.lock().await;
        for (index, bytes, duplicate) in actions {
            let Some(l) = decode(index, &bytes) else {
                continue;
            };
            let alerts = if duplicate {
                match &l.record {
                    glasslog_breakglass::Record::Action(a) => {
                        st.observe_retry(&a.session, now_ms(), &self.policy)
                    }
                    _ => Vec::new(),
                }
            } else {
                st.apply(&l);
                st.audit(&l, &self.policy)
            };
            self.record_alerts(&mut st, alerts).await;
        }
    }

    /// Records what time has made due: expiries, lapses, overdue reviews.
    pub async fn tick(&self) {
        let mut st = self.state.lock().await;
        for due in st.due(now_ms(), &self.policy) {
            match due {
                Due::Expire(id) => {
                    match self
                        .append(
                            &mut st,
                            Event::Expired.to_native(&id, "glasslog"),
                            Some(&id),
                        )
                        .await
                    {
                        Ok(l) => {
                            let session = st.session(&id).map(session_json);
                            self.announce(
                                "breakglass.expired",
                                l.index,
                                json!({ "session": session }),
                            );
                        }
                        Err(p) => {
                            tracing::error!(error = %p.detail, "expiry not recorded");
                            break;
                        }
                    }
                }
                Due::Alert(a) => {
                    let fresh = st.raise_new(vec![a]);
                    self.record_alerts(&mut st, fresh).await;
                }
            }
        }
        self.gauge(&st);
    }

    /// A session.
    pub async fn session(&self, id: &str) -> Option<Session> {
        self.state.lock().await.session(id).cloned()
    }

    /// Every session.
    pub async fn sessions(&self) -> Vec<Session> {
        self.state.lock().await.sessions().cloned().collect()
    }

    /// Builds the incident report of a session against the latest checkpoint covering all
    /// of its entries.
    pub async fn report(&self, id: &str) -> Result<Report, Problem> {
        let indices = {
            let st = self.state.lock().await;
            st.session(id)
                .ok_or_else(|| Problem::not_found(format!("no break-glass session {id}")))?
                .entries
                .clone()
        };
        let last = indices.last().copied().unwrap_or(0);
        let (cp, note) =
            crate::cosign::served(&self.log, &self.cosigned, self.quorum, Some(last)).await?;
        let log = Arc::clone(&self.log);
        let size = cp.size;
        let parts = tokio::task::spawn_blocking(move || {
            let mut parts = Vec::with_capacity(indices.len());
            for i in indices {
                let Some(o) = log.open_entries(i, i + 1)?.pop() else {
                    continue;
                };
                // An erased entry (its actor's data destroyed) cannot be shown: the report
                // covers what is still readable.
                let Some(bytes) = o.plaintext else { continue };
                parts.push(glasslog_breakglass::BuildEntry {
                    index: i,
                    bytes,
                    path: log.inclusion_proof(i, size)?,
                    sealed: o.salt.map(|salt| (o.leaf_data, salt)),
                });
            }
            Ok::<_, LogError>(parts)
        })
        .await
        .map_err(|_| Problem::unavailable("worker failed"))?
        .map_err(crate::problem::log_problem)?;
        Report::build(id, note, parts)
            .map_err(|e| Problem::unavailable(format!("the report did not build: {e}")))
    }

    /// Runs every audit rule over the whole log again (on demand), appends the alerts the
    /// log lacks, and returns every finding.
    pub async fn audit_all(&self) -> Result<(Vec<Alert>, usize), Problem> {
        let fresh = fold(&self.log, &self.policy)
            .await
            .map_err(crate::problem::log_problem)?;
        let findings = fresh.raised();
        let missing = fresh.unrecorded();
        let mut st = self.state.lock().await;
        let to_record = st.raise_new(missing);
        let recorded = to_record.len();
        self.record_alerts(&mut st, to_record).await;
        let due = st.due(now_ms(), &self.policy);
        drop(st);
        let mut all = findings;
        all.extend(due.into_iter().filter_map(|d| match d {
            Due::Alert(a) => Some(a),
            Due::Expire(_) => None,
        }));
        Ok((all, recorded))
    }
}

/// Folds every entry tagged `bg`, running the audit rules as it goes.
async fn fold(log: &Arc<Log>, policy: &Policy) -> Result<State, LogError> {
    let size = match log.checkpoint() {
        Ok(cp) => cp.checkpoint.size,
        // An ML-DSA-44-only log before its first entry: nothing to fold.
        Err(LogError::NoCheckpointYet) => 0,
        Err(e) => return Err(e),
    };
    let log = Arc::clone(log);
    let policy = policy.clone();
    tokio::task::spawn_blocking(move || {
        let mut state = State::new();
        let mut from = 0;
        loop {
            let page = log.tagged(TAG_ALL, from, PAGE)?;
            for &i in page.iter().filter(|&&i| i < size) {
                let bytes = match log.entry(i) {
                    Ok(b) => b,
                    // Only a retention period naming the server's own source erases these.
                    Err(LogError::Erased(_)) => continue,
                    Err(e) => return Err(e),
                };
                if let Some(l) = decode(i, &bytes) {
                    state.apply(&l);
                    state.audit(&l, &policy);
                }
            }
            match page.last() {
                Some(&last) if page.len() == PAGE => from = last + 1,
                _ => break,
            }
        }
        Ok(state)
    })
    .await
    .map_err(|_| LogError::Closed)?
}

/// A session as the API shows it (the stored summary, plus nothing secret: it was sanitized).
pub fn session_json(s: &Session) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// Sends notifications in order; a receiver that is down delays, never blocks, the server.
async fn deliver(url: String, mut rx: mpsc::Receiver<Value>, failures: Counter) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .http_status_as_error(true)
        .build()
        .into();
    while let Some(msg) = rx.recv().await {
        let mut delivered = false;
        for attempt in 0..3u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
            }
            let (agent, url, body) = (agent.clone(), url.clone(), msg.to_string());
            let ok = tokio::task::spawn_blocking(move || {
                agent
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .send(body.as_bytes())
                    .is_ok()
            })
            .await
            .unwrap_or(false);
            if ok {
                delivered = true;
                break;
            }
        }
        if !delivered {
            failures.inc();
            // The URL may carry a credential: never logged.
            tracing::warn!(kind = %msg["type"], "break-glass webhook delivery failed");
        }
    }
}
