//! Errors as JSON with a plain message, and body extractors whose rejections say why.

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// An HTTP error: a status and a message fit for the user, never the internals.
///
/// Deliberately apart from the edge agent's `AppError`: this one answers browsers and
/// operators across the network (JSON with `details`, 413 before reading an oversized body,
/// form pages of its own), the agent's answers the kiosk on the same machine; sharing one type
/// would tie both servers' error wording and rejections together for no gain.
#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub message: String,
    pub details: Option<Value>,
}

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AppError {
            status,
            message: message.into(),
            details: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "Request failed inside the server.");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误")
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let Some(d) = self.details {
            body["details"] = d;
        }
        (self.status, Json(body)).into_response()
    }
}

fn too_large_or(status: StatusCode, text: String) -> AppError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(status, "请求体太大")
    } else {
        AppError::new(status, format!("请求体有误：{text}"))
    }
}

/// Refuses a request whose declared length is over `limit` at once (413), before its body is
/// read; bodies without a length are cut at the limit by the extractors.
pub async fn refuse_oversized(
    limit: usize,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "请求体太大").into_response();
    }
    next.run(req).await
}

/// A JSON body: malformed → 400, too large → 413, each with the reason.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        Json::<T>::from_request(req, state)
            .await
            .map(|j| JsonBody(j.0))
            .map_err(|e| too_large_or(e.status(), e.body_text()))
    }
}

/// Raw bytes of an upload: too large → 413.
#[derive(Debug)]
pub struct Upload(pub bytes::Bytes);

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        bytes::Bytes::from_request(req, state)
            .await
            .map(Upload)
            .map_err(|e| too_large_or(e.status(), e.body_text()))
    }
}
