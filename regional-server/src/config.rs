//! The server's configuration: a documented default embedded in the binary, layered with a file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_CONFIG: &str = include_str!("../default-config.toml");

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen_public: SocketAddr,
    pub listen_devices: SocketAddr,
    pub data_dir: PathBuf,
    /// Empty: the embedded SQLite file in `data_dir` (one machine). Otherwise a PostgreSQL
    /// address (`postgresql://…` or `host=… dbname=…`), shared by every replica of the region.
    #[serde(default)]
    pub database_url: String,
    /// On PostgreSQL: the key that seals the region's keys in the shared database; the same
    /// file on every replica. Empty: `region.key` in `data_dir` (made by the first replica).
    #[serde(default)]
    pub region_key_file: PathBuf,
    /// Load balancers in front (HAProxy): connections from these addresses start with a PROXY
    /// v2 header naming the client; from any other address one is never read.
    #[serde(default)]
    pub proxy_protocol_from: Vec<std::net::IpAddr>,
    pub hostnames: Vec<String>,
    pub region_name: String,
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub session_hours: u32,
    pub enrollment_token_ttl_s: u64,
    pub heartbeat_interval_s: u64,
    pub stale_after_s: u64,
    pub offline_after_s: u64,
    pub metrics_token: String,
    pub queue_service_min: u32,
    pub queue_lease_block: u32,
    pub appointment_slot_capacity: u32,
    pub appointment_days_ahead: u32,
    pub personal_data_retention_days: u32,
    pub booking_per_ip_per_hour: u32,
    pub booking_per_terminal_per_hour: u32,
    pub booking_codes_per_phone_per_hour: u32,
    pub booking_code_interval_s: u32,
    pub login_failures_per_address: u32,
    pub login_failures_per_account: u32,
    pub password_hash_workers: u32,
    pub queue_leases_per_terminal: u32,
    pub device_tickets_per_minute: u32,
    pub sms_backend: String,
    pub public_url: String,
    /// A help call nobody acknowledged in this many seconds is escalated to the duty manager.
    #[serde(default = "help_escalate_after_s")]
    pub help_escalate_after_s: u64,
    /// The hall monitor flags a business with more than this many people waiting.
    #[serde(default = "monitor_waiting_over")]
    pub monitor_waiting_over: u32,
    /// The hall monitor flags a window idle this many seconds while people wait for it.
    #[serde(default = "monitor_idle_after_s")]
    pub monitor_idle_after_s: u64,
    /// Where uploaded update bundles are kept (shared by a region's replicas); empty:
    /// `bundles` in `data_dir`.
    #[serde(default)]
    pub bundles_dir: PathBuf,
    /// The release CA's certificates (PEM): only bundles signed under them are taken; empty:
    /// no bundle is taken.
    #[serde(default)]
    pub release_keyring: PathBuf,
    /// The largest update bundle taken, in bytes.
    #[serde(default = "release_max_bytes")]
    pub release_max_bytes: u64,
}

fn release_max_bytes() -> u64 {
    2 << 30
}

fn monitor_waiting_over() -> u32 {
    15
}

fn monitor_idle_after_s() -> u64 {
    120
}

fn help_escalate_after_s() -> u64 {
    60
}

impl Default for Config {
    fn default() -> Self {
        toml::from_str(DEFAULT_CONFIG).expect("the embedded default config parses")
    }
}

impl Config {
    /// Where update bundles are kept.
    pub fn bundles_dir(&self) -> PathBuf {
        if self.bundles_dir.as_os_str().is_empty() {
            self.data_dir.join("bundles")
        } else {
            self.bundles_dir.clone()
        }
    }

    /// The default, overridden by the keys of `path`; then checked.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let mut merged: toml::Table = toml::from_str(DEFAULT_CONFIG)?;
        if let Some(path) = path {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
            let file: toml::Table = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("config file {} is invalid: {e}", path.display()))?;
            for (k, v) in file {
                merged.insert(k, v);
            }
        }
        let config: Config = merged
            .try_into()
            .map_err(|e| anyhow::anyhow!("config is invalid: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.hostnames.is_empty(),
            "hostnames must name at least one host"
        );
        anyhow::ensure!(
            self.heartbeat_interval_s > 0
                && self.stale_after_s > self.heartbeat_interval_s
                && self.offline_after_s > self.stale_after_s,
            "need 0 < heartbeat_interval_s < stale_after_s < offline_after_s"
        );
        anyhow::ensure!(
            self.max_body_bytes >= 1024,
            "max_body_bytes must be at least 1024"
        );
        anyhow::ensure!(
            (1..=200).contains(&self.queue_lease_block),
            "queue_lease_block must be 1–200"
        );
        anyhow::ensure!(
            self.booking_per_ip_per_hour > 0
                && self.booking_per_terminal_per_hour > 0
                && self.booking_codes_per_phone_per_hour > 0,
            "booking_per_ip_per_hour, booking_per_terminal_per_hour and booking_codes_per_phone_per_hour must be at least 1"
        );
        anyhow::ensure!(
            self.login_failures_per_address > 0 && self.login_failures_per_account > 0,
            "login_failures_per_address and login_failures_per_account must be at least 1"
        );
        anyhow::ensure!(
            self.queue_leases_per_terminal > 0 && self.device_tickets_per_minute > 0,
            "queue_leases_per_terminal and device_tickets_per_minute must be at least 1"
        );
        anyhow::ensure!(
            self.public_url.is_empty() || self.public_url.starts_with("https://"),
            "public_url must be an https:// address (or empty)"
        );
        Ok(())
    }
}
