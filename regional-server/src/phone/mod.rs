//! The phone-side plate: public, mobile-first pages that the plate's QR codes, the hall's
//! website and a WeChat menu open. Plain HTML and CSS, readable with JavaScript off, from the
//! same published content version the terminals show.
//!
//! Short URLs (the scheme QR codes and menus use, documented in `regional-server/phone-urls.md`):
//! `/h/{hall}` the hall's plate · `/i/{item}` an item's guide · `/c/{item}?s=a,b` a checklist ·
//! `/o` outlets near me · `/o/{outlet}` one outlet · `/t/{hall}/{yyyymmdd}/{number}` a ticket ·
//! `/book/{hall}/{item}` booking · `/a/{id}` a booking's confirmation.

mod checklist;
mod outlets;
mod pages;
pub mod ticket;

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use menpai_model::ContentPack;
pub use menpai_model::percent_encode as urlencode;
use sha2::{Digest, Sha256};

use crate::Server;
use crate::error::AppError;
use crate::fleet::esc;

/// The published content the pages show: loaded at start, replaced on every publish.
#[derive(Debug, Default)]
pub struct Published(RwLock<Option<Arc<Current>>>);

#[derive(Debug)]
pub struct Current {
    pub version: String,
    pub pack: ContentPack,
}

impl Published {
    pub fn new(version: String, pack: ContentPack) -> Published {
        Published(RwLock::new(Some(Arc::new(Current { version, pack }))))
    }

    /// A new version was published.
    pub fn replace(&self, version: String, pack: ContentPack) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) =
            Some(Arc::new(Current { version, pack }));
    }

    /// The latest published version, if any.
    pub fn current(&self) -> Option<Arc<Current>> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/h/{hall}", get(pages::hall))
        .route("/i/{item}", get(pages::guide))
        .route("/c/{item}", get(checklist::page))
        .route("/o", get(outlets::near))
        .route("/o/{outlet}", get(outlets::outlet))
        .route("/forms/{file}", get(pages::form))
        .route("/t/{hall}/{day}/{number}", get(ticket::page))
        .route("/t/{hall}/{day}/{number}/live", get(ticket::live_json))
        .route("/t/{hall}/{day}/{number}/rate", post(ticket::rate))
        .route("/api/v1/admin/ratings", get(ticket::ratings_json))
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','PingFang SC',sans-serif;margin:0;padding:12px 14px;color:#1b1f24;background:#f2f5fa;font-size:17px;line-height:1.55}\
h1{color:#0e3f7e;font-size:22px;margin:8px 0}h2{font-size:18px;margin:18px 0 6px;color:#0e3f7e}\
form,.card{background:#fff;border-radius:12px;padding:14px;margin:10px 0}\
a{color:#1a5fb4}ul{padding-left:20px;margin:6px 0}li{margin:4px 0}\
label{display:block;margin:10px 0}input[type=text],input[type=tel],input[type=search]{width:100%;padding:10px;font-size:17px;box-sizing:border-box;border:1px solid #c3ccd8;border-radius:8px}\
.slot{display:inline-block;margin:4px}button{background:#1a5fb4;color:#fff;border:0;border-radius:10px;padding:12px 20px;font-size:18px;width:100%}\
.err{color:#c62828;font-weight:bold}.muted{color:#5b6570;font-size:15px}svg{width:260px;height:260px}\
textarea{width:100%;box-sizing:border-box;font-size:17px;padding:8px;border:1px solid #c3ccd8;border-radius:8px}\
#ticket[data-state=called] .now{background:#fff1c9;border:2px solid #f0a800}\
.tag{display:inline-block;background:#e3ecf7;color:#0e3f7e;border-radius:6px;padding:0 6px;margin:2px 4px 2px 0;font-size:14px}\
.list a{display:block;padding:10px 0;border-bottom:1px solid #e6ebf1;text-decoration:none}.open{color:#2e7d32}.closed{color:#c62828}\
footer{margin:24px 0 8px;color:#5b6570;font-size:14px}";

/// A whole page: Chinese, phone-sized, self-contained (no external files, no scripts).
pub fn shell(title: &str, body: &str) -> String {
    shell_with(title, "", body, "")
}

/// A page with extra `<head>` markup and a small inline script at the end of the body (the
/// page must read well without it).
pub fn shell_with(title: &str, head: &str, body: &str, script: &str) -> String {
    let script = if script.is_empty() {
        String::new()
    } else {
        format!("<script>{script}</script>")
    };
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style>{head}</head><body>{body}{script}</body></html>",
        esc(title)
    )
}

/// What a page may load and run: its own inline style, only the inline script whose hash is
/// given, requests and form posts to this server only.
fn policy(script: &str) -> String {
    let scripts = if script.is_empty() {
        "'none'".to_owned()
    } else {
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
        )
    };
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
         script-src {scripts}; connect-src 'self'; form-action 'self'; base-uri 'none'; \
         frame-ancestors 'none'"
    )
}

/// The headers every phone page carries: its content policy, no referrer to other sites, no
/// sniffing.
fn protect(response: &mut Response, script: &str) {
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&policy(script)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// A page answered with an ETag (its content's hash) and a short public cache life; a repeat
/// visit with the same ETag gets 304 and no body.
pub fn cached(headers: &HeaderMap, html: String) -> Response {
    cached_with(headers, html, "")
}

/// `cached` for a page that runs `script`.
pub fn cached_with(headers: &HeaderMap, html: String, script: &str) -> Response {
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(html.as_bytes()))[..20]
    );
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("hex is a valid header"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    protect(&mut response, script);
    response
}

/// A page about one citizen's business (a ticket, a booking, a form): never stored by caches.
pub fn private_page(status: StatusCode, html: String, script: &str) -> Response {
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response();
    protect(&mut response, script);
    response
}

/// A short page for a refusal or a problem: what happened and the way back.
pub fn message_page(
    status: StatusCode,
    title: &str,
    text: &str,
    back: Option<(&str, &str)>,
) -> Response {
    let back = back
        .map(|(href, label)| format!("<p><a href=\"{}\">{}</a></p>", esc(href), esc(label)))
        .unwrap_or_default();
    private_page(
        status,
        shell(
            title,
            &format!(
                "<h1>{}</h1><div class=\"card\"><p id=\"message\">{}</p>{back}</div>",
                esc(title),
                esc(text)
            ),
        ),
        "",
    )
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
        match crate::operators::cookie(headers, FORM_COOKIE)
            .filter(|v| v.len() == 48 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            Some(value) => FormToken {
                value,
                fresh: false,
            },
            None => FormToken {
                value: crate::operators::random_token(),
                fresh: true,
            },
        }
    }

    /// The hidden field to put in the form.
    pub fn field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            self.value
        )
    }

    /// Sets the cookie on the page that carries the form, if the browser has none yet.
    pub fn set_on(&self, response: &mut Response) {
        if !self.fresh {
            return;
        }
        let cookie = format!(
            "{FORM_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=86400",
            self.value
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// Refuses a form post that did not come from our own page: a cross-site origin, or a field
/// that does not repeat the browser's form cookie.
pub fn check_form(headers: &HeaderMap, field: Option<&String>) -> Result<(), AppError> {
    if crate::operators::cross_site(headers) {
        return Err(AppError::new(StatusCode::FORBIDDEN, "请在本站页面提交"));
    }
    let cookie = crate::operators::cookie(headers, FORM_COOKIE).unwrap_or_default();
    let same = field.is_some_and(|f| {
        !cookie.is_empty()
            && f.len() == cookie.len()
            && f.bytes()
                .zip(cookie.bytes())
                .fold(0, |acc, (a, b)| acc | (a ^ b))
                == 0
    });
    if !same {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "页面已过期，请刷新后重新提交",
        ));
    }
    Ok(())
}

/// The friendly "not found" page: what was asked for, and the way back.
pub fn not_found(what: &str, back: Option<(&str, &str)>) -> Response {
    let back = back
        .map(|(href, label)| format!("<p><a href=\"{}\">{}</a></p>", esc(href), esc(label)))
        .unwrap_or_default();
    private_page(
        StatusCode::NOT_FOUND,
        shell(
            "没有找到",
            &format!(
                "<h1>没有找到{}</h1><div class=\"card\"><p>这个链接可能已经过期，或者地址不完整。</p>\
                 <p class=\"muted\">可以重新扫描门牌上的二维码，或到服务大厅咨询台询问。</p>{back}</div>",
                esc(what)
            ),
        ),
        "",
    )
}

/// The day in a ticket's URL (`20261121`) as the queue keeps it (`2026-11-21`).
pub fn url_day(day: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(day, "%Y%m%d").ok()
}
