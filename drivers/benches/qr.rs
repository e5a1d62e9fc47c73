//! QR decoding on camera-sized frames: frames per second at 640×480 on one core, and the decode
//! rate on generated hard frames, side by side with zbarimg (Debian's zbar-tools) when installed.
//!
//! `cargo bench -p menpai-drivers --bench qr` (scripts/bench installs zbar-tools first)

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

    // Hard frames, ours against zbar.
    let dir = tempfile::tempdir().unwrap();
    let have_zbar = Command::new("zbarimg").arg("--version").output().is_ok();
    let all = frames::hard_frames(PER_KIND, 2026);
    println!(
        "{:<14} {:>8} {:>8}",
        "kind",
        "menpai",
        if have_zbar { "zbarimg" } else { "(no zbarimg)" }
    );
    let started = Instant::now();
    for f in &all {
        std::hint::black_box(qr::decode(&f.image));
    }
    println!(
        "hard frames, every fallback included: {:.1} frames/s",
        all.len() as f64 / started.elapsed().as_secs_f64()
    );
    println!(
        "{:<14} {:>8} {:>8}",
        "kind",
        "menpai",
        if have_zbar { "zbarimg" } else { "(no zbarimg)" }
    );
    let (mut ours_total, mut zbar_total) = (0, 0);
    for kind in frames::KINDS {
        let (mut ours, mut theirs) = (0, 0);
        for (i, f) in all.iter().filter(|f| f.kind == kind).enumerate() {
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
        }
        ours_total += ours;
        zbar_total += theirs;
        println!("{kind:<14} {:>5}/{PER_KIND} {:>5}/{PER_KIND}", ours, theirs);
    }
    let total = PER_KIND * frames::KINDS.len();
    println!(
        "{:<14} {:>5}/{total} {:>5}/{total}",
        "all", ours_total, zbar_total
    );
}
