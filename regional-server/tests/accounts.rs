//! Operators managed in the browser, without a network (`oneshot` on the operators' router):
//! an admin adds a hall manager, who must change the password before anything else and then
//! sees only their hall; disabling ends a session and an open live stream at once; re-enabling
//! and resetting; non-admins refused and audited; the audit view's filters and its CSV (BOM,
//! Chinese headers, formulas neutralised); oversized and malformed bodies refused.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use menpai_server::Server;
use menpai_server::config::Config;
use menpai_server::operators::{Role, hash_password};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

mod support;

const ADMIN: (&str, &str) = ("ops-admin", "admin-password-1");
const STAFF: (&str, &str) = ("window-staff", "staff-password-1");
const VIEWER: (&str, &str) = ("duty-viewer", "viewer-password-1");
/// The anti-forgery cookie and field of the forms below.
const FORM_TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";

/// A terminal enrolled in `hall` at `position`.
fn terminal(server: &Server, id: &str, hall: &str, position: &str) {
    let cert = hex::encode(Sha256::digest(id.as_bytes()));
    support::enroll(server, id, hall, position, &cert);
}

/// A server with the demo region, an admin, window staff of hall-futian, a viewer, and a
/// terminal in hall-futian and one in hall-civic.
fn server() -> (Arc<Server>, tempfile::TempDir) {
    let (server, dir) = support::published(Config::default());
    for ((name, pw), role) in [
        (ADMIN, Role::Admin),
        (STAFF, Role::QueueStaff),
        (VIEWER, Role::Viewer),
    ] {
        server
            .storage
            .create_operator(
                name,
                "",
                role,
                &hash_password(pw).unwrap(),
                &["hall-futian".into()],
            )
            .unwrap();
    }
    terminal(&server, "dev-futian", "hall-futian", "entrance");
    terminal(&server, "dev-civic", "hall-civic", "entrance");
    (Arc::new(server), dir)
}

/// An answer: status, `Location`, body.
struct Answer {
    status: StatusCode,
    location: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One request: `auth` is a session token (sent as the cookie a browser has), `ct` the body's
/// type; browsers' requests ask for HTML.
async fn send(
    app: &Router,
    method: &str,
    path: &str,
    auth: &str,
    ct: &str,
    body: impl Into<Body>,
) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header(
            header::COOKIE,
            format!("menpai_session={auth}; __Host-menpai-form={FORM_TOKEN}"),
        );
    if !ct.is_empty() {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    if ct.starts_with("application/x-www-form") || method == "GET" && !path.starts_with("/api/") {
        req = req.header(header::ACCEPT, "text/html,application/xhtml+xml");
    }
    let mut req = req.body(body.into()).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    Answer {
        status,
        location,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn json(app: &Router, method: &str, path: &str, auth: &str, body: Value) -> Answer {
    let b = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    send(
        app,
        method,
        path,
        auth,
        if b.is_empty() { "" } else { "application/json" },
        b,
    )
    .await
}

/// A form post from our own page (the anti-forgery field repeats the cookie).
async fn form(app: &Router, path: &str, auth: &str, fields: &[(&str, &str)]) -> Answer {
    let mut pairs = vec![("csrf", FORM_TOKEN)];
    pairs.extend_from_slice(fields);
    let body = serde_urlencoded::to_string(&pairs).unwrap();
    send(
        app,
        "POST",
        path,
        auth,
        "application/x-www-form-urlencoded",
        body,
    )
    .await
}

async fn login(app: &Router, name: &str, password: &str) -> Value {
    let a = json(
        app,
        "POST",
        "/api/v1/login",
        "",
        json!({"name": name, "password": password}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{name}: {}", a.body);
    a.json()
}

async fn token(app: &Router, name: &str, password: &str) -> String {
    login(app, name, password).await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The audit entries `query` selects (JSON API).
async fn audit(app: &Router, admin: &str, query: &str) -> Vec<Value> {
    let a = json(
        app,
        "GET",
        &format!("/api/v1/admin/audit?{query}"),
        admin,
        Value::Null,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.json()["audit"].as_array().unwrap().clone()
}

const MANAGER: (&str, &str) = ("mgr-futian", "temporary-pass-1");

/// The admin adds a hall manager of hall-futian through the page's form.
async fn add_manager(app: &Router, admin: &str) {
    let a = form(
        app,
        "/operators",
        admin,
        &[
            ("name", MANAGER.0),
            ("display_name", "李四"),
            ("role", "hall_manager"),
            ("halls", "hall-futian"),
            ("password", MANAGER.1),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(
        a.location.starts_with("/operators?done=added"),
        "{}",
        a.location
    );
    let page = send(app, "GET", &a.location, admin, "", "").await;
    assert!(
        page.body
            .contains("mgr-futian 已添加，首次登录时须修改密码"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn an_admin_adds_a_hall_manager_who_must_change_the_password_then_sees_only_that_hall() {
    let (server, _dir) = server();
    let app = menpai_server::admin_router(server.clone());
    let admin = token(&app, ADMIN.0, ADMIN.1).await;

    // The page lists the published halls by their Chinese names.
    let page = send(&app, "GET", "/operators", &admin, "", "").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "人员管理",
        "<option value=\"hall-futian\">福田区政务服务中心</option>",
        "大厅负责人",
        "id=\"new-halls\" multiple",
    ] {
        assert!(page.body.contains(text), "{text} missing: {}", page.body);
    }

    // A post without the page's token, or a hall manager without a hall, stores nothing.
    let forged = send(
        &app,
        "POST",
        "/operators",
        &admin,
        "application/x-www-form-urlencoded",
        "name=mgr-futian&display_name=x&role=hall_manager&halls=hall-futian&password=temporary-pass-1",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let hall_less = form(
        &app,
        "/operators",
        &admin,
        &[
            ("name", MANAGER.0),
            ("display_name", "李四"),
            ("role", "hall_manager"),
            ("password", MANAGER.1),
        ],
    )
    .await;
    assert_eq!(hall_less.status, StatusCode::BAD_REQUEST);
    assert!(
        hall_less.body.contains("“大厅负责人”至少要选一个大厅"),
        "{}",
        hall_less.body
    );
    assert!(
        hall_less.body.contains("value=\"mgr-futian\""),
        "what was typed is kept"
    );
    let unknown_hall = form(
        &app,
        "/operators",
        &admin,
        &[
            ("name", MANAGER.0),
            ("display_name", "李四"),
            ("role", "hall_manager"),
            ("halls", "hall-nowhere"),
            ("password", MANAGER.1),
        ],
    )
    .await;
    assert_eq!(unknown_hall.status, StatusCode::BAD_REQUEST);
    assert!(
        server
            .storage
            .operator_by_name(MANAGER.0)
            .unwrap()
            .is_none()
    );

    add_manager(&app, &admin).await;
    let again = form(
        &app,
        "/operators",
        &admin,
        &[
            ("name", MANAGER.0),
            ("display_name", "王五"),
            ("role", "admin"),
            ("password", "another-pass-1"),
        ],
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "a taken name is not overwritten"
    );
    let page = send(&app, "GET", "/operators", &admin, "", "").await;
    assert!(page.body.contains(
        "<tr class=\"operator\" data-name=\"mgr-futian\" data-state=\"must-change\"><td data-label=\"登录名\">mgr-futian</td>\
         <td data-label=\"姓名\">李四</td><td data-label=\"角色\">大厅负责人</td><td data-label=\"大厅\">福田区政务服务中心</td>"
    ), "{}", page.body);

    // At the first login only the password change is open: pages lead there, the API says why.
    let first = login(&app, MANAGER.0, MANAGER.1).await;
    assert_eq!(first["must_change_password"], true);
    let mgr = first["token"].as_str().unwrap().to_owned();
    for path in ["/fleet", "/operators", "/audit"] {
        let a = send(&app, "GET", path, &mgr, "", "").await;
        assert_eq!(
            (a.status, a.location.as_str()),
            (StatusCode::SEE_OTHER, "/account/password"),
            "{path}"
        );
    }
    for path in ["/api/v1/fleet", "/api/v1/queue/hall-futian"] {
        let a = json(&app, "GET", path, &mgr, Value::Null).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            a.json()["error"].as_str().unwrap().contains("请先修改密码"),
            "{}",
            a.body
        );
    }
    let change = send(&app, "GET", "/account/password", &mgr, "", "").await;
    assert_eq!(change.status, StatusCode::OK);
    assert!(
        change.body.contains("管理员为你设置了临时密码"),
        "{}",
        change.body
    );
    assert!(
        !change.body.contains("href=\"/fleet\""),
        "no other section while it must change"
    );

    // The new password is long enough and not the old one.
    for (new, why) in [(MANAGER.1, "不能和原密码相同"), ("short", "10 个字符以上")] {
        let a = form(
            &app,
            "/account/password",
            &mgr,
            &[("current", MANAGER.1), ("new", new), ("again", new)],
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{new}");
        assert!(a.body.contains(why), "{why}: {}", a.body);
    }
    let a = form(
        &app,
        "/account/password",
        &mgr,
        &[
            ("current", MANAGER.1),
            ("new", "manager-own-pass-1"),
            ("again", "manager-own-pass-2"),
        ],
    )
    .await;
    assert!(a.body.contains("两次输入的新密码不一样"));
    let a = form(
        &app,
        "/account/password",
        &mgr,
        &[
            ("current", MANAGER.1),
            ("new", "manager-own-pass-1"),
            ("again", "manager-own-pass-1"),
        ],
    )
    .await;
    assert_eq!(
        (a.status, a.location.as_str()),
        (StatusCode::SEE_OTHER, "/fleet"),
        "{}",
        a.body
    );
    assert_eq!(
        json(&app, "GET", "/api/v1/fleet", &mgr, Value::Null)
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the old session ended"
    );

    // Then: the sections of a hall manager, and only their hall.
    let second = login(&app, MANAGER.0, "manager-own-pass-1").await;
    assert_eq!(second["must_change_password"], false);
    let mgr = second["token"].as_str().unwrap().to_owned();
    let fleet = send(&app, "GET", "/fleet", &mgr, "", "").await;
    assert_eq!(fleet.status, StatusCode::OK);
    for shown in [
        "href=\"/fleet\"",
        "href=\"/staff\"",
        "href=\"/duty\"",
        "href=\"/requests\"",
        "href=\"/cases\"",
        "福田区政务服务中心 · 大厅入口",
        "李四（大厅负责人）",
    ] {
        assert!(
            fleet.body.contains(shown),
            "{shown} missing: {}",
            fleet.body
        );
    }
    for hidden in [
        "href=\"/operators\"",
        "href=\"/audit\"",
        "深圳市民中心行政服务大厅",
        "dev-civic",
    ] {
        assert!(
            !fleet.body.contains(hidden),
            "{hidden} shown to a hall manager"
        );
    }
    let halls: Vec<Value> = json(&app, "GET", "/api/v1/fleet", &mgr, Value::Null)
        .await
        .json()["halls"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(halls.len(), 1);
    assert_eq!(halls[0]["name"], "福田区政务服务中心");
    let all = json(&app, "GET", "/api/v1/fleet", &admin, Value::Null)
        .await
        .json();
    assert_eq!(
        all["halls"].as_array().unwrap().len(),
        2,
        "the admin sees every hall"
    );

    // Another hall's queue is refused, and the refusal is in the log under that hall.
    assert_eq!(
        json(&app, "GET", "/api/v1/queue/hall-civic", &mgr, Value::Null)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let refused = audit(&app, &admin, "hall=hall-civic").await;
    assert!(
        refused.iter().any(|e| e["operator"] == MANAGER.0
            && e["action"] == "queue.access"
            && e["outcome"] == "forbidden"),
        "{refused:?}"
    );

    // The admin's pages are not theirs.
    assert_eq!(
        send(&app, "GET", "/operators", &mgr, "", "").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, "GET", "/audit", &mgr, "", "").await.status,
        StatusCode::FORBIDDEN
    );
    let created = audit(&app, &admin, "action=operator.create").await;
    assert!(
        created.iter().any(|e| e["operator"] == ADMIN.0
            && e["outcome"] == "ok"
            && e["detail"]
                .as_str()
                .unwrap()
                .starts_with("mgr-futian hall_manager hall-futian")),
        "{created:?}"
    );
}

/// The next frame of a live stream, or `None` when it ended.
async fn next_frame(body: &mut Body) -> Option<String> {
    let frame = tokio::time::timeout(Duration::from_secs(20), body.frame())
        .await
        .expect("the stream neither sent nor ended within 20 s")?;
    Some(String::from_utf8_lossy(&frame.ok()?.into_data().ok()?).into_owned())
}

#[tokio::test]
async fn disabling_ends_the_session_and_the_open_stream_at_once_and_re_enabling_restores_the_login()
{
    let (server, _dir) = server();
    let app = menpai_server::admin_router(server.clone());
    let admin = token(&app, ADMIN.0, ADMIN.1).await;
    let staff = token(&app, STAFF.0, STAFF.1).await;

    // The staff member's page listens on the live channel.
    let mut req = Request::builder()
        .uri("/console/live?topics=help")
        .header("host", "localhost")
        .header(header::COOKIE, format!("menpai_session={staff}"))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut stream = res.into_body();
    server
        .live
        .send("hall-futian", menpai_server::live::Topic::Help, "call-1");
    let first = next_frame(&mut stream).await.expect("a note");
    assert!(
        first.contains("event: help") && first.contains("call-1"),
        "{first}"
    );

    let a = form(&app, "/operators/disable", &admin, &[("name", STAFF.0)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(
        next_frame(&mut stream).await.is_none(),
        "the open stream ended"
    );
    let page = send(&app, "GET", "/fleet", &staff, "", "").await;
    assert_eq!(
        (page.status, page.location.as_str()),
        (StatusCode::SEE_OTHER, "/login?next=%2Ffleet")
    );
    assert_eq!(
        json(
            &app,
            "GET",
            "/api/v1/queue/hall-futian",
            &staff,
            Value::Null
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    let refused = json(
        &app,
        "POST",
        "/api/v1/login",
        "",
        json!({"name": STAFF.0, "password": STAFF.1}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let list = send(
        &app,
        "GET",
        "/operators?done=disabled&name=window-staff",
        &admin,
        "",
        "",
    )
    .await;
    assert!(list.body.contains("window-staff 已停用，登录已失效"));
    assert!(
        list.body
            .contains("data-name=\"window-staff\" data-state=\"disabled\"")
    );

    // An admin cannot lock themselves out.
    let a = form(&app, "/operators/disable", &admin, &[("name", ADMIN.0)]).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("不能停用自己的账号"));

    // Re-enabled: the old password works again.
    let a = json(
        &app,
        "POST",
        "/api/v1/admin/operators/window-staff/enable",
        &admin,
        Value::Null,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let back = login(&app, STAFF.0, STAFF.1).await;
    assert_eq!(back["must_change_password"], false);

    // A reset ends the session and forces a change at the next login.
    let staff = back["token"].as_str().unwrap().to_owned();
    let a = form(
        &app,
        "/operators/reset",
        &admin,
        &[("name", STAFF.0), ("password", "reset-by-admin-1")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(
        json(
            &app,
            "GET",
            "/api/v1/queue/hall-futian",
            &staff,
            Value::Null
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    let after = login(&app, STAFF.0, "reset-by-admin-1").await;
    assert_eq!(after["must_change_password"], true);
    let staff = after["token"].as_str().unwrap().to_owned();
    let a = json(
        &app,
        "GET",
        "/api/v1/queue/hall-futian",
        &staff,
        Value::Null,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = json(
        &app,
        "POST",
        "/api/v1/account/password",
        &staff,
        json!({"current": "reset-by-admin-1", "new": "staff-chosen-pass-1"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let fresh = token(&app, STAFF.0, "staff-chosen-pass-1").await;
    assert_eq!(
        json(
            &app,
            "GET",
            "/api/v1/queue/hall-futian",
            &fresh,
            Value::Null
        )
        .await
        .status,
        StatusCode::OK
    );

    let log = audit(&app, &admin, "action=operator").await;
    for action in [
        "operator.disable",
        "operator.enable",
        "operator.reset_password",
        "operator.password",
    ] {
        assert!(
            log.iter().any(|e| e["action"] == action),
            "{action} not audited: {log:?}"
        );
    }
}

#[tokio::test]
async fn non_admins_are_refused_and_the_refusals_audited() {
    let (server, _dir) = server();
    let app = menpai_server::admin_router(server);
    let admin = token(&app, ADMIN.0, ADMIN.1).await;
    for (name, pw) in [STAFF, VIEWER] {
        let t = token(&app, name, pw).await;
        let add = json(&app, "POST", "/api/v1/admin/operators", &t, json!({"name": "sneaky", "display_name": "x", "role": "admin", "password": "sneaky-password-1"})).await;
        assert_eq!(add.status, StatusCode::FORBIDDEN, "{name}");
        assert_eq!(
            form(&app, "/operators/disable", &t, &[("name", ADMIN.0)])
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(&app, "GET", "/audit.csv", &t, "", "").await.status,
            StatusCode::FORBIDDEN
        );
        let fleet = send(&app, "GET", "/fleet", &t, "", "").await;
        assert!(
            !fleet.body.contains("href=\"/operators\"") && !fleet.body.contains("href=\"/audit\"")
        );
    }
    let log = audit(&app, &admin, "operator=duty-viewer").await;
    assert!(
        log.iter()
            .any(|e| e["action"] == "operator.create" && e["outcome"] == "forbidden"),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|e| e["action"] == "operator.disable" && e["outcome"] == "forbidden"),
        "{log:?}"
    );
    assert!(log.iter().all(|e| e["operator"] == "duty-viewer"));
}

#[tokio::test]
async fn the_audit_view_filters_and_exports_csv_with_a_bom_chinese_headers_and_no_formulas() {
    let (server, _dir) = server();
    let app = menpai_server::admin_router(server.clone());
    let admin = token(&app, ADMIN.0, ADMIN.1).await;
    let staff = token(&app, STAFF.0, STAFF.1).await;
    assert_eq!(
        json(&app, "GET", "/api/v1/queue/hall-civic", &staff, Value::Null)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // A name someone typed that a spreadsheet would run.
    let a = json(&app, "POST", "/api/v1/admin/operators", &admin, json!({"name": "=HYPERLINK(\"http://x\",\"y\")", "display_name": "x", "role": "viewer", "password": "long-enough-pass-1"})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);

    let by_hall = audit(&app, &admin, "hall=hall-civic").await;
    assert!(
        !by_hall.is_empty() && by_hall.iter().all(|e| e["hall"] == "hall-civic"),
        "{by_hall:?}"
    );
    let by_op = audit(&app, &admin, "operator=window-staff").await;
    assert!(
        by_op.len() >= 2 && by_op.iter().all(|e| e["operator"] == "window-staff"),
        "{by_op:?}"
    );
    let by_action = audit(&app, &admin, "action=login").await;
    assert!(
        by_action
            .iter()
            .all(|e| e["action"] == "login" || e["action"].as_str().unwrap().starts_with("login."))
    );
    // Newest first; a later page holds only older entries.
    let everything = audit(&app, &admin, "").await;
    let ids: Vec<i64> = everything
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let older = audit(&app, &admin, &format!("before={}", ids[1])).await;
    assert_eq!(older.len(), ids.len() - 2);
    // Time bounds, in China time.
    assert!(
        audit(&app, &admin, "from=2099-01-01T00:00")
            .await
            .is_empty()
    );
    assert!(audit(&app, &admin, "to=2000-01-01T00:00").await.is_empty());
    assert_eq!(
        audit(&app, &admin, "from=2000-01-01T00:00&to=2099-01-01")
            .await
            .len(),
        ids.len()
    );
    for (query, why) in [
        ("from=yesterday", "开始时间的格式不对"),
        ("before=abc", "页码不对"),
    ] {
        let a = json(
            &app,
            "GET",
            &format!("/api/v1/admin/audit?{query}"),
            &admin,
            Value::Null,
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(a.body.contains(why), "{query}: {}", a.body);
    }
    let long = format!("/api/v1/admin/audit?operator={}", "a".repeat(65));
    assert_eq!(
        json(&app, "GET", &long, &admin, Value::Null).await.status,
        StatusCode::BAD_REQUEST
    );

    // The page: the hall by its Chinese name, the action in words.
    let page = send(&app, "GET", "/audit?hall=hall-civic", &admin, "", "").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "操作日志",
        "<td data-label=\"大厅\">深圳市民中心行政服务大厅</td>",
        "叫号越权",
        "无权限，已拒绝",
        "href=\"/audit.csv?hall=hall-civic\"",
    ] {
        assert!(page.body.contains(text), "{text} missing: {}", page.body);
    }
    assert!(
        !page.body.contains("data-hall=\"\""),
        "only hall-civic's entries"
    );
    let bad = send(&app, "GET", "/audit?from=yesterday", &admin, "", "").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("开始时间的格式不对"));

    // The CSV: a BOM, Chinese headers, every entry, and no cell a spreadsheet would run.
    let csv = send(&app, "GET", "/audit.csv", &admin, "", "").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with('\u{feff}'), "no BOM");
    let mut lines = csv.body.trim_start_matches('\u{feff}').split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "时间（北京时间）,操作员,操作,操作代码,大厅,对象,结果"
    );
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), ids.len());
    assert!(
        rows.iter()
            .any(|r| r.contains("深圳市民中心行政服务大厅") && r.contains("叫号越权")),
        "{rows:?}"
    );
    let formula = rows
        .iter()
        .find(|r| r.contains("HYPERLINK"))
        .expect("the typed name is exported");
    assert!(
        formula.contains(",\"'=HYPERLINK("),
        "neutralised: {formula}"
    );
    for r in &rows {
        for cell in r.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "a formula cell: {r}"
            );
        }
    }
    let filtered = send(
        &app,
        "GET",
        "/audit.csv?operator=window-staff",
        &admin,
        "",
        "",
    )
    .await;
    assert!(
        filtered
            .body
            .lines()
            .skip(1)
            .all(|l| l.contains(",window-staff,")),
        "{}",
        filtered.body
    );
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused_and_store_nothing() {
    let (server, _dir) = server();
    let app = menpai_server::admin_router(server.clone());
    let admin = token(&app, ADMIN.0, ADMIN.1).await;
    let huge = format!(
        "{{\"name\":\"big\",\"display_name\":\"{}\",\"role\":\"viewer\",\"password\":\"long-enough-pass-1\"}}",
        "x".repeat(server.config.max_body_bytes)
    );
    let cases: Vec<(String, StatusCode)> = vec![
        (huge, StatusCode::PAYLOAD_TOO_LARGE),
        ("{\"name\": ".into(), StatusCode::BAD_REQUEST),
        (json!({"name": "x1", "display_name": "x", "role": "viewer", "password": "long-enough-pass-1", "admin": true}).to_string(), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"name": "x2", "display_name": "x", "role": "pilot", "password": "long-enough-pass-1"}).to_string(), StatusCode::BAD_REQUEST),
        (json!({"name": "x3", "display_name": "长".repeat(33), "role": "viewer", "password": "long-enough-pass-1"}).to_string(), StatusCode::BAD_REQUEST),
        (json!({"name": "x4", "display_name": "x", "role": "viewer", "password": "short"}).to_string(), StatusCode::BAD_REQUEST),
        (json!({"name": "x5", "display_name": "x", "role": "queue_staff", "halls": vec!["hall-futian"; 65], "password": "long-enough-pass-1"}).to_string(), StatusCode::BAD_REQUEST),
    ];
    for (body, status) in cases {
        let a = send(
            &app,
            "POST",
            "/api/v1/admin/operators",
            &admin,
            "application/json",
            body.clone(),
        )
        .await;
        let shown: String = body.chars().take(80).collect();
        assert!(a.status.is_client_error(), "{shown}: {}", a.status);
        assert_eq!(a.status, status, "{shown}: {}", a.body);
        assert!(
            a.json()["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{shown}: {}",
            a.body
        );
    }
    // A form with a hundred halls is refused before anything is stored.
    let mut fields = vec![
        ("name", "many-halls"),
        ("display_name", "x"),
        ("role", "queue_staff"),
        ("password", "long-enough-pass-1"),
    ];
    fields.extend(std::iter::repeat_n(("halls", "hall-futian"), 100));
    let a = form(&app, "/operators", &admin, &fields).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let names: Vec<String> = server
        .storage
        .operators()
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(
        names,
        ["duty-viewer", "ops-admin", "window-staff"],
        "nothing stored half"
    );
    // A post that is not a form, or a form that does not parse, says so in Chinese.
    let a = send(&app, "POST", "/operators", &admin, "text/plain", "name=x").await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        a.json()["error"].as_str().unwrap().contains("表单"),
        "{}",
        a.body
    );
    let a = send(
        &app,
        "POST",
        "/operators/disable",
        &admin,
        "application/x-www-form-urlencoded",
        "name=%ZZ&&=",
    )
    .await;
    assert!(a.status.is_client_error(), "{}", a.status);
    let a = send(
        &app,
        "POST",
        "/operators",
        &admin,
        "application/x-www-form-urlencoded",
        format!("name={}", "x".repeat(server.config.max_body_bytes)),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The password change refuses the same way.
    let a = send(
        &app,
        "POST",
        "/api/v1/account/password",
        &admin,
        "application/json",
        "{\"current\":1}",
    )
    .await;
    assert!(a.status.is_client_error(), "{}", a.status);
}
