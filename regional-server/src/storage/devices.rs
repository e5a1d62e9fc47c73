//! Terminals: enrollment tokens, enrolled devices and their latest heartbeats.

use super::{Database, Exec, OptionalExt, Result, Row, ToValue, Value};
use crate::params;

/// Heartbeats written by one statement.
const HEARTBEATS_PER_STATEMENT: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentToken {
    pub hall: String,
    pub position: String,
    pub expires_at: i64,
    pub used: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub id: String,
    pub hall: String,
    pub position: String,
    pub cert_sha256: String,
    pub enrolled_at: String,
    pub revoked_at: Option<String>,
    /// In training mode: nothing it does is real.
    pub training: bool,
}

/// Enrollment, devices and heartbeats.
pub trait DeviceStore {
    fn create_enrollment_token(
        &self,
        token_sha256: &str,
        t: &EnrollmentToken,
        by: &str,
    ) -> Result<()>;
    fn enrollment_token(&self, token_sha256: &str) -> Result<Option<EnrollmentToken>>;
    /// Uses the token and records the device in one transaction; false when the token was used
    /// or expired meanwhile.
    fn redeem_enrollment(&self, token_sha256: &str, now: i64, device: &Device) -> Result<bool>;
    fn device_by_cert(&self, cert_sha256: &str) -> Result<Option<Device>>;
    fn device_by_id(&self, id: &str) -> Result<Option<Device>>;
    fn revoke_device(&self, id: &str, at: &str) -> Result<bool>;
    /// Puts a terminal in training mode or takes it out; false when there is none such.
    fn set_training(&self, id: &str, on: bool) -> Result<bool>;
    fn devices(&self) -> Result<Vec<Device>>;

    /// Keeps each terminal's newest heartbeat (an older one, from a replica the terminal has
    /// since left, does not overwrite it).
    fn save_heartbeats(&self, beats: &[(String, i64, String)]) -> Result<()>;
    fn heartbeats(&self) -> Result<Vec<(String, i64, String)>>;
}

fn device_row(r: &Row) -> Result<Device> {
    Ok(Device {
        id: r.get(0)?,
        hall: r.get(1)?,
        position: r.get(2)?,
        cert_sha256: r.get(3)?,
        enrolled_at: r.get(4)?,
        revoked_at: r.get(5)?,
        training: r.get(6)?,
    })
}

const DEVICE_COLUMNS: &str = "id, hall, position, cert_sha256, enrolled_at, revoked_at, training";

impl DeviceStore for Database {
    fn create_enrollment_token(
        &self,
        token_sha256: &str,
        t: &EnrollmentToken,
        by: &str,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO enrollment_tokens (token_sha256, hall, position, expires_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_sha256, t.hall, t.position, t.expires_at, by],
        )?;
        Ok(())
    }

    fn enrollment_token(&self, token_sha256: &str) -> Result<Option<EnrollmentToken>> {
        self.query_row(
            "SELECT hall, position, expires_at, used_at IS NOT NULL FROM enrollment_tokens
                 WHERE token_sha256 = ?1",
            [token_sha256],
            |r| {
                Ok(EnrollmentToken {
                    hall: r.get(0)?,
                    position: r.get(1)?,
                    expires_at: r.get(2)?,
                    used: r.get(3)?,
                })
            },
        )
        .optional()
    }

    fn redeem_enrollment(&self, token_sha256: &str, now: i64, d: &Device) -> Result<bool> {
        self.transaction(|tx| {
            let n = tx.execute(
                "UPDATE enrollment_tokens SET used_at = ?1, device_id = ?2
                 WHERE token_sha256 = ?3 AND used_at IS NULL AND expires_at > ?1",
                params![now, d.id, token_sha256],
            )?;
            if n != 1 {
                return Ok(false);
            }
            tx.execute(
                &format!(
                    "INSERT INTO devices ({DEVICE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, NULL, 0)"
                ),
                params![d.id, d.hall, d.position, d.cert_sha256, d.enrolled_at],
            )?;
            Ok(true)
        })
    }

    fn device_by_id(&self, id: &str) -> Result<Option<Device>> {
        self.query_row(
            &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"),
            [id],
            device_row,
        )
        .optional()
    }

    fn device_by_cert(&self, cert_sha256: &str) -> Result<Option<Device>> {
        self.query_row(
            &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE cert_sha256 = ?1"),
            [cert_sha256],
            device_row,
        )
        .optional()
    }

    fn revoke_device(&self, id: &str, at: &str) -> Result<bool> {
        let n = self.execute(
            "UPDATE devices SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            params![at, id],
        )?;
        Ok(n == 1)
    }

    fn set_training(&self, id: &str, on: bool) -> Result<bool> {
        let n = self.execute(
            "UPDATE devices SET training = ?1 WHERE id = ?2",
            params![on, id],
        )?;
        Ok(n == 1)
    }

    fn devices(&self) -> Result<Vec<Device>> {
        self.query_map(
            &format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY hall, position, id"),
            (),
            device_row,
        )
    }

    fn save_heartbeats(&self, beats: &[(String, i64, String)]) -> Result<()> {
        // Many rows per statement: one round trip per 500 terminals on PostgreSQL.
        for chunk in beats.chunks(HEARTBEATS_PER_STATEMENT) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("(?{}, ?{}, ?{})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                .collect();
            let values: Vec<Value> = chunk
                .iter()
                .flat_map(|(id, at, body)| [id.to_value(), at.to_value(), body.to_value()])
                .collect();
            self.execute(
                &format!(
                    "INSERT INTO heartbeats (device_id, received_at, body) VALUES {}
                     ON CONFLICT (device_id) DO UPDATE
                     SET received_at = excluded.received_at, body = excluded.body
                     WHERE excluded.received_at > heartbeats.received_at",
                    rows.join(", ")
                ),
                values,
            )?;
        }
        Ok(())
    }

    fn heartbeats(&self) -> Result<Vec<(String, i64, String)>> {
        self.query_map(
            "SELECT device_id, received_at, body FROM heartbeats",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::databases;

    #[test]
    fn a_token_enrolls_one_device_and_heartbeats_keep_the_latest() {
        for db in databases() {
            let token = EnrollmentToken {
                hall: "futian".into(),
                position: "大厅入口".into(),
                expires_at: 2_000,
                used: false,
            };
            db.create_enrollment_token("t1", &token, "admin").unwrap();
            assert_eq!(db.enrollment_token("t1").unwrap(), Some(token));
            assert_eq!(db.enrollment_token("t2").unwrap(), None);
            let device = Device {
                id: "d1".into(),
                hall: "futian".into(),
                position: "大厅入口".into(),
                cert_sha256: "c1".into(),
                enrolled_at: "2026-12-05T00:00:00Z".into(),
                revoked_at: None,
                training: false,
            };
            assert!(db.redeem_enrollment("t1", 1_000, &device).unwrap());
            let again = Device {
                id: "d2".into(),
                cert_sha256: "c2".into(),
                ..device.clone()
            };
            assert!(!db.redeem_enrollment("t1", 1_000, &again).unwrap());
            assert_eq!(db.device_by_cert("c1").unwrap(), Some(device));
            assert!(db.set_training("d1", true).unwrap());
            assert!(db.device_by_cert("c1").unwrap().unwrap().training);
            let beats: Vec<(String, i64, String)> = (0..1_200)
                .map(|i| (format!("d{i}"), i, "{}".to_string()))
                .collect();
            db.save_heartbeats(&beats).unwrap();
            db.save_heartbeats(&[("d7".into(), 9_999, "{\"v\":2}".into())])
                .unwrap();
            db.save_heartbeats(&[("d7".into(), 9_000, "{\"v\":1}".into())])
                .unwrap();
            let kept = db.heartbeats().unwrap();
            assert_eq!(kept.len(), 1_200);
            assert!(kept.contains(&("d7".into(), 9_999, "{\"v\":2}".into())));
        }
    }
}
