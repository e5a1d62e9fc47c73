//! Changes to the editor's draft: a record checked as typed, saved (refused with its problems
//! when it breaks a rule: nothing is kept), deleted, or an edit taken back (撤销此项). Every
//! change and every refusal is audited as `studio.edit`, detail `item P43`.

use std::sync::Arc;
use std::time::Instant;

use axum::Form;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use menpai_model::bundle::sha256_hex;
use serde::Deserialize;
use serde_json::{Value, json};

use super::kind::Kind;
use super::validate::{Problem, check as check_record, key_problem};
use super::{MAX_RECORD_BYTES, blocking, detail, editor_of};
use crate::Server;
use crate::error::{AppError, Upload};
use crate::operators::Session;
use crate::ratelimit::wait_words;
use crate::studio::{draft_pack, published, record_sha, save_record};
use crate::web::check_form;

/// Holds back an editor checking or saving more often than [`super::CHECKS_PER_MINUTE`].
fn paced(server: &Server, editor: &str) -> Result<(), AppError> {
    server
        .studio_checks
        .hit(editor, Instant::now())
        .map_err(|wait| {
            AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("检查太频繁，请 {} 后再试", wait_words(wait)),
            )
        })
}

fn kind_of(raw: &str) -> Result<Kind, AppError> {
    Kind::parse(raw).ok_or_else(|| AppError::new(StatusCode::NOT_FOUND, "没有这类内容"))
}

/// A record body from the request: bounded, JSON.
fn record_body(body: &[u8]) -> Result<Vec<u8>, AppError> {
    if body.len() > MAX_RECORD_BYTES {
        return Err(AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "请求体太大"));
    }
    Ok(body.to_vec())
}

/// `?new=1`: the record is being created (its key must not be taken).
#[derive(Debug, Deserialize)]
pub(super) struct Creating {
    #[serde(default)]
    new: Option<u8>,
}

impl Creating {
    fn is_new(&self) -> bool {
        self.new == Some(1)
    }
}

/// `POST /api/v1/studio/check/{kind}`: the problems of the record as typed (the body), each
/// with its field path: `{"problems": [{"field", "message", "record"?}]}`.
pub(super) async fn check(
    State(server): State<Arc<Server>>,
    s: Session,
    Path(kind): Path<String>,
    Query(creating): Query<Creating>,
    headers: HeaderMap,
    Upload(body): Upload,
) -> Result<Json<Value>, AppError> {
    let op = editor_of(&server, &s, "studio.edit", &detail("check", &kind))?;
    crate::web::check_json_change(&headers)?;
    paced(&server, &op.name)?;
    let kind = kind_of(&kind)?;
    let body = record_body(&body)?;
    let key = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    let problems = blocking(move || {
        let draft = draft_pack(&server, &op.name)?;
        Ok(check_record(
            &draft,
            kind,
            &key,
            Some(&body),
            creating.is_new(),
        ))
    })
    .await?;
    Ok(Json(json!({ "problems": problems })))
}

/// `PUT /api/v1/studio/draft/{kind}/{key}`: keeps the record in the editor's draft when it
/// passes every rule; otherwise 422 with the problems, and nothing is kept.
pub(super) async fn save(
    State(server): State<Arc<Server>>,
    s: Session,
    Path((kind, key)): Path<(String, String)>,
    Query(creating): Query<Creating>,
    headers: HeaderMap,
    Upload(body): Upload,
) -> Result<Json<Value>, AppError> {
    let detail = detail(&kind, &key);
    let op = editor_of(&server, &s, "studio.edit", &detail)?;
    let refused = |server: &Server, e: AppError| {
        let _ = server
            .storage
            .audit(&op.name, "studio.edit", &detail, "refused");
        e
    };
    if let Err(e) = crate::web::check_json_change(&headers).and_then(|()| paced(&server, &op.name))
    {
        return Err(refused(&server, e));
    }
    let kind = kind_of(&kind)?;
    let body = record_body(&body).map_err(|e| refused(&server, e))?;
    let body = kind.canonical(&body).unwrap_or(body);
    let s2 = server.clone();
    let (name, key2) = (op.name.clone(), key.clone());
    let problems: Vec<Problem> = blocking(move || {
        let draft = draft_pack(&s2, &name)?;
        let mut problems = check_record(&draft, kind, &key2, Some(&body), creating.is_new());
        if problems.is_empty() {
            // The files it names must be uploads that are what it says they are.
            let mut alone = menpai_model::ContentPack::default();
            let _ =
                menpai_model::bundle::apply_record(&mut alone, kind.as_str(), &key2, Some(&body));
            let known = crate::studio::files::refs::known(&published(&s2)?.pack);
            if let Err(message) =
                crate::studio::files::refs::check_new(&s2, &known, alone.file_refs())
            {
                problems.push(Problem {
                    field: String::new(),
                    message,
                    record: None,
                });
            }
        }
        if problems.is_empty() {
            // Saved back as published: nothing left to review for this record.
            let published = record_sha(&published(&s2)?.pack, kind.as_str(), &key2);
            if published.as_deref() == Some(sha256_hex(&body).as_str()) {
                s2.storage
                    .drop_draft(&name, kind.as_str(), &key2)
                    .map_err(AppError::internal)?;
            } else {
                save_record(&s2, &name, kind.as_str(), &key2, Some(body))?;
            }
        }
        Ok(problems)
    })
    .await
    .map_err(|e| refused(&server, e))?;
    if !problems.is_empty() {
        let first = &problems[0];
        return Err(refused(
            &server,
            AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "有 {} 处问题，没有保存（{}：{}）",
                    problems.len(),
                    first.field,
                    first.message
                ),
            )
            .with_details(json!({ "problems": problems })),
        ));
    }
    let _ = server
        .storage
        .audit(&op.name, "studio.edit", &detail, "saved");
    Ok(Json(json!({ "saved": detail })))
}

/// The anti-forgery field of a page's form.
#[derive(Debug, Deserialize)]
pub(super) struct Token {
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /studio/draft/{kind}/{key}/delete`: the record removed in the editor's draft, when
/// nothing else still needs it (else the page says what).
pub(super) async fn delete(
    State(server): State<Arc<Server>>,
    s: Session,
    Path((kind, key)): Path<(String, String)>,
    headers: HeaderMap,
    Form(f): Form<Token>,
) -> Response {
    let detail = detail(&kind, &key);
    let op = match editor_of(&server, &s, "studio.edit", &detail) {
        Ok(op) => op,
        Err(e) => return super::refused(&s.0, e),
    };
    let done = async {
        check_form(&headers, f.csrf.as_ref())?;
        let kind = kind_of(&kind)?;
        let (s2, name, key2) = (server.clone(), op.name.clone(), key.clone());
        blocking(move || {
            let draft = draft_pack(&s2, &name)?;
            if kind.record(&draft, &key2).is_none() {
                return Err(AppError::new(StatusCode::NOT_FOUND, "草稿里没有这条记录"));
            }
            let problems = check_record(&draft, kind, &key2, None, false);
            if let Some(p) = problems.first() {
                let at = p.record.clone().unwrap_or_default();
                return Err(AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "不能删除：{at} 的 {} {}",
                        p.field,
                        super::validate::plain(&p.message)
                    ),
                ));
            }
            // A record only the draft has is simply forgotten.
            if record_sha(&published(&s2)?.pack, kind.as_str(), &key2).is_none() {
                return s2
                    .storage
                    .drop_draft(&name, kind.as_str(), &key2)
                    .map_err(AppError::internal);
            }
            save_record(&s2, &name, kind.as_str(), &key2, None)
        })
        .await
    }
    .await;
    match done {
        Ok(()) => {
            let _ = server
                .storage
                .audit(&op.name, "studio.edit", &detail, "deleted");
            Redirect::to("/studio").into_response()
        }
        Err(e) => {
            let _ = server
                .storage
                .audit(&op.name, "studio.edit", &detail, "refused");
            super::refused(&op, e)
        }
    }
}

/// `POST /studio/draft/{kind}/{key}/revert` (撤销此项): the draft's change to one record taken
/// back; the published record stands again.
pub(super) async fn revert(
    State(server): State<Arc<Server>>,
    s: Session,
    Path((kind, key)): Path<(String, String)>,
    headers: HeaderMap,
    Form(f): Form<Token>,
) -> Response {
    let detail = detail(&kind, &key);
    let op = match editor_of(&server, &s, "studio.edit", &detail) {
        Ok(op) => op,
        Err(e) => return super::refused(&s.0, e),
    };
    if let Err(e) = check_form(&headers, f.csrf.as_ref()) {
        let _ = server
            .storage
            .audit(&op.name, "studio.edit", &detail, "refused");
        return super::refused(&op, e);
    }
    if key_problem(&key).is_some() || Kind::parse(&kind).is_none() {
        return super::refused(
            &op,
            AppError::new(StatusCode::NOT_FOUND, "草稿里没有这条记录"),
        );
    }
    let (s2, name) = (server.clone(), op.name.clone());
    let kind2 = kind.clone();
    let key2 = key.clone();
    let done = blocking(move || {
        s2.storage
            .drop_draft(&name, &kind2, &key2)
            .map_err(AppError::internal)
    })
    .await;
    match done {
        Ok(()) => {
            let _ = server
                .storage
                .audit(&op.name, "studio.edit", &detail, "reverted");
            Redirect::to("/studio").into_response()
        }
        Err(e) => super::refused(&op, e),
    }
}
