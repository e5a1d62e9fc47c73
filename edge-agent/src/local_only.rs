//! The local API answers this terminal's own programs only. A web page in any browser that can
//! reach 127.0.0.1 (another site, or one that rebinds its DNS name to 127.0.0.1) must not print,
//! take tickets or read scans: a request naming a host that is not a loopback address, or sent
//! by a page of another origin (`Origin`, `Sec-Fetch-Site`), is refused, the WebSocket too. The
//! kiosk sends neither header and passes.

use std::net::IpAddr;

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether `host` (a `Host` header: name or address, with or without port) is this machine.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
}

/// Why a request is refused, if it is.
pub fn refusal(headers: &HeaderMap) -> Option<&'static str> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(host) = headers.get(header::HOST)
        && !host.to_str().is_ok_and(loopback_host)
    {
        return Some("host");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = text("host").map(|h| format!("http://{h}"));
        if origin.to_str().ok() != own.as_deref() {
            return Some("origin");
        }
    }
    match text("sec-fetch-site") {
        None | Some("same-origin") | Some("none") => None,
        Some(_) => Some("sec-fetch-site"),
    }
}

pub async fn guard(req: Request, next: Next) -> Response {
    if let Some(why) = refusal(req.headers()) {
        tracing::warn!(why, path = %req.uri().path(), "A request from outside this terminal's own programs was refused.");
        let body = serde_json::json!({ "error": "只接受本机终端程序的请求" });
        return (StatusCode::FORBIDDEN, Json(body)).into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_kiosk_passes_and_pages_of_other_origins_do_not() {
        assert_eq!(refusal(&headers(&[("host", "127.0.0.1:7700")])), None);
        assert_eq!(refusal(&headers(&[("host", "localhost:7700")])), None);
        assert_eq!(refusal(&headers(&[("host", "[::1]:7700")])), None);
        assert_eq!(refusal(&headers(&[])), None, "no Host: not a browser");
        assert_eq!(
            refusal(&headers(&[("host", "rebind.example:7700")])),
            Some("host")
        );
        assert_eq!(
            refusal(&headers(&[
                ("host", "rebind.example:7700"),
                ("origin", "http://rebind.example:7700")
            ])),
            Some("host"),
            "DNS rebinding: same origin, foreign host"
        );
        assert_eq!(
            refusal(&headers(&[
                ("host", "127.0.0.1:7700"),
                ("origin", "http://127.0.0.1:8080")
            ])),
            Some("origin")
        );
        assert_eq!(
            refusal(&headers(&[("host", "127.0.0.1:7700"), ("origin", "null")])),
            Some("origin")
        );
        assert_eq!(
            refusal(&headers(&[
                ("host", "127.0.0.1:7700"),
                ("sec-fetch-site", "same-site")
            ])),
            Some("sec-fetch-site")
        );
        assert_eq!(
            refusal(&headers(&[
                ("host", "127.0.0.1:7700"),
                ("origin", "http://127.0.0.1:7700"),
                ("sec-fetch-site", "same-origin")
            ])),
            None
        );
    }
}
