//! Agent start-up on the synthetic 5,000-item region: time from process start to a healthy API,
//! and resident memory after serving searches and guides. Prints its figures.
//!
//! `cargo bench -p menpai-agent --bench startup`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use menpai_agent::store::Store;

const RUNS: usize = 10;

fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

fn kib(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let base =
        menpai_content::load_dir(&menpai_content::demo_region_dir()).expect("demo region is valid");
    let pack = menpai_content::synthetic::expand(&base, 5_000, 42);
    Store::open(&data.join("menpai-agent.db"))
        .unwrap()
        .import(&pack)
        .unwrap();
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        format!("listen = \"127.0.0.1:0\"\ndata_dir = {data:?}\n"),
    )
    .unwrap();

    let mut ready = Vec::new();
    let mut rss = Vec::new();
    let mut peak = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_menpai-agent"))
            .args(["serve", "--config"])
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr: SocketAddr = line
            .rsplit("http://")
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        loop {
            let (status, body) = http_get(addr, "/api/v1/health");
            if status == 200 && body.contains("\"items\":5000") {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the agent never became healthy"
            );
        }
        ready.push(started.elapsed());
        for q in [
            "gjj",
            "shebaoka",
            "%E5%85%AC%E7%A7%AF%E9%87%91",
            "yiliao",
            "hzqf",
        ] {
            assert_eq!(http_get(addr, &format!("/api/v1/search?q={q}")).0, 200);
        }
        for id in ["P43", "E01", "S00042", "S04000"] {
            assert_eq!(http_get(addr, &format!("/api/v1/items/{id}")).0, 200);
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        rss.push(kib(&status, "VmRSS:"));
        peak.push(kib(&status, "VmHWM:"));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    ready.sort();
    rss.sort();
    peak.sort();
    println!(
        "agent start-up figures (5,000 items, {RUNS} runs): ready median {:.0} ms, max {:.0} ms; RSS after use median {:.1} MB, max {:.1} MB; peak RSS max {:.1} MB",
        ready[RUNS / 2].as_secs_f64() * 1e3,
        ready[RUNS - 1].as_secs_f64() * 1e3,
        rss[RUNS / 2] as f64 / 1024.0,
        rss[RUNS - 1] as f64 / 1024.0,
        peak[RUNS - 1] as f64 / 1024.0,
    );
}
