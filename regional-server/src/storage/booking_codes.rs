//! Bookings held until the phone's texted code proves the number.

use rusqlite::{OptionalExtension, params};

use super::{Result, Database};

/// Wrong codes a held booking takes before it is dropped.
pub const MAX_TRIES: u32 = 5;

/// A booking held for its code.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    pub id: String,
    pub hall: String,
    pub item: String,
    pub date: String,
    pub start: String,
    pub name_enc: Vec<u8>,
    pub phone_enc: Vec<u8>,
    pub code_hash: String,
    pub expires_at: i64,
}

pub trait HeldStore {
    /// Holds a booking (and drops the expired ones).
    fn hold(&self, h: &Held, now: i64) -> Result<()>;
    fn held(&self, id: &str, now: i64) -> Result<Option<Held>>;
    /// Counts a try at the code before it is compared (parallel guesses cannot share one try);
    /// the held booking and the tries so far, while it has tries left and has not expired.
    fn try_code(&self, id: &str, now: i64) -> Result<Option<(Held, u32)>>;
    fn release(&self, id: &str) -> Result<()>;
}

const HELD_COLUMNS: &str =
    "id, hall, item, date, start, name_enc, phone_enc, code_hash, expires_at";

fn held_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Held> {
    Ok(Held {
        id: r.get(0)?,
        hall: r.get(1)?,
        item: r.get(2)?,
        date: r.get(3)?,
        start: r.get(4)?,
        name_enc: r.get(5)?,
        phone_enc: r.get(6)?,
        code_hash: r.get(7)?,
        expires_at: r.get(8)?,
    })
}

impl HeldStore for Database {
    fn hold(&self, h: &Held, now: i64) -> Result<()> {
        let conn = self.conn();
        conn.execute("DELETE FROM booking_codes WHERE expires_at <= ?1", [now])?;
        conn.execute(
            "INSERT INTO booking_codes (id, hall, item, date, start, name_enc, phone_enc, code_hash, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                h.id, h.hall, h.item, h.date, h.start, h.name_enc, h.phone_enc, h.code_hash,
                h.expires_at
            ],
        )?;
        Ok(())
    }

    fn held(&self, id: &str, now: i64) -> Result<Option<Held>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {HELD_COLUMNS} FROM booking_codes WHERE id = ?1 AND expires_at > ?2"
                ),
                params![id, now],
                held_row,
            )
            .optional()?)
    }

    fn try_code(&self, id: &str, now: i64) -> Result<Option<(Held, u32)>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "UPDATE booking_codes SET tries = tries + 1
                     WHERE id = ?1 AND expires_at > ?2 AND tries < ?3
                     RETURNING {HELD_COLUMNS}, tries"
                ),
                params![id, now, MAX_TRIES],
                |r| Ok((held_row(r)?, r.get(9)?)),
            )
            .optional()?)
    }

    fn release(&self, id: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM booking_codes WHERE id = ?1", [id])?;
        Ok(())
    }
}
