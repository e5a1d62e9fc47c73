//! The regional server's PostgreSQL schema on a private cluster (initdb into a temporary
//! directory, a Unix socket, stopped at the end): every migration applies, and the tables,
//! columns and named indexes are exactly those the SQLite migrations leave — so the two
//! backends keep one data model as migrations are added.

use std::collections::BTreeSet;

use menpai_tests::postgres::Cluster;
use menpai_tests::{server_cli, server_dir, workspace};

/// `table.column` and `index:name` of a fresh server's SQLite database.
fn sqlite_shape() -> BTreeSet<String> {
    let tmp = tempfile::tempdir().unwrap();
    server_dir(tmp.path(), "");
    let (ok, out) = server_cli(
        tmp.path(),
        &["add-operator", "a", "admin"],
        Some("a password 1"),
    );
    assert!(ok, "{out}");
    let db = rusqlite::Connection::open(tmp.path().join("data/menpai-server.db")).unwrap();
    let mut shape = BTreeSet::new();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in tables {
        let mut stmt = db
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap();
        for c in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
            shape.insert(format!("{t}.{}", c.unwrap()));
        }
    }
    let mut stmt = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        .unwrap();
    for i in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
        shape.insert(format!("index:{}", i.unwrap()));
    }
    shape
}

#[test]
fn the_postgres_schema_applies_on_a_private_cluster_and_matches_sqlites() {
    let cluster = Cluster::start();
    let dir = workspace().join("regional-server/migrations/postgres");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for f in &files {
        let (ok, out) = cluster.psql(&["-f", f.to_str().unwrap()]);
        assert!(ok, "{} does not apply: {out}", f.display());
    }
    let (ok, columns) = cluster.psql(&[
        "-c",
        "SELECT table_name || '.' || column_name FROM information_schema.columns \
         WHERE table_schema = 'public'",
    ]);
    assert!(ok, "{columns}");
    let (ok, indexes) = cluster.psql(&[
        "-c",
        "SELECT 'index:' || indexname FROM pg_indexes WHERE schemaname = 'public' \
         AND indexname NOT IN (SELECT conname FROM pg_constraint)",
    ]);
    assert!(ok, "{indexes}");
    let postgres: BTreeSet<String> = columns
        .lines()
        .chain(indexes.lines())
        .map(str::to_owned)
        .collect();
    let sqlite = sqlite_shape();
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only on SQLite: {only_sqlite:?}\nonly on PostgreSQL: {only_postgres:?}"
    );
    println!(
        "{} columns and indexes alike on both backends",
        sqlite.len()
    );
}
