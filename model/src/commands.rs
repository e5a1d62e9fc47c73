//! Remote commands an operator sends a terminal from the fleet view or the admin API (Xibo's
//! model: kept on the server until the terminal reports its result). No remote shell, by
//! design: a command is one of a fixed few, each with bounded arguments.

use serde::{Deserialize, Serialize};

/// Longest notice shown on a plate, in characters.
pub const NOTICE_MAX_CHARS: usize = 120;
/// Longest span of logs collected, or of a raised log level, in minutes.
pub const MINUTES_MAX: u32 = 24 * 60;
/// Largest file a terminal may attach to a result (a screenshot, compressed logs).
pub const ATTACHMENT_MAX_BYTES: usize = 4 << 20;
/// Longest message a terminal may report with a result, in characters.
pub const MESSAGE_MAX_CHARS: usize = 2_000;
/// Most lines a notice may have.
pub const NOTICE_MAX_LINES: usize = 3;
/// How long a restart or reboot waits for an offline terminal, in seconds: one sent to a
/// hall's terminals in the evening does not fire when they start next morning.
pub const DISRUPTIVE_TTL_S: u64 = 15 * 60;
/// How long any other command waits, in seconds.
pub const COMMAND_TTL_S: u64 = 24 * 3600;

/// What a terminal is asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// A picture of what the plate shows now.
    Screenshot,
    /// The agent's and the kiosk's logs of the last `minutes`, compressed.
    CollectLogs { minutes: u32 },
    /// Restarts the kiosk UI.
    RestartUi,
    /// Restarts the edge agent.
    RestartAgent,
    /// Restarts the terminal.
    Reboot,
    /// The unattended parts of the hardware self-test, and its report.
    SelfTest,
    /// Logs at `level` (`debug` or `trace`) for `minutes`, then back to the configured level.
    LogLevel { level: String, minutes: u32 },
    /// A maintenance notice on the plate for `minutes` (0: take the current one down).
    Notice { text: String, minutes: u32 },
}

impl Command {
    /// The kind's name, as stored and audited.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Screenshot => "screenshot",
            Command::CollectLogs { .. } => "collect_logs",
            Command::RestartUi => "restart_ui",
            Command::RestartAgent => "restart_agent",
            Command::Reboot => "reboot",
            Command::SelfTest => "self_test",
            Command::LogLevel { .. } => "log_level",
            Command::Notice { .. } => "notice",
        }
    }

    /// What an operator reads in the fleet view.
    pub fn label(&self) -> String {
        match self {
            Command::Screenshot => "截屏".into(),
            Command::CollectLogs { minutes } => format!("收集最近 {minutes} 分钟日志"),
            Command::RestartUi => "重启界面".into(),
            Command::RestartAgent => "重启终端程序".into(),
            Command::Reboot => "重启终端".into(),
            Command::SelfTest => "设备自检".into(),
            Command::LogLevel { level, minutes } => format!("日志级别 {level}，{minutes} 分钟"),
            Command::Notice { minutes: 0, .. } => "撤下维护公告".into(),
            Command::Notice { minutes, .. } => format!("维护公告 {minutes} 分钟"),
        }
    }

    /// The command as kept and sent: a notice's text without surrounding blanks.
    pub fn normalized(self) -> Command {
        match self {
            Command::Notice { text, minutes } => Command::Notice {
                text: text.trim().to_owned(),
                minutes,
            },
            c => c,
        }
    }

    /// How long it waits for an offline terminal before it expires, in seconds.
    pub fn ttl_s(&self) -> u64 {
        match self {
            Command::RestartUi | Command::RestartAgent | Command::Reboot => DISRUPTIVE_TTL_S,
            _ => COMMAND_TTL_S,
        }
    }

    /// The attachment its result may carry, if any.
    pub fn attachment_type(&self) -> Option<&'static str> {
        match self {
            Command::Screenshot => Some("image/png"),
            Command::CollectLogs { .. } => Some("application/gzip"),
            _ => None,
        }
    }

    /// Refuses arguments out of bounds, with a message an operator can act on.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Command::CollectLogs { minutes } if !(1..=MINUTES_MAX).contains(minutes) => {
                Err(format!("日志时长应在 1 到 {MINUTES_MAX} 分钟之间"))
            }
            Command::LogLevel { level, minutes } => {
                if !matches!(level.as_str(), "debug" | "trace") {
                    return Err("日志级别只能是 debug 或 trace".into());
                }
                if !(1..=MINUTES_MAX).contains(minutes) {
                    return Err(format!("时长应在 1 到 {MINUTES_MAX} 分钟之间"));
                }
                Ok(())
            }
            Command::Notice { text, minutes } => {
                if *minutes > MINUTES_MAX {
                    return Err(format!("公告时长不超过 {MINUTES_MAX} 分钟"));
                }
                let n = text.trim().chars().count();
                if *minutes > 0 && n == 0 {
                    return Err("公告内容不能为空".into());
                }
                if n > NOTICE_MAX_CHARS {
                    return Err(format!("公告不超过 {NOTICE_MAX_CHARS} 个字"));
                }
                if text.trim().lines().count() > NOTICE_MAX_LINES {
                    return Err(format!("公告不超过 {NOTICE_MAX_LINES} 行"));
                }
                // Control characters, and the invisible ones that reorder or hide text.
                let hidden = |c: char| {
                    (c.is_control() && c != '\n')
                        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
                            | '\u{2060}'..='\u{2069}' | '\u{feff}')
                };
                if text.chars().any(hidden) {
                    return Err("公告里有控制字符或不可见字符".into());
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Where a command stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
    /// Kept on the server; the terminal has not fetched it yet.
    Queued,
    /// The terminal fetched it; no result yet.
    Sent,
    Done,
    Failed,
    /// Not done in time (the terminal stayed away).
    Expired,
}

impl CommandState {
    pub fn name(self) -> &'static str {
        match self {
            CommandState::Queued => "queued",
            CommandState::Sent => "sent",
            CommandState::Done => "done",
            CommandState::Failed => "failed",
            CommandState::Expired => "expired",
        }
    }

    pub fn of(name: &str) -> CommandState {
        match name {
            "sent" => CommandState::Sent,
            "done" => CommandState::Done,
            "failed" => CommandState::Failed,
            "expired" => CommandState::Expired,
            _ => CommandState::Queued,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CommandState::Queued => "等待终端",
            CommandState::Sent => "终端执行中",
            CommandState::Done => "完成",
            CommandState::Failed => "失败",
            CommandState::Expired => "已过期",
        }
    }
}

/// A command a terminal fetches (`GET /device/v1/commands`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCommand {
    pub id: String,
    pub command: Command,
    pub issued_at: String,
}

/// What a terminal reports (`POST /device/v1/commands/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandReport {
    pub ok: bool,
    /// What happened, for the operator (a self-test's summary, why it failed).
    #[serde(default)]
    pub message: String,
    /// A screenshot (`image/png`) or logs (`application/gzip`), base64.
    #[serde(default)]
    pub attachment: Option<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub content_type: String,
    pub base64: String,
}

impl Attachment {
    /// The content types a terminal may attach.
    pub fn allowed(content_type: &str) -> bool {
        matches!(content_type, "image/png" | "application/gzip")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_read_back_and_bounds_hold() {
        let c: Command =
            serde_json::from_str(r#"{"kind":"notice","text":"系统维护中","minutes":30}"#).unwrap();
        assert_eq!(c.kind(), "notice");
        assert!(c.check().is_ok());
        assert_eq!(
            serde_json::from_str::<Command>(&serde_json::to_string(&c).unwrap()).unwrap(),
            c
        );
        assert!(serde_json::from_str::<Command>(r#"{"kind":"shell","cmd":"rm"}"#).is_err());
        let long = Command::Notice {
            text: "维".repeat(NOTICE_MAX_CHARS + 1),
            minutes: 5,
        };
        assert!(long.check().is_err());
        let level = Command::LogLevel {
            level: "info".into(),
            minutes: 10,
        };
        assert!(level.check().is_err());
        assert!(Command::CollectLogs { minutes: 0 }.check().is_err());
        assert!(
            Command::CollectLogs {
                minutes: MINUTES_MAX + 1
            }
            .check()
            .is_err()
        );
        assert!(
            Command::Notice {
                text: String::new(),
                minutes: 0
            }
            .check()
            .is_ok()
        );
        let padded = Command::Notice {
            text: format!("{}维护{}", " ".repeat(500), "\n".repeat(3)),
            minutes: 5,
        };
        assert_eq!(
            padded.normalized(),
            Command::Notice {
                text: "维护".into(),
                minutes: 5
            }
        );
        for sneaky in ["维护\u{202e}中", "维\u{200b}护", "一\n二\n三\n四"] {
            let c = Command::Notice {
                text: sneaky.into(),
                minutes: 5,
            };
            assert!(c.check().is_err(), "{sneaky:?}");
        }
        assert_eq!(Command::Reboot.ttl_s(), DISRUPTIVE_TTL_S);
        assert_eq!(Command::Screenshot.attachment_type(), Some("image/png"));
        assert_eq!(Command::SelfTest.attachment_type(), None);
    }
}
