//! Heartbeat ingestion by the database: what a replica's flush writes (every terminal's newest
//! heartbeat, batched upserts of 500 rows a statement) on SQLite and — when
//! `MENPAI_TEST_POSTGRES` names a cluster (`scripts/postgres start DIR` prints one) — on
//! PostgreSQL, from one writer and from two writing at once (two replicas). Prints heartbeats
//! stored per second. Run with `cargo bench -p menpai-server --bench heartbeats`.

use std::sync::Arc;
use std::time::Instant;

use menpai_server::storage::{Database, DeviceStore};

/// Terminals in the region; each flush writes all of them once.
const TERMINALS: usize = 20_000;
const FLUSHES: usize = 5;

/// A heartbeat body as terminals send them (versions, devices, disk, faults).
fn body(i: usize) -> String {
    format!(
        r#"{{"agent_version":"0.19.0","uptime_s":{i},"ui_alive":true,"content_version":"v42","devices":{{"printer":"ok","scanner":"ok","camera":"ok"}},"disk_free_mb":5120,"faults":[]}}"#
    )
}

/// Every terminal's heartbeat written `FLUSHES` times, split over `writers` threads writing at
/// once; heartbeats stored per second.
fn ingest(db: Arc<Database>, writers: usize) -> f64 {
    let started = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let db = db.clone();
            s.spawn(move || {
                for flush in 0..FLUSHES {
                    let beats: Vec<(String, i64, String)> = (0..TERMINALS)
                        .filter(|i| i % writers == w)
                        .map(|i| (format!("terminal-{i}"), (flush * 1000 + i) as i64, body(i)))
                        .collect();
                    for chunk in beats.chunks(2_000) {
                        db.save_heartbeats(chunk).expect("heartbeats are saved");
                    }
                }
            });
        }
    });
    (TERMINALS * FLUSHES) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(Database::open(&dir.path().join("bench.db")).unwrap());
    println!(
        "heartbeats stored, SQLite (one process): {:.0}/s",
        ingest(sqlite, 1)
    );
    let Ok(cluster) = std::env::var("MENPAI_TEST_POSTGRES") else {
        println!("PostgreSQL: no cluster given (MENPAI_TEST_POSTGRES); skipped");
        return;
    };
    for writers in [1, 2] {
        let name = format!("bench_heartbeats_{}_{writers}", std::process::id());
        let url = Database::create_postgres(&cluster, &name).unwrap();
        let db = Arc::new(Database::connect(&url).unwrap());
        println!(
            "heartbeats stored, PostgreSQL, {writers} writer(s) at once: {:.0}/s",
            ingest(db, writers)
        );
    }
}
