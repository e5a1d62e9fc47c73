//! The server's routers without a network: each request goes through `oneshot` on the citizens',
//! the operators' and the terminals' router over a server in a temporary directory: a request
//! without its credentials is refused, a page is served, a malformed body is refused.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use menpai_server::Server;
use menpai_server::config::Config;
use menpai_server::tls::PeerCert;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

mod support;

/// A terminal's certificate as the TLS layer hands it over (the router only hashes it).
const CERT: &[u8] = b"a terminal certificate, DER in real life";

/// A server with the demo region published and one enrolled terminal.
fn server() -> (Arc<Server>, tempfile::TempDir) {
    let (server, dir) = support::published(Config::default());
    let cert = hex::encode(Sha256::digest(CERT));
    support::enroll(&server, "dev-test", "hall-futian", "entrance", &cert);
    (Arc::new(server), dir)
}

/// One request through `app`: status and body.
async fn send(
    app: Router,
    method: &str,
    path: &str,
    body: Option<&str>,
    cert: bool,
) -> (StatusCode, String) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let mut req = req
        .body(Body::from(body.unwrap_or_default().to_owned()))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    if cert {
        req.extensions_mut()
            .insert(PeerCert(Some(Arc::new(CERT.to_vec()))));
    }
    let res = app.oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn the_public_router_refuses_without_a_session_serves_pages_and_refuses_bad_bodies() {
    let (server, _dir) = server();
    let app = menpai_server::public_router(server);
    let (status, _) = send(
        app.clone(),
        "PUT",
        "/api/v1/admin/appointments/capacity",
        Some(r#"{"hall":"hall-futian","item":"P43","capacity":3}"#),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, page) = send(app.clone(), "GET", "/h/hall-futian", None, false).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<html") && page.contains("</html>"), "{page}");
    let (status, answer) = send(
        app.clone(),
        "POST",
        "/api/v1/appointments",
        Some("{\"hall\": "),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.contains("error"), "{answer}");
    let (status, _) = send(app, "GET", "/fleet", None, false).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "operators' pages are not here"
    );
}

#[tokio::test]
async fn the_admin_router_refuses_without_a_session_serves_the_login_and_refuses_bad_bodies() {
    let (server, _dir) = server();
    let app = menpai_server::admin_router(server);
    let (status, _) = send(app.clone(), "GET", "/api/v1/admin/devices", None, false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(app.clone(), "GET", "/fleet", None, false).await;
    assert!(
        status == StatusCode::UNAUTHORIZED || status.is_redirection(),
        "{status}"
    );
    let (status, page) = send(app.clone(), "GET", "/login", None, false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("门牌运维登录"), "{page}");
    let (status, answer) = send(
        app.clone(),
        "POST",
        "/api/v1/login",
        Some("{\"name\": \"ops"),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, _) = send(app, "GET", "/h/hall-futian", None, false).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "citizens' pages are not here"
    );
}

#[tokio::test]
async fn the_device_router_refuses_without_a_certificate_serves_the_manifest_and_refuses_bad_bodies()
 {
    let (server, _dir) = server();
    let app = menpai_server::device_router(server);
    let (status, _) = send(app.clone(), "GET", "/device/v1/manifest", None, false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, manifest) = send(app.clone(), "GET", "/device/v1/manifest", None, true).await;
    assert_eq!(status, StatusCode::OK, "{manifest}");
    assert!(
        manifest.contains("hall-futian") || manifest.contains("shards"),
        "{manifest}"
    );
    let (status, answer) = send(
        app.clone(),
        "POST",
        "/device/v1/events",
        Some("[not json"),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, _) = send(app, "GET", "/login", None, true).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn ready_while_serving_and_not_once_stopping() {
    let (server, _dir) = server();
    let app = menpai_server::public_router(server.clone());
    let (status, body) = send(app.clone(), "GET", "/ready", None, false).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready\n"));
    server.stopping.fire();
    let (status, body) = send(app, "GET", "/ready", None, false).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "stopping\n")
    );
}
