//! The built-in detection rules: one linear-time regex each, keywords for the prefilter, an
//! optional validator, and the examples that the tests hold every rule to.
//!
//! Conventions: a rule's secret is its `s` capture group (or `s2`, `s3` for alternatives, the
//! first that matched), else the whole match; `k` captures a key name where the context
//! matters. Keywords are matched ASCII-case-insensitively and only decide which regexes run.
//! Examples are synthetic: shapes of real credentials, never real ones.

/// What a rule's match must also pass before it counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The match is the finding.
    None,
    /// GitHub-style base62 CRC32 checksum in the last six characters; recorded as confidence,
    /// never used to drop a match, so a misunderstood checksum cannot let a real token in.
    Base62Crc32,
    /// Payment card numbers: the Luhn check and a known issuer prefix.
    Luhn,
    /// The header segment decodes to a JSON object naming an algorithm.
    Jwt,
    /// US social security numbers: no area 000, 666 or 9xx, no zero group or serial.
    Ssn,
    /// The value is not a placeholder such as `****`, `${VAR}` or `<password>`.
    NotPlaceholder,
    /// A value under a secret-sounding key: the key is not metadata about a secret
    /// (`token_type`, `password_min_length`) and the value is not a placeholder; values under
    /// keys that do not say "password" must also look random.
    SecretValue,
}

/// How a rule ranks when matches overlap: the more specific kind wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A credential with a provider's distinctive shape.
    Provider = 0,
    /// A credential found by the structure around it (URLs, headers, flags, key blocks).
    Structural = 1,
    /// A value under a secret-sounding name.
    Generic = 2,
    /// Personal data, off by default.
    Pii = 3,
}

/// A built-in rule.
#[derive(Clone, Copy, Debug)]
pub struct RuleDef {
    /// Stable identifier, used in redaction markers and policy.
    pub id: &'static str,
    /// What it finds.
    pub description: &'static str,
    /// The rule's regex runs only on text containing one of these.
    pub keywords: &'static [&'static str],
    /// The regex (Rust `regex` syntax: no look-around, linear time).
    pub pattern: &'static str,
    /// The extra check.
    pub check: Check,
    /// Its rank among overlapping matches.
    pub kind: Kind,
    /// Texts it must flag, each with the secret it must find there.
    pub examples: &'static [(&'static str, &'static str)],
    /// Texts it must not flag.
    pub counterexamples: &'static [&'static str],
}

use Check as C;
use Kind as K;

macro_rules! rule {
    ($id:literal, $desc:literal, [$($kw:literal),*], $pat:literal, $check:expr, $kind:expr,
     [$(($ex:literal, $sec:literal)),* $(,)?], [$($neg:literal),* $(,)?]) => {
        RuleDef {
            id: $id, description: $desc, keywords: &[$($kw),*], pattern: $pat, check: $check,
            kind: $kind, examples: &[$(($ex, $sec)),*], counterexamples: &[$($neg),*],
        }
    };
}

/// Every built-in rule.
pub const RULES: &[RuleDef] = &[
    // ---- Cloud providers -------------------------------------------------------------------
    rule!(
        "aws-access-key-id",
        "AWS access key ID",
        ["akia", "asia", "abia", "acca", "a3t"],
        r"\b(?P<s>(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})\b",
        C::None,
        K::Provider,
        [(
            "key=AKIAZ7VRSQ5TQDL3XWMB region=us-east-1",
            "AKIAZ7VRSQ5TQDL3XWMB"
        )],
        [
            "AKIA is a prefix",
            "AKIAz7vrsq5tqdl3xwmb",
            "XAKIAZ7VRSQ5TQDL3XWMBX"
        ]
    ),
    rule!(
        "aws-secret-access-key",
        "AWS secret access key next to its name",
        ["aws"],
        r#"(?i)aws[_\-.]?(?:secret[_\-.]?(?:access[_\-.]?)?key|sk)["']?\s*(?:=|:|=>)\s*["']?(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        C::None,
        K::Provider,
        [
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKY"
            ),
            (
                r#"{"AWS_SECRET_ACCESS_KEY":"Zq3t8Kd9vB2mX7nL0pR4sW6yA1cE5gH8jK2oQ9uT"}"#,
                "Zq3t8Kd9vB2mX7nL0pR4sW6yA1cE5gH8jK2oQ9uT"
            )
        ],
        ["aws_secret_access_key = short", "aws region us-east-1"]
    ),
    rule!(
        "aws-session-token",
        "AWS session token next to its name",
        ["aws_session_token", "aws-session-token", "awssessiontoken"],
        r#"(?i)aws[_\-]?session[_\-]?token["']?\s*(?:=|:)\s*["']?(?P<s>[A-Za-z0-9/+=]{100,})"#,
        C::None,
        K::Provider,
        [(
            "AWS_SESSION_TOKEN=FwoGZXIvYXdzEJr//////////wEaDNhJ8b2kLm3nPq4rStUvWxYz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghij",
            "FwoGZXIvYXdzEJr//////////wEaDNhJ8b2kLm3nPq4rStUvWxYz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghij"
        )],
        ["aws_session_token is missing"]
    ),
    rule!(
        "gcp-api-key",
        "Google API key",
        ["aiza"],
        r"\b(?P<s>AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)",
        C::None,
        K::Provider,
        [(
            "maps?key=AIzaSyD3f9Kq2Lm8Xv7Bn4Rt6Wy1Zc5Hj0Pq2Ab&q=x",
            "AIzaSyD3f9Kq2Lm8Xv7Bn4Rt6Wy1Zc5Hj0Pq2Ab"
        )],
        ["AIza short", "AIzaSyD3f9Kq2Lm8X"]
    ),
    rule!(
        "gcp-oauth-client-secret",
        "Google OAuth client secret",
        ["gocspx-"],
        r"\b(?P<s>GOCSPX-[A-Za-z0-9_\-]{28})(?:[^A-Za-z0-9_\-]|$)",
        C::None,
        K::Provider,
        [(
            "client_secret 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 ok",
            "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"
        )],
        ["GOCSPX-short"]
    ),
    rule!(
        "gcp-oauth-access-token",
        "Google OAuth access token",
        ["ya29."],
        r"\b(?P<s>ya29\.[0-9A-Za-z_\-]{30,})",
        C::None,
        K::Provider,
        [(
            "token ya29.a0AfH6SMBx3Kq9Lm2Nv8Pw7Rt4Yz1Ab5Cd6Ef0Gh here",
            "ya29.a0AfH6SMBx3Kq9Lm2Nv8Pw7Rt4Yz1Ab5Cd6Ef0Gh"
        )],
        ["ya29.short"]
    ),
    rule!(
        "gcp-service-account-key-id",
        "Google service-account private key ID",
        ["private_key_id"],
        r#""private_key_id"\s*:\s*"(?P<s>[0-9a-f]{40})""#,
        C::None,
        K::Provider,
        [(
            r#"{"type":"service_account","private_key_id":"8f3a2b1c4d5e6f708192a3b4c5d6e7f801234567"}"#,
            "8f3a2b1c4d5e6f708192a3b4c5d6e7f801234567"
        )],
        [r#"{"private_key_id":""}"#]
    ),
    rule!(
        "azure-storage-account-key",
        "Azure storage connection string account key",
        ["accountkey="],
        r"(?i)AccountKey=(?P<s>[A-Za-z0-9+/]{86,88}={0,2})",
        C::None,
        K::Provider,
        [(
            "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kjp1vRt+1fjORS/6ilI8ihN5KXSc7Tvo==;EndpointSuffix=core.windows.net",
            "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kjp1vRt+1fjORS/6ilI8ihN5KXSc7Tvo=="
        )],
        ["AccountKey=short;"]
    ),
    rule!(
        "azure-sas-token",
        "Azure shared access signature",
        ["sig="],
        r"[?&]sig=(?P<s>[A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})",
        C::None,
        K::Provider,
        [(
            "https://acme.blob.core.windows.net/c/f?sv=2022-11-02&se=2026-01-01&sr=b&sp=r&sig=Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7%3D",
            "Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7%3D"
        )],
        ["?sig=short", "signature sig=abc"]
    ),
    rule!(
        "azure-ad-client-secret",
        "Azure AD (Entra ID) client secret",
        ["q~"],
        r"(?:^|[^A-Za-z0-9_~.\-])(?P<s>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)",
        C::None,
        K::Provider,
        [(
            "secret: abc8Q~Xy7Zk3Lm9Nq2Rs5Tu8Vw1Xy4Za7Bc0De ok",
            "abc8Q~Xy7Zk3Lm9Nq2Rs5Tu8Vw1Xy4Za7Bc0De"
        )],
        ["the Q~ sign"]
    ),
    rule!(
        "alibaba-access-key-id",
        "Alibaba Cloud access key ID",
        ["ltai"],
        r"\b(?P<s>LTAI[A-Za-z0-9]{20})\b",
        C::None,
        K::Provider,
        [("id=LTAI5tQk9Lm2Xv8Bn4Rt6Wy1 ok", "LTAI5tQk9Lm2Xv8Bn4Rt6Wy1")],
        ["LTAI is short"]
    ),
    rule!(
        "digitalocean-token",
        "DigitalOcean personal access, OAuth or refresh token",
        ["dop_v1_", "doo_v1_", "dor_v1_"],
        r"\b(?P<s>do[por]_v1_[a-f0-9]{64})\b",
        C::None,
        K::Provider,
        [(
            "DO token dop_v1_f16947ccf25ec84d8dbc74254770f58904dba41ecccc3fc1626e53a13043b026",
            "dop_v1_f16947ccf25ec84d8dbc74254770f58904dba41ecccc3fc1626e53a13043b026"
        )],
        ["dop_v1_short"]
    ),
    rule!(
        "heroku-api-key",
        "Heroku platform API key",
        ["hrku-"],
        r"\b(?P<s>HRKU-[A-Za-z0-9_\-]{60})\b",
        C::None,
        K::Provider,
        [(
            "HRKU-NyjOq9wMxEhh2FDEEtfjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXoIIX ok",
            "HRKU-NyjOq9wMxEhh2FDEEtfjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXoIIX"
        )],
        ["HRKU-short"]
    ),
    rule!(
        "databricks-token",
        "Databricks personal access token",
        ["dapi"],
        r"\b(?P<s>dapi[a-f0-9]{32}(?:-\d)?)\b",
        C::None,
        K::Provider,
        [(
            "token dapi0123456789abcdef0123456789abcdef-2 ok",
            "dapi0123456789abcdef0123456789abcdef-2"
        )],
        ["dapi short"]
    ),
    // ---- Source hosting and package registries ---------------------------------------------
    rule!(
        "github-token",
        "GitHub classic personal access, OAuth, app or refresh token",
        ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        r"\b(?P<s>gh[pousr]_[A-Za-z0-9]{36})\b",
        C::Base62Crc32,
        K::Provider,
        [(
            "git push https://x:ghp_R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0jG8sE2u@github.com",
            "ghp_R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0jG8sE2u"
        )],
        ["ghp_short", "ghx_R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0jG8sE2u"]
    ),
    rule!(
        "github-fine-grained-token",
        "GitHub fine-grained personal access token",
        ["github_pat_"],
        r"\b(?P<s>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        C::Base62Crc32,
        K::Provider,
        [(
            "GH=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",
            "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"
        )],
        ["github_pat_short"]
    ),
    rule!(
        "gitlab-token",
        "GitLab personal, project or group access token",
        ["glpat-"],
        r"\b(?P<s>glpat-[A-Za-z0-9_\-]{20,})",
        C::None,
        K::Provider,
        [(
            "PRIVATE-TOKEN glpat-Xk9mQ2Lp7Rv3Tz8Wb1Nc ok",
            "glpat-Xk9mQ2Lp7Rv3Tz8Wb1Nc"
        )],
        ["glpat-short"]
    ),
    rule!(
        "gitlab-runner-token",
        "GitLab runner authentication token",
        ["glrt-"],
        r"\b(?P<s>glrt-[A-Za-z0-9_\-]{20,})",
        C::None,
        K::Provider,
        [(
            "runner glrt-Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd ok",
            "glrt-Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd"
        )],
        ["glrt-x"]
    ),
    rule!(
        "gitlab-deploy-token",
        "GitLab deploy token",
        ["gldt-"],
        r"\b(?P<s>gldt-[A-Za-z0-9_\-]{20,})",
        C::None,
        K::Provider,
        [(
            "deploy gldt-Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd ok",
            "gldt-Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd"
        )],
        ["gldt-x"]
    ),
    rule!(
        "npm-token",
        "npm access token",
        ["npm_"],
        r"\b(?P<s>npm_[A-Za-z0-9]{36})\b",
        C::Base62Crc32,
        K::Provider,
        [(
            "//registry.npmjs.org/:_authToken=npm_R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0jG8sE2u",
            "npm_R8tK2mQ9vL3xB7nP4wZ6yA1cD5fH0jG8sE2u"
        )],
        ["npm_install_hook"]
    ),
    rule!(
        "pypi-token",
        "PyPI upload token",
        ["pypi-ageichlwas5vcmc"],
        r"\b(?P<s>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})",
        C::None,
        K::Provider,
        [(
            "password = pypi-AgEIcHlwaS5vcmcCJDk5ZjJmNGQ4LTk5ZmEtNDg2Mi1hMjUyLTg4ZTg0ZjNmYzYyYQACKlsxLFsiYWNtZSJdXQ",
            "pypi-AgEIcHlwaS5vcmcCJDk5ZjJmNGQ4LTk5ZmEtNDg2Mi1hMjUyLTg4ZTg0ZjNmYzYyYQACKlsxLFsiYWNtZSJdXQ"
        )],
        ["pypi-AgEIcHlwaS5vcmc"]
    ),
    rule!(
        "rubygems-api-key",
        "RubyGems API key",
        ["rubygems_"],
        r"\b(?P<s>rubygems_[a-f0-9]{48})\b",
        C::None,
        K::Provider,
        [(
            "GEM_HOST_API_KEY: rubygems_0123456789abcdef0123456789abcdef0123456789abcdef",
            "rubygems_0123456789abcdef0123456789abcdef0123456789abcdef"
        )],
        ["rubygems_org"]
    ),
    rule!(
        "nuget-api-key",
        "NuGet API key",
        ["oy2"],
        r"\b(?P<s>oy2[a-z0-9]{43})\b",
        C::None,
        K::Provider,
        [(
            "nuget push -k oy2abcdefghijklmnopqrstuvwxyz0123456789abcdefg",
            "oy2abcdefghijklmnopqrstuvwxyz0123456789abcdefg"
        )],
        ["oy2 short"]
    ),
    rule!(
        "dockerhub-token",
        "Docker Hub personal access token",
        ["dckr_pat_"],
        r"\b(?P<s>dckr_pat_[A-Za-z0-9_\-]{27})",
        C::None,
        K::Provider,
        [(
            "docker login -p dckr_pat_Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6",
            "dckr_pat_Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6"
        )],
        ["dckr_pat_"]
    ),
    rule!(
        "atlassian-api-token",
        "Atlassian API token",
        ["atatt3"],
        r"\b(?P<s>ATATT3[A-Za-z0-9_\-=]{150,200})",
        C::None,
        K::Provider,
        [(
            "jira ATATT3xFfGF0Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3=0A1B2C3D ok",
            "ATATT3xFfGF0Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3=0A1B2C3D"
        )],
        ["ATATT3 short"]
    ),
    // ---- Chat, email, payments, SaaS --------------------------------------------------------
    rule!(
        "slack-token",
        "Slack bot, user, app or configuration token",
        ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe", "xapp-"],
        r"\b(?P<s>(?:xox[abeprs](?:\.[a-z0-9]+)?-|xapp-\d-)[0-9A-Za-z\-]{10,})",
        C::None,
        K::Provider,
        [(
            "slack xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx ok",
            "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
        )],
        ["xoxb-", "the xoxo club"]
    ),
    rule!(
        "slack-webhook",
        "Slack incoming webhook URL",
        ["hooks.slack.com"],
        r"(?P<s>https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,120})",
        C::None,
        K::Provider,
        [(
            "POST https://hooks.slack.com/services/T0ABC1234/B0DEF5678/AbCdEfGhIjKlMnOpQrStUvWx done",
            "https://hooks.slack.com/services/T0ABC1234/B0DEF5678/AbCdEfGhIjKlMnOpQrStUvWx"
        )],
        ["see https://hooks.slack.com/ for docs"]
    ),
    rule!(
        "discord-webhook",
        "Discord webhook URL",
        ["discord"],
        r"(?P<s>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{15,20}/[A-Za-z0-9_\-]{60,70})",
        C::None,
        K::Provider,
        [(
            "hook https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz012345 x",
            "https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz012345"
        )],
        ["https://discord.com/channels/1/2"]
    ),
    rule!(
        "teams-webhook",
        "Microsoft Teams incoming webhook URL",
        ["webhook.office.com"],
        r"(?P<s>https://[a-z0-9\-]+\.webhook\.office\.com/webhookb2/[A-Za-z0-9@\-]{30,}/IncomingWebhook/[A-Za-z0-9]{32}/[A-Za-z0-9\-]{36})",
        C::None,
        K::Provider,
        [(
            "url=https://acme.webhook.office.com/webhookb2/3f9a2b1c-4d5e-6f70-8192-a3b4c5d6e7f8@0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d/IncomingWebhook/0123456789abcdef0123456789abcdef/3f9a2b1c-4d5e-6f70-8192-a3b4c5d6e7f8",
            "https://acme.webhook.office.com/webhookb2/3f9a2b1c-4d5e-6f70-8192-a3b4c5d6e7f8@0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d/IncomingWebhook/0123456789abcdef0123456789abcdef/3f9a2b1c-4d5e-6f70-8192-a3b4c5d6e7f8"
        )],
        ["https://acme.webhook.office.com/"]
    ),
    rule!(
        "telegram-bot-token",
        "Telegram bot token",
        [":aa"],
        r"(?:^|[^0-9])(?P<s>\d{8,10}:AA[0-9A-Za-z_\-]{33})(?:[^0-9A-Za-z_\-]|$)",
        C::None,
        K::Provider,
        [(
            "bot123456789:AA8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJiba ready",
            "123456789:AA8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJiba"
        )],
        ["12:AA short"]
    ),
    rule!(
        "discord-bot-token",
        "Discord bot token next to its name",
        ["discord"],
        r#"(?i)discord[_\-.]?(?:bot[_\-.]?)?token["']?\s*(?:=|:)\s*["']?(?P<s>[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})"#,
        C::None,
        K::Provider,
        [(
            "DISCORD_TOKEN=MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs",
            "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"
        )],
        ["discord token rotated"]
    ),
    rule!(
        "stripe-secret-key",
        "Stripe secret or restricted key",
        ["sk_live_", "sk_test_", "rk_live_", "rk_test_"],
        r"\b(?P<s>[rs]k_(?:live|test)_[0-9A-Za-z]{24,99})\b",
        C::None,
        K::Provider,
        [(
            "Stripe.api_key = 'sk_live_51Hq2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs'",
            "sk_live_51Hq2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs"
        )],
        ["sk_live_short"]
    ),
    rule!(
        "stripe-webhook-secret",
        "Stripe webhook signing secret",
        ["whsec_"],
        r"\b(?P<s>whsec_[A-Za-z0-9+/]{32,})",
        C::None,
        K::Provider,
        [(
            "STRIPE_WEBHOOK whsec_Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Y",
            "whsec_Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Y"
        )],
        ["whsec_x"]
    ),
    rule!(
        "square-token",
        "Square access token or OAuth secret",
        ["eaaa", "sq0csp-", "sq0atp-"],
        r"\b(?P<s>EAAA[A-Za-z0-9_\-]{60}|sq0(?:csp|atp)-[0-9A-Za-z_\-]{22,43})",
        C::None,
        K::Provider,
        [(
            "square EAAAZUPgHV7iB3m03nbqnsGpWLuqIA1id6Vw5DQL05HA064GiIjHGb3CXlMaXZjl ok",
            "EAAAZUPgHV7iB3m03nbqnsGpWLuqIA1id6Vw5DQL05HA064GiIjHGb3CXlMaXZjl"
        )],
        ["EAAA short"]
    ),
    rule!(
        "shopify-token",
        "Shopify access, custom-app, private-app or shared secret",
        ["shpat_", "shpca_", "shppa_", "shpss_"],
        r"\b(?P<s>shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b",
        C::None,
        K::Provider,
        [(
            "X-Shopify-Access-Token: shpat_0123456789abcdef0123456789abcdef",
            "shpat_0123456789abcdef0123456789abcdef"
        )],
        ["shpat_"]
    ),
    rule!(
        "twilio-api-key",
        "Twilio API key SID",
        // "sk" alone occurs in "task" and "disk"; the SID is SK and a hex digit.
        [
            "sk0", "sk1", "sk2", "sk3", "sk4", "sk5", "sk6", "sk7", "sk8", "sk9", "ska", "skb",
            "skc", "skd", "ske", "skf"
        ],
        r"\b(?P<s>SK[0-9a-f]{32})\b",
        C::None,
        K::Provider,
        [(
            "twilio key SK0123456789abcdef0123456789abcdef ok",
            "SK0123456789abcdef0123456789abcdef"
        )],
        ["SKU12345", "SKIP"]
    ),
    rule!(
        "twilio-auth-token",
        "Twilio auth token next to its name",
        ["twilio"],
        r#"(?i)twilio[_\-.]?auth[_\-.]?token["']?\s*(?:=|:)\s*["']?(?P<s>[0-9a-f]{32})\b"#,
        C::None,
        K::Provider,
        [(
            "TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef"
        )],
        ["twilio auth token rotated"]
    ),
    rule!(
        "sendgrid-api-key",
        "SendGrid API key",
        ["sg."],
        r"\b(?P<s>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})",
        C::None,
        K::Provider,
        [(
            "SENDGRID=SG.jENUhJduRHHJEYXg4Jdpmr.cXgGCJbW56eCuNGMGmSrCGIZEG8pSH4487q7J58m1Ci",
            "SG.jENUhJduRHHJEYXg4Jdpmr.cXgGCJbW56eCuNGMGmSrCGIZEG8pSH4487q7J58m1Ci"
        )],
        ["SG.short"]
    ),
    rule!(
        "mailgun-api-key",
        "Mailgun API key",
        ["key-"],
        r"\b(?P<s>key-[0-9a-f]{32})\b",
        C::None,
        K::Provider,
        [(
            "api:key-0123456789abcdef0123456789abcdef@api.mailgun.net",
            "key-0123456789abcdef0123456789abcdef"
        )],
        ["key-value store"]
    ),
    rule!(
        "mailchimp-api-key",
        "Mailchimp API key",
        ["-us"],
        r"\b(?P<s>[0-9a-f]{32}-us\d{1,2})\b",
        C::None,
        K::Provider,
        [(
            "mc 0123456789abcdef0123456789abcdef-us21 ok",
            "0123456789abcdef0123456789abcdef-us21"
        )],
        ["en-us1"]
    ),
    rule!(
        "openai-api-key",
        "OpenAI API key",
        ["t3blbkfj"],
        r"\b(?P<s>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,74}T3BlbkFJ[A-Za-z0-9_\-]{20,74})",
        C::None,
        K::Provider,
        [(
            "OPENAI_API_KEY=sk-proj-Xk9mQ2Lp7Rv3Tz8Wb1Nc5HT3BlbkFJd0Jf6Gs4Ae2Yu9Io3Pl7Ab",
            "sk-proj-Xk9mQ2Lp7Rv3Tz8Wb1Nc5HT3BlbkFJd0Jf6Gs4Ae2Yu9Io3Pl7Ab"
        )],
        ["T3BlbkFJ alone"]
    ),
    rule!(
        "anthropic-api-key",
        "Anthropic API key",
        ["sk-ant-"],
        r"\b(?P<s>sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,110})",
        C::None,
        K::Provider,
        [(
            "x-api-key: sk-ant-api03-Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3AA",
            "sk-ant-api03-Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3AA"
        )],
        ["sk-ant-api03-short"]
    ),
    rule!(
        "huggingface-token",
        "Hugging Face access token",
        ["hf_"],
        r"\b(?P<s>hf_[A-Za-z]{34})\b",
        C::None,
        K::Provider,
        [(
            "HF_TOKEN=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",
            "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"
        )],
        ["hf_short"]
    ),
    rule!(
        "hashicorp-vault-token",
        "HashiCorp Vault service or batch token",
        ["hvs.", "hvb.", "hvr."],
        r"\b(?P<s>hv[sbr]\.[A-Za-z0-9_\-]{24,})",
        C::None,
        K::Provider,
        [(
            "VAULT_TOKEN=hvs.CAESIXk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2",
            "hvs.CAESIXk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2"
        )],
        ["hvs.short"]
    ),
    rule!(
        "terraform-cloud-token",
        "Terraform Cloud / HCP API token",
        [".atlasv1."],
        r"\b(?P<s>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70})",
        C::None,
        K::Provider,
        [(
            "token = \"Xk9mQ2Lp7Rv3Tz.atlasv1.Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0\"",
            "Xk9mQ2Lp7Rv3Tz.atlasv1.Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0"
        )],
        ["x.atlasv1.y"]
    ),
    rule!(
        "doppler-token",
        "Doppler service token",
        ["dp.pt.", "dp.st."],
        r"\b(?P<s>dp\.(?:pt|st)\.[A-Za-z0-9]{40,44})",
        C::None,
        K::Provider,
        [(
            "DOPPLER_TOKEN=dp.pt.Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7A",
            "dp.pt.Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7A"
        )],
        ["dp.pt.x"]
    ),
    rule!(
        "pulumi-token",
        "Pulumi access token",
        ["pul-"],
        r"\b(?P<s>pul-[a-f0-9]{40})\b",
        C::None,
        K::Provider,
        [(
            "PULUMI_ACCESS_TOKEN=pul-0123456789abcdef0123456789abcdef01234567",
            "pul-0123456789abcdef0123456789abcdef01234567"
        )],
        ["pul-x"]
    ),
    rule!(
        "datadog-api-key",
        "Datadog API or application key next to its name",
        ["datadog", "dd_api", "dd-api", "dd_app", "dd-app"],
        r#"(?i)(?:datadog|dd)[_\-.]?(?:api|app(?:lication)?)[_\-.]?key["']?\s*(?:=|:)\s*["']?(?P<s>[a-f0-9]{32}(?:[a-f0-9]{8})?)\b"#,
        C::None,
        K::Provider,
        [(
            "DD_API_KEY=0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef"
        )],
        ["datadog api key missing"]
    ),
    rule!(
        "newrelic-key",
        "New Relic user or ingest key",
        ["nrak-", "nrii-", "nrjs-"],
        r"\b(?P<s>NR(?:AK|II|JS)-[A-Za-z0-9]{19,32})\b",
        C::None,
        K::Provider,
        [(
            "NEW_RELIC_API_KEY=NRAK-XK9MQ2LP7RV3TZ8WB1NC5HD0JF6",
            "NRAK-XK9MQ2LP7RV3TZ8WB1NC5HD0JF6"
        )],
        ["NRAK-x"]
    ),
    rule!(
        "sentry-token",
        "Sentry auth token",
        ["sntrys_", "sntryu_"],
        r"\b(?P<s>sntry[su]_[A-Za-z0-9+/=_]{40,})",
        C::None,
        K::Provider,
        [(
            "SENTRY_AUTH_TOKEN=sntryu_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "sntryu_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        )],
        ["sntrys_x"]
    ),
    rule!(
        "grafana-token",
        "Grafana service-account or cloud token",
        ["glsa_", "glc_"],
        r"\b(?P<s>glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})",
        C::None,
        K::Provider,
        [(
            "Authorization: glsa_TBGzvAmwufUxbvJDCTbyvHNsG9eh6Yo4_32881584",
            "glsa_TBGzvAmwufUxbvJDCTbyvHNsG9eh6Yo4_32881584"
        )],
        ["glsa_x"]
    ),
    rule!(
        "linear-api-key",
        "Linear API key",
        ["lin_api_"],
        r"\b(?P<s>lin_api_[A-Za-z0-9]{40})\b",
        C::None,
        K::Provider,
        [(
            "LINEAR=lin_api_0B26R08qzjI6GKFSufrdZSlB5er8bOfZqfM2oeq3",
            "lin_api_0B26R08qzjI6GKFSufrdZSlB5er8bOfZqfM2oeq3"
        )],
        ["lin_api_x"]
    ),
    rule!(
        "postman-api-key",
        "Postman API key",
        ["pmak-"],
        r"\b(?P<s>PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b",
        C::None,
        K::Provider,
        [(
            "PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01 ok",
            "PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01"
        )],
        ["PMAK-x"]
    ),
    rule!(
        "figma-token",
        "Figma personal access token",
        ["figd_"],
        r"\b(?P<s>figd_[A-Za-z0-9_\-]{40,})",
        C::None,
        K::Provider,
        [(
            "X-Figma-Token: figd_Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7A",
            "figd_Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7A"
        )],
        ["figd_x"]
    ),
    rule!(
        "planetscale-token",
        "PlanetScale password or service token",
        ["pscale_tkn_", "pscale_pw_", "pscale_oauth_"],
        r"\b(?P<s>pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_\-.]{32,64})",
        C::None,
        K::Provider,
        [(
            "pscale_pw_Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9 ok",
            "pscale_pw_Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9"
        )],
        ["pscale_pw_x"]
    ),
    rule!(
        "supabase-token",
        "Supabase access token",
        ["sbp_"],
        r"\b(?P<s>sbp_[a-f0-9]{40})\b",
        C::None,
        K::Provider,
        [(
            "SUPABASE_ACCESS_TOKEN=sbp_0123456789abcdef0123456789abcdef01234567",
            "sbp_0123456789abcdef0123456789abcdef01234567"
        )],
        ["sbp_x"]
    ),
    rule!(
        "mapbox-secret-token",
        "Mapbox secret access token",
        ["sk.eyj"],
        r"\b(?P<s>sk\.eyJ[A-Za-z0-9_\-]{50,}\.[A-Za-z0-9_\-]{20,})",
        C::None,
        K::Provider,
        [(
            "MAPBOX=sk.eyJ1IjoiYWNtZSIsImEiOiJja2V4YW1wbGUwMDAwMDAwMDAwMDAwMDAwMCJ9.Xk9mQ2Lp7Rv3Tz8Wb1Nc5H",
            "sk.eyJ1IjoiYWNtZSIsImEiOiJja2V4YW1wbGUwMDAwMDAwMDAwMDAwMDAwMCJ9.Xk9mQ2Lp7Rv3Tz8Wb1Nc5H"
        )],
        ["sk.eyJ short"]
    ),
    rule!(
        "facebook-access-token",
        "Facebook (Meta) access token",
        ["eaacedeose0cba", "eaab"],
        r"\b(?P<s>EAA(?:CEdEose0cBA|B)[0-9A-Za-z]{40,})",
        C::None,
        K::Provider,
        [(
            "fb EAABXk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Ab ok",
            "EAABXk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7Ab"
        )],
        ["EAAB short"]
    ),
    rule!(
        "twitter-bearer-token",
        "Twitter (X) app bearer token",
        ["aaaaaaaaaaaaaaaaaaaaa"],
        r"\b(?P<s>AAAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{30,})",
        C::None,
        K::Provider,
        [(
            "bearer AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F",
            "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F"
        )],
        ["AAAAAAAAAAAAAAAAAAAAA"]
    ),
    rule!(
        "jwt",
        "JSON Web Token",
        ["eyj"],
        r"\b(?P<s>eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})",
        C::Jwt,
        K::Provider,
        [(
            "token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFsaWNlIn0.Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7A",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFsaWNlIn0.Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0Jf6Gs4Ae2Yu9Io3Pl7A"
        )],
        ["eyJub3RhIjoiand0In0.eyJub3RhIjoiand0In0.AAAAAAAAAAAA"]
    ),
    // ---- Key material -----------------------------------------------------------------------
    rule!(
        "private-key",
        "PEM private key (PKCS#1, PKCS#8, EC, DSA, encrypted)",
        ["private key-----"],
        r"(?P<s>-----BEGIN (?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----[\s\S]*?-----END (?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----)",
        C::None,
        K::Provider,
        [(
            "key: -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY----- end",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY-----"
        )],
        ["-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----"]
    ),
    rule!(
        "openssh-private-key",
        "OpenSSH private key",
        ["openssh private key"],
        r"(?P<s>-----BEGIN OPENSSH PRIVATE KEY-----[\s\S]*?-----END OPENSSH PRIVATE KEY-----)",
        C::None,
        K::Provider,
        [(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----"
        )],
        ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG public"]
    ),
    rule!(
        "pgp-private-key",
        "PGP private key block",
        ["pgp private key block"],
        r"(?P<s>-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]*?-----END PGP PRIVATE KEY BLOCK-----)",
        C::None,
        K::Provider,
        [(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF1k\n-----END PGP PRIVATE KEY BLOCK-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF1k\n-----END PGP PRIVATE KEY BLOCK-----"
        )],
        ["-----BEGIN PGP PUBLIC KEY BLOCK-----"]
    ),
    rule!(
        "private-key-unterminated",
        "Start of a private key whose end was cut off",
        ["private key"],
        r"(?P<s>-----BEGIN [A-Z ]{0,20}PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s\\:,\-]{16,})",
        C::None,
        K::Structural,
        [(
            "log truncated: -----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
            "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
        )],
        ["the private key was rotated"]
    ),
    rule!(
        "putty-private-key",
        "PuTTY private key file",
        ["putty-user-key-file"],
        r"(?P<s>PuTTY-User-Key-File-[23]:[^\n]*\n(?:[^\n]*\n)*?Private-MAC: [0-9a-f]{40,64})",
        C::None,
        K::Provider,
        [(
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nAAAAIGx\nPrivate-MAC: 0123456789abcdef0123456789abcdef01234567",
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nAAAAIGx\nPrivate-MAC: 0123456789abcdef0123456789abcdef01234567"
        )],
        ["PuTTY-User-Key-File-3 mentioned"]
    ),
    rule!(
        "age-secret-key",
        "age encryption secret key",
        ["age-secret-key-1"],
        r"\b(?P<s>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b",
        C::None,
        K::Provider,
        [(
            "AGE-SECRET-KEY-18AQ463GZ082SRTVNNDJUT3KPSZQPV70UXMLENDW4VGEKRGQYSM2R9CJ0JZ",
            "AGE-SECRET-KEY-18AQ463GZ082SRTVNNDJUT3KPSZQPV70UXMLENDW4VGEKRGQYSM2R9CJ0JZ"
        )],
        ["AGE-SECRET-KEY-1"]
    ),
    // ---- Structure: URLs, headers, cookies, connection strings, command lines ---------------
    rule!(
        "url-credentials",
        "Password in a URL's user information (scheme://user:pass@host)",
        ["://"],
        r#"(?i)\b[a-z][a-z0-9+.\-]{1,20}://(?P<k>[^\s:/@"'<>]{0,128}):(?P<s>[^\s/@"'<>]+)@[a-z0-9.\-_\[]"#,
        C::NotPlaceholder,
        K::Structural,
        [
            (
                "connecting to postgres://app:Sup3rS3cret!@db.internal:5432/prod",
                "Sup3rS3cret!"
            ),
            (
                "REDIS_URL=redis://:hunter2hunter2@cache:6379",
                "hunter2hunter2"
            )
        ],
        [
            "https://example.com/a@b",
            "postgres://app:${DB_PASSWORD}@db/prod",
            "http://user:****@host/"
        ]
    ),
    rule!(
        "authorization-basic",
        "HTTP Basic credentials",
        ["basic"],
        r#"(?i-u)\b(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?basic[ \t]+(?P<s>[A-Za-z0-9+/]{6,}={0,2})"#,
        C::None,
        K::Structural,
        [(
            "curl -H 'Authorization: Basic YWRtaW46aHVudGVyMg==' https://x",
            "YWRtaW46aHVudGVyMg=="
        )],
        ["basic authorization is disabled"]
    ),
    rule!(
        "authorization-bearer",
        "HTTP Bearer token",
        ["bearer"],
        r"(?i)\bbearer\s+(?P<s>[A-Za-z0-9\-._~+/]{12,}=*)",
        C::None,
        K::Structural,
        [(
            "Authorization: Bearer 3f9a2b1c4d5e6f7081a2b3c4d5e6",
            "3f9a2b1c4d5e6f7081a2b3c4d5e6"
        )],
        ["bearer token missing", "the bearer of the message"]
    ),
    rule!(
        "api-key-header",
        "Credential in an API-key style header",
        [
            "api-key",
            "auth-token",
            "access-token",
            "private-token",
            "vault-token",
            "x-token"
        ],
        r#"(?i)\b(?:x-api-key|api-key|x-auth-token|x-access-token|private-token|x-vault-token|x-goog-api-key|x-token)["']?\s*[:=]\s*["']?(?P<s>[A-Za-z0-9\-._~+/=]{12,})"#,
        C::NotPlaceholder,
        K::Structural,
        [(
            "X-Api-Key: 9f2c1a7b3e4d5f60718293a4",
            "9f2c1a7b3e4d5f60718293a4"
        )],
        ["x-api-key header required"]
    ),
    rule!(
        "session-cookie",
        "Session identifier in a cookie or URL",
        // Every name the regex knows is followed by '=': keywords that end in it keep common
        // words such as "inside" from waking the rule.
        [
            "sid=",
            "session=",
            "session_id=",
            "sessionid=",
            "auth_token=",
            "remember_token=",
            "aspsessionid"
        ],
        r#"(?i)(?:^|[\s;,?&"'])(?P<k>jsessionid|phpsessid|aspsessionid[a-z]*|asp\.net_sessionid|connect\.sid|laravel_session|_session_id|session_?id|sessionid|sessid|sid|session|auth_token|remember_token)=(?P<s>[A-Za-z0-9%._\-+/]{12,})"#,
        C::NotPlaceholder,
        K::Structural,
        [(
            "Cookie: theme=dark; JSESSIONID=8F3A2B1C4D5E6F708192A3B4C5D6E7F8",
            "8F3A2B1C4D5E6F708192A3B4C5D6E7F8"
        )],
        ["sid=short", "session=closed"]
    ),
    rule!(
        "connection-string-password",
        "Password in an ADO.NET/ODBC style connection string",
        ["password", "pwd"],
        r"(?i)(?:server|data source|host|hostname|address|addr|uid|user id)\s*=[^;\n]+;(?:[^;\n]*;)*?\s*(?:password|pwd)\s*=\s*(?P<s>[^;\n]{1,128})",
        C::NotPlaceholder,
        K::Structural,
        [(
            "Server=db01;Database=Sales;User Id=app;Password=Tr0ub4dor&3;",
            "Tr0ub4dor&3"
        )],
        ["Server=db01;Database=Sales;Integrated Security=true;"]
    ),
    rule!(
        "cli-secret-flag",
        "Secret passed as a command-line flag",
        ["pass", "pwd", "token", "secret", "key"],
        r#"(?i)(?:^|\s)--?(?:password|passwd|pass|pwd|token|secret|api-key|apikey|auth-token|access-token|client-secret|secret-key)(?:=|\s+)["']?(?P<s>[^\s"'\-][^\s"']*)"#,
        C::NotPlaceholder,
        K::Structural,
        [
            (
                "$ vault login --token s.Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0",
                "s.Xk9mQ2Lp7Rv3Tz8Wb1Nc5Hd0"
            ),
            ("psql --password=hunter2 -h db", "hunter2")
        ],
        ["--password-file /run/secrets/db", "ls --tokens"]
    ),
    rule!(
        "mysql-password-flag",
        "MySQL/MariaDB password glued to -p",
        ["mysql", "mariadb"],
        r"\b(?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n]*?\s-p(?P<s>[^\s\x22'-][^\s\x22']{0,127})",
        C::NotPlaceholder,
        K::Structural,
        [("mysql -u root -pS3cr3tPw -h 10.0.0.5", "S3cr3tPw")],
        ["mysql -u root -p -h db", "mysql --port 3306"]
    ),
    rule!(
        "sshpass-password",
        "Password given to sshpass",
        ["sshpass"],
        r#"\bsshpass\s+-p\s*["']?(?P<s>[^\s"']{1,128})"#,
        C::NotPlaceholder,
        K::Structural,
        [("sshpass -p 'hunter2!' ssh admin@host", "hunter2!")],
        ["sshpass -f file ssh host"]
    ),
    rule!(
        "curl-user-password",
        "Password given to curl -u",
        ["curl"],
        r#"\bcurl\b[^\n]*?\s(?:-u|--user)\s*["']?[^\s:"']{1,128}:(?P<s>[^\s"']{1,128})"#,
        C::NotPlaceholder,
        K::Structural,
        [(
            "curl -u admin:Adm1nPass! https://api.internal/v1",
            "Adm1nPass!"
        )],
        ["curl -u admin https://api", "curl -u $USER:$PASS x"]
    ),
    rule!(
        "env-secret",
        "Secret in an environment assignment (KEY=value, export KEY=value)",
        [
            "secret",
            "token",
            "pass",
            "pwd",
            "key",
            "credential",
            "auth"
        ],
        r#"(?m)^[ \t]*(?:export[ \t]+)?(?P<k>[A-Z][A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|PWD|PASS|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?|AUTH)[A-Z0-9_]*)=(?:"(?P<s2>[^"\n]+)"|'(?P<s3>[^'\n]+)'|(?P<s>[^\s'"]+))"#,
        C::SecretValue,
        K::Structural,
        [
            ("export DB_PASSWORD=hunter2", "hunter2"),
            ("GITHUB_TOKEN=\"abc123def456ghi789\"", "abc123def456ghi789")
        ],
        [
            "TOKEN_TTL=3600",
            "PASSWORD_MIN_LENGTH=12",
            "export SECRET_NAME=db-creds"
        ]
    ),
    // ---- Values under secret-sounding names (JSON, YAML, INI, query strings, logs) ----------
    rule!(
        "password-assignment",
        "Value assigned to a password-like name",
        ["pass", "pwd"],
        r#"(?i)(?P<k>[a-z0-9_.\-]*(?:password|passwd|passphrase|pwd)[a-z0-9_\-]*|\bpass)["']?\s*(?:=|:|=>)\s*(?:"(?P<s2>[^"\n]+)"|'(?P<s3>[^'\n]+)'|(?P<s>[^\s"',;&<>{}\[\]]+))"#,
        C::SecretValue,
        K::Generic,
        [
            ("login user=bob&password=Winter2024! ok", "Winter2024!"),
            (r#"{"password": "correct horse"}"#, "correct horse"),
            ("db:\n  password: s3cr3t-value\n", "s3cr3t-value")
        ],
        [
            "password_length=12",
            "password=",
            "password: ******",
            "password_reset_required=true",
            "password=${DB_PASSWORD}"
        ]
    ),
    rule!(
        "secret-assignment",
        "Random-looking value assigned to a secret/token/key-like name",
        ["secret", "token", "key", "credential", "auth"],
        r#"(?i)(?P<k>[a-z0-9_.\-]*(?:secret|token|api[_\-]?key|apikey|access[_\-]?key|auth[_\-]?key|private[_\-]?key|client[_\-]?secret|credentials?|session[_\-]?key|signing[_\-]?key|encryption[_\-]?key|auth)[a-z0-9_\-]*)["']?\s*(?:=|:|=>)\s*["']?(?P<s>[A-Za-z0-9_\-+/=.~%:]{8,})"#,
        C::SecretValue,
        K::Generic,
        [
            (
                "api_key=Zq3t8Kd9vB2mX7nL0pR4 region=eu",
                "Zq3t8Kd9vB2mX7nL0pR4"
            ),
            (
                "client_secret: 7f3a9c2e1b4d8f6a0c5e",
                "7f3a9c2e1b4d8f6a0c5e"
            )
        ],
        [
            "token_type=Bearer",
            "next_page_token=CAEQAA",
            "max_tokens=4096",
            "token_id=42",
            "author=alice"
        ]
    ),
    // ---- Personal data (off by default) -------------------------------------------------------
    rule!(
        "payment-card",
        "Payment card number (Luhn-valid, known issuer)",
        [],
        r"\b(?P<s>(?:\d[ -]?){12,18}\d)\b",
        C::Luhn,
        K::Pii,
        [("card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111")],
        ["order 1234567890123456", "4111 1111 1111 1112"]
    ),
    rule!(
        "us-ssn",
        "US social security number",
        [],
        r"\b(?P<s>\d{3}-\d{2}-\d{4})\b",
        C::Ssn,
        K::Pii,
        [("ssn 123-45-6789 on file", "123-45-6789")],
        ["000-12-3456", "666-12-3456", "phone 555-12-0000"]
    ),
];
