//! The hall's queue, measured on loopback with a real server and terminal (release build):
//! a ticket taken online (kiosk request → server → printed), and a window's call from the
//! staff API to the terminal's event stream (what the kiosk panel, LED bar and voice follow).
//! Budget: a call reaches the terminal within 1 s.

use std::time::{Duration, Instant};

use menpai_tests::regional::{ADMIN, STAFF, api, enroll, enrollment_token_for, server};
use menpai_tests::{demo_region, get_json, http, login, spawn_agent};

const CALLS: usize = 30;

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(
        tmp.path(),
        "device_tickets_per_minute = 1000000\n",
        &demo_region(),
    );
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let staff = login(&s, STAFF.0, STAFF.1);
    let token = enrollment_token_for(&s, &admin, "bench", None);
    let dir = enroll(
        &s,
        s.devices,
        &token,
        "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\n[queue]\nallow_outside_hours = true\ntickets_burst = 1000\n",
    );
    let agent = spawn_agent(dir);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !get_json(agent.addr, "/api/v1/queue").1["businesses"].is_array() {
        assert!(Instant::now() < deadline, "the terminal never synced");
        std::thread::sleep(Duration::from_millis(100));
    }
    let json = [("Content-Type", "application/json")];
    let mut take_ms = Vec::new();
    let mut window = 0;
    for _ in 0..CALLS {
        let t = Instant::now();
        let (st, r) = http(
            agent.addr,
            "POST",
            "/api/v1/queue/tickets",
            &json,
            br#"{"prefix":"E"}"#,
        );
        take_ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(st, 201, "{r}");
        let r: serde_json::Value = serde_json::from_str(&r).unwrap();
        assert_eq!(r["offline"], false);
        window = r["windows"][0].as_u64().unwrap();
    }
    let mut events = agent.events();
    let mut call_ms = Vec::new();
    for _ in 0..CALLS {
        let t = Instant::now();
        let (st, r) = api(
            &s,
            &staff,
            "POST",
            &format!("/api/v1/queue/hall-futian/windows/{window}"),
            "application/json",
            br#"{"action":"call_next"}"#,
        );
        assert_eq!(st, 200, "{r}");
        let number = r["ticket"]["number"].as_str().unwrap().to_owned();
        events
            .next_matching(Duration::from_secs(5), |e| {
                e["type"] == "queue_called" && e["call"]["number"] == number.as_str()
            })
            .expect("the call reached the terminal");
        call_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "hall/take_ticket_online: p50 {:.1} ms, p95 {:.1} ms ({CALLS} tickets, printed on the twin)",
        percentile(&mut take_ms, 0.5),
        percentile(&mut take_ms, 0.95)
    );
    println!(
        "hall/call_to_terminal: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({CALLS} calls, staff API → terminal event stream; budget 1000 ms)",
        percentile(&mut call_ms, 0.5),
        percentile(&mut call_ms, 0.95),
        percentile(&mut call_ms, 1.0)
    );
}
