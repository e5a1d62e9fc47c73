//! The operators' console in headless Chromium: an admin adds a hall manager of one hall in the
//! browser; the manager logs in on a phone, must change the password first, then sees only the
//! sections a hall manager may open and only that hall (fleet, requests); the admin disables
//! the manager and the manager's open live channel closes and their next page is the login
//! page. Screenshots of the console at phone width and on a desktop go to `screenshots/` in the
//! test's directory (and to `$MENPAI_SCREENSHOTS` when set, for the operator manual).

use std::path::Path;
use std::time::{Duration, Instant};

use menpai_tests::regional::{ADMIN, api, server};
use menpai_tests::webdriver::Driver;
use menpai_tests::{agent_cli, agent_dir, demo_region};
use serde_json::{Value, json};

const MANAGER: (&str, &str) = ("mgr-futian", "temporary-pass-1");
const CHOSEN: &str = "manager-own-pass-1";

/// Waits up to 60 s for `js` (an expression) to be true in the page; its last value.
fn wait_for(d: &Driver, what: &str, js: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = d.script(&format!("return {js};"));
        if v == Value::Bool(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still not so after 60 s at {} ({v}): {}",
            d.url(),
            d.text("body")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn path_is(path: &str) -> String {
    format!("location.pathname === '{path}'")
}

fn log_in(d: &Driver, base: &str, name: &str, password: &str) {
    d.go(&format!("{base}/login"));
    d.type_into("#name", name);
    d.type_into("#password", password);
    d.click("#login");
    wait_for(d, "the login answered", "location.pathname !== '/login'");
}

/// Saves the viewport as `<name>.png` in `dir` (and in `$MENPAI_SCREENSHOTS`).
fn shot(d: &Driver, dir: &Path, name: &str) {
    let png = d.screenshot();
    assert_eq!(&png[1..4], b"PNG", "{name}");
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    if let Ok(extra) = std::env::var("MENPAI_SCREENSHOTS") {
        std::fs::create_dir_all(&extra).unwrap();
        std::fs::write(Path::new(&extra).join(format!("{name}.png")), &png).unwrap();
    }
}

/// Desktop and phone-width shots of the page open in `d` (a desktop browser).
fn both_widths(d: &Driver, dir: &Path, name: &str) {
    d.session(
        "POST",
        "/window/rect",
        json!({"width": 1280, "height": 900}),
    );
    shot(d, dir, &format!("{name}-desktop"));
    d.session("POST", "/window/rect", json!({"width": 390, "height": 844}));
    let wide = d.script("return document.documentElement.scrollWidth;");
    let inner = d.script("return window.innerWidth;");
    assert!(
        wide.as_i64() <= inner.as_i64(),
        "{name} scrolls sideways at phone width: {wide} > {inner}"
    );
    shot(d, dir, &format!("{name}-phone"));
    d.session(
        "POST",
        "/window/rect",
        json!({"width": 1280, "height": 900}),
    );
}

/// Enrolls a terminal (never started) at `position` in `hall`.
fn enrolled(s: &menpai_tests::RunningServer, admin: &str, hall: &str) {
    let (st, r) = api(
        s,
        admin,
        "POST",
        "/api/v1/admin/enrollment-tokens",
        "application/json",
        json!({"hall": hall, "position": "entrance"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(st, 201, "{r}");
    let dir = agent_dir(None, "");
    std::fs::write(dir.path().join("ca.pem"), s.ca_pem()).unwrap();
    let ca = dir.path().join("ca.pem");
    let (ok, out) = agent_cli(
        dir.path(),
        &[
            "enroll",
            "--server",
            &format!("https://{}", s.devices),
            "--ca",
            ca.to_str().unwrap(),
            "--token",
            r["token"].as_str().unwrap(),
        ],
    );
    assert!(ok, "{out}");
}

/// A consultation question asked on the phone page of `hall`.
fn ask(d: &Driver, base: &str, hall: &str, text: &str) {
    d.go(&format!("{base}/ask/{hall}?kind=consult"));
    d.type_into("#text", text);
    d.click("#submit");
    wait_for(
        d,
        "the question was taken",
        "location.pathname.startsWith('/r/')",
    );
}

/// The console sections the page's navigation offers.
fn sections(d: &Driver) -> Vec<String> {
    d.script("return [...document.querySelectorAll('nav.console a.section')].map(a => a.getAttribute('href'));")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_admin_adds_a_hall_manager_in_the_browser_who_sees_only_that_hall_until_disabled() {
    let tmp = tempfile::tempdir().unwrap();
    let shots = tmp.path().join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let base = format!("https://{}", s.public);
    let token = menpai_tests::login(&s, ADMIN.0, ADMIN.1);
    enrolled(&s, &token, "hall-futian");
    enrolled(&s, &token, "hall-civic");

    // Questions in two halls, asked on the phone pages.
    let citizen = Driver::phone();
    ask(
        &citizen,
        &base,
        "hall-futian",
        "福田大厅的问题：社保卡怎么补办？",
    );
    ask(
        &citizen,
        &base,
        "hall-civic",
        "市民中心的问题：护照怎么续签？",
    );
    drop(citizen);

    // The admin adds a hall manager of 福田区政务服务中心 in the browser.
    let admin = Driver::start();
    log_in(&admin, &base, ADMIN.0, ADMIN.1);
    admin.go(&format!("{base}/operators"));
    admin.click("#add-open");
    admin.type_into("#new-name", MANAGER.0);
    admin.type_into("#new-display", "李四");
    admin.click("#new-role option[value=hall_manager]");
    admin.click("#new-halls option[value=hall-futian]");
    admin.type_into("#new-password", MANAGER.1);
    admin.click("#add");
    wait_for(
        &admin,
        "the manager was added",
        "location.search.includes('done=added')",
    );
    let done = admin.text("#done");
    assert_eq!(done, "mgr-futian 已添加，首次登录时须修改密码");
    let row = admin.script(
        "return [...document.querySelectorAll('tr[data-name=\"mgr-futian\"] td')].slice(0, 5).map(td => td.textContent);",
    );
    assert_eq!(
        row,
        json!([
            "mgr-futian",
            "李四",
            "大厅负责人",
            "福田区政务服务中心",
            "在用 · 待改密码"
        ])
    );
    both_widths(&admin, &shots, "operators");
    assert_eq!(
        sections(&admin),
        [
            "/fleet",
            "/staff",
            "/duty",
            "/requests",
            "/cases",
            "/statistics",
            "/monitor",
            "/studio",
            "/studio/review",
            "/operators",
            "/audit"
        ]
    );

    // The manager logs in on a phone: only the password change is open.
    let mgr = Driver::phone();
    log_in(&mgr, &base, MANAGER.0, MANAGER.1);
    wait_for(
        &mgr,
        "sent to the password change",
        &path_is("/account/password"),
    );
    assert!(
        mgr.text("#must-change")
            .contains("管理员为你设置了临时密码")
    );
    assert!(sections(&mgr).is_empty(), "no section before the change");
    shot(&mgr, &shots, "password-change-phone");
    mgr.go(&format!("{base}/fleet"));
    wait_for(&mgr, "the fleet leads back", &path_is("/account/password"));
    mgr.type_into("#current", MANAGER.1);
    mgr.type_into("#new", CHOSEN);
    mgr.type_into("#again", CHOSEN);
    mgr.click("#change");
    wait_for(&mgr, "the new password took", &path_is("/fleet"));

    // Then: a hall manager's sections, and only their hall.
    assert_eq!(
        sections(&mgr),
        [
            "/fleet",
            "/staff",
            "/duty",
            "/requests",
            "/cases",
            "/statistics",
            "/monitor"
        ]
    );
    let halls =
        mgr.script("return [...document.querySelectorAll('h2.hall')].map(h => h.textContent);");
    assert_eq!(halls, json!(["福田区政务服务中心"]));
    let place = mgr.text("tr.terminal td.place");
    assert_eq!(place, "福田区政务服务中心 · 大厅入口");
    // Every word but the terminals' ids is Chinese: no hall or position ids.
    let body = mgr.script(
        "const m = document.querySelector('main').cloneNode(true); m.querySelectorAll('td.id').forEach(td => td.remove()); return m.innerText;",
    );
    let body = body.as_str().unwrap();
    assert!(body.contains("未上线 1"), "{body}");
    for id in ["深圳市民中心", "hall-", "entrance", "never"] {
        assert!(!body.contains(id), "{id} shown: {body}");
    }
    shot(&mgr, &shots, "fleet-manager-phone");
    admin.go(&format!("{base}/fleet"));
    let all =
        admin.script("return [...document.querySelectorAll('h2.hall')].map(h => h.textContent);");
    assert_eq!(
        all,
        json!(["深圳市民中心行政服务大厅", "福田区政务服务中心"])
    );
    both_widths(&admin, &shots, "fleet");

    // Requests: only this hall's question.
    mgr.go(&format!("{base}/requests"));
    let requests = mgr.text("main");
    assert!(requests.contains("社保卡怎么补办"), "{requests}");
    assert!(
        !requests.contains("护照怎么续签"),
        "another hall's question shown: {requests}"
    );
    shot(&mgr, &shots, "requests-manager-phone");
    admin.go(&format!("{base}/requests"));
    let everything = admin.text("main");
    assert!(
        everything.contains("社保卡怎么补办") && everything.contains("护照怎么续签"),
        "{everything}"
    );
    // Cases: the page opens in the shell for them (no case exists in this test).
    mgr.go(&format!("{base}/cases"));
    assert_eq!(mgr.script("return document.querySelector('nav.console a[aria-current=page]').getAttribute('href');"), "/cases");
    assert!(!mgr.text("main").contains("深圳市民中心"));
    shot(&mgr, &shots, "cases-manager-phone");

    // Another hall's records are refused, and the refusal is in the audit view.
    let (st, _) = api(&s, &token, "GET", "/api/v1/admin/audit", "", b"");
    assert_eq!(st, 200);
    let mtoken = menpai_tests::login(&s, MANAGER.0, CHOSEN);
    let (st, _) = api(&s, &mtoken, "GET", "/api/v1/queue/hall-civic", "", b"");
    assert_eq!(st, 403);
    admin.go(&format!("{base}/audit?hall=hall-civic"));
    let refusals = admin.text("#audit");
    assert!(
        refusals.contains("mgr-futian") && refusals.contains("叫号越权"),
        "{refusals}"
    );
    both_widths(&admin, &shots, "audit");

    // The manager keeps a page open that listens on the live channel.
    mgr.go(&format!("{base}/account/password"));
    mgr.script(
        "window.__states = []; const es = new EventSource('/console/live?topics=help,request');\
         es.onopen = () => window.__states.push('open'); es.onerror = () => window.__states.push('error:' + es.readyState);",
    );
    wait_for(
        &mgr,
        "the live channel opened",
        "window.__states.includes('open')",
    );

    // The admin disables the manager: the channel closes at once, the next page is the login.
    admin.go(&format!("{base}/operators"));
    admin.click("tr[data-name=\"mgr-futian\"] button.disable");
    wait_for(
        &admin,
        "the manager was disabled",
        "location.search.includes('done=disabled')",
    );
    assert_eq!(
        admin
            .script("return document.querySelector('tr[data-name=\"mgr-futian\"]').dataset.state;"),
        "disabled"
    );
    wait_for(
        &mgr,
        "the open channel ended",
        "window.__states.some(s => s.startsWith('error'))",
    );
    mgr.go(&format!("{base}/fleet"));
    wait_for(&mgr, "the login page", &path_is("/login"));
    let (st, _) = api(&s, &mtoken, "GET", "/api/v1/fleet", "", b"");
    assert_eq!(st, 401, "every session of theirs ended");
    admin.go(&format!("{base}/audit?action=operator"));
    let log = admin.text("#audit");
    for words in ["添加人员", "停用人员"] {
        assert!(log.contains(words), "{words} missing: {log}");
    }
    println!("screenshots in {}", shots.display());
}
