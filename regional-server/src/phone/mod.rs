//! The phone-side plate: public, mobile-first pages that the plate's QR codes, the hall's
//! website and a WeChat menu open. Plain HTML and CSS, readable with JavaScript off, from the
//! same published content version the terminals show.
//!
//! Short URLs (the scheme QR codes and menus use, documented in `regional-server/phone-urls.md`):
//! `/h/{hall}` the hall's plate · `/i/{item}` an item's guide · `/c/{item}?s=a,b` a checklist ·
//! `/q/{hall}` 问一问, a question answered from the FAQs · `/o` outlets near me · `/o/{outlet}`
//! one outlet · `/t/{hall}/{yyyymmdd}/{number}` a ticket ·
//! `/book/{hall}/{item}` booking · `/a/{id}` a booking's confirmation · `/forms/{file}` a blank
//! form, `/forms/{file}/sample` its filled-in sample · `/files/{sha}/{name}` a picture the
//! content names.

pub mod ask;
mod checklist;
pub mod downloads;
pub mod notices;
mod outlets;
mod pages;
pub mod ticket;

pub use pages::guide_body;

use std::sync::{Arc, OnceLock, RwLock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use menpai_model::ContentPack;
use menpai_model::outlet::{Outlet, OutletKind};
pub use menpai_model::percent_encode as urlencode;
use sha2::{Digest, Sha256};

use crate::Server;
use crate::html::{Markup, Page, back_link, html};

/// The published content the pages show: loaded at start, replaced on every publish.
#[derive(Debug, Default)]
pub struct Published(RwLock<Option<Arc<Current>>>);

#[derive(Debug)]
pub struct Current {
    pub version: String,
    pub pack: ContentPack,
    /// Built at the version's first question.
    answers: OnceLock<ask::Answers>,
}

impl Current {
    pub fn new(version: String, pack: ContentPack) -> Current {
        Current {
            version,
            pack,
            answers: OnceLock::new(),
        }
    }

    /// The search and answer indexes of this version (built on first use: call it off the
    /// runtime).
    pub fn answers(&self) -> &ask::Answers {
        self.answers.get_or_init(|| ask::Answers::build(&self.pack))
    }
}

impl Published {
    pub fn new(version: String, pack: ContentPack) -> Published {
        Published(RwLock::new(Some(Arc::new(Current::new(version, pack)))))
    }

    /// A new version was published.
    pub fn replace(&self, version: String, pack: ContentPack) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) =
            Some(Arc::new(Current::new(version, pack)));
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
        .route(
            "/q/{hall}",
            get(ask::page)
                .post(ask::answer)
                .layer(DefaultBodyLimit::max(ask::MAX_FORM_BYTES))
                .layer(axum::middleware::from_fn(|req, next| {
                    crate::error::refuse_oversized(ask::MAX_FORM_BYTES, req, next)
                })),
        )
        .route("/o", get(outlets::near))
        .route("/o/{outlet}", get(outlets::outlet))
        .route("/forms/{file}", get(downloads::form))
        .route("/forms/{file}/sample", get(downloads::form_sample))
        .route("/files/{sha}/{name}", get(downloads::file))
        .route("/t/{hall}/{day}/{number}", get(ticket::page))
        .route("/t/{hall}/{day}/{number}/live", get(ticket::live_json))
        .route("/t/{hall}/{day}/{number}/rate", post(ticket::rate))
        .route("/api/v1/admin/ratings", get(ticket::ratings_json))
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
pub fn cached(headers: &HeaderMap, html: Markup) -> Response {
    cached_with(headers, html, "")
}

/// `cached` for a page that runs `script`.
pub fn cached_with(headers: &HeaderMap, html: Markup, script: &str) -> Response {
    let html = html.into_string();
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
pub fn private_page(status: StatusCode, html: Markup, script: &str) -> Response {
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html.into_string(),
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
    let body = html! {
        h1 { (title) }
        div class="card" {
            p id="message" { (text) }
            @if let Some((href, label)) = back { (back_link(href, label)) }
        }
    };
    private_page(status, Page::phone(title).render(body), "")
}

/// The friendly "not found" page: what was asked for, and the way back.
pub fn not_found(what: &str, back: Option<(&str, &str)>) -> Response {
    let body = html! {
        h1 { "没有找到" (what) }
        div class="card" {
            p { "这个链接可能已经过期，或者地址不完整。" }
            p class="muted" { "可以重新扫描门牌上的二维码，或到服务大厅咨询台询问。" }
            @if let Some((href, label)) = back { (back_link(href, label)) }
        }
    };
    private_page(
        StatusCode::NOT_FOUND,
        Page::phone("没有找到").render(body),
        "",
    )
}

/// The hall `id` of the published content.
pub(super) fn hall_of<'a>(c: &'a Current, id: &str) -> Option<&'a Outlet> {
    c.pack
        .outlets
        .iter()
        .find(|o| o.id == id && o.kind == OutletKind::Hall)
}

/// The day in a ticket's URL (`20261121`) as the queue keeps it (`2026-11-21`).
pub fn url_day(day: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(day, "%Y%m%d").ok()
}
