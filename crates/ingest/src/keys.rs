//! Key names: whether the name a value sits under says the value is a credential.
//!
//! The same classifier serves JSON keys, `key=value` text, environment variables, headers,
//! CLI flags, XML elements and attributes. A key is split into words (separators and camelCase
//! boundaries), so `X-Api-Key`, `apiKey`, `API_KEY` and `api.key` are one name. The last word
//! decides between a credential and metadata about one: `password` is a secret,
//! `password_min_length` and `token_type` are not.

/// What a key name says about its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyClass {
    /// The value is a secret whatever its shape (`password`, `client_secret`, `Authorization`).
    Secret,
    /// The value is a secret when it looks random (`key`, `signature`, `session_id`).
    Weak,
    /// The name says nothing about secrets.
    Plain,
}

/// Words that name a password, in the spellings people type.
const PASSWORD_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "passwrd",
    "passphrase",
    "passcode",
    "pin",
    "pincode",
    "pass",
    "pwd",
    "pw",
    "pswd",
    "psswd",
    "psswrd",
    "paswd",
    "pword",
    // Other languages' words for it, as configs written there spell them.
    "passwort",
    "kennwort",
    "wachtwoord",
    "senha",
    "contrasena",
    "losenord",
    "salasana",
];

/// Words other than a password's that name a credential on their own.
const SECRET_WORDS: &[&str] = &[
    "secret",
    "token",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "authkey",
    "apitoken",
    "accesstoken",
    "authtoken",
    "refreshtoken",
    // PAM's and SSSD's "authentication token" (`ldap_default_authtok`).
    "authtok",
    "clientsecret",
    "authorization",
    "auth",
    "cookie",
    "cookies",
    "credential",
    "credentials",
    "creds",
    "session",
    "sessionid",
    "sessid",
    "sessiontoken",
    "sessionkey",
    "jsessionid",
    "phpsessid",
    "bearer",
    "jwt",
    "otp",
    "totp",
    "mfa",
    "psk",
    "connectionstring",
    "connstr",
    // A common misspelling, and other languages' words for a secret.
    "secrete",
    "secreto",
    "segredo",
    "geheim",
];

/// Suffixes that make a concatenated word a credential (`dbpassword`, `MYSQLPASS`, `xsecret`).
const SECRET_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pass",
    "pwd",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "credentials",
    "cookie",
    "sessionid",
    // `masterauth`, `proxyauth`: Redis and proxy directives whose value is the password.
    "auth",
    // `rootpw` (slapd), `adminpw`.
    "pw",
];

/// Words that end in a secret suffix without being about one.
const SUFFIX_FALSE_FRIENDS: &[&str] = &[
    "bypass",
    // Windows' keytab tool, not a password (`ktpass /out http.keytab …`).
    "ktpass",
    // A FortiToken is a device: its serial (`set fortitoken FTKMOB…`) is an id.
    "fortitoken",
    "compass",
    "overpass",
    "underpass",
    "trespass",
    "surpass",
    "encompass",
    "sunpass",
    "oauth",
];

/// The word before `key` that makes it a credential (`api key`, `signing key`).
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "secret",
    "private",
    "priv",
    "client",
    "master",
    "signing",
    "sign",
    "encryption",
    "enc",
    "decryption",
    "account",
    "app",
    "application",
    "auth",
    "license",
    "licence",
    "ssh",
    "consumer",
    "subscription",
    "service",
    "deploy",
    "webhook",
    "storage",
    "admin",
    "root",
    "shared",
    "hmac",
    "jwt",
    "aes",
    "gpg",
    "pgp",
    "write",
    "ingest",
    "ingestion",
    "integration",
    "bot",
    "server",
    "session",
    "rest",
    "live",
    "sk",
    "cipher",
    "crypt",
    "crypto",
    "wrapping",
    "kek",
    "dek",
    "seed",
    "otp",
    // Vault's `Unseal Key 1`, `Recovery Key 1`.
    "unseal",
    "recovery",
];

/// The word before `key` that makes it plainly not a credential.
const KEY_NON_QUALIFIERS: &[&str] = &[
    "public",
    "pub",
    "primary",
    "foreign",
    "partition",
    "sort",
    "cache",
    "idempotency",
    "object",
    "s3",
    "group",
    "dedup",
    "hash",
    "row",
    "unique",
    "lookup",
    "map",
    "shard",
    "sharding",
    "range",
    "composite",
    "natural",
    "surrogate",
    "i18n",
    "translation",
    "message",
    "label",
    "metric",
    "tag",
    "field",
    "column",
    "index",
    "config",
    "setting",
    "registry",
    "hot",
    "short",
    "sequence",
    "order",
    "item",
    "record",
    "entry",
    "dictionary",
    "json",
    "yaml",
    "attribute",
    "property",
    "event",
    "trace",
    "span",
    "request",
    "correlation",
];

/// Last words that make the name metadata about a credential rather than one.
const METADATA_WORDS: &[&str] = &[
    "id",
    // Vault's `token_accessor` looks a token up or revokes it; it reads no secret.
    "accessor",
    // `--password-stdin`, `--token-prompt`: where the secret comes from, not the secret.
    "stdin",
    "prompt",
    "ids",
    "uid",
    "type",
    "types",
    "name",
    "names",
    "url",
    "urls",
    "uri",
    "endpoint",
    "path",
    "file",
    "files",
    "dir",
    "expires",
    "expiry",
    "expiration",
    "expired",
    "ttl",
    "length",
    "len",
    "count",
    "at",
    "time",
    "timestamp",
    "ts",
    "date",
    "version",
    "hint",
    "prefix",
    "suffix",
    "header",
    "format",
    "algorithm",
    "alg",
    "method",
    "methods",
    "scope",
    "scopes",
    "usage",
    "limit",
    "mode",
    "policy",
    "policies",
    "required",
    "enabled",
    "disabled",
    "set",
    "changed",
    "reset",
    "min",
    "max",
    "strength",
    "rules",
    "rule",
    "age",
    "status",
    "source",
    "provider",
    "kind",
    "field",
    "env",
    "ref",
    "reference",
    "location",
    "index",
    "size",
    "bits",
    "updated",
    "created",
    "rotation",
    "rotated",
    "valid",
    "invalid",
    "error",
    "errors",
    "used",
    "remaining",
    "label",
    "description",
    "store",
    "manager",
    "arn",
    "hash",
    "hashed",
    "digest",
    "salt",
    "fingerprint",
    "domain",
    "realm",
    "scheme",
    "issuer",
    "audience",
    "decision",
    "reason",
    "context",
    "info",
    "config",
    "configuration",
    "settings",
    "options",
    "state",
    "result",
    "level",
    "lifetime",
    "duration",
    "interval",
    "period",
    "retries",
    "attempts",
    "failures",
    "failed",
    "success",
    "succeeded",
    "ok",
    "exists",
    "present",
    "missing",
    "provided",
    "supplied",
    "check",
    "checked",
    "verified",
    "verification",
    "validation",
    "encoding",
    "charset",
    "class",
    "template",
    "generator",
    "regex",
    "pattern",
    "placeholder",
    "httponly",
    "samesite",
    "flag",
    "flags",
    "mask",
    "masked",
    "redacted",
    "visible",
    "shown",
    "length",
    "complexity",
    "history",
    "storage",
    "backend",
    "vault",
    "kms",
    "rotate",
    "lifetimeseconds",
    "seconds",
    "ms",
    "minutes",
    "hours",
    "days",
    "prompt",
    "label",
    "help",
    "text",
    "title",
    "message",
    "msg",
    "request",
    "requested",
    "sent",
    "issued",
    "granted",
    "revoked",
    "owner",
    "user",
    "username",
    "login",
    "email",
    "account",
    "host",
    "port",
    // An LDAP distinguished name (`AUTH_LDAP_BIND_DN`): who binds, not with what.
    "dn",
    "number",
    "no",
    "num",
];

/// Words that make the whole name about something else.
const PLAIN_WORDS: &[&str] = &[
    "breakglass",
    "pagination",
    "next",
    "page",
    "continuation",
    "cursor",
    "sync",
    "max",
    "csrfmiddlewaretoken",
];

/// Splits a key into lower-case words at separators and camelCase boundaries.
pub fn words(key: &str) -> Vec<String> {
    Words::of(key).iter().map(str::to_owned).collect()
}

/// A key's lower-case words, as [`words`] splits them, over one buffer: this runs for every
/// candidate match, so it allocates at most once (a key with capitals), not once per word.
pub struct Words<'a> {
    /// Borrowed when the key has no capital: most keys are snake_case.
    lower: std::borrow::Cow<'a, str>,
    spans: Spans,
}

impl<'a> Words<'a> {
    /// Splits `key`. Non-ASCII characters separate words, as any other non-alphanumeric does.
    pub fn of(key: &'a str) -> Words<'a> {
        let b = key.as_bytes();
        let mut spans = Spans::default();
        let mut start: Option<usize> = None;
        for (i, &c) in b.iter().enumerate() {
            if !c.is_ascii_alphanumeric() {
                if let Some(s) = start.take() {
                    spans.push((s, i));
                }
                continue;
            }
            let prev = i.checked_sub(1).map(|p| b[p]);
            let next = b.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() && c.is_ascii_uppercase() => true,
                // `APIKey` → `API`, `Key`: an upper-case letter followed by a lower-case one
                // starts a word after a run of capitals.
                Some(p)
                    if p.is_ascii_uppercase()
                        && c.is_ascii_uppercase()
                        && next.is_some_and(|n| n.is_ascii_lowercase()) =>
                {
                    true
                }
                _ => false,
            };
            match start {
                Some(s) if boundary => {
                    spans.push((s, i));
                    start = Some(i);
                }
                Some(_) => {}
                None => start = Some(i),
            }
        }
        if let Some(s) = start {
            spans.push((s, b.len()));
        }
        let lower = if b.iter().any(u8::is_ascii_uppercase) {
            std::borrow::Cow::Owned(key.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(key)
        };
        Words { lower, spans }
    }

    fn spans(&self) -> &[(u32, u32)] {
        self.spans.as_slice()
    }

    /// The words in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        // Spans are over ASCII alphanumerics, so they are character boundaries.
        self.spans()
            .iter()
            .map(|&(s, e)| self.lower.get(s as usize..e as usize).unwrap_or(""))
    }

    /// How many words.
    pub fn len(&self) -> usize {
        self.spans().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans().is_empty()
    }

    /// The `i`-th word.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.iter().nth(i)
    }

    /// The last word.
    pub fn last(&self) -> Option<&str> {
        self.iter().next_back()
    }
}

/// Word spans: the first twelve inline; a key of more words spills them all to the heap.
#[derive(Default)]
struct Spans {
    inline: [(u32, u32); 12],
    count: usize,
    spilled: Vec<(u32, u32)>,
}

impl Spans {
    fn as_slice(&self) -> &[(u32, u32)] {
        if self.spilled.is_empty() {
            &self.inline[..self.count]
        } else {
            &self.spilled
        }
    }

    fn push(&mut self, (s, e): (usize, usize)) {
        // Keys are short (entries are at most 64 KiB), so offsets fit in 32 bits.
        let span = (
            u32::try_from(s).unwrap_or(u32::MAX),
            u32::try_from(e).unwrap_or(u32::MAX),
        );
        if self.spilled.is_empty() && self.count < self.inline.len() {
            self.inline[self.count] = span;
            self.count += 1;
        } else {
            if self.spilled.is_empty() {
                self.spilled.extend_from_slice(&self.inline[..self.count]);
            }
            self.spilled.push(span);
        }
    }
}

/// A misspelt or abbreviated `password` (`pswrd`, `pssword`, `paswrd`, `passworsd`): a `p`, then
/// only the letters of "password", with an `s` and a `w` or a final `d`. Written out in
/// configs and code often enough that a list would always miss the next one.
fn is_password_spelling(w: &str) -> bool {
    (5..=10).contains(&w.len())
        && w.starts_with('p')
        && w.bytes().all(|b| b"pasword".contains(&b))
        && w.contains('s')
        && (w.contains('w') || w.ends_with('d'))
        && w.contains(['a', 'o', 'w'])
}

fn is_secret_word(w: &str) -> bool {
    PASSWORD_WORDS.contains(&w)
        || is_password_spelling(w)
        || SECRET_WORDS.contains(&w)
        || (!SUFFIX_FALSE_FRIENDS.contains(&w)
            && w.len() > 4
            && SECRET_SUFFIXES.iter().any(|s| w.ends_with(s) && w != *s))
}

/// Classifies a key name.
pub fn classify(key: &str) -> KeyClass {
    let ws = Words::of(key);
    let Some(last) = ws.last() else {
        // No ASCII word at all: `Пароль`, `密码`, `パスワード`.
        return if crate::lexicon::named(key).is_some() {
            KeyClass::Secret
        } else {
            KeyClass::Plain
        };
    };
    if ws.iter().any(|w| PLAIN_WORDS.contains(&w)) {
        return KeyClass::Plain;
    }
    // `session_id`, `sess_id`: often a bearer credential, often an opaque correlation id.
    // `secret_id` (Consul's SecretID, Vault AppRole's) is the credential itself, and as often
    // the name of a stored secret (AWS's SecretId): the value decides.
    if last == "id" && ws.len() >= 2 {
        let prev = ws.get(ws.len() - 2).unwrap_or("");
        if prev == "session" || prev == "sess" || prev == "sid" || prev == "secret" {
            return KeyClass::Weak;
        }
    }
    if METADATA_WORDS.contains(&last) && ws.len() > 1 {
        return KeyClass::Plain;
    }
    // A signed URL's credential scope (`X-Amz-Credential`, `X-Goog-Credential`): the signer's
    // key ID or e-mail and a date, public by design; the signature is the secret.
    if last == "credential" && ws.iter().any(|w| w == "amz" || w == "goog") {
        return KeyClass::Plain;
    }
    // Helm and Kubernetes charts: `existingSecret` names a Secret object to read, not a secret.
    if last == "secret" && ws.iter().any(|w| w == "existing") {
        return KeyClass::Plain;
    }
    if ws.iter().any(is_secret_word) {
        return KeyClass::Secret;
    }
    // `contraseña`, `DB_WACHTWOORD`, `Пароль`, `chiave API`: named in another language.
    if crate::lexicon::named(key).is_some() {
        return KeyClass::Secret;
    }
    if last == "key" || last == "keys" {
        if ws.len() == 1 {
            return KeyClass::Weak;
        }
        let prev = ws.get(ws.len() - 2).unwrap_or("");
        if KEY_QUALIFIERS.contains(&prev) {
            return KeyClass::Secret;
        }
        if KEY_NON_QUALIFIERS.contains(&prev) {
            return KeyClass::Plain;
        }
        return KeyClass::Weak;
    }
    // `kerberos_authentication`, `x_authentication`: often a method name (`"basic"`), sometimes
    // the credential itself; a random-looking value decides.
    // `AZURE_DEVOPS_EXT_PAT`, `GH_PAT`: a personal access token, or somebody called Pat.
    if [
        "signature",
        "sig",
        "sas",
        "hmac",
        "api",
        "authentication",
        "pat",
    ]
    .contains(&last)
    {
        return KeyClass::Weak;
    }
    KeyClass::Plain
}

/// Whether `key` is a secret's ID in the sense of a credential (`SecretID`, `secret_id`).
pub fn is_secret_id(key: &str) -> bool {
    let ws = Words::of(key);
    ws.len() >= 2 && ws.last() == Some("id") && ws.get(ws.len() - 2) == Some("secret")
}

/// Whether `key` names a password (a secret however short or simple it is).
pub fn is_password(key: &str) -> bool {
    if crate::lexicon::named(key) == Some(crate::lexicon::Named::Password) {
        return true;
    }
    Words::of(key).iter().any(|w| {
        PASSWORD_WORDS.contains(&w)
            || is_password_spelling(w)
            || (!SUFFIX_FALSE_FRIENDS.contains(&w)
                && ["password", "passwd", "pass", "pwd"]
                    .iter()
                    .any(|s| w.ends_with(s)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_passwords_are_passwords_and_near_words_are_not() {
        for k in [
            "PSSWD",
            "PSWRD",
            "PSWORD",
            "PSSWORD",
            "PASWRD",
            "PASWORD",
            "passworsd",
            "db_pswd",
        ] {
            assert!(is_password(k), "{k}");
        }
        for k in [
            "pods",
            "prod",
            "pads",
            "paws_count",
            "sword",
            "spread",
            "proxy",
        ] {
            assert!(!is_password(k), "{k}");
        }
    }

    #[test]
    fn splits_every_style_into_the_same_words() {
        for k in [
            "apiKey", "API_KEY", "api-key", "Api.Key", "APIKey", "api key",
        ] {
            assert_eq!(words(k), ["api", "key"], "{k}");
        }
        assert_eq!(words("X-Api-Key"), ["x", "api", "key"]);
        assert_eq!(words("AWSSecretKey"), ["aws", "secret", "key"]);
    }

    #[test]
    fn credentials_and_metadata() {
        use KeyClass::*;
        let cases = [
            ("password", Secret),
            ("Password", Secret),
            ("DB_PASSWORD", Secret),
            ("dbPassword", Secret),
            ("MYSQLPASS", Secret),
            ("pwd", Secret),
            ("client_secret", Secret),
            ("existingSecret", Plain),
            ("auth.existingSecret", Plain),
            ("Authorization", Secret),
            ("Proxy-Authorization", Secret),
            ("set-cookie", Secret),
            ("x-api-key", Secret),
            ("apikey", Secret),
            ("access_key", Secret),
            ("private_key", Secret),
            ("credentials", Secret),
            ("session", Secret),
            ("auth", Secret),
            ("AwsSecretKey", Secret),
            ("signing_key", Secret),
            ("key", Weak),
            ("session_id", Weak),
            ("signature", Weak),
            ("password_min_length", Plain),
            ("token_type", Plain),
            ("next_token", Plain),
            ("page_token", Plain),
            ("max_tokens", Plain),
            ("public_key", Plain),
            ("partition_key", Plain),
            // RabbitMQ's are topics (`orders.created`), PagerDuty's are integration keys: the
            // value decides.
            ("routing_key", Weak),
            ("kerberos_authentication", Weak),
            ("secrete", Secret),
            ("db_passwort", Secret),
            ("secretary", Plain),
            ("author", Plain),
            ("bypass", Plain),
            ("passwordless", Plain),
            ("breakglass_session", Plain),
            ("secret_name", Plain),
            ("SecretID", Weak),
            ("secret_id", Weak),
            ("key_id", Plain),
            ("password_hash", Plain),
            ("authorization.k8s.io/decision", Plain),
            ("username", Plain),
            ("resource", Plain),
        ];
        for (k, want) in cases {
            assert_eq!(classify(k), want, "{k}");
        }
        assert!(is_password("DB_PASS") && is_password("pwd") && !is_password("api_key"));
    }
}
