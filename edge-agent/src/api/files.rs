//! Pictures the active content names (materials' samples, slides), re-encoded as PNG at a
//! bounded size, so the kiosk decodes one small format only.

use std::io::Cursor;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use image::{ImageFormat, ImageReader, Limits};
use serde::Deserialize;

use super::error::AppError;
use super::extract::Params;
use super::{AgentState, active};
use crate::Agent;

/// The widest picture the kiosk is sent (a full-screen overlay on a 1080×1920 plate).
const MAX_WIDTH: u32 = 1080;
/// The tallest.
const MAX_HEIGHT: u32 = 1600;
/// The narrowest thumbnail asked for.
const MIN_WIDTH: u32 = 32;
/// A stored picture is decoded only up to this size (a forged one cannot exhaust memory).
const DECODE_LIMIT_PX: u32 = 8192;
const DECODE_LIMIT_BYTES: u64 = 128 << 20;

pub(super) fn routes() -> Router<Arc<Agent>> {
    Router::new().route("/api/v1/files/{sha}", get(file))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileParams {
    /// Thumbnail width in pixels.
    w: Option<u32>,
}

async fn file(
    State(agent): AgentState,
    Path(sha): Path<String>,
    Params(p): Params<FileParams>,
) -> Result<Response, AppError> {
    if sha.len() != 64 || !sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(AppError::bad_request(
            "参数错误：图片编号应为 64 位十六进制",
        ));
    }
    let width = match p.w {
        None => MAX_WIDTH,
        Some(w) if (MIN_WIDTH..=MAX_WIDTH).contains(&w) => w,
        Some(w) => {
            return Err(AppError::bad_request(format!(
                "参数错误：w {w} 应在 {MIN_WIDTH} 到 {MAX_WIDTH} 之间"
            )));
        }
    };
    let c = active(&agent)?;
    let bytes = agent
        .store
        .image(c.version.id, &sha)
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::not_found("当前内容里没有这张图片"))?;
    let png = tokio::task::spawn_blocking(move || to_png(&bytes, width))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| {
            tracing::warn!(%sha, error = %e, "A stored picture does not decode.");
            AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "这张图片无法显示")
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            // Named by its bytes: the same address always answers the same picture.
            (header::CACHE_CONTROL, "private, max-age=86400, immutable"),
        ],
        png,
    )
        .into_response())
}

/// Decodes a PNG, JPEG or WebP under limits and re-encodes it as PNG, at most `width` wide
/// and [`MAX_HEIGHT`] tall (never enlarged).
fn to_png(bytes: &[u8], width: u32) -> Result<Vec<u8>, image::ImageError> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(DECODE_LIMIT_PX);
    limits.max_image_height = Some(DECODE_LIMIT_PX);
    limits.max_alloc = Some(DECODE_LIMIT_BYTES);
    reader.limits(limits);
    let picture = reader.decode()?;
    let picture = if picture.width() > width || picture.height() > MAX_HEIGHT {
        picture.resize(width, MAX_HEIGHT, image::imageops::FilterType::Triangle)
    } else {
        picture
    };
    let mut out = Vec::new();
    picture
        .to_rgba8()
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_shrink_to_the_width_asked_and_garbage_is_refused() {
        let big = image::RgbaImage::from_pixel(400, 200, image::Rgba([10, 20, 30, 255]));
        let mut jpeg = Vec::new();
        image::DynamicImage::ImageRgba8(big)
            .to_rgb8()
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        let png = to_png(&jpeg, 100).unwrap();
        let back = image::load_from_memory_with_format(&png, ImageFormat::Png).unwrap();
        assert_eq!((back.width(), back.height()), (100, 50));
        assert!(to_png(b"not a picture", 100).is_err());
    }
}
