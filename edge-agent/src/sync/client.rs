//! HTTPS to the regional server: the region's CA as the only root, the terminal's certificate
//! as client identity, one kept-alive HTTP/1.1 connection, and a count of bytes on the wire.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the regional server: {0}")]
    Connect(String),
    #[error("the regional server's address `{0}` is not https://host:port")]
    Address(String),
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("request failed: {0}")]
    Http(String),
    #[error("the regional server took too long")]
    Timeout,
}

/// An answer: status, headers and the whole body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The server's error message, for logs.
    pub fn error_text(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&self.body)
                    .chars()
                    .take(200)
                    .collect()
            })
    }
}

pub struct Client {
    host: String,
    addr: String,
    tls: TlsConnector,
    conn: tokio::sync::Mutex<Option<SendRequest<Full<Bytes>>>>,
    /// Bytes sent and received on the wire (TLS included).
    pub wire: Arc<AtomicU64>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// A stream that counts what passes through it.
struct Counting<S> {
    inner: S,
    count: Arc<AtomicU64>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.count.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Splits `https://host:port` into host and `host:port`.
fn parse_server(url: &str) -> Result<(String, String), ClientError> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| ClientError::Address(url.to_owned()))?
        .trim_end_matches('/');
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| ClientError::Address(url.to_owned()))?;
    port.parse::<u16>()
        .map_err(|_| ClientError::Address(url.to_owned()))?;
    Ok((host.trim_matches(['[', ']']).to_owned(), rest.to_owned()))
}

impl Client {
    /// `identity`: the terminal's certificate and key (PEM); without it only enrollment works.
    pub fn new(
        server: &str,
        ca_pem: &str,
        identity: Option<(&str, &str)>,
    ) -> Result<Client, ClientError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (host, addr) = parse_server(server)?;
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots
                .add(c.map_err(|e| ClientError::Tls(e.to_string()))?)
                .map_err(|e| ClientError::Tls(e.to_string()))?;
        }
        let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
        let mut config = match identity {
            Some((cert, key)) => {
                let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| ClientError::Tls(e.to_string()))?;
                let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
                    .map_err(|e| ClientError::Tls(e.to_string()))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| ClientError::Tls(e.to_string()))?
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Client {
            host,
            addr,
            tls: TlsConnector::from(Arc::new(config)),
            conn: tokio::sync::Mutex::new(None),
            wire: Arc::new(AtomicU64::new(0)),
        })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, ClientError> {
        let tcp = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(&self.addr))
            .await
            .map_err(|_| ClientError::Timeout)?
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let counted = Counting {
            inner: tcp,
            count: self.wire.clone(),
        };
        let name =
            ServerName::try_from(self.host.clone()).map_err(|e| ClientError::Tls(e.to_string()))?;
        let tls = tokio::time::timeout(Duration::from_secs(10), self.tls.connect(name, counted))
            .await
            .map_err(|_| ClientError::Timeout)?
            .map_err(|e| ClientError::Connect(format!("TLS: {e}")))?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(send)
    }

    fn build(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<hyper::Request<Full<Bytes>>, ClientError> {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.addr)
            .header(
                "user-agent",
                concat!("menpai-agent/", env!("CARGO_PKG_VERSION")),
            );
        let typed = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        if !body.is_empty() && !typed {
            req = req.header("content-type", "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(Full::new(Bytes::from(body)))
            .map_err(|e| ClientError::Http(e.to_string()))
    }

    /// One request on the kept-alive connection (a new one when it broke), within `timeout`.
    /// A kept connection the server closed as idle just as the request went out is not an
    /// answer: the request goes once more, on a new connection.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Reply, ClientError> {
        let work = async {
            let mut guard = self.conn.lock().await;
            let cached = match guard.take() {
                Some(mut s) => s.ready().await.is_ok().then_some(s),
                None => None,
            };
            let reused = cached.is_some();
            let mut send = match cached {
                Some(s) => s,
                None => self.connect().await?,
            };
            let req = self.build(method, path, headers, body.clone())?;
            let res = match send.send_request(req).await {
                Ok(res) => res,
                Err(e) if reused && (e.is_canceled() || e.is_incomplete_message()) => {
                    send = self.connect().await?;
                    let req = self.build(method, path, headers, body)?;
                    send.send_request(req)
                        .await
                        .map_err(|e| ClientError::Http(e.to_string()))?
                }
                Err(e) => return Err(ClientError::Http(e.to_string())),
            };
            let (parts, body) = res.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| ClientError::Http(e.to_string()))?
                .to_bytes();
            *guard = Some(send);
            Ok(Reply {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| ClientError::Timeout)?
    }

    /// Opens a long-lived response on its own connection (the live stream).
    pub async fn open_stream(
        &self,
        path: &str,
    ) -> Result<(u16, hyper::body::Incoming), ClientError> {
        let (status, _, body) = self.open(path, &[]).await?;
        Ok((status, body))
    }

    /// A GET whose body is read as it comes, on its own connection (a download); the
    /// answer's head within the usual time.
    pub async fn open(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<(u16, hyper::HeaderMap, hyper::body::Incoming), ClientError> {
        let mut send = self.connect().await?;
        let req = self.build("GET", path, headers, Vec::new())?;
        let res = tokio::time::timeout(Duration::from_secs(30), send.send_request(req))
            .await
            .map_err(|_| ClientError::Timeout)?
            .map_err(|e| ClientError::Http(e.to_string()))?;
        let status = res.status().as_u16();
        let (parts, body) = res.into_parts();
        Ok((status, parts.headers, body))
    }

    /// Drops the kept-alive connection (tests that kill the server).
    pub async fn reset(&self) {
        *self.conn.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_server;

    #[test]
    fn server_addresses() {
        assert_eq!(
            parse_server("https://menpai.example.cn:8444/").unwrap(),
            ("menpai.example.cn".into(), "menpai.example.cn:8444".into())
        );
        assert!(parse_server("http://x:1").is_err());
        assert!(parse_server("https://x").is_err());
    }
}
