//! `GET /v1/search` against the real binary: every field, paging by cursor, time ranges, and
//! bad queries, checked against a scan of every entry read back through `GET /v1/entries`.

use crate::Server;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Every page of a search, following `next` to the end.
fn all_matches(s: &Server, token: &str, query: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut before: Option<u64> = None;
    loop {
        let cursor = before.map(|b| format!("&before={b}")).unwrap_or_default();
        let r = s.get(&format!("/v1/search?{query}&limit=7{cursor}"), Some(token));
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        let v = r.json();
        let page: Vec<u64> = v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["index"].as_u64().unwrap())
            .collect();
        assert!(page.len() <= 7);
        out.extend(page);
        match v["next"].as_u64() {
            Some(n) => {
                assert!(before.is_none_or(|b| n < b), "the cursor moves down");
                before = Some(n);
            }
            None => return out,
        }
    }
}

/// What the test expects, read straight off the stored JSON (not through the index).
fn scan(entries: &[Value], pred: impl Fn(&Value) -> bool) -> Vec<u64> {
    let mut out: Vec<u64> = entries
        .iter()
        .filter(|e| pred(&e["entry"]))
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    out.reverse();
    out
}

/// What a query should match, as a test of a stored entry.
type Pred<'a> = Box<dyn Fn(&Value) -> bool + 'a>;

fn lower(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_lowercase()
}

#[test]
fn search_finds_what_a_scan_finds_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let auditor = s.token("auditor", "audit");
    let actors = ["alice", "Bob", "carol"];
    let actions = ["db.export", "login", "deploy"];
    let outcomes = ["success", "failure"];
    let mut items = Vec::new();
    for i in 0..120u64 {
        let i_us = usize::try_from(i).unwrap();
        let mut e = json!({
            "actor": actors[i_us % 3],
            "action": actions[(i_us / 3) % 3],
            "resource": format!("db-{}", i % 5),
            "outcome": outcomes[i_us % 2],
            "reason": format!("ticket INC-{}00 quarterly review", i % 4),
        });
        if i % 10 == 0 {
            e["details"] = json!({"password": "Sup3rS3cret-value!"});
        }
        items.push(e);
    }
    items.push(json!(
        "plain text entry: rotated the signing key for deploy"
    ));
    let r = s.post_json("/v1/entries/batch", Some(&s.admin), &Value::Array(items));
    assert_eq!(r.status, 200, "{}", r.text());
    let size = s.get("/v1/log", None).json()["tree_size"].as_u64().unwrap();
    let entries: Vec<Value> = (0..size)
        .step_by(100)
        .flat_map(|start| {
            let end = (start + 100).min(size);
            let r = s.get(
                &format!("/v1/entries?start={start}&end={end}"),
                Some(&auditor),
            );
            r.json()["entries"].as_array().unwrap().clone()
        })
        .collect();
    assert_eq!(entries.len() as u64, size);

    let actor = |e: &Value| lower(&e["event"]["actor"]["user"]["name"]);
    // The source and the redaction rule the server used, read off what it stored.
    let src = entries.last().unwrap()["entry"]["source"]
        .as_str()
        .unwrap()
        .to_owned();
    let source_query = format!("source={src}");
    let rule = entries
        .iter()
        .find_map(|e| {
            let stored = e["entry"].to_string();
            let rule = stored
                .split("[REDACTED:")
                .nth(1)?
                .split(':')
                .next()?
                .to_owned();
            Some(rule)
        })
        .expect("the passwords are redacted");
    let rule_query = format!("rule={rule}");
    let marker = format!("[REDACTED:{rule}:");
    let cases: Vec<(&str, Pred<'_>)> = vec![
        ("actor=ALICE", Box::new(|e| actor(e) == "alice")),
        (
            "actor=bob&outcome=failure",
            Box::new(|e| actor(e) == "bob" && lower(&e["event"]["status"]) == "failure"),
        ),
        (
            "action=db.export&resource=DB-3",
            Box::new(|e| {
                lower(&e["event"]["api"]["operation"]) == "db.export"
                    && lower(&e["event"]["resources"][0]["name"]) == "db-3"
            }),
        ),
        (
            &source_query,
            Box::new(move |e| e["source"] == src.as_str()),
        ),
        (
            &rule_query,
            Box::new(move |e| e.to_string().contains(&marker)),
        ),
        (
            "q=inc-200%20QUARTERLY",
            Box::new(|e| lower(&e["event"]["message"]).contains("inc-200 quarterly")),
        ),
        (
            "q=signing",
            Box::new(|e| lower(&e["text"]).contains("signing")),
        ),
        (
            "q=deploy",
            Box::new(|e| {
                lower(&e["event"]["api"]["operation"]) == "deploy"
                    || lower(&e["text"]).contains("deploy")
            }),
        ),
        ("actor=nobody", Box::new(|_| false)),
        ("q=sup3rs3cret", Box::new(|_| false)),
    ];
    for (query, pred) in &cases {
        let want = scan(&entries, pred);
        let expect_none = query.contains("nobody") || query.contains("sup3r");
        assert_eq!(want.is_empty(), expect_none, "{query} tests nothing");
        assert_eq!(all_matches(&s, &auditor, query), want, "{query}");
    }
    // Something was actually tested: the rule's query found the redacted events.
    assert_eq!(scan(&entries, &cases[4].1).len(), 12);

    // Received time: a range around the batch finds it all, one after it finds nothing.
    let received: BTreeSet<u64> = entries
        .iter()
        .map(|e| e["entry"]["received"].as_u64().unwrap())
        .collect();
    let (first, last) = (*received.first().unwrap(), *received.last().unwrap());
    let all = all_matches(&s, &auditor, &format!("since={first}&until={last}"));
    assert_eq!(all.len() as u64, size);
    assert!(all_matches(&s, &auditor, &format!("since={}", last + 1)).is_empty());
    assert_eq!(
        all_matches(&s, &auditor, &format!("actor=carol&until={last}")),
        scan(&entries, |e| actor(e) == "carol")
    );

    // Roles and bad queries: a clear 4xx, never a 5xx.
    let reader = s.token("reader", "monitor");
    assert_eq!(s.get("/v1/search?actor=alice", Some(&reader)).status, 403);
    assert_eq!(s.get("/v1/search?actor=alice", None).status, 401);
    for bad in [
        "/v1/search?nope=1",
        "/v1/search?limit=0",
        "/v1/search?limit=101",
        "/v1/search?since=5&until=4",
        "/v1/search?before=-1",
        "/v1/search?q=%21%21",
        "/v1/search?q=a%20b%20c%20d%20e%20f%20g%20h%20i%20j",
        "/v1/search?actor=%ZZ",
    ] {
        let r = s.get(bad, Some(&auditor));
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert_eq!(r.content_type, "application/problem+json", "{bad}");
    }
}
