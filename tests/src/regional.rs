//! A regional server with operators and the demo region published, and terminals enrolled
//! against it: what the cross-process tests of the server share.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{
    RunningAgent, RunningServer, agent_cli, agent_dir, get_json, https, server_cli, server_dir,
    spawn_agent, spawn_server,
};

pub const ADMIN: (&str, &str) = ("ops-admin", "admin-password-1");
pub const EDITOR: (&str, &str) = ("content-editor", "editor-password-1");
pub const REVIEWER: (&str, &str) = ("content-reviewer", "reviewer-password-1");
pub const VIEWER: (&str, &str) = ("duty-viewer", "viewer-password-1");
pub const STAFF: (&str, &str) = ("window-staff", "staff-password-1");

/// A server with three operators and the demo region published.
pub fn server(dir: &Path, extra: &str, pack: &Path) -> RunningServer {
    // Tests book the same number more than once a minute.
    server_dir(dir, &format!("booking_code_interval_s = 0\n{extra}"));
    for ((name, pw), role) in [
        (ADMIN, "admin"),
        (EDITOR, "content_editor"),
        (REVIEWER, "reviewer"),
        (VIEWER, "viewer"),
        (STAFF, "queue_staff"),
    ] {
        let (ok, out) = server_cli(
            dir,
            &["add-operator", name, role, "--halls", "hall-futian"],
            Some(pw),
        );
        assert!(ok, "{out}");
    }
    let (ok, out) = server_cli(dir, &["publish", pack.to_str().unwrap()], None);
    assert!(ok, "{out}");
    spawn_server(dir)
}

pub fn api(
    s: &RunningServer,
    token: &str,
    method: &str,
    path: &str,
    ct: &str,
    body: &[u8],
) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("authorization", auth.as_str())];
    if !ct.is_empty() {
        headers.push(("content-type", ct));
    }
    let (status, text) = https(&s.ca_pem(), s.public, method, path, &headers, body);
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub fn enrollment_token(s: &RunningServer, admin: &str, ttl: Option<u64>) -> String {
    enrollment_token_for(s, admin, "entrance", ttl)
}

/// A one-time token for a terminal at `position` in hall-futian.
pub fn enrollment_token_for(
    s: &RunningServer,
    admin: &str,
    position: &str,
    ttl: Option<u64>,
) -> String {
    let mut body = serde_json::json!({ "hall": "hall-futian", "position": position });
    if let Some(t) = ttl {
        body["ttl_s"] = t.into();
    }
    let body = body.to_string();
    let (st, r) = api(
        s,
        admin,
        "POST",
        "/api/v1/admin/enrollment-tokens",
        "application/json",
        body.as_bytes(),
    );
    assert_eq!(st, 201, "{r}");
    r["token"].as_str().unwrap().to_owned()
}

/// Enrolls a fresh terminal (no content yet) against `devices`.
pub fn enroll(
    s: &RunningServer,
    devices: std::net::SocketAddr,
    token: &str,
    extra: &str,
) -> tempfile::TempDir {
    let dir = agent_dir(None, extra);
    std::fs::write(dir.path().join("ca.pem"), s.ca_pem()).unwrap();
    let ca = dir.path().join("ca.pem");
    let server = format!("https://{devices}");
    let (ok, out) = agent_cli(
        dir.path(),
        &[
            "enroll",
            "--server",
            &server,
            "--ca",
            ca.to_str().unwrap(),
            "--token",
            token,
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("enrolled as hall-futian-"), "{out}");
    dir
}

/// Enrolls a terminal at `position` (through `via` when given) with `config`, and starts it
/// once it has the hall's content and leased blocks.
pub fn terminal(
    s: &RunningServer,
    admin: &str,
    position: &str,
    via: Option<std::net::SocketAddr>,
    config: &str,
) -> RunningAgent {
    let token = enrollment_token_for(s, admin, position, None);
    let dir = enroll(s, via.unwrap_or(s.devices), &token, config);
    let agent = spawn_agent(dir);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, h) = get_json(agent.addr, "/api/v1/health");
        let (_, q) = get_json(agent.addr, "/api/v1/queue");
        let leased = agent_leases(&agent) > 0;
        if h["content_version"].is_string() && q["businesses"].is_array() && leased {
            return agent;
        }
        assert!(
            Instant::now() < deadline,
            "{position} never got ready: {h} {}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Leased blocks the terminal holds.
pub fn agent_leases(agent: &RunningAgent) -> i64 {
    let db = agent.dir.path().join("data/menpai-agent.db");
    let Ok(c) = rusqlite::Connection::open(db) else {
        return 0;
    };
    c.query_row(
        "SELECT COUNT(*) FROM number_blocks WHERE source = 'lease'",
        [],
        |r| r.get(0),
    )
    .unwrap_or(0)
}

/// The latest booking code texted (the `log` SMS backend's file).
pub fn sms_code(s: &RunningServer) -> String {
    let log = std::fs::read_to_string(s.dir.join("data/sms-outbox.log")).unwrap_or_default();
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains("验证码是 "))
        .unwrap_or_else(|| panic!("no code was texted: {log}"));
    let after = line.split("验证码是 ").nth(1).unwrap();
    after.chars().take_while(char::is_ascii_digit).collect()
}

/// Books over the phone API as a citizen does: asks for the code, reads the text, confirms.
/// The status and answer of the confirmation (201 with `token`, `id`, …, or the refusal).
pub fn try_book(s: &RunningServer, request: &Value) -> (u16, Value) {
    let json = [("content-type", "application/json")];
    let (st, r) = https(
        &s.ca_pem(),
        s.public,
        "POST",
        "/api/v1/appointments",
        &json,
        request.to_string().as_bytes(),
    );
    assert_eq!(st, 202, "{r}");
    let pending: Value = serde_json::from_str(&r).unwrap();
    let code = sms_code(s);
    let (st, r) = https(
        &s.ca_pem(),
        s.public,
        "POST",
        &format!(
            "/api/v1/appointments/{}/confirm",
            pending["pending"].as_str().unwrap()
        ),
        &json,
        serde_json::json!({ "code": code }).to_string().as_bytes(),
    );
    (st, serde_json::from_str(&r).unwrap_or(Value::String(r)))
}

/// A booking that must succeed: its confirmation.
pub fn book(s: &RunningServer, request: &Value) -> Value {
    let (st, r) = try_book(s, request);
    assert_eq!(st, 201, "{r}");
    r
}

/// The first bookable slot of `item` at hall-futian in the next ten days: (date, start).
pub fn first_slot(s: &RunningServer, item: &str) -> (String, String) {
    for d in 0..10 {
        let date = (menpai_model::queue::china_now().date() + chrono::Days::new(d)).to_string();
        let (st, r) = api(
            s,
            "",
            "GET",
            &format!("/api/v1/appointments/slots?hall=hall-futian&item={item}&date={date}"),
            "",
            b"",
        );
        assert_eq!(st, 200, "{r}");
        if let Some(first) = r["slots"].as_array().and_then(|a| a.first()) {
            return (date, first["start"].as_str().unwrap().to_owned());
        }
    }
    panic!("no bookable slot of {item} in the next ten days");
}
