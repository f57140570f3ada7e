//! The checks a provider's token must pass besides its regex: checksums, Luhn, JWT structure
//! and SSN ranges. Key names are judged in [`crate::keys`], values in [`crate::values`].

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

/// Whether `b64` is HTTP Basic credentials: standard base64 of printable `user:password`,
/// both parts non-empty.
pub fn basic_credentials(b64: &str) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return false;
    };
    !text.chars().any(char::is_control)
        && text
            .split_once(':')
            .is_some_and(|(user, password)| !user.is_empty() && !password.is_empty())
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
}
