//! The device manager: opens the peripherals the config names, reconnects them with backoff,
//! reports their health, routes scans and button presses to the UI's event stream, and runs
//! print and LED jobs. Serial I/O blocks, so each device has its own thread, started by its
//! module's `spawn(config, ctx)`.

pub mod backend;
pub mod backoff;
mod camera;
pub mod config;
mod context;
mod gpio;
mod led;
mod printer;
mod reading;
mod scanner;
mod voice;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use menpai_drivers::gpio::SimGpio;
use menpai_drivers::led::LedMessage;
use menpai_drivers::printer::PrinterTwin;
use menpai_drivers::voice::Announcement;
use menpai_model::api::{AgentEvent, DeviceHealth, DeviceState, ReadingState};
use tokio::sync::{broadcast, oneshot};

use backend::Backend;
pub use backoff::Backoff;
use config::DevicesConfig;
use context::Ctx;
pub use printer::PrintError;

/// The running peripherals: a handle per fitted device.
pub struct Devices {
    ctx: Ctx,
    columns: usize,
    scanner: Option<scanner::ScannerHandle>,
    printer: Option<printer::PrinterHandle>,
    led: Option<led::LedHandle>,
    gpio: Option<gpio::GpioHandle>,
    camera: Option<camera::CameraHandle>,
    voice: Option<voice::VoiceHandle>,
    /// Prints under way (the update lock waits for them).
    printing: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices")
            .field("health", &self.ctx.health)
            .finish()
    }
}

impl Drop for Devices {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `spawn` when the device is fitted.
fn fitted<C, H>(
    backend: Backend,
    config: &C,
    ctx: &Ctx,
    spawn: fn(&C, &Ctx) -> anyhow::Result<H>,
) -> anyhow::Result<Option<H>> {
    if backend == Backend::None {
        return Ok(None);
    }
    spawn(config, ctx).map(Some)
}

impl Devices {
    /// No devices at all.
    pub fn disabled() -> Self {
        Devices {
            ctx: Ctx::new(broadcast::channel(1).0),
            columns: 32,
            scanner: None,
            printer: None,
            led: None,
            gpio: None,
            camera: None,
            voice: None,
            printing: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Starts a thread per configured device. Simulated devices get their twins here.
    pub fn start(
        config: &DevicesConfig,
        events: broadcast::Sender<AgentEvent>,
    ) -> anyhow::Result<Self> {
        let ctx = Ctx::new(events);
        for (name, backend) in config.backends() {
            let (state, detail) = match backend {
                Backend::None => (DeviceState::Disabled, "未配置"),
                _ => (DeviceState::Down, "正在连接"),
            };
            ctx.reporter(name, backend).set(state, detail);
        }
        let mut d = Devices::disabled();
        d.columns = config.printer.columns;
        d.ctx = ctx;
        let (c, ctx) = (config, &d.ctx);
        d.scanner = fitted(c.scanner.backend, &c.scanner, ctx, scanner::spawn)?;
        d.printer = fitted(c.printer.backend, &c.printer, ctx, printer::spawn)?;
        d.led = fitted(c.led.backend, &c.led, ctx, led::spawn)?;
        d.voice = fitted(c.voice.backend, &c.voice, ctx, voice::spawn)?;
        d.camera = fitted(c.camera.backend, &c.camera, ctx, camera::spawn)?;
        d.gpio = fitted(c.gpio.backend, &c.gpio, ctx, gpio::spawn)?;
        Ok(d)
    }

    /// Stops every device thread and waits for each, so none is cut off mid-write.
    pub fn stop(&self) {
        self.ctx.stop_and_join();
    }

    /// Every device's health, by name.
    pub fn health(&self) -> BTreeMap<String, DeviceHealth> {
        let map = self.ctx.health.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// Characters per printed line.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Prints a job; fails with a plain reason when the printer cannot print now.
    pub async fn print(&self, job: Vec<u8>) -> Result<(), PrintError> {
        let Some(p) = &self.printer else {
            return Err(PrintError {
                reason: "本机没有打印机".into(),
            });
        };
        // Counted until it ends, even when the asker gives up waiting.
        struct Printing<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Printing<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        self.printing
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _counted = Printing(&self.printing);
        p.print(job).await
    }

    /// A print is under way.
    pub fn printing(&self) -> bool {
        self.printing.load(std::sync::atomic::Ordering::SeqCst) > 0
    }

    /// Blinks the status LED `times` times (about 0.4 s each); fails without GPIO.
    pub async fn blink_status_led(&self, times: u32) -> Result<(), String> {
        let g = self.gpio.as_ref().ok_or("本机没有配置 GPIO")?;
        let (reply, answer) = oneshot::channel();
        g.blinks
            .send(gpio::BlinkRequest { times, reply })
            .map_err(|_| "GPIO 线程已停止".to_owned())?;
        match tokio::time::timeout(Duration::from_secs(5 + u64::from(times)), answer).await {
            Ok(Ok(result)) => result,
            _ => Err("GPIO 没有响应".into()),
        }
    }

    /// Frames grabbed by the camera since start, when there is one.
    pub fn camera_frames(&self) -> Option<u64> {
        self.camera
            .as_ref()
            .map(|c| c.frames.load(Ordering::Relaxed))
    }

    /// Shows a message on the LED bar, if there is one; never blocks.
    pub fn show_on_led(&self, message: LedMessage) {
        if let Some(l) = &self.led {
            let _ = l.messages.send(message);
        }
    }

    /// Says an announcement, if there is a voice; never blocks (calls are said in turn).
    pub fn say(&self, a: Announcement) {
        if let Some(v) = &self.voice {
            let _ = v.announcements.send(a);
        }
    }

    /// Reads `a` aloud at the plate, cutting off the reading before; fails without a voice.
    pub fn read_aloud(&self, a: Announcement) -> Result<ReadingState, String> {
        let v = self.voice.as_ref().ok_or("本机没有配置语音")?;
        Ok(v.reading.read(a))
    }

    /// Stops the reading aloud, if one sounds; returns the state it leaves.
    pub fn stop_reading(&self) -> ReadingState {
        self.voice
            .as_ref()
            .map(|v| v.reading.stop())
            .unwrap_or_default()
    }

    /// The newest reading aloud.
    pub fn reading(&self) -> ReadingState {
        self.voice
            .as_ref()
            .map(|v| v.reading.state())
            .unwrap_or_default()
    }

    /// Where the simulated voice writes its WAV files.
    pub fn wav_dir(&self) -> Option<&std::path::Path> {
        self.voice.as_ref()?.wav_dir.as_deref()
    }

    /// Types a scan into the simulated scanner, as a person holding a code to it would.
    pub fn simulate_scan(&self, payload: &[u8]) -> Result<(), String> {
        self.scanner
            .as_ref()
            .ok_or("the scanner is not simulated")?
            .simulate_scan(payload)
    }

    /// The simulated printer, for its output and to change its paper state.
    pub fn printer_twin(&self) -> Option<&PrinterTwin> {
        self.printer.as_ref()?.twin.as_deref()
    }

    /// Frames the simulated LED bar received.
    pub fn led_frames(&self) -> Option<Vec<(u8, LedMessage)>> {
        self.led.as_ref()?.twin_frames()
    }

    pub fn gpio_twin(&self) -> Option<&SimGpio> {
        self.gpio.as_ref()?.twin.as_ref()
    }
}
