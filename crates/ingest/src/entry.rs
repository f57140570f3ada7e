//! The entry model: audit events (native, mapped to OCSF, or OCSF records as they are) and raw
//! text, and their canonical encoding.
//!
//! A stored entry is RFC 8785 canonical JSON:
//! `{"glasslog":1,"source":S,"received":MS,"event":{...OCSF...}}` or with `"text":T`.
//! Two submissions of the same event are two entries; deduplication by idempotency key is the
//! server's (`crates/api`).

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Largest encoded entry: a tlog entry bundle's two-byte length prefix.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;
/// OCSF schema version the native mapping produces.
pub const OCSF_VERSION: &str = "1.3.0";

/// Why a submission was refused before policy was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// Not JSON, or not a JSON object.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A field the schema requires is absent.
    #[error("missing required field `{field}`{context}")]
    Missing {
        /// The field.
        field: String,
        /// Which schema requires it.
        context: String,
    },
    /// A field has the wrong type or value.
    #[error("invalid field `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The encoded entry does not fit a tlog entry bundle.
    #[error("entry is {len} bytes encoded; the limit is {max} bytes")]
    TooLarge {
        /// Encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// A submitted body before sanitization.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// An audit event (native glasslog schema or an OCSF record).
    Event(Value),
    /// A raw text entry.
    Text(String),
}

/// Who acted.
#[derive(Deserialize)]
#[serde(untagged)]
enum ActorIn {
    Name(String),
    Full {
        user: String,
        #[serde(default)]
        on_behalf_of: Option<String>,
        #[serde(default, rename = "type")]
        kind: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ResourceIn {
    Name(String),
    Full {
        name: String,
        #[serde(default, rename = "type")]
        kind: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceIn {
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    ip: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum OutcomeIn {
    Success,
    Failure,
    Unknown,
}

/// glasslog's own event schema: short to write, mapped to OCSF API Activity.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeEvent {
    actor: ActorIn,
    action: String,
    #[serde(default)]
    resource: Option<ResourceIn>,
    #[serde(default)]
    resources: Vec<ResourceIn>,
    #[serde(default)]
    outcome: Option<OutcomeIn>,
    /// Client time, milliseconds since the Unix epoch.
    #[serde(default)]
    time: Option<i64>,
    #[serde(default)]
    source: Option<SourceIn>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    ticket: Option<String>,
    #[serde(default)]
    breakglass_session: Option<String>,
    #[serde(default)]
    details: Option<Value>,
}

fn activity_id(action: &str) -> u32 {
    let verb = action.trim().to_ascii_lowercase();
    let starts = |words: &[&str]| words.iter().any(|w| verb.starts_with(w));
    if starts(&[
        "create", "add", "insert", "post", "new", "register", "grant",
    ]) {
        1
    } else if starts(&[
        "read", "get", "list", "view", "describe", "fetch", "show", "search", "export",
    ]) {
        2
    } else if starts(&[
        "update", "modify", "patch", "put", "set", "edit", "change", "rotate", "enable", "disable",
    ]) {
        3
    } else if starts(&["delete", "remove", "destroy", "revoke", "drop", "purge"]) {
        4
    } else {
        99
    }
}

fn native_to_ocsf(e: NativeEvent) -> Value {
    let activity = activity_id(&e.action);
    let (user, on_behalf_of, actor_type) = match e.actor {
        ActorIn::Name(n) => (n, None, None),
        ActorIn::Full {
            user,
            on_behalf_of,
            kind,
        } => (user, on_behalf_of, kind),
    };
    let mut user_obj = json!({ "name": user });
    if let Some(t) = actor_type {
        user_obj["type"] = Value::String(t);
    }
    let (status_id, status) = match e.outcome {
        Some(OutcomeIn::Success) => (1, "Success"),
        Some(OutcomeIn::Failure) => (2, "Failure"),
        Some(OutcomeIn::Unknown) | None => (0, "Unknown"),
    };
    let resources: Vec<Value> = e
        .resource
        .into_iter()
        .chain(e.resources)
        .map(|r| match r {
            ResourceIn::Name(name) => json!({ "name": name }),
            ResourceIn::Full { name, kind } => match kind {
                Some(t) => json!({ "name": name, "type": t }),
                None => json!({ "name": name }),
            },
        })
        .collect();
    let mut api = json!({ "operation": e.action });
    let mut src_endpoint = Map::new();
    if let Some(s) = e.source {
        if let Some(service) = s.service {
            api["service"] = json!({ "name": service.clone() });
            src_endpoint.insert("svc_name".into(), Value::String(service));
        }
        if let Some(host) = s.host {
            src_endpoint.insert("hostname".into(), Value::String(host));
        }
        if let Some(ip) = s.ip {
            src_endpoint.insert("ip".into(), Value::String(ip));
        }
    }
    let mut ev = json!({
        "class_uid": 6003,
        "category_uid": 6,
        "activity_id": activity,
        "type_uid": 600300 + activity,
        "severity_id": 1,
        "status_id": status_id,
        "status": status,
        "actor": { "user": user_obj },
        "api": api,
        "src_endpoint": Value::Object(src_endpoint),
        "metadata": { "version": OCSF_VERSION, "product": { "name": "glasslog", "vendor_name": "glasslog" } },
    });
    if let Some(t) = e.time {
        ev["time"] = json!(t);
    }
    if !resources.is_empty() {
        ev["resources"] = Value::Array(resources);
    }
    if let Some(reason) = e.reason {
        ev["message"] = Value::String(reason);
    }
    let mut unmapped = Map::new();
    for (k, v) in [
        ("on_behalf_of", on_behalf_of),
        ("ticket", e.ticket),
        ("breakglass_session", e.breakglass_session),
    ] {
        if let Some(v) = v {
            unmapped.insert(k.into(), Value::String(v));
        }
    }
    if let Some(d) = e.details {
        unmapped.insert("details".into(), d);
    }
    if !unmapped.is_empty() {
        ev["unmapped"] = Value::Object(unmapped);
    }
    ev
}

/// Class-specific required attributes of the OCSF 1.x classes an audit log sees.
const OCSF_CLASSES: &[(u64, &str, &[&str])] = &[
    (3001, "Account Change", &["user"]),
    (3002, "Authentication", &["user"]),
    (3003, "Authorize Session", &["user"]),
    (3004, "Entity Management", &["entity"]),
    (3005, "User Access Management", &["privileges", "user"]),
    (3006, "Group Management", &["group"]),
    (6001, "Web Resources Activity", &["web_resources"]),
    (6002, "Application Lifecycle", &["app"]),
    (6003, "API Activity", &["actor", "api", "src_endpoint"]),
    (
        6004,
        "Web Resource Access Activity",
        &["http_request", "web_resources"],
    ),
    (
        6005,
        "Datastore Activity",
        &["actor", "api", "src_endpoint"],
    ),
];

fn int_field(ev: &Map<String, Value>, field: &str, context: &str) -> Result<u64, EntryError> {
    let v = ev.get(field).ok_or_else(|| EntryError::Missing {
        field: field.into(),
        context: context.into(),
    })?;
    v.as_u64().ok_or_else(|| EntryError::Invalid {
        field: field.into(),
        reason: "must be a non-negative integer".into(),
    })
}

/// Checks an OCSF record for the base-event attributes and its class's required ones.
fn check_ocsf(ev: &Map<String, Value>) -> Result<(), EntryError> {
    let base = " (OCSF base event)";
    let class = int_field(ev, "class_uid", base)?;
    let activity = int_field(ev, "activity_id", base)?;
    let category = int_field(ev, "category_uid", base)?;
    int_field(ev, "severity_id", base)?;
    int_field(ev, "time", base)?;
    let type_uid = int_field(ev, "type_uid", base)?;
    if category != class / 1000 {
        return Err(EntryError::Invalid {
            field: "category_uid".into(),
            reason: format!("class {class} belongs to category {}", class / 1000),
        });
    }
    if type_uid != class * 100 + activity {
        return Err(EntryError::Invalid {
            field: "type_uid".into(),
            reason: format!(
                "must be class_uid * 100 + activity_id = {}",
                class * 100 + activity
            ),
        });
    }
    let metadata = ev
        .get("metadata")
        .and_then(Value::as_object)
        .ok_or_else(|| EntryError::Missing {
            field: "metadata".into(),
            context: base.into(),
        })?;
    for f in ["product", "version"] {
        if !metadata.contains_key(f) {
            return Err(EntryError::Missing {
                field: format!("metadata.{f}"),
                context: base.into(),
            });
        }
    }
    if let Some((_, name, required)) = OCSF_CLASSES.iter().find(|(uid, _, _)| *uid == class) {
        for f in *required {
            if ev.get(*f).is_none_or(Value::is_null) {
                return Err(EntryError::Missing {
                    field: (*f).into(),
                    context: format!(" (OCSF class {class} {name})"),
                });
            }
        }
    }
    Ok(())
}

/// Reads a JSON event: an OCSF record (it has `class_uid`) is checked and kept as it is; any
/// other object must follow glasslog's native schema and is mapped to OCSF API Activity.
pub fn normalize_event(value: Value) -> Result<Value, EntryError> {
    let Value::Object(map) = value else {
        return Err(EntryError::Invalid {
            field: "event".into(),
            reason: "an event must be a JSON object".into(),
        });
    };
    if map.contains_key("class_uid") {
        check_ocsf(&map)?;
        return Ok(Value::Object(map));
    }
    let native: NativeEvent = serde_json::from_value(Value::Object(map)).map_err(|e| {
        let msg = scrub_json_error(&e);
        match msg
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            Some(field) => EntryError::Missing {
                field: field.into(),
                context: " (glasslog event)".into(),
            },
            None => EntryError::Invalid {
                field: "event".into(),
                reason: msg,
            },
        }
    })?;
    if native.action.trim().is_empty() {
        return Err(EntryError::Invalid {
            field: "action".into(),
            reason: "must not be empty".into(),
        });
    }
    Ok(native_to_ocsf(native))
}

/// RFC 8785 canonical JSON.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    use serde::Serialize as _;
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, canon_json::CanonicalFormatter::new());
    // Writing a Value into a Vec cannot fail: no I/O error is possible and keys are strings.
    if value.serialize(&mut ser).is_err() {
        out.clear();
    }
    out
}

/// A sanitized entry, ready to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// The stored bytes (canonical JSON).
    pub bytes: Vec<u8>,
}

/// Splits a batch body into submissions: a JSON array (`ndjson == false`) or one JSON value per
/// non-blank line. An array item or line that is a JSON string is a text entry, anything else
/// an event. A malformed line fails alone; a malformed array fails the whole body.
pub fn parse_batch(body: &[u8], ndjson: bool) -> Result<Vec<Result<Body, EntryError>>, EntryError> {
    let item = |v: Value| match v {
        Value::String(t) => Body::Text(t),
        v => Body::Event(v),
    };
    if !ndjson {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Array(items)) => Ok(items.into_iter().map(|v| Ok(item(v))).collect()),
            Ok(_) => Err(EntryError::Json(
                "a JSON batch is an array of events or strings".into(),
            )),
            Err(e) => Err(EntryError::Json(scrub_json_error(&e))),
        };
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| EntryError::Json("an NDJSON batch must be UTF-8".into()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .map(item)
                .map_err(|e| EntryError::Json(scrub_json_error(&e)))
        })
        .collect())
}

/// A serde error's message without the values it quotes: `invalid type: string "…"` and
/// `unknown variant `…`` keep their shape, never the submitted text, which could be a
/// credential in the wrong field.
pub fn scrub_json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg.as_str();
    // The value in "unknown variant `x`" is the submitter's; the names after "expected" are
    // ours and stay. An unknown field's *name* stays too: naming it is what makes the error
    // clear, and the API's last redaction pass still covers a key that looks like a secret.
    for lead in ["unknown variant `"] {
        if let Some(tail) = rest.strip_prefix(lead)
            && let Some(end) = tail.find('`')
        {
            out.push_str(lead);
            out.push('…');
            rest = &tail[end..];
            break;
        }
    }
    let mut quoted = false;
    for c in rest.chars() {
        if c == '"' {
            if quoted {
                out.push('…');
            }
            quoted = !quoted;
            out.push(c);
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// Who submitted an entry, as the server authenticated them: stored beside (never inside) the
/// event, so that what a submitter claims (`actor`) and who it was can both be read back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Submitter {
    /// The token holder's principal.
    pub principal: String,
    /// The token's id.
    pub token: String,
    /// The token's role, lowercase.
    pub role: String,
}

/// Builds the stored entry from an already sanitized body; `submitter`, when given, is
/// recorded in the envelope (the server does so for actions under a break-glass session).
pub fn encode(
    source: &str,
    submitter: Option<&Submitter>,
    body: &Body,
    received_ms: u64,
) -> Result<Encoded, EntryError> {
    let mut envelope = Map::new();
    envelope.insert("glasslog".into(), json!(1));
    envelope.insert("source".into(), Value::String(source.to_owned()));
    if let Some(s) = submitter {
        envelope.insert("submitter".into(), json!(s));
    }
    match body {
        Body::Event(e) => envelope.insert("event".into(), e.clone()),
        Body::Text(t) => envelope.insert("text".into(), Value::String(t.clone())),
    };
    let without_time = canonical_json(&Value::Object(envelope));
    let bytes = insert_received(&without_time, received_ms);
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(EntryError::TooLarge {
            len: bytes.len(),
            max: MAX_ENTRY_BYTES,
        });
    }
    Ok(Encoded { bytes })
}

/// Adds `"received":<ms>` to the canonical envelope without canonicalizing it again.
///
/// RFC 8785 orders keys, and the envelope's keys are `event`, `glasslog`, `received`, `source`,
/// `submitter` and `text`, so `received` always goes right before the top-level `source`. That
/// is the last `,"source":` in the text: a nested `source` key sits inside `event`, which comes
/// earlier, `submitter` holds none, and a string value cannot hold an unescaped quote. A test
/// checks this against a full encode.
fn insert_received(canonical: &[u8], received_ms: u64) -> Vec<u8> {
    const SOURCE: &[u8] = br#","source":"#;
    let at = canonical
        .windows(SOURCE.len())
        .rposition(|w| w == SOURCE)
        .unwrap_or(canonical.len());
    let mut out = Vec::with_capacity(canonical.len() + 32);
    out.extend_from_slice(&canonical[..at]);
    out.extend_from_slice(format!(r#","received":{received_ms}"#).as_bytes());
    out.extend_from_slice(&canonical[at..]);
    out
}

/// Reads a stored entry back as one OCSF event, for a SIEM: events as stored (with `time`
/// filled from the receive time when the client sent none, and `metadata.logged_time`), text
/// entries as OCSF Base Events carrying the text as `message`.
pub fn to_ocsf(stored: &[u8]) -> Result<Value, EntryError> {
    let v: Value = serde_json::from_slice(stored).map_err(|e| EntryError::Json(e.to_string()))?;
    let received = v.get("received").and_then(Value::as_u64).unwrap_or(0);
    let mut ev = match (v.get("event"), v.get("text")) {
        (Some(e), _) => e.clone(),
        (None, Some(Value::String(t))) => json!({
            "class_uid": 0, "category_uid": 0, "activity_id": 0, "type_uid": 0, "severity_id": 1,
            "message": t,
            "metadata": { "version": OCSF_VERSION, "product": { "name": "glasslog", "vendor_name": "glasslog" } },
        }),
        _ => return Err(EntryError::Json("not a glasslog entry".into())),
    };
    if ev.get("time").is_none() {
        ev["time"] = json!(received);
    }
    if let Some(meta) = ev.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("logged_time".into(), json!(received));
        if let Some(s) = v.get("source") {
            meta.insert("log_provider".into(), s.clone());
        }
    }
    Ok(ev)
}

#[cfg(test)]
mod scrub_tests {
    #![allow(clippy::panic, reason = "test")]
    use super::scrub_json_error;

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct S {
        #[serde(rename = "n")]
        _n: u64,
        #[serde(default, rename = "o")]
        _o: Option<super::OutcomeIn>,
    }

    fn err(json: &str) -> String {
        match serde_json::from_str::<S>(json) {
            Ok(_) => panic!("{json} parsed"),
            Err(e) => scrub_json_error(&e),
        }
    }

    #[test]
    fn quoted_values_never_come_back() {
        let m = err(r#"{"n": "AKIAIOSFODNN7EXAMPLE"}"#);
        assert!(
            !m.contains("AKIA") && m.contains("invalid type: string"),
            "{m}"
        );
        let m = err(r#"{"n": 1, "o": "hunter2hunter2"}"#);
        assert!(
            !m.contains("hunter2") && m.contains("unknown variant"),
            "{m}"
        );
        assert!(m.contains("success"), "our names stay: {m}");
        let m = err(r#"{"n": 1, "colour": 1}"#);
        assert!(
            m.contains("unknown field `colour`"),
            "field names stay: {m}"
        );
    }
}
