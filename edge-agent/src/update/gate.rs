//! The health gate after booting a new slot (Mender's ArtifactCommit, RAUC's mark-good): the
//! slot is kept only when what worked before the update works again — the kiosk drawing (if it
//! was), content present, the regional server reached, each device that was fine still fine.

use std::time::Duration;

use menpai_model::api::DeviceState;
use serde::{Deserialize, Serialize};

use crate::Agent;

/// What worked just before the reboot into the new slot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// A kiosk UI followed the agent's events.
    pub ui: bool,
    /// Content was active.
    pub content: bool,
    /// Devices that were working (`Ok`).
    pub devices_ok: Vec<String>,
}

/// What works now.
pub fn snapshot(agent: &Agent) -> Snapshot {
    Snapshot {
        ui: ui_up(agent),
        content: agent.catalog().is_some(),
        devices_ok: agent
            .devices
            .health()
            .into_iter()
            .filter(|(_, h)| h.state == DeviceState::Ok)
            .map(|(name, _)| name)
            .collect(),
    }
}

fn ui_up(agent: &Agent) -> bool {
    let silence = Duration::from_secs(agent.config.host.ui_silence_s);
    let clients = agent.ui_clients.load(std::sync::atomic::Ordering::Relaxed);
    agent.host.ui_answers(silence, clients)
}

/// What worked before and does not now, in words for the fleet view; empty when the gate passes.
pub fn problems(agent: &Agent, before: &Snapshot, server_reached: bool) -> Vec<String> {
    let now = snapshot(agent);
    let mut out = Vec::new();
    if !server_reached {
        out.push("连不上区域服务器".to_owned());
    }
    if before.ui && !now.ui {
        out.push("触摸屏界面没有起来".to_owned());
    }
    if before.content && !now.content {
        out.push("没有可用的内容".to_owned());
    }
    let health = agent.devices.health();
    for name in &before.devices_ok {
        if !now.devices_ok.contains(name) {
            let detail = health
                .get(name)
                .map(|h| h.detail.clone())
                .unwrap_or_else(|| "未启动".into());
            out.push(format!("{} 不正常（{detail}）", device_label(name)));
        }
    }
    out
}

fn device_label(name: &str) -> &str {
    match name {
        "printer" => "打印机",
        "scanner" => "扫码器",
        "led" => "LED 屏",
        "gpio" => "GPIO",
        "camera" => "摄像头",
        "voice" => "语音",
        other => other,
    }
}
