//! The agent's devices, with the real `menpai-agent` process and devices on pseudo-terminals
//! the test holds: scans to the event stream, unplug and replug, floods and noise, printing.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use menpai_drivers::escpos::{Element, PrinterStatus, decode};
use menpai_drivers::printer::PrinterTwin;
use menpai_drivers::serial::PtyPair;
use menpai_tests::{demo_region, get_json, http, start_agent};

/// Points `link` at a pty's device path, as udev points /dev/ttyACM0 at whatever is plugged in.
fn plug(link: &Path, pair: &PtyPair) {
    let tmp = link.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&pair.device_path, &tmp).unwrap();
    std::fs::rename(&tmp, link).unwrap();
}

fn scanner_config(link: &Path) -> String {
    format!(
        "[devices.scanner]\nbackend = \"serial\"\npath = {:?}\nsuffix = \"CR\"\ninter_byte_timeout_ms = 100\nmax_len = 1024\n",
        link
    )
}

fn wait_for_state(addr: std::net::SocketAddr, device: &str, state: &str) -> serde_json::Value {
    for _ in 0..200 {
        let (_, d) = get_json(addr, "/api/v1/devices");
        if d["devices"][device]["state"] == state {
            return d["devices"][device].clone();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{device} never became {state}");
}

#[test]
fn scans_reach_the_event_stream_and_unplugging_mid_line_delivers_no_garbage() {
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("ttyScanner");
    let mut pair = PtyPair::new().unwrap();
    plug(&link, &pair);
    let agent = start_agent(&demo_region(), &scanner_config(&link));
    wait_for_state(agent.addr, "scanner", "ok");
    let mut events = agent.events();

    pair.twin.write_all(b"MP1:appointment:7f3a\r").unwrap();
    let scan = events.next_matching(Duration::from_secs(10), |e| e["type"] == "scan");
    assert_eq!(scan.unwrap()["payload"], "MP1:appointment:7f3a");

    // Unplugged in the middle of a scan: the agent sees the device go, delivers nothing.
    pair.twin.write_all(b"HALF-A-CO").unwrap();
    std::thread::sleep(Duration::from_millis(30));
    drop(pair);
    let down = std::panic::catch_unwind(|| wait_for_state(agent.addr, "scanner", "down"))
        .unwrap_or_else(|_| panic!("log:\n{}", agent.log()));
    assert!(
        down["detail"].as_str().unwrap().contains("断开")
            || down["detail"].as_str().unwrap().contains("无法打开")
    );

    // Replugged: the agent reconnects by itself and scans flow again.
    let mut pair = PtyPair::new().unwrap();
    plug(&link, &pair);
    let up = wait_for_state(agent.addr, "scanner", "ok");
    assert!(up["reconnects"].as_u64().unwrap() >= 1);
    pair.twin.write_all(b"AFTER\r").unwrap();
    let (after, seen) = events.collect_until(Duration::from_secs(10), |e| e["type"] == "scan");
    assert_eq!(after.unwrap()["payload"], "AFTER");
    assert!(
        seen.iter().all(|e| e["type"] != "scan"),
        "a half scan was delivered: {seen:?}"
    );
}

#[test]
fn floods_noise_and_stalls_leave_the_agent_alive_with_bounded_memory() {
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("ttyScanner");
    let mut pair = PtyPair::new().unwrap();
    plug(&link, &pair);
    let agent = start_agent(&demo_region(), &scanner_config(&link));
    wait_for_state(agent.addr, "scanner", "ok");
    let mut events = agent.events();
    let before = agent.rss_kib();

    let chunk = vec![b'8'; 64 * 1024];
    for _ in 0..160 {
        pair.twin.write_all(&chunk).unwrap(); // 10 MB without a suffix
    }
    pair.twin.write_all(b"\r").unwrap();
    pair.twin
        .write_all(&[0x00, 0xFF, 0xFE, 0x07, 0x1B, 0x9F, b'\r'])
        .unwrap();
    pair.twin.write_all(b"STALLED").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    pair.twin.write_all(b"STILL-HERE\r").unwrap();

    let (scan, seen) = events.collect_until(Duration::from_secs(30), |e| e["type"] == "scan");
    assert_eq!(scan.unwrap()["payload"], "STILL-HERE");
    assert!(
        seen.iter().all(|e| e["type"] != "scan"),
        "junk became a scan: {seen:?}"
    );
    let grown = agent.rss_kib().saturating_sub(before);
    assert!(
        grown < 4 * 1024,
        "the agent grew by {grown} KiB while 10 MB arrived"
    );
    assert_eq!(get_json(agent.addr, "/api/v1/health").0, 200);
    let log = agent.log();
    for reason in ["TooLong", "NotText", "Stalled"] {
        assert!(
            log.contains(&format!("reason={reason}")),
            "no log line for {reason}:\n{log}"
        );
    }
}

#[test]
fn a_printed_checklist_reaches_the_printer_and_paper_out_offers_a_qr() {
    let twin = PrinterTwin::start(PrinterStatus {
        online: true,
        ..Default::default()
    })
    .unwrap();
    let config = format!(
        "[devices.printer]\nbackend = \"serial\"\npath = {:?}\ncolumns = 32\nstatus_poll_s = 1\n",
        twin.device_path_str()
    );
    let agent = start_agent(&demo_region(), &config);
    wait_for_state(agent.addr, "printer", "ok");
    let mut events = agent.events();

    let (_, guide) = get_json(agent.addr, "/api/v1/items/P43");
    let situation = guide["item"]["situations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = format!("{{\"item\": \"P43\", \"situations\": [\"{situation}\"]}}");
    let json = [("Content-Type", "application/json")];
    let (status, reply) = http(
        agent.addr,
        "POST",
        "/api/v1/print/checklist",
        &json,
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{reply}");

    let mut bytes = Vec::new();
    for _ in 0..200 {
        bytes = twin.received();
        if bytes.ends_with(&[0x1D, b'V', 66, 0]) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elements = decode(&bytes);
    let text: String = elements
        .iter()
        .filter_map(|e| {
            if let Element::Line { text, .. } = e {
                Some(text.as_str())
            } else {
                None
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("办事材料清单") && text.contains("住房公积金购房提取"),
        "{text}"
    );
    let first_material = guide["item"]["materials"][0]["name"].as_str().unwrap();
    assert!(
        text.contains(first_material),
        "{first_material} missing:\n{text}"
    );
    assert!(text.contains("福田区政务服务中心"), "{text}");
    let qr = elements
        .iter()
        .find_map(|e| {
            if let Element::Qr(q) = e {
                Some(q.clone())
            } else {
                None
            }
        })
        .unwrap();
    assert_eq!(
        qr,
        format!("https://m.menpai.example.cn/c/P43?s={situation}&h=hall-futian")
    );
    assert_eq!(elements.last(), Some(&Element::Cut));

    // Out of paper: the UI is told, and a print offers the QR instead.
    twin.set_status(PrinterStatus {
        online: false,
        paper_out: true,
        ..Default::default()
    });
    let changed = events.next_matching(Duration::from_secs(10), |e| {
        e["type"] == "device_changed" && e["device"] == "printer" && e["health"]["state"] == "down"
    });
    assert_eq!(changed.unwrap()["health"]["detail"], "缺纸");
    let (status, reply) = http(
        agent.addr,
        "POST",
        "/api/v1/print/checklist",
        &json,
        body.as_bytes(),
    );
    assert_eq!(status, 503, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert!(reply["error"].as_str().unwrap().contains("缺纸"));
    assert_eq!(reply["details"]["fallback_qr"], qr.as_str());
}

#[test]
fn simulated_devices_run_the_demo_help_button_and_presence_reach_the_ui() {
    // The default config: every device simulated.
    let agent = start_agent(&demo_region(), "");
    for d in ["scanner", "printer", "led", "gpio"] {
        let h = wait_for_state(agent.addr, d, "ok");
        assert_eq!(h["backend"], "simulated");
    }
    let mut events = agent.events();
    let json = [("Content-Type", "application/json")];
    let (s, _) = http(
        agent.addr,
        "POST",
        "/api/v1/sim/scanner",
        &json,
        "{\"payload\": \"预约A12\", \"gb18030\": true}".as_bytes(),
    );
    assert_eq!(s, 200);
    let scan = events
        .next_matching(Duration::from_secs(10), |e| e["type"] == "scan")
        .unwrap();
    assert_eq!(scan["payload"], "预约A12");

    http(
        agent.addr,
        "POST",
        "/api/v1/sim/gpio",
        &json,
        b"{\"presence\": true}",
    );
    let p = events
        .next_matching(Duration::from_secs(5), |e| e["type"] == "presence")
        .unwrap();
    assert_eq!(p["present"], true);
    http(
        agent.addr,
        "POST",
        "/api/v1/sim/gpio",
        &json,
        b"{\"help_button\": true}",
    );
    assert!(
        events
            .next_matching(Duration::from_secs(5), |e| e["type"] == "help_requested")
            .is_some()
    );

    let body = b"{\"number\": \"A023\", \"business\": \"\xe7\xbb\xbc\xe5\x90\x88\xe5\x8f\x97\xe7\x90\x86\", \"people_ahead\": 2, \"estimated_wait_min\": 6, \"priority\": null, \"follow_url\": \"https://m.menpai.example.cn/t/A023\"}";
    let (s, reply) = http(agent.addr, "POST", "/api/v1/print/ticket", &json, body);
    assert_eq!(s, 200, "{reply}");
    let (_, printed) = get_json(agent.addr, "/api/v1/sim/printer");
    let preview = printed["preview"].as_str().unwrap();
    assert!(
        preview.contains("A023")
            && preview.contains("综合受理")
            && preview.contains("[QR https://m.menpai.example.cn/t/A023]"),
        "{preview}"
    );
}

#[path = "../../drivers/benches/frames/mod.rs"]
mod frames;

#[test]
fn a_code_the_camera_sees_reaches_the_event_stream_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = frames::Rng::new(3);
    let frame = frames::frame("perspective", &mut rng, 0);
    let config = format!(
        "[devices.camera]\nbackend = \"simulated\"\nframes_dir = {:?}\ndecodes_per_s = 20\n",
        dir.path()
    );
    let agent = start_agent(&demo_region(), &config);
    let mut events = agent.events();
    // The same code in three frames in a row is one scan, not three.
    for n in 0..3 {
        let tmp = dir.path().join(format!("frame-{n}.tmp"));
        frame
            .image
            .save_with_format(&tmp, image::ImageFormat::Png)
            .unwrap();
        std::fs::rename(&tmp, dir.path().join(format!("frame-{n}.png"))).unwrap();
    }
    let (scan, _) = events.collect_until(Duration::from_secs(10), |e| e["type"] == "scan");
    let scan = scan.expect("the camera's scan");
    assert_eq!(scan["payload"], frame.payload.as_str());
    assert_eq!(scan["source"], "camera");
    let (again, _) = events.collect_until(Duration::from_secs(1), |e| e["type"] == "scan");
    assert!(
        again.is_none(),
        "the same code was reported twice: {again:?}"
    );
}
