//! Who is calling: API tokens and session cookies become an application [`Ctx`]; cookie-borne
//! requests that change state must also prove they came from our own pages (CSRF).

use crate::AppState;
use crate::problem::ApiError;
use accredit_app::Ctx;
use accredit_app::auth::SessionInfo;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};

pub const SESSION_COOKIE: &str = "accredit_session";
/// Double-submit token for forms shown before anyone is signed in (login, email confirmation).
pub const FORM_CSRF_COOKIE: &str = "accredit_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A `Set-Cookie` value; `max_age_secs` of 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The authenticated caller of an API endpoint.
pub struct Caller(pub Ctx);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let request_id = request_id(parts);
        if let Some(authorization) = parts.headers.get(header::AUTHORIZATION) {
            let bearer = authorization
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
                })?;
            let principal = state.app.token_principal(bearer.trim()).await?;
            return Ok(Caller(Ctx::new(principal, request_id)));
        }
        if let Some(cookie_value) = cookie(&parts.headers, SESSION_COOKIE) {
            let session = state.app.session(&cookie_value).await?;
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe {
                let sent = parts
                    .headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !same_secret(sent, &session.csrf_token) {
                    return Err(ApiError::forbidden(format!(
                        "requests signed in with a session cookie must send the page's CSRF token in the `{CSRF_HEADER}` header"
                    )));
                }
            }
            return Ok(Caller(Ctx::new(session.principal, request_id)));
        }
        Err(ApiError::unauthenticated(
            "sign in, or send an API token as `Authorization: Bearer <token>`",
        ))
    }
}

/// A signed-in person on a page; anyone else is sent to the login page.
pub struct PageUser {
    pub session: SessionInfo,
    pub request_id: Option<String>,
}

impl PageUser {
    pub fn ctx(&self) -> Ctx {
        Ctx::new(self.session.principal.clone(), self.request_id.clone())
    }
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/login").into_response();
        let cookie_value = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(to_login)?;
        match state.app.session(&cookie_value).await {
            Ok(session) => Ok(PageUser {
                session,
                request_id: request_id(parts),
            }),
            Err(accredit_app::AppError::Unauthenticated(_)) => Err(to_login()),
            Err(other) => Err(crate::pages::PageError::from(other).into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; accredit_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn session_cookies_are_http_only_same_site_and_secure_over_tls() {
        let plain = set_cookie(SESSION_COOKIE, "v", 60, false);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        assert!(set_cookie(SESSION_COOKIE, "v", 60, true).ends_with("; Secure"));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
