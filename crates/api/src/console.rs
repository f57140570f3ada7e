//! The auditor's console (`ui/`), embedded in the binary and served under `/ui/`.
//!
//! The assets are `ui/dist/`, built from `ui/src/` by `npm run build` and committed, so that
//! `cargo build` needs no Node.js; `tests/e2e/console.rs` checks that the committed bundle is
//! what the sources build. The page talks to the same API as every other client, with the
//! same roles, so serving it needs no authentication: it holds no data, only code.
//!
//! The Content-Security-Policy allows this origin's script, style and fetches and nothing
//! else: no inline script, no other host, no framing, no form posts.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

/// `(file name, content type, bytes)` of every asset.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../ui/dist/index.html"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../ui/dist/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../ui/dist/console.css"),
    ),
];

/// The console's Content-Security-Policy.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// `GET /ui`: to the page, whose relative asset paths need the trailing slash.
pub async fn redirect() -> Redirect {
    Redirect::permanent("/ui/")
}

/// `GET /ui/`.
pub async fn index() -> Response {
    asset("index.html")
}

/// `GET /ui/{file}`.
pub async fn file(Path(name): Path<String>) -> Response {
    asset(&name)
}

fn asset(name: &str) -> Response {
    let Some((_, ctype, bytes)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return crate::problem::Problem::not_found(format!("the console has no file {name}"))
            .into_response();
    };
    let mut resp = (StatusCode::OK, *bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A new binary may bring a new console: revalidate rather than run a stale verifier.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
