//! Who a console request is: the session cookie, the CSRF token every form carries, and
//! the cross-site check every POST passes.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::page::PageError;
use crate::domain::web_sessions::{self, WebUser};
use crate::http::media::PublicBase;
use crate::http::AppState;

/// A form that carries nothing but its CSRF token (a button).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

/// The session cookie's name.
pub const COOKIE: &str = "deckd_session";

/// A signed-in console account.
pub type SignedIn = WebUser;

/// The signed-in account of a page; anyone else is sent to the sign-in page (or the setup
/// page while the box has no account).
pub struct Signed(pub SignedIn);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        if let Some(cookie) = jar.get(COOKIE) {
            match web_sessions::resolve(&s.db, cookie.value()).await {
                Ok(Some(user)) => return Ok(Self(user)),
                Ok(None) => {}
                Err(e) => return Err(PageError::from(e).into_response()),
            }
        }
        // Inside the nested console router the URI has lost its prefix; the original has it.
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        let next = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(super::PREFIX);
        let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        Err(Redirect::to(&format!("{}/login?next={next}", super::PREFIX)).into_response())
    }
}

/// A signed-in administrator of the box; other accounts get 403.
pub struct Admin(pub SignedIn);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let Signed(user) = Signed::from_request_parts(parts, s).await?;
        if user.is_admin {
            Ok(Self(user))
        } else {
            Err(PageError::new(
                StatusCode::FORBIDDEN,
                "Only an administrator may open this page.",
            )
            .into_response())
        }
    }
}

/// The session's CSRF secret masked with a fresh pad, so the token in a compressed page
/// differs on every response.
pub fn mask(raw: &[u8]) -> String {
    let pad: Vec<u8> = (0..raw.len()).map(|_| rand::random::<u8>()).collect();
    let mut out = pad.clone();
    out.extend(pad.iter().zip(raw).map(|(p, r)| p ^ r));
    URL_SAFE_NO_PAD.encode(out)
}

/// Whether a form's token unmasks to the session's secret.
fn unmasks_to(token: &str, raw: &[u8]) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(token.trim()) else {
        return false;
    };
    if bytes.len() != 2 * raw.len() || raw.is_empty() {
        return false;
    }
    let (pad, masked) = bytes.split_at(raw.len());
    let secret: Vec<u8> = pad.iter().zip(masked).map(|(p, m)| p ^ m).collect();
    secret.ct_eq(raw).into()
}

impl Signed {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        if unmasks_to(token, &self.0.csrf) {
            Ok(())
        } else {
            Err(PageError::new(
                StatusCode::FORBIDDEN,
                "This form has expired or came from another site. Go back, reload the page and try again.",
            ))
        }
    }
}

/// The session cookie for `value`: HttpOnly, SameSite=Lax, Secure when the console is
/// reached over HTTPS, valid for the console's paths only.
pub fn session_cookie(value: String, base: &PublicBase) -> Cookie<'static> {
    Cookie::build((COOKIE, value))
        .path(super::PREFIX)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(base.is_https())
        .max_age(time::Duration::days(30))
        .build()
}

/// Removes the session cookie.
pub fn cleared_cookie() -> Cookie<'static> {
    Cookie::build((COOKIE, "")).path(super::PREFIX).build()
}

/// Refuses a POST another site's page sent: browsers say so in `Sec-Fetch-Site`, older
/// ones only through `Origin`, which must then name this host.
pub async fn same_origin_posts(
    State(s): State<AppState>,
    base: PublicBase,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let headers = request.headers();
    let allowed = match headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
        Some(b"same-origin" | b"none") => true,
        Some(_) => false,
        None => match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            None => true,
            Some(origin) => {
                origin == base.as_str()
                    || s.config
                        .public_url
                        .as_ref()
                        .is_some_and(|u| origin == u.origin().ascii_serialization())
            }
        },
    };
    if allowed {
        next.run(request).await
    } else {
        PageError::new(
            StatusCode::FORBIDDEN,
            "This request came from another site and was refused.",
        )
        .into_response()
    }
}

/// Where to go after signing in: a path of the console, never another site.
pub fn safe_next(next: &str) -> String {
    let prefix = super::PREFIX;
    let ok = (next == prefix
        || next.starts_with(&format!("{prefix}/"))
        || next.starts_with(&format!("{prefix}?")))
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok {
        next.to_string()
    } else {
        format!("{}/", super::PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_tokens_differ_and_unmask_to_the_secret() {
        let secret = [7u8; 32];
        let (a, b) = (mask(&secret), mask(&secret));
        assert_ne!(a, b);
        assert!(unmasks_to(&a, &secret) && unmasks_to(&b, &secret));
        assert!(!unmasks_to(&a, &[8u8; 32]));
        assert!(!unmasks_to("", &secret));
        assert!(!unmasks_to("not base64!", &secret));
        assert!(!unmasks_to(&URL_SAFE_NO_PAD.encode([0u8; 64]), &secret));
    }

    #[test]
    fn only_console_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next("/console/review?deck=x"),
            "/console/review?deck=x"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/consolex",
            "/console\\x",
            "/other",
        ] {
            assert_eq!(safe_next(bad), "/console/", "{bad}");
        }
    }
}
