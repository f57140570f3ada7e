//! Query strings of the API's routes: percent-decoding, known keys only, integers below 2^64.
//! Self-contained (std only) so that the fuzz crate can include this file and fuzz it without
//! building the server.

use std::collections::HashMap;

/// Parses `raw` into a map, refusing malformed encoding, repeated keys and keys not in
/// `allowed` (the unknown name is not echoed: it could be anything, a credential included).
pub fn parse(raw: &str, allowed: &[&str]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k)?;
        if !allowed.contains(&k.as_str()) {
            return Err(format!(
                "unknown query parameter; expected one of {allowed:?}"
            ));
        }
        if out.insert(k.clone(), percent_decode(v)?).is_some() {
            return Err(format!("query parameter `{k}` is repeated"));
        }
    }
    Ok(out)
}

/// `application/x-www-form-urlencoded` decoding into UTF-8.
pub fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let byte = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("malformed percent-encoding in the query")?;
                out.push(byte);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "the query is not UTF-8".to_owned())
}

/// The value of `key` as an integer, if present.
pub fn number(q: &HashMap<String, String>, key: &str) -> Result<Option<u64>, String> {
    q.get(key)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| format!("`{key}` must be a non-negative integer below 2^64"))
        })
        .transpose()
}
