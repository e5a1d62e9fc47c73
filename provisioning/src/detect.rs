//! Finds the terminal's devices in sysfs: serial ports and USB printers by USB vendor and
//! product id, the camera, the sound card, a Raspberry Pi's GPIO.

use std::path::{Path, PathBuf};

const KNOWN: &str = include_str!("usb-devices.tsv");

/// What a device is for on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scanner,
    Printer,
    /// A USB-to-serial bridge: the LED bar's line, when it is the only one.
    Bridge,
    Unknown,
}

/// A serial port or USB printer found in sysfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// `/dev/ttyACM0`, `/dev/usb/lp0`.
    pub dev: String,
    pub vid: u16,
    pub pid: u16,
    /// The table's name, else what the device says it is.
    pub name: String,
    pub kind: Kind,
    /// A USB printer-class device (backend `usb_lp`) rather than a serial port.
    pub usb_lp: bool,
}

impl Found {
    pub fn usb_id(&self) -> String {
        format!("{:04x}:{:04x}", self.vid, self.pid)
    }
}

/// Everything found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detected {
    pub ports: Vec<Found>,
    /// `/dev/video0` and its name.
    pub camera: Option<(String, String)>,
    pub sound: bool,
    /// The board, when it is a Raspberry Pi (GPIO through rppal).
    pub raspberry_pi: Option<String>,
}

/// Which port serves which device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    pub scanner: Option<Found>,
    pub printer: Option<Found>,
    pub led: Option<Found>,
    /// Found, but not placed: two bridges, unknown ids.
    pub unplaced: Vec<Found>,
}

fn lookup(vid: u16, pid: u16) -> Option<(Kind, String)> {
    KNOWN
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("vid\t"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let v = u16::from_str_radix(f.first()?, 16).ok()?;
            let p = *f.get(1)?;
            let matches = v == vid && (p == "*" || u16::from_str_radix(p, 16).ok() == Some(pid));
            let kind = match *f.get(2)? {
                "scanner" => Kind::Scanner,
                "printer" => Kind::Printer,
                "bridge" => Kind::Bridge,
                _ => Kind::Unknown,
            };
            matches.then(|| (kind, f.get(3).unwrap_or(&"").to_string()))
        })
        .next()
}

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The USB device above a class device: the first ancestor with idVendor and idProduct.
fn usb_parent(class_dev: &Path) -> Option<PathBuf> {
    let mut dir = std::fs::canonicalize(class_dev.join("device")).ok()?;
    for _ in 0..5 {
        if dir.join("idVendor").is_file() && dir.join("idProduct").is_file() {
            return Some(dir);
        }
        dir = dir.parent()?.to_owned();
    }
    None
}

fn found(class_dev: &Path, dev: String, usb_lp: bool) -> Option<Found> {
    let usb = usb_parent(class_dev)?;
    let vid = u16::from_str_radix(&read(&usb.join("idVendor"))?, 16).ok()?;
    let pid = u16::from_str_radix(&read(&usb.join("idProduct"))?, 16).ok()?;
    let said = [read(&usb.join("manufacturer")), read(&usb.join("product"))]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let (kind, name) = match lookup(vid, pid) {
        Some((k, n)) => (k, n),
        None if usb_lp => (Kind::Printer, said.clone()),
        None => (Kind::Unknown, said.clone()),
    };
    let name = if name.is_empty() { said } else { name };
    Some(Found {
        dev,
        vid,
        pid,
        name,
        kind: if usb_lp { Kind::Printer } else { kind },
        usb_lp,
    })
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Looks through `sysfs` (`/sys` on a terminal; a copy in tests).
pub fn scan(sysfs: &Path) -> Detected {
    let mut d = Detected::default();
    let tty = sysfs.join("class/tty");
    for name in names(&tty) {
        if !(name.starts_with("ttyUSB") || name.starts_with("ttyACM")) {
            continue;
        }
        if let Some(f) = found(&tty.join(&name), format!("/dev/{name}"), false) {
            d.ports.push(f);
        }
    }
    let lp = sysfs.join("class/usbmisc");
    for name in names(&lp) {
        if name.starts_with("lp")
            && let Some(f) = found(&lp.join(&name), format!("/dev/usb/{name}"), true)
        {
            d.ports.push(f);
        }
    }
    let video = sysfs.join("class/video4linux");
    d.camera = names(&video).into_iter().find_map(|n| {
        // Capture nodes only: metadata nodes have index 1.
        let index = read(&video.join(&n).join("index")).unwrap_or_else(|| "0".into());
        (index == "0").then(|| {
            let label = read(&video.join(&n).join("name")).unwrap_or_default();
            (format!("/dev/{n}"), label)
        })
    });
    d.sound = names(&sysfs.join("class/sound"))
        .iter()
        .any(|n| n.starts_with("card"));
    d.raspberry_pi = read(&sysfs.join("firmware/devicetree/base/model"))
        .map(|m| m.trim_end_matches('\0').to_owned())
        .filter(|m| m.contains("Raspberry Pi"));
    d
}

/// Places the ports: scanners and printers by their table entry; the one bridge left drives
/// the LED bar.
pub fn assign(d: &Detected) -> Assignment {
    let mut a = Assignment::default();
    let mut bridges = Vec::new();
    for f in &d.ports {
        let slot = match f.kind {
            Kind::Scanner => &mut a.scanner,
            Kind::Printer => &mut a.printer,
            Kind::Bridge => {
                bridges.push(f.clone());
                continue;
            }
            Kind::Unknown => {
                a.unplaced.push(f.clone());
                continue;
            }
        };
        if slot.is_none() {
            *slot = Some(f.clone());
        } else {
            a.unplaced.push(f.clone());
        }
    }
    if bridges.len() == 1 {
        a.led = bridges.pop();
    } else {
        a.unplaced.extend(bridges);
    }
    a
}

/// The agent config's device tables for what was found (missing devices are left out, so the
/// config keeps what it had for them).
pub fn config_tables(d: &Detected, a: &Assignment) -> toml::Table {
    let mut devices = toml::Table::new();
    let serial = |f: &Found| {
        let mut t = toml::Table::new();
        if f.usb_lp {
            t.insert("backend".into(), "usb_lp".into());
            t.insert("path".into(), f.dev.clone().into());
            t.insert("usb_id".into(), "".into());
        } else {
            // By USB id: the same device after a replug on another port.
            t.insert("backend".into(), "serial".into());
            t.insert("path".into(), "".into());
            t.insert("usb_id".into(), f.usb_id().into());
        }
        t
    };
    for (name, f) in [
        ("scanner", &a.scanner),
        ("printer", &a.printer),
        ("led", &a.led),
    ] {
        if let Some(f) = f {
            devices.insert(name.into(), serial(f).into());
        }
    }
    if d.camera.is_some() {
        let mut t = toml::Table::new();
        t.insert("backend".into(), "v4l".into());
        t.insert("index".into(), 0.into());
        devices.insert("camera".into(), t.into());
    }
    if d.sound {
        let mut t = toml::Table::new();
        t.insert("backend".into(), "espeak".into());
        devices.insert("voice".into(), t.into());
    }
    if d.raspberry_pi.is_some() {
        let mut t = toml::Table::new();
        t.insert("backend".into(), "rpi".into());
        devices.insert("gpio".into(), t.into());
    }
    devices
}
