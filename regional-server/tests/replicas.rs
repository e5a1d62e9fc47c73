//! Two replicas on one PostgreSQL database: what changes on one reaches the pages and
//! terminals connected to the other (LISTEN/NOTIFY). Needs a cluster (`MENPAI_TEST_POSTGRES`,
//! which `scripts/test` always provides); a region on SQLite has one process only.

use std::sync::Arc;
use std::time::Duration;

use menpai_model::queue::WindowCall;
use menpai_model::sync::StreamEvent;
use menpai_server::config::Config;
use menpai_server::live::Topic;
use menpai_server::storage::{Database, Exec};
use menpai_server::{Server, bus, content, queue, replicas, shutdown};

fn config(dir: &std::path::Path, url: &str, region_key: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_owned(),
        database_url: url.to_owned(),
        region_key_file: region_key.to_owned(),
        ..Config::default()
    }
}

fn replica(dir: &std::path::Path, url: &str, region_key: &std::path::Path) -> Arc<Server> {
    Arc::new(Server::open(config(dir, url, region_key)).unwrap())
}

/// Waits (without a clock limit of its own: the caller's timeout bounds it) for the first item
/// `pick` accepts.
async fn first<T: Clone, R>(
    rx: &mut tokio::sync::broadcast::Receiver<T>,
    mut pick: impl FnMut(&T) -> Option<R>,
) -> R {
    loop {
        match rx.recv().await {
            Ok(item) => {
                if let Some(r) = pick(&item) {
                    return r;
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_content_and_revocation_made_on_one_replica_reach_the_other() {
    let Ok(cluster) = std::env::var("MENPAI_TEST_POSTGRES") else {
        eprintln!("no PostgreSQL cluster given (MENPAI_TEST_POSTGRES): nothing to check");
        return;
    };
    let url =
        Database::create_postgres(&cluster, &format!("replicas_{}", std::process::id())).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let region_key = tmp.path().join("region.key");
    let a = replica(&tmp.path().join("a"), &url, &region_key);
    let pack = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    content::publish_live(&a, pack.clone(), "test", "").unwrap();
    let b = replica(&tmp.path().join("b"), &url, &region_key);
    assert!(
        b.halls.get("hall-futian").is_some(),
        "B loads what A published"
    );
    // One region: the same CA (a terminal enrolled on A is trusted by B) and signing keys.
    assert_eq!(a.ca.cert_der, b.ca.cert_der);
    assert_eq!(a.content_key.to_bytes(), b.content_key.to_bytes());
    assert_eq!(
        std::fs::read(tmp.path().join("a/personal-data.key")).unwrap(),
        std::fs::read(tmp.path().join("b/personal-data.key")).unwrap()
    );
    // A replica without the region's key file is told to get it; one with another key
    // cannot open the keys, and says so. Neither makes keys of its own.
    let missing = Server::open(config(
        &tmp.path().join("c"),
        &url,
        &tmp.path().join("missing.key"),
    ))
    .unwrap_err();
    assert!(
        format!("{missing:#}").contains("no region key file"),
        "{missing:#}"
    );
    assert!(!tmp.path().join("missing.key").exists());
    let other = tmp.path().join("other.key");
    std::fs::write(&other, "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n").unwrap();
    let stranger = Server::open(config(&tmp.path().join("d"), &url, &other)).unwrap_err();
    assert!(
        format!("{stranger:#}").contains("another key-encryption key"),
        "{stranger:#}"
    );
    // Someone who can write the database moves a sealed key to another key's row: refused.
    let db = Database::connect(&url).unwrap();
    db.execute(
        "UPDATE region_secrets SET sealed = (SELECT sealed FROM region_secrets \
         WHERE name = 'ca.key.pem') WHERE name = 'ticket-secret.key'",
        (),
    )
    .unwrap();
    let moved = Server::open(config(&tmp.path().join("e"), &url, &region_key)).unwrap_err();
    assert!(
        format!("{moved:#}").contains("ticket-secret.key in the database is not the one sealed"),
        "{moved:#}"
    );
    let stop = shutdown::Trigger::default();
    let listening = tokio::spawn(replicas::listen_loop(b.clone(), stop.subscribe()));
    let limit = Duration::from_secs(60);

    // B listens once a note A keeps sending arrives.
    let mut pages_on_b = b.live.subscribe();
    tokio::time::timeout(limit, async {
        loop {
            bus::note(&a, "hall-futian", Topic::Help, "probe");
            let heard = tokio::time::timeout(Duration::from_millis(500), async {
                first(&mut pages_on_b, |n| (n.id == "probe").then_some(())).await
            });
            if heard.await.is_ok() {
                return;
            }
        }
    })
    .await
    .expect("B never heard A");

    // A window on A calls: terminals streaming from B hear the call, and B's staff pages too.
    let mut terminals_on_b = b.stream.subscribe();
    let call = WindowCall {
        window: 3,
        number: "E017".into(),
        business: "公积金".into(),
        at: "09:30".into(),
        recall: false,
    };
    let hall = a.halls.get("hall-futian").unwrap();
    queue::broadcast(&a, &hall, Some(call.clone()));
    let heard = tokio::time::timeout(
        limit,
        first(&mut terminals_on_b, |e| match e {
            StreamEvent::Queue { hall, call, .. } if hall == "hall-futian" => call.clone(),
            _ => None,
        }),
    )
    .await
    .expect("the call reached B's terminals");
    assert_eq!(heard, call);
    tokio::time::timeout(
        limit,
        first(&mut pages_on_b, |n| {
            (n.topic == Topic::Queue && n.hall == "hall-futian").then_some(())
        }),
    )
    .await
    .expect("the queue note reached B's pages");

    // New content published on A: B serves it and tells its terminals to sync.
    let mut changed = pack.clone();
    changed.items[0].name.push_str("（新）");
    let (version, _) = content::publish_live(&a, changed, "test", "").unwrap();
    let told = tokio::time::timeout(
        limit,
        first(&mut terminals_on_b, |e| match e {
            StreamEvent::Content { version } => Some(version.clone()),
            _ => None,
        }),
    )
    .await
    .expect("B's terminals were told of the new version");
    assert_eq!(told, version);
    assert_eq!(b.phone.current().unwrap().version, version);

    // A terminal revoked on A: its stream on B ends.
    let mut revoked_on_b = b.revoked.subscribe();
    bus::tell(
        &a,
        bus::Signal::Revoked {
            device: "hall-futian-lobby-1".into(),
        },
    );
    let device = tokio::time::timeout(limit, first(&mut revoked_on_b, |d| Some(d.clone())))
        .await
        .expect("B heard of the revocation");
    assert_eq!(device, "hall-futian-lobby-1");

    // Rate limits count across the replicas: what A counted, B refuses.
    let now = std::time::Instant::now;
    for _ in 0..a.help_calls.limit() {
        assert!(a.help_calls.hit("hall-futian-lobby-9", now()).is_ok());
    }
    assert!(b.help_calls.hit("hall-futian-lobby-9", now()).is_err());
    assert!(b.help_calls.hit("hall-futian-lobby-8", now()).is_ok());

    stop.fire();
    listening.await.unwrap();
}
