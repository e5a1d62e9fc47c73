//! The kiosk for real: the Bevy app under Xvfb with software Vulkan, fed by a real agent.
//! Every screen in portrait and landscape is compared with its reference image, and its buttons
//! with what the screen must offer; a touch flow is clicked through with xdotool.
//!
//! `MENPAI_UPDATE_REFERENCES=1 cargo test -p menpai-tests --test kiosk` rewrites the references
//! (look at them before committing).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use image::RgbImage;
use menpai_tests::screen::Screen;
use menpai_tests::{binary, copy_dir, demo_region, get_json, start_agent, workspace, xvfb_run};

/// A fixed time (a Monday morning) so clocks and open-now badges never change the pictures.
const NOW: &str = "2026-11-23T10:00";

const TOUR: &str = "shot:attract;start;shot:home;go:browse;shot:browse;category:住房;shot:items;\
    item:P43;shot:guide;scroll:1500;shot:guide-more;scroll:9000;shot:guide-end;picture;shot:guide-picture;picture:close;checklist;situation:s1;shot:checklist;map;shot:map;go:search;key:gjj;shot:search;go:ask;shot:ask;\
    go:outlets;shot:outlets;go:help;shot:help;go:assist;shot:assist;go:rating;rate:2;shot:rating;go:phone;shot:phone;\
    go:queue;shot:queue;ticket:E;shot:ticket;go:checkin;shot:checkin;scan:{token};shot:checkedin;\
    scan:{token};shot:checkin-refused;scan:{forged};shot:checkin-forged;scan:{expired};\
    shot:checkin-expired;scan:{other};shot:checkin-other-hall;quit";

/// What each screen must offer, as button actions (a substring of each).
const EXPECTED_BUTTONS: &[(&str, &[&str])] = &[
    ("attract", &["Start"]),
    (
        "home",
        &[
            "Go(Search)",
            "BrowseAudience(Personal)",
            "BrowseAudience(Legal)",
            "Go(Map)",
            "Go(Outlets)",
            "Go(Help)",
            "Go(Rating)",
            "Go(Phone)",
            "Go(Queue)",
            "Go(CheckIn)",
            "OpenItem(",
            "Home",
            "ToggleElder",
        ],
    ),
    (
        "browse",
        &["BrowseKind(Topic)", "OpenCategory(Topic, \"住房\")", "Back"],
    ),
    ("items", &["OpenItem(\"P43\")", "OpenItem(\"P44\")"]),
    (
        "guide",
        &[
            "OpenChecklist",
            "ShowWindowsOnMap",
            "ShowPicture(Some(",
            "Back",
            "Home",
        ],
    ),
    ("guide-more", &["ShowPicture(Some(", "OpenChecklist"]),
    ("guide-end", &["Back", "Home"]),
    ("guide-picture", &["ShowPicture(None)"]),
    (
        "checklist",
        &[
            "ToggleSituation(\"s1\")",
            "ToggleSituation(\"s2\")",
            "PrintChecklist",
        ],
    ),
    ("map", &["Back", "Home"]),
    (
        "search",
        &[
            "Key('q')",
            "Key('m')",
            "Backspace",
            "ClearQuery",
            "OpenItem(\"P43\")",
        ],
    ),
    (
        "ask",
        &[
            "Input(Handwriting)",
            "Input(Pinyin)",
            "Key('q')",
            "ClearQuery",
        ],
    ),
    ("outlets", &["Back", "Home"]),
    (
        "help",
        &["CallStaff", "FaqCategory(", "Go(Assist)", "Go(Ask)"],
    ),
    (
        "assist",
        &[
            "Assist(Kind(",
            "Assist(Digit('0'))",
            "Assist(Digit('9'))",
            "Assist(Time(",
        ],
    ),
    (
        "rating",
        &["Rate(5)", "Rate(1)", "RateReason(", "SubmitRating"],
    ),
    ("phone", &["Back", "Home"]),
    (
        "queue",
        &["TakeTicket(\"E\")", "TakeTicket(\"A\")", "Go(CheckIn)"],
    ),
    ("ticket", &["Back", "Home"]),
    ("checkin", &["Go(Queue)", "Home"]),
    ("checkedin", &["Home"]),
    ("checkin-refused", &["Go(Queue)"]),
    ("checkin-forged", &["Go(Queue)"]),
    ("checkin-expired", &["Go(Queue)"]),
    ("checkin-other-hall", &["Go(Queue)"]),
];

/// Appointment codes: one good at [`NOW`], and a forged, an expired and another hall's one.
struct Tokens {
    good: String,
    forged: String,
    expired: String,
    other: String,
}

/// An agent that knows the appointment key, with a few tickets taken and one called, and a
/// token for an appointment at [`NOW`].
fn queue_agent() -> (menpai_tests::RunningAgent, Tokens) {
    use menpai_model::appointment::{AppointmentClaims, generate, public_b64, sign};
    let key = generate();
    let agent = start_agent(
        &demo_region(),
        &format!(
            "[queue]\nappointment_public_key = \"{}\"\n",
            public_b64(&key)
        ),
    );
    let json = [("Content-Type", "application/json")];
    for prefix in ["E", "E", "A", "D"] {
        let body = format!("{{\"prefix\":\"{prefix}\"}}");
        let path = format!("/api/v1/queue/tickets?at={NOW}");
        let (s, r) = menpai_tests::http(agent.addr, "POST", &path, &json, body.as_bytes());
        assert_eq!(s, 201, "{r}");
    }
    let path = format!("/api/v1/sim/queue/call?at={NOW}");
    let (s, r) = menpai_tests::http(agent.addr, "POST", &path, &json, b"{\"window\": 1}");
    assert!(s == 200 || s == 404, "{r}");
    let (_, view) = get_json(agent.addr, &format!("/api/v1/queue?at={NOW}"));
    let a_window = view["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["prefix"] == "A")
        .and_then(|b| b["windows"][0].as_u64())
        .unwrap();
    let body = format!("{{\"window\": {a_window}}}");
    let (s, r) = menpai_tests::http(agent.addr, "POST", &path, &json, body.as_bytes());
    assert_eq!(s, 200, "{r}");
    let claims = |id: &str, hall: &str, start: &str, end: &str| AppointmentClaims {
        id: id.into(),
        hall: hall.into(),
        item: "P43".into(),
        item_name: "住房公积金购房提取".into(),
        prefix: "E".into(),
        date: "2026-11-23".into(),
        start: start.into(),
        end: end.into(),
        holder: "张*明".into(),
    };
    let tokens = Tokens {
        good: sign(&claims("ap-tour", "hall-futian", "10:00", "10:30"), &key),
        forged: sign(
            &claims("ap-forged", "hall-futian", "10:00", "10:30"),
            &generate(),
        ),
        expired: sign(&claims("ap-late", "hall-futian", "08:00", "08:30"), &key),
        other: sign(&claims("ap-civic", "hall-civic", "10:00", "10:30"), &key),
    };
    (agent, tokens)
}

/// Averages 4×4 blocks: small shifts of anti-aliasing do not count, layout changes do.
fn quarter(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width() / 4, img.height() / 4);
    RgbImage::from_fn(w, h, |x, y| {
        let mut sum = [0u32; 3];
        for dy in 0..4 {
            for dx in 0..4 {
                let p = img.get_pixel(x * 4 + dx, y * 4 + dy).0;
                for c in 0..3 {
                    sum[c] += u32::from(p[c]);
                }
            }
        }
        image::Rgb(sum.map(|s| (s / 16) as u8))
    })
}

/// Share of pixels where some channel differs by more than 24 levels.
fn difference(a: &RgbImage, b: &RgbImage) -> f64 {
    if a.dimensions() != b.dimensions() {
        return 1.0;
    }
    let differing = a
        .pixels()
        .zip(b.pixels())
        .filter(|(p, q)| p.0.iter().zip(q.0).any(|(x, y)| x.abs_diff(y) > 24))
        .count();
    differing as f64 / (a.width() * a.height()) as f64
}

/// Compares a screenshot with its reference (or rewrites the reference when asked); says what
/// differs.
fn compare_with_reference(orientation: &str, name: &str, img: &RgbImage) -> Option<String> {
    let references = workspace()
        .join("kiosk-ui/tests/reference")
        .join(orientation);
    let small = quarter(img);
    let reference = references.join(format!("{name}.png"));
    if std::env::var_os("MENPAI_UPDATE_REFERENCES").is_some() {
        std::fs::create_dir_all(&references).unwrap();
        small.save(&reference).unwrap();
        return None;
    }
    match image::open(&reference) {
        Ok(r) => {
            let d = difference(&small, &r.to_rgb8());
            (d > 0.01).then(|| {
                let kept = std::env::temp_dir().join(format!("menpai-{orientation}-{name}.png"));
                let _ = img.save(&kept);
                format!(
                    "{name}: {:.1}% of the picture differs (saved {})",
                    d * 100.0,
                    kept.display()
                )
            })
        }
        Err(e) => Some(format!("{name}: no reference image ({e})")),
    }
}

fn tour(orientation: &str, width: u32, height: u32) {
    let (agent, t) = queue_agent();
    let shots = tempfile::tempdir().unwrap();
    let script = TOUR
        .replace("{token}", &t.good)
        .replace("{forged}", &t.forged)
        .replace("{expired}", &t.expired)
        .replace("{other}", &t.other);
    let out = xvfb_run(width, height)
        .arg(binary("menpai-kiosk"))
        .args([
            "--agent",
            &format!("http://{}", agent.addr),
            "--now",
            NOW,
            "--script",
            &script,
            "--shots",
        ])
        .arg(shots.path())
        .args(if orientation == "landscape" {
            vec!["--landscape"]
        } else {
            vec![]
        })
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the kiosk failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut failures = Vec::new();
    for (name, buttons) in EXPECTED_BUTTONS {
        let shot = shots.path().join(format!("{name}.png"));
        let img = image::open(&shot)
            .unwrap_or_else(|e| panic!("{name}: no screenshot ({e})"))
            .to_rgb8();
        assert_eq!(img.dimensions(), (width, height), "{name}");
        failures.extend(compare_with_reference(orientation, name, &img));
        let table =
            std::fs::read_to_string(shots.path().join(format!("{name}.buttons.tsv"))).unwrap();
        for expected in *buttons {
            let row = table
                .lines()
                .find(|l| l.split('\t').next().is_some_and(|a| a.contains(expected)));
            match row {
                None => failures.push(format!("{name}: no button {expected}")),
                Some(row) => {
                    // On screen, not pushed outside the window.
                    let n: Vec<f32> = row
                        .split('\t')
                        .skip(1)
                        .map(|v| v.parse().unwrap())
                        .collect();
                    if n[0] < -1.0 || n[0] + n[2] > width as f32 + 1.0 {
                        failures.push(format!("{name}: {expected} lies outside the screen: {row}"));
                    }
                }
            }
        }
    }
    // Every QR code on a screen is a short link to exactly its phone page, on screen without
    // scrolling in both orientations.
    let phone = "https://m.menpai.example.cn";
    let qr_screens = 4;
    for (name, expected) in [
        ("phone", vec![format!("{phone}/h/hall-futian")]),
        (
            "checklist",
            vec![format!("{phone}/c/P43?s=s1&h=hall-futian")],
        ),
        ("outlets", vec![format!("{phone}/o/hall-futian")]),
        ("ticket", vec![format!("{phone}/t/hall-futian/")]),
    ]
    .into_iter()
    .take(qr_screens)
    {
        let found = menpai_drivers::qr::decode_file(&shots.path().join(format!("{name}.png")))
            .unwrap_or_default();
        for e in expected {
            if !found.iter().any(|f| f.starts_with(&e)) {
                failures.push(format!("{name}: no QR code for {e} among {found:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{orientation}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_screen_in_portrait_matches_its_reference() {
    tour("portrait", 1080, 1920);
}

#[test]
fn every_screen_in_landscape_matches_its_reference() {
    tour("landscape", 1920, 1080);
}

/// A hall closure notice shows on the home screen as a banner while it lasts, and is gone
/// after it expires (the agent's clock and the kiosk's are the same injected time).
fn notice_banner(orientation: &str, width: u32, height: u32) {
    let pack = tempfile::tempdir().unwrap();
    copy_dir(&demo_region(), pack.path());
    std::fs::write(
        pack.path().join("notices.json"),
        r#"[{"id": "n-closure", "kind": "闭厅通知", "outlet": "hall-futian",
             "title": "11月28日（周六）闭厅", "text": "因系统升级，本周六不对外办公，急办业务请到市民中心。",
             "expires_at": "2026-11-23T12:00:00"}]"#,
    )
    .unwrap();
    let agent = start_agent(pack.path(), "");
    let mut failures = Vec::new();
    for (now, name) in [(NOW, "home-notice"), ("2026-11-23T12:00", "home-expired")] {
        let shots = tempfile::tempdir().unwrap();
        let out = xvfb_run(width, height)
            .arg(binary("menpai-kiosk"))
            .args(["--agent", &format!("http://{}", agent.addr), "--now", now])
            .args(["--script", "start;shot:home;quit", "--shots"])
            .arg(shots.path())
            .args(if orientation == "landscape" {
                vec!["--landscape"]
            } else {
                vec![]
            })
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the kiosk failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let img = image::open(shots.path().join("home.png"))
            .unwrap()
            .to_rgb8();
        failures.extend(compare_with_reference(orientation, name, &img));
    }
    assert!(
        failures.is_empty(),
        "{orientation}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn a_closure_notice_is_a_banner_on_home_until_it_expires_in_portrait() {
    notice_banner("portrait", 1080, 1920);
}

#[test]
fn a_closure_notice_is_a_banner_on_home_until_it_expires_in_landscape() {
    notice_banner("landscape", 1920, 1080);
}

/// Reads the kiosk's button table once the screen has all its data (no request to the agent in
/// flight, so nothing will move) and has stopped changing, and returns the centre of the first
/// button whose action contains `action`.
fn find_button(layout: &Path, action: &str) -> (i32, i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut previous = String::new();
    loop {
        let table = std::fs::read_to_string(layout).unwrap_or_default();
        let settled = table == previous && !table.contains("Busy(");
        previous = table.clone();
        if settled {
            for line in table.lines() {
                let cols: Vec<&str> = line.split('\t').collect();
                if cols[0].contains(action) {
                    let n: Vec<f32> = cols[1..].iter().map(|v| v.parse().unwrap()).collect();
                    if n[1] >= 0.0 && n[1] + n[3] / 2.0 < 1900.0 {
                        return ((n[0] + n[2] / 2.0) as i32, (n[1] + n[3] / 2.0) as i32);
                    }
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no button {action} appeared; the screen has:\n{table}\nthe kiosk logged:\n{}",
            std::fs::read_to_string(layout.with_extension("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(400));
    }
}

fn click(display: &str, (x, y): (i32, i32)) {
    let ok = Command::new("xdotool")
        .env("DISPLAY", display)
        .args(["mousemove", &x.to_string(), &y.to_string(), "click", "1"])
        .status()
        .unwrap()
        .success();
    assert!(ok, "xdotool failed");
    std::thread::sleep(Duration::from_millis(300));
}

/// Waits until the results on screen are exactly those the agent gives for `query` and returns
/// their item ids, best first.
fn await_results(agent: std::net::SocketAddr, layout: &Path, query: &str) -> Vec<String> {
    let (_, answer) = get_json(agent, &format!("/api/v1/search?limit=20&q={query}"));
    let expected: Vec<String> = answer["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!expected.is_empty(), "no results for {query}: {answer}");
    let mut wanted = expected.clone();
    wanted.sort();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let table = std::fs::read_to_string(layout).unwrap_or_default();
        let mut shown: Vec<&str> = table
            .lines()
            .filter(|l| l.starts_with("OpenItem("))
            .filter_map(|l| l.split('"').nth(1))
            .collect();
        shown.sort();
        if shown == wanted {
            return expected;
        }
        assert!(
            Instant::now() < deadline,
            "the results of {query} ({expected:?}) never appeared; the screen has:\n{table}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn kiosk_on_xvfb(agent: std::net::SocketAddr, layout: &Path, extra: &[&str]) -> Screen {
    Screen::start(agent, layout, None, extra)
}

#[test]
fn a_citizen_taps_from_home_to_a_printed_gjj_checklist() {
    let agent = start_agent(&demo_region(), "");
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout.tsv");
    let screen = kiosk_on_xvfb(agent.addr, &layout, &[]);
    let d = screen.display.name.clone();

    click(&d, find_button(&layout, "Start"));
    click(&d, find_button(&layout, "Go(Search)"));
    // Each key once the results of the letters before it are on screen (two taps within one
    // frame of a loaded machine would count as one). The first result of the whole "gjj" is a
    // 住房公积金 item (those of "g" and "gj" come first; a loaded machine shows them a while).
    let mut expected = Vec::new();
    for (key, query) in [("Key('g')", "g"), ("Key('j')", "gj"), ("Key('j')", "gjj")] {
        click(&d, find_button(&layout, key));
        expected = await_results(agent.addr, &layout, query);
    }
    let id = expected[0].clone();
    let (_, guide) = get_json(agent.addr, &format!("/api/v1/items/{id}"));
    let name = guide["item"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        name.contains("住房公积金") || name.contains("公积金"),
        "{name}"
    );
    click(&d, find_button(&layout, &format!("OpenItem(\"{id}\")")));
    click(&d, find_button(&layout, "OpenChecklist"));
    click(&d, find_button(&layout, "PrintChecklist"));

    // The simulated printer received the checklist.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, printed) = get_json(agent.addr, "/api/v1/sim/printer");
        let preview = printed["preview"].as_str().unwrap_or("").to_owned();
        if preview.contains("办事材料清单") && preview.contains(&name) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the printer never got the checklist:\n{preview}\nthe screen has:\n{}\nthe kiosk logged:\n{}",
            std::fs::read_to_string(&layout).unwrap_or_default(),
            std::fs::read_to_string(layout.with_extension("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_idle_kiosk_wipes_the_session_and_returns_to_the_attract_loop() {
    let agent = start_agent(&demo_region(), "");
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout.tsv");
    let screen = kiosk_on_xvfb(agent.addr, &layout, &["--idle", "3", "--countdown", "3"]);
    let d = screen.display.name.clone();
    click(&d, find_button(&layout, "Start"));
    click(&d, find_button(&layout, "Go(Search)"));
    click(&d, find_button(&layout, "Key('s')"));
    // The countdown appears, then the plate is back at its attract loop.
    find_button(&layout, "Continue");
    find_button(&layout, "Start");
    // A fresh session: the search box is empty again.
    click(&d, find_button(&layout, "Start"));
    click(&d, find_button(&layout, "Go(Search)"));
    // The search screen, drawn and settled (its keyboard is there).
    find_button(&layout, "ClearQuery");
    let table = std::fs::read_to_string(&layout).unwrap();
    assert!(
        !table.contains("OpenItem("),
        "the old search came back:\n{table}"
    );
}

#[test]
fn the_kiosk_says_plainly_when_the_agent_is_down_and_recovers_by_itself() {
    let agent = start_agent(&demo_region(), "");
    let addr = agent.addr;
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout.tsv");
    let screen = kiosk_on_xvfb(
        addr,
        &layout,
        &["--idle", "600", "--countdown", "30", "--windowed"],
    );
    let d = screen.display.name.clone();
    click(&d, find_button(&layout, "Start"));
    find_button(&layout, "OpenItem(");
    drop(agent);
    find_button(&layout, "Notice(终端服务暂时连不上");
    // The agent comes back on the same address (systemd restarts it): the notice goes, the
    // home screen fills again, without a touch.
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"{addr}\"\ndata_dir = {:?}\nseed_pack = {:?}\n",
            dir.path().join("data"),
            demo_region()
        ),
    )
    .unwrap();
    let mut again = std::process::Command::new(binary("menpai-agent"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let table = std::fs::read_to_string(&layout).unwrap_or_default();
        if !table.contains("Notice(") && table.contains("OpenItem(") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the kiosk did not recover:\n{table}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = again.kill();
    let _ = again.wait();
}
