//! 听指南 through the agent's API with the simulated voice: espeak-ng writes the reading's WAV
//! and its text and pinyin; a reading can be stopped and replayed; bad requests are refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use menpai_agent::Agent;
use menpai_agent::config::Config;
use menpai_model::api::{AgentEvent, ReadingState};
use serde_json::{Value, json};
use tower::ServiceExt;

fn agent(dir: &std::path::Path) -> Arc<Agent> {
    let mut config = Config {
        data_dir: dir.to_owned(),
        seed_pack: Some(menpai_content::demo_region_dir()),
        ..Config::default()
    };
    config.devices.voice.wav_dir = dir.join("voice").display().to_string();
    Arc::new(Agent::open(config).unwrap())
}

async fn call(
    agent: &Arc<Agent>,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map(|b| Body::from(b.to_string())).unwrap_or_default())
        .unwrap();
    let res = menpai_agent::api::router(agent.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Waits for the agent to say reading `id` has ended.
async fn ended(events: &mut tokio::sync::broadcast::Receiver<AgentEvent>, id: u64) -> ReadingState {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(AgentEvent::ReadingChanged { reading }))
                if reading.id == id && !reading.playing =>
            {
                return reading;
            }
            Ok(Ok(_)) => {}
            other => panic!("reading {id} never ended: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guide_is_read_aloud_with_its_polyphones_right_and_can_be_stopped_and_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(dir.path());
    let mut events = agent.subscribe();

    // 住房公积金退休提取: 银行卡 (hang2) and 还清 (huan2) in its summary.
    let (st, first) = call(&agent, "POST", "/api/v1/read", Some(json!({"item": "P45"}))).await;
    assert_eq!(st, StatusCode::OK, "{first}");
    let first: ReadingState = serde_json::from_value(first).unwrap();
    assert!(first.playing);
    let text = &first.text;
    assert!(text.starts_with("住房公积金退休提取。谁可以办："), "{text}");
    assert!(
        text.contains("在哪里办：本大厅") && text.contains("号窗口"),
        "{text}"
    );
    assert!(
        text.contains("要带的材料：居民身份证、本人名下银行卡"),
        "{text}"
    );
    assert!(first.pinyin.contains("yin2 hang2 ka3"), "{}", first.pinyin);
    assert!(first.pinyin.contains("huan2 qing1"), "{}", first.pinyin);
    assert!(!first.pinyin.contains("xing2 ka3"), "{}", first.pinyin);

    // Stopped at once: the state says so and the UI is told.
    let (st, stopped) = call(&agent, "POST", "/api/v1/read/stop", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (stopped["id"].as_u64(), stopped["playing"].as_bool()),
        (Some(first.id), Some(false))
    );
    ended(&mut events, first.id).await;

    // Replayed: a new reading of the same words.
    let (_, again) = call(&agent, "POST", "/api/v1/read", Some(json!({"item": "P45"}))).await;
    let again: ReadingState = serde_json::from_value(again).unwrap();
    assert_eq!(
        (again.id, again.text.as_str()),
        (first.id + 1, text.as_str())
    );

    // The WAV twin: a spoken WAV of several seconds, and its text and pinyin beside it.
    let read = dir.path().join("voice/read");
    let twin = format!("{}\n{}\n", again.text, again.pinyin);
    let (txt, wav) = wait_for_twin(&read, &twin);
    let secs = menpai_drivers::voice::wav_seconds(&wav).unwrap();
    assert!(secs > 5.0, "{secs} s");
    println!(
        "read aloud: {} characters, {secs:.1} s of speech\n{txt}",
        again.text.chars().count()
    );

    // A short reading plays to its end by itself.
    let (_, short) = call(
        &agent,
        "POST",
        "/api/v1/read",
        Some(json!({"text": "请到银行还款"})),
    )
    .await;
    let id = short["id"].as_u64().unwrap();
    let done = ended(&mut events, id).await;
    assert_eq!(
        (done.error, done.pinyin.as_str()),
        (None, "qing3 dao4 yin2 hang2 huan2 kuan3")
    );
}

/// The twin's files of the reading saying `twin` (text and pinyin): its WAV appears whole
/// once spoken, its text before; a reading stopped before it began has no files.
fn wait_for_twin(dir: &std::path::Path, twin: &str) -> (String, Vec<u8>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "txt")
                && std::fs::read_to_string(&path).is_ok_and(|t| t == twin)
                && let Ok(wav) = std::fs::read(path.with_extension("wav"))
            {
                return (twin.to_owned(), wav);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no WAV in {} says {twin}", dir.display());
}

#[tokio::test]
async fn bad_readings_are_refused_in_words_and_the_reader_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(dir.path());
    for (body, status, says) in [
        (json!({}), StatusCode::BAD_REQUEST, "之一"),
        (
            json!({"item": "P45", "text": "你好"}),
            StatusCode::BAD_REQUEST,
            "之一",
        ),
        (
            json!({"text": "  "}),
            StatusCode::BAD_REQUEST,
            "没有要朗读的内容",
        ),
        (
            json!({"text": "办".repeat(1001)}),
            StatusCode::BAD_REQUEST,
            "最多朗读",
        ),
        (
            json!({"text": "办".repeat(20_000)}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
        (
            json!({"item": "NOPE"}),
            StatusCode::NOT_FOUND,
            "没有找到事项",
        ),
        (
            json!({"words": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown field",
        ),
    ] {
        let (st, v) = call(&agent, "POST", "/api/v1/read", Some(body.clone())).await;
        assert_eq!(st, status, "{v}");
        assert!(
            v["error"].as_str().unwrap_or_default().contains(says),
            "{v}"
        );
    }
    let (st, v) = call(
        &agent,
        "POST",
        "/api/v1/read",
        Some(json!({"text": "请到3号窗口"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["pinyin"], "qing3 dao4 san1 hao4 chuang1 kou3");
    let (_, now) = call(&agent, "GET", "/api/v1/read", None).await;
    assert_eq!(now["id"], v["id"]);
}
