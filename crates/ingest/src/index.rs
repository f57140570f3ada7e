//! Search terms: the labels under which a stored entry is found by actor, action, resource,
//! source, outcome, redaction rule and words of its non-secret text.
//!
//! Terms are derived from the stored (already redacted) bytes alone, so the same function
//! indexes an entry when it is appended and could index it again later, and a term can
//! never hold anything the entry does not. Values are compared case-insensitively (lowercased)
//! on their first [`MAX_VALUE_BYTES`] bytes. Words come from the fields a reviewer reads
//! (actor, action, resources, message, ticket, source names) and from text entries, never
//! from `details` or other free-form payloads, which are where secrets the detectors missed
//! would sit; redaction markers are dropped before words are cut.

use crate::entry::Body;
use serde_json::Value;

/// Every term starts with this, so no term is ever a break-glass or signing-key tag.
pub const PREFIX: &str = "q:";
/// Longest value a term keeps, in bytes (the store's tag limit is 255).
pub const MAX_VALUE_BYTES: usize = 200;
/// Most word terms per entry: a long text is found by its first words.
pub const MAX_WORDS: usize = 64;
/// Most resources indexed per event.
const MAX_RESOURCES: usize = 8;
/// Shortest and longest word indexed, in characters.
const WORD_CHARS: std::ops::RangeInclusive<usize> = 2..=40;

/// A field a query can name, with the term namespace it is stored under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `actor.user.name` (or `user.name` in OCSF identity classes).
    Actor,
    /// `api.operation` (or `activity_name`).
    Action,
    /// Each `resources[].name`.
    Resource,
    /// The envelope's source (the token's source).
    Source,
    /// `status`: success, failure, unknown.
    Outcome,
    /// The rule of each redaction marker.
    Rule,
    /// A word of the non-secret text.
    Word,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Actor => "actor",
            Field::Action => "action",
            Field::Resource => "resource",
            Field::Source => "source",
            Field::Outcome => "outcome",
            Field::Rule => "rule",
            Field::Word => "word",
        }
    }
}

/// The term a query for `value` in `field` looks up: exactly what [`terms`] stores for an
/// entry whose field holds that value.
pub fn term(field: Field, value: &str) -> String {
    let mut t = String::with_capacity(PREFIX.len() + 12 + value.len().min(MAX_VALUE_BYTES));
    t.push_str(PREFIX);
    t.push_str(field.name());
    t.push(':');
    // Lowercased, with control characters (a PostgreSQL text value cannot hold NUL) turned
    // into spaces, and cut at a character boundary.
    for c in value.chars().flat_map(char::to_lowercase) {
        let c = if c.is_control() { ' ' } else { c };
        if t.len() + c.len_utf8() > PREFIX.len() + field.name().len() + 1 + MAX_VALUE_BYTES {
            break;
        }
        t.push(c);
    }
    t
}

/// The words of `text` that are indexed, in order of first appearance, at most `max`.
pub fn words(text: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in cut_words(&without_markers(text)) {
        if out.len() >= max {
            break;
        }
        let w = w.to_lowercase();
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The candidate words of `text`: runs of letters and digits of an indexed length.
fn cut_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && WORD_CHARS.contains(&w.chars().count()))
}

/// `text` with every `[REDACTED:<rule>:<fingerprint>]` marker replaced by a space.
fn without_markers(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("[REDACTED:") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("[REDACTED:") {
        out.push_str(&rest[..at]);
        out.push(' ');
        rest = match rest[at..].find(']') {
            Some(end) => &rest[at + end + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Whether `rule` looks like a rule id (what a marker's first field must be to be indexed).
fn rule_id(rule: &str) -> bool {
    !rule.is_empty()
        && rule.len() <= 64
        && rule
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// The rules named by the redaction markers in `text`.
fn marker_rules(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("[REDACTED:") {
        rest = &rest[at + "[REDACTED:".len()..];
        if let Some(rule) = rest.split(':').next()
            && rule_id(rule)
            && !out.contains(&rule)
        {
            out.push(rule);
        }
    }
    out
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Terms, without duplicates, in the order found.
struct Terms {
    out: Vec<String>,
    words: usize,
}

impl Terms {
    fn add(&mut self, t: String) {
        if !self.out.contains(&t) {
            self.out.push(t);
        }
    }

    fn words(&mut self, text: &str) {
        for w in cut_words(&without_markers(text)) {
            if self.words >= MAX_WORDS {
                return;
            }
            let t = term(Field::Word, w);
            if !self.out.contains(&t) {
                self.out.push(t);
                self.words += 1;
            }
        }
    }
}

/// The terms of an entry of `source` whose body (redacted, as stored) is an OCSF `event` or
/// a `text`, with markers of `rules`.
fn collect<'a>(
    source: &str,
    event: Option<&Value>,
    text: Option<&str>,
    rules: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let mut t = Terms {
        out: Vec::with_capacity(24),
        words: 0,
    };
    t.add(term(Field::Source, source));
    let mut text_fields: Vec<&str> = Vec::new();
    if let Some(ev) = event {
        let actor = actor_of(ev);
        let action = str_at(ev, &["api", "operation"]).or_else(|| str_at(ev, &["activity_name"]));
        if let Some(a) = actor {
            t.add(term(Field::Actor, a));
            text_fields.push(a);
        }
        if let Some(a) = action {
            t.add(term(Field::Action, a));
            text_fields.push(a);
        }
        let outcome = match (
            str_at(ev, &["status"]),
            ev.get("status_id").and_then(Value::as_u64),
        ) {
            (Some(s), _) => Some(s),
            (None, Some(1)) => Some("success"),
            (None, Some(2)) => Some("failure"),
            (None, Some(_)) => Some("unknown"),
            (None, None) => None,
        };
        if let Some(o) = outcome {
            t.add(term(Field::Outcome, o));
        }
        if let Some(rs) = ev.get("resources").and_then(Value::as_array) {
            for r in rs.iter().take(MAX_RESOURCES) {
                if let Some(n) = str_at(r, &["name"]) {
                    t.add(term(Field::Resource, n));
                    text_fields.push(n);
                }
            }
        }
        for path in [
            &["message"][..],
            &["unmapped", "ticket"],
            &["api", "service", "name"],
            &["src_endpoint", "hostname"],
        ] {
            if let Some(s) = str_at(ev, path) {
                text_fields.push(s);
            }
        }
    } else if let Some(s) = text {
        text_fields.push(s);
    }
    for r in rules.filter(|r| rule_id(r)) {
        t.add(term(Field::Rule, r));
    }
    for s in text_fields {
        t.words(s);
    }
    t.out
}

/// Every search term of a stored entry, without duplicates. Bytes that are not a stored
/// entry have none.
pub fn terms(stored: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<Value>(stored) else {
        return Vec::new();
    };
    let Some(source) = str_at(&v, &["source"]) else {
        return Vec::new();
    };
    // Rules are read from the whole stored entry: markers sit wherever a secret was.
    let raw = String::from_utf8_lossy(stored);
    collect(
        source,
        v.get("event"),
        str_at(&v, &["text"]),
        marker_rules(&raw).into_iter(),
    )
}

/// [`terms`] of the entry that encoding `body` for `source` stores, from the body itself and
/// the rules of its findings (what sanitizing knows already), without parsing the bytes
/// again. The two agree: `sanitized_terms_are_stored_terms` holds it.
pub fn terms_of<'a>(
    source: &str,
    body: &Body,
    rules: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    match body {
        Body::Event(ev) => collect(source, Some(ev), None, rules),
        Body::Text(text) => collect(source, None, Some(text), rules),
    }
}

/// An OCSF event's actor: `actor.user.name`, or `user.name` in identity classes. What
/// search finds by actor and what encryption at rest keys an entry's subject by.
pub fn actor_of(event: &Value) -> Option<&str> {
    str_at(event, &["actor", "user", "name"]).or_else(|| str_at(event, &["user", "name"]))
}

/// The subject of an entry for erasure, from its (redacted) body: `actor:` and the actor's
/// name, lowercased as search compares it; `None` for text and for events without an actor.
pub fn subject_of(body: &Body) -> Option<String> {
    match body {
        Body::Event(ev) => actor_of(ev).map(actor_subject),
        Body::Text(_) => None,
    }
}

/// The erasure subject of an actor's name.
pub fn actor_subject(actor: &str) -> String {
    format!("actor:{}", actor.to_lowercase())
}

/// The received time of a stored entry, in milliseconds since the Unix epoch.
pub fn received_ms(stored: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Received {
        received: u64,
    }
    serde_json::from_slice::<Received>(stored)
        .ok()
        .map(|r| r.received)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use crate::entry::{Body, encode, normalize_event};
    use serde_json::json;

    fn stored(event: Value) -> Vec<u8> {
        let ev = normalize_event(event).unwrap();
        encode("payments", None, &Body::Event(ev), 1_700_000_000_000)
            .unwrap()
            .bytes
    }

    #[test]
    fn a_native_event_is_found_by_each_field() {
        let s = stored(json!({
            "actor": "Alice", "action": "db.Export", "resource": "customers",
            "outcome": "failure", "reason": "Quarterly export for INC-42",
            "details": {"note": "hunter2 should never be a word"},
        }));
        let t = terms(&s);
        for want in [
            term(Field::Source, "payments"),
            term(Field::Actor, "alice"),
            term(Field::Action, "DB.EXPORT"),
            term(Field::Resource, "customers"),
            term(Field::Outcome, "Failure"),
            term(Field::Word, "quarterly"),
            term(Field::Word, "inc"),
            term(Field::Word, "42"),
            term(Field::Word, "export"),
        ] {
            assert!(t.contains(&want), "{want} missing from {t:?}");
        }
        assert!(!t.iter().any(|t| t.contains("hunter2")), "{t:?}");
        assert!(t.iter().all(|t| t.starts_with(PREFIX)));
        assert_eq!(received_ms(&s), Some(1_700_000_000_000));
    }

    #[test]
    fn markers_give_rules_and_no_words() {
        let s = encode(
            "ci",
            None,
            &Body::Text("deploy token [REDACTED:github-pat:0123abcd] used by bot".into()),
            1,
        )
        .unwrap()
        .bytes;
        let t = terms(&s);
        assert!(t.contains(&term(Field::Rule, "github-pat")));
        assert!(t.contains(&term(Field::Word, "deploy")));
        assert!(t.contains(&term(Field::Word, "bot")));
        assert!(!t.iter().any(|t| t.contains("0123abcd")), "{t:?}");
        assert!(!t.iter().any(|t| t.contains("redacted")), "{t:?}");
    }

    #[test]
    fn sanitized_terms_are_stored_terms() {
        let sanitizer = crate::Sanitizer::new(crate::PolicyConfig::default(), [3; 32])
            .unwrap()
            .with_search_terms(true);
        let bodies = [
            Body::Event(
                json!({"actor": "Ops Bot", "action": "Deploy", "resources": ["a/b", {"name": "C"}],
                "reason": "rollout 7 of INC-9", "details": {"password": "Sup3rS3cret-value!",
                "cmd": "export AWS_SECRET_ACCESS_KEY=Zq3t8Kd9vB2mX7nL0pR4sW6yA1cE5gH8jK2oQ9uT"}}),
            ),
            Body::Event(
                json!({"class_uid": 3002, "category_uid": 3, "activity_id": 1,
                "type_uid": 300201, "severity_id": 1, "time": 5, "status_id": 2,
                "user": {"name": "Mallory"}, "activity_name": "Logon",
                "metadata": {"product": {"name": "x"}, "version": "1.3.0"}}),
            ),
            Body::Text(
                "curl -H 'Authorization: Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789' by carol"
                    .into(),
            ),
            Body::Text(String::new()),
        ];
        for body in bodies {
            let s = sanitizer.sanitize("svc", body, 1).unwrap();
            let mut stored = terms(&s.encoded.bytes);
            let mut sanitized = s.terms.clone();
            stored.sort();
            sanitized.sort();
            assert_eq!(sanitized, stored);
            assert!(stored.contains(&term(Field::Source, "svc")));
        }
        // Off by default: a sanitizer that does not index derives nothing.
        let plain = crate::Sanitizer::new(crate::PolicyConfig::default(), [3; 32]).unwrap();
        assert!(
            plain
                .sanitize("svc", Body::Text("a word".into()), 1)
                .unwrap()
                .terms
                .is_empty()
        );
    }

    #[test]
    fn terms_fit_the_store_and_hold_no_control_characters() {
        let long = "é".repeat(300);
        let t = term(Field::Actor, &format!("a\u{0}b{long}"));
        assert!(t.len() <= 255, "{}", t.len());
        assert!(t.starts_with("q:actor:a b"));
        assert!(!t.chars().any(char::is_control));
        assert!(terms(b"not json").is_empty());
    }

    #[test]
    fn words_are_capped_and_unique() {
        let text: String = (0..200).map(|i| format!("w{i} w{i} ")).collect();
        let w = words(&text, MAX_WORDS);
        assert_eq!(w.len(), MAX_WORDS);
        assert_eq!(w[0], "w0");
        assert_eq!(w[1], "w1");
        assert_eq!(words("a bb [REDACTED:x:ffff] cc", 10), vec!["bb", "cc"]);
    }
}
