//! The technician's CLI against real processes: device detection on a sysfs tree, enrollment
//! with the regional server (the agent restarted through a fake systemd on a private bus),
//! the hardware self-test on simulated devices, the status line, and writing an image to a
//! card without ever touching the system disk.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use menpai_tests::fake_host::FakeHost;
use menpai_tests::regional::{ADMIN, enrollment_token, server};
use menpai_tests::{
    agent_dir, binary, demo_region, get_json, http, login, printed, spawn_agent_env, workspace,
};

fn provision(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(binary("menpai-provision"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A USB device at `usb/<port>` with its ids, and an interface under it.
fn usb_device(sys: &Path, port: &str, vid: &str, pid: &str, product: &str) -> std::path::PathBuf {
    let dev = sys.join("devices/pci0000:00/0000:00:14.0/usb1").join(port);
    let iface = dev.join(format!("{port}:1.0"));
    std::fs::create_dir_all(&iface).unwrap();
    for (f, v) in [("idVendor", vid), ("idProduct", pid), ("product", product)] {
        std::fs::write(dev.join(f), format!("{v}\n")).unwrap();
    }
    iface
}

/// `class/<class>/<name>` → the class device, with `device` pointing at `parent`.
fn class_device(sys: &Path, class: &str, name: &str, class_dir: &Path, parent: &Path) {
    std::fs::create_dir_all(class_dir).unwrap();
    std::os::unix::fs::symlink(parent, class_dir.join("device")).unwrap();
    std::fs::create_dir_all(sys.join("class").join(class)).unwrap();
    std::os::unix::fs::symlink(class_dir, sys.join("class").join(class).join(name)).unwrap();
}

/// A terminal's sysfs: a Honeywell scanner (CDC ACM), an Epson printer (USB printer class),
/// a CH340 bridge to the LED bar, an on-board serial port, a sound card.
fn terminal_sysfs(sys: &Path) {
    let acm = usb_device(
        sys,
        "1-1",
        "0c2e",
        "0b61",
        "Honeywell Scanning and Mobility",
    );
    class_device(sys, "tty", "ttyACM0", &acm.join("tty/ttyACM0"), &acm);
    let lp = usb_device(sys, "1-2", "04b8", "0202", "TM-T82III");
    class_device(sys, "usbmisc", "lp0", &lp.join("usbmisc/lp0"), &lp);
    let ch340 = usb_device(sys, "1-3", "1a86", "7523", "USB Serial");
    let port = ch340.join("ttyUSB0");
    std::fs::create_dir_all(&port).unwrap();
    class_device(sys, "tty", "ttyUSB0", &port.join("tty/ttyUSB0"), &port);
    let uart = sys.join("devices/platform/serial8250/tty/ttyS0");
    class_device(
        sys,
        "tty",
        "ttyS0",
        &uart,
        &sys.join("devices/platform/serial8250"),
    );
    std::fs::create_dir_all(sys.join("class/sound/card0")).unwrap();
}

#[test]
fn detect_places_devices_by_usb_id_and_writes_the_agent_config() {
    let tmp = tempfile::tempdir().unwrap();
    let sys = tmp.path().join("sys");
    terminal_sysfs(&sys);
    let config = tmp.path().join("agent.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:7711\"\n[terminal]\nposition = \"waiting\"\n",
    )
    .unwrap();
    let detect_write = || {
        let (sys, config) = (sys.to_str().unwrap(), config.to_str().unwrap());
        provision(
            &["detect", "--sysfs", sys, "--config", config, "--write"],
            &[],
        )
    };
    let (code, out) = detect_write();
    assert_eq!(code, 0, "{out}");
    println!("{out}");
    for line in [
        "扫码器    /dev/ttyACM0    0c2e:0b61  Honeywell 扫码器",
        "打印机    /dev/usb/lp0    04b8:0202  爱普生 Epson 票据打印机",
        "LED 屏    /dev/ttyUSB0    1a86:7523  CH340 USB 转串口",
        "摄像头    未找到",
        "声卡      有（语音播报用 espeak-ng）",
    ] {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }
    assert!(
        !out.contains("ttyS0"),
        "an on-board UART is no USB device:\n{out}"
    );

    // The agent reads what was written; the keys that were there stay.
    let c = menpai_agent::config::Config::load(Some(&config)).unwrap();
    assert_eq!(c.listen.port(), 7711);
    assert_eq!(c.terminal.position, "waiting");
    let d = &c.devices;
    assert_eq!(
        (d.scanner.backend.name(), d.scanner.usb_id.as_str()),
        ("serial", "0c2e:0b61")
    );
    assert_eq!(
        (d.printer.backend.name(), d.printer.path.as_str()),
        ("usb_lp", "/dev/usb/lp0")
    );
    assert_eq!(
        (d.led.backend.name(), d.led.usb_id.as_str()),
        ("serial", "1a86:7523")
    );
    assert_eq!(d.voice.backend.name(), "espeak");
    assert!(config.with_extension("toml.bak").exists());

    // A Raspberry Pi's GPIO needs an agent built for it: refused with the reason, and the
    // config is left as it was.
    let model = sys.join("firmware/devicetree/base");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("model"), "Raspberry Pi 4 Model B Rev 1.4\0").unwrap();
    let before = std::fs::read_to_string(&config).unwrap();
    let (code, out) = detect_write();
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("would be refused by the agent") && out.contains("rpi"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
}

#[test]
fn enrollment_and_the_self_test_on_simulated_devices() {
    let host = FakeHost::start();
    let bus = [("DBUS_SYSTEM_BUS_ADDRESS", host.address.as_str())];
    let tmp = tempfile::tempdir().unwrap();
    let s = server(tmp.path(), "heartbeat_interval_s = 1\n", &demo_region());
    let admin = login(&s, ADMIN.0, ADMIN.1);
    let token = enrollment_token(&s, &admin, None);

    // Enroll: the identity, the technician credential, the config, the agent restarted.
    let dir = agent_dir(None, "[host]\nnetwork_poll_s = 1\n");
    let config = dir.path().join("agent.toml");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, s.ca_pem()).unwrap();
    let server_url = format!("https://{}", s.devices);
    let enroll = |extra: &[&str]| {
        let (config, ca) = (config.to_str().unwrap(), ca.to_str().unwrap());
        let mut args = vec!["enroll", "--config", config, "--server", &server_url];
        args.extend(["--ca", ca, "--token", &token]);
        args.extend_from_slice(extra);
        provision(&args, &bus)
    };
    let (code, out) = enroll(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("已登记：终端 hall-futian-"), "{out}");
    assert!(out.contains("（hall-futian entrance）"), "{out}");
    assert!(out.contains("已重启 menpai-agent.service"), "{out}");
    assert_eq!(
        host.restarts(),
        vec![("menpai-agent.service".to_owned(), "replace".to_owned())]
    );
    let token_file = dir.path().join("technician.token");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the credential is readable by others");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("token_sha256 = \""), "{written}");
    assert!(written.contains("listen = \"127.0.0.1:0\""), "{written}");
    // The same token again: refused by the server, and nothing is changed.
    let (code, again) = enroll(&["--no-restart"]);
    assert_eq!(code, 2, "{again}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), written);

    // The agent starts (as systemd would after the restart) and syncs.
    let agent = spawn_agent_env(dir, &bus);
    agent.wait_health(Duration::from_secs(30), |h| {
        h["regional"]["last_sync"].is_string() && h["host"]["network"]["connectivity"] == "full"
    });
    let agent_url = format!("http://{}", agent.addr);
    let cli = |extra: &[&str]| {
        let mut args = vec![
            "self-test",
            "--config",
            config.to_str().unwrap(),
            "--agent",
            agent_url.as_str(),
            "--scan-timeout",
            "20",
        ];
        args.extend_from_slice(extra);
        Command::new(binary("menpai-provision"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // The technician scans the code on the test ticket (the scanner twin reads it).
    let scan_test_ticket = || {
        let preview = printed(agent.addr, "MENPAI-SELFTEST-");
        let code = preview
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .find(|w| w.starts_with("MENPAI-SELFTEST-"))
            .unwrap_or_else(|| panic!("no test code printed:\n{preview}"))
            .to_owned();
        let body = serde_json::json!({ "payload": code }).to_string();
        let (st, r) = http(
            agent.addr,
            "POST",
            "/api/v1/sim/scanner",
            &[("content-type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(st, 200, "{r}");
        code
    };

    // First run: no kiosk UI is running, so the display fails; every device passes.
    let child = cli(&[]);
    let code = scan_test_ticket();
    let out = child.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{report}");
    assert_eq!(out.status.code(), Some(1), "{report}");
    for line in [
        format!("打印机      通过    测试票已打印（{code}）"),
        "扫码器      通过    读到了测试票上的自检码".into(),
        "LED 屏      通过    已显示「设备自检」，请目视确认".into(),
        "状态灯      通过    已闪烁 3 次，请目视确认".into(),
        "摄像头      跳过    未配置".into(),
        "显示屏      不通过  界面程序没有运行或没有响应".into(),
        "语音        通过    已播报「语音自检」，请听".into(),
        "网络        通过    网络正常（有线连接 1）".into(),
        "结果：不通过（1 项：显示屏）".into(),
    ] {
        assert!(report.contains(&line), "missing `{line}` in:\n{report}");
    }
    assert!(
        report.contains("区域服务器  通过    已登记为 hall-futian-"),
        "{report}"
    );
    // What the devices saw.
    let (_, led) = get_json(agent.addr, "/api/v1/sim/led");
    assert!(led.to_string().contains("设备自检"), "{led}");
    let (_, gpio) = get_json(agent.addr, "/api/v1/sim/gpio");
    assert!(gpio["status_led_changes"].as_u64() >= Some(6), "{gpio}");
    let (_, voice) = get_json(agent.addr, "/api/v1/sim/voice");
    assert!(voice.to_string().contains("语音自检"), "{voice}");

    // Second run: the kiosk UI runs, the printer is out of paper. The technician scans any
    // code; the report says the printer failed and why, as JSON for scripts.
    let _ui = agent.events();
    let (st, _) = http(agent.addr, "POST", "/api/v1/ui/alive", &[], b"");
    assert_eq!(st, 204);
    let (st, _) = http(
        agent.addr,
        "POST",
        "/api/v1/sim/printer",
        &[("content-type", "application/json")],
        b"{\"paper_out\": true}",
    );
    assert_eq!(st, 200);
    std::thread::sleep(Duration::from_millis(300));
    let child = cli(&["--json"]);
    std::thread::sleep(Duration::from_secs(2));
    let (st, _) = http(
        agent.addr,
        "POST",
        "/api/v1/sim/scanner",
        &[("content-type", "application/json")],
        b"{\"payload\": \"any code\"}",
    );
    assert_eq!(st, 200);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = |step: &str| {
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == step)
            .unwrap()
            .clone()
    };
    assert_eq!(outcome("printer")["outcome"], "fail", "{r}");
    assert!(
        outcome("printer")["detail"]
            .as_str()
            .unwrap()
            .contains("纸"),
        "{r}"
    );
    assert_eq!(outcome("scanner")["outcome"], "pass", "{r}");
    assert!(
        outcome("scanner")["detail"]
            .as_str()
            .unwrap()
            .contains("测试票未打印")
    );
    assert_eq!(outcome("display")["outcome"], "pass", "{r}");
    assert_eq!(r["passed"], false);

    // A wrong credential is refused, and said so.
    std::fs::write(tmp.path().join("forged.token"), "not-the-credential\n").unwrap();
    let (code, out) = provision(
        &[
            "self-test",
            "--config",
            config.to_str().unwrap(),
            "--agent",
            &agent_url,
            "--token-file",
            tmp.path().join("forged.token").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("the agent refused the self-test (401)"),
        "{out}"
    );

    // The status line the image's boot report prints.
    let (code, out) = provision(
        &[
            "status",
            "--config",
            config.to_str().unwrap(),
            "--agent",
            &agent_url,
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("menpai-agent health: ok, content "),
        "{out}"
    );
    assert!(out.contains("网络：网络正常（有线连接 1）"), "{out}");
}

#[test]
fn write_sd_refuses_the_system_disk_and_checks_what_it_wrote() {
    let script = workspace().join("provisioning/write-sd");
    let tmp = tempfile::tempdir().unwrap();
    let image = tmp.path().join("menpai.img");
    let bytes: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    std::fs::write(&image, &bytes).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("bash")
            .arg(&script)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned()
                + &String::from_utf8_lossy(&out.stdout),
        )
    };
    // The disk under / is refused, even with every override.
    let root = String::from_utf8(
        Command::new("findmnt")
            .args(["-n", "-o", "SOURCE", "--target", "/"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let root = root.trim();
    if Path::new(root).exists() {
        let disk = format!(
            "/dev/{}",
            String::from_utf8(
                Command::new("lsblk")
                    .args(["-no", "PKNAME", root])
                    .output()
                    .unwrap()
                    .stdout
            )
            .unwrap()
            .trim()
        );
        let target = if disk == "/dev/" {
            root.to_owned()
        } else {
            disk
        };
        let (code, out) = run(&[image.to_str().unwrap(), &target, "--yes", "--force-fixed"]);
        assert_eq!(code, 2, "{out}");
        assert!(
            out.contains("refusing to overwrite the system disk"),
            "{target}: {out}"
        );
    }
    // A file is no card.
    let (code, out) = run(&[
        image.to_str().unwrap(),
        tmp.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(out.contains("no such device"), "{out}");
    let (code, out) = run(&[image.to_str().unwrap(), image.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(out.contains("is not a block device"), "{out}");

    // A loop device stands in for a card: fixed, so it needs --force-fixed; then the image
    // is written and read back.
    let card = tmp.path().join("card");
    std::fs::write(&card, vec![0u8; 4 * 1024 * 1024]).unwrap();
    let Ok(out) = Command::new("losetup")
        .args(["-f", "--show"])
        .arg(&card)
        .output()
    else {
        return;
    };
    let loop_dev = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || loop_dev.is_empty() {
        eprintln!("no loop devices here; the write itself is not tested");
        return;
    }
    let (code, out) = run(&[image.to_str().unwrap(), &loop_dev, "--yes"]);
    let (code2, out2) = run(&[image.to_str().unwrap(), &loop_dev, "--yes", "--force-fixed"]);
    let _ = Command::new("losetup").args(["-d", &loop_dev]).status();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is a fixed disk"), "{out}");
    assert_eq!(code2, 0, "{out2}");
    assert!(out2.contains("checked byte for byte"), "{out2}");
    let written = std::fs::read(&card).unwrap();
    assert_eq!(&written[..bytes.len()], &bytes[..]);
}
