//! The phone pages in headless Chromium at a phone's viewport (390×844, WeChat's user agent):
//! the hall's plate, search, a guide, a checklist, outlets; then a booking end to end: booked on
//! the phone page → its QR code scanned at a terminal (scanner twin) → a priority ticket printed
//! and shown on the kiosk → the kiosk's QR code, decoded from its screenshot, opens the ticket
//! page, which follows the calls of window staff without reloading, and takes a rating.
//! Screenshots land in `target/screenshots/phone/`.

use std::time::Duration;

use menpai_tests::regional::{ADMIN, STAFF, api, server, terminal};
use menpai_tests::webdriver::Driver;
use menpai_tests::{demo_region, http, login, printed, spawn_kiosk, workspace};

/// A terminal that syncs on start and may check in appointments booked up to three weeks ahead
/// (the test books the first free slot, whenever that is).
const TERMINAL: &str = "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\nmax_backoff_s = 1\n\
                        [queue]\nallow_outside_hours = true\ncheckin_early_min = 30000\n";

const ENTER: &str = "\u{E007}";

fn decode(png: &[u8], dir: &std::path::Path, name: &str) -> Vec<String> {
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    menpai_drivers::qr::decode_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn a_citizen_browses_books_checks_in_at_the_terminal_and_follows_the_ticket_on_the_phone() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
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
    let out = workspace().join("target/screenshots/phone");
    std::fs::create_dir_all(&out).unwrap();
    let d = Driver::phone();
    let shot =
        |name: &str| std::fs::write(out.join(format!("{name}.png")), d.screenshot()).unwrap();

    // The hall's plate, as the plate's QR code opens it: a phone's width, nothing wider.
    d.go(&format!("{base}/h/hall-futian"));
    assert_eq!(d.text("#hall"), "福田区政务服务中心");
    assert!(d.text("#items").contains("居民身份证补领"));
    let width = d.script("return [window.innerWidth, document.documentElement.scrollWidth]");
    assert_eq!(width[0], 390, "{width}");
    assert!(
        width[1].as_u64().unwrap() <= 390,
        "sideways scrolling: {width}"
    );
    shot("hall");

    // Search as a phone types it: pinyin initials, then the keyboard's Enter.
    d.type_into("input[name=q]", &format!("sb{ENTER}"));
    d.wait_text("#items", "个人社保参保证明打印", 10)
        .unwrap_or_else(|t| panic!("search by initials: {t}"));
    shot("search");

    // A guide, then my checklist chosen on the page itself (no script needed).
    d.go(&format!("{base}/i/P08?h=hall-futian"));
    assert_eq!(d.text("#item"), "普通护照签发");
    assert!(d.text("#where").contains("福田区政务服务中心"));
    shot("guide");
    d.click("#mylist");
    d.click("input[value=s2]");
    d.click("#situations button");
    d.wait_text("#materials", "原护照", 10)
        .unwrap_or_else(|t| panic!("the checklist: {t}"));
    assert!(
        d.url().ends_with("/c/P08?s=s2&h=hall-futian"),
        "{}",
        d.url()
    );
    assert!(!d.text("#materials").contains("所在单位出具的同意出境意见"));
    shot("checklist");

    // Outlets near me: the script offers the phone's location; the list starts at the hall.
    d.go(&format!("{base}/o?h=hall-futian"));
    assert!(d.text(".outlet").contains("福田区政务服务中心"));
    assert_eq!(
        d.script("return document.getElementById('locate').hidden"),
        false,
        "the location button shows once the page's script runs"
    );
    shot("outlets");
    d.go(&format!("{base}/o/hall-civic"));
    assert!(d.text("#hours").contains("周一"));
    shot("outlet");

    // A link to something the content no longer has: a friendly page and the way back.
    d.go(&format!("{base}/i/NOPE?h=hall-futian"));
    assert_eq!(d.text("h1"), "没有找到这个事项");
    assert!(d.text(".card").contains("重新扫描门牌上的二维码"));
    shot("not-found");

    // Booking on the phone: the item, a slot, name and phone; the confirmation's address has
    // neither name nor phone.
    d.go(&format!("{base}/book/hall-futian"));
    assert!(d.text("#items").contains("住房公积金购房提取"));
    d.go(&format!("{base}/book/hall-futian/P43"));
    d.click("input[name=slot]");
    d.type_into("#name", "张小明");
    d.type_into("#phone", "13812345678");
    shot("book");
    d.click("#book");
    // The code texted to the phone proves it is the booker's.
    d.wait_text("#sent", "138****5678", 15)
        .unwrap_or_else(|t| panic!("the code page: {t}"));
    // (Not "138" alone: the random id may hold it.)
    let no_phone = |url: &str| !url.contains("13812345678") && !url.contains("****");
    assert!(no_phone(&d.url()), "{}", d.url());
    shot("code");
    d.type_into("#code", &menpai_tests::regional::sms_code(&s));
    d.click("#confirm");
    d.wait_text("h1", "预约成功", 15)
        .unwrap_or_else(|t| panic!("booking: {t}"));
    let url = d.url();
    assert!(url.contains("/a/ap-") && no_phone(&url), "{url}");
    assert!(d.text(".card").contains("138****5678"));
    shot("booked");
    let token = decode(&d.element_screenshot("#qr svg"), tmp.path(), "booking-qr");
    assert!(token[0].starts_with("MPY1."), "{token:?}");

    // The kiosk at the entrance; the citizen scans the booking's code at its scanner.
    let shots = tmp.path().join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let (mut kiosk, _lines) = spawn_kiosk(
        agent.addr,
        &shots,
        "wait:10;await:checkin;wait:20;shot:checkin;quit",
        &tmp.path().join("kiosk.log"),
    );
    std::thread::sleep(Duration::from_secs(2));
    let scan = serde_json::json!({ "payload": token[0] }).to_string();
    let (st, r) = http(
        agent.addr,
        "POST",
        "/api/v1/sim/scanner",
        &[("Content-Type", "application/json")],
        scan.as_bytes(),
    );
    assert!(st < 300, "{st} {r}");
    let status = kiosk.wait().unwrap();
    assert!(
        status.success(),
        "kiosk: {}",
        std::fs::read_to_string(tmp.path().join("kiosk.log")).unwrap_or_default()
    );
    std::fs::copy(shots.join("checkin.png"), out.join("kiosk-checkin.png")).unwrap();

    // The kiosk's QR code, read from its screenshot, is the ticket's page; the slip says the same.
    let found = menpai_drivers::qr::decode_file(&shots.join("checkin.png")).unwrap();
    let follow = found
        .iter()
        .find(|u| u.starts_with(&format!("{base}/t/hall-futian/")))
        .unwrap_or_else(|| panic!("no ticket link among {found:?}"))
        .clone();
    let (path, secret) = follow
        .split_once("?k=")
        .expect("the link carries the secret");
    assert_eq!(secret.len(), 16, "{follow}");
    let number = path.rsplit('/').next().unwrap().to_owned();
    assert!(number.starts_with('E'), "{follow}");
    let slip = printed(agent.addr, "预约优先");
    assert!(
        slip.contains(&number) && slip.contains("预约优先 张*明"),
        "{slip}"
    );

    // The booking's page now says it was checked in, and leads to the ticket.
    d.go(&url);
    d.wait_text("#checked-in", &number, 5)
        .unwrap_or_else(|t| panic!("the booking page after check-in: {t}"));

    // Followed on the phone while staff call it: the page changes without reloading.
    d.go(&follow);
    assert_eq!(d.text("#number"), number);
    assert_eq!(d.text("#headline"), "等候中");
    d.script("window.stillTheSamePage = true");
    shot("ticket-waiting");
    let (_, view) = api(&s, &staff, "GET", "/api/v1/queue/hall-futian", "", b"");
    let w = view["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["prefix"] == "E")
        .and_then(|b| b["windows"][0].as_u64())
        .unwrap_or_else(|| panic!("a window for E: {view}"));
    let act = |action: &str| {
        let (st, r) = api(
            &s,
            &staff,
            "POST",
            &format!("/api/v1/queue/hall-futian/windows/{w}"),
            "application/json",
            format!("{{\"action\":\"{action}\"}}").as_bytes(),
        );
        assert_eq!(st, 200, "{action}: {r}");
        r
    };
    let called = act("call_next");
    assert_eq!(
        called["ticket"]["number"], number,
        "the appointment goes first"
    );
    d.wait_text("#headline", &format!("请到 {w} 号窗口"), 15)
        .unwrap_or_else(|t| panic!("the call never reached the page: {t}"));
    assert_eq!(d.script("return window.stillTheSamePage"), true, "reloaded");
    assert!(d.text("#calls").contains(&format!("{number} → {w} 号窗口")));
    shot("ticket-called");
    act("serve");
    act("finish");
    d.wait_text("#headline", "已办结", 15)
        .unwrap_or_else(|t| panic!("finished: {t}"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        d.script("return document.getElementById('rate').hidden"),
        false
    );
    shot("ticket-done");

    // Rated from the same page.
    d.click("input[name=stars][value='5']");
    d.type_into("textarea[name=comment]", "窗口服务很耐心");
    d.click("#send");
    d.wait_text("#rated", "★★★★★", 15)
        .unwrap_or_else(|t| panic!("rating: {t}"));
    shot("rated");
    let (st, ratings) = api(
        &s,
        &staff,
        "GET",
        "/api/v1/admin/ratings?hall=hall-futian",
        "",
        b"",
    );
    assert_eq!(st, 200, "{ratings}");
    assert_eq!(ratings["windows"][0]["window"], w);
    assert_eq!(ratings["windows"][0]["average"], 5.0);
    assert_eq!(ratings["comments"][0]["comment"], "窗口服务很耐心");
}
