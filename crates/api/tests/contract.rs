//! The router's routes and `api/openapi.yaml`'s paths are the same set.
#![allow(clippy::unwrap_used, missing_docs, reason = "test")]

use std::collections::BTreeSet;

#[test]
fn router_and_openapi_spec_list_the_same_routes() {
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../api/openapi.yaml"
    ))
    .unwrap();
    let from_router: BTreeSet<(String, String)> = glasslog_api::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(from_router, glasslog_api::openapi_routes(&spec));
    assert_eq!(from_router.len(), 34);
}

#[test]
fn the_example_config_parses_and_states_the_embedded_defaults() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../glasslog.example.toml"
    ))
    .unwrap();
    let config = glasslog_api::ServerConfig::from_toml(&text).unwrap();
    assert_eq!(config.breakglass, glasslog_breakglass::Policy::default());
    config.breakglass.validate().unwrap();
}

#[test]
fn the_example_encryption_and_retention_blocks_parse_uncommented() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../glasslog.example.toml"
    ))
    .unwrap();
    // The commented blocks, uncommented: what an operator gets by removing the "# ".
    let block: String = text
        .lines()
        .skip_while(|l| *l != "# [encryption]")
        .filter_map(|l| l.strip_prefix("# "))
        // Settings and tables, not the prose around them.
        .filter(|l| l.starts_with('[') || l.split_whitespace().nth(1) == Some("="))
        .filter(|l| !l.contains("master_key_env"))
        .map(|l| format!("{l}\n"))
        .collect();
    let config = glasslog_api::ServerConfig::from_toml(&block).unwrap();
    let e = config.encryption.unwrap();
    assert_eq!(e.epoch_days, 7);
    assert_eq!(e.subject, glasslog_api::config::SubjectScope::Actor);
    assert_eq!(config.retention.sources["billing"], 400);
    assert_eq!(config.retention.default_days, Some(730));
}

#[test]
fn the_deployment_config_parses() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/glasslog.toml"
    ))
    .unwrap();
    let config = glasslog_api::ServerConfig::from_toml(&text).unwrap();
    assert_eq!(config.witness_quorum, 1);
    assert!(config.witnesses[0].vkey_file.is_some());
}

#[test]
fn the_contract_names_every_break_glass_alert_rule() {
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../api/openapi.yaml"
    ))
    .unwrap();
    let line = spec
        .lines()
        .find(|l| l.trim_start().starts_with("rule: {type: string, enum: ["))
        .unwrap();
    let listed: BTreeSet<&str> = line
        .split_once('[')
        .and_then(|(_, r)| r.split_once(']'))
        .unwrap()
        .0
        .split(", ")
        .collect();
    let rules: BTreeSet<&str> = glasslog_breakglass::rules::RULES.iter().copied().collect();
    assert_eq!(listed, rules);
}
