//! Screenshots for the agent (an operator's remote command): on its request the kiosk draws its
//! screen again for a few frames (it sleeps between changes), captures the window and hands the
//! pixels to the agent worker, which encodes the PNG off the frame loop and posts it back under
//! the request's id.

use std::sync::Arc;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use menpai_model::api::AgentEvent;

use crate::agent::{AgentLink, AgentPush, AgentStatus, Pixels, Request, send};
use crate::nav::KeepAwake;

/// Frames drawn before the capture, so a sleeping kiosk's screen is drawn whole again.
const SETTLE_FRAMES: u8 = 3;

pub(crate) fn plugin(app: &mut App) {
    app.add_systems(Update, capture_when_asked);
}

/// Requests and the frames each still waits.
fn capture_when_asked(
    mut commands: Commands,
    mut pushes: MessageReader<AgentPush>,
    mut waiting: Local<Vec<(String, u8)>>,
    mut keep: ResMut<KeepAwake>,
) {
    for push in pushes.read() {
        if let AgentPush::Event(AgentEvent::ScreenshotWanted { id }) = push {
            info!(%id, "The agent asks for a screenshot.");
            waiting.push((id.clone(), SETTLE_FRAMES));
        }
    }
    let mut due = Vec::new();
    waiting.retain_mut(|(id, frames)| {
        if *frames == 0 {
            due.push(std::mem::take(id));
            return false;
        }
        *frames -= 1;
        true
    });
    if !waiting.is_empty() || !due.is_empty() {
        // Frames for the settling and for the capture's readback.
        keep.0 = keep.0.max(SETTLE_FRAMES + 3);
    }
    for id in due {
        commands.spawn(Screenshot::primary_window()).observe(
            move |captured: On<ScreenshotCaptured>,
                  link: Option<Res<AgentLink>>,
                  mut status: ResMut<AgentStatus>| {
                let Some(link) = link else { return };
                match captured.image.clone().try_into_dynamic() {
                    Ok(img) => {
                        // Without alpha: it holds brightness, not transparency, on some setups.
                        let rgb = img.to_rgb8();
                        let pixels = Pixels {
                            width: rgb.width(),
                            height: rgb.height(),
                            rgb: Arc::new(rgb.into_raw()),
                        };
                        send(
                            &link,
                            &mut status,
                            Request::Screenshot {
                                id: id.clone(),
                                pixels,
                            },
                        );
                    }
                    Err(e) => warn!(error = %e, "The screenshot could not be read."),
                }
            },
        );
    }
}
