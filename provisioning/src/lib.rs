//! The technician's tools on a terminal: device detection, the agent's config file, the
//! agent's loopback API, and the reports a technician reads. `main.rs` is the CLI.

pub mod agent_api;
pub mod config_file;
pub mod detect;
pub mod report;
