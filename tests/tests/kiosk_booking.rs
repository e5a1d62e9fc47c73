//! Booking at the plate for real: a regional server, an enrolled terminal and its kiosk under
//! Xvfb. The kiosk picks a day and a slot, takes the phone number and the texted code on its
//! keypad, shows the check-in QR, prints it, and the confirmation is texted; the same rules as
//! the phone booking hold (a wrong code is refused, the number never appears whole).

use std::time::{Duration, Instant};

use menpai_tests::regional::{ADMIN, server, sms_code, terminal};
use menpai_tests::{binary, demo_region, http, login, printed, workspace, xvfb_run};

const TERMINAL: &str = "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\n";
const PHONE: &str = "13812345678";

/// Waits for the code texted after `after` lines of the server's text log, and writes it to
/// `to` for the kiosk's keypad.
fn relay_code(log: std::path::PathBuf, to: std::path::PathBuf, wrong_first: bool) {
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(line) = text.lines().rev().find(|l| l.contains("验证码是 ")) {
                let code: String = line
                    .split("验证码是 ")
                    .nth(1)
                    .unwrap()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let typed = match wrong_first {
                    // One digit off: the server must refuse it.
                    true => code
                        .chars()
                        .enumerate()
                        .map(|(i, c)| match i {
                            0 => char::from(b'0' + (c as u8 - b'0' + 1) % 10),
                            _ => c,
                        })
                        .collect(),
                    false => code,
                };
                std::fs::write(&to, typed).unwrap();
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
}

fn book_at_the_plate(width: u32, height: u32, elder: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let agent = terminal(&s, &admin, "entrance", None, TERMINAL);
    let shots = tmp.path().join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let (wrong, right) = (tmp.path().join("wrong-code"), tmp.path().join("code"));
    let sms = s.dir.join("data/sms-outbox.log");
    relay_code(sms.clone(), wrong.clone(), true);
    let script = format!(
        "start;{}item:P43;go:book;await:bookingdays;bookday;shot:book-slot;bookslot;\
         digits:{PHONE};shot:book-phone;read;await:reading;stopread;submit;await:codesent;digitsfile:{};submit;await:booked;\
         shot:book-wrong-code;",
        if elder { "elder;" } else { "" },
        wrong.display()
    );
    // The wrong code is taken back digit by digit, then the right one typed.
    let script = format!(
        "{script}{}digitsfile:{};shot:book-code;submit;await:booked;shot:booked;quit",
        "back;".repeat(6),
        right.display()
    );
    let kiosk = {
        let mut c = xvfb_run(width, height);
        c.arg(binary("menpai-kiosk"))
            .args([
                "--agent",
                &format!("http://{}", agent.addr),
                "--script",
                &script,
            ])
            .arg("--shots")
            .arg(&shots);
        if width > height {
            c.arg("--landscape");
        }
        c.spawn().unwrap()
    };
    // After the wrong code was refused, relay the right one (the same code: it is still good).
    let deadline = Instant::now() + Duration::from_secs(240);
    while !shots.join("book-wrong-code.png").exists() {
        assert!(Instant::now() < deadline, "the wrong code never came back");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::fs::write(&right, sms_code(&s)).unwrap();
    let out = kiosk.wait_with_output().unwrap();
    assert!(out.status.success(), "the kiosk failed");

    let table =
        |shot: &str| std::fs::read_to_string(shots.join(format!("{shot}.layout.tsv"))).unwrap();
    let mut failures = Vec::new();
    // The keypad, the number typed as typed, a refusal in the server's words.
    if !table("book-slot").contains("BookSlot(") {
        failures.push("no slots to choose".into());
    }
    let phone_step = table("book-phone");
    for wanted in [
        "Digit('5')",
        "DigitBack",
        "BookSubmit",
        "138 1234 5678",
        "改时间",
    ] {
        if !phone_step.contains(wanted) {
            failures.push(format!("the phone step has no {wanted}"));
        }
    }
    let wrong_step = table("book-wrong-code");
    if !wrong_step.contains("验证码不对") {
        failures.push(format!(
            "a wrong code was not refused in words:\n{wrong_step}"
        ));
    }
    // Booked: the QR on screen is the check-in token the slip carries, signed for this hall.
    let booked = table("booked");
    for wanted in ["预约成功", "现场预约", "138****5678", "凭条已打印"] {
        if !booked.contains(wanted) {
            failures.push(format!("the booked screen has no {wanted}:\n{booked}"));
        }
    }
    let on_screen = menpai_drivers::qr::decode_file(&shots.join("booked.png")).unwrap_or_default();
    let slip = printed(agent.addr, "预约凭条");
    assert!(
        slip.contains("预约凭条") && slip.contains("现场预约"),
        "{slip}"
    );
    let token = on_screen
        .iter()
        .find(|t| slip.contains(&format!("[QR {t}]")))
        .unwrap_or_else(|| panic!("no QR on screen ({on_screen:?}) is the slip's:\n{slip}"))
        .clone();
    let enrollment: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(agent.dir.path().join("data/identity/enrollment.json")).unwrap(),
    )
    .unwrap();
    let key = menpai_model::appointment::verifying_key(
        enrollment["appointment_public_key"].as_str().unwrap(),
    )
    .unwrap();
    let claims = menpai_model::appointment::verify(&token, &key).unwrap();
    assert_eq!(
        (
            claims.hall.as_str(),
            claims.item.as_str(),
            claims.holder.as_str()
        ),
        ("hall-futian", "P43", "现场预约")
    );
    // Texted: a code, then the confirmation; the number masked in every log.
    let texts = std::fs::read_to_string(&sms).unwrap();
    assert!(texts.contains("您已预约住房公积金购房提取"), "{texts}");
    for log in [s.log(), agent.log(), texts] {
        assert!(!log.contains(PHONE), "the whole number is in a log");
    }
    // The page read aloud on the phone step said everything but the number typed.
    let (_, read) = menpai_tests::get_json(agent.addr, "/api/v1/read");
    let said = read["text"].as_str().unwrap_or_default();
    assert!(
        said.contains("输入手机号") && !said.contains("1234"),
        "{said}"
    );
    // A number that is not one is refused before anything is sent.
    let (st, _) = http(
        agent.addr,
        "POST",
        "/api/v1/booking",
        &[("Content-Type", "application/json")],
        br#"{"item":"P43","date":"2026-01-01","start":"10:00","phone":"12"}"#,
    );
    assert_eq!(st, 400);
    // Everything inside the window.
    for shot in ["book-slot", "book-phone", "book-code", "booked"] {
        for line in table(shot).lines().skip(1) {
            let c: Vec<&str> = line.split('\t').collect();
            let n: Vec<f32> = c[2..].iter().map(|v| v.parse().unwrap()).collect();
            if n[0] < -1.0 || n[0] + n[2] > width as f32 + 1.0 {
                failures.push(format!("{shot}: {line} runs off the side"));
            }
        }
    }
    let name = format!(
        "{}{}",
        if width > height {
            "landscape"
        } else {
            "portrait"
        },
        if elder { "-elder" } else { "" }
    );
    let keep = workspace().join("target/kiosk-booking-shots");
    std::fs::create_dir_all(&keep).unwrap();
    for shot in ["book-slot", "book-phone", "book-code", "booked"] {
        let _ = std::fs::copy(
            shots.join(format!("{shot}.png")),
            keep.join(format!("{shot}-{name}.png")),
        );
    }
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
}

#[test]
fn a_citizen_books_at_the_plate_in_portrait() {
    book_at_the_plate(1080, 1920, false);
}

#[test]
fn a_citizen_books_at_the_plate_in_landscape_with_large_text() {
    book_at_the_plate(1920, 1080, true);
}

#[test]
fn a_citizen_books_at_the_plate_in_portrait_with_large_text() {
    book_at_the_plate(1080, 1920, true);
}

#[test]
fn a_citizen_books_at_the_plate_in_landscape() {
    book_at_the_plate(1920, 1080, false);
}
