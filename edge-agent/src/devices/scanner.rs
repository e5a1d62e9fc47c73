//! The barcode/QR scanner on a serial port: each scan goes to the UI's event stream.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use menpai_drivers::scanner::{FramingConfig, Scanner, SerialScanner, Suffix};
use menpai_drivers::serial::PtyPair;
use menpai_model::api::{AgentEvent, DeviceState};
use serde::Deserialize;

use super::backend::Backend;
use super::context::{Ctx, Reporter, STABLE_AFTER, reconnect_backoff, resolve};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScannerConfig {
    /// serial, simulated (a twin on a pseudo-terminal) or none.
    pub backend: Backend,
    /// Serial device path, e.g. `/dev/ttyACM0`.
    pub path: String,
    /// Find the device by USB id `vid:pid` instead of a path.
    pub usb_id: String,
    /// Line speed of the serial port.
    pub baud: u32,
    /// What ends a scan: CR, LF, CRLF, TAB or NONE (a pause ends it).
    pub suffix: String,
    /// A pause this long inside a scan ends it (NONE) or drops it as a stall.
    pub inter_byte_timeout_ms: u64,
    /// Longest scan accepted, in bytes.
    pub max_len: usize,
    /// Presence query in hex, answered by the scanner; empty skips it.
    pub probe_hex: String,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            backend: Backend::Simulated,
            path: String::new(),
            usb_id: String::new(),
            baud: 9600,
            suffix: "CR".into(),
            inter_byte_timeout_ms: 100,
            max_len: 1024,
            probe_hex: String::new(),
        }
    }
}

impl ScannerConfig {
    /// The presence query's bytes.
    pub fn probe(&self) -> Result<Vec<u8>, String> {
        self.probe_hex
            .split_whitespace()
            .map(|b| {
                u8::from_str_radix(b, 16)
                    .map_err(|_| format!("devices.scanner.probe_hex: `{b}` is not a hex byte"))
            })
            .collect()
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        use Backend::{None, Serial, Simulated};
        self.backend.check_serial_like(
            "scanner",
            &self.path,
            &self.usb_id,
            &[Serial, Simulated, None],
        )?;
        self.probe()?;
        Suffix::parse(&self.suffix)
            .map_err(|e| format!("devices.scanner.suffix: {}", e.message))?;
        if !(16..=65_536).contains(&self.max_len) {
            return Err("devices.scanner.max_len must be between 16 and 65536".into());
        }
        Ok(())
    }
}

/// A running scanner: the simulated one's other end, to type scans into.
pub(super) struct ScannerHandle {
    twin: Option<(Mutex<serialport::TTYPort>, Suffix)>,
}

impl ScannerHandle {
    /// Types a scan into the simulated scanner, as a person holding a code to it would.
    pub(super) fn simulate_scan(&self, payload: &[u8]) -> Result<(), String> {
        let (twin, suffix) = self.twin.as_ref().ok_or("the scanner is not simulated")?;
        let mut t = twin.lock().unwrap_or_else(|e| e.into_inner());
        t.write_all(payload)
            .and_then(|_| t.write_all(suffix.bytes()))
            .map_err(|e| e.to_string())
    }
}

/// Starts the scanner's thread; a simulated scanner gets its twin here.
pub(super) fn spawn(config: &ScannerConfig, ctx: &Ctx) -> anyhow::Result<ScannerHandle> {
    let c = config.clone();
    let framing = FramingConfig {
        suffix: Suffix::parse(&c.suffix)?,
        inter_byte_timeout: Duration::from_millis(c.inter_byte_timeout_ms),
        max_len: c.max_len,
    };
    let mut handle = ScannerHandle { twin: None };
    let path = if c.backend == Backend::Simulated {
        let pair = PtyPair::new()?;
        handle.twin = Some((Mutex::new(pair.twin), framing.suffix));
        pair.device_path.display().to_string()
    } else {
        c.path.clone()
    };
    let probe = c.probe().map_err(anyhow::Error::msg)?;
    let (r, ctx2) = (ctx.reporter("scanner", c.backend), ctx.clone());
    ctx.thread("scanner", move || {
        run(&path, &c.usb_id, c.baud, framing, &probe, &r, &ctx2)
    })?;
    Ok(handle)
}

/// Opens the scanner, reads scans until it fails, and opens it again after a backoff.
fn run(
    path: &str,
    usb_id: &str,
    baud: u32,
    framing: FramingConfig,
    probe: &[u8],
    r: &Reporter,
    ctx: &Ctx,
) {
    let mut backoff = reconnect_backoff();
    while !ctx.stopping() {
        let opened = resolve(path, usb_id).and_then(|p| {
            SerialScanner::open(&p, baud, framing.clone())
                .map(|s| (s, p))
                .map_err(|e| e.to_string())
        });
        let (mut scanner, p) = match opened {
            Ok(x) => x,
            Err(e) => {
                r.set(DeviceState::Down, format!("无法打开：{e}"));
                ctx.pause(backoff.next_delay());
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
            ctx.pause(backoff.next_delay());
            continue;
        }
        r.opened();
        r.set(DeviceState::Ok, format!("已连接 {p}"));
        let opened = Instant::now();
        while !ctx.stopping() {
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
                    let _ = ctx.events.send(AgentEvent::Scan {
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
        ctx.pause(backoff.next_delay());
    }
}
