//! Remote commands from the regional server: fetched when the live stream says some wait (and
//! whenever the stream opens again, and every few minutes), carried out one at a time, and
//! each result reported. A restart of the agent or a reboot is reported only once the agent
//! is back (a marker in the data directory says which command it was): the server never shows
//! done for a restart that did not happen. A command the server still lists after a reconnect
//! is done again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use menpai_model::api::{SelfTestOutcome, SelfTestRequest};
use menpai_model::commands::{Attachment, Command, CommandReport, PendingCommand};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::client::Client;
use crate::Agent;
use crate::devices::backoff::Backoff;
use crate::markers::{instance, write_synced};

/// How often commands are fetched when the stream says nothing.
const POLL: Duration = Duration::from_secs(300);
/// How long one request to the server may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long a commanded restart may take to happen before it is reported as not done.
const RESTART_GRACE: Duration = Duration::from_secs(120);
/// The agent's own unit, restarted by `restart_agent`.
const AGENT_UNIT: &str = "menpai-agent.service";

/// The command a restart of the agent or a reboot carries out, kept across it.
#[derive(Debug, Serialize, Deserialize)]
struct Restarting {
    id: String,
    reboot: bool,
    /// The process that wrote it ([`instance`]).
    #[serde(default)]
    instance: String,
    /// When it was asked for (milliseconds since the epoch).
    at_ms: i64,
}

fn marker(agent: &Agent) -> PathBuf {
    agent.config.data_dir.join("restart-command.json")
}

fn read_marker(path: &Path) -> Option<Restarting> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

/// What a command came to: `None` while a restart is under way (reported once back).
type Outcome = Option<CommandReport>;

fn done(message: impl Into<String>) -> Outcome {
    Some(CommandReport {
        ok: true,
        message: message.into(),
        attachment: None,
    })
}

fn failed(message: impl Into<String>) -> Outcome {
    Some(CommandReport {
        ok: false,
        message: message.into(),
        attachment: None,
    })
}

/// Starts the commands loop: `kick` wakes it (the stream said commands wait, or it opened).
pub(super) fn start(agent: Arc<Agent>, client: Arc<Client>, kick: Arc<Notify>, max: Duration) {
    let stop = agent.tasks.shutdown();
    agent.clone().tasks.spawn("commands", async move {
        let mut backoff = Backoff::new(Duration::from_secs(1), max);
        loop {
            let wait = match stop.unless_stopped(run_pending(&agent, &client)).await {
                None => return,
                Some(Ok(())) => {
                    backoff.reset();
                    POLL
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "Remote commands could not be fetched or reported.");
                    backoff.next_delay()
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = kick.notified() => {}
                () = stop.requested() => return,
            }
        }
    });
}

/// Reports a restart carried out before this start, then fetches the waiting commands and
/// carries each out, reporting as it goes.
async fn run_pending(agent: &Arc<Agent>, client: &Client) -> Result<(), String> {
    let path = marker(agent);
    match read_marker(&path) {
        // Written by this very process: the restart has not happened yet; nothing more runs,
        // unless it should long have (systemd or logind took the job and did nothing).
        Some(r) if r.instance == instance() => {
            let waited = chrono::Utc::now().timestamp_millis() - r.at_ms;
            if waited < RESTART_GRACE.as_millis() as i64 {
                return Ok(());
            }
            let never = failed(format!("已请求重启，但 {} 秒后仍未重启", waited / 1000));
            report(client, &r.id, &never.expect("a report"))
                .await
                .or_else(Reporting::unless_unreached)?;
            let _ = std::fs::remove_file(&path);
        }
        Some(r) => {
            let took = (chrono::Utc::now().timestamp_millis() - r.at_ms).max(0) / 1000;
            let what = if r.reboot {
                "终端已重启"
            } else {
                "终端程序已重启"
            };
            // A marker the server no longer knows (re-enrolled, restored) or too old is
            // dropped, never left to block the commands after it.
            let stale = took > menpai_model::commands::COMMAND_TTL_S as i64;
            let sent = if stale {
                Ok(())
            } else {
                report(
                    client,
                    &r.id,
                    &done(format!("{what}，用时 {took} 秒")).expect("a report"),
                )
                .await
            };
            match sent {
                Ok(()) | Err(Reporting::Refused(_)) => {
                    let _ = std::fs::remove_file(&path);
                }
                Err(Reporting::Unreached(e)) => return Err(e),
            }
        }
        None => {}
    }
    let r = client
        .request("GET", "/device/v1/commands", &[], Vec::new(), TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    if r.status != 200 {
        return Err(format!("the server answered {}", r.status));
    }
    // One by one: a command this version does not know fails alone, saying so.
    let pending: Vec<serde_json::Value> =
        serde_json::from_slice(&r.body).map_err(|e| format!("the commands: {e}"))?;
    for value in pending {
        let Ok(p) = serde_json::from_value::<PendingCommand>(value.clone()) else {
            if let Some(id) = value["id"].as_str() {
                tracing::warn!(%id, "A remote command this version does not know.");
                let unknown = failed("这台终端的程序版本不认识这条指令，请升级后再试");
                report(client, id, &unknown.expect("a report"))
                    .await
                    .or_else(Reporting::unless_unreached)?;
            }
            continue;
        };
        tracing::info!(id = %p.id, kind = p.command.kind(), "A remote command.");
        match carry_out(agent, &p).await {
            Some(outcome) => report(client, &p.id, &outcome)
                .await
                .or_else(Reporting::unless_unreached)?,
            // A restart is under way: the rest waits for the agent that comes back.
            None => return Ok(()),
        }
    }
    Ok(())
}

/// Why a report did not land.
enum Reporting {
    /// The server was not reached (or failed): try again later.
    Unreached(String),
    /// The server refused it for good (not this terminal's, unknown): drop it.
    Refused(u16),
}

impl Reporting {
    /// A refused report is dropped; an unreached one stops the round.
    fn unless_unreached(self) -> Result<(), String> {
        match self {
            Reporting::Refused(status) => {
                tracing::warn!(status, "A command's result was refused; dropped.");
                Ok(())
            }
            Reporting::Unreached(e) => Err(e),
        }
    }
}

/// Sends a command's result; a command finished or expired meanwhile (409) stays as it is.
async fn report(client: &Client, id: &str, outcome: &CommandReport) -> Result<(), Reporting> {
    let body = serde_json::to_vec(outcome).expect("reports serialise");
    let path = format!("/device/v1/commands/{id}");
    let r = client
        .request("POST", &path, &[], body, TIMEOUT)
        .await
        .map_err(|e| Reporting::Unreached(e.to_string()))?;
    match r.status {
        200 | 409 => Ok(()),
        s @ (400 | 403 | 404 | 413 | 422) => Err(Reporting::Refused(s)),
        s => Err(Reporting::Unreached(format!(
            "reporting {id}: the server answered {s}"
        ))),
    }
}

async fn carry_out(agent: &Arc<Agent>, p: &PendingCommand) -> Outcome {
    match &p.command {
        Command::SelfTest => self_test(agent).await,
        Command::LogLevel { level, minutes } => {
            match crate::log_level::raise(level, Duration::from_secs(u64::from(*minutes) * 60)) {
                Ok(_) => done(format!("日志级别已调为 {level}，{minutes} 分钟后恢复")),
                Err(e) => failed(e),
            }
        }
        Command::RestartUi => {
            let unit = agent.config.host.ui_unit.clone();
            match with_bus(agent).await {
                Err(e) => failed(e),
                Ok(bus) => match crate::host::units::restart(&bus, &unit).await {
                    Ok(_) => done(format!("界面（{unit}）已重启")),
                    Err(e) => failed(format!("systemd 未能重启 {unit}：{e}")),
                },
            }
        }
        Command::RestartAgent => restart(agent, &p.id, false).await,
        Command::Reboot => restart(agent, &p.id, true).await,
        Command::Notice { minutes: 0, .. } => {
            crate::maintenance::set(agent, None, Duration::ZERO);
            done("维护公告已撤下")
        }
        Command::Notice { text, minutes } => {
            let span = Duration::from_secs(u64::from(*minutes) * 60);
            crate::maintenance::set(agent, Some(text.trim().to_owned()), span);
            let until = (menpai_model::queue::china_now()
                + chrono::TimeDelta::minutes(i64::from(*minutes)))
            .format("%H:%M");
            // Shown only if a UI is there to show it: say which.
            if agent.ui_clients.load(std::sync::atomic::Ordering::Relaxed) > 0 {
                done(format!("公告已显示在屏幕上，{until} 撤下"))
            } else {
                done(format!("界面未连接：公告在界面连上后显示，{until} 撤下"))
            }
        }
        Command::Screenshot => match crate::screenshots::take(agent).await {
            Ok(png) => Some(CommandReport {
                ok: true,
                message: format!("截屏 {} KB", png.len().div_ceil(1024)),
                attachment: Some(Attachment {
                    content_type: "image/png".into(),
                    base64: base64::engine::general_purpose::STANDARD.encode(&png),
                }),
            }),
            Err(e) => failed(e.to_string()),
        },
        Command::CollectLogs { minutes } => collect_logs(agent, *minutes).await,
    }
}

/// The agent's and the kiosk's journal of the last `minutes`, compressed.
async fn collect_logs(agent: &Agent, minutes: u32) -> Outcome {
    let host = &agent.config.host;
    let units = [AGENT_UNIT, host.ui_unit.as_str()];
    let dir = (!host.journal_dir.as_os_str().is_empty()).then_some(host.journal_dir.as_path());
    let max = menpai_model::commands::ATTACHMENT_MAX_BYTES;
    match crate::host::journal::collect(&units, minutes, dir, max).await {
        Ok((gz, lines)) => Some(CommandReport {
            ok: true,
            message: format!(
                "最近 {minutes} 分钟的日志 {lines} 行，压缩后 {} KB",
                gz.len().div_ceil(1024)
            ),
            attachment: Some(Attachment {
                content_type: "application/gzip".into(),
                base64: base64::engine::general_purpose::STANDARD.encode(&gz),
            }),
        }),
        Err(e) => failed(e),
    }
}

async fn self_test(agent: &Agent) -> Outcome {
    let request = SelfTestRequest {
        scan_timeout_s: 1,
        unattended: true,
    };
    let report = crate::selftest::run(agent, &request).await;
    let mut lines = vec![
        if report.passed {
            "自检通过"
        } else {
            "自检未通过"
        }
        .to_owned(),
    ];
    for s in &report.steps {
        let mark = match s.outcome {
            SelfTestOutcome::Pass => "通过",
            SelfTestOutcome::Fail => "失败",
            SelfTestOutcome::Skip => "跳过",
        };
        lines.push(format!("{}：{mark}，{}", s.name, s.detail));
    }
    Some(CommandReport {
        ok: report.passed,
        message: lines.join("\n"),
        attachment: None,
    })
}

/// The system bus, when this terminal talks to its host over D-Bus.
async fn with_bus(agent: &Agent) -> Result<zbus::Connection, String> {
    if !agent.config.host.dbus {
        return Err("这台终端未启用 D-Bus（host.dbus = false），不能远程重启".into());
    }
    crate::host::system_bus()
        .await
        .map_err(|e| format!("连不上系统 D-Bus：{e}"))
}

/// Restarts the agent or the terminal; reported once the agent is back (the marker), or
/// failed now when systemd or logind refuses.
async fn restart(agent: &Agent, id: &str, reboot: bool) -> Outcome {
    let bus = match with_bus(agent).await {
        Ok(bus) => bus,
        Err(e) => return failed(e),
    };
    let path = marker(agent);
    let kept = Restarting {
        id: id.to_owned(),
        reboot,
        instance: instance().to_owned(),
        at_ms: chrono::Utc::now().timestamp_millis(),
    };
    if let Err(e) = write_synced(
        &path,
        &serde_json::to_vec(&kept).expect("markers serialise"),
    ) {
        return failed(format!("无法记录重启指令：{e}"));
    }
    let asked = if reboot {
        crate::host::reboot::now(&bus).await
    } else {
        crate::host::units::restart(&bus, AGENT_UNIT)
            .await
            .map(drop)
    };
    match asked {
        Ok(()) => {
            tracing::info!(%id, reboot, "Restarting, as commanded; reported once back.");
            None
        }
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            failed(format!("重启被拒绝：{e}"))
        }
    }
}
