//! The regional server and terminals for real, on loopback: enrollment, first and delta sync,
//! tampered and forged content refused, a server killed mid-download, revoked and unknown
//! certificates, refused tokens, bad uploads, and 10,000 events through a faulty network.

use std::time::Duration;

use menpai_tests::proxy::Proxy;
use menpai_tests::regional::{ADMIN, EDITOR, VIEWER, api, enroll, enrollment_token, server};
use menpai_tests::{
    RunningServer, agent_cli, agent_dir, binary, demo_region, get_json, http, https,
    https_oversized, login, server_db, spawn_agent, spawn_server,
};
use serde_json::Value;

fn version(h: &Value) -> String {
    h["content_version"].as_str().unwrap_or_default().to_owned()
}

fn wire(h: &Value) -> u64 {
    h["regional"]["wire_bytes"].as_u64().unwrap_or(0)
}

fn import(s: &RunningServer, token: &str, format: &str, body: &[u8]) -> (u16, Value) {
    api(
        s,
        token,
        "POST",
        &format!("/api/v1/admin/content/import?format={format}&publish=true"),
        "",
        body,
    )
}

/// Quiet loops: only pushes and retries talk to the server, so bytes can be counted.
const QUIET: &str =
    "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\nmax_backoff_s = 2\n";

#[test]
fn enroll_sync_delta_tamper_forgery_revocation_and_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let editor = login(&s, EDITOR.0, EDITOR.1);

    // Tokens: one use, unexpired, known.
    let token = enrollment_token(&s, &admin, None);
    let dir = enroll(&s, s.devices, &token, QUIET);
    let other = agent_dir(None, "");
    std::fs::write(other.path().join("ca.pem"), s.ca_pem()).unwrap();
    let ca = other.path().join("ca.pem");
    let try_enroll = |t: &str| {
        agent_cli(
            other.path(),
            &[
                "enroll",
                "--server",
                &format!("https://{}", s.devices),
                "--ca",
                ca.to_str().unwrap(),
                "--token",
                t,
            ],
        )
    };
    let (ok, out) = try_enroll(&token);
    assert!(!ok && out.contains("已用过"), "reused: {out}");
    let expired = enrollment_token(&s, &admin, Some(0));
    let (ok, out) = try_enroll(&expired);
    assert!(!ok && out.contains("已过期"), "expired: {out}");
    let (ok, out) = try_enroll("not-a-token");
    assert!(!ok && out.contains("无效"), "unknown: {out}");

    // First sync: everything.
    let agent = spawn_agent(dir);
    let h = agent.wait_health(Duration::from_secs(30), |h| version(h).ends_with("-1"));
    let first = wire(&h);
    assert_eq!(h["items"], 100);
    println!("first sync: {first} bytes on the wire");

    // An editor's import goes to review: publishing straight from one is the admins'.
    let (st, r) = import(&s, &editor, "csv", "事项ID,别名\nP43,直接发布\n".as_bytes());
    assert_eq!(st, 403, "{r}");

    // One edited item, published: the push brings it, with only what changed.
    let sheet = "事项ID,承诺时限\nP43,3个工作日\n";
    let (st, r) = import(&s, &admin, "csv", sheet.as_bytes());
    assert_eq!(st, 200, "{r}");
    let v2 = r["published"].as_str().unwrap().to_owned();
    let h = agent.wait_health(Duration::from_secs(20), |h| version(h) == v2);
    let delta = wire(&h) - first;
    println!("delta sync of one edited item: {delta} bytes on the wire");
    assert!(delta < 20_000, "one changed item took {delta} bytes");
    let (_, guide) = get_json(agent.addr, "/api/v1/items/P43");
    assert_eq!(guide["promised"], "3个工作日", "{}", guide["promised"]);

    // A tampered blob is refused and the old version stays, until the blob is right again.
    let mut agent = agent;
    agent.stop();
    let (st, r) = import(
        &s,
        &admin,
        "csv",
        "事项ID,别名\nP44,测试别名甲\n".as_bytes(),
    );
    assert_eq!(st, 200, "{r}");
    let v3 = r["published"].as_str().unwrap().to_owned();
    let item_blob: String = s.sql_value(&server_db::blob_holding("测试别名甲"));
    s.sql(&server_db::replace_in_blob(
        &item_blob,
        "测试别名甲",
        "测试别名乙",
    ));
    let agent = agent.restart();
    let h = agent.wait_health(Duration::from_secs(20), |h| {
        h["regional"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("does not match its hash"))
    });
    assert_eq!(version(&h), v2, "the tampered version is not shown");
    let (_, hits) = get_json(
        agent.addr,
        "/api/v1/search?q=%E6%B5%8B%E8%AF%95%E5%88%AB%E5%90%8D%E4%B9%99",
    );
    assert!(
        !hits.to_string().contains("P44"),
        "the tampered text is not shown: {hits}"
    );
    s.sql(&server_db::replace_in_blob(
        &item_blob,
        "测试别名乙",
        "测试别名甲",
    ));
    agent.wait_health(Duration::from_secs(20), |h| version(h) == v3);

    // A manifest signed by another key is refused; the old version stays.
    let mut agent = agent;
    agent.stop();
    let (st, r) = import(
        &s,
        &admin,
        "csv",
        "事项ID,别名\nP45,测试别名丙\n".as_bytes(),
    );
    assert_eq!(st, 200, "{r}");
    let v4 = r["published"].as_str().unwrap().to_owned();
    let forged = base64_of(&[7u8; 64]);
    s.sql(&format!(
        "UPDATE versions SET signature = '{forged}' WHERE version = '{v4}'"
    ));
    let agent = agent.restart();
    let h = agent.wait_health(Duration::from_secs(20), |h| {
        h["regional"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("signature"))
    });
    assert_eq!(version(&h), v3);

    // Revoked: the server refuses the terminal.
    let device = h["regional"]["device_id"].as_str().unwrap().to_owned();
    let viewer = login(&s, VIEWER.0, VIEWER.1);
    let (st, _) = api(
        &s,
        &viewer,
        "POST",
        &format!("/api/v1/admin/devices/{device}/revoke"),
        "",
        b"",
    );
    assert_eq!(st, 403, "a viewer cannot revoke");
    let (st, r) = api(
        &s,
        &admin,
        "POST",
        &format!("/api/v1/admin/devices/{device}/revoke"),
        "",
        b"",
    );
    assert_eq!(st, 200, "{r}");
    agent.wait_health(Duration::from_secs(20), |h| {
        h["regional"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("吊销"))
    });

    // A certificate from another CA does not get past the handshake.
    let stranger = tempfile::tempdir().unwrap();
    let s2 = server(stranger.path(), "", &demo_region());
    let admin2 = login(&s2, ADMIN.0, ADMIN.1);
    let t2 = enrollment_token(&s2, &admin2, None);
    let foreign = enroll(&s2, s2.devices, &t2, QUIET);
    let id = foreign.path().join("data/identity");
    let cert = std::fs::read_to_string(id.join("device.pem")).unwrap();
    let key = std::fs::read_to_string(id.join("device.key.pem")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let refused = rt.block_on(async {
        let c = menpai_agent::sync::client::Client::new(
            &format!("https://{}", s.devices),
            &s.ca_pem(),
            Some((&cert, &key)),
        )
        .unwrap();
        c.request(
            "GET",
            "/device/v1/manifest",
            &[],
            Vec::new(),
            Duration::from_secs(10),
        )
        .await
    });
    assert!(
        refused.is_err(),
        "an unknown CA's certificate was accepted: {refused:?}"
    );
    // Without any certificate, device routes answer 401.
    let (st, _) = https(
        &s.ca_pem(),
        s.devices,
        "GET",
        "/device/v1/manifest",
        &[],
        b"",
    );
    assert_eq!(st, 401);
    let _ = binary("menpai-server");
}

fn base64_of(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn bad_uploads_and_wrong_roles_are_refused_and_nothing_is_published() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "max_upload_bytes = 100000\n", &demo_region());
    let editor = login(&s, EDITOR.0, EDITOR.1);
    let viewer = login(&s, VIEWER.0, VIEWER.1);
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let versions = |t: &str| {
        api(&s, t, "GET", "/api/v1/admin/content/versions", "", b"").1["versions"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(versions(&viewer), 1);

    let sheet = "事项ID,服务对象,到现场次数,颜色\nP43,市民,2,红\n,个人,0,\n";
    let (st, r) = import(&s, &editor, "csv", sheet.as_bytes());
    assert_eq!(st, 422, "{r}");
    let problems = r["details"]["problems"].as_array().unwrap();
    let named = |row: u64, col: &str| {
        problems
            .iter()
            .any(|p| p["row"] == row && p["column"] == col)
    };
    assert!(
        named(1, "颜色") && named(2, "服务对象") && named(2, "到现场次数") && named(3, "事项ID"),
        "{r}"
    );
    let (st, r) = import(&s, &editor, "xlsx", b"PK\x03\x04 not really a workbook");
    assert_eq!(st, 422, "{r}");
    assert!(
        r["details"]["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("XLSX"),
        "{r}"
    );
    assert_eq!(versions(&viewer), 1, "nothing was published");

    // Roles and sessions.
    let (st, _) = https(
        &s.ca_pem(),
        s.public,
        "POST",
        "/api/v1/admin/content/import?format=csv",
        &[],
        b"x",
    );
    assert_eq!(st, 401, "no session");
    let (st, _) = api(&s, "forged-session-token", "GET", "/api/v1/fleet", "", b"");
    assert_eq!(st, 401, "a forged session");
    let (st, r) = import(&s, &viewer, "csv", b"a");
    assert_eq!(st, 403, "{r}");
    let (st, _) = api(
        &s,
        &editor,
        "POST",
        "/api/v1/admin/enrollment-tokens",
        "application/json",
        b"{\"hall\":\"h\",\"position\":\"p\"}",
    );
    assert_eq!(st, 403, "an editor cannot enroll terminals");
    let (st, _) = https(
        &s.ca_pem(),
        s.public,
        "POST",
        "/api/v1/login",
        &[("content-type", "application/json")],
        b"{\"name\":\"ops-admin\",\"password\":\"wrong\"}",
    );
    assert_eq!(st, 401);
    // A cross-site post with a session is refused.
    let (st, _) = https(
        &s.ca_pem(),
        s.public,
        "POST",
        "/api/v1/admin/enrollment-tokens",
        &[
            ("authorization", &format!("Bearer {admin}")),
            ("origin", "https://evil.example"),
            ("content-type", "application/json"),
        ],
        b"{\"hall\":\"h\",\"position\":\"p\"}",
    );
    assert_eq!(st, 403);

    // Oversized and malformed bodies.
    let auth = format!("Bearer {editor}");
    let st = https_oversized(
        &s.ca_pem(),
        s.public,
        "/api/v1/admin/content/import?format=csv",
        &[("authorization", &auth)],
        200_000,
    );
    assert_eq!(st, 413);
    let (st, r) = api(
        &s,
        &admin,
        "POST",
        "/api/v1/admin/enrollment-tokens",
        "application/json",
        b"{\"hall\":",
    );
    assert_eq!(st, 400, "{r}");
    let st = https_oversized(
        &s.ca_pem(),
        s.devices,
        "/device/v1/enroll",
        &[("content-type", "application/json")],
        2 * 1024 * 1024,
    );
    assert_eq!(st, 413);

    // And the server is still up, with every admin action in the audit log.
    let (st, audit) = api(&s, &admin, "GET", "/api/v1/admin/audit", "", b"");
    assert_eq!(st, 200);
    let text = audit.to_string();
    for action in ["content.import", "enrollment.create", "login"] {
        assert!(text.contains(action), "{action} missing from {text}");
    }
    assert!(
        text.contains("forbidden") && text.contains("refused"),
        "{text}"
    );
}

#[test]
fn ten_thousand_events_through_a_faulty_network_arrive_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let proxy = Proxy::start(s.devices);
    proxy.set_faults(true);
    let token = enrollment_token(&s, &admin, None);
    let dir = enroll(
        &s,
        proxy.addr,
        &token,
        "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 1\nmax_backoff_s = 1\n",
    );
    let agent = spawn_agent(dir);
    // The first content (records, then the plate's pictures piece by piece) over a link that
    // drops every connection sooner or later.
    let h = agent.wait_health(Duration::from_secs(180), |h| !version(h).is_empty());
    println!(
        "the first content arrived through the faulty link: {} bytes on the wire",
        h["regional"]["wire_bytes"]
    );

    // 10,000 ratings at the plate while the network drops and stalls connections.
    let json = [("Content-Type", "application/json")];
    for i in 0..10_000u32 {
        let body = format!("{{\"level\": {}, \"reasons\": []}}", 1 + i % 5);
        let (st, r) = http(
            agent.addr,
            "POST",
            "/api/v1/ratings",
            &json,
            body.as_bytes(),
        );
        assert_eq!(st, 200, "{r}");
    }
    let h = agent.wait_health(Duration::from_secs(240), |h| h["outbox_depth"] == 0);
    println!(
        "proxy cut {} and stalled {} connections; agent says {} events held",
        proxy.cut.load(std::sync::atomic::Ordering::Relaxed),
        proxy.stalled.load(std::sync::atomic::Ordering::Relaxed),
        h["regional"]["events_sent"]
    );
    assert!(
        proxy.cut.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the proxy did cut connections"
    );

    // Exactly the agent's keys, each once.
    let agent_keys: std::collections::BTreeSet<String> = {
        let c = rusqlite::Connection::open(agent.dir.path().join("data/menpai-agent.db")).unwrap();
        let mut st = c
            .prepare("SELECT idempotency_key FROM outbox WHERE kind = 'rating'")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let rows: i64 = s.sql_value("SELECT COUNT(*) FROM events WHERE kind = 'rating'");
    let distinct: i64 =
        s.sql_value("SELECT COUNT(DISTINCT idempotency_key) FROM events WHERE kind = 'rating'");
    assert_eq!(agent_keys.len(), 10_000);
    assert_eq!((rows, distinct), (10_000, 10_000));
    let server_keys: std::collections::BTreeSet<String> = server_db::rows(
        &s.dir,
        "SELECT idempotency_key FROM events WHERE kind = 'rating'",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect();
    assert_eq!(server_keys, agent_keys, "nothing lost, nothing extra");
}

#[test]
fn a_server_killed_mid_download_is_resumed_not_restarted() {
    // A region large enough that the first sync takes several batches.
    let tmp = tempfile::tempdir().unwrap();
    let pack = menpai_tests::synthetic_region(tmp.path(), 3000);
    let sdir = tmp.path().join("server");
    std::fs::create_dir_all(&sdir).unwrap();
    let mut s = server(&sdir, "metrics_token = \"prometheus-token-1\"\n", &pack);
    let total: i64 = s.sql_value("SELECT SUM(LENGTH(body)) FROM blobs");
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let proxy = Proxy::start(s.devices);
    let token = enrollment_token(&s, &admin, None);
    let dir = enroll(
        &s,
        proxy.addr,
        &token,
        "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\nmax_backoff_s = 1\n",
    );
    let agent = spawn_agent(dir);

    // Kill the server once about a third of the content has come down.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while proxy.down.load(std::sync::atomic::Ordering::Relaxed) < total as u64 / 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the download never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    s.kill();
    let kept: i64 = rusqlite::Connection::open(agent.dir.path().join("data/menpai-agent.db"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM blobs", [], |r| r.get(0))
        .unwrap();
    assert!(kept > 0, "nothing was kept from the first part");
    let (_, h) = get_json(agent.addr, "/api/v1/health");
    assert_eq!(h["items"], 0, "a half-downloaded version is never shown");

    // Back up (on a new port): the agent carries on from where it was.
    let s = spawn_server(&sdir);
    proxy.set_target(s.devices);
    let h = agent.wait_health(Duration::from_secs(60), |h| h["items"] == 3000);
    assert!(version(&h).ends_with("-1"));
    let (_, metrics) = https(
        &s.ca_pem(),
        s.public,
        "GET",
        "/metrics",
        &[("authorization", "Bearer prometheus-token-1")],
        b"",
    );
    let served: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("menpai_blob_bytes_served_total "))
        .unwrap()
        .parse()
        .unwrap();
    println!(
        "bundle {total} bytes; {kept} blobs kept before the kill; {served} bytes served after the restart"
    );
    assert!(
        served < total as u64 * 9 / 10,
        "resumed: {served} of {total} bytes fetched again"
    );
}
