//! The device manager: opens the peripherals the config names, reconnects them with backoff,
//! reports their health, routes scans and button presses to the UI's event stream, and runs
//! print and LED jobs. Serial I/O blocks, so each device has its own thread.

pub mod backoff;
pub mod config;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use menpai_drivers::escpos::PrinterStatus;
use menpai_drivers::gpio::{Debouncer, Edge, Gpio, SimGpio};
use menpai_drivers::led::{LedMessage, LedTwin, MenpaiFraming, QueueDisplay, SerialLedBar};
use menpai_drivers::printer::{Printer, PrinterTwin, SerialPrinter, UsbLpPrinter};
use menpai_drivers::qr::{FileCamera, QrCamera};
use menpai_drivers::scanner::{FramingConfig, Scanner, SerialScanner, Suffix};
use menpai_drivers::serial::{self, PtyPair};
use menpai_drivers::voice::{Announcement, Espeak, EspeakConfig, Voice, WavTwin};
use menpai_model::api::{AgentEvent, DeviceHealth, DeviceState};
use tokio::sync::{broadcast, oneshot};

pub use backoff::Backoff;
use config::{Backend, DevicesConfig};

/// First and longest wait between reconnection attempts.
const RECONNECT_BASE: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(30);
/// A device up this long counts as reconnected for good: the backoff starts over.
const STABLE_AFTER: Duration = Duration::from_secs(5);

type HealthMap = Arc<Mutex<BTreeMap<&'static str, DeviceHealth>>>;

/// Updates one device's health and tells the UI when it changes.
#[derive(Clone)]
struct Reporter {
    device: &'static str,
    backend: &'static str,
    health: HealthMap,
    /// Devices that have worked at least once since the agent started.
    ever_up: Arc<Mutex<std::collections::BTreeSet<&'static str>>>,
    events: broadcast::Sender<AgentEvent>,
}

impl Reporter {
    /// The device was opened: after the first time, that is a reconnection (a paper refill or
    /// a closed cover is not).
    fn opened(&self) {
        let again = !self
            .ever_up
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.device);
        if again
            && let Some(h) = self
                .health
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_mut(self.device)
        {
            h.reconnects += 1;
        }
    }

    fn set(&self, state: DeviceState, detail: impl Into<String>) {
        let detail = detail.into();
        let mut map = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(self.device).or_insert_with(|| DeviceHealth {
            backend: self.backend.into(),
            state: DeviceState::Disabled,
            detail: String::new(),
            reconnects: 0,
        });
        if entry.state == state && entry.detail == detail {
            return;
        }
        entry.state = state;
        entry.detail = detail;
        if state == DeviceState::Down {
            tracing::warn!(device = self.device, detail = %entry.detail, "Device down.");
        } else {
            tracing::info!(device = self.device, state = ?state, detail = %entry.detail, "Device state changed.");
        }
        let _ = self.events.send(AgentEvent::DeviceChanged {
            device: self.device.into(),
            health: entry.clone(),
        });
    }
}

/// Why a print did not happen, in words for the citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintError {
    pub reason: String,
}

/// Blink the status LED this many times (a self-test), then show health again.
struct BlinkRequest {
    times: u32,
    reply: oneshot::Sender<Result<(), String>>,
}

struct PrintRequest {
    job: Vec<u8>,
    reply: oneshot::Sender<Result<(), PrintError>>,
}

/// The simulated devices' other ends, for the demo and tests.
#[derive(Default)]
struct Twins {
    scanner: Option<(Arc<Mutex<serialport::TTYPort>>, Suffix)>,
    printer: Option<Arc<PrinterTwin>>,
    led: Option<Arc<Mutex<LedTwin>>>,
    gpio: Option<SimGpio>,
}

/// The running peripherals.
pub struct Devices {
    health: HealthMap,
    ever_up: Arc<Mutex<std::collections::BTreeSet<&'static str>>>,
    printer: Option<mpsc::Sender<PrintRequest>>,
    led: Option<mpsc::Sender<LedMessage>>,
    voice: Option<mpsc::Sender<Announcement>>,
    blink: Option<mpsc::Sender<BlinkRequest>>,
    /// Frames the camera has grabbed since start (None without a camera).
    camera_frames: Option<Arc<std::sync::atomic::AtomicU64>>,
    wav_dir: Option<std::path::PathBuf>,
    columns: usize,
    twins: Twins,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices")
            .field("health", &self.health)
            .finish()
    }
}

impl Drop for Devices {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.printer = None;
        self.led = None;
        self.voice = None;
        self.blink = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Sleeps in short slices so a stop request is honoured quickly.
fn pause(stop: &AtomicBool, total: Duration) {
    let end = Instant::now() + total;
    while !stop.load(Ordering::Relaxed) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20).min(end - Instant::now()));
    }
}

/// The device path: configured, found by USB id, or the twin's.
fn resolve(path: &str, usb_id: &str) -> Result<String, String> {
    if !usb_id.is_empty() {
        let (vid, pid) = serial::parse_vid_pid(usb_id).map_err(|e| e.message)?;
        return serial::find_usb(vid, pid).ok_or_else(|| format!("未找到 USB 设备 {usb_id}"));
    }
    Ok(path.to_owned())
}

impl Devices {
    /// No devices at all.
    pub fn disabled() -> Self {
        Devices {
            health: HealthMap::default(),
            ever_up: Arc::default(),
            printer: None,
            led: None,
            voice: None,
            blink: None,
            camera_frames: None,
            wav_dir: None,
            columns: 32,
            twins: Twins::default(),
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
        }
    }

    /// Starts a thread per configured device. Simulated devices get their twins here.
    pub fn start(
        config: &DevicesConfig,
        events: broadcast::Sender<AgentEvent>,
    ) -> anyhow::Result<Self> {
        let mut d = Devices::disabled();
        d.columns = config.printer.columns;
        let reporter = |device: &'static str, backend: Backend| Reporter {
            device,
            backend: backend.name(),
            health: d.health.clone(),
            ever_up: d.ever_up.clone(),
            events: events.clone(),
        };
        for (name, backend) in [
            ("scanner", config.scanner.backend),
            ("printer", config.printer.backend),
            ("led", config.led.backend),
            ("gpio", config.gpio.backend),
            ("camera", config.camera.backend),
            ("voice", config.voice.backend),
        ] {
            let state = if backend == Backend::None {
                DeviceState::Disabled
            } else {
                DeviceState::Down
            };
            let detail = if backend == Backend::None {
                "未配置"
            } else {
                "正在连接"
            };
            reporter(name, backend).set(state, detail);
        }

        // Scanner.
        let c = config.scanner.clone();
        if c.backend != Backend::None {
            let framing = FramingConfig {
                suffix: Suffix::parse(&c.suffix)?,
                inter_byte_timeout: Duration::from_millis(c.inter_byte_timeout_ms),
                max_len: c.max_len,
            };
            let path = if c.backend == Backend::Simulated {
                let pair = PtyPair::new()?;
                let path = pair.device_path.display().to_string();
                d.twins.scanner = Some((Arc::new(Mutex::new(pair.twin)), framing.suffix));
                path
            } else {
                c.path.clone()
            };
            let (r, stop) = (reporter("scanner", c.backend), d.stop.clone());
            let events = events.clone();
            let probe = c.probe().map_err(anyhow::Error::msg)?;
            d.threads
                .push(
                    std::thread::Builder::new()
                        .name("scanner".into())
                        .spawn(move || {
                            run_scanner(
                                &path, &c.usb_id, c.baud, framing, &probe, &r, &events, &stop,
                            )
                        })?,
                );
        }

        // Printer.
        let c = config.printer.clone();
        if c.backend != Backend::None {
            let path = if c.backend == Backend::Simulated {
                let twin = Arc::new(PrinterTwin::start(PrinterStatus {
                    online: true,
                    ..Default::default()
                })?);
                let path = twin.device_path_str();
                d.twins.printer = Some(twin);
                path
            } else {
                c.path.clone()
            };
            let (tx, rx) = mpsc::channel();
            d.printer = Some(tx);
            let (r, stop) = (reporter("printer", c.backend), d.stop.clone());
            let poll = Duration::from_secs(c.status_poll_s.max(1));
            d.threads
                .push(
                    std::thread::Builder::new()
                        .name("printer".into())
                        .spawn(move || {
                            run_printer(c.backend, &path, &c.usb_id, c.baud, poll, rx, &r, &stop)
                        })?,
                );
        }

        // LED bar.
        let c = config.led.clone();
        if c.backend != Backend::None {
            let path = if c.backend == Backend::Simulated {
                let twin = LedTwin::start()?;
                let path = twin.device_path();
                d.twins.led = Some(Arc::new(Mutex::new(twin)));
                path
            } else {
                c.path.clone()
            };
            let (tx, rx) = mpsc::channel();
            d.led = Some(tx);
            let (r, stop) = (reporter("led", c.backend), d.stop.clone());
            d.threads.push(
                std::thread::Builder::new()
                    .name("led".into())
                    .spawn(move || run_led(&path, &c.usb_id, c.baud, c.address, rx, &r, &stop))?,
            );
        }

        // Voice.
        let c = config.voice.clone();
        if c.backend != Backend::None {
            let espeak = EspeakConfig {
                program: c.program.clone().into(),
                voice: c.voice.clone(),
                speed: c.speed,
            };
            let voice: Box<dyn Voice> = if c.backend == Backend::Simulated {
                let dir = match c.wav_dir.as_str() {
                    "" => std::env::temp_dir().join("menpai-voice"),
                    d => d.into(),
                };
                d.wav_dir = Some(dir.clone());
                Box::new(WavTwin::new(espeak, &dir)?)
            } else {
                Box::new(Espeak {
                    config: espeak,
                    repeat: c.repeat,
                })
            };
            let (tx, rx) = mpsc::channel();
            d.voice = Some(tx);
            let (r, stop) = (reporter("voice", c.backend), d.stop.clone());
            d.threads.push(
                std::thread::Builder::new()
                    .name("voice".into())
                    .spawn(move || run_voice(voice, rx, &r, &stop))?,
            );
        }

        // Camera.
        let c = config.camera.clone();
        if c.backend != Backend::None {
            let (r, stop) = (reporter("camera", c.backend), d.stop.clone());
            let events = events.clone();
            let frames = Arc::new(std::sync::atomic::AtomicU64::new(0));
            d.camera_frames = Some(frames.clone());
            d.threads.push(
                std::thread::Builder::new()
                    .name("camera".into())
                    .spawn(move || run_camera(&c, &r, &events, &frames, &stop))?,
            );
        }

        // GPIO.
        let c = config.gpio.clone();
        if c.backend != Backend::None {
            let gpio: Box<dyn Gpio> = match c.backend {
                #[cfg(feature = "rpi")]
                Backend::Rpi => Box::new(menpai_drivers::gpio::rpi::RpiGpio::open(
                    menpai_drivers::gpio::rpi::Pins {
                        presence: c.presence_pin,
                        help_button: c.help_button_pin,
                        status_led: c.status_led_pin,
                    },
                )?),
                _ => {
                    let sim = SimGpio::default();
                    d.twins.gpio = Some(sim.clone());
                    Box::new(sim)
                }
            };
            let (r, stop, health) = (
                reporter("gpio", c.backend),
                d.stop.clone(),
                d.health.clone(),
            );
            let events = events.clone();
            let window = Duration::from_millis(c.debounce_ms);
            let (tx, blinks) = mpsc::channel();
            d.blink = Some(tx);
            d.threads.push(
                std::thread::Builder::new()
                    .name("gpio".into())
                    .spawn(move || run_gpio(gpio, window, &r, &health, &events, &blinks, &stop))?,
            );
        }
        Ok(d)
    }

    /// Every device's health, by name.
    pub fn health(&self) -> BTreeMap<String, DeviceHealth> {
        let map = self.health.lock().unwrap_or_else(|e| e.into_inner());
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
        let unavailable = || PrintError {
            reason: "本机没有打印机".into(),
        };
        let tx = self.printer.as_ref().ok_or_else(unavailable)?;
        let (reply, answer) = oneshot::channel();
        tx.send(PrintRequest { job, reply })
            .map_err(|_| unavailable())?;
        match tokio::time::timeout(Duration::from_secs(30), answer).await {
            Ok(Ok(result)) => result,
            _ => Err(PrintError {
                reason: "打印机没有响应".into(),
            }),
        }
    }

    /// Blinks the status LED `times` times (about 0.4 s each); fails without GPIO.
    pub async fn blink_status_led(&self, times: u32) -> Result<(), String> {
        let tx = self.blink.as_ref().ok_or("本机没有配置 GPIO")?;
        let (reply, answer) = oneshot::channel();
        tx.send(BlinkRequest { times, reply })
            .map_err(|_| "GPIO 线程已停止".to_owned())?;
        match tokio::time::timeout(Duration::from_secs(5 + u64::from(times)), answer).await {
            Ok(Ok(result)) => result,
            _ => Err("GPIO 没有响应".into()),
        }
    }

    /// Frames grabbed by the camera since start, when there is one.
    pub fn camera_frames(&self) -> Option<u64> {
        self.camera_frames
            .as_ref()
            .map(|f| f.load(Ordering::Relaxed))
    }

    /// Shows a message on the LED bar, if there is one; never blocks.
    pub fn show_on_led(&self, message: LedMessage) {
        if let Some(tx) = &self.led {
            let _ = tx.send(message);
        }
    }

    /// Says an announcement, if there is a voice; never blocks (calls are said in turn).
    pub fn say(&self, a: Announcement) {
        if let Some(tx) = &self.voice {
            let _ = tx.send(a);
        }
    }

    /// Where the simulated voice writes its WAV files.
    pub fn wav_dir(&self) -> Option<&std::path::Path> {
        self.wav_dir.as_deref()
    }

    /// Types a scan into the simulated scanner, as a person holding a code to it would.
    pub fn simulate_scan(&self, payload: &[u8]) -> Result<(), String> {
        let (twin, suffix) = self
            .twins
            .scanner
            .as_ref()
            .ok_or("the scanner is not simulated")?;
        let mut t = twin.lock().unwrap_or_else(|e| e.into_inner());
        t.write_all(payload)
            .and_then(|_| t.write_all(suffix.bytes()))
            .map_err(|e| e.to_string())
    }

    /// The simulated printer, for its output and to change its paper state.
    pub fn printer_twin(&self) -> Option<&PrinterTwin> {
        self.twins.printer.as_deref()
    }

    /// Frames the simulated LED bar received.
    pub fn led_frames(&self) -> Option<Vec<(u8, LedMessage)>> {
        let twin = self.twins.led.as_ref()?;
        twin.lock().unwrap_or_else(|e| e.into_inner()).frames().ok()
    }

    pub fn gpio_twin(&self) -> Option<&SimGpio> {
        self.twins.gpio.as_ref()
    }
}

/// Says announcements in turn; a failure marks the voice down until one succeeds.
fn run_voice(
    mut voice: Box<dyn Voice>,
    announcements: mpsc::Receiver<Announcement>,
    r: &Reporter,
    stop: &AtomicBool,
) {
    r.opened();
    r.set(DeviceState::Ok, "就绪");
    while !stop.load(Ordering::Relaxed) {
        match announcements.recv_timeout(Duration::from_millis(200)) {
            Ok(a) => match voice.say(&a) {
                Ok(()) => r.set(DeviceState::Ok, "就绪"),
                Err(e) => {
                    tracing::warn!(error = %e, text = %a.text, "A call could not be spoken.");
                    r.set(DeviceState::Down, format!("无法播报：{}", e.message));
                }
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[allow(clippy::too_many_arguments)] // one thread's whole context, passed once
fn run_scanner(
    path: &str,
    usb_id: &str,
    baud: u32,
    framing: FramingConfig,
    probe: &[u8],
    r: &Reporter,
    events: &broadcast::Sender<AgentEvent>,
    stop: &AtomicBool,
) {
    let mut backoff = Backoff::new(RECONNECT_BASE, RECONNECT_MAX);
    while !stop.load(Ordering::Relaxed) {
        let opened = resolve(path, usb_id).and_then(|p| {
            SerialScanner::open(&p, baud, framing.clone())
                .map(|s| (s, p))
                .map_err(|e| e.to_string())
        });
        let (mut scanner, p) = match opened {
            Ok(x) => x,
            Err(e) => {
                r.set(DeviceState::Down, format!("无法打开：{e}"));
                pause(stop, backoff.next_delay());
                continue;
            }
        };
        if !probe.is_empty()
            && let Err(e) = scanner.probe(probe, Duration::from_millis(500))
        {
            r.set(
                DeviceState::Down,
                format!("{p} 上的设备不像扫码器：{}", e.message),
            );
            pause(stop, backoff.next_delay());
            continue;
        }
        r.opened();
        r.set(DeviceState::Ok, format!("已连接 {p}"));
        let opened = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            // A port that opens and fails at once must not reconnect in a tight loop.
            if opened.elapsed() > STABLE_AFTER {
                backoff.reset();
            }
            match scanner.next_scan(Duration::from_millis(200)) {
                Ok(Some(scan)) => {
                    tracing::info!(
                        bytes = scan.payload.len(),
                        encoding = scan.encoding,
                        "Scan received."
                    );
                    let _ = events.send(AgentEvent::Scan {
                        payload: scan.payload,
                        source: "scanner".into(),
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    r.set(DeviceState::Down, format!("连接断开：{}", e.message));
                    break;
                }
            }
        }
        pause(stop, backoff.next_delay());
    }
}

/// Health of a printer in a state, in words for the technician.
fn printer_health(s: &PrinterStatus) -> (DeviceState, &'static str) {
    if s.paper_out {
        (DeviceState::Down, "缺纸")
    } else if s.cover_open {
        (DeviceState::Down, "纸仓盖打开")
    } else if !s.online {
        (DeviceState::Down, "脱机")
    } else if s.error {
        (DeviceState::Down, "故障（切刀或机构）")
    } else if s.paper_near_end {
        (DeviceState::Degraded, "纸将用尽")
    } else {
        (DeviceState::Ok, "就绪")
    }
}

#[allow(clippy::too_many_arguments)] // one thread's whole context, passed once
fn run_printer(
    backend: Backend,
    path: &str,
    usb_id: &str,
    baud: u32,
    poll: Duration,
    jobs: mpsc::Receiver<PrintRequest>,
    r: &Reporter,
    stop: &AtomicBool,
) {
    let mut backoff = Backoff::new(RECONNECT_BASE, RECONNECT_MAX);
    let mut printer: Option<Box<dyn Printer>> = None;
    let mut retry_at = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if printer.is_none() && Instant::now() >= retry_at {
            let opened = resolve(path, usb_id).and_then(|p| {
                let p2 = p.clone();
                let open: menpai_drivers::Result<Box<dyn Printer>> = match backend {
                    Backend::UsbLp => {
                        UsbLpPrinter::open(p.as_ref()).map(|x| Box::new(x) as Box<dyn Printer>)
                    }
                    _ => SerialPrinter::open(&p, baud).map(|x| Box::new(x) as Box<dyn Printer>),
                };
                open.map_err(|e| format!("{p2}: {}", e.message))
            });
            match opened {
                Ok(mut p) => match p.status() {
                    Ok(s) => {
                        let (state, detail) = printer_health(&s);
                        r.opened();
                        r.set(state, detail);
                        backoff.reset();
                        printer = Some(p);
                    }
                    Err(e) => {
                        r.set(DeviceState::Down, format!("无应答：{}", e.message));
                        retry_at = Instant::now() + backoff.next_delay();
                    }
                },
                Err(e) => {
                    r.set(DeviceState::Down, format!("无法打开：{e}"));
                    retry_at = Instant::now() + backoff.next_delay();
                }
            }
        }
        let wait = if printer.is_some() {
            poll
        } else {
            Duration::from_millis(100)
        };
        match jobs.recv_timeout(wait.min(Duration::from_millis(250))) {
            Ok(req) => {
                // The citizen who asked has gone (the kiosk gave up waiting): do not print it now.
                if req.reply.is_closed() {
                    continue;
                }
                let result = match printer.as_mut() {
                    None => Err(PrintError {
                        reason: "打印机未连接".into(),
                    }),
                    Some(p) => match p.status() {
                        Ok(s) if s.ready() => {
                            let (state, detail) = printer_health(&s);
                            r.set(state, detail);
                            p.print(&req.job).map_err(|e| PrintError {
                                reason: format!("打印失败：{}", e.message),
                            })
                        }
                        Ok(s) => {
                            let (state, detail) = printer_health(&s);
                            r.set(state, detail);
                            Err(PrintError {
                                reason: format!("打印机{detail}"),
                            })
                        }
                        Err(e) => Err(PrintError {
                            reason: format!("打印机无应答：{}", e.message),
                        }),
                    },
                };
                if result
                    .as_ref()
                    .is_err_and(|e| e.reason.contains("无应答") || e.reason.contains("失败"))
                {
                    printer = None;
                    r.set(
                        DeviceState::Down,
                        result.as_ref().unwrap_err().reason.clone(),
                    );
                    retry_at = Instant::now() + backoff.next_delay();
                }
                let _ = req.reply.send(result);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(p) = printer.as_mut()
                    && Instant::now() >= retry_at
                {
                    match p.status() {
                        Ok(s) => {
                            let (state, detail) = printer_health(&s);
                            r.set(state, detail);
                        }
                        Err(e) => {
                            r.set(DeviceState::Down, format!("无应答：{}", e.message));
                            printer = None;
                        }
                    }
                    retry_at = Instant::now() + poll;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn run_led(
    path: &str,
    usb_id: &str,
    baud: u32,
    address: u8,
    messages: mpsc::Receiver<LedMessage>,
    r: &Reporter,
    stop: &AtomicBool,
) {
    let mut backoff = Backoff::new(RECONNECT_BASE, RECONNECT_MAX);
    let mut bar: Option<SerialLedBar> = None;
    let mut retry_at = Instant::now();
    let mut last: Option<LedMessage> = None;
    while !stop.load(Ordering::Relaxed) {
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

fn run_gpio(
    mut gpio: Box<dyn Gpio>,
    window: Duration,
    r: &Reporter,
    health: &HealthMap,
    events: &broadcast::Sender<AgentEvent>,
    blinks: &mpsc::Receiver<BlinkRequest>,
    stop: &AtomicBool,
) {
    let now = Instant::now();
    let mut presence = Debouncer::new(false, window, now);
    let mut help = Debouncer::new(false, window, now);
    let mut led_on = None;
    r.set(DeviceState::Ok, "就绪");
    while !stop.load(Ordering::Relaxed) {
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
        let healthy = health
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

/// Opens the configured camera: the real one, or the twin that sees image files.
fn open_camera(c: &config::CameraConfig) -> Result<Box<dyn QrCamera>, String> {
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

/// How long the same code in view is one scan, not many.
const SAME_CODE_WINDOW: Duration = Duration::from_secs(3);

fn run_camera(
    c: &config::CameraConfig,
    r: &Reporter,
    events: &broadcast::Sender<AgentEvent>,
    frames: &std::sync::atomic::AtomicU64,
    stop: &AtomicBool,
) {
    let mut backoff = Backoff::new(RECONNECT_BASE, RECONNECT_MAX);
    let period = Duration::from_secs(1) / c.decodes_per_s.max(1);
    let mut last: Option<(String, Instant)> = None;
    while !stop.load(Ordering::Relaxed) {
        let mut camera = match open_camera(c) {
            Ok(cam) => cam,
            Err(e) => {
                r.set(DeviceState::Down, format!("无法打开：{e}"));
                pause(stop, backoff.next_delay());
                continue;
            }
        };
        r.opened();
        r.set(DeviceState::Ok, "就绪");
        let opened = Instant::now();
        while !stop.load(Ordering::Relaxed) {
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
                            let _ = events.send(AgentEvent::Scan {
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
            pause(stop, period.saturating_sub(started.elapsed()));
        }
        pause(stop, backoff.next_delay());
    }
}
