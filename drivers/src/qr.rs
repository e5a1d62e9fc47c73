//! QR decoding for the terminal's camera and for image files, with the preprocessing real frames
//! need: rqrr first on the frame as it is, then adaptive thresholding (glare, low contrast),
//! scaling (small modules, noise) and smoothing, until something decodes.

use image::GrayImage;
use image::imageops::{self, FilterType};

/// The payloads of every grid rqrr finds (rqrr does not name its prepared image type).
macro_rules! payloads {
    ($prepared:expr) => {{
        let mut out: Vec<String> = Vec::new();
        for grid in $prepared.detect_grids() {
            if let Ok((_, content)) = grid.decode()
                && !out.contains(&content)
            {
                out.push(content);
            }
        }
        out
    }};
}

/// Largest frame side accepted, so a bad file cannot exhaust memory.
pub const MAX_SIDE: u32 = 4096;

/// Every QR payload found in a frame (usually one), trying harder only when needed.
pub fn decode(frame: &GrayImage) -> Vec<String> {
    let found = decode_as_is(frame);
    if !found.is_empty() {
        return found;
    }
    let (w, h) = frame.dimensions();
    let attempts: [&dyn Fn() -> Vec<String>; 8] = [
        &|| decode_bitmap(&adaptive_threshold(frame, (w.max(h) / 10) | 1, 8)),
        // Blur softens module edges: sharpen them back.
        &|| decode_as_is(&imageops::unsharpen(frame, 2.0, 0)),
        // A finer, unbiased threshold samples damaged or blurred modules differently.
        &|| decode_bitmap(&adaptive_threshold(frame, (w.max(h) / 24) | 1, 0)),
        &|| {
            if w.min(h) < 720 {
                decode_as_is(&imageops::resize(frame, w * 2, h * 2, FilterType::Triangle))
            } else {
                Vec::new()
            }
        },
        &|| decode_as_is(&imageops::blur(frame, 1.2)),
        &|| {
            let half = imageops::resize(frame, w / 2, h / 2, FilterType::Triangle);
            decode_bitmap(&adaptive_threshold(&half, (w.max(h) / 20) | 1, 6))
        },
        // A small code far from the lens (modules of one or two pixels): enlarged smoothly,
        // then thresholded against its neighbourhood.
        &|| {
            if w.min(h) >= 720 {
                return Vec::new();
            }
            let big = imageops::resize(frame, w * 2, h * 2, FilterType::CatmullRom);
            decode_bitmap(&adaptive_threshold(&big, (w.max(h) / 8) | 1, 2))
        },
        // Heavy blur (a phone's screen out of focus): sharpened harder, then thresholded.
        &|| {
            let sharp = imageops::unsharpen(frame, 3.0, 0);
            decode_bitmap(&adaptive_threshold(&sharp, (w.max(h) / 16) | 1, 2))
        },
    ];
    for attempt in attempts {
        let found = attempt();
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// Reads an image file (PNG, JPEG) and decodes it.
pub fn decode_file(path: &std::path::Path) -> Result<Vec<String>, String> {
    let reader = image::ImageReader::open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .with_guessed_format()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(format!(
            "{}: {w}×{h} is larger than {MAX_SIDE} pixels a side",
            path.display()
        ));
    }
    let img = image::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(decode(&img.to_luma8()))
}

fn decode_as_is(frame: &GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        frame.width() as usize,
        frame.height() as usize,
        |x, y| frame.get_pixel(x as u32, y as u32).0[0],
    );
    payloads!(prepared)
}

fn decode_bitmap(bits: &GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare_from_bitmap(
        bits.width() as usize,
        bits.height() as usize,
        |x, y| bits.get_pixel(x as u32, y as u32).0[0] == 0,
    );
    payloads!(prepared)
}

/// Black where a pixel is darker than the mean of its `window`² neighbourhood minus `offset`:
/// survives uneven light (glare, shadows) and low contrast, unlike one global threshold.
pub fn adaptive_threshold(img: &GrayImage, window: u32, offset: i32) -> GrayImage {
    let (w, h) = img.dimensions();
    let (wu, hu) = (w as usize, h as usize);
    // Summed-area table, one row and column of padding.
    let mut sum = vec![0u64; (wu + 1) * (hu + 1)];
    for y in 0..hu {
        let mut row = 0u64;
        for x in 0..wu {
            row += u64::from(img.as_raw()[y * wu + x]);
            sum[(y + 1) * (wu + 1) + x + 1] = sum[y * (wu + 1) + x + 1] + row;
        }
    }
    let r = (window / 2).max(1) as usize;
    let mut out = GrayImage::new(w, h);
    for y in 0..hu {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(hu));
        for x in 0..wu {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(wu));
            let area = ((x1 - x0) * (y1 - y0)) as u64;
            let total = sum[y1 * (wu + 1) + x1] + sum[y0 * (wu + 1) + x0]
                - sum[y0 * (wu + 1) + x1]
                - sum[y1 * (wu + 1) + x0];
            let mean = (total / area) as i32;
            let v = i32::from(img.as_raw()[y * wu + x]);
            out.as_mut()[y * wu + x] = if v < mean - offset { 0 } else { 255 };
        }
    }
    out
}

/// A source of QR payloads: the terminal's camera, or its twin. Cameras are often bound to the
/// thread that opened them, so this trait does not ask for `Send`.
pub trait QrCamera {
    /// Grabs a frame and returns the payloads in it (often none).
    fn next_codes(&mut self) -> crate::Result<Vec<String>>;
}

/// A camera twin that "sees" the images put into a directory, each once, in name order: drop a
/// PNG or JPEG in and the camera sees it (tests, demo).
#[derive(Debug)]
pub struct FileCamera {
    dir: std::path::PathBuf,
    seen: std::collections::BTreeSet<std::ffi::OsString>,
}

impl FileCamera {
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Self {
        FileCamera {
            dir: dir.into(),
            seen: Default::default(),
        }
    }
}

impl QrCamera for FileCamera {
    fn next_codes(&mut self) -> crate::Result<Vec<String>> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| {
            crate::Error::new(
                crate::ErrorKind::Disconnected,
                format!("{}: {e}", self.dir.display()),
            )
        })?;
        let next = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|x| x == "png" || x == "jpg" || x == "jpeg")
            })
            .filter(|p| p.file_name().is_some_and(|n| !self.seen.contains(n)))
            .min();
        let Some(path) = next else {
            return Ok(Vec::new());
        };
        self.seen
            .insert(path.file_name().unwrap_or_default().to_owned());
        match decode_file(&path) {
            Ok(codes) => Ok(codes),
            // A half-written or broken image is a frame without a code, not a dead camera.
            Err(e) => {
                tracing::warn!(error = %e, "Camera twin skipped an unreadable image.");
                Ok(Vec::new())
            }
        }
    }
}

/// The terminal's camera through nokhwa (V4L2 on Linux).
#[cfg(feature = "camera")]
pub mod camera {
    use nokhwa::pixel_format::LumaFormat;
    use nokhwa::utils::{
        CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
    };

    use crate::{Error, ErrorKind, Result};

    pub struct NokhwaCamera {
        camera: nokhwa::Camera,
    }

    impl std::fmt::Debug for NokhwaCamera {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("NokhwaCamera")
        }
    }

    fn camera_error(e: nokhwa::NokhwaError) -> Error {
        Error::new(ErrorKind::Disconnected, format!("camera: {e}"))
    }

    impl NokhwaCamera {
        /// Opens camera `index` near `width`×`height` and starts streaming.
        pub fn open(index: u32, width: u32, height: u32) -> Result<Self> {
            let wanted = CameraFormat::new(Resolution::new(width, height), FrameFormat::MJPEG, 30);
            let format = RequestedFormat::new::<LumaFormat>(RequestedFormatType::Closest(wanted));
            let mut camera =
                nokhwa::Camera::new(CameraIndex::Index(index), format).map_err(camera_error)?;
            camera.open_stream().map_err(camera_error)?;
            Ok(NokhwaCamera { camera })
        }
    }

    impl super::QrCamera for NokhwaCamera {
        fn next_codes(&mut self) -> Result<Vec<String>> {
            let frame = self.camera.frame().map_err(camera_error)?;
            let luma = frame.decode_image::<LumaFormat>().map_err(camera_error)?;
            let (w, h) = luma.dimensions();
            let gray = image::GrayImage::from_raw(w, h, luma.into_raw()).ok_or_else(|| {
                Error::new(ErrorKind::Protocol, "camera frame has the wrong size")
            })?;
            Ok(super::decode(&gray))
        }
    }
}
