//! 好差评 across processes: at the kiosk (Xvfb, tapped with xdotool) a citizen takes a ticket,
//! is called, served and finished at a window, then taps 评价本次服务 on the ticket screen and
//! rates it 非常不满意; the rating goes through the agent's outbox to the regional server tied to
//! the ticket, its window and business, and opens a case the operators see. In Chromium: a
//! phone rating becomes a case the hall manager works to closed in the console, the citizen
//! reads the reply on the ticket's page, and the console works at phone width.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use image::RgbImage;
use menpai_tests::regional::{ADMIN, STAFF, api, server, terminal};
use menpai_tests::screen::{Screen, settled_layout};
use menpai_tests::webdriver::{Driver, browser_login};
use menpai_tests::{demo_region, http, https, login, server_cli, workspace};
use serde_json::Value;

/// Terminals that sync on start, lease at once, and issue at any hour.
const TERMINAL: &str = "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\nmax_backoff_s = 1\n\
                        [queue]\nallow_outside_hours = true\ntickets_burst = 1000\n";

/// The kiosk on a display of its own whose screen is kept in a file we read.
struct Plate {
    screen: Screen,
    fbdir: tempfile::TempDir,
}

fn kiosk_on_xvfb(agent: std::net::SocketAddr, layout: &Path) -> Plate {
    let fbdir = tempfile::tempdir().unwrap();
    let screen = Screen::start(agent, layout, Some(fbdir.path()), &[]);
    Plate { screen, fbdir }
}

/// Waits for a button whose action contains `action`: its row and its centre.
fn find_button(layout: &Path, action: &str) -> (String, (i32, i32)) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let table = settled_layout(layout);
        for line in table.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols[0].contains(action) {
                let n: Vec<f32> = cols[1..].iter().map(|v| v.parse().unwrap()).collect();
                if n[1] >= 0.0 && n[1] + n[3] / 2.0 < 1900.0 {
                    let centre = ((n[0] + n[2] / 2.0) as i32, (n[1] + n[3] / 2.0) as i32);
                    return (cols[0].to_owned(), centre);
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

fn click(screen: &Plate, layout: &Path, action: &str) -> String {
    let (row, (x, y)) = find_button(layout, action);
    let ok = Command::new("xdotool")
        .env("DISPLAY", &screen.screen.display.name)
        .args(["mousemove", &x.to_string(), &y.to_string(), "click", "1"])
        .status()
        .unwrap()
        .success();
    assert!(ok, "xdotool failed");
    row
}

/// The screen once it has been redrawn (unlike `before`, when given) and holds still.
fn settled_screenshot(screen: &Plate, before: Option<&RgbImage>, to: &Path) -> RgbImage {
    menpai_tests::screen::settled_screenshot(screen.fbdir.path(), before, to)
}

#[test]
fn a_kiosk_rating_after_a_finished_ticket_reaches_the_server_tied_to_it_and_opens_a_case() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let staff = login(&s, STAFF.0, STAFF.1);
    let agent = terminal(&s, &admin, "entrance", None, TERMINAL);
    let shots = std::env::temp_dir().join(format!("menpai-cases-{}", std::process::id()));
    std::fs::create_dir_all(&shots).unwrap();

    // The citizen takes an E ticket at the plate.
    let layout = tmp.path().join("layout.tsv");
    let screen = kiosk_on_xvfb(agent.addr, &layout);
    click(&screen, &layout, "Start");
    click(&screen, &layout, "Go(Queue)");
    find_button(&layout, "TakeTicket(\"E\")");
    let queue_shot = settled_screenshot(&screen, None, &shots.join("queue.png"));
    click(&screen, &layout, "TakeTicket(\"E\")");
    let rate = find_button(&layout, "RateTicket").0;
    let number = rate
        .split("number: \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no number in {rate}"))
        .to_owned();
    let day = rate
        .split("day: \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    assert!(number.starts_with('E'), "{rate}");
    settled_screenshot(&screen, Some(&queue_shot), &shots.join("ticket-rate.png"));

    // Called, served and finished at a window of 福田.
    let (_, queue) = api(&s, &staff, "GET", "/api/v1/queue/hall-futian", "", b"");
    let window = queue["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["prefix"] == "E")
        .and_then(|b| b["windows"][0].as_u64())
        .unwrap_or_else(|| panic!("{queue}"));
    let business = queue["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["prefix"] == "E")
        .map(|b| b["name"].as_str().unwrap().to_owned())
        .unwrap();
    for action in ["call_next", "serve", "finish"] {
        let (st, r) = api(
            &s,
            &staff,
            "POST",
            &format!("/api/v1/queue/hall-futian/windows/{window}"),
            "application/json",
            format!("{{\"action\":\"{action}\"}}").as_bytes(),
        );
        assert_eq!(st, 200, "{action}: {r}");
    }

    // 评价本次服务 → 非常不满意, a reason, submitted.
    click(&screen, &layout, "RateTicket");
    click(&screen, &layout, "Rate(1)");
    find_button(&layout, "RateReason(\"态度不好\")");
    let level_shot = settled_screenshot(&screen, None, &shots.join("rating-level.png"));
    click(&screen, &layout, "RateReason(\"态度不好\")");
    settled_screenshot(&screen, Some(&level_shot), &shots.join("rating-ticket.png"));
    click(&screen, &layout, "SubmitRating");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&layout)
        .unwrap_or_default()
        .contains("SubmitRating")
    {
        assert!(Instant::now() < deadline, "the rating was never submitted");
        std::thread::sleep(Duration::from_millis(200));
    }
    settled_layout(&layout);
    settled_screenshot(&screen, None, &shots.join("rated.png"));

    // Through the outbox to the server: the case of this ticket, at its window and business.
    let deadline = Instant::now() + Duration::from_secs(60);
    let case = loop {
        let (st, list) = api(&s, &admin, "GET", "/api/v1/cases?show=all", "", b"");
        assert_eq!(st, 200, "{list}");
        let found = list["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["rating"]["ticket"]["number"] == number.as_str())
            .cloned();
        if let Some(c) = found {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "no case for {number} reached the server: {list}\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    println!("case {} for {day} {number}: {case}", case["id"]);
    let rating = &case["rating"];
    assert_eq!(rating["ticket"]["day"], day.as_str());
    assert_eq!(rating["window"], window);
    assert_eq!(rating["business"], business.as_str());
    assert_eq!(rating["hall"], "hall-futian");
    assert_eq!(rating["source"], "kiosk");
    assert_eq!(rating["reasons"], serde_json::json!(["态度不好"]));
    assert_eq!(case["level"], "非常不满意");
    assert_eq!(case["stage"], "open");
    assert!(case["deadline"].is_string(), "{case}");

    // The operators' page shows it, with the ticket, window and business.
    let cookie = format!("menpai_session={admin}");
    let (st, page) = https(
        &s.ca_pem(),
        s.public,
        "GET",
        &format!("/cases/{}", case["id"]),
        &[("cookie", &cookie)],
        b"",
    );
    assert_eq!(st, 200, "{page}");
    for shown in [
        number.as_str(),
        &format!("{window} 号窗口"),
        &business,
        "非常不满意",
        "门牌终端",
    ] {
        assert!(page.contains(shown), "{shown} not on the case page: {page}");
    }
    // A second rating of the same ticket (through the agent's API) opens no second case.
    let again = format!("{{\"level\":1,\"ticket\":{{\"day\":\"{day}\",\"number\":\"{number}\"}}}}");
    let (st, r) = http(
        agent.addr,
        "POST",
        "/api/v1/ratings",
        &[("Content-Type", "application/json")],
        again.as_bytes(),
    );
    assert_eq!(st, 200, "{r}");
    agent.wait_health(Duration::from_secs(60), |h| h["outbox_depth"] == 0);
    let (_, list) = api(&s, &admin, "GET", "/api/v1/cases?show=all", "", b"");
    let same: Vec<&Value> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rating"]["ticket"]["number"] == number.as_str())
        .collect();
    assert_eq!(same.len(), 1, "{list}");
    println!("screenshots in {}", shots.display());
}

/// A hall manager of 福田 (added from the server's command line while it runs).
const MANAGER: (&str, &str) = ("futian-manager", "manager-password-1");

/// Waits until the page at `css` holds `needle` (the page reloads itself on live notes).
fn page_shows(d: &Driver, css: &str, needle: &str) -> String {
    d.wait_text(css, needle, 30)
        .unwrap_or_else(|t| panic!("{needle} never showed in {css}: {t}"))
}

#[test]
fn in_chromium_a_phone_rating_becomes_a_case_worked_to_closed_and_the_citizen_reads_the_reply() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let (ok, out) = server_cli(
        tmp.path(),
        &[
            "add-operator",
            MANAGER.0,
            "hall_manager",
            "--halls",
            "hall-futian",
            "--display-name",
            "李经理",
        ],
        Some(MANAGER.1),
    );
    assert!(ok, "{out}");
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let staff = login(&s, STAFF.0, STAFF.1);
    let base = format!("https://{}", s.public);
    let agent = terminal(
        &s,
        &admin,
        "entrance",
        None,
        &format!("phone_base_url = \"{base}\"\n{TERMINAL}"),
    );
    let out = workspace().join("target/screenshots/cases");
    std::fs::create_dir_all(&out).unwrap();

    // A ticket taken, called, served and finished.
    let (st, ticket) = http(
        agent.addr,
        "POST",
        "/api/v1/queue/tickets",
        &[("Content-Type", "application/json")],
        b"{\"prefix\":\"E\"}",
    );
    assert_eq!(st, 201, "{ticket}");
    let ticket: Value = serde_json::from_str(&ticket).unwrap();
    let follow = ticket["follow_url"].as_str().unwrap().to_owned();
    assert!(
        follow.starts_with(&format!("{base}/t/hall-futian/")),
        "{follow}"
    );
    let w = ticket["windows"][0].as_u64().unwrap();
    for action in ["call_next", "serve", "finish"] {
        let (st, r) = api(
            &s,
            &staff,
            "POST",
            &format!("/api/v1/queue/hall-futian/windows/{w}"),
            "application/json",
            format!("{{\"action\":\"{action}\"}}").as_bytes(),
        );
        assert_eq!(st, 200, "{action}: {r}");
    }

    // On the phone (390 px): 非常不满意 with a reason and a comment.
    let phone = Driver::phone();
    let phone_shot =
        |name: &str| std::fs::write(out.join(format!("{name}.png")), phone.screenshot()).unwrap();
    phone.go(&follow);
    page_shows(&phone, "#headline", "已办结");
    phone.click("input[name=stars][value='1']");
    phone.click("input[name=reason][value='态度不好']");
    phone.type_into("textarea[name=comment]", "窗口人员一直在看手机");
    phone_shot("phone-rating");
    phone.click("#send");
    page_shows(&phone, "#rated", "非常不满意");
    assert!(phone.text("#reply-pending").contains("15 个工作日"));

    // The hall manager's list (desktop) has it, opens it and replies from the page.
    let d = Driver::start();
    let shot =
        |name: &str| std::fs::write(out.join(format!("{name}.png")), d.screenshot()).unwrap();
    browser_login(&d, &base, MANAGER);
    d.go(&format!("{base}/cases"));
    let list = page_shows(&d, "#cases", "非常不满意");
    assert!(list.contains("待回复") && list.contains("李经理"), "{list}");
    shot("cases-list");
    d.click("#cases a");
    let rating = page_shows(&d, "#rating", "窗口人员一直在看手机");
    assert!(
        rating.contains("态度不好") && rating.contains(&format!("{w} 号窗口")),
        "{rating}"
    );
    let reply = "您好，我们已约谈当班人员，窗口工作时间不再使用手机。感谢您的监督。";
    d.type_into("#text", reply);
    shot("case-reply");
    d.click("#submit");
    page_shows(&d, "#step-reply", reply);
    d.type_into("#text", "当班人员已批评教育，大厅每日巡查窗口纪律。");
    d.click("#submit");
    page_shows(&d, "#stage", "待核查");
    // The one who rectified cannot verify: the page says so and keeps the case as it was.
    d.type_into("#text", "已核查");
    d.click("#submit");
    page_shows(&d, "#error", "核查须由另一位工作人员完成");
    assert_eq!(d.text("#stage"), "待核查");
    shot("case-verify-refused");

    // The citizen reads the reply on the ticket's page.
    phone.go(&follow);
    page_shows(&phone, "#reply", reply);
    phone_shot("phone-reply");

    // An admin verifies (a second person); the manager closes after the follow-up call.
    let (st, r) = api(&s, &admin, "GET", "/api/v1/cases?show=open", "", b"");
    assert_eq!(st, 200, "{r}");
    let id = r["cases"][0]["id"].as_i64().unwrap();
    let (st, r) = api(
        &s,
        &admin,
        "POST",
        &format!("/api/v1/cases/{id}/steps"),
        "application/json",
        "{\"step\":\"verify\",\"text\":\"现场抽查三次，窗口纪律良好\"}".as_bytes(),
    );
    assert_eq!(st, 200, "{r}");
    // The manager's open page follows the change live.
    page_shows(&d, "#stage", "待回访");
    d.type_into("#text", "电话回访，市民表示满意");
    d.click("#submit");
    page_shows(&d, "#closed", "案件已办结");
    shot("case-closed");

    // The console works at phone width: no sideways scrolling.
    let narrow = Driver::phone();
    browser_login(&narrow, &base, MANAGER);
    narrow.go(&format!("{base}/cases/{id}"));
    page_shows(&narrow, "#closed", "案件已办结");
    assert_eq!(
        narrow.script("return document.documentElement.scrollWidth <= window.innerWidth"),
        true
    );
    std::fs::write(out.join("case-phone-width.png"), narrow.screenshot()).unwrap();
    narrow.go(&format!("{base}/cases/ranking"));
    page_shows(&narrow, "#ranking", &format!("{w} 号窗口"));
    std::fs::write(out.join("ranking-phone-width.png"), narrow.screenshot()).unwrap();
    println!("screenshots in {}", out.display());
}
