//! The checks a match must pass besides its regex: checksums, Luhn, JWT structure, entropy and
//! the placeholder and key-name heuristics of the generic rules.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The six-character base62 CRC32 that GitHub and npm append to their tokens.
pub fn base62_crc32(data: &str) -> String {
    let mut n = crc32fast::hash(data.as_bytes());
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|b| char::from(*b)).collect()
}

/// Whether a GitHub/npm style token's last six characters are the CRC32 of the random part.
pub fn token_checksum_ok(token: &str) -> bool {
    let body = token.rsplit('_').next().unwrap_or(token);
    if body.len() < 7 || !body.is_ascii() {
        return false;
    }
    let (random, check) = body.split_at(body.len() - 6);
    base62_crc32(random) == check
}

/// The Luhn check over the digits of `s`, plus a known card-issuer prefix and length.
pub fn luhn_card(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let prefix2 = digits[0] * 10 + digits[1];
    let prefix4 = prefix2 * 100 + digits[2] * 10 + digits[3];
    let issuer = digits[0] == 4                      // Visa
        || (51..=55).contains(&prefix2)              // Mastercard
        || (2221..=2720).contains(&prefix4)          // Mastercard 2-series
        || prefix2 == 34 || prefix2 == 37            // American Express
        || prefix4 == 6011 || prefix2 == 65          // Discover
        || (3528..=3589).contains(&prefix4)          // JCB
        || prefix2 == 36 || prefix2 == 38; // Diners
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                if *d * 2 > 9 { *d * 2 - 9 } else { *d * 2 }
            } else {
                *d
            }
        })
        .sum();
    issuer && sum.is_multiple_of(10)
}

/// Whether a JWT's header segment is base64url JSON naming an algorithm.
pub fn jwt_header_ok(token: &str) -> bool {
    let Some(header) = token.split('.').next() else {
        return false;
    };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .is_ok_and(|v| v.get("alg").is_some_and(serde_json::Value::is_string))
}

/// A US SSN that is not in a never-issued range.
pub fn ssn_ok(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [area, group, serial] = parts.as_slice() else {
        return false;
    };
    *area != "000"
        && *area != "666"
        && !area.starts_with('9')
        && *group != "00"
        && *serial != "0000"
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| f64::from(*c) / n)
        .map(|p| -p * p.log2())
        .sum()
}

/// Values that stand in for a secret rather than being one.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim_matches(|c| c == '"' || c == '\'');
    let lower = v.to_ascii_lowercase();
    v.is_empty()
        || v.chars()
            .all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '#' | '-' | '?' | '•'))
        || (v.starts_with("${") || v.starts_with("$(") || v.starts_with('$'))
        || (v.starts_with("{{") && v.ends_with("}}"))
        || (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with('[') && v.ends_with(']'))
        || v.starts_with("%s")
        || v.starts_with("[REDACTED")
        || matches!(
            lower.as_str(),
            "null"
                | "none"
                | "nil"
                | "undefined"
                | "true"
                | "false"
                | "redacted"
                | "hidden"
                | "masked"
                | "filtered"
                | "removed"
                | "empty"
                | "required"
                | "optional"
                | "n/a"
                | "na"
                | "unset"
                | "changeit_placeholder"
                | "(none)"
                | "<none>"
                | "notset"
        )
}

/// Key-name endings that describe a secret without being one.
const METADATA_SUFFIXES: &[&str] = &[
    "_id",
    "-id",
    "_ids",
    "_type",
    "-type",
    "_count",
    "_name",
    "-name",
    "_url",
    "_uri",
    "_endpoint",
    "_path",
    "_file",
    "-file",
    "_expires",
    "_expiry",
    "_expiration",
    "_ttl",
    "-ttl",
    "_length",
    "_len",
    "_at",
    "_time",
    "_version",
    "_hint",
    "_prefix",
    "_header",
    "_format",
    "_algorithm",
    "_alg",
    "_method",
    "_scope",
    "_scopes",
    "_usage",
    "_limit",
    "_mode",
    "_policy",
    "_required",
    "_enabled",
    "_set",
    "_changed",
    "_reset",
    "_min",
    "_max",
    "_strength",
    "_rules",
    "_age",
    "_status",
    "_source",
    "_provider",
    "_kind",
    "_field",
    "_env",
    "_ref",
    "_location",
    "_index",
    "_size",
    "_bits",
    "_updated",
    "_created",
    "_rotation",
    "_rotated",
    "_valid",
    "_invalid",
    "_error",
    "_errors",
    "_used",
    "_remaining",
    "_label",
    "_description",
    "_store",
    "_manager",
];

/// Key-name fragments that are not about credentials at all, though they contain a keyword.
const NON_SECRET_KEYS: &[&str] = &[
    "author",
    "authenticat",
    "authority",
    "authoriz",
    "page_token",
    "pagetoken",
    "next_token",
    "nexttoken",
    "continuation",
    "cursor",
    "max_token",
    "tokens",
    "token_count",
    "tokenizer",
    "bypass",
    "passenger",
    "compass",
    "passage",
    "passive",
    "passthrough",
    "pass_through",
    "keyword",
    "keyboard",
    "keyspace",
    "monkey",
    "turnkey",
    "hotkey",
    "keycode",
    "key_id",
    "passport",
    "secretary",
    "secretariat",
];

/// Whether `key` names a secret rather than metadata about one.
pub fn secret_key_name(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let k = k.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    !METADATA_SUFFIXES.iter().any(|s| k.ends_with(s))
        && !NON_SECRET_KEYS.iter().any(|s| k.contains(s))
}

/// Whether `key` says "password" (any value under it is a secret, however simple).
pub fn password_key_name(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "passwd", "passphrase", "pwd"]
        .iter()
        .any(|p| k.contains(p))
        || k == "pass"
}

/// Whether a value under a non-password secret key looks random enough to be a credential.
pub fn looks_random(value: &str) -> bool {
    let has_digit = value.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = value.bytes().any(|b| b.is_ascii_alphabetic());
    let has_upper = value.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = value.bytes().any(|b| b.is_ascii_lowercase());
    value.len() >= 8
        && has_alpha
        && (has_digit || (has_upper && has_lower))
        && entropy(value) >= 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_round_trip() {
        let random = "R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0j";
        let token = format!("ghp_{random}{}", base62_crc32(random));
        assert!(token_checksum_ok(&token));
        assert!(!token_checksum_ok(
            "ghp_R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0jG8sE2u"
        ));
    }

    #[test]
    fn luhn_and_issuers() {
        assert!(luhn_card("4111111111111111"));
        assert!(luhn_card("5500 0000 0000 0004"));
        assert!(luhn_card("3400-000000-00009"));
        assert!(!luhn_card("4111111111111112"));
        assert!(!luhn_card("1234567812345670"), "Luhn-valid but no issuer");
    }

    #[test]
    fn heuristics() {
        assert!(
            is_placeholder("********") && is_placeholder("${DB_PASS}") && is_placeholder("<token>")
        );
        assert!(!is_placeholder("hunter2"));
        assert!(
            secret_key_name("api_key")
                && !secret_key_name("token_type")
                && !secret_key_name("author")
        );
        assert!(
            looks_random("Zq3t8Kd9vB2mX7nL0pR4")
                && !looks_random("Bearer")
                && !looks_random("production")
        );
        assert!(entropy("aaaa") < 0.01 && entropy("abcd") > 1.99);
    }
}
