//! The camera that reads QR codes held up to it (V4L2), or the twin that sees image files.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use menpai_drivers::qr::{FileCamera, QrCamera};
use menpai_model::api::{AgentEvent, DeviceState};
use serde::Deserialize;

use super::backend::Backend;
use super::context::{Ctx, Reporter, STABLE_AFTER, reconnect_backoff};

/// How long the same code in view is one scan, not many.
const SAME_CODE_WINDOW: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CameraConfig {
    /// v4l (an agent built with the `camera` feature), simulated or none.
    pub backend: Backend,
    /// V4L2 camera index (`/dev/video<index>`).
    pub index: u32,
    /// Frame width asked of the camera, in pixels.
    pub width: u32,
    /// Frame height asked of the camera, in pixels.
    pub height: u32,
    /// Frames decoded per second at most.
    pub decodes_per_s: u32,
    /// Images the simulated camera sees, in name order.
    pub frames_dir: String,
}

impl Default for CameraConfig {
    fn default() -> Self {
        CameraConfig {
            backend: Backend::None,
            index: 0,
            width: 640,
            height: 480,
            decodes_per_s: 10,
            frames_dir: String::new(),
        }
    }
}

impl CameraConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        match self.backend {
            Backend::V4l if !cfg!(feature = "camera") => {
                return Err(
                    "devices.camera.backend `v4l` needs an agent built with the `camera` feature"
                        .into(),
                );
            }
            Backend::Simulated if self.frames_dir.is_empty() => {
                return Err("devices.camera.frames_dir must name a directory of images".into());
            }
            Backend::V4l | Backend::Simulated | Backend::None => {}
            other => {
                return Err(format!(
                    "devices.camera.backend `{}` is not possible for a camera",
                    other.name()
                ));
            }
        }
        if !(1..=60).contains(&self.decodes_per_s) {
            return Err("devices.camera.decodes_per_s must be between 1 and 60".into());
        }
        Ok(())
    }
}

/// A running camera: how many frames it has grabbed since start.
pub(super) struct CameraHandle {
    pub(super) frames: Arc<AtomicU64>,
}

/// Starts the camera's thread.
pub(super) fn spawn(config: &CameraConfig, ctx: &Ctx) -> anyhow::Result<CameraHandle> {
    let c = config.clone();
    let frames = Arc::new(AtomicU64::new(0));
    let (r, ctx2, counter) = (
        ctx.reporter("camera", c.backend),
        ctx.clone(),
        frames.clone(),
    );
    ctx.thread("camera", move || run(&c, &r, &counter, &ctx2))?;
    Ok(CameraHandle { frames })
}

/// Opens the configured camera: the real one, or the twin that sees image files.
fn open(c: &CameraConfig) -> Result<Box<dyn QrCamera>, String> {
    match c.backend {
        #[cfg(feature = "camera")]
        Backend::V4l => menpai_drivers::qr::camera::NokhwaCamera::open(c.index, c.width, c.height)
            .map(|cam| Box::new(cam) as Box<dyn QrCamera>)
            .map_err(|e| e.message),
        _ => {
            if !std::path::Path::new(&c.frames_dir).is_dir() {
                return Err(format!("{} is not a directory", c.frames_dir));
            }
            Ok(Box::new(FileCamera::new(&c.frames_dir)))
        }
    }
}

/// Decodes frames at the configured pace; a code seen again within a few seconds is one scan.
fn run(c: &CameraConfig, r: &Reporter, frames: &AtomicU64, ctx: &Ctx) {
    let mut backoff = reconnect_backoff();
    let period = Duration::from_secs(1) / c.decodes_per_s.max(1);
    let mut last: Option<(String, Instant)> = None;
    while !ctx.stopping() {
        let mut camera = match open(c) {
            Ok(cam) => cam,
            Err(e) => {
                r.set(DeviceState::Down, format!("无法打开：{e}"));
                ctx.pause(backoff.next_delay());
                continue;
            }
        };
        r.opened();
        r.set(DeviceState::Ok, "就绪");
        let opened = Instant::now();
        while !ctx.stopping() {
            if opened.elapsed() > STABLE_AFTER {
                backoff.reset();
            }
            let started = Instant::now();
            match camera.next_codes() {
                Ok(codes) => {
                    frames.fetch_add(1, Ordering::Relaxed);
                    for code in codes {
                        let repeat = last
                            .as_ref()
                            .is_some_and(|(p, at)| *p == code && at.elapsed() < SAME_CODE_WINDOW);
                        if !repeat {
                            tracing::info!(bytes = code.len(), "QR code seen by the camera.");
                            let _ = ctx.events.send(AgentEvent::Scan {
                                payload: code.clone(),
                                source: "camera".into(),
                            });
                        }
                        last = Some((code, Instant::now()));
                    }
                }
                Err(e) => {
                    r.set(DeviceState::Down, format!("取帧失败：{}", e.message));
                    break;
                }
            }
            ctx.pause(period.saturating_sub(started.elapsed()));
        }
        ctx.pause(backoff.next_delay());
    }
}
