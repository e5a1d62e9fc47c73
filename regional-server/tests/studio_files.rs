//! Uploading files to the content studio (`oneshot` on the operators' router): a file is
//! checked by its bytes, not its name or claimed type; a mismatch, an oversized body, a zip
//! bomb dressed as a spreadsheet and a name with a path or control characters are each refused
//! with a message and nothing is stored; good files are stored, audited and served back.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use menpai_server::Server;
use menpai_server::config::Config;
use menpai_server::operators::{Role, hash_password};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

mod support;

const EDITOR: &str = "content-editor";
const VIEWER: &str = "duty-viewer";
const PDF: &str = "application/pdf";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A blank form the demo region ships (published already: tests upload copies of it).
const DEMO_PDF: &[u8] = include_bytes!("../../content/demo-region/files/form-P43-1.pdf");

/// A real PDF the server does not have yet.
fn form_pdf() -> Vec<u8> {
    [DEMO_PDF, b"\n% a copy for the studio test\n".as_slice()].concat()
}

/// A picture the server does not have yet.
fn photo_png() -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_pixel(358, 441, image::Rgb([255, 255, 255]))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn server() -> (Arc<Server>, tempfile::TempDir) {
    let (server, dir) = support::published(Config::default());
    for (name, role) in [(EDITOR, Role::ContentEditor), (VIEWER, Role::Viewer)] {
        server
            .storage
            .create_operator(name, "", role, &hash_password("a password").unwrap(), &[])
            .unwrap();
    }
    (Arc::new(server), dir)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

async fn request(app: &Router, req: Request<Body>) -> Answer {
    let mut req = req;
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// Uploads `bytes` as `name`, claimed to be `claimed`, with `who`'s session.
async fn upload(app: &Router, who: &str, name: &str, claimed: &str, bytes: Vec<u8>) -> Answer {
    let req = Request::post(format!(
        "/api/v1/studio/files?name={}",
        menpai_model::percent_encode(name)
    ))
    .header("host", "localhost")
    .header(header::COOKIE, who)
    .header("x-csrf-token", support::http::FORM)
    .header(header::CONTENT_TYPE, claimed)
    .body(Body::from(bytes))
    .unwrap();
    request(app, req).await
}

async fn get(app: &Router, who: &str, path: &str) -> Answer {
    let req = Request::get(path)
        .header("host", "localhost")
        .header(header::COOKIE, who)
        .body(Body::empty())
        .unwrap();
    request(app, req).await
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A ZIP that looks like an XLSX (content types, a workbook) with one part inflating to
/// 100 MB of zeros (about 100 KB packed).
fn zip_bomb_xlsx() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("[Content_Types].xml", opts).unwrap();
    zip.write_all(b"<Types/>").unwrap();
    zip.start_file("xl/workbook.xml", opts).unwrap();
    zip.write_all(b"<workbook/>").unwrap();
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..100 {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

/// The `studio.upload` audit entries, newest first: (outcome, detail).
fn audited(server: &Server) -> Vec<(String, String)> {
    server
        .storage
        .audit_entries(100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "studio.upload")
        .map(|e| (e.outcome, e.detail))
        .collect()
}

#[tokio::test]
async fn uploads_whose_bytes_do_not_match_are_refused_and_nothing_is_stored() {
    let (server, _dir) = server();
    let app = menpai_server::admin_router(server.clone());
    let editor = support::http::login(&server, EDITOR);
    let png = photo_png();
    let pdf = form_pdf();

    // A picture named and claimed as a PDF.
    let a = upload(&app, &editor, "申请表.pdf", PDF, png.clone()).await;
    assert_eq!(
        a.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        a.error()
    );
    assert!(
        a.error().contains("PNG 图片") && a.error().contains("PDF 文档"),
        "{}",
        a.error()
    );
    assert!(!server.storage.has_blob(&sha(&png)).unwrap());

    // A picture claimed as a picture but named .pdf.
    let a = upload(&app, &editor, "申请表.pdf", "image/png", png.clone()).await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(a.error().contains("文件名“申请表.pdf”"), "{}", a.error());
    assert!(!server.storage.has_blob(&sha(&png)).unwrap());

    // Text claimed as a PDF.
    let text = "这不是 PDF".as_bytes().to_vec();
    let a = upload(&app, &editor, "申请表.pdf", PDF, text.clone()).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.error().contains("看不出文件是什么"), "{}", a.error());
    assert!(!server.storage.has_blob(&sha(&text)).unwrap());

    // A zip bomb dressed as a spreadsheet.
    let bomb = zip_bomb_xlsx();
    assert!(bomb.len() < 1 << 20, "{} bytes packed", bomb.len());
    let a = upload(&app, &editor, "事项表.xlsx", XLSX, bomb.clone()).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.error().contains("解压后超过 64 MB"), "{}", a.error());
    assert!(!server.storage.has_blob(&sha(&bomb)).unwrap());

    // Names with a path or control characters, however good the bytes.
    for (name, says) in [
        ("../申请表.pdf", "路径分隔符"),
        ("a/b.pdf", "路径分隔符"),
        ("a\\b.pdf", "路径分隔符"),
        ("..", "不能以点开头"),
        ("申请\n表.pdf", "控制字符"),
        ("申请\u{7}表.pdf", "控制字符"),
    ] {
        let a = upload(&app, &editor, name, PDF, pdf.clone()).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert!(a.error().contains(says), "{name:?}: {}", a.error());
    }
    assert!(!server.storage.has_blob(&sha(&pdf)).unwrap());

    // Every refusal is audited with its reason.
    let log = audited(&server);
    assert_eq!(log.iter().filter(|(o, _)| o == "refused").count(), 10);
    assert!(
        log.iter()
            .any(|(_, d)| d.contains("事项表.xlsx") && d.contains("解压后超过"))
    );
}

#[tokio::test]
async fn oversized_uploads_are_refused_before_they_are_kept() {
    let (server, _dir) = server();
    let app = menpai_server::admin_router(server.clone());
    let editor = support::http::login(&server, EDITOR);
    let mut big = form_pdf();
    big.resize((menpai_model::file::MAX_FILE_BYTES + 1) as usize, b' ');

    // Sent without a length: cut at the limit while reading, refused and audited.
    let a = upload(&app, &editor, "大.pdf", PDF, big.clone()).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(a.error().contains("文件超过 8 MB"), "{}", a.error());
    assert!(
        audited(&server)
            .iter()
            .any(|(o, d)| o == "refused" && d.contains("8 MB"))
    );

    // Declared too long: refused before a byte is read.
    let req = Request::post("/api/v1/studio/files?name=big.pdf")
        .header("host", "localhost")
        .header(header::COOKIE, &editor)
        .header(header::CONTENT_TYPE, PDF)
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    let a = request(&app, req).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!server.storage.has_blob(&sha(&big)).unwrap());
}

#[tokio::test]
async fn good_files_are_stored_audited_and_served_back_for_review() {
    let (server, _dir) = server();
    let app = menpai_server::admin_router(server.clone());
    let editor = support::http::login(&server, EDITOR);
    let viewer = support::http::login(&server, VIEWER);
    let (pdf, png) = (form_pdf(), photo_png());

    // A post without the page's anti-forgery token, or from another site: refused.
    for (token, origin) in [
        ("", "https://localhost"),
        (support::http::FORM, "https://evil.example"),
    ] {
        let req = Request::post("/api/v1/studio/files?name=a.pdf")
            .header("host", "localhost")
            .header(header::COOKIE, &editor)
            .header("x-csrf-token", token)
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, PDF)
            .body(Body::from(pdf.clone()))
            .unwrap();
        assert_eq!(request(&app, req).await.status, StatusCode::FORBIDDEN);
    }

    // A viewer may look but not upload.
    let a = upload(&app, &viewer, "申请表.pdf", PDF, pdf.clone()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let forbidden = audited(&server)
        .iter()
        .filter(|(o, _)| o == "forbidden")
        .count();
    // (Another site's post is refused before its session is read.)
    assert_eq!(forbidden, 2, "the post without the token and the viewer's");
    assert!(!server.storage.has_blob(&sha(&pdf)).unwrap());

    let a = upload(&app, &editor, "住房公积金提取申请表.pdf", PDF, pdf.clone()).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.error());
    let file = a.json();
    assert_eq!(file["sha256"], sha(&pdf));
    assert_eq!(file["media_type"], PDF);
    assert_eq!(file["size"], pdf.len());
    assert_eq!(file["name"], "住房公积金提取申请表.pdf");
    assert!(server.storage.has_blob(&sha(&pdf)).unwrap());

    // The browser did not know the type: the bytes and the name decide.
    let a = upload(
        &app,
        &editor,
        "照片.png",
        "application/octet-stream",
        png.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.error());
    assert_eq!(a.json()["media_type"], "image/png");
    assert!(server.storage.has_blob(&sha(&png)).unwrap());
    let log = audited(&server);
    assert_eq!(log.iter().filter(|(o, _)| o == "ok").count(), 2);
    assert!(log.iter().any(|(_, d)| d.contains(&sha(&png))));

    // Served back to the studio's people: a PDF to save, a picture to look at, never
    // sniffed; to anyone else (a viewer) not at all.
    let a = get(&app, &viewer, &format!("/studio/files/{}", sha(&pdf))).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = get(&app, &editor, &format!("/studio/files/{}", sha(&pdf))).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, pdf);
    assert_eq!(a.header(header::CONTENT_TYPE), PDF);
    assert!(
        a.header(header::CONTENT_DISPOSITION)
            .starts_with("attachment;")
    );
    assert_eq!(a.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert!(
        a.header(header::CONTENT_SECURITY_POLICY)
            .contains("sandbox")
    );
    let a = get(&app, &editor, &format!("/studio/files/{}", sha(&png))).await;
    assert_eq!(a.header(header::CONTENT_TYPE), "image/png");
    assert!(a.header(header::CONTENT_DISPOSITION).starts_with("inline;"));
    // Not a file (a content record), or no such blob: not served.
    let a = get(&app, &editor, &format!("/studio/files/{}", "0".repeat(64))).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = get(&app, "", &format!("/studio/files/{}", sha(&pdf))).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}
