//! QR codes on screen: a payload as an image with a quiet zone, black on white.

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};

/// Pixels per module in the image; the node's size scales it.
const MODULE_PX: usize = 8;

/// The QR code of `payload` as an RGBA image (error correction M, 4-module quiet zone).
pub fn image(payload: &str) -> Image {
    let (modules, n) =
        match qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M) {
            Ok(code) => (code.to_colors(), code.width()),
            Err(_) => (Vec::new(), 0),
        };
    let side = (n + 8) * MODULE_PX;
    let mut rgba = vec![255u8; side * side * 4];
    for (i, c) in modules.iter().enumerate() {
        if *c != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i % n + 4, i / n + 4);
        for y in my * MODULE_PX..(my + 1) * MODULE_PX {
            for x in mx * MODULE_PX..(mx + 1) * MODULE_PX {
                let p = (y * side + x) * 4;
                rgba[p..p + 3].fill(0);
            }
        }
    }
    Image::new(
        Extent3d {
            width: side as u32,
            height: side as u32,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        rgba,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD,
    )
}
