//! Text messages to citizens (a booking's confirmation), behind one trait so a hall plugs in
//! its operator's gateway. The `log` backend writes each message, the number masked, to
//! `sms-outbox.log` in the data directory instead of sending it.

use std::io::Write;
use std::path::PathBuf;

use menpai_model::queue::mask_phone;

pub trait SmsSender: Send + Sync + std::fmt::Debug {
    /// Sends `text` to `phone` (11 digits).
    fn send(&self, phone: &str, text: &str) -> anyhow::Result<()>;

    /// What a page says when texts do not reach phones (a demo backend); none for a gateway.
    fn demo_note(&self) -> Option<&'static str> {
        None
    }
}

/// Writes messages to a file instead of sending them.
#[derive(Debug)]
pub struct LogSms {
    pub path: PathBuf,
}

impl SmsSender for LogSms {
    fn demo_note(&self) -> Option<&'static str> {
        Some("演示环境：短信没有真正发出，写在服务器的 sms-outbox.log 里。")
    }

    fn send(&self, phone: &str, text: &str) -> anyhow::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)?;
        let at = crate::clock::stamp(crate::clock::local_now());
        writeln!(
            f,
            "{at}\t{}\t{}",
            mask_phone(phone),
            text.replace('\n', " ")
        )?;
        Ok(())
    }
}

/// The sender the configuration names.
pub fn from_config(
    backend: &str,
    data_dir: &std::path::Path,
) -> anyhow::Result<Box<dyn SmsSender>> {
    match backend {
        "log" => Ok(Box::new(LogSms {
            path: data_dir.join("sms-outbox.log"),
        })),
        other => anyhow::bail!("sms_backend `{other}` is unknown: this build has `log`"),
    }
}
