//! 好差评's closed loop through the routers (`oneshot`) with the server's clock moved by the
//! test: a 非常不满意 rating on a ticket opens a case with its deadline in working days, the reply
//! shows on the citizen's ticket page, rectification, verification by a second operator (the
//! same one refused), closed; a case past its deadline stands out; another hall's manager is
//! refused (audited); bad bodies and an over-long reply are refused with nothing stored.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use chrono::{Duration, NaiveDate};
use menpai_model::queue::{Priority, StaffAction};
use menpai_model::sync::OutboxEvent;
use menpai_server::cases::workdays::add_working_days;
use menpai_server::config::Config;
use menpai_server::operators::hash_password;
use menpai_server::storage::{NewTicket, Role};
use menpai_server::{Server, queue};
use serde_json::{Value, json};

mod support;

use support::http::{FORM, form, json_body, login};

const HALL: &str = "hall-futian";
const OTHER_HALL: &str = "hall-civic";
const DEVICE: &str = "dev-test";

/// A server with the demo region published, a terminal enrolled in 福田, and operators: two
/// hall managers of 福田, one of 市民中心, an admin.
fn server() -> (Arc<Server>, tempfile::TempDir) {
    let (server, dir) = support::published(Config::default());
    support::enroll(&server, DEVICE, HALL, "entrance", &"00".repeat(32));
    let hash = hash_password("a password nobody types").unwrap();
    for (name, role, halls) in [
        ("manager-a", Role::HallManager, vec![HALL.to_owned()]),
        ("manager-a2", Role::HallManager, vec![HALL.to_owned()]),
        ("manager-b", Role::HallManager, vec![OTHER_HALL.to_owned()]),
        ("staff-a", Role::QueueStaff, vec![HALL.to_owned()]),
        ("ops-admin", Role::Admin, vec![]),
    ] {
        server
            .storage
            .create_operator(name, name, role, &hash, &halls)
            .unwrap();
    }
    (Arc::new(server), dir)
}

/// One request as a browser sends it: status, `Location` and body.
async fn send(
    app: &Router,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<(&str, String)>,
) -> (StatusCode, String, String) {
    let sent = support::http::send(app, method, path, cookie, body, false).await;
    (sent.status, sent.location, sent.body)
}

/// A ticket of 福田 issued at the terminal and served to the end at a window: its day, number,
/// business and window.
fn finished_ticket(server: &Server, request_id: &str) -> (String, String, String, u32) {
    let t = ticket_of(server, request_id, DEVICE);
    let window = server.halls.get(HALL).unwrap().windows_for(&t.2)[0];
    for action in [
        StaffAction::CallNext,
        StaffAction::Serve,
        StaffAction::Finish,
    ] {
        queue::act(server, HALL, window, &action, "staff-a").unwrap();
    }
    (t.0, t.1, t.3, window)
}

/// A ticket of the hall's first business issued by `device`, waiting: day, number, prefix and
/// business name.
fn ticket_of(server: &Server, request_id: &str, device: &str) -> (String, String, String, String) {
    let hall = server.halls.get(HALL).unwrap();
    let business = &hall.business_types[0];
    let today = menpai_server::clock::day(menpai_server::clock::local_now());
    let t = server
        .storage
        .issue_ticket(&NewTicket {
            hall: HALL,
            day: &today,
            prefix: &business.prefix,
            business: &business.name,
            priority: Priority::Normal,
            issued_at: None,
            device,
            request_id,
            appointment_id: None,
        })
        .unwrap();
    (
        today,
        t.number,
        business.prefix.clone(),
        business.name.clone(),
    )
}

/// Moves the server's clock so its local day is `day` (the time of day kept).
fn move_clock_to(server: &Server, day: &str) {
    let target = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    let now = server.clock.local_now().date();
    server
        .clock
        .advance(Duration::days((target - now).num_days()));
    assert_eq!(server.clock.local_now().date(), target);
}

fn case_json(v: &Value, id: i64) -> Value {
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_very_poor_rating_on_a_ticket_goes_through_reply_rectification_second_verification_and_close()
 {
    let (server, _dir) = server();
    let public = menpai_server::public_router(server.clone());
    let admin = menpai_server::admin_router(server.clone());
    let (day, number, business, window) = finished_ticket(&server, "req-1");
    let url_day = day.replace('-', "");
    let key =
        menpai_model::ticket::secret(&server.ticket_keys.for_device(DEVICE), HALL, &day, &number);
    let ticket_page = format!("/t/{HALL}/{url_day}/{number}?k={key}");

    // Rated on Thursday 24 December 2026: 25 December is a Friday, 1 January a holiday, so the
    // 15th working day is Friday 15 January 2027 (14 January without the holiday).
    move_clock_to(&server, "2026-12-24");
    let citizen = format!("__Host-menpai-form={FORM}");
    let (st, loc, page) = send(
        &public,
        "POST",
        &format!("/t/{HALL}/{url_day}/{number}/rate"),
        Some(&citizen),
        form(&[
            ("csrf", FORM),
            ("stars", "1"),
            ("reason", "态度不好"),
            ("reason", "等待时间长"),
            ("comment", "窗口人员一直在看手机"),
            ("k", &key),
        ]),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{page}");
    assert!(
        loc.starts_with(&format!("/t/{HALL}/{url_day}/{number}")),
        "{loc}"
    );

    let a = login(&server, "manager-a");
    let (st, _, list) = send(&admin, "GET", "/api/v1/cases", Some(&a), None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let list: Value = serde_json::from_str(&list).unwrap();
    let case = &list["cases"][0];
    let id = case["id"].as_i64().unwrap();
    assert_eq!(case["deadline"], "2027-01-15", "{case}");
    let weekends_only =
        add_working_days(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(), 15, |_| {
            menpai_model::hours::DayKind::Normal
        });
    assert_eq!(weekends_only.to_string(), "2027-01-14");
    assert_eq!(case["assignee"], "manager-a");
    assert_eq!(case["stage"], "open");
    assert_eq!(case["level"], "非常不满意");
    assert_eq!(case["overdue"], false);
    let rating = &case["rating"];
    assert_eq!(rating["ticket"]["number"], number.as_str());
    assert_eq!(rating["ticket"]["day"], day.as_str());
    assert_eq!(rating["window"], window);
    assert_eq!(rating["business"], business.as_str());
    assert_eq!(rating["hall"], HALL);
    assert_eq!(rating["source"], "phone");
    assert_eq!(rating["reasons"], json!(["态度不好", "等待时间长"]));

    // The case's page, as the manager sees it: the rating and the reply form.
    let (st, _, page) = send(&admin, "GET", &format!("/cases/{id}"), Some(&a), None).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    for shown in [
        "非常不满意",
        "态度不好、等待时间长",
        "窗口人员一直在看手机",
        &format!("{day} {number}"),
        &format!("{window} 号窗口"),
        &business,
        "2027-01-15",
        "回复市民",
        "name=\"csrf\"",
    ] {
        assert!(page.contains(shown), "{shown} not on the case page: {page}");
    }

    // The citizen's page before the reply: the rating and that a reply will come.
    let (st, _, page) = send(&public, "GET", &ticket_page, None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        page.contains("非常不满意") && page.contains("reply-pending"),
        "{page}"
    );

    // A reply longer than the limit: refused, nothing stored.
    let long = "慢".repeat(501);
    let (st, _, page) = send(
        &admin,
        "POST",
        &format!("/cases/{id}"),
        Some(&a),
        form(&[("csrf", FORM), ("step", "reply"), ("text", &long)]),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("回复市民请在 500 字以内"), "{page}");
    let (st, _, answer) = send(
        &admin,
        "POST",
        &format!("/api/v1/cases/{id}/steps"),
        Some(&a),
        json_body(json!({ "step": "reply", "text": long })),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.contains("500 字以内"), "{answer}");
    let stored = server.storage.case(id).unwrap().unwrap();
    assert!(stored.steps.is_empty(), "{stored:?}");
    assert_eq!(stored.stage.as_str(), "open");

    // A form without the anti-forgery token is refused.
    let (st, _, _) = send(
        &admin,
        "POST",
        &format!("/cases/{id}"),
        Some(&a),
        form(&[("step", "reply"), ("text", "您好")]),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // The reply, from the page's form; the citizen reads it on the ticket's page.
    let reply = "您好，我们已约谈当班人员，今后窗口工作时间不使用手机。感谢您的监督。";
    let (st, loc, page) = send(
        &admin,
        "POST",
        &format!("/cases/{id}"),
        Some(&a),
        form(&[("csrf", FORM), ("step", "reply"), ("text", reply)]),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(loc, format!("/cases/{id}"));
    let (_, _, page) = send(&public, "GET", &ticket_page, None, None).await;
    assert!(
        page.contains("大厅的回复") && page.contains(reply),
        "{page}"
    );
    // Not without the slip's secret.
    let (_, _, page) = send(
        &public,
        "GET",
        &format!("/t/{HALL}/{url_day}/{number}"),
        None,
        None,
    )
    .await;
    assert!(!page.contains(reply), "{page}");

    // Verification before the rectification: refused, clearly.
    let (st, _, answer) = send(
        &admin,
        "POST",
        &format!("/api/v1/cases/{id}/steps"),
        Some(&a),
        json_body(json!({ "step": "verify", "text": "已核查" })),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{answer}");
    assert!(answer.contains("待整改"), "{answer}");

    let (st, _, _) = send(
        &admin,
        "POST",
        &format!("/cases/{id}"),
        Some(&a),
        form(&[
            ("csrf", FORM),
            ("step", "rectify"),
            ("text", "当班人员已批评教育；大厅重申窗口纪律并每日巡查。"),
        ]),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);

    // The one who rectified cannot verify.
    let (st, _, page) = send(
        &admin,
        "POST",
        &format!("/cases/{id}"),
        Some(&a),
        form(&[("csrf", FORM), ("step", "verify"), ("text", "已核查")]),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("核查须由另一位工作人员完成"), "{page}");
    assert!(page.contains("待核查"), "the case is shown again: {page}");
    let audit = server.storage.audit_entries(50).unwrap();
    assert!(
        audit.iter().any(|e| e.operator == "manager-a"
            && e.action == "cases.verify"
            && e.outcome == "refused_same_person"),
        "{audit:?}"
    );

    // A second manager of the hall verifies; the first closes after the follow-up call.
    let a2 = login(&server, "manager-a2");
    let (st, _, answer) = send(
        &admin,
        "POST",
        &format!("/api/v1/cases/{id}/steps"),
        Some(&a2),
        json_body(json!({ "step": "verify", "text": "现场抽查三次，窗口纪律良好" })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{answer}");
    let (st, _, _) = send(
        &admin,
        "POST",
        &format!("/cases/{id}"),
        Some(&a),
        form(&[
            ("csrf", FORM),
            ("step", "close"),
            ("text", "电话回访，市民表示满意"),
        ]),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, _, page) = send(&admin, "GET", &format!("/cases/{id}"), Some(&a), None).await;
    assert!(page.contains("案件已办结"), "{page}");
    for step in ["step-reply", "step-rectify", "step-verify", "step-close"] {
        assert!(page.contains(step), "{step}: {page}");
    }
    assert!(page.contains("manager-a2"), "the verifier is named: {page}");
    let audit = server.storage.audit_entries(50).unwrap();
    for action in [
        "cases.reply",
        "cases.rectify",
        "cases.verify",
        "cases.close",
    ] {
        assert!(
            audit
                .iter()
                .any(|e| e.action == action && e.outcome == "ok" && e.hall == HALL),
            "{action} not audited: {audit:?}"
        );
    }
    let (_, _, closed) = send(&admin, "GET", "/cases?show=closed", Some(&a), None).await;
    assert!(closed.contains(&format!("case-{id}")), "{closed}");
    let (_, _, open) = send(&admin, "GET", "/cases", Some(&a), None).await;
    assert!(!open.contains(&format!("case-{id}")), "{open}");

    // A second rating of the same ticket is refused; no second case.
    let (st, _, _) = send(
        &public,
        "POST",
        &format!("/t/{HALL}/{url_day}/{number}/rate"),
        Some(&citizen),
        form(&[("csrf", FORM), ("stars", "1"), ("k", &key)]),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let everything = menpai_server::storage::cases::CaseQuery {
        halls: None,
        open: None,
        overdue_only: false,
        today: "2026-12-24",
    };
    assert_eq!(server.storage.cases(&everything, 10).unwrap().len(), 1);

    // The month's ranking of windows shows the window: one rating, 0 % satisfied.
    let (st, _, page) = send(
        &admin,
        "GET",
        "/cases/ranking?month=2026-12",
        Some(&a),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(
        page.contains(&format!("{window} 号窗口")) && page.contains("0.0%"),
        "{page}"
    );
}

#[tokio::test]
async fn a_plate_rating_names_its_ticket_a_general_one_says_so_and_overdue_cases_stand_out() {
    let (server, _dir) = server();
    let admin = menpai_server::admin_router(server.clone());
    let (day, number, business, window) = finished_ticket(&server, "req-2");
    let event = |key: &str, body: Value| OutboxEvent {
        key: key.into(),
        kind: "rating".into(),
        body,
        created_at: server
            .clock
            .utc_now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    let ingested = server
        .storage
        .insert_events(
            DEVICE,
            &[
                event(
                    "k1",
                    json!({ "hall": HALL, "level": 2, "reasons": ["等待时间长"],
                            "ticket": { "day": day, "number": number } }),
                ),
                // The same ticket again: kept as an event only.
                event(
                    "k2",
                    json!({ "level": 1, "ticket": { "day": day, "number": number } }),
                ),
                // A good general rating opens nothing; out-of-bounds ones are only events.
                event("k3", json!({ "level": 5 })),
                event("k4", json!({ "level": 9 })),
                event("k5", json!({ "level": 1, "reasons": ["x".repeat(17)] })),
                event(
                    "k6",
                    json!({ "level": 1, "ticket": { "day": day, "number": "Z999" } }),
                ),
            ],
            "2026-11-30T00:00:00Z",
        )
        .unwrap();
    assert_eq!(ingested.new, 6);
    assert_eq!(ingested.cases.len(), 1, "{ingested:?}");
    let (hall, old) = ingested.cases[0].clone();
    assert_eq!(hall, HALL);

    let a = login(&server, "manager-a");
    let (_, _, one) = send(
        &admin,
        "GET",
        &format!("/api/v1/cases/{old}"),
        Some(&a),
        None,
    )
    .await;
    let one: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["rating"]["ticket"]["number"], number.as_str(), "{one}");
    assert_eq!(one["rating"]["window"], window);
    assert_eq!(one["rating"]["business"], business.as_str());
    assert_eq!(one["rating"]["source"], "kiosk");
    assert_eq!(one["level"], "不满意");
    let deadline =
        NaiveDate::parse_from_str(one["deadline"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let today = server.clock.local_now().date();
    assert_eq!(
        deadline,
        add_working_days(today, 15, |d| server.halls.day_kind(d))
    );

    // A month later the case is past its deadline; a general poor rating made then is not.
    server.clock.advance(Duration::days(31));
    let later = server
        .storage
        .insert_events(
            DEVICE,
            &[event("k7", json!({ "level": 2, "comment": "指示牌太少" }))],
            "2026-12-31T00:00:00Z",
        )
        .unwrap();
    let (_, new) = later.cases[0].clone();
    let (_, _, list) = send(&admin, "GET", "/api/v1/cases?show=open", Some(&a), None).await;
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list["cases"][0]["id"], old, "overdue first: {list}");
    assert_eq!(case_json(&list, old)["overdue"], true);
    assert_eq!(case_json(&list, new)["overdue"], false);
    assert_eq!(case_json(&list, new)["rating"]["ticket"], Value::Null);
    let (_, _, overdue) = send(&admin, "GET", "/api/v1/cases?show=overdue", Some(&a), None).await;
    let overdue: Value = serde_json::from_str(&overdue).unwrap();
    assert_eq!(overdue["cases"].as_array().unwrap().len(), 1, "{overdue}");

    let (st, _, page) = send(&admin, "GET", "/cases", Some(&a), None).await;
    assert_eq!(st, StatusCode::OK);
    let row = format!("<tr id=\"case-{old}\" class=\"overdue\">");
    let first = page.find(&row).unwrap_or_else(|| panic!("{page}"));
    assert!(first < page.find(&format!("case-{new}")).unwrap(), "{page}");
    assert!(page.contains("已超期"));
    let (_, _, page) = send(&admin, "GET", &format!("/cases/{new}"), Some(&a), None).await;
    assert!(page.contains("大厅整体评价"), "{page}");
    assert!(page.contains("指示牌太少"), "{page}");
}

#[test]
fn a_plate_rating_counts_only_for_a_finished_ticket_it_issued_outside_training_at_a_human_pace() {
    let (server, _dir) = server();
    let event = |key: String, body: Value| OutboxEvent {
        key,
        kind: "rating".into(),
        body,
        created_at: "2026-11-30T02:00:00.000Z".into(),
    };
    let poor =
        |t: &(String, String)| json!({ "level": 1, "ticket": { "day": t.0, "number": t.1 } });
    // Served elsewhere: issued by another terminal and finished.
    let (day, number, prefix, _) = ticket_of(&server, "req-other", "dev-other");
    let window = server.halls.get(HALL).unwrap().windows_for(&prefix)[0];
    for action in [
        StaffAction::CallNext,
        StaffAction::Serve,
        StaffAction::Finish,
    ] {
        queue::act(&server, HALL, window, &action, "staff-a").unwrap();
    }
    let elsewhere = (day, number);
    let practised = finished_ticket(&server, "req-practice");
    let finished = finished_ticket(&server, "req-real");
    // Taken here a moment ago, not served yet.
    let (day, number, _, _) = ticket_of(&server, "req-waiting", DEVICE);
    let waiting = (day, number);
    let mut events = vec![
        event("t1".into(), poor(&elsewhere)),
        event("t2".into(), poor(&waiting)),
        event("t3".into(), {
            let mut b = poor(&(practised.0.clone(), practised.1.clone()));
            b["training"] = json!(true);
            b
        }),
        event("t4".into(), poor(&(finished.0.clone(), finished.1.clone()))),
    ];
    // Someone taps 非常不满意 over and over.
    for i in 0..10 {
        events.push(event(format!("g{i}"), json!({ "level": 1 })));
    }
    let ingested = server
        .storage
        .insert_events(DEVICE, &events, "2026-11-30T02:00:01Z")
        .unwrap();
    assert_eq!(ingested.new, 14, "every event is kept as an event");
    assert_eq!(
        ingested.cases.len(),
        1 + 6,
        "the finished ticket it issued, and six general ratings in ten minutes: {ingested:?}"
    );
    let rated: Vec<String> = ingested
        .cases
        .iter()
        .filter_map(|(_, id)| server.storage.case(*id).unwrap())
        .filter_map(|c| c.rating.ticket.map(|t| t.number))
        .collect();
    assert_eq!(rated, std::slice::from_ref(&finished.1));
}

#[tokio::test]
async fn another_halls_manager_is_refused_and_audited_and_bad_input_is_refused() {
    let (server, _dir) = server();
    let admin = menpai_server::admin_router(server.clone());
    let (day, number, _, _) = finished_ticket(&server, "req-3");
    let ingested = server
        .storage
        .insert_events(
            DEVICE,
            &[OutboxEvent {
                key: "k1".into(),
                kind: "rating".into(),
                body: json!({ "level": 1, "ticket": { "day": day, "number": number } }),
                created_at: "2026-11-30T02:00:00.000Z".into(),
            }],
            "2026-11-30T02:00:01Z",
        )
        .unwrap();
    let id = ingested.cases[0].1;

    let b = login(&server, "manager-b");
    let (st, _, page) = send(&admin, "GET", &format!("/cases/{id}"), Some(&b), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("你没有这个大厅的评价整改权限"), "{page}");
    let (st, _, _) = send(
        &admin,
        "GET",
        &format!("/api/v1/cases/{id}"),
        Some(&b),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = send(
        &admin,
        "POST",
        &format!("/api/v1/cases/{id}/steps"),
        Some(&b),
        json_body(json!({ "step": "reply", "text": "不是我的大厅" })),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let refusals: Vec<_> = server
        .storage
        .audit_entries(50)
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.operator == "manager-b" && e.action == "cases.access" && e.outcome == "forbidden"
        })
        .collect();
    assert_eq!(refusals.len(), 3, "{refusals:?}");
    assert!(server.storage.case(id).unwrap().unwrap().steps.is_empty());
    // Their list holds only their hall's cases.
    let (_, _, list) = send(&admin, "GET", "/api/v1/cases?show=all", Some(&b), None).await;
    assert_eq!(
        serde_json::from_str::<Value>(&list).unwrap()["cases"],
        json!([])
    );
    let (_, _, page) = send(&admin, "GET", "/cases?show=all", Some(&b), None).await;
    assert!(!page.contains(&format!("case-{id}")), "{page}");
    // Window staff have no cases; without a session the page sends to the login.
    let staff = login(&server, "staff-a");
    let (st, _, _) = send(&admin, "GET", "/cases", Some(&staff), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, loc, _) = send(&admin, "GET", "/cases", None, None).await;
    assert!(
        st.is_redirection() && loc == "/login?next=%2Fcases",
        "{st} {loc}"
    );
    // The admin sees it (no hall manager needed).
    let root = login(&server, "ops-admin");
    let (st, _, page) = send(&admin, "GET", &format!("/cases/{id}"), Some(&root), None).await;
    assert_eq!(st, StatusCode::OK, "{page}");

    // Malformed and unknown input: clear 4xx, nothing stored.
    let a = login(&server, "manager-a");
    let steps = format!("/api/v1/cases/{id}/steps");
    for body in [
        "{\"step\": \"reply\", \"text\": ",
        "[1, 2]",
        "{\"step\": \"reply\"}",
        "{\"step\": \"approve\", \"text\": \"好\"}",
        "{\"step\": \"reply\", \"text\": \"   \"}",
    ] {
        let (st, _, answer) = send(
            &admin,
            "POST",
            &steps,
            Some(&a),
            Some(("application/json", body.to_owned())),
        )
        .await;
        assert!(st.is_client_error(), "{body}: {st} {answer}");
        assert!(answer.contains("error"), "{body}: {answer}");
    }
    let (st, _, _) = send(
        &admin,
        "POST",
        &format!("/cases/{id}"),
        Some(&a),
        Some((
            "application/x-www-form-urlencoded",
            "csrf=%ZZ&&=".to_owned(),
        )),
    )
    .await;
    assert!(st.is_client_error(), "{st}");
    assert!(server.storage.case(id).unwrap().unwrap().steps.is_empty());
    for path in ["/api/v1/cases/abc", "/api/v1/cases/999999", "/cases/-1"] {
        let (st, _, _) = send(&admin, "GET", path, Some(&a), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    for path in [
        "/api/v1/cases?show=everything",
        "/api/v1/cases/ranking?month=2026-13",
        "/cases/ranking?month=last",
    ] {
        let (st, _, _) = send(&admin, "GET", path, Some(&a), None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}");
    }
}
