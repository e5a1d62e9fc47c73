//! What the web pages and APIs share: cookies, anti-forgery (same-site checks and the forms'
//! token), and random tokens.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::error::AppError;
use crate::html::{Markup, hidden};

/// A random token, URL-safe.
pub fn random_token() -> String {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).expect("the OS has randomness");
    hex::encode(b)
}

/// A cookie's value.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(name)
                .and_then(|v| v.strip_prefix('='))
                .map(str::to_owned)
        })
}

/// A `Set-Cookie` value: over TLS only, out of scripts' reach, never sent by another site's page.
pub fn strict_cookie(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age}")
}

/// Whether another site's page made the browser send this request (by `Sec-Fetch-Site`, or an
/// `Origin` that is not this server).
pub fn cross_site(headers: &HeaderMap) -> bool {
    let cross = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    let origin_ok = match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin == format!("https://{host}"),
        (Some(_), None) => false,
        (None, _) => true,
    };
    cross || !origin_ok
}

/// The anti-forgery cookie of the phone pages' forms. A form carries its value in a hidden
/// field; another site can neither read it nor make a browser send it (`SameSite=Strict`).
pub const FORM_COOKIE: &str = "__Host-menpai-form";

/// A form's anti-forgery token: the browser's form cookie, made when it has none.
#[derive(Debug)]
pub struct FormToken {
    pub value: String,
    fresh: bool,
}

impl FormToken {
    pub fn of(headers: &HeaderMap) -> FormToken {
        match cookie(headers, FORM_COOKIE)
            .filter(|v| v.len() == 48 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            Some(value) => FormToken {
                value,
                fresh: false,
            },
            None => FormToken {
                value: random_token(),
                fresh: true,
            },
        }
    }

    /// The hidden field to put in the form.
    pub fn field(&self) -> Markup {
        hidden("csrf", &self.value)
    }

    /// Sets the cookie on the page that carries the form, if the browser has none yet.
    pub fn set_on(&self, response: &mut Response) {
        if !self.fresh {
            return;
        }
        let cookie = strict_cookie(FORM_COOKIE, &self.value, 86400);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// Refuses a form post that did not come from our own page: a cross-site origin, or a field
/// that does not repeat the browser's form cookie.
pub fn check_form(headers: &HeaderMap, field: Option<&String>) -> Result<(), AppError> {
    if cross_site(headers) {
        return Err(AppError::new(StatusCode::FORBIDDEN, "请在本站页面提交"));
    }
    let cookie = cookie(headers, FORM_COOKIE).unwrap_or_default();
    let same = field.is_some_and(|f| {
        !cookie.is_empty() && menpai_model::secret::same(f.as_bytes(), cookie.as_bytes())
    });
    if !same {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "页面已过期，请刷新后重新提交",
        ));
    }
    Ok(())
}

/// The header a console page's script repeats the form cookie in (anti-forgery for JSON).
pub const TOKEN_HEADER: &str = "x-csrf-token";

/// Refuses a JSON change a page of ours did not send: a browser's session (the cookie) must
/// repeat the form cookie in [`TOKEN_HEADER`]. Only a bearer token (an API client; a browser
/// never sends one by itself, and then the cookie is not read) needs no such proof.
pub fn check_json_change(headers: &HeaderMap) -> Result<(), AppError> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    if bearer {
        return Ok(());
    }
    let token = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    check_form(headers, token.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name_and_forms_must_repeat_theirs() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-menpai-form=abc"),
        );
        assert_eq!(cookie(&h, "a").as_deref(), Some("1"));
        assert_eq!(cookie(&h, "b"), None);
        assert!(check_form(&h, Some(&"abc".to_owned())).is_ok());
        assert!(check_form(&h, Some(&"abd".to_owned())).is_err());
        assert!(check_form(&h, None).is_err());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        h.insert(header::HOST, HeaderValue::from_static("menpai.example"));
        assert!(cross_site(&h));
        assert!(check_form(&h, Some(&"abc".to_owned())).is_err());
    }

    #[test]
    fn random_tokens_are_48_hex_digits_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 48);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
