//! Backup and restore across processes: a region at work (a terminal enrolled through a
//! fixed address, tickets, a booking) is backed up while the terminal heartbeats; more tickets
//! are taken; the server dies; the backup is restored into a fresh data directory and served
//! on new ports. The terminal goes on with the same identity and content, the tickets and the
//! booking from before the backup are there, and the next ticket number is one never issued.

use std::time::{Duration, Instant};

use menpai_tests::proxy::Proxy;
use menpai_tests::regional::{ADMIN, api, book, first_slot, server, terminal};
use menpai_tests::{demo_region, get_json, http, login, server_cli, server_dir, spawn_server};
use serde_json::Value;

const TERMINAL: &str = "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 1\nmax_backoff_s = 1\n\
                        [queue]\nallow_outside_hours = true\ntickets_burst = 1000\n";

fn take_ticket(agent: &menpai_tests::RunningAgent) -> Value {
    let (st, r) = http(
        agent.addr,
        "POST",
        "/api/v1/queue/tickets",
        &[("Content-Type", "application/json")],
        br#"{"prefix": "E"}"#,
    );
    assert_eq!(st, 201, "{r}");
    serde_json::from_str(&r).unwrap()
}

#[test]
fn a_backup_taken_at_work_restores_terminals_content_tickets_and_bookings_without_reused_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = server(tmp.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let proxy = Proxy::start(s.devices);
    let agent = terminal(&s, &admin, "entrance", Some(proxy.addr), TERMINAL);
    let (_, h) = get_json(agent.addr, "/api/v1/health");
    let version = h["content_version"].as_str().unwrap().to_owned();
    let device = h["regional"]["device_id"].as_str().unwrap().to_owned();

    let before: Vec<String> = (0..3)
        .map(|_| take_ticket(&agent)["number"].as_str().unwrap().to_owned())
        .collect();
    let (date, start) = first_slot(&s, "P43");
    let booking = book(
        &s,
        &serde_json::json!({"hall": "hall-futian", "item": "P43", "date": date, "start": start,
                            "name": "张小明", "phone": "13812345678"}),
    );

    // The backup, while the terminal heartbeats every second.
    let saved = tmp.path().join("backup");
    let (ok, out) = server_cli(tmp.path(), &["backup", saved.to_str().unwrap()], None);
    assert!(ok, "{out}");
    println!("{out}");
    assert!(out.contains(&format!("content {version}")), "{out}");
    let after: Vec<String> = (0..2)
        .map(|_| take_ticket(&agent)["number"].as_str().unwrap().to_owned())
        .collect();

    // The server dies; the backup goes into a fresh data directory on other ports.
    s.kill();
    let fresh = tmp.path().join("restored");
    std::fs::create_dir_all(&fresh).unwrap();
    server_dir(&fresh, "booking_code_interval_s = 0\n");
    let (ok, out) = server_cli(&fresh, &["restore", saved.to_str().unwrap()], None);
    assert!(ok, "{out}");
    println!("{out}");
    assert!(out.contains("备份之后的事不在备份里"), "{out}");
    // Never over a working data directory.
    let (ok, out) = server_cli(&fresh, &["restore", saved.to_str().unwrap()], None);
    assert!(!ok && out.contains("not empty"), "{out}");
    let restored = spawn_server(&fresh);
    proxy.set_target(restored.devices);

    // The terminal: the same identity (its certificate accepted), the same content.
    let deadline = Instant::now() + Duration::from_secs(60);
    let heartbeats = |h: &Value| h["regional"]["heartbeats"].as_u64().unwrap_or(0);
    let (_, h0) = get_json(agent.addr, "/api/v1/health");
    loop {
        let (_, h) = get_json(agent.addr, "/api/v1/health");
        if heartbeats(&h) > heartbeats(&h0) + 2 && h["regional"]["last_error"].is_null() {
            assert_eq!(h["content_version"], version.as_str());
            assert_eq!(h["regional"]["device_id"], device.as_str());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the terminal never got on with the restored server: {h}\n{}\n{}",
            restored.log(),
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let admin = login(&restored, ADMIN.0, ADMIN.1);
    let (st, fleet) = api(&restored, &admin, "GET", "/api/v1/fleet", "", b"");
    assert_eq!(st, 200);
    assert!(fleet.to_string().contains(&device), "{fleet}");

    // The booking and the tickets from before the backup; the next number is a new one.
    let page = menpai_tests::https(
        &restored.ca_pem(),
        restored.public,
        "GET",
        &format!("/a/{}", booking["id"].as_str().unwrap()),
        &[],
        b"",
    );
    assert_eq!(page.0, 200, "{}", page.1);
    assert!(page.1.contains("张*明"), "{}", page.1);
    // The hall's queue as the restored server has it: the three from before the backup wait.
    let waiting = |q: &Value| {
        q["businesses"]
            .as_array()
            .and_then(|b| b.iter().find(|b| b["prefix"] == "E"))
            .map(|b| b["waiting"].clone())
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, q) = get_json(agent.addr, "/api/v1/queue");
        if waiting(&q) == Some(Value::from(3)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queue after the restore: {q}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let next = take_ticket(&agent);
    let number = next["number"].as_str().unwrap().to_owned();
    println!(
        "before the backup {before:?}, after it {after:?}, after the restore {number} (offline: {})",
        next["offline"]
    );
    assert!(
        !before.contains(&number) && !after.contains(&number),
        "{number} was issued before"
    );
    assert_eq!(
        next["offline"],
        false,
        "taken from the restored server, not a leased block: {}\n{}",
        agent.log(),
        restored.log()
    );
}
