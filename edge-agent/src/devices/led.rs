//! The LED bar above the terminal (RS-485): shows calls; the last message is shown again after
//! a reconnection.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use menpai_drivers::led::{LedMessage, LedTwin, MenpaiFraming, QueueDisplay, SerialLedBar};
use menpai_model::api::DeviceState;
use serde::Deserialize;

use super::backend::Backend;
use super::context::{Ctx, Reporter, reconnect_backoff, resolve};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedConfig {
    /// serial, simulated (a twin on a pseudo-terminal) or none.
    pub backend: Backend,
    /// Serial device path of the bus adapter.
    pub path: String,
    /// Find the adapter by USB id `vid:pid` instead of a path.
    pub usb_id: String,
    /// Line speed of the bus.
    pub baud: u32,
    /// The bar's address on its RS-485 bus.
    pub address: u8,
}

impl Default for LedConfig {
    fn default() -> Self {
        LedConfig {
            backend: Backend::Simulated,
            path: String::new(),
            usb_id: String::new(),
            baud: 9600,
            address: 1,
        }
    }
}

impl LedConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        use Backend::{None, Serial, Simulated};
        self.backend
            .check_serial_like("led", &self.path, &self.usb_id, &[Serial, Simulated, None])
    }
}

/// A running LED bar: where messages go, and the simulated one's other end.
pub(super) struct LedHandle {
    pub(super) messages: mpsc::Sender<LedMessage>,
    twin: Option<Arc<Mutex<LedTwin>>>,
}

impl LedHandle {
    /// Frames the simulated LED bar received.
    pub(super) fn twin_frames(&self) -> Option<Vec<(u8, LedMessage)>> {
        let twin = self.twin.as_ref()?;
        twin.lock().unwrap_or_else(|e| e.into_inner()).frames().ok()
    }
}

/// Starts the LED bar's thread; a simulated bar gets its twin here.
pub(super) fn spawn(config: &LedConfig, ctx: &Ctx) -> anyhow::Result<LedHandle> {
    let c = config.clone();
    let mut twin = None;
    let path = if c.backend == Backend::Simulated {
        let t = LedTwin::start()?;
        let path = t.device_path();
        twin = Some(Arc::new(Mutex::new(t)));
        path
    } else {
        c.path.clone()
    };
    let (messages, rx) = mpsc::channel();
    let (r, ctx2) = (ctx.reporter("led", c.backend), ctx.clone());
    ctx.thread("led", move || {
        run(&path, &c.usb_id, c.baud, c.address, rx, &r, &ctx2)
    })?;
    Ok(LedHandle { messages, twin })
}

fn run(
    path: &str,
    usb_id: &str,
    baud: u32,
    address: u8,
    messages: mpsc::Receiver<LedMessage>,
    r: &Reporter,
    ctx: &Ctx,
) {
    let mut backoff = reconnect_backoff();
    let mut bar: Option<SerialLedBar> = None;
    let mut retry_at = Instant::now();
    let mut last: Option<LedMessage> = None;
    while !ctx.stopping() {
        if bar.is_none() && Instant::now() >= retry_at {
            match resolve(path, usb_id).and_then(|p| {
                SerialLedBar::open(&p, baud, address, Box::new(MenpaiFraming))
                    .map_err(|e| e.message)
            }) {
                Ok(mut b) => {
                    // Show again what the bar should be showing.
                    if let Some(m) = &last {
                        let _ = b.show(m);
                    }
                    r.opened();
                    r.set(DeviceState::Ok, "就绪");
                    backoff.reset();
                    bar = Some(b);
                }
                Err(e) => {
                    r.set(DeviceState::Down, format!("无法打开：{e}"));
                    retry_at = Instant::now() + backoff.next_delay();
                }
            }
        }
        match messages.recv_timeout(Duration::from_millis(200)) {
            Ok(m) => {
                if let Some(b) = bar.as_mut()
                    && let Err(e) = b.show(&m)
                {
                    r.set(DeviceState::Down, format!("发送失败：{}", e.message));
                    bar = None;
                    retry_at = Instant::now() + backoff.next_delay();
                }
                last = Some(m);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}
