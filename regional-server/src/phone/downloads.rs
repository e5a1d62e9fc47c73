//! Files phones download: a form's blank (范本) and filled-in sample (样表) at the form's own
//! address, and the pictures the published content names, by their SHA-256 (never any other
//! blob the server keeps).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use menpai_model::FileRef;
use menpai_model::pack::Form;

use super::{Current, cached, not_found};
use crate::Server;
use crate::html::{Page, footer, html};

/// How long a phone keeps a form's file before asking again (its address stays the same when
/// a new file is published; the ETag makes asking again cheap).
const FORM_MAX_AGE: &str = "public, max-age=300";
/// A file named by its SHA-256 never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `/forms/{file}`: the form's blank file; a short page saying where to get it when the
/// content carries none.
pub(super) async fn form(
    State(server): State<Arc<Server>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(c) = server.phone.current() else {
        return not_found("这份表格", None);
    };
    let Some(form) = form_at(&c, &file) else {
        return not_found("这份表格", None);
    };
    match &form.blank {
        Some(blank) => send(&server, &headers, blank, &file, FORM_MAX_AGE).await,
        None => form_page(&c, form, &headers),
    }
}

/// `/forms/{file}/sample`: the form's filled-in sample (样表).
pub(super) async fn form_sample(
    State(server): State<Arc<Server>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(c) = server.phone.current() else {
        return not_found("这份样表", None);
    };
    let Some(sample) = form_at(&c, &file).and_then(|f| f.sample.as_ref()) else {
        return not_found("这份样表", None);
    };
    let stem = file.rsplit_once('.').map_or(file.as_str(), |(s, _)| s);
    let ascii = format!("{stem}-sample.{}", extension(&sample.name));
    send(&server, &headers, sample, &ascii, FORM_MAX_AGE).await
}

/// `/files/{sha}/{name}`: a file the published content names (a sample picture, a form's
/// page); the name is only what the phone saves it as.
pub(super) async fn file(
    State(server): State<Arc<Server>>,
    Path((sha, _name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(c) = server.phone.current() else {
        return not_found("这个文件", None);
    };
    let Some(found) = c.pack.file_refs().find(|f| f.sha256 == sha).cloned() else {
        return not_found("这个文件", None);
    };
    let ascii = format!("{}.{}", &sha[..12.min(sha.len())], extension(&found.name));
    send(&server, &headers, &found, &ascii, IMMUTABLE).await
}

/// The address a phone opens for `file`: `/files/{sha}/{name}`.
pub fn file_url(file: &FileRef) -> String {
    format!(
        "/files/{}/{}",
        file.sha256,
        menpai_model::percent_encode(&file.name)
    )
}

/// The address of a form's filled-in sample.
pub fn sample_url(form: &Form) -> String {
    format!("{}/sample", form.url)
}

/// A form's page when the content carries no file for it: where to get it and which items
/// need it.
fn form_page(c: &Current, form: &Form, headers: &HeaderMap) -> Response {
    let needed_by = c.pack.items.iter().filter(|i| {
        i.materials
            .iter()
            .chain(i.situations.iter().flat_map(|s| &s.materials))
            .any(|m| m.template_form.as_deref() == Some(form.id.as_str()))
    });
    let body = html! {
        h1 id="form" { (form.name) }
        div class="card" {
            p { "空白表格可在服务大厅咨询台免费领取，窗口备有填写样表。" }
            p class="muted" { "电子版由主管部门上传后可在这里下载。" }
        }
        h2 { "需要这份表格的事项" }
        div class="card list" {
            @for i in needed_by { a href={ "/i/" (i.id) } { (i.name) } }
        }
        (footer(&c.version))
    };
    cached(headers, Page::phone(&form.name).render(body))
}

fn form_at<'a>(c: &'a Current, file: &str) -> Option<&'a Form> {
    let url = format!("/forms/{file}");
    c.pack.forms.iter().find(|f| f.url == url)
}

fn extension(name: &str) -> &str {
    name.rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| e.is_ascii())
        .unwrap_or("bin")
}

/// Answers with the bytes of `file` (304 when the phone has them: the ETag is their SHA-256).
async fn send(
    server: &Arc<Server>,
    headers: &HeaderMap,
    file: &FileRef,
    ascii_name: &str,
    cache: &'static str,
) -> Response {
    let etag = format!("\"{}\"", file.sha256);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let s = server.clone();
        let sha = file.sha256.clone();
        match tokio::task::spawn_blocking(move || s.storage.blob(&sha)).await {
            Ok(Ok(Some(bytes))) => file_response(bytes, &file.media_type, &file.name, ascii_name),
            Ok(Ok(None)) => return not_found("这个文件", None),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "a published file could not be read");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            Err(e) => {
                tracing::error!(error = %e, "reading a published file stopped");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A file as an answer: its type, saved under `name` (`ascii_name` for old browsers) unless it
/// is a picture, never sniffed, and sandboxed if a browser opens it anyway.
pub fn file_response(bytes: Vec<u8>, media_type: &str, name: &str, ascii_name: &str) -> Response {
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let kind = if media_type.starts_with("image/") {
        "inline"
    } else {
        "attachment"
    };
    if let Ok(v) = HeaderValue::from_str(&content_disposition(kind, name, ascii_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    response
}

/// `attachment; filename="form.pdf"; filename*=UTF-8''%E8%A1%A8.pdf` (RFC 6266): the ASCII
/// name for old browsers, the real one for the rest.
pub fn content_disposition(kind: &str, name: &str, ascii_name: &str) -> String {
    let fallback: String = ascii_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        menpai_model::percent_encode(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names_are_encoded_with_an_ascii_fallback() {
        assert_eq!(
            content_disposition("attachment", "申请表.pdf", "form-1.pdf"),
            "attachment; filename=\"form-1.pdf\"; filename*=UTF-8''%E7%94%B3%E8%AF%B7%E8%A1%A8.pdf"
        );
        assert!(
            content_disposition("inline", "a\"b.png", "a\"b.png").contains("filename=\"a_b.png\"")
        );
    }
}
