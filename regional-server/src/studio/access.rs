//! Who may do what in the studio: content editors (and admins) submit and take back their own
//! change sets; reviewers (and admins) approve, return and republish, never their own change.
//! Every refusal is audited under the action refused.

use axum::http::StatusCode;

use crate::Server;
use crate::error::AppError;
use crate::html::Section;
use crate::operators::Session;
use crate::storage::{ChangeSet, Operator, Role};

fn refuse(server: &Server, s: &Session, action: &str, detail: &str, e: AppError) -> AppError {
    let _ = server.storage.audit(&s.0.name, action, detail, "forbidden");
    e
}

/// The operator when they edit content (content editor or admin, not a training login).
pub fn editor<'a>(server: &Server, s: &'a Session, action: &str) -> Result<&'a Operator, AppError> {
    let checked = if s.0.role.allows(Role::ContentEditor) {
        // An admin-set password or a training login: its own message.
        s.require(Role::ContentEditor)
    } else {
        Err(AppError::new(
            StatusCode::FORBIDDEN,
            "只有内容编辑（或管理员）可以修改和提交内容",
        ))
    };
    checked.map_err(|e| refuse(server, s, action, "", e))
}

/// The operator when they review (reviewer or admin, not a training login).
pub fn reviewer<'a>(
    server: &Server,
    s: &'a Session,
    action: &str,
    detail: &str,
) -> Result<&'a Operator, AppError> {
    let checked = if !s.0.role.allows(Role::Reviewer) {
        Err(AppError::new(
            StatusCode::FORBIDDEN,
            "只有内容审核人员（或管理员）可以审核和发布内容",
        ))
    } else if s.0.training {
        Err(AppError::new(
            StatusCode::FORBIDDEN,
            "培训登录不能审核和发布内容，请退出后用正式登录",
        ))
    } else {
        s.require(Role::Reviewer)
    };
    checked.map_err(|e| refuse(server, s, action, detail, e))
}

/// The operator when they may read change sets and versions (editors, reviewers, admins).
pub fn reader<'a>(server: &Server, s: &'a Session) -> Result<&'a Operator, AppError> {
    s.require(Role::Viewer)?;
    if Section::Review.open_to(&s.0) {
        return Ok(&s.0);
    }
    Err(refuse(
        server,
        s,
        "studio.view",
        "",
        AppError::new(
            StatusCode::FORBIDDEN,
            "审核发布只对内容编辑、内容审核和管理员开放",
        ),
    ))
}

/// Refuses a reviewer's decision on their own change set (audited under `action`).
pub fn not_own(
    server: &Server,
    s: &Session,
    set: &ChangeSet,
    action: &str,
) -> Result<(), AppError> {
    if set.editor == s.0.name {
        return Err(refuse(
            server,
            s,
            action,
            &format!("#{} 自己提交的变更", set.id),
            AppError::new(
                StatusCode::FORBIDDEN,
                "不能审核自己提交的变更，请另一位审核人员审核",
            ),
        ));
    }
    Ok(())
}

/// Whether `op` may decide on `set` (for showing the form; the post checks again).
pub fn may_review(op: &Operator, set: &ChangeSet) -> bool {
    op.role.allows(Role::Reviewer)
        && !op.training
        && !op.must_change_password
        && op.name != set.editor
}

/// Whether `op` may take `set` back into their draft.
pub fn may_withdraw(op: &Operator, set: &ChangeSet) -> bool {
    op.name == set.editor
        && op.role.allows(Role::ContentEditor)
        && !op.training
        && matches!(
            set.state,
            crate::storage::ChangeState::Submitted
                | crate::storage::ChangeState::Returned
                | crate::storage::ChangeState::Failed
        )
}
