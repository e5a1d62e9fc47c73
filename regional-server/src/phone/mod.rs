//! The phone-side plate: public, mobile-first pages that the plate's QR codes, the hall's
//! website and a WeChat menu open. Plain HTML and CSS, readable with JavaScript off, from the
//! same published content version the terminals show.
//!
//! Short URLs (the scheme QR codes and menus use):
//! `/h/{hall}` the hall's plate · `/i/{item}` an item's guide · `/c/{item}?s=a,b` a checklist ·
//! `/t/{hall}/{yyyymmdd}/{number}` a ticket · `/book/{hall}/{item}` booking.

mod pages;

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use menpai_model::ContentPack;
use sha2::{Digest, Sha256};

use crate::Server;
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
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','PingFang SC',sans-serif;margin:0;padding:12px 14px;color:#1b1f24;background:#f2f5fa;font-size:17px;line-height:1.55}\
h1{color:#0e3f7e;font-size:22px;margin:8px 0}h2{font-size:18px;margin:18px 0 6px;color:#0e3f7e}\
form,.card{background:#fff;border-radius:12px;padding:14px;margin:10px 0}\
a{color:#1a5fb4}ul{padding-left:20px;margin:6px 0}li{margin:4px 0}\
label{display:block;margin:10px 0}input[type=text],input[type=tel],input[type=search]{width:100%;padding:10px;font-size:17px;box-sizing:border-box;border:1px solid #c3ccd8;border-radius:8px}\
.slot{display:inline-block;margin:4px}button{background:#1a5fb4;color:#fff;border:0;border-radius:10px;padding:12px 20px;font-size:18px;width:100%}\
.err{color:#c62828;font-weight:bold}.muted{color:#5b6570;font-size:15px}svg{width:260px;height:260px}\
.tag{display:inline-block;background:#e3ecf7;color:#0e3f7e;border-radius:6px;padding:0 6px;margin:2px 4px 2px 0;font-size:14px}\
.list a{display:block;padding:10px 0;border-bottom:1px solid #e6ebf1;text-decoration:none}.open{color:#2e7d32}.closed{color:#c62828}\
footer{margin:24px 0 8px;color:#5b6570;font-size:14px}";

/// A whole page: Chinese, phone-sized, self-contained (no scripts, no external files).
pub fn shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        esc(title)
    )
}

/// A page answered with an ETag (its content's hash) and a short public cache life; a repeat
/// visit with the same ETag gets 304 and no body.
pub fn cached(headers: &HeaderMap, html: String) -> Response {
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
    response
}

/// The friendly "not found" page: what was asked for, and the way back.
pub fn not_found(what: &str, back: Option<(&str, &str)>) -> Response {
    let back = back
        .map(|(href, label)| format!("<p><a href=\"{}\">{}</a></p>", esc(href), esc(label)))
        .unwrap_or_default();
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        shell(
            "没有找到",
            &format!(
                "<h1>没有找到{}</h1><div class=\"card\"><p>这个链接可能已经过期，或者地址不完整。</p>\
                 <p class=\"muted\">可以重新扫描门牌上的二维码，或到服务大厅咨询台询问。</p>{back}</div>",
                esc(what)
            ),
        ),
    )
        .into_response()
}
