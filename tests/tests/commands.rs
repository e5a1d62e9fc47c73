//! Remote commands between real processes: the regional server, an enrolled agent with
//! simulated hardware, fake systemd and logind on a private dbus-daemon. An admin's self-test,
//! raised log level and UI restart round-trip through the admin API to the agent and back; a
//! command sent while the terminal is off is carried out when it comes back; a restart of the
//! agent is reported done only once the agent is back; the agent's and the kiosk's journal
//! lines of the last minutes come back compressed. Under Xvfb, a remote screenshot of the kiosk
//! shows a maintenance notice under its title, and the next one shows it gone once taken down.
//! In headless Chromium, from the fleet view to the terminal's page with the kiosk under Xvfb:
//! self-test, notice, screenshot (opened from the page), log level, collect logs (downloaded
//! from the page), UI restart and notice taken down, each sent with its button, come back
//! done; a viewer sees the results but no buttons.

use std::time::{Duration, Instant};

use menpai_tests::fake_host::FakeHost;
use menpai_tests::regional::{ADMIN, VIEWER, api, enroll, enrollment_token, server, terminal};
use menpai_tests::screen::Screen;
use menpai_tests::webdriver::{Driver, browser_login, decode_b64};
use menpai_tests::{
    RunningAgent, RunningServer, demo_region, get_json, https_reply, login, spawn_agent_env,
    workspace,
};
use serde_json::{Value, json};

const TERMINAL: &str = "[regional]\nheartbeat_interval_s = 1\nsync_interval_s = 3600\nmax_backoff_s = 1\n\
                        [host]\nnetwork_poll_s = 1\nui_silence_s = 0\n";

/// A server in `dir`, an admin's token, and a terminal enrolled and heartbeating with `host`
/// as its system bus and its journal in `dir`/journal; the terminal's id.
fn commanded_terminal(
    dir: &std::path::Path,
    host: &FakeHost,
) -> (RunningServer, String, RunningAgent, String) {
    let s = server(dir, "heartbeat_interval_s = 1\n", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let token = enrollment_token(&s, &admin, None);
    let journal = dir.join("journal");
    let config = format!("{TERMINAL}journal_dir = {journal:?}\n");
    let terminal_dir = enroll(&s, s.devices, &token, &config);
    let agent = spawn_agent_env(
        terminal_dir,
        &[("DBUS_SYSTEM_BUS_ADDRESS", host.address.as_str())],
    );
    let h = agent.wait_health(Duration::from_secs(30), |h| {
        h["regional"]["heartbeats"].as_u64() > Some(0)
    });
    let device = h["regional"]["device_id"].as_str().unwrap().to_owned();
    (s, admin, agent, device)
}

/// Journal files in `dir` with `(minutes ago, unit, message)` entries, written by
/// systemd-journal-remote as the journal of a terminal would hold them.
fn write_journal(dir: &std::path::Path, entries: &[(i64, &str, &str)]) {
    use std::io::Write;
    std::fs::create_dir_all(dir).unwrap();
    let now_us = chrono::Utc::now().timestamp_micros();
    // Appended oldest first, as journald does.
    let mut entries = entries.to_vec();
    entries.sort_by_key(|e| -e.0);
    let mut export = String::new();
    for (i, (ago, unit, message)) in entries.iter().enumerate() {
        let at = now_us - ago * 60_000_000;
        let name = unit.trim_end_matches(".service");
        export.push_str(&format!(
            "__REALTIME_TIMESTAMP={at}\n__MONOTONIC_TIMESTAMP={}\n_BOOT_ID={}\n\
             _MACHINE_ID={}\n_SYSTEMD_UNIT={unit}\nSYSLOG_IDENTIFIER={name}\nPRIORITY=6\n\
             MESSAGE={message}\n\n",
            i + 1,
            "0123456789abcdef0123456789abcdef",
            "fedcba9876543210fedcba9876543210",
        ));
    }
    let mut remote = std::process::Command::new("/lib/systemd/systemd-journal-remote")
        .arg(format!("--output={}", dir.join("remote.journal").display()))
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("systemd-journal-remote runs (package systemd-journal-remote)");
    remote
        .stdin
        .take()
        .unwrap()
        .write_all(export.as_bytes())
        .unwrap();
    assert!(remote.wait().unwrap().success());
}

/// Sends `command` to `device`; its id.
fn send(s: &RunningServer, admin: &str, device: &str, command: Value) -> String {
    let (st, r) = api(
        s,
        admin,
        "POST",
        &format!("/api/v1/admin/devices/{device}/commands"),
        "application/json",
        command.to_string().as_bytes(),
    );
    assert_eq!(st, 201, "{r}");
    r["id"].as_str().unwrap().to_owned()
}

/// Waits until command `id` is in one of `states`; the command as listed.
fn wait_state(
    s: &RunningServer,
    admin: &str,
    device: &str,
    id: &str,
    states: &[&str],
    agent: &RunningAgent,
) -> Value {
    let start = Instant::now();
    loop {
        let (st, r) = api(
            s,
            admin,
            "GET",
            &format!("/api/v1/admin/devices/{device}/commands"),
            "",
            b"",
        );
        assert_eq!(st, 200, "{r}");
        let c = r["commands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} is not listed: {r}"));
        if states.iter().any(|w| c["state"] == *w) {
            return c;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{id} is still {}: {c}\n{}",
            c["state"],
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn commands_round_trip_to_a_real_agent_and_wait_for_it_when_it_is_off() {
    let host = FakeHost::start();
    let tmp = tempfile::tempdir().unwrap();
    let (s, admin, mut agent, device) = commanded_terminal(tmp.path(), &host);
    let bus = [("DBUS_SYSTEM_BUS_ADDRESS", host.address.as_str())];

    // The unattended self-test: the simulated printer and scanner's state, no ticket printed.
    let id = send(&s, &admin, &device, json!({"kind": "self_test"}));
    let c = wait_state(&s, &admin, &device, &id, &["done", "failed"], &agent);
    let message = c["message"].as_str().unwrap();
    assert!(message.contains("打印机：通过，远程自检"), "{c}");
    assert!(message.contains("扫码器：通过，远程自检"), "{c}");
    assert_eq!(c["created_by"], ADMIN.0);

    // The log level raised for a while: the agent's own debug lines appear in its log.
    let before = agent.log().matches("DEBUG").count();
    let id = send(
        &s,
        &admin,
        &device,
        json!({"kind": "log_level", "level": "debug", "minutes": 5}),
    );
    let c = wait_state(&s, &admin, &device, &id, &["done", "failed"], &agent);
    assert_eq!(c["state"], "done", "{c}");
    assert_eq!(c["message"], "日志级别已调为 debug，5 分钟后恢复");
    let start = Instant::now();
    while agent.log().matches("DEBUG").count() <= before {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no debug lines after the raise:\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The kiosk UI restarted through systemd.
    let id = send(&s, &admin, &device, json!({"kind": "restart_ui"}));
    let c = wait_state(&s, &admin, &device, &id, &["done", "failed"], &agent);
    assert_eq!(c["state"], "done", "{c}");
    assert_eq!(
        host.restarts(),
        vec![("menpai-kiosk.service".to_owned(), "replace".to_owned())]
    );

    // The agent's and the kiosk's journal of the last 30 minutes, compressed: not other
    // units', not older lines.
    write_journal(
        &tmp.path().join("journal"),
        &[
            (1, "menpai-agent.service", "同步内容失败：连不上区域服务器"),
            (2, "menpai-kiosk.service", "界面已启动"),
            (3, "cron.service", "a line of another unit"),
            (120, "menpai-agent.service", "两小时前的旧日志"),
        ],
    );
    let id = send(
        &s,
        &admin,
        &device,
        json!({"kind": "collect_logs", "minutes": 30}),
    );
    let c = wait_state(&s, &admin, &device, &id, &["done", "failed"], &agent);
    assert_eq!(c["state"], "done", "{c}");
    assert_eq!(c["attachment"]["content_type"], "application/gzip");
    let auth = format!("Bearer {admin}");
    let file = https_reply(
        &s.ca_pem(),
        s.public,
        "GET",
        c["attachment"]["href"].as_str().unwrap(),
        &[("authorization", auth.as_str())],
        b"",
    );
    assert_eq!(file.status, 200);
    assert!(
        file.header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&file.body[..]), &mut logs)
        .unwrap();
    assert!(logs.contains("同步内容失败：连不上区域服务器"), "{logs}");
    assert!(logs.contains("界面已启动"), "{logs}");
    assert!(
        !logs.contains("another unit") && !logs.contains("旧日志"),
        "{logs}"
    );

    // The terminal is off: the command waits, queued, and is carried out when it is back.
    agent.stop();
    let id = send(&s, &admin, &device, json!({"kind": "self_test"}));
    std::thread::sleep(Duration::from_secs(2));
    let c = wait_state(&s, &admin, &device, &id, &["queued"], &agent);
    assert_eq!(c["state_label"], "等待终端");
    let agent = agent.restart_env(&bus);
    let c = wait_state(&s, &admin, &device, &id, &["done", "failed"], &agent);
    assert!(c["message"].as_str().unwrap().contains("打印机"), "{c}");

    // A restart of the agent: systemd asked, the command stays sent until the agent is back.
    let id = send(&s, &admin, &device, json!({"kind": "restart_agent"}));
    let start = Instant::now();
    while !host
        .restarts()
        .iter()
        .any(|(unit, _)| unit == "menpai-agent.service")
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "systemd was not asked: {:?}\n{}",
            host.restarts(),
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(1));
    let c = wait_state(&s, &admin, &device, &id, &["sent"], &agent);
    assert_eq!(
        c["state"], "sent",
        "not done before the restart happened: {c}"
    );
    // systemd would now start the agent again; here the test does.
    let agent = agent.restart_env(&bus);
    let c = wait_state(&s, &admin, &device, &id, &["done", "failed"], &agent);
    assert_eq!(c["state"], "done", "{c}");
    assert!(
        c["message"].as_str().unwrap().starts_with("终端程序已重启"),
        "{c}"
    );

    // A reboot through logind, not interactive; also confirmed once back.
    let id = send(&s, &admin, &device, json!({"kind": "reboot"}));
    let start = Instant::now();
    while host.reboots().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "logind was not asked\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(host.reboots(), vec![false]);
    let agent = agent.restart_env(&bus);
    let c = wait_state(&s, &admin, &device, &id, &["done", "failed"], &agent);
    assert!(
        c["message"].as_str().unwrap().starts_with("终端已重启"),
        "{c}"
    );
}

/// In the browser on the terminal's page: sends `kind` with its button (after `fill` has filled
/// its fields), then waits, as the page refreshes itself, until that new command has finished;
/// its row's selector.
fn send_from_page(
    d: &Driver,
    page: &str,
    kind: &str,
    fill: impl Fn(&Driver),
    agent: &RunningAgent,
) -> String {
    d.go(page);
    d.wait_text("h2", "远程维护", 30)
        .unwrap_or_else(|t| panic!("the terminal's page did not open: {t}"));
    // Taking a notice down is a notice without words.
    let listed = kind.trim_end_matches("_off");
    let known = d.script(&format!(
        "return [...document.querySelectorAll('tr.command[data-kind={listed}]')].map(r => r.dataset.id);"
    ));
    fill(d);
    d.click(&format!("#cmd-{kind}"));
    // The page reloads itself every 3 s while a command is open: queued → sent → done.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let found = d.script(&format!(
            "const known = {known};
             const r = [...document.querySelectorAll('tr.command[data-kind={listed}]')]
                 .find(r => !known.includes(r.dataset.id));
             return r ? [r.dataset.id, r.dataset.state] : null;"
        ));
        if let (Some(id), Some(state)) = (found[0].as_str(), found[1].as_str())
            && (state == "done" || state == "failed")
        {
            return format!("tr.command[data-id=\"{id}\"]");
        }
        assert!(
            Instant::now() < deadline,
            "{kind} has not finished: {found}\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The file behind a result's link, fetched by the browser with the operator's session: its
/// status, type and bytes.
fn open_attachment(d: &Driver, row: &str) -> (u64, String, Vec<u8>) {
    let href = d.script(&format!(
        "return document.querySelector('{row} a.attachment').getAttribute('href');"
    ));
    let r = d.script(&format!(
        "const x = new XMLHttpRequest();
         x.open('GET', {href}, false);
         x.overrideMimeType('text/plain; charset=x-user-defined');
         x.send();
         let bytes = '';
         for (let i = 0; i < x.responseText.length; i++) {{
             bytes += String.fromCharCode(x.responseText.charCodeAt(i) & 255);
         }}
         return [x.status, x.getResponseHeader('content-type'), btoa(bytes)];"
    ));
    (
        r[0].as_u64().unwrap_or_default(),
        r[1].as_str().unwrap_or_default().to_owned(),
        decode_b64(r[2].as_str().unwrap_or_default()),
    )
}

#[test]
fn in_chromium_every_command_sent_from_the_terminals_page_comes_back_from_the_agent_and_the_kiosk()
{
    let host = FakeHost::start();
    let tmp = tempfile::tempdir().unwrap();
    let (s, _, agent, device) = commanded_terminal(tmp.path(), &host);
    write_journal(
        &tmp.path().join("journal"),
        &[
            (1, "menpai-agent.service", "同步内容失败：连不上区域服务器"),
            (2, "menpai-kiosk.service", "界面已启动"),
        ],
    );
    // The plate itself, under Xvfb.
    let screen = Screen::start(agent.addr, &tmp.path().join("layout.tsv"), None, &[]);
    agent.wait_health(Duration::from_secs(120), |h| {
        h["host"]["ui"]["alive"] == true
    });
    const TEXT: &str = "自助设备维护中，请到 3 号窗口办理";

    let d = Driver::start();
    let base = format!("https://{}", s.public);
    browser_login(&d, &base, ADMIN);
    d.go(&format!("{base}/fleet"));
    d.click(&format!("tr.terminal[data-id=\"{device}\"] td.id a"));
    d.wait_text("h1", "福田区政务服务中心 · 大厅入口", 30)
        .unwrap_or_else(|t| panic!("the terminal's page did not open: {t}"));
    let page = d.url();

    // Self-test: the simulated printer and scanner pass, with the kiosk drawing.
    let row = send_from_page(&d, &page, "self_test", |_| {}, &agent);
    let report = d.text(&format!("{row} td.message"));
    assert!(report.contains("打印机：通过"), "{report}");
    assert!(report.contains("扫码器：通过"), "{report}");
    assert_eq!(d.text(&format!("{row} span.st")), "完成", "{report}");

    // A maintenance notice typed on the page, then the plate's screenshot shown from the
    // page: the notice under the title (the UI draws its first page after saying it is alive:
    // screenshots until it shows).
    let row = send_from_page(
        &d,
        &page,
        "notice",
        |d| d.type_into("#form-notice input[name=text]", TEXT),
        &agent,
    );
    assert_eq!(d.text(&format!("{row} span.st")), "完成");
    let out = workspace().join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let start = Instant::now();
    loop {
        let row = send_from_page(&d, &page, "screenshot", |_| {}, &agent);
        assert_eq!(d.text(&format!("{row} a.attachment")), "查看截屏");
        let (status, kind, png) = open_attachment(&d, &row);
        assert_eq!((status, kind.as_str()), (200, "image/png"));
        let shot = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!((shot.width(), shot.height()), (1080, 1920));
        shot.save(out.join("fleet-remote-screenshot.png")).unwrap();
        if notice_pixels(&shot) > 300 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the notice is not under the title of the plate's screenshot"
        );
    }

    // Debug logging for a while, then the last 30 minutes of the journal to download.
    let row = send_from_page(&d, &page, "log_level", |_| {}, &agent);
    assert_eq!(
        d.text(&format!("{row} td.message")),
        "日志级别已调为 debug，30 分钟后恢复"
    );
    let row = send_from_page(&d, &page, "collect_logs", |_| {}, &agent);
    assert_eq!(d.text(&format!("{row} a.attachment")), "查看日志");
    let (status, kind, gz) = open_attachment(&d, &row);
    assert_eq!((status, kind.as_str()), (200, "application/gzip"));
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut logs).unwrap();
    assert!(logs.contains("同步内容失败：连不上区域服务器"), "{logs}");
    assert!(logs.contains("界面已启动"), "{logs}");

    // The UI restarted through systemd; the notice taken down.
    let row = send_from_page(&d, &page, "restart_ui", |_| {}, &agent);
    assert_eq!(d.text(&format!("{row} span.st")), "完成");
    assert_eq!(
        host.restarts(),
        vec![("menpai-kiosk.service".to_owned(), "replace".to_owned())]
    );
    let row = send_from_page(&d, &page, "notice_off", |_| {}, &agent);
    assert_eq!(d.text(&format!("{row} td.message")), "维护公告已撤下");
    std::fs::write(out.join("fleet-terminal-commands.png"), d.screenshot()).unwrap();
    drop(screen);

    // A viewer sees the terminal and its commands, but no buttons.
    let v = Driver::start();
    browser_login(&v, &base, VIEWER);
    v.go(&page);
    v.wait_text("h2", "最近的指令", 30)
        .unwrap_or_else(|t| panic!("the viewer's page: {t}"));
    assert_eq!(
        v.script("return document.querySelectorAll('.commands button').length;"),
        0
    );
    let seen = v.script(
        "return [document.querySelectorAll('tr.command').length,
                 document.querySelectorAll('tr.command[data-state=done]').length];",
    );
    assert!(seen[0].as_u64() >= Some(7) && seen[0] == seen[1], "{seen}");
}

/// Pixels of the kiosk's highlight yellow (#FFC107) in the top bar.
fn notice_pixels(shot: &image::RgbImage) -> usize {
    let bar = shot.height().min(260);
    (0..bar)
        .flat_map(|y| (0..shot.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = shot.get_pixel(x, y);
            p[0] > 230 && (170..=215).contains(&p[1]) && p[2] < 60
        })
        .count()
}

/// A screenshot of the plate by remote command: the PNG the terminal attached.
fn remote_screenshot(
    s: &RunningServer,
    admin: &str,
    device: &str,
    agent: &RunningAgent,
) -> image::RgbImage {
    let id = send(s, admin, device, json!({"kind": "screenshot"}));
    let c = wait_state(s, admin, device, &id, &["done", "failed"], agent);
    assert_eq!(c["state"], "done", "{c}");
    let href = c["attachment"]["href"].as_str().unwrap();
    let auth = format!("Bearer {admin}");
    let file = https_reply(
        &s.ca_pem(),
        s.public,
        "GET",
        href,
        &[("authorization", auth.as_str())],
        b"",
    );
    assert_eq!(file.status, 200);
    image::load_from_memory(&file.body).unwrap().to_rgb8()
}

#[test]
fn a_maintenance_notice_shows_on_the_plate_as_a_remote_screenshot_shows() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "heartbeat_interval_s = 1\n", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let agent = terminal(&s, &admin, "entrance", None, TERMINAL);
    let (_, h) = get_json(agent.addr, "/api/v1/health");
    let device = h["regional"]["device_id"].as_str().unwrap().to_owned();
    const TEXT: &str = "自助设备维护中，请到 3 号窗口办理";

    // No kiosk yet: a screenshot cannot be taken, and a notice's answer says it waits.
    let id = send(&s, &admin, &device, json!({"kind": "screenshot"}));
    let c = wait_state(&s, &admin, &device, &id, &["done", "failed"], &agent);
    assert_eq!(c["state"], "failed", "{c}");
    assert_eq!(c["message"], "界面未连接，无法截屏");
    let id = send(
        &s,
        &admin,
        &device,
        json!({"kind": "notice", "text": TEXT, "minutes": 30}),
    );
    let c = wait_state(&s, &admin, &device, &id, &["done", "failed"], &agent);
    assert_eq!(c["state"], "done", "{c}");
    assert!(
        c["message"].as_str().unwrap().starts_with("界面未连接"),
        "{c}"
    );
    let (_, home) = get_json(agent.addr, "/api/v1/home");
    assert_eq!(home["maintenance"], TEXT);

    // The kiosk under Xvfb; once it follows the agent, the operator's screenshot shows the
    // notice under the title, in the highlight colour.
    let layout = tmp.path().join("layout.tsv");
    let screen = Screen::start(agent.addr, &layout, None, &[]);
    agent.wait_health(Duration::from_secs(120), |h| {
        h["host"]["ui"]["alive"] == true
    });
    // The UI says it is alive before it has drawn its first page: screenshots until it shows.
    let out = workspace().join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let start = Instant::now();
    loop {
        let shot = remote_screenshot(&s, &admin, &device, &agent);
        shot.save(out.join("kiosk-maintenance-notice.png")).unwrap();
        assert_eq!((shot.width(), shot.height()), (1080, 1920));
        let yellow = notice_pixels(&shot);
        if yellow > 300 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "no notice under the title ({yellow} yellow pixels)"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Taken down: gone from the plate, as the next screenshot shows.
    let id = send(
        &s,
        &admin,
        &device,
        json!({"kind": "notice", "text": "", "minutes": 0}),
    );
    let c = wait_state(&s, &admin, &device, &id, &["done", "failed"], &agent);
    assert_eq!(c["message"], "维护公告已撤下", "{c}");
    let (_, home) = get_json(agent.addr, "/api/v1/home");
    assert!(home["maintenance"].is_null(), "{home}");
    let start = Instant::now();
    loop {
        let shot = remote_screenshot(&s, &admin, &device, &agent);
        if notice_pixels(&shot) == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the notice is still on screen"
        );
    }
    drop(screen);
}
