//! The local API through its router (no sockets): what the kiosk sees for content, bad input and
//! admin routes.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use menpai_agent::Agent;
use menpai_agent::config::Config;
use menpai_agent::store::Store;
use serde_json::Value;
use tower::ServiceExt;

const TOKEN: &str = "technician-secret";

fn agent() -> Arc<Agent> {
    let mut config = Config::default();
    config.admin.token_sha256 = sha256_hex(TOKEN);
    let store = Store::open_in_memory().unwrap();
    let pack = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    store.import(&pack).unwrap();
    let agent = Agent::with_store(config, store);
    agent.reload().unwrap();
    Arc::new(agent)
}

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

async fn call(agent: &Arc<Agent>, req: Request<Body>) -> (StatusCode, Value) {
    let res = menpai_agent::api::router(agent.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, body)
}

async fn get(agent: &Arc<Agent>, uri: &str) -> (StatusCode, Value) {
    call(agent, Request::get(uri).body(Body::empty()).unwrap()).await
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.,".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn non_empty_str(v: &Value, what: &str) {
    assert!(
        v.as_str().is_some_and(|s| !s.trim().is_empty()),
        "{what} is empty: {v}"
    );
}

fn non_empty_list(v: &Value, what: &str) {
    assert!(
        v.as_array().is_some_and(|a| !a.is_empty()),
        "{what} is empty: {v}"
    );
}

#[tokio::test]
async fn every_required_item_has_a_complete_guide() {
    let agent = agent();
    let tsv =
        std::fs::read_to_string(menpai_content::demo_region_dir().join("../required-items.tsv"))
            .unwrap();
    let mut walked = 0;
    for line in tsv.lines().skip(1).filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (id, name, audience, topic, department) = (cols[0], cols[1], cols[2], cols[3], cols[4]);
        let (status, g) = get(&agent, &format!("/api/v1/items/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{id}: {g}");
        let item = &g["item"];
        let what = |f: &str| format!("{id} {f}");
        assert_eq!(item["name"], name, "{id} name");
        assert_eq!(item["audience"], audience, "{id} audience");
        assert_eq!(item["topic"], topic, "{id} topic");
        assert_eq!(item["department"], department, "{id} department");
        for f in [
            "code",
            "item_type",
            "result",
            "consult_phone",
            "complaint_phone",
        ] {
            non_empty_str(&item[f], &what(f));
        }
        for f in [
            "aliases",
            "life_events",
            "legal_basis",
            "conditions",
            "situations",
            "steps",
        ] {
            non_empty_list(&item[f], &what(f));
        }
        for s in item["situations"].as_array().unwrap() {
            non_empty_str(&s["name"], &what("situation name"));
            let own = s["materials"].as_array().unwrap();
            assert!(
                !own.is_empty() || !item["materials"].as_array().unwrap().is_empty(),
                "{id}: a situation without materials"
            );
            for m in own.iter().chain(item["materials"].as_array().unwrap()) {
                non_empty_str(&m["name"], &what("material name"));
                non_empty_str(&m["form"], &what("material form"));
                assert!(m["copies"].as_u64().unwrap() >= 1, "{id} copies");
                assert!(m["required"].is_boolean(), "{id} required");
            }
        }
        assert!(item["fees"]["charged"].is_boolean(), "{id} fees");
        if item["fees"]["charged"] == true {
            non_empty_list(&item["fees"]["items"], &what("fees.items"));
        }
        for f in [
            "promised",
            "legal",
            "visits_label",
            "online_depth_label",
            "department_phone",
        ] {
            non_empty_str(&g[f], &what(f));
        }
        assert!(item["visits"].as_u64().unwrap() <= 1, "{id} visits");
        assert!(
            (1..=4).contains(&item["online_depth"].as_u64().unwrap()),
            "{id} online depth"
        );
        let channels = &item["channels"];
        let has_channel = channels["online"]["url"].is_string()
            || !g["halls"].as_array().unwrap().is_empty()
            || !g["self_service"].as_array().unwrap().is_empty();
        assert!(has_channel, "{id} has no channel");
        for h in g["halls"].as_array().unwrap() {
            non_empty_str(&h["name"], &what("hall name"));
            non_empty_list(&h["windows"], &what("hall windows"));
        }
        walked += 1;
    }
    assert_eq!(walked, 100);
}

#[tokio::test]
async fn the_guide_puts_this_hall_first_with_zone_names() {
    let agent = agent();
    let (_, g) = get(&agent, "/api/v1/items/P43").await;
    let first = &g["halls"][0];
    assert_eq!(first["id"], "hall-futian");
    assert_eq!(first["here"], true);
    assert!(first["windows"][0]["zone"].is_string(), "{first}");
}

#[tokio::test]
async fn home_shows_the_hall_featured_items_and_slides() {
    let agent = agent();
    let (status, home) = get(&agent, "/api/v1/home?at=2026-11-23T10:00").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(home["hall"]["name"], "福田区政务服务中心");
    assert_eq!(home["hall"]["open_now"], true);
    assert_eq!(home["region"]["demo"], true);
    assert!(home["featured"].as_array().unwrap().len() >= 10);
    assert!(home["slides"].as_array().unwrap().len() >= 5);
    let personal = &home["audiences"][0]["counts"]["topics"];
    assert!(personal["住房"].as_u64().unwrap() >= 5, "{personal}");
}

#[tokio::test]
async fn browsing_filters_by_audience_topic_event_and_department() {
    let agent = agent();
    let (s, r) = get(
        &agent,
        &format!(
            "/api/v1/items?audience={}&topic={}",
            enc("个人"),
            enc("住房")
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let items = r["items"].as_array().unwrap();
    assert!(items.len() >= 8);
    assert!(
        items
            .iter()
            .all(|i| i["topic"] == "住房" && i["audience"] == "个人")
    );
    // Most demanded first.
    assert!(
        items
            .iter()
            .take(2)
            .any(|i| i["name"].as_str().unwrap().contains("公积金"))
    );
    let (s, r) = get(
        &agent,
        &format!("/api/v1/items?department={}", enc("住房公积金管理中心")),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["total"], 6);
    let (s, r) = get(
        &agent,
        &format!("/api/v1/items?life_event={}", enc("企业开办")),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == "E01")
    );
}

#[tokio::test]
async fn bad_query_parameters_get_400_with_a_reason() {
    let agent = agent();
    for (uri, reason) in [
        (format!("/api/v1/items?topic={}", enc("火星")), "火星"),
        ("/api/v1/items?audience=robot".to_owned(), "audience"),
        ("/api/v1/items?limit=0".to_owned(), "limit"),
        ("/api/v1/items?limit=abc".to_owned(), "limit"),
        ("/api/v1/items?colour=red".to_owned(), "colour"),
        ("/api/v1/search".to_owned(), "q"),
        (format!("/api/v1/search?q={}", "a".repeat(65)), "64"),
        ("/api/v1/outlets?lat=91&lon=114".to_owned(), "经纬度"),
        ("/api/v1/outlets?lat=22.5".to_owned(), "lat"),
        ("/api/v1/outlets?kind=bank".to_owned(), "bank"),
        ("/api/v1/home?at=tomorrow".to_owned(), "at"),
        (
            "/api/v1/items/P03/checklist?situations=nope".to_owned(),
            "nope",
        ),
    ] {
        let (status, body) = get(&agent, &uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        let msg = body["error"].as_str().unwrap();
        assert!(
            msg.contains(reason),
            "{uri}: `{msg}` does not mention `{reason}`"
        );
    }
    let (status, body) = get(&agent, "/api/v1/items/NOPE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains("NOPE"));
}

#[tokio::test]
async fn the_checklist_merges_common_and_chosen_situation_materials() {
    let agent = agent();
    let (_, g) = get(&agent, "/api/v1/items/P43").await;
    let item = &g["item"];
    let situations = item["situations"].as_array().unwrap();
    let first = situations[0]["id"].as_str().unwrap();
    let (status, list) = get(
        &agent,
        &format!("/api/v1/items/P43/checklist?situations={first}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for m in item["materials"]
        .as_array()
        .unwrap()
        .iter()
        .chain(situations[0]["materials"].as_array().unwrap())
    {
        assert!(
            names.contains(&m["name"].as_str().unwrap()),
            "missing {}",
            m["name"]
        );
    }
    assert_eq!(list["situations"][0], situations[0]["name"]);
    // The POST form gives the same list.
    let req = Request::post("/api/v1/items/P43/checklist")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!(r#"{{"situations":["{first}"]}}"#)))
        .unwrap();
    let (status, posted) = call(&agent, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(posted, list);
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused_clearly() {
    let agent = agent();
    let huge = format!(r#"{{"situations":["{}"]}}"#, "x".repeat(200_000));
    let req = Request::post("/api/v1/items/P43/checklist")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(huge))
        .unwrap();
    let (status, body) = call(&agent, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"], "请求内容太大");
    let req = Request::post("/api/v1/items/P43/checklist")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"situations\": [\"s1\","))
        .unwrap();
    let (status, body) = call(&agent, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("请求内容有误"));
    let req = Request::post("/api/v1/items/P43/checklist")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"situations\": [1]}"))
        .unwrap();
    let (status, body) = call(&agent, req).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("situations[0]"),
        "{body}"
    );
}

#[tokio::test]
async fn outlets_are_sorted_by_distance_with_open_now() {
    let agent = agent();
    // A Monday morning: halls open, a 24-hour machine open.
    let (s, r) = get(&agent, "/api/v1/outlets?at=2026-11-23T10:00").await;
    assert_eq!(s, StatusCode::OK);
    let list = r["outlets"].as_array().unwrap();
    assert_eq!(list.len(), 17);
    let distances: Vec<u64> = list
        .iter()
        .map(|o| o["distance_m"].as_u64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert_eq!(list[0]["id"], "hall-futian");
    assert_eq!(list[0]["open_now"], true);
    // Sunday night: halls closed, the bank's 24-hour machine open.
    let (_, r) = get(&agent, "/api/v1/outlets?at=2026-11-22T23:00").await;
    let by_id = |id: &str| {
        r["outlets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("hall-futian")["open_now"], false);
    assert_eq!(by_id("hall-futian")["hours_today"], "今日休息");
    assert_eq!(by_id("ss-ccb-shennan")["open_now"], true);
    // National Day: closed although it is a Thursday.
    let (_, r) = get(&agent, "/api/v1/outlets?at=2026-10-01T10:00&kind=hall").await;
    assert!(
        r["outlets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["open_now"] == false)
    );
}

#[tokio::test]
async fn items_by_outlet_and_outlets_by_item() {
    let agent = agent();
    let (s, r) = get(&agent, "/api/v1/outlets/ss-civic").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == "P09"),
        "{}",
        r["items"]
    );
    let (s, r) = get(&agent, "/api/v1/items/P08/outlets").await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<&str> = r["outlets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"hall-futian") && ids.contains(&"hall-civic"),
        "{ids:?}"
    );
    let (s, r) = get(&agent, "/api/v1/outlets?item=P18&kind=station").await;
    assert_eq!(s, StatusCode::OK);
    assert!(r["outlets"].as_array().unwrap().len() >= 3);
}

#[tokio::test]
async fn floor_plan_faqs_and_search() {
    let agent = agent();
    let (s, r) = get(&agent, "/api/v1/halls/hall-futian/floorplan").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["you_are_here"]["position"]["id"], "entrance");
    assert!(r["plan"]["floors"][0]["windows"].as_array().unwrap().len() >= 20);
    let (s, r) = get(&agent, "/api/v1/faqs?item=P43").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!r["faqs"].as_array().unwrap().is_empty());
    let (s, r) = get(&agent, "/api/v1/search?q=gjj").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        r["hits"][0]["name"].as_str().unwrap().contains("公积金"),
        "{r}"
    );
}

#[tokio::test]
async fn admin_routes_need_the_technician_credential() {
    let agent = agent();
    let import = |token: Option<&str>, dir: &str| {
        let mut b = Request::post("/api/v1/admin/content/import")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        b.body(Body::from(serde_json::json!({ "dir": dir }).to_string()))
            .unwrap()
    };
    let demo = menpai_content::demo_region_dir().display().to_string();
    let (s, _) = call(&agent, import(None, &demo)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(&agent, import(Some("guess"), &demo)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // A pack with one broken item is refused, naming file, item and field; the version stays.
    let before = agent.catalog().unwrap().version.clone();
    let broken = tempfile::tempdir().unwrap();
    copy_dir(&menpai_content::demo_region_dir(), broken.path());
    let p = broken.path().join("items/P43.json");
    let mut item: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    item["online_depth"] = 9.into();
    std::fs::write(&p, serde_json::to_string_pretty(&item).unwrap()).unwrap();
    let (s, body) = call(
        &agent,
        import(Some(TOKEN), &broken.path().display().to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let problem = &body["details"][0];
    assert_eq!(problem["file"], "items/P43.json");
    assert_eq!(problem["record"], "item P43");
    assert_eq!(problem["field"], "online_depth");
    assert_eq!(agent.catalog().unwrap().version, before);

    // A good pack activates; rollback brings the old one back; the audit log saw it all.
    let mut region: Value =
        serde_json::from_str(&std::fs::read_to_string(broken.path().join("region.json")).unwrap())
            .unwrap();
    region["version"] = "2026.11.22-1".into();
    std::fs::write(broken.path().join("region.json"), region.to_string()).unwrap();
    std::fs::copy(menpai_content::demo_region_dir().join("items/P43.json"), &p).unwrap();
    let (s, body) = call(
        &agent,
        import(Some(TOKEN), &broken.path().display().to_string()),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(agent.catalog().unwrap().version.version, "2026.11.22-1");
    let rollback = Request::post("/api/v1/admin/content/rollback")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let (s, _) = call(&agent, rollback).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(agent.catalog().unwrap().version.version, before.version);
    let audit = agent.store.audit_entries(10).unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|(_, a, _, o)| (a.as_str(), o.as_str()))
        .collect();
    assert_eq!(actions.len(), 5, "{actions:?}");
    assert_eq!(actions[0], ("content.rollback", "activated 2026.11.21-1"));
    assert!(
        actions[2].1.starts_with("refused: 1 problem"),
        "{actions:?}"
    );
    assert_eq!(actions[4].1, "refused");
}

#[tokio::test]
async fn admin_routes_are_off_without_a_configured_credential() {
    let store = Store::open_in_memory().unwrap();
    let agent = Arc::new(Agent::with_store(Config::default(), store));
    let req = Request::post("/api/v1/admin/content/rollback")
        .header(header::AUTHORIZATION, "Bearer anything")
        .body(Body::empty())
        .unwrap();
    let (s, _) = call(&agent, req).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Without content the kiosk gets a plain 503.
    let (s, body) = get(&agent, "/api/v1/home").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["error"].as_str().unwrap().contains("没有办事指南内容"));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn ratings_and_help_requests_are_queued_for_the_regional_server() {
    let agent = agent();
    let post = |uri: &str, body: &str| {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let (s, r) = call(
        &agent,
        post(
            "/api/v1/ratings",
            r#"{"level": 2, "reasons": ["等待时间长"], "item": "P43"}"#,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (s, _) = call(&agent, post("/api/v1/help", r#"{"context": "Guide"}"#)).await;
    assert_eq!(s, StatusCode::OK);
    let (_, health) = get(&agent, "/api/v1/health").await;
    assert_eq!(health["outbox_depth"], 2);
    let queued = agent.store.unsent(10).unwrap();
    assert_eq!(
        queued
            .iter()
            .map(|(_, k, _, _)| k.as_str())
            .collect::<Vec<_>>(),
        ["rating", "help_request"]
    );
    let rating: Value = serde_json::from_str(&queued[0].2).unwrap();
    assert_eq!(rating["level"], 2);
    assert_ne!(
        queued[0].0, queued[1].0,
        "every event has its own idempotency key"
    );
    for (body, reason) in [
        (r#"{"level": 9}"#, "level"),
        (r#"{"level": 3, "item": "NOPE"}"#, "NOPE"),
        (
            r#"{"level": 3, "reasons": ["一二三四五六七八九十一二三四五六七"]}"#,
            "原因",
        ),
    ] {
        let (s, r) = call(&agent, post("/api/v1/ratings", body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {r}");
        assert!(r["error"].as_str().unwrap().contains(reason), "{r}");
    }
    assert_eq!(
        agent.store.outbox_depth().unwrap(),
        2,
        "refused ratings are not queued"
    );
}

#[tokio::test]
async fn an_empty_or_overlong_question_is_refused_in_words_and_the_next_is_answered() {
    let agent = agent();
    let (st, v) = get(&agent, "/api/v1/ask?q=").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"], "请先输入您的问题");
    let (st, v) = get(&agent, &format!("/api/v1/ask?q={}", enc("   "))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // 10 KB of question.
    let long = "我想问一下".repeat(683);
    assert!(long.len() >= 10 * 1024);
    let (st, v) = get(&agent, &format!("/api/v1/ask?q={}", enc(&long))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("问题太长了"), "{v}");
    let (st, v) = get(&agent, "/api/v1/ask").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = get(
        &agent,
        &format!("/api/v1/ask?q={}", enc("身份证丢了怎么补办")),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(!v["answers"].as_array().unwrap().is_empty(), "{v}");
}
