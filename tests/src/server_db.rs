//! The database of a server under test: its SQLite file, or — when the run says
//! `MENPAI_SERVER_DATABASE=postgres` — a fresh database on the cluster `MENPAI_TEST_POSTGRES`
//! names (`scripts/test` starts one), so the same cross-process tests check both backends.
//! Tests read and change it here, never through one engine's file directly.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Whether servers of this run keep their data on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("MENPAI_SERVER_DATABASE").is_ok_and(|v| v == "postgres")
}

/// The `database_url` line for a new server's config: empty on SQLite; on PostgreSQL a new
/// database made for it.
pub fn database_line() -> String {
    if !on_postgres() {
        return String::new();
    }
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "server_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    psql(
        &admin_url(),
        &format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"),
    );
    format!(
        "database_url = {:?}\n",
        format!("{} dbname={name}", admin_url())
    )
}

fn admin_url() -> String {
    std::env::var("MENPAI_TEST_POSTGRES")
        .expect("MENPAI_SERVER_DATABASE=postgres needs MENPAI_TEST_POSTGRES (a cluster's address)")
}

/// The `database_url` a server directory's config names, if any.
fn url_of(server_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(server_dir.join("server.toml")).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    table
        .get("database_url")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-F",
            "\u{1f}",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .expect("psql runs (scripts/setup.sh installs PostgreSQL)");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs statements on a server's database (the server may be running).
pub fn execute(server_dir: &Path, statements: &str) {
    match url_of(server_dir) {
        Some(url) => {
            psql(&url, statements);
        }
        None => {
            let c = rusqlite::Connection::open(server_dir.join("data/menpai-server.db")).unwrap();
            c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            c.execute_batch(statements).unwrap();
        }
    }
}

/// The rows of a query on a server's database, each column as text (NULL as "").
pub fn rows(server_dir: &Path, query: &str) -> Vec<Vec<String>> {
    match url_of(server_dir) {
        Some(url) => psql(&url, query)
            .lines()
            .map(|l| l.split('\u{1f}').map(str::to_owned).collect())
            .collect(),
        None => {
            use rusqlite::types::ValueRef;
            let c = rusqlite::Connection::open(server_dir.join("data/menpai-server.db")).unwrap();
            c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            let mut st = c.prepare(query).unwrap();
            let width = st.column_count();
            st.query_map([], |r| {
                (0..width)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            ValueRef::Null => String::new(),
                            ValueRef::Integer(n) => n.to_string(),
                            ValueRef::Real(x) => x.to_string(),
                            ValueRef::Text(t) | ValueRef::Blob(t) => {
                                String::from_utf8_lossy(t).into_owned()
                            }
                        })
                    })
                    .collect()
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
        }
    }
}

/// The one value a query gives.
pub fn scalar<T: std::str::FromStr>(server_dir: &Path, query: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    let rows = rows(server_dir, query);
    assert_eq!(rows.len(), 1, "{query}: {rows:?}");
    rows[0][0].parse().unwrap()
}

/// Everything the server's database holds at rest, as bytes to search: the SQLite file and its
/// write-ahead log, or a dump of the PostgreSQL database's data.
pub fn at_rest(server_dir: &Path) -> Vec<u8> {
    match url_of(server_dir) {
        Some(url) => {
            let out = Command::new("pg_dump")
                .args(["--data-only", "-d", &url])
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }
        None => ["db", "db-wal"]
            .iter()
            .flat_map(|e| {
                std::fs::read(server_dir.join("data/menpai-server.db").with_extension(e))
                    .unwrap_or_default()
            })
            .collect(),
    }
}

/// Bytes the server's database takes on disk.
pub fn size(server_dir: &Path) -> u64 {
    match url_of(server_dir) {
        Some(_) => scalar(server_dir, "SELECT pg_database_size(current_database())"),
        None => ["db", "db-wal"]
            .iter()
            .map(|e| {
                std::fs::metadata(server_dir.join("data/menpai-server.db").with_extension(e))
                    .map_or(0, |m| m.len())
            })
            .sum(),
    }
}

/// A statement that replaces `from` by `to` in the text of a stored content blob.
pub fn replace_in_blob(sha256: &str, from: &str, to: &str) -> String {
    if on_postgres() {
        format!(
            "UPDATE blobs SET body = convert_to(replace(convert_from(body, 'UTF8'), '{from}', '{to}'), 'UTF8') WHERE sha256 = '{sha256}'"
        )
    } else {
        format!(
            "UPDATE blobs SET body = CAST(REPLACE(CAST(body AS TEXT), '{from}', '{to}') AS BLOB) WHERE sha256 = '{sha256}'"
        )
    }
}

/// A query for the content blob whose text holds `needle`.
pub fn blob_holding(needle: &str) -> String {
    if on_postgres() {
        format!(
            "SELECT sha256 FROM blobs WHERE position(convert_to('{needle}', 'UTF8') in body) > 0"
        )
    } else {
        format!("SELECT sha256 FROM blobs WHERE CAST(body AS TEXT) LIKE '%{needle}%'")
    }
}
