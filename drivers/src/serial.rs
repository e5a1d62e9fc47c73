//! Serial ports: opening by path or by USB VID:PID, and pseudo-terminal pairs for simulated devices.

use std::path::PathBuf;
use std::time::Duration;

use serialport::{SerialPort, SerialPortType, TTYPort};

use crate::{Error, ErrorKind, Result};

/// How often a blocking read gives control back, so callers can check timers and shutdown.
pub const READ_SLICE: Duration = Duration::from_millis(20);

/// Opens a serial device at `baud`, 8N1, no flow control.
pub fn open(path: &str, baud: u32) -> Result<Box<dyn SerialPort>> {
    let port = serialport::new(path, baud)
        .timeout(READ_SLICE)
        .open()
        .map_err(|e| {
            Error::new(
                ErrorKind::Disconnected,
                format!("{path}: {}", e.description),
            )
        })?;
    Ok(port)
}

/// The device path of the USB serial device with this vendor and product id, if plugged in.
pub fn find_usb(vid: u16, pid: u16) -> Option<String> {
    serialport::available_ports()
        .ok()?
        .into_iter()
        .find_map(|p| match p.port_type {
            SerialPortType::UsbPort(info) if info.vid == vid && info.pid == pid => {
                Some(p.port_name)
            }
            _ => None,
        })
}

/// Parses `0c2e:0b61` into a vendor and product id.
pub fn parse_vid_pid(s: &str) -> Result<(u16, u16)> {
    let bad = || {
        Error::new(
            ErrorKind::Config,
            format!("`{s}` is not a USB id like 0c2e:0b61"),
        )
    };
    let (v, p) = s.split_once(':').ok_or_else(bad)?;
    Ok((
        u16::from_str_radix(v, 16).map_err(|_| bad())?,
        u16::from_str_radix(p, 16).map_err(|_| bad())?,
    ))
}

/// A pseudo-terminal pair: a driver opens `device_path` as if it were a real serial device, and
/// the simulated device (the twin) reads and writes the other end.
#[derive(Debug)]
pub struct PtyPair {
    pub twin: TTYPort,
    pub device_path: PathBuf,
}

impl PtyPair {
    pub fn new() -> Result<Self> {
        // The device end is closed at once: only the driver holds it open, so unplugging
        // (the driver closing it, or the twin going away) behaves as on real hardware.
        let (mut twin, device) = TTYPort::pair().map_err(Error::from)?;
        twin.set_timeout(READ_SLICE).map_err(Error::from)?;
        // A process started later must not inherit the twin's end: unplugging (dropping the
        // twin) has to close it for real.
        use std::os::fd::AsRawFd;
        nix::fcntl::fcntl(
            twin.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
        )
        .map_err(|e| Error::new(ErrorKind::Io, format!("pty: {e}")))?;
        let device_path = device
            .name()
            .map(PathBuf::from)
            .ok_or_else(|| Error::new(ErrorKind::Io, "the pseudo-terminal has no path"))?;
        Ok(PtyPair { twin, device_path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usb_ids_parse_and_bad_ones_are_named() {
        assert_eq!(parse_vid_pid("0c2e:0b61").unwrap(), (0x0c2e, 0x0b61));
        let e = parse_vid_pid("scanner").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(e.message.contains("scanner"));
    }
}
