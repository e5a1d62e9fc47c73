//! Backup and restore of a region: the database as one consistent snapshot taken while the
//! server works — on SQLite `VACUUM INTO` (a read transaction writers go on beside), on
//! PostgreSQL `pg_dump` of a snapshot the backup exports and counts from — and the keys that make terminals' identities, signed content and
//! sealed personal data usable again — the region's CA, the content and appointment signing
//! keys, the personal-data key and the ticket secret. A restore goes into an empty data
//! directory only, checks every file against the backup's manifest, and moves today's ticket
//! numbers past anything issued after the backup, so no number is given twice.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, bail};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::region_keys::{KEY_FILE, KEYS};
use crate::storage::{Database, Exec};

/// The database file in a data directory and in a backup (SQLite).
pub const DATABASE: &str = "menpai-server.db";
/// The database in a backup of a region on PostgreSQL (`pg_dump`'s custom format).
pub const DUMP: &str = "menpai-server.pgdump";
/// What a backup holds and when it was taken.
pub const MANIFEST: &str = "backup.json";

/// After a restore, online numbers of the backup's day and later skip this many (numbers
/// issued after the backup are not in it), and leased blocks start this far below the last.
pub const ONLINE_SKIP: i64 = 100;
pub const LEASE_SKIP: i64 = 100;
/// Days after the backup's whose numbers are moved too (a restore weeks later moves none).
const DAYS_MOVED: i64 = 31;

/// A backup's manifest: when, what content, how much, and each file's SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// China Standard Time, `YYYY-MM-DD HH:MM:SS`.
    pub taken_at: String,
    pub content_version: Option<String>,
    pub terminals: i64,
    pub operators: i64,
    pub tickets: i64,
    pub appointments: i64,
    /// File name → SHA-256.
    pub files: Vec<(String, String)>,
}

/// Writes `bytes` to a new file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

fn is_empty_dir(dir: &Path) -> anyhow::Result<bool> {
    Ok(!dir.exists() || fs::read_dir(dir)?.next().is_none())
}

/// What the manifest says of a database: its latest content version and how much it holds.
struct Holding {
    content_version: Option<String>,
    terminals: i64,
    operators: i64,
    tickets: i64,
    appointments: i64,
}

fn holding(db: &impl Exec) -> crate::storage::Result<Holding> {
    let count = |table: &str| -> crate::storage::Result<i64> {
        db.query_row(&format!("SELECT COUNT(*) FROM {table}"), (), |r| r.get(0))
    };
    Ok(Holding {
        content_version: db
            .query_row(
                "SELECT version FROM versions ORDER BY id DESC LIMIT 1",
                (),
                |r| r.get(0),
            )
            .ok(),
        terminals: count("devices")?,
        operators: count("operators")?,
        tickets: count("tickets")?,
        appointments: count("appointments")?,
    })
}

/// Backs the region of `config` up into `out` (a new or empty directory) while the server may
/// run.
pub fn backup(config: &Config, out: &Path, taken_at: &str) -> anyhow::Result<Manifest> {
    if !is_empty_dir(out)? {
        bail!(
            "{} is not empty: a backup goes into a new directory",
            out.display()
        );
    }
    fs::create_dir_all(out)?;
    fs::set_permissions(out, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let (name, held) = if config.database_url.is_empty() {
        (
            DATABASE,
            snapshot_sqlite(&config.data_dir, &out.join(DATABASE))?,
        )
    } else {
        (DUMP, dump_postgres(&config.database_url, &out.join(DUMP))?)
    };
    let mut files = vec![(name.to_owned(), sha256_of(&out.join(name))?)];
    for (key, path) in key_files(config) {
        let bytes = fs::read(&path).with_context(|| format!("reading the key {key}"))?;
        write_private(&out.join(key), &bytes)?;
        files.push((key.to_string(), menpai_model::bundle::sha256_hex(&bytes)));
    }
    let manifest = Manifest {
        taken_at: taken_at.to_owned(),
        content_version: held.content_version,
        terminals: held.terminals,
        operators: held.operators,
        tickets: held.tickets,
        appointments: held.appointments,
        files,
    };
    write_private(
        &out.join(MANIFEST),
        &serde_json::to_vec_pretty(&manifest).expect("manifests serialise"),
    )?;
    Ok(manifest)
}

/// SQLite: one read transaction copied into `snapshot`, counted there.
fn snapshot_sqlite(data_dir: &Path, snapshot: &Path) -> anyhow::Result<Holding> {
    // Opened as the server opens it (WAL): the snapshot is one read transaction.
    let source = Connection::open(data_dir.join(DATABASE))
        .with_context(|| format!("opening {}", data_dir.join(DATABASE).display()))?;
    source.busy_timeout(std::time::Duration::from_secs(30))?;
    source
        .execute("VACUUM INTO ?1", [snapshot.to_string_lossy()])
        .context("taking the database's snapshot")?;
    fs::set_permissions(
        snapshot,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )?;
    let copy = Connection::open_with_flags(snapshot, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let count = |table: &str| -> anyhow::Result<i64> {
        Ok(copy.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
    };
    Ok(Holding {
        content_version: copy
            .query_row(
                "SELECT version FROM versions ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .ok(),
        terminals: count("devices")?,
        operators: count("operators")?,
        tickets: count("tickets")?,
        appointments: count("appointments")?,
    })
}

/// PostgreSQL: a read-only transaction exports its snapshot, is counted, and `pg_dump` dumps
/// exactly that snapshot into `dump` while replicas go on writing.
fn dump_postgres(url: &str, dump: &Path) -> anyhow::Result<Holding> {
    let db = Database::connect(url).context("the database at database_url")?;
    let mut dumped = Ok(());
    let held = db.read_snapshot(|tx| {
        let snapshot: String = tx.query_row("SELECT pg_export_snapshot()", (), |r| r.get(0))?;
        let held = holding(tx)?;
        dumped = pg_tool("pg_dump", url).and_then(|mut c| {
            let out = c
                .args([
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--snapshot",
                ])
                .arg(&snapshot)
                .arg("--file")
                .arg(dump)
                .output()
                .context("pg_dump runs")?;
            anyhow::ensure!(
                out.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            Ok(())
        });
        Ok(held)
    })?;
    dumped?;
    fs::set_permissions(dump, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(held)
}

/// One of PostgreSQL's programs aimed at `url`: the address in `--dbname` without its
/// password, which goes in the environment (a command line is readable by every local user).
fn pg_tool(program: &str, url: &str) -> anyhow::Result<std::process::Command> {
    use tokio_postgres::config::Host;
    let config: tokio_postgres::Config = url.parse().context("database_url")?;
    let quote = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
    let mut parts = Vec::new();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.to_string_lossy().into_owned(),
        })
        .collect();
    if !hosts.is_empty() {
        parts.push(format!("host={}", quote(&hosts.join(","))));
    }
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    if !ports.is_empty() {
        parts.push(format!("port={}", ports.join(",")));
    }
    if let Some(user) = config.get_user() {
        parts.push(format!("user={}", quote(user)));
    }
    if let Some(db) = config.get_dbname() {
        parts.push(format!("dbname={}", quote(db)));
    }
    if let Some(options) = config.get_options() {
        parts.push(format!("options={}", quote(options)));
    }
    let sslmode = match config.get_ssl_mode() {
        tokio_postgres::config::SslMode::Disable => "disable",
        tokio_postgres::config::SslMode::Require => "require",
        _ => "prefer",
    };
    parts.push(format!("sslmode={sslmode}"));
    let mut c = std::process::Command::new(program);
    c.arg("--dbname").arg(parts.join(" "));
    c.env_remove("PGPASSWORD");
    if let Some(password) = config.get_password() {
        c.env("PGPASSWORD", String::from_utf8_lossy(password).into_owned());
    }
    Ok(c)
}

/// The region's key files and where this server keeps them; on PostgreSQL also the key that
/// seals them in the database.
fn key_files(config: &Config) -> Vec<(&'static str, std::path::PathBuf)> {
    let mut files: Vec<_> = KEYS.iter().map(|k| (*k, config.data_dir.join(k))).collect();
    if !config.database_url.is_empty() {
        files.push((KEY_FILE, crate::region_keys::key_file(config)));
    }
    files
}

fn sha256_of(path: &Path) -> anyhow::Result<String> {
    Ok(menpai_model::bundle::sha256_hex(&fs::read(path)?))
}

/// Restores the backup in `from` into the region of `config` — its data directory absent or
/// empty, its PostgreSQL database (if it has one) empty: every file checked against the
/// manifest first; then today's numbers moved past what was issued after the backup.
pub fn restore(from: &Path, config: &Config, today: chrono::NaiveDate) -> anyhow::Result<Manifest> {
    let data_dir = config.data_dir.as_path();
    if !is_empty_dir(data_dir)? {
        bail!(
            "{} is not empty: a restore goes into an empty data directory only",
            data_dir.display()
        );
    }
    let text = fs::read(from.join(MANIFEST))
        .with_context(|| format!("{} has no {MANIFEST}: not a backup", from.display()))?;
    let manifest: Manifest = serde_json::from_slice(&text).context("the backup's manifest")?;
    let on_postgres = !config.database_url.is_empty();
    let database = if on_postgres { DUMP } else { DATABASE };
    let keys = key_files(config);
    let expected: Vec<&str> = std::iter::once(database)
        .chain(keys.iter().map(|(k, _)| *k))
        .collect();
    for name in &expected {
        let listed = manifest.files.iter().find(|(n, _)| n == name);
        let Some((_, sha)) = listed else {
            bail!("the backup lists no {name}");
        };
        if sha256_of(&from.join(name))? != *sha {
            bail!("{name} in the backup does not match its manifest: damaged, not restored");
        }
    }
    // Keys are never overwritten; found before the database is touched, not half way.
    for (name, path) in &keys {
        if path.exists() {
            bail!(
                "{} exists already: a restore does not overwrite a key ({name})",
                path.display()
            );
        }
    }
    let db = if on_postgres {
        restore_postgres(&config.database_url, &from.join(DUMP))?
    } else {
        fs::create_dir_all(data_dir)?;
        write_private(&data_dir.join(DATABASE), &fs::read(from.join(DATABASE))?)?;
        Database::open(&data_dir.join(DATABASE))?
    };
    fs::create_dir_all(data_dir)?;
    for (name, path) in &keys {
        write_private(path, &fs::read(from.join(name))?)?;
    }
    move_numbers(&db, &manifest.taken_at, today)?;
    Ok(manifest)
}

/// Loads a dump into the (empty) database at `url`.
fn restore_postgres(url: &str, dump: &Path) -> anyhow::Result<Database> {
    let used = pg_tool("psql", url)?
        .args(["-X", "-At", "-c"])
        .arg("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")
        .output()
        .context("psql (PostgreSQL's client) runs")?;
    let tables = String::from_utf8_lossy(&used.stdout).trim().to_owned();
    if !used.status.success() || tables != "0" {
        bail!(
            "the database at database_url is not empty ({} tables): a restore goes into an empty database only",
            if tables.is_empty() { "?" } else { &tables }
        );
    }
    let out = pg_tool("pg_restore", url)?
        .args([
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
        ])
        .arg(dump)
        .output()
        .context("pg_restore runs")?;
    if !out.status.success() {
        bail!(
            "pg_restore: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(Database::connect(url)?)
}

/// Moves the numbers of each day from the backup's to `today` past what may have been issued
/// after the backup: online ones up by [`ONLINE_SKIP`], leased blocks down by [`LEASE_SKIP`]
/// (never into the online ones), for every hall and business the region has numbered.
fn move_numbers(db: &Database, taken_at: &str, today: chrono::NaiveDate) -> anyhow::Result<()> {
    let first =
        chrono::NaiveDate::parse_from_str(taken_at.get(..10).unwrap_or_default(), "%Y-%m-%d")
            .context("the backup's time")?;
    let mut days = Vec::new();
    let mut day = first;
    while day <= today && (day - first).num_days() <= DAYS_MOVED {
        days.push(day.to_string());
        day = day.succ_opt().context("a day after the backup")?;
    }
    db.transaction(|tx| {
        for d in &days {
            tx.execute(
                "INSERT INTO number_counters (hall, day, prefix, next_online, lease_floor) \
                 SELECT DISTINCT hall, CAST(?1 AS TEXT), prefix, 1, CAST(?2 AS BIGINT) FROM number_counters WHERE true \
                 ON CONFLICT DO NOTHING",
                crate::params![d, crate::storage::queue::MAX_SEQ + 1],
            )?;
            tx.execute(
                "UPDATE number_counters SET next_online = next_online + ?2, \
                 lease_floor = CASE WHEN lease_floor - ?3 > next_online + ?2 \
                                    THEN lease_floor - ?3 ELSE next_online + ?2 END \
                 WHERE day = ?1",
                crate::params![d, ONLINE_SKIP, LEASE_SKIP],
            )?;
        }
        Ok(())
    })?;
    Ok(())
}

/// What a restore brings back and what it cannot, in plain words for whoever runs it.
pub fn restored_words(m: &Manifest) -> String {
    format!(
        "已恢复 {} 的备份：内容版本 {}，终端 {} 台，人员 {} 个，号码 {} 张，预约 {} 个。\n\
         备份之后的事不在备份里：之后发的号、叫号和办结记录，之后的预约、评价、帮办和操作日志，\
         之后发布的内容和新登记的终端。终端发件箱里还没被确认的事件会在连上后重新送达；\
         已被服务器确认的不会再送。为免重号，备份当天到今天的在线号码跳过 {ONLINE_SKIP} 个，\
         租给终端的号段让出 {LEASE_SKIP} 个。",
        m.taken_at,
        m.content_version.as_deref().unwrap_or("（无）"),
        m.terminals,
        m.operators,
        m.tickets,
        m.appointments,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_backup_is_refused_and_numbers_move_past_the_backup() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        crate::Server::open(crate::config::Config {
            data_dir: data.clone(),
            ..Default::default()
        })
        .unwrap();
        {
            let db = Connection::open(data.join(DATABASE)).unwrap();
            db.execute(
                "INSERT INTO number_counters VALUES ('hall-futian', '2026-12-04', 'E', 6, 980)",
                [],
            )
            .unwrap();
        }
        let out = dir.path().join("backup");
        let config = |data_dir: &Path| crate::config::Config {
            data_dir: data_dir.to_owned(),
            ..Default::default()
        };
        let m = backup(&config(&data), &out, "2026-12-04 10:00:00").unwrap();
        assert_eq!(m.files.len(), 1 + KEYS.len());
        assert!(
            backup(&config(&data), &out, "2026-12-04 10:00:01").is_err(),
            "not into a used one"
        );

        // Restored the next day: both days' numbers move, the new day's from its start.
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let restored = dir.path().join("restored");
        restore(&out, &config(&restored), today).unwrap();
        let db = Connection::open(restored.join(DATABASE)).unwrap();
        let row = |day: &str| -> (i64, i64) {
            db.query_row(
                "SELECT next_online, lease_floor FROM number_counters WHERE day = ?1",
                [day],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        assert_eq!(row("2026-12-04"), (106, 880));
        assert_eq!(row("2026-12-05"), (101, 900));
        assert!(
            restore(&out, &config(&restored), today).is_err(),
            "not over a data directory"
        );

        // A key changed since: the whole restore is refused, nothing written.
        std::fs::write(out.join("content-signing.key"), "tampered").unwrap();
        let again = dir.path().join("again");
        let e = restore(&out, &config(&again), today)
            .unwrap_err()
            .to_string();
        assert!(e.contains("content-signing.key"), "{e}");
        assert!(!again.join(DATABASE).exists());
    }
}
