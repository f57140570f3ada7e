//! Values: whether a candidate is a real secret, a placeholder standing in for one, a reference
//! to where one is kept, or a public value (digest, UUID, ARN) that happens to sit in a
//! credential context.
//!
//! Placeholders are recognised only by strict shapes: a template (`${NAME}`, `{{ … }}`,
//! `<…>`), a mask (`****`, `xxxx`, `••••`), or a documentation example. A value that merely
//! starts with `$` is a secret: `$uperS3cret!` is a password, `$DB_PASSWORD` is a reference.

/// Values published as examples in providers' documentation: never real credentials.
const EXAMPLE_VALUES: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "AKIAI44QH8DHBEXAMPLE",
    "ASIAIOSFODNN7EXAMPLE",
];

/// Words that, standing as a word of the value, say it is a stand-in.
const STAND_IN_WORDS: &[&str] = &[
    "example",
    "examplekey",
    "placeholder",
    "your",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "yourpassword",
    "replaceme",
    "changeme_placeholder",
    "redacted",
    "masked",
    "hidden",
    "removed",
    "filtered",
    "obfuscated",
    "sanitized",
    "dummy",
    "fake",
    "sample",
    "notreal",
    "insert",
    "todo",
    "tbd",
    "fixme",
];

/// Whole values that are not secrets.
const NON_VALUES: &[&str] = &[
    "null",
    "none",
    "nil",
    "undefined",
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "redacted",
    "hidden",
    "masked",
    "filtered",
    "removed",
    "empty",
    "required",
    "optional",
    "n/a",
    "na",
    "unset",
    "notset",
    "not_set",
    "(none)",
    "<none>",
    "secret",
    "password",
    "token",
    "string",
    "str",
    "value",
    "bool",
    "boolean",
    "int",
    "integer",
    "object",
    "array",
    "default",
    "env",
    "changeme_placeholder",
    "values",
];

/// Whether `value` is a template, mask or documented example rather than a secret.
pub fn is_placeholder(value: &str) -> bool {
    let v = value
        .trim()
        .trim_matches(|c| c == '"' || c == '\'' || c == '`');
    if v.is_empty() {
        return true;
    }
    if NON_VALUES.iter().any(|n| n.eq_ignore_ascii_case(v)) || EXAMPLE_VALUES.contains(&v) {
        return true;
    }
    // Templates: `${NAME}`, `$(cmd)`, `{{ var }}`, `<secret>`, `%(name)s`, `%s`, `{name}`,
    // `#{name}`, `[REDACTED]`.
    let wrapped = |open: &str, close: &str| v.starts_with(open) && v.ends_with(close);
    if wrapped("${", "}")
        || wrapped("$(", ")")
        || wrapped("{{", "}}")
        || wrapped("<", ">")
        || wrapped("%(", "s")
        || wrapped("#{", "}")
        || wrapped("@{", "}")
        || wrapped("[", "]")
        || (wrapped("{", "}") && !v[1..v.len() - 1].contains(['{', '}', '"', ':']))
        || v == "%s"
        // The opening of a template cut short by the text around it.
        || ["{{", "${", "$(", "<%", "#{", "{%"].iter().any(|o| v.starts_with(o))
        || v.starts_with("[REDACTED")
        // Tcl's `$env(PW)`, an array element: a variable, as in expect scripts.
        || (v.starts_with('$')
            && v.ends_with(')')
            && v[1..].split_once('(').is_some_and(|(name, _)| {
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            }))
        // Grafana's providers: `$__file{/run/secrets/pw}`, `$__env{PW}`, `$__vault{…}`.
        || (v.starts_with("$__") && v.ends_with('}') && v.contains('{'))
    {
        return true;
    }
    // `$NAME` / `%NAME%`: a reference to an environment variable, in capitals.
    let var_name = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && s.bytes().next().is_some_and(|b| !b.is_ascii_digit())
    };
    // `$1` (a SQL positional parameter), `$p`, `$pw` (GraphQL and script variables): digits,
    // or one or two lower-case letters, so that `$ecret`, `$hunter2` and `$Summit74` stay
    // passwords.
    let param = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            || ((1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase()))
    };
    // `%secure:teamcity.password.deploy%`, `%env.DB_PASS%`: TeamCity and Windows references.
    let reference = |s: &str| {
        !s.is_empty()
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
    };
    if v.strip_prefix('$').is_some_and(|s| var_name(s) || param(s))
        || (v.len() > 2
            && wrapped("%", "%")
            && (var_name(&v[1..v.len() - 1]) || reference(&v[1..v.len() - 1])))
    {
        return true;
    }
    if is_masked(v) {
        return true;
    }
    // Words joined into a name for a secret: `my-client-password`, `secret_key_here`.
    let mut parts = v.split(['-', '_', '.']);
    if v.contains(['-', '_', '.'])
        && parts
            .clone()
            .all(|p| p.bytes().all(|b| b.is_ascii_alphabetic()))
        && parts.any(|p| {
            [
                "password",
                "secret",
                "token",
                "key",
                "apikey",
                "pass",
                "pwd",
                "credential",
            ]
            .iter()
            .any(|w| w.eq_ignore_ascii_case(p))
        })
    {
        return true;
    }
    if has_stand_in_fragment(v) {
        return true;
    }
    // A stand-in word: `sk_test_YOUR_SECRET_KEY`, `your-api-key-here`, `EXAMPLE`.
    // Split at camel case only when the value reads as words (`YourApiKeyHere`): a random
    // token splits into short "words" by chance (`TbdAAaa0…` holds `Tbd`), so its words are
    // only what separators delimit.
    let stand_in = if looks_random(v) {
        v.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| STAND_IN_WORDS.iter().any(|s| s.eq_ignore_ascii_case(w)))
    } else {
        crate::keys::Words::of(v)
            .iter()
            .any(|w| STAND_IN_WORDS.contains(&w))
    };
    if stand_in || v.contains("EXAMPLE") {
        return true;
    }
    false
}

/// Masked values: all mask characters, or a run of them inside (`sk-****abcd`, `AKIAXXXXXXXX`).
pub fn is_masked(v: &str) -> bool {
    let mask = |c: char| matches!(c, '*' | '•' | '●' | '∗' | '#' | '?' | '.' | '-' | '_' | '…');
    if v.chars().all(|c| mask(c) || c == 'x' || c == 'X') {
        return true;
    }
    let mut run_mask = 0;
    let mut run_x = 0;
    for c in v.chars() {
        run_mask = if matches!(c, '*' | '•' | '●' | '∗' | '…') {
            run_mask + 1
        } else {
            0
        };
        run_x = if c == 'x' || c == 'X' { run_x + 1 } else { 0 };
        // Six x's in a row: in a random token about one in 10^7; in a mask, the mask.
        if run_mask >= 3 || run_x >= 6 {
            return true;
        }
    }
    false
}

/// Whether a token with a provider's shape is a documented example or a masked stand-in
/// (`AKIAIOSFODNN7EXAMPLE`, `AKIAXXXXXXXXXXXXXXXX`). Deliberately narrower than
/// [`is_placeholder`]: a random token can contain a word such as `Todo` by chance.
pub fn is_fake_token(value: &str) -> bool {
    EXAMPLE_VALUES.contains(&value)
        || is_masked(value)
        || has_stand_in_fragment(value)
        || has_sequence(value)
        || low_variety(value)
}

/// The fragments of [`has_stand_in_fragment`] in one automaton: it runs on every candidate.
static STAND_IN_FRAGMENTS: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([
                "example",
                "placeholder",
                "notreal",
                "redacted",
                "sample",
                "yourkey",
                "yoursecret",
            ])
            .ok()
    });

/// Fragments that a random token contains with negligible probability and a hand-written
/// stand-in often does (`…tokenexample`, `ExampleKeyTestOnly`, `somefakekey`).
fn has_stand_in_fragment(value: &str) -> bool {
    // Only words of six letters or more: a random base62 token of 100 characters holds a given
    // four-letter word (in either case) about once in 10^4 tokens, which would be a leak; a
    // six-letter one about once in 10^7.
    // Seven literals always build; were it ever not to, values would be redacted, not kept.
    STAND_IN_FRAGMENTS
        .as_ref()
        .is_some_and(|ac| ac.is_match(value))
}

/// A run of eight characters counting up or down (`12345678`, `abcdefgh`): in a random hex
/// token about one in 10^8 per position, in a typed example the usual filler. (Six would drop
/// one random hex token in 10^4.)
fn has_sequence(value: &str) -> bool {
    let b = value.as_bytes();
    let (mut up, mut down) = (1, 1);
    for w in b.windows(2) {
        let alnum = w[0].is_ascii_alphanumeric() && w[1].is_ascii_alphanumeric();
        up = if alnum && w[1] == w[0].wrapping_add(1) {
            up + 1
        } else {
            1
        };
        down = if alnum && w[1].wrapping_add(1) == w[0] {
            down + 1
        } else {
            1
        };
        if up >= 8 || down >= 8 {
            return true;
        }
    }
    false
}

/// Too few distinct characters for a random token, or one repeated eight times (`ghp_1010…`,
/// `oooooooo`). `A`, `0`, `/` and `=` repeat in real tokens (zero bytes in base64, padding).
fn low_variety(value: &str) -> bool {
    let mut body_len = 0;
    let mut distinct = [false; 256];
    for b in value
        .bytes()
        .skip_while(|b| !b.is_ascii_digit() && *b != b'_' && *b != b'-')
    {
        body_len += 1;
        distinct[usize::from(b)] = true;
    }
    let distinct_body = distinct.iter().filter(|x| **x).count();
    let mut run = 1;
    for w in value.as_bytes().windows(2) {
        run = if w[0] == w[1] && !matches!(w[0], b'A' | b'0' | b'/' | b'=' | b'.') {
            run + 1
        } else {
            1
        };
        if run >= 8 {
            return true;
        }
    }
    body_len >= 16 && distinct_body <= 4
}

/// Whether `value` points at where a secret is kept (a vault path, a secret manager ARN, a
/// Kubernetes secret reference) instead of being one.
pub fn is_reference(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    [
        "vault:",
        "vault://",
        "ref+",
        "op://",
        "arn:aws:secretsmanager:",
        "arn:aws:ssm:",
        "arn:aws:kms:",
        "arn:aws:iam:",
        "arn:aws:",
        "projects/",
        "secretref:",
        "secretkeyref",
        "valuefrom",
        "@microsoft.keyvault(",
        "keyvault://",
        "azurekeyvault://",
        "sm://",
        "gcpsm://",
        "awssm://",
        "ssm://",
        "kms://",
        "file:",
        "env:",
        "secret://",
        "secrets://",
        "k8s://",
        "/run/secrets/",
        "/var/run/secrets/",
        "/etc/",
        "~/",
        "enc(",
        // SOPS and the Datadog agent's secret backend: `ENC[AES256_GCM,data:…]`, `ENC[handle]`.
        "enc[",
        // Spring Cloud Config's encrypted values: `{cipher}AQB…`.
        "{cipher}",
        // YAML tags that fetch a value: Home Assistant's `!secret name`, Ansible's `!vault`,
        // CloudFormation's `!Ref`, `!Sub`, `!GetAtt`, `!ImportValue`.
        "!secret",
        "!vault",
        "!ref ",
        "!sub ",
        "!getatt",
        "!importvalue",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// Whether `value` is a column or variable type (`VARCHAR2(30)`, `NVARCHAR(50)`, `String`): in a
/// declaration it stands between a credential's name and its value, and is neither.
pub fn is_type_name(value: &str) -> bool {
    let v = value.trim_end_matches([';', ',']);
    let (name, size) = match v.split_once('(') {
        Some((n, rest)) => (n, Some(rest)),
        None => (v, None),
    };
    let sized = size.is_none_or(|r| {
        r.strip_suffix(')').is_some_and(|d| {
            !d.is_empty()
                && d.bytes()
                    .all(|b| b.is_ascii_digit() || b == b',' || b == b' ')
        })
    });
    sized
        && [
            "varchar",
            "varchar2",
            "nvarchar",
            "nvarchar2",
            "char",
            "nchar",
            "varbinary",
            "string",
            "securestring",
            "text",
            "clob",
            "number",
            "integer",
            "int",
            "bigint",
            "boolean",
        ]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(name))
}

/// Whether `value` is a password hash in a crypt or LDAP format (`$6$…`, `$2b$…`, `$argon2id$…`,
/// `{SSHA}…`, `pbkdf2_sha256$…`): stored by design, not the password.
pub fn is_password_hash(value: &str) -> bool {
    let v = value.trim();
    // Compose files and Traefik labels double every `$` (`$$apr1$$…`), and htpasswd-style
    // lists pair each hash with its user (`admin:$apr1$…,ops:$2y$…`).
    if v.contains("$$") {
        return is_password_hash(&v.replace("$$", "$"));
    }
    if is_crypt_hash(v) {
        return true;
    }
    // A keyed digest its label names: Vault's audit device writes every value it logs,
    // passwords included, as `hmac-sha256:<hex>`, which is what such a log is for.
    if v.split_once(':').is_some_and(|(label, hex)| {
        label.len() > 5
            && label[..5].eq_ignore_ascii_case("hmac-")
            && is_digest_label(label)
            && hex.len() >= 16
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
    }) {
        return true;
    }
    if !v.starts_with(['$', '{']) && v.contains(':') {
        return v.split(',').all(|entry| {
            entry
                .split_once(':')
                .is_some_and(|(user, hash)| !user.is_empty() && is_crypt_hash(hash))
        });
    }
    false
}

fn is_crypt_hash(v: &str) -> bool {
    [
        "$1$",
        "$2a$",
        "$2b$",
        "$2y$",
        "$5$",
        "$6$",
        "$7$",
        "$y$",
        "$gy$",
        "$apr1$",
        "$argon2",
        "$pbkdf2",
        "$scrypt$",
        "$sha1$",
        "{SSHA}",
        "{SHA}",
        "{SSHA256}",
        "{SSHA512}",
        "{CRYPT}",
        "{PBKDF2",
        "pbkdf2_sha256$",
        "bcrypt$",
        "argon2$",
        // Jupyter's `argon2:$argon2id$…`, PostgreSQL's `md5<32 hex>` and `SCRAM-SHA-256$…`.
        "argon2:$argon2",
        "SCRAM-SHA-256$",
    ]
    .iter()
    .any(|p| v.starts_with(p))
        // Cisco's type 8 and 9 (`$9$<salt>$<hash>`: PBKDF2, scrypt); Juniper's `$9$…`, a
        // reversible encoding with no second `$`, stays a secret.
        || ((v.starts_with("$8$") || v.starts_with("$9$")) && v[3..].contains('$'))
        // A hex salt and a hex digest (`<salt>$<sha256>`: Bitcoin Core's rpcauth, many apps).
        || v.split_once('$').is_some_and(|(salt, digest)| {
            salt.len() >= 8
                && digest.len() >= 32
                && salt.bytes().all(|b| b.is_ascii_hexdigit())
                && digest.bytes().all(|b| b.is_ascii_hexdigit())
        })
        // PostgreSQL's MD5 form: `md5` and 32 hex digits.
        || (v.len() == 35
            && v.starts_with("md5")
            && v[3..].bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Keys meant to be published (Stripe publishable keys, which browsers receive).
pub fn is_publishable_key(value: &str) -> bool {
    ["pk_live_", "pk_test_"]
        .iter()
        .any(|p| value.trim().starts_with(p))
}

/// Whether `value` is a UUID (8-4-4-4-12 hex digits).
pub fn is_uuid(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && value
            .split('-')
            .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `value` has a public shape that is never a credential: a UUID, a hex digest of a
/// hash function's length, an ARN, a path, an e-mail address, a number, a date.
pub fn is_public_shape(value: &str) -> bool {
    is_uuid(value.trim()) || is_public_non_uuid(value)
}

/// [`is_public_shape`] without UUIDs, which are secrets under a credential's name (API keys
/// of several providers are UUIDs).
pub fn is_public_non_uuid(value: &str) -> bool {
    let v = value.trim();
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    // Digests: sha1/sha256/sha512/md5 in hex, with or without an algorithm prefix.
    let digest = v
        .split_once(':')
        .filter(|(alg, _)| is_digest_label(alg))
        .map_or(v, |(_, d)| d);
    if hex(digest) && [32, 40, 56, 64, 96, 128].contains(&digest.len()) && digest != v {
        return true;
    }
    // A digest its label names, shortened as tools show them (`sha256:9f2c6ab9f66d`), or
    // keyed (Vault's audit device writes every value as `hmac-sha256:<hex>`): the label says
    // what it is, and no credential is pure hex behind a hash function's name.
    if digest != v && hex(digest) && digest.len() >= 12 {
        return true;
    }
    if v.starts_with("arn:") || v.starts_with("urn:") || v.starts_with("sha256-") {
        return true;
    }
    // A Twilio account SID (`AC` and 32 hex digits) names an account; its auth token is apart.
    if v.len() == 34 && v.starts_with("AC") && v[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    if is_path(v) {
        return true;
    }
    if v.bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b':')
        && v.len() < 20
    {
        return true;
    }
    false
}

/// The name of a hash function, or of an HMAC over one, as it labels a digest
/// (`sha256`, `SHA-512`, `sha3-256`, `blake2b`, `hmac-sha256`).
fn is_digest_label(label: &str) -> bool {
    let l = label.to_ascii_lowercase();
    let alg = l.strip_prefix("hmac-").unwrap_or(&l);
    matches!(
        alg,
        "md5"
            | "sha1"
            | "sha-1"
            | "sha224"
            | "sha256"
            | "sha-256"
            | "sha384"
            | "sha-384"
            | "sha512"
            | "sha-512"
            | "sha3-256"
            | "sha3-512"
            | "blake2b"
            | "blake2s"
            | "blake3"
    )
}

/// An absolute file path (`/run/secrets/db`), not a value: base64 that happens to start with a
/// slash (`/p1Cb+o6Z/jnT…=`) has a `+`, padding or a long random segment.
pub fn is_path(v: &str) -> bool {
    // `./db_password.txt`, `../secrets/db`: a file beside the command, named, not a value.
    if let Some(rest) = v.strip_prefix("./").or_else(|| v.strip_prefix("../")) {
        return !rest.is_empty()
            && !v.contains(char::is_whitespace)
            && !rest
                .split('/')
                .any(|seg| seg.len() >= 16 && looks_random(seg));
    }
    v.starts_with('/')
        && !v.contains(char::is_whitespace)
        && v.matches('/').count() >= 2
        && !v.contains('+')
        && !v.ends_with('=')
        && !v.split('/').any(|seg| seg.len() >= 16 && looks_random(seg))
}

/// A DNS name of three or more labels (`v4.channel.k8s.io`, `db.internal.acme.io`): a
/// name, public by design, wherever it stands.
pub fn is_hostname(value: &str) -> bool {
    let labels: Vec<&str> = value.split('.').collect();
    labels.len() >= 3
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !(l.len() >= 16 && looks_random(l))
        })
        && labels.last().is_some_and(|t| {
            (2..=6).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_lowercase())
        })
}

/// A product or licence key: four to six groups of five capitals and digits joined by dashes
/// (`ZAQWS-XCDER-VBGTR-FRTGU-KLMNX`). Under a key's name it activates software: a secret.
pub fn is_product_key(value: &str) -> bool {
    let groups: Vec<&str> = value.trim().split('-').collect();
    (4..=6).contains(&groups.len())
        && groups.iter().all(|g| {
            g.len() == 5
                && g.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
        && !is_masked(value)
}

/// A long run of digits under a secret's name is a numeric secret (an app secret, a PIN-style
/// token), unless it is a Unix time in seconds, milliseconds, microseconds or nanoseconds
/// between 2015 and 2040: `token_expires_at=1733112345678` says when, not what.
pub fn is_numeric_secret(value: &str) -> bool {
    let v = value.trim();
    if v.len() < 12 || v.len() > 39 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(n) = v.parse::<u128>() else {
        return false;
    };
    // 2015 to 2040: the times a log holds, so few random secrets fall inside.
    let (from, to) = (1_420_070_400u128, 2_208_988_800u128);
    let timestamp = [1_000u128, 1_000_000, 1_000_000_000]
        .iter()
        .any(|scale| (from * scale..=to * scale).contains(&n));
    !timestamp
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

/// The shape of an AWS secret access key found away from its variable name: 40 characters
/// of base64 with upper- and lower-case letters and digits, and high entropy (a hex digest or
/// a path never passes).
pub fn aws_secret_shape(v: &str) -> bool {
    v.len() == 40
        && v.bytes().any(|b| b.is_ascii_uppercase())
        && v.bytes().any(|b| b.is_ascii_lowercase())
        && v.bytes().any(|b| b.is_ascii_digit())
        && v.bytes().filter(|b| *b == b'/').count() < 4
        && entropy(v) >= 4.2
        && !is_fake_token(v)
}

/// Whether a value under a name that only suggests a credential (`key`, `signature`) looks
/// random enough to be one: long enough, mixed character classes, high entropy, and not a
/// hex digest or UUID.
pub fn looks_random(value: &str) -> bool {
    let v = value.trim();
    if v.len() < 12
        || v.contains(char::is_whitespace)
        || is_public_shape(v)
        || is_identifier_like(v)
    {
        return false;
    }
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    let upper = v.bytes().filter(u8::is_ascii_uppercase).count();
    let lower = v.bytes().filter(u8::is_ascii_lowercase).count();
    let classes = usize::from(digits > 0) + usize::from(upper > 0) + usize::from(lower > 0);
    // Pure hex of 12 or more characters is random when it is not a digest length.
    let hex_only = v.bytes().all(|b| b.is_ascii_hexdigit());
    let e = entropy(v);
    if hex_only {
        return digits > 0 && (lower + upper) > 0 && e >= 3.0;
    }
    classes >= 2 && (digits > 0 || (upper > 0 && lower > 0)) && e >= 3.2
}

/// Whether an unquoted value is code rather than a literal: a call (`os.environ.get(`), a
/// member chain (`process.env.DB_PASS`, `self.password`), or a variable named for a credential
/// (`password = newPassword`).
pub fn is_code(value: &str) -> bool {
    let v = value.trim();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    // A call whose argument is quoted ends the unquoted value at its `(`.
    if let Some(head) = v.strip_suffix("()").or_else(|| v.strip_suffix('('))
        && !head.is_empty()
        && head.chars().all(|c| ident(c) || c == '.')
    {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if [
        "process.env",
        "os.environ",
        "os.getenv",
        "self.",
        "this.",
        "config.",
        "settings.",
        "options.",
        "opts.",
        "args.",
        "params.",
        "request.",
        "req.",
        "ctx.",
        "env.",
        "[]byte",
        "system.getenv",
        "environment.",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
    {
        return true;
    }
    v.chars()
        .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '.')
        && (v.contains('_') || v.contains('.') || v.chars().skip(1).any(|c| c.is_ascii_uppercase()))
        && crate::keys::classify(v) != crate::keys::KeyClass::Plain
}

/// Whether a value under a password name is prose in a log message (`password: changed`)
/// rather than the password: a short run of lower-case letters written after `: `.
pub fn is_prose_word(value: &str) -> bool {
    let v = value.trim();
    v.len() <= 12
        && v.bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_lowercase() || (i == 0 && b.is_ascii_uppercase()))
}

/// Whether a value reads as an identifier made of words (`attached_file_0`, `user-profile`)
/// rather than random characters.
pub fn is_identifier_like(value: &str) -> bool {
    is_separated_identifier(value) || is_camel_identifier(value)
}

/// `PaymentGatewaySecret`, `clientSecretName`: letters only, in two or more humps of a capital
/// and at least two small letters (the first hump may be small letters only). A random string
/// of letters almost never falls into humps like these.
fn is_camel_identifier(value: &str) -> bool {
    let b = value.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    let mut humps = 0;
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_uppercase() {
            i += 1;
        } else if start != 0 {
            return false;
        }
        let small = b[i..].iter().take_while(|c| c.is_ascii_lowercase()).count();
        if small < 2 {
            return false;
        }
        i += small;
        humps += 1;
    }
    humps >= 2
}

fn is_separated_identifier(value: &str) -> bool {
    let parts: Vec<&str> = value
        .split(['_', '-', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            p.bytes().all(|b| b.is_ascii_lowercase()) && p.len() >= 2
                || p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 4
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_names_are_identifiers_and_random_letters_are_not() {
        for v in [
            "PaymentGatewaySecret",
            "clientSecretName",
            "StorageAccountKey",
        ] {
            assert!(is_identifier_like(v), "{v}");
            assert!(!looks_random(v), "{v}");
        }
        for v in [
            "kJhGfDsAqWeRtYuIo",
            "QmZxVbNcLkJhGfDs",
            "aBcDeFgHiJkLmNoP",
            "Password",
        ] {
            assert!(!is_camel_identifier(v), "{v}");
        }
    }

    #[test]
    fn strict_placeholders() {
        for p in [
            "${DB_PASSWORD}",
            "{{ .Values.password }}",
            "<your-token>",
            "********",
            "xxxxxxxx",
            "AKIAXXXXXXXXXXXXXXXX",
            "sk_test_YOUR_SECRET_KEY",
            "your-api-key-here",
            "AKIAIOSFODNN7EXAMPLE",
            "$DB_PASSWORD",
            "%DB_PASS%",
            "sk-****abcd",
            "••••••",
            "[REDACTED]",
            "",
            "null",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for s in [
            "$uperS3cret!",
            "hunter2",
            "Sup3rS3cret",
            "$ecret",
            "changeme",
            "p@ss",
        ] {
            assert!(!is_placeholder(s), "{s}");
        }
    }

    #[test]
    fn public_shapes_and_references() {
        assert!(is_public_shape("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
        assert!(is_public_shape(
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        ));
        // Labelled digests, shortened or keyed, are public; a secret behind another label,
        // or a short hex run, is not made one.
        for v in [
            "hmac-sha256:9f2c6ab9f66d2e899bcf756a00904a4abca3b2",
            "HMAC-SHA512:0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "sha256:9f2c6ab9f66d",
            "sha3-256:4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15",
        ] {
            assert!(is_public_shape(v), "{v}");
        }
        for v in [
            "hmac-sha256:9f2c6a",
            "token:9f2c6ab9f66d2e89",
            "hmac-sha256:Zq3t8Kd9vB2mX7nL0pR4",
        ] {
            assert!(!is_public_shape(v), "{v}");
        }
        // Under a password's name only the keyed one is a hash of it; a plain labelled
        // digest may be a password someone chose.
        assert!(is_password_hash(
            "hmac-sha256:9f2c6ab9f66d2e899bcf756a00904a4a"
        ));
        assert!(!is_password_hash("hmac-sha256:Zq3t8Kd9vB2mX7nL"));
        assert!(!is_password_hash("token:9f2c6ab9f66d2e899bcf756a00904a4a"));
        assert!(is_reference(
            "arn:aws:secretsmanager:us-east-1:123:secret:db"
        ));
        assert!(is_reference("vault:secret/data/db#password"));
        assert!(is_reference("ENC[datadog_api_key]"));
        for v in [
            "$1",
            "$p",
            "$pw",
            "%secure:teamcity.password.deploy%",
            "%env.DB_PASS%",
        ] {
            assert!(is_placeholder(v), "{v}");
        }
        for v in ["$uperS3cret!", "$hunter2", "$Summit74", "$ecret"] {
            assert!(!is_placeholder(v), "{v}");
        }
        assert!(is_reference("{cipher}AQBc3F9xZ2xK7mLp4qR8sT0vW1yZ3"));
        assert!(is_placeholder("$__file{/run/secrets/grafana_pg}"));
        assert!(is_placeholder("$__env{PG_PASSWORD}"));
        assert!(is_password_hash(
            "admin:$$apr1$$H6uskkkW$$IgXLP6ewTrSuBkTrqE8wj/"
        ));
        assert!(is_password_hash(
            "admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/,ops:$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT/r7q1BB8I2s0BRqC"
        ));
        assert!(!is_password_hash("admin:hunter2"));
        assert!(is_password_hash("md5a3556571e93b0d20722ba62be61e8c2d"));
        assert!(is_password_hash(
            "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"
        ));
        assert!(!is_password_hash("md5sum"));
        assert!(!is_password_hash("admin:$apr1$x,bob:plain"));
        assert!(is_reference(
            "ENC[AES256_GCM,data:Tr7o=,iv:1=,tag:2=,type:str]"
        ));
        assert!(!is_public_shape("Zq3t8Kd9vB2mX7nL0pR4"));
        assert!(looks_random("Zq3t8Kd9vB2mX7nL0pR4") && !looks_random("production"));
        assert!(!looks_random("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
        assert!(!looks_random("attached_file_0"));
    }
}
