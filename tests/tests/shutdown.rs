//! SIGTERM during a burst of requests: every request the process accepted gets a whole answer,
//! and the process exits 0 within 5 s.

// ---------------------------------------------------------------------------------------------
// The edge agent (menpai-agent).
// ---------------------------------------------------------------------------------------------

mod agent {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::process::Command;
    use std::sync::{Arc, Barrier, Condvar, Mutex};
    use std::time::{Duration, Instant};

    use menpai_tests::{demo_region, start_agent};

    /// What became of one request of the burst.
    #[derive(Debug)]
    enum Outcome {
        /// Connection refused or closed before a byte came back: the agent had stopped
        /// accepting, so the request was never taken.
        NotAccepted,
        /// A whole answer: status, parsed JSON body, and when it was complete.
        Answered(u16, serde_json::Value, Instant),
    }

    /// Sends one request on its own connection and checks that whatever came back is whole:
    /// a status line, a body as long as its Content-Length, and JSON in it.
    fn exchange(addr: SocketAddr, method: &str, path: &str, body: &str) -> Outcome {
        let Ok(mut s) = TcpStream::connect(addr) else {
            return Outcome::NotAccepted;
        };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if s.write_all(request.as_bytes()).is_err() {
            return Outcome::NotAccepted;
        }
        let mut raw = Vec::new();
        let read = s.read_to_end(&mut raw);
        if raw.is_empty() {
            return Outcome::NotAccepted;
        }
        read.unwrap_or_else(|e| panic!("{path}: the answer was cut ({e}) after {raw:?}"));
        let text = String::from_utf8(raw).expect("the answer is UTF-8");
        let (head, rest) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{path}: an answer without a whole head: {text:?}"));
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{path}: no status line in {head:?}"));
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or_else(|| panic!("{path}: no Content-Length in {head:?}"));
        assert_eq!(rest.len(), length, "{path}: a body cut short: {rest:?}");
        let json = serde_json::from_str(rest)
            .unwrap_or_else(|e| panic!("{path}: the body is not JSON ({e}): {rest:?}"));
        Outcome::Answered(status, json, Instant::now())
    }

    #[test]
    fn sigterm_during_a_burst_answers_every_accepted_request_and_exits_0() {
        let mut agent = start_agent(&demo_region(), "");
        agent.wait_health(Duration::from_secs(30), |h| h["status"] == "ok");
        // A kiosk following the event stream must not hold the agent up.
        let _kiosk = agent.events();

        // 50 searches and 10 printed checklists (the printer takes them one at a time, so some
        // are still waiting when the signal comes).
        let queries = [
            "社保",
            "gjj",
            "shebao",
            "护照",
            "营业执照",
            "公积金提取",
            "jzz",
        ];
        let mut requests: Vec<(&str, String, String)> = (0..50)
            .map(|i| {
                let q = queries[i % queries.len()];
                (
                    "GET",
                    format!("/api/v1/search?q={}&limit=10", encode(q)),
                    String::new(),
                )
            })
            .collect();
        for _ in 0..10 {
            let body = r#"{"item": "P43", "situations": []}"#.to_owned();
            requests.push(("POST", "/api/v1/print/checklist".to_owned(), body));
        }

        let addr = agent.addr;
        let start = Arc::new(Barrier::new(requests.len() + 1));
        let first_answer = Arc::new(Mutex::new(false));
        let first_answer_seen = Arc::new(Condvar::new());
        let workers: Vec<_> = requests
            .into_iter()
            .map(|(method, path, body)| {
                let (start, first, seen) = (
                    start.clone(),
                    first_answer.clone(),
                    first_answer_seen.clone(),
                );
                std::thread::spawn(move || {
                    start.wait();
                    let outcome = exchange(addr, method, &path, &body);
                    if matches!(outcome, Outcome::Answered(..)) {
                        *first.lock().unwrap() = true;
                        seen.notify_all();
                    }
                    (path, outcome)
                })
            })
            .collect();

        // SIGTERM as soon as the first answer is back: the rest of the burst is in flight.
        start.wait();
        {
            let answered = first_answer.lock().unwrap();
            let _answered = first_answer_seen
                .wait_timeout_while(answered, Duration::from_secs(30), |a| !*a)
                .unwrap();
        }
        let kill = Command::new("kill")
            .args(["-TERM", &agent.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        // Measured after the signal went: an answer counted as later surely was in flight.
        let sent = Instant::now();

        let exit_deadline = sent + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = agent.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < exit_deadline,
                "the agent did not exit within 5 s of SIGTERM\nlog:\n{}",
                agent.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "exit {status:?}\nlog:\n{}", agent.log());

        let (mut answered, mut after_signal, mut refused) = (0, 0, 0);
        for w in workers {
            let (path, outcome) = w.join().expect("a request's checks failed");
            match outcome {
                Outcome::NotAccepted => refused += 1,
                Outcome::Answered(status, json, at) => {
                    answered += 1;
                    if at > sent {
                        after_signal += 1;
                    }
                    if path.starts_with("/api/v1/search") {
                        assert_eq!(status, 200, "{path}: {json}");
                        assert!(json["hits"].is_array(), "{path}: {json}");
                    } else {
                        // Printed, or refused with the QR to offer instead: both whole answers.
                        assert!(matches!(status, 200 | 503), "{path}: {status} {json}");
                    }
                }
            }
        }
        eprintln!("answered {answered} ({after_signal} after SIGTERM), not accepted {refused}");
        assert!(
            after_signal > 0,
            "no request was still in flight at SIGTERM: the test proved nothing"
        );
    }

    /// Percent-encodes a query value.
    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The regional server (menpai-server): appended below by its engineer.
// ---------------------------------------------------------------------------------------------

mod server {
    use std::net::SocketAddr;
    use std::process::Command;
    use std::sync::{Arc, Barrier, Condvar, Mutex};
    use std::time::{Duration, Instant};

    use menpai_tests::demo_region;
    use menpai_tests::regional::server;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// What became of one request of the burst.
    #[derive(Debug)]
    enum Outcome {
        /// Refused, or closed (in the handshake or before a byte of answer) once the server had
        /// stopped accepting: the request was never taken.
        NotAccepted,
        /// A whole answer: status, the page, and when it was complete.
        Answered(u16, String, Instant),
    }

    /// One HTTPS GET on its own connection, trusting only the region's CA; whatever came back
    /// must be whole: a status line and a body as long as its Content-Length.
    fn exchange(ca_pem: &str, addr: SocketAddr, path: &str) -> Outcome {
        use rustls::pki_types::pem::PemObject;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let raw = rt.block_on(async {
            let Ok(tcp) = tokio::net::TcpStream::connect(addr).await else {
                return None;
            };
            let name = rustls::pki_types::ServerName::try_from(addr.ip().to_string()).unwrap();
            let Ok(mut tls) = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await
            else {
                return None;
            };
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            tls.write_all(request.as_bytes()).await.ok()?;
            let mut raw = Vec::new();
            // A peer that closes without TLS close_notify ends in an error: the length check
            // below says whether the answer was whole.
            let _ = tokio::time::timeout(Duration::from_secs(30), tls.read_to_end(&mut raw)).await;
            Some(raw)
        });
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return Outcome::NotAccepted;
        };
        let text = String::from_utf8(raw).expect("the answer is UTF-8");
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{path}: an answer without a whole head: {text:?}"));
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{path}: no status line in {head:?}"));
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or_else(|| panic!("{path}: no Content-Length in {head:?}"));
        assert_eq!(body.len(), length, "{path}: a body cut short");
        Outcome::Answered(status, body.to_owned(), Instant::now())
    }

    #[test]
    fn sigterm_during_a_burst_answers_every_accepted_request_and_exits_0() {
        let dir = tempfile::tempdir().unwrap();
        let mut server = server(dir.path(), "", &demo_region());
        let ca = server.ca_pem();
        let addr = server.public;

        // 50 phone pages: the hall and its search, each on its own TLS connection.
        let queries = ["", "?q=gjj", "?q=shebao", "?q=%E7%A4%BE%E4%BF%9D", "?q=jzz"];
        let paths: Vec<String> = (0..50)
            .map(|i| format!("/h/hall-futian{}", queries[i % queries.len()]))
            .collect();
        let start = Arc::new(Barrier::new(paths.len() + 1));
        let first_answer = Arc::new(Mutex::new(false));
        let first_answer_seen = Arc::new(Condvar::new());
        let workers: Vec<_> = paths
            .into_iter()
            .map(|path| {
                let (ca, start, first, seen) = (
                    ca.clone(),
                    start.clone(),
                    first_answer.clone(),
                    first_answer_seen.clone(),
                );
                std::thread::spawn(move || {
                    start.wait();
                    let outcome = exchange(&ca, addr, &path);
                    if matches!(outcome, Outcome::Answered(..)) {
                        *first.lock().unwrap() = true;
                        seen.notify_all();
                    }
                    (path, outcome)
                })
            })
            .collect();

        // SIGTERM as soon as the first page is back: the rest of the burst is in flight.
        start.wait();
        {
            let answered = first_answer.lock().unwrap();
            let _answered = first_answer_seen
                .wait_timeout_while(answered, Duration::from_secs(30), |a| !*a)
                .unwrap();
        }
        let kill = Command::new("kill")
            .args(["-TERM", &server.child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        // Measured after the signal went: an answer counted as later surely was in flight.
        let sent = Instant::now();

        let exit_deadline = sent + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < exit_deadline,
                "the server did not exit within 5 s of SIGTERM\nlog:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "exit {status:?}\nlog:\n{}", server.log());

        let (mut answered, mut after_signal, mut refused) = (0, 0, 0);
        for w in workers {
            let (path, outcome) = w.join().expect("a request's checks failed");
            match outcome {
                Outcome::NotAccepted => refused += 1,
                Outcome::Answered(status, page, at) => {
                    answered += 1;
                    if at > sent {
                        after_signal += 1;
                    }
                    assert_eq!(status, 200, "{path}: {page}");
                    assert!(page.trim_end().ends_with("</html>"), "{path}: {page}");
                }
            }
        }
        eprintln!("answered {answered} ({after_signal} after SIGTERM), not accepted {refused}");
        assert!(
            after_signal > 0,
            "no request was still in flight at SIGTERM: the test proved nothing"
        );
        assert!(server.log().contains("Stopped."), "{}", server.log());
    }
}
