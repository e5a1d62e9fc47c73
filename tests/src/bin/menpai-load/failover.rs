//! Failover, as the terminals see it: a replica is killed (SIGKILL) mid-run; the terminals
//! whose live stream dropped then were on it. The run measures how long until each of them
//! holds its stream again (through the balancer, on a surviving replica), then has a window
//! call the next ticket through the public address — a surviving replica — and counts the
//! terminals that heard the call on their stream.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What the terminals' streams report to the failover.
pub(crate) struct Watch {
    killed_at: OnceLock<Instant>,
    open: Vec<AtomicBool>,
    dropped: Vec<AtomicBool>,
    back_after_ms: Vec<std::sync::atomic::AtomicU64>,
    /// Per terminal: the line being received (a line may come in several frames) and the
    /// numbers of the window calls heard so far.
    heard: Vec<std::sync::Mutex<(Vec<u8>, std::collections::HashSet<String>)>>,
}

/// Streams that drop this soon after the kill were on the killed replica.
const DROP_WINDOW: Duration = Duration::from_secs(5);

impl Watch {
    pub(crate) fn new(terminals: usize) -> Watch {
        let flags = || (0..terminals).map(|_| AtomicBool::new(false)).collect();
        Watch {
            killed_at: OnceLock::new(),
            open: flags(),
            dropped: flags(),
            back_after_ms: (0..terminals)
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
            heard: (0..terminals).map(|_| Default::default()).collect(),
        }
    }

    /// Terminal `i`'s stream is open.
    pub(crate) fn opened(&self, i: usize) {
        self.open[i].store(true, Ordering::Relaxed);
        if let Some(k) = self.killed_at.get()
            && self.dropped[i].load(Ordering::Relaxed)
        {
            let ms = k.elapsed().as_millis() as u64;
            let _ = self.back_after_ms[i].compare_exchange(
                0,
                ms.max(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    /// Terminal `i`'s stream dropped.
    pub(crate) fn closed(&self, i: usize) {
        self.open[i].store(false, Ordering::Relaxed);
        if self
            .killed_at
            .get()
            .is_some_and(|k| k.elapsed() < DROP_WINDOW)
        {
            self.dropped[i].store(true, Ordering::Relaxed);
        }
    }

    /// A frame came on terminal `i`'s stream: the calls in its complete lines are kept.
    pub(crate) fn frame(&self, i: usize, bytes: &[u8]) {
        let mut heard = self.heard[i].lock().unwrap();
        let (partial, calls) = &mut *heard;
        partial.extend_from_slice(bytes);
        while let Some(end) = partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = partial.drain(..=end).collect();
            let event: serde_json::Value = serde_json::from_slice(&line).unwrap_or_default();
            if let Some(number) = event["call"]["number"].as_str() {
                calls.insert(number.to_owned());
            }
        }
        if partial.len() > 1 << 20 {
            partial.clear(); // not a stream of lines: nothing to keep
        }
    }

    fn has_heard(&self, i: usize, number: &str) -> bool {
        self.heard[i].lock().unwrap().1.contains(number)
    }

    fn count(flags: &[AtomicBool]) -> usize {
        flags.iter().filter(|f| f.load(Ordering::Relaxed)).count()
    }
}

/// What to kill and how to call.
pub(crate) struct Plan {
    pub(crate) pid: u32,
    pub(crate) after: Duration,
    pub(crate) public: String,
    pub(crate) ca: String,
    pub(crate) admin_token: String,
    pub(crate) hall: String,
    /// The business whose next ticket is called; at `window`, or its first window.
    pub(crate) prefix: String,
    pub(crate) window: Option<u32>,
}

/// One HTTPS request to the public address as the admin: (status, body).
async fn as_admin(
    plan: &Plan,
    method: &'static str,
    path: String,
    body: &'static [u8],
) -> (u16, String) {
    let addr = plan.public.trim_start_matches("https://").to_owned();
    let auth = format!("Bearer {}", plan.admin_token);
    let ca = plan.ca.clone();
    tokio::task::spawn_blocking(move || {
        menpai_tests::https(
            &ca,
            addr.parse().expect("the public address"),
            method,
            &path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        )
    })
    .await
    .expect("the request's thread")
}

/// Kills the replica, waits for the terminals to come back, calls a ticket and waits for the
/// terminals to hear it. Gives the lines to print and whether it held.
pub(crate) async fn run(
    plan: Plan,
    watch: std::sync::Arc<Watch>,
    started: Instant,
) -> (Vec<String>, bool) {
    let mut lines = Vec::new();
    tokio::time::sleep(plan.after.saturating_sub(started.elapsed())).await;
    let before = Watch::count(&watch.open);
    let _ = std::process::Command::new("kill")
        .args(["-9", &plan.pid.to_string()])
        .status();
    let _ = watch.killed_at.set(Instant::now());
    tokio::time::sleep(DROP_WINDOW).await;
    let dropped: Vec<usize> = (0..watch.dropped.len())
        .filter(|i| watch.dropped[*i].load(Ordering::Relaxed))
        .collect();
    // Every terminal that was on the dead replica holds its stream again, within 60 s.
    let limit = Instant::now() + Duration::from_secs(55);
    while Instant::now() < limit
        && dropped
            .iter()
            .any(|i| watch.back_after_ms[*i].load(Ordering::Relaxed) == 0)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let back: Vec<u64> = dropped
        .iter()
        .map(|i| watch.back_after_ms[*i].load(Ordering::Relaxed))
        .filter(|ms| *ms > 0)
        .collect();
    let slowest = back.iter().max().copied().unwrap_or(0);
    lines.push(format!(
        "failover: {before} streams open at the kill; {} dropped with the replica; {} of them back, the last {:.1} s after the kill; {} streams open now",
        dropped.len(),
        back.len(),
        slowest as f64 / 1000.0,
        Watch::count(&watch.open)
    ));
    let mut held = !dropped.is_empty() && back.len() == dropped.len() && slowest <= 30_000;

    // A window of the business calls its next ticket, on a surviving replica.
    let window = match plan.window {
        Some(w) => w,
        None => {
            let (_, view) =
                as_admin(&plan, "GET", format!("/api/v1/queue/{}", plan.hall), b"").await;
            let view: serde_json::Value = serde_json::from_str(&view).unwrap_or_default();
            view["businesses"]
                .as_array()
                .and_then(|b| b.iter().find(|b| b["prefix"] == plan.prefix.as_str()))
                .and_then(|b| b["windows"][0].as_u64())
                .unwrap_or(1) as u32
        }
    };
    let (status, body) = as_admin(
        &plan,
        "POST",
        format!("/api/v1/queue/{}/windows/{window}", plan.hall),
        br#"{"action":"call_next"}"#,
    )
    .await;
    let number = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["ticket"]["number"].as_str().map(str::to_owned));
    let Some(number) = number else {
        lines.push(format!(
            "failover: the window's call failed: {status} {body}"
        ));
        return (lines, false);
    };
    let limit = Instant::now() + Duration::from_secs(20);
    while Instant::now() < limit && dropped.iter().any(|i| !watch.has_heard(*i, &number)) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let heard_dropped = dropped
        .iter()
        .filter(|i| watch.has_heard(**i, &number))
        .count();
    let heard_all = (0..watch.heard.len())
        .filter(|i| watch.has_heard(*i, &number))
        .count();
    lines.push(format!(
        "failover: window {window} called {number} on a surviving replica; heard by {heard_dropped} of the {} terminals that had been on the dead one, {heard_all} of {} in all",
        dropped.len(),
        watch.heard.len()
    ));
    held &= heard_dropped == dropped.len();
    (lines, held)
}
