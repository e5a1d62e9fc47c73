//! The GPIO lines: presence sensor and help button in, the status LED out (lit while every
//! fitted device works).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use menpai_drivers::gpio::{Debouncer, Edge, Gpio, SimGpio};
use menpai_model::api::{AgentEvent, DeviceState};
use serde::Deserialize;
use tokio::sync::oneshot;

use super::backend::Backend;
use super::context::{Ctx, Reporter};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GpioConfig {
    /// rpi (an agent built with the `rpi` feature), simulated or none.
    pub backend: Backend,
    /// BCM pin of the presence sensor.
    pub presence_pin: u8,
    /// BCM pin of the help button.
    pub help_button_pin: u8,
    /// BCM pin of the status LED.
    pub status_led_pin: u8,
    /// An input must hold this long to count as changed.
    pub debounce_ms: u64,
}

impl Default for GpioConfig {
    fn default() -> Self {
        GpioConfig {
            backend: Backend::Simulated,
            presence_pin: 17,
            help_button_pin: 27,
            status_led_pin: 22,
            debounce_ms: 30,
        }
    }
}

impl GpioConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        if !matches!(
            self.backend,
            Backend::Rpi | Backend::Simulated | Backend::None
        ) {
            return Err(format!(
                "devices.gpio.backend `{}` is not possible for GPIO",
                self.backend.name()
            ));
        }
        Ok(())
    }

    /// Checked last, as before the split: a build without GPIO support.
    pub(super) fn validate_build(&self) -> Result<(), String> {
        if self.backend == Backend::Rpi && !cfg!(feature = "rpi") {
            return Err(
                "devices.gpio.backend `rpi` needs an agent built with the `rpi` feature".into(),
            );
        }
        Ok(())
    }
}

/// Blink the status LED this many times (a self-test), then show health again.
pub(super) struct BlinkRequest {
    pub(super) times: u32,
    pub(super) reply: oneshot::Sender<Result<(), String>>,
}

/// Running GPIO: where blink requests go, and the simulated lines.
pub(super) struct GpioHandle {
    pub(super) blinks: mpsc::Sender<BlinkRequest>,
    pub(super) twin: Option<SimGpio>,
}

/// Opens the lines and starts their thread.
pub(super) fn spawn(config: &GpioConfig, ctx: &Ctx) -> anyhow::Result<GpioHandle> {
    let c = config;
    let (gpio, twin): (Box<dyn Gpio>, _) = match c.backend {
        #[cfg(feature = "rpi")]
        Backend::Rpi => (
            Box::new(menpai_drivers::gpio::rpi::RpiGpio::open(
                menpai_drivers::gpio::rpi::Pins {
                    presence: c.presence_pin,
                    help_button: c.help_button_pin,
                    status_led: c.status_led_pin,
                },
            )?),
            None,
        ),
        _ => {
            let sim = SimGpio::default();
            (Box::new(sim.clone()), Some(sim))
        }
    };
    let (r, ctx2) = (ctx.reporter("gpio", c.backend), ctx.clone());
    let window = Duration::from_millis(c.debounce_ms);
    let (blinks, rx) = mpsc::channel();
    ctx.thread("gpio", move || run(gpio, window, &r, &rx, &ctx2))?;
    Ok(GpioHandle { blinks, twin })
}

/// Polls the inputs (debounced edges go to the event stream), keeps the status LED in step
/// with the devices' health, and blinks it on request.
fn run(
    mut gpio: Box<dyn Gpio>,
    window: Duration,
    r: &Reporter,
    blinks: &mpsc::Receiver<BlinkRequest>,
    ctx: &Ctx,
) {
    let now = Instant::now();
    let mut presence = Debouncer::new(false, window, now);
    let mut help = Debouncer::new(false, window, now);
    let mut led_on = None;
    let events = &ctx.events;
    r.set(DeviceState::Ok, "就绪");
    while !ctx.stopping() {
        let now = Instant::now();
        match (gpio.presence(), gpio.help_button()) {
            (Ok(p), Ok(h)) => {
                r.set(DeviceState::Ok, "就绪");
                match presence.update(p, now) {
                    Some(Edge::Rising) => drop(events.send(AgentEvent::Presence { present: true })),
                    Some(Edge::Falling) => {
                        drop(events.send(AgentEvent::Presence { present: false }))
                    }
                    None => {}
                }
                if help.update(h, now) == Some(Edge::Rising) {
                    tracing::info!("Help button pressed.");
                    let _ = events.send(AgentEvent::HelpRequested);
                }
            }
            (Err(e), _) | (_, Err(e)) => r.set(DeviceState::Down, e.message),
        }
        // The status LED is lit while every fitted device works.
        let healthy = ctx
            .health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .all(|h| {
                matches!(
                    h.state,
                    DeviceState::Ok | DeviceState::Degraded | DeviceState::Disabled
                )
            });
        if led_on != Some(healthy) && gpio.set_status_led(healthy).is_ok() {
            led_on = Some(healthy);
        }
        if let Ok(BlinkRequest { times, reply }) = blinks.try_recv() {
            let mut result = Ok(());
            for on in (0..times).flat_map(|_| [!healthy, healthy]) {
                if let Err(e) = gpio.set_status_led(on) {
                    result = Err(format!("状态灯写入失败：{}", e.message));
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            led_on = None;
            let _ = reply.send(result);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
