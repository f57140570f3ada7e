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
    push_words(&without_markers(text), max, &mut out);
    out
}

fn push_words(text: &str, max: usize, out: &mut Vec<String>) {
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        if out.len() >= max {
            return;
        }
        let n = w.chars().count();
        if !WORD_CHARS.contains(&n) {
            continue;
        }
        let w = w.to_lowercase();
        if !out.contains(&w) {
            out.push(w);
        }
    }
}

/// `text` with every `[REDACTED:<rule>:<fingerprint>]` marker replaced by a space.
fn without_markers(text: &str) -> String {
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
    out
}

/// The rules named by the redaction markers in `text`.
fn marker_rules<'a>(text: &'a str, out: &mut Vec<&'a str>) {
    let mut rest = text;
    while let Some(at) = rest.find("[REDACTED:") {
        rest = &rest[at + "[REDACTED:".len()..];
        if let Some(rule) = rest.split(':').next() {
            let ok = !rule.is_empty()
                && rule.len() <= 64
                && rule
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
            if ok && !out.contains(&rule) {
                out.push(rule);
            }
        }
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Every search term of a stored entry, without duplicates. Bytes that are not a stored
/// entry have none.
pub fn terms(stored: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<Value>(stored) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut add = |t: String| {
        if !out.contains(&t) {
            out.push(t);
        }
    };
    if let Some(s) = str_at(&v, &["source"]) {
        add(term(Field::Source, s));
    }
    let mut text_fields: Vec<&str> = Vec::new();
    let mut rules = Vec::new();
    // Rules are read from the whole stored entry: markers sit wherever a secret was.
    let raw = String::from_utf8_lossy(stored);
    marker_rules(&raw, &mut rules);
    if let Some(ev) = v.get("event") {
        let actor =
            str_at(ev, &["actor", "user", "name"]).or_else(|| str_at(ev, &["user", "name"]));
        let action = str_at(ev, &["api", "operation"]).or_else(|| str_at(ev, &["activity_name"]));
        if let Some(a) = actor {
            add(term(Field::Actor, a));
            text_fields.push(a);
        }
        if let Some(a) = action {
            add(term(Field::Action, a));
            text_fields.push(a);
        }
        let outcome = match (
            str_at(ev, &["status"]),
            ev.get("status_id").and_then(Value::as_u64),
        ) {
            (Some(s), _) => Some(s.to_owned()),
            (None, Some(1)) => Some("success".to_owned()),
            (None, Some(2)) => Some("failure".to_owned()),
            (None, Some(_)) => Some("unknown".to_owned()),
            (None, None) => None,
        };
        if let Some(o) = outcome {
            add(term(Field::Outcome, &o));
        }
        if let Some(rs) = ev.get("resources").and_then(Value::as_array) {
            for r in rs.iter().take(MAX_RESOURCES) {
                if let Some(n) = str_at(r, &["name"]) {
                    add(term(Field::Resource, n));
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
            if let Some(t) = str_at(ev, path) {
                text_fields.push(t);
            }
        }
    } else if let Some(t) = str_at(&v, &["text"]) {
        text_fields.push(t);
    }
    for r in rules {
        add(term(Field::Rule, r));
    }
    let mut ws = Vec::new();
    for t in text_fields {
        push_words(&without_markers(t), MAX_WORDS, &mut ws);
    }
    for w in ws {
        add(term(Field::Word, &w));
    }
    out
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
