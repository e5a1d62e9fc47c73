//! The terminal's and the server's systemd units: they verify against the real binaries, their
//! hardening scores well, and the agent speaks the notify protocol (READY, the watchdog,
//! STOPPING) to a notify socket as systemd would hold it.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use menpai_tests::{agent_dir, binary, demo_region, spawn_agent_env, workspace};

const UNITS: &[&str] = &[
    "menpai-agent.service",
    "menpai-kiosk.service",
    "menpai-server.service",
];

/// A root with the host's system units, ours, and the programs they start.
fn unit_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    for d in ["usr/bin", "etc/systemd/system", "usr/lib/systemd"] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    let status = Command::new("cp")
        .args(["-a", "/usr/lib/systemd/system"])
        .arg(r.join("usr/lib/systemd"))
        .status()
        .unwrap();
    assert!(status.success());
    for unit in UNITS {
        std::fs::copy(
            workspace().join("systemd").join(unit),
            r.join("etc/systemd/system").join(unit),
        )
        .unwrap();
    }
    let cage = Path::new("/usr/bin/cage");
    assert!(
        cage.exists(),
        "cage is not installed (scripts/setup.sh installs it)"
    );
    for program in [
        binary("menpai-agent"),
        binary("menpai-server"),
        binary("menpai-kiosk"),
        cage.to_owned(),
    ] {
        let to = r.join("usr/bin").join(program.file_name().unwrap());
        // A hard link: the kiosk's debug binary is large.
        if std::fs::hard_link(&program, &to).is_err() {
            std::fs::copy(&program, &to).unwrap();
        }
    }
    root
}

#[test]
fn the_units_verify_and_are_hardened() {
    let root = unit_root();
    for unit in UNITS {
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(format!("--root={}", root.path().display()))
            .arg(unit)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{unit} does not verify:\n{said}");
        // Unknown keys and bad values are warnings: none allowed.
        assert!(said.trim().is_empty(), "{unit}:\n{said}");

        // Exposure at most 2.5 of 10 ("OK"), and the settings the brief names are in place.
        let out = Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--threshold=25", "--no-pager"])
            .arg(workspace().join("systemd").join(unit))
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{unit} is too exposed:\n{report}");
        let exposure: f32 = report
            .lines()
            .find_map(|l| l.split("exposure level for ").nth(1))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no exposure in:\n{report}"));
        println!("{unit}: exposure {exposure}");
        for setting in ["NoNewPrivileges=", "ProtectSystem=", "ProtectHome="] {
            let line = report
                .lines()
                .find(|l| l.contains(setting))
                .unwrap_or_else(|| panic!("{unit}: {setting} not assessed"));
            assert!(line.trim_start().starts_with('✓'), "{unit}: {line}");
        }
    }
    let agent = std::fs::read_to_string(workspace().join("systemd/menpai-agent.service")).unwrap();
    for line in [
        "Type=notify",
        "WatchdogSec=30s",
        "DevicePolicy=closed",
        "User=menpai",
    ] {
        assert!(agent.lines().any(|l| l == line), "agent unit lacks {line}");
    }
    let kiosk = std::fs::read_to_string(workspace().join("systemd/menpai-kiosk.service")).unwrap();
    assert!(kiosk.contains("ExecStart=/usr/bin/cage -d -s -- /usr/bin/menpai-kiosk"));
    assert!(kiosk.lines().any(|l| l == "Restart=always"));
}

#[test]
fn the_agent_reports_ready_pets_the_watchdog_and_says_when_it_stops() {
    let dir = agent_dir(Some(&demo_region()), "[host]\ndbus = false\n");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = Instant::now();
    // WATCHDOG_USEC as systemd sets it for WatchdogSec=0.6s: pets every 0.3 s.
    let mut agent = spawn_agent_env(
        dir,
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "600000"),
        ],
    );
    let mut messages: Vec<(Duration, String)> = Vec::new();
    let mut buf = [0u8; 4096];
    // Until READY (the first start seeds the store), then 3 s of watchdog.
    let mut ready_at = None;
    while started.elapsed() < Duration::from_secs(30)
        && ready_at.is_none_or(|r: Instant| r.elapsed() < Duration::from_secs(3))
    {
        if let Ok(n) = socket.recv(&mut buf) {
            let m = String::from_utf8_lossy(&buf[..n]).into_owned();
            if m.contains("READY=1") {
                ready_at = Some(Instant::now());
            }
            messages.push((started.elapsed(), m));
        }
    }
    let ready = &messages
        .first()
        .unwrap_or_else(|| panic!("no notify message; log:\n{}", agent.log()))
        .1;
    assert!(ready.lines().any(|l| l == "READY=1"), "{messages:?}");
    assert!(
        ready.contains("STATUS=serving on 127.0.0.1:") && !ready.contains("content none"),
        "{ready}"
    );
    let pets: Vec<Duration> = messages
        .iter()
        .filter(|(_, m)| m == "WATCHDOG=1")
        .map(|(at, _)| *at)
        .collect();
    assert!(pets.len() >= 8, "too few pets: {messages:?}");
    let longest_gap = pets.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    println!(
        "READY after {:?}; {} watchdog pets in the 3 s after, longest gap {longest_gap:?}",
        messages[0].0,
        pets.len()
    );
    assert!(
        longest_gap < Duration::from_millis(600),
        "a gap of {longest_gap:?} would trip a 0.6 s watchdog"
    );

    // systemctl stop sends SIGTERM: the agent says STOPPING=1 and exits cleanly.
    let pid = agent.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stopping = false;
    while Instant::now() < deadline && !stopping {
        if let Ok(n) = socket.recv(&mut buf) {
            stopping = String::from_utf8_lossy(&buf[..n]) == "STOPPING=1";
        }
    }
    assert!(stopping, "no STOPPING=1");
    let status = agent.child.wait().unwrap();
    assert!(status.success(), "exit {status:?}");
}
