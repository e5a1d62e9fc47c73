//! 帮代办, 上门取件 and 在线咨询 through the routers (`oneshot`): a terminal's request taken,
//! called back (the phone shown only to whoever took it, audited) and closed, followed at its
//! private link; a consultation answered; another hall's staff refused (audited); bad bodies,
//! over-long texts and a revoked terminal refused with nothing stored.

use std::sync::Arc;

use axum::http::StatusCode;
use menpai_server::config::Config;
use menpai_server::operators::hash_password;
use menpai_server::storage::Role;
use menpai_server::storage::requests::RequestFilter;
use menpai_server::{Server, admin_router, device_router, public_router};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod support;

use support::http::{CERT, FORM, form, json_body, login, send};

const HALL: &str = "hall-futian";
const OTHER_HALL: &str = "hall-civic";
const PHONE: &str = "13912345678";

/// The demo region published, a terminal enrolled in 福田, staff of 福田 (two) and of 市民中心.
fn server() -> (Arc<Server>, tempfile::TempDir) {
    server_with(Config::default())
}

fn server_with(config: Config) -> (Arc<Server>, tempfile::TempDir) {
    let (server, dir) = support::published(config);
    support::enroll(
        &server,
        "dev-test",
        HALL,
        "entrance",
        &hex::encode(Sha256::digest(CERT)),
    );
    let hash = hash_password("a password nobody types").unwrap();
    for (name, halls) in [
        ("staff-a", vec![HALL.to_owned()]),
        ("staff-a2", vec![HALL.to_owned()]),
        ("staff-b", vec![OTHER_HALL.to_owned()]),
    ] {
        server
            .storage
            .create_operator(name, name, Role::QueueStaff, &hash, &halls)
            .unwrap();
    }
    (Arc::new(server), dir)
}

fn stored(server: &Server) -> usize {
    server
        .storage
        .requests(&RequestFilter {
            limit: 1000,
            ..RequestFilter::default()
        })
        .unwrap()
        .len()
}

/// The state the private page shows (every step's label is listed; this is the current one).
fn state_of(body: &str) -> String {
    let from = body.find("id=\"state\">").expect("a state on the page") + 11;
    body[from..from + body[from..].find('<').unwrap()].to_owned()
}

fn kiosk_request() -> Value {
    json!({ "kind": "assist", "item": null, "help": "帮我填表和准备材料", "name": "王先生",
            "phone": PHONE, "time": "明天上午" })
}

/// The private link's path of a receipt.
fn private_path(receipt: &Value) -> String {
    let link = receipt["link"].as_str().unwrap();
    link[link.find("/r/").unwrap()..].to_owned()
}

#[tokio::test]
async fn a_kiosk_request_is_taken_called_back_and_closed_and_followed_at_its_private_link() {
    let (server, _dir) = server();
    let (public, admin, devices) = (
        public_router(server.clone()),
        admin_router(server.clone()),
        device_router(server.clone()),
    );
    let r = send(
        &devices,
        "POST",
        "/device/v1/requests",
        None,
        json_body(kiosk_request()),
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let receipt: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(receipt["phone"], "139****5678");
    let id = receipt["id"].as_str().unwrap().to_owned();
    let private = private_path(&receipt);

    let page = send(&public, "GET", &private, None, None, false).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(state_of(&page.body), "已提交，等待受理");
    assert!(page.body.contains("139****5678") && !page.body.contains(PHONE));
    assert!(page.body.contains("王*生"), "the name masked");

    let a = login(&server, "staff-a");
    let a2 = login(&server, "staff-a2");
    let list = send(&admin, "GET", "/requests", Some(&a), None, false).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&id) && list.body.contains("139****5678"));
    assert!(!list.body.contains(PHONE));

    let act = |action: &'static str, text: &'static str| {
        form(&[("csrf", FORM), ("action", action), ("text", text)])
    };
    let path = format!("/requests/{id}");
    let took = send(&admin, "POST", &path, Some(&a), act("take", ""), false).await;
    assert_eq!(took.status, StatusCode::SEE_OTHER, "{}", took.body);
    // Only whoever took it may see the number.
    let phone_path = format!("/requests/{id}/phone");
    let other = send(
        &admin,
        "POST",
        &phone_path,
        Some(&a2),
        form(&[("csrf", FORM)]),
        false,
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert!(!other.body.contains(PHONE));
    let shown = send(
        &admin,
        "POST",
        &phone_path,
        Some(&a),
        form(&[("csrf", FORM)]),
        false,
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(
        shown.body.contains(&format!("tel:{PHONE}")),
        "{}",
        shown.body
    );
    let page = send(&admin, "GET", &path, Some(&a), None, false).await;
    assert!(
        !page.body.contains(PHONE),
        "shown once, not kept on the page"
    );
    let page = send(&public, "GET", &private, None, None, false).await;
    assert_eq!(state_of(&page.body), "工作人员已受理");

    let called = send(
        &admin,
        "POST",
        &path,
        Some(&a),
        act("called_back", "已电话联系，约明天上午十点"),
        false,
    )
    .await;
    assert_eq!(called.status, StatusCode::SEE_OTHER);
    let page = send(&public, "GET", &private, None, None, false).await;
    assert_eq!(state_of(&page.body), "工作人员已回电");
    assert!(page.body.contains("约明天上午十点"));
    // Closing twice: the second is refused.
    let closed = send(
        &admin,
        "POST",
        &path,
        Some(&a),
        act("close", "已代办完成，证件已寄出"),
        false,
    )
    .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER);
    let again = send(
        &admin,
        "POST",
        &path,
        Some(&a),
        act("close", "再办结一次"),
        false,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let page = send(&public, "GET", &private, None, None, false).await;
    assert_eq!(state_of(&page.body), "已办结");
    assert!(page.body.contains("证件已寄出"));
    assert!(!page.body.contains("再办结一次"));

    let audit = server.storage.audit_entries(100).unwrap();
    let has = |action: &str, outcome: &str| {
        audit
            .iter()
            .any(|e| e.action == action && e.detail == id && e.outcome == outcome)
    };
    assert!(has("requests.take", "ok"));
    assert!(has("requests.phone_shown", "ok") && has("requests.phone_shown", "forbidden"));
    assert!(has("requests.called_back", "ok") && has("requests.close", "ok"));
    assert!(has("requests.close", "refused"));

    // An unknown or malformed token: the plain not-found page.
    let missing = send(
        &public,
        "GET",
        &format!("/r/{}", "a".repeat(48)),
        None,
        None,
        false,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("没有找到"));
    let bad = send(&public, "GET", "/r/x", None, None, false).await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_question_from_the_phone_page_is_answered_and_read_at_the_private_link() {
    let (server, _dir) = server();
    let (public, admin) = (public_router(server.clone()), admin_router(server.clone()));
    let hall = send(&public, "GET", &format!("/h/{HALL}"), None, None, false).await;
    assert!(hall.body.contains(&format!("/ask/{HALL}?kind=consult")));
    let page = send(
        &public,
        "GET",
        &format!("/ask/{HALL}?kind=consult"),
        None,
        None,
        false,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("在线咨询") && page.body.contains("您的问题"));
    let cookie = format!("__Host-menpai-form={FORM}");
    let asked = send(
        &public,
        "POST",
        &format!("/ask/{HALL}"),
        Some(&cookie),
        form(&[
            ("csrf", FORM),
            ("kind", "consult"),
            ("text", "异地就医备案需要带什么？"),
            ("name", ""),
            ("phone", ""),
        ]),
        false,
    )
    .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    assert!(asked.location.starts_with("/r/"));
    let page = send(&public, "GET", &asked.location, None, None, false).await;
    assert!(
        page.body.contains("异地就医备案需要带什么？")
            && state_of(&page.body) == "已提交，等待受理"
    );

    let a = login(&server, "staff-a");
    let listed = send(
        &admin,
        "GET",
        "/api/v1/requests?kind=consult",
        Some(&a),
        None,
        false,
    )
    .await;
    let listed: Value = serde_json::from_str(&listed.body).unwrap();
    let id = listed["requests"][0]["id"].as_str().unwrap().to_owned();
    let too_long = "长".repeat(1001);
    let refused = send(
        &admin,
        "POST",
        &format!("/api/v1/requests/{id}/actions"),
        Some(&a),
        json_body(json!({ "action": "answer", "text": too_long })),
        false,
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("最多 1000 个字"), "{}", refused.body);
    let answered = send(
        &admin,
        "POST",
        &format!("/api/v1/requests/{id}/actions"),
        Some(&a),
        json_body(json!({ "action": "answer", "text": "带社保卡和身份证，可在网上办理。" })),
        false,
    )
    .await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    let page = send(&public, "GET", &asked.location, None, None, false).await;
    assert_eq!(state_of(&page.body), "已答复");
    assert!(page.body.contains("带社保卡和身份证"));
    assert!(page.body.contains("工作人员"));
    assert!(
        !page.body.contains("staff-a"),
        "a login name is not shown to citizens"
    );
    assert!(!page.body.contains(&too_long));
}

#[tokio::test]
async fn staff_of_another_hall_are_refused_and_each_refusal_is_audited() {
    let (server, _dir) = server();
    let (admin, devices) = (admin_router(server.clone()), device_router(server.clone()));
    let r = send(
        &devices,
        "POST",
        "/device/v1/requests",
        None,
        json_body(kiosk_request()),
        true,
    )
    .await;
    let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = login(&server, "staff-b");
    let page = send(
        &admin,
        "GET",
        &format!("/requests/{id}"),
        Some(&b),
        None,
        false,
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("你没有这个大厅的帮办和咨询权限"));
    let api = send(
        &admin,
        "GET",
        &format!("/api/v1/requests/{id}"),
        Some(&b),
        None,
        false,
    )
    .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    let took = send(
        &admin,
        "POST",
        &format!("/requests/{id}"),
        Some(&b),
        form(&[("csrf", FORM), ("action", "take")]),
        false,
    )
    .await;
    assert_eq!(took.status, StatusCode::FORBIDDEN);
    let list = send(
        &admin,
        "GET",
        &format!("/api/v1/requests?hall={HALL}"),
        Some(&b),
        None,
        false,
    )
    .await;
    assert_eq!(list.status, StatusCode::FORBIDDEN);
    let own = send(&admin, "GET", "/requests", Some(&b), None, false).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        !own.body.contains(&id),
        "another hall's request is not listed"
    );
    // Made-up halls are not found, and fill no audit log.
    for i in 0..5 {
        let list = send(
            &admin,
            "GET",
            &format!("/api/v1/requests?hall=made-up-{i}"),
            Some(&b),
            None,
            false,
        )
        .await;
        assert_eq!(list.status, StatusCode::NOT_FOUND, "{}", list.body);
    }
    let refusals = server
        .storage
        .audit_entries(100)
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.operator == "staff-b" && e.action == "requests.access" && e.outcome == "forbidden"
        })
        .count();
    assert_eq!(refusals, 4, "every refusal is in the audit log");
    let state = server.storage.request(&id).unwrap().unwrap();
    assert!(state.taken_by.is_none(), "nothing changed");
}

#[tokio::test]
async fn bad_bodies_over_long_texts_and_a_revoked_terminal_are_refused_with_nothing_stored() {
    let (server, _dir) = server();
    let (public, devices) = (public_router(server.clone()), device_router(server.clone()));
    let post = |body: Option<(&'static str, String)>| {
        let devices = devices.clone();
        async move { send(&devices, "POST", "/device/v1/requests", None, body, true).await }
    };
    let malformed = post(Some((
        "application/json",
        "{\"kind\": \"assist\", \"help\":".into(),
    )))
    .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.body.contains("请求体有误"));
    let mut unknown = kiosk_request();
    unknown["hall"] = json!(OTHER_HALL);
    let r = post(json_body(unknown)).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the hall is the terminal's"
    );
    assert!(
        r.body.contains("请求体有误") && r.body.contains("hall"),
        "{}",
        r.body
    );
    let mut long = kiosk_request();
    long["help"] = json!("帮".repeat(501));
    let r = post(json_body(long)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("最多 500 个字"), "{}", r.body);
    let mut phone = kiosk_request();
    phone["phone"] = json!("1391234567");
    let r = post(json_body(phone)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("11 位"));
    let huge = format!("{{\"help\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    assert_eq!(
        post(json_body_raw(huge)).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    let cookie = format!("__Host-menpai-form={FORM}");
    let long_text = "问".repeat(501);
    let fields = [
        ("csrf", FORM),
        ("kind", "assist"),
        ("text", long_text.as_str()),
        ("phone", PHONE),
        ("time", "今天"),
    ];
    let page = send(
        &public,
        "POST",
        &format!("/ask/{HALL}"),
        Some(&cookie),
        form(&fields),
        false,
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("最多 500 个字"));
    let no_token = send(
        &public,
        "POST",
        &format!("/ask/{HALL}"),
        None,
        form(&fields[1..]),
        false,
    )
    .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let too_big = "x".repeat(server.config.max_body_bytes + 1);
    let big = send(
        &public,
        "POST",
        &format!("/ask/{HALL}"),
        Some(&cookie),
        form(&[("text", &too_big)]),
        false,
    )
    .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(stored(&server), 0, "nothing stored");

    server
        .storage
        .revoke_device("dev-test", "2026-11-29T01:00:00Z")
        .unwrap();
    let r = post(json_body(kiosk_request())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("吊销"));
    assert_eq!(stored(&server), 0, "nothing stored from a revoked terminal");
}

fn json_body_raw(s: String) -> Option<(&'static str, String)> {
    Some(("application/json", s))
}

#[tokio::test]
async fn a_request_from_a_terminal_in_training_is_marked_and_never_called_back() {
    let (server, _dir) = server();
    let (admin, devices) = (admin_router(server.clone()), device_router(server.clone()));
    server.storage.set_training("dev-test", true).unwrap();
    let r = send(
        &devices,
        "POST",
        "/device/v1/requests",
        None,
        json_body(kiosk_request()),
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(server.storage.request(&id).unwrap().unwrap().training);
    let a = login(&server, "staff-a");
    let page = send(
        &admin,
        "GET",
        &format!("/requests/{id}"),
        Some(&a),
        None,
        false,
    )
    .await;
    assert!(page.body.contains("不是真实请求，不回电"), "{}", page.body);
    let path = format!("/requests/{id}");
    let took = send(
        &admin,
        "POST",
        &path,
        Some(&a),
        form(&[("csrf", FORM), ("action", "take")]),
        false,
    )
    .await;
    assert_eq!(took.status, StatusCode::SEE_OTHER);
    let shown = send(
        &admin,
        "POST",
        &format!("{path}/phone"),
        Some(&a),
        form(&[("csrf", FORM)]),
        false,
    )
    .await;
    assert_eq!(shown.status, StatusCode::CONFLICT);
    assert!(shown.body.contains("培训模式的请求不回电") && !shown.body.contains(PHONE));
}

#[tokio::test]
async fn the_phone_form_is_paced_per_client_address() {
    let (server, _dir) = server_with(Config {
        booking_per_ip_per_hour: 2,
        ..Config::default()
    });
    let public = public_router(server.clone());
    let cookie = format!("__Host-menpai-form={FORM}");
    let ask = || {
        form(&[
            ("csrf", FORM),
            ("kind", "consult"),
            ("text", "营业执照怎么办？"),
        ])
    };
    for _ in 0..2 {
        let r = send(
            &public,
            "POST",
            &format!("/ask/{HALL}"),
            Some(&cookie),
            ask(),
            false,
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let r = send(
        &public,
        "POST",
        &format!("/ask/{HALL}"),
        Some(&cookie),
        ask(),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("操作太频繁"), "{}", r.body);
    assert_eq!(stored(&server), 2, "the third was not stored");
}
