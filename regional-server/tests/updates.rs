//! Rollouts through the routers (`oneshot`), with 100 simulated terminals in three groups (a
//! pilot hall, 30 %, the rest): only the started groups are offered the bundle; the second
//! group starts only once the pilot reached the success threshold; pausing holds the offers;
//! failures past the error threshold stop the rollout by itself, and the third group is never
//! offered it. Only admins manage rollouts (refusals audited); a terminal cannot report for a
//! rollout it is not in, nor a phase only the server sets.

use std::sync::Arc;

use axum::http::StatusCode;
use menpai_server::config::Config;
use menpai_server::operators::hash_password;
use menpai_server::storage::{Release, Role};
use menpai_server::{Server, admin_router, device_router};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod support;

use support::http::{json_body, login, send, send_as};

const COMPATIBLE: &str = "menpai-terminal-arm64";

fn cert(i: usize) -> Vec<u8> {
    format!("certificate of terminal {i:03}").into_bytes()
}

/// The demo region; 10 terminals in 福田 (the pilot hall), 90 in 市民中心; an admin, a viewer,
/// a hall manager; a release for these terminals.
fn server() -> (Arc<Server>, tempfile::TempDir) {
    let (server, dir) = support::published(Config::default());
    for i in 0..100 {
        let hall = if i < 10 { "hall-futian" } else { "hall-civic" };
        support::enroll(
            &server,
            &format!("dev-{i:03}"),
            hall,
            "entrance",
            &hex::encode(Sha256::digest(cert(i))),
        );
    }
    let hash = hash_password("a password nobody types").unwrap();
    for (name, role, halls) in [
        ("ops-admin", Role::Admin, vec![]),
        ("duty-viewer", Role::Viewer, vec![]),
        (
            "manager-futian",
            Role::HallManager,
            vec!["hall-futian".to_owned()],
        ),
    ] {
        server
            .storage
            .create_operator(name, name, role, &hash, &halls)
            .unwrap();
    }
    server
        .storage
        .add_release(&Release {
            id: "rel-test".into(),
            version: "2026.12.1".into(),
            compatible: COMPATIBLE.into(),
            size: 1000,
            sha256: "ab".repeat(32),
            signer: "O = Menpai, CN = Menpai release".into(),
            uploaded_by: "ops-admin".into(),
            uploaded_ms: 0,
        })
        .unwrap();
    (Arc::new(server), dir)
}

fn system(version: &str) -> Value {
    json!({"version": version, "slot": "A", "compatible": COMPATIBLE})
}

/// The terminal's step in `rollout`.
async fn report(device: &axum::Router, i: usize, rollout: &str, phase: &str) -> StatusCode {
    let body =
        json!({"rollout": rollout, "phase": phase, "detail": "", "system": system("2026.11.1")});
    send_as(device, "POST", "/device/v1/update", Some(body), &cert(i))
        .await
        .0
}

/// What the server offers terminal `i`: (the release offered, paused).
async fn offered(device: &axum::Router, i: usize) -> (Option<String>, bool) {
    let (st, r) = send_as(device, "GET", "/device/v1/update", None, &cert(i)).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    (
        r["offer"]["release"].as_str().map(str::to_owned),
        r["paused"] == true,
    )
}

async fn rollout(admin: &axum::Router, cookie: &str, id: &str) -> Value {
    let r = send(
        admin,
        "GET",
        &format!("/api/v1/admin/rollouts/{id}"),
        Some(cookie),
        None,
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_start_at_their_threshold_and_failures_stop_the_rollout() {
    let (server, _dir) = server();
    let admin = admin_router(server.clone());
    let device = device_router(server.clone());
    let cookie = login(&server, "ops-admin");

    // Every terminal says what it runs; one of another kind is left out.
    for i in 0..100 {
        let (st, r) = send_as(
            &device,
            "POST",
            "/device/v1/update",
            Some(json!({"system": system("2026.11.1")})),
            &cert(i),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{r}");
    }
    let other = json!({"system": {"version": "2026.11.1", "slot": "A", "compatible": "menpai-terminal-amd64"}});
    send_as(&device, "POST", "/device/v1/update", Some(other), &cert(99)).await;

    let plan = json!({
        "release": "rel-test",
        "name": "十二月版",
        "groups": [
            {"name": "试点大厅", "halls": ["hall-futian"]},
            {"name": "三成", "percent": 30},
            {"name": "其余", "percent": 100},
        ],
        "success_pct": 90,
        "error_pct": 20,
    });
    // Only admins: a viewer and a hall manager are refused, and it is audited.
    for name in ["duty-viewer", "manager-futian"] {
        let c = login(&server, name);
        let r = send(
            &admin,
            "POST",
            "/api/v1/admin/rollouts",
            Some(&c),
            json_body(plan.clone()),
            false,
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
    }
    let refused = server.storage.audit_entries(100).unwrap();
    assert_eq!(
        refused
            .iter()
            .filter(|e| e.action == "rollout.create" && e.outcome == "forbidden")
            .count(),
        2
    );

    let created = send(
        &admin,
        "POST",
        "/api/v1/admin/rollouts",
        Some(&cookie),
        json_body(plan),
        false,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let r: Value = serde_json::from_str(&created.body).unwrap();
    let id = r["id"].as_str().unwrap().to_owned();
    let sizes: Vec<u64> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, vec![10, 30, 59], "{r}");
    assert_eq!(r["open_groups"], 1);
    let group_of = |r: &Value, g: u64| -> Vec<usize> {
        r["terminals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["group"] == g)
            .map(|t| t["device"].as_str().unwrap()[4..].parse().unwrap())
            .collect()
    };
    let (pilot, second, third) = (group_of(&r, 0), group_of(&r, 1), group_of(&r, 2));
    assert!(pilot.iter().all(|i| *i < 10));
    assert!(
        !third.contains(&99),
        "another kind of terminal is not in it"
    );

    // Only the pilot is offered the bundle.
    assert_eq!(
        offered(&device, pilot[0]).await.0.as_deref(),
        Some("rel-test")
    );
    assert_eq!(offered(&device, second[0]).await, (None, false));
    // A terminal cannot report a phase only the server sets, nor for a rollout it is not in.
    assert_eq!(
        report(&device, pilot[0], &id, "offered").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(report(&device, 99, &id, "done").await, StatusCode::CONFLICT);

    // 8 of 10 done: below 90 %, the second group waits; the 9th starts it.
    for i in &pilot[..8] {
        assert_eq!(
            report(&device, *i, &id, "downloading").await,
            StatusCode::OK
        );
        assert_eq!(report(&device, *i, &id, "done").await, StatusCode::OK);
    }
    assert_eq!(rollout(&admin, &cookie, &id).await["open_groups"], 1);
    assert_eq!(offered(&device, second[0]).await.0, None);
    let mut stream = server.stream.subscribe();
    assert_eq!(report(&device, pilot[8], &id, "done").await, StatusCode::OK);
    assert_eq!(rollout(&admin, &cookie, &id).await["open_groups"], 2);
    assert!(matches!(
        stream.try_recv(),
        Ok(menpai_model::sync::StreamEvent::Updates)
    ));
    assert_eq!(
        offered(&device, second[0]).await.0.as_deref(),
        Some("rel-test")
    );
    assert_eq!(offered(&device, third[0]).await.0, None);

    // Paused: the offers hold; resumed: they come back.
    let paused = send(
        &admin,
        "POST",
        &format!("/api/v1/admin/rollouts/{id}/pause"),
        Some(&cookie),
        None,
        false,
    )
    .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(offered(&device, second[0]).await, (None, true));
    // A download under way is told to wait (it keeps what it has), not that the bundle is gone.
    let (st, r) = send_as(
        &device,
        "GET",
        "/device/v1/releases/rel-test/bundle",
        None,
        &cert(second[0]),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{r}");
    let resumed = send(
        &admin,
        "POST",
        &format!("/api/v1/admin/rollouts/{id}/resume"),
        Some(&cookie),
        None,
        false,
    )
    .await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
    assert_eq!(
        offered(&device, second[0]).await.0.as_deref(),
        Some("rel-test")
    );

    // Failures: the pilot's last one and 7 of the second group are 8 of 40 started (20 %):
    // still running. One more passes the threshold: stopped, the third group never offered.
    assert_eq!(
        report(&device, pilot[9], &id, "failed").await,
        StatusCode::OK
    );
    for i in &second[..7] {
        assert_eq!(report(&device, *i, &id, "failed").await, StatusCode::OK);
    }
    assert_eq!(rollout(&admin, &cookie, &id).await["state"], "running");
    assert_eq!(
        report(&device, second[7], &id, "rolled_back").await,
        StatusCode::OK
    );
    let r = rollout(&admin, &cookie, &id).await;
    assert_eq!(r["state"], "stopped", "{r}");
    assert_eq!(r["open_groups"], 2);
    assert!(
        r["reason"].as_str().unwrap().contains("超过失败阈值 20%"),
        "{r}"
    );
    assert_eq!(offered(&device, second[8]).await.0, None);
    assert_eq!(offered(&device, third[0]).await.0, None);
    let audit = server.storage.audit_entries(1000).unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "rollout.create",
        "rollout.group_started",
        "rollout.pause",
        "rollout.resume",
        "rollout.stopped",
        "update.failed",
        "update.rolled_back",
        "update.done",
    ] {
        assert!(actions.contains(&a), "{a} not audited: {actions:?}");
    }

    // A hall manager sees only their hall's terminals of it.
    let manager = login(&server, "manager-futian");
    let r = rollout(&admin, &manager, &id).await;
    let halls: Vec<&str> = r["terminals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["hall"].as_str().unwrap())
        .collect();
    assert!(
        !halls.is_empty() && halls.iter().all(|h| *h == "hall-futian"),
        "{halls:?}"
    );

    // Resumed after it stopped itself: the failures so far are known and no longer count; a
    // new one does not stop it again, more than 20 % new ones would.
    let resumed = send(
        &admin,
        "POST",
        &format!("/api/v1/admin/rollouts/{id}/resume"),
        Some(&cookie),
        None,
        false,
    )
    .await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
    assert_eq!(rollout(&admin, &cookie, &id).await["state"], "running");
    assert_eq!(
        report(&device, second[8], &id, "failed").await,
        StatusCode::OK
    );
    assert_eq!(rollout(&admin, &cookie, &id).await["state"], "running");
    for i in &second[9..17] {
        assert_eq!(report(&device, *i, &id, "failed").await, StatusCode::OK);
    }
    assert_eq!(rollout(&admin, &cookie, &id).await["state"], "stopped");

    // Cancelled: every unfinished terminal is cancelled; finished ones keep their result.
    let cancelled = send(
        &admin,
        "POST",
        &format!("/api/v1/admin/rollouts/{id}/cancel"),
        Some(&cookie),
        None,
        false,
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let r = rollout(&admin, &cookie, &id).await;
    assert_eq!(r["state"], "cancelled");
    let phase_of = |i: usize| {
        r["terminals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["device"] == format!("dev-{i:03}"))
            .unwrap()["phase"]
            .clone()
    };
    assert_eq!(phase_of(pilot[0]), "done");
    assert_eq!(phase_of(second[20]), "cancelled");
    assert_eq!(phase_of(third[0]), "cancelled");
    // Fleet view: each terminal's system and update state.
    let fleet = send(&admin, "GET", "/api/v1/fleet", Some(&cookie), None, false).await;
    let fleet: Value = serde_json::from_str(&fleet.body).unwrap();
    let t = fleet["halls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["terminals"].as_array().unwrap().iter())
        .find(|t| t["id"] == "dev-000")
        .unwrap()
        .clone();
    assert_eq!(t["system_version"], "2026.11.1");
    assert_eq!(t["slot"], "A");
    assert!(t["update_phase"].is_string(), "{t}");
}
