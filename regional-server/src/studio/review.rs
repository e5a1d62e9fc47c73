//! The review pages (审核发布): change sets waiting, approved and recent; one change set's diff
//! with the reviewer's approve / return form (or the editor's withdraw); the editor's submit
//! form; versions and republishing one. Forms carry the anti-forgery token.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::diff::{self, RecordDiff, Shown};
use super::publish::{self, Published};
use super::workflow::{self, Decision};
use super::{access, blocking, set_id};
use crate::Server;
use crate::error::AppError;
use crate::html::{
    CONSOLE_STYLE, Markup, Page, PreEscaped, Section, console_page, error_line, hidden, html,
};
use crate::operators::{PageSession, Session, display_name};
use crate::storage::{ChangeSet, ChangeState, Operator, Role};
use crate::web::{FormToken, check_form};

type S = State<Arc<Server>>;

pub(super) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/studio/review", get(list_page))
        .route("/studio/review/{id}", get(set_page).post(set_form))
        .route("/studio/submit", post(submit_form))
        .route("/studio/versions", get(versions_page))
        .route("/studio/versions/{version}/republish", post(republish_form))
}

/// `YYYY-MM-DD HH:MM` of a stored local time.
fn minute(stamp: &str) -> &str {
    stamp.get(..16).unwrap_or(stamp)
}

/// A version's publish time (stored in UTC) in China time.
fn china_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            crate::clock::local_of(t.with_timezone(&chrono::Utc))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// What the review pages add to the console's style: old and new values set apart, long
/// words (a file's digest) wrapped.
const REVIEW_STYLE: &str = "td,p{overflow-wrap:anywhere}.value{white-space:pre-wrap}td.old .value{background:#fdecea;color:#8a1c1c;text-decoration:line-through}\
td.new .value{background:#e8f5e9;color:#1b5e20}.change.added{color:#1b5e20}.change.removed{color:#b71c1c}\
h3{font-size:17px;margin:4px 0 8px}code{font-size:13px}";

/// A console page of the review section.
fn console(op: &Operator, title: &str, body: Markup) -> Markup {
    let title = format!("{title} · 门牌");
    let page =
        Page::new(&title, CONSOLE_STYLE).head(html! { style { (PreEscaped(REVIEW_STYLE)) } });
    console_page(op, Section::Review, page, body)
}

pub(super) fn refused(op: &Operator, e: &AppError) -> Response {
    let title = if e.status == StatusCode::FORBIDDEN {
        "无权操作"
    } else {
        "无法完成"
    };
    let page = console(
        op,
        title,
        html! {
            h1 { (title) }
            (error_line(&e.message))
            p { a href="/studio/review" { "回到审核发布" } }
        },
    );
    (e.status, page).into_response()
}

fn with_token(status: StatusCode, page: Markup, token: &FormToken) -> Response {
    let mut res = (status, page).into_response();
    token.set_on(&mut res);
    res
}

fn sets_table(server: &Server, id: &str, sets: &[ChangeSet]) -> Markup {
    html! {
        @if sets.is_empty() {
            p class="muted" id=(id) { "没有。" }
        } @else {
            table id=(id) {
                thead { tr { th { "变更" } th { "提交人" } th { "提交时间" } th { "记录" } th { "状态" } th { "审核" } } }
                tbody {
                    @for s in sets {
                        tr data-id=(s.id) {
                            td data-label="变更" { a href=(format!("/studio/review/{}", s.id)) { "#" (s.id) " " (s.title) } }
                            td data-label="提交人" { (display_name(server, &s.editor)) }
                            td data-label="提交时间" { (minute(&s.submitted_at)) }
                            td data-label="记录" { (s.records) " 条" }
                            td data-label="状态" {
                                (s.state.label())
                                @if let (ChangeState::Approved, Some(at)) = (s.state, &s.publish_at) {
                                    "（定于 " (minute(at)) "）"
                                }
                                @if let Some(v) = &s.published_version { "（" (v) "）" }
                            }
                            td data-label="审核" {
                                @if let Some(r) = &s.reviewer { (display_name(server, r)) " " }
                                span class="muted" { (s.comment) }
                            }
                        }
                    }
                }
            }
        }
    }
}

struct Lists {
    waiting: Vec<ChangeSet>,
    approved: Vec<ChangeSet>,
    recent: Vec<ChangeSet>,
    draft: usize,
}

fn lists(server: &Server, op: &Operator) -> Result<Lists, AppError> {
    let get = |states: &[ChangeState], n| {
        server
            .storage
            .change_sets(states, n)
            .map_err(AppError::internal)
    };
    Ok(Lists {
        waiting: get(&[ChangeState::Submitted], 200)?,
        approved: get(&[ChangeState::Approved], 200)?,
        recent: get(
            &[
                ChangeState::Published,
                ChangeState::Returned,
                ChangeState::Failed,
                ChangeState::Withdrawn,
            ],
            30,
        )?,
        draft: server
            .storage
            .draft(&op.name)
            .map_err(AppError::internal)?
            .len(),
    })
}

fn edits(op: &Operator) -> bool {
    op.role.allows(Role::ContentEditor) && !op.training
}

fn list_html(server: &Server, op: &Operator, l: &Lists, csrf: &str, error: Option<&str>) -> Markup {
    console(
        op,
        "审核发布",
        html! {
            h1 { "审核发布" }
            p { a href="/studio/versions" id="versions" { "版本与回滚" } }
            @if edits(op) {
                div class="card" id="my-draft" {
                    h2 { "我的草稿" }
                    @if let Some(e) = error { (error_line(e)) }
                    @if l.draft == 0 {
                        p class="muted" { "草稿里没有改动。到" a href="/studio" { "内容编辑" } "修改后再提交审核。" }
                    } @else {
                        p { "草稿里有 " strong { (l.draft) } " 条记录的改动。" a href="/studio" { "继续编辑" } }
                        form method="post" action="/studio/submit" class="stack" {
                            (hidden("csrf", csrf))
                            label { "这次修改的说明" input name="title" maxlength="100" placeholder="如：更新居民身份证申领的材料要求"; }
                            button id="submit" { "提交审核" }
                        }
                    }
                }
            }
            h2 { "待审核" }
            (sets_table(server, "waiting", &l.waiting))
            h2 { "已通过，待发布" }
            (sets_table(server, "approved", &l.approved))
            h2 { "最近" }
            (sets_table(server, "recent", &l.recent))
        },
    )
}

async fn list_page(State(server): S, PageSession(s): PageSession, headers: HeaderMap) -> Response {
    let token = FormToken::of(&headers);
    let op = s.0.clone();
    let value = token.value.clone();
    let shown = blocking(move || {
        access::reader(&server, &s)?;
        let l = lists(&server, &s.0)?;
        Ok(list_html(&server, &s.0, &l, &value, None))
    })
    .await;
    match shown {
        Ok(page) => with_token(StatusCode::OK, page, &token),
        Err(e) => refused(&op, &e),
    }
}

fn shown_html(v: &Shown) -> Markup {
    html! {
        @match v {
            Shown::None => span class="muted" { "（无）" },
            Shown::Text { text } => span class="value" { (text) },
            Shown::File { name, sha256, .. } => a class="file" href=(Shown::file_link(sha256)) target="_blank" { "文件：" (name) },
        }
    }
}

fn fields_table(d: &RecordDiff) -> Markup {
    html! {
        table class="fields" {
            thead { tr { th { "字段" } th { "原来" } th { "改为" } } }
            tbody {
                @for f in &d.fields {
                    tr data-path=(f.path) {
                        td data-label="字段" { (f.label) br; code class="muted" { (f.path) } }
                        td data-label="原来" class="old" { (shown_html(&f.old)) }
                        td data-label="改为" class="new" { (shown_html(&f.new)) }
                    }
                }
            }
        }
    }
}

fn record_html(set_id: i64, d: &RecordDiff, state: ChangeState) -> Markup {
    html! {
        div class="card record" data-kind=(d.kind) data-key=(d.key) data-change=(format!("{:?}", d.change).to_lowercase()) {
            h3 { span class=(format!("change {}", format!("{:?}", d.change).to_lowercase())) { (d.change.label()) } "：" (d.title) }
            @if d.kind == "item" && d.change != diff::Change::Removed {
                p { a class="preview" href=(format!("/studio/review/{set_id}/preview/item/{}", d.key)) target="_blank" { "预览发布后的手机页面" } }
            }
            @if d.stale {
                p class="err" {
                    "提交后这条记录已被其他发布修改。"
                    @match state {
                        ChangeState::Submitted | ChangeState::Approved => "批准后发布会失败，请退回让编辑在最新内容上重新修改。",
                        ChangeState::Withdrawn => "撤回后草稿已改为基于最新发布的内容：提交前请对照最新内容核对，以免撤销别人的修改。",
                        _ => "",
                    }
                }
            }
            @if d.change == diff::Change::Changed || d.fields.len() <= 12 {
                (fields_table(d))
            } @else {
                details {
                    summary { "展开全部 " (d.fields.len()) " 个字段" }
                    (fields_table(d))
                }
            }
            @if d.more > 0 { p class="muted" { "另有 " (d.more) " 处改动未列出。" } }
        }
    }
}

fn set_html(
    server: &Server,
    op: &Operator,
    set: &ChangeSet,
    changes: &[RecordDiff],
    csrf: &str,
    error: Option<&str>,
) -> Markup {
    let now = server
        .clock
        .local_now()
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    console(
        op,
        &format!("变更 #{}", set.id),
        html! {
            p { a href="/studio/review" { "← 审核发布" } }
            h1 { "变更 #" (set.id) " " (set.title) }
            @if let Some(e) = error { (error_line(e)) }
            div class="card" id="set" data-state=(set.state.as_str()) {
                p { "状态：" strong id="state" { (set.state.label()) }
                    @if let Some(at) = &set.publish_at { "，定于 " (minute(at)) " 发布（北京时间）" }
                    @if let Some(v) = &set.published_version { "，发布为版本 " (v) }
                }
                p { "提交人：" (display_name(server, &set.editor)) "，" (minute(&set.submitted_at)) "，基于版本 " (set.base_version) "，" (set.records) " 条记录" }
                @if let Some(r) = &set.reviewer {
                    p { "审核人：" (display_name(server, r))
                        @if let Some(at) = &set.reviewed_at { "，" (minute(at)) } }
                }
                @if !set.comment.is_empty() {
                    p id="comment" class=[(set.state == ChangeState::Failed).then_some("err")] {
                        @if set.state == ChangeState::Failed { "发布失败：" } @else { "意见：" }
                        (set.comment)
                    }
                }
            }
            @if set.state == ChangeState::Submitted && access::may_review(op, set) {
                form method="post" class="card stack" id="decide" {
                    (hidden("csrf", csrf))
                    h2 { "审核" }
                    label { "意见（退回时必填）" textarea name="comment" rows="3" maxlength="1000" style="width:100%" {} }
                    label { "定时发布（北京时间，留空则立即发布）" input type="datetime-local" name="publish_at" min=(now); }
                    div class="buttons" {
                        button name="action" value="approve" id="approve" { "通过" }
                        button name="action" value="return" id="return" class="secondary" { "退回修改" }
                    }
                }
            } @else if set.state == ChangeState::Submitted && set.editor == op.name {
                p class="muted" { "自己提交的变更需由另一位审核人员审核。" }
            }
            @if access::may_withdraw(op, set) {
                form method="post" class="card" id="withdraw-form" {
                    (hidden("csrf", csrf))
                    p { "撤回后，这些改动回到你的草稿，可以继续修改后重新提交。" }
                    button name="action" value="withdraw" id="withdraw" class="secondary" { "撤回到草稿" }
                }
            }
            h2 { "改动（" (changes.len()) " 条记录）" }
            @for d in changes { (record_html(set.id, d, set.state)) }
        },
    )
}

/// A change set's page (with why the last post was refused).
async fn show_set(
    server: Arc<Server>,
    s: Session,
    raw: String,
    headers: &HeaderMap,
    error: Option<AppError>,
) -> Response {
    let token = FormToken::of(headers);
    let op = s.0.clone();
    let (status, message) = match &error {
        Some(e) => (e.status, Some(e.message.clone())),
        None => (StatusCode::OK, None),
    };
    let value = token.value.clone();
    let shown = blocking(move || {
        access::reader(&server, &s)?;
        let set = workflow::find(&server, set_id(&raw)?)?;
        let changes = diff::of_set(&server, &set)?;
        Ok(set_html(
            &server,
            &s.0,
            &set,
            &changes,
            &value,
            message.as_deref(),
        ))
    })
    .await;
    match shown {
        Ok(page) => with_token(status, page, &token),
        Err(e) => refused(&op, &error.unwrap_or(e)),
    }
}

async fn set_page(
    State(server): S,
    PageSession(s): PageSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    show_set(server, s, id, &headers, None).await
}

#[derive(Debug, Deserialize)]
struct SetForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    publish_at: Option<String>,
}

async fn set_form(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<SetForm>, FormRejection>,
) -> Response {
    let posted = async {
        let Form(f) =
            form.map_err(|_| AppError::bad_request("表单内容有误，请刷新页面后重新提交"))?;
        check_form(&headers, f.csrf.as_ref())?;
        let (server, s, id) = (server.clone(), s.clone(), id.clone());
        blocking(move || {
            let n = set_id(&id)?;
            match f.action.as_str() {
                "withdraw" => workflow::withdraw(&server, &s, n).map(|(set, _)| set),
                "approve" | "return" => {
                    let d = Decision {
                        approve: f.action == "approve",
                        comment: f.comment,
                        publish_at: workflow::parse_publish_at(f.publish_at.as_deref())?,
                    };
                    workflow::review(&server, &s, n, &d)
                }
                _ => Err(AppError::bad_request("请选择通过、退回或撤回")),
            }
        })
        .await
    }
    .await;
    match posted {
        Ok(set) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/studio/review/{}", set.id))],
        )
            .into_response(),
        Err(e) => show_set(server, s, id, &headers, Some(e)).await,
    }
}

#[derive(Debug, Deserialize)]
struct SubmitForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    title: String,
}

async fn submit_form(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    form: Result<Form<SubmitForm>, FormRejection>,
) -> Response {
    let posted = async {
        let Form(f) =
            form.map_err(|_| AppError::bad_request("表单内容有误，请刷新页面后重新提交"))?;
        check_form(&headers, f.csrf.as_ref())?;
        let (server, s) = (server.clone(), s.clone());
        blocking(move || workflow::submit(&server, &s, &f.title)).await
    }
    .await;
    match posted {
        Ok(set) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/studio/review/{}", set.id))],
        )
            .into_response(),
        // Refused: the list again, the draft's problems above the submit form.
        Err(e) => {
            let op = s.0.clone();
            let token = FormToken::of(&headers);
            let value = token.value.clone();
            let message = e.message.clone();
            let status = e.status;
            let shown = blocking(move || {
                access::reader(&server, &s)?;
                let l = lists(&server, &s.0)?;
                Ok(list_html(&server, &s.0, &l, &value, Some(&message)))
            })
            .await;
            match shown {
                Ok(page) => with_token(status, page, &token),
                Err(_) => refused(&op, &e),
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct Done {
    done: Option<String>,
}

fn versions_html(op: &Operator, list: &[Published], csrf: &str, done: Option<&str>) -> Markup {
    let may = op.role.allows(Role::Reviewer) && !op.training;
    console(
        op,
        "版本与回滚",
        html! {
            p { a href="/studio/review" { "← 审核发布" } }
            h1 { "版本与回滚" }
            @if let Some(v) = done { p class="ok card" id="done" { "已发布为新版本 " (v) "，终端会整版切换。" } }
            p class="muted" { "回滚：把以前某个版本的内容重新发布为最新版本，之前的版本都保留。" }
            table id="version-list" {
                thead { tr { th { "版本" } th { "发布时间" } th { "发布人" } th { "来自" } @if may { th { "" } } } }
                tbody {
                    @for (i, v) in list.iter().enumerate() {
                        tr data-version=(v.version) {
                            td data-label="版本" { (v.version) @if i == 0 { " " strong { "（当前）" } } }
                            td data-label="发布时间" { (china_time(&v.published_at)) }
                            td data-label="发布人" { (v.published_by) }
                            td data-label="来自" {
                                @if let (Some(id), Some(t)) = (v.change_set, &v.change_title) {
                                    a href=(format!("/studio/review/{id}")) { "变更 #" (id) " " (t) }
                                } @else if let Some(old) = &v.rollback_of {
                                    "回滚到 " (old)
                                } @else { span class="muted" { "导入" } }
                            }
                            @if may {
                                td class="actions" {
                                    @if i > 0 {
                                        form method="post" action=(format!("/studio/versions/{}/republish", v.version)) {
                                            (hidden("csrf", csrf))
                                            button class="secondary" { "回滚到此版本" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

async fn versions_page(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    Query(q): Query<Done>,
) -> Response {
    let token = FormToken::of(&headers);
    let op = s.0.clone();
    let value = token.value.clone();
    // Only a version name goes back into the page.
    let done = q.done.filter(|d| publish::version_name(d).is_ok());
    let shown = blocking(move || {
        access::reader(&server, &s)?;
        let list = publish::history(&server, 50)?;
        Ok(versions_html(&s.0, &list, &value, done.as_deref()))
    })
    .await;
    match shown {
        Ok(page) => with_token(StatusCode::OK, page, &token),
        Err(e) => refused(&op, &e),
    }
}

#[derive(Debug, Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: Option<String>,
}

async fn republish_form(
    State(server): S,
    s: Session,
    Path(version): Path<String>,
    headers: HeaderMap,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let op = s.0.clone();
    let posted = async {
        let Form(f) =
            form.map_err(|_| AppError::bad_request("表单内容有误，请刷新页面后重新提交"))?;
        check_form(&headers, f.csrf.as_ref())?;
        blocking(move || {
            let version = publish::version_name(&version)?;
            let op = access::reviewer(&server, &s, "content.republish", version)?;
            publish::republish(&server, version, &op.name)
        })
        .await
    }
    .await;
    match posted {
        Ok(v) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/studio/versions?done={v}"))],
        )
            .into_response(),
        Err(e) => refused(&op, &e),
    }
}
