//! Headless Chromium over WebDriver (chromedriver), for the web pages' tests.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A chromedriver with one headless Chromium session; both stop on drop.
#[allow(missing_debug_implementations)]
pub struct Driver {
    child: Child,
    addr: SocketAddr,
    pub session: String,
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
    pub fn start() -> Driver {
        Driver::launch(json!({}), "--window-size=1280,900", &[])
    }

    /// A desktop browser with extra command-line switches (e.g. `--host-resolver-rules=…`).
    pub fn start_with(switches: &[&str]) -> Driver {
        Driver::launch(json!({}), "--window-size=1280,900", switches)
    }

    /// A phone: 390×844 CSS pixels at device pixel ratio 2, with the user agent of WeChat's
    /// in-app browser on Android.
    pub fn phone() -> Driver {
        Driver::launch(
            json!({"mobileEmulation": {
                "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0, "touch": true},
                "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                              Chrome/126.0 Mobile Safari/537.36 MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN"
            }}),
            "--window-size=390,844",
            &[],
        )
    }

    fn launch(options: Value, window: &str, switches: &[&str]) -> Driver {
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
                         "--disable-sync", window, "--lang=zh-CN"]
            }
        }}});
        let mut caps = caps;
        if let Some(args) =
            caps["capabilities"]["alwaysMatch"]["goog:chromeOptions"]["args"].as_array_mut()
        {
            args.extend(switches.iter().map(|s| json!(s)));
        }
        if let (Some(o), Some(extra)) = (
            caps["capabilities"]["alwaysMatch"]["goog:chromeOptions"].as_object_mut(),
            options.as_object(),
        ) {
            o.extend(extra.clone());
        }
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

    pub fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let text = wd_http(self.addr, method, path, body.as_bytes()).unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        v["value"].clone()
    }

    pub fn session(&self, method: &str, path: &str, body: Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn go(&self, url: &str) {
        self.session("POST", "/url", json!({ "url": url }));
    }

    pub fn element(&self, css: &str) -> String {
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

    pub fn script(&self, js: &str) -> Value {
        self.session("POST", "/execute/sync", json!({"script": js, "args": []}))
    }

    /// The visible text of the first element matching `css` ("" when there is none).
    pub fn text(&self, css: &str) -> String {
        let r = self.session(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        let Some(id) = r
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
        else {
            return String::new();
        };
        self.session("GET", &format!("/element/{id}/text"), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.session("POST", &format!("/element/{id}/click"), json!({}));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.session(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    pub fn url(&self) -> String {
        self.session("GET", "/url", Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The viewport as PNG bytes.
    pub fn screenshot(&self) -> Vec<u8> {
        decode_b64(
            self.session("GET", "/screenshot", Value::Null)
                .as_str()
                .unwrap_or_default(),
        )
    }

    /// One element as PNG bytes.
    pub fn element_screenshot(&self, css: &str) -> Vec<u8> {
        let id = self.element(css);
        decode_b64(
            self.session("GET", &format!("/element/{id}/screenshot"), Value::Null)
                .as_str()
                .unwrap_or_default(),
        )
    }

    /// Waits up to `secs` for the text of `css` to contain `needle`; the text last seen.
    pub fn wait_text(&self, css: &str, needle: &str, secs: u64) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let t = self.text(css);
            if t.contains(needle) {
                return Ok(t);
            }
            if Instant::now() > deadline {
                return Err(t);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Logs `name` in through the login form at `base`; returns once the login page is left.
pub fn browser_login(d: &Driver, base: &str, (name, password): (&str, &str)) {
    d.go(&format!("{base}/login"));
    d.type_into("#name", name);
    d.type_into("#password", password);
    d.click("#login");
    let deadline = Instant::now() + Duration::from_secs(30);
    while d.url().ends_with("/login") {
        assert!(Instant::now() < deadline, "{name}'s login did not finish");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// WebDriver over HTTP/1.1: chromedriver keeps connections open, so read by Content-Length.
pub fn wd_http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Option<String> {
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

pub fn decode_b64(s: &str) -> Vec<u8> {
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
