//! Bookings held until the phone's texted code proves the number.

use super::{Database, Exec, OptionalExt, Result, Row};
use crate::params;

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
    /// the held booking and the tries so far, while it has tries left and has not expired. With
    /// `hall`, only a booking held in that hall (a plate confirms its own hall's; a try from
    /// elsewhere is not counted).
    fn try_code(&self, id: &str, hall: Option<&str>, now: i64) -> Result<Option<(Held, u32)>>;
    fn release(&self, id: &str) -> Result<()>;
}

const HELD_COLUMNS: &str =
    "id, hall, item, date, start, name_enc, phone_enc, code_hash, expires_at";

fn held_row(r: &Row) -> Result<Held> {
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
        self.transaction(|tx| {
            tx.execute("DELETE FROM booking_codes WHERE expires_at <= ?1", [now])?;
            tx.execute(
                &format!(
                    "INSERT INTO booking_codes ({HELD_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    h.id,
                    h.hall,
                    h.item,
                    h.date,
                    h.start,
                    h.name_enc,
                    h.phone_enc,
                    h.code_hash,
                    h.expires_at
                ],
            )?;
            Ok(())
        })
    }

    fn held(&self, id: &str, now: i64) -> Result<Option<Held>> {
        self.query_row(
            &format!("SELECT {HELD_COLUMNS} FROM booking_codes WHERE id = ?1 AND expires_at > ?2"),
            params![id, now],
            held_row,
        )
        .optional()
    }

    fn try_code(&self, id: &str, hall: Option<&str>, now: i64) -> Result<Option<(Held, u32)>> {
        // One statement: the try is counted and checked at once, on any replica.
        self.query_row(
            &format!(
                "UPDATE booking_codes SET tries = tries + 1
                 WHERE id = ?1 AND expires_at > ?2 AND tries < ?3 AND (?4 = '' OR hall = ?4)
                 RETURNING {HELD_COLUMNS}, tries"
            ),
            params![id, now, MAX_TRIES, hall.unwrap_or_default()],
            |r| Ok((held_row(r)?, r.get(9)?)),
        )
        .optional()
    }

    fn release(&self, id: &str) -> Result<()> {
        self.execute("DELETE FROM booking_codes WHERE id = ?1", [id])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::storage::testing::databases;

    fn held(id: &str, expires_at: i64) -> Held {
        Held {
            id: id.into(),
            hall: "futian".into(),
            item: "P43".into(),
            date: "2026-12-07".into(),
            start: "09:00".into(),
            name_enc: vec![1, 2, 3],
            phone_enc: vec![0, 255],
            code_hash: "h".into(),
            expires_at,
        }
    }

    #[test]
    fn a_held_booking_takes_so_many_tries_and_expires() {
        for db in databases() {
            db.hold(&held("old", 100), 50).unwrap();
            db.hold(&held("b1", 1_000), 200).unwrap();
            // Holding at 200 dropped the one expired at 100.
            assert_eq!(db.held("old", 0).unwrap(), None);
            assert_eq!(db.held("b1", 999).unwrap(), Some(held("b1", 1_000)));
            assert_eq!(db.held("b1", 1_000).unwrap(), None);
            // A try from another hall's plate is refused and not counted.
            assert_eq!(
                db.try_code("b1", Some("hall-elsewhere"), 500).unwrap(),
                None
            );
            for n in 1..=MAX_TRIES {
                assert_eq!(
                    db.try_code("b1", None, 500).unwrap(),
                    Some((held("b1", 1_000), n))
                );
            }
            assert_eq!(db.try_code("b1", None, 500).unwrap(), None);
            db.hold(&held("b2", 1_000), 200).unwrap();
            assert_eq!(db.try_code("b2", None, 1_000).unwrap(), None);
            db.release("b2").unwrap();
            assert_eq!(db.held("b2", 0).unwrap(), None);
        }
    }

    #[test]
    fn parallel_guesses_share_no_try() {
        for db in databases() {
            let db = Arc::new(db);
            db.hold(&held("b1", 1_000), 0).unwrap();
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let db = Arc::clone(&db);
                    std::thread::spawn(move || db.try_code("b1", None, 10).unwrap().map(|(_, n)| n))
                })
                .collect();
            let mut tries: Vec<u32> = threads
                .into_iter()
                .filter_map(|t| t.join().unwrap())
                .collect();
            tries.sort_unstable();
            assert_eq!(tries, (1..=MAX_TRIES).collect::<Vec<_>>());
        }
    }
}
