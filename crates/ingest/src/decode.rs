//! Wrappers a secret hides in: percent-encoding, JSON string escapes (`\"`, `\n`, `\u0041`,
//! which also cover `\n`-escaped PEM and JSON embedded in strings), HTML entities, ANSI colour
//! codes and base64 (Basic auth,
//! docker `auth`, Kubernetes `data:`). Each decoder keeps a map from every decoded byte back to
//! the encoded bytes it came from, so a finding in the decoded text redacts exactly the encoded
//! bytes that carry it. Decoders take untrusted input and never panic (fuzzed in `fuzz/`).

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};

/// A decoded text and, for each of its bytes, the encoded span it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The decoded text.
    pub text: String,
    /// `starts[i]` is where in the encoded text decoded byte `i` begins.
    starts: Vec<usize>,
    /// `ends[i]` is one past where in the encoded text decoded byte `i` ends.
    ends: Vec<usize>,
}

impl Decoded {
    /// The encoded span that carries decoded bytes `start..end` (`start < end`).
    pub fn source_span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if start >= end {
            return None;
        }
        Some((*self.starts.get(start)?, *self.ends.get(end - 1)?))
    }
}

struct Builder {
    bytes: Vec<u8>,
    starts: Vec<usize>,
    ends: Vec<usize>,
}

impl Builder {
    fn with_capacity(n: usize) -> Self {
        Builder {
            bytes: Vec::with_capacity(n),
            starts: Vec::with_capacity(n),
            ends: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, bytes: &[u8], start: usize, end: usize) {
        for b in bytes {
            self.bytes.push(*b);
            self.starts.push(start);
            self.ends.push(end);
        }
    }

    fn finish(self) -> Option<Decoded> {
        let text = String::from_utf8(self.bytes).ok()?;
        Some(Decoded {
            text,
            starts: self.starts,
            ends: self.ends,
        })
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `s` when it has at least one `%XX` escape and decodes to UTF-8.
pub fn percent(s: &str) -> Option<Decoded> {
    let b = s.as_bytes();
    let mut out = Builder::with_capacity(b.len());
    let mut i = 0;
    let mut any = false;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(&[h << 4 | l], i, i + 3);
            i += 3;
            any = true;
        } else {
            out.push(&b[i..=i], i, i + 1);
            i += 1;
        }
    }
    if !any {
        return None;
    }
    out.finish()
}

/// Undoes JSON string escapes in `s` when it has any (`\n`, `\"`, `\\`, `\/`, `\uXXXX` with
/// surrogate pairs); an escape it does not know is kept as it is.
pub fn json_escapes(s: &str) -> Option<Decoded> {
    let b = s.as_bytes();
    let mut out = Builder::with_capacity(b.len());
    let mut i = 0;
    let mut any = false;
    let hex4 = |at: usize| -> Option<u32> {
        let mut v = 0u32;
        for k in 0..4 {
            v = v << 4 | u32::from(hex(*b.get(at + k)?)?);
        }
        Some(v)
    };
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(&b[i..=i], i, i + 1);
            i += 1;
            continue;
        }
        let simple = match b[i + 1] {
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'\'' => Some(b'\''),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(&[c], i, i + 2);
            i += 2;
            any = true;
            continue;
        }
        if b[i + 1] == b'u'
            && let Some(u) = hex4(i + 2)
        {
            let (c, len) = if (0xd800..0xdc00).contains(&u)
                && b.get(i + 6) == Some(&b'\\')
                && b.get(i + 7) == Some(&b'u')
                && let Some(lo) = hex4(i + 8).filter(|lo| (0xdc00..0xe000).contains(lo))
            {
                (
                    char::from_u32(0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00)),
                    12,
                )
            } else {
                (char::from_u32(u), 6)
            };
            if let Some(c) = c {
                let mut buf = [0u8; 4];
                out.push(c.encode_utf8(&mut buf).as_bytes(), i, i + len);
                i += len;
                any = true;
                continue;
            }
        }
        out.push(&b[i..=i], i, i + 1);
        i += 1;
    }
    if !any {
        return None;
    }
    out.finish()
}

/// Decodes the HTML entities a template engine writes (`&quot;`, `&#39;`, `&#x27;`, `&amp;`,
/// `&lt;`, `&gt;`, `&apos;`) when `s` has any.
pub fn html_entities(s: &str) -> Option<Decoded> {
    const NAMED: &[(&str, u8)] = &[
        ("&quot;", b'"'),
        ("&apos;", b'\''),
        ("&amp;", b'&'),
        ("&lt;", b'<'),
        ("&gt;", b'>'),
    ];
    let b = s.as_bytes();
    let mut out = Builder::with_capacity(b.len());
    let mut i = 0;
    let mut any = false;
    'outer: while i < b.len() {
        if b[i] == b'&' {
            for (name, c) in NAMED {
                if b[i..].starts_with(name.as_bytes()) {
                    out.push(&[*c], i, i + name.len());
                    i += name.len();
                    any = true;
                    continue 'outer;
                }
            }
            // Numeric: `&#39;` or `&#x27;`, ASCII only.
            if b.get(i + 1) == Some(&b'#') {
                let (radix, digits_at) = if matches!(b.get(i + 2), Some(b'x' | b'X')) {
                    (16, i + 3)
                } else {
                    (10, i + 2)
                };
                let mut j = digits_at;
                while j < b.len() && j - digits_at < 6 && (b[j] as char).is_digit(radix) {
                    j += 1;
                }
                if j > digits_at
                    && b.get(j) == Some(&b';')
                    && let Some(v) = std::str::from_utf8(&b[digits_at..j])
                        .ok()
                        .and_then(|d| u8::from_str_radix(d, radix).ok())
                        .filter(|v| (0x20..0x7f).contains(v))
                {
                    out.push(&[v], i, j + 1);
                    i = j + 1;
                    any = true;
                    continue;
                }
            }
        }
        out.push(&b[i..=i], i, i + 1);
        i += 1;
    }
    if !any {
        return None;
    }
    out.finish()
}

/// Removes ANSI terminal escape sequences (colours in CI and console logs) when `s` has any.
pub fn ansi_stripped(s: &str) -> Option<Decoded> {
    let b = s.as_bytes();
    let mut out = Builder::with_capacity(b.len());
    let mut i = 0;
    let mut any = false;
    while i < b.len() {
        if b[i] == 0x1b && b.get(i + 1) == Some(&b'[') {
            let mut j = i + 2;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b';') {
                j += 1;
            }
            if j < b.len() && b[j].is_ascii_alphabetic() {
                i = j + 1;
                any = true;
                continue;
            }
        }
        out.push(&b[i..=i], i, i + 1);
        i += 1;
    }
    if !any {
        return None;
    }
    out.finish()
}

/// A base64 run in a text and what it decodes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base64Run {
    /// Where the run starts.
    pub start: usize,
    /// One past its end (padding included).
    pub end: usize,
    /// The decoded text.
    pub text: String,
}

/// Shortest run worth decoding: 16 characters carry 12 bytes, about a `user:password` pair.
const MIN_RUN: usize = 16;
/// Longest run decoded; longer runs are blobs (images, key material) rather than wrappers.
const MAX_RUN: usize = 64 * 1024;

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// [`B64`] bits: in either base64 alphabet, an upper-case letter, a lower-case letter.
const IN_B64: u8 = 1;
const UPPER: u8 = 2;
const LOWER: u8 = 4;

/// The base64 alphabets (standard and URL-safe) and the letter cases as one table: the run scan
/// looks every byte of every text up here once.
const B64: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b: u8 = 0;
    loop {
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_') {
            t[b as usize] = IN_B64
                | if b.is_ascii_uppercase() { UPPER } else { 0 }
                | if b.is_ascii_lowercase() { LOWER } else { 0 };
        }
        if b == u8::MAX {
            break t;
        }
        b += 1;
    }
};

fn is_b64(b: u8) -> bool {
    B64[usize::from(b)] & IN_B64 != 0
}

/// Whether decoded bytes read as text: valid UTF-8 with almost no control characters.
fn texty(bytes: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(bytes).ok()?;
    let bad = s
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    // Tabs and line breaks are text too: a base64'd config file or table is full of them. So
    // are letters of any script (`Пароль: …`, `密码：…`) and the punctuation written with
    // them; random bytes are almost never valid UTF-8 of that shape.
    let (mut chars, mut printable) = (0usize, 0usize);
    for c in s.chars() {
        chars += 1;
        let ok = if c.is_ascii() {
            (' '..='~').contains(&c) || matches!(c, '\n' | '\r' | '\t')
        } else {
            c.is_alphanumeric()
                || matches!(c, '\u{a0}' | '\u{2000}'..='\u{206f}' | '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}')
        };
        printable += usize::from(ok);
    }
    (bad == 0 && printable * 10 >= chars * 9).then(|| s.to_owned())
}

/// Every base64 (standard or URL-safe) run of at least 16 characters that decodes to text.
pub fn base64_runs(s: &str) -> Vec<Base64Run> {
    base64_runs_except(s, |_, _| false)
}

/// [`base64_runs`] without decoding the runs for which `skip(start, end)` holds (runs already
/// inside a finding, say).
pub fn base64_runs_except(s: &str, skip: impl Fn(usize, usize) -> bool) -> Vec<Base64Run> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !is_b64(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut seen = 0u8;
        while let Some(&c) = b.get(i) {
            let class = B64[usize::from(c)];
            if class & IN_B64 == 0 {
                break;
            }
            seen |= class;
            i += 1;
        }
        let (upper, lower) = (seen & UPPER != 0, seen & LOWER != 0);
        let body_end = i;
        while i < b.len() && b[i] == b'=' && i - body_end < 2 {
            i += 1;
        }
        let len = body_end - start;
        if !(MIN_RUN..=MAX_RUN).contains(&len) {
            continue;
        }
        let run = &b[start..body_end];
        // Text in base64 has letters of both cases; a run of one case or of digits is a word,
        // a hex digest or an identifier, not a wrapper.
        if !(upper && lower) {
            continue;
        }
        if skip(start, i) {
            continue;
        }
        let url = run.iter().any(|c| matches!(c, b'-' | b'_'));
        let std = run.iter().any(|c| matches!(c, b'+' | b'/'));
        if url && std {
            continue;
        }
        let engine = if url { &URL_SAFE } else { &STANDARD };
        let decoded = engine
            .decode(run)
            .or_else(|_| general_purpose::STANDARD_NO_PAD.decode(&run[..len / 4 * 4]));
        if let Some(text) = decoded.ok().and_then(|d| texty(&d)) {
            out.push(Base64Run {
                start,
                end: i,
                text,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_maps_back_to_the_escapes() {
        let s = "user=bob&password%3Dhunter2xyz";
        let d = percent(s).unwrap();
        assert_eq!(d.text, "user=bob&password=hunter2xyz");
        let at = d.text.find("hunter2xyz").unwrap();
        let (a, b) = d.source_span(at, at + 10).unwrap();
        assert_eq!(&s[a..b], "hunter2xyz");
        let eq = d.text.find('=').unwrap();
        assert_eq!(d.source_span(eq, eq + 1), Some((4, 5)));
        assert!(percent("no escapes 100%").is_none());
    }

    #[test]
    fn json_escapes_and_pem() {
        let s = r#"{\"password\":\"p\u00e4ss\"} -----BEGIN\nX"#;
        let d = json_escapes(s).unwrap();
        assert_eq!(d.text, "{\"password\":\"päss\"} -----BEGIN\nX");
        let at = d.text.find("päss").unwrap();
        let (a, b) = d.source_span(at, at + "päss".len()).unwrap();
        assert_eq!(&s[a..b], r"p\u00e4ss");
        assert_eq!(json_escapes(r"\ud83d\ude00").unwrap().text, "😀");
        assert!(
            json_escapes(r"\ud83d").is_none(),
            "a lone surrogate is kept as it is"
        );
    }

    #[test]
    fn html_entities_and_ansi() {
        let s = "token=&quot;g1re0g1T0keN3zWx&quot; &#39;x&#x27; &amp;";
        let d = html_entities(s).unwrap();
        assert_eq!(d.text, "token=\"g1re0g1T0keN3zWx\" 'x' &");
        let at = d.text.find("g1re").unwrap();
        let (a, b) = d.source_span(at, at + 16).unwrap();
        assert_eq!(&s[a..b], "g1re0g1T0keN3zWx");
        let s = "\x1b[94msq0csp-abc\x1b[0m done";
        let d = ansi_stripped(s).unwrap();
        assert_eq!(d.text, "sq0csp-abc done");
        assert!(ansi_stripped("plain").is_none() && html_entities("a & b").is_none());
    }

    #[test]
    fn base64_text_runs() {
        let s = "auth: YWRtaW46aHVudGVyMg== and hash 9f86d081884c7d659a2feaa0c55ad015";
        let runs = base64_runs(s);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].text, "admin:hunter2");
        assert_eq!(&s[runs[0].start..runs[0].end], "YWRtaW46aHVudGVyMg==");
        assert!(base64_runs("Zq3t8Kd9vB2mX7nL0pR4sW6yA1cE5gH8").is_empty());
    }
}
