//! What the routers' tests share: a server in a temporary directory with the demo region
//! published, terminals enrolled in it as the enrollment route would, and requests sent as a
//! browser or a terminal sends them. Each test file uses some of it.
#![allow(dead_code)]

pub(crate) mod http;

use menpai_model::ContentPack;
use menpai_server::config::Config;
use menpai_server::storage::{Device, EnrollmentToken};
use menpai_server::{Server, content, queue};
use sha2::{Digest, Sha256};

/// A server over `config` in a fresh directory, the demo region published and loaded. With
/// `MENPAI_SERVER_DATABASE=postgres` its data lives in a fresh database on the cluster
/// `MENPAI_TEST_POSTGRES` names.
pub(crate) fn published(config: Config) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        database_url: database_url(),
        ..config
    };
    let server = Server::open(config).unwrap();
    let pack: ContentPack = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    let (version, _) = content::publish(
        server.storage.as_ref(),
        &server.content_key,
        pack.clone(),
        "test",
    )
    .unwrap();
    server.halls.replace_with(queue::Halls::from_pack(&pack));
    server.phone.replace(version, pack);
    (server, dir)
}

/// A fresh PostgreSQL database when the run asks for one; empty (SQLite) otherwise.
pub(crate) fn database_url() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    if std::env::var("MENPAI_SERVER_DATABASE").is_ok_and(|v| v == "postgres") {
        let admin = std::env::var("MENPAI_TEST_POSTGRES").expect("MENPAI_TEST_POSTGRES");
        let name = format!(
            "router_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        menpai_server::storage::Database::create_postgres(&admin, &name).unwrap()
    } else {
        String::new()
    }
}

/// Enrolls terminal `id` at `position` of `hall` with the certificate whose SHA-256 (hex) is
/// `cert_sha256`, through a one-time token as the enrollment route does.
pub(crate) fn enroll(server: &Server, id: &str, hall: &str, position: &str, cert_sha256: &str) {
    let token = hex::encode(Sha256::digest(format!("token of {id}").as_bytes()));
    server
        .storage
        .create_enrollment_token(
            &token,
            &EnrollmentToken {
                hall: hall.into(),
                position: position.into(),
                expires_at: i64::MAX / 2,
                used: false,
            },
            "test",
        )
        .unwrap();
    let device = Device {
        id: id.into(),
        hall: hall.into(),
        position: position.into(),
        cert_sha256: cert_sha256.into(),
        enrolled_at: "2026-11-29T00:00:00Z".into(),
        revoked_at: None,
        training: false,
    };
    assert!(
        server
            .storage
            .redeem_enrollment(&token, 0, &device)
            .unwrap()
    );
}
