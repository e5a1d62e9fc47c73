//! Remote commands through the routers (`oneshot`): an admin's command kept until its terminal
//! fetches it and reports (queued → sent → done, each step audited with the operator); a
//! screenshot's file kept and served to those who may see it; a hall's terminals commanded at
//! once; a viewer, another hall's manager and a training login refused (audited); another
//! terminal's command, a second report, forged or oversized files and out-of-bounds arguments
//! refused; a command whose terminal stayed away expires.

use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine;
use menpai_model::commands::{ATTACHMENT_MAX_BYTES, CommandState};
use menpai_server::config::Config;
use menpai_server::operators::hash_password;
use menpai_server::storage::Role;
use menpai_server::{Server, admin_router, device_router};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod support;

use support::http::{CERT, json_body, login, send, training_login};

const HALL: &str = "hall-futian";
const OTHER_HALL: &str = "hall-civic";

/// The demo region, this test's terminal and a second one in 福田, a third in 市民中心; an
/// admin, a viewer, a hall manager of each hall.
fn server() -> (Arc<Server>, tempfile::TempDir) {
    let (server, dir) = support::published(Config::default());
    support::enroll(
        &server,
        "dev-test",
        HALL,
        "entrance",
        &hex::encode(Sha256::digest(CERT)),
    );
    support::enroll(&server, "dev-second", HALL, "floor-2", &"b".repeat(64));
    support::enroll(
        &server,
        "dev-civic",
        OTHER_HALL,
        "entrance",
        &"c".repeat(64),
    );
    let hash = hash_password("a password nobody types").unwrap();
    for (name, role, halls) in [
        ("ops-admin", Role::Admin, vec![]),
        ("duty-viewer", Role::Viewer, vec![]),
        ("manager-futian", Role::HallManager, vec![HALL.to_owned()]),
        (
            "manager-civic",
            Role::HallManager,
            vec![OTHER_HALL.to_owned()],
        ),
    ] {
        server
            .storage
            .create_operator(name, name, role, &hash, &halls)
            .unwrap();
    }
    (Arc::new(server), dir)
}

fn audit(server: &Server, action: &str) -> Vec<(String, String, String)> {
    server
        .storage
        .audit_entries(1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| (e.operator, e.detail, e.outcome))
        .collect()
}

fn png() -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::from_pixel(8, 8, image::Rgb([200, 80, 20]))
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_is_kept_until_its_terminal_reports_and_every_step_is_audited() {
    let (server, _dir) = server();
    let admin = admin_router(server.clone());
    let device = device_router(server.clone());
    let cookie = login(&server, "ops-admin");

    // Queued while the terminal is away; its live stream (here: the broadcast) is told.
    let mut stream = server.stream.subscribe();
    let sent = send(
        &admin,
        "POST",
        "/api/v1/admin/devices/dev-test/commands",
        Some(&cookie),
        json_body(json!({"kind": "notice", "text": "系统维护，请到窗口办理", "minutes": 30})),
        false,
    )
    .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let queued: Value = serde_json::from_str(&sent.body).unwrap();
    let id = queued["id"].as_str().unwrap().to_owned();
    assert_eq!(queued["state"], "queued");
    assert_eq!(queued["label"], "维护公告 30 分钟");
    match stream.try_recv().unwrap() {
        menpai_model::sync::StreamEvent::Commands { device } => assert_eq!(device, "dev-test"),
        other => panic!("the stream was told {other:?}"),
    }

    // The terminal fetches it (sent); fetched again after a reconnect, it is still there.
    for _ in 0..2 {
        let got = send(&device, "GET", "/device/v1/commands", None, None, true).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
        let got: Value = serde_json::from_str(&got.body).unwrap();
        assert_eq!(got.as_array().unwrap().len(), 1, "{got}");
        assert_eq!(got[0]["id"], id.as_str());
        assert_eq!(got[0]["command"]["kind"], "notice");
        assert_eq!(got[0]["command"]["text"], "系统维护，请到窗口办理");
    }
    let listed = send(
        &admin,
        "GET",
        "/api/v1/admin/devices/dev-test/commands",
        Some(&cookie),
        None,
        false,
    )
    .await;
    let listed: Value = serde_json::from_str(&listed.body).unwrap();
    assert_eq!(listed["commands"][0]["state"], "sent");
    assert_eq!(listed["commands"][0]["state_label"], "终端执行中");

    // Its result: done; reported twice, the second is refused and changes nothing.
    let path = format!("/device/v1/commands/{id}");
    let done = send(
        &device,
        "POST",
        &path,
        None,
        json_body(json!({"ok": true, "message": "公告已显示"})),
        true,
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let again = send(
        &device,
        "POST",
        &path,
        None,
        json_body(json!({"ok": false, "message": "再报一次"})),
        true,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("完成"), "{}", again.body);
    let kept = server.storage.command(&id).unwrap().unwrap();
    assert_eq!(kept.state, CommandState::Done);
    assert_eq!(kept.message, "公告已显示");
    let got = send(&device, "GET", "/device/v1/commands", None, None, true).await;
    assert_eq!(got.body, "[]", "a finished command is not fetched again");

    // Every step in the audit log, with the operator who sent it.
    for action in ["command.queued", "command.sent", "command.done"] {
        let entries = audit(&server, action);
        assert_eq!(entries.len(), 1, "{action}: {entries:?}");
        assert_eq!(entries[0].0, "ops-admin", "{action}");
        assert!(entries[0].1.contains(&id), "{action}: {entries:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_screenshot_is_kept_and_shown_only_to_those_who_may_command_its_terminal() {
    let (server, _dir) = server();
    let admin = admin_router(server.clone());
    let device = device_router(server.clone());
    let manager = login(&server, "manager-futian");
    let sent = send(
        &admin,
        "POST",
        "/api/v1/admin/devices/dev-test/commands",
        Some(&manager),
        json_body(json!({"kind": "screenshot"})),
        false,
    )
    .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let id = serde_json::from_str::<Value>(&sent.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/device/v1/commands/{id}");
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);

    // Not a PNG, not an allowed type, too large: refused, the command still open.
    for (attachment, status) in [
        (
            json!({"content_type": "image/png", "base64": b64(b"GIF89a not a png")}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"content_type": "text/html", "base64": b64(b"<script>")}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"content_type": "image/png", "base64": "!!not base64!!"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = send(
            &device,
            "POST",
            &path,
            None,
            json_body(json!({"ok": true, "attachment": attachment})),
            true,
        )
        .await;
        assert_eq!(r.status, status, "{}", r.body);
    }
    let mut huge = png();
    huge.resize(ATTACHMENT_MAX_BYTES + 1, 0);
    let r = send(
        &device,
        "POST",
        &path,
        None,
        json_body(
            json!({"ok": true, "attachment": {"content_type": "image/png", "base64": b64(&huge)}}),
        ),
        true,
    )
    .await;
    assert!(
        r.status == StatusCode::PAYLOAD_TOO_LARGE || r.status == StatusCode::BAD_REQUEST,
        "{} {}",
        r.status,
        r.body
    );
    assert_eq!(
        server.storage.command(&id).unwrap().unwrap().state,
        CommandState::Queued
    );

    // The real picture: kept, and served as it came.
    let picture = png();
    let r = send(
        &device,
        "POST",
        &path,
        None,
        json_body(
            json!({"ok": true, "attachment": {"content_type": "image/png", "base64": b64(&picture)}}),
        ),
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let href = format!("/api/v1/admin/commands/{id}/attachment");
    let got = support::http::send_bytes(&admin, &href, &manager).await;
    assert_eq!(got.0, StatusCode::OK);
    assert_eq!(got.1, "image/png");
    assert_eq!(got.2, picture);
    assert_eq!(audit(&server, "command.attachment").len(), 1);

    // Another hall's manager and a viewer do not see it (audited).
    for who in ["manager-civic", "duty-viewer"] {
        let got = support::http::send_bytes(&admin, &href, &login(&server, who)).await;
        assert_eq!(got.0, StatusCode::FORBIDDEN, "{who}");
    }
    let refused = audit(&server, "command.attachment");
    assert_eq!(
        refused.iter().filter(|e| e.2 == "forbidden").count(),
        2,
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn who_may_send_commands_is_checked_and_refusals_are_audited() {
    let (server, _dir) = server();
    let admin = admin_router(server.clone());
    let notice = || json_body(json!({"kind": "restart_ui"}));
    // Another hall's manager is not told the terminal exists (404); every refusal is audited.
    for (cookie, who, status, outcome) in [
        (
            login(&server, "duty-viewer"),
            "duty-viewer",
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            login(&server, "manager-civic"),
            "manager-civic",
            StatusCode::NOT_FOUND,
            "not found",
        ),
        (
            training_login(&server, "manager-futian"),
            "manager-futian",
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    ] {
        let r = send(
            &admin,
            "POST",
            "/api/v1/admin/devices/dev-test/commands",
            Some(&cookie),
            notice(),
            false,
        )
        .await;
        assert_eq!(r.status, status, "{who}: {}", r.body);
        let refused = audit(&server, "command.queued");
        assert!(
            refused.iter().any(|e| e.0 == who && e.2 == outcome),
            "{who}: {refused:?}"
        );
    }
    assert!(
        server
            .storage
            .device_commands("dev-test", 10)
            .unwrap()
            .is_empty()
    );

    // A hall's manager commands the hall's terminals at once, not the other hall's.
    let manager = login(&server, "manager-futian");
    let r = send(
        &admin,
        "POST",
        &format!("/api/v1/admin/halls/{HALL}/commands"),
        Some(&manager),
        json_body(json!({"kind": "self_test"})),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ids: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(ids["ids"].as_array().unwrap().len(), 2, "{ids}");
    for d in ["dev-test", "dev-second"] {
        assert_eq!(
            server.storage.device_commands(d, 10).unwrap().len(),
            1,
            "{d}"
        );
    }
    let r = send(
        &admin,
        "POST",
        &format!("/api/v1/admin/halls/{OTHER_HALL}/commands"),
        Some(&manager),
        json_body(json!({"kind": "self_test"})),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        server
            .storage
            .device_commands("dev-civic", 10)
            .unwrap()
            .is_empty()
    );

    // Out of bounds (400), unknown or not a command at all (422): nothing kept.
    for body in [
        json!({"kind": "notice", "text": "长".repeat(121), "minutes": 5}),
        json!({"kind": "notice", "text": "  ", "minutes": 5}),
        json!({"kind": "collect_logs", "minutes": 100000}),
        json!({"kind": "log_level", "level": "off", "minutes": 5}),
        json!({"kind": "shell", "command": "rm -rf /"}),
    ] {
        let r = send(
            &admin,
            "POST",
            "/api/v1/admin/devices/dev-civic/commands",
            Some(&login(&server, "ops-admin")),
            json_body(body.clone()),
            false,
        )
        .await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {} {}",
            r.status,
            r.body
        );
    }
    assert!(
        server
            .storage
            .device_commands("dev-civic", 10)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_terminal_reports_only_its_own_commands_and_a_late_one_expires() {
    let (server, _dir) = server();
    let admin = admin_router(server.clone());
    let device = device_router(server.clone());
    let cookie = login(&server, "ops-admin");
    let mut ids = Vec::new();
    for d in ["dev-civic", "dev-test"] {
        let r = send(
            &admin,
            "POST",
            &format!("/api/v1/admin/devices/{d}/commands"),
            Some(&cookie),
            json_body(json!({"kind": "reboot"})),
            false,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(
            serde_json::from_str::<Value>(&r.body).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // This test's terminal (dev-test) cannot see or finish dev-civic's.
    let got = send(&device, "GET", "/device/v1/commands", None, None, true).await;
    let got: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(got.as_array().unwrap().len(), 1);
    assert_eq!(got[0]["id"], ids[1].as_str());
    let r = send(
        &device,
        "POST",
        &format!("/device/v1/commands/{}", ids[0]),
        None,
        json_body(json!({"ok": true})),
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(
        server.storage.command(&ids[0]).unwrap().unwrap().state,
        CommandState::Queued
    );

    // A day later neither was done: both expire (audited); a late report is refused.
    let later = chrono::Utc::now().timestamp_millis()
        + menpai_server::commands::COMMAND_TTL.as_millis() as i64
        + 1;
    let expired = server.storage.expire_commands(later).unwrap();
    assert_eq!(expired.len(), 2);
    assert!(expired.iter().all(|c| c.state == CommandState::Expired));
    let r = send(
        &device,
        "POST",
        &format!("/device/v1/commands/{}", ids[1]),
        None,
        json_body(json!({"ok": true})),
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("已过期"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn open_commands_are_capped_a_notice_is_kept_trimmed_and_on_record() {
    let (server, _dir) = server();
    let admin = admin_router(server.clone());
    let cookie = login(&server, "ops-admin");
    let path = "/api/v1/admin/devices/dev-test/commands";
    let r = send(
        &admin,
        "POST",
        path,
        Some(&cookie),
        json_body(
            json!({"kind": "notice", "text": "   设备维护中，请到窗口办理  \n", "minutes": 30}),
        ),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept = server.storage.command(&id).unwrap().unwrap();
    assert!(
        kept.body.contains("\"text\":\"设备维护中，请到窗口办理\""),
        "{}",
        kept.body
    );
    let queued = audit(&server, "command.queued");
    assert!(
        queued[0]
            .1
            .ends_with("维护公告 30 分钟：设备维护中，请到窗口办理"),
        "the notice's words are on record: {queued:?}"
    );

    // Ten open at most: the eleventh is refused (audited) until some finish or expire.
    for _ in 1..menpai_server::commands::OPEN_PER_DEVICE {
        let r = send(
            &admin,
            "POST",
            path,
            Some(&cookie),
            json_body(json!({"kind": "self_test"})),
            false,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let r = send(
        &admin,
        "POST",
        path,
        Some(&cookie),
        json_body(json!({"kind": "self_test"})),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body.contains("没有执行完"), "{}", r.body);
    assert!(
        audit(&server, "command.queued")
            .iter()
            .any(|e| e.2 == "too many open"),
        "the refusal is on record"
    );
    // A restart waits a quarter of an hour for an offline terminal, not a day.
    let other = send(
        &admin,
        "POST",
        "/api/v1/admin/devices/dev-second/commands",
        Some(&cookie),
        json_body(json!({"kind": "reboot"})),
        false,
    )
    .await;
    let reboot = serde_json::from_str::<Value>(&other.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = server.storage.command(&reboot).unwrap().unwrap();
    assert_eq!(
        c.expires_ms - c.created_ms,
        menpai_model::commands::DISRUPTIVE_TTL_S as i64 * 1000
    );
}
