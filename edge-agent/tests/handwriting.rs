//! Handwriting through the agent's API with the real Zinnia and its simplified-Chinese model:
//! recorded stroke sequences of characters from item names, and bad ink.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use menpai_agent::Agent;
use menpai_agent::config::Config;
use menpai_agent::store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

/// One character per line: the character, its pad and its strokes in stroke order, as a finger
/// writes them (a point every few pixels, a little unsteady). The last 16 (王 … 力) were added
/// after the recogniser's rules were set, to judge it on characters it was not tuned on.
const RECORDED: &str = include_str!("data/handwriting.jsonl");

fn agent() -> Arc<Agent> {
    Arc::new(Agent::with_store(
        Config::default(),
        Store::open_in_memory().unwrap(),
    ))
}

async fn post(agent: &Arc<Agent>, body: String) -> (StatusCode, Value) {
    let req = Request::post("/api/v1/handwriting")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
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

fn candidates(v: &Value) -> Vec<String> {
    v["candidates"]
        .as_array()
        .unwrap_or_else(|| panic!("no candidates in {v}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn recorded_characters_are_among_the_first_five_candidates() {
    let agent = agent();
    let mut found = 0;
    let mut missed = Vec::new();
    let rows: Vec<Value> = RECORDED
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.len() >= 20);
    for row in &rows {
        let ch = row["char"].as_str().unwrap();
        let (status, body) = post(&agent, row.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{ch}: {body}");
        let got = candidates(&body);
        assert!(got.len() >= 8, "{ch}: only {} candidates", got.len());
        if got[..5].iter().any(|c| c == ch) {
            found += 1;
        } else {
            missed.push(format!("{ch} → {}", got[..5].join(" ")));
        }
        // After each stroke the pad asks again: every prefix is answered.
        let strokes = row["strokes"].as_array().unwrap();
        let first = json!({"width": 300, "height": 300, "strokes": [strokes[0]]});
        let (status, body) = post(&agent, first.to_string()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!candidates(&body).is_empty());
    }
    println!(
        "handwriting: {found} of {} in the first five; missed: {missed:?}",
        rows.len()
    );
    assert!(
        found * 100 >= rows.len() * 90,
        "only {found} of {} in the first five; missed: {missed:?}",
        rows.len()
    );
}

#[tokio::test]
async fn bad_ink_gets_a_clear_answer_and_the_pad_goes_on() {
    let agent = agent();
    let row: Value = serde_json::from_str(RECORDED.lines().next().unwrap()).unwrap();
    let ch = row["char"].as_str().unwrap();

    // Strokes sliding off the pad are taken, clamped to its edge.
    let off = json!({"width": 300, "height": 300,
        "strokes": [[[-400, -20], [150, 150], [5000, 900]]]});
    let (status, body) = post(&agent, off.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A finger held on the pad: 10,000 points in one stroke, thinned, answered.
    let long: Vec<[i32; 2]> = (0..10_000).map(|i| [150 + i % 7, 20 + i / 40]).collect();
    let (status, body) = post(
        &agent,
        json!({"width": 300, "height": 300, "strokes": [long]}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!candidates(&body).is_empty());

    // Past the bounds: refused in words.
    let cases = [
        (
            json!({"width": 300, "height": 300, "strokes": []}),
            "请先在写字板上写字",
        ),
        (
            json!({"width": 300, "height": 300, "strokes": [[]]}),
            "请先在写字板上写字",
        ),
        (
            json!({"width": 0, "height": 300, "strokes": [[[1, 1]]]}),
            "写字板尺寸不对",
        ),
        (
            json!({"width": 300, "height": 300, "strokes": vec![vec![[1, 1]]; 49]}),
            "笔画太多",
        ),
        (
            json!({"width": 300, "height": 300, "strokes": [vec![[1, 1]; 20_001]]}),
            "一笔太长",
        ),
    ];
    for (ink, message) in cases {
        let (status, body) = post(&agent, ink.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["error"].as_str().unwrap_or_default().contains(message),
            "{body} should say {message}"
        );
    }
    let huge = format!(
        "{{\"width\":300,\"height\":300,\"strokes\":[[{}[1,1]]]}}",
        "[100,100],".repeat(60_000)
    );
    let (status, body) = post(&agent, huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"], "请求内容太大");
    let (status, body) = post(&agent, "{\"width\": 300".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // And the recogniser still answers.
    let (status, body) = post(&agent, row.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(candidates(&body)[..5].iter().any(|c| c == ch));
}

#[tokio::test]
async fn a_missing_model_says_handwriting_is_unavailable() {
    let mut config = Config::default();
    config.handwriting.model = "/nonexistent/handwriting.model".into();
    let agent = Arc::new(Agent::with_store(config, Store::open_in_memory().unwrap()));
    let row = RECORDED.lines().next().unwrap().to_owned();
    let (status, body) = post(&agent, row).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "手写识别暂不可用");
}

/// A spiral whose every farthest point is the one before its end would make Zinnia split it
/// about a hundred levels deep, doubling a table each level: only its corners reach Zinnia.
#[tokio::test]
async fn a_spiral_stroke_is_answered_without_exhausting_memory() {
    let agent = agent();
    let mut spiral = vec![[150, 150]];
    for i in 1..=2_000 {
        let angle = f64::from(i) * std::f64::consts::FRAC_PI_2;
        let r = 10.0 + 0.07 * f64::from(i);
        spiral.push([
            150 + (r * angle.cos()).round() as i32,
            150 + (r * angle.sin()).round() as i32,
        ]);
    }
    let body = json!({"width": 300, "height": 300, "strokes": [spiral]});
    let (status, body) = post(&agent, body.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let row = RECORDED.lines().next().unwrap().to_owned();
    let (status, _) = post(&agent, row).await;
    assert_eq!(status, StatusCode::OK);
}
