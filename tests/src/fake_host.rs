//! A private D-Bus with fake NetworkManager, systemd and logind on it: what the agent and the
//! provisioning CLI talk to on a terminal, recorded so tests can see what they asked for.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use zbus::zvariant::{ObjectPath, OwnedObjectPath};

/// What the fakes hold and what they were asked.
#[derive(Debug, Default)]
pub struct HostState {
    /// NetworkManager's connectivity: 1 none, 2 portal, 3 limited, 4 full.
    pub connectivity: u32,
    /// `RestartUnit` calls: (unit, mode).
    pub restarts: Vec<(String, String)>,
    /// The last `ScheduleShutdown`: (kind, microseconds since the epoch).
    pub scheduled: Option<(String, u64)>,
    /// `Reboot` calls (their `interactive` flag).
    pub reboots: Vec<bool>,
}

/// Units the fake systemd knows; others are refused as real systemd would.
const UNITS: &[&str] = &["menpai-kiosk.service", "menpai-agent.service"];
const ACTIVE: &str = "/org/freedesktop/NetworkManager/ActiveConnection/1";

struct FakeNetworkManager(Arc<Mutex<HostState>>);

#[zbus::interface(name = "org.freedesktop.NetworkManager")]
impl FakeNetworkManager {
    #[zbus(property)]
    fn connectivity(&self) -> u32 {
        self.0.lock().unwrap().connectivity
    }
    #[zbus(property)]
    fn primary_connection(&self) -> OwnedObjectPath {
        ObjectPath::try_from(ACTIVE).unwrap().into()
    }
}

struct FakeActiveConnection;

#[zbus::interface(name = "org.freedesktop.NetworkManager.Connection.Active")]
impl FakeActiveConnection {
    #[zbus(property)]
    fn id(&self) -> String {
        "有线连接 1".into()
    }
    #[zbus(property, name = "Type")]
    fn kind(&self) -> String {
        "802-3-ethernet".into()
    }
}

struct FakeSystemd(Arc<Mutex<HostState>>);

#[zbus::interface(name = "org.freedesktop.systemd1.Manager")]
impl FakeSystemd {
    fn restart_unit(&self, name: String, mode: String) -> zbus::fdo::Result<OwnedObjectPath> {
        if !UNITS.contains(&name.as_str()) {
            return Err(zbus::fdo::Error::Failed(format!("Unit {name} not found.")));
        }
        let mut s = self.0.lock().unwrap();
        s.restarts.push((name, mode));
        let job = format!("/org/freedesktop/systemd1/job/{}", s.restarts.len());
        Ok(ObjectPath::try_from(job).unwrap().into())
    }
}

struct FakeLogind(Arc<Mutex<HostState>>);

#[zbus::interface(name = "org.freedesktop.login1.Manager")]
impl FakeLogind {
    fn schedule_shutdown(&self, kind: String, usec: u64) -> zbus::fdo::Result<()> {
        if !["reboot", "poweroff", "halt", "dry-reboot", "dry-poweroff"].contains(&kind.as_str()) {
            return Err(zbus::fdo::Error::InvalidArgs(format!(
                "unknown type {kind}"
            )));
        }
        self.0.lock().unwrap().scheduled = Some((kind, usec));
        Ok(())
    }
    fn reboot(&self, interactive: bool) {
        self.0.lock().unwrap().reboots.push(interactive);
    }
    #[zbus(property)]
    fn scheduled_shutdown(&self) -> (String, u64) {
        self.0.lock().unwrap().scheduled.clone().unwrap_or_default()
    }
}

/// A private bus (its own dbus-daemon) with the fakes on it; all stopped on drop.
pub struct FakeHost {
    /// Give this to the agent as `DBUS_SYSTEM_BUS_ADDRESS`.
    pub address: String,
    pub state: Arc<Mutex<HostState>>,
    connection: Option<zbus::Connection>,
    runtime: tokio::runtime::Runtime,
    daemon: Child,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for FakeHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeHost")
            .field("address", &self.address)
            .finish()
    }
}

impl FakeHost {
    pub fn start() -> FakeHost {
        let dir = tempfile::tempdir().unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .arg(format!(
                "--address=unix:path={}",
                dir.path().join("bus").display()
            ))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts (package dbus-daemon)");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon said {line:?}");
        let state = Arc::new(Mutex::new(HostState {
            connectivity: 4,
            ..Default::default()
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let connection = runtime.block_on(async {
            zbus::connection::Builder::address(address.as_str())
                .unwrap()
                .name("org.freedesktop.NetworkManager")
                .unwrap()
                .name("org.freedesktop.systemd1")
                .unwrap()
                .name("org.freedesktop.login1")
                .unwrap()
                .serve_at(
                    "/org/freedesktop/NetworkManager",
                    FakeNetworkManager(state.clone()),
                )
                .unwrap()
                .serve_at(ACTIVE, FakeActiveConnection)
                .unwrap()
                .serve_at("/org/freedesktop/systemd1", FakeSystemd(state.clone()))
                .unwrap()
                .serve_at("/org/freedesktop/login1", FakeLogind(state.clone()))
                .unwrap()
                .build()
                .await
                .expect("the fakes join the private bus")
        });
        FakeHost {
            address,
            state,
            connection: Some(connection),
            runtime,
            daemon,
            _dir: dir,
        }
    }

    pub fn set_connectivity(&self, n: u32) {
        self.state.lock().unwrap().connectivity = n;
    }

    /// NetworkManager goes away (stopped, crashed): its name leaves the bus.
    pub fn stop_network_manager(&self) {
        let c = self.connection.clone().unwrap();
        self.runtime.block_on(async {
            c.release_name("org.freedesktop.NetworkManager")
                .await
                .unwrap();
        });
    }

    pub fn restarts(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().restarts.clone()
    }

    pub fn reboots(&self) -> Vec<bool> {
        self.state.lock().unwrap().reboots.clone()
    }

    pub fn scheduled(&self) -> Option<(String, u64)> {
        self.state.lock().unwrap().scheduled.clone()
    }
}

impl Drop for FakeHost {
    fn drop(&mut self) {
        self.connection = None;
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}
