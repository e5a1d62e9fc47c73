//! Training mode (培训模式) per terminal: an admin switches it on at the server; the terminal
//! learns it at its next heartbeat, says so on its home data, prints training tickets that never
//! join the hall's queue, and comes back to real tickets when it is switched off.

use std::time::{Duration, Instant};

use menpai_tests::regional::{ADMIN, STAFF, api, server, terminal};
use menpai_tests::{RunningAgent, RunningServer, demo_region, get_json, http, login, printed};
use serde_json::Value;

/// Heartbeats every second, so the switch reaches the terminal quickly; tickets at any hour.
const TERMINAL: &str = "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 1\nmax_backoff_s = 1\n\
                        [queue]\nallow_outside_hours = true\ntickets_burst = 1000\n";
const JSON: [(&str, &str); 1] = [("Content-Type", "application/json")];

fn take(agent: &RunningAgent, prefix: &str) -> Value {
    let body = format!("{{\"prefix\":\"{prefix}\"}}");
    let (s, r) = http(
        agent.addr,
        "POST",
        "/api/v1/queue/tickets",
        &JSON,
        body.as_bytes(),
    );
    assert_eq!(s, 201, "{r}");
    serde_json::from_str(&r).unwrap()
}

/// People waiting for business `prefix` in the hall's queue, as window staff see it.
fn waiting(s: &RunningServer, staff: &str, prefix: &str) -> u64 {
    let (st, view) = api(s, staff, "GET", "/api/v1/queue/hall-futian", "", b"");
    assert_eq!(st, 200, "{view}");
    view["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["prefix"] == prefix)
        .and_then(|b| b["waiting"].as_u64())
        .unwrap_or_else(|| panic!("business {prefix}: {view}"))
}

fn switch(s: &RunningServer, admin: &str, device: &str, on: bool) {
    let body = format!("{{\"training\":{on}}}");
    let (st, r) = api(
        s,
        admin,
        "POST",
        &format!("/api/v1/admin/devices/{device}/training"),
        "application/json",
        body.as_bytes(),
    );
    assert_eq!(st, 200, "{r}");
}

/// Waits until the terminal's home data says training is `on`.
fn wait_training(agent: &RunningAgent, on: bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, home) = get_json(agent.addr, "/api/v1/home");
        if home["training"] == on {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "training never became {on}: {home} {}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_training_terminal_prints_training_tickets_that_never_join_the_halls_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let staff = login(&s, STAFF.0, STAFF.1);
    let agent = terminal(&s, &admin, "entrance", None, TERMINAL);
    let (_, health) = get_json(agent.addr, "/api/v1/health");
    let device = health["regional"]["device_id"].as_str().unwrap().to_owned();

    // Only an admin switches it, and a terminal that does not exist is a 404.
    let (st, _) = api(
        &s,
        &staff,
        "POST",
        &format!("/api/v1/admin/devices/{device}/training"),
        "application/json",
        b"{\"training\":true}",
    );
    assert_eq!(st, 403);
    let (st, _) = api(
        &s,
        &admin,
        "POST",
        "/api/v1/admin/devices/nobody/training",
        "application/json",
        b"{\"training\":true}",
    );
    assert_eq!(st, 404);

    let before = waiting(&s, &staff, "E");
    switch(&s, &admin, &device, true);
    wait_training(&agent, true);
    let t = take(&agent, "E");
    assert_eq!(t["follow_url"], "", "a training ticket has no page: {t}");
    let slip = printed(agent.addr, "培训票");
    assert!(slip.contains("培训票 不是真实排队号"), "{slip}");
    assert!(!slip.contains("微信扫码"), "{slip}");
    assert_eq!(
        waiting(&s, &staff, "E"),
        before,
        "a training ticket joined the hall's queue"
    );

    // Switched off: the next ticket is real and the hall's queue has it.
    switch(&s, &admin, &device, false);
    wait_training(&agent, false);
    let real = take(&agent, "E");
    assert!(
        real["follow_url"]
            .as_str()
            .unwrap()
            .contains("/t/hall-futian/"),
        "{real}"
    );
    assert_eq!(waiting(&s, &staff, "E"), before + 1);

    // The switches are in the audit log with the admin's name.
    let (_, audit) = api(&s, &admin, "GET", "/api/v1/admin/audit", "", b"");
    let text = audit.to_string();
    assert!(text.contains("device.training"), "{text}");
    assert!(text.contains(&format!("{device} on")), "{text}");
    assert!(text.contains(&format!("{device} off")), "{text}");
}
