//! The databases a storage test runs on: SQLite in memory always, and a fresh PostgreSQL
//! database too when `MENPAI_TEST_POSTGRES` names a cluster (`scripts/test` starts one).

use std::sync::atomic::{AtomicU32, Ordering};

use super::Database;

/// One of each backend this run can reach, each empty and migrated.
pub fn databases() -> Vec<Database> {
    let mut out = vec![Database::open_in_memory().unwrap()];
    if let Ok(admin) = std::env::var("MENPAI_TEST_POSTGRES") {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "unit_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let url = Database::create_postgres(&admin, &name).unwrap();
        out.push(Database::connect(&url).unwrap());
    }
    out
}
