//! An Xvfb display of a test's own (the number Xvfb picks itself, so parallel tests never
//! clash) and the kiosk on it, for tests that tap the kiosk with xdotool.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::RgbImage;

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

impl Display {
    /// Drags with the left button held through `points` (a stroke on the writing pad).
    pub fn drag(&self, points: &[(i32, i32)]) {
        let Some(&(x0, y0)) = points.first() else {
            return;
        };
        let mut args = vec![
            "mousemove".to_owned(),
            x0.to_string(),
            y0.to_string(),
            "mousedown".into(),
            "1".into(),
        ];
        for &(x, y) in &points[1..] {
            args.extend(["mousemove".into(), x.to_string(), y.to_string()]);
        }
        args.extend(["mouseup".into(), "1".into()]);
        let ok = Command::new("xdotool")
            .env("DISPLAY", &self.name)
            .args(&args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "xdotool failed");
    }
}

/// The kiosk's layout table once it has stopped changing with no request in flight.
pub fn settled_layout(layout: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut previous = String::new();
    loop {
        let table = std::fs::read_to_string(layout).unwrap_or_default();
        if table == previous && !table.is_empty() && !table.contains("Busy(") {
            return table;
        }
        previous = table;
        assert!(
            Instant::now() < deadline,
            "the kiosk never settled:\n{previous}"
        );
        std::thread::sleep(Duration::from_millis(400));
    }
}

/// The rows of the settled layout table: what (an action, `WritingPad`, `Candidates(N)`) and
/// where (x, y, width, height), in the order the table lists them.
pub fn layout_rows(layout: &Path) -> Vec<(String, [f32; 4])> {
    settled_layout(layout)
        .lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let n: Vec<f32> = cols
                .get(1..)?
                .iter()
                .filter_map(|v| v.parse().ok())
                .collect();
            Some((cols[0].to_owned(), n.try_into().ok()?))
        })
        .collect()
}

/// Waits (up to a minute) for a settled layout with a row whose name contains `name`.
pub fn find_row(layout: &Path, name: &str) -> (String, [f32; 4]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(row) = layout_rows(layout)
            .into_iter()
            .find(|(r, _)| r.contains(name))
        {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "no {name} appeared; the screen has:\n{}\nthe kiosk logged:\n{}",
            std::fs::read_to_string(layout).unwrap_or_default(),
            std::fs::read_to_string(layout.with_extension("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The screen as the citizen sees it now, from Xvfb's memory-mapped XWD file (a display
/// started with `fbdir`), saved as PNG.
pub fn screenshot(fbdir: &Path, to: &Path) -> RgbImage {
    let b = std::fs::read(fbdir.join("Xvfb_screen0")).unwrap();
    let be = u32::from_be_bytes(b[..4].try_into().unwrap()) < 4096;
    let field = |i: usize| {
        let w: [u8; 4] = b[i * 4..i * 4 + 4].try_into().unwrap();
        (if be {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }) as usize
    };
    let (header, width, height) = (field(0), field(4), field(5));
    let (lsb_pixels, bits, line) = (field(7) == 0, field(11), field(12));
    let (red, green, blue) = (field(14) as u32, field(15) as u32, field(16) as u32);
    let data = header + field(19) * 12;
    assert_eq!(bits, 32, "a 24-bit screen is kept in 32-bit pixels");
    let channel = |px: u32, mask: u32| ((px & mask) >> mask.trailing_zeros()) as u8;
    let img = RgbImage::from_fn(width as u32, height as u32, |x, y| {
        let at = data + y as usize * line + x as usize * 4;
        let w: [u8; 4] = b[at..at + 4].try_into().unwrap();
        let px = if lsb_pixels {
            u32::from_le_bytes(w)
        } else {
            u32::from_be_bytes(w)
        };
        image::Rgb([channel(px, red), channel(px, green), channel(px, blue)])
    });
    img.save(to).unwrap();
    img
}

/// Whether two pictures differ somewhere (the screen changed).
pub fn differs(a: &RgbImage, b: &RgbImage) -> bool {
    a.pixels().zip(b.pixels()).any(|(p, q)| p != q)
}

/// The screen once it has been redrawn (unlike `before`, when given) and holds still.
pub fn settled_screenshot(fbdir: &Path, before: Option<&RgbImage>, to: &Path) -> RgbImage {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = screenshot(fbdir, to);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = screenshot(fbdir, to);
        let redrawn = before.is_none_or(|b| differs(b, &now));
        if redrawn && !differs(&last, &now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "the screen never settled ({})",
            to.display()
        );
        last = now;
    }
}
