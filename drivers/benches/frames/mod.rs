//! Hard camera frames for QR decoding: a code on a 640×480 scene, rotated, in perspective,
//! blurred, noisy, low in contrast, under glare, damaged, or with tiny modules. Shared by the
//! benchmark and the tests.

#![allow(dead_code, unreachable_pub)] // included by the bench and the tests, each using part of it

use image::{GrayImage, Luma};

pub const KINDS: [&str; 13] = [
    "clean",
    "rotation",
    "perspective",
    "blur",
    "noise",
    "low_contrast",
    "glare",
    "damage",
    "small_modules",
    // The kinds of the hidden set the issue names: a phone's screen held up blurred (pixel
    // grid, glow, a reflection band), a creased paper slip, a small code far from the lens,
    // and a steep angle.
    "phone_screen",
    "crease",
    "far_small",
    "steep_perspective",
];

pub struct Frame {
    pub kind: &'static str,
    pub payload: String,
    pub image: GrayImage,
}

/// SplitMix64: deterministic frames for a seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    pub fn range(&mut self, a: f32, b: f32) -> f32 {
        a + (b - a) * self.unit()
    }
    pub fn gauss(&mut self) -> f32 {
        let (u1, u2) = (self.unit().max(1e-6), self.unit());
        (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
    }
}

/// The code as an image: `module` pixels per module, a 4-module quiet zone.
pub fn render(payload: &str, module: u32) -> GrayImage {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
        .unwrap();
    let n = code.width() as u32;
    let side = (n + 8) * module;
    let mut img = GrayImage::from_pixel(side, side, Luma([235]));
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = ((i as u32 % n + 4) * module, (i as u32 / n + 4) * module);
            for dy in 0..module {
                for dx in 0..module {
                    img.put_pixel(x + dx, y + dy, Luma([25]));
                }
            }
        }
    }
    img
}

fn sample(img: &GrayImage, x: f32, y: f32, bg: u8) -> u8 {
    let (w, h) = (img.width() as f32, img.height() as f32);
    if x < 0.0 || y < 0.0 || x >= w - 1.0 || y >= h - 1.0 {
        return bg;
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let p = |dx: u32, dy: u32| f32::from(img.get_pixel(x0 as u32 + dx, y0 as u32 + dy).0[0]);
    let top = p(0, 0) * (1.0 - fx) + p(1, 0) * fx;
    let bottom = p(0, 1) * (1.0 - fx) + p(1, 1) * fx;
    (top * (1.0 - fy) + bottom * fy) as u8
}

/// A 640×480 scene with `code` placed by `inverse` (scene point → code point).
fn scene(code: &GrayImage, rng: &mut Rng, inverse: impl Fn(f32, f32) -> (f32, f32)) -> GrayImage {
    let bg_base = rng.range(150.0, 210.0);
    GrayImage::from_fn(640, 480, |x, y| {
        let bg = (bg_base + (x as f32 / 640.0) * 20.0) as u8;
        let (sx, sy) = inverse(x as f32, y as f32);
        Luma([sample(code, sx, sy, bg)])
    })
}

pub fn frame(kind: &'static str, rng: &mut Rng, index: usize) -> Frame {
    let payload = format!(
        "https://m.menpai.example.cn/a/{:08x}{index:04}",
        rng.next() as u32
    );
    let module = match kind {
        "small_modules" => 2,
        "far_small" => 3,
        _ => rng.range(4.0, 6.0) as u32,
    };
    let code = render(&payload, module);
    let side = code.width() as f32;
    let (cx, cy) = (
        rng.range(side / 2.0 + 20.0, 640.0 - side / 2.0 - 20.0)
            .max(320.0_f32.min(side)),
        rng.range(side / 2.0, 480.0 - side / 2.0)
            .max(240.0_f32.min(side)),
    );
    let mut img = match kind {
        "rotation" => {
            let a = rng.range(10.0, 80.0).to_radians();
            let (s, c) = a.sin_cos();
            scene(&code, rng, |x, y| {
                let (dx, dy) = (x - cx, y - cy);
                (c * dx + s * dy + side / 2.0, -s * dx + c * dy + side / 2.0)
            })
        }
        "far_small" => {
            // Twice as far: half the size (1.5 px modules), slightly out of focus below.
            let k = rng.range(1.8, 2.1);
            scene(&code, rng, |x, y| {
                ((x - cx) * k + side / 2.0, (y - cy) * k + side / 2.0)
            })
        }
        "perspective" | "steep_perspective" => {
            // The code seen from an angle: its square becomes a trapezoid, straight lines stay
            // straight; steep: held far off the lens's axis, foreshortened too.
            let (t, squash) = match kind {
                "steep_perspective" => (rng.range(0.32, 0.45), rng.range(0.6, 0.75)),
                _ => (rng.range(0.15, 0.3), 0.9),
            };
            let h = side / 2.0;
            let mut jitter = || rng.range(-0.05, 0.05) * side;
            let quad = [
                (cx - h * (1.0 - t) + jitter(), cy - h * squash + jitter()),
                (cx + h * (1.0 - t) + jitter(), cy - h * squash + jitter()),
                (cx + h * (1.0 + t) + jitter(), cy + h * squash + jitter()),
                (cx - h * (1.0 + t) + jitter(), cy + h * squash + jitter()),
            ];
            let square = [(0.0, 0.0), (side, 0.0), (side, side), (0.0, side)];
            let m = homography(quad, square);
            scene(&code, rng, |x, y| {
                let w = m[6] * x + m[7] * y + 1.0;
                (
                    (m[0] * x + m[1] * y + m[2]) / w,
                    (m[3] * x + m[4] * y + m[5]) / w,
                )
            })
        }
        _ => scene(&code, rng, |x, y| {
            (x - cx + side / 2.0, y - cy + side / 2.0)
        }),
    };
    match kind {
        "blur" => img = image::imageops::blur(&img, rng.range(1.4, 2.2)),
        "far_small" => img = image::imageops::blur(&img, rng.range(0.4, 0.7)),
        "phone_screen" => {
            // A lit screen: the code glows over a dark bezel, the screen's pixel grid beats
            // against the camera's (moiré), a reflection crosses it, and it is out of focus.
            let (period, phase) = (rng.range(2.6, 3.4), rng.range(0.0, std::f32::consts::TAU));
            let (band, width, strength) = (
                rng.range(-200.0, 200.0),
                rng.range(30.0, 70.0),
                rng.range(40.0, 80.0),
            );
            for (x, y, p) in img.enumerate_pixels_mut() {
                let (fx, fy) = (x as f32, y as f32);
                let inside =
                    (fx - cx).abs() < side / 2.0 + 12.0 && (fy - cy).abs() < side / 2.0 + 12.0;
                let lit = if inside {
                    f32::from(p.0[0]) * 1.05 + 10.0
                } else {
                    35.0
                };
                let grid = 1.0
                    - 0.12
                        * (0.5
                            + 0.5
                                * ((fx + fy * 0.3) / period * std::f32::consts::TAU + phase).sin());
                let d = ((fx - cx) + (fy - cy) * 0.6 - band).abs() / width;
                let reflection = strength * (-d * d).exp();
                p.0[0] = (lit * grid + reflection).clamp(0.0, 255.0) as u8;
            }
            img = image::imageops::blur(&img, rng.range(1.0, 1.6));
        }
        "crease" => {
            // A fold across the slip: one side shifted a little and shaded, a dark line along it.
            let angle = rng.range(0.0, std::f32::consts::PI);
            let (nx, ny) = (angle.cos(), angle.sin());
            let offset = rng.range(-side * 0.25, side * 0.25);
            let shift = rng.range(2.0, 4.0);
            let shade = rng.range(0.7, 0.85);
            let before = img.clone();
            for (x, y, p) in img.enumerate_pixels_mut() {
                let d = (x as f32 - cx) * nx + (y as f32 - cy) * ny - offset;
                if d > 0.0 {
                    let (sx, sy) = (x as f32 - nx * shift, y as f32 - ny * shift);
                    let v = f32::from(sample(&before, sx, sy, p.0[0])) * shade;
                    p.0[0] = v as u8;
                }
                let line = (-(d * d) / 4.0).exp() * 90.0;
                p.0[0] = (f32::from(p.0[0]) - line).max(0.0) as u8;
            }
        }
        "noise" => {
            let sigma = rng.range(30.0, 45.0);
            for p in img.pixels_mut() {
                p.0[0] = (f32::from(p.0[0]) + rng.gauss() * sigma).clamp(0.0, 255.0) as u8;
            }
        }
        "low_contrast" => {
            let (lo, hi) = (rng.range(100.0, 120.0), rng.range(140.0, 155.0));
            for p in img.pixels_mut() {
                p.0[0] = (lo + f32::from(p.0[0]) / 255.0 * (hi - lo)) as u8;
            }
        }
        "glare" => {
            let (gx, gy) = (
                cx + rng.range(-side / 3.0, side / 3.0),
                cy + rng.range(-side / 3.0, side / 3.0),
            );
            let (radius, strength) = (side * rng.range(0.35, 0.55), rng.range(120.0, 170.0));
            for (x, y, p) in img.enumerate_pixels_mut() {
                let d = ((x as f32 - gx).powi(2) + (y as f32 - gy).powi(2)).sqrt() / radius;
                let boost = strength * (-d * d).exp();
                p.0[0] = (f32::from(p.0[0]) + boost).min(255.0) as u8;
            }
        }
        "damage" => {
            // Scratches and stains over about a tenth of the code, away from the finder patterns.
            for _ in 0..rng.range(3.0, 6.0) as u32 {
                let (w, h) = (
                    rng.range(side * 0.05, side * 0.12),
                    rng.range(side * 0.05, side * 0.12),
                );
                let (x0, y0) = (
                    cx + rng.range(-side * 0.15, side * 0.2),
                    cy + rng.range(-side * 0.15, side * 0.2),
                );
                let shade = if rng.unit() < 0.5 { 235 } else { 30 };
                for y in y0 as u32..(y0 + h) as u32 {
                    for x in x0 as u32..(x0 + w) as u32 {
                        if x < 640 && y < 480 {
                            img.put_pixel(x, y, Luma([shade]));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    Frame {
        kind,
        payload,
        image: img,
    }
}

/// The projective map taking the four `from` points to the four `to` points (h33 = 1).
fn homography(from: [(f32, f32); 4], to: [(f32, f32); 4]) -> [f32; 8] {
    let mut a = [[0f64; 9]; 8];
    for (i, (&(x, y), &(u, v))) in from.iter().zip(&to).enumerate() {
        let (x, y, u, v) = (f64::from(x), f64::from(y), f64::from(u), f64::from(v));
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gauss–Jordan elimination with partial pivoting.
    for col in 0..8 {
        let pivot = (col..8)
            .max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))
            .unwrap();
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (cell, p) in row.iter_mut().zip(pivot_row).skip(col) {
                    *cell -= f * p;
                }
            }
        }
    }
    std::array::from_fn(|i| (a[i][8] / a[i][i]) as f32)
}

/// `per_kind` frames of every kind.
pub fn hard_frames(per_kind: usize, seed: u64) -> Vec<Frame> {
    let mut rng = Rng::new(seed);
    KINDS
        .iter()
        .flat_map(|k| (0..per_kind).map(|i| (*k, i)).collect::<Vec<_>>())
        .map(|(k, i)| frame(k, &mut rng, i))
        .collect()
}
