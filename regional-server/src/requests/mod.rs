//! Citizens' requests — 帮代办, 上门取件 — and consultations (在线咨询): taken from the plates
//! and the phone pages, worked from a queue by the hall's staff, followed at a private link.
//!
//! This file holds the rules (what a request may say, how it moves); `public.rs` the citizens'
//! pages, `console.rs` the staff's work queue, `api.rs` the JSON and terminals' routes.

mod api;
mod console;
mod public;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use menpai_model::assist::{
    Author, MAX_ITEM_CHARS, MAX_NAME_CHARS, MAX_REPLY_CHARS, MAX_TEXT_CHARS, RequestKind,
    RequestState, TIMES, valid_phone,
};
use menpai_model::queue::{mask_name, mask_phone};
use serde::Serialize;

use crate::Server;
use crate::clock::stamp;
use crate::error::AppError;
use crate::live::Topic;
use crate::operators::{HallWork, Session, sha256_hex};
use crate::storage::Operator;
use crate::storage::requests::{NewRequest, RequestMessage, RequestMove, StoredRequest};
use crate::web::random_token;

/// A request `s` may work on: of a hall they work in and, for a training login, made in
/// training; else 403 (audited) or 404.
fn load(server: &Server, s: &Session, id: &str) -> Result<StoredRequest, AppError> {
    let r = server
        .storage
        .request(id)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这条请求"))?;
    s.on_record(server, HallWork::Requests, &r.hall, r.training)?;
    Ok(r)
}

/// Operators' work queue and API.
pub fn routes() -> Router<Arc<Server>> {
    console::routes().merge(api::routes())
}

/// Citizens' forms and private links (phone pages).
pub fn public_routes() -> Router<Arc<Server>> {
    public::routes()
}

/// What terminals call over mutual TLS.
pub fn device_routes() -> Router<Arc<Server>> {
    api::device_routes()
}

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Kiosk,
    Phone,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Kiosk => "kiosk",
            Channel::Phone => "phone",
        }
    }
}

/// A request as a citizen filled it in, not yet checked.
#[derive(Debug, Clone)]
pub struct Submission {
    pub kind: RequestKind,
    pub hall: String,
    pub item: Option<String>,
    /// What help is needed, or the question.
    pub text: String,
    pub name: String,
    pub phone: String,
    pub time: String,
    pub channel: Channel,
    pub device: Option<String>,
    /// Made at a terminal in training mode: marked, never called back.
    pub training: bool,
}

/// A stored request: its id and the private link's token (given once, kept only as a hash).
#[derive(Debug, Clone)]
pub struct Submitted {
    pub id: String,
    pub token: String,
    pub phone_masked: String,
}

fn bad(message: impl Into<String>) -> AppError {
    AppError::bad_request(message)
}

/// Text without control characters other than line breaks, trimmed, at most `max` characters.
fn clean(text: &str, max: usize, what: &str) -> Result<String, AppError> {
    let t = text.trim();
    if t.chars().count() > max {
        return Err(bad(format!("{what}最多 {max} 个字")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(bad(format!("{what}含有不能识别的字符")));
    }
    Ok(t.replace("\r\n", "\n"))
}

/// Checks a submission and stores it in one transaction; tells the hall's open pages.
pub fn submit(server: &Server, s: &Submission) -> Result<Submitted, AppError> {
    let hall = server
        .halls
        .get(&s.hall)
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这个服务大厅"))?;
    let item = s.item.as_deref().map(str::trim).filter(|i| !i.is_empty());
    let (item, item_name) = match item {
        Some(i) if i.chars().count() > MAX_ITEM_CHARS => return Err(bad("事项编号太长")),
        Some(i) => match hall.items.get(i) {
            Some((name, _)) => (Some(i.to_owned()), name.clone()),
            None => return Err(bad("这个大厅不办理这个事项")),
        },
        None => (None, String::new()),
    };
    let what = if s.kind == RequestKind::Consult {
        "问题"
    } else {
        "需要的帮助"
    };
    let text = clean(&s.text, MAX_TEXT_CHARS, what)?;
    if text.is_empty() {
        return Err(bad(format!("请写下{what}")));
    }
    let name = clean(&s.name, MAX_NAME_CHARS, "姓名")?.replace('\n', " ");
    let phone: String = s.phone.chars().filter(|c| !c.is_whitespace()).collect();
    if phone.is_empty() && s.kind != RequestKind::Consult {
        return Err(bad("请填写手机号，工作人员会打电话联系您"));
    }
    if !phone.is_empty() && !valid_phone(&phone) {
        return Err(bad("手机号应为 11 位数字，以 1 开头"));
    }
    let time = s.time.trim();
    if s.kind == RequestKind::Consult || time.is_empty() {
        // A consultation is answered in writing; no time to choose.
    } else if !TIMES.contains(&time) {
        return Err(bad("请从给出的时间里选一个"));
    }
    let time = if s.kind == RequestKind::Consult {
        ""
    } else {
        time
    };
    let token = random_token();
    let id = format!("rq-{}", &random_token()[..16]);
    let seal = |v: &str| (!v.is_empty()).then(|| server.sealer.seal(v));
    let phone_masked = mask_phone(&phone);
    server
        .storage
        .add_request(&NewRequest {
            id: id.clone(),
            token_hash: sha256_hex(&token),
            kind: s.kind,
            hall: hall.id.clone(),
            item,
            item_name,
            channel: s.channel.as_str().to_owned(),
            device: s.device.clone(),
            training: s.training,
            name_enc: seal(&name),
            phone_enc: seal(&phone),
            name_masked: mask_name(&name),
            phone_masked: phone_masked.clone(),
            preferred_time: time.to_owned(),
            text,
            at: stamp(server.clock.local_now()),
        })
        .map_err(AppError::internal)?;
    tracing::info!(request = %id, hall = %hall.id, kind = s.kind.as_str(), "A citizen's request came.");
    crate::bus::note(server, &hall.id, Topic::Request, id.clone());
    Ok(Submitted {
        id,
        token,
        phone_masked,
    })
}

/// The private link of a token.
pub fn link(server: &Server, token: &str) -> String {
    let base = server.public_url.get().map(String::as_str).unwrap_or("");
    format!("{base}/r/{token}")
}

/// A request found by its private link's token; `None` for a token of the wrong shape.
pub fn by_token(server: &Server, token: &str) -> Result<Option<StoredRequest>, AppError> {
    if token.len() != 48 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    server
        .storage
        .request_by_token(&sha256_hex(token))
        .map_err(AppError::internal)
}

/// What a member of staff does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// Takes it (帮代办 / 上门取件).
    Take,
    /// Records the call back, with a note the citizen reads.
    CalledBack(String),
    /// Answers a consultation.
    Answer(String),
    /// Closes it with its outcome.
    Close(String),
}

impl Act {
    /// From a form's or a body's `action` and `text`.
    pub fn parse(action: &str, text: &str) -> Result<Act, AppError> {
        Ok(match action {
            "take" => Act::Take,
            "called_back" => Act::CalledBack(text.to_owned()),
            "answer" => Act::Answer(text.to_owned()),
            "close" => Act::Close(text.to_owned()),
            other => {
                return Err(bad(format!(
                    "未知操作：{}",
                    other.chars().take(20).collect::<String>()
                )));
            }
        })
    }

    fn key(&self) -> &'static str {
        match self {
            Act::Take => "take",
            Act::CalledBack(_) => "called_back",
            Act::Answer(_) => "answer",
            Act::Close(_) => "close",
        }
    }
}

fn conflict(r: &StoredRequest, what: &str) -> AppError {
    AppError::new(
        StatusCode::CONFLICT,
        format!(
            "这条{}现在是“{}”，不能{what}",
            r.kind.label(),
            r.state.label()
        ),
    )
}

/// Moves a request as `op` asked, in one transaction; audited; tells the hall's open pages.
pub fn act(server: &Server, r: &StoredRequest, op: &Operator, act: &Act) -> Result<(), AppError> {
    use RequestState::*;
    let consult = r.kind == RequestKind::Consult;
    let text = match act {
        Act::Take => String::new(),
        Act::CalledBack(t) | Act::Answer(t) | Act::Close(t) => {
            let t = clean(t, MAX_REPLY_CHARS, "内容")?;
            if t.is_empty() {
                return Err(bad(match act {
                    Act::CalledBack(_) => "请写下回电的情况",
                    Act::Answer(_) => "请写下答复",
                    _ => "请写下办理结果",
                }));
            }
            t
        }
    };
    let at = stamp(server.clock.local_now());
    let by = op.display_name.as_str();
    let (from, to, what): (&[RequestState], RequestState, &str) = match act {
        Act::Take if !consult => (&[New], Taken, "受理"),
        Act::CalledBack(_) if !consult => (&[Taken, CalledBack], CalledBack, "登记回电"),
        Act::Answer(_) if consult => (&[New, Answered], Answered, "答复"),
        Act::Close(_) if consult => (&[Answered], Closed, "办结"),
        Act::Close(_) => (&[Taken, CalledBack], Closed, "办结"),
        _ => return Err(bad(format!("{}没有这个操作", r.kind.label()))),
    };
    let m = RequestMove {
        id: &r.id,
        from,
        to,
        taken_by: matches!(act, Act::Take).then_some(op.name.as_str()),
        outcome: matches!(act, Act::Close(_)).then_some(text.as_str()),
        message: match act {
            Act::CalledBack(_) | Act::Answer(_) => Some((Author::Staff, by, text.as_str())),
            _ => None,
        },
        at: &at,
    };
    let moved = server
        .storage
        .move_request(&m)
        .map_err(AppError::internal)?;
    let action = format!("requests.{}", act.key());
    if !moved {
        let _ = server
            .storage
            .audit_in_hall(&op.name, &action, &r.hall, &r.id, "refused");
        return Err(conflict(r, what));
    }
    let _ = server
        .storage
        .audit_in_hall(&op.name, &action, &r.hall, &r.id, "ok");
    crate::bus::note(server, &r.hall, Topic::Request, r.id.clone());
    Ok(())
}

/// The phone number, unsealed for the member of staff who took the request (audited).
pub fn reveal_phone(server: &Server, r: &StoredRequest, op: &Operator) -> Result<String, AppError> {
    if r.training {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "培训模式的请求不回电，不显示电话",
        ));
    }
    let allowed = matches!(r.state, RequestState::Taken | RequestState::CalledBack)
        && r.taken_by.as_deref() == Some(op.name.as_str());
    if !allowed {
        let _ = server.storage.audit_in_hall(
            &op.name,
            "requests.phone_shown",
            &r.hall,
            &r.id,
            "forbidden",
        );
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "只有受理这条请求的工作人员在回电时可以查看电话",
        ));
    }
    let phone = r
        .phone_enc
        .as_ref()
        .and_then(|p| server.sealer.open(p))
        .ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "这条请求没有留电话"))?;
    let _ = server
        .storage
        .audit_in_hall(&op.name, "requests.phone_shown", &r.hall, &r.id, "ok");
    Ok(phone)
}

/// A request as pages and the API show it: personal data masked.
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub id: String,
    pub kind: RequestKind,
    pub kind_label: &'static str,
    pub hall: String,
    pub hall_name: String,
    pub item: Option<String>,
    pub item_name: String,
    pub channel: String,
    pub name: String,
    pub phone: String,
    pub preferred_time: String,
    pub state: RequestState,
    pub state_label: &'static str,
    pub taken_by: Option<String>,
    pub outcome: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Made at a terminal in training mode: not real, never called back.
    pub training: bool,
    /// The first thing the citizen wrote (a list's summary).
    pub text: String,
    pub messages: Vec<MessageView>,
}

/// One message of the thread.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub author: Author,
    pub by: String,
    pub body: String,
    pub at: String,
}

/// The view of `r`; with its whole thread when `thread`, else its first message only.
pub fn view(server: &Server, r: &StoredRequest, thread: bool) -> Result<RequestView, AppError> {
    let messages: Vec<RequestMessage> = server
        .storage
        .request_messages(&r.id)
        .map_err(AppError::internal)?;
    let text = messages.first().map(|m| m.body.clone()).unwrap_or_default();
    let hall_name = server
        .halls
        .get(&r.hall)
        .map(|h| h.name.clone())
        .unwrap_or_else(|| r.hall.clone());
    Ok(RequestView {
        id: r.id.clone(),
        kind: r.kind,
        kind_label: r.kind.label(),
        hall: r.hall.clone(),
        hall_name,
        item: r.item.clone(),
        item_name: r.item_name.clone(),
        channel: r.channel.clone(),
        name: r.name_masked.clone(),
        phone: r.phone_masked.clone(),
        preferred_time: r.preferred_time.clone(),
        state: r.state,
        state_label: r.state.label(),
        taken_by: r.taken_by.clone(),
        outcome: r.outcome.clone(),
        created_at: r.created_at.clone(),
        updated_at: r.updated_at.clone(),
        training: r.training,
        text,
        messages: if thread {
            messages
                .into_iter()
                .map(|m| MessageView {
                    author: m.author,
                    by: m.by,
                    body: m.body,
                    at: m.at,
                })
                .collect()
        } else {
            Vec::new()
        },
    })
}

/// The hall's service phone, from the published content.
pub fn hall_phone(server: &Server, hall: &str) -> Option<String> {
    let c = server.phone.current()?;
    c.pack
        .outlets
        .iter()
        .find(|o| o.id == hall)
        .map(|o| o.phone.clone())
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_bounded_and_plain() {
        assert_eq!(clean("  你好\r\n谢谢 ", 10, "问题").unwrap(), "你好\n谢谢");
        assert!(clean(&"字".repeat(11), 10, "问题").is_err());
        assert!(clean("a\u{7}b", 10, "问题").is_err());
        assert_eq!(Act::parse("close", "好").unwrap(), Act::Close("好".into()));
        assert!(Act::parse("burn", "").is_err());
    }
}
