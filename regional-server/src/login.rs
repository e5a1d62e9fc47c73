//! Logging in without letting anyone guess: failures are counted per address and per account
//! (at the limit, attempts are refused at once, unhashed, until the window passes), and
//! passwords are hashed on a small pool where suspect attempts share one worker, so a flood of
//! bad logins never holds up someone who has not failed.

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
use crate::ratelimit::{RateLimit, wait_words};
use crate::storage::Operator;

/// Failures are counted over this window, and a locked address or account waits it out.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Suspect attempts waiting for the hashing worker at most; more are refused, not queued.
const SUSPECTS_WAITING: usize = 32;
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
}

impl LoginGuard {
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

/// Logs in from `from`: the session token and the operator.
pub async fn log_in(
    server: &Arc<Server>,
    from: IpAddr,
    name: &str,
    password: &str,
) -> Result<(String, Operator), AppError> {
    let op = check(server, from, name, password).await?;
    let token = operators::open_session(server, &op)?;
    let _ = server
        .storage
        .audit(&op.name, "login", &from.to_string(), "ok");
    Ok((token, op))
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
    let address = from.to_string();
    let now = Instant::now();
    if let Err(wait) = g
        .by_address
        .check(&address, now)
        .and_then(|_| g.by_account.check(name, now))
    {
        return Err(locked(wait));
    }
    if name.chars().count() > MAX_NAME_CHARS || password.len() > MAX_PASSWORD_BYTES {
        failed(server, &address, name);
        return Err(wrong());
    }
    let suspect = g.by_address.count(&address, now) > 0 || g.by_account.count(name, now) > 0;
    let _lane = if suspect {
        if g.suspects_waiting.fetch_add(1, Ordering::SeqCst) >= SUSPECTS_WAITING {
            g.suspects_waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "登录的人太多，请稍后再试",
            ));
        }
        let permit = g.suspects.acquire().await;
        g.suspects_waiting.fetch_sub(1, Ordering::SeqCst);
        Some(permit.map_err(AppError::internal)?)
    } else {
        None
    };
    let _worker = g.workers.acquire().await.map_err(AppError::internal)?;
    let s = server.clone();
    let (n, p) = (name.to_owned(), password.to_owned());
    let checked = tokio::task::spawn_blocking(move || operators::check_password(&s, &n, &p))
        .await
        .map_err(AppError::internal)??;
    let Some(op) = checked else {
        failed(server, &address, name);
        return Err(wrong());
    };
    g.by_account.clear(name);
    Ok(op)
}

/// Counts a failure; audits it, and once more when it locks the address or the account.
fn failed(server: &Server, address: &str, name: &str) {
    let g = &server.login_guard;
    let now = Instant::now();
    let _ = server.storage.audit(name, "login", address, "refused");
    if g.by_address.record(address, now) == g.by_address.limit() as usize {
        tracing::warn!(%address, "Logins from an address were locked after repeated failures.");
        let _ = server.storage.audit(
            name,
            "login.locked",
            &format!("address {address}"),
            "locked",
        );
    }
    if g.by_account.record(name, now) == g.by_account.limit() as usize {
        tracing::warn!("Logins to an account were locked after repeated failures.");
        let _ = server
            .storage
            .audit(name, "login.locked", "account", "locked");
    }
}
