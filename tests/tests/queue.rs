//! Tickets and appointment check-in through a real agent: numbers, printed tickets read back,
//! refused appointments with their reasons, calls reaching the event stream and the LED bar.

use std::time::Duration;

use menpai_model::appointment::{AppointmentClaims, generate, public_b64, sign};
use menpai_tests::{demo_region, get_json, http, printed, start_agent};
use serde_json::Value;

const JSON: [(&str, &str); 1] = [("Content-Type", "application/json")];
/// A Monday morning, the hall open.
const AT: &str = "2026-11-23T10:05";

fn claims(id: &str, hall: &str, date: &str, start: &str, end: &str) -> AppointmentClaims {
    AppointmentClaims {
        id: id.into(),
        hall: hall.into(),
        item: "P43".into(),
        item_name: "住房公积金购房提取".into(),
        prefix: "E".into(),
        date: date.into(),
        start: start.into(),
        end: end.into(),
        holder: "张*明".into(),
    }
}

fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> (u16, Value) {
    let (s, b) = http(addr, "POST", path, &JSON, body.as_bytes());
    (s, serde_json::from_str(&b).unwrap_or(Value::String(b)))
}

#[test]
fn tickets_are_numbered_printed_called_and_appointments_checked() {
    let key = generate();
    let config = format!(
        "[queue]\nappointment_public_key = \"{}\"\n",
        public_b64(&key)
    );
    let agent = start_agent(&demo_region(), &config);
    let addr = agent.addr;
    let mut events = agent.events();

    // The panel lists the hall's business types with the windows serving each.
    let (s, view) = get_json(addr, &format!("/api/v1/queue?at={AT}"));
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["taking"], true);
    let e = view["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["prefix"] == "E")
        .unwrap();
    assert_eq!(e["name"], "公积金");
    assert!(!e["windows"].as_array().unwrap().is_empty());

    // Two tickets: numbers run on, the second has one ahead; both printed.
    let take = |prefix: &str| {
        post(
            addr,
            &format!("/api/v1/queue/tickets?at={AT}"),
            &format!("{{\"prefix\":\"{prefix}\"}}"),
        )
    };
    let (s, t1) = take("E");
    assert_eq!(s, 201, "{t1}");
    let (_, t2) = take("E");
    assert_eq!(
        (t1["number"].as_str(), t2["number"].as_str()),
        (Some("E001"), Some("E002"))
    );
    assert_eq!(t2["people_ahead"], 1);
    assert_eq!(t2["printed"], true);
    let follow = t2["follow_url"].as_str().unwrap();
    assert!(follow.ends_with("/t/hall-futian/20261123/E002"), "{follow}");
    let preview = printed(addr, &format!("[QR {follow}]"));
    assert!(
        preview.contains("E002")
            && preview.contains("公积金")
            && preview.contains(&format!("[QR {follow}]")),
        "{preview}"
    );
    assert!(
        events
            .next_matching(Duration::from_secs(5), |e| e["type"] == "queue_changed")
            .is_some()
    );

    // Bad requests say why.
    let (s, r) = take("Z");
    assert_eq!(s, 400, "{r}");
    assert!(r["error"].as_str().unwrap().contains("没有"), "{r}");
    let (s, r) = post(
        addr,
        "/api/v1/queue/tickets",
        "{\"prefix\":\"E\",\"priority\":\"appointment\"}",
    );
    assert_eq!(s, 400, "{r}");
    let (s, r) = post(
        addr,
        "/api/v1/queue/tickets?at=2026-11-23T03:00",
        "{\"prefix\":\"E\"}",
    );
    assert_eq!(s, 409, "closed at night: {r}");
    assert!(r["error"].as_str().unwrap().contains("办公时间"), "{r}");

    // A good appointment checks in ahead of the normal tickets, and prints its priority.
    let good = sign(
        &claims("ap-1", "hall-futian", "2026-11-23", "10:00", "10:30"),
        &key,
    );
    let check_in = |token: &str| {
        post(
            addr,
            &format!("/api/v1/appointments/check-in?at={AT}"),
            &format!("{{\"token\":\"{token}\"}}"),
        )
    };
    let (s, r) = check_in(&format!("https://m.menpai.example.cn/a/{good}"));
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["ticket"]["number"], "E003");
    assert_eq!(r["ticket"]["people_ahead"], 0);
    assert_eq!(r["holder"], "张*明");
    assert_eq!(r["slot"], "11月23日 10:00-10:30");
    assert!(printed(addr, "预约优先 张*明").contains("预约优先 张*明"));

    // Reused, forged, expired, early, another hall's, garbage: refused with a reason.
    let refusals = [
        (good.clone(), 409, "已经签到"),
        (
            sign(
                &claims("ap-2", "hall-futian", "2026-11-23", "10:00", "10:30"),
                &generate(),
            ),
            403,
            "无效",
        ),
        (
            sign(
                &claims("ap-3", "hall-futian", "2026-11-23", "08:00", "08:30"),
                &key,
            ),
            410,
            "已过",
        ),
        (
            sign(
                &claims("ap-4", "hall-futian", "2026-11-23", "15:00", "15:30"),
                &key,
            ),
            409,
            "还没到签到时间",
        ),
        (
            sign(
                &claims("ap-5", "hall-civic", "2026-11-23", "10:00", "10:30"),
                &key,
            ),
            409,
            "市民中心",
        ),
        ("MPY1.bm90LWpzb24.AAAA".to_owned(), 400, "无法识别"),
        ("hello".to_owned(), 400, "不是预约二维码"),
    ];
    for (token, status, words) in refusals {
        let (s, r) = check_in(&token);
        assert_eq!(s, status, "{token}: {r}");
        let message = r["error"].as_str().unwrap();
        assert!(message.contains(words), "{token}: {message}");
    }

    // A window calls: the appointment first; the stream and the LED bar get it.
    let window = e["windows"][0].as_u64().unwrap();
    let (s, call) = post(
        addr,
        &format!("/api/v1/sim/queue/call?at={AT}"),
        &format!("{{\"window\":{window}}}"),
    );
    assert_eq!(s, 200, "{call}");
    assert_eq!(call["number"], "E003");
    let pushed = events
        .next_matching(Duration::from_secs(5), |e| e["type"] == "queue_called")
        .unwrap();
    assert_eq!(pushed["call"]["number"], "E003");
    assert_eq!(pushed["call"]["window"], window);
    let wanted = format!("请E003号到{window}号窗口");
    let mut led = Value::Null;
    for _ in 0..100 {
        led = get_json(addr, "/api/v1/sim/led").1;
        if led["frames"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x["text"] == wanted.as_str()))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(led.to_string().contains(&wanted), "{led}");
    let (_, view) = get_json(addr, &format!("/api/v1/queue?at={AT}"));
    assert_eq!(view["calls"][0]["number"], "E003");
    let e = view["businesses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["prefix"] == "E")
        .unwrap();
    assert_eq!(e["waiting"], 2);

    // Out of paper: the ticket is still issued and says why it was not printed.
    post(addr, "/api/v1/sim/printer", "{\"paper_out\": true}");
    std::thread::sleep(Duration::from_millis(300));
    let (s, t) = take("A");
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["printed"], false);
    assert!(t["print_error"].as_str().unwrap().contains("扫码"), "{t}");
}
