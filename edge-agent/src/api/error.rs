//! The API's answers when something is wrong: a status and a plain Chinese message for the kiosk,
//! never internals.
//!
//! Deliberately apart from the regional server's `AppError`, though both answer the same
//! `{"error", "details"}` shape: this one speaks to a citizen at the kiosk on loopback (its
//! words, the queue's refusals mapped to statuses, print fallbacks), the server's to the public
//! and its operators; and the only crate both servers share, `menpai-model`, has no HTTP in it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use menpai_model::appointment::TokenError;
use serde_json::{Value, json};

use crate::queue::QueueError;

/// An error fit for the kiosk to show: a status and a plain message, never internals.
#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    message: String,
    details: Option<Value>,
}

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AppError {
            status,
            message: message.into(),
            details: None,
        }
    }

    /// Adds what the kiosk needs besides the message (problems by row, a QR to offer).
    pub(super) fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(super) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub(super) fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "Request failed inside the agent.");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "终端内部错误，请稍后再试",
        )
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let Some(details) = self.details {
            body["details"] = details;
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<QueueError> for AppError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::NoSuchBusiness(_) => AppError::bad_request(e.to_string()),
            QueueError::Closed(_) | QueueError::Exhausted(_) => {
                AppError::new(StatusCode::CONFLICT, e.to_string())
            }
            QueueError::Refused(code, message) => AppError::new(
                StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
                message,
            ),
            QueueError::TooFast(_) => AppError::new(StatusCode::TOO_MANY_REQUESTS, e.to_string()),
            QueueError::Unavailable(message) => {
                AppError::new(StatusCode::SERVICE_UNAVAILABLE, message)
            }
            QueueError::Token(TokenError::BadSignature) => {
                AppError::new(StatusCode::FORBIDDEN, e.to_string())
            }
            QueueError::Token(_) => AppError::bad_request(e.to_string()),
            QueueError::Store(e) => AppError::internal(e),
        }
    }
}
