//! What an admin does to an account (add, disable, re-enable, reset the password) and what an
//! operator does to their own (change the password): checked, stored in one step, audited,
//! and every session ended where the account changed.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::StatusCode;

use crate::Server;
use crate::error::AppError;
use crate::login;
use crate::operators::{self, Role, Session};
use crate::storage::Operator;
use crate::storage::operators::NewOperator;

/// Passwords have at least this many characters, and at most 256 bytes.
pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_BYTES: usize = 256;
const MAX_NAME_CHARS: usize = 32;
const MAX_DISPLAY_CHARS: usize = 32;
/// Halls one operator may be given at most.
pub(super) const MAX_HALLS: usize = 64;

/// An account an admin adds.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub name: String,
    pub display_name: String,
    /// As the form or the API gave it (`hall_manager`…).
    pub role: String,
    pub halls: Vec<String>,
    pub password: String,
}

/// The admin behind `s`; anyone else is refused (403), and the refusal audited.
pub(super) fn admin<'a>(
    server: &Server,
    s: &'a Session,
    action: &str,
) -> Result<&'a Operator, AppError> {
    s.require(Role::Admin).inspect_err(|_| {
        let _ = server.storage.audit(&s.0.name, action, "", "forbidden");
    })
}

fn password_ok(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::bad_request(format!(
            "密码要 {MIN_PASSWORD_CHARS} 个字符以上（256 字节以内）"
        )));
    }
    Ok(())
}

/// The account checked: a login name of letters, digits, `-`, `_`, `.`; a name of at most 32
/// characters; a known role; published halls, at least one for window staff and hall managers
/// (and none kept for the other roles); a long enough password.
fn checked(server: &Server, a: &NewAccount) -> Result<(Role, Vec<String>), AppError> {
    let name_ok = (2..=MAX_NAME_CHARS).contains(&a.name.chars().count())
        && a.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !name_ok {
        return Err(AppError::bad_request(
            "登录名要 2 到 32 个字符，只用字母、数字、-、_ 和 .",
        ));
    }
    let display = a.display_name.trim();
    if display.is_empty()
        || display.chars().count() > MAX_DISPLAY_CHARS
        || display.chars().any(char::is_control)
    {
        return Err(AppError::bad_request("请填写姓名（32 个字以内）"));
    }
    let role = Role::parse(&a.role).ok_or_else(|| AppError::bad_request("请选择角色"))?;
    if a.halls.len() > MAX_HALLS {
        return Err(AppError::bad_request("选的大厅太多"));
    }
    let mut halls = a.halls.clone();
    halls.sort();
    halls.dedup();
    if let Some(h) = halls.iter().find(|h| server.halls.get(h).is_none()) {
        return Err(AppError::bad_request(format!(
            "没有这个大厅：{}",
            h.chars().take(40).collect::<String>()
        )));
    }
    if role.is_hall_bound() && halls.is_empty() {
        return Err(AppError::bad_request(format!(
            "“{}”至少要选一个大厅",
            role.label()
        )));
    }
    if !role.takes_halls() {
        halls.clear();
    }
    password_ok(&a.password)?;
    Ok((role, halls))
}

/// Hashes off the runtime.
async fn hashed(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || operators::hash_password(&password))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// Adds an account whose password must be changed at its first login.
pub(super) async fn add(
    server: &Arc<Server>,
    by: &Operator,
    a: &NewAccount,
) -> Result<(), AppError> {
    let (role, halls) = checked(server, a).inspect_err(|e| {
        let detail = format!("{}: {}", a.name, e.message);
        let _ = server
            .storage
            .audit(&by.name, "operator.create", &detail, "refused");
    })?;
    let hash = hashed(a.password.clone()).await?;
    let added = server
        .storage
        .add_operator(&NewOperator {
            name: &a.name,
            display_name: a.display_name.trim(),
            role,
            password_hash: &hash,
            halls: &halls,
            must_change_password: true,
        })
        .map_err(AppError::internal)?;
    let detail = format!("{} {} {}", a.name, role.as_str(), halls.join(","));
    if !added {
        let _ = server
            .storage
            .audit(&by.name, "operator.create", &detail, "exists");
        return Err(AppError::new(
            StatusCode::CONFLICT,
            format!("已有登录名 {}", a.name),
        ));
    }
    let _ = server
        .storage
        .audit(&by.name, "operator.create", &detail, "ok");
    Ok(())
}

/// The account called `name`, or 404 (audited under `action`).
fn existing(
    server: &Server,
    by: &Operator,
    name: &str,
    action: &str,
) -> Result<Operator, AppError> {
    server
        .storage
        .operator_by_name(name)
        .map_err(AppError::internal)?
        .ok_or_else(|| {
            let _ = server.storage.audit(&by.name, action, name, "not found");
            AppError::new(StatusCode::NOT_FOUND, "没有这个操作员")
        })
}

/// Disables an account: its sessions end and its open live streams close at once.
pub(super) fn disable(server: &Server, by: &Operator, name: &str) -> Result<(), AppError> {
    let target = existing(server, by, name, "operator.disable")?;
    if target.id == by.id {
        let _ = server
            .storage
            .audit(&by.name, "operator.disable", name, "refused");
        return Err(AppError::bad_request("不能停用自己的账号"));
    }
    let at = server
        .clock
        .utc_now()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    server
        .storage
        .disable_operator(name, &at)
        .map_err(AppError::internal)?;
    server.live.end_operator(target.id);
    crate::bus::tell(
        server,
        crate::bus::Signal::OperatorEnded {
            operator: target.id,
        },
    );
    let _ = server
        .storage
        .audit(&by.name, "operator.disable", name, "ok");
    Ok(())
}

/// Enables a disabled account again (it logs in with the password it had).
pub(super) fn enable(server: &Server, by: &Operator, name: &str) -> Result<(), AppError> {
    existing(server, by, name, "operator.enable")?;
    server
        .storage
        .enable_operator(name)
        .map_err(AppError::internal)?;
    let _ = server
        .storage
        .audit(&by.name, "operator.enable", name, "ok");
    Ok(())
}

/// Sets a password the operator must change at their next login; their sessions end.
pub(super) async fn reset(
    server: &Arc<Server>,
    by: &Operator,
    name: &str,
    password: &str,
) -> Result<(), AppError> {
    let target = existing(server, by, name, "operator.reset_password")?;
    password_ok(password)?;
    let hash = hashed(password.to_owned()).await?;
    server
        .storage
        .reset_password(name, &hash)
        .map_err(AppError::internal)?;
    server.live.end_operator(target.id);
    crate::bus::tell(
        server,
        crate::bus::Signal::OperatorEnded {
            operator: target.id,
        },
    );
    let _ = server
        .storage
        .audit(&by.name, "operator.reset_password", name, "ok");
    Ok(())
}

/// An operator changes their own password (the current one checked like a login); every
/// session of theirs ends. The new one differs from the current one.
pub(super) async fn change_own(
    server: &Arc<Server>,
    from: IpAddr,
    op: &Operator,
    current: &str,
    new: &str,
) -> Result<Operator, AppError> {
    password_ok(new).map_err(|_| {
        AppError::bad_request(format!(
            "新密码要 {MIN_PASSWORD_CHARS} 个字符以上（256 字节以内）"
        ))
    })?;
    if new == current {
        return Err(AppError::bad_request("新密码不能和原密码相同"));
    }
    let checked = login::check(server, from, &op.name, current)
        .await
        .map_err(|e| match e.status {
            StatusCode::UNAUTHORIZED => AppError::new(StatusCode::FORBIDDEN, "原密码不对"),
            _ => e,
        })?;
    let hash = hashed(new.to_owned()).await?;
    server
        .storage
        .set_password(&op.name, &hash)
        .map_err(AppError::internal)?;
    server.live.end_operator(op.id);
    crate::bus::tell(
        server,
        crate::bus::Signal::OperatorEnded { operator: op.id },
    );
    let _ = server
        .storage
        .audit(&op.name, "operator.password", &op.name, "ok");
    Ok(Operator {
        password_hash: hash,
        must_change_password: false,
        ..checked
    })
}
