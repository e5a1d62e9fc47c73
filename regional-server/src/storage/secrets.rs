//! The region's keys as the replicas share them: sealed blobs by name, written once by the
//! first replica that starts and read by every other.

use super::{Database, Dialect, Exec, Result};
use crate::params;

/// The shared keys.
pub trait SecretStore {
    /// The sealed keys the region has; when it has none yet, `local()`'s are kept and
    /// returned. Replicas starting together agree: the first to come keeps its own.
    fn share_secrets(
        &self,
        local: &mut dyn FnMut() -> Result<Vec<(String, Vec<u8>)>>,
    ) -> Result<Vec<(String, Vec<u8>)>>;
}

impl SecretStore for Database {
    fn share_secrets(
        &self,
        local: &mut dyn FnMut() -> Result<Vec<(String, Vec<u8>)>>,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        self.transaction(|tx| {
            if tx.dialect() == Dialect::Postgres {
                // Taken before the transaction's snapshot: a second replica waits, then sees
                // the first one's keys.
                tx.execute("LOCK TABLE region_secrets IN EXCLUSIVE MODE", ())?;
            }
            let kept = tx.query_map(
                "SELECT name, sealed FROM region_secrets ORDER BY name",
                (),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if !kept.is_empty() {
                return Ok(kept);
            }
            let mine = local()?;
            for (name, sealed) in &mine {
                tx.execute(
                    "INSERT INTO region_secrets (name, sealed) VALUES (?1, ?2)",
                    params![name, sealed],
                )?;
            }
            Ok(mine)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::databases;

    #[test]
    fn the_first_keys_kept_are_the_ones_everyone_gets() {
        for db in databases() {
            let first = db
                .share_secrets(&mut || Ok(vec![("ca.key.pem".into(), vec![1, 2, 3])]))
                .unwrap();
            assert_eq!(first, vec![("ca.key.pem".to_string(), vec![1, 2, 3])]);
            let mut asked = false;
            let second = db
                .share_secrets(&mut || {
                    asked = true;
                    Ok(vec![("ca.key.pem".into(), vec![9])])
                })
                .unwrap();
            assert_eq!(second, first);
            assert!(!asked, "a later replica's own keys are not even made");
        }
    }
}
