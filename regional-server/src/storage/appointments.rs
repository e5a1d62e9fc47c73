//! Appointments kept: booked places per slot, capacities, and personal data sealed until purged.

use std::collections::HashMap;

use menpai_model::appointment::AppointmentClaims;
use rusqlite::{OptionalExtension, params};

use crate::storage::{Result, Database, StorageError};

/// A booking to store.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub claims: AppointmentClaims,
    pub name_enc: Vec<u8>,
    pub phone_enc: Vec<u8>,
    pub phone_hash: String,
    pub booked_at: String,
    pub capacity: u32,
}

/// A stored appointment, personal data still sealed (or wiped).
#[derive(Debug, Clone, PartialEq)]
pub struct Appointment {
    pub claims: AppointmentClaims,
    pub name_enc: Option<Vec<u8>>,
    pub phone_enc: Option<Vec<u8>>,
    pub checked_in_at: Option<String>,
    pub ticket: Option<String>,
}

pub trait AppointmentStore {
    /// Booked places per slot start.
    fn booked(&self, hall: &str, item: &str, date: &str) -> Result<HashMap<String, u32>>;
    fn capacity(&self, hall: &str, item: &str) -> Result<Option<u32>>;
    fn set_capacity(&self, hall: &str, item: &str, capacity: u32) -> Result<()>;
    /// Books a place if the slot has one and the phone has no booking of the item that day.
    fn book(&self, a: &NewAppointment) -> Result<()>;
    fn appointment(&self, id: &str) -> Result<Option<Appointment>>;
    /// Wipes names and phones of appointments dated before `before`; how many.
    fn purge_personal_data(&self, before: &str, now: &str) -> Result<usize>;
}

impl AppointmentStore for Database {
    fn booked(&self, hall: &str, item: &str, date: &str) -> Result<HashMap<String, u32>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT start, COUNT(*) FROM appointments WHERE hall = ?1 AND item = ?2 AND date = ?3 GROUP BY start",
        )?;
        let rows = stmt
            .query_map(params![hall, item, date], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<HashMap<_, _>, _>>()?;
        Ok(rows)
    }

    fn capacity(&self, hall: &str, item: &str) -> Result<Option<u32>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT capacity FROM slot_capacity WHERE hall = ?1 AND item = ?2",
                params![hall, item],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn set_capacity(&self, hall: &str, item: &str, capacity: u32) -> Result<()> {
        self.conn().execute(
            "INSERT INTO slot_capacity (hall, item, capacity) VALUES (?1, ?2, ?3)
             ON CONFLICT (hall, item) DO UPDATE SET capacity = excluded.capacity",
            params![hall, item, capacity],
        )?;
        Ok(())
    }

    fn book(&self, a: &NewAppointment) -> Result<()> {
        let c = &a.claims;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let taken: u32 = tx.query_row(
            "SELECT COUNT(*) FROM appointments WHERE hall = ?1 AND item = ?2 AND date = ?3 AND start = ?4",
            params![c.hall, c.item, c.date, c.start],
            |r| r.get(0),
        )?;
        if taken >= a.capacity {
            return Err(StorageError::Conflict(
                "这个时段已约满，请换一个时段".into(),
            ));
        }
        let inserted = tx.execute(
            "INSERT INTO appointments (id, hall, item, item_name, prefix, date, start, end, holder_masked,
                                       name_enc, phone_enc, phone_hash, booked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                c.id, c.hall, c.item, c.item_name, c.prefix, c.date, c.start, c.end, c.holder,
                a.name_enc, a.phone_enc, a.phone_hash, a.booked_at
            ],
        );
        match inserted {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(StorageError::Conflict(
                    "这个手机号当天已预约过这个事项".into(),
                ));
            }
            r => r?,
        };
        tx.commit()?;
        Ok(())
    }

    fn appointment(&self, id: &str) -> Result<Option<Appointment>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, hall, item, item_name, prefix, date, start, end, holder_masked,
                        name_enc, phone_enc, checked_in_at, ticket
                 FROM appointments WHERE id = ?1",
                [id],
                |r| {
                    Ok(Appointment {
                        claims: AppointmentClaims {
                            id: r.get(0)?,
                            hall: r.get(1)?,
                            item: r.get(2)?,
                            item_name: r.get(3)?,
                            prefix: r.get(4)?,
                            date: r.get(5)?,
                            start: r.get(6)?,
                            end: r.get(7)?,
                            holder: r.get(8)?,
                        },
                        name_enc: r.get(9)?,
                        phone_enc: r.get(10)?,
                        checked_in_at: r.get(11)?,
                        ticket: r.get(12)?,
                    })
                },
            )
            .optional()?)
    }

    fn purge_personal_data(&self, before: &str, now: &str) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE appointments SET name_enc = NULL, phone_enc = NULL, phone_hash = NULL, purged_at = ?2
             WHERE date < ?1 AND purged_at IS NULL",
            params![before, now],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::Sealer;

    #[test]
    fn slots_fill_to_capacity_one_booking_per_phone_and_purged_after_retention() {
        let db = Database::open_in_memory().unwrap();
        let s = Sealer::from_key(&[1; 32]);
        let claims = |id: &str, date: &str| AppointmentClaims {
            id: id.into(),
            hall: "h".into(),
            item: "P43".into(),
            item_name: "公积金提取".into(),
            prefix: "E".into(),
            date: date.into(),
            start: "10:00".into(),
            end: "10:30".into(),
            holder: "张*明".into(),
        };
        let new = |id: &str, phone: &str, date: &str| NewAppointment {
            claims: claims(id, date),
            name_enc: s.seal("张小明"),
            phone_enc: s.seal(phone),
            phone_hash: s.phone_hash(phone),
            booked_at: "2026-11-20 09:00:00".into(),
            capacity: 2,
        };
        db.book(&new("a1", "13800000001", "2026-11-23")).unwrap();
        assert!(
            matches!(db.book(&new("a2", "13800000001", "2026-11-23")), Err(StorageError::Conflict(m)) if m.contains("手机号"))
        );
        db.book(&new("a3", "13800000002", "2026-11-23")).unwrap();
        assert!(
            matches!(db.book(&new("a4", "13800000003", "2026-11-23")), Err(StorageError::Conflict(m)) if m.contains("约满"))
        );
        assert_eq!(db.booked("h", "P43", "2026-11-23").unwrap()["10:00"], 2);
        let a = db.appointment("a1").unwrap().unwrap();
        assert_eq!(
            s.open(a.phone_enc.as_ref().unwrap()).as_deref(),
            Some("13800000001")
        );
        db.book(&new("a5", "13800000001", "2026-12-30")).unwrap();
        assert_eq!(
            db.purge_personal_data("2026-12-01", "2026-12-31 00:00:00")
                .unwrap(),
            2
        );
        let a = db.appointment("a1").unwrap().unwrap();
        assert_eq!((a.name_enc, a.phone_enc), (None, None), "wiped");
        assert!(
            db.appointment("a5").unwrap().unwrap().phone_enc.is_some(),
            "not yet due"
        );
    }
}
