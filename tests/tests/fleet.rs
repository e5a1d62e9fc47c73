//! The fleet view in headless Chromium (driven over WebDriver): an operator logs in, sees a
//! terminal online, and watches it turn stale and then offline once it stops heartbeating.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use menpai_tests::{
    agent_cli, agent_dir, https, login, server_cli, server_dir, spawn_agent, spawn_server,
    workspace,
};
use serde_json::{Value, json};

struct Driver {
    child: Child,
    addr: SocketAddr,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = wd_http(
            self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            b"",
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start() -> Driver {
        let found = Command::new("sh")
            .args(["-c", "command -v chromedriver && command -v chromium"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "chromium and chromium-driver are missing: scripts/setup.sh installs them"
        );
        // chromedriver needs a port number: take one the OS says is free.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--window-size=1280,900"]
            }
        }}});
        let mut d = Driver {
            child,
            addr,
            session: String::new(),
        };
        let r = d.call("POST", "/session", caps);
        d.session = r["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_owned();
        d
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let text = wd_http(self.addr, method, path, body.as_bytes()).unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        v["value"].clone()
    }

    fn session(&self, method: &str, path: &str, body: Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn go(&self, url: &str) {
        self.session("POST", "/url", json!({ "url": url }));
    }

    fn element(&self, css: &str) -> String {
        let r = self.session(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        r.as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("no element {css}: {r}"))
            .to_owned()
    }

    fn script(&self, js: &str) -> Value {
        self.session("POST", "/execute/sync", json!({"script": js, "args": []}))
    }
}

#[test]
fn the_fleet_view_shows_a_silent_terminal_turn_stale_then_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    server_dir(
        dir,
        "heartbeat_interval_s = 1\nstale_after_s = 4\noffline_after_s = 9\n",
    );
    assert!(
        server_cli(
            dir,
            &["add-operator", "duty-viewer", "viewer"],
            Some("viewer-password-1")
        )
        .0
    );
    assert!(
        server_cli(
            dir,
            &["add-operator", "ops-admin", "admin"],
            Some("admin-password-1")
        )
        .0
    );
    let pack = menpai_tests::demo_region();
    assert!(server_cli(dir, &["publish", pack.to_str().unwrap()], None).0);
    let s = spawn_server(dir);
    let admin = login(&s, "ops-admin", "admin-password-1");
    let (st, r) = https(
        &s.ca_pem(),
        s.public,
        "POST",
        "/api/v1/admin/enrollment-tokens",
        &[
            ("authorization", &format!("Bearer {admin}")),
            ("content-type", "application/json"),
        ],
        b"{\"hall\":\"hall-futian\",\"position\":\"entrance\"}",
    );
    assert_eq!(st, 201, "{r}");
    let token = serde_json::from_str::<Value>(&r).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let adir = agent_dir(
        None,
        "[regional]\nheartbeat_interval_s = 1\nsync_interval_s = 3600\n",
    );
    std::fs::write(adir.path().join("ca.pem"), s.ca_pem()).unwrap();
    let ca = adir.path().join("ca.pem");
    let (ok, out) = agent_cli(
        adir.path(),
        &[
            "enroll",
            "--server",
            &format!("https://{}", s.devices),
            "--ca",
            ca.to_str().unwrap(),
            "--token",
            &token,
        ],
    );
    assert!(ok, "{out}");
    let mut agent = spawn_agent(adir);
    let h = agent.wait_health(Duration::from_secs(30), |h| {
        h["regional"]["heartbeats"].as_u64() > Some(1)
    });
    let device = h["regional"]["device_id"].as_str().unwrap().to_owned();

    // Log in as a viewer through the form.
    let d = Driver::start();
    let base = format!("https://{}", s.public);
    d.go(&format!("{base}/fleet"));
    let url = d.session("GET", "/url", Value::Null);
    assert!(
        url.as_str().unwrap().ends_with("/login"),
        "no session → the login page: {url}"
    );
    let name = d.element("#name");
    d.session(
        "POST",
        &format!("/element/{name}/value"),
        json!({"text": "duty-viewer"}),
    );
    let pw = d.element("#password");
    d.session(
        "POST",
        &format!("/element/{pw}/value"),
        json!({"text": "viewer-password-1"}),
    );
    let button = d.element("#login");
    d.session("POST", &format!("/element/{button}/click"), json!({}));
    std::thread::sleep(Duration::from_millis(500));

    let status = |d: &Driver| -> String {
        d.go(&format!("{base}/fleet"));
        d.script(&format!(
            "const r = document.querySelector('tr.terminal[data-id=\"{device}\"]'); return r ? r.dataset.status : 'missing';"
        ))
        .as_str()
        .unwrap_or("none")
        .to_owned()
    };
    assert_eq!(status(&d), "online");
    let hall = d.script("return document.querySelector('h2').textContent;");
    assert_eq!(hall, "hall-futian");
    let cells = d.script(&format!(
        "return [...document.querySelectorAll('tr.terminal[data-id=\"{device}\"] td')].map(td => td.textContent);"
    ));
    assert_eq!(cells[2], "在线", "{cells}");
    assert!(
        cells[4].as_str().unwrap().ends_with("-1"),
        "content version shown: {cells}"
    );

    // The terminal goes silent (power cut): stale, then offline, each within 35 s.
    agent.stop();
    let stopped = Instant::now();
    let mut seen_stale = None;
    let offline_at = loop {
        let st = status(&d);
        if st == "stale" && seen_stale.is_none() {
            seen_stale = Some(stopped.elapsed());
        }
        if st == "offline" {
            break stopped.elapsed();
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(35),
            "still {st} after 35 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let stale_at = seen_stale.expect("it was stale before offline");
    println!(
        "stale after {:.1} s, offline after {:.1} s",
        stale_at.as_secs_f64(),
        offline_at.as_secs_f64()
    );
    let count = d.script("return document.querySelector('#count-offline').textContent;");
    assert_eq!(count, "offline: 1");

    // A screenshot for people to look at.
    let png = d.session("GET", "/screenshot", Value::Null);
    let bytes = decode_b64(png.as_str().unwrap());
    assert_eq!(&bytes[1..4], b"PNG");
    let out = workspace().join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("fleet-offline.png"), &bytes).unwrap();
}

/// WebDriver over HTTP/1.1: chromedriver keeps connections open, so read by Content-Length.
fn wd_http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Option<String> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(120))).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut r = BufReader::new(s);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some(v) = l.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().ok()?;
        }
    }
    let mut buf = vec![0; len];
    r.read_exact(&mut buf).ok()?;
    String::from_utf8(buf).ok()
}

fn decode_b64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = s
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, c)| {
            acc | (u32::from(val(*c)) << (18 - 6 * i))
        });
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}
