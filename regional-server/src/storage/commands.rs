//! Remote commands for terminals, kept until their terminal reports a result or they expire.

use super::{Database, Exec, OptionalExt, Result, Row};
use crate::params;
use menpai_model::commands::CommandState;

/// A command as kept. Times in milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    pub id: String,
    pub device: String,
    pub hall: String,
    pub kind: String,
    /// The command itself (`menpai_model::commands::Command`, JSON).
    pub body: String,
    pub state: CommandState,
    pub created_by: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub sent_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub message: String,
    /// The attachment's content type, when the terminal sent one.
    pub attachment_type: Option<String>,
}

/// Commands and their results.
pub trait CommandStore {
    fn add_command(&self, c: &CommandRecord) -> Result<()>;
    fn command(&self, id: &str) -> Result<Option<CommandRecord>>;
    /// A terminal's newest commands first, at most `limit`.
    fn device_commands(&self, device: &str, limit: usize) -> Result<Vec<CommandRecord>>;
    /// The commands `device` has still to carry out (queued or sent, not expired), oldest
    /// first, each with whether it was queued until now; the queued ones become sent.
    fn take_commands(&self, device: &str, now_ms: i64) -> Result<Vec<(CommandRecord, bool)>>;
    /// The terminal's result: only for its own command, still queued or sent. False when
    /// there is none such (finished, expired, another terminal's).
    fn finish_command(
        &self,
        device: &str,
        id: &str,
        ok: bool,
        message: &str,
        attachment: Option<(&str, &[u8])>,
        now_ms: i64,
    ) -> Result<bool>;
    fn command_attachment(&self, id: &str) -> Result<Option<(String, Vec<u8>)>>;
    /// Commands not finished by their expiry become expired; those changed.
    fn expire_commands(&self, now_ms: i64) -> Result<Vec<CommandRecord>>;
    /// How many of `device`'s commands are still open (queued or sent, not expired).
    fn open_commands(&self, device: &str, now_ms: i64) -> Result<usize>;
    /// Forgets commands finished before `before_ms`, with their files (the audit log keeps
    /// what happened); how many.
    fn purge_commands(&self, before_ms: i64) -> Result<usize>;
}

const COLUMNS: &str = "id, device, hall, kind, body, state, created_by, created_ms, expires_ms,
     sent_ms, finished_ms, message, attachment_type";

fn row(r: &Row) -> Result<CommandRecord> {
    Ok(CommandRecord {
        id: r.get(0)?,
        device: r.get(1)?,
        hall: r.get(2)?,
        kind: r.get(3)?,
        body: r.get(4)?,
        state: CommandState::of(&r.get::<String>(5)?),
        created_by: r.get(6)?,
        created_ms: r.get(7)?,
        expires_ms: r.get(8)?,
        sent_ms: r.get(9)?,
        finished_ms: r.get(10)?,
        message: r.get(11)?,
        attachment_type: r.get(12)?,
    })
}

impl CommandStore for Database {
    fn add_command(&self, c: &CommandRecord) -> Result<()> {
        self.execute(
            "INSERT INTO terminal_commands (id, device, hall, kind, body, state, created_by,
                                            created_ms, expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?8)",
            params![
                c.id,
                c.device,
                c.hall,
                c.kind,
                c.body,
                c.created_by,
                c.created_ms,
                c.expires_ms
            ],
        )?;
        Ok(())
    }

    fn command(&self, id: &str) -> Result<Option<CommandRecord>> {
        self.query_row(
            &format!("SELECT {COLUMNS} FROM terminal_commands WHERE id = ?1"),
            [id],
            row,
        )
        .optional()
    }

    fn device_commands(&self, device: &str, limit: usize) -> Result<Vec<CommandRecord>> {
        self.query_map(
            &format!(
                "SELECT {COLUMNS} FROM terminal_commands WHERE device = ?1
                 ORDER BY created_ms DESC, id DESC LIMIT ?2"
            ),
            params![device, limit as i64],
            row,
        )
    }

    fn take_commands(&self, device: &str, now_ms: i64) -> Result<Vec<(CommandRecord, bool)>> {
        self.transaction(|tx| {
            let queued: Vec<String> = tx.query_map(
                "SELECT id FROM terminal_commands
                 WHERE device = ?1 AND state = 'queued' AND expires_ms > ?2",
                params![device, now_ms],
                |r| r.get(0),
            )?;
            tx.execute(
                "UPDATE terminal_commands SET state = 'sent', sent_ms = ?2
                 WHERE device = ?1 AND state = 'queued' AND expires_ms > ?2",
                params![device, now_ms],
            )?;
            let open = tx.query_map(
                &format!(
                    "SELECT {COLUMNS} FROM terminal_commands
                     WHERE device = ?1 AND state = 'sent' AND expires_ms > ?2
                     ORDER BY created_ms, id"
                ),
                params![device, now_ms],
                row,
            )?;
            Ok(open
                .into_iter()
                .map(|c| {
                    let new = queued.contains(&c.id);
                    (c, new)
                })
                .collect())
        })
    }

    fn finish_command(
        &self,
        device: &str,
        id: &str,
        ok: bool,
        message: &str,
        attachment: Option<(&str, &[u8])>,
        now_ms: i64,
    ) -> Result<bool> {
        let (kind, bytes) = match attachment {
            Some((k, b)) => (Some(k.to_owned()), Some(b.to_vec())),
            None => (None, None),
        };
        let n = self.execute(
            "UPDATE terminal_commands SET state = ?3, finished_ms = ?4, message = ?5,
                 attachment_type = ?6, attachment = ?7
             WHERE id = ?1 AND device = ?2 AND state IN ('queued', 'sent') AND expires_ms > ?4",
            params![
                id,
                device,
                if ok { "done" } else { "failed" },
                now_ms,
                message,
                kind,
                bytes
            ],
        )?;
        Ok(n == 1)
    }

    fn command_attachment(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        Ok(self
            .query_row(
                "SELECT attachment_type, attachment FROM terminal_commands WHERE id = ?1",
                [id],
                |r| Ok((r.get::<Option<String>>(0)?, r.get::<Option<Vec<u8>>>(1)?)),
            )
            .optional()?
            .and_then(|(t, b)| Some((t?, b?))))
    }

    fn open_commands(&self, device: &str, now_ms: i64) -> Result<usize> {
        let n: i64 = self.query_row(
            "SELECT COUNT(*) FROM terminal_commands
             WHERE device = ?1 AND state IN ('queued', 'sent') AND expires_ms > ?2",
            params![device, now_ms],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as usize)
    }

    fn purge_commands(&self, before_ms: i64) -> Result<usize> {
        self.execute(
            "DELETE FROM terminal_commands WHERE finished_ms IS NOT NULL AND finished_ms < ?1",
            params![before_ms],
        )
    }

    fn expire_commands(&self, now_ms: i64) -> Result<Vec<CommandRecord>> {
        self.transaction(|tx| {
            let due = tx.query_map(
                &format!(
                    "SELECT {COLUMNS} FROM terminal_commands
                     WHERE state IN ('queued', 'sent') AND expires_ms <= ?1 ORDER BY id"
                ),
                params![now_ms],
                row,
            )?;
            tx.execute(
                "UPDATE terminal_commands SET state = 'expired', finished_ms = ?1
                 WHERE state IN ('queued', 'sent') AND expires_ms <= ?1",
                params![now_ms],
            )?;
            Ok(due
                .into_iter()
                .map(|c| CommandRecord {
                    state: CommandState::Expired,
                    finished_ms: Some(now_ms),
                    ..c
                })
                .collect())
        })
    }
}
