//! The operators' routes: login, the fleet view, `/metrics`, and the admin API (enrollment
//! tokens, revocation, content import and publishing), each behind its role and audited.
//! Accounts and the audit log are in `accounts`.

use std::sync::Arc;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Server;
use crate::content::{self, Format};
use crate::error::{AppError, JsonBody, Upload};
use crate::html::{Page, html};
use crate::operators::{self, Role, SESSION_COOKIE, Session};
use crate::storage::EnrollmentToken;
use crate::{fleet, login};

type S = State<Arc<Server>>;

/// Login, the fleet view, `/metrics` and the admin API (every body within the usual limit).
pub fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/fleet") }))
        .route("/login", get(login_page).post(login_form))
        .route("/logout", post(logout))
        .route("/api/v1/login", post(login_json))
        .route("/fleet", get(fleet_page))
        .route("/api/v1/fleet", get(fleet_json))
        .route("/metrics", get(metrics))
        .route("/api/v1/admin/enrollment-tokens", post(create_token))
        .route("/api/v1/admin/devices", get(devices))
        .route("/api/v1/admin/devices/{id}/revoke", post(revoke))
        .route("/api/v1/admin/content/versions", get(versions))
}

/// Content import: the one route whose body may be as large as an upload.
pub fn upload_routes() -> Router<Arc<Server>> {
    Router::new().route("/api/v1/admin/content/import", post(import))
}

/// Checks the role; a refusal is audited too.
fn allow<'a>(
    server: &Server,
    s: &'a Session,
    role: Role,
    action: &str,
) -> Result<&'a str, AppError> {
    match s.require(role) {
        Ok(op) => Ok(&op.name),
        Err(e) => {
            let _ = server.storage.audit(&s.0.name, action, "", "forbidden");
            Err(e)
        }
    }
}

const LOGIN_STYLE: &str = "body{font-family:sans-serif;background:#f2f5fa;display:flex;justify-content:center;padding-top:10vh}\
form{background:#fff;padding:32px;border-radius:16px;display:flex;flex-direction:column;gap:12px;min-width:280px}\
button{background:#1a5fb4;color:#fff;border:0;padding:10px;border-radius:8px}";

/// The operators' login page, with why the last try failed; `next`: the console page to go
/// back to.
fn login_html(error: Option<&str>, next: Option<&str>) -> String {
    let body = html! {
        form method="post" action="/login" {
            h1 { "门牌运维登录" }
            @if let Some(n) = next {
                input type="hidden" name="next" value=(n);
            }
            @if let Some(e) = error {
                p style="color:#c62828" { (e) }
            }
            label { "用户名 " input name="name" id="name" autocomplete="username" required; }
            label {
                "密码 "
                input name="password" id="password" type="password" autocomplete="current-password"
                    required;
            }
            label class="training" {
                input type="checkbox" name="training" id="training" value="on";
                " 培训登录（练习用：只看培训记录，不叫真实号码）"
            }
            button id="login" type="submit" { "登录" }
        }
    };
    Page::new("登录 · 门牌运维", LOGIN_STYLE)
        .render(body)
        .into_string()
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn login_page(Query(q): Query<Next>) -> Html<String> {
    Html(login_html(None, local_page(q.next.as_deref())))
}

/// `next` when it is a page of this server (a path, not another site).
fn local_page(next: Option<&str>) -> Option<&str> {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && n.len() <= 200
            // Browsers drop tabs and read a backslash as a slash: `/\t/x` would be `//x`.
            && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
            && n != &"/login"
    })
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    /// The checkbox: "on" when ticked.
    training: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct LoginBody {
    name: String,
    password: String,
    #[serde(default)]
    training: bool,
}

fn cookie(token: &str, max_age: i64) -> String {
    crate::web::strict_cookie(SESSION_COOKIE, token, max_age)
}

/// A login posted by another site's page (login CSRF) is refused before anything is checked.
fn same_site_login(headers: &HeaderMap) -> Result<(), AppError> {
    if crate::web::cross_site(headers) {
        return Err(AppError::new(StatusCode::FORBIDDEN, "拒绝跨站登录"));
    }
    Ok(())
}

async fn login_form(
    State(server): S,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(b): Form<LoginForm>,
) -> Response {
    if let Err(e) = same_site_login(&headers) {
        return e.into_response();
    }
    let training = b.training.is_some();
    let next = local_page(b.next.as_deref());
    match login::log_in(&server, peer.ip(), &b.name, &b.password, training).await {
        Ok((token, op)) => (
            StatusCode::SEE_OTHER,
            [
                (
                    header::SET_COOKIE,
                    cookie(&token, server.config.session_hours as i64 * 3600),
                ),
                // A password an admin set is changed first; then the page asked for, else
                // window staff start at their window, everyone else at the fleet.
                (
                    header::LOCATION,
                    match next {
                        Some(n) if !op.must_change_password => n.to_owned(),
                        _ => operators::landing(&op).to_owned(),
                    },
                ),
            ],
        )
            .into_response(),
        Err(e) => (e.status, Html(login_html(Some(&e.message), next))).into_response(),
    }
}

async fn login_json(
    State(server): S,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<LoginBody>,
) -> Result<Json<Value>, AppError> {
    same_site_login(&headers)?;
    let (token, op) = login::log_in(&server, peer.ip(), &b.name, &b.password, b.training).await?;
    Ok(Json(json!({
        "token": token,
        "role": op.role.as_str(),
        "training": op.training,
        "must_change_password": op.must_change_password,
    })))
}

async fn logout(State(server): S, headers: HeaderMap) -> Response {
    if let Some(t) = operators::session_token(&headers) {
        let _ = server.storage.delete_session(&operators::sha256_hex(&t));
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie("", 0)),
            (header::LOCATION, "/login".to_owned()),
        ],
    )
        .into_response()
}

/// The fleet view; a hall-bound operator sees only their halls. A browser without a session
/// is sent to the login page (by the session extractor).
async fn fleet_page(
    State(server): S,
    operators::PageSession(s): operators::PageSession,
) -> Result<Html<String>, AppError> {
    let v = fleet_for(&server, &s)?;
    Ok(Html(fleet::page(&v, &s.0).into_string()))
}

/// The fleet as `s` may see it.
fn fleet_for(server: &Server, s: &Session) -> Result<fleet::FleetView, AppError> {
    let halls = s.0.reads_halls();
    server
        .fleet
        .view_of(server, chrono::Utc::now().timestamp_millis(), halls)
        .map_err(AppError::internal)
}

async fn fleet_json(State(server): S, s: Session) -> Result<Json<fleet::FleetView>, AppError> {
    allow(&server, &s, Role::Viewer, "fleet.view")?;
    Ok(Json(fleet_for(&server, &s)?))
}

/// `/metrics` names every terminal: it answers only Prometheus's bearer token, and is off
/// while no token is configured.
async fn metrics(State(server): S, headers: HeaderMap) -> Result<Response, AppError> {
    let wanted = server.config.metrics_token.as_bytes();
    if wanted.is_empty() {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "未设置 metrics_token，/metrics 已关闭",
        ));
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .as_bytes();
    if !menpai_model::secret::same(given, wanted) {
        return Err(AppError::new(StatusCode::UNAUTHORIZED, "metrics 需要令牌"));
    }
    let v = server
        .fleet
        .view(&server, chrono::Utc::now().timestamp_millis())
        .map_err(AppError::internal)?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        // The terminals', then each hall's queue.
        fleet::metrics(&server, &v) + &crate::statistics::monitor::metrics(&server),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    hall: String,
    position: String,
    ttl_s: Option<u64>,
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

async fn create_token(
    State(server): S,
    s: Session,
    JsonBody(b): JsonBody<TokenRequest>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let op = allow(&server, &s, Role::Admin, "enrollment.create")?;
    if !valid_name(&b.hall) || !valid_name(&b.position) {
        return Err(AppError::bad_request(
            "hall 和 position 只能用字母、数字、- 和 _",
        ));
    }
    let ttl = b
        .ttl_s
        .unwrap_or(server.config.enrollment_token_ttl_s)
        .min(30 * 86400);
    let token = crate::web::random_token();
    let expires_at = chrono::Utc::now().timestamp() + ttl as i64;
    server
        .storage
        .create_enrollment_token(
            &operators::sha256_hex(&token),
            &EnrollmentToken {
                hall: b.hall.clone(),
                position: b.position.clone(),
                expires_at,
                used: false,
            },
            op,
        )
        .map_err(AppError::internal)?;
    let _ = server.storage.audit(
        op,
        "enrollment.create",
        &format!("{} {} ttl {ttl}s", b.hall, b.position),
        "ok",
    );
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "token": token, "hall": b.hall, "position": b.position, "expires_at": expires_at }),
        ),
    ))
}

async fn devices(State(server): S, s: Session) -> Result<Json<Value>, AppError> {
    allow(&server, &s, Role::Viewer, "devices.list")?;
    let list: Vec<Value> = server
        .storage
        .devices()
        .map_err(AppError::internal)?
        .into_iter()
        .map(|d| json!({ "id": d.id, "hall": d.hall, "position": d.position, "enrolled_at": d.enrolled_at, "revoked_at": d.revoked_at }))
        .collect();
    Ok(Json(json!({ "devices": list })))
}

async fn revoke(
    State(server): S,
    s: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let op = allow(&server, &s, Role::Admin, "device.revoke")?.to_owned();
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let done = server
        .storage
        .revoke_device(&id, &at)
        .map_err(AppError::internal)?;
    let _ = server.storage.audit(
        &op,
        "device.revoke",
        &id,
        if done { "ok" } else { "not found" },
    );
    if !done {
        return Err(AppError::new(
            StatusCode::NOT_FOUND,
            format!("没有未吊销的终端 {id}"),
        ));
    }
    // Its places in rollouts end (a rollout does not wait for it), and its open live stream
    // ends now, not at its next reconnect.
    if let Err(e) = server
        .storage
        .cancel_device_rollouts(&id, chrono::Utc::now().timestamp_millis())
    {
        tracing::warn!(device = %id, error = %e, "A revoked terminal's rollouts could not be ended.");
    }
    let _ = server.revoked.send(id.clone());
    crate::bus::tell(&server, crate::bus::Signal::Revoked { device: id.clone() });
    Ok(Json(json!({ "revoked": id, "at": at })))
}

#[derive(Deserialize)]
struct ImportParams {
    format: Option<String>,
    #[serde(default)]
    publish: bool,
}

/// Imports a pack (JSON) or an items sheet (CSV / XLSX); with `publish=true` and no problems,
/// publishes it as the next signed version. Any problem publishes nothing.
async fn import(
    State(server): S,
    s: Session,
    headers: HeaderMap,
    Query(p): Query<ImportParams>,
    Upload(bytes): Upload,
) -> Result<Json<Value>, AppError> {
    let op = allow(&server, &s, Role::ContentEditor, "content.import")?.to_owned();
    let is_admin = s.0.role == Role::Admin;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = p
        .format
        .as_deref()
        .and_then(Format::parse)
        .or(match ct {
            c if c.starts_with("application/json") => Some(Format::Json),
            c if c.starts_with("text/csv") => Some(Format::Csv),
            c if c.contains("spreadsheetml") => Some(Format::Xlsx),
            _ => None,
        })
        .ok_or_else(|| AppError::bad_request("请用 format=json|csv|xlsx 说明文件格式"))?;
    let s2 = server.clone();
    let op2 = op.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<Value, AppError> {
        // Sheets edit the latest version; a whole pack needs nothing to start from.
        let base = match format {
            Format::Json => None,
            _ => content::latest_pack(s2.storage.as_ref()).map_err(AppError::internal)?,
        };
        let pack = match content::import(format, &bytes, base.as_ref()) {
            Ok(p) => p,
            Err(problems) => {
                let _ = s2.storage.audit(&op2, "content.import", &format!("{format:?}, {} problem(s)", problems.total), "refused");
                let listed = if problems.total > problems.shown.len() {
                    format!("（列出前 {} 处）", problems.shown.len())
                } else {
                    String::new()
                };
                return Err(AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("导入有 {} 处问题{listed}，没有发布任何内容", problems.total),
                )
                .with_details(json!({ "problems": problems.shown, "total": problems.total })));
            }
        };
        let items = pack.items.len();
        if !p.publish {
            // Every record that differs from the published version goes into the importer's
            // draft, for review like any edit.
            let draft = crate::studio::workflow::import_into_draft(&s2, &op2, &pack)?;
            let _ = s2.storage.audit(
                &op2,
                "content.import",
                &format!("{format:?}, {} record(s) into the draft", draft.count()),
                "ok",
            );
            return Ok(json!({ "checked": true, "items": items, "published": null, "draft": draft }));
        }
        // Publishing straight from an import is the admins' bootstrap; editors submit for review.
        if !is_admin {
            let _ = s2.storage.audit(&op2, "content.publish", &format!("{format:?} import"), "forbidden");
            return Err(AppError::new(StatusCode::FORBIDDEN, "请提交审核后发布：导入时不带 publish=true，内容会进入草稿"));
        }
        let (version, manifest) = crate::studio::publish::one_at_a_time(&s2, || {
            content::publish_live(&s2, pack, &op2, "")
        })?
        .map_err(AppError::internal)?;
        Ok(json!({ "checked": true, "items": items, "published": version, "records": manifest.records }))
    })
    .await
    .map_err(AppError::internal)??;
    Ok(Json(result))
}

async fn versions(State(server): S, s: Session) -> Result<Json<Value>, AppError> {
    allow(&server, &s, Role::Viewer, "content.versions")?;
    let v: Vec<Value> = server
        .storage
        .versions(50)
        .map_err(AppError::internal)?
        .into_iter()
        .map(|v| json!({ "version": v.version, "region": v.region, "published_at": v.published_at, "published_by": v.published_by }))
        .collect();
    Ok(Json(json!({ "versions": v })))
}
