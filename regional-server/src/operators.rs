//! Operator accounts: roles, hashed passwords, sessions, and the extractor admin routes use.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
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
    let token = random_token();
    let expires = chrono::Utc::now().timestamp() + server.config.session_hours as i64 * 3600;
    server
        .storage
        .create_session(&sha256_hex(&token), op.id, expires)
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
    pub fn require(&self, role: Role) -> Result<&Operator, AppError> {
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
    /// the refusal in the audit log.
    pub fn in_hall(
        &self,
        server: &Server,
        work: HallWork,
        hall: &str,
    ) -> Result<&Operator, AppError> {
        let op = self.require(work.role())?;
        if !op.acts_in(hall) {
            let _ = server.storage.audit(
                &op.name,
                &format!("{}.access", work.key()),
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
}

impl FromRequestParts<Arc<Server>> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, server: &Arc<Server>) -> Result<Self, AppError> {
        // Cookies ride along on cross-site posts: state changes must come from our own pages.
        if parts.method != Method::GET && parts.method != Method::HEAD && cross_site(&parts.headers)
        {
            return Err(AppError::new(StatusCode::FORBIDDEN, "拒绝跨站请求"));
        }
        let token = session_token(&parts.headers)
            .ok_or_else(|| AppError::new(StatusCode::UNAUTHORIZED, "请先登录"))?;
        let op = server
            .storage
            .session(&sha256_hex(&token), chrono::Utc::now().timestamp())
            .map_err(AppError::internal)?
            .ok_or_else(|| AppError::new(StatusCode::UNAUTHORIZED, "登录已过期，请重新登录"))?;
        Ok(Session(op))
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
