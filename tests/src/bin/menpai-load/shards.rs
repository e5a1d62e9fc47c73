//! Terminals over several processes: a process may hold only so many open files, and every
//! terminal holds two connections. The first process enrolls every terminal, starts N others
//! (`--shard K`, each the terminals `i % N == K`), runs the citizens itself and adds up what the
//! others report on their standard output: `open MS` once all their streams are open, then
//! `figures JSON` at the end.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::Figures;

/// Open files a terminal takes in this process (its two connections).
const FILES_PER_TERMINAL: usize = 2;
/// Open files kept aside for everything else (runtimes, citizens' connections, logs).
const FILES_SPARE: usize = 2_000;

/// How many processes `terminals` need under this process's open-file limit.
pub(crate) fn needed(terminals: usize) -> usize {
    let limit = open_file_limit().unwrap_or(1024);
    let per = limit.saturating_sub(FILES_SPARE).max(100) / FILES_PER_TERMINAL;
    terminals.div_ceil(per).max(1)
}

/// The soft limit on open files, from /proc/self/limits.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// What one process measured, to add up.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    pub streams_most: usize,
    pub stream_opens: u64,
    pub drops_after_open: u64,
    pub all_open_after_ms: u64,
    pub heartbeats: Vec<u64>,
    pub steady_heartbeats: Vec<u64>,
    pub heartbeat_failures: u64,
    pub events_held: u64,
    pub event_failures: u64,
    pub tickets: Vec<String>,
    pub ticket_failures: u64,
}

impl Snapshot {
    pub(crate) fn of(f: &Figures) -> Snapshot {
        Snapshot {
            streams_most: f.streams_most.load(Ordering::Relaxed),
            stream_opens: f.stream_opens.load(Ordering::Relaxed),
            drops_after_open: f.drops_after_open.load(Ordering::Relaxed),
            all_open_after_ms: f.all_open_after_ms.load(Ordering::Relaxed),
            heartbeats: f.heartbeats.values(),
            steady_heartbeats: f.steady_heartbeats.values(),
            heartbeat_failures: f.heartbeat_failures.load(Ordering::Relaxed),
            events_held: f.events_held.load(Ordering::Relaxed),
            event_failures: f.event_failures.load(Ordering::Relaxed),
            tickets: f.tickets.lock().unwrap().clone(),
            ticket_failures: f.ticket_failures.load(Ordering::Relaxed),
        }
    }

    /// Adds another process's figures to `f`. Streams held at most: the sum of each process's
    /// most (an upper bound; with every process all open and none dropped after, exact).
    pub(crate) fn add_to(self, f: &Figures) {
        f.streams_most
            .fetch_add(self.streams_most, Ordering::Relaxed);
        f.stream_opens
            .fetch_add(self.stream_opens, Ordering::Relaxed);
        f.drops_after_open
            .fetch_add(self.drops_after_open, Ordering::Relaxed);
        f.heartbeats.extend(&self.heartbeats);
        f.steady_heartbeats.extend(&self.steady_heartbeats);
        f.heartbeat_failures
            .fetch_add(self.heartbeat_failures, Ordering::Relaxed);
        f.events_held.fetch_add(self.events_held, Ordering::Relaxed);
        f.event_failures
            .fetch_add(self.event_failures, Ordering::Relaxed);
        f.tickets.lock().unwrap().extend(self.tickets);
        f.ticket_failures
            .fetch_add(self.ticket_failures, Ordering::Relaxed);
    }
}

/// The other processes, running: each one's reader adds its figures to `f` when it ends.
pub(crate) struct Others {
    children: Vec<Child>,
    readers: Vec<std::thread::JoinHandle<anyhow::Result<()>>>,
}

/// Starts n processes with this one's arguments and `--shard K`. When all of them hold all
/// their streams, `f.all_open_after_ms` is set (the slowest one's time).
pub(crate) fn start(n: usize, f: Arc<Figures>) -> anyhow::Result<Others> {
    let exe = std::env::current_exe()?;
    // This process's arguments, but for the process count (given to each explicitly).
    let mut args: Vec<String> = Vec::new();
    let mut given = std::env::args().skip(1);
    while let Some(a) = given.next() {
        if a == "--processes" {
            given.next();
        } else if !a.starts_with("--processes=") {
            args.push(a);
        }
    }
    let all_open = Arc::new(AtomicUsize::new(0));
    let slowest = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (mut children, mut readers) = (Vec::new(), Vec::new());
    for k in 0..n {
        let mut child = Command::new(&exe)
            .args(&args)
            .args(["--processes", &n.to_string(), "--shard", &k.to_string()])
            .stdout(Stdio::piped())
            .spawn()?;
        let out = child.stdout.take().expect("piped");
        let (f, all_open, slowest) = (f.clone(), all_open.clone(), slowest.clone());
        readers.push(std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines() {
                let line = line?;
                if let Some(ms) = line.strip_prefix("open ") {
                    slowest.fetch_max(ms.parse().unwrap_or(1), Ordering::Relaxed);
                    if all_open.fetch_add(1, Ordering::Relaxed) + 1 == n {
                        f.all_open_after_ms
                            .store(slowest.load(Ordering::Relaxed), Ordering::Relaxed);
                    }
                } else if let Some(json) = line.strip_prefix("figures ") {
                    serde_json::from_str::<Snapshot>(json)?.add_to(&f);
                } else {
                    println!("{line}");
                }
            }
            Ok(())
        }));
        children.push(child);
    }
    Ok(Others { children, readers })
}

impl Others {
    /// Waits for every other process and its figures.
    pub(crate) fn finish(mut self) -> anyhow::Result<()> {
        for r in self.readers.drain(..) {
            r.join().expect("a reader")?;
        }
        for mut c in self.children.drain(..) {
            let status = c.wait()?;
            anyhow::ensure!(status.success(), "a load process failed: {status}");
        }
        Ok(())
    }
}

/// In a process started by [`start`]: says `open MS` once all its streams are open.
pub(crate) async fn report_open(f: Arc<Figures>, end: Instant) {
    while Instant::now() < end {
        let ms = f.all_open_after_ms.load(Ordering::Relaxed);
        if ms > 0 {
            println!("open {ms}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
