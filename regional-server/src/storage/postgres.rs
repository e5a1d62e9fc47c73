//! The PostgreSQL backend, for a region run on several replicas: an async client
//! (`tokio-postgres`) behind a pool (`deadpool-postgres`), driven by a small runtime of its own.
//!
//! The storage traits are synchronous. A call made on one of the server's runtime workers waits
//! inside `block_in_place`, which hands that worker's other tasks to another thread first, so a
//! slow database never stalls the server's other connections; the query itself runs on the
//! backend's own runtime. Transactions run SERIALIZABLE and are retried when PostgreSQL reports a
//! serialization failure or a deadlock, so concurrent replicas see the same all-or-nothing
//! behaviour as SQLite's single writer.

use std::future::Future;
use std::time::Duration;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::value::{Row, Value};
use super::{Result, StorageError};

/// The region's schema on PostgreSQL, numbered like SQLite's; `menpai_schema` records how far
/// a database is migrated.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_schema.sql"),
    include_str!("../../migrations/postgres/0002_region_secrets.sql"),
    include_str!("../../migrations/postgres/0003_rate_hits.sql"),
    include_str!("../../migrations/postgres/0004_commands.sql"),
    include_str!("../../migrations/postgres/0005_updates.sql"),
];

/// Migrations take this advisory lock, so replicas started together migrate once.
const MIGRATION_LOCK: i64 = 0x6d65_6e70_6169;

/// How often a transaction is tried when concurrent ones keep conflicting with it.
const TRANSACTION_TRIES: u32 = 20;

/// Connections per replica.
const POOL_SIZE: usize = 16;

#[derive(Debug)]
pub(super) struct PostgresBackend {
    pool: Pool,
    /// Where the listener connects (a connection of its own, outside the pool).
    config: tokio_postgres::Config,
    /// Always there until dropped (then shut down without waiting: the drop may happen on an
    /// async thread, where waiting is not allowed).
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for PostgresBackend {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl PostgresBackend {
    /// Connects to `url` (`postgresql://…` or `host=… dbname=…`; a `host` that is a directory
    /// is a Unix socket) and migrates the database.
    pub(super) fn connect(url: &str) -> Result<PostgresBackend> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StorageError::Pool(format!("database_url: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("menpai-postgres")
            .enable_all()
            .build()
            .map_err(|e| StorageError::Pool(format!("runtime: {e}")))?;
        let manager = Manager::from_config(
            config.clone(),
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| StorageError::Pool(e.to_string()))?;
        let backend = PostgresBackend {
            pool,
            config,
            runtime: Some(runtime),
        };
        backend.migrate()?;
        Ok(backend)
    }

    fn migrate(&self) -> Result<()> {
        self.wait(async {
            let client = self.client().await?;
            client
                .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
                .await?;
            let outcome = async {
                client
                    .batch_execute(
                        "CREATE TABLE IF NOT EXISTS menpai_schema (version BIGINT NOT NULL)",
                    )
                    .await?;
                let done: Option<i64> = client
                    .query_opt("SELECT max(version) FROM menpai_schema", &[])
                    .await?
                    .and_then(|r| r.get(0));
                for (n, sql) in MIGRATIONS
                    .iter()
                    .enumerate()
                    .skip(done.unwrap_or(0) as usize)
                {
                    client.batch_execute("BEGIN").await?;
                    let step = async {
                        client.batch_execute(sql).await?;
                        client
                            .execute(
                                "INSERT INTO menpai_schema (version) VALUES ($1)",
                                &[&(n as i64 + 1)],
                            )
                            .await
                    };
                    match step.await {
                        Ok(_) => client.batch_execute("COMMIT").await?,
                        Err(e) => {
                            client.batch_execute("ROLLBACK").await?;
                            return Err(StorageError::from(e));
                        }
                    }
                }
                Ok(())
            }
            .await;
            client
                .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
                .await?;
            outcome
        })
    }

    async fn client(&self) -> Result<Object> {
        self.pool
            .get()
            .await
            .map_err(|e| StorageError::Pool(format!("数据库连不上: {e}")))
    }

    /// Waits for `fut` on the backend's runtime without stalling the caller's runtime.
    /// Unconstrained: called from a task, tokio's per-task budget would otherwise run out and
    /// defer the wake-up to a yield of that task, which never comes while it blocks here.
    fn wait<F: Future>(&self, fut: F) -> F::Output {
        let block = || {
            let _inside = self.runtime.as_ref().expect("until dropped").enter();
            futures_executor::block_on(tokio::task::unconstrained(fut))
        };
        match Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(block),
            _ => block(),
        }
    }

    pub(super) fn run(&self, sql: &str, params: &[Value]) -> Result<usize> {
        self.wait(async { run_on(&self.client().await?, sql, params).await })
    }

    pub(super) fn fetch(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.wait(async { fetch_on(&self.client().await?, sql, params).await })
    }

    /// Runs `f` in a SERIALIZABLE transaction, again from the start (up to a limit) while
    /// PostgreSQL reports a conflict with a concurrent one; committed when `f` returns `Ok`.
    pub(super) fn transaction<T>(&self, mut f: impl FnMut(&Session<'_>) -> Result<T>) -> Result<T> {
        let mut tries = 0;
        loop {
            tries += 1;
            let held = Held(Some(self.wait(self.client())?));
            let client = held.client();
            self.wait(client.batch_execute("BEGIN ISOLATION LEVEL SERIALIZABLE"))?;
            let outcome = f(&Session {
                backend: self,
                client,
            });
            let ended = match outcome {
                Ok(v) => self
                    .wait(client.batch_execute("COMMIT"))
                    .map(|_| v)
                    .map_err(StorageError::from),
                Err(e) => {
                    self.wait(client.batch_execute("ROLLBACK"))?;
                    Err(e)
                }
            };
            held.release();
            match ended {
                Err(e) if is_conflict(&e) && tries < TRANSACTION_TRIES => {
                    std::thread::sleep(Duration::from_millis(u64::from(tries) * 2));
                }
                other => return other,
            }
        }
    }

    /// Sends `payload` to every replica listening on `channel` (PostgreSQL NOTIFY; at most
    /// 8,000 bytes, delivered when the sending transaction commits).
    pub(super) fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        if payload.len() >= NOTIFY_LIMIT {
            return Err(StorageError::Conflict(format!(
                "a notification of {} bytes is over PostgreSQL's limit",
                payload.len()
            )));
        }
        self.run(
            "SELECT pg_notify(?1, ?2)",
            &[Value::Text(channel.into()), Value::Text(payload.into())],
        )
        .map(|_| ())
    }

    /// Payloads notified on `channel` from now on, by any replica (this one included), through
    /// a connection of their own that is made again after it breaks. Notifications sent while
    /// it was broken are lost: `Reconnected` says when that may have happened.
    pub(super) fn listen(&self, channel: &str) -> tokio::sync::mpsc::Receiver<Heard> {
        let (tx, rx) = tokio::sync::mpsc::channel(4096);
        let config = self.config.clone();
        let channel = channel.to_owned();
        self.runtime
            .as_ref()
            .expect("until dropped")
            .spawn(async move {
                let mut first = true;
                loop {
                    if let Err(e) = listen_once(&config, &channel, &tx, first).await {
                        tracing::warn!(error = %e, "The database's notifications were cut; listening again.");
                    }
                    if tx.is_closed() {
                        return;
                    }
                    first = false;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
        rx
    }

    /// Holds PostgreSQL's advisory lock `key` until the returned guard is dropped: one holder
    /// across every replica. The lock lives in a connection of its own, closed on drop (which
    /// releases it even if this process dies).
    pub(super) fn hold_lock(&self, key: i64) -> Result<RegionLock> {
        let client = self.wait(self.client())?;
        self.wait(client.execute("SELECT pg_advisory_lock($1)", &[&key]))?;
        Ok(RegionLock(Some(client)))
    }

    /// Runs `f` in a read-only REPEATABLE READ transaction (one snapshot, never retried, no
    /// predicate locks held against the replicas' writes).
    pub(super) fn read_snapshot<T>(&self, f: impl FnOnce(&Session<'_>) -> Result<T>) -> Result<T> {
        let held = Held(Some(self.wait(self.client())?));
        let client = held.client();
        self.wait(client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))?;
        let out = f(&Session {
            backend: self,
            client,
        });
        let end = if out.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.wait(client.batch_execute(end))?;
        held.release();
        out
    }

    /// Answers when the database does, within `limit`.
    pub(super) fn ping(&self, limit: Duration) -> Result<()> {
        self.wait(async {
            tokio::time::timeout(limit, async {
                self.client().await?.batch_execute("SELECT 1").await?;
                Ok::<_, StorageError>(())
            })
            .await
            .map_err(|_| StorageError::Pool("数据库没有应答".into()))?
        })
    }
}

/// NOTIFY payloads must be shorter than this.
const NOTIFY_LIMIT: usize = 8000;

/// What a listener hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A payload some replica notified.
    Payload(String),
    /// Listening again after a cut: anything notified meanwhile was missed.
    Reconnected,
}

/// One listening connection, until it breaks or nobody listens any more.
async fn listen_once(
    config: &tokio_postgres::Config,
    channel: &str,
    tx: &tokio::sync::mpsc::Sender<Heard>,
    first: bool,
) -> Result<()> {
    use futures_util::StreamExt;
    use tokio_postgres::AsyncMessage;

    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx)).fuse();
    let quoted = format!("\"{}\"", channel.replace('"', "\"\""));
    let statement = format!("LISTEN {quoted}");
    let listening = client.batch_execute(&statement);
    tokio::pin!(listening);
    // The LISTEN is answered through the connection, so drive both until it is.
    loop {
        tokio::select! {
            done = &mut listening => { done?; break; }
            message = messages.next() => match message {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
        }
    }
    if !first && tx.send(Heard::Reconnected).await.is_err() {
        return Ok(());
    }
    while let Some(message) = messages.next().await {
        if let AsyncMessage::Notification(n) = message?
            && tx
                .send(Heard::Payload(n.payload().to_owned()))
                .await
                .is_err()
        {
            return Ok(());
        }
    }
    Ok(())
}

/// Creates an empty database `name` on the cluster `admin_url` (key–value form, e.g.
/// `host=/run/pg user=menpai dbname=postgres`) and gives its own address.
pub(super) fn create_database(admin_url: &str, name: &str) -> Result<String> {
    assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    // On a thread of its own: the caller may be inside a runtime already.
    std::thread::scope(|scope| {
        scope
            .spawn(|| create_on_own_runtime(admin_url, name))
            .join()
            .expect("creating a database does not panic")
    })?;
    Ok(format!("{admin_url} dbname={name}"))
}

fn create_on_own_runtime(admin_url: &str, name: &str) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StorageError::Pool(e.to_string()))?;
    runtime.block_on(async {
        let (client, connection) =
            tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await?;
        let driver = tokio::spawn(connection);
        client
            .batch_execute(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"
            ))
            .await?;
        drop(client);
        let _ = driver.await;
        Ok::<_, StorageError>(())
    })
}

/// A pooled connection inside a transaction: dropped from the pool, not returned to it, when
/// the transaction's code panics half way.
struct Held(Option<Object>);

impl Held {
    fn client(&self) -> &Object {
        self.0.as_ref().expect("held until released")
    }

    fn release(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(Object::take(conn));
        }
    }
}

/// An advisory lock held (see `hold_lock`).
pub(super) struct RegionLock(Option<Object>);

impl std::fmt::Debug for RegionLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegionLock")
    }
}

impl Drop for RegionLock {
    fn drop(&mut self) {
        // Out of the pool and closed: the session ends and the lock with it.
        if let Some(conn) = self.0.take() {
            drop(Object::take(conn));
        }
    }
}

/// One transaction's statements.
pub(super) struct Session<'a> {
    backend: &'a PostgresBackend,
    client: &'a Object,
}

impl Session<'_> {
    pub(super) fn run(&self, sql: &str, params: &[Value]) -> Result<usize> {
        self.backend.wait(run_on(self.client, sql, params))
    }

    pub(super) fn fetch(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.backend.wait(fetch_on(self.client, sql, params))
    }
}

fn is_conflict(e: &StorageError) -> bool {
    matches!(e, StorageError::Postgres(e)
        if e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
            || e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED))
}

/// What the server said (tokio-postgres' own text is only "db error").
pub(super) fn message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// Whether an error is a unique or primary key violation.
pub(super) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

async fn run_on(client: &Object, sql: &str, params: &[Value]) -> Result<usize> {
    let statement = client.prepare_cached(&numbered(sql)).await?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
    Ok(client.execute(&statement, &refs).await? as usize)
}

async fn fetch_on(client: &Object, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    let statement = client.prepare_cached(&numbered(sql)).await?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|v| v as _).collect();
    let rows = client.query(&statement, &refs).await?;
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.try_get::<_, Value>(i))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(Row)
                .map_err(StorageError::from)
        })
        .collect()
}

/// SQLite's placeholders (`?1`, or `?` counted from the left) as PostgreSQL's (`$1`); quoted
/// strings and names are left as they are.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut next = 0u32;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                out.push('$');
                if chars.peek().is_some_and(char::is_ascii_digit) {
                    while let Some(d) = chars.next_if(char::is_ascii_digit) {
                        out.push(d);
                    }
                } else {
                    next += 1;
                    out.push_str(&next.to_string());
                }
            }
            (None, c) => out.push(c),
        }
    }
    out
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) if *ty == Type::INT8 => n.to_sql(ty, out),
            Value::Int(n) if *ty == Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::BOOL => (*n != 0).to_sql(ty, out),
            Value::Int(n) if *ty == Type::FLOAT8 => (*n as f64).to_sql(ty, out),
            Value::Int(n) if is_text(ty) => n.to_string().to_sql(ty, out),
            Value::Real(x) if *ty == Type::FLOAT8 => x.to_sql(ty, out),
            Value::Real(x) if *ty == Type::FLOAT4 => (*x as f32).to_sql(ty, out),
            Value::Text(s) if is_text(ty) => s.as_str().to_sql(ty, out),
            Value::Blob(b) if *ty == Type::BYTEA => b.as_slice().to_sql(ty, out),
            other => Err(format!("cannot send {other:?} as {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn is_text(ty: &Type) -> bool {
    [
        Type::TEXT,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::NAME,
        Type::UNKNOWN,
    ]
    .contains(ty)
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Value, BoxError> {
        Ok(if *ty == Type::INT8 {
            Value::Int(i64::from_sql(ty, raw)?)
        } else if *ty == Type::INT4 {
            Value::Int(i32::from_sql(ty, raw)?.into())
        } else if *ty == Type::INT2 {
            Value::Int(i16::from_sql(ty, raw)?.into())
        } else if *ty == Type::BOOL {
            Value::Int(bool::from_sql(ty, raw)?.into())
        } else if *ty == Type::FLOAT8 {
            Value::Real(f64::from_sql(ty, raw)?)
        } else if *ty == Type::FLOAT4 {
            Value::Real(f32::from_sql(ty, raw)?.into())
        } else if *ty == Type::BYTEA {
            Value::Blob(raw.to_vec())
        } else if *ty == Type::NUMERIC {
            numeric(raw)?
        } else if <&str as FromSql>::accepts(ty) {
            Value::Text(<&str as FromSql>::from_sql(ty, raw)?.to_owned())
        } else {
            return Err(format!("cannot read a column of type {ty}").into());
        })
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Value, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A NUMERIC (what `SUM` and `AVG` of integers give): an integer when it has no fraction and
/// fits, a real otherwise.
fn numeric(raw: &[u8]) -> std::result::Result<Value, BoxError> {
    let word = |i: usize| -> std::result::Result<i16, BoxError> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "short NUMERIC".into())
    };
    let digits = word(0)? as usize;
    let weight = i32::from(word(1)?);
    let sign = word(2)? as u16;
    let scale = word(3)?;
    if sign == 0xC000 {
        return Ok(Value::Real(f64::NAN));
    }
    let mut int: Option<i64> = Some(0);
    let mut real = 0f64;
    for i in 0..digits {
        let d = i64::from(word(4 + i)?);
        let power = weight - i as i32;
        real += d as f64 * 10_000f64.powi(power);
        int = match (int, power) {
            (Some(acc), p) if p >= 0 => 10_000i64
                .checked_pow(p as u32)
                .and_then(|m| d.checked_mul(m))
                .and_then(|v| acc.checked_add(v)),
            (acc, _) if d == 0 => acc,
            _ => None,
        };
    }
    let negative = sign == 0x4000;
    Ok(match int {
        Some(n) if scale == 0 || real.fract() == 0.0 => Value::Int(if negative { -n } else { n }),
        _ => Value::Real(if negative { -real } else { real }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ?1 AND c = ?12 AND d = '?' AND \"e?\" = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $12 AND d = '?' AND \"e?\" = $1"
        );
    }

    #[test]
    fn numerics_read_as_integers_or_reals() {
        // 12345678 = 1234·10000 + 5678; −2.5 = −(2 + 5000/10000).
        let n = |words: &[i16]| -> Vec<u8> { words.iter().flat_map(|w| w.to_be_bytes()).collect() };
        assert_eq!(
            numeric(&n(&[2, 1, 0, 0, 1234, 5678])).unwrap(),
            Value::Int(12_345_678)
        );
        assert_eq!(
            numeric(&n(&[2, 0, 0x4000, 1, 2, 5000])).unwrap(),
            Value::Real(-2.5)
        );
        assert_eq!(numeric(&n(&[0, 0, 0, 0])).unwrap(), Value::Int(0));
    }
}
