//! The detection engine: an Aho-Corasick keyword pass picks the rules worth running, each rule's
//! regex runs over the text, validators filter, and overlapping matches resolve to the most
//! specific rule. Every engine here is linear in the input.

use crate::keys::{self, KeyClass};
use crate::rules::{Check, Kind, PROVIDER_NAMES, RULES};
use crate::{checks, decode, values};
use aho_corasick::AhoCorasick;
use regex::Regex;

/// A rule ready to run: built in or from the policy file.
#[derive(Debug)]
pub struct Rule {
    /// Stable identifier.
    pub id: String,
    /// What it finds.
    pub description: String,
    /// Its rank among overlapping matches.
    pub kind: Kind,
    check: Check,
    regex: Regex,
    groups: Groups,
}

/// Where a rule's named groups are, looked up once: by name they cost a hash per match.
#[derive(Debug)]
struct Groups {
    /// `s`, `s2`, `s3`, `s4`: the secret, the first that matched.
    secret: [Option<usize>; 9],
    /// `k` (or `k2` in a second alternative): the name the secret is assigned to.
    key: [Option<usize>; 2],
}

impl Groups {
    fn of(regex: &Regex) -> Self {
        let index = |name: &str| regex.capture_names().position(|n| n == Some(name));
        Groups {
            secret: [
                index("s"),
                index("s2"),
                index("s3"),
                index("s4"),
                index("s5"),
                index("s6"),
                index("s7"),
                index("s8"),
                index("s9"),
            ],
            key: [index("k"), index("k2")],
        }
    }
}

/// A span of the text, as `regex` reports one.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn of(locs: &regex::CaptureLocations, group: Option<usize>) -> Option<Span> {
        group
            .and_then(|g| locs.get(g))
            .map(|(start, end)| Span { start, end })
    }

    fn as_str(self, text: &str) -> &str {
        text.get(self.start..self.end).unwrap_or("")
    }
}

/// A custom rule from the policy file.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    /// Identifier, used in markers and reports.
    pub id: String,
    /// What it finds.
    #[serde(default)]
    pub description: String,
    /// Regex; its `s` group (if any) is the secret.
    pub pattern: String,
    /// Prefilter keywords; without any the regex runs on every text.
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// Which rules a detector runs.
#[derive(Clone, Debug, Default)]
pub struct DetectorOptions {
    /// Also run the personal-data rules (card numbers, SSNs).
    pub include_pii: bool,
    /// Built-in rule IDs to leave out.
    pub disabled: Vec<String>,
    /// Extra rules.
    pub custom: Vec<CustomRule>,
}

/// Why a detector could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// A custom rule's pattern does not compile.
    #[error("rule {id}: invalid pattern: {source}")]
    Pattern {
        /// The rule.
        id: String,
        /// The cause.
        #[source]
        source: Box<regex::Error>,
    },
    /// Two rules share an ID, or a disabled ID names no rule.
    #[error("rule {0}: unknown or duplicate rule id")]
    RuleId(String),
    /// The keyword automaton could not be built.
    #[error("keyword prefilter: {0}")]
    Prefilter(String),
}

/// One match: which rule, where the secret is, and, for tokens that carry one, whether the
/// checksum verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    /// Index into [`Detector::rules`].
    pub rule: usize,
    /// Byte offset where the secret starts.
    pub start: usize,
    /// Byte offset one past its end.
    pub end: usize,
    /// `Some(valid)` for rules whose tokens carry a checksum.
    pub checksum: Option<bool>,
}

/// A compiled rule set.
#[derive(Debug)]
pub struct Detector {
    rules: Vec<Rule>,
    prefilter: AhoCorasick,
    /// For each prefilter pattern, the rules it enables.
    keyword_rules: Vec<Vec<usize>>,
    /// Rules without keywords: they run on every text.
    unconditional: Vec<usize>,
}

impl Detector {
    /// The built-in rules (minus the disabled ones, plus PII if asked) and the custom ones.
    pub fn new(options: &DetectorOptions) -> Result<Self, DetectError> {
        for id in &options.disabled {
            if !RULES.iter().any(|r| r.id == id) {
                return Err(DetectError::RuleId(id.clone()));
            }
        }
        let mut specs: Vec<(String, String, Kind, Check, String, Vec<String>)> = RULES
            .iter()
            .filter(|r| options.include_pii || r.kind != Kind::Pii)
            .filter(|r| !options.disabled.iter().any(|d| d == r.id))
            .map(|r| {
                let kws = r
                    .keywords
                    .iter()
                    .flat_map(|k| {
                        if *k == LOCALIZED {
                            crate::lexicon::keywords()
                        } else {
                            vec![(*k).to_owned()]
                        }
                    })
                    .collect();
                (
                    r.id.to_owned(),
                    r.description.to_owned(),
                    r.kind,
                    r.check,
                    if r.pattern.contains(PROVIDERS) {
                        r.pattern.replace(PROVIDERS, &provider_alternation())
                    } else if r.pattern.contains(LOCALIZED) {
                        r.pattern.replace(LOCALIZED, &crate::lexicon::alternation())
                    } else {
                        r.pattern.to_owned()
                    },
                    kws,
                )
            })
            .collect();
        for c in &options.custom {
            if RULES.iter().any(|r| r.id == c.id)
                || options.custom.iter().filter(|o| o.id == c.id).count() > 1
            {
                return Err(DetectError::RuleId(c.id.clone()));
            }
            let desc = if c.description.is_empty() {
                format!("custom rule {}", c.id)
            } else {
                c.description.clone()
            };
            specs.push((
                c.id.clone(),
                desc,
                Kind::Provider,
                Check::Custom,
                c.pattern.clone(),
                c.keywords.clone(),
            ));
        }
        let mut rules = Vec::with_capacity(specs.len());
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut unconditional = Vec::new();
        for (index, (id, description, kind, check, pattern, kws)) in specs.into_iter().enumerate() {
            let regex = regex::RegexBuilder::new(&pattern)
                .size_limit(32 << 20)
                .build()
                .map_err(|source| DetectError::Pattern {
                    id: id.clone(),
                    source: Box::new(source),
                })?;
            if kws.is_empty() {
                unconditional.push(index);
            }
            for kw in kws {
                let kw = kw.to_ascii_lowercase();
                match keywords.iter().position(|k| *k == kw) {
                    Some(p) => keyword_rules[p].push(index),
                    None => {
                        keywords.push(kw);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
            rules.push(Rule {
                id,
                description,
                kind,
                check,
                groups: Groups::of(&regex),
                regex,
            });
        }
        // A full DFA: more memory than the default NFA, but the keyword pass is all that runs
        // on most entries, so its speed is the speed of ingestion.
        let prefilter = AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .build(&keywords)
            .map_err(|e| DetectError::Prefilter(e.to_string()))?;
        Ok(Detector {
            rules,
            prefilter,
            keyword_rules,
            unconditional,
        })
    }

    /// The rules, in the order [`Match::rule`] indexes.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Finds every secret in `text`: non-overlapping matches in text order. Secrets inside
    /// a wrapper (percent-encoding, JSON escapes, base64) are found in the decoded text and
    /// reported over the encoded bytes that carry them.
    pub fn scan(&self, text: &str) -> Vec<Match> {
        self.scan_layer(text, 0)
    }

    fn scan_layer(&self, text: &str, depth: u32) -> Vec<Match> {
        let mut found = self.scan_rules(text);
        if depth < MAX_DECODE_DEPTH && text.len() <= MAX_DECODE_BYTES {
            self.scan_wrapped(text, depth, &mut found);
        }
        self.resolve(found)
    }

    /// Decodes what `text` wraps and maps findings inside back onto `text`.
    fn scan_wrapped(&self, text: &str, depth: u32, found: &mut Vec<Match>) {
        // Each wrapper with the character that must be there for it to decode anything: the
        // cheap test keeps the decoders off the many texts that wrap nothing.
        let wrappers: [(char, Decoder); 4] = [
            ('%', decode::percent),
            ('\\', decode::json_escapes),
            ('&', decode::html_entities),
            ('\x1b', decode::ansi_stripped),
        ];
        for (trigger, decoder) in wrappers {
            if text.contains(trigger)
                && let Some(d) = decoder(text)
            {
                self.map_back(&d, depth, found);
            }
        }
        let covered =
            |start: usize, end: usize| found.iter().any(|m| m.start <= start && end <= m.end);
        for run in decode::base64_runs_except(text, covered) {
            // A finding anywhere inside redacts the whole wrapped value: a half-decoded
            // credential is still a credential.
            if let Some(inner) = self.scan_layer(&run.text, depth + 1).first() {
                found.push(Match {
                    rule: inner.rule,
                    start: run.start,
                    end: run.end,
                    checksum: inner.checksum,
                });
            }
        }
    }

    fn map_back(&self, d: &decode::Decoded, depth: u32, found: &mut Vec<Match>) {
        for m in self.scan_layer(&d.text, depth + 1) {
            if let Some((start, end)) = d.source_span(m.start, m.end) {
                found.push(Match { start, end, ..m });
            }
        }
    }

    /// Every rule over `text` itself, validators applied, overlaps not yet resolved.
    fn scan_rules(&self, text: &str) -> Vec<Match> {
        // Which rules to run, as a bitset on the stack: this runs for every string of every entry.
        let words = self.rules.len().div_ceil(64);
        let mut stack = [0u64; 8];
        let mut heap = Vec::new();
        let run: &mut [u64] = if words <= stack.len() {
            &mut stack[..words]
        } else {
            heap.resize(words, 0);
            &mut heap
        };
        let mut any = false;
        for &i in &self.unconditional {
            run[i / 64] |= 1 << (i % 64);
            any = true;
        }
        for m in self.prefilter.find_overlapping_iter(text) {
            for &i in &self.keyword_rules[m.pattern().as_usize()] {
                run[i / 64] |= 1 << (i % 64);
                any = true;
            }
        }
        if !any {
            return Vec::new();
        }
        let mut found = Vec::new();
        for (index, rule) in self
            .rules
            .iter()
            .enumerate()
            .filter(|(i, _)| run[i / 64] & (1 << (i % 64)) != 0)
        {
            if matches!(rule.check, Check::NearService | Check::NearCredentialWord) {
                near_tokens(index, rule, text, &mut found);
                continue;
            }
            if matches!(
                rule.check,
                Check::CsvColumns | Check::SqlColumns | Check::GraphqlVariable
            ) {
                column_values(index, rule, text, &mut found);
                continue;
            }
            // One set of capture slots per rule and text, not an allocation per match.
            let mut locs = rule.regex.capture_locations();
            let mut at = 0;
            while at <= text.len() {
                let Some(whole) = rule.regex.captures_read_at(&mut locs, text, at) else {
                    break;
                };
                at = if whole.end() > whole.start() {
                    whole.end()
                } else {
                    // An empty match: step over one character, as `captures_iter` does.
                    whole.end() + text[whole.end()..].chars().next().map_or(1, char::len_utf8)
                };
                let groups = &rule.groups;
                let secret = groups
                    .secret
                    .iter()
                    .enumerate()
                    .find_map(|(i, g)| Span::of(&locs, *g).map(|m| (m, i == 0)))
                    .or(Some((
                        Span {
                            start: whole.start(),
                            end: whole.end(),
                        },
                        true,
                    )));
                let Some((secret, unquoted)) = secret.filter(|(m, _)| m.end > m.start) else {
                    continue;
                };
                let key = groups.key.iter().find_map(|g| Span::of(&locs, *g));
                let (start, end) = if unquoted && let Some(k) = key {
                    let spaced = text
                        .get(k.end..secret.start)
                        .is_some_and(|b| b.contains(' ') || b.contains('\t'));
                    // A bracket the text opened before the name may close after the value.
                    let line = text[..k.start].rfind('\n').map_or(0, |n| n + 1);
                    let opened = open_brackets(&text[line..k.start]);
                    let between = text.get(k.end..secret.start).unwrap_or("");
                    let colon = between.contains(':') && !between.contains('=');
                    trim_unquoted(text, secret.start, secret.end, spaced, colon, opened)
                } else {
                    (secret.start, secret.end)
                };
                if start >= end {
                    continue;
                }
                let value = &text[start..end];
                let between = key.map_or("", |k| text.get(k.end..secret.start).unwrap_or(""));
                let key_span = key;
                let key = key.map_or("", |m| m.as_str(text));
                let (keep, checksum) = match rule.check {
                    Check::None => (!values::is_fake_token(value), None),
                    Check::Custom => (true, None),
                    Check::Base62Crc32 => (
                        !values::is_fake_token(value),
                        Some(checks::token_checksum_ok(value)),
                    ),
                    Check::Luhn => (checks::luhn_card(value), None),
                    Check::Jwt => (checks::jwt_header_ok(value), None),
                    Check::Ssn => (checks::ssn_ok(value), None),
                    Check::Password => (credible(value), None),
                    Check::Assignment | Check::Flag => {
                        // `name,value` (a CSV row, a list of pairs) is a pairing only when the
                        // value looks random; a rule that names its call (`define(`) knows better.
                        let listed = rule.kind == Kind::Generic
                            && between.contains(',')
                            && !between.contains(['=', ':']);
                        // `"session:91cb…"` (a Redis or cache key): a namespace and an id
                        // quoted as one name, not a value given to a name.
                        let quoted_name = key_span.is_some_and(|k| {
                            let b = text.as_bytes();
                            between == ":"
                                && k.start > 0
                                && matches!(b[k.start - 1], b'"' | b'\'')
                                && b.get(end) == Some(&b[k.start - 1])
                        });
                        let namespaced = quoted_name
                            && !keys::is_password(key)
                            && value.bytes().all(|b| {
                                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':')
                            });
                        // `do_wifi_ssid_passphrase AcmeCorp 'pw'`: a directive named for an SSID
                        // and its passphrase takes both, the SSID first.
                        let ssid_first = rule.kind == Kind::Generic
                            && between.trim().is_empty()
                            && key.to_ascii_lowercase().contains("ssid");
                        // `@pwd = @pwd` passes a variable on; `v_password VARCHAR2(30) := …`
                        // declares a type before its value.
                        let self_reference = value
                            .trim_start_matches(['@', '$', ':'])
                            .trim_end_matches([';', ','])
                            .eq_ignore_ascii_case(key.trim_start_matches(['@', '$', ':']));
                        // `CREATE SECRET s3_prod (…)`, `DROP SECRET IF EXISTS s3_prod`: SQL
                        // names the object it defines after its kind.
                        let sql_object = !between.is_empty()
                            && between.trim().is_empty()
                            && key_span.is_some_and(|k| names_sql_object(&text[..k.start]));
                        let not_this_value = namespaced
                            || ssid_first
                            || sql_object
                            || self_reference
                            || values::is_type_name(value)
                            || values::is_hostname(value);
                        (
                            assigned_secret(key, between, value, unquoted)
                                && !not_this_value
                                && (!listed || values::looks_random(value))
                                && !(unquoted && next_field(text, start, between, value)),
                            None,
                        )
                    }
                    Check::Header => (header_secret(key, value), None),
                    Check::Cookie => (cookie_secret(value), None),
                    Check::UserPassword => (
                        credible(value)
                            && !spells_password_flag(&text[..start], value)
                            && !mysql_prompt_flag(&text[..start])
                            && !value
                                .bytes()
                                .all(|b| b.is_ascii_digit() || matches!(b, b':' | b'.' | b'-'))
                            && !values::is_path(value)
                            && !value.starts_with('/'),
                        None,
                    ),
                    // Handled by `near_tokens`, token by token.
                    Check::NearService
                    | Check::NearCredentialWord
                    | Check::CsvColumns
                    | Check::SqlColumns
                    | Check::GraphqlVariable => (false, None),
                    Check::CallArgument => (
                        assigned_secret(key, ":", value, true)
                            && (!value.chars().all(|c| c.is_ascii_alphabetic() || c == '_')
                                || (value.len() >= 20 && values::entropy(value) >= 3.8)),
                        None,
                    ),
                    Check::AwsSecret => (values::aws_secret_shape(value), None),
                    Check::RandomToken => (
                        values::looks_random(value) && !values::is_fake_token(value),
                        None,
                    ),
                    Check::Prose => (credible(value) && password_shaped(value), None),
                    Check::BasicCredentials => (checks::basic_credentials(value), None),
                };
                if keep {
                    found.push(Match {
                        rule: index,
                        start,
                        end,
                        checksum,
                    });
                }
            }
        }
        found
    }

    /// Keeps the most specific of overlapping matches: lower kind first, then the longer.
    fn resolve(&self, mut found: Vec<Match>) -> Vec<Match> {
        if found.len() < 2 {
            return found;
        }
        found.sort_by_key(|m| {
            (
                self.rules[m.rule].kind,
                std::cmp::Reverse(m.end - m.start),
                m.start,
            )
        });
        // Kept matches never overlap, so the only one that can overlap a candidate is the last
        // kept match starting before the candidate's end: one ordered lookup, not a scan.
        let mut taken: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
        let mut kept: Vec<Match> = Vec::with_capacity(found.len());
        for m in found {
            let clashes = taken
                .range(..m.end)
                .next_back()
                .is_some_and(|(_, end)| *end > m.start);
            if !clashes {
                taken.insert(m.start, m.end);
                kept.push(m);
            }
        }
        kept.sort_by_key(|m| m.start);
        kept
    }
}

/// A wrapper's decoder.
type Decoder = fn(&str) -> Option<decode::Decoded>;

/// How deep wrappers are unwrapped (base64 inside a percent-encoded query inside JSON).
const MAX_DECODE_DEPTH: u32 = 3;
/// Texts longer than this are scanned as they are, not decoded (entries are at most 64 KiB).
const MAX_DECODE_BYTES: usize = 256 * 1024;

/// How many brackets `s` leaves open.
fn open_brackets(s: &str) -> i32 {
    s.bytes().fold(0, |depth, b| match b {
        b'(' | b'[' | b'{' => depth + 1,
        b')' | b']' | b'}' => (depth - 1).max(0),
        _ => depth,
    })
}

/// An unquoted value ends before a final closing bracket it did not open when the text before
/// its name left one open (`(pw:hunter2)`); otherwise the bracket is the password's
/// (`Im-oHqc^eY-j)`), and brackets inside are kept (`8)zclV(37FO`).
fn trim_unquoted(
    text: &str,
    start: usize,
    mut end: usize,
    spaced: bool,
    colon: bool,
    opened: i32,
) -> (usize, usize) {
    // `password = a&b;c` in a config file runs to the end of the word: the `&`, `;` and `,`
    // that end a value in a query string or a connection string are part of this one.
    let bytes = text.as_bytes();
    // `&`, `;` and `,` end a value when another `name=` follows (a query string, a connection
    // string) or, for `;` and `,`, a space; otherwise they are part of it (`p&ss`, `a;b`). In a
    // spaced assignment (`password = a&b`) they never end it.
    let name_follows = |at: usize| {
        let rest = &bytes[at.min(bytes.len())..];
        let n = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
            .count();
        n > 0 && rest.get(n) == Some(&b'=')
    };
    while let Some(&sep) = bytes.get(end).filter(|b| matches!(b, b'&' | b';' | b',')) {
        let next = bytes.get(end + 1).copied();
        // After `name:` (YAML, a Go struct) a `&` is the value's own: query strings use `=`.
        let ends = !spaced
            && ((name_follows(end + 1) && !(colon && sep == b'&'))
                || (sep != b'&' && next.is_none_or(|b| b.is_ascii_whitespace())));
        if ends {
            break;
        }
        end += 1;
        while end < bytes.len()
            && !bytes[end].is_ascii_whitespace()
            && !matches!(bytes[end], b'"' | b'\'' | b'&' | b';' | b',')
        {
            end += 1;
        }
    }
    let value = &text[start..end];
    let mut depth: i32 = 0;
    for (i, c) in value.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                // Only a closer at the very end is the enclosing text's: `(pw:hunter2)`.
                if depth < 0 && opened > 0 && i + 1 == value.len() {
                    end = start + i;
                    break;
                }
            }
            _ => {}
        }
    }
    (start, end)
}

/// Network devices' words for how the next token is stored (`password irreversible-cipher
/// $1c$…`, `pre-shared-key ascii-text "…"`): the word is not the secret.
const ENCODING_WORDS: &[&str] = &[
    "cipher",
    "irreversible-cipher",
    "simple",
    "plaintext",
    "plain-text",
    "ascii-text",
    "encrypted",
    "encrypted-password",
    "hashed",
    "unencrypted",
    "cleartext",
];

/// Schemes that follow `Authorization:`; alone they are not the credential.
const AUTH_SCHEMES: &[&str] = &[
    "basic",
    "bearer",
    "token",
    "digest",
    "ntlm",
    "negotiate",
    "bot",
    "apikey",
    "oauth",
    "hmac",
    "signature",
    "key",
    "jwt",
];

/// `mysql -u app -p orders`: MySQL's clients take `-p` glued to its value, so a `-p` followed
/// by a space prompts for the password, and the next word is something else.
fn mysql_prompt_flag(before: &str) -> bool {
    let trimmed = before.trim_end_matches([' ', '\t']);
    let line = &trimmed[trimmed.rfind('\n').map_or(0, |i| i + 1)..];
    trimmed.len() < before.len()
        && trimmed.ends_with("-p")
        && line
            .split_whitespace()
            .any(|w| w.starts_with("mysql") || w.starts_with("mariadb"))
}

/// `-password x`, `-pw x`: the `-p` before `value` is glued to the rest of its own flag's name.
fn spells_password_flag(before: &str, value: &str) -> bool {
    before.ends_with("-p")
        && ["assword", "asswd", "ass", "w"].iter().any(|w| {
            value
                .strip_prefix(w)
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric()))
        })
}

/// A value that could be a secret: not a placeholder, a reference, a bare scheme name or a
/// device's word for how the next value is stored.
pub(crate) fn credible(value: &str) -> bool {
    let v = value.trim();
    !v.is_empty()
        && !values::is_password_hash(v)
        && !values::is_publishable_key(v)
        && v.chars().any(char::is_alphanumeric)
        && !values::is_placeholder(v)
        && !values::is_reference(v)
        && !AUTH_SCHEMES
            .iter()
            .chain(ENCODING_WORDS)
            .any(|w| w.eq_ignore_ascii_case(v))
}

/// Whether an unquoted value that opens with `(` is a password anyway: unclosed, under a
/// password's name, and not a parenthesised remark (`(sensitive value)`, `(strength=strong,`).
fn opens_a_password(key: &str, value: &str) -> bool {
    let rest = &value[1..];
    // `(old:`, `(was:`: a parenthesised label, with the value after it.
    let label = rest
        .strip_suffix(':')
        .is_some_and(|l| l.chars().all(char::is_alphabetic));
    keys::is_password(key)
        && !label
        && !value.ends_with(')')
        && !rest.contains(['=', ',', '('])
        // `(ConvertTo-SecureString …`: a sub-expression calling a command, not a password.
        && !rest.chars().all(|c| c.is_alphabetic() || c == '-')
}

/// Whether a value named only by prose looks like a password rather than the sentence's next
/// word: a digit or a symbol in it, or upper and lower case, and not a path, a number or a
/// hash.
fn password_shaped(value: &str) -> bool {
    let v = value.trim();
    let digit = v.bytes().any(|b| b.is_ascii_digit());
    let symbol = v
        .bytes()
        .any(|b| b.is_ascii_punctuation() && !matches!(b, b'-' | b'_' | b'.'));
    let mixed =
        v.bytes().any(|b| b.is_ascii_uppercase()) && v.bytes().any(|b| b.is_ascii_lowercase());
    // `stone-quartz-violet`: three or more words joined, as passphrase generators write them.
    let words = v.split(['-', '.', '_']).filter(|w| w.len() >= 3).count();
    let passphrase = words >= 3
        && v.len() >= 12
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || matches!(b, b'-' | b'.' | b'_'));
    // `INC-4421`, `CVE-2024-3094`: an issue's or an advisory's key, not a password.
    let ticket = v.split_once('-').is_some_and(|(project, rest)| {
        project.bytes().all(|b| b.is_ascii_uppercase())
            && !project.is_empty()
            && rest
                .split('-')
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    v.len() >= 6
        && !ticket
        && (digit || symbol || mixed || passphrase)
        && !v.bytes().all(|b| b.is_ascii_digit())
        && !values::is_path(v)
        && !v.starts_with('/')
        && !values::is_public_shape(v)
}

/// The test for a value assigned to a name: what the name says ([`keys::classify`]) and
/// whether the value is credible. An unquoted lower-case word after `password:` is prose in a
/// log message (`password: changed`), not the password.
/// Whether the words before a name are an SQL statement's verb and modifiers (`CREATE OR
/// REPLACE PERSISTENT`, `DROP`, `ALTER`): then the name is an object's kind and the next word
/// its identifier.
fn names_sql_object(before: &str) -> bool {
    if !before.ends_with([' ', '\t']) {
        return false;
    }
    const MODIFIERS: [&str; 6] = ["or", "replace", "persistent", "temporary", "temp", "global"];
    before
        .split_whitespace()
        .rev()
        .take(5)
        .find(|w| !MODIFIERS.iter().any(|m| m.eq_ignore_ascii_case(w)))
        .is_some_and(|verb| {
            ["create", "drop", "alter", "describe", "comment"]
                .iter()
                .any(|v| v.eq_ignore_ascii_case(verb))
        })
}

pub(crate) fn assigned_secret(key: &str, between: &str, value: &str, unquoted: bool) -> bool {
    if !credible(value)
        || (unquoted
            && (values::is_code(value)
                || value.starts_with(['{', '}', '['])
                // `X=(a b)` is a shell array, but `RESTIC_PASSWORD=(@fB#2…` is a password
                // that opens with a parenthesis: unclosed, under a password's name.
                || (value.starts_with('(') && !opens_a_password(key, value))))
    {
        return false;
    }
    // Name and value separated by a space or a tab (`requirepass x`, `password = x`).
    let spaced_out = between.contains([' ', '\t']);
    // `#define CURLOPT_USERPWD 4`, `enable password 7 …`: a number of one to three digits after
    // a space is a setting or a type, not a password.
    if spaced_out && value.len() <= 3 && value.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    // `la password è scaduta`: after a space, one or two letters are a word of the sentence.
    if spaced_out && value.chars().count() < 3 {
        return false;
    }
    // `wpa_passphrase AcmeCorp '…'`, `htpasswd file bob`: a password command's first word is
    // an SSID, a file or a user.
    if !between.is_empty()
        && between.trim().is_empty()
        && [
            "wpa_passphrase",
            "htpasswd",
            "passwd",
            "chpasswd",
            "smbpasswd",
            "ldappasswd",
            "kpasswd",
        ]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(key))
    {
        return false;
    }
    // `kubectl create secret docker-registry regcred`: the word after `secret` is its type.
    if key.eq_ignore_ascii_case("secret") && ["generic", "docker-registry", "tls"].contains(&value)
    {
        return false;
    }
    // `otpauth://…`, `redis://…`: the name is a URL's scheme, not a name given a value.
    if between == ":" && value.starts_with("//") {
        return false;
    }
    // `smtp.auth user=ops`: after a directive, another assignment is the next setting, not
    // the directive's secret.
    // (Base64 padding is not an assignment: its `=` ends the value.)
    if unquoted
        && spaced_out
        && value.split_once('=').is_some_and(|(k, v)| {
            k.len() >= 2
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.' || b == b'-')
                && !v.is_empty()
                && !v.starts_with('=')
        })
    {
        return false;
    }
    let spaced = spaced_out || between.ends_with(':');
    // After a space, a word of lower-case letters is the sentence going on, a word in capitals
    // a keyword (`IDENTIFIED ... BY`), and a dash the next flag.
    let word = value.trim_end_matches([';', ':', ',', '.', '!', '?', ')']);
    let prose = unquoted
        && spaced
        && (values::is_prose_word(word)
            || word.bytes().all(|b| b.is_ascii_lowercase())
            || word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
            || is_flag(word));
    match keys::classify(key) {
        KeyClass::Plain => false,
        KeyClass::Weak => {
            values::looks_random(value)
                || values::is_product_key(value)
                // Consul's `SecretID`, Vault AppRole's `secret_id`: UUID-shaped credentials.
                || (keys::is_secret_id(key) && values::is_uuid(value))
        }
        KeyClass::Secret if keys::is_password(key) => {
            let path = values::is_path(value);
            // `PWD=/root` in a sudo line or an environment dump is the shell's working
            // directory, not a password.
            let cwd = (key == "PWD" || key == "OLDPWD") && value.starts_with(['/', '~']);
            !prose && !path && !cwd
        }
        KeyClass::Secret => {
            let v = value.trim();
            let bare_word = unquoted && values::is_prose_word(v);
            v.len() >= 4
                && !prose
                && !bare_word
                && (!values::is_public_non_uuid(v) || values::is_numeric_secret(v))
        }
    }
}

/// The tokens after each match of a [`Check::NearService`] or [`Check::NearCredentialWord`]
/// rule. Only `find` runs: no capture groups, so no backtracking per match.
fn near_tokens(index: usize, rule: &Rule, text: &str, found: &mut Vec<Match>) {
    let (reach, named) = match rule.check {
        Check::NearCredentialWord => (40, true),
        _ => (100, false),
    };
    let ident = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
    for m in rule.regex.find_iter(text) {
        if named {
            // The whole name the word ends: `next_page_token` is plain, `deploy_token` is not.
            let from = text[..m.start()]
                .bytes()
                .rposition(|b| !ident(b))
                .map_or(0, |p| p + 1);
            // The match ends with the character after the word, unless the text ends there.
            let word_end = match text[..m.end()].chars().next_back() {
                Some(c) if !c.is_ascii_alphabetic() => m.end() - c.len_utf8(),
                _ => m.end(),
            };
            if keys::classify(&text[from..word_end]) == KeyClass::Plain {
                continue;
            }
        }
        let line_end = text[m.end()..]
            .find(['\r', '\n'])
            .map_or(text.len(), |p| m.end() + p);
        let mut window_end = (m.end() + reach).min(line_end);
        while !text.is_char_boundary(window_end) {
            window_end -= 1;
        }
        // These rules run last, so every other rule's match is already in `found`: a token
        // one of them covers needs no second look.
        let covered = |s: usize, e: usize| found.iter().any(|f| f.start < e && s < f.end);
        for (start, end) in proximate_tokens(text, m.end().min(window_end), window_end, covered) {
            found.push(Match {
                rule: index,
                start,
                end,
                checksum: None,
            });
        }
    }
}

/// Fields of one delimited line, as (start, end) byte spans into `text` of each field's value
/// (inside its quotes when quoted). A quoted field may hold the delimiter.
fn fields(text: &str, start: usize, end: usize, delimiter: u8) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = start;
    loop {
        while i < end && matches!(b[i], b' ' | b'\t') && b[i] != delimiter {
            i += 1;
        }
        let quote = (i < end && matches!(b[i], b'"' | b'\'' | b'`')).then(|| b[i]);
        let (s, e, next) = match quote {
            Some(q) => {
                let s = i + 1;
                let e = (s..end).find(|&j| b[j] == q).unwrap_or(end);
                let next = (e..end).find(|&j| b[j] == delimiter).unwrap_or(end);
                (s, e, next)
            }
            None => {
                let e = (i..end).find(|&j| b[j] == delimiter).unwrap_or(end);
                let mut t = e;
                while t > i && matches!(b[t - 1], b' ' | b'\t' | b'\r') {
                    t -= 1;
                }
                (i, t, e)
            }
        };
        out.push((s, e));
        if next >= end || out.len() > 256 {
            return out;
        }
        i = next + 1;
    }
}

/// Which columns of a header name a credential (`Password`, `Secret access key`, `api_token`),
/// and not metadata about one (`password_hash`, `token_type`).
fn credential_columns(text: &str, header: &[(usize, usize)]) -> Vec<usize> {
    header
        .iter()
        .enumerate()
        .filter(|(_, (s, e))| {
            let name = &text[*s..*e];
            name.len() <= 64 && keys::classify(name) == KeyClass::Secret
        })
        .map(|(i, _)| i)
        .collect()
}

/// The values under credential-named columns: for a CSV header, in up to 1,000 following lines
/// with as many fields; for a SQL INSERT's column list, in each tuple of its VALUES.
fn column_values(index: usize, rule: &Rule, text: &str, found: &mut Vec<Match>) {
    let b = text.as_bytes();
    let keep = |s: usize, e: usize, found: &mut Vec<Match>| {
        let v = &text[s..e];
        if e > s && credible(v) && !v.eq_ignore_ascii_case("null") {
            found.push(Match {
                rule: index,
                start: s,
                end: e,
                checksum: None,
            });
        }
    };
    for m in rule.regex.find_iter(text) {
        let line = &text[m.start()..m.end()];
        if rule.check == Check::GraphqlVariable {
            // `password: $p` names the variable; its value is `"p":"…"` in the variables.
            let Some(name) = line.rsplit('$').next().filter(|n| !n.is_empty()) else {
                continue;
            };
            let Some(vars) = text[m.end()..].find("\"variables\"").map(|p| m.end() + p) else {
                continue;
            };
            let key = format!("\"{name}\"");
            let mut from = vars;
            while let Some(p) = text[from..].find(&key) {
                let after = from + p + key.len();
                let rest = text[after..].trim_start_matches([' ', '\t']);
                let colon = after + (text[after..].len() - rest.len());
                if let Some(v) = rest.strip_prefix(':') {
                    let v2 = v.trim_start_matches([' ', '\t']);
                    let open = colon + 1 + (v.len() - v2.len());
                    if v2.starts_with('"') {
                        let s = open + 1;
                        let mut e = s;
                        while e < b.len() && b[e] != b'"' {
                            e += if b[e] == b'\\' { 2 } else { 1 };
                        }
                        keep(s, e.min(b.len()), found);
                        break;
                    }
                }
                from = after;
            }
            continue;
        }
        if rule.check == Check::SqlColumns {
            let (Some(open), Some(close)) = (line.find('('), line.rfind(')')) else {
                continue;
            };
            let cols: Vec<(usize, usize)> =
                fields(text, m.start() + open + 1, m.start() + close, b',');
            let wanted = credential_columns(text, &cols);
            if wanted.is_empty() {
                continue;
            }
            // Each `( … )` tuple after VALUES, up to the statement's end.
            let mut at = m.end();
            while at < b.len() && b[at] == b'(' {
                let Some(close) = tuple_end(b, at) else {
                    break;
                };
                let vals = fields(text, at + 1, close, b',');
                if vals.len() == cols.len() {
                    for &w in &wanted {
                        let (s, e) = vals[w];
                        keep(s, e, found);
                    }
                }
                at = close + 1;
                while at < b.len() && matches!(b[at], b',' | b' ' | b'\t' | b'\r' | b'\n') {
                    at += 1;
                }
            }
            continue;
        }
        let Some(delimiter) = [b',', b'\t', b';']
            .into_iter()
            .max_by_key(|d| line.bytes().filter(|c| c == d).count())
            .filter(|d| line.bytes().filter(|c| c == d).count() >= 2)
        else {
            continue;
        };
        // Tab-aligned tables (`/etc/ppp/chap-secrets`, `column -t` output) pad with runs of
        // tabs: there a run is one separator, not empty cells.
        let aligned = |mut f: Vec<(usize, usize)>| {
            if delimiter == b'\t' {
                f.retain(|(s, e)| e > s);
            }
            f
        };
        let mut header = aligned(fields(text, m.start(), m.end(), delimiter));
        // The line may carry a prefix before the header (`X-Note: name,…`, `NOTE=name,…`).
        if let Some(first) = header.first_mut() {
            let f = &text[first.0..first.1];
            if let Some(p) = f.rfind([':', '=', ' ', '?']) {
                first.0 += p + 1;
                while first.0 < first.1 && matches!(b[first.0], b' ' | b'"' | b'\'') {
                    first.0 += 1;
                }
            }
        }
        // A header is short names, not a row of data or a sentence.
        if header
            .iter()
            .any(|(s, e)| e - s > 40 || text[*s..*e].contains(['=', ':', '/']))
        {
            continue;
        }
        let wanted = credential_columns(text, &header);
        if wanted.is_empty() {
            continue;
        }
        let mut at = m.end();
        for _ in 0..1000 {
            if at >= b.len() {
                break;
            }
            at += usize::from(b[at] == b'\r');
            at += usize::from(at < b.len() && b[at] == b'\n');
            let end = text[at..].find('\n').map_or(text.len(), |p| at + p);
            if end == at {
                break;
            }
            let row = aligned(fields(text, at, end, delimiter));
            if row.len() != header.len() {
                break;
            }
            for &w in &wanted {
                let (s, e) = row[w];
                keep(s, e, found);
            }
            at = end;
        }
    }
}

/// The index of the `)` that closes the tuple opening at `open`, quotes respected.
fn tuple_end(b: &[u8], open: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    let mut i = open + 1;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), b'\\') => i += 1,
            (None, b'\'' | b'"' | b'`') => quote = Some(b[i]),
            (None, b')') => return Some(i),
            (None, b'\n') => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether a JSON key names a service (`mailgun`, `datadog_creds`) and nothing that makes its
/// value an identifier (`sentry_event`): its value is then a credential when it looks random.
pub(crate) fn names_service(key: &str) -> bool {
    // Asked of every plain JSON key: a set, not a scan of hundreds of names (a linear scan
    // here was a third of the server's time under batch load).
    static NAMES: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
        std::sync::LazyLock::new(|| PROVIDER_NAMES.iter().copied().collect());
    let words = keys::Words::of(key);
    words.iter().any(|w| NAMES.contains(w))
        && !words
            .iter()
            .any(|w| ID_WORDS.contains(&w) || w == "url" || w == "uri" || w == "host")
}

/// Where a rule's pattern takes [`provider_alternation`].
const PROVIDERS: &str = "{providers}";
/// Where a rule's pattern takes [`crate::lexicon::alternation`], and its keywords
/// [`crate::lexicon::keywords`].
pub(crate) const LOCALIZED: &str = "{localized}";

/// [`PROVIDER_NAMES`] as one regex alternation, longest first so that no name stops short.
fn provider_alternation() -> String {
    let mut names: Vec<&str> = PROVIDER_NAMES.to_vec();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names
        .iter()
        .map(|n| regex::escape(n))
        .collect::<Vec<_>>()
        .join("|")
}

/// Words that make a token after a service's name one of its identifiers, not its key.
const ID_WORDS: &[&str] = &[
    "id",
    "ids",
    "endpoint",
    "event",
    "events",
    "request",
    "trace",
    "span",
    "commit",
    "sha",
    "hash",
    "digest",
    "checksum",
    "build",
    "run",
    "job",
    "order",
    "invoice",
    "charge",
    "customer",
    "payment",
    "message",
    "msg",
    "ticket",
    "issue",
    "user",
    "account",
    "project",
    "org",
    "organization",
    "workspace",
    "team",
    "channel",
    "thread",
    "file",
    "page",
    "post",
    "revision",
    "version",
    "release",
    "deploy",
    "deployment",
    "transaction",
    "txn",
    "ref",
    "number",
    "uuid",
    "guid",
    "subscription",
    "tenant",
    "region",
    "bucket",
    "object",
    "record",
    "sid",
    "public",
    "publishable",
    "fingerprint",
    "thumbprint",
    "expired",
    "revoked",
    "accessor",
];

/// Stripe-style object ids (`ch_…`, `cus_…`): public references, not credentials.
const PUBLIC_ID_PREFIXES: &[&str] = &[
    "acct_", "ch_", "cus_", "evt_", "in_", "ii_", "pi_", "pm_", "po_", "price_", "prod_", "re_",
    "seti_", "si_", "src_", "sub_", "txn_", "py_", "cs_test_", "req_",
];

/// The public key of a Sentry DSN (`https://<key>@o1.ingest.sentry.io/2`, or `<key>:<secret>@`
/// in the legacy form): public by design, browsers send it. The legacy secret after the `:` is
/// not, and other rules read it as a URL's password.
fn dsn_public_key(text: &str, s: usize, e: usize) -> bool {
    if !text[..s].ends_with("://") {
        return false;
    }
    let rest = &text[e..];
    let rest = match rest.strip_prefix(':') {
        Some(r) => r.split_once('@').map_or("", |(_, host)| host),
        None => rest.strip_prefix('@').unwrap_or(""),
    };
    let host = rest
        .split(['/', ' ', '"', '\'', '\n'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    host.ends_with(".sentry.io") || host.starts_with("sentry.")
}

/// The random-looking tokens in `text[start..end]`, the text after a service's name, up to the
/// first word that calls what follows an identifier.
fn proximate_tokens(
    text: &str,
    start: usize,
    end: usize,
    covered: impl Fn(usize, usize) -> bool,
) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let token_byte =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/' | b'.' | b'~');
    let mut out = Vec::new();
    let mut i = start;
    while i < end {
        if !token_byte(bytes[i]) {
            i += 1;
            continue;
        }
        // A token that starts in the window runs to its own end, past the window's.
        let s = i;
        while i < bytes.len() && token_byte(bytes[i]) {
            i += 1;
        }
        // Base64 padding belongs to the token; any other `=` ends it.
        let mut e = i;
        while e < bytes.len() && bytes[e] == b'=' && e - i < 2 {
            e += 1;
        }
        let lead = text[s..e].len() - text[s..e].trim_start_matches(['.', '-', '/', '_']).len();
        let s = s + lead;
        let t = text[s..e].trim_end_matches(['.', '-']);
        let e = s + t.len();
        i = e.max(i);
        // A key that names an identifier (`AUTH0_CLIENT_ID=`, `request_id:`): what follows is
        // that identifier, not the service's secret.
        // (The `=` may have been taken for base64 padding above.)
        let name = t.trim_end_matches('=');
        if (name.len() < t.len() || matches!(bytes.get(e), Some(b'=' | b':')))
            && keys::Words::of(name)
                .last()
                .is_some_and(|w| ID_WORDS.contains(&w) || w == "uid")
        {
            break;
        }
        if t.len() < 12 {
            // A short word: an identifier's name stops the scan (`sentry event 3f2a…`).
            let word = t.trim_end_matches('=');
            if ID_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
                break;
            }
            continue;
        }
        if t.len() >= 16
            && t.len() <= 256
            && !covered(s, e)
            && strongly_random(t)
            && !PUBLIC_ID_PREFIXES.iter().any(|p| t.starts_with(p))
            && values::looks_random(t)
            && !values::is_fake_token(t)
            && !values::is_placeholder(t)
            && !values::is_publishable_key(t)
            && !values::is_public_shape(t)
            && !within_public_word(text, s, e)
            && !dsn_public_key(text, s, e)
        {
            out.push((s, e));
        }
    }
    out
}

/// Whether the whitespace-delimited word around `text[s..e]` is a password hash, a reference
/// or a placeholder (`$6$rounds=5000$salt$9f86…`, `${VAULT_TOKEN}`): then the token is a part
/// of something public.
fn within_public_word(text: &str, s: usize, e: usize) -> bool {
    let stop = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`');
    let from = text[..s].rfind(stop).map_or(0, |i| i + 1);
    let to = text[e..].find(stop).map_or(text.len(), |i| e + i);
    let word = &text[from..to];
    // `password={cipher}AQB…`: the value part of a name=value word.
    let value = text[from..s]
        .rfind(['=', ':'])
        .map_or(word, |i| &text[from + i + 1..to]);
    values::is_reference(value)
        // `value={SSHA}W6ph…`: an LDAP hash scheme on the value, not on the word.
        || values::is_password_hash(value)
        || values::is_password_hash(word)
        || values::is_reference(word)
        || values::is_placeholder(word)
        // `sha256:e5e9…`: a digest with its algorithm's name (kubeadm's CA cert hash).
        || values::is_public_shape(word)
}

/// Stricter than [`values::looks_random`], for a token with no name of its own: no dotted or
/// slashed words (`chat.postMessage`, `deploy/api-8922`) unless it is base64 (`+`, padding),
/// and either all three character classes or, for hex and lower-case tokens, 24 characters
/// of which a quarter are digits.
fn strongly_random(t: &str) -> bool {
    let base64 = t.contains('+') || t.ends_with('=');
    if !base64 && t.contains(['.', '/']) {
        return false;
    }
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    let upper = t.bytes().filter(u8::is_ascii_uppercase).count();
    let lower = t.bytes().filter(u8::is_ascii_lowercase).count();
    let mixed = digits > 0 && upper > 0 && lower > 0;
    let one_case = (upper == 0 || lower == 0) && t.len() >= 24 && digits * 4 >= t.len();
    (mixed || one_case) && values::entropy(t) >= 3.5
}

/// `{Host:db Password: SSLMode:require}`: inside a printed struct or map, after an empty field
/// the next `Name:value` is the next field, not the value. (Outside braces `password: a:b` may
/// well be a password with a colon in it.)
fn next_field(text: &str, start: usize, between: &str, value: &str) -> bool {
    let line = text[..start].rfind('\n').map_or(0, |n| n + 1);
    let spaced = between.ends_with([' ', '\t']);
    spaced
        && text[line..start].contains('{')
        && open_brackets(&text[line..start]) > 0
        && value.split_once(':').is_some_and(|(name, rest)| {
            name.len() >= 2
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && !rest.is_empty()
        })
}

/// The test for a cookie header's value (see [`Check::Cookie`]).
pub(crate) fn cookie_secret(value: &str) -> bool {
    const ATTRIBUTES: &[&str] = &[
        "path",
        "domain",
        "expires",
        "max-age",
        "samesite",
        "secure",
        "httponly",
        "priority",
        "partitioned",
        "version",
        "comment",
    ];
    const SESSION_COOKIES: &[&str] = &[
        "jsessionid",
        "phpsessid",
        "asp.net_sessionid",
        "aspsessionid",
        "connect.sid",
        "sid",
        "ssid",
        "sessionid",
        "session",
        "_session",
        "cfid",
        "cftoken",
        "remember_token",
        "laravel_session",
        "ci_session",
        "rack.session",
        "_forum_session",
        "xsrf-token",
        "csrftoken",
        "__session",
    ];
    let v = value.trim();
    if !credible(v) {
        return false;
    }
    v.split(';').any(|part| {
        let part = part.trim();
        let Some((name, val)) = part.split_once('=') else {
            // A bare value (`Cookie: 9f8e…`) counts when it looks random.
            return values::looks_random(part);
        };
        let (name, val) = (name.trim(), val.trim().trim_matches('"'));
        if val.is_empty() || ATTRIBUTES.iter().any(|a| a.eq_ignore_ascii_case(name)) {
            return false;
        }
        let lower = name.to_ascii_lowercase();
        SESSION_COOKIES.contains(&lower.as_str())
            || lower.starts_with("__host-")
            || lower.starts_with("__secure-")
            || lower.contains("sess")
            || keys::classify(name) != KeyClass::Plain
            || values::looks_random(val)
    })
}

/// `-e`, `--no-auth-warning`: the next flag of a command line, not a value. A dash-led word
/// with digits or symbols in it (`-c0HNkba(L2`) is a value that starts with a dash.
fn is_flag(word: &str) -> bool {
    word.strip_prefix('-').is_some_and(|rest| {
        let name = rest.split_once('=').map_or(rest, |(n, _)| n);
        name.bytes().any(|b| b.is_ascii_alphabetic())
            && name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
    })
}

/// The test for a header value: the credential headers carry one whatever it looks like;
/// other `x-*-token` style headers need a random-looking value.
pub(crate) fn header_secret(key: &str, value: &str) -> bool {
    let v = value.trim();
    if !credible(v) || values::is_prose_word(v) {
        return false;
    }
    let k = key.to_ascii_lowercase();
    if k.is_empty() || k.ends_with("authorization") {
        return v.len() >= 4;
    }
    match keys::classify(&k) {
        KeyClass::Plain => false,
        KeyClass::Weak => values::looks_random(v),
        KeyClass::Secret => v.len() >= 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's `%+v` and similar dumps: an empty field is not given its neighbour's text, and a
    /// `&` after `Name:` belongs to the value (only query strings end a value at `&name=`).
    #[test]
    fn a_printed_struct_keeps_its_fields_apart() {
        let d = detector(false);
        let found = |t: &str| -> Vec<String> {
            d.scan(t)
                .iter()
                .map(|m| t[m.start..m.end].to_owned())
                .collect()
        };
        assert_eq!(
            found("config={Host:db Port:5432 User:app Password: SSLMode:require}"),
            Vec::<String>::new()
        );
        assert_eq!(
            found("config={Host:db User:app Password:3&yXGnsR33v9e=K SSLMode:require}"),
            ["3&yXGnsR33v9e=K"]
        );
        // Outside braces a colon may be part of the password.
        assert_eq!(found("password: Summer:2024x"), ["Summer:2024x"]);
        assert_eq!(
            found("GET /cb?password=hunter2xyz&user=bob"),
            ["hunter2xyz"]
        );
    }

    /// The near-word rules cut their windows at character boundaries, whatever follows.
    #[test]
    fn near_word_windows_respect_characters() {
        let d = detector(false);
        for t in [
            "the token\u{2019}s value",
            "mailgun\u{e4}\u{e4}\u{e4}",
            "password\u{1f600}",
            "datadog \u{1f600}Qx7vL2mN9pR4sT6wY8zA1bC3\u{e9}",
            &format!("slack {}", "\u{e9}".repeat(60)),
        ] {
            let _ = d.scan(t);
        }
        let t = "datadog \u{e9} Qx7vL2mN9pR4sT6wY8zA1bC3 \u{e9}";
        let found: Vec<&str> = d.scan(t).iter().map(|m| &t[m.start..m.end]).collect();
        assert_eq!(found, ["Qx7vL2mN9pR4sT6wY8zA1bC3"]);
    }

    #[test]
    fn a_flag_is_a_dash_and_letters_and_a_dash_led_value_is_not() {
        for f in ["-e", "--no-auth-warning", "--password-stdin", "--user=bob"] {
            assert!(is_flag(f), "{f}");
        }
        for v in ["-c0HNkba(L2", "-9xK2mQ", "-", "--"] {
            assert!(!is_flag(v), "{v}");
        }
        // A YAML password whose value starts with a dash is still the password.
        assert!(assigned_secret("pass", ": ", "-c0HNkba(L2", true));
        assert!(!assigned_secret("password", " ", "-e", true));
    }

    fn detector(pii: bool) -> Detector {
        Detector::new(&DetectorOptions {
            include_pii: pii,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn every_rule_finds_its_examples_and_not_its_counterexamples() {
        let d = detector(true);
        assert!(RULES.len() >= 150, "{} rules", RULES.len());
        let mut failures = Vec::new();
        for def in RULES {
            let index = d.rules().iter().position(|r| r.id == def.id).unwrap();
            if def.examples.is_empty() || def.counterexamples.is_empty() {
                failures.push(format!("{} needs examples and counterexamples", def.id));
            }
            for (text, secret) in def.examples {
                let found = d.scan(text);
                if !found
                    .iter()
                    .any(|m| m.rule == index && &text[m.start..m.end] == *secret)
                {
                    let got: Vec<(&str, &str)> = found
                        .iter()
                        .map(|m| (d.rules()[m.rule].id.as_str(), &text[m.start..m.end]))
                        .collect();
                    failures.push(format!(
                        "{} must find {secret:?} in {text:?}; found {got:?}",
                        def.id
                    ));
                }
            }
            for text in def.counterexamples {
                let hits: Vec<&str> = d
                    .scan(text)
                    .iter()
                    .filter(|m| m.rule == index)
                    .map(|m| &text[m.start..m.end])
                    .collect();
                if !hits.is_empty() {
                    failures.push(format!("{} must not fire on {text:?}: {hits:?}", def.id));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn ids_are_unique_and_pii_is_off_by_default() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        assert!(!detector(false).rules().iter().any(|r| r.kind == Kind::Pii));
        assert!(detector(false).scan("card 4111 1111 1111 1111").is_empty());
    }

    #[test]
    fn custom_rules_and_disabling() {
        let options = DetectorOptions {
            disabled: vec!["jwt".into()],
            custom: vec![CustomRule {
                id: "acme".into(),
                description: String::new(),
                pattern: r"acme_(?P<s>[a-z0-9]{16})".into(),
                keywords: vec!["acme_".into()],
            }],
            ..Default::default()
        };
        let d = Detector::new(&options).unwrap();
        let text = "key acme_0123456789abcdef";
        assert_eq!(
            d.scan(text)
                .iter()
                .map(|m| &text[m.start..m.end])
                .collect::<Vec<_>>(),
            vec!["0123456789abcdef"]
        );
        assert!(!d.rules().iter().any(|r| r.id == "jwt"));
        let bad = DetectorOptions {
            disabled: vec!["nope".into()],
            ..Default::default()
        };
        assert!(matches!(Detector::new(&bad), Err(DetectError::RuleId(_))));
    }

    #[test]
    fn overlapping_matches_keep_the_most_specific() {
        let d = detector(false);
        let text = "GITHUB_TOKEN=ghp_R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0jG8sE2u";
        let m = d.scan(text);
        assert_eq!(m.len(), 1);
        assert_eq!(d.rules()[m[0].rule].id, "github-token");
    }
}
