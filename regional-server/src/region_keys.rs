//! The region's keys when it runs on several replicas: one CA, one content signing key, one
//! appointment signing key, one personal-data key and one ticket secret for all of them. They
//! are kept in the shared database sealed (ChaCha20-Poly1305) with a key-encryption key each
//! replica is given as a file (`region_key_file`, made by the first replica if absent: copy it
//! to the others), and each replica keeps its copy of them in its data directory, where the
//! loaders read them. A database read alone (a dump, a stolen disk) opens no key.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::appointments::Sealer;
use crate::config::Config;
use crate::storage::{Storage, StorageError};

/// The keys a region cannot be run again without, by their file names in a data directory.
pub const KEYS: &[&str] = &[
    "ca.pem",
    "ca.key.pem",
    "content-signing.key",
    "appointment-signing.key",
    "personal-data.key",
    "ticket-secret.key",
];

/// The key-encryption key's file name in a backup.
pub const KEY_FILE: &str = "region.key";

/// Where this replica's key-encryption key is.
pub fn key_file(config: &Config) -> PathBuf {
    if config.region_key_file.as_os_str().is_empty() {
        config.data_dir.join(KEY_FILE)
    } else {
        config.region_key_file.clone()
    }
}

/// Makes this replica's copy of the region's keys the shared one: the first replica's own
/// (made by `make_local` when missing) become the region's; every later one takes them.
pub fn share(
    storage: &dyn Storage,
    config: &Config,
    make_local: impl Fn() -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let key_path = key_file(config);
    // Made here only by the region's first replica; any later one must be given it.
    let mut kek = key_path
        .exists()
        .then(|| crate::secret_key(&key_path).map(|k| Sealer::from_key(&k)))
        .transpose()?;
    let dir = &config.data_dir;
    let mut local = || -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        make_local().map_err(|e| StorageError::Conflict(format!("{e:#}")))?;
        if kek.is_none() {
            let made = crate::secret_key(&key_path)
                .map_err(|e| StorageError::Conflict(format!("{e:#}")))?;
            kek = Some(Sealer::from_key(&made));
        }
        let kek = kek.as_ref().expect("made above");
        KEYS.iter()
            .map(|name| {
                let text = fs::read_to_string(dir.join(name))
                    .map_err(|e| StorageError::Conflict(format!("{name}: {e}")))?;
                Ok((name.to_string(), kek.seal(&format!("{name}\n{text}"))))
            })
            .collect()
    };
    let shared = storage
        .share_secrets(&mut local)
        .context("sharing the region's keys through the database")?;
    let kek = match kek {
        Some(k) => k,
        None => anyhow::bail!(
            "the region's keys are in the database but this replica has no region key file at \
             {}: copy the file every replica of the region uses there",
            key_path.display()
        ),
    };
    for (name, sealed) in shared {
        if !KEYS.contains(&name.as_str()) {
            continue;
        }
        let text = kek.open(&sealed).with_context(|| {
            format!(
                "the region's keys in the database are sealed with another key-encryption key \
                 than {}: give this replica the region's key file",
                key_path.display()
            )
        })?;
        // Sealed with its name: a key moved to another's row in the database is refused.
        let Some(text) = text.strip_prefix(&format!("{name}\n")) else {
            anyhow::bail!("the region's key {name} in the database is not the one sealed as it");
        };
        replace_private(&dir.join(&name), text)?;
    }
    Ok(())
}

/// Puts `text` in `path` (owner-only) unless it is there already.
fn replace_private(path: &Path, text: &str) -> anyhow::Result<()> {
    if fs::read_to_string(path).is_ok_and(|t| t == text) {
        return Ok(());
    }
    let fresh = path.with_extension("new");
    let _ = fs::remove_file(&fresh);
    crate::ca::write_private(&fresh, text)?;
    fs::rename(&fresh, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}
