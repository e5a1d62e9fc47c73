//! The agent's configuration: a documented default embedded in the binary, layered with a file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The documented default configuration.
pub const DEFAULT_CONFIG: &str = include_str!("../default-config.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Loopback address of the local API.
    pub listen: SocketAddr,
    /// Directory of the SQLite store.
    pub data_dir: PathBuf,
    /// Pack imported when the store is empty.
    #[serde(default)]
    pub seed_pack: Option<PathBuf>,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Base address of the phone-side pages QR codes open.
    pub phone_base_url: String,
    pub terminal: TerminalConfig,
    pub admin: AdminConfig,
    pub devices: crate::devices::config::DevicesConfig,
    pub queue: crate::queue::QueueConfig,
    pub regional: crate::sync::SyncConfig,
    pub host: crate::host::HostConfig,
    pub update: crate::update::UpdateConfig,
    pub handwriting: crate::handwriting::HandwritingConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalConfig {
    /// Outlet id of the hall the terminal stands in.
    pub hall: String,
    /// Kiosk position id on the hall's floor plan.
    pub position: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// SHA-256 (hex) of the technician credential; empty disables admin routes.
    #[serde(default)]
    pub token_sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is invalid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config is invalid: {0}")]
    Invalid(String),
}

impl Default for Config {
    fn default() -> Self {
        let mut c: Config =
            toml::from_str(DEFAULT_CONFIG).expect("the embedded default config parses");
        c.fill_paths();
        c
    }
}

impl Config {
    /// The default, overridden by the keys of `path` when given; then validated.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut merged: toml::Table =
            toml::from_str(DEFAULT_CONFIG).expect("the embedded default config parses");
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let file: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
            merge(&mut merged, file);
        }
        let mut config: Config =
            merged
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: path.map(Path::to_owned).unwrap_or_default(),
                    message: e.to_string(),
                })?;
        config.fill_paths();
        config.validate()?;
        Ok(config)
    }

    /// Paths left empty that live in the data directory.
    fn fill_paths(&mut self) {
        if self.devices.voice.wav_dir.is_empty() {
            self.devices.voice.wav_dir = self.data_dir.join("voice").display().to_string();
        }
    }

    /// Refuses settings that would expose the terminal or make it unusable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.listen.ip().is_loopback() {
            return Err(ConfigError::Invalid(format!(
                "listen address {} is not a loopback address: the local API serves this terminal only",
                self.listen
            )));
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(ConfigError::Invalid(
                "max_body_bytes must be between 1024 and 16777216".into(),
            ));
        }
        let token = &self.admin.token_sha256;
        if !token.is_empty() && (token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(ConfigError::Invalid(
                "admin.token_sha256 must be 64 hex digits".into(),
            ));
        }
        if !self.phone_base_url.starts_with("https://")
            && !self.phone_base_url.starts_with("http://")
        {
            return Err(ConfigError::Invalid(
                "phone_base_url must be an http(s) address".into(),
            ));
        }
        self.devices.validate().map_err(ConfigError::Invalid)?;
        self.host.validate().map_err(ConfigError::Invalid)?;
        self.update.validate().map_err(ConfigError::Invalid)?;
        let key = &self.queue.appointment_public_key;
        if !key.is_empty() && menpai_model::appointment::verifying_key(key).is_none() {
            return Err(ConfigError::Invalid(
                "queue.appointment_public_key must be an Ed25519 public key in base64".into(),
            ));
        }
        if self.queue.service_min == 0 || self.queue.service_min > 240 {
            return Err(ConfigError::Invalid(
                "queue.service_min must be between 1 and 240 minutes".into(),
            ));
        }
        if self.terminal.hall.trim().is_empty() {
            return Err(ConfigError::Invalid(
                "terminal.hall must name the hall's outlet id".into(),
            ));
        }
        Ok(())
    }
}

/// Overlays `top` on `base`, table by table.
fn merge(base: &mut toml::Table, top: toml::Table) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) => merge(b, t),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_parses_and_is_valid() {
        let c = Config::load(None).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:7700");
        assert_eq!(c.terminal.hall, "hall-futian");
        assert_eq!(c, Config::default());
    }

    #[test]
    fn the_devices_serde_defaults_match_the_documented_default() {
        let documented: Config = toml::from_str(DEFAULT_CONFIG).unwrap();
        assert_eq!(
            documented.devices,
            crate::devices::config::DevicesConfig::default()
        );
    }

    #[test]
    fn a_file_overrides_single_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:0\"\n[terminal]\nposition = \"waiting\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.terminal.position, "waiting");
        assert_eq!(c.terminal.hall, "hall-futian");
    }

    #[test]
    fn a_public_address_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:7700\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("not a loopback address"), "{err}");
    }

    #[test]
    fn device_settings_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.toml");
        std::fs::write(&path, "[devices.scanner]\nbackend = \"serial\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(
            err.contains("devices.scanner needs a path or a usb_id"),
            "{err}"
        );
        std::fs::write(&path, "[devices.printer]\nbackend = \"rpi\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("devices.printer.backend `rpi`"), "{err}");
        std::fs::write(&path, "[devices.scanner]\nsuffix = \"SEMICOLON\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("devices.scanner.suffix"), "{err}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:1\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("lisen"), "{err}");
    }
}
