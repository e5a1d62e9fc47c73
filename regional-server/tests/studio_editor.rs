//! The studio's editors through the operators' router (`oneshot`): an editor changes a
//! material's note, the draft lists it and the preview shows it (the public guide does not,
//! until it is published); a record with a bad field is refused with the field's path and
//! nothing kept; the check route names the field as typed; a viewer and a training login are
//! refused (audited); an over-long body, a post without the anti-forgery token and a check loop
//! are refused.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use menpai_model::Item;
use menpai_server::config::Config;
use menpai_server::operators::hash_password;
use menpai_server::storage::ChangedRecord;
use menpai_server::storage::Role;
use menpai_server::{Server, admin_router, public_router};
use serde_json::{Value, json};
use tower::ServiceExt;

mod support;

use support::http::{FORM, login, training_login};

const NOTE: &str = "请带上近三个月内的缴费凭证原件";

/// A server with the demo region published and operators: an editor, a viewer, an admin.
fn server() -> (Arc<Server>, tempfile::TempDir) {
    let (server, dir) = support::published(Config::default());
    let hash = hash_password("a password nobody types").unwrap();
    for (name, role) in [
        ("editor-a", Role::ContentEditor),
        ("viewer-a", Role::Viewer),
        ("staff-a", Role::QueueStaff),
    ] {
        server
            .storage
            .create_operator(name, name, role, &hash, &[])
            .unwrap();
    }
    (Arc::new(server), dir)
}

/// One request as the editor's page sends it: the session and form cookies, and for JSON the
/// anti-forgery header repeating the form cookie (`token: None` leaves it out).
async fn send(
    app: &Router,
    method: &str,
    path: &str,
    cookie: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> (StatusCode, String) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("cookie", cookie);
    if let Some(t) = token {
        req = req.header("x-csrf-token", t);
    }
    if let Some((kind, _)) = &body {
        req = req.header("content-type", *kind);
    }
    let mut req = req
        .body(Body::from(body.map(|(_, b)| b).unwrap_or_default()))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn json(v: &Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", v.to_string().into_bytes()))
}

fn form(fields: &[(&str, &str)]) -> Option<(&'static str, Vec<u8>)> {
    Some((
        "application/x-www-form-urlencoded",
        serde_urlencoded::to_string(fields).unwrap().into_bytes(),
    ))
}

/// An item of the published content whose first situation lists materials, as JSON.
fn item_with_materials(server: &Server) -> (String, Value) {
    let current = server.phone.current().unwrap();
    let item: &Item = current
        .pack
        .items
        .iter()
        .find(|i| {
            i.situations
                .first()
                .is_some_and(|s| !s.materials.is_empty())
        })
        .unwrap();
    (item.id.clone(), serde_json::to_value(item).unwrap())
}

fn audited(server: &Server, operator: &str, action: &str, detail: &str, outcome: &str) -> bool {
    server.storage.audit_entries(200).unwrap().iter().any(|e| {
        e.operator == operator && e.action == action && e.detail == detail && e.outcome == outcome
    })
}

#[tokio::test]
async fn a_changed_material_note_is_in_the_draft_and_its_preview_but_not_yet_on_phones() {
    let (server, _dir) = server();
    let app = admin_router(server.clone());
    let cookie = login(&server, "editor-a");
    let (id, mut item) = item_with_materials(&server);

    let (status, page) = send(
        &app,
        "GET",
        &format!("/studio/edit/item/{id}"),
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(r#"data-k="note""#) && page.contains("审查要点：注意事项"));
    assert!(page.contains(&format!(r#"data-key="{id}""#)));

    item["situations"][0]["materials"][0]["note"] = json!(NOTE);
    let path = format!("/api/v1/studio/draft/item/{id}");
    let (status, answer) = send(&app, "PUT", &path, &cookie, Some(FORM), json(&item)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(audited(
        &server,
        "editor-a",
        "studio.edit",
        &format!("item {id}"),
        "saved"
    ));

    let edit = format!("/studio/edit/item/{id}");
    let (_, page) = send(&app, "GET", &edit, &cookie, None, None).await;
    assert!(page.contains("草稿中已修改") && page.contains(NOTE));
    let (status, studio) = send(&app, "GET", "/studio", &cookie, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        studio.contains(&format!(r#"data-record="item {id}""#)),
        "{studio}"
    );
    assert!(studio.contains("修改") && studio.contains("撤销此项") && studio.contains("提交审核"));

    let preview_path = format!("/studio/preview/item/{id}");
    let (status, preview) = send(&app, "GET", &preview_path, &cookie, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(preview.contains("预览（草稿，未发布）"));
    assert!(preview.contains(NOTE), "the preview shows the new note");
    // Phones still show the published guide.
    let public = public_router(server.clone());
    let (_, phone) = send(&public, "GET", &format!("/i/{id}"), "", None, None).await;
    assert!(phone.contains(r#"id="materials""#) && !phone.contains(NOTE));

    // Saved back exactly as published, the record leaves the draft.
    let (id2, unchanged) = item_with_materials(&server);
    assert_eq!(id2, id);
    let (status, _) = send(&app, "PUT", &path, &cookie, Some(FORM), json(&unchanged)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(server.storage.draft("editor-a").unwrap().is_empty());
    let (status, _) = send(&app, "PUT", &path, &cookie, Some(FORM), json(&item)).await;
    assert_eq!(status, StatusCode::OK);

    // 撤销此项: the published record stands again.
    let revert = format!("/studio/draft/item/{id}/revert");
    let (status, _) = send(
        &app,
        "POST",
        &revert,
        &cookie,
        None,
        form(&[("csrf", FORM)]),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(server.storage.draft("editor-a").unwrap().is_empty());
    let (_, preview) = send(&app, "GET", &preview_path, &cookie, None, None).await;
    assert!(!preview.contains(NOTE));
}

#[tokio::test]
async fn a_record_with_a_bad_field_is_refused_with_its_path_and_nothing_kept() {
    let (server, _dir) = server();
    let app = admin_router(server.clone());
    let cookie = login(&server, "editor-a");
    let (id, item) = item_with_materials(&server);
    let path = format!("/api/v1/studio/draft/item/{id}");

    // Breaks a rule of the importer.
    let mut none = item.clone();
    none["situations"][0]["materials"][0]["copies"] = json!(0);
    let (status, answer) = send(&app, "PUT", &path, &cookie, Some(FORM), json(&none)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        answer["details"]["problems"][0]["field"],
        "situations[0].materials[0].copies"
    );
    assert_eq!(answer["details"]["problems"][0]["message"], "至少为 1");

    // Does not parse as an item.
    let mut words = item.clone();
    words["situations"][0]["materials"][0]["copies"] = json!("两份");
    let (status, answer) = send(&app, "PUT", &path, &cookie, Some(FORM), json(&words)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer.contains("situations[0].materials[0].copies"),
        "{answer}"
    );

    // A record saved under another record's key.
    let other = format!("/api/v1/studio/draft/item/{id}x");
    let (status, answer) = send(&app, "PUT", &other, &cookie, Some(FORM), json(&item)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.contains(r#""field":"id""#), "{answer}");

    assert!(server.storage.draft("editor-a").unwrap().is_empty());
    assert!(audited(
        &server,
        "editor-a",
        "studio.edit",
        &format!("item {id}"),
        "refused"
    ));
}

#[tokio::test]
async fn the_check_route_names_each_field_as_typed() {
    let (server, _dir) = server();
    let app = admin_router(server.clone());
    let cookie = login(&server, "editor-a");
    let (_, mut item) = item_with_materials(&server);

    let (status, answer) = send(
        &app,
        "POST",
        "/api/v1/studio/check/item",
        &cookie,
        Some(FORM),
        json(&item),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&answer).unwrap()["problems"],
        json!([])
    );

    item["name"] = json!(" ");
    item["channels"]["halls"][0]["outlet"] = json!("hall-nowhere");
    let (status, answer) = send(
        &app,
        "POST",
        "/api/v1/studio/check/item",
        &cookie,
        Some(FORM),
        json(&item),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let problems = serde_json::from_str::<Value>(&answer).unwrap()["problems"].clone();
    let fields: Vec<&str> = problems
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"name"), "{answer}");
    assert!(fields.contains(&"channels.halls[0].outlet"), "{answer}");
    assert!(answer.contains("不能为空") && answer.contains("没有这个地点：hall-nowhere"));
    // Checking keeps nothing.
    assert!(server.storage.draft("editor-a").unwrap().is_empty());

    // A notice whose expiry is before it starts, and a slide of another kind of colour.
    let notice = json!({"id": "n1", "kind": "闭厅通知", "outlet": null, "title": "闭厅",
        "text": "元旦闭厅", "starts_at": "2027-01-02T00:00:00", "expires_at": "2027-01-01T00:00:00"});
    let (_, answer) = send(
        &app,
        "POST",
        "/api/v1/studio/check/notice",
        &cookie,
        Some(FORM),
        json(&notice),
    )
    .await;
    assert!(answer.contains(r#""field":"expires_at""#), "{answer}");
    let slide = json!({"id": "s9", "title": "t", "subtitle": "", "color": "blue"});
    let (_, answer) = send(
        &app,
        "POST",
        "/api/v1/studio/check/slide",
        &cookie,
        Some(FORM),
        json(&slide),
    )
    .await;
    assert!(answer.contains(r#""field":"color""#), "{answer}");
}

#[tokio::test]
async fn a_viewer_staff_or_training_login_cannot_edit_and_each_refusal_is_audited() {
    let (server, _dir) = server();
    let app = admin_router(server.clone());
    let (id, item) = item_with_materials(&server);
    let path = format!("/api/v1/studio/draft/item/{id}");
    for name in ["viewer-a", "staff-a"] {
        let cookie = login(&server, name);
        let (status, page) = send(&app, "GET", "/studio", &cookie, None, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            page.contains("内容编辑只对内容编辑人员和管理员开放"),
            "{page}"
        );
        let (status, _) = send(&app, "PUT", &path, &cookie, Some(FORM), json(&item)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(audited(
            &server,
            name,
            "studio.edit",
            &format!("item {id}"),
            "forbidden"
        ));
        assert!(audited(&server, name, "studio.view", "drafts", "forbidden"));
    }
    let training = training_login(&server, "editor-a");
    let (status, _) = send(&app, "PUT", &path, &training, Some(FORM), json(&item)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, page) = send(
        &app,
        "GET",
        &format!("/studio/preview/item/{id}"),
        &training,
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("培训登录"), "{page}");
    assert!(server.storage.draft("editor-a").unwrap().is_empty());
}

#[tokio::test]
async fn an_over_long_body_or_a_post_without_the_token_is_refused() {
    let (server, _dir) = server();
    let app = admin_router(server.clone());
    let cookie = login(&server, "editor-a");
    let (id, mut item) = item_with_materials(&server);
    let path = format!("/api/v1/studio/draft/item/{id}");

    item["situations"][0]["materials"][0]["note"] = json!("长".repeat(100_000));
    let (status, answer) = send(&app, "PUT", &path, &cookie, Some(FORM), json(&item)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");

    item["situations"][0]["materials"][0]["note"] = json!(NOTE);
    let (status, _) = send(&app, "PUT", &path, &cookie, None, json(&item)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(
        &app,
        "PUT",
        &path,
        &cookie,
        Some(&"f".repeat(48)),
        json(&item),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(server.storage.draft("editor-a").unwrap().is_empty());

    // An editor whose page checked as often as a minute allows is held back, told how long.
    let now = std::time::Instant::now();
    while server.studio_checks.hit("editor-a", now).is_ok() {}
    let (status, answer) = send(
        &app,
        "POST",
        "/api/v1/studio/check/item",
        &cookie,
        Some(FORM),
        json(&item),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.contains("检查太频繁"), "{answer}");
}

#[tokio::test]
async fn records_are_created_and_deleted_in_the_draft_unless_others_still_need_them() {
    let (server, _dir) = server();
    let app = admin_router(server.clone());
    let cookie = login(&server, "editor-a");

    let (status, page) = send(&app, "GET", "/studio/new/notice", &cookie, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("新建临时通知") && page.contains(r#"type="datetime-local""#));
    let notice = json!({"id": "closed-newyear", "kind": "闭厅通知", "outlet": "hall-futian",
        "title": "元旦闭厅", "text": "1月1日闭厅，自助区照常开放。",
        "starts_at": "2026-12-30T18:00:00", "expires_at": "2027-01-02T00:00:00"});
    let (status, answer) = send(
        &app,
        "PUT",
        "/api/v1/studio/draft/notice/closed-newyear",
        &cookie,
        Some(FORM),
        json(&notice),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, page) = send(
        &app,
        "GET",
        "/studio/edit/notice/closed-newyear",
        &cookie,
        None,
        None,
    )
    .await;
    assert!(page.contains(r#"value="2027-01-02T00:00""#), "{page}");
    let (_, studio) = send(&app, "GET", "/studio", &cookie, None, None).await;
    assert!(studio.contains(r#"data-record="notice closed-newyear""#) && studio.contains("新建"));

    // Deleted again, a record only the draft had leaves no trace.
    let (status, _) = send(
        &app,
        "POST",
        "/studio/draft/notice/closed-newyear/delete",
        &cookie,
        None,
        form(&[("csrf", FORM)]),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(server.storage.draft("editor-a").unwrap().is_empty());

    // A new record cannot take a key in use.
    let faq = server.phone.current().unwrap().pack.faqs[0].clone();
    let taken = format!("/api/v1/studio/draft/faq/{}?new=1", faq.id);
    let (status, answer) = send(
        &app,
        "PUT",
        &taken,
        &cookie,
        Some(FORM),
        json(&serde_json::to_value(&faq).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.contains("这个编号已经有了"), "{answer}");

    // An outlet that items are still handled at cannot go.
    let (status, page) = send(
        &app,
        "POST",
        "/studio/draft/outlet/hall-futian/delete",
        &cookie,
        None,
        form(&[("csrf", FORM)]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("不能删除"), "{page}");
    // A FAQ can.
    let faq = server.phone.current().unwrap().pack.faqs[0].id.clone();
    let (status, _) = send(
        &app,
        "POST",
        &format!("/studio/draft/faq/{faq}/delete"),
        &cookie,
        None,
        form(&[("csrf", FORM)]),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let draft = server.storage.draft("editor-a").unwrap();
    assert!(
        draft
            .iter()
            .any(|r| r.kind == "faq" && r.key == faq && r.body.is_none())
    );
    assert!(audited(
        &server,
        "editor-a",
        "studio.edit",
        &format!("faq {faq}"),
        "deleted"
    ));
}

#[tokio::test]
async fn the_draft_page_names_what_would_stop_its_submission() {
    let (server, _dir) = server();
    let app = admin_router(server.clone());
    let cookie = login(&server, "editor-a");
    // A FAQ kept before the rules changed (or the content moved on under it): its item is gone.
    let mut faq = server.phone.current().unwrap().pack.faqs[0].clone();
    faq.items = vec!["P999".into()];
    server
        .storage
        .put_draft(
            "editor-a",
            &ChangedRecord {
                kind: "faq".into(),
                key: faq.id.clone(),
                body: Some(serde_json::to_vec(&faq).unwrap()),
                base_sha: None,
                updated_at: "2026-12-04 10:00:00.000".into(),
            },
        )
        .unwrap();
    let (status, page) = send(&app, "GET", "/studio", &cookie, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("草稿现在有 1 处问题"), "{page}");
    assert!(page.contains(&format!(r#"href="/studio/edit/faq/{}""#, faq.id)));
    assert!(page.contains("没有这个事项：P999"));

    // An item's editor lists the FAQs that name it.
    let named = server
        .phone
        .current()
        .unwrap()
        .pack
        .faqs
        .iter()
        .find(|f| !f.items.is_empty() && f.id != faq.id)
        .cloned()
        .unwrap();
    let edit = format!("/studio/edit/item/{}", named.items[0]);
    let (_, page) = send(&app, "GET", &edit, &cookie, None, None).await;
    assert!(page.contains("本事项的常见问题"));
    assert!(page.contains(&format!(r#"href="/studio/edit/faq/{}""#, named.id)));
}

#[tokio::test]
async fn the_region_calendar_is_edited_but_a_region_is_never_created_or_deleted() {
    let (server, _dir) = server();
    let app = admin_router(server.clone());
    let cookie = login(&server, "editor-a");
    let region = server.phone.current().unwrap().pack.region.clone().unwrap();
    let id = region.id.clone();

    let (status, page) = send(
        &app,
        "GET",
        &format!("/studio/edit/region/{id}"),
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("法定节假日") && page.contains("调休上班的周末"),
        "{page}"
    );
    let (_, studio) = send(&app, "GET", "/studio", &cookie, None, None).await;
    assert!(
        !studio.contains("/studio/new/region"),
        "offered a new region"
    );
    let (status, _) = send(&app, "GET", "/studio/new/region", &cookie, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A holiday added: in the draft's region, with its date.
    let mut body = serde_json::to_value(&region).unwrap();
    body["holidays"]
        .as_array_mut()
        .unwrap()
        .push(json!({"date": "2026-12-31", "name": "跨年检修（演示）"}));
    let path = format!("/api/v1/studio/draft/region/{id}");
    let (status, answer) = send(&app, "PUT", &path, &cookie, Some(FORM), json(&body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let draft = server.storage.draft("editor-a").unwrap();
    assert_eq!(draft.len(), 1);
    assert!(String::from_utf8_lossy(draft[0].body.as_deref().unwrap()).contains("跨年检修"));

    // Another id, a new one, or a deletion: refused, nothing kept.
    let mut renamed = body.clone();
    renamed["id"] = json!("another-region");
    for (path, body) in [
        (
            "/api/v1/studio/draft/region/another-region".to_owned(),
            &renamed,
        ),
        (
            "/api/v1/studio/draft/region/another-region?new=1".to_owned(),
            &renamed,
        ),
    ] {
        let (status, answer) = send(&app, "PUT", &path, &cookie, Some(FORM), json(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {answer}");
        assert!(answer.contains("只能修改"), "{answer}");
    }
    let (status, answer) = send(
        &app,
        "POST",
        &format!("/studio/draft/region/{id}/delete"),
        &cookie,
        None,
        form(&[("csrf", FORM)]),
    )
    .await;
    assert!(answer.contains("只能修改"), "{status}: {answer}");
    assert_eq!(server.storage.draft("editor-a").unwrap().len(), 1);
}

#[tokio::test]
async fn a_file_reference_must_state_what_its_upload_is() {
    let (server, _dir) = server();
    let app = admin_router(server.clone());
    let cookie = login(&server, "editor-a");
    let mut png = Vec::new();
    image::RgbImage::from_pixel(40, 30, image::Rgb([200, 40, 40]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let (status, answer) = send(
        &app,
        "POST",
        "/api/v1/studio/files?name=%E6%A0%B7%E4%BE%8B.png",
        &cookie,
        Some(FORM),
        Some(("image/png", png.clone())),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let uploaded: Value = serde_json::from_str(&answer).unwrap();

    let form = server.phone.current().unwrap().pack.forms[0].clone();
    let path = format!("/api/v1/studio/draft/form/{}", form.id);
    let mut body = serde_json::to_value(&form).unwrap();
    // The picture stated as a PDF form named .hta, or with another size: refused.
    for forged in [
        json!({"sha256": uploaded["sha256"], "media_type": "application/pdf", "size": uploaded["size"], "name": "申请表.pdf"}),
        json!({"sha256": uploaded["sha256"], "media_type": "image/png", "size": uploaded["size"], "name": "申请表.hta"}),
        json!({"sha256": uploaded["sha256"], "media_type": "image/png", "size": 7, "name": "样例.png"}),
        json!({"sha256": "ab".repeat(32), "media_type": "image/png", "size": 7, "name": "样例.png"}),
    ] {
        body["sample_image"] = forged.clone();
        let (status, answer) = send(&app, "PUT", &path, &cookie, Some(FORM), json(&body)).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{forged}: {answer}"
        );
        assert!(
            server.storage.draft("editor-a").unwrap().is_empty(),
            "{forged}"
        );
    }
    // As uploaded: kept.
    body["sample_image"] = uploaded;
    let (status, answer) = send(&app, "PUT", &path, &cookie, Some(FORM), json(&body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}
