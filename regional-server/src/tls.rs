//! TLS listeners: the public one (browsers; server certificate only) and the device one
//! (terminals; a client certificate from the region's CA, except for enrollment).

use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::shutdown::Shutdown;

/// The client certificate a connection presented (DER), if any.
#[derive(Debug, Clone)]
pub struct PeerCert(pub Option<Arc<Vec<u8>>>);

/// Installs ring as rustls's provider once per process.
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Server config for browsers.
pub fn public_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> anyhow::Result<rustls::ServerConfig> {
    let mut c = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(c)
}

/// Server config for terminals: client certificates are checked against the CA when given;
/// routes other than enrollment refuse a connection without one.
pub fn device_config(
    ca: &CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> anyhow::Result<rustls::ServerConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone())?;
    let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
        .allow_unauthenticated()
        .build()?;
    let mut c = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(c)
}

/// Connections the kernel queues for accepting (tokio's default is 1,024): thousands of
/// terminals reconnecting at once after a restart are queued, not refused.
const BACKLOG: u32 = 4096;

/// A listening socket on `addr` with room for a reconnecting fleet.
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// How long a connection may wait for its next request's headers — between requests, or
/// sending them slowly — before it is closed: idle connections do not pile up (a terminal
/// heartbeating less often opens a new one; a slow client cannot hold sockets open).
const IDLE: std::time::Duration = std::time::Duration::from_secs(20);

/// Accepts TLS connections and serves `app` on each, with the peer's certificate attached to
/// every request, until `stop` fires; then accepts no more, lets each connection finish the
/// request it is answering (idle ones close at once) and returns when all have ended.
pub async fn serve(
    listener: TcpListener,
    config: rustls::ServerConfig,
    app: Router,
    proxies: Arc<[std::net::IpAddr]>,
    stop: Shutdown,
) {
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let mut connections = JoinSet::new();
    let mut stopping = stop.clone();
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stopping.wait() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "Accept failed.");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, app, mut stop) = (acceptor.clone(), app.clone(), stop.clone());
        let from_proxy = proxies.contains(&peer.ip().to_canonical());
        connections.spawn(async move {
            let mut tcp = tcp;
            let mut peer = peer;
            let handshake = tokio::time::timeout(std::time::Duration::from_secs(10), async {
                if from_proxy && let Some(client) = crate::proxy_protocol::read_v2(&mut tcp).await?
                {
                    peer = client;
                }
                acceptor.accept(tcp).await
            });
            let tls = tokio::select! {
                _ = stop.wait() => return,
                done = handshake => match done {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::info!(%peer, error = %e, "TLS handshake refused.");
                        return;
                    }
                    Err(_) => return,
                },
            };
            let cert = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| Arc::new(c.to_vec()));
            let peer_cert = PeerCert(cert);
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(peer_cert.clone());
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    app.clone().oneshot(req.map(axum::body::Body::new))
                },
            );
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .timer(TokioTimer::new())
                .header_read_timeout(IDLE)
                .serve_connection(TokioIo::new(tls), service);
            let mut conn = std::pin::pin!(conn);
            let ended = tokio::select! {
                ended = conn.as_mut() => ended,
                _ = stop.wait() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(%peer, error = %e, "Connection ended with an error.");
            }
        });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}
