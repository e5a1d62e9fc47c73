//! An Xvfb display of a test's own (the number Xvfb picks itself, so parallel tests never
//! clash) and the kiosk on it, for tests that tap the kiosk with xdotool.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::{binary, runtime_dir};

/// A portrait screen as the terminals have.
pub const WIDTH: u32 = 1080;
pub const HEIGHT: u32 = 1920;

/// An Xvfb server, stopped when dropped.
#[derive(Debug)]
pub struct Display {
    xvfb: Child,
    /// `:N`, for `DISPLAY`.
    pub name: String,
}

impl Display {
    /// Starts Xvfb at 1080×1920 and waits until it takes clients. With `fbdir`, the screen is
    /// also kept in the XWD file `fbdir/Xvfb_screen0` (read it for screenshots).
    pub fn start(fbdir: Option<&Path>) -> Display {
        let mut xvfb = Command::new("Xvfb");
        xvfb.args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            &format!("{WIDTH}x{HEIGHT}x24"),
            "-nolisten",
            "tcp",
        ]);
        if let Some(dir) = fbdir {
            xvfb.arg("-fbdir").arg(dir);
        }
        let mut xvfb = xvfb
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs (scripts/setup.sh installs it)");
        // Xvfb writes the display number it took once it is ready for clients.
        let mut line = String::new();
        BufReader::new(xvfb.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let n: u32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb did not start: {line:?}"));
        Display {
            xvfb,
            name: format!(":{n}"),
        }
    }

    /// Taps the screen at `(x, y)`.
    pub fn tap(&self, (x, y): (i32, i32)) {
        let ok = Command::new("xdotool")
            .env("DISPLAY", &self.name)
            .args(["mousemove", &x.to_string(), &y.to_string(), "click", "1"])
            .status()
            .unwrap()
            .success();
        assert!(ok, "xdotool failed");
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

/// The kiosk windowed on `display`, fed by the agent at `agent`, writing its buttons to
/// `layout` (and its log beside it, `layout.log`), with `extra` arguments.
pub fn kiosk(display: &Display, agent: SocketAddr, layout: &Path, extra: &[&str]) -> Command {
    let mut kiosk = Command::new(binary("menpai-kiosk"));
    kiosk
        .env("DISPLAY", &display.name)
        .env("XDG_RUNTIME_DIR", runtime_dir())
        .args([
            "--agent",
            &format!("http://{agent}"),
            "--windowed",
            "--layout",
        ])
        .arg(layout)
        .args(extra)
        .env("RUST_LOG", "menpai_kiosk=debug,wgpu=error,naga=error")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(layout.with_extension("log")).unwrap());
    kiosk
}

/// The kiosk on its own display, both stopped when dropped (the kiosk first).
#[derive(Debug)]
pub struct Screen {
    pub kiosk: Child,
    pub display: Display,
}

impl Screen {
    /// Starts a display and the kiosk on it (see [`kiosk`]).
    pub fn start(agent: SocketAddr, layout: &Path, fbdir: Option<&Path>, extra: &[&str]) -> Screen {
        let display = Display::start(fbdir);
        let kiosk = kiosk(&display, agent, layout, extra).spawn().unwrap();
        Screen { kiosk, display }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.kiosk.kill();
        let _ = self.kiosk.wait();
    }
}
