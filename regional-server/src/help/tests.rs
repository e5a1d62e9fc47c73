//! Help calls through the routers (`oneshot`): a terminal's call reaches the duty view, the
//! live channel and (acknowledged, with the masked name) its stream; another hall's staff are
//! refused and audited; forms need the anti-forgery token; escalation with the moved clock;
//! a revoked terminal, oversized, malformed and over-long bodies refused with nothing stored.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use menpai_model::ContentPack;
use menpai_model::help::HelpStage;
use menpai_model::sync::StreamEvent;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use crate::config::Config;
use crate::live::Topic;
use crate::operators::{hash_password, open_session};
use crate::storage::{Device, EnrollmentToken, Role};
use crate::tls::PeerCert;
use crate::{Server, admin_router, content, device_router, queue};

const HALL: &str = "hall-futian";
const OTHER_HALL: &str = "hall-civic";
const FORM: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";
const CERT: &[u8] = b"a help test terminal's certificate";

fn server(escalate_after_s: u64) -> (Arc<Server>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        help_escalate_after_s: escalate_after_s,
        ..Config::default()
    };
    let server = Server::open(config).unwrap();
    let pack: ContentPack = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    let (version, _) = content::publish(
        server.storage.as_ref(),
        &server.content_key,
        pack.clone(),
        "test",
    )
    .unwrap();
    server.halls.replace_with(queue::Halls::from_pack(&pack));
    server.phone.replace(version, pack);
    let token = hex::encode(Sha256::digest(b"help-token"));
    server
        .storage
        .create_enrollment_token(
            &token,
            &EnrollmentToken {
                hall: HALL.into(),
                position: "entrance".into(),
                expires_at: i64::MAX / 2,
                used: false,
            },
            "test",
        )
        .unwrap();
    assert!(
        server
            .storage
            .redeem_enrollment(
                &token,
                0,
                &Device {
                    id: "dev-help".into(),
                    hall: HALL.into(),
                    position: "entrance".into(),
                    cert_sha256: hex::encode(Sha256::digest(CERT)),
                    enrolled_at: "2026-11-29T00:00:00Z".into(),
                    revoked_at: None,
                    training: false,
                },
            )
            .unwrap()
    );
    let hash = hash_password("a password nobody types").unwrap();
    for (name, display, halls) in [
        ("staff-a", "王小明", vec![HALL.to_owned()]),
        ("staff-b", "李四", vec![OTHER_HALL.to_owned()]),
    ] {
        server
            .storage
            .create_operator(name, display, Role::QueueStaff, &hash, &halls)
            .unwrap();
    }
    (Arc::new(server), dir)
}

fn login(server: &Server, name: &str) -> String {
    let op = server.storage.operator_by_name(name).unwrap().unwrap();
    let token = open_session(server, &op).unwrap();
    format!("menpai_session={token}; __Host-menpai-form={FORM}")
}

/// One request: status, `Location`, body.
async fn send(
    app: &Router,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<(&str, String)>,
    cert: bool,
) -> (StatusCode, String, String) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if let Some((kind, _)) = &body {
        req = req.header("content-type", *kind);
    }
    let mut req = req
        .body(Body::from(body.map(|(_, b)| b).unwrap_or_default()))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    if cert {
        req.extensions_mut()
            .insert(PeerCert(Some(Arc::new(CERT.to_vec()))));
    }
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    (
        status,
        location,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn json_body(v: Value) -> Option<(&'static str, String)> {
    Some(("application/json", v.to_string()))
}

fn form(fields: &[(&str, &str)]) -> Option<(&'static str, String)> {
    Some((
        "application/x-www-form-urlencoded",
        serde_urlencoded::to_string(fields).unwrap(),
    ))
}

fn stored(server: &Server) -> usize {
    server
        .storage
        .open_help_calls(None, false, 1000)
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_call_reaches_the_duty_view_and_comes_back_acknowledged_by_a_masked_name() {
    let (server, _dir) = server(60);
    let (admin, devices) = (admin_router(server.clone()), device_router(server.clone()));
    let mut live = server.live.subscribe();
    let mut stream = server.stream.subscribe();

    // The terminal calls; the hall and the position are its enrollment's.
    let call = json!({"id": "dev-help-1", "screen": "Guide", "item": "P43"});
    let (st, _, body) = send(
        &devices,
        "POST",
        "/device/v1/help",
        None,
        json_body(call.clone()),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let note = live.try_recv().unwrap();
    assert_eq!(
        (note.hall.as_str(), note.topic, note.id.as_str()),
        (HALL, Topic::Help, "dev-help-1")
    );
    let (st, _, _) = send(
        &devices,
        "POST",
        "/device/v1/help",
        None,
        json_body(call),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "the same id again is the same call");
    assert_eq!(stored(&server), 1);
    assert!(live.try_recv().is_err(), "nothing new to tell");
    match stream.try_recv().unwrap() {
        StreamEvent::Help { update } => {
            assert_eq!(
                (update.device.as_str(), update.stage),
                ("dev-help", HelpStage::Waiting)
            )
        }
        e => panic!("{e:?}"),
    }

    // The duty view of 福田's staff: hall and position by their Chinese names, what was in view.
    let a = login(&server, "staff-a");
    let (st, _, page) = send(&admin, "GET", "/duty", Some(&a), None, false).await;
    assert_eq!(st, StatusCode::OK);
    for want in [
        "大厅值班",
        "大厅入口",
        "办事指南",
        "P43",
        "马上到",
        "已处理",
        "/console/live?topics=help",
    ] {
        assert!(page.contains(want), "{want} missing from the duty view");
    }
    assert!(page.contains("福田"), "the hall by its name");
    // The staff page shows the hall's open calls too, on the same live channel.
    let (st, _, staff) = send(&admin, "GET", "/staff", Some(&a), None, false).await;
    assert_eq!(st, StatusCode::OK);
    for want in [
        "data-id=\"dev-help-1\"",
        "大厅入口",
        "/console/live?topics=help",
    ] {
        assert!(staff.contains(want), "{want} missing from the staff page");
    }
    let b = login(&server, "staff-b");
    let (_, _, staff_b) = send(&admin, "GET", "/staff", Some(&b), None, false).await;
    assert!(!staff_b.contains("dev-help-1"), "another hall's staff page");

    // A form without the anti-forgery token changes nothing.
    let (st, _, _) = send(
        &admin,
        "POST",
        "/duty/calls/dev-help-1/acknowledge",
        Some(&a),
        form(&[("back", "/duty")]),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(
        server
            .storage
            .help_call("dev-help-1")
            .unwrap()
            .unwrap()
            .stage,
        HelpStage::Waiting
    );

    // 马上到 from the page: the terminal hears who is coming, masked.
    let (st, location, _) = send(
        &admin,
        "POST",
        "/duty/calls/dev-help-1/acknowledge",
        Some(&a),
        form(&[("csrf", FORM), ("back", "/duty")]),
        false,
    )
    .await;
    assert_eq!((st, location.as_str()), (StatusCode::SEE_OTHER, "/duty"));
    match stream.try_recv().unwrap() {
        StreamEvent::Help { update } => {
            assert_eq!(update.stage, HelpStage::Acknowledged);
            assert_eq!(update.by.as_deref(), Some("王*"));
        }
        e => panic!("{e:?}"),
    }
    assert!(live.try_recv().is_ok());
    let (_, _, page) = send(&admin, "GET", "/duty/calls", Some(&a), None, false).await;
    assert!(page.contains("王小明 马上到"), "{page}");

    // 已处理 through the JSON API: the call leaves the list.
    let (st, _, body) = send(
        &admin,
        "POST",
        "/api/v1/help/calls/dev-help-1/resolve",
        Some(&a),
        None,
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (_, _, list) = send(&admin, "GET", "/api/v1/help/calls", Some(&a), None, false).await;
    assert_eq!(
        serde_json::from_str::<Value>(&list).unwrap()["calls"],
        json!([])
    );
    let audit = server.storage.audit_entries(50).unwrap();
    for action in ["help.acknowledge", "help.resolve"] {
        assert!(
            audit
                .iter()
                .any(|e| e.action == action && e.operator == "staff-a" && e.hall == HALL),
            "{action}"
        );
    }
}

#[tokio::test]
async fn another_halls_staff_are_refused_and_each_refusal_is_audited() {
    let (server, _dir) = server(60);
    let (admin, devices) = (admin_router(server.clone()), device_router(server.clone()));
    let call = json!({"id": "dev-help-2"});
    let (st, _, _) = send(
        &devices,
        "POST",
        "/device/v1/help",
        None,
        json_body(call),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let b = login(&server, "staff-b");
    // Their own list does not show it; asking for 福田 is refused.
    let (st, _, list) = send(&admin, "GET", "/api/v1/help/calls", Some(&b), None, false).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&list).unwrap()["calls"],
        json!([])
    );
    let (_, _, page) = send(&admin, "GET", "/duty", Some(&b), None, false).await;
    assert!(!page.contains("dev-help-2"));
    let refusals = [
        ("GET", "/api/v1/help/calls?hall=hall-futian", None),
        ("GET", "/duty?hall=hall-futian", None),
        ("POST", "/api/v1/help/calls/dev-help-2/acknowledge", None),
        ("POST", "/api/v1/help/calls/dev-help-2/resolve", None),
        (
            "POST",
            "/duty/calls/dev-help-2/acknowledge",
            form(&[("csrf", FORM), ("back", "/duty")]),
        ),
    ];
    for (method, path, body) in refusals {
        let (st, _, text) = send(&admin, method, path, Some(&b), body, false).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path}: {text}");
        assert!(text.contains("你没有这个大厅的呼叫处理权限"), "{text}");
    }
    let forbidden = server
        .storage
        .audit_entries(100)
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.action == "help.access" && e.operator == "staff-b" && e.outcome == "forbidden"
        })
        .count();
    assert_eq!(forbidden, 5, "each refusal is in the audit log");
    assert_eq!(
        server
            .storage
            .help_call("dev-help-2")
            .unwrap()
            .unwrap()
            .stage,
        HelpStage::Waiting
    );
}

#[tokio::test]
async fn an_unanswered_call_escalates_in_red_and_the_terminal_is_told() {
    let (server, _dir) = server(60);
    let (admin, devices) = (admin_router(server.clone()), device_router(server.clone()));
    let (st, _, _) = send(
        &devices,
        "POST",
        "/device/v1/help",
        None,
        json_body(json!({"id": "dev-help-3"})),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let mut stream = server.stream.subscribe();
    assert_eq!(super::calls::escalate_due(&server), 0, "not yet");
    server.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(super::calls::escalate_due(&server), 1);
    match stream.try_recv().unwrap() {
        StreamEvent::Help { update } => assert_eq!(update.stage, HelpStage::Escalated),
        e => panic!("{e:?}"),
    }
    let a = login(&server, "staff-a");
    let (_, _, page) = send(&admin, "GET", "/duty", Some(&a), None, false).await;
    assert!(
        page.contains("class=\"escalated\""),
        "escalated rows are marked red"
    );
    assert!(page.contains("超时未应答，已通知值班主任"));
    assert!(
        page.contains("1 分 01 秒") || page.contains("1 分 02 秒"),
        "the waiting time"
    );
    let audit = server.storage.audit_entries(20).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "help.escalate" && e.operator == "system")
    );
    // Still acknowledged afterwards.
    let (st, _, _) = send(
        &admin,
        "POST",
        "/api/v1/help/calls/dev-help-3/acknowledge",
        Some(&a),
        None,
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn bad_bodies_a_flood_and_a_revoked_terminal_are_refused_with_nothing_stored() {
    let (server, _dir) = server(60);
    let devices = device_router(server.clone());
    let huge = "x".repeat(crate::devices::DEVICE_BODY_LIMIT + 10);
    let bad = [
        (
            json_body(json!({"id": "a", "hall": "hall-civic"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some(("application/json", "{\"id\":".to_owned())),
            StatusCode::BAD_REQUEST,
        ),
        (json_body(json!({"id": "a b"})), StatusCode::BAD_REQUEST),
        (
            json_body(json!({"id": "x".repeat(65)})),
            StatusCode::BAD_REQUEST,
        ),
        (
            json_body(json!({"id": "ok", "screen": "屏".repeat(65)})),
            StatusCode::BAD_REQUEST,
        ),
        (
            json_body(json!({"id": "ok", "item": huge})),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (body, want) in bad {
        let (st, _, text) = send(&devices, "POST", "/device/v1/help", None, body, true).await;
        assert_eq!(st, want, "{text}");
        assert!(text.contains("error"), "{text}");
    }
    assert_eq!(stored(&server), 0);
    // Without a certificate: 401.
    let (st, _, _) = send(
        &devices,
        "POST",
        "/device/v1/help",
        None,
        json_body(json!({"id": "n"})),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // A stuck button: a few calls a minute, then 429.
    let mut statuses = Vec::new();
    for n in 0..(super::CALLS_PER_MINUTE + 1) {
        let call = json!({"id": format!("flood-{n}")});
        statuses.push(
            send(
                &devices,
                "POST",
                "/device/v1/help",
                None,
                json_body(call),
                true,
            )
            .await
            .0,
        );
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let taken = stored(&server);
    assert_eq!(taken, super::CALLS_PER_MINUTE as usize);

    // Revoked: refused in words, nothing stored.
    server
        .storage
        .revoke_device("dev-help", "2026-11-29T01:00:00Z")
        .unwrap();
    let (st, _, text) = send(
        &devices,
        "POST",
        "/device/v1/help",
        None,
        json_body(json!({"id": "late"})),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(text.contains("终端证书已吊销"), "{text}");
    assert_eq!(stored(&server), taken);
}
