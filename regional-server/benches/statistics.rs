//! Hall statistics over a region's quarter: 1,000,000 ticket events (about 90 days of the demo
//! region's halls) written straight into the server's SQLite file (their hops rebuilt from them
//! as the migration does), then the report query
//! (`hop_facts` + `report::rows`) for one hall and for the region, over a month and over the
//! quarter. Budget: each answers in ≤ 500 ms (release build). Run with
//! `cargo bench -p menpai-server --bench statistics`; it prints its figures (the time reading
//! the facts and the time computing the rows apart), and with `MENPAI_BENCH_PLAN=1` how SQLite
//! reads the events.

use std::time::Instant;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use menpai_server::config::Config;
use menpai_server::statistics::{self, report};
use menpai_server::{Server, queue};
use rusqlite::params;

const EVENTS: usize = 1_000_000;
const DAYS: i64 = 90;
const LAST_DAY: &str = "2026-12-04";
const RUNS: usize = 7;

/// A small deterministic generator (xorshift64*): the same store on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn stamp(t: NaiveDateTime) -> String {
    menpai_server::clock::stamp(t)
}

/// Writes tickets and their events until `EVENTS` events are stored; returns the tickets.
fn fill(db: &std::path::Path, server: &Server) -> usize {
    let halls = server.halls.all();
    let mut conn = rusqlite::Connection::open(db).unwrap();
    let tx = conn.transaction().unwrap();
    let mut ticket = tx
        .prepare(
            "INSERT INTO tickets (hall, day, prefix, seq, hop, number, queue, business, priority,
                                  state, issued_at, window, called_at, serving_at, finished_at)
             VALUES (?1, ?2, ?3, ?4, 0, ?5, ?3, ?6, 'normal', ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .unwrap();
    let mut event = tx
        .prepare(
            "INSERT INTO ticket_log (ticket_id, at, state, window, actor, hall, day, queue, channel)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'online')",
        )
        .unwrap();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let last = NaiveDate::parse_from_str(LAST_DAY, "%Y-%m-%d").unwrap();
    // About 3.95 events a ticket (one in 20 a no-show), so a little over 1,000,000 offered.
    let per_day_hall = EVENTS * 10 / 39 / DAYS as usize / halls.len() + 1;
    let (mut events, mut tickets) = (0, 0);
    'fill: for d in (0..DAYS).rev() {
        let date = last - Duration::days(d);
        let day = date.to_string();
        for hall in &halls {
            let mut seqs = std::collections::HashMap::new();
            for _ in 0..per_day_hall {
                let b = &hall.business_types[rng.below(hall.business_types.len() as u64) as usize];
                let seq = seqs.entry(b.prefix.clone()).or_insert(0u32);
                *seq += 1;
                let windows = hall.windows_for(&b.prefix);
                let window = windows
                    .get(rng.below(windows.len().max(1) as u64) as usize)
                    .copied()
                    .unwrap_or(1);
                let issued = date.and_hms_opt(9, 0, 0).unwrap()
                    + Duration::seconds(rng.below(8 * 3600) as i64);
                let called = issued + Duration::seconds(rng.below(40 * 60) as i64);
                let serving = called + Duration::seconds(30 + rng.below(60) as i64);
                let finished = serving + Duration::seconds(60 + rng.below(20 * 60) as i64);
                let no_show = rng.below(20) == 0;
                let state = if no_show { "no_show" } else { "done" };
                let staff = format!("staff-{}-{window}", hall.id);
                ticket
                    .execute(params![
                        hall.id,
                        day,
                        b.prefix,
                        *seq,
                        format!("{}{seq:03}", b.prefix),
                        b.name,
                        state,
                        stamp(issued),
                        window,
                        stamp(called),
                        (!no_show).then(|| stamp(serving)),
                        stamp(finished)
                    ])
                    .unwrap();
                let id = tx.last_insert_rowid();
                let steps: &[(NaiveDateTime, &str)] = if no_show {
                    &[
                        (issued, "waiting"),
                        (called, "called"),
                        (finished, "no_show"),
                    ]
                } else {
                    &[
                        (issued, "waiting"),
                        (called, "called"),
                        (serving, "serving"),
                        (finished, "done"),
                    ]
                };
                for (at, s) in steps {
                    let actor = if *s == "waiting" { "dev-bench" } else { &staff };
                    let w = (*s != "waiting").then_some(window);
                    event
                        .execute(params![id, stamp(*at), s, w, actor, hall.id, day, b.prefix])
                        .unwrap();
                    events += 1;
                }
                tickets += 1;
                if events >= EVENTS {
                    break 'fill;
                }
            }
        }
    }
    drop((ticket, event));
    tx.commit().unwrap();
    // Written around the event writer: the hops from the events, as the migration does.
    conn.execute_batch(menpai_server::storage::statistics::HOPS_FROM_EVENTS)
        .unwrap();
    conn.execute_batch("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    tickets
}

/// One report timed: milliseconds reading the facts and computing the rows by day, and how
/// many hops it counted.
fn report_ms(server: &Server, halls: Option<&[String]>, from: &str, to: &str) -> (f64, f64, usize) {
    let t = Instant::now();
    let facts = server.storage.hop_facts(halls, from, to).unwrap();
    let read = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let (rows, total) = report::rows(&facts, report::GroupBy::Day, &|f| {
        statistics::level_s(server, f)
    });
    std::hint::black_box(&rows);
    (
        read,
        t.elapsed().as_secs_f64() * 1e3,
        total.arrived as usize,
    )
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::open(Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    })
    .unwrap();
    let pack = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    server.halls.replace_with(queue::Halls::from_pack(&pack));
    let t = Instant::now();
    let db = dir.path().join("data/menpai-server.db");
    let tickets = fill(&db, &server);
    println!(
        "filled {EVENTS} ticket events ({tickets} tickets, {} halls, {DAYS} days) in {:.1} s",
        server.halls.all().len(),
        t.elapsed().as_secs_f64()
    );
    let hall = [server.halls.all()[0].id.clone()];
    if std::env::var_os("MENPAI_BENCH_PLAN").is_some() {
        plan(&db);
    }
    let last = NaiveDate::parse_from_str(LAST_DAY, "%Y-%m-%d").unwrap();
    let month = (last - Duration::days(29)).to_string();
    let quarter = (last - Duration::days(DAYS - 1)).to_string();
    let mut worst: f64 = 0.0;
    for (what, halls, from) in [
        ("one hall, a month", Some(&hall[..]), &month),
        ("one hall, the quarter", Some(&hall[..]), &quarter),
        ("the region, a month", None, &month),
        ("the region, the quarter", None, &quarter),
    ] {
        let (mut ms, mut read, mut rows) = (Vec::new(), Vec::new(), Vec::new());
        let mut hops = 0;
        for _ in 0..RUNS {
            let (r, c, n) = report_ms(&server, halls, from, LAST_DAY);
            ms.push(r + c);
            read.push(r);
            rows.push(c);
            hops = n;
        }
        for v in [&mut ms, &mut read, &mut rows] {
            v.sort_by(f64::total_cmp);
        }
        worst = worst.max(ms[RUNS / 2]);
        println!(
            "{what:<24} {hops:>7} hops  median {:>7.1} ms (read {:>6.1}, rows {:>6.1})  min {:>7.1}  max {:>7.1}",
            ms[RUNS / 2],
            read[RUNS / 2],
            rows[RUNS / 2],
            ms[0],
            ms[RUNS - 1]
        );
    }
    println!(
        "worst median {worst:.1} ms (budget 500 ms): {}",
        if worst <= 500.0 { "within" } else { "OVER" }
    );
}

/// Prints how SQLite reads a report's events (`MENPAI_BENCH_PLAN=1`).
fn plan(db: &std::path::Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    for halls in [Some(r#"["hall-futian"]"#), None] {
        let mut stmt = conn
            .prepare(
                "EXPLAIN QUERY PLAN
                 SELECT l.ticket_id, MIN(l.at), t.state FROM ticket_log l JOIN tickets t ON t.id = l.ticket_id
                 WHERE (?1 IS NULL OR l.hall IN (SELECT value FROM json_each(?1)))
                   AND l.day BETWEEN ?2 AND ?3 GROUP BY l.ticket_id",
            )
            .unwrap();
        let rows: Vec<String> = stmt
            .query_map(params![halls, "2026-11-05", LAST_DAY], |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        println!("plan ({}): {}", halls.unwrap_or("region"), rows.join(" / "));
    }
}
