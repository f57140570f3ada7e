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
    let mut in_paths = false;
    let mut path = String::new();
    let mut from_spec = BTreeSet::new();
    for line in spec.lines() {
        if line == "paths:" {
            in_paths = true;
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            path = format!("/{p}");
        } else if let Some(m) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
            && ["get", "post", "put", "delete", "patch"].contains(&m)
        {
            from_spec.insert((m.to_owned(), path.clone()));
        }
    }
    let from_router: BTreeSet<(String, String)> = glasslog_api::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(from_router, from_spec);
}
