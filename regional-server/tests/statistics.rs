//! Hall statistics through the routers (`oneshot`): a day of tickets issued and acted on at
//! known times, appointments, ratings and help calls; the report page, its JSON, the CSV and the
//! XLSX export all hold the figures an independent computation here gives; every count opens
//! the tickets behind it; a viewer of one hall reads only that hall (403 audited, 404 for a
//! made-up one); exports are audited; bad dates and over-long ranges are refused.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use calamine::{Data, Reader, Xlsx};
use menpai_model::appointment::AppointmentClaims;
use menpai_model::help::HelpStage;
use menpai_model::outlet::BusinessType;
use menpai_model::queue::Priority;
use menpai_server::Server;
use menpai_server::config::Config;
use menpai_server::operators::hash_password;
use menpai_server::storage::help::HelpCallRecord;
use menpai_server::storage::operators::AuditFilter;
use menpai_server::storage::ratings::{RatedTicket, RatingSource};
use menpai_server::storage::{Act, NewAppointment, NewTicket, Rating, Role};
use serde_json::Value;
use tower::ServiceExt;

mod support;

use sha2::{Digest, Sha256};
use support::http::login;

const HALL: &str = "hall-futian";
const OTHER_HALL: &str = "hall-civic";
const DAY: &str = "2026-11-30";
const STAFF: &str = "staff-a";

/// A local stamp of the test's day.
fn at(hms: &str) -> String {
    format!("{DAY} {hms}.000")
}

fn seconds(hms: &str) -> i64 {
    let p: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    p[0] * 3600 + p[1] * 60 + p[2]
}

/// What the day held, as the test made it, and what each figure must be.
#[derive(Debug)]
struct Day {
    business: String,
    window: u32,
    /// Each ticket's number and, when called, its wait in seconds.
    numbers: Vec<String>,
    waits: Vec<u64>,
    services: Vec<u64>,
    level_s: u64,
    open_s: u64,
}

/// The hall's first business some window serves, and that window (the first business and no
/// window in a hall without a floor plan).
fn business_of(server: &Server, hall: &str) -> (BusinessType, Option<u32>) {
    let h = server.halls.get(hall).unwrap();
    h.business_types
        .iter()
        .find_map(|b| {
            h.windows_for(&b.prefix)
                .first()
                .map(|w| (b.clone(), Some(*w)))
        })
        .unwrap_or_else(|| (h.business_types[0].clone(), None))
}

/// A ticket of the hall's business (see [`business_of`]) taken at `issued`.
fn issue(server: &Server, hall: &str, id: &str, issued: &str, appointment: Option<&str>) -> String {
    let (b, _) = business_of(server, hall);
    server
        .storage
        .issue_ticket(&NewTicket {
            hall,
            day: DAY,
            prefix: &b.prefix,
            business: &b.name,
            priority: Priority::Normal,
            issued_at: Some(&at(issued)),
            device: "dev-test",
            request_id: id,
            appointment_id: appointment,
        })
        .unwrap()
        .number
}

/// A window's action at `when` (the test's day).
fn act(server: &Server, hall: &str, window: u32, a: Act, when: &str) {
    let serves = server.halls.get(hall).unwrap().windows[&window].clone();
    server
        .storage
        .act(hall, DAY, window, &serves, a, &at(when), STAFF)
        .unwrap();
}

fn appointment(server: &Server, hall: &str, id: &str, prefix: &str, start: &str, end: &str) {
    server
        .storage
        .book(&NewAppointment {
            claims: AppointmentClaims {
                id: id.into(),
                hall: hall.into(),
                item: "item-1".into(),
                item_name: "社保卡申领".into(),
                prefix: prefix.into(),
                date: DAY.into(),
                start: start.into(),
                end: end.into(),
                holder: "张*".into(),
            },
            name_enc: vec![1],
            phone_enc: vec![2],
            phone_hash: format!("hash of {id}"),
            booked_at: at("08:00:00"),
            capacity: 10,
        })
        .unwrap();
}

fn rating(
    server: &Server,
    hall: &str,
    number: Option<&str>,
    window: Option<u32>,
    stars: u8,
    comment: &str,
) {
    let business = business_of(server, hall).0.name;
    server
        .storage
        .rate(&Rating {
            hall: hall.into(),
            ticket: number.map(|n| RatedTicket {
                day: DAY.into(),
                number: n.into(),
            }),
            business: if number.is_some() {
                business
            } else {
                String::new()
            },
            window,
            item: None,
            stars,
            reasons: if comment.is_empty() {
                vec![]
            } else {
                vec!["等候时间长".into()]
            },
            comment: comment.into(),
            source: RatingSource::Phone,
            device: None,
            rated_at: at("11:00:00"),
        })
        .unwrap();
}

/// A help call made at `utc` and acknowledged `ack_s` seconds later.
fn help_call(server: &Server, id: &str, hall: &str, utc: &str, ack_s: Option<i64>, training: bool) {
    server
        .storage
        .add_help_call(&HelpCallRecord {
            id: id.into(),
            device: "dev-test".into(),
            hall: hall.into(),
            position: "entrance".into(),
            screen: "Guide".into(),
            item: String::new(),
            created_at: utc.into(),
            stage: HelpStage::Waiting,
            escalated_at: None,
            acknowledged_by: None,
            acknowledged_name: None,
            acknowledged_at: None,
            resolved_by: None,
            resolved_at: None,
            training,
        })
        .unwrap();
    if let Some(s) = ack_s {
        let created = chrono::DateTime::parse_from_rfc3339(utc).unwrap();
        let acked = (created + chrono::Duration::seconds(s))
            .to_utc()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        server
            .storage
            .acknowledge_help_call(id, STAFF, "张三", &acked)
            .unwrap();
    }
}

/// The demo region, operators (a viewer of 福田, a viewer of the region, window staff, an
/// admin) and a day in 福田: four tickets (served, no-show, served, still waiting and checked in
/// from an appointment), one ticket in 市民中心, two appointments, three ratings, help calls.
fn server() -> (Arc<Server>, tempfile::TempDir, Day) {
    let (server, dir) = support::published(Config::default());
    let hash = hash_password("a password nobody types").unwrap();
    for (name, display, role, halls) in [
        (
            "viewer-a",
            "福田观察员",
            Role::Viewer,
            vec![HALL.to_owned()],
        ),
        ("viewer-all", "全区观察员", Role::Viewer, vec![]),
        (STAFF, "张三", Role::QueueStaff, vec![HALL.to_owned()]),
        ("ops-admin", "管理员", Role::Admin, vec![]),
    ] {
        server
            .storage
            .create_operator(name, display, role, &hash, &halls)
            .unwrap();
    }
    let (b, window) = business_of(&server, HALL);
    let window = window.unwrap();
    appointment(&server, HALL, "appt-1", &b.prefix, "10:00", "10:30");
    appointment(&server, HALL, "appt-2", &b.prefix, "09:00", "09:30");

    // (issued, called, served, ended): T1 served, T2 a no-show, T3 served, T4 still waiting.
    let t1 = issue(&server, HALL, "r1", "09:00:00", None);
    let t2 = issue(&server, HALL, "r2", "09:05:00", None);
    let t3 = issue(&server, HALL, "r3", "09:20:00", None);
    let t4 = issue(&server, HALL, "r4", "10:05:00", Some("appt-1"));
    act(&server, HALL, window, Act::CallNext, "09:10:00");
    act(&server, HALL, window, Act::Serve, "09:11:00");
    act(&server, HALL, window, Act::Finish, "09:15:00");
    act(&server, HALL, window, Act::CallNext, "09:30:00");
    act(&server, HALL, window, Act::NoShow, "09:31:00");
    act(&server, HALL, window, Act::CallNext, "09:40:00");
    act(&server, HALL, window, Act::Serve, "09:40:30");
    act(&server, HALL, window, Act::Finish, "09:50:30");

    // Another hall's ticket (市民中心 has no windows in the demo): a viewer of 福田 never sees it.
    issue(&server, OTHER_HALL, "o1", "09:00:00", None);

    rating(&server, HALL, Some(&t1), Some(window), 5, "");
    rating(&server, HALL, Some(&t3), Some(window), 4, "");
    rating(&server, HALL, None, None, 2, "大厅座位太少，站了半小时");
    rating(&server, OTHER_HALL, None, None, 1, "市民中心的意见");

    // 09:00 and 10:00 China time; a training call does not count.
    help_call(
        &server,
        "h1",
        HALL,
        "2026-11-30T01:00:00.000Z",
        Some(90),
        false,
    );
    help_call(
        &server,
        "h2",
        HALL,
        "2026-11-30T02:00:00.000Z",
        Some(210),
        false,
    );
    help_call(&server, "h3", HALL, "2026-11-30T03:00:00.000Z", None, false);
    help_call(
        &server,
        "h4",
        HALL,
        "2026-11-30T04:00:00.000Z",
        Some(5),
        true,
    );

    support::enroll(
        &server,
        "dev-test",
        HALL,
        "entrance",
        &hex::encode(Sha256::digest(support::http::CERT)),
    );
    let wait = |a: &str, b: &str| (seconds(b) - seconds(a)) as u64;
    let day = Day {
        business: b.name.clone(),
        window,
        numbers: vec![t1, t2, t3, t4],
        waits: vec![
            wait("09:00:00", "09:10:00"),
            wait("09:05:00", "09:30:00"),
            wait("09:20:00", "09:40:00"),
        ],
        services: vec![wait("09:11:00", "09:15:00"), wait("09:40:30", "09:50:30")],
        level_s: u64::from(b.service_level_min.unwrap_or(20)) * 60,
        open_s: wait("09:10:00", "09:50:30"),
    };
    (Arc::new(server), dir, day)
}

struct Got {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("{}", self.text()))
    }
}

async fn get(app: &Router, path: &str, cookie: &str) -> Got {
    let mut req = Request::builder()
        .uri(path)
        .header("host", "localhost")
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap()
        .to_vec();
    Got {
        status,
        headers,
        body,
    }
}

/// The figures computed here, independently of the server.
struct Expected {
    tickets: u64,
    served: u64,
    no_shows: u64,
    no_show_pct: f64,
    waited: u64,
    wait_mean: f64,
    wait_median: u64,
    wait_p90: u64,
    wait_max: u64,
    over: u64,
    over_pct: f64,
    service_mean: f64,
    buckets: [u64; 11],
    serving: u64,
    idle: u64,
}

fn nearest_rank(sorted: &[u64], p: usize) -> u64 {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn expected(d: &Day) -> Expected {
    let mut waits = d.waits.clone();
    waits.sort_unstable();
    let over = waits.iter().filter(|w| **w > d.level_s).count() as u64;
    let mut buckets = [0; 11];
    for s in &d.services {
        buckets[((s / 180) as usize).min(10)] += 1;
    }
    let serving: u64 = d.services.iter().sum();
    Expected {
        tickets: d.numbers.len() as u64,
        served: 2,
        no_shows: 1,
        no_show_pct: 100.0 / 3.0,
        waited: waits.len() as u64,
        wait_mean: waits.iter().sum::<u64>() as f64 / waits.len() as f64,
        wait_median: nearest_rank(&waits, 50),
        wait_p90: nearest_rank(&waits, 90),
        wait_max: *waits.last().unwrap(),
        over,
        over_pct: 100.0 * over as f64 / waits.len() as f64,
        service_mean: serving as f64 / d.services.len() as f64,
        buckets,
        serving,
        idle: d.open_s - serving,
    }
}

fn min_sec(s: f64) -> String {
    let s = s.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn one(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The page's cells of the first row (`合计`) of table `id`, as text.
fn total_row(page: &str, id: &str) -> Vec<String> {
    let table = &page[page.find(&format!("<table id=\"{id}\"")).unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    let row = &body[..body.find("</tr>").unwrap()];
    row.split("<td")
        .skip(1)
        .map(|cell| {
            let cell = &cell[cell.find('>').unwrap() + 1..];
            let mut text = String::new();
            let mut in_tag = false;
            for c in cell.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.trim().to_owned()
        })
        .collect()
}

/// The queue's total row as the page must show it.
fn page_queue_total(e: &Expected) -> Vec<String> {
    let mut v = vec![
        "合计".to_owned(),
        e.tickets.to_string(),
        e.tickets.to_string(),
        e.served.to_string(),
        e.no_shows.to_string(),
        "0".into(),
        format!("{:.1}%", e.no_show_pct),
        e.waited.to_string(),
        min_sec(e.wait_mean),
        min_sec(e.wait_median as f64),
        min_sec(e.wait_p90 as f64),
        min_sec(e.wait_max as f64),
        e.over.to_string(),
        format!("{:.1}%", e.over_pct),
        min_sec(e.service_mean),
    ];
    v.extend(e.buckets.iter().map(u64::to_string));
    v.push(format!("{:.1} 分钟", e.serving as f64 / 60.0));
    v
}

/// The queue's total row as exports must hold it (numbers; durations in seconds).
fn export_queue_total(e: &Expected) -> Vec<f64> {
    let mut v = vec![
        e.tickets as f64,
        e.tickets as f64,
        e.served as f64,
        e.no_shows as f64,
        0.0,
        one(e.no_show_pct),
        e.waited as f64,
        one(e.wait_mean),
        e.wait_median as f64,
        e.wait_p90 as f64,
        e.wait_max as f64,
        e.over as f64,
        one(e.over_pct),
        one(e.service_mean),
    ];
    v.extend(e.buckets.iter().map(|b| *b as f64));
    v.push(e.serving as f64);
    v
}

fn filters() -> String {
    format!("hall={HALL}&from={DAY}&to={DAY}")
}

#[tokio::test]
async fn the_page_its_json_and_both_exports_hold_the_figures_of_the_tickets() {
    let (server, _dir, day) = server();
    let app = menpai_server::admin_router(server.clone());
    let e = expected(&day);
    let viewer = login(&server, "viewer-a");

    // JSON.
    let got = get(&app, &format!("/api/v1/statistics?{}", filters()), &viewer).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    let j = got.json();
    let t = &j["queue"]["total"];
    assert_eq!(t["tickets"], e.tickets);
    assert_eq!(t["arrived"], e.tickets);
    assert_eq!(t["served"], e.served);
    assert_eq!(t["no_shows"], e.no_shows);
    assert_eq!(t["waited"], e.waited);
    assert!((t["wait_mean_s"].as_f64().unwrap() - e.wait_mean).abs() < 1e-9);
    assert_eq!(t["wait_median_s"], e.wait_median);
    assert_eq!(t["wait_p90_s"], e.wait_p90);
    assert_eq!(t["wait_max_s"], e.wait_max);
    assert_eq!(t["over_level"], e.over);
    assert!((t["over_level_pct"].as_f64().unwrap() - e.over_pct).abs() < 1e-9);
    assert!((t["service_mean_s"].as_f64().unwrap() - e.service_mean).abs() < 1e-9);
    assert_eq!(t["service_buckets"], serde_json::json!(e.buckets));
    assert_eq!(t["serving_s"], e.serving);
    let w = &j["windows"][0];
    assert_eq!(w["label"], format!("{} 号窗口", day.window));
    assert_eq!(
        (
            &w["figures"]["open_s"],
            &w["figures"]["serving_s"],
            &w["figures"]["idle_s"]
        ),
        (&day.open_s.into(), &e.serving.into(), &e.idle.into())
    );
    let a = &j["appointments"]["total"];
    assert_eq!(
        (&a["booked"], &a["checked_in"], &a["missed"]),
        (&2.into(), &1.into(), &1.into())
    );
    let r = &j["ratings"]["total"];
    assert_eq!(r["total"], 3);
    assert_eq!(r["by_level"], serde_json::json!([1, 1, 0, 1, 0]));
    assert!((r["satisfaction_pct"].as_f64().unwrap() - 200.0 / 3.0).abs() < 1e-9);
    let h = &j["help"]["total"];
    assert_eq!((&h["calls"], &h["acknowledged"]), (&3.into(), &2.into()));
    assert_eq!(
        (&h["ack_mean_s"], &h["ack_max_s"]),
        (&150.0.into(), &210.into())
    );

    // The page: the same figures, as people read them.
    let got = get(&app, &format!("/statistics?{}", filters()), &viewer).await;
    assert_eq!(got.status, StatusCode::OK);
    let page = got.text();
    assert_eq!(total_row(&page, "queue"), page_queue_total(&e));
    assert_eq!(
        total_row(&page, "windows"),
        vec![
            format!("{} 号窗口", day.window),
            "1".into(),
            "2".into(),
            format!("{:.1} 分钟", day.open_s as f64 / 60.0),
            format!("{:.1} 分钟", e.serving as f64 / 60.0),
            format!("{:.1} 分钟", e.idle as f64 / 60.0),
        ]
    );
    assert_eq!(
        total_row(&page, "appointments"),
        ["合计", "2", "1", "1", "0", "50.0%"]
    );
    assert_eq!(
        total_row(&page, "ratings"),
        ["合计", "3", "1", "1", "0", "1", "0", "66.7%"]
    );
    assert_eq!(
        total_row(&page, "help"),
        ["合计", "3", "2", "0", "2:30", "3:30"]
    );
    assert!(page.contains("统计分析") && page.contains("过号率") && page.contains("满意率"));
    assert!(
        page.contains("id=\"usage\""),
        "the terminals' usage section"
    );
    assert!(page.contains(&format!(
        "src=\"/statistics/charts/arrivals.svg?hall={HALL}&amp;from={DAY}&amp;to={DAY}\""
    )));

    // CSV: a BOM, then the same figures (durations in seconds).
    let got = get(&app, &format!("/statistics.csv?{}", filters()), &viewer).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(
        got.body.starts_with(&[0xEF, 0xBB, 0xBF]),
        "a UTF-8 BOM first"
    );
    let disposition = got.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains(&format!("filename=\"statistics-{HALL}-{DAY}-{DAY}.csv\"")),
        "{disposition}"
    );
    // 统计分析-福田…: RFC 5987 keeps the Chinese.
    assert!(disposition.contains("filename*=UTF-8''%E7%BB%9F%E8%AE%A1%E5%88%86%E6%9E%90-"));
    let csv_text = got.text();
    let lines: Vec<&str> = csv_text.split("\r\n").collect();
    let title = lines.iter().position(|l| *l == "排队与办理").unwrap();
    assert!(lines[title + 1].starts_with("大厅,取号,到达（含转入）,办结,过号,转出,过号率（%）"));
    let cells: Vec<&str> = lines[title + 2].split(',').collect();
    assert_eq!(cells[0], "合计");
    let numbers: Vec<f64> = cells[1..].iter().map(|c| c.parse().unwrap()).collect();
    assert_eq!(numbers, export_queue_total(&e));
    let ratings = lines.iter().position(|l| *l == "好差评").unwrap();
    assert_eq!(lines[ratings + 2], "合计,3,1,1,0,1,0,66.7");
    let help = lines.iter().position(|l| *l == "呼叫工作人员").unwrap();
    assert_eq!(lines[help + 2], "合计,3,2,0,150,210");
    // Terminals' usage after the hall's figures (none was reported in this test).
    let usage = lines.iter().position(|l| *l == "终端使用").unwrap();
    assert!(lines[usage + 1].starts_with("搜索次数,无结果搜索,"));
    assert!(lines.contains(&"无结果搜索") && lines.contains(&"常看指南"));

    // XLSX: opens with calamine and holds the same figures.
    let got = get(&app, &format!("/statistics.xlsx?{}", filters()), &viewer).await;
    assert_eq!(got.status, StatusCode::OK);
    let mut book = Xlsx::new(std::io::Cursor::new(got.body)).unwrap();
    let queue = book.worksheet_range("排队与办理").unwrap();
    assert_eq!(
        queue.get((0, 8)),
        Some(&Data::String("平均等候（秒）".into()))
    );
    assert_eq!(queue.get((1, 0)), Some(&Data::String("合计".into())));
    let numbers: Vec<f64> = (1..=export_queue_total(&e).len())
        .map(|c| match queue.get((1, c)) {
            Some(Data::Float(f)) => *f,
            other => panic!("column {c}: {other:?}"),
        })
        .collect();
    assert_eq!(numbers, export_queue_total(&e));
    let windows = book.worksheet_range("窗口服务与空闲").unwrap();
    assert_eq!(windows.get((1, 5)), Some(&Data::Float(e.idle as f64)));
    let ratings = book.worksheet_range("好差评").unwrap();
    assert_eq!(ratings.get((1, 7)), Some(&Data::Float(66.7)));
    assert_eq!(
        book.sheet_names(),
        [
            "统计范围",
            "排队与办理",
            "窗口服务与空闲",
            "预约",
            "好差评",
            "呼叫工作人员",
            "终端使用",
            "热门搜索",
            "无结果搜索",
            "常看指南"
        ]
    );
    let appointments = book.worksheet_range("预约").unwrap();
    assert_eq!(appointments.get((1, 3)), Some(&Data::Float(1.0)));

    // Both exports are in the audit log, with the hall.
    let audited = server
        .storage
        .audit_search(
            &AuditFilter {
                action: Some("statistics.export".into()),
                ..AuditFilter::default()
            },
            10,
        )
        .unwrap();
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(
        audited
            .iter()
            .all(|a| a.operator == "viewer-a" && a.hall == HALL && a.outcome == "ok")
    );
    assert!(audited.iter().any(|a| a.detail.starts_with("xlsx")));
}

#[tokio::test]
async fn every_count_opens_the_tickets_behind_it_with_their_events() {
    let (server, _dir, day) = server();
    let app = menpai_server::admin_router(server.clone());
    let viewer = login(&server, "viewer-a");
    let page = get(&app, &format!("/statistics?{}", filters()), &viewer)
        .await
        .text();
    let link = format!("/statistics/tickets?{}&amp;by=hall&amp;figure=no_shows", {
        format!("hall={HALL}&amp;from={DAY}&amp;to={DAY}")
    });
    assert!(page.contains(&link), "the total's no-shows link");

    // The no-show: T2, called at 09:30 after 25 minutes.
    let got = get(
        &app,
        &format!(
            "/statistics/tickets?{}&by=hall&key={HALL}&figure=no_shows",
            filters()
        ),
        &viewer,
    )
    .await;
    assert_eq!(got.status, StatusCode::OK);
    let page = got.text();
    assert!(page.contains("共 <strong>1</strong> 个"), "{page}");
    assert!(page.contains(&day.numbers[1]));
    assert!(page.contains("09:30:00 叫号 · ") && page.contains("09:31:00 过号"));
    assert!(page.contains("张三"), "staff by display name");

    // By window, waits over the service level: those the JSON lists.
    let got = get(
        &app,
        &format!(
            "/api/v1/statistics/tickets?{}&by=window&key={HALL}/{}&figure=over_level",
            filters(),
            day.window
        ),
        &viewer,
    )
    .await;
    let j = got.json();
    let over: Vec<&u64> = day.waits.iter().filter(|w| **w > day.level_s).collect();
    assert_eq!(j["total"], over.len());
    for t in j["tickets"].as_array().unwrap() {
        assert!(t["wait_s"].as_u64().unwrap() > day.level_s);
        assert_eq!(t["events"][0]["state"], "waiting");
    }

    // Tickets taken: all four, each with its events.
    let j = get(
        &app,
        &format!("/api/v1/statistics/tickets?{}&figure=tickets", filters()),
        &viewer,
    )
    .await
    .json();
    let numbers: Vec<&str> = j["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        day.numbers.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(j["tickets"][0]["events"].as_array().unwrap().len(), 4);
    assert_eq!(j["tickets"][0]["business"], day.business);
    assert_eq!(
        (
            j["tickets"][0]["staff"].as_str(),
            j["tickets"][0]["events"][1]["actor"].as_str()
        ),
        (Some("张三"), Some("张三")),
        "people by the name pages show, never their logins"
    );

    // A service-time bucket: T1's 4 minutes are in 3–6.
    let j = get(
        &app,
        &format!("/api/v1/statistics/tickets?{}&figure=service_1", filters()),
        &viewer,
    )
    .await
    .json();
    assert_eq!(j["total"], 1);
    assert_eq!(j["tickets"][0]["number"], day.numbers[0].as_str());

    let bad = get(
        &app,
        &format!("/api/v1/statistics/tickets?{}&figure=everything", filters()),
        &viewer,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn appointment_rating_and_help_counts_open_the_records_behind_them() {
    let (server, _dir, day) = server();
    let app = menpai_server::admin_router(server.clone());
    let viewer = login(&server, "viewer-a");
    let page = get(&app, &format!("/statistics?{}", filters()), &viewer)
        .await
        .text();
    let base = format!("/statistics/records?hall={HALL}&amp;from={DAY}&amp;to={DAY}&amp;by=hall");
    for figure in [
        "appointments_booked",
        "appointments_checked_in",
        "appointments_missed",
        "ratings_all",
        "ratings_2",
        "help_calls",
        "help_acknowledged",
    ] {
        assert!(
            page.contains(&format!("{base}&amp;figure={figure}\"")),
            "the total's {figure} link"
        );
        assert!(
            page.contains(&format!("{base}&amp;key={HALL}&amp;figure={figure}\"")),
            "the hall row's {figure} link"
        );
    }
    assert!(
        !page.contains(&format!("{base}&amp;figure=ratings_3\"")),
        "no link on a zero"
    );
    let records = |query: String| {
        let (app, viewer) = (app.clone(), viewer.clone());
        async move {
            let got = get(&app, &format!("/statistics/records?{query}"), &viewer).await;
            (got.status, got.text())
        }
    };

    // The 不满意 count: that rating, with its reason and comment; not 市民中心's.
    let (status, page) =
        records(format!("{}&by=hall&key={HALL}&figure=ratings_2", filters())).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("共 <strong>1</strong> 条"), "{page}");
    assert!(page.contains("大厅座位太少，站了半小时"));
    assert!(page.contains("等候时间长") && page.contains("大厅整体评价"));
    assert!(page.contains(">不满意<"));
    assert!(!page.contains("市民中心的意见"));
    // All ratings: three, the served tickets by number and window.
    let (_, page) = records(format!("{}&figure=ratings_all", filters())).await;
    assert!(page.contains("共 <strong>3</strong> 条"), "{page}");
    assert!(page.contains(&day.numbers[0]) && page.contains(&day.numbers[2]));
    assert!(page.contains(&format!("{} 号窗口", day.window)));
    assert!(page.contains(">非常满意<") && page.contains(&day.business));

    // The missed appointment: 09:00–09:30, its holder masked, no phone anywhere.
    let (status, page) = records(format!(
        "{}&by=hall&key={HALL}&figure=appointments_missed",
        filters()
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("共 <strong>1</strong> 条"), "{page}");
    assert!(page.contains("id=\"appt-appt-2\"") && !page.contains("appt-appt-1"));
    assert!(page.contains("09:00–09:30") && page.contains(">爽约<"));
    assert!(page.contains("张*") && page.contains("社保卡申领"));
    let table = &page[page.find("<table").unwrap()..page.find("</table>").unwrap()];
    assert!(
        !table.contains("手机") && !table.contains("电话") && !table.contains("hash of"),
        "{table}"
    );
    // The checked-in one: with the ticket it was checked in with.
    let (_, page) = records(format!("{}&figure=appointments_checked_in", filters())).await;
    assert!(page.contains("id=\"appt-appt-1\"") && page.contains(&day.numbers[3]));
    assert!(page.contains(">已签到<"));

    // Help calls: the three from the plates (not the training one), 张三 by name.
    let (_, page) = records(format!("{}&figure=help_calls", filters())).await;
    assert!(page.contains("共 <strong>3</strong> 条"), "{page}");
    assert!(page.contains("2026-11-30 09:00:00") && page.contains("90 秒"));
    assert!(page.contains("210 秒") && page.contains("张三") && !page.contains("help-h4"));
    assert!(page.contains("办事指南"), "the screen by its name");
    let (_, page) = records(format!("{}&figure=help_acknowledged", filters())).await;
    assert!(page.contains("共 <strong>2</strong> 条") && !page.contains("help-h3"));

    // A row of another grouping: by hour, the 09:00 help call alone.
    let (_, page) = records(format!("{}&by=hour&key=09&figure=help_calls", filters())).await;
    assert!(
        page.contains("共 <strong>1</strong> 条") && page.contains("help-h1"),
        "{page}"
    );

    for bad in ["figure=everything", "figure=ratings_6", "figure="] {
        let (status, _) = records(format!("{}&{bad}", filters())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn a_viewer_of_one_hall_reads_only_that_hall() {
    let (server, _dir, _day) = server();
    let app = menpai_server::admin_router(server.clone());
    let viewer = login(&server, "viewer-a");

    // Without a hall: their hall alone, grouped by hall.
    let j = get(
        &app,
        &format!("/api/v1/statistics?from={DAY}&to={DAY}"),
        &viewer,
    )
    .await
    .json();
    let halls: Vec<&str> = j["queue"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(halls, [HALL]);
    assert_eq!(j["ratings"]["total"]["total"], 3, "not 市民中心's rating");
    // The region's viewer sees both.
    let all = login(&server, "viewer-all");
    let j = get(
        &app,
        &format!("/api/v1/statistics?from={DAY}&to={DAY}"),
        &all,
    )
    .await
    .json();
    assert_eq!(j["queue"]["rows"].as_array().unwrap().len(), 2);
    assert_eq!(j["queue"]["total"]["tickets"], 5);

    // Another hall: 403, audited, on every route; a made-up hall: 404.
    for path in [
        "/api/v1/statistics",
        "/statistics",
        "/statistics.csv",
        "/statistics.xlsx",
        "/statistics/tickets",
        "/api/v1/statistics/tickets",
        "/statistics/records",
    ] {
        let got = get(
            &app,
            &format!("{path}?hall={OTHER_HALL}&from={DAY}&to={DAY}"),
            &viewer,
        )
        .await;
        assert_eq!(got.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            got.text().contains("你没有这个大厅的统计查看权限"),
            "{path}"
        );
        let got = get(&app, &format!("{path}?hall=hall-nowhere"), &viewer).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{path}");
    }
    let refused = server
        .storage
        .audit_search(
            &AuditFilter {
                action: Some("statistics.access".into()),
                ..AuditFilter::default()
            },
            20,
        )
        .unwrap();
    assert_eq!(refused.len(), 7);
    assert!(
        refused
            .iter()
            .all(|a| a.hall == OTHER_HALL && a.outcome == "forbidden")
    );
    assert!(
        server
            .storage
            .audit_search(
                &AuditFilter {
                    action: Some("statistics.export".into()),
                    ..AuditFilter::default()
                },
                20,
            )
            .unwrap()
            .is_empty(),
        "a refused export is not an export"
    );
    // Without a session: no figures.
    let got = get(&app, "/api/v1/statistics", "").await;
    assert_eq!(got.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_dates_and_over_long_ranges_are_refused_in_chinese() {
    let (server, _dir, _day) = server();
    let app = menpai_server::admin_router(server.clone());
    let viewer = login(&server, "viewer-a");
    for (query, says) in [
        ("from=2026-13-01", "开始日期的格式不对"),
        ("to=yesterday", "结束日期的格式不对"),
        ("from=2026-12-02&to=2026-12-01", "开始日期不能晚于结束日期"),
        ("from=2025-11-29&to=2026-11-30", "一次最多统计 366 天"),
        ("by=everything", "分组只能是"),
        ("window=0", "窗口应为窗口号"),
    ] {
        for path in ["/api/v1/statistics", "/statistics", "/statistics.csv"] {
            let got = get(&app, &format!("{path}?{query}"), &viewer).await;
            assert_eq!(got.status, StatusCode::BAD_REQUEST, "{path}?{query}");
            assert!(got.text().contains(says), "{path}?{query}: {}", got.text());
        }
    }
    // 366 days is the most, and allowed.
    let got = get(
        &app,
        "/api/v1/statistics?from=2025-12-01&to=2026-12-01",
        &viewer,
    )
    .await;
    assert_eq!(got.status, StatusCode::OK);
}

#[tokio::test]
async fn rows_carry_chinese_labels_for_every_grouping() {
    let (server, _dir, day) = server();
    let app = menpai_server::admin_router(server.clone());
    let viewer = login(&server, "viewer-a");
    let labels = |j: &Value| -> Vec<(String, u64)> {
        j["queue"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["label"].as_str().unwrap().to_owned(),
                    r["figures"]["arrived"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let window = format!("{} 号窗口", day.window);
    for (by, want) in [
        ("hall", vec![("福田区政务服务中心", 4)]),
        ("window", vec![(window.as_str(), 3), ("未到窗口", 1)]),
        ("business", vec![(day.business.as_str(), 4)]),
        ("staff", vec![("未叫号", 1), ("张三", 3)]),
        ("day", vec![(DAY, 4)]),
        ("week", vec![("2026 年第 49 周", 4)]),
        ("month", vec![("2026 年 11 月", 4)]),
        ("weekday", vec![("周一", 4)]),
        ("hour", vec![("09:00–10:00", 3), ("10:00–11:00", 1)]),
    ] {
        let j = get(
            &app,
            &format!("/api/v1/statistics?{}&by={by}", filters()),
            &viewer,
        )
        .await
        .json();
        let want: Vec<(String, u64)> = want.into_iter().map(|(l, n)| (l.to_owned(), n)).collect();
        assert_eq!(labels(&j), want, "by {by}");
    }
    // A window filter keeps that window's tickets; a business filter that business's.
    let j = get(
        &app,
        &format!("/api/v1/statistics?{}&window={}", filters(), day.window),
        &viewer,
    )
    .await
    .json();
    assert_eq!(j["queue"]["total"]["arrived"], 3);
    let j = get(
        &app,
        &format!("/api/v1/statistics?{}&business=不存在的业务", filters()),
        &viewer,
    )
    .await
    .json();
    assert_eq!(j["queue"]["total"]["arrived"], 0);
}

#[tokio::test]
async fn the_terminals_usage_is_on_the_page_and_in_both_exports() {
    let (server, _dir, _day) = server();
    let app = menpai_server::admin_router(server.clone());
    let devices = menpai_server::device_router(server.clone());
    // 10:00 China time: two searches for 护照 found nothing, one for 社保 found 3 guides.
    let events: Vec<Value> = [("护照", 0), ("护照", 0), ("社保", 3)]
        .iter()
        .enumerate()
        .map(|(i, (words, hits))| {
            serde_json::json!({
                "key": format!("use-{i}"), "kind": "usage",
                "created_at": format!("{DAY}T02:00:0{i}.000Z"),
                "body": { "kind": "search", "subject": words, "hits": hits, "seconds": null, "training": false },
            })
        })
        .collect();
    let sent = support::http::send(
        &devices,
        "POST",
        "/device/v1/events",
        None,
        support::http::json_body(serde_json::json!({ "events": events })),
        true,
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);

    let viewer = login(&server, "viewer-a");
    let page = get(&app, &format!("/statistics?{}", filters()), &viewer)
        .await
        .text();
    assert!(
        page.contains("护照"),
        "the search with no result on the page"
    );
    let csv = get(&app, &format!("/statistics.csv?{}", filters()), &viewer)
        .await
        .text();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    let usage = lines.iter().position(|l| *l == "终端使用").unwrap();
    assert!(lines[usage + 2].starts_with("3,2,"), "{}", lines[usage + 2]);
    let none = lines.iter().position(|l| *l == "无结果搜索").unwrap();
    assert_eq!(lines[none + 2], "护照,2");
    let got = get(&app, &format!("/statistics.xlsx?{}", filters()), &viewer).await;
    let mut book = Xlsx::new(std::io::Cursor::new(got.body)).unwrap();
    let none = book.worksheet_range("无结果搜索").unwrap();
    assert_eq!(none.get((1, 0)), Some(&Data::String("护照".into())));
    assert_eq!(none.get((1, 1)), Some(&Data::Float(2.0)));
    let top = book.worksheet_range("热门搜索").unwrap();
    assert_eq!(top.get((1, 0)), Some(&Data::String("护照".into())));
}
