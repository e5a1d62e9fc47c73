//! The content studio's review workflow through the routers (`oneshot`), with the server's
//! clock moved by the test: an editor's draft is submitted; the reviewer sees the changed
//! field old → new and approves; the new version has it. One's own change cannot be approved
//! (403, audited); a viewer cannot submit; a scheduled publish goes live only once the clock
//! passes its time; a record published anew meanwhile makes the set fail, named; a rollback
//! publishes the old content as a newer version; an import lands in the importer's draft.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use chrono::{Duration, NaiveDate};
use menpai_server::config::Config;
use menpai_server::operators::hash_password;
use menpai_server::storage::Role;
use menpai_server::{Server, studio};
use serde_json::{Value, json};

mod support;

use support::http::{FORM, Sent, form, json_body, login};

/// A server with the demo region published and the studio's people.
fn server() -> (Arc<Server>, Router, tempfile::TempDir) {
    let (server, dir) = support::published(Config::default());
    let hash = hash_password("a password nobody types").unwrap();
    for (name, role) in [
        ("editor", Role::ContentEditor),
        ("editor2", Role::ContentEditor),
        ("reviewer", Role::Reviewer),
        ("viewer", Role::Viewer),
        ("staff", Role::QueueStaff),
        ("ops-admin", Role::Admin),
    ] {
        let halls = if role == Role::QueueStaff {
            vec!["hall-futian".to_owned()]
        } else {
            vec![]
        };
        server
            .storage
            .create_operator(name, name, role, &hash, &halls)
            .unwrap();
    }
    let server = Arc::new(server);
    let app = menpai_server::admin_router(server.clone());
    (server, app, dir)
}

async fn send(
    app: &Router,
    method: &str,
    path: &str,
    who: &str,
    body: Option<(&str, String)>,
) -> Sent {
    support::http::send(app, method, path, Some(who), body, false).await
}

fn json_of(s: &Sent) -> Value {
    serde_json::from_str(&s.body).unwrap_or(Value::Null)
}

/// P43 with its first situation's first material's note set to `note`, as the editor's
/// forms keep it.
fn edit_note(server: &Server, editor: &str, note: &str) {
    let pack = studio::draft_pack(server, editor).unwrap();
    let mut item = serde_json::to_value(pack.item("P43").unwrap()).unwrap();
    item["situations"][0]["materials"][0]["note"] = json!(note);
    studio::save_record(
        server,
        editor,
        "item",
        "P43",
        Some(serde_json::to_vec(&item).unwrap()),
    )
    .unwrap();
}

fn live_note(server: &Server) -> String {
    let current = server.phone.current().unwrap();
    let item = current.pack.item("P43").unwrap();
    item.situations[0].materials[0]
        .note
        .clone()
        .unwrap_or_default()
}

fn version(server: &Server) -> String {
    server.phone.current().unwrap().version.clone()
}

fn audited(server: &Server, who: &str, action: &str, outcome: &str) -> Vec<String> {
    server
        .storage
        .audit_entries(500)
        .unwrap()
        .into_iter()
        .filter(|e| e.operator == who && e.action == action && e.outcome == outcome)
        .map(|e| e.detail)
        .collect()
}

/// Submits the editor's draft as JSON; the change set's id.
async fn submit(app: &Router, who: &str, title: &str) -> i64 {
    let r = send(
        app,
        "POST",
        "/api/v1/studio/submit",
        who,
        json_body(json!({ "title": title })),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    json_of(&r)["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_approved_change_goes_live_and_nobody_approves_their_own() {
    let (server, app, _dir) = server();
    let editor = login(&server, "editor");
    let reviewer = login(&server, "reviewer");
    let admin = login(&server, "ops-admin");
    let old_note = live_note(&server);
    let v1 = version(&server);

    // Nothing in the draft: nothing to submit.
    let r = send(
        &app,
        "POST",
        "/api/v1/studio/submit",
        &editor,
        json_body(json!({"title": "空"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    // The editor changes a material's note and submits from the review page's form.
    edit_note(&server, "editor", "请带原件，复印件需加盖公章");
    let page = send(&app, "GET", "/studio/review", &editor, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("草稿里有 <strong>1</strong> 条记录的改动"),
        "{}",
        page.body
    );
    let r = send(
        &app,
        "POST",
        "/studio/submit",
        &editor,
        form(&[("csrf", FORM), ("title", "更新购房提取的材料备注")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id: i64 = r.location.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(live_note(&server), old_note, "nothing published yet");

    // The reviewer sees the record and the field, old → new.
    let page = send(&app, "GET", &r.location, &reviewer, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("事项 P43 住房公积金购房提取"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("situations[0].materials[0].note"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("情形1 › 申请材料1 › 审查要点/备注"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&old_note) && page.body.contains("请带原件，复印件需加盖公章"));
    assert!(
        page.body.contains("id=\"approve\""),
        "the reviewer gets the form"
    );
    // And the guide as phones will show it once published.
    let preview = send(
        &app,
        "GET",
        &format!("/studio/review/{id}/preview/item/P43"),
        &reviewer,
        None,
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview
            .body
            .contains(&format!("预览（变更 #{id}，未发布）"))
    );
    assert!(
        preview.body.contains("请带原件，复印件需加盖公章"),
        "{}",
        preview.body
    );
    // The same as JSON.
    let r = send(
        &app,
        "GET",
        &format!("/api/v1/studio/change-sets/{id}"),
        &reviewer,
        None,
    )
    .await;
    let set = json_of(&r);
    let field = &set["changes"][0]["fields"][0];
    assert_eq!(set["changes"][0]["change"], "changed", "{set}");
    assert_eq!(field["path"], "situations[0].materials[0].note", "{set}");
    assert_eq!(field["old"]["text"], old_note.as_str());
    assert_eq!(field["new"]["text"], "请带原件，复印件需加盖公章");

    // The editor cannot approve (not a reviewer): 403, audited.
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{id}/approve"),
        &editor,
        json_body(json!({"comment": "我自己批"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(
        audited(&server, "editor", "studio.approve", "forbidden").len(),
        1
    );

    // Another operator (the reviewer) approves with no time: published at once.
    let r = send(
        &app,
        "POST",
        &format!("/studio/review/{id}"),
        &reviewer,
        form(&[("csrf", FORM), ("action", "approve"), ("comment", "同意")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_ne!(version(&server), v1);
    assert_eq!(live_note(&server), "请带原件，复印件需加盖公章");
    let page = send(&app, "GET", &format!("/studio/review/{id}"), &editor, None).await;
    assert!(page.body.contains("已发布"), "{}", page.body);
    assert!(page.body.contains(&version(&server)));
    assert_eq!(
        audited(&server, "reviewer", "studio.approve", "ok").len(),
        1
    );
    assert_eq!(
        audited(&server, "reviewer", "studio.publish", "ok").len(),
        1
    );
    assert_eq!(audited(&server, "editor", "studio.submit", "ok").len(), 1);

    // An admin who submitted a change cannot approve it either: 403 with why, audited.
    edit_note(&server, "ops-admin", "管理员的修改");
    let own = submit(&app, &admin, "管理员自己改").await;
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{own}/approve"),
        &admin,
        json_body(json!({"comment": "自己批"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("不能审核自己提交的变更"), "{}", r.body);
    let page = send(
        &app,
        "POST",
        &format!("/studio/review/{own}"),
        &admin,
        form(&[("csrf", FORM), ("action", "approve"), ("comment", "")]),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("不能审核自己提交的变更"),
        "{}",
        page.body
    );
    assert_eq!(
        audited(&server, "ops-admin", "studio.approve", "forbidden").len(),
        2
    );
    assert_eq!(live_note(&server), "请带原件，复印件需加盖公章");

    // Returned with a comment; the admin takes it back into the draft.
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{own}/return"),
        &reviewer,
        json_body(json!({"comment": ""})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a return says why"
    );
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{own}/return"),
        &reviewer,
        json_body(json!({"comment": "备注写得不清楚"})),
    )
    .await;
    assert_eq!(json_of(&r)["state"], "returned", "{}", r.body);
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{own}/withdraw"),
        &admin,
        None,
    )
    .await;
    assert_eq!(json_of(&r)["state"], "withdrawn", "{}", r.body);
    assert_eq!(server.storage.draft("ops-admin").unwrap().len(), 1);
    assert_eq!(
        audited(&server, "ops-admin", "studio.withdraw", "ok").len(),
        1
    );
}

#[tokio::test]
async fn a_viewer_and_window_staff_cannot_submit_and_a_form_needs_its_token() {
    let (server, app, _dir) = server();
    let viewer = login(&server, "viewer");
    let staff = login(&server, "staff");
    let editor = login(&server, "editor");
    for (who, name) in [(&viewer, "viewer"), (&staff, "staff")] {
        let r = send(
            &app,
            "POST",
            "/api/v1/studio/submit",
            who,
            json_body(json!({"title": "x"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(r.body.contains("只有内容编辑"), "{}", r.body);
        assert_eq!(
            audited(&server, name, "studio.submit", "forbidden").len(),
            1
        );
        let page = send(&app, "GET", "/studio/review", who, None).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
    edit_note(&server, "editor", "改了");
    let r = send(
        &app,
        "POST",
        "/studio/submit",
        &editor,
        form(&[("csrf", "0".repeat(48).as_str()), ("title", "t")]),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a form without the page's token"
    );
    assert_eq!(
        server.storage.draft("editor").unwrap().len(),
        1,
        "nothing submitted"
    );
    // The JSON twin from a page that does not repeat the form cookie: refused too.
    let session_only = editor.split(';').next().unwrap().to_owned();
    let r = send(
        &app,
        "POST",
        "/api/v1/studio/submit",
        &session_only,
        json_body(json!({"title": "t"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(server.storage.draft("editor").unwrap().len(), 1);

    // A reviewer in a training login (培训登录) practises: they approve nothing.
    let id = submit(&app, &editor, "练习").await;
    let practice = support::http::training_login(&server, "reviewer");
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{id}/approve"),
        &practice,
        json_body(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("培训登录"), "{}", r.body);
    assert_eq!(
        audited(&server, "reviewer", "studio.approve", "forbidden").len(),
        1
    );
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{id}/withdraw"),
        &editor,
        None,
    )
    .await;
    assert_eq!(json_of(&r)["state"], "withdrawn", "{}", r.body);

    // A draft whose content does not validate is refused with its problems.
    let pack = studio::draft_pack(&server, "editor").unwrap();
    let mut item = serde_json::to_value(pack.item("P43").unwrap()).unwrap();
    item["name"] = json!("");
    studio::save_record(
        &server,
        "editor",
        "item",
        "P43",
        Some(serde_json::to_vec(&item).unwrap()),
    )
    .unwrap();
    let r = send(
        &app,
        "POST",
        "/api/v1/studio/submit",
        &editor,
        json_body(json!({"title": "坏的"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = json_of(&r);
    assert!(
        v["error"].as_str().unwrap().contains("改好后才能提交审核"),
        "{v}"
    );
    assert!(
        v["details"]["problems"][0]["record"]
            .as_str()
            .unwrap()
            .contains("P43"),
        "{v}"
    );
}

#[tokio::test]
async fn a_scheduled_publish_goes_live_only_when_its_time_comes() {
    let (server, app, _dir) = server();
    server.clock.stop_at(
        NaiveDate::from_ymd_opt(2026, 12, 4)
            .unwrap()
            .and_hms_opt(15, 0, 0)
            .unwrap(),
    );
    let editor = login(&server, "editor");
    let reviewer = login(&server, "reviewer");
    let before = live_note(&server);
    edit_note(&server, "editor", "明早八点生效的新要求");
    let id = submit(&app, &editor, "明早生效").await;

    // A time already past is refused.
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{id}/approve"),
        &reviewer,
        json_body(json!({"comment": "好", "publish_at": "2026-12-04T14:00"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{id}/approve"),
        &reviewer,
        json_body(json!({"comment": "好", "publish_at": "2026-12-05T08:00"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json_of(&r)["state"], "approved");
    assert_eq!(json_of(&r)["publish_at"], "2026-12-05 08:00:00");
    assert_eq!(
        audited(&server, "reviewer", "studio.schedule", "ok").len(),
        1
    );

    // Not yet.
    server
        .clock
        .advance(Duration::hours(16) + Duration::minutes(59));
    assert!(studio::schedule::publish_due(&server).is_empty());
    assert_eq!(live_note(&server), before);
    let page = send(&app, "GET", "/studio/review", &reviewer, None).await;
    assert!(page.body.contains("定于 2026-12-05 08:00"), "{}", page.body);

    // Its time: the schedule loop publishes it.
    let stop = menpai_server::shutdown::Trigger::default();
    let schedule = tokio::spawn(studio::schedule::schedule_loop(
        server.clone(),
        stop.subscribe(),
    ));
    server.clock.advance(Duration::minutes(1));
    let mut state = String::new();
    for _ in 0..200 {
        let r = send(
            &app,
            "GET",
            &format!("/api/v1/studio/change-sets/{id}"),
            &reviewer,
            None,
        )
        .await;
        state = json_of(&r)["state"].as_str().unwrap_or_default().to_owned();
        if state != "approved" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    stop.fire();
    schedule.await.unwrap();
    assert_eq!(state, "published");
    assert_eq!(live_note(&server), "明早八点生效的新要求");
    assert!(studio::schedule::publish_due(&server).is_empty(), "once");
}

#[tokio::test]
async fn a_record_published_anew_meanwhile_fails_the_set_by_name() {
    let (server, app, _dir) = server();
    let editor = login(&server, "editor");
    let editor2 = login(&server, "editor2");
    let reviewer = login(&server, "reviewer");
    edit_note(&server, "editor", "编辑一的修改");
    edit_note(&server, "editor2", "编辑二的修改");
    let first = submit(&app, &editor, "一").await;
    let second = submit(&app, &editor2, "二").await;
    let approve = |id: i64| {
        let (app, reviewer) = (app.clone(), reviewer.clone());
        async move {
            send(
                &app,
                "POST",
                &format!("/api/v1/studio/change-sets/{id}/approve"),
                &reviewer,
                json_body(json!({"comment": "好"})),
            )
            .await
        }
    };
    assert_eq!(json_of(&approve(first).await)["state"], "published");
    // The second was based on the version before the first: its P43 is stale.
    let page = send(
        &app,
        "GET",
        &format!("/studio/review/{second}"),
        &reviewer,
        None,
    )
    .await;
    assert!(page.body.contains("已被其他发布修改"), "{}", page.body);
    let r = approve(second).await;
    let set = json_of(&r);
    assert_eq!(set["state"], "failed", "{set}");
    assert!(
        set["comment"]
            .as_str()
            .unwrap()
            .contains("事项 P43 住房公积金购房提取"),
        "{set}"
    );
    assert_eq!(live_note(&server), "编辑一的修改", "never overwritten");
    assert_eq!(
        audited(&server, "reviewer", "studio.failed", "failed").len(),
        1
    );
    // Its editor takes it back: told which record was published anew, the draft now starts
    // from it; resubmitted, the reviewer sees what it undoes and it publishes.
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{second}/withdraw"),
        &editor2,
        None,
    )
    .await;
    let v = json_of(&r);
    assert_eq!(v["state"], "withdrawn", "{v}");
    assert_eq!(
        v["published_since"],
        json!(["事项 P43 住房公积金购房提取"]),
        "{v}"
    );
    let page = send(
        &app,
        "GET",
        &format!("/studio/review/{second}"),
        &editor2,
        None,
    )
    .await;
    assert!(page.body.contains("以免撤销别人的修改"), "{}", page.body);
    let third = submit(&app, &editor2, "二，重新提交").await;
    let r = send(
        &app,
        "GET",
        &format!("/api/v1/studio/change-sets/{third}"),
        &reviewer,
        None,
    )
    .await;
    let field = &json_of(&r)["changes"][0]["fields"][0];
    assert_eq!(field["old"]["text"], "编辑一的修改", "{field}");
    assert_eq!(field["new"]["text"], "编辑二的修改", "{field}");
    assert_eq!(json_of(&approve(third).await)["state"], "published");
    assert_eq!(live_note(&server), "编辑二的修改");
}

#[tokio::test]
async fn a_rollback_publishes_the_old_content_as_a_newer_version() {
    let (server, app, _dir) = server();
    let editor = login(&server, "editor");
    let reviewer = login(&server, "reviewer");
    let viewer = login(&server, "viewer");
    let v1 = version(&server);
    let old = live_note(&server);
    edit_note(&server, "editor", "要回滚的修改");
    let id = submit(&app, &editor, "稍后回滚").await;
    send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{id}/approve"),
        &reviewer,
        json_body(json!({})),
    )
    .await;
    let v2 = version(&server);
    assert_eq!(live_note(&server), "要回滚的修改");

    let page = send(&app, "GET", "/studio/versions", &reviewer, None).await;
    assert!(
        page.body.contains(&format!("变更 #{id} 稍后回滚")),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("/studio/versions/{v1}/republish"))
    );

    // Not a viewer, not an editor.
    for who in [&viewer, &editor] {
        let r = send(
            &app,
            "POST",
            &format!("/api/v1/studio/versions/{v1}/republish"),
            who,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    let r = send(
        &app,
        "POST",
        &format!("/studio/versions/{v1}/republish"),
        &reviewer,
        form(&[("csrf", FORM)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let v3 = version(&server);
    assert!(v3 != v1 && v3 != v2, "{v1} {v2} {v3}");
    assert_eq!(r.location, format!("/studio/versions?done={v3}"));
    let page = send(&app, "GET", &r.location, &reviewer, None).await;
    assert!(
        page.body.contains(&format!("已发布为新版本 {v3}")),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("回滚到 {v1}")), "{}", page.body);
    assert_eq!(live_note(&server), old);
    assert_eq!(
        audited(&server, "reviewer", "content.republish", "ok"),
        [format!("{v1} → {v3}")]
    );
    let r = send(
        &app,
        "POST",
        "/api/v1/studio/versions/1999.01.01-1/republish",
        &reviewer,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_import_lands_in_the_draft_and_only_an_admin_publishes_one() {
    let (server, app, _dir) = server();
    let editor = login(&server, "editor");
    let admin = login(&server, "ops-admin");
    let v1 = version(&server);
    let sheet = "事项ID,承诺时限\nP43,3个工作日\nP44,2个工作日\n";
    let csv = || Some(("text/csv", sheet.to_owned()));
    let r = send(
        &app,
        "POST",
        "/api/v1/admin/content/import?format=csv&publish=true",
        &editor,
        csv(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("请提交审核后发布"), "{}", r.body);

    let r = send(
        &app,
        "POST",
        "/api/v1/admin/content/import?format=csv",
        &editor,
        csv(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = json_of(&r);
    assert_eq!(
        v["draft"]["changed"],
        json!(["item P43", "item P44"]),
        "{v}"
    );
    assert_eq!(version(&server), v1, "nothing published");
    let draft = studio::draft_pack(&server, "editor").unwrap();
    assert_eq!(draft.item("P43").unwrap().promised_limit.days, 3);
    let id = submit(&app, &editor, "导入的时限").await;
    let r = send(
        &app,
        "GET",
        &format!("/api/v1/studio/change-sets/{id}"),
        &admin,
        None,
    )
    .await;
    assert!(r.body.contains("promised_limit.days"), "{}", r.body);

    // The admin's bootstrap publish stays.
    let r = send(
        &app,
        "POST",
        "/api/v1/admin/content/import?format=csv&publish=true",
        &admin,
        csv(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_ne!(version(&server), v1);
}

#[tokio::test]
async fn a_file_never_uploaded_fails_the_publish_by_its_name() {
    let (server, app, _dir) = server();
    let editor = login(&server, "editor");
    let reviewer = login(&server, "reviewer");
    let v1 = version(&server);
    let pack = studio::draft_pack(&server, "editor").unwrap();
    let mut item = serde_json::to_value(pack.item("P43").unwrap()).unwrap();
    item["situations"][0]["materials"][0]["sample_image"] = json!({
        "sha256": "ab".repeat(32), "media_type": "image/png", "size": 10, "name": "合同样例.png"
    });
    studio::save_record(
        &server,
        "editor",
        "item",
        "P43",
        Some(serde_json::to_vec(&item).unwrap()),
    )
    .unwrap();
    let id = submit(&app, &editor, "加样例图").await;
    // The reviewer sees the file by name, linked where it can be opened.
    let page = send(
        &app,
        "GET",
        &format!("/studio/review/{id}"),
        &reviewer,
        None,
    )
    .await;
    assert!(
        page.body
            .contains(&format!("href=\"/studio/files/{}\"", "ab".repeat(32))),
        "{}",
        page.body
    );
    assert!(page.body.contains("合同样例.png"));
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{id}/approve"),
        &reviewer,
        json_body(json!({})),
    )
    .await;
    let set = json_of(&r);
    assert_eq!(set["state"], "failed", "{set}");
    assert!(
        set["comment"].as_str().unwrap().contains("“合同样例.png”"),
        "{set}"
    );
    assert_eq!(version(&server), v1);
}

#[tokio::test]
async fn an_approved_closure_notice_shows_on_the_phone_page_until_it_expires() {
    let (server, app, _dir) = server();
    server.clock.stop_at(
        NaiveDate::from_ymd_opt(2026, 12, 4)
            .unwrap()
            .and_hms_opt(15, 0, 0)
            .unwrap(),
    );
    let notice = json!({
        "id": "notice-closure",
        "kind": "闭厅通知",
        "outlet": "hall-futian",
        "title": "12月5日下午闭厅",
        "text": "因设备检修，12月5日13:00后暂停对外办理，请改日前来。",
        "expires_at": "2026-12-05T18:00:00"
    });
    studio::save_record(
        &server,
        "editor",
        "notice",
        "notice-closure",
        Some(serde_json::to_vec(&notice).unwrap()),
    )
    .unwrap();
    let editor = login(&server, "editor");
    let reviewer = login(&server, "reviewer");
    let id = submit(&app, &editor, "闭厅通知").await;
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{id}/approve"),
        &reviewer,
        json_body(json!({"comment": "好"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let phone = menpai_server::public_router(server.clone());
    let hall_page = || async {
        support::http::send(&phone, "GET", "/h/hall-futian", None, None, false)
            .await
            .body
    };
    let other_hall = support::http::send(&phone, "GET", "/h/hall-civic", None, None, false)
        .await
        .body;
    assert!(
        !other_hall.contains("12月5日下午闭厅"),
        "another hall's page"
    );
    let page = hall_page().await;
    assert!(page.contains("闭厅通知：12月5日下午闭厅"), "{page}");
    assert!(page.contains("至 12月05日 18:00"), "{page}");

    // Past its time it is gone, with no new publish.
    let published = version(&server);
    server
        .clock
        .advance(Duration::hours(27) + Duration::minutes(1));
    let page = hall_page().await;
    assert!(!page.contains("12月5日下午闭厅"), "{page}");
    assert_eq!(version(&server), published);
}

#[tokio::test]
async fn a_scheduled_set_whose_reviewer_was_disabled_does_not_publish() {
    let (server, app, _dir) = server();
    server.clock.stop_at(
        NaiveDate::from_ymd_opt(2026, 12, 4)
            .unwrap()
            .and_hms_opt(15, 0, 0)
            .unwrap(),
    );
    let editor = login(&server, "editor");
    let reviewer = login(&server, "reviewer");
    let before = live_note(&server);
    edit_note(&server, "editor", "下个月生效的要求");
    let id = submit(&app, &editor, "下月生效").await;
    let r = send(
        &app,
        "POST",
        &format!("/api/v1/studio/change-sets/{id}/approve"),
        &reviewer,
        json_body(json!({"comment": "好", "publish_at": "2026-12-05T08:00"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        server
            .storage
            .disable_operator("reviewer", "2026-12-04 16:00:00")
            .unwrap()
    );

    server.clock.advance(Duration::hours(18));
    studio::schedule::publish_due(&server);
    let set = server.storage.change_set(id).unwrap().unwrap();
    assert_eq!(set.state, menpai_server::storage::ChangeState::Failed);
    assert!(set.comment.contains("已停用"), "{}", set.comment);
    assert_eq!(live_note(&server), before);
}
