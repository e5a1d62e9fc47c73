//! One hall's queue for real: the regional server as its authority and enrolled terminals on
//! loopback. Terminals take tickets at once (unique, gapless numbers); a terminal cut off
//! issues from its leased block and reconciles; window staff call from the staff page in
//! headless Chromium and the call reaches the kiosk, the LED bar and the voice.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use menpai_tests::proxy::Proxy;
use menpai_tests::regional::{ADMIN, STAFF, api, server, terminal};
use menpai_tests::webdriver::{Driver, browser_login};
use menpai_tests::{
    RunningAgent, RunningServer, demo_region, get_json, http, login, printed, spawn_kiosk,
    workspace,
};
use serde_json::{Value, json};

/// Terminals that sync on start, lease at once, and issue at any hour.
const TERMINAL: &str = "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\nmax_backoff_s = 1\n\
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

/// The ticket at a window and who waits there, as staff see it.
fn window(s: &RunningServer, staff: &str, n: u64) -> Value {
    let (st, v) = api(
        s,
        staff,
        "GET",
        &format!("/api/v1/queue/hall-futian/windows/{n}"),
        "",
        b"",
    );
    assert_eq!(st, 200, "{v}");
    v
}

#[test]
fn terminals_take_gapless_numbers_at_once_and_a_cut_off_terminal_reconciles_without_collision() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "queue_lease_block = 20\n", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let staff = login(&s, STAFF.0, STAFF.1);
    let proxy = Proxy::start(s.devices);
    let terminals = [
        terminal(&s, &admin, "entrance", None, TERMINAL),
        terminal(&s, &admin, "floor2", None, TERMINAL),
        terminal(&s, &admin, "lobby", Some(proxy.addr), TERMINAL),
    ];

    // Three terminals, ten tickets each, all at once: E001–E030, each once, none offline.
    let numbers: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = terminals
            .iter()
            .map(|t| scope.spawn(move || (0..10).map(|_| take(t, "E")).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let got: BTreeSet<String> = numbers
        .iter()
        .map(|t| t["number"].as_str().unwrap().to_owned())
        .collect();
    let want: BTreeSet<String> = (1..=30).map(|n| format!("E{n:03}")).collect();
    assert_eq!(got, want, "unique and gapless");
    assert!(
        numbers
            .iter()
            .all(|t| t["offline"] == false && t["printed"] == true)
    );

    // The lobby terminal's line is cut: it issues from its leased block, and prints.
    proxy.sever(true);
    let offline: Vec<Value> = (0..3).map(|_| take(&terminals[2], "E")).collect();
    for t in &offline {
        assert_eq!(t["offline"], true, "{t}");
        let seq: u32 = t["number"].as_str().unwrap()[1..].parse().unwrap();
        assert!(seq > 900, "from the top of the day's numbers: {t}");
    }
    let first_offline = offline[0]["number"].as_str().unwrap().to_owned();
    // The slip, read back by the ESC/POS decoder: number, business in Chinese, the QR's link.
    let follow = offline[0]["follow_url"].as_str().unwrap();
    assert!(
        follow.contains(&format!("/{first_offline}?k=")),
        "the link carries the ticket's secret: {follow}"
    );
    let slip = printed(terminals[2].addr, &format!("[QR {follow}]"));
    assert!(
        slip.contains(&first_offline) && slip.contains("公积金"),
        "{slip}"
    );
    assert!(slip.contains(&format!("[QR {follow}]")), "{slip}");
    // Meanwhile the entrance terminal goes on online.
    let online_after = take(&terminals[0], "E");
    assert_eq!(online_after["number"], "E031");

    // The line is mended: the offline tickets reach the server, in the order they were taken.
    proxy.sever(false);
    let e_window = numbers[0]["windows"][0].as_u64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let waiting = loop {
        let w = window(&s, &staff, e_window);
        let list: Vec<String> = w["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].as_str().unwrap().to_owned())
            .collect();
        if offline
            .iter()
            .all(|t| list.contains(&t["number"].as_str().unwrap().to_owned()))
        {
            break w["waiting"].as_array().unwrap().clone();
        }
        assert!(
            Instant::now() < deadline,
            "offline tickets never arrived: {list:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let order: Vec<&str> = waiting
        .iter()
        .map(|t| t["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        order.len(),
        34,
        "30 + 3 offline + 1, no collision: {order:?}"
    );
    assert_eq!(order.iter().collect::<BTreeSet<_>>().len(), 34, "{order:?}");
    let pos = |n: &str| order.iter().position(|x| *x == n).unwrap();
    assert!(
        pos(&first_offline) < pos("E031"),
        "taken before E031, called before it: {order:?}"
    );
    assert!(waiting.iter().filter(|t| t["offline"] == true).count() == 3);
    println!("staff see, in order: {order:?}");

    // Windows call them through the server: the first ticket taken is called first.
    let (st, r) = api(
        &s,
        &staff,
        "POST",
        &format!("/api/v1/queue/hall-futian/windows/{e_window}"),
        "application/json",
        br#"{"action":"call_next"}"#,
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["ticket"]["state"], "called");
    assert_eq!(r["ticket"]["number"], order[0]);

    // A citizen books on the phone API; names and phones are sealed in the server's database.
    let (date, start) = menpai_tests::regional::first_slot(&s, "P43");
    let book = serde_json::json!({"hall": "hall-futian", "item": "P43", "date": date, "start": start,
                                   "name": "张小明", "phone": "13812345678"});
    let booked = menpai_tests::regional::book(&s, &book);
    assert_eq!(
        (booked["holder"].as_str(), booked["phone"].as_str()),
        (Some("张*明"), Some("138****5678"))
    );
    let at_rest = menpai_tests::server_db::at_rest(&s.dir);
    assert!(
        !at_rest.windows(11).any(|w| w == b"13812345678"),
        "a phone number in the clear at rest"
    );
    assert!(
        !at_rest.windows(9).any(|w| w == "张小明".as_bytes()),
        "a name in the clear at rest"
    );

    // Scanned at the entrance terminal (at its slot time): a priority ticket, printed with the
    // masked name; the same code at another terminal is refused by the server.
    let token = booked["token"].as_str().unwrap();
    let at = format!("{date}T{start}");
    let check_in = |t: &RunningAgent| {
        let body = format!("{{\"token\":\"{token}\"}}");
        http(
            t.addr,
            "POST",
            &format!("/api/v1/appointments/check-in?at={at}"),
            &JSON,
            body.as_bytes(),
        )
    };
    let (st, r) = check_in(&terminals[0]);
    assert_eq!(st, 200, "{r}");
    let r: Value = serde_json::from_str(&r).unwrap();
    assert_eq!(r["ticket"]["priority"], "appointment");
    assert_eq!(r["ticket"]["offline"], false);
    let number = r["ticket"]["number"].as_str().unwrap().to_owned();
    let slip = printed(terminals[0].addr, "预约优先 张*明");
    assert!(
        slip.contains(&number) && slip.contains("预约优先 张*明"),
        "{slip}"
    );
    let (st, r) = check_in(&terminals[1]);
    assert_eq!(st, 409, "{r}");
    assert!(r.contains("已经签到") && r.contains(&number), "{r}");
    drop(terminals);
}

fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Polls `probe` every 5 ms until it gives a time (epoch ms), for at most 20 s.
fn when(mut probe: impl FnMut() -> Option<u64>) -> Option<u64> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(t) = probe() {
            return Some(t);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

#[test]
fn a_call_from_the_staff_page_in_chromium_reaches_the_kiosk_the_led_bar_and_the_voice() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let agent = terminal(&s, &admin, "entrance", None, TERMINAL);
    let ticket = take(&agent, "E");
    assert_eq!(ticket["number"], "E001");
    let w = ticket["windows"][0].as_u64().unwrap();

    // The kiosk on its own display, on the queue panel, waiting for a call to photograph.
    let shots = tmp.path().join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let (mut kiosk, lines_rx) = spawn_kiosk(
        agent.addr,
        &shots,
        "go:queue;wait:10;await:call;wait:20;shot:called;quit",
        &tmp.path().join("kiosk.log"),
    );
    std::thread::sleep(Duration::from_secs(2));

    // Window staff log in and open their window.
    let d = Driver::start();
    let base = format!("https://{}", s.public);
    // Waits until the login page is left (a loaded machine answers the login slowly).
    browser_login(&d, &base, STAFF);
    let url = d.url();
    assert!(
        url.ends_with("/staff"),
        "queue staff land on the staff page: {url}"
    );
    d.go(&format!("{base}/staff?hall=hall-futian&window={w}"));
    let page = d.script("return document.body.innerText").to_string();
    assert!(
        page.contains(&format!("{w} 号窗口")) && page.contains("E001"),
        "{page}"
    );

    // 叫下一位 once the kiosk's script waits for a call (a loaded machine's kiosk may take long
    // to get there, and a call it has not waited for is not photographed): the clock starts at
    // the click.
    while !lines_rx
        .recv_timeout(Duration::from_secs(180))
        .expect("the kiosk's script never came to wait for a call")
        .contains("script awaits a call")
    {}
    let call = d.element("#call-next");
    let clicked = epoch_ms();
    d.session("POST", &format!("/element/{call}/click"), json!({}));
    let wanted = format!("请E001号到{w}号窗口");
    let led_at = when(|| {
        let (_, led) = get_json(agent.addr, "/api/v1/sim/led");
        led.to_string().contains(&wanted).then(epoch_ms)
    })
    .expect("the LED bar never showed the call");
    let voice = when(|| {
        let (_, v) = get_json(agent.addr, "/api/v1/sim/voice");
        v["said"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|x| x["text"] == format!("{wanted}办理").as_str())
                    .cloned()
            })
            .and_then(|x| x["written_ms"].as_u64())
    })
    .expect("the voice never said the call");
    let kiosk_at = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the kiosk never showed the call");
        if let Some(rest) =
            line.strip_prefix(&format!("menpai-kiosk: call shown E001 window {w} at "))
        {
            break rest.trim().parse::<u64>().unwrap();
        }
    };
    let (led_ms, voice_ms, kiosk_ms) = (
        led_at - clicked,
        voice.saturating_sub(clicked),
        kiosk_at.saturating_sub(clicked),
    );
    println!(
        "call latency from the click: LED bar {led_ms} ms, voice WAV written {voice_ms} ms, kiosk banner {kiosk_ms} ms"
    );
    for (what, ms) in [("LED", led_ms), ("voice", voice_ms), ("kiosk", kiosk_ms)] {
        assert!(ms < 5_000, "{what} took {ms} ms");
    }

    // The staff page shows the called ticket; the voice said it in Mandarin pinyin.
    let now = d.script("return document.getElementById('current').innerText");
    assert_eq!(now, "E001");
    let (_, v) = get_json(agent.addr, "/api/v1/sim/voice");
    let said = &v["said"][0];
    assert!(
        said["pinyin"]
            .as_str()
            .unwrap()
            .starts_with("qing3 yi4 ling2 ling2 yi1 hao4"),
        "{said}"
    );
    assert!(said["seconds"].as_f64().unwrap() > 1.0, "{said}");

    // The kiosk's picture has the call band across its foot: amber, as the theme's highlight.
    let status = menpai_tests::wait_exit(&mut kiosk, Duration::from_secs(180))
        .expect("the kiosk's script never ended");
    assert!(
        status.success(),
        "kiosk: {}",
        std::fs::read_to_string(tmp.path().join("kiosk.log")).unwrap_or_default()
    );
    let png = shots.join("called.png");
    let img = image::open(&png).unwrap().to_rgb8();
    let band = img.get_pixel(30, img.height() - 20);
    assert_eq!(
        (band[0] > 240, band[1] > 180 && band[1] < 210, band[2] < 30),
        (true, true, true),
        "{band:?}"
    );
    let out = workspace().join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::copy(&png, out.join("kiosk-called.png")).unwrap();
    let shot = d.session("GET", "/screenshot", Value::Null);
    let bytes = menpai_tests::webdriver::decode_b64(shot.as_str().unwrap());
    std::fs::write(out.join("staff-page.png"), bytes).unwrap();
}
