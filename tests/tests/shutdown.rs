//! SIGTERM during a burst of requests: every request the process accepted gets a whole answer,
//! and the process exits 0 within 5 s. The agent and the regional server share the burst.

use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What became of one request of the burst.
#[derive(Debug)]
enum Outcome {
    /// Refused, or closed (in a handshake or before a byte of answer) once the process had
    /// stopped accepting: the request was never taken.
    NotAccepted,
    /// A whole answer: its status, its body, and when it was complete.
    Answered(u16, String, Instant),
}

/// A request of the burst: its path (for messages) and how to send it.
type Request = (String, Box<dyn FnOnce() -> Outcome + Send>);

/// What came back on a connection, checked for wholeness: a status line and a body as long as
/// its Content-Length. Nothing at all means the request was not accepted.
fn whole_answer(path: &str, raw: Vec<u8>) -> Outcome {
    if raw.is_empty() {
        return Outcome::NotAccepted;
    }
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
    assert_eq!(body.len(), length, "{path}: a body cut short: {body:?}");
    Outcome::Answered(status, body.to_owned(), Instant::now())
}

/// Sends every request at once, SIGTERM as soon as the first is answered (the rest are in
/// flight), and waits 5 s at most for the process to exit. Gives each request's outcome, the
/// instant after the signal went, and the exit status (none if it had not exited by then).
fn burst_then_sigterm(
    requests: Vec<Request>,
    child: &mut Child,
) -> (Vec<(String, Outcome)>, Instant, Option<ExitStatus>) {
    let start = Arc::new(Barrier::new(requests.len() + 1));
    let first_answer = Arc::new((Mutex::new(false), Condvar::new()));
    let workers: Vec<_> = requests
        .into_iter()
        .map(|(path, send)| {
            let (start, first) = (start.clone(), first_answer.clone());
            std::thread::spawn(move || {
                start.wait();
                let outcome = send();
                if matches!(outcome, Outcome::Answered(..)) {
                    *first.0.lock().unwrap() = true;
                    first.1.notify_all();
                }
                (path, outcome)
            })
        })
        .collect();

    start.wait();
    {
        let (answered, seen) = &*first_answer;
        let _answered = seen
            .wait_timeout_while(answered.lock().unwrap(), Duration::from_secs(30), |a| !*a)
            .unwrap();
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // Measured after the signal went: an answer counted as later surely was in flight.
    let sent = Instant::now();

    let exit_deadline = sent + Duration::from_secs(5);
    let mut exit = None;
    while exit.is_none() && Instant::now() < exit_deadline {
        exit = child.try_wait().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let outcomes = workers
        .into_iter()
        .map(|w| w.join().expect("a request's checks failed"))
        .collect();
    (outcomes, sent, exit)
}

/// The process exited 0 within 5 s of SIGTERM.
fn exited_0(exit: Option<ExitStatus>, log: String) {
    let exit = exit.unwrap_or_else(|| panic!("it did not exit within 5 s of SIGTERM\nlog:\n{log}"));
    assert!(exit.success(), "exit {exit:?}\nlog:\n{log}");
}

/// The whole answers, after checking that some came after the signal (else the test proved
/// nothing).
fn answered(outcomes: Vec<(String, Outcome)>, signal: Instant) -> Vec<(String, u16, String)> {
    let total = outcomes.len();
    let mut after_signal = 0;
    let answers: Vec<_> = outcomes
        .into_iter()
        .filter_map(|(path, outcome)| match outcome {
            Outcome::NotAccepted => None,
            Outcome::Answered(status, body, at) => {
                after_signal += usize::from(at > signal);
                Some((path, status, body))
            }
        })
        .collect();
    eprintln!(
        "answered {} ({after_signal} after SIGTERM), not accepted {}",
        answers.len(),
        total - answers.len()
    );
    assert!(
        after_signal > 0,
        "no request was still in flight at SIGTERM: the test proved nothing"
    );
    answers
}

/// The edge agent (menpai-agent), over plain HTTP on loopback.
mod agent {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    use menpai_tests::{demo_region, start_agent};

    use super::{Outcome, Request, answered, burst_then_sigterm, exited_0, whole_answer};

    /// One request on its own connection.
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
        if !raw.is_empty() {
            read.unwrap_or_else(|e| panic!("{path}: the answer was cut ({e}) after {raw:?}"));
        }
        whole_answer(path, raw)
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
        let addr = agent.addr;
        let mut requests: Vec<Request> = (0..50)
            .map(|i| {
                let path = format!(
                    "/api/v1/search?q={}&limit=10",
                    encode(queries[i % queries.len()])
                );
                let send = {
                    let path = path.clone();
                    Box::new(move || exchange(addr, "GET", &path, "")) as Box<_>
                };
                (path, send)
            })
            .collect();
        for _ in 0..10 {
            let path = "/api/v1/print/checklist".to_owned();
            let body = r#"{"item": "P43", "situations": []}"#;
            requests.push((
                path.clone(),
                Box::new(move || exchange(addr, "POST", &path, body)),
            ));
        }

        let (outcomes, signal, exit) = burst_then_sigterm(requests, &mut agent.child);
        exited_0(exit, agent.log());
        for (path, status, body) in answered(outcomes, signal) {
            let json: serde_json::Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{path}: the body is not JSON ({e}): {body:?}"));
            if path.starts_with("/api/v1/search") {
                assert_eq!(status, 200, "{path}: {json}");
                assert!(json["hits"].is_array(), "{path}: {json}");
            } else {
                // Printed, or refused with the QR to offer instead: both whole answers.
                assert!(matches!(status, 200 | 503), "{path}: {status} {json}");
            }
        }
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

/// The regional server (menpai-server): phone pages over TLS.
mod server {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use menpai_tests::demo_region;
    use menpai_tests::regional::server;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::{Outcome, Request, answered, burst_then_sigterm, exited_0, whole_answer};

    /// One HTTPS GET on its own connection, trusting only the region's CA.
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
                return Vec::new();
            };
            let name = rustls::pki_types::ServerName::try_from(addr.ip().to_string()).unwrap();
            let Ok(mut tls) = tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await
            else {
                return Vec::new();
            };
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            if tls.write_all(request.as_bytes()).await.is_err() {
                return Vec::new();
            }
            let mut raw = Vec::new();
            // A peer that closes without TLS close_notify ends in an error: the length check
            // says whether the answer was whole.
            let _ = tokio::time::timeout(Duration::from_secs(30), tls.read_to_end(&mut raw)).await;
            raw
        });
        whole_answer(path, raw)
    }

    #[test]
    fn sigterm_during_a_burst_answers_every_accepted_request_and_exits_0() {
        let dir = tempfile::tempdir().unwrap();
        let mut server = server(dir.path(), "", &demo_region());
        let ca = server.ca_pem();
        let addr = server.public;

        // 50 phone pages: the hall and its search, each on its own TLS connection.
        let queries = ["", "?q=gjj", "?q=shebao", "?q=%E7%A4%BE%E4%BF%9D", "?q=jzz"];
        let requests: Vec<Request> = (0..50)
            .map(|i| {
                let path = format!("/h/hall-futian{}", queries[i % queries.len()]);
                let send = {
                    let (ca, path) = (ca.clone(), path.clone());
                    Box::new(move || exchange(&ca, addr, &path)) as Box<_>
                };
                (path, send)
            })
            .collect();

        let (outcomes, signal, exit) = burst_then_sigterm(requests, &mut server.child);
        exited_0(exit, server.log());
        for (path, status, page) in answered(outcomes, signal) {
            assert_eq!(status, 200, "{path}: {page}");
            assert!(page.trim_end().ends_with("</html>"), "{path}: {page}");
        }
        assert!(server.log().contains("Stopped."), "{}", server.log());
    }
}
