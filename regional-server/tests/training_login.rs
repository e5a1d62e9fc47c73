//! Training logins (培训登录) through the routers: a window clerk practising sees and handles
//! only what training terminals made, never calls a citizen's ticket, never touches accounts;
//! a real login is unchanged. The login form offers it, and a console page asked for before
//! logging in is where the login goes back to.

use std::sync::Arc;

use axum::http::StatusCode;
use menpai_server::config::Config;
use menpai_server::operators::hash_password;
use menpai_server::storage::Role;
use menpai_server::{Server, admin_router, device_router};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod support;

use support::http::{CERT, FORM, form, json_body, login, send, training_login};

const HALL: &str = "hall-futian";
const PASSWORD: &str = "a password nobody types";

/// The demo region, a terminal in 福田, a window clerk of 福田 and an admin.
fn server() -> (Arc<Server>, tempfile::TempDir) {
    let (server, dir) = support::published(Config::default());
    support::enroll(
        &server,
        "dev-test",
        HALL,
        "entrance",
        &hex::encode(Sha256::digest(CERT)),
    );
    let hash = hash_password(PASSWORD).unwrap();
    let halls = [HALL.to_owned()];
    for (name, role) in [("clerk", Role::QueueStaff), ("boss", Role::Admin)] {
        server
            .storage
            .create_operator(name, name, role, &hash, &halls)
            .unwrap();
    }
    (Arc::new(server), dir)
}

fn ids(body: &str, list: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(body).unwrap();
    let mut ids: Vec<String> = v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn audited(server: &Server, action: &str, outcome: &str) -> usize {
    server
        .storage
        .audit_entries(500)
        .unwrap()
        .iter()
        .filter(|e| e.action == action && e.outcome == outcome)
        .count()
}

#[tokio::test]
async fn a_training_login_works_only_on_training_records_and_never_calls_a_ticket() {
    let (server, _dir) = server();
    let (admin, devices) = (admin_router(server.clone()), device_router(server.clone()));
    let request = json!({ "kind": "assist", "item": null, "help": "帮我填表", "name": "王先生",
                          "phone": "13912345678", "time": "明天上午" });

    // The terminal makes a real call and request, then practises one of each.
    let mut request_ids = Vec::new();
    for (training, call) in [(false, "call-real"), (true, "call-practice")] {
        server.storage.set_training("dev-test", training).unwrap();
        let body = json!({ "id": call, "screen": "Home", "item": "" });
        let r = send(
            &devices,
            "POST",
            "/device/v1/help",
            None,
            json_body(body),
            true,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = send(
            &devices,
            "POST",
            "/device/v1/requests",
            None,
            json_body(request.clone()),
            true,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        request_ids.push(v["id"].as_str().unwrap().to_owned());
    }
    server.storage.set_training("dev-test", false).unwrap();
    let (real_request, practice_request) = (&request_ids[0], &request_ids[1]);
    // A citizen waits with a real ticket.
    let hall = server.halls.get(HALL).unwrap();
    let (&window, serves) = hall.windows.iter().next().unwrap();
    let ticket = json!({ "request_id": "t-1", "prefix": serves[0] });
    let r = send(
        &devices,
        "POST",
        "/device/v1/queue/tickets",
        None,
        json_body(ticket),
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let number = serde_json::from_str::<Value>(&r.body).unwrap()["number"]
        .as_str()
        .unwrap()
        .to_owned();

    let practice = training_login(&server, "clerk");
    let real = login(&server, "clerk");

    // Every console page says it is practice.
    let page = send(&admin, "GET", "/duty", Some(&practice), None, false).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"training-login\""), "{}", page.body);
    assert!(page.body.contains("不会叫真实号码"));
    let page = send(&admin, "GET", "/duty", Some(&real), None, false).await;
    assert!(!page.body.contains("id=\"training-login\""));

    // Lists: the practice login sees only practice; the real login sees both.
    let calls = |who: String| {
        let admin = admin.clone();
        async move { send(&admin, "GET", "/api/v1/help/calls", Some(&who), None, false).await }
    };
    assert_eq!(
        ids(&calls(practice.clone()).await.body, "calls"),
        ["call-practice"]
    );
    assert_eq!(
        ids(&calls(real.clone()).await.body, "calls"),
        ["call-practice", "call-real"]
    );
    let listed = send(
        &admin,
        "GET",
        "/api/v1/requests",
        Some(&practice),
        None,
        false,
    )
    .await;
    assert_eq!(ids(&listed.body, "requests"), [practice_request.as_str()]);
    let listed = send(&admin, "GET", "/api/v1/requests", Some(&real), None, false).await;
    assert_eq!(ids(&listed.body, "requests").len(), 2);

    // Acting on a citizen's call or request is refused (and audited); practice goes through.
    let refusals = audited(&server, "help.access", "forbidden");
    let ack = |id: &str| format!("/duty/calls/{id}/acknowledge");
    let r = send(
        &admin,
        "POST",
        &ack("call-real"),
        Some(&practice),
        form(&[("csrf", FORM)]),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("培训登录只能处理培训记录"), "{}", r.body);
    assert_eq!(audited(&server, "help.access", "forbidden"), refusals + 1);
    assert_eq!(
        server
            .storage
            .help_call("call-real")
            .unwrap()
            .unwrap()
            .acknowledged_by,
        None,
        "the citizen's call is untouched"
    );
    let r = send(
        &admin,
        "POST",
        &ack("call-practice"),
        Some(&practice),
        form(&[("csrf", FORM)]),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = send(
        &admin,
        "GET",
        &format!("/requests/{real_request}"),
        Some(&practice),
        None,
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = send(
        &admin,
        "GET",
        &format!("/requests/{practice_request}"),
        Some(&practice),
        None,
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // No ticket is called from a practice login, by page or API; the real login calls it.
    let page = send(
        &admin,
        "GET",
        &format!("/staff?hall={HALL}&window={window}"),
        Some(&practice),
        None,
        false,
    )
    .await;
    assert!(page.body.contains("id=\"training-queue\""), "{}", page.body);
    let w = window.to_string();
    let r = send(
        &admin,
        "POST",
        "/staff",
        Some(&practice),
        form(&[
            ("csrf", FORM),
            ("hall", HALL),
            ("window", &w),
            ("action", "call_next"),
        ]),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("培训登录不能叫真实号码"), "{}", r.body);
    let api = format!("/api/v1/queue/{HALL}/windows/{window}");
    let call_next = || json_body(json!({ "action": "call_next" }));
    let r = send(&admin, "POST", &api, Some(&practice), call_next(), false).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let t = send(
        &admin,
        "GET",
        &format!("/api/v1/queue/{HALL}/tickets/{number}"),
        Some(&real),
        None,
        false,
    )
    .await;
    assert!(t.body.contains("\"waiting\""), "still waiting: {}", t.body);
    let r = send(&admin, "POST", &api, Some(&real), call_next(), false).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains(&number), "{}", r.body);

    // An admin practising changes no account.
    let boss = training_login(&server, "boss");
    let r = send(&admin, "GET", "/operators", Some(&boss), None, false).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("培训登录不能做管理"), "{}", r.body);
}

#[tokio::test]
async fn the_login_form_offers_training_and_goes_back_to_the_page_asked_for() {
    let (server, _dir) = server();
    let admin = admin_router(server.clone());

    // A page asked for without a session: the login, then back to it.
    let r = send(&admin, "GET", "/duty", None, None, false).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/login?next=%2Fduty");
    let page = send(&admin, "GET", &r.location, None, None, false).await;
    assert!(
        page.body.contains("name=\"next\" value=\"/duty\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("培训登录"), "{}", page.body);

    let log_in = |fields: Vec<(&'static str, &'static str)>| {
        let admin = admin.clone();
        async move {
            let mut all = vec![("name", "clerk"), ("password", PASSWORD)];
            all.extend(fields);
            send(&admin, "POST", "/login", None, form(&all), false).await
        }
    };
    let r = log_in(vec![("next", "/duty"), ("training", "on")]).await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (StatusCode::SEE_OTHER, "/duty")
    );
    assert_eq!(audited(&server, "login.training", "ok"), 1);
    // Another site is never a place to go back to.
    for evil in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
    ] {
        let r = log_in(vec![("next", evil)]).await;
        assert_eq!(
            (r.status, r.location.as_str()),
            (StatusCode::SEE_OTHER, "/staff")
        );
    }
    assert_eq!(audited(&server, "login", "ok"), 4);
}

#[tokio::test]
async fn a_password_changed_in_a_training_login_keeps_it_a_training_login() {
    let (server, _dir) = server();
    let admin = admin_router(server.clone());
    let practice = training_login(&server, "clerk");
    let chosen = "another password nobody types";
    let r = send(
        &admin,
        "POST",
        "/account/password",
        Some(&practice),
        form(&[
            ("csrf", FORM),
            ("current", PASSWORD),
            ("new", chosen),
            ("again", chosen),
        ]),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let session = r.session.expect("a new session");
    let cookie = format!("{session}; __Host-menpai-form={FORM}");
    let page = send(&admin, "GET", "/duty", Some(&cookie), None, false).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("id=\"training-login\""),
        "still practice: {}",
        page.body
    );
}
