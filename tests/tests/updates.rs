//! Over-the-air updates between real processes: the regional server, an enrolled agent behind
//! a proxy that cuts big transfers, fake logind and a fake RAUC (two slots and a try counter;
//! bundles checked by the real `rauc info`) on a private dbus-daemon, and bundles built and
//! signed by the real `rauc bundle`. A bundle signed outside the release CA is refused by the
//! server; one a misconfigured server took anyway is refused by the terminal's RAUC. A good
//! bundle downloads through three cut links (resumed, not restarted), installs, waits for a
//! print to finish before the reboot, passes its health gate in the new slot and is marked
//! good. A bundle whose boot leaves the printer dead fails its gate: the slot is marked bad,
//! the terminal reboots into the old one and the server shows the rollback. In Chromium, the
//! fleet view shows what the terminal runs and the updates page its rollouts; one started from
//! the page's form runs to its end there.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use menpai_tests::fake_host::FakeHost;
use menpai_tests::fake_rauc::FakeRauc;
use menpai_tests::proxy::Proxy;
use menpai_tests::regional::{ADMIN, VIEWER, api, enroll, enrollment_token, server};
use menpai_tests::webdriver::{Driver, browser_login};
use menpai_tests::{
    RunningAgent, RunningServer, demo_region, get_json, http, login, spawn_agent_env,
};
use serde_json::{Value, json};

const COMPATIBLE: &str = "menpai-terminal-amd64";
const TERMINAL: &str = "[regional]\nheartbeat_interval_s = 1\nsync_interval_s = 3600\nmax_backoff_s = 1\n\
                        [host]\nnetwork_poll_s = 1\nui_silence_s = 0\n\
                        [update]\npoll_s = 2\nstream_jitter_s = 0\nquiet_s = 1\ngate_timeout_s = 4\n";

/// The terminal's config, its boot id from the fake RAUC's reboots.
fn terminal_config(rauc: &FakeRauc) -> String {
    format!("{TERMINAL}boot_id_file = {:?}\n", rauc.boot_id_file)
}
/// The size of a test bundle's root filesystem image: big enough to cut three times.
const IMAGE_BYTES: usize = 3_000_000;

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("the command runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a signing certificate under it, made by openssl: (ca.pem, cert.pem, key.pem).
fn signer(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let p = |f: &str| dir.join(format!("{name}-{f}"));
    let subj = |cn: &str| format!("/O=Menpai test/CN={cn}");
    run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .arg("-keyout")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.pem"))
        .args(["-subj", &subj(&format!("{name} CA"))]));
    run(Command::new("openssl")
        .args(["req", "-newkey", "rsa:2048", "-nodes"])
        .arg("-keyout")
        .arg(p("key.pem"))
        .arg("-out")
        .arg(p("csr.pem"))
        .args(["-subj", &subj(&format!("{name} release"))]));
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "30", "-CAcreateserial"])
        .arg("-in")
        .arg(p("csr.pem"))
        .arg("-CA")
        .arg(p("ca.pem"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("cert.pem")));
    (p("ca.pem"), p("cert.pem"), p("key.pem"))
}

/// A plain RAUC bundle of a root filesystem image (random bytes), signed by `cert`/`key`.
fn bundle(dir: &Path, version: &str, signed: &(PathBuf, PathBuf, PathBuf)) -> Vec<u8> {
    let input = dir.join(format!("in-{version}"));
    std::fs::create_dir_all(&input).unwrap();
    let mut image = vec![0u8; IMAGE_BYTES];
    let mut x = version
        .bytes()
        .fold(0x9E37_79B9_u64, |a, b| a.rotate_left(5) ^ u64::from(b));
    for b in image.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(input.join("rootfs.img"), image).unwrap();
    std::fs::write(
        input.join("manifest.raucm"),
        format!(
            "[update]\ncompatible={COMPATIBLE}\nversion={version}\n\n[image.rootfs]\nfilename=rootfs.img\n"
        ),
    )
    .unwrap();
    let out = dir.join(format!("{version}.raucb"));
    let _ = std::fs::remove_file(&out);
    run(Command::new("rauc")
        .arg(format!("--cert={}", signed.1.display()))
        .arg(format!("--key={}", signed.2.display()))
        .arg("bundle")
        .arg(&input)
        .arg(&out));
    std::fs::read(out).unwrap()
}

fn upload(s: &RunningServer, admin: &str, bytes: &[u8]) -> (u16, Value) {
    api(
        s,
        admin,
        "POST",
        "/api/v1/admin/releases",
        "application/octet-stream",
        bytes,
    )
}

fn roll_out(s: &RunningServer, admin: &str, release: &str, name: &str) -> String {
    let body = json!({
        "release": release,
        "name": name,
        "groups": [{"name": "试点大厅", "halls": ["hall-futian"]}],
        "success_pct": 100,
        "error_pct": 0,
    });
    let (st, r) = api(
        s,
        admin,
        "POST",
        "/api/v1/admin/rollouts",
        "application/json",
        body.to_string().as_bytes(),
    );
    assert_eq!(st, 201, "{r}");
    r["id"].as_str().unwrap().to_owned()
}

/// Waits until the terminal's phase in `rollout` is `phase`; the terminal as listed.
fn wait_phase(
    s: &RunningServer,
    admin: &str,
    rollout: &str,
    phase: &str,
    agent: &RunningAgent,
) -> Value {
    let start = Instant::now();
    loop {
        let (st, r) = api(
            s,
            admin,
            "GET",
            &format!("/api/v1/admin/rollouts/{rollout}"),
            "",
            b"",
        );
        assert_eq!(st, 200, "{r}");
        let t = r["terminals"][0].clone();
        if t["phase"] == phase {
            return t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the terminal is still {} ({}) in {rollout}, not {phase}\n{}",
            t["phase"],
            t["detail"],
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The fleet view's line for the terminal.
fn fleet_terminal(s: &RunningServer, token: &str) -> Value {
    let (st, r) = api(s, token, "GET", "/api/v1/fleet", "", b"");
    assert_eq!(st, 200, "{r}");
    r["halls"][0]["terminals"][0].clone()
}

fn wait_reboots(host: &FakeHost, n: usize, agent: &RunningAgent) {
    let start = Instant::now();
    while host.reboots().len() < n {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no reboot asked:\n{}",
            agent.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Replaces the `[devices.printer]` table of the agent's config (none: the simulated default).
fn set_printer(agent: &RunningAgent, table: Option<&str>) {
    let path = agent.dir.path().join("agent.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let base = text.split("\n[devices.printer]").next().unwrap().to_owned();
    let text = match table {
        Some(t) => format!("{base}\n[devices.printer]\n{t}"),
        None => base,
    };
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_rollout_downloads_through_cuts_waits_for_a_print_and_rolls_back_a_failed_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let release = signer(tmp.path(), "release");
    let rogue = signer(tmp.path(), "rogue");
    let server_keyring = tmp.path().join("server-keyring.pem");
    std::fs::copy(&release.0, &server_keyring).unwrap();
    std::fs::create_dir_all(tmp.path().join("server")).unwrap();
    let s = server(
        &tmp.path().join("server"),
        &format!("heartbeat_interval_s = 1\nrelease_keyring = {server_keyring:?}\n"),
        &demo_region(),
    );
    let admin = login(&s, ADMIN.0, ADMIN.1);

    // The terminal: fake logind and RAUC (slot A, 2026.11.1) on its bus, the server behind a proxy.
    let host = FakeHost::start();
    let rauc = FakeRauc::start(&host.address, release.0.clone(), COMPATIBLE, "2026.11.1");
    let proxy = Proxy::start(s.devices);
    let token = enrollment_token(&s, &admin, None);
    let dir = enroll(&s, proxy.addr, &token, &terminal_config(&rauc));
    let bus = [("DBUS_SYSTEM_BUS_ADDRESS", host.address.as_str())];
    let mut agent = spawn_agent_env(dir, &bus);
    agent.wait_health(Duration::from_secs(60), |h| {
        h["content_version"].is_string()
    });
    let start = Instant::now();
    while fleet_terminal(&s, &admin)["system_version"] != "2026.11.1" {
        assert!(start.elapsed() < Duration::from_secs(60), "{}", agent.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(fleet_terminal(&s, &admin)["slot"], "A");

    // Signed outside the release CA: the server refuses it.
    let rogue_bundle = bundle(tmp.path(), "2026.12.66", &rogue);
    let (st, r) = upload(&s, &admin, &rogue_bundle);
    assert_eq!(st, 422, "{r}");
    assert!(r["error"].as_str().unwrap().contains("签名"), "{r}");
    // A viewer may not upload at all.
    let viewer = login(&s, VIEWER.0, VIEWER.1);
    assert_eq!(upload(&s, &viewer, &rogue_bundle[..1000]).0, 403);

    // A misconfigured server trusts the rogue CA too; the terminal's RAUC still refuses it.
    let both = format!(
        "{}{}",
        std::fs::read_to_string(&release.0).unwrap(),
        std::fs::read_to_string(&rogue.0).unwrap()
    );
    std::fs::write(&server_keyring, both).unwrap();
    let (st, r) = upload(&s, &admin, &rogue_bundle);
    assert_eq!(st, 201, "{r}");
    let rollout = roll_out(&s, &admin, r["id"].as_str().unwrap(), "错误签名");
    let t = wait_phase(&s, &admin, &rollout, "failed", &agent);
    assert!(t["detail"].as_str().unwrap().contains("安装失败"), "{t}");
    assert!(
        rauc.slot("B").version.is_empty(),
        "nothing written to slot B"
    );
    assert_eq!(rauc.state.lock().unwrap().refused.len(), 1);
    std::fs::copy(&release.0, &server_keyring).unwrap();

    // A good bundle, cut three times on its way down.
    let good = bundle(tmp.path(), "2026.12.1", &release);
    let (st, r) = upload(&s, &admin, &good);
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["version"], "2026.12.1");
    assert!(
        r["signer"].as_str().unwrap().contains("release release"),
        "{r}"
    );
    proxy.cut_big_transfers(700_000, 3);
    // A long print (the printer takes 12 s) holds the reboot.
    let json_header = [("Content-Type", "application/json")];
    let (st, r) = http(
        agent.addr,
        "POST",
        "/api/v1/sim/printer",
        &json_header,
        b"{\"print_ms\": 12000}",
    );
    assert_eq!(st, 200, "{r}");
    let down_before = proxy.down.load(std::sync::atomic::Ordering::Relaxed);
    let rollout = roll_out(
        &s,
        &admin,
        r_id(&s, &admin, "2026.12.1").as_str(),
        "十二月版",
    );
    let addr = agent.addr;
    let printing = std::thread::spawn(move || {
        let body = br#"{"item": "P43", "situations": []}"#;
        let (st, r) = http(
            addr,
            "POST",
            "/api/v1/print/checklist",
            &[("Content-Type", "application/json")],
            body,
        );
        assert_eq!(st, 200, "{r}");
        Instant::now()
    });
    let t = wait_phase(&s, &admin, &rollout, "installed", &agent);
    let waited = if t["detail"] == "等待空闲：正在打印" {
        t
    } else {
        let start = Instant::now();
        loop {
            let (_, r) = api(
                &s,
                &admin,
                "GET",
                &format!("/api/v1/admin/rollouts/{rollout}"),
                "",
                b"",
            );
            let t = r["terminals"][0].clone();
            if t["detail"] == "等待空闲：正在打印" {
                break t;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no wait for the print: {t}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    assert_eq!(waited["phase"], "installed", "{waited}");
    assert!(host.reboots().is_empty(), "no reboot while printing");
    assert_eq!(proxy.big_cuts_left(), 0, "the download was cut three times");
    assert!(agent.log().contains("续传 3 次"), "{}", agent.log());
    // Resumed where each cut stopped it: about one bundle came down, not four starts.
    let moved = proxy.down.load(std::sync::atomic::Ordering::Relaxed) - down_before;
    assert!(
        moved < good.len() as u64 * 3 / 2,
        "{moved} bytes moved for a {}-byte bundle",
        good.len()
    );
    assert_eq!(rauc.slot("B").version, "2026.12.1");
    let printed_at = printing.join().unwrap();
    wait_reboots(&host, 1, &agent);
    assert!(printed_at.elapsed() < Duration::from_secs(30));
    wait_phase(&s, &admin, &rollout, "rebooting", &agent);
    assert_eq!(
        rauc.state.lock().unwrap().primary,
        1,
        "slot B made the one to boot just before the reboot"
    );

    // The agent restarts before the reboot happens (same boot): nothing is taken for a
    // rollback; it waits for the reboot.
    agent = agent.restart_env(&bus);
    std::thread::sleep(Duration::from_secs(3));
    let t = wait_phase(&s, &admin, &rollout, "rebooting", &agent);
    assert_eq!(t["phase"], "rebooting");

    // The reboot: slot B comes up, passes its gate and is marked good.
    agent.stop();
    assert_eq!(rauc.reboot(), "B");
    agent = agent.restart_env(&bus);
    let t = wait_phase(&s, &admin, &rollout, "done", &agent);
    assert_eq!(t["detail"], "健康检查通过，新系统已确认");
    assert!(rauc.slot("B").good);
    let f = fleet_terminal(&s, &admin);
    assert_eq!(
        (f["system_version"].as_str(), f["slot"].as_str()),
        (Some("2026.12.1"), Some("B"))
    );
    assert_eq!(f["update_phase"], "done");
    let (_, r) = api(
        &s,
        &admin,
        "GET",
        &format!("/api/v1/admin/rollouts/{rollout}"),
        "",
        b"",
    );
    assert_eq!(r["state"], "finished", "{r}");

    // A version whose boot leaves the printer dead fails its gate and goes back.
    let broken = bundle(tmp.path(), "2026.12.2", &release);
    let (st, r) = upload(&s, &admin, &broken);
    assert_eq!(st, 201, "{r}");
    let rollout = roll_out(&s, &admin, r["id"].as_str().unwrap(), "坏版本");
    wait_phase(&s, &admin, &rollout, "rebooting", &agent);
    wait_reboots(&host, 2, &agent);
    agent.stop();
    assert_eq!(rauc.reboot(), "A");
    set_printer(
        &agent,
        Some("backend = \"serial\"\npath = \"/dev/menpai-no-printer\"\n"),
    );
    agent = agent.restart_env(&bus);
    let t = wait_phase(&s, &admin, &rollout, "failed", &agent);
    assert!(
        t["detail"].as_str().unwrap().contains("打印机 不正常"),
        "{t}"
    );
    wait_reboots(&host, 3, &agent);
    assert!(!rauc.slot("A").good, "the failed slot is not marked good");
    assert!(
        rauc.state
            .lock()
            .unwrap()
            .marks
            .contains(&("bad".into(), "A".into())),
        "the failed slot is marked bad"
    );
    agent.stop();
    assert_eq!(
        rauc.reboot(),
        "B",
        "the bootloader goes back to the good slot"
    );
    set_printer(&agent, None);
    agent = agent.restart_env(&bus);
    let t = wait_phase(&s, &admin, &rollout, "rolled_back", &agent);
    assert!(
        t["detail"].as_str().unwrap().contains("已回到原系统"),
        "{t}"
    );
    let f = fleet_terminal(&s, &admin);
    assert_eq!(
        (f["system_version"].as_str(), f["slot"].as_str()),
        (Some("2026.12.1"), Some("B"))
    );
    assert_eq!(f["update_phase"], "rolled_back");
    let (_, page) = get_json(agent.addr, "/api/v1/health");
    assert!(page["content_version"].is_string());

    // In Chromium: the fleet view shows what the terminal runs; the updates page the rollouts,
    // and a new one started from its form comes to an end there.
    let d = Driver::start();
    let base = format!("https://{}", s.public);
    browser_login(&d, &base, ADMIN);
    d.go(&format!("{base}/fleet"));
    d.wait_text("td.system", "2026.12.1（B）", 30)
        .unwrap_or_else(|t| panic!("the fleet view: {t}"));
    assert_eq!(d.text("td.update"), "已回退");
    d.click("#updates-link");
    d.wait_text("h1", "系统更新", 30).unwrap();
    let bad = format!("div.rollout[data-id=\"{rollout}\"]");
    assert_eq!(d.text(&format!("{bad} span.st")), "失败过多，已自动停止");
    assert!(
        d.text(&format!("{bad} p.reason"))
            .contains("超过失败阈值 0%")
    );
    assert_eq!(
        d.script(&format!(
            "return document.querySelector('{bad} tr.terminal').dataset.phase;"
        )),
        "rolled_back"
    );
    d.script("document.querySelector('select[name=release]').value = document.querySelector('tr.release:nth-child(2)').dataset.id;");
    d.type_into("input[name=name]", "再发一次");
    d.type_into("textarea[name=groups]", "试点：hall-futian");
    d.click("#start-rollout");
    d.wait_text("div.rollout span.st", "已完成", 60)
        .unwrap_or_else(|t| panic!("the new rollout did not finish: {t}\n{}", agent.log()));
    assert_eq!(d.text("div.rollout b"), "再发一次");
    assert!(d.text("div.rollout td").contains("试点"));
    let out = menpai_tests::workspace().join("target/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("fleet-updates.png"), d.screenshot()).unwrap();
    drop(agent);
}

/// The id of the release with `version`.
fn r_id(s: &RunningServer, admin: &str, version: &str) -> String {
    let (_, r) = api(s, admin, "GET", "/api/v1/admin/releases", "", b"");
    r["releases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["version"] == version)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
