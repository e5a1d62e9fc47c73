//! A simulated day through the real routes: three halls of the demo region, 2,000 tickets
//! drawn from a seed (`simday`), taken at the halls' terminals, called, served, recalled,
//! marked no-show or transferred by window staff, rated at the terminals, with the terminals'
//! anonymous usage — each at its moment on the server's stopped clock. The report
//! (`/api/v1/statistics`: the queue, the ratings and the terminals' usage, whose counts are
//! also checked in `statistics::usage::summary` directly) must equal what this test computes on
//! its own from its record of the same events.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use chrono::{NaiveDate, NaiveDateTime};
use menpai_model::ContentPack;
use menpai_model::appointment::AppointmentClaims;
use menpai_server::config::Config;
use menpai_server::operators::hash_password;
use menpai_server::statistics::report::nearest_rank;
use menpai_server::statistics::usage;
use menpai_server::storage::{NewAppointment, Role};
use menpai_server::tls::PeerCert;
use menpai_server::{Server, admin_router, content, device_router, queue};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

mod simday;
mod support;

use simday::{Arrival, HallPlan, SEARCHES};

const SEED: u64 = 20_261_203;
const TICKETS: usize = 2000;
const DAY: &str = "2026-12-03";
const HALLS: [&str; 3] = ["hall-futian", "hall-civic", "hall-xiangmihu"];
const PASSWORD: &str = "a password nobody types";
/// Between one ticket ending at a window and the next call there.
const NEXT_CALL_S: i64 = 10;
/// From a call nobody answers to the recall, and from the recall to the no-show.
const NO_SHOW_WAIT_S: i64 = 90;

/// One hop as this test saw it happen (seconds after midnight).
#[derive(Debug, Clone)]
struct Hop {
    waiting_since: i64,
    called: Option<i64>,
    /// `waiting`, `called`, `serving`, `done`, `no_show` or `transferred`.
    state: &'static str,
    level_s: i64,
}

/// What happens next, at a second of the day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Arrive(usize),
    CallNext {
        hall: usize,
        window: u32,
    },
    Recall {
        hall: usize,
        window: u32,
    },
    NoShow {
        hall: usize,
        window: u32,
        hop: usize,
    },
    Serve {
        hall: usize,
        window: u32,
        hop: usize,
    },
    Finish {
        hall: usize,
        window: u32,
        hop: usize,
    },
    Transfer {
        hall: usize,
        window: u32,
        hop: usize,
    },
}

struct Terminal {
    cert: Vec<u8>,
}

async fn send(
    app: &Router,
    method: &str,
    path: &str,
    cert: Option<&[u8]>,
    cookie: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("content-type", "application/json");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let mut req = req
        .body(Body::from(if body.is_null() {
            String::new()
        } else {
            body.to_string()
        }))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    if let Some(c) = cert {
        req.extensions_mut()
            .insert(PeerCert(Some(Arc::new(c.to_vec()))));
    }
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Equal but for the last bit: serde_json reads floats fast, not always to the nearest one.
fn assert_close(got: Option<f64>, want: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: missing"));
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: the report says {got}, the events say {want}"
    );
}

fn local(day: NaiveDate, s: i64) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).unwrap() + chrono::Duration::seconds(s)
}

/// An outbox event made at second `s` of the day, as the agent writes it.
fn event(key: String, kind: &str, body: Value, day: NaiveDate, s: i64) -> Value {
    let utc = local(day, s) - chrono::Duration::hours(8);
    json!({ "key": key, "kind": kind, "body": body,
            "created_at": utc.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true) })
}

struct Day {
    server: Arc<Server>,
    _dir: tempfile::TempDir,
    devices: Router,
    admin: Router,
    terminals: Vec<Terminal>,
    staff: Vec<String>,
    plans: Vec<HallPlan>,
    windows: Vec<BTreeMap<u32, Vec<String>>>,
}

/// The demo region: every hall has its floor plan, whose windows call the hall's businesses.
fn pack() -> ContentPack {
    menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap()
}

fn setup() -> (Day, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::open(Config {
        data_dir: dir.path().join("data"),
        database_url: support::database_url(),
        device_tickets_per_minute: 1_000_000,
        ..Config::default()
    })
    .unwrap();
    let pack = pack();
    let (version, _) = content::publish(
        server.storage.as_ref(),
        &server.content_key,
        pack.clone(),
        "test",
    )
    .unwrap();
    server.halls.replace_with(queue::Halls::from_pack(&pack));
    server.phone.replace(version, pack);
    let hash = hash_password(PASSWORD).unwrap();
    let mut terminals = Vec::new();
    let mut staff = Vec::new();
    let mut plans = Vec::new();
    let mut windows = Vec::new();
    for hall in HALLS {
        let cert = format!("certificate of the terminal in {hall}").into_bytes();
        let id = format!("dev-{hall}");
        support::enroll(
            &server,
            &id,
            hall,
            "entrance",
            &hex::encode(Sha256::digest(&cert)),
        );
        terminals.push(Terminal { cert });
        let name = format!("staff-{hall}");
        server
            .storage
            .create_operator(&name, &name, Role::QueueStaff, &hash, &[hall.to_owned()])
            .unwrap();
        staff.push(support::http::login(&server, &name));
        let h = server.halls.get(hall).unwrap();
        let served: Vec<String> = h
            .business_types
            .iter()
            .map(|b| b.prefix.clone())
            .filter(|p| !h.windows_for(p).is_empty())
            .collect();
        plans.push(HallPlan {
            prefixes: served,
            windows: h.windows.len(),
        });
        windows.push(h.windows.clone());
    }
    let items: Vec<String> = server
        .phone
        .current()
        .unwrap()
        .pack
        .items
        .iter()
        .map(|i| i.id.clone())
        .collect();
    let server = Arc::new(server);
    let day = Day {
        devices: device_router(server.clone()),
        admin: admin_router(server.clone()),
        server,
        _dir: dir,
        terminals,
        staff,
        plans,
        windows,
    };
    (day, items)
}

/// Books an appointment for the arrival (as the phone page would have, days before).
fn book(server: &Server, hall: &str, prefix: &str, n: usize) -> String {
    let id = format!("appt-{n:04}");
    server
        .storage
        .book(&NewAppointment {
            claims: AppointmentClaims {
                id: id.clone(),
                hall: hall.into(),
                item: "E01".into(),
                item_name: "预约事项".into(),
                prefix: prefix.into(),
                date: DAY.into(),
                start: "09:00".into(),
                end: "17:00".into(),
                holder: "张*明".into(),
            },
            name_enc: vec![1],
            phone_enc: vec![2],
            phone_hash: format!("phone-{n}"),
            booked_at: "2026-12-01 10:00:00.000".into(),
            capacity: 100_000,
        })
        .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_days_report_equals_the_figures_computed_from_its_own_events() {
    let (d, items) = setup();
    let date = NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap();
    let arrivals: Vec<Arrival> = simday::day(SEED, &d.plans, &items, TICKETS);
    assert!(
        d.plans
            .iter()
            .all(|p| p.windows > 0 && !p.prefixes.is_empty())
    );
    assert_eq!(arrivals.len(), TICKETS);

    let mut steps: BinaryHeap<Reverse<(i64, u64, Step)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |steps: &mut BinaryHeap<Reverse<(i64, u64, Step)>>, at: i64, s: Step| {
        seq += 1;
        steps.push(Reverse((at, seq, s)));
    };
    for (i, a) in arrivals.iter().enumerate() {
        push(&mut steps, a.at_s, Step::Arrive(i));
    }
    // Every window opens at 09:00 and calls.
    for (h, ws) in d.windows.iter().enumerate() {
        for w in ws.keys() {
            push(
                &mut steps,
                9 * 3600,
                Step::CallNext {
                    hall: h,
                    window: *w,
                },
            );
        }
    }
    let mut hops: Vec<Hop> = Vec::new();
    // A hall's ticket number → its latest hop and the arrival it came from.
    let mut by_number: Vec<HashMap<String, (usize, usize)>> = vec![HashMap::new(); HALLS.len()];
    let mut hop_arrival: Vec<usize> = Vec::new();
    let mut hop_number: Vec<String> = Vec::new();
    let mut idle: Vec<Vec<u32>> = vec![Vec::new(); HALLS.len()];
    let mut outbox: Vec<Vec<Value>> = vec![Vec::new(); HALLS.len()];
    let mut ratings: Vec<u8> = Vec::new();
    let mut uses: Vec<(usize, &simday::Use)> = Vec::new();
    let level_of = |h: usize, prefix: &str| -> i64 {
        let hall = d.server.halls.get(HALLS[h]).unwrap();
        i64::from(
            hall.business(prefix)
                .and_then(|b| b.service_level_min)
                .unwrap_or(menpai_server::statistics::report::DEFAULT_SERVICE_LEVEL_MIN),
        ) * 60
    };
    let staff_act = |h: usize, window: u32, action: Value| {
        let path = format!("/api/v1/queue/{}/windows/{window}", HALLS[h]);
        let cookie = d.staff[h].clone();
        let admin = d.admin.clone();
        async move {
            let (st, body) = send(&admin, "POST", &path, None, Some(&cookie), action).await;
            assert_eq!(st, StatusCode::OK, "{body}");
            body
        }
    };
    d.server.clock.stop_at(local(date, 8 * 3600));
    let mut now = 8 * 3600;
    let mut events = 0usize;
    while let Some(Reverse((at, _, step))) = steps.pop() {
        if at > 18 * 3600 {
            break;
        }
        d.server.clock.advance(chrono::Duration::seconds(at - now));
        now = at;
        match step {
            Step::Arrive(i) => {
                let a = &arrivals[i];
                let t = &d.terminals[a.hall];
                let mut body = json!({ "request_id": format!("req-{i}"), "prefix": a.prefix });
                if a.appointment {
                    body["priority"] = json!("appointment");
                    body["appointment_id"] = json!(book(&d.server, HALLS[a.hall], &a.prefix, i));
                }
                let (st, r) = send(
                    &d.devices,
                    "POST",
                    "/device/v1/queue/tickets",
                    Some(&t.cert),
                    None,
                    body,
                )
                .await;
                assert_eq!(st, StatusCode::CREATED, "{r}");
                let number = r["number"].as_str().unwrap().to_owned();
                hops.push(Hop {
                    waiting_since: at,
                    called: None,
                    state: "waiting",
                    level_s: level_of(a.hall, &a.prefix),
                });
                hop_arrival.push(i);
                hop_number.push(number.clone());
                by_number[a.hall].insert(number, (hops.len() - 1, i));
                // Its terminal use: the moments before the ticket, the session's end after.
                for (k, u) in a.uses.iter().enumerate() {
                    let s = at - 60 + 10 * k as i64;
                    let body = json!({ "kind": u.kind, "subject": u.subject, "hits": u.hits,
                                       "seconds": u.seconds, "training": false });
                    outbox[a.hall].push(event(format!("use-{i}-{k}"), "usage", body, date, s));
                    uses.push((a.hall, u));
                }
                // Idle windows serving its business call now.
                let ws = &d.windows[a.hall];
                let (wake, keep): (Vec<u32>, Vec<u32>) =
                    idle[a.hall].iter().partition(|w| ws[w].contains(&a.prefix));
                idle[a.hall] = keep;
                for w in wake {
                    push(
                        &mut steps,
                        at,
                        Step::CallNext {
                            hall: a.hall,
                            window: w,
                        },
                    );
                }
            }
            Step::CallNext { hall, window } => {
                let r = staff_act(hall, window, json!({ "action": "call_next" })).await;
                events += 1;
                let Some(number) = r["ticket"]["number"].as_str() else {
                    idle[hall].push(window);
                    continue;
                };
                let (hop, i) = by_number[hall][number];
                let h = &mut hops[hop];
                assert_eq!(h.state, "waiting", "{number} called twice");
                h.called = Some(at);
                h.state = "called";
                let fate = &arrivals[i].fate;
                let second = hop_arrival[..hop].contains(&i);
                if fate.no_show && !second {
                    push(
                        &mut steps,
                        at + NO_SHOW_WAIT_S,
                        Step::Recall { hall, window },
                    );
                    push(
                        &mut steps,
                        at + 2 * NO_SHOW_WAIT_S,
                        Step::NoShow { hall, window, hop },
                    );
                } else {
                    push(
                        &mut steps,
                        at + fate.walk_s,
                        Step::Serve { hall, window, hop },
                    );
                }
            }
            Step::Recall { hall, window } => {
                staff_act(hall, window, json!({ "action": "recall" })).await;
                events += 1;
            }
            Step::NoShow { hall, window, hop } => {
                staff_act(hall, window, json!({ "action": "no_show" })).await;
                events += 1;
                hops[hop].state = "no_show";
                push(
                    &mut steps,
                    at + NEXT_CALL_S,
                    Step::CallNext { hall, window },
                );
            }
            Step::Serve { hall, window, hop } => {
                staff_act(hall, window, json!({ "action": "serve" })).await;
                events += 1;
                hops[hop].state = "serving";
                let i = hop_arrival[hop];
                let fate = &arrivals[i].fate;
                let second = hop_arrival[..hop].contains(&i);
                if fate.transfer_to.is_some() && !second {
                    push(
                        &mut steps,
                        at + fate.service_s / 3,
                        Step::Transfer { hall, window, hop },
                    );
                } else {
                    let s = if second {
                        fate.second_service_s
                    } else {
                        fate.service_s
                    };
                    push(&mut steps, at + s, Step::Finish { hall, window, hop });
                }
            }
            Step::Finish { hall, window, hop } => {
                staff_act(hall, window, json!({ "action": "finish" })).await;
                events += 1;
                hops[hop].state = "done";
                let i = hop_arrival[hop];
                if let Some(level) = arrivals[i].fate.rating {
                    let number = &hop_number[hop];
                    let body = json!({ "hall": HALLS[hall], "subject": "ticket",
                                       "ticket": { "day": DAY, "number": number },
                                       "level": level, "reasons": [], "comment": "",
                                       "item": null, "training": false });
                    outbox[hall].push(event(format!("rating-{i}"), "rating", body, date, at + 30));
                    ratings.push(level);
                }
                push(
                    &mut steps,
                    at + NEXT_CALL_S,
                    Step::CallNext { hall, window },
                );
            }
            Step::Transfer { hall, window, hop } => {
                let i = hop_arrival[hop];
                let to = arrivals[i].fate.transfer_to.clone().unwrap();
                staff_act(hall, window, json!({ "action": "transfer", "prefix": to })).await;
                events += 1;
                hops[hop].state = "transferred";
                // The same number waits again, in the next queue.
                let number = hop_number[hop].clone();
                hops.push(Hop {
                    waiting_since: at,
                    called: None,
                    state: "waiting",
                    level_s: level_of(hall, &to),
                });
                hop_arrival.push(i);
                hop_number.push(number.clone());
                by_number[hall].insert(number, (hops.len() - 1, i));
                let ws = &d.windows[hall];
                let (wake, keep): (Vec<u32>, Vec<u32>) =
                    idle[hall].iter().partition(|w| ws[w].contains(&to));
                idle[hall] = keep;
                for w in wake {
                    push(&mut steps, at, Step::CallNext { hall, window: w });
                }
                push(
                    &mut steps,
                    at + NEXT_CALL_S,
                    Step::CallNext { hall, window },
                );
            }
        }
    }
    // The terminals' outboxes reach the server (as their sync would, in batches).
    for (h, batch) in outbox.iter().enumerate() {
        for chunk in batch.chunks(400) {
            let (st, r) = send(
                &d.devices,
                "POST",
                "/device/v1/events",
                Some(&d.terminals[h].cert),
                None,
                json!({ "events": chunk }),
            )
            .await;
            assert_eq!(st, StatusCode::OK, "{r}");
            assert_eq!(r["new"].as_u64(), Some(chunk.len() as u64), "{r}");
        }
    }

    // What the test computes on its own from what it did.
    let waits: Vec<u64> = {
        let mut w: Vec<u64> = hops
            .iter()
            .filter_map(|h| h.called.map(|c| (c - h.waiting_since) as u64))
            .collect();
        w.sort_unstable();
        w
    };
    let over = hops
        .iter()
        .filter(|h| h.called.is_some_and(|c| c - h.waiting_since > h.level_s))
        .count();
    let served = hops.iter().filter(|h| h.state == "done").count();
    let no_shows = hops.iter().filter(|h| h.state == "no_show").count();
    let transferred = hops.iter().filter(|h| h.state == "transferred").count();
    let mean_wait = waits.iter().sum::<u64>() as f64 / waits.len() as f64;
    let p90 = nearest_rank(&waits, 90).unwrap();
    let over_pct = 100.0 * over as f64 / waits.len() as f64;
    let no_show_pct = 100.0 * no_shows as f64 / (served + no_shows) as f64;
    let satisfied = ratings.iter().filter(|l| **l >= 4).count();
    let satisfaction = 100.0 * satisfied as f64 / ratings.len() as f64;
    let mut no_result: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, u) in &uses {
        if u.kind == "search" && u.hits == Some(0) {
            *no_result.entry(&u.subject).or_default() += 1;
        }
    }
    let (top_no_result, top_count) = no_result
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(s, n)| (s.to_string(), *n))
        .unwrap();
    eprintln!(
        "simulated day: {} hops, {served} served, {no_shows} no-shows, {transferred} transferred, \
         {} ratings, {events} staff actions; mean wait {mean_wait:.1} s, p90 {p90} s, \
         over the level {over_pct:.2} %, no-shows {no_show_pct:.2} %, satisfied {satisfaction:.2} %, \
         top no-result search {top_no_result} ({top_count})",
        hops.len(),
        ratings.len()
    );
    // The day is the kind a hall has: some wait long, some never come, some are sent on.
    assert!(no_shows > 0 && transferred > 0 && over > 0 && !ratings.is_empty());

    // The report, as a region viewer reads it.
    d.server
        .storage
        .create_operator(
            "viewer",
            "viewer",
            Role::Viewer,
            &hash_password(PASSWORD).unwrap(),
            &[],
        )
        .unwrap();
    let viewer = support::http::login(&d.server, "viewer");
    let (st, report) = send(
        &d.admin,
        "GET",
        &format!("/api/v1/statistics?from={DAY}&to={DAY}"),
        None,
        Some(&viewer),
        Value::Null,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{report}");
    let q = &report["queue"]["total"];
    assert_eq!(q["arrived"].as_u64(), Some(hops.len() as u64), "{q}");
    assert_eq!(q["served"].as_u64(), Some(served as u64));
    assert_eq!(q["no_shows"].as_u64(), Some(no_shows as u64));
    assert_eq!(q["transferred"].as_u64(), Some(transferred as u64));
    assert_eq!(q["waited"].as_u64(), Some(waits.len() as u64));
    assert_close(q["wait_mean_s"].as_f64(), mean_wait, "mean wait");
    assert_eq!(q["wait_p90_s"].as_u64(), Some(p90), "90th percentile");
    assert_close(
        q["over_level_pct"].as_f64(),
        over_pct,
        "% over the service level",
    );
    assert_close(q["no_show_pct"].as_f64(), no_show_pct, "no-show %");
    let r = &report["ratings"]["total"];
    assert_eq!(r["total"].as_u64(), Some(ratings.len() as u64), "{r}");
    assert_close(
        r["satisfaction_pct"].as_f64(),
        satisfaction,
        "satisfaction rate",
    );

    // The terminals' usage beside it: the report's, and the summary it is made of.
    let todo = &report["usage"]["top_no_result"][0];
    assert_eq!(
        (todo["subject"].as_str(), todo["count"].as_u64()),
        (Some(top_no_result.as_str()), Some(top_count)),
        "the content team's first to-do, as the report says it"
    );
    let u = usage::summary(&d.server, None, DAY, DAY).unwrap();
    let searches = uses.iter().filter(|(_, u)| u.kind == "search").count() as u64;
    let count = |kind: &str| uses.iter().filter(|(_, u)| u.kind == kind).count() as u64;
    assert_eq!(u.searches, searches);
    assert_eq!(u.searches_no_result, no_result.values().sum::<u64>());
    assert_eq!(
        (
            u.top_no_result[0].subject.as_str(),
            u.top_no_result[0].count
        ),
        (top_no_result.as_str(), top_count),
        "the content team's first to-do"
    );
    assert!(SEARCHES.iter().any(|s| s.0 == top_no_result && s.1 == 0));
    assert_eq!(
        (u.prints, u.qr_takes, u.help_requests),
        (count("print"), count("qr"), count("help"))
    );
    assert_eq!((u.tickets, u.sessions), (TICKETS as u64, count("session")));
    let session_s: u64 = uses
        .iter()
        .filter_map(|(_, u)| u.seconds)
        .map(u64::from)
        .sum();
    assert_close(
        u.session_mean_s,
        session_s as f64 / u.sessions as f64,
        "mean session",
    );
    // One hall's viewer reads only that hall's usage.
    let futian = usage::summary(&d.server, Some(&[HALLS[0].to_owned()]), DAY, DAY).unwrap();
    let futian_searches = uses
        .iter()
        .filter(|(h, u)| *h == 0 && u.kind == "search")
        .count() as u64;
    assert_eq!(futian.searches, futian_searches);
    assert!(futian.searches < u.searches);
}

#[tokio::test]
async fn usage_counts_in_the_terminals_own_hall_and_never_from_training_or_out_of_bounds() {
    let (d, _) = setup();
    let date = NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap();
    let search =
        |words: &str, hits: u32| json!({ "kind": "search", "subject": words, "hits": hits });
    let batch = |events: Vec<Value>| json!({ "events": events });
    let (civic, xiangmihu) = (&d.terminals[1].cert, &d.terminals[2].cert);
    // A body naming another hall is refused into the counts; the rest count in 市民中心.
    let events = vec![
        event("u1".into(), "usage", search("社保卡", 4), date, 36_000),
        event(
            "h1".into(),
            "help_request",
            json!({ "hall": HALLS[0], "position": "entrance", "screen": "Help", "item": "",
                    "reached": false, "reason": "unreachable" }),
            date,
            36_005,
        ),
        event("u2".into(), "usage", search("养犬登记", 0), date, 36_010),
        event(
            "u3".into(),
            "usage",
            json!({ "kind": "guide", "subject": "E01" }),
            date,
            36_020,
        ),
        event(
            "u4".into(),
            "usage",
            json!({ "kind": "session", "seconds": 80 }),
            date,
            36_030,
        ),
        event(
            "u5".into(),
            "usage",
            json!({ "kind": "search", "subject": "x", "hits": 1, "hall": HALLS[0] }),
            date,
            36_040,
        ),
        event(
            "u6".into(),
            "usage",
            json!({ "kind": "search", "subject": "证".repeat(65), "hits": 1 }),
            date,
            36_050,
        ),
        event(
            "u7".into(),
            "usage",
            json!({ "kind": "session", "seconds": 999_999 }),
            date,
            36_060,
        ),
        event(
            "u8".into(),
            "usage",
            json!({ "kind": "login", "subject": "admin" }),
            date,
            36_070,
        ),
        event(
            "u9".into(),
            "usage",
            json!({ "kind": "guide", "subject": "E02", "training": true }),
            date,
            36_080,
        ),
    ];
    let (st, r) = send(
        &d.devices,
        "POST",
        "/device/v1/events",
        Some(civic),
        None,
        batch(events.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["new"], 10, "every event is held as sent: {r}");
    let (_, r) = send(
        &d.devices,
        "POST",
        "/device/v1/events",
        Some(civic),
        None,
        batch(events),
    )
    .await;
    assert_eq!(
        (r["new"].as_u64(), r["duplicates"].as_u64()),
        (Some(0), Some(10)),
        "sent again: {r}"
    );
    // A terminal in training mode counts nothing.
    d.server
        .storage
        .set_training("dev-hall-xiangmihu", true)
        .unwrap();
    let practice = vec![event(
        "p1".into(),
        "usage",
        search("社保卡", 4),
        date,
        36_100,
    )];
    let (st, _) = send(
        &d.devices,
        "POST",
        "/device/v1/events",
        Some(xiangmihu),
        None,
        batch(practice),
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    let civic_only = usage::summary(&d.server, Some(&[HALLS[1].to_owned()]), DAY, DAY).unwrap();
    assert_eq!((civic_only.searches, civic_only.searches_no_result), (2, 1));
    assert_eq!(civic_only.top_no_result[0].subject, "养犬登记");
    assert_eq!(civic_only.top_guides.len(), 1);
    assert_eq!(civic_only.top_guides[0].item, "E01");
    assert_ne!(
        civic_only.top_guides[0].name, "E01",
        "named from the published content"
    );
    assert_eq!(
        (civic_only.sessions, civic_only.session_mean_s),
        (1, Some(80.0))
    );
    assert_eq!(
        civic_only.help_requests, 1,
        "a call that never reached staff still counts"
    );
    let region = usage::summary(&d.server, None, DAY, DAY).unwrap();
    assert_eq!(region, civic_only, "nothing counted in 福田 or in training");
    let other_day = usage::summary(&d.server, None, "2026-12-04", "2026-12-04").unwrap();
    assert_eq!(other_day.searches, 0);
    // The section shows them, the to-do list first.
    let html = usage::section(&region).into_string();
    assert!(
        html.contains("养犬登记") && html.contains("终端使用"),
        "{html}"
    );
}
