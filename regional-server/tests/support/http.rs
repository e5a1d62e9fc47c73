//! Requests through the routers as a browser or a terminal would send them.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use menpai_server::Server;
use menpai_server::operators::open_session;
use menpai_server::tls::PeerCert;
use serde_json::Value;
use tower::ServiceExt;

/// The anti-forgery cookie's value the test's browser holds (48 hex digits).
pub(crate) const FORM: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";
/// The certificate a test terminal presents (enroll it with its SHA-256).
pub(crate) const CERT: &[u8] = b"a terminal certificate, DER in real life";

/// A session cookie (with the form cookie) for an operator.
pub(crate) fn login(server: &Server, name: &str) -> String {
    let op = server.storage.operator_by_name(name).unwrap().unwrap();
    let token = open_session(server, &op).unwrap();
    format!("menpai_session={token}; __Host-menpai-form={FORM}")
}

pub(crate) struct Sent {
    pub status: StatusCode,
    pub location: String,
    /// The session the answer sets (`menpai_session=…`), if any.
    pub session: Option<String>,
    pub body: String,
}

/// One request through `app` (with the terminal's certificate when `cert`).
pub(crate) async fn send(
    app: &Router,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<(&str, String)>,
    cert: bool,
) -> Sent {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
        // A console page's script repeats its form cookie on JSON changes.
        if c.contains(&format!("={FORM}")) {
            req = req.header("x-csrf-token", FORM);
        }
    }
    if let Some((kind, _)) = &body {
        req = req.header("content-type", *kind);
    }
    let mut req = req
        .body(Body::from(body.map(|(_, b)| b).unwrap_or_default()))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    if cert {
        req.extensions_mut()
            .insert(PeerCert(Some(Arc::new(CERT.to_vec()))));
    }
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("menpai_session=") && !c.starts_with("menpai_session=;"))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned());
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    Sent {
        status,
        location,
        session,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub(crate) fn form(fields: &[(&str, &str)]) -> Option<(&'static str, String)> {
    Some((
        "application/x-www-form-urlencoded",
        serde_urlencoded::to_string(fields).unwrap(),
    ))
}

pub(crate) fn json_body(v: Value) -> Option<(&'static str, String)> {
    Some(("application/json", v.to_string()))
}

/// A training login's cookie (培训登录), with the form cookie, for an operator.
pub(crate) fn training_login(server: &Server, name: &str) -> String {
    let op = server.storage.operator_by_name(name).unwrap().unwrap();
    let token = menpai_server::operators::open_training_session(server, &op).unwrap();
    format!("menpai_session={token}; __Host-menpai-form={FORM}")
}

/// A GET of a file as an operator: its status, content type and bytes.
pub(crate) async fn send_bytes(
    app: &Router,
    path: &str,
    cookie: &str,
) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::builder()
        .method("GET")
        .uri(path)
        .header("host", "localhost")
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, kind, bytes.to_vec())
}

/// One request through the terminals' router as the terminal holding `cert`.
pub(crate) async fn send_as(
    app: &Router,
    method: &str,
    path: &str,
    body: Option<Value>,
    cert: &[u8],
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("content-type", "application/json");
    req = req.header("accept", "application/json");
    let mut req = req
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    req.extensions_mut()
        .insert(PeerCert(Some(Arc::new(cert.to_vec()))));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
