//! A posted form read as name/value pairs, so a field may repeat (a multi-select); a post that
//! is not a form is refused with a plain reason.

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use bytes::Bytes;

use crate::error::AppError;

/// The fields of a form post, in order.
#[derive(Debug, Default)]
pub(super) struct Fields(pub(super) Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed; empty when absent.
    pub(super) fn one(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// The first value of `name` as given (a password keeps its spaces).
    pub(super) fn raw(&self, name: &str) -> Option<&String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Every value of `name`, at most `max` (more is a malformed post).
    pub(super) fn all(&self, name: &str, max: usize) -> Result<Vec<String>, AppError> {
        let v: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect();
        if v.len() > max {
            return Err(AppError::bad_request(format!("“{name}”选得太多")));
        }
        Ok(v)
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Fields, AppError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "请从页面上的表单提交",
            ));
        }
        // The body limit of the router applies here: a larger body is refused, not read.
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::new(e.status(), "表单太大或没有收全，请重新提交"))?;
        serde_urlencoded::from_bytes(&body)
            .map(Fields)
            .map_err(|_| AppError::bad_request("表单格式不对，请从页面上重新提交"))
    }
}
