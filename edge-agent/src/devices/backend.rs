//! Which backend drives a peripheral: real hardware, its simulated twin, or nothing.

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

    /// Refuses a backend this device cannot have, and a serial one without a path or USB id.
    pub(super) fn check_serial_like(
        self,
        name: &str,
        path: &str,
        usb_id: &str,
        allowed: &[Backend],
    ) -> Result<(), String> {
        if !allowed.contains(&self) {
            return Err(format!(
                "devices.{name}.backend `{}` is not possible for this device",
                self.name()
            ));
        }
        if matches!(self, Backend::Serial | Backend::UsbLp) && path.is_empty() && usb_id.is_empty()
        {
            return Err(format!("devices.{name} needs a path or a usb_id"));
        }
        if !usb_id.is_empty() {
            menpai_drivers::serial::parse_vid_pid(usb_id)
                .map_err(|e| format!("devices.{name}.usb_id: {}", e.message))?;
        }
        Ok(())
    }
}
