//! Form downloads on the phone pages (`oneshot` on the citizens' router, the demo region
//! published): 下载表格 gives the real PDF under its Chinese name, cached by its SHA-256; the
//! filled-in sample and the pictures the content names are served, and no other blob is.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use menpai_server::config::Config;
use tower::ServiceExt;

mod support;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn get(app: &Router, path: &str, etag: Option<&str>) -> Answer {
    let mut req = Request::get(path).header("host", "localhost");
    if let Some(e) = etag {
        req = req.header(header::IF_NONE_MATCH, e);
    }
    let mut req = req.body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    let res = app.clone().oneshot(req).await.unwrap();
    Answer {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    }
}

#[tokio::test]
async fn the_phone_downloads_a_real_form_with_its_name_and_caches_it_by_its_bytes() {
    let (server, _dir) = support::published(Config::default());
    let pack = server.phone.current().unwrap().pack.clone();
    let app = menpai_server::public_router(std::sync::Arc::new(server));
    let form = pack.forms.iter().find(|f| f.id == "form-P43-1").unwrap();
    let blank = form.blank.as_ref().unwrap();

    let a = get(&app, "/forms/form-P43-1.pdf", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::CONTENT_TYPE), "application/pdf");
    assert_eq!(
        a.header(header::CONTENT_DISPOSITION),
        format!(
            "attachment; filename=\"form-P43-1.pdf\"; filename*=UTF-8''{}",
            menpai_model::percent_encode("住房公积金提取申请表.pdf")
        )
    );
    assert_eq!(a.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let etag = format!("\"{}\"", blank.sha256);
    assert_eq!(a.header(header::ETAG), etag);
    assert!(
        a.header(header::CACHE_CONTROL)
            .starts_with("public, max-age=")
    );
    assert!(a.body.starts_with(b"%PDF-"));
    assert_eq!(a.body.len() as u64, blank.size);
    let text = menpai_content::pdf::text_of(&a.body).expect("pdftotext reads the PDF");
    assert!(text.contains("住房公积金提取申请表"), "{text}");
    assert!(text.contains("范本"), "{text}");
    // Asked again with the ETag: nothing to send.
    let again = get(&app, "/forms/form-P43-1.pdf", Some(&etag)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    // The filled-in sample, marked as one.
    let a = get(&app, "/forms/form-P43-1.pdf/sample", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::CONTENT_TYPE), "application/pdf");
    assert!(
        a.header(header::CONTENT_DISPOSITION)
            .contains("form-P43-1-sample.pdf")
    );
    let text = menpai_content::pdf::text_of(&a.body).expect("pdftotext reads the PDF");
    assert!(
        text.contains("住房公积金提取申请表") && text.contains("样表"),
        "{text}"
    );

    // A form without a file still says where to get it.
    let bare = pack.forms.iter().find(|f| f.blank.is_none()).unwrap();
    let a = get(&app, &bare.url, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.header(header::CONTENT_TYPE).starts_with("text/html"));
    assert!(a.text().contains("咨询台免费领取"));
    let a = get(&app, "/forms/no-such-form.pdf", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pictures_the_content_names_are_served_and_no_other_blob() {
    let (server, _dir) = support::published(Config::default());
    let pack = server.phone.current().unwrap().pack.clone();
    let version = server.phone.current().unwrap().version.clone();
    let app = menpai_server::public_router(std::sync::Arc::new(server));
    let photo = pack
        .file_refs()
        .find(|f| f.name == "证件照片要求.png")
        .unwrap()
        .clone();
    let path = format!("/files/{}/x.png", photo.sha256);
    let a = get(&app, &path, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::CONTENT_TYPE), "image/png");
    assert!(a.header(header::CONTENT_DISPOSITION).starts_with("inline;"));
    assert!(a.header(header::CACHE_CONTROL).contains("immutable"));
    assert!(a.body.starts_with(b"\x89PNG"));

    // The version's manifest and the records are blobs too: never served here.
    let a = get(&app, &format!("/files/{version}/x.json"), None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let record = menpai_model::bundle::records(&pack)[0].sha256();
    let a = get(&app, &format!("/files/{record}/x.json"), None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_guide_shows_what_the_window_checks_and_links_the_files() {
    let (server, _dir) = support::published(Config::default());
    let pack = server.phone.current().unwrap().pack.clone();
    let app = menpai_server::public_router(std::sync::Arc::new(server));
    let item = pack.item("P43").unwrap();
    let page = get(&app, "/i/P43", None).await.text();
    assert!(page.contains(&format!("事项编码 {}", item.code)), "{page}");
    assert!(page.contains("设定依据"));
    let faq = pack
        .faqs
        .iter()
        .find(|f| f.items.contains(&item.id))
        .unwrap();
    assert!(
        page.contains(&format!("<summary>{}</summary>", faq.question)),
        "{page}"
    );
    assert!(
        page.contains("href=\"/forms/form-P43-1.pdf\">下载表格"),
        "{page}"
    );
    assert!(
        page.contains("href=\"/forms/form-P43-1.pdf/sample\">下载样表"),
        "{page}"
    );
    assert!(
        page.contains("审查要点：本人有效期内的身份证原件"),
        "{page}"
    );
    let card = pack
        .file_refs()
        .find(|f| f.name == "居民身份证样例.png")
        .unwrap();
    assert!(
        page.contains(&format!("href=\"/files/{}/", card.sha256)),
        "{page}"
    );
    // The picture link opens.
    let start = page.find("/files/").unwrap();
    let end = start + page[start..].find('"').unwrap();
    let a = get(&app, &page[start..end], None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::CONTENT_TYPE), "image/png");
}
