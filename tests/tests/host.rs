//! The agent and its host over D-Bus, against fake NetworkManager, systemd and logind on a
//! private dbus-daemon: connectivity in health, heartbeat and the fleet view; a frozen UI
//! restarted through systemd; the nightly reboot scheduled with logind.

use std::time::Duration;

use menpai_agent::host::reboot;
use menpai_tests::fake_host::FakeHost;
use menpai_tests::regional::{ADMIN, api, enroll, enrollment_token, server};
use menpai_tests::{agent_dir, demo_region, get_json, http, login, spawn_agent_env};
use serde_json::Value;

#[test]
fn networkmanager_connectivity_reaches_health_the_heartbeat_and_the_fleet_view() {
    let host = FakeHost::start();
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "heartbeat_interval_s = 1\n", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let token = enrollment_token(&s, &admin, None);
    let dir = enroll(
        &s,
        s.devices,
        &token,
        "[regional]\nheartbeat_interval_s = 1\nsync_interval_s = 3600\n[host]\nnetwork_poll_s = 1\n",
    );
    let agent = spawn_agent_env(dir, &[("DBUS_SYSTEM_BUS_ADDRESS", &host.address)]);

    let h = agent.wait_health(Duration::from_secs(20), |h| {
        h["host"]["network"]["connectivity"] == "full"
    });
    let net = &h["host"]["network"];
    assert_eq!(net["detail"], "网络正常（有线连接 1）", "{net}");
    assert_eq!(net["connection"], "有线连接 1");
    assert_eq!(net["kind"], "802-3-ethernet");
    let device = h["regional"]["device_id"].as_str().unwrap().to_owned();

    let faults = |s: &menpai_tests::RunningServer| -> Vec<String> {
        let (st, fleet) = api(s, &admin, "GET", "/api/v1/fleet", "", b"");
        assert_eq!(st, 200, "{fleet}");
        fleet["halls"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|h| h["terminals"].as_array().unwrap().clone())
            .find(|t| t["id"] == device.as_str())
            .map(|t| {
                t["faults"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let wait_faults = |pred: &dyn Fn(&[String]) -> bool| -> Vec<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let f = faults(&s);
            if pred(&f) || std::time::Instant::now() > deadline {
                return f;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    // Heartbeats reach the fleet view with the network named nowhere as a fault.
    let f = wait_faults(&|f| !f.is_empty());
    assert!(!f.iter().any(|f| f.starts_with("网络")), "{f:?}");

    // The uplink loses the internet: NetworkManager says "limited".
    host.set_connectivity(3);
    let h = agent.wait_health(Duration::from_secs(10), |h| {
        h["host"]["network"]["connectivity"] == "limited"
    });
    assert_eq!(
        h["host"]["network"]["detail"],
        "网络受限，连不上外网（有线连接 1）"
    );
    let f = wait_faults(&|f| f.iter().any(|f| f.starts_with("网络")));
    assert!(
        f.contains(&"网络：受限，连不上外网".to_owned()),
        "the fleet view shows no network fault: {f:?}"
    );

    // NetworkManager stops: the network is unknown, with the reason; the plate still works.
    host.stop_network_manager();
    let h = agent.wait_health(Duration::from_secs(10), |h| {
        h["host"]["network"]["connectivity"] == "unknown"
    });
    let detail = h["host"]["network"]["detail"].as_str().unwrap();
    assert!(detail.starts_with("NetworkManager 没有回答"), "{detail}");
    let (st, _) = get_json(agent.addr, "/api/v1/health");
    assert_eq!(st, 200);
}

#[test]
fn a_frozen_ui_is_restarted_through_systemd_and_the_reboot_is_scheduled_with_logind() {
    let host = FakeHost::start();
    let dir = agent_dir(
        Some(&demo_region()),
        "[host]\nui_silence_s = 3\nreboot_at = \"03:30\"\nnetwork_poll_s = 1\n",
    );
    let db = dir.path().join("data/menpai-agent.db");
    let before = menpai_model::queue::china_now();
    let agent = spawn_agent_env(dir, &[("DBUS_SYSTEM_BUS_ADDRESS", &host.address)]);

    // The nightly reboot: logind is asked for a reboot at the next 03:30 China time.
    let h = agent.wait_health(Duration::from_secs(10), |h| {
        h["host"]["reboot_at"].is_string()
    });
    let at = reboot::parse_hh_mm("03:30").unwrap();
    let expected = reboot::next_after(before, at);
    assert_eq!(
        h["host"]["reboot_at"],
        expected.format("%Y-%m-%d 03:30").to_string()
    );
    assert_eq!(
        host.scheduled(),
        Some(("reboot".to_owned(), reboot::realtime_usec(expected)))
    );

    // The UI follows the stream and says it is alive: it answers, nothing is restarted.
    let _stream = agent.events();
    let alive = || {
        let (st, _) = http(agent.addr, "POST", "/api/v1/ui/alive", &[], b"");
        assert_eq!(st, 204);
    };
    for _ in 0..8 {
        alive();
        std::thread::sleep(Duration::from_millis(500));
    }
    let (_, h) = get_json(agent.addr, "/api/v1/health");
    assert_eq!(h["host"]["ui"]["alive"], true, "{h}");
    assert!(host.restarts().is_empty(), "{:?}", host.restarts());

    // The UI freezes (no more beacons): after 3 s of silence its unit is restarted, once.
    let h = agent.wait_health(Duration::from_secs(10), |h| {
        h["host"]["ui"]["restarts"] == 1
    });
    assert_eq!(h["host"]["ui"]["alive"], false, "{h}");
    assert_eq!(
        host.restarts(),
        vec![("menpai-kiosk.service".to_owned(), "replace".to_owned())]
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        host.restarts().len(),
        1,
        "restarted again without a grace period"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (action, detail, outcome): (String, String, String) = conn
        .query_row(
            "SELECT action, detail, outcome FROM audit_log WHERE action = 'host.ui_restart'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(action, "host.ui_restart");
    assert!(
        detail.starts_with("menpai-kiosk.service: silent "),
        "{detail}"
    );
    assert_eq!(outcome, "restarted (/org/freedesktop/systemd1/job/1)");
    // Back after the restart: it answers again.
    alive();
    let (_, h): (u16, Value) = get_json(agent.addr, "/api/v1/health");
    assert_eq!(h["host"]["ui"]["alive"], true, "{h}");
}
