//! The fleet view in headless Chromium (driven over WebDriver): an operator logs in, sees a
//! terminal online (its hall and position by their Chinese names), and watches it turn stale
//! and then offline once it stops heartbeating.

use std::time::{Duration, Instant};

use menpai_tests::webdriver::{Driver, decode_b64};
use menpai_tests::{
    agent_cli, agent_dir, https, login, server_cli, server_dir, spawn_agent, spawn_server,
    workspace,
};
use serde_json::{Value, json};

#[test]
fn the_fleet_view_shows_a_silent_terminal_turn_stale_then_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    server_dir(
        dir,
        "heartbeat_interval_s = 1\nstale_after_s = 4\noffline_after_s = 9\n",
    );
    assert!(
        server_cli(
            dir,
            &["add-operator", "duty-viewer", "viewer"],
            Some("viewer-password-1")
        )
        .0
    );
    assert!(
        server_cli(
            dir,
            &["add-operator", "ops-admin", "admin"],
            Some("admin-password-1")
        )
        .0
    );
    let pack = menpai_tests::demo_region();
    assert!(server_cli(dir, &["publish", pack.to_str().unwrap()], None).0);
    let s = spawn_server(dir);
    let admin = login(&s, "ops-admin", "admin-password-1");
    let (st, r) = https(
        &s.ca_pem(),
        s.public,
        "POST",
        "/api/v1/admin/enrollment-tokens",
        &[
            ("authorization", &format!("Bearer {admin}")),
            ("content-type", "application/json"),
        ],
        b"{\"hall\":\"hall-futian\",\"position\":\"entrance\"}",
    );
    assert_eq!(st, 201, "{r}");
    let token = serde_json::from_str::<Value>(&r).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let adir = agent_dir(
        None,
        "[regional]\nheartbeat_interval_s = 1\nsync_interval_s = 3600\n",
    );
    std::fs::write(adir.path().join("ca.pem"), s.ca_pem()).unwrap();
    let ca = adir.path().join("ca.pem");
    let (ok, out) = agent_cli(
        adir.path(),
        &[
            "enroll",
            "--server",
            &format!("https://{}", s.devices),
            "--ca",
            ca.to_str().unwrap(),
            "--token",
            &token,
        ],
    );
    assert!(ok, "{out}");
    let mut agent = spawn_agent(adir);
    let h = agent.wait_health(Duration::from_secs(30), |h| {
        h["regional"]["heartbeats"].as_u64() > Some(1)
    });
    let device = h["regional"]["device_id"].as_str().unwrap().to_owned();

    // Log in as a viewer through the form.
    let d = Driver::start();
    let base = format!("https://{}", s.public);
    d.go(&format!("{base}/fleet"));
    let url = d.session("GET", "/url", Value::Null);
    assert!(
        url.as_str().unwrap().ends_with("/login?next=%2Ffleet"),
        "no session → the login page, then back: {url}"
    );
    let name = d.element("#name");
    d.session(
        "POST",
        &format!("/element/{name}/value"),
        json!({"text": "duty-viewer"}),
    );
    let pw = d.element("#password");
    d.session(
        "POST",
        &format!("/element/{pw}/value"),
        json!({"text": "viewer-password-1"}),
    );
    let button = d.element("#login");
    d.session("POST", &format!("/element/{button}/click"), json!({}));
    std::thread::sleep(Duration::from_millis(500));

    let status = |d: &Driver| -> String {
        d.go(&format!("{base}/fleet"));
        d.script(&format!(
            "const r = document.querySelector('tr.terminal[data-id=\"{device}\"]'); return r ? r.dataset.status : 'missing';"
        ))
        .as_str()
        .unwrap_or("none")
        .to_owned()
    };
    assert_eq!(status(&d), "online");
    // Halls and positions by their Chinese names, not their ids.
    let hall = d.script("return document.querySelector('h2.hall').textContent;");
    assert_eq!(hall, "福田区政务服务中心");
    let cells = d.script(&format!(
        "return [...document.querySelectorAll('tr.terminal[data-id=\"{device}\"] td')].map(td => td.textContent);"
    ));
    assert_eq!(cells[1], "福田区政务服务中心 · 大厅入口", "{cells}");
    assert_eq!(cells[2], "在线", "{cells}");
    assert!(
        cells[4].as_str().unwrap().ends_with("-1"),
        "content version shown: {cells}"
    );

    // The terminal goes silent (power cut): stale, then offline, each within 35 s.
    agent.stop();
    let stopped = Instant::now();
    let mut seen_stale = None;
    let offline_at = loop {
        let st = status(&d);
        if st == "stale" && seen_stale.is_none() {
            seen_stale = Some(stopped.elapsed());
        }
        if st == "offline" {
            break stopped.elapsed();
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(35),
            "still {st} after 35 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let stale_at = seen_stale.expect("it was stale before offline");
    println!(
        "stale after {:.1} s, offline after {:.1} s",
        stale_at.as_secs_f64(),
        offline_at.as_secs_f64()
    );
    let count = d.script("return document.querySelector('#count-offline').textContent;");
    assert_eq!(count, "离线 1");
    // Everything but the terminals' own ids in Chinese: no hall or position ids.
    let text = d.script(
        "const m = document.querySelector('main').cloneNode(true); m.querySelectorAll('td.id').forEach(td => td.remove()); return m.innerText;",
    );
    for id in ["hall-futian", "entrance", "offline:"] {
        assert!(!text.as_str().unwrap().contains(id), "{id} shown: {text}");
    }

    // A screenshot for people to look at.
    let png = d.session("GET", "/screenshot", Value::Null);
    let bytes = decode_b64(png.as_str().unwrap());
    assert_eq!(&bytes[1..4], b"PNG");
    let out = workspace().join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("fleet-offline.png"), &bytes).unwrap();
}
