//! The outlets' base map, drawn on the terminal from the content pack (no map tiles, works
//! offline): the district outline and main roads rasterised into an image; pins and labels are
//! laid over it as UI nodes.

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use menpai_model::BaseMap;
use menpai_model::geo::GeoPoint;

/// Maps WGS-84 points into a `width`×`height` picture (equirectangular, fine at district scale).
#[derive(Debug, Clone, Copy)]
pub struct Projection {
    min_lat: f64,
    min_lon: f64,
    scale_x: f64,
    scale_y: f64,
    width: f32,
    height: f32,
}

impl Projection {
    /// A projection that fits every point with a margin, keeping distances true in both axes.
    pub fn fit(points: impl IntoIterator<Item = GeoPoint>, width: f32, height: f32) -> Self {
        let (mut min_lat, mut max_lat, mut min_lon, mut max_lon) =
            (90.0f64, -90.0f64, 180.0f64, -180.0f64);
        for p in points {
            min_lat = min_lat.min(p.lat);
            max_lat = max_lat.max(p.lat);
            min_lon = min_lon.min(p.lon);
            max_lon = max_lon.max(p.lon);
        }
        let pad_lat = (max_lat - min_lat).max(0.005) * 0.08;
        let pad_lon = (max_lon - min_lon).max(0.005) * 0.08;
        let (min_lat, max_lat, min_lon, max_lon) = (
            min_lat - pad_lat,
            max_lat + pad_lat,
            min_lon - pad_lon,
            max_lon + pad_lon,
        );
        // A degree of longitude is shorter than one of latitude away from the equator.
        let lon_factor = ((min_lat + max_lat) / 2.0).to_radians().cos();
        let span_x = (max_lon - min_lon) * lon_factor;
        let span_y = max_lat - min_lat;
        let scale = (f64::from(width) / span_x).min(f64::from(height) / span_y);
        Projection {
            min_lat: max_lat,
            min_lon,
            scale_x: scale * lon_factor,
            scale_y: scale,
            width,
            height,
        }
    }

    /// Pixel position of a point (y grows southwards).
    pub fn pixel(&self, p: GeoPoint) -> Vec2 {
        Vec2::new(
            ((p.lon - self.min_lon) * self.scale_x) as f32,
            ((self.min_lat - p.lat) * self.scale_y) as f32,
        )
    }

    pub fn size(&self) -> Vec2 {
        Vec2::new(self.width, self.height)
    }
}

/// The outline and roads as an RGBA image.
pub fn image(map: &BaseMap, projection: &Projection) -> Image {
    let (w, h) = (projection.width as usize, projection.height as usize);
    let mut canvas = Canvas {
        w,
        h,
        rgba: vec![0; w * h * 4],
    };
    canvas.fill([236, 241, 247, 255]);
    let ring: Vec<Vec2> = map.outline.iter().map(|p| projection.pixel(*p)).collect();
    canvas.fill_polygon(&ring, [250, 251, 253, 255]);
    for road in &map.roads {
        let pts: Vec<Vec2> = road.points.iter().map(|p| projection.pixel(*p)).collect();
        for pair in pts.windows(2) {
            canvas.line(pair[0], pair[1], 6.0, [214, 175, 92, 255]);
        }
    }
    for i in 0..ring.len() {
        canvas.line(ring[i], ring[(i + 1) % ring.len()], 4.0, [26, 95, 180, 255]);
    }
    Image::new(
        Extent3d {
            width: w as u32,
            height: h as u32,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        canvas.rgba,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD,
    )
}

struct Canvas {
    w: usize,
    h: usize,
    rgba: Vec<u8>,
}

impl Canvas {
    fn fill(&mut self, c: [u8; 4]) {
        for px in self.rgba.chunks_exact_mut(4) {
            px.copy_from_slice(&c);
        }
    }

    fn dot(&mut self, x: i64, y: i64, c: [u8; 4]) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            let i = (y as usize * self.w + x as usize) * 4;
            self.rgba[i..i + 4].copy_from_slice(&c);
        }
    }

    /// A line `width` pixels thick.
    fn line(&mut self, a: Vec2, b: Vec2, width: f32, c: [u8; 4]) {
        let steps = a.distance(b).ceil().max(1.0) as i64;
        let r = (width / 2.0).ceil() as i64;
        for s in 0..=steps {
            let p = a.lerp(b, s as f32 / steps as f32);
            for dy in -r..=r {
                for dx in -r..=r {
                    if (dx * dx + dy * dy) as f32 <= (width / 2.0).powi(2) {
                        self.dot(p.x as i64 + dx, p.y as i64 + dy, c);
                    }
                }
            }
        }
    }

    /// Even–odd scanline fill.
    fn fill_polygon(&mut self, ring: &[Vec2], c: [u8; 4]) {
        for y in 0..self.h {
            let fy = y as f32 + 0.5;
            let mut xs: Vec<f32> = Vec::new();
            for i in 0..ring.len() {
                let (p, q) = (ring[i], ring[(i + 1) % ring.len()]);
                if (p.y <= fy) != (q.y <= fy) {
                    xs.push(p.x + (fy - p.y) / (q.y - p.y) * (q.x - p.x));
                }
            }
            xs.sort_by(f32::total_cmp);
            for pair in xs.chunks_exact(2) {
                for x in pair[0].max(0.0) as usize..(pair[1].min(self.w as f32)) as usize {
                    self.dot(x as i64, y as i64, c);
                }
            }
        }
    }
}
