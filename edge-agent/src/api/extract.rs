//! Extractors whose rejections answer like every other error: 400 (or 413) with the reason.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::AppError;

/// Query parameters whose rejection is a 400 with the reason.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|e: QueryRejection| {
                AppError::bad_request(format!("参数错误：{}", e.body_text()))
            })
    }
}

/// A JSON body whose rejection (malformed, too large, wrong type) keeps its status and reason.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(req, state)
            .await
            .map(|j| Body(j.0))
            .map_err(|e: JsonRejection| {
                let message = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    "请求内容太大".to_owned()
                } else {
                    format!("请求内容有误：{}", e.body_text())
                };
                AppError::new(e.status(), message)
            })
    }
}
