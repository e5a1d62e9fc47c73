//! The phone pages on this machine: time to first byte over loopback HTTPS (on a kept-alive
//! connection, and with a fresh TLS handshake each time) and each page's weight, on the
//! 5,000-item synthetic region. Prints its figures; goals: ≤ 50 ms to the first byte,
//! ≤ 100 KB for a guide without images.
//!
//! `cargo bench -p menpai-tests --bench phone`

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use menpai_tests::{server_cli, server_dir, spawn_server, synthetic_region};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

const PAGES: [(&str, &str); 8] = [
    ("hall", "/h/hall-futian"),
    ("hall search (pinyin)", "/h/hall-futian?q=shebao"),
    ("guide P08", "/i/P08?h=hall-futian"),
    ("checklist", "/c/P08?s=s2,s3&h=hall-futian"),
    ("outlets near", "/o?h=hall-futian"),
    ("outlet", "/o/hall-futian"),
    ("booking form", "/book/hall-futian/P43"),
    ("unknown id (404)", "/i/NOPE"),
];
const KEPT: usize = 200;
const FRESH: usize = 20;

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

fn connect(config: &Arc<rustls::ClientConfig>, addr: SocketAddr) -> Tls {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_nodelay(true).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

/// One GET: (time to the first byte of the answer, status, body bytes).
fn get(tls: &mut Tls, path: &str) -> (Duration, u16, usize) {
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n\r\n");
    let start = Instant::now();
    tls.write_all(req.as_bytes()).unwrap();
    tls.flush().unwrap();
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    let n = tls.read(&mut chunk).unwrap();
    let first = start.elapsed();
    buf.extend_from_slice(&chunk[..n]);
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tls.read(&mut chunk).unwrap();
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    let status = head[9..12].parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = tls.read(&mut chunk).unwrap();
        buf.extend_from_slice(&chunk[..n]);
    }
    (first, status, len)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = synthetic_region(tmp.path(), 5000);
    let sdir = tmp.path().join("server");
    std::fs::create_dir_all(&sdir).unwrap();
    server_dir(&sdir, "");
    assert!(server_cli(&sdir, &["publish", pack.to_str().unwrap()], None).0);
    let s = spawn_server(&sdir);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(s.ca_pem().as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );

    println!(
        "phone pages, 5,000-item region, loopback HTTPS; time to first byte in ms (kept-alive: {KEPT} requests; fresh TLS: {FRESH})"
    );
    println!(
        "{:<22} {:>6} {:>7} {:>8} {:>8} {:>8} {:>11}",
        "page", "status", "bytes", "median", "p95", "max", "fresh med."
    );
    let mut worst_p95: f64 = 0.0;
    for (name, path) in PAGES {
        let mut tls = connect(&config, s.public);
        for _ in 0..5 {
            get(&mut tls, path); // warm-up
        }
        let mut times: Vec<Duration> = Vec::with_capacity(KEPT);
        let (mut status, mut bytes) = (0, 0);
        for _ in 0..KEPT {
            let (t, st, len) = get(&mut tls, path);
            times.push(t);
            (status, bytes) = (st, len);
        }
        times.sort();
        let mut fresh: Vec<Duration> = (0..FRESH)
            .map(|_| {
                let start = Instant::now();
                let mut tls = connect(&config, s.public);
                let (t, _, _) = get(&mut tls, path);
                // Handshake included: the whole wait a new visitor has before the first byte.
                start.elapsed().max(t)
            })
            .collect();
        fresh.sort();
        let p95 = ms(times[KEPT * 95 / 100]);
        worst_p95 = worst_p95.max(p95);
        println!(
            "{name:<22} {status:>6} {bytes:>7} {:>8.2} {p95:>8.2} {:>8.2} {:>11.2}",
            ms(times[KEPT / 2]),
            ms(times[KEPT - 1]),
            ms(fresh[FRESH / 2]),
        );
        if name.starts_with("guide") {
            assert!(bytes <= 100 * 1024, "the guide weighs {bytes} bytes");
        }
    }
    println!("worst p95 time to first byte: {worst_p95:.2} ms (goal ≤ 50 ms)");
}
