//! The kiosk under Xvfb with software rendering: time to first frame, CPU while untouched, and
//! frame times while scrolling a long list (200 items of the synthetic 5,000-item region) at
//! 1080×1920. Prints its figures.
//!
//! `cargo bench -p menpai-tests --bench kiosk`

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use menpai_tests::{binary, demo_region, start_agent};

fn xvfb(display: &str) -> std::process::Child {
    let child = Command::new("Xvfb")
        .args([display, "-screen", "0", "1080x1920x24", "-nolisten", "tcp"])
        .spawn()
        .expect("Xvfb");
    std::thread::sleep(Duration::from_millis(700));
    child
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of /proc/PID/stat; after the command name (field 2)
    // the state is at index 0, so they sit at indices 11 and 12.
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

fn cpu_percent(pid: u32, over: Duration) -> f64 {
    let ticks_per_s = 100.0; // USER_HZ on Linux
    let (t0, c0) = (Instant::now(), cpu_ticks(pid));
    std::thread::sleep(over);
    let (dt, dc) = (t0.elapsed().as_secs_f64(), cpu_ticks(pid) - c0);
    dc as f64 / ticks_per_s / dt * 100.0
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runtime = std::env::temp_dir().join("menpai-bench-xdg");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let region = tempfile::tempdir().unwrap();
    let ok = Command::new(binary("menpai-content"))
        .arg("synth")
        .arg(demo_region())
        .arg("5000")
        .arg(region.path())
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "writing the synthetic region failed");
    let agent = start_agent(region.path(), "");
    let agent_url = format!("http://{}", agent.addr);
    let display = ":77";
    let mut x = xvfb(display);

    // Time to first frame, five starts.
    let mut firsts = Vec::new();
    for _ in 0..5 {
        let shots = tempfile::tempdir().unwrap();
        let out = Command::new(binary("menpai-kiosk"))
            .env("DISPLAY", display)
            .env("XDG_RUNTIME_DIR", &runtime)
            .args(["--agent", &agent_url, "--script", "wait:3;quit", "--shots"])
            .arg(shots.path())
            .stderr(Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if let Some(ms) = text
            .lines()
            .find_map(|l| l.strip_prefix("menpai-kiosk: first frame after "))
        {
            firsts.push(ms.trim_end_matches(" ms").parse::<f64>().unwrap());
        }
    }
    firsts.sort_by(f64::total_cmp);
    println!(
        "kiosk first frame (5 starts): median {:.0} ms, max {:.0} ms",
        firsts[firsts.len() / 2],
        firsts[firsts.len() - 1]
    );

    // CPU while untouched: on the attract loop, then on the home screen.
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout.tsv");
    let mut kiosk = Command::new(binary("menpai-kiosk"))
        .env("DISPLAY", display)
        .env("XDG_RUNTIME_DIR", &runtime)
        .args(["--agent", &agent_url, "--windowed", "--layout"])
        .arg(&layout)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    // 32 s: four slides of 8 s.
    let attract = cpu_percent(kiosk.id(), Duration::from_secs(32));
    let click = Command::new("xdotool")
        .env("DISPLAY", display)
        .args(["mousemove", "540", "900", "click", "1"])
        .status();
    assert!(click.is_ok_and(|s| s.success()), "xdotool failed");
    std::thread::sleep(Duration::from_secs(4));
    let home = cpu_percent(kiosk.id(), Duration::from_secs(30));
    println!(
        "kiosk CPU while untouched (one core = 100%): attract loop {attract:.1}%, home screen {home:.1}%"
    );
    let _ = kiosk.kill();
    let _ = kiosk.wait();

    // Scrolling 200 items of one topic.
    let shots = tempfile::tempdir().unwrap();
    let mut scroll = Command::new(binary("menpai-kiosk"))
        .env("DISPLAY", display)
        .env("XDG_RUNTIME_DIR", &runtime)
        .args([
            "--agent",
            &agent_url,
            "--script",
            "start;go:browse;category:住房;wait:20;scrollbench:150;quit",
            "--shots",
        ])
        .arg(shots.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = std::io::BufReader::new(scroll.stdout.take().unwrap()).lines();
    for l in lines.map_while(Result::ok) {
        if l.starts_with("scroll frame time") {
            println!("kiosk {l} (a list of 200 items, 1080×1920, software rendering)");
        }
    }
    let _ = scroll.wait();
    let _ = x.kill();
    let _ = x.wait();
}
