//! Help calls for real: the regional server, an enrolled terminal (simulated hardware, its GPIO
//! twin), the kiosk under Xvfb and the duty view in headless Chromium. The kiosk's button and
//! the help button each reach the duty page live (the time from the press to the row printed);
//! staff acknowledge and resolve in the browser and the kiosk shows who is coming, then 已处理;
//! with the server cut off the kiosk shows the hall's phone and never 已通知; back with a short
//! escalation time, an unanswered call turns red on the duty page and the kiosk says so.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use menpai_tests::regional::{ADMIN, STAFF, server, terminal};
use menpai_tests::screen::{self, Display};
use menpai_tests::webdriver::Driver;
use menpai_tests::{RunningAgent, demo_region, get_json, http, login, spawn_server, workspace};
use serde_json::{Value, json};

/// Terminals that sync on start and retry the server every second.
const TERMINAL: &str = "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\nmax_backoff_s = 1\n\
                        [queue]\nallow_outside_hours = true\n";
/// The hall's service phone in the demo region (福田).
const HALL_PHONE: &str = "0755-83090100";

fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Polls `probe` until it gives something, for at most `secs`.
fn until<T>(secs: u64, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(t) = probe() {
            return t;
        }
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An Xvfb display of our own and the kiosk on it, photographing the help screen's states.
struct Kiosk {
    kiosk: Child,
    display: Display,
    layout: PathBuf,
    shots: PathBuf,
    lines: Receiver<String>,
}

impl Drop for Kiosk {
    fn drop(&mut self) {
        let _ = self.kiosk.kill();
        let _ = self.kiosk.wait();
    }
}

impl Kiosk {
    fn start(agent: std::net::SocketAddr, dir: &Path) -> Kiosk {
        let display = Display::start(None);
        let (layout, shots) = (dir.join("layout.tsv"), dir.join("shots"));
        std::fs::create_dir_all(&shots).unwrap();
        let shots_arg = shots.to_str().unwrap();
        let extra = [
            "--shots",
            shots_arg,
            "--script",
            "start;go:help",
            "--idle",
            "3600",
        ];
        let mut kiosk = screen::kiosk(&display, agent, &layout, &extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let out = kiosk.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Kiosk {
            kiosk,
            display,
            layout,
            shots,
            lines,
        }
    }

    /// Waits for the help screen to show `state` (photographed), and returns the picture's path.
    fn shows(&self, state: &str) -> PathBuf {
        let want = format!("menpai-kiosk: help shows {state}");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line == want => break,
                // Cut off, the kiosk must never claim staff were told.
                Ok(line) => assert!(
                    state != "unreached"
                        || !["waiting", "escalated", "acknowledged"]
                            .iter()
                            .any(|s| line.ends_with(&format!("help shows {s}"))),
                    "the kiosk showed {line} while the server was cut off"
                ),
                Err(_) => panic!(
                    "the kiosk never showed {state}:\n{}",
                    std::fs::read_to_string(self.layout.with_extension("log")).unwrap_or_default()
                ),
            }
        }
        let png = self.shots.join(format!("help-{state}.png"));
        let out = workspace().join("target/screenshots");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::copy(&png, out.join(format!("kiosk-help-{state}.png"))).unwrap();
        png
    }

    /// Clicks the first button whose action contains `action`, once the screen has settled;
    /// when the click was sent (epoch ms, just before xdotool ran).
    fn click(&self, action: &str) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut previous = String::new();
        let at = loop {
            let table = std::fs::read_to_string(&self.layout).unwrap_or_default();
            let settled = table == previous && !table.contains("Busy(");
            previous = table.clone();
            let found = table.lines().find_map(|line| {
                let cols: Vec<&str> = line.split('\t').collect();
                let n: Vec<f32> = cols[1..].iter().filter_map(|v| v.parse().ok()).collect();
                (cols[0].contains(action) && n.len() == 4 && n[1] >= 0.0 && n[1] + n[3] < 1900.0)
                    .then(|| ((n[0] + n[2] / 2.0) as i32, (n[1] + n[3] / 2.0) as i32))
            });
            if let (true, Some(at)) = (settled, found) {
                break at;
            }
            assert!(
                Instant::now() < deadline,
                "no button {action}; the screen has:\n{table}"
            );
            std::thread::sleep(Duration::from_millis(300));
        };
        let sent = epoch_ms();
        self.display.tap(at);
        sent
    }
}

/// Headless Chromium logged in as the hall's window staff, on the duty view.
fn duty_page(base: &str) -> Driver {
    let d = Driver::start();
    d.go(&format!("{base}/login"));
    for (css, text) in [("#name", STAFF.0), ("#password", STAFF.1)] {
        let el = d.element(css);
        d.session(
            "POST",
            &format!("/element/{el}/value"),
            json!({ "text": text }),
        );
    }
    let button = d.element("#login");
    d.session("POST", &format!("/element/{button}/click"), json!({}));
    until(30, "logged in", || {
        (!d.url().ends_with("/login")).then_some(())
    });
    open_duty(&d, base);
    d
}

/// Opens the duty view and waits until its live channel is open.
fn open_duty(d: &Driver, base: &str) {
    d.go(&format!("{base}/duty"));
    until(30, "the duty view's live channel", || {
        (d.script("return window.helpLive ? window.helpLive.readyState : -1") == json!(1))
            .then_some(())
    });
}

/// Waits for a new row on the duty page: its id and when the page showed it (epoch ms).
fn new_row(d: &Driver, known: &[String]) -> (String, u64) {
    until(30, "a new call on the duty page", || {
        let shown = d.script("return window.helpShown || {}");
        shown.as_object().and_then(|m| {
            m.iter()
                .find(|(id, _)| !known.contains(id))
                .map(|(id, at)| (id.clone(), at.as_u64().unwrap_or_default()))
        })
    })
}

fn row_text(d: &Driver, id: &str) -> String {
    d.script(&format!(
        "var r=document.querySelector('tr[data-id=\"{id}\"]');return r?r.innerText:''"
    ))
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

fn press(d: &Driver, id: &str, class: &str) {
    d.click(&format!("tr[data-id=\"{id}\"] button.{class}"));
}

fn gpio(agent: &RunningAgent, pressed: bool) {
    let body = format!("{{\"help_button\": {pressed}}}");
    let (s, r) = http(
        agent.addr,
        "POST",
        "/api/v1/sim/gpio",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(s, 200, "{r}");
}

#[test]
fn help_calls_reach_the_duty_page_live_and_the_kiosk_shows_who_is_coming() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = server(tmp.path(), "help_escalate_after_s = 600\n", &demo_region());
    // The window staff's full name, as an admin would have set it in the operators' page.
    s.sql(&format!(
        "UPDATE operators SET display_name = '王小明' WHERE name = '{}'",
        STAFF.0
    ));
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let agent = terminal(&s, &admin, "entrance", None, TERMINAL);
    let base = format!("https://{}", s.public);
    let d = duty_page(&base);
    let empty = d.text("#help-calls");
    assert!(empty.contains("现在没有待处理的呼叫"), "{empty}");
    let kiosk = Kiosk::start(agent.addr, tmp.path());
    let mut known: Vec<String> = Vec::new();

    // 1. The citizen presses 呼叫工作人员 on the kiosk: the row appears on the duty page, live.
    let pressed = kiosk.click("CallStaff");
    let (id, shown) = new_row(&d, &known);
    known.push(id.clone());
    let ms = shown.saturating_sub(pressed);
    println!("help call from the kiosk's button to the duty page in Chromium: {ms} ms");
    assert!(ms < 10_000, "{ms} ms");
    let row = row_text(&d, &id);
    assert!(
        row.contains("大厅入口") && row.contains("福田") && row.contains("有事请教"),
        "{row}"
    );
    assert!(
        d.script("return window.helpBeeps").as_u64().unwrap_or(0) >= 1,
        "a new call beeps"
    );
    kiosk.shows("waiting");

    // Staff acknowledge in the browser: the kiosk shows who is coming; then 已处理.
    press(&d, &id, "ack");
    until(30, "the acknowledged row", || {
        row_text(&d, &id).contains("王小明 马上到").then_some(())
    });
    kiosk.shows("acknowledged");
    press(&d, &id, "done");
    kiosk.shows("resolved");
    until(30, "the resolved call gone from the duty page", || {
        row_text(&d, &id).is_empty().then_some(())
    });

    // 2. The help button on the plate (the GPIO twin): the same call, the same way back.
    open_duty(&d, &base);
    let pressed = epoch_ms();
    gpio(&agent, true);
    std::thread::sleep(Duration::from_millis(100)); // held past the debounce, then let go
    gpio(&agent, false);
    let (id, shown) = new_row(&d, &known);
    known.push(id.clone());
    let ms = shown.saturating_sub(pressed);
    println!("help call from the GPIO help button to the duty page in Chromium: {ms} ms");
    assert!(ms < 10_000, "{ms} ms");
    kiosk.shows("waiting");
    press(&d, &id, "ack");
    kiosk.shows("acknowledged");
    press(&d, &id, "done");
    kiosk.shows("resolved");

    // 3. The server is cut off: the kiosk shows the hall's phone, never 已通知.
    let (public, devices) = (s.public, s.devices);
    s.kill();
    let before: Value = get_json(agent.addr, "/api/v1/health").1;
    kiosk.click("CallStaff");
    kiosk.shows("unreached");
    let after: Value = get_json(agent.addr, "/api/v1/health").1;
    assert!(
        after["outbox_depth"].as_u64() > before["outbox_depth"].as_u64(),
        "the missed call is kept for the statistics: {before} {after}"
    );
    let (st, answer) = get_json_post(&agent);
    assert_eq!(st, 200, "{answer}");
    assert_eq!(answer["reached"], false, "{answer}");
    assert_eq!(answer["phone"], HALL_PHONE, "{answer}");

    // 4. Back, with a short escalation time: an unanswered call turns red, the kiosk says so.
    let config = std::fs::read_to_string(s.config())
        .unwrap()
        .replace("help_escalate_after_s = 600", "help_escalate_after_s = 3")
        .replace(
            "listen_public = \"127.0.0.1:0\"",
            &format!("listen_public = \"{public}\""),
        )
        .replace(
            "listen_devices = \"127.0.0.1:0\"",
            &format!("listen_devices = \"{devices}\""),
        );
    std::fs::write(s.config(), config).unwrap();
    let s = spawn_server(&s.dir.clone());
    assert_eq!((s.public, s.devices), (public, devices));
    open_duty(&d, &base);
    kiosk.click("CallStaff");
    let (id, _) = new_row(&d, &known);
    let color = until(30, "the escalated row", || {
        let c = d.script(&format!(
            "var r=document.querySelector('tr[data-id=\"{id}\"].escalated');\
             return r?getComputedStyle(r).color:null"
        ));
        c.as_str().map(str::to_owned)
    });
    assert_eq!(color, "rgb(183, 28, 28)", "escalated calls are red");
    assert!(row_text(&d, &id).contains("已通知值班主任"));
    kiosk.shows("escalated");
    let out = workspace().join("target/screenshots");
    std::fs::write(
        out.join("duty-escalated.png"),
        menpai_tests::webdriver::decode_b64(
            d.session("GET", "/screenshot", Value::Null)
                .as_str()
                .unwrap(),
        ),
    )
    .unwrap();
    drop(s);
}

/// Calls for help on the agent directly (the server is away): its answer.
fn get_json_post(agent: &RunningAgent) -> (u16, Value) {
    let (s, r) = http(
        agent.addr,
        "POST",
        "/api/v1/help",
        &[("Content-Type", "application/json")],
        br#"{"screen": "Help"}"#,
    );
    (s, serde_json::from_str(&r).unwrap_or(Value::String(r)))
}

#[test]
fn a_terminal_not_enrolled_gives_the_halls_phone_and_keeps_the_missed_call() {
    let agent = menpai_tests::start_agent(&demo_region(), "");
    let (st, answer) = get_json_post(&agent);
    assert_eq!(st, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"reached": false, "phone": HALL_PHONE}),
        "never a claim that staff were told"
    );
    let (_, health) = get_json(agent.addr, "/api/v1/health");
    assert_eq!(
        health["outbox_depth"], 1,
        "the missed call, for the statistics"
    );
    let (st, r) = http(
        agent.addr,
        "POST",
        "/api/v1/help",
        &[("Content-Type", "application/json")],
        format!("{{\"screen\": \"{}\"}}", "屏".repeat(65)).as_bytes(),
    );
    assert_eq!(st, 400, "{r}");
    let (_, health) = get_json(agent.addr, "/api/v1/health");
    assert_eq!(health["outbox_depth"], 1, "nothing kept of a refused call");
}
