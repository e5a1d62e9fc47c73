//! Configuration of the terminal's peripherals (the `[devices.*]` sections).

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Serial,
    UsbLp,
    Rpi,
    V4l,
    Espeak,
    Simulated,
    None,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Serial => "serial",
            Backend::UsbLp => "usb_lp",
            Backend::Rpi => "rpi",
            Backend::V4l => "v4l",
            Backend::Espeak => "espeak",
            Backend::Simulated => "simulated",
            Backend::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicesConfig {
    pub scanner: ScannerConfig,
    pub printer: PrinterConfig,
    pub led: LedConfig,
    pub gpio: GpioConfig,
    pub camera: CameraConfig,
    pub voice: VoiceConfig,
}

impl DevicesConfig {
    /// Every device off (API tests, tools).
    pub fn none() -> Self {
        let mut c = crate::config::Config::default().devices;
        c.scanner.backend = Backend::None;
        c.printer.backend = Backend::None;
        c.led.backend = Backend::None;
        c.gpio.backend = Backend::None;
        c.camera.backend = Backend::None;
        c.voice.backend = Backend::None;
        c
    }

    /// Refuses combinations that cannot work, naming the section and key.
    pub fn validate(&self) -> Result<(), String> {
        let serial_like =
            |name: &str, backend: Backend, path: &str, usb_id: &str, allowed: &[Backend]| {
                if !allowed.contains(&backend) {
                    return Err(format!(
                        "devices.{name}.backend `{}` is not possible for this device",
                        backend.name()
                    ));
                }
                if matches!(backend, Backend::Serial | Backend::UsbLp)
                    && path.is_empty()
                    && usb_id.is_empty()
                {
                    return Err(format!("devices.{name} needs a path or a usb_id"));
                }
                if !usb_id.is_empty() {
                    menpai_drivers::serial::parse_vid_pid(usb_id)
                        .map_err(|e| format!("devices.{name}.usb_id: {}", e.message))?;
                }
                Ok(())
            };
        use Backend::*;
        let s = &self.scanner;
        serial_like(
            "scanner",
            s.backend,
            &s.path,
            &s.usb_id,
            &[Serial, Simulated, None],
        )?;
        s.probe()?;
        menpai_drivers::scanner::Suffix::parse(&s.suffix)
            .map_err(|e| format!("devices.scanner.suffix: {}", e.message))?;
        if !(16..=65_536).contains(&s.max_len) {
            return Err("devices.scanner.max_len must be between 16 and 65536".into());
        }
        let p = &self.printer;
        serial_like(
            "printer",
            p.backend,
            &p.path,
            &p.usb_id,
            &[Serial, UsbLp, Simulated, None],
        )?;
        if !(24..=64).contains(&p.columns) {
            return Err("devices.printer.columns must be between 24 and 64".into());
        }
        let l = &self.led;
        serial_like(
            "led",
            l.backend,
            &l.path,
            &l.usb_id,
            &[Serial, Simulated, None],
        )?;
        if !matches!(self.gpio.backend, Rpi | Simulated | None) {
            return Err(format!(
                "devices.gpio.backend `{}` is not possible for GPIO",
                self.gpio.backend.name()
            ));
        }
        match self.camera.backend {
            V4l if !cfg!(feature = "camera") => {
                return Err(
                    "devices.camera.backend `v4l` needs an agent built with the `camera` feature"
                        .into(),
                );
            }
            Simulated if self.camera.frames_dir.is_empty() => {
                return Err("devices.camera.frames_dir must name a directory of images".into());
            }
            V4l | Simulated | None => {}
            other => {
                return Err(format!(
                    "devices.camera.backend `{}` is not possible for a camera",
                    other.name()
                ));
            }
        }
        if !(1..=60).contains(&self.camera.decodes_per_s) {
            return Err("devices.camera.decodes_per_s must be between 1 and 60".into());
        }
        let v = &self.voice;
        if !matches!(v.backend, Espeak | Simulated | None) {
            return Err(format!(
                "devices.voice.backend `{}` is not possible for the voice",
                v.backend.name()
            ));
        }
        if !(80..=400).contains(&v.speed) || !(1..=3).contains(&v.repeat) {
            return Err("devices.voice: speed must be 80–400 and repeat 1–3".into());
        }
        if self.gpio.backend == Rpi && !cfg!(feature = "rpi") {
            return Err(
                "devices.gpio.backend `rpi` needs an agent built with the `rpi` feature".into(),
            );
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerConfig {
    pub backend: Backend,
    /// Serial device path, e.g. `/dev/ttyACM0`.
    pub path: String,
    /// Find the device by USB id `vid:pid` instead of a path.
    pub usb_id: String,
    pub baud: u32,
    /// CR, LF, CRLF, TAB or NONE.
    pub suffix: String,
    pub inter_byte_timeout_ms: u64,
    pub max_len: usize,
    /// Presence query in hex, answered by the scanner; empty skips it.
    pub probe_hex: String,
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
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterConfig {
    pub backend: Backend,
    pub path: String,
    pub usb_id: String,
    pub baud: u32,
    /// Characters per line.
    pub columns: usize,
    pub status_poll_s: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedConfig {
    pub backend: Backend,
    pub path: String,
    pub usb_id: String,
    pub baud: u32,
    pub address: u8,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpioConfig {
    pub backend: Backend,
    pub presence_pin: u8,
    pub help_button_pin: u8,
    pub status_led_pin: u8,
    pub debounce_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    pub backend: Backend,
    /// V4L2 camera index (`/dev/video<index>`).
    pub index: u32,
    pub width: u32,
    pub height: u32,
    pub decodes_per_s: u32,
    /// Images the simulated camera sees, in name order.
    pub frames_dir: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceConfig {
    /// espeak: speak through the sound card; simulated: write WAV files to wav_dir.
    pub backend: Backend,
    /// The espeak-ng program.
    pub program: String,
    /// An espeak-ng voice fed toned pinyin: `cmn-latn-pinyin`.
    pub voice: String,
    /// Words per minute.
    pub speed: u32,
    /// Times each call is said.
    pub repeat: u32,
    /// Where the simulated voice writes; empty: `voice/` in the data directory.
    pub wav_dir: String,
}
