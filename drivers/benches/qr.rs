//! QR decoding on camera-sized frames: frames per second at 640×480 on one core, and the decode
//! rate on generated hard frames, side by side with zbarimg (Debian's zbar-tools) and zxing-cpp
//! (Debian's python3-zxing-cpp) when installed.
//!
//! `cargo bench -p menpai-drivers --bench qr` (scripts/bench installs both first)

mod frames;

use std::process::Command;
use std::time::{Duration, Instant};

use menpai_drivers::qr;

const PER_KIND: usize = 30;

fn zbar(path: &std::path::Path) -> Option<Vec<String>> {
    let out = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(path)
        .output()
        .ok()?;
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

/// What zxing-cpp reads in each frame (Debian's Python binding, through one process for all).
fn zxing(frames: &[&frames::Frame], dir: &std::path::Path) -> Option<Vec<Vec<String>>> {
    use std::io::Write;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/zxing_read.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut input = String::new();
    for (i, f) in frames.iter().enumerate() {
        let path = dir.join(format!("zx-{i}.raw"));
        std::fs::write(&path, f.image.as_raw()).ok()?;
        input.push_str(&format!(
            "{} {} {}\n",
            path.display(),
            f.image.width(),
            f.image.height()
        ));
    }
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let lines: Vec<Vec<String>> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            l.split('\t')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect();
    (lines.len() == frames.len()).then_some(lines)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // Frames per second on clean frames, one thread.
    let mut rng = frames::Rng::new(7);
    let clean: Vec<frames::Frame> = (0..20)
        .map(|i| frames::frame("clean", &mut rng, i))
        .collect();
    let started = Instant::now();
    let mut decoded = 0usize;
    let mut n = 0usize;
    while started.elapsed() < Duration::from_secs(3) {
        let f = &clean[n % clean.len()];
        decoded += usize::from(qr::decode(&f.image).contains(&f.payload));
        n += 1;
    }
    let fps = n as f64 / started.elapsed().as_secs_f64();
    println!(
        "decode-qr figures: {fps:.1} frames/s at 640×480 on one thread ({decoded}/{n} decoded)"
    );

    // Hard frames, ours against zbarimg and zxing-cpp.
    let dir = tempfile::tempdir().unwrap();
    let have_zbar = Command::new("zbarimg").arg("--version").output().is_ok();
    let all = frames::hard_frames(PER_KIND, 2026);
    let started = Instant::now();
    for f in &all {
        std::hint::black_box(qr::decode(&f.image));
    }
    println!(
        "hard frames, every fallback included: {:.1} frames/s",
        all.len() as f64 / started.elapsed().as_secs_f64()
    );
    let refs: Vec<&frames::Frame> = all.iter().collect();
    let zx = zxing(&refs, dir.path());
    println!(
        "{:<18} {:>8} {:>8} {:>9}",
        "kind",
        "menpai",
        if have_zbar { "zbarimg" } else { "(none)" },
        if zx.is_some() { "zxing-cpp" } else { "(none)" }
    );
    let (mut ours_total, mut zbar_total, mut zx_total) = (0, 0, 0);
    for kind in frames::KINDS {
        let (mut ours, mut theirs, mut zxs) = (0, 0, 0);
        for (i, f) in all.iter().enumerate().filter(|(_, f)| f.kind == kind) {
            if qr::decode(&f.image).contains(&f.payload) {
                ours += 1;
            }
            if have_zbar {
                let path = dir.path().join(format!("{kind}-{i}.png"));
                f.image.save(&path).unwrap();
                if zbar(&path).is_some_and(|codes| codes.contains(&f.payload)) {
                    theirs += 1;
                }
            }
            if zx.as_ref().is_some_and(|z| z[i].contains(&f.payload)) {
                zxs += 1;
            }
        }
        ours_total += ours;
        zbar_total += theirs;
        zx_total += zxs;
        println!("{kind:<18} {ours:>5}/{PER_KIND} {theirs:>5}/{PER_KIND} {zxs:>6}/{PER_KIND}");
    }
    let total = PER_KIND * frames::KINDS.len();
    println!(
        "{:<18} {:>5}/{total} {:>5}/{total} {:>6}/{total}",
        "all", ours_total, zbar_total, zx_total
    );
}
