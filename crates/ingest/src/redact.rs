//! Redaction: every finding is replaced in place by `[REDACTED:<rule>:<fingerprint>]`, where the
//! fingerprint is a truncated HMAC-SHA-256 under a key derived per source and submitter from a
//! server-held key. JSON keeps its structure: strings change, and numbers under credential keys
//! become marker strings.

use crate::detect::{self, Detector};
use crate::keys::{self, KeyClass};
use crate::policy::AllowList;
use crate::values;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The rule ID reported for a whole JSON string value under a secret-naming key.
pub const JSON_FIELD_RULE: &str = "json-secret-field";

/// One redacted secret, described without the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule that found it.
    pub rule: String,
    /// Where: a JSON path such as `$.details.headers.authorization`, or `None` for plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Byte offset of the secret in the original string (the text, or the JSON string value).
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// Keyed fingerprint: the same secret always gets the same one under the same key.
    pub fingerprint: String,
    /// For tokens with a built-in checksum: whether it verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_valid: Option<bool>,
}

/// Redacts text and JSON with one detector; fingerprints are keyed per scope ([`Scope`]).
pub struct Redactor {
    detector: Detector,
    key: Zeroizing<[u8; 32]>,
    allow: AllowList,
}

impl std::fmt::Debug for Redactor {
    // The fingerprint key must not reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("rules", &self.detector.rules().len())
            .finish_non_exhaustive()
    }
}

/// Who a fingerprint is computed for. Fingerprints let a reader see that two markers hide the
/// same secret; they must not let anyone confirm a guess about a secret they did not submit.
/// So the key is derived per source *and* per submitting principal: a principal that submits a
/// guess gets a fingerprint under its own key, which never equals the marker of an entry that
/// another principal submitted (ARCHITECTURE.md, "Redaction fingerprints").
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// The source the entry is submitted to.
    pub source: &'a str,
    /// The authenticated principal that submits it (a stable token id), or `""` for the
    /// server's own entries.
    pub principal: &'a str,
}

/// Length of a fingerprint in bytes (16 hex digits): long enough that markers of different
/// secrets in one scope do not collide by chance.
pub const FINGERPRINT_BYTES: usize = 8;

/// A redactor bound to one scope's fingerprint key.
pub struct Scoped<'r> {
    redactor: &'r Redactor,
    key: Zeroizing<[u8; 32]>,
}

/// The members of a JSON Web Key (RFC 7517/7518) that hold private key material.
const JWK_PRIVATE: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

/// Whether an argument-vector element is a flag naming a credential (`--password`, `-token`),
/// so that the next element is its value. `--password=…` carries its value itself.
fn credential_flag(arg: &str) -> bool {
    arg.strip_prefix('-')
        .map(|a| a.trim_start_matches('-'))
        .is_some_and(|name| {
            !name.is_empty()
                && !name.contains('=')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
                && keys::classify(name) == KeyClass::Secret
        })
}

/// How deep JSON embedded in JSON strings is unwrapped.
const MAX_EMBED_DEPTH: u32 = 4;

/// Keys under a secret's key that hold the secret itself (`{"password": {"value": "…"}}`).
const VALUE_KEYS: &[&str] = &[
    "value",
    "data",
    "plaintext",
    "text",
    "current",
    "new",
    "old",
    "string",
    "raw",
    "secret",
];

impl Redactor {
    /// A redactor; `key` is the master key the scope keys derive from: secret and stable.
    pub fn new(detector: Detector, key: impl Into<Zeroizing<[u8; 32]>>, allow: AllowList) -> Self {
        Redactor {
            detector,
            key: key.into(),
            allow,
        }
    }

    /// The detector.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The redactor for one scope.
    pub fn scoped(&self, scope: Scope<'_>) -> Scoped<'_> {
        let mut mac = hmac(&*self.key);
        mac.update(b"glasslog redaction fingerprint v2\0");
        mac.update(scope.source.as_bytes());
        mac.update(b"\0");
        mac.update(scope.principal.as_bytes());
        Scoped {
            redactor: self,
            key: Zeroizing::new(mac.finalize().into_bytes().into()),
        }
    }

    /// The redactor under the master key itself, for `glasslog scan`, whose fingerprints are
    /// compared across runs of the same operator's key file and never stored.
    pub fn unscoped(&self) -> Scoped<'_> {
        Scoped {
            redactor: self,
            key: self.key.clone(),
        }
    }

    /// [`Scoped::redact_text`] under the master key.
    pub fn redact_text(
        &self,
        text: &str,
        path: Option<&str>,
        findings: &mut Vec<Finding>,
    ) -> Option<String> {
        self.unscoped().redact_text(text, path, findings)
    }

    /// [`Scoped::redact_json`] under the master key.
    pub fn redact_json(&self, value: &mut Value, findings: &mut Vec<Finding>) {
        self.unscoped().redact_json(value, findings);
    }
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

impl Scoped<'_> {
    /// Sixteen hex digits of HMAC-SHA-256(scope key, secret).
    pub fn fingerprint(&self, secret: &str) -> String {
        let mut mac = hmac(&*self.key);
        mac.update(secret.as_bytes());
        let tag = mac.finalize().into_bytes();
        tag.iter()
            .take(FINGERPRINT_BYTES)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn marker(&self, rule: &str, secret: &str) -> (String, String) {
        let fp = self.fingerprint(secret);
        (format!("[REDACTED:{rule}:{fp}]"), fp)
    }

    /// Finds and replaces secrets in `text`; `path` names where the text sits, for reports.
    pub fn redact_text(
        &self,
        text: &str,
        path: Option<&str>,
        findings: &mut Vec<Finding>,
    ) -> Option<String> {
        let detector = &self.redactor.detector;
        let matches = detector.scan(text);
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let mut changed = false;
        for m in matches {
            let rule = &detector.rules()[m.rule].id;
            let secret = &text[m.start..m.end];
            if self.redactor.allow.allows(rule, path, secret) {
                continue;
            }
            let (marker, fingerprint) = self.marker(rule, secret);
            out.push_str(&text[last..m.start]);
            out.push_str(&marker);
            last = m.end;
            changed = true;
            findings.push(Finding {
                rule: rule.clone(),
                path: path.map(str::to_owned),
                start: m.start,
                end: m.end,
                fingerprint,
                checksum_valid: m.checksum,
            });
        }
        if !changed {
            return None;
        }
        out.push_str(&text[last..]);
        Some(out)
    }

    /// Redacts every string in a JSON value, keys included, keeping the structure. A value
    /// under a key that names a credential is redacted whole: strings, numbers and arrays of
    /// them, nested anywhere; JSON embedded in a string is unwrapped and redacted inside.
    pub fn redact_json(&self, value: &mut Value, findings: &mut Vec<Finding>) {
        // One path buffer, extended and truncated as the walk descends: no allocation per node.
        let mut path = String::from("$");
        self.walk(value, &mut path, None, findings, 0);
    }

    /// Redacts a whole value under a credential key; returns whether it did.
    fn redact_field(&self, s: &mut String, path: &str, findings: &mut Vec<Finding>) -> bool {
        if self.redactor.allow.allows(JSON_FIELD_RULE, Some(path), s) {
            return false;
        }
        // The most specific rule that finds something inside names the marker.
        let detector = &self.redactor.detector;
        let inner = detector.scan(s);
        let (rule, checksum) = inner.first().map_or((JSON_FIELD_RULE, None), |m| {
            (detector.rules()[m.rule].id.as_str(), m.checksum)
        });
        let (marker, fingerprint) = self.marker(rule, s);
        findings.push(Finding {
            rule: rule.to_owned(),
            path: Some(path.to_owned()),
            start: 0,
            end: s.len(),
            fingerprint,
            checksum_valid: checksum,
        });
        *s = marker;
        true
    }

    fn walk(
        &self,
        value: &mut Value,
        path: &mut String,
        key: Option<KeyClass>,
        findings: &mut Vec<Finding>,
        depth: u32,
    ) {
        match value {
            Value::String(s) => {
                let whole = match key {
                    Some(KeyClass::Secret) => detect::credible(s),
                    Some(KeyClass::Weak) => detect::credible(s) && values::looks_random(s),
                    _ => false,
                };
                if whole && self.redact_field(s, path, findings) {
                    return;
                }
                if depth < MAX_EMBED_DEPTH
                    && let Some(new) = self.embedded_json(s, path, findings, depth)
                {
                    *s = new;
                } else if let Some(new) = self.redact_text(s, Some(path), findings) {
                    *s = new;
                }
            }
            Value::Number(n) => {
                if key == Some(KeyClass::Secret) {
                    let mut s = n.to_string();
                    if self.redact_field(&mut s, path, findings) {
                        *value = Value::String(s);
                    }
                }
            }
            Value::Array(items) => {
                let len = path.len();
                // An argument vector (`["psql", "--password", "…"]`): the element after a flag
                // that names a credential is its value.
                let mut flag_before = false;
                for (i, item) in items.iter_mut().enumerate() {
                    use std::fmt::Write as _;
                    let _ = write!(path, "[{i}]");
                    let class = if flag_before {
                        Some(KeyClass::Secret)
                    } else {
                        key
                    };
                    flag_before = item.as_str().is_some_and(credential_flag);
                    self.walk(item, path, class, findings, depth);
                    path.truncate(len);
                }
            }
            Value::Object(map) => {
                let len = path.len();
                let mut renames = Vec::new();
                // A JSON Web Key's private members have one-letter names.
                let jwk = map.contains_key("kty");
                // A name/value pair (`{"name": "DB_PASSWORD", "value": "…"}`, a change record
                // `{"key": "smtp.password", "old": …, "new": …}`): the name is the key.
                let pair_names_secret = [
                    "name",
                    "key",
                    "Name",
                    "Key",
                    "parameter",
                    "field",
                    "setting",
                ]
                .iter()
                .filter_map(|n| map.get(*n).and_then(Value::as_str))
                .any(|n| keys::classify(n) == KeyClass::Secret);
                for (k, v) in map.iter_mut() {
                    push_segment(path, k);
                    let key_len = path.len();
                    path.push_str("#key");
                    if let Some(new_key) = self.redact_text(k, Some(path), findings) {
                        renames.push((k.clone(), new_key));
                    }
                    path.truncate(key_len);
                    let mut class = keys::classify(k);
                    if jwk && JWK_PRIVATE.contains(&k.as_str()) {
                        class = KeyClass::Secret;
                    }
                    // `{"mailgun": "gRtZ…"}`: a random value under a service's name is its key.
                    if class == KeyClass::Plain && detect::names_service(k) {
                        class = KeyClass::Weak;
                    }
                    if class == KeyClass::Plain
                        && (key == Some(KeyClass::Secret) || pair_names_secret)
                        && VALUE_KEYS.contains(&k.to_ascii_lowercase().as_str())
                    {
                        class = KeyClass::Secret;
                    }
                    self.walk(v, path, Some(class), findings, depth);
                    path.truncate(len);
                }
                // Keys that held secrets are rare; renaming them afterwards keeps the walk simple.
                for (old, new) in renames {
                    if let Some(v) = map.remove(&old) {
                        map.insert(new, v);
                    }
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// A string that is itself a JSON object or array: redacted as JSON, re-serialized.
    fn embedded_json(
        &self,
        s: &str,
        path: &mut String,
        findings: &mut Vec<Finding>,
        depth: u32,
    ) -> Option<String> {
        let t = s.trim();
        if !(t.starts_with('{') && t.ends_with('}') || t.starts_with('[') && t.ends_with(']')) {
            return None;
        }
        let mut inner: Value = serde_json::from_str(t).ok()?;
        let before = findings.len();
        let len = path.len();
        path.push_str("#json");
        self.walk(&mut inner, path, None, findings, depth + 1);
        path.truncate(len);
        if findings.len() == before {
            // Nothing inside; the text pass still runs on the string as it is.
            return None;
        }
        serde_json::to_string(&inner).ok()
    }
}

/// Appends a JSON path segment: `.key` when the key is a plain identifier, else `["key"]`.
fn push_segment(path: &mut String, key: &str) {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        path.push('.');
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&serde_json::Value::String(key.to_owned()).to_string());
        path.push(']');
    }
}
