//! The technician's hardware self-test: prints a test ticket, waits for its code to be
//! scanned, shows a line on the LED bar, blinks the status LED, checks the camera grabs
//! frames, the screen and the UI, the voice, the network and the regional server.

use std::time::Duration;

use menpai_drivers::escpos::{Align, Job, QrLevel};
use menpai_drivers::led::LedMessage;
use menpai_drivers::voice::Announcement;
use menpai_model::api::{
    AgentEvent, DeviceState, SelfTestOutcome, SelfTestReport, SelfTestRequest, SelfTestStep,
};

use crate::Agent;

fn step(
    step: &str,
    name: &str,
    outcome: SelfTestOutcome,
    detail: impl Into<String>,
) -> SelfTestStep {
    SelfTestStep {
        step: step.into(),
        name: name.into(),
        outcome,
        detail: detail.into(),
    }
}

use SelfTestOutcome::{Fail, Pass, Skip};

/// Whether a device is fitted (configured) on this terminal, and its health.
fn device(agent: &Agent, name: &str) -> Option<menpai_model::api::DeviceHealth> {
    agent
        .devices
        .health()
        .remove(name)
        .filter(|h| h.state != DeviceState::Disabled)
}

/// An unattended check of a device nobody can try out: its state as the agent sees it.
fn state_only(key: &str, name: &str, h: &menpai_model::api::DeviceHealth) -> SelfTestStep {
    let outcome = match h.state {
        DeviceState::Down => Fail,
        _ => Pass,
    };
    let detail = if h.detail.is_empty() {
        "远程自检：已连接（未试打印或扫码）".to_owned()
    } else {
        format!("远程自检：{}", h.detail)
    };
    step(key, name, outcome, detail)
}

/// Runs every check in turn and reports.
pub async fn run(agent: &Agent, request: &SelfTestRequest) -> SelfTestReport {
    let now = menpai_model::queue::china_now();
    let code = format!("MENPAI-SELFTEST-{}", hex::encode(rand_bytes()));
    // Listen before printing, so a quick scan is not missed.
    let mut events = agent.subscribe();
    let mut steps = Vec::new();

    // Printer: a test ticket with the code to scan (unattended: its state only).
    let printed = match device(agent, "printer") {
        None => {
            steps.push(step("printer", "打印机", Skip, "未配置"));
            false
        }
        Some(h) if request.unattended => {
            steps.push(state_only("printer", "打印机", &h));
            false
        }
        Some(_) => {
            let mut job = Job::new();
            job.align(Align::Center)
                .bold(true)
                .line("设备自检 测试票")
                .bold(false)
                .line(&format!(
                    "{} {}",
                    agent.config.terminal.hall, agent.config.terminal.position
                ))
                .line(&now.format("%Y-%m-%d %H:%M:%S").to_string())
                .qr(&code, 6, QrLevel::M)
                .line("请用扫码器扫描上方二维码")
                .feed(3)
                .cut();
            match agent.devices.print(job.into_bytes()).await {
                Ok(()) => {
                    steps.push(step(
                        "printer",
                        "打印机",
                        Pass,
                        format!("测试票已打印（{code}）"),
                    ));
                    true
                }
                Err(e) => {
                    steps.push(step("printer", "打印机", Fail, e.reason));
                    false
                }
            }
        }
    };

    // Scanner: the code on the test ticket (any code when the ticket did not print).
    steps.push(match device(agent, "scanner") {
        None => step("scanner", "扫码器", Skip, "未配置"),
        Some(h) if request.unattended => state_only("scanner", "扫码器", &h),
        Some(_) => {
            let wait = Duration::from_secs(request.scan_timeout_s.clamp(1, 300));
            let scanned = tokio::time::timeout(wait, async {
                loop {
                    match events.recv().await {
                        Ok(AgentEvent::Scan { payload, source }) if source == "scanner" => {
                            return Some(payload);
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                        _ => {}
                    }
                }
            })
            .await;
            match scanned {
                Ok(Some(p)) if p == code => {
                    step("scanner", "扫码器", Pass, "读到了测试票上的自检码")
                }
                Ok(Some(p)) if !printed => step(
                    "scanner",
                    "扫码器",
                    Pass,
                    format!("读到一个码（{} 字节）；测试票未打印，无法核对内容", p.len()),
                ),
                Ok(Some(p)) => step(
                    "scanner",
                    "扫码器",
                    Fail,
                    format!("读到的不是测试票上的码（{} 字节）", p.len()),
                ),
                _ => step(
                    "scanner",
                    "扫码器",
                    Fail,
                    format!("{} 秒内没有扫到码", wait.as_secs()),
                ),
            }
        }
    });

    // LED bar: a line the technician can read; it must still be up after sending.
    steps.push(match device(agent, "led") {
        None => step("led", "LED 屏", Skip, "未配置"),
        Some(_) => {
            agent
                .devices
                .show_on_led(LedMessage::Blink("设备自检".into()));
            tokio::time::sleep(Duration::from_millis(500)).await;
            match device(agent, "led") {
                Some(h) if h.state == DeviceState::Ok => {
                    step("led", "LED 屏", Pass, "已显示「设备自检」，请目视确认")
                }
                Some(h) => step("led", "LED 屏", Fail, h.detail),
                None => step("led", "LED 屏", Fail, "LED 屏不见了"),
            }
        }
    });

    // Status LED: three blinks.
    steps.push(match device(agent, "gpio") {
        None => step("status_led", "状态灯", Skip, "未配置 GPIO"),
        Some(_) => match agent.devices.blink_status_led(3).await {
            Ok(()) => step("status_led", "状态灯", Pass, "已闪烁 3 次，请目视确认"),
            Err(e) => step("status_led", "状态灯", Fail, e),
        },
    });

    // Camera: frames keep coming.
    steps.push(
        match (device(agent, "camera"), agent.devices.camera_frames()) {
            (Some(_), Some(before)) => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let after = agent.devices.camera_frames().unwrap_or(before);
                match (after - before, device(agent, "camera")) {
                    (n, Some(h)) if n > 0 && h.state == DeviceState::Ok => {
                        step("camera", "摄像头", Pass, format!("2 秒内取到 {n} 帧画面"))
                    }
                    (_, Some(h)) => step(
                        "camera",
                        "摄像头",
                        Fail,
                        format!("取不到画面：{}", h.detail),
                    ),
                    _ => step("camera", "摄像头", Fail, "取不到画面"),
                }
            }
            _ => step("camera", "摄像头", Skip, "未配置"),
        },
    );

    steps.push(display(agent));

    // Voice: a short phrase.
    steps.push(match device(agent, "voice") {
        None => step("voice", "语音", Skip, "未配置"),
        Some(_) => {
            agent.devices.say(Announcement {
                text: "语音自检".into(),
                pinyin: "yu3 yin1 zi4 jian3".into(),
            });
            tokio::time::sleep(Duration::from_millis(800)).await;
            match device(agent, "voice") {
                Some(h) if h.state == DeviceState::Ok => {
                    step("voice", "语音", Pass, "已播报「语音自检」，请听")
                }
                Some(h) => step("voice", "语音", Fail, h.detail),
                None => step("voice", "语音", Fail, "语音不见了"),
            }
        }
    });

    // Network, from NetworkManager.
    let net = agent.host.network();
    steps.push(if !agent.config.host.dbus {
        step("network", "网络", Skip, net.detail)
    } else if net.connectivity == "full" {
        step("network", "网络", Pass, net.detail)
    } else {
        step("network", "网络", Fail, net.detail)
    });

    // The regional server.
    let regional = agent
        .regional
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    steps.push(match regional {
        None => step(
            "regional",
            "区域服务器",
            Fail,
            "本终端还没有登记（menpai-provision enroll）",
        ),
        Some(r) => match (&r.last_error, &r.last_sync) {
            (Some(e), _) => step(
                "regional",
                "区域服务器",
                Fail,
                format!("{}：{e}", r.device_id),
            ),
            (None, Some(at)) => step(
                "regional",
                "区域服务器",
                Pass,
                format!("已登记为 {}，最近同步 {at}", r.device_id),
            ),
            (None, None) => step(
                "regional",
                "区域服务器",
                Fail,
                format!("已登记为 {}，但还没有同步成功", r.device_id),
            ),
        },
    });

    SelfTestReport {
        hall: agent.config.terminal.hall.clone(),
        position: agent.config.terminal.position.clone(),
        at: now.format("%Y-%m-%d %H:%M:%S").to_string(),
        passed: steps.iter().all(|s| s.outcome != Fail),
        steps,
    }
}

/// The screen: the kiosk UI runs and answers, and a connected monitor when the kernel shows
/// display connectors.
fn display(agent: &Agent) -> SelfTestStep {
    let connectors = drm_connectors(std::path::Path::new("/sys/class/drm"));
    let connected: Vec<&str> = connectors
        .iter()
        .filter(|(_, c)| *c)
        .map(|(n, _)| n.as_str())
        .collect();
    let ui = agent.host_status().ui;
    if !connectors.is_empty() && connected.is_empty() {
        let names: Vec<&str> = connectors.iter().map(|(n, _)| n.as_str()).collect();
        return step(
            "display",
            "显示屏",
            Fail,
            format!("没有接上显示器（{} 均未连接）", names.join("、")),
        );
    }
    let screen = if connected.is_empty() {
        String::new()
    } else {
        format!("，显示器 {} 已连接", connected.join("、"))
    };
    if ui.alive {
        step("display", "显示屏", Pass, format!("界面运行中{screen}"))
    } else {
        step(
            "display",
            "显示屏",
            Fail,
            format!("界面程序没有运行或没有响应{screen}"),
        )
    }
}

/// `card0-HDMI-A-1` → ("HDMI-A-1", connected).
pub fn drm_connectors(root: &std::path::Path) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((_, connector)) = name
            .split_once('-')
            .filter(|(card, _)| card.starts_with("card"))
        else {
            continue;
        };
        if let Ok(status) = std::fs::read_to_string(e.path().join("status")) {
            out.push((connector.to_owned(), status.trim() == "connected"));
        }
    }
    out.sort();
    out
}

fn rand_bytes() -> [u8; 4] {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).unwrap_or_default();
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_connectors_are_read_from_sysfs() {
        let dir = tempfile::tempdir().unwrap();
        for (name, status) in [
            ("card0-HDMI-A-1", "connected"),
            ("card0-HDMI-A-2", "disconnected"),
        ] {
            std::fs::create_dir_all(dir.path().join(name)).unwrap();
            std::fs::write(dir.path().join(name).join("status"), format!("{status}\n")).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("card0")).unwrap();
        assert_eq!(
            drm_connectors(dir.path()),
            vec![("HDMI-A-1".into(), true), ("HDMI-A-2".into(), false)]
        );
    }
}
