//! Backup and restore of a server's data directory (SQLite, one machine): the database as one
//! consistent snapshot taken while the server works (`VACUUM INTO`, a read transaction that
//! writers go on beside), and the keys that make terminals' identities, signed content and
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

/// The database file in a data directory and in a backup.
pub const DATABASE: &str = "menpai-server.db";
/// The keys a region cannot be run again without.
pub const KEYS: &[&str] = &[
    "ca.pem",
    "ca.key.pem",
    "content-signing.key",
    "appointment-signing.key",
    "personal-data.key",
    "ticket-secret.key",
];
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

fn count(db: &Connection, table: &str) -> anyhow::Result<i64> {
    Ok(db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
}

/// Backs `data_dir` up into `out` (a new or empty directory) while the server may run.
pub fn backup(data_dir: &Path, out: &Path, taken_at: &str) -> anyhow::Result<Manifest> {
    if !is_empty_dir(out)? {
        bail!(
            "{} is not empty: a backup goes into a new directory",
            out.display()
        );
    }
    fs::create_dir_all(out)?;
    fs::set_permissions(out, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    // Opened as the server opens it (WAL): the snapshot is one read transaction.
    let source = Connection::open(data_dir.join(DATABASE))
        .with_context(|| format!("opening {}", data_dir.join(DATABASE).display()))?;
    source.busy_timeout(std::time::Duration::from_secs(30))?;
    let snapshot = out.join(DATABASE);
    source
        .execute("VACUUM INTO ?1", [snapshot.to_string_lossy()])
        .context("taking the database's snapshot")?;
    fs::set_permissions(
        &snapshot,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )?;
    let mut files = vec![(DATABASE.to_owned(), sha256_of(&snapshot)?)];
    for key in KEYS {
        let bytes =
            fs::read(data_dir.join(key)).with_context(|| format!("reading the key {key}"))?;
        write_private(&out.join(key), &bytes)?;
        files.push((key.to_string(), menpai_model::bundle::sha256_hex(&bytes)));
    }
    let db = Connection::open_with_flags(&snapshot, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let manifest = Manifest {
        taken_at: taken_at.to_owned(),
        content_version: db
            .query_row(
                "SELECT version FROM versions ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .ok(),
        terminals: count(&db, "devices")?,
        operators: count(&db, "operators")?,
        tickets: count(&db, "tickets")?,
        appointments: count(&db, "appointments")?,
        files,
    };
    write_private(
        &out.join(MANIFEST),
        &serde_json::to_vec_pretty(&manifest).expect("manifests serialise"),
    )?;
    Ok(manifest)
}

fn sha256_of(path: &Path) -> anyhow::Result<String> {
    Ok(menpai_model::bundle::sha256_hex(&fs::read(path)?))
}

/// Restores the backup in `from` into `data_dir` (absent or empty): every file checked against
/// the manifest first; then today's numbers moved past what was issued after the backup.
pub fn restore(from: &Path, data_dir: &Path, today: chrono::NaiveDate) -> anyhow::Result<Manifest> {
    if !is_empty_dir(data_dir)? {
        bail!(
            "{} is not empty: a restore goes into an empty data directory only",
            data_dir.display()
        );
    }
    let text = fs::read(from.join(MANIFEST))
        .with_context(|| format!("{} has no {MANIFEST}: not a backup", from.display()))?;
    let manifest: Manifest = serde_json::from_slice(&text).context("the backup's manifest")?;
    let expected: Vec<&str> = std::iter::once(DATABASE)
        .chain(KEYS.iter().copied())
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
    fs::create_dir_all(data_dir)?;
    for name in &expected {
        write_private(&data_dir.join(name), &fs::read(from.join(name))?)?;
    }
    move_numbers(&data_dir.join(DATABASE), &manifest.taken_at, today)?;
    Ok(manifest)
}

/// Moves the numbers of each day from the backup's to `today` past what may have been issued
/// after the backup: online ones up by [`ONLINE_SKIP`], leased blocks down by [`LEASE_SKIP`]
/// (never into the online ones), for every hall and business the region has numbered.
fn move_numbers(db: &Path, taken_at: &str, today: chrono::NaiveDate) -> anyhow::Result<()> {
    let first =
        chrono::NaiveDate::parse_from_str(taken_at.get(..10).unwrap_or_default(), "%Y-%m-%d")
            .context("the backup's time")?;
    let mut db = Connection::open(db)?;
    let tx = db.transaction()?;
    let mut day = first;
    while day <= today && (day - first).num_days() <= DAYS_MOVED {
        let d = day.to_string();
        tx.execute(
            "INSERT OR IGNORE INTO number_counters (hall, day, prefix, next_online, lease_floor) \
             SELECT DISTINCT hall, ?1, prefix, 1, ?2 FROM number_counters",
            rusqlite::params![d, crate::storage::queue::MAX_SEQ + 1],
        )?;
        tx.execute(
            "UPDATE number_counters SET next_online = next_online + ?2, \
             lease_floor = MAX(lease_floor - ?3, next_online + ?2) WHERE day = ?1",
            rusqlite::params![d, ONLINE_SKIP, LEASE_SKIP],
        )?;
        day = day.succ_opt().context("a day after the backup")?;
    }
    tx.commit()?;
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
        let m = backup(&data, &out, "2026-12-04 10:00:00").unwrap();
        assert_eq!(m.files.len(), 1 + KEYS.len());
        assert!(
            backup(&data, &out, "2026-12-04 10:00:01").is_err(),
            "not into a used one"
        );

        // Restored the next day: both days' numbers move, the new day's from its start.
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let restored = dir.path().join("restored");
        restore(&out, &restored, today).unwrap();
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
            restore(&out, &restored, today).is_err(),
            "not over a data directory"
        );

        // A key changed since: the whole restore is refused, nothing written.
        std::fs::write(out.join("content-signing.key"), "tampered").unwrap();
        let again = dir.path().join("again");
        let e = restore(&out, &again, today).unwrap_err().to_string();
        assert!(e.contains("content-signing.key"), "{e}");
        assert!(!again.join(DATABASE).exists());
    }
}
