//! `menpai-load`: a region's load, as real clients make it, against a running regional server.
//! N terminals speak the device protocol over mTLS — enrolled with one-time tokens (their
//! identities kept in `--state` and reused on the next run), each holding the live stream,
//! heartbeating every `--heartbeat-s`, sending outbox events with idempotency keys and taking
//! tickets — and M citizens open a hall's phone page every 2 s. It prints what it saw:
//! streams held, heartbeat and page latencies (p50 / p99), events held, tickets taken and
//! whether any number came twice. With `--kill-pid` it is a failover drill (`failover.rs`).
//!
//! ```sh
//! menpai-load --public https://127.0.0.1:8443 --devices https://127.0.0.1:8444 --ca ca.pem \
//!     --admin-token TOKEN --terminals 200 --citizens 100 --duration-s 60 --state load-state
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod failover;
mod shards;

use clap::Parser;
use http_body_util::BodyExt;
use menpai_agent::devices::Backoff;
use menpai_agent::sync::{Identity, client::Client};
use menpai_model::sync::{EventBatch, Heartbeat, OutboxEvent};

#[derive(Debug, Parser)]
#[command(about = "Drives a regional server as many terminals and citizens at once")]
struct Options {
    /// The server's public (browsers, phones, admin API) address.
    #[arg(long)]
    public: String,
    /// The server's device (mTLS) address.
    #[arg(long)]
    devices: String,
    /// The region's CA certificate (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// An admin's bearer token (`POST /api/v1/login`), to make enrollment tokens.
    #[arg(long)]
    admin_token: String,
    #[arg(long, default_value = "hall-futian")]
    hall: String,
    #[arg(long, default_value_t = 100)]
    terminals: usize,
    #[arg(long, default_value_t = 30)]
    heartbeat_s: u64,
    /// Outbox events each terminal sends over the run, in batches of 50.
    #[arg(long, default_value_t = 0)]
    events_per_terminal: usize,
    /// Tickets each terminal takes over the run.
    #[arg(long, default_value_t = 0)]
    tickets_per_terminal: usize,
    /// Only the first this many terminals take tickets (a business has 999 numbers a day).
    #[arg(long)]
    ticket_terminals: Option<usize>,
    /// The business (ticket prefix) tickets are taken for.
    #[arg(long, default_value = "E")]
    prefix: String,
    #[arg(long, default_value_t = 0)]
    citizens: usize,
    #[arg(long, default_value_t = 60)]
    duration_s: u64,
    /// Where terminals' identities are kept between runs.
    #[arg(long)]
    state: PathBuf,
    /// Failover drill: SIGKILL this process (a replica) `--kill-after-s` into the run.
    #[arg(long)]
    kill_pid: Option<u32>,
    #[arg(long, default_value_t = 30)]
    kill_after_s: u64,
    /// Longest wait before a terminal opens its dropped stream again (jittered exponential
    /// backoff from 1 s, as the edge agent does).
    #[arg(long, default_value_t = 10)]
    max_backoff_s: u64,
    /// Processes the terminals are spread over (0: as many as this system's open-file limit
    /// needs, two files a terminal).
    #[arg(long, default_value_t = 0)]
    processes: usize,
    /// Set by the first process on the others it starts: this one runs terminals
    /// `i % processes == shard` and reports to it.
    #[arg(long, hide = true)]
    shard: Option<usize>,
    /// The window that calls a ticket of `--prefix` after the kill (default: the business's
    /// first).
    #[arg(long)]
    call_window: Option<u32>,
}

/// Latencies in microseconds, for percentiles at the end.
#[derive(Default)]
struct Latencies(Mutex<Vec<u64>>);

impl Latencies {
    fn values(&self) -> Vec<u64> {
        self.0.lock().unwrap().clone()
    }

    fn extend(&self, more: &[u64]) {
        self.0.lock().unwrap().extend_from_slice(more);
    }

    fn add(&self, d: Duration) {
        self.0
            .lock()
            .unwrap()
            .push(d.as_micros().min(u64::MAX as u128) as u64);
    }

    fn line(&self, what: &str) -> String {
        let mut v = self.0.lock().unwrap().clone();
        if v.is_empty() {
            return format!("{what}: none");
        }
        v.sort_unstable();
        let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0;
        format!(
            "{what}: {} answered, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            v.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        )
    }
}

#[derive(Default)]
struct Figures {
    terminals: usize,
    streams_open: AtomicUsize,
    streams_most: AtomicUsize,
    stream_opens: AtomicU64,
    /// When every terminal first held its stream, after the run's start (ms; 0: never).
    all_open_after_ms: AtomicU64,
    /// Streams that ended before the run did, after every one had been open.
    drops_after_open: AtomicU64,
    heartbeats: Latencies,
    /// Heartbeats sent once every stream was open (the connect storm over).
    steady_heartbeats: Latencies,
    heartbeat_failures: AtomicU64,
    events_held: AtomicU64,
    event_failures: AtomicU64,
    tickets: Mutex<Vec<String>>,
    ticket_failures: AtomicU64,
    pages: Latencies,
    page_failures: AtomicU64,
}

/// A one-time enrollment token for terminal `i`.
fn enrollment_token(o: &Options, ca: &str, i: usize) -> anyhow::Result<String> {
    let body = serde_json::json!({"hall": o.hall, "position": format!("load-{i}")}).to_string();
    let auth = format!("Bearer {}", o.admin_token);
    let addr = o.public.trim_start_matches("https://").parse()?;
    let (status, text) = menpai_tests::https(
        ca,
        addr,
        "POST",
        "/api/v1/admin/enrollment-tokens",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    );
    anyhow::ensure!(status == 201, "enrollment token {i}: {status} {text}");
    Ok(serde_json::from_str::<serde_json::Value>(&text)?["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Terminal `i`'s identity: the one kept in `state`, or a new enrollment.
fn identity(
    rt: &tokio::runtime::Runtime,
    o: &Options,
    ca: &str,
    i: usize,
) -> anyhow::Result<Identity> {
    let dir = o.state.join(format!("terminal-{i}"));
    if let Some(id) = Identity::load(&dir)? {
        return Ok(id);
    }
    let token = enrollment_token(o, ca, i)?;
    rt.block_on(menpai_agent::sync::enroll(&dir, &o.devices, ca, &token))?;
    Identity::load(&dir)?
        .ok_or_else(|| anyhow::anyhow!("terminal {i} has no identity after enrolling"))
}

/// Holds terminal `i`'s live stream until `end`, opening it again when it drops.
async fn hold_stream(
    i: usize,
    client: Client,
    (f, watch): (Arc<Figures>, Arc<failover::Watch>),
    (started, end, max_backoff): (Instant, Instant, Duration),
) {
    let mut backoff = Backoff::new(Duration::from_secs(1), max_backoff);
    while Instant::now() < end {
        f.stream_opens.fetch_add(1, Ordering::Relaxed);
        if let Ok((200, mut body)) = client.open_stream("/device/v1/stream").await {
            backoff.reset();
            let now = f.streams_open.fetch_add(1, Ordering::Relaxed) + 1;
            f.streams_most.fetch_max(now, Ordering::Relaxed);
            if now == f.terminals {
                let ms = started.elapsed().as_millis().max(1) as u64;
                let _ = f.all_open_after_ms.compare_exchange(
                    0,
                    ms,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
            watch.opened(i);
            while Instant::now() < end {
                match tokio::time::timeout(
                    end.saturating_duration_since(Instant::now()),
                    body.frame(),
                )
                .await
                {
                    Ok(Some(Ok(frame))) => {
                        if let Some(data) = frame.data_ref() {
                            watch.frame(i, data);
                        }
                    }
                    _ => break,
                }
            }
            f.streams_open.fetch_sub(1, Ordering::Relaxed);
            if Instant::now() < end && f.all_open_after_ms.load(Ordering::Relaxed) > 0 {
                f.drops_after_open.fetch_add(1, Ordering::Relaxed);
            }
            watch.closed(i);
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// Sends a request again (the same body, so the same idempotency key or request id) until it
/// is answered with one of `ok` or the run ends: a replica dying mid-request loses nothing.
async fn until_answered(
    client: &Client,
    path: &str,
    body: &[u8],
    ok: &[u16],
    end: Instant,
) -> Option<Vec<u8>> {
    loop {
        if let Ok(r) = client
            .request(
                "POST",
                path,
                &[("content-type", "application/json")],
                body.to_vec(),
                Duration::from_secs(30),
            )
            .await
            && ok.contains(&r.status)
        {
            return Some(r.body.to_vec());
        }
        if Instant::now() >= end {
            return None;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Heartbeats, events and tickets of one terminal until `end`.
async fn work(i: usize, client: Client, o: Arc<Options>, f: Arc<Figures>, end: Instant) {
    let beat = serde_json::to_vec(&Heartbeat {
        agent_version: "load".into(),
        uptime_s: 1,
        ui_alive: true,
        ..Default::default()
    })
    .expect("heartbeats serialise");
    let every = Duration::from_secs(o.heartbeat_s.max(1));
    // Spread the terminals over the interval, as a fleet started over time is.
    tokio::time::sleep(every.mul_f64((i % 97) as f64 / 97.0)).await;
    let run = end.saturating_duration_since(Instant::now());
    let beats = (run.as_secs_f64() / every.as_secs_f64()).max(1.0);
    let events_per_beat = (o.events_per_terminal as f64 / beats).ceil() as usize;
    let tickets_per_beat = (o.tickets_per_terminal as f64 / beats).ceil() as usize;
    let (mut events_sent, mut tickets_taken) = (0, 0);
    while Instant::now() < end {
        let t = Instant::now();
        match client
            .request(
                "POST",
                "/device/v1/heartbeat",
                &[],
                beat.clone(),
                Duration::from_secs(30),
            )
            .await
        {
            Ok(r) if r.status == 200 => {
                f.heartbeats.add(t.elapsed());
                if f.all_open_after_ms.load(Ordering::Relaxed) > 0 {
                    f.steady_heartbeats.add(t.elapsed());
                }
            }
            _ => drop(f.heartbeat_failures.fetch_add(1, Ordering::Relaxed)),
        }
        let n = events_per_beat.min(o.events_per_terminal - events_sent);
        for chunk in (events_sent..events_sent + n)
            .collect::<Vec<_>>()
            .chunks(50)
        {
            let batch = EventBatch {
                events: chunk
                    .iter()
                    .map(|k| OutboxEvent {
                        key: format!("load-{i}-{k}"),
                        kind: "load_probe".into(),
                        body: serde_json::json!({"n": k}),
                        created_at: chrono::Utc::now().to_rfc3339(),
                    })
                    .collect(),
            };
            let body = serde_json::to_vec(&batch).expect("batches serialise");
            match until_answered(&client, "/device/v1/events", &body, &[200], end).await {
                Some(answer) => {
                    let ack: serde_json::Value =
                        serde_json::from_slice(&answer).unwrap_or_default();
                    let held = ack["held"].as_array().map_or(0, Vec::len);
                    f.events_held.fetch_add(held as u64, Ordering::Relaxed);
                }
                None => drop(f.event_failures.fetch_add(1, Ordering::Relaxed)),
            }
        }
        events_sent += n;
        let takes_tickets = o.ticket_terminals.is_none_or(|n| i < n);
        let tickets_now = if takes_tickets {
            tickets_per_beat.min(o.tickets_per_terminal - tickets_taken)
        } else {
            0
        };
        for _ in 0..tickets_now {
            let body = serde_json::json!({
                "request_id": format!("load-{i}-{tickets_taken}"),
                "prefix": o.prefix,
            })
            .to_string();
            let answer = until_answered(
                &client,
                "/device/v1/queue/tickets",
                body.as_bytes(),
                &[200, 201],
                end,
            )
            .await;
            match answer {
                Some(answer) => {
                    let t: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
                    if let Some(n) = t["number"].as_str() {
                        f.tickets.lock().unwrap().push(n.to_owned());
                    }
                }
                None => drop(f.ticket_failures.fetch_add(1, Ordering::Relaxed)),
            }
            tickets_taken += 1;
        }
        tokio::time::sleep(every.saturating_sub(t.elapsed())).await;
    }
}

/// A citizen opening the hall's phone page every 2 s until `end`, from when every terminal
/// holds its stream (or a quarter of the run passed): the pages measure the steady state, the
/// connect storm is reported on its own.
async fn citizen(
    o: Arc<Options>,
    ca: Arc<String>,
    f: Arc<Figures>,
    end: Instant,
    offset: Duration,
) {
    let latest = Instant::now() + end.saturating_duration_since(Instant::now()) / 4;
    while f.all_open_after_ms.load(Ordering::Relaxed) == 0 && Instant::now() < latest {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(offset).await;
    let path = format!("/h/{}", o.hall);
    // One phone: its connection kept between pages, as a browser does.
    let Ok(phone) = Client::new(&o.public, &ca, None) else {
        f.page_failures.fetch_add(1, Ordering::Relaxed);
        return;
    };
    while Instant::now() < end {
        let t = Instant::now();
        // A page not there in 10 s counts as failed; the citizen tries again.
        match phone
            .request("GET", &path, &[], Vec::new(), PAGE_TIMEOUT)
            .await
        {
            Ok(r) if r.status == 200 => f.pages.add(t.elapsed()),
            _ => {
                f.page_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(Duration::from_secs(2).saturating_sub(t.elapsed())).await;
    }
}

/// How long a citizen waits for a page before it counts as failed.
const PAGE_TIMEOUT: Duration = Duration::from_secs(10);

fn read_ca(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn main() -> anyhow::Result<()> {
    let o = Arc::new(Options::parse());
    let ca = Arc::new(read_ca(&o.ca)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let processes = match (o.processes, o.kill_pid) {
        // The failover drill watches every terminal from one process.
        (_, Some(_)) => 1,
        (0, None) => shards::needed(o.terminals),
        (n, None) => n,
    };
    let started = Instant::now();
    // This process's terminals: all of them, none (others run them), or its shard's.
    let mine = |i: usize| match o.shard {
        Some(k) => i % processes == k,
        None => processes == 1,
    };
    let mut clients = Vec::new();
    for i in 0..o.terminals {
        if o.shard.is_some() && !mine(i) {
            continue;
        }
        let id = identity(&rt, &o, &ca, i)?;
        if mine(i) {
            // Two connections each: the live stream, and the requests beside it.
            let _guard = rt.enter();
            clients.push((i, id.client()?, id.client()?));
        }
    }
    if o.shard.is_none() {
        println!(
            "{} terminals ready (enrolled or reused) in {:.1} s, run by {} process{}",
            o.terminals,
            started.elapsed().as_secs_f64(),
            processes,
            if processes > 1 { "es" } else { "" }
        );
    }
    let f = Arc::new(Figures {
        terminals: clients.len(),
        ..Default::default()
    });
    let others = if o.shard.is_none() && processes > 1 {
        Some(shards::start(processes, f.clone())?)
    } else {
        None
    };
    let watch = Arc::new(failover::Watch::new(o.terminals));
    let run_started = Instant::now();
    let end = run_started + Duration::from_secs(o.duration_s);
    // The citizens: tasks on a runtime of their own (one thread), in the first process.
    let citizens = (o.shard.is_none() && o.citizens > 0).then(|| {
        let (o, ca, f) = (o.clone(), ca.clone(), f.clone());
        std::thread::spawn(move || {
            let phones = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime");
            phones.block_on(async {
                let all: Vec<_> = (0..o.citizens)
                    .map(|c| {
                        let offset =
                            Duration::from_millis((c as u64 * 2000) / o.citizens.max(1) as u64);
                        tokio::spawn(citizen(o.clone(), ca.clone(), f.clone(), end, offset))
                    })
                    .collect();
                for c in all {
                    let _ = c.await;
                }
            });
        })
    });
    let drill = o.kill_pid.map(|pid| failover::Plan {
        pid,
        after: Duration::from_secs(o.kill_after_s),
        public: o.public.clone(),
        ca: ca.to_string(),
        admin_token: o.admin_token.clone(),
        hall: o.hall.clone(),
        prefix: o.prefix.clone(),
        window: o.call_window,
    });
    let failover_report = rt.block_on(async {
        let mut tasks = Vec::new();
        for (i, stream, requests) in clients {
            let limits = (
                run_started,
                end,
                Duration::from_secs(o.max_backoff_s.max(1)),
            );
            tasks.push(tokio::spawn(hold_stream(
                i,
                stream,
                (f.clone(), watch.clone()),
                limits,
            )));
            tasks.push(tokio::spawn(work(i, requests, o.clone(), f.clone(), end)));
        }
        if o.shard.is_some() {
            tasks.push(tokio::spawn(shards::report_open(f.clone(), end)));
        }
        let drill = drill.map(|plan| tokio::spawn(failover::run(plan, watch.clone(), run_started)));
        for t in tasks {
            let _ = t.await;
        }
        match drill {
            Some(d) => Some(d.await.expect("the failover drill")),
            None => None,
        }
    });
    if o.shard.is_some() {
        println!(
            "figures {}",
            serde_json::to_string(&shards::Snapshot::of(&f))?
        );
        return Ok(());
    }
    if let Some(c) = citizens {
        let _ = c.join();
    }
    if let Some(others) = others {
        others.finish()?;
    }
    let tickets = f.tickets.lock().unwrap().clone();
    let unique: BTreeSet<&String> = tickets.iter().collect();
    println!(
        "streams: {} held at most of {} terminals; {} opened in all",
        f.streams_most.load(Ordering::Relaxed),
        o.terminals,
        f.stream_opens.load(Ordering::Relaxed)
    );
    match f.all_open_after_ms.load(Ordering::Relaxed) {
        0 => println!(
            "connect storm: the {} streams were never all open at once",
            o.terminals
        ),
        ms => println!(
            "connect storm: all {} streams open {:.1} s after the start; {} dropped after that, \
             before the end",
            o.terminals,
            ms as f64 / 1000.0,
            f.drops_after_open.load(Ordering::Relaxed)
        ),
    }
    println!(
        "{}; {} failed",
        f.heartbeats.line("heartbeats"),
        f.heartbeat_failures.load(Ordering::Relaxed)
    );
    println!(
        "{}",
        f.steady_heartbeats
            .line("heartbeats once every stream was open")
    );
    println!(
        "events held: {} of {}; {} batches failed",
        f.events_held.load(Ordering::Relaxed),
        o.terminals * o.events_per_terminal,
        f.event_failures.load(Ordering::Relaxed)
    );
    println!(
        "tickets: {} taken, {} distinct numbers, {} failed",
        tickets.len(),
        unique.len(),
        f.ticket_failures.load(Ordering::Relaxed)
    );
    println!(
        "{}; {} failed",
        f.pages.line("phone pages"),
        f.page_failures.load(Ordering::Relaxed)
    );
    let failover_held = match failover_report {
        Some((lines, held)) => {
            for l in lines {
                println!("{l}");
            }
            held
        }
        None => true,
    };
    anyhow::ensure!(
        unique.len() == tickets.len(),
        "a ticket number was given twice"
    );
    anyhow::ensure!(failover_held, "the failover did not hold (see above)");
    Ok(())
}
