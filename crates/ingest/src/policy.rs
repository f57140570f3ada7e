//! Policy: what to do with findings per source (redact, reject, allow), custom rules, and
//! allow-lists, read from TOML.

use crate::detect::{CustomRule, DetectError, Detector, DetectorOptions};
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;

/// What happens to a submission with findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Replace each secret with a marker and store the result (the default).
    #[default]
    Redact,
    /// Refuse the submission, report the findings, store nothing.
    Reject,
    /// Store as submitted, without scanning. For sources that never carry secrets by contract.
    Allow,
}

/// The `[detection]` table.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionConfig {
    /// Also run the personal-data rules.
    #[serde(default)]
    pub pii: bool,
    /// Built-in rule IDs to turn off.
    #[serde(default)]
    pub disabled_rules: Vec<String>,
    /// Extra rules.
    #[serde(default)]
    pub custom_rules: Vec<CustomRule>,
}

/// One `[[allow]]` entry: a finding is let through when every field given matches it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowConfig {
    /// A rule ID.
    pub rule: Option<String>,
    /// A JSON path; a trailing `*` matches any path with that prefix.
    pub path: Option<String>,
    /// The exact secret value (for known test credentials).
    pub literal: Option<String>,
    /// A regex the whole secret value must match.
    pub pattern: Option<String>,
}

/// One source's settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The mode for this source.
    #[serde(default)]
    pub mode: Mode,
}

/// The policy file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Mode for sources not listed.
    #[serde(default)]
    pub default_mode: Mode,
    /// Rule selection.
    #[serde(default)]
    pub detection: DetectionConfig,
    /// Allow-list entries.
    #[serde(default)]
    pub allow: Vec<AllowConfig>,
    /// Per-source settings, by source name.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Not valid TOML, or unknown keys.
    #[error("policy file: {0}")]
    Toml(String),
    /// A rule is invalid.
    #[error(transparent)]
    Detect(#[from] DetectError),
    /// An allow-list pattern does not compile.
    #[error("allow-list pattern {pattern:?}: {reason}")]
    AllowPattern {
        /// The pattern.
        pattern: String,
        /// The cause.
        reason: String,
    },
}

struct AllowEntry {
    rule: Option<String>,
    path: Option<String>,
    literal: Option<String>,
    pattern: Option<Regex>,
}

/// Compiled allow-list.
#[derive(Default)]
pub struct AllowList {
    entries: Vec<AllowEntry>,
}

impl AllowList {
    /// Compiles `[[allow]]` entries.
    pub fn new(configs: &[AllowConfig]) -> Result<Self, PolicyError> {
        let entries = configs
            .iter()
            .map(|c| {
                let pattern = c
                    .pattern
                    .as_ref()
                    .map(|p| {
                        Regex::new(&format!("^(?:{p})$")).map_err(|e| PolicyError::AllowPattern {
                            pattern: p.clone(),
                            reason: e.to_string(),
                        })
                    })
                    .transpose()?;
                Ok(AllowEntry {
                    rule: c.rule.clone(),
                    path: c.path.clone(),
                    literal: c.literal.clone(),
                    pattern,
                })
            })
            .collect::<Result<_, PolicyError>>()?;
        Ok(AllowList { entries })
    }

    /// Whether a finding is allowed through.
    pub fn allows(&self, rule: &str, path: Option<&str>, secret: &str) -> bool {
        self.entries.iter().any(|e| {
            e.rule.as_deref().is_none_or(|r| r == rule)
                && e.path
                    .as_deref()
                    .is_none_or(|p| match (p.strip_suffix('*'), path) {
                        (Some(prefix), Some(path)) => path.starts_with(prefix),
                        (None, Some(path)) => path == p,
                        (_, None) => false,
                    })
                && e.literal.as_deref().is_none_or(|l| l == secret)
                && e.pattern.as_ref().is_none_or(|re| re.is_match(secret))
        })
    }
}

impl PolicyConfig {
    /// Parses a policy file.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        toml::from_str(text).map_err(|e| PolicyError::Toml(e.to_string()))
    }

    /// The mode for a source.
    pub fn mode(&self, source: &str) -> Mode {
        self.sources
            .get(source)
            .map_or(self.default_mode, |s| s.mode)
    }

    /// The detector this policy asks for.
    pub fn detector(&self) -> Result<Detector, PolicyError> {
        Ok(Detector::new(&DetectorOptions {
            include_pii: self.detection.pii,
            disabled: self.detection.disabled_rules.clone(),
            custom: self.detection.custom_rules.clone(),
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_policy_and_refuses_unknown_keys() {
        let p = PolicyConfig::from_toml(
            r#"
            default_mode = "redact"
            [detection]
            pii = true
            disabled_rules = ["jwt"]
            [[detection.custom_rules]]
            id = "acme-token"
            pattern = "acme_[a-z0-9]{32}"
            keywords = ["acme_"]
            [[allow]]
            rule = "aws-access-key-id"
            literal = "AKIAIOSFODNN7EXAMPLE"
            [[allow]]
            path = "$.details.fixtures*"
            [sources.billing]
            mode = "reject"
            [sources.healthcheck]
            mode = "allow"
            "#,
        )
        .unwrap();
        assert_eq!(p.mode("billing"), Mode::Reject);
        assert_eq!(p.mode("other"), Mode::Redact);
        assert!(
            p.detector()
                .unwrap()
                .rules()
                .iter()
                .any(|r| r.id == "acme-token")
        );
        let allow = AllowList::new(&p.allow).unwrap();
        assert!(allow.allows("aws-access-key-id", None, "AKIAIOSFODNN7EXAMPLE"));
        assert!(!allow.allows("aws-access-key-id", None, "AKIAZ7VRSQ5TQDL3XWMB"));
        assert!(allow.allows("jwt", Some("$.details.fixtures[0]"), "x"));
        assert!(!allow.allows("jwt", Some("$.details.other"), "x"));
        assert!(PolicyConfig::from_toml("surprise = 1").is_err());
        assert!(
            PolicyConfig::from_toml("[[allow]]\npattern = \"(\"")
                .map(|p| AllowList::new(&p.allow))
                .unwrap()
                .is_err()
        );
    }
}
