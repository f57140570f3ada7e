//! Credential names in the world's languages: what localized software and the people who run it
//! call a password, an API key or an access token, so that `contraseña:`, `DB_WACHTWOORD=`,
//! `"senha":`, `Пароль:`, `パスワード:` and `密码：` name a secret as `password` does.
//!
//! Written from each language's usual words (operating-system and browser translations, and
//! what documentation in that language writes), not from a corpus. Phrases are matched as whole
//! words of a key after separators (`_`, `-`, `.`, no-break spaces, curly apostrophes) are
//! normalized, except in scripts written without spaces (Chinese, Japanese, Korean and Thai),
//! where they may sit inside a longer name (`数据库口令`).

use aho_corasick::{AhoCorasick, MatchKind};
use std::sync::LazyLock;

/// Names of a password (a secret however short or simple).
pub const PASSWORD_NAMES: &[&str] = &[
    // Germanic
    "passwort",
    "kennwort",
    "wachtwoord",
    "adgangskode",
    "kodeord",
    "passord",
    "lösenord",
    "losenord",
    "lykilorð",
    // Romance
    "mot de passe",
    "motdepasse",
    "mdp",
    "contraseña",
    "contrasena",
    "contrasenya",
    "contrasinal",
    "clave",
    "clave de acceso",
    "senha",
    "palavra passe",
    "palavra chave",
    "parola d'ordine",
    "parolă",
    "parola",
    // Slavic, Baltic, Finno-Ugric, others in Latin script
    "hasło",
    "haslo",
    "heslo",
    "lozinka",
    "geslo",
    "slaptažodis",
    "slaptazodis",
    "salasana",
    "parool",
    "salasõna",
    "jelszó",
    "jelszo",
    "şifre",
    "sifre",
    "fjalëkalim",
    "fjalekalim",
    "cyfrinair",
    "pasfhocal",
    "pasahitza",
    "mật khẩu",
    "mat khau",
    "kata sandi",
    "kata laluan",
    "nenosiri",
    // Cyrillic and Greek
    "пароль",
    "парола",
    "лозинка",
    "κωδικός",
    "κωδικός πρόσβασης",
    "συνθηματικό",
    // Right-to-left scripts
    "סיסמה",
    "סיסמא",
    "كلمة المرور",
    "كلمة السر",
    "رمز عبور",
    "گذرواژه",
    "رمز",
    // South and South-East Asian
    "पासवर्ड",
    "कूटशब्द",
    "পাসওয়ার্ড",
    "கடவுச்சொல்",
    "รหัสผ่าน",
    // East Asian
    "パスワード",
    "暗証番号",
    "密码",
    "密碼",
    "口令",
    "비밀번호",
    "암호",
    "패스워드",
];

/// Names of an API key, an access token or a secret key.
pub const SECRET_NAMES: &[&str] = &[
    "chiave api",
    "chiave segreta",
    "clé api",
    "cle api",
    "clé secrète",
    "cle secrete",
    "clave de api",
    "clave api",
    "clave secreta",
    "chave de api",
    "chave api",
    "chave secreta",
    "api schlüssel",
    "api schluessel",
    "geheimer schlüssel",
    "api sleutel",
    "klucz api",
    "api nøgle",
    "api nyckel",
    "api avain",
    "kunci api",
    "api anahtarı",
    "api anahtari",
    "jeton",
    "jeton d'accès",
    "jeton d'acces",
    "token de acceso",
    "token de acesso",
    "token di accesso",
    "zugriffstoken",
    "zugangstoken",
    "toegangstoken",
    "token dostępu",
    "přístupový token",
    "erişim belirteci",
    "belirteç",
    "ключ api",
    "api ключ",
    "токен",
    "токен доступа",
    "секретный ключ",
    "κλειδί api",
    "apiキー",
    "api キー",
    "トークン",
    "アクセストークン",
    "シークレット",
    "秘密鍵",
    "api密钥",
    "api 密钥",
    "api密鑰",
    "密钥",
    "密鑰",
    "令牌",
    "访问令牌",
    "存取權杖",
    "api 키",
    "api키",
    "토큰",
    "액세스 토큰",
    "비밀 키",
];

/// Every name of [`PASSWORD_NAMES`] and [`SECRET_NAMES`] as one regex alternation, longest
/// first, separators between words as any run of `_ - .` or (no-break) spaces and either
/// apostrophe: what a rule's `{localized}` becomes when it is compiled.
pub fn alternation() -> String {
    let mut names: Vec<&str> = PASSWORD_NAMES.iter().chain(SECRET_NAMES).copied().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names
        .iter()
        .map(|n| {
            n.split([' ', '-'])
                .map(|w| regex::escape(w).replace('\'', "['\u{2019}]"))
                .collect::<Vec<_>>()
                .join(r"[ \t_.\-\x{a0}\x{202f}]+")
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// Prefilter keywords for the names: each name's longest word, without its first letter when
/// that letter has a case outside ASCII (`Пароль`, `Şifre`), since the prefilter folds ASCII
/// only.
pub fn keywords() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in PASSWORD_NAMES.iter().chain(SECRET_NAMES) {
        let word = n
            .split([' ', '-', '\''])
            .max_by_key(|w| w.chars().count())
            .unwrap_or(n);
        let first = word.chars().next().unwrap_or(' ');
        let cased = !first.is_ascii() && first.to_uppercase().next() != Some(first);
        let k: String = if cased {
            word.chars().skip(1).collect()
        } else {
            word.to_owned()
        };
        if k.chars().count() >= 2 && !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// What a key names, by the lexicon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    /// A password.
    Password,
    /// An API key, token or secret key.
    Secret,
}

struct Lexicon {
    ac: AhoCorasick,
    /// For each pattern: what it names, and whether it is in a script written without spaces.
    kinds: Vec<(Named, bool)>,
}

/// Whether `c` is of a script that writes words without spaces between them.
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0E7F // Thai
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF // Han
        | 0xAC00..=0xD7AF | 0x1100..=0x11FF // Hangul
    )
}

static LEXICON: LazyLock<Option<Lexicon>> = LazyLock::new(|| {
    let mut patterns = Vec::new();
    let mut kinds = Vec::new();
    for (names, named) in [
        (PASSWORD_NAMES, Named::Password),
        (SECRET_NAMES, Named::Secret),
    ] {
        for n in names {
            patterns.push(normalize(n));
            kinds.push((named, n.chars().any(unspaced)));
        }
    }
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&patterns)
        .ok()?;
    Some(Lexicon { ac, kinds })
});

/// Lower case, separators as single spaces, apostrophes straight.
fn normalize(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 2);
    let mut space = true;
    for c in key.chars().flat_map(char::to_lowercase) {
        let c = match c {
            '_' | '-' | '.' | '/' | '\u{a0}' | '\u{202f}' | '\u{2009}' => ' ',
            '\u{2019}' | '\u{2018}' | '`' | '\u{02bc}' => '\'',
            c if c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// What `key` names, if the lexicon knows it: a phrase that is a whole run of its words (or,
/// in a script without spaces, anywhere in it). A password wins over a secret.
pub fn named(key: &str) -> Option<Named> {
    // Leftmost-longest: `clave de acceso` is one name, not `clave` and two more words.
    let lex = LEXICON.as_ref()?;
    let n = normalize(key);
    let mut found = None;
    for m in lex.ac.find_iter(&n) {
        let Some(&(kind, cjk)) = lex.kinds.get(m.pattern().as_usize()) else {
            continue;
        };
        let before = n[..m.start()].chars().next_back();
        let after = n[m.end()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() || unspaced(c));
        if cjk || (edge(before) && edge(after)) {
            if kind == Named::Password {
                return Some(Named::Password);
            }
            found = Some(kind);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localized_names_are_known_in_any_separator_style() {
        for (key, want) in [
            ("contraseña", Named::Password),
            ("DB_WACHTWOORD", Named::Password),
            ("Пароль", Named::Password),
            ("mot de passe", Named::Password),
            ("mot-de-passe", Named::Password),
            ("kata_sandi", Named::Password),
            ("数据库口令", Named::Password),
            ("パスワード", Named::Password),
            ("비밀번호", Named::Password),
            ("jeton d\u{2019}accès", Named::Secret),
            ("API-Schlüssel", Named::Secret),
            ("chiave API", Named::Secret),
            ("senha_db", Named::Password),
        ] {
            assert_eq!(named(key), Some(want), "{key}");
        }
        for key in [
            "user",
            "clavecin",
            "parolee",
            "tokens",
            "hostname",
            "sifrelemek",
        ] {
            // Whole words only: a longer word is another word.
            assert_eq!(named(key), None, "{key}");
        }
    }
}
