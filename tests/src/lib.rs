//! Helpers for cross-process tests: build and start the real binaries, talk HTTP to them, stop them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Path of a workspace binary, built once per test run with the same profile and target dir.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    // target/<profile>/deps/<test-binary> → target/<profile>/<name>; benches run in release.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_owned();
    let release = dir.file_name().is_some_and(|n| n == "release");
    BUILT.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args([
            "build",
            "--quiet",
            "--bins",
            "-p",
            "menpai-agent",
            "-p",
            "menpai-content",
            "-p",
            "menpai-kiosk",
        ]);
        if release {
            cargo.arg("--release");
        }
        let status = cargo.current_dir(workspace()).status().expect("cargo runs");
        assert!(status.success(), "building the binaries failed");
    });
    dir.join(name)
}

/// A running agent, stopped (and reaped) on drop.
#[derive(Debug)]
pub struct RunningAgent {
    pub child: Child,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl RunningAgent {
    /// What the agent logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }

    /// Resident memory of the agent process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Opens the event stream and returns it after the hello message.
    pub fn events(&self) -> EventStream {
        let (mut ws, _) =
            tungstenite::connect(format!("ws://{}/api/v1/events", self.addr)).unwrap();
        if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_mut() {
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
        }
        let mut stream = EventStream { ws };
        let hello = stream.next_matching(Duration::from_secs(10), |e| e["type"] == "hello");
        assert!(hello.is_some(), "no hello on the event stream");
        stream
    }
}

/// The agent's WebSocket event stream.
pub struct EventStream {
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStream")
    }
}

impl EventStream {
    /// Events until one matches or `wait` passes; the ones seen are returned too.
    pub fn collect_until(
        &mut self,
        wait: Duration,
        mut stop: impl FnMut(&serde_json::Value) -> bool,
    ) -> (Option<serde_json::Value>, Vec<serde_json::Value>) {
        let deadline = std::time::Instant::now() + wait;
        let mut seen = Vec::new();
        while std::time::Instant::now() < deadline {
            match self.ws.read() {
                Ok(tungstenite::Message::Text(t)) => {
                    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                    if stop(&v) {
                        return (Some(v), seen);
                    }
                    seen.push(v);
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("event stream failed: {e}"),
            }
        }
        (None, seen)
    }

    pub fn next_matching(
        &mut self,
        wait: Duration,
        stop: impl FnMut(&serde_json::Value) -> bool,
    ) -> Option<serde_json::Value> {
        self.collect_until(wait, stop).0
    }
}

impl Drop for RunningAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a config into a fresh data dir and starts `menpai-agent` on 127.0.0.1:0.
pub fn start_agent(seed_pack: &Path, extra_config: &str) -> RunningAgent {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\nseed_pack = {:?}\n{extra_config}",
            dir.path().join("data"),
            seed_pack
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("agent.log")).unwrap();
    let mut child = Command::new(binary("menpai-agent"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("agent starts");
    let addr = read_listen_line(&mut child);
    RunningAgent { child, addr, dir }
}

/// Reads the agent's "listening on http://ADDR" line.
pub fn read_listen_line(child: &mut Child) -> SocketAddr {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .next()
        .expect("the agent printed its address")
        .unwrap();
    let addr = line
        .rsplit("http://")
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Keep draining stdout so the agent never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    addr
}

/// A minimal HTTP/1.1 exchange: returns status and body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (status, body)
}

fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

pub fn get_json(addr: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let (status, body) = http(addr, "GET", path, &[], b"");
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
    )
}

/// Copies a pack directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn demo_region() -> PathBuf {
    workspace().join("content/demo-region")
}
