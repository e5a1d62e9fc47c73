//! 帮代办, 上门取件 and 在线咨询 across real processes: a request tapped in at the kiosk (Xvfb,
//! the digit keypad clicked with xdotool, the screens captured and looked at) and one filled in on
//! the phone page (Chromium at 390 px), each taken, called back and closed by staff in Chromium
//! while the citizen's private link shows every state; a question answered by staff is read at
//! its private link; the phone numbers are in neither the database file nor its WAL, and masked
//! on every page.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use menpai_tests::regional::{ADMIN, STAFF, api, server, terminal};
use menpai_tests::screen::Screen;
use menpai_tests::webdriver::Driver;
use menpai_tests::{demo_region, login, workspace};

const KIOSK_PHONE: &str = "13712345678";
const WEB_PHONE: &str = "13698765432";

/// Grabs the X display's root window as raw RGB (libX11 through ctypes: no screenshot tool is
/// needed beside Xvfb).
const GRAB: &str = r#"
import ctypes, sys
x = ctypes.cdll.LoadLibrary('libX11.so.6')
x.XOpenDisplay.restype = ctypes.c_void_p
x.XDefaultRootWindow.restype = ctypes.c_ulong
x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
x.XGetImage.restype = ctypes.c_void_p
x.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                        ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
w, h = int(sys.argv[1]), int(sys.argv[2])
d = x.XOpenDisplay(None)
img = x.XGetImage(d, x.XDefaultRootWindow(d), 0, 0, w, h, 0xffffffff, 2)
data = ctypes.c_void_p.from_address(img + 16).value
bpl = ctypes.c_int.from_address(img + 44).value
buf = ctypes.string_at(data, bpl * h)
out = bytearray(w * h * 3)
for y in range(h):
    row = buf[y * bpl:y * bpl + w * 4]
    o = y * w * 3
    out[o:o + w * 3:3] = row[2::4]
    out[o + 1:o + w * 3:3] = row[1::4]
    out[o + 2:o + w * 3:3] = row[0::4]
sys.stdout.buffer.write(bytes(out))
"#;

/// The kiosk on a display of its own, running `script` (scripted steps run on every frame,
/// not only on activity, when it also takes pictures: to the layout's folder).
fn kiosk_on_xvfb(agent: std::net::SocketAddr, layout: &Path, script: &str) -> Screen {
    let shots = layout.parent().unwrap().to_str().unwrap();
    Screen::start(agent, layout, None, &["--script", script, "--shots", shots])
}

/// Once the layout file has settled, the centre of the first on-screen button whose action
/// contains `action`.
fn find_button(layout: &Path, action: &str) -> (i32, i32) {
    let deadline = Instant::now() + Duration::from_secs(60);
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
                    // Above the bottom bar (back, home, large text), which covers the body's end.
                    if n[1] >= 0.0 && n[1] + n[3] < 1760.0 || !action.starts_with("Assist(") {
                        return ((n[0] + n[2] / 2.0) as i32, (n[1] + n[3] / 2.0) as i32);
                    }
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no button {action} on screen; the screen has:\n{table}\nthe kiosk logged:\n{}",
            std::fs::read_to_string(layout.with_extension("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
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
    std::thread::sleep(Duration::from_millis(250));
}

/// The kiosk's screen as a PNG at `path`.
fn grab(display: &str, path: &Path) {
    let out = Command::new("python3")
        .env("DISPLAY", display)
        .args(["-c", GRAB, "1080", "1920"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    image::RgbImage::from_raw(1080, 1920, out.stdout)
        .unwrap()
        .save(path)
        .unwrap();
}

/// Logs staff in through the login form.
fn staff_browser(base: &str) -> Driver {
    let d = Driver::start();
    d.go(&format!("{base}/login"));
    d.type_into("#name", STAFF.0);
    d.type_into("#password", STAFF.1);
    d.click("#login");
    let deadline = Instant::now() + Duration::from_secs(30);
    while d.url().ends_with("/login") {
        assert!(Instant::now() < deadline, "the staff login did not finish");
        std::thread::sleep(Duration::from_millis(200));
    }
    d
}

/// Staff's steps on a request's page: take it, show the phone, record the call back, close it;
/// after each, the citizen's private link (`citizen`) shows the new state.
fn work_to_closed(
    staff: &Driver,
    base: &str,
    id: &str,
    phone: &str,
    citizen: &dyn Fn() -> (String, String),
) {
    staff.go(&format!("{base}/requests/{id}"));
    let page = staff.script("return document.body.innerText;");
    assert!(
        page.as_str()
            .unwrap()
            .contains(&format!("{}****{}", &phone[..3], &phone[7..])),
        "masked on the staff page: {page}"
    );
    assert!(!page.as_str().unwrap().contains(phone), "{page}");
    staff.click("#take button");
    staff.wait_text("#state", "工作人员已受理", 30).unwrap();
    assert_eq!(citizen().0, "工作人员已受理");
    staff.click("#reveal button");
    let shown = staff.wait_text("#phone-shown", phone, 30).unwrap();
    assert!(shown.contains(phone), "{shown}");
    let shots = workspace().join("target/screenshots/requests");
    std::fs::write(shots.join("console-request-called.png"), staff.screenshot()).unwrap();
    staff.type_into("#called-back textarea", "已电话联系，约好明天上午");
    staff.click("#called-back button");
    staff.wait_text("#state", "工作人员已回电", 30).unwrap();
    assert!(
        staff.text("#phone-shown").is_empty(),
        "the number is shown once, not kept"
    );
    let (state, seen) = citizen();
    assert_eq!(state, "工作人员已回电");
    assert!(seen.contains("约好明天上午"), "{seen}");
    staff.type_into("#close textarea", "已帮办完成");
    staff.click("#close button");
    staff.wait_text("#state", "已办结", 30).unwrap();
    let (state, seen) = citizen();
    assert_eq!(state, "已办结");
    assert!(seen.contains("已帮办完成"), "{seen}");
}

#[test]
fn a_kiosk_request_and_a_phone_request_are_worked_to_closed_and_the_numbers_stay_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = server(dir.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let agent = terminal(&s, &admin, "entrance", None, "");
    let base = format!("https://{}", s.public);
    let shots = workspace().join("target/screenshots/requests");
    std::fs::create_dir_all(&shots).unwrap();

    // The staff's queue is open before anything comes: it must fill in by itself.
    let staff = staff_browser(&base);
    staff.go(&format!("{base}/requests"));
    staff.wait_text("#count", "共 0 条", 30).unwrap();

    // At the kiosk: 帮代办, what help, the number on the keypad, a time, 女士; then submit.
    let layout = dir.path().join("layout.tsv");
    let screen = kiosk_on_xvfb(agent.addr, &layout, "start;go:Assist");
    let d = &screen.display.name;
    click(d, find_button(&layout, "Assist(Kind(\"assist\"))"));
    click(d, find_button(&layout, "Assist(Help(\"帮我填表\"))"));
    for c in KIOSK_PHONE.chars() {
        click(d, find_button(&layout, &format!("Assist(Digit('{c}'))")));
    }
    click(d, find_button(&layout, "Assist(Time(\"明天上午\"))"));
    click(d, find_button(&layout, "Assist(Name(\"女士\"))"));
    let form = shots.join("assist-form.png");
    find_button(&layout, "Assist(Submit)");
    grab(d, &form);
    println!("the kiosk's filled form: {}", form.display());
    click(d, find_button(&layout, "Assist(Submit)"));
    find_button(&layout, "Assist(Again)");
    let sent = shots.join("assist-sent.png");
    grab(d, &sent);
    println!("the kiosk's confirmation: {}", sent.display());

    // The staff's list showed it without a reload.
    let masked_kiosk = "137****5678";
    let row = staff
        .wait_text("#list tbody", masked_kiosk, 30)
        .expect("the kiosk's request appeared live");
    assert!(row.contains("帮代办") && row.contains("门牌"), "{row}");
    std::fs::write(shots.join("console-requests.png"), staff.screenshot()).unwrap();
    let id = staff
        .script("return document.querySelector('#list tbody tr').dataset.id;")
        .as_str()
        .unwrap()
        .to_owned();
    let staff_token = login(&s, STAFF.0, STAFF.1);
    let (_, r) = api(
        &s,
        &staff_token,
        "GET",
        &format!("/api/v1/requests/{id}"),
        "",
        b"",
    );
    assert_eq!(r["channel"], "kiosk");
    assert_eq!(r["phone"], masked_kiosk);
    assert_eq!(r["name"], "女*");
    assert_eq!(r["preferred_time"], "明天上午");

    // The citizen scans the kiosk's QR code: the private link, followed on the phone at each
    // state staff move it to.
    let links = menpai_drivers::qr::decode_file(&sent).unwrap();
    let link = links
        .iter()
        .find(|l| l.contains("/r/"))
        .unwrap_or_else(|| panic!("no private link in the kiosk's QR code: {links:?}"));
    let kiosk_private = format!("{base}{}", &link[link.find("/r/").unwrap()..]);
    let phone = Driver::phone();
    phone.go(&kiosk_private);
    phone.wait_text("#state", "已提交，等待受理", 10).unwrap();
    assert!(phone.text("#contact").contains(masked_kiosk));
    work_to_closed(&staff, &base, &id, KIOSK_PHONE, &|| {
        phone.go(&kiosk_private);
        let body = phone.script("return document.body.innerText;");
        (phone.text("#state"), body.as_str().unwrap().to_owned())
    });

    // Staff watch the list again; the phone's request must come in by itself.
    staff.go(&format!("{base}/requests"));
    staff.wait_text("#count", "共 1 条", 30).unwrap();

    // On the phone: the hall's plate → 帮办代办 → 上门取件 form.
    phone.go(&format!("{base}/h/hall-futian"));
    phone.click("#ask a");
    phone.click("input[name=kind][value=pickup]");
    phone.type_into("#text", "腿脚不便，请上门收取材料");
    phone.type_into("#name", "李大爷");
    phone.type_into("#phone", WEB_PHONE);
    phone.click("input[name=time][value=今天]");
    phone.click("#submit");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !phone.url().contains("/r/") {
        assert!(
            Instant::now() < deadline,
            "no private link: {}",
            phone.url()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let private = phone.url();
    assert!(!private.contains(WEB_PHONE) && !private.contains("李"));
    phone.wait_text("#state", "已提交，等待受理", 10).unwrap();
    let contact = phone.text("#contact");
    assert!(
        contact.contains("136****5432") && contact.contains("李*爷"),
        "{contact}"
    );
    std::fs::write(shots.join("phone-private-link.png"), phone.screenshot()).unwrap();
    let row = staff
        .wait_text("#list tbody", "136****5432", 30)
        .expect("the phone's request appeared live");
    assert!(row.contains("上门取件") && row.contains("手机"), "{row}");
    let web_id = staff
        .script("return document.querySelector('#list tbody tr').dataset.id;")
        .as_str()
        .unwrap()
        .to_owned();
    work_to_closed(&staff, &base, &web_id, WEB_PHONE, &|| {
        phone.go(&private);
        let body = phone.script("return document.body.innerText;");
        (phone.text("#state"), body.as_str().unwrap().to_owned())
    });
    std::fs::write(shots.join("phone-private-closed.png"), phone.screenshot()).unwrap();

    // 在线咨询: asked on the phone, answered by staff, read at the private link.
    phone.go(&format!("{base}/ask/hall-futian?kind=consult"));
    phone.type_into("#text", "异地就医备案需要带什么材料？");
    phone.click("#submit");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !phone.url().contains("/r/") {
        assert!(
            Instant::now() < deadline,
            "no private link: {}",
            phone.url()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let consult_link = phone.url();
    let (_, list) = api(
        &s,
        &staff_token,
        "GET",
        "/api/v1/requests?kind=consult",
        "",
        b"",
    );
    let cid = list["requests"][0]["id"].as_str().unwrap().to_owned();
    staff.go(&format!("{base}/requests/{cid}"));
    staff.type_into(
        "#answer textarea",
        "带社保卡和身份证；也可以在粤省事上办理。",
    );
    staff.click("#answer button");
    staff.wait_text("#state", "已答复", 30).unwrap();
    phone.go(&consult_link);
    let answer = phone.wait_text("#state", "已答复", 10).unwrap();
    assert!(answer.contains("已答复"));
    let body = phone.script("return document.body.innerText;");
    assert!(
        body.as_str().unwrap().contains("带社保卡和身份证"),
        "{body}"
    );

    // Masked on every list and page the staff saw; the numbers are not in the database or WAL.
    staff.go(&format!("{base}/requests"));
    let list = staff.script("return document.body.innerText;");
    let list = list.as_str().unwrap();
    assert!(
        list.contains(masked_kiosk) && list.contains("136****5432"),
        "{list}"
    );
    assert!(!list.contains(KIOSK_PHONE) && !list.contains(WEB_PHONE));
    let bytes = menpai_tests::server_db::at_rest(&s.dir);
    for number in [KIOSK_PHONE, WEB_PHONE] {
        assert!(
            !bytes.windows(11).any(|w| w == number.as_bytes()),
            "{number} readable in the server's database"
        );
    }
    println!(
        "the server's database at rest: {} bytes, no phone number in it",
        bytes.len()
    );

    // The server cut off: the plate says plainly the request was not sent, and gives the hall's
    // phone; it never shows a confirmation.
    s.kill();
    click(d, find_button(&layout, "Assist(Again)"));
    click(d, find_button(&layout, "Assist(Help(\"帮我网上办\"))"));
    for c in KIOSK_PHONE.chars() {
        click(d, find_button(&layout, &format!("Assist(Digit('{c}'))")));
    }
    click(d, find_button(&layout, "Assist(Time(\"今天\"))"));
    click(d, find_button(&layout, "Assist(Submit)"));
    find_button(&layout, "Assist(Again)");
    let offline = shots.join("assist-offline.png");
    grab(d, &offline);
    println!("the kiosk with the server cut off: {}", offline.display());
    let body = serde_json::json!({ "kind": "assist", "help": "帮我网上办", "phone": KIOSK_PHONE,
                                   "time": "今天" })
    .to_string();
    let (status, answer) = menpai_tests::http(
        agent.addr,
        "POST",
        "/api/v1/assist",
        &[("content-type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(status, 503, "{answer}");
    assert!(
        answer.contains("请求没有发出") && answer.contains("0755-83090100"),
        "{answer}"
    );
    drop(screen);
}
