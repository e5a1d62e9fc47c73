//! Appointments kept: booked places per slot, capacities, and personal data sealed until purged.

use std::collections::HashMap;

use menpai_model::appointment::AppointmentClaims;

use super::{Database, Exec, OptionalExt, Result, StorageError};
use crate::params;

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
        let rows = self.query_map(
            "SELECT start, COUNT(*) FROM appointments WHERE hall = ?1 AND item = ?2 AND date = ?3
             GROUP BY start",
            params![hall, item, date],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(rows.into_iter().collect())
    }

    fn capacity(&self, hall: &str, item: &str) -> Result<Option<u32>> {
        self.query_row(
            "SELECT capacity FROM slot_capacity WHERE hall = ?1 AND item = ?2",
            params![hall, item],
            |r| r.get(0),
        )
        .optional()
    }

    fn set_capacity(&self, hall: &str, item: &str, capacity: u32) -> Result<()> {
        self.execute(
            "INSERT INTO slot_capacity (hall, item, capacity) VALUES (?1, ?2, ?3)
             ON CONFLICT (hall, item) DO UPDATE SET capacity = excluded.capacity",
            params![hall, item, capacity],
        )?;
        Ok(())
    }

    fn book(&self, a: &NewAppointment) -> Result<()> {
        let c = &a.claims;
        self.transaction(|tx| {
            let taken: u32 = tx.query_row(
                "SELECT COUNT(*) FROM appointments
                 WHERE hall = ?1 AND item = ?2 AND date = ?3 AND start = ?4",
                params![c.hall, c.item, c.date, c.start],
                |r| r.get(0),
            )?;
            if taken >= a.capacity {
                return Err(StorageError::Conflict(
                    "这个时段已约满，请换一个时段".into(),
                ));
            }
            // A failed statement ends the transaction here: nothing runs after it.
            match tx.execute(
                "INSERT INTO appointments (id, hall, item, item_name, prefix, date, start, \"end\",
                                           holder_masked, name_enc, phone_enc, phone_hash, booked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    c.id, c.hall, c.item, c.item_name, c.prefix, c.date, c.start, c.end, c.holder,
                    a.name_enc, a.phone_enc, a.phone_hash, a.booked_at
                ],
            ) {
                Err(e) if e.is_unique_violation() => Err(StorageError::Conflict(
                    "这个手机号当天已预约过这个事项".into(),
                )),
                r => r.map(|_| ()),
            }
        })
    }

    fn appointment(&self, id: &str) -> Result<Option<Appointment>> {
        self.query_row(
            "SELECT id, hall, item, item_name, prefix, date, start, \"end\", holder_masked,
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
        .optional()
    }

    fn purge_personal_data(&self, before: &str, now: &str) -> Result<usize> {
        self.execute(
            "UPDATE appointments
             SET name_enc = NULL, phone_enc = NULL, phone_hash = NULL, purged_at = ?2
             WHERE date < ?1 AND purged_at IS NULL",
            params![before, now],
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::appointments::Sealer;
    use crate::storage::testing::databases;

    fn claims(id: &str, date: &str) -> AppointmentClaims {
        AppointmentClaims {
            id: id.into(),
            hall: "h".into(),
            item: "P43".into(),
            item_name: "公积金提取".into(),
            prefix: "E".into(),
            date: date.into(),
            start: "10:00".into(),
            end: "10:30".into(),
            holder: "张*明".into(),
        }
    }

    fn new(s: &Sealer, id: &str, phone: &str, date: &str) -> NewAppointment {
        NewAppointment {
            claims: claims(id, date),
            name_enc: s.seal("张小明"),
            phone_enc: s.seal(phone),
            phone_hash: s.phone_hash(phone),
            booked_at: "2026-11-20 09:00:00".into(),
            capacity: 2,
        }
    }

    #[test]
    fn slots_fill_to_capacity_one_booking_per_phone_and_purged_after_retention() {
        for db in databases() {
            let s = Sealer::from_key(&[1; 32]);
            let new = |id: &str, phone: &str, date: &str| new(&s, id, phone, date);
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
            assert_eq!(a.claims, claims("a1", "2026-11-23"));
            assert_eq!(
                s.open(a.phone_enc.as_ref().unwrap()).as_deref(),
                Some("13800000001")
            );
            assert_eq!(db.appointment("a2").unwrap(), None);
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

    #[test]
    fn a_capacity_set_again_replaces_the_first() {
        for db in databases() {
            assert_eq!(db.capacity("h", "P43").unwrap(), None);
            db.set_capacity("h", "P43", 3).unwrap();
            db.set_capacity("h", "P44", 5).unwrap();
            db.set_capacity("h", "P43", 7).unwrap();
            assert_eq!(db.capacity("h", "P43").unwrap(), Some(7));
            assert_eq!(db.capacity("h", "P44").unwrap(), Some(5));
        }
    }

    #[test]
    fn bookings_made_at_once_never_overfill_a_slot() {
        for db in databases() {
            let db = Arc::new(db);
            let threads: Vec<_> = (0..8)
                .map(|i| {
                    let db = db.clone();
                    std::thread::spawn(move || {
                        let s = Sealer::from_key(&[1; 32]);
                        let a = new(
                            &s,
                            &format!("c{i}"),
                            &format!("1390000000{i}"),
                            "2026-11-24",
                        );
                        match db.book(&a) {
                            Ok(()) => true,
                            Err(StorageError::Conflict(m)) if m.contains("约满") => false,
                            Err(e) => panic!("{e}"),
                        }
                    })
                })
                .collect();
            let booked = threads
                .into_iter()
                .map(|t| t.join().unwrap())
                .filter(|&ok| ok)
                .count();
            assert_eq!(booked, 2);
            assert_eq!(db.booked("h", "P43", "2026-11-24").unwrap()["10:00"], 2);
        }
    }
}
