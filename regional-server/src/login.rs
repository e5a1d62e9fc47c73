//! Logging in without letting anyone guess: failures are counted per address and per account
//! (an address at the limit is refused at once, unhashed, until the window passes; an account
//! at the limit only for addresses that failed lately), and passwords are hashed on a small
//! pool where suspect attempts share one worker, so a flood of bad logins never holds up
//! someone who has not failed.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::sync::Semaphore;

use crate::Server;
use crate::config::Config;
use crate::error::AppError;
use crate::operators;
use crate::ratelimit::{RateLimit, address_key, wait_words};
use crate::storage::Operator;

/// Failures are counted over this window, and a locked address or account waits it out.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Attempts waiting for a hashing worker at most, suspect and clean; more are refused, not
/// queued.
const SUSPECTS_WAITING: usize = 32;
const CLEAN_WAITING: usize = 64;
/// Longest name and password looked at; longer ones are wrong without hashing.
const MAX_NAME_CHARS: usize = 64;
const MAX_PASSWORD_BYTES: usize = 256;

#[derive(Debug)]
pub struct LoginGuard {
    by_address: RateLimit,
    by_account: RateLimit,
    /// Hashes running at once, in all.
    workers: Semaphore,
    /// Hashes running at once for attempts from an address or for an account that failed lately.
    suspects: Semaphore,
    suspects_waiting: AtomicUsize,
    clean_waiting: AtomicUsize,
}

impl LoginGuard {
    /// Counts failures in the region's shared database (several replicas).
    pub fn share(&self, storage: &std::sync::Arc<dyn crate::storage::Storage>) {
        self.by_address.share(storage.clone(), "login.address");
        self.by_account.share(storage.clone(), "login.account");
    }

    pub fn new(c: &Config) -> LoginGuard {
        let workers = match c.password_hash_workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n as usize,
        }
        .max(2);
        LoginGuard {
            by_address: RateLimit::new(c.login_failures_per_address, WINDOW),
            by_account: RateLimit::new(c.login_failures_per_account, WINDOW),
            workers: Semaphore::new(workers),
            suspects: Semaphore::new(1),
            suspects_waiting: AtomicUsize::new(0),
            clean_waiting: AtomicUsize::new(0),
        }
    }
}

fn wrong() -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, "用户名或密码不对")
}

fn locked(wait: Duration) -> AppError {
    AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("登录失败次数太多，请 {} 后再试", wait_words(wait)),
    )
}

/// Logs in from `from` (`training`: a training login, 培训登录): the session token and the
/// operator.
pub async fn log_in(
    server: &Arc<Server>,
    from: IpAddr,
    name: &str,
    password: &str,
    training: bool,
) -> Result<(String, Operator), AppError> {
    let op = check(server, from, name, password).await?;
    let (token, action) = match training {
        false => (operators::open_session(server, &op)?, "login"),
        true => (
            operators::open_training_session(server, &op)?,
            "login.training",
        ),
    };
    let _ = server
        .storage
        .audit(&op.name, action, &from.to_string(), "ok");
    Ok((token, Operator { training, ..op }))
}

/// The enabled operator whose name and password these are, checked under the same throttles
/// as a login (a password change asks for the current one this way).
pub async fn check(
    server: &Arc<Server>,
    from: IpAddr,
    name: &str,
    password: &str,
) -> Result<Operator, AppError> {
    let g = &server.login_guard;
    let address = address_key(from);
    let account: String = name.chars().take(MAX_NAME_CHARS).collect();
    let now = Instant::now();
    let address_failed = g.by_address.count(&address, now) > 0;
    // A locked account refuses addresses that failed lately; from any other it is still
    // checked, in the slow lane: guessing it stops, its owner is not locked out.
    if let Err(wait) = g.by_account.check(&account, now)
        && address_failed
    {
        return Err(locked(wait));
    }
    let suspect = address_failed || g.by_account.count(&account, now) > 0;
    // Counted up front (checked and counted at once) and taken back on success, so a burst
    // cannot pass before its first failure is known.
    g.by_address.hit(&address, now).map_err(locked)?;
    charged(server, &address, &account, now);
    if name.chars().count() > MAX_NAME_CHARS || password.len() > MAX_PASSWORD_BYTES {
        let _ = server.storage.audit(name, "login", &address, "refused");
        return Err(wrong());
    }
    let (lane, cap) = if suspect {
        (&g.suspects_waiting, SUSPECTS_WAITING)
    } else {
        (&g.clean_waiting, CLEAN_WAITING)
    };
    let waiting = Waiting::enter(lane, cap).ok_or_else(|| {
        AppError::new(StatusCode::SERVICE_UNAVAILABLE, "登录的人太多，请稍后再试")
    })?;
    let _slow = match suspect {
        true => Some(g.suspects.acquire().await.map_err(AppError::internal)?),
        false => None,
    };
    let _worker = g.workers.acquire().await.map_err(AppError::internal)?;
    drop(waiting);
    let s = server.clone();
    let (n, p) = (name.to_owned(), password.to_owned());
    let checked = tokio::task::spawn_blocking(move || operators::check_password(&s, &n, &p))
        .await
        .map_err(AppError::internal)??;
    let Some(op) = checked else {
        let _ = server.storage.audit(name, "login", &address, "refused");
        return Err(wrong());
    };
    g.by_address.forget_one(&address);
    g.by_account.clear(&account);
    Ok(op)
}

/// Counts the attempt against the account too; audits once when the address or the account
/// reaches its limit.
fn charged(server: &Server, address: &str, account: &str, now: Instant) {
    let g = &server.login_guard;
    if g.by_address.count(address, now) == g.by_address.limit() as usize {
        tracing::warn!(%address, "Logins from an address were locked after repeated failures.");
        let _ = server.storage.audit(
            account,
            "login.locked",
            &format!("address {address}"),
            "locked",
        );
    }
    let limit = g.by_account.limit() as usize;
    let before = g.by_account.count(account, now);
    if g.by_account.record(account, now) == limit && before < limit {
        tracing::warn!("Logins to an account were slowed after repeated failures.");
        let _ = server
            .storage
            .audit(account, "login.locked", "account", "locked");
    }
}

/// A place in a lane's queue, given back however the wait ends (a client gone mid-wait too).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(lane: &'a AtomicUsize, cap: usize) -> Option<Waiting<'a>> {
        if lane.fetch_add(1, Ordering::SeqCst) >= cap {
            lane.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Waiting(lane))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
