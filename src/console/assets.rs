//! The console's stylesheet and script, embedded in the binary and named by the hash of
//! their bytes, so a browser may keep them forever and a new build is never served stale.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    stem: &'static str,
    ext: &'static str,
    mime: &'static str,
    body: &'static [u8],
}

static FILES: [Asset; 2] = [
    Asset {
        stem: "console",
        ext: "css",
        mime: "text/css; charset=utf-8",
        body: include_bytes!("assets/console.css"),
    },
    Asset {
        stem: "console",
        ext: "js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/console.js"),
    },
];

/// Each file's public name: `console.<first 16 hex digits of SHA-256>.css`.
static NAMED: LazyLock<Vec<(String, &'static Asset)>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|a| {
            let digest = hex::encode(Sha256::digest(a.body));
            (format!("{}.{}.{}", a.stem, &digest[..16], a.ext), a)
        })
        .collect()
});

fn href(ext: &str) -> String {
    let name = NAMED
        .iter()
        .find(|(_, a)| a.ext == ext)
        .map(|(n, _)| n.as_str())
        .unwrap_or_default();
    format!("{}/static/{name}", super::PREFIX)
}

/// Where the stylesheet is served (for the page layout).
pub fn css_href() -> String {
    href("css")
}

/// Where the script is served (for the page layout).
pub fn js_href() -> String {
    href("js")
}

/// Serves an embedded file by its hashed name, cached for a year.
pub async fn serve(Path(file): Path<String>) -> Response {
    match NAMED.iter().find(|(n, _)| *n == file) {
        Some((_, a)) => (
            [
                (header::CONTENT_TYPE, a.mime),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            a.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
