//! The fleet view's updates page (`/fleet/updates`): the uploaded bundles, each rollout with
//! its groups' progress and its terminals' phases; for admins, the upload, a new rollout's
//! form, and pause / resume / cancel. Refreshed while a rollout runs.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;

use super::rollout::Group;
use crate::Server;
use crate::error::AppError;
use crate::html::{
    CONSOLE_STYLE, Markup, Page, PreEscaped, Section, console, console_page, error_line, html,
};
use crate::operators::{PageSession, Role, Session};
use crate::storage::RolloutState;
use crate::web::{FormToken, check_form};

type S = State<Arc<Server>>;

const STYLE: &str = ".bar{display:inline-block;width:12em;height:10px;background:#e6e9ed;border-radius:5px;overflow:hidden;vertical-align:middle}\
.bar i{display:inline-block;height:10px}.bar .ok{background:#2e7d32}.bar .bad{background:#c62828}\
.rollout{background:#fff;border-radius:10px;padding:10px 14px;margin:12px 0}\
.rollout form{display:inline}.st{padding:2px 6px;border-radius:6px;background:#eee}\
.st.running{background:#fff3c4}.st.finished{background:#d4f4dd}.st.stopped,.st.cancelled{background:#fbd9d3}\
textarea{width:28em;height:5em}";

/// Sends the chosen bundle as it is (no form encoding), with the page's anti-forgery token;
/// while a rollout runs, reloads the page every 5 s unless an upload is under way or the
/// new-rollout form is being filled in.
const SCRIPT: &str = "(function(){var f=document.getElementById('bundle-file'),\
b=document.getElementById('upload'),o=document.getElementById('upload-result'),busy=false;\
if(b)b.onclick=function(){if(!f.files.length){o.textContent='请先选择更新包文件（.raucb）';return}\
busy=true;b.disabled=true;o.textContent='正在上传并校验签名……';\
fetch('/api/v1/admin/releases',{method:'POST',headers:{'content-type':'application/octet-stream',\
'x-csrf-token':document.querySelector('input[name=csrf]').value},body:f.files[0]})\
.then(function(r){return r.json().then(function(j){if(r.ok){location.reload()}else{\
o.textContent=j.error||('上传失败（'+r.status+'）');b.disabled=false;busy=false}})})\
.catch(function(){o.textContent='上传中断了，请重试';b.disabled=false;busy=false})};\
var form=document.getElementById('new-rollout');\
if(document.getElementById('updates').dataset.running==='1')setInterval(function(){\
var filling=form&&(form.contains(document.activeElement)||form.querySelector('textarea').value);\
if(!busy&&!filling&&!(f&&f.files.length))location.reload()},5000)})();";

fn is_admin(s: &Session) -> bool {
    s.require(Role::Admin).is_ok()
}

fn refusal(s: &Session, e: AppError) -> Response {
    let body = html! { h1 { "系统更新" } (error_line(&e.message)) };
    (e.status, console(&s.0, Section::Fleet, "系统更新", body)).into_response()
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                .format("%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

pub(super) async fn page(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = s.require(Role::Viewer) {
        return refusal(&s, e);
    }
    let srv = server.clone();
    let halls: Option<Vec<String>> = s.0.reads_halls().map(<[String]>::to_vec);
    let read = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let releases = srv.storage.releases().map_err(AppError::internal)?;
        let rollouts = srv.storage.rollouts().map_err(AppError::internal)?;
        let details = rollouts
            .iter()
            .take(20)
            .map(|r| super::detail(&srv, &r.id, halls.as_deref()))
            .collect::<Result<Vec<Value>, AppError>>()?;
        Ok((releases, rollouts, details))
    })
    .await;
    let (releases, rollouts, details) = match read {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return refusal(&s, e),
        Err(e) => return refusal(&s, AppError::internal(e)),
    };
    let token = FormToken::of(&headers);
    let admin = is_admin(&s);
    let halls = server.halls.all();
    let names: std::collections::HashMap<String, String> = halls
        .iter()
        .map(|h| (h.id.clone(), h.name.clone()))
        .collect();
    let running = rollouts.iter().any(|r| r.state == RolloutState::Running);
    let body = html! {
        p { a href="/fleet" { "← 终端运行状态" } }
        h1 id="updates" data-running=(if running { "1" } else { "0" }) { "系统更新" }
        p class="muted" { "更新包由发布证书签名，服务器和终端都会校验签名。终端下载后写入备用分区，在没人使用、没有打印时重启；新系统启动后自检通过才保留，否则自动回到原系统。" }
        h2 { "更新包" }
        @if releases.is_empty() { p id="no-releases" { "还没有上传更新包。" } }
        @else {
            table id="releases" {
                thead { tr { th { "版本" } th { "适用型号" } th { "大小" } th { "签名" } th { "上传" } } }
                tbody {
                    @for r in &releases {
                        tr class="release" data-id=(r.id) {
                            td { b { (r.version) } }
                            td { (r.compatible) }
                            td { (format!("{:.1} MB", r.size as f64 / 1e6)) }
                            td class="muted" { (r.signer) }
                            td { (time(r.uploaded_ms)) " · " (r.uploaded_by) }
                        }
                    }
                }
            }
        }
        @if admin {
            p {
                (token.field())
                input type="file" id="bundle-file" accept=".raucb" aria-label="更新包文件";
                " " button type="button" id="upload" { "上传更新包" }
                " " span id="upload-result" class="muted" {}
            }
        }
        h2 { "发布计划" }
        @if details.is_empty() { p id="no-rollouts" { "还没有发布计划。" } }
        @for d in &details { (rollout(d, admin, &token, &names)) }
        @if admin && !releases.is_empty() {
            h2 { "新建发布计划" }
            form method="post" action="/fleet/updates/rollouts" id="new-rollout" {
                (token.field())
                p { label { "更新包 " select name="release" {
                    @for r in &releases { option value=(r.id) { (r.version) "（" (r.compatible) "）" } }
                } } }
                p { label { "名称 " input type="text" name="name" maxlength="60" required placeholder="例如：十二月版"; } }
                p {
                    label { "分组（每行一组，按顺序开始）" br;
                        textarea name="groups" required placeholder="试点：hall-futian\n三成：30%\n其余：100%" {} }
                    br; span class="muted" { "每行「组名：大厅编号,大厅编号」或「组名：百分比%」。大厅："
                        @for (i, h) in halls.iter().enumerate() { @if i > 0 { "，" } (h.name) " " code { (h.id) } } }
                }
                p {
                    label { "上一组成功达到 " input type="number" name="success_pct" min="1" max="100" value="90"; " % 时开始下一组" }
                    " · "
                    label { "失败超过 " input type="number" name="error_pct" min="0" max="100" value="10"; " % 时自动停止" }
                }
                button type="submit" id="start-rollout" { "开始发布" }
            }
        }
    };
    let page = Page::new("系统更新 · 门牌", CONSOLE_STYLE)
        .head(html! { style { (PreEscaped(STYLE)) } })
        .script(SCRIPT);
    let mut res = console_page(&s.0, Section::Fleet, page, body).into_response();
    token.set_on(&mut res);
    res
}

/// One rollout: its state, groups with progress bars, terminals by phase; actions for admins.
fn rollout(
    d: &Value,
    admin: bool,
    token: &FormToken,
    names: &std::collections::HashMap<String, String>,
) -> Markup {
    let hall = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let id = d["id"].as_str().unwrap_or_default();
    let state = d["state"].as_str().unwrap_or_default();
    let pct = |n: &Value, of: &Value| {
        let (n, of) = (n.as_u64().unwrap_or(0), of.as_u64().unwrap_or(0).max(1));
        n * 100 / of
    };
    let action = |name: &str, label: &str| {
        html! {
            form method="post" action={ "/fleet/updates/rollouts/" (id) "/" (name) } {
                (token.field())
                button type="submit" class={ "act-" (name) } { (label) }
            }
        }
    };
    html! {
        div class="rollout" data-id=(id) data-state=(state) {
            b { (d["name"].as_str().unwrap_or_default()) }
            " · " (d["release"]["version"].as_str().unwrap_or("—"))
            " · " span class={ "st " (state) } { (d["state_label"].as_str().unwrap_or_default()) }
            " · 成功 " (d["success_pct"]) "% 开始下一组，失败超过 " (d["error_pct"]) "% 停止"
            @if let Some(why) = d["reason"].as_str().filter(|r| !r.is_empty()) { p class="reason" { (why) } }
            @if admin {
                " "
                @match state {
                    "running" => { (action("pause", "暂停")) " " (action("cancel", "取消")) }
                    "paused" => { (action("resume", "继续")) " " (action("cancel", "取消")) }
                    "stopped" => { (action("resume", "继续发布")) " " (action("cancel", "取消")) }
                    _ => {}
                }
            }
            table class="groups" {
                thead { tr { th { "分组" } th { "范围" } th { "状态" } th { "进度" } } }
                tbody {
                    @for g in d["groups"].as_array().into_iter().flatten() {
                        tr class="group" data-started=(g["started"]) {
                            td { (g["name"].as_str().unwrap_or_default()) }
                            td { @if let Some(p) = g["percent"].as_u64() { (p) "%" } @else { (g["halls"].as_array().map(|h| h.iter().filter_map(Value::as_str).map(hall).collect::<Vec<_>>().join("、")).unwrap_or_default()) } }
                            td { @if g["started"] == true { "已开始" } @else { "等待" } }
                            td {
                                span class="bar" { i class="ok" style={ "width:" (pct(&g["done"], &g["size"])) "%" } {} i class="bad" style={ "width:" (pct(&g["failed"], &g["size"])) "%" } {} }
                                " 成功 " (g["done"]) " · 失败 " (g["failed"]) " / " (g["size"]) " 台"
                            }
                        }
                    }
                }
            }
            details {
                summary { "各终端" }
                table class="terminals" {
                    thead { tr { th { "终端" } th { "大厅" } th { "阶段" } th { "说明" } } }
                    tbody {
                        @for t in d["terminals"].as_array().into_iter().flatten().take(500) {
                            tr class="terminal" data-phase=(t["phase"].as_str().unwrap_or_default()) {
                                td class="muted" { (t["device"].as_str().unwrap_or_default()) }
                                td { (hall(t["hall"].as_str().unwrap_or_default())) }
                                td { (t["phase_label"].as_str().unwrap_or_default()) }
                                td { (t["detail"].as_str().unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct RolloutForm {
    csrf: Option<String>,
    release: String,
    name: String,
    groups: String,
    success_pct: u32,
    error_pct: u32,
}

/// `试点：hall-futian,hall-civic` or `三成：30%`, one group a line.
fn parse_groups(text: &str) -> Result<Vec<Group>, AppError> {
    let mut out = Vec::new();
    for (n, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let (name, what) = line.split_once(['：', ':']).ok_or_else(|| {
            AppError::bad_request(format!(
                "第 {} 行要写成「组名：大厅编号」或「组名：30%」",
                n + 1
            ))
        })?;
        let what = what.trim();
        let group = match what.strip_suffix(['%', '％']) {
            Some(p) => Group {
                name: name.trim().to_owned(),
                halls: vec![],
                percent: Some(p.trim().parse().map_err(|_| {
                    AppError::bad_request(format!("第 {} 行的百分比不是数字", n + 1))
                })?),
            },
            None => Group {
                name: name.trim().to_owned(),
                halls: what
                    .split([',', '，', ' ', '、'])
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned)
                    .collect(),
                percent: None,
            },
        };
        out.push(group);
    }
    Ok(out)
}

pub(super) async fn create(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    Form(f): Form<RolloutForm>,
) -> Response {
    let started = async {
        check_form(&headers, f.csrf.as_ref())?;
        let op = super::admin(&server, &s, "rollout.create")?.to_owned();
        let req = super::NewRollout {
            release: f.release.clone(),
            name: f.name.clone(),
            groups: parse_groups(&f.groups)?,
            success_pct: f.success_pct,
            error_pct: f.error_pct,
        };
        let srv = server.clone();
        tokio::task::spawn_blocking(move || super::start_rollout(&srv, &op, &req))
            .await
            .map_err(AppError::internal)?
    }
    .await;
    match started {
        Ok(_) => Redirect::to("/fleet/updates").into_response(),
        Err(e) => refusal(&s, e),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ActionForm {
    csrf: Option<String>,
}

pub(super) async fn change(
    State(server): S,
    PageSession(s): PageSession,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    let done = async {
        check_form(&headers, f.csrf.as_ref())?;
        super::known_action(&action)?;
        let op = super::admin(&server, &s, &format!("rollout.{action}"))?.to_owned();
        let srv = server.clone();
        tokio::task::spawn_blocking(move || super::change(&srv, &op, &id, &action))
            .await
            .map_err(AppError::internal)?
    }
    .await;
    match done {
        Ok(()) => Redirect::to("/fleet/updates").into_response(),
        Err(e) => refusal(&s, e),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_groups;

    #[test]
    fn groups_are_read_a_line_each() {
        let g = parse_groups("试点：hall-futian，hall-civic\n\n三成: 30%\n其余：100％").unwrap();
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].halls, vec!["hall-futian", "hall-civic"]);
        assert_eq!((g[1].name.as_str(), g[1].percent), ("三成", Some(30)));
        assert_eq!(g[2].percent, Some(100));
        assert!(parse_groups("没有冒号").is_err());
        assert!(parse_groups("a：x%").is_err());
    }
}
