//! Redaction: every finding is replaced in place by `[REDACTED:<rule>:<fingerprint>]`, where the
//! fingerprint is a truncated HMAC-SHA-256 under a server-held key. JSON keeps its structure:
//! only string contents change.

use crate::detect::{Detector, secret_value};
use crate::policy::AllowList;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;

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

/// Redacts text and JSON with one detector and one fingerprint key.
pub struct Redactor {
    detector: Detector,
    key: [u8; 32],
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

impl Redactor {
    /// A redactor; `key` keys the fingerprints and must stay secret and stable.
    pub fn new(detector: Detector, key: [u8; 32], allow: AllowList) -> Self {
        Redactor {
            detector,
            key,
            allow,
        }
    }

    /// The detector.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Eight hex digits of HMAC-SHA-256(key, secret).
    pub fn fingerprint(&self, secret: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(secret.as_bytes());
        let tag = mac.finalize().into_bytes();
        tag.iter().take(4).map(|b| format!("{b:02x}")).collect()
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
        let matches = self.detector.scan(text);
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let mut changed = false;
        for m in matches {
            let rule = &self.detector.rules()[m.rule].id;
            let secret = &text[m.start..m.end];
            if self.allow.allows(rule, path, secret) {
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

    /// Redacts every string in a JSON value, keys included, keeping the structure. A string
    /// under a key that names a secret is redacted whole when it passes the generic test.
    pub fn redact_json(&self, value: &mut Value, findings: &mut Vec<Finding>) {
        // One path buffer, extended and truncated as the walk descends: no allocation per node.
        let mut path = String::from("$");
        self.walk(value, &mut path, None, findings);
    }

    fn walk(
        &self,
        value: &mut Value,
        path: &mut String,
        key: Option<&str>,
        findings: &mut Vec<Finding>,
    ) {
        match value {
            Value::String(s) => {
                if let Some(k) = key
                    && secret_value(k, s)
                    && json_secret_key(k)
                    && !self.allow.allows(JSON_FIELD_RULE, Some(path), s)
                {
                    let (marker, fingerprint) = self.marker(JSON_FIELD_RULE, s);
                    findings.push(Finding {
                        rule: JSON_FIELD_RULE.to_owned(),
                        path: Some(path.clone()),
                        start: 0,
                        end: s.len(),
                        fingerprint,
                        checksum_valid: None,
                    });
                    *s = marker;
                } else if let Some(new) = self.redact_text(s, Some(path), findings) {
                    *s = new;
                }
            }
            Value::Array(items) => {
                let len = path.len();
                for (i, item) in items.iter_mut().enumerate() {
                    use std::fmt::Write as _;
                    let _ = write!(path, "[{i}]");
                    self.walk(item, path, key, findings);
                    path.truncate(len);
                }
            }
            Value::Object(map) => {
                let len = path.len();
                let mut renames = Vec::new();
                for (k, v) in map.iter_mut() {
                    push_segment(path, k);
                    let key_len = path.len();
                    path.push_str("#key");
                    if let Some(new_key) = self.redact_text(k, Some(path), findings) {
                        renames.push((k.clone(), new_key));
                    }
                    path.truncate(key_len);
                    self.walk(v, path, Some(k), findings);
                    path.truncate(len);
                }
                // Keys that held secrets are rare; renaming them afterwards keeps the walk simple.
                for (old, new) in renames {
                    if let Some(v) = map.remove(&old) {
                        map.insert(new, v);
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// Whether a JSON key names a credential.
fn json_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "access_key",
        "accesskey",
        "private_key",
        "privatekey",
        "credential",
        "session_key",
        "signing_key",
        "encryption_key",
        "auth_key",
    ]
    .iter()
    .any(|w| k.contains(w))
        || k == "pass"
        || k == "auth"
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
