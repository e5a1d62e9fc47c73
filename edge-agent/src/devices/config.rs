//! The `[devices.*]` sections together: one config per device, checked as a whole.

use serde::Deserialize;

pub use super::backend::Backend;
pub use super::camera::CameraConfig;
pub use super::gpio::GpioConfig;
pub use super::led::LedConfig;
pub use super::printer::PrinterConfig;
pub use super::scanner::ScannerConfig;
pub use super::voice::VoiceConfig;

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevicesConfig {
    /// The barcode/QR scanner.
    pub scanner: ScannerConfig,
    /// The ticket printer.
    pub printer: PrinterConfig,
    /// The LED bar that shows calls.
    pub led: LedConfig,
    /// Presence sensor, help button and status LED.
    pub gpio: GpioConfig,
    /// The QR camera.
    pub camera: CameraConfig,
    /// The voice that says calls.
    pub voice: VoiceConfig,
}

impl DevicesConfig {
    /// Refuses combinations that cannot work, naming the section and key.
    pub fn validate(&self) -> Result<(), String> {
        self.scanner.validate()?;
        self.printer.validate()?;
        self.led.validate()?;
        self.gpio.validate()?;
        self.camera.validate()?;
        self.voice.validate()?;
        self.gpio.validate_build()
    }

    /// Each device's name and backend, in the order they are reported.
    pub(super) fn backends(&self) -> [(&'static str, Backend); 6] {
        [
            ("scanner", self.scanner.backend),
            ("printer", self.printer.backend),
            ("led", self.led.backend),
            ("gpio", self.gpio.backend),
            ("camera", self.camera.backend),
            ("voice", self.voice.backend),
        ]
    }
}
