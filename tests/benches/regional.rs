//! The regional server on this machine: heartbeat ingestion per second over mTLS (8 terminals
//! on kept-alive connections; server and clients share the 2 cores), and the bytes on the wire
//! for one changed item of the 5,000-item region. Prints its figures.
//!
//! `cargo bench -p menpai-tests --bench regional`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use menpai_model::sync::Heartbeat;
use menpai_tests::{
    agent_dir, get_json, https, login, server_cli, server_dir, spawn_agent, spawn_server,
    synthetic_region,
};

const TERMINALS: usize = 8;

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = synthetic_region(tmp.path(), 5000);
    let sdir = tmp.path().join("server");
    std::fs::create_dir_all(&sdir).unwrap();
    server_dir(&sdir, "");
    assert!(
        server_cli(
            &sdir,
            &["add-operator", "bench-admin", "admin"],
            Some("bench-password-1")
        )
        .0
    );
    assert!(server_cli(&sdir, &["publish", pack.to_str().unwrap()], None).0);
    let s = spawn_server(&sdir);
    let ca = s.ca_pem();
    let admin = login(&s, "bench-admin", "bench-password-1");
    let auth = format!("Bearer {admin}");
    let token = |position: &str| -> String {
        let body = format!("{{\"hall\":\"hall-futian\",\"position\":\"{position}\"}}");
        let (st, r) = https(
            &ca,
            s.public,
            "POST",
            "/api/v1/admin/enrollment-tokens",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.as_bytes(),
        );
        assert_eq!(st, 201, "{r}");
        serde_json::from_str::<serde_json::Value>(&r).unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // Heartbeats: 8 enrolled identities post as fast as the server answers, for 5 s.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server_url = format!("https://{}", s.devices);
    let mut clients = Vec::new();
    for i in 0..TERMINALS {
        let dir = tmp.path().join(format!("t{i}"));
        let t = token(&format!("bench-{i}"));
        rt.block_on(menpai_agent::sync::enroll(&dir, &server_url, &ca, &t))
            .unwrap();
        let id = menpai_agent::sync::Identity::load(&dir).unwrap().unwrap();
        clients.push(Arc::new(id.client().unwrap()));
    }
    let beat = serde_json::to_vec(&Heartbeat {
        agent_version: "0.1.0".into(),
        uptime_s: 100,
        content_version: Some("bench".into()),
        outbox_depth: 0,
        ui_alive: true,
        ..Default::default()
    })
    .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let window = Duration::from_secs(5);
    let started = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for c in &clients {
            let (c, done, beat) = (c.clone(), done.clone(), beat.clone());
            tasks.push(tokio::spawn(async move {
                while started.elapsed() < window {
                    let r = c
                        .request(
                            "POST",
                            "/device/v1/heartbeat",
                            &[],
                            beat.clone(),
                            Duration::from_secs(10),
                        )
                        .await;
                    if matches!(r, Ok(ref r) if r.status == 200) {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let n = done.load(Ordering::Relaxed);
    println!(
        "heartbeat ingestion: {n} heartbeats from {TERMINALS} terminals in {:.1} s = {:.0}/s (goal ≥ 5,000/s)",
        started.elapsed().as_secs_f64(),
        n as f64 / started.elapsed().as_secs_f64()
    );

    // Delta: a terminal with the 5,000-item region gets one edited item.
    let dir = agent_dir(
        None,
        "[regional]\nsync_interval_s = 3600\nheartbeat_interval_s = 3600\n",
    );
    let t = token("delta");
    rt.block_on(menpai_agent::sync::enroll(
        &dir.path().join("data"),
        &server_url,
        &ca,
        &t,
    ))
    .unwrap();
    let agent = spawn_agent(dir);
    let wire = |h: &serde_json::Value| h["regional"]["wire_bytes"].as_u64().unwrap_or(0);
    let t0 = Instant::now();
    let h = agent.wait_health(Duration::from_secs(300), |h| h["items"] == 5000);
    let first = wire(&h);
    println!(
        "first sync of 5,000 items: {first} bytes on the wire in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let v1 = h["content_version"].as_str().unwrap().to_owned();
    let (st, r) = https(
        &ca,
        s.public,
        "POST",
        "/api/v1/admin/content/import?format=csv&publish=true",
        &[("authorization", &auth)],
        "事项ID,别名\nP43,公积金买房提取\n".as_bytes(),
    );
    assert_eq!(st, 200, "{r}");
    let t0 = Instant::now();
    let h = agent.wait_health(Duration::from_secs(60), |h| {
        h["content_version"] != v1.as_str()
    });
    println!(
        "one changed item of 5,000: {} bytes on the wire, activated {:.2} s after the publish (goal ≤ 20 KB)",
        wire(&h) - first,
        t0.elapsed().as_secs_f64()
    );
    let (_, guide) = get_json(agent.addr, "/api/v1/items/P43");
    assert!(guide.to_string().contains("公积金买房提取"));
}
