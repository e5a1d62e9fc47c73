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
            "-p",
            "menpai-server",
            "-p",
            "menpai-provision",
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

impl RunningAgent {
    /// Stops the agent (SIGKILL, like a power cut), keeping its data.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the agent (SIGKILL, like a power cut) and starts it again on the same data.
    pub fn restart(self) -> RunningAgent {
        self.restart_env(&[])
    }

    /// [`RunningAgent::restart`], with extra environment for the new process.
    pub fn restart_env(mut self, env: &[(&str, &str)]) -> RunningAgent {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        drop(self);
        spawn_agent_env(dir, env)
    }

    /// Waits until `/api/v1/health` satisfies `ok`; returns the last health.
    pub fn wait_health(
        &self,
        within: Duration,
        mut ok: impl FnMut(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + within;
        loop {
            let (_, h) = get_json(self.addr, "/api/v1/health");
            if ok(&h) {
                return h;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the agent never got there; last health {h}\nlog:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
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
    let dir = agent_dir(Some(seed_pack), extra_config);
    spawn_agent(dir)
}

/// A fresh data dir with `agent.toml` in it (no seed: content comes from the server).
pub fn agent_dir(seed_pack: Option<&Path>, extra_config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let seed = seed_pack
        .map(|p| format!("seed_pack = {p:?}\n"))
        .unwrap_or_default();
    std::fs::write(
        dir.path().join("agent.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n{seed}{extra_config}",
            dir.path().join("data"),
        ),
    )
    .unwrap();
    dir
}

/// Runs `menpai-agent ARGS --config <dir>/agent.toml`; returns (success, stdout + stderr).
pub fn agent_cli(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(binary("menpai-agent"))
        .args(args)
        .arg("--config")
        .arg(dir.join("agent.toml"))
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Starts `menpai-agent serve` on the config in `dir`.
pub fn spawn_agent(dir: tempfile::TempDir) -> RunningAgent {
    spawn_agent_env(dir, &[])
}

/// Starts `menpai-agent serve` with extra environment (a private D-Bus, a notify socket).
pub fn spawn_agent_env(dir: tempfile::TempDir, env: &[(&str, &str)]) -> RunningAgent {
    let config = dir.path().join("agent.toml");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("agent.log"))
        .unwrap();
    let mut child = Command::new(binary("menpai-agent"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(log)
        .envs(env.iter().copied())
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

pub mod fake_host;
pub mod fake_rauc;
pub mod postgres;
pub mod proxy;
pub mod regional;
pub mod screen;
pub mod server_db;
pub mod webdriver;

/// A running regional server, stopped on drop.
#[derive(Debug)]
pub struct RunningServer {
    pub child: Child,
    pub public: SocketAddr,
    pub devices: SocketAddr,
    pub dir: PathBuf,
}

impl RunningServer {
    pub fn config(&self) -> PathBuf {
        self.dir.join("server.toml")
    }
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.dir.join("data/ca.pem")).unwrap()
    }
    /// Runs statements on the server's database.
    pub fn sql(&self, statements: &str) {
        server_db::execute(&self.dir, statements)
    }
    /// The one value a query on the server's database gives.
    pub fn sql_value<T: std::str::FromStr>(&self, query: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        server_db::scalar(&self.dir, query)
    }
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
    /// Stops the server at once (SIGKILL), as a crash or power cut would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Writes `server.toml` (ports chosen by the OS; the run's database, see `server_db`) into
/// `dir`.
pub fn server_dir(dir: &Path, extra_config: &str) {
    std::fs::write(
        dir.join("server.toml"),
        format!(
            "listen_public = \"127.0.0.1:0\"\nlisten_devices = \"127.0.0.1:0\"\ndata_dir = {:?}\n{}{extra_config}",
            dir.join("data"),
            server_db::database_line(),
        ),
    )
    .unwrap();
}

/// Runs `menpai-server ARGS --config <dir>/server.toml`.
pub fn server_cli(dir: &Path, args: &[&str], password: Option<&str>) -> (bool, String) {
    let mut c = Command::new(binary("menpai-server"));
    c.args(args).arg("--config").arg(dir.join("server.toml"));
    if let Some(p) = password {
        c.env("MENPAI_PASSWORD", p);
    }
    let out = c.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Starts `menpai-server serve` on the config in `dir` (its data survives restarts).
pub fn spawn_server(dir: &Path) -> RunningServer {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    let mut child = Command::new(binary("menpai-server"))
        .args(["serve", "--config"])
        .arg(dir.join("server.toml"))
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("server starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addr = |prefix: &str| -> SocketAddr {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        line.strip_prefix(prefix)
            .unwrap_or_else(|| panic!("unexpected line {line}"))
            .parse()
            .unwrap()
    };
    let public = addr("public https://");
    let devices = addr("devices https://");
    std::thread::spawn(move || for _ in lines {});
    RunningServer {
        child,
        public,
        devices,
        dir: dir.to_owned(),
    }
}

/// One HTTPS exchange trusting only `ca_pem`: (status, body).
pub fn https(
    ca_pem: &str,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let r = https_reply(ca_pem, addr, method, path, headers, body);
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

/// The whole answer: status, headers and body.
pub fn https_reply(
    ca_pem: &str,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> menpai_agent::sync::client::Reply {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client =
            menpai_agent::sync::client::Client::new(&format!("https://{addr}"), ca_pem, None)
                .unwrap();
        client
            .request(
                method,
                path,
                headers,
                body.to_vec(),
                Duration::from_secs(60),
            )
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    })
}

/// A TLS connection to `addr` trusting only `ca_pem`, from the loopback address `source` when
/// given (another client, as the server sees it).
async fn tls_to(
    ca_pem: &str,
    source: Option<std::net::IpAddr>,
    addr: SocketAddr,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = match source {
        Some(ip) => {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::new(ip, 0)).unwrap();
            socket.connect(addr).await.unwrap()
        }
        None => tokio::net::TcpStream::connect(addr).await.unwrap(),
    };
    let name = rustls::pki_types::ServerName::try_from(addr.ip().to_string()).unwrap();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap()
}

/// One HTTPS exchange from the loopback address `source` (127.0.0.2, …: another client as the
/// server sees it): (status, body).
pub fn https_from(
    ca_pem: &str,
    source: std::net::IpAddr,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let e = https_exchange_from(ca_pem, source, addr, method, path, headers, body);
    (e.status, e.body)
}

/// One request and its answer over a fresh TLS connection, with when it was sent (after the
/// handshake) and when its answer had fully arrived.
#[derive(Debug)]
pub struct Exchange {
    pub status: u16,
    pub body: String,
    pub sent: std::time::Instant,
    pub answered: std::time::Instant,
}

/// [`https_from`], timed from the request (the handshake done) to the whole answer.
pub fn https_exchange_from(
    ca_pem: &str,
    source: std::net::IpAddr,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Exchange {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut tls = tls_to(ca_pem, Some(source), addr).await;
        let sent = std::time::Instant::now();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        tls.write_all(head.as_bytes()).await.unwrap();
        tls.write_all(body).await.unwrap();
        let mut raw = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(60), tls.read_to_end(&mut raw)).await;
        let answered = std::time::Instant::now();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split_whitespace().nth(1).unwrap_or("0").parse().unwrap();
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(rest)
        } else {
            rest.to_owned()
        };
        Exchange {
            status,
            body,
            sent,
            answered,
        }
    })
}

/// Logs in over the admin API and returns the session token.
pub fn login(server: &RunningServer, name: &str, password: &str) -> String {
    let body = serde_json::json!({ "name": name, "password": password }).to_string();
    let (s, r) = https(
        &server.ca_pem(),
        server.public,
        "POST",
        "/api/v1/login",
        &[("content-type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(s, 200, "{r}");
    serde_json::from_str::<serde_json::Value>(&r).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Announces a body of `declared` bytes over HTTPS without sending it, and returns the status
/// the server answers with (a limit must be enforced from the headers, before the body).
pub fn https_oversized(
    ca_pem: &str,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    declared: usize,
) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut tls = tls_to(ca_pem, None, addr).await;
        let mut head =
            format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {declared}\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        tls.write_all(head.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(30), tls.read(&mut buf))
            .await
            .expect("the server answered before the body")
            .unwrap();
        let line = String::from_utf8_lossy(&buf[..n]).into_owned();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    })
}

/// A private XDG runtime directory for GUI processes under test.
pub fn runtime_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("menpai-xdg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    dir
}

/// `xvfb-run` with a screen of this size (Xvfb, Mesa's software Vulkan and a CJK font must be
/// installed: scripts/setup.sh does).
pub fn xvfb_run(width: u32, height: u32) -> Command {
    let found = Command::new("sh")
        .arg("-c")
        .arg("command -v xvfb-run")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "xvfb-run is missing: scripts/setup.sh installs xvfb, mesa-vulkan-drivers and a CJK font"
    );
    let mut c = Command::new("xvfb-run");
    c.args(["-a", "-s", &format!("-screen 0 {width}x{height}x24")])
        .env("XDG_RUNTIME_DIR", runtime_dir());
    c
}

/// What the simulated printer has received, once it contains `needle` (the twin reads the
/// pseudo-terminal on its own thread, so a print may land a moment after the answer).
pub fn printed(addr: std::net::SocketAddr, needle: &str) -> String {
    let mut preview = String::new();
    for _ in 0..100 {
        let (_, p) = get_json(addr, "/api/v1/sim/printer");
        preview = p["preview"].as_str().unwrap_or_default().to_owned();
        if preview.contains(needle) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    preview
}

/// The exit status of `child` once it ends; `None` (and the child killed) if it has not ended
/// within `limit`.
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// The kiosk under Xvfb at 1080×1920 on `agent`, running `script` (screenshots to `shots`, its
/// log to `log`). Returns once it has drawn its first frame, with the lines it prints after.
pub fn spawn_kiosk(
    agent: SocketAddr,
    shots: &Path,
    script: &str,
    log: &Path,
) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut kiosk = xvfb_run(1080, 1920)
        .arg(binary("menpai-kiosk"))
        .args(["--agent", &format!("http://{agent}"), "--shots"])
        .arg(shots)
        .args(["--script", script])
        .env("RUST_LOG", "menpai_kiosk=info,wgpu=error,naga=error")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let out = kiosk.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let first = lines_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the kiosk started");
    assert!(first.contains("first frame"), "{first}");
    (kiosk, lines_rx)
}

/// The synthetic region of `items` items (the demo region and generated ones) in `dir/pack`.
pub fn synthetic_region(dir: &Path, items: usize) -> PathBuf {
    let pack = dir.join("pack");
    let out = Command::new(binary("menpai-content"))
        .args(["synth", demo_region().to_str().unwrap(), &items.to_string()])
        .arg(&pack)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pack
}
