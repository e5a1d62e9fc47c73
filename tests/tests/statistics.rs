//! Hall statistics for real: the regional server, an enrolled terminal taking tickets, window
//! staff calling them over the API, and headless Chromium reading the report page, a chart and
//! the live hall monitor at 1920×1080 and 390×844. The monitor follows the queue over the live
//! channel, and turns the service-level alert on by itself when a wait crosses its limit (a
//! business whose service level is one minute); `/metrics` carries the hall's figures.

use std::path::Path;
use std::time::{Duration, Instant};

use menpai_tests::regional::{ADMIN, STAFF, VIEWER, api, server, terminal};
use menpai_tests::webdriver::{Driver, browser_login};
use menpai_tests::{copy_dir, demo_region, http, https, login, workspace};
use serde_json::{Value, json};

/// Terminals that sync on start and stay quiet afterwards.
const TERMINAL: &str = "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\nmax_backoff_s = 1\n\
                        [queue]\nallow_outside_hours = true\n";
const HALL: &str = "hall-futian";
/// 公积金 (E): its service level is set to one minute in the test's pack.
const BUSINESS: &str = "E";
const METRICS_TOKEN: &str = "statistics-metrics-token";

/// The demo region with 公积金's service level at one minute.
fn pack(dir: &Path) -> std::path::PathBuf {
    let to = dir.join("pack");
    copy_dir(&demo_region(), &to);
    let file = to.join("outlets.json");
    let mut outlets: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    for o in outlets.as_array_mut().unwrap() {
        if o["id"] == HALL {
            for b in o["business_types"].as_array_mut().unwrap() {
                if b["prefix"] == BUSINESS {
                    b["service_level_min"] = 1.into();
                }
            }
        }
    }
    std::fs::write(&file, serde_json::to_vec_pretty(&outlets).unwrap()).unwrap();
    to
}

fn page_shows(d: &Driver, css: &str, needle: &str) -> String {
    d.wait_text(css, needle, 30)
        .unwrap_or_else(|t| panic!("{needle} never showed in {css}: {t}"))
}

/// Whether the page shows an alert of `kind` now.
fn alert_on(d: &Driver, kind: &str) -> bool {
    d.script(&format!(
        "var a=document.querySelector('#alerts li[data-kind={kind}][data-on=\"1\"]');return !!a&&!a.hidden"
    ))
    .as_bool()
    .unwrap_or(false)
}

fn local_ms(stamp: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap()
        .and_utc()
        .timestamp_millis()
}

#[test]
fn the_report_a_chart_and_the_live_monitor_in_chromium_with_an_alert_on_by_the_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = pack(tmp.path());
    let s = server(
        tmp.path(),
        &format!("metrics_token = \"{METRICS_TOKEN}\"\nmonitor_waiting_over = 2\n"),
        &pack,
    );
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let staff = login(&s, STAFF.0, STAFF.1);
    let viewer = login(&s, VIEWER.0, VIEWER.1);
    let base = format!("https://{}", s.public);
    let agent = terminal(&s, &admin, "entrance", None, TERMINAL);
    let out = workspace().join("target/screenshots/statistics");
    std::fs::create_dir_all(&out).unwrap();

    // Five take 公积金 and one 社保医保; window staff serve the first and call the second.
    let take = |prefix: &str| {
        let (st, t) = http(
            agent.addr,
            "POST",
            "/api/v1/queue/tickets",
            &[("Content-Type", "application/json")],
            format!("{{\"prefix\":\"{prefix}\"}}").as_bytes(),
        );
        assert_eq!(st, 201, "{t}");
        serde_json::from_str::<Value>(&t).unwrap()
    };
    let first = take(BUSINESS);
    for _ in 0..4 {
        take(BUSINESS);
    }
    take("D");
    let window = first["windows"][0].as_u64().unwrap();
    let act = |action: &str| {
        let (st, r) = api(
            &s,
            &staff,
            "POST",
            &format!("/api/v1/queue/{HALL}/windows/{window}"),
            "application/json",
            format!("{{\"action\":\"{action}\"}}").as_bytes(),
        );
        assert_eq!(st, 200, "{action}: {r}");
        r
    };
    for a in ["call_next", "serve", "finish", "call_next"] {
        act(a);
    }

    // The JSON twin: three wait for 公积金 (over the limit of 2), one is served, one called.
    let monitor = || {
        let (st, m) = api(
            &s,
            &viewer,
            "GET",
            &format!("/api/v1/monitor/{HALL}"),
            "",
            b"",
        );
        assert_eq!(st, 200, "{m}");
        m
    };
    let m = monitor();
    let e = m["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["prefix"] == BUSINESS)
        .unwrap()
        .clone();
    assert_eq!(
        (m["waiting"].as_u64(), e["waiting"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(
        (m["served_today"].as_u64(), e["level_s"].as_u64()),
        (Some(1), Some(60))
    );
    assert_eq!(e["oldest"], "E003");
    let w = m["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["window"] == window)
        .unwrap();
    assert_eq!(
        (w["mode"].as_str(), w["number"].as_str()),
        (Some("called"), Some("E002"))
    );
    let kinds: Vec<&str> = m["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["on"] == true)
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["too_many"], "{m}");

    // /metrics: the hall's figures with its label.
    let (st, metrics) = https(
        &s.ca_pem(),
        s.public,
        "GET",
        "/metrics",
        &[("authorization", &format!("Bearer {METRICS_TOKEN}"))],
        b"",
    );
    assert_eq!(st, 200, "{metrics}");
    for line in [
        "menpai_hall_waiting{hall=\"hall-futian\"} 4\n",
        "menpai_hall_served_today{hall=\"hall-futian\"} 1\n",
        "menpai_hall_waiting{hall=\"hall-civic\"} 0\n",
    ] {
        assert!(metrics.contains(line), "{line} missing:\n{metrics}");
    }
    assert!(metrics.contains("menpai_hall_longest_wait_seconds{hall=\"hall-futian\"} "));

    // A chart: SVG with Chinese text, served by the server itself.
    let (st, svg) = https(
        &s.ca_pem(),
        s.public,
        "GET",
        &format!("/statistics/charts/arrivals.svg?hall={HALL}"),
        &[("authorization", &format!("Bearer {viewer}"))],
        b"",
    );
    assert_eq!(st, 200, "{svg}");
    assert!(svg.starts_with("<svg") && svg.contains("福田区") && svg.contains("各时段到达人数"));
    let (st, _) = https(
        &s.ca_pem(),
        s.public,
        "GET",
        "/statistics/charts/arrivals.svg?hall=hall-civic",
        &[("authorization", &format!("Bearer {viewer}"))],
        b"",
    );
    assert_eq!(st, 403, "a viewer of 福田 does not see 市民中心");

    // The wall screen: 1920×1080.
    let d = Driver::start();
    d.session(
        "POST",
        "/goog/cdp/execute",
        json!({"cmd": "Emulation.setDeviceMetricsOverride",
               "params": {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": false}}),
    );
    let shot = |d: &Driver, name: &str| {
        std::fs::write(out.join(format!("{name}.png")), d.screenshot()).unwrap()
    };
    browser_login(&d, &base, VIEWER);
    d.go(&format!("{base}/statistics?hall={HALL}"));
    std::thread::sleep(Duration::from_millis(500));
    // A's report page: its heading and the hall it was asked for.
    let report = page_shows(&d, "main", "统计分析");
    assert!(report.contains("福田区政务服务中心"), "{report}");
    shot(&d, "report-1920");
    for chart in ["arrivals", "windows"] {
        d.go(&format!("{base}/statistics/charts/{chart}.svg?hall={HALL}"));
        std::thread::sleep(Duration::from_millis(300));
        shot(&d, &format!("chart-{chart}-1920"));
    }
    d.go(&format!("{base}/monitor"));
    page_shows(&d, "#halls", "福田区");
    shot(&d, "monitor-halls-1920");

    d.go(&format!("{base}/monitor/{HALL}"));
    page_shows(&d, "#waiting", "4");
    page_shows(&d, &format!("[data-window=\"{window}\"]"), "E002");
    assert!(alert_on(&d, "too_many"));
    assert_eq!(d.text("#window-counts"), "开 1 · 办理 1 · 空闲 0 · 未开 39");
    assert!(
        !alert_on(&d, "over_level"),
        "E003 has waited under a minute"
    );

    // Live: the window finishes E002 and calls E003; the page follows without a reload.
    d.script("window.monitorMark=1");
    let acted = Instant::now();
    act("finish");
    act("call_next");
    page_shows(&d, &format!("[data-window=\"{window}\"]"), "E003");
    println!(
        "the monitor showed the call {} ms after the action",
        acted.elapsed().as_millis()
    );
    assert_eq!(d.script("return window.monitorMark"), 1, "updated in place");
    assert!(!alert_on(&d, "too_many"), "two wait now: not more than 2");

    // The clock: E004 crosses its one-minute service level with no event; the alert turns on.
    let m = monitor();
    let e = m["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["prefix"] == BUSINESS)
        .unwrap()
        .clone();
    assert_eq!(e["oldest"], "E004");
    let waited_ms =
        local_ms(m["now"].as_str().unwrap()) - local_ms(e["oldest_since"].as_str().unwrap());
    let crossing = Instant::now() + Duration::from_millis((60_000 - waited_ms).max(0) as u64);
    assert!(!alert_on(&d, "over_level"));
    shot(&d, "monitor-1920");
    while Instant::now() + Duration::from_millis(500) < crossing {
        assert!(
            !alert_on(&d, "over_level"),
            "on before the wait crossed its limit"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Turned on within 2 s of crossing.
    let deadline = crossing + Duration::from_secs(2);
    let seen = loop {
        if alert_on(&d, "over_level") {
            break Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "the over-level alert was not on 2 s after the wait crossed its limit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    println!(
        "the over-level alert turned on {} ms after the wait crossed its limit",
        seen.saturating_duration_since(crossing).as_millis()
    );
    let alerts = d.text("#alerts");
    assert!(
        alerts.contains("公积金：有人等候超过 1 分钟时限（E004）"),
        "{alerts}"
    );
    assert!(
        d.script("return document.querySelector('[data-prefix=E]').classList.contains('on')")
            == true
    );
    shot(&d, "monitor-alert-1920");

    // The same on a phone.
    let phone = Driver::phone();
    browser_login(&phone, &base, VIEWER);
    phone.go(&format!("{base}/monitor/{HALL}"));
    page_shows(&phone, "#alerts", "公积金：有人等候超过");
    let width = phone.script("return document.documentElement.scrollWidth");
    assert_eq!(width, 390, "nothing wider than the phone");
    shot(&phone, "monitor-390");
    phone.go(&format!("{base}/statistics?hall={HALL}"));
    std::thread::sleep(Duration::from_millis(500));
    shot(&phone, "report-390");

    // Another hall's monitor: refused.
    d.go(&format!("{base}/monitor/hall-civic"));
    page_shows(&d, "main", "没有这个大厅的统计查看权限");
    println!("screenshots in {}", out.display());
}
