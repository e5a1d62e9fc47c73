//! Operator accounts: roles, hashed passwords, sessions, and the extractor admin routes use.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};

use crate::Server;
use crate::error::AppError;
use crate::storage::Operator;
pub use crate::storage::Role;
use crate::web::{cookie, cross_site, random_token};

pub const SESSION_COOKIE: &str = "menpai_session";

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The operator whose name and password these are (enabled), after hashing the same amount
/// whether or not the name exists, so timing does not tell. Blocking: run it off the runtime.
pub fn check_password(
    server: &Server,
    name: &str,
    password: &str,
) -> Result<Option<Operator>, AppError> {
    let op = server
        .storage
        .operator_by_name(name)
        .map_err(AppError::internal)?;
    let ok = match &op {
        Some(o) => verify_password(password, &o.password_hash),
        None => {
            let _ = verify_password(password, &server.dummy_hash);
            false
        }
    };
    Ok(op.filter(|o| ok && !o.disabled))
}

/// Opens a session for an operator who has just proved who they are; its token.
pub fn open_session(server: &Server, op: &Operator) -> Result<String, AppError> {
    open_login(server, op, false)
}

/// Opens a training login (培训登录) for an operator who has just proved who they are.
pub fn open_training_session(server: &Server, op: &Operator) -> Result<String, AppError> {
    open_login(server, op, true)
}

fn open_login(server: &Server, op: &Operator, training: bool) -> Result<String, AppError> {
    let token = random_token();
    let expires = chrono::Utc::now().timestamp() + server.config.session_hours as i64 * 3600;
    server
        .storage
        .create_session(&sha256_hex(&token), op.id, expires, training)
        .map_err(AppError::internal)?;
    Ok(token)
}

/// The session token of a request: the cookie, or a bearer header for API clients.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    if let Some(b) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(b.trim().to_owned());
    }
    cookie(headers, SESSION_COOKIE)
}

/// A logged-in operator. Handlers check the role with [`Session::require`].
#[derive(Debug, Clone)]
pub struct Session(pub Operator);

impl Session {
    /// The operator, when their role allows `role`; 403 otherwise, and while an admin-set
    /// password stands (pages that read the session themselves are held to it here).
    pub fn require(&self, role: Role) -> Result<&Operator, AppError> {
        if self.0.must_change_password {
            return Err(must_change());
        }
        // Practice never changes accounts, terminals or content.
        if self.0.training && matches!(role, Role::Admin | Role::ContentEditor) {
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                "培训登录不能做管理和内容操作，请退出后用正式登录",
            ));
        }
        if self.0.role.allows(role) {
            Ok(&self.0)
        } else {
            Err(AppError::new(
                StatusCode::FORBIDDEN,
                format!("需要“{}”角色", role.as_str()),
            ))
        }
    }
}

/// Work done in one hall, each open to some roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HallWork {
    /// Calling tickets at a window.
    Queue,
    /// Help calls from the plates.
    Help,
    /// 帮代办 and 上门取件 requests, and consultations.
    Requests,
    /// Cases opened by poor ratings.
    Cases,
}

impl HallWork {
    /// The role this work needs (an admin does everything).
    pub fn role(self) -> Role {
        match self {
            HallWork::Cases => Role::HallManager,
            _ => Role::QueueStaff,
        }
    }

    /// Its name in the audit log.
    pub fn key(self) -> &'static str {
        match self {
            HallWork::Queue => "queue",
            HallWork::Help => "help",
            HallWork::Requests => "requests",
            HallWork::Cases => "cases",
        }
    }

    fn refusal(self) -> &'static str {
        match self {
            HallWork::Queue => "你没有这个大厅的叫号权限",
            HallWork::Help => "你没有这个大厅的呼叫处理权限",
            HallWork::Requests => "你没有这个大厅的帮办和咨询权限",
            HallWork::Cases => "你没有这个大厅的评价整改权限",
        }
    }
}

impl Session {
    /// The operator, when their role does `work` and they act in `hall`; otherwise 403, with
    /// the refusal in the audit log (404, not logged, for a hall the region does not have: a
    /// loop over made-up names cannot flood the log).
    pub fn in_hall(
        &self,
        server: &Server,
        work: HallWork,
        hall: &str,
    ) -> Result<&Operator, AppError> {
        let op = self.require(work.role())?;
        if !op.acts_in(hall) && server.halls.get(hall).is_none() {
            return Err(AppError::new(StatusCode::NOT_FOUND, "没有这个大厅"));
        }
        if !op.acts_in(hall) {
            let _ = server.storage.audit_in_hall(
                &op.name,
                &format!("{}.access", work.key()),
                hall,
                hall,
                "forbidden",
            );
            return Err(AppError::new(StatusCode::FORBIDDEN, work.refusal()));
        }
        Ok(op)
    }

    /// The halls whose `work` this operator sees: `None` for all (an admin).
    pub fn halls_for(&self, work: HallWork) -> Result<Option<&[String]>, AppError> {
        let op = self.require(work.role())?;
        Ok((op.role != Role::Admin).then_some(op.halls.as_slice()))
    }

    /// A training login (培训登录): it sees and handles training records only.
    pub fn training(&self) -> bool {
        self.0.training
    }

    /// The operator, when they may do `work` on a record of `hall` (`training`: made in
    /// training mode): [`Session::in_hall`], and a training login touches only training
    /// records (403, audited).
    pub fn on_record(
        &self,
        server: &Server,
        work: HallWork,
        hall: &str,
        training: bool,
    ) -> Result<&Operator, AppError> {
        let op = self.in_hall(server, work, hall)?;
        if op.training && !training {
            let _ = server.storage.audit_in_hall(
                &op.name,
                &format!("{}.access", work.key()),
                hall,
                "training login, real record",
                "forbidden",
            );
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                "培训登录只能处理培训记录，不能处理群众的真实记录",
            ));
        }
        Ok(op)
    }

    /// The operator, when they may call real tickets at `hall`'s windows: never in a
    /// training login (403, audited).
    pub fn calls_tickets(&self, server: &Server, hall: &str) -> Result<&Operator, AppError> {
        let op = self.in_hall(server, HallWork::Queue, hall)?;
        if op.training {
            let _ = server.storage.audit_in_hall(
                &op.name,
                "queue.access",
                hall,
                "training login",
                "forbidden",
            );
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                "培训登录不能叫真实号码，请退出后用正式登录",
            ));
        }
        Ok(op)
    }
}

/// The page an operator starts at after logging in: the password change when an admin set
/// the password, the window for window staff, the fleet for everyone else.
pub fn landing(op: &Operator) -> &'static str {
    if op.must_change_password {
        CHANGE_PASSWORD_PAGE
    } else if op.role == Role::QueueStaff {
        "/staff"
    } else {
        "/fleet"
    }
}

/// A hall's Chinese name from the published content; its id when it has none.
pub fn hall_name(server: &Server, hall: &str) -> String {
    server
        .halls
        .get(hall)
        .map(|h| h.name.clone())
        .unwrap_or_else(|| hall.to_owned())
}

/// An operator's display name (李四) for a login name a record keeps; the login name of an
/// operator since removed.
pub fn display_name(server: &Server, login: &str) -> String {
    server
        .storage
        .operator_by_name(login)
        .ok()
        .flatten()
        .map(|o| o.display_name)
        .unwrap_or_else(|| login.to_owned())
}

/// Where an operator whose password was set by an admin must go before anything else.
pub const CHANGE_PASSWORD_PAGE: &str = "/account/password";

/// Paths an operator who must change their password may still use.
const WHILE_MUST_CHANGE: [&str; 3] = [CHANGE_PASSWORD_PAGE, "/api/v1/account/password", "/logout"];

fn must_change() -> AppError {
    AppError::new(
        StatusCode::FORBIDDEN,
        "管理员为你设置了临时密码，请先修改密码（/account/password）再继续",
    )
}

/// The session of a request, checked: a live one, of an enabled operator, who may use `path`
/// (only the password change while an admin-set password stands).
fn checked_session(server: &Server, headers: &HeaderMap, path: &str) -> Result<Session, AppError> {
    let token = session_token(headers)
        .ok_or_else(|| AppError::new(StatusCode::UNAUTHORIZED, "请先登录"))?;
    let op = server
        .storage
        .session(&sha256_hex(&token), chrono::Utc::now().timestamp())
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::UNAUTHORIZED, "登录已过期，请重新登录"))?;
    if op.must_change_password && !WHILE_MUST_CHANGE.contains(&path) {
        return Err(must_change());
    }
    Ok(Session(op))
}

/// Where a browser without a usable session goes instead of a console page.
#[derive(Debug)]
pub enum SendOn {
    /// No live session: the login page, then back to this page.
    Login(String),
    /// An admin-set password stands: the password change.
    ChangePassword,
    Error(AppError),
}

impl IntoResponse for SendOn {
    fn into_response(self) -> Response {
        match self {
            SendOn::Login(page) => {
                let next = menpai_model::percent_encode(&page);
                Redirect::to(&format!("/login?next={next}")).into_response()
            }
            SendOn::ChangePassword => Redirect::to(CHANGE_PASSWORD_PAGE).into_response(),
            SendOn::Error(e) => e.into_response(),
        }
    }
}

/// The operator of a browser opening a console page at `path`; else where the browser goes.
pub fn page_session(server: &Server, headers: &HeaderMap, path: &str) -> Result<Session, SendOn> {
    checked_session(server, headers, path).map_err(|e| match e.status {
        StatusCode::UNAUTHORIZED => SendOn::Login(path.to_owned()),
        StatusCode::FORBIDDEN => SendOn::ChangePassword,
        _ => SendOn::Error(e),
    })
}

impl FromRequestParts<Arc<Server>> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, server: &Arc<Server>) -> Result<Self, AppError> {
        // Cookies ride along on cross-site posts: state changes must come from our own pages.
        if parts.method != Method::GET && parts.method != Method::HEAD && cross_site(&parts.headers)
        {
            return Err(AppError::new(StatusCode::FORBIDDEN, "拒绝跨站请求"));
        }
        checked_session(server, &parts.headers, parts.uri.path())
    }
}

/// A console page's operator: a browser without a usable session is sent on (see
/// [`page_session`]) instead of being answered with an error.
#[derive(Debug, Clone)]
pub struct PageSession(pub Session);

impl FromRequestParts<Arc<Server>> for PageSession {
    type Rejection = SendOn;

    async fn from_request_parts(parts: &mut Parts, server: &Arc<Server>) -> Result<Self, SendOn> {
        if parts.method != Method::GET && parts.method != Method::HEAD && cross_site(&parts.headers)
        {
            return Err(SendOn::Error(AppError::new(
                StatusCode::FORBIDDEN,
                "拒绝跨站请求",
            )));
        }
        page_session(server, &parts.headers, parts.uri.path()).map(PageSession)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_roles_nest() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(Role::Admin.allows(Role::ContentEditor));
        assert!(Role::ContentEditor.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::ContentEditor));
        assert!(!Role::QueueStaff.allows(Role::Admin));
    }
}
