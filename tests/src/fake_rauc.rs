//! A fake RAUC on a private bus (`de.pengutronix.rauc.Installer`), with two root slots and a
//! bootloader's try counter; bundles are checked by the real `rauc info` against the
//! terminal's keyring, so a bundle signed by anyone else is refused as RAUC would refuse it.
//! Like the image's RAUC (`activate-installed=false`), an installed slot boots only once marked
//! active. Tests "reboot" it between stopping and starting the agent: a new boot id, and the
//! bootloader's choice.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue;

/// One root slot.
#[derive(Debug, Clone, Default)]
pub struct Slot {
    pub version: String,
    /// Marked good (kept by the bootloader).
    pub good: bool,
    /// Boots left before the bootloader gives up on it.
    pub tries: u32,
}

/// What the fake holds and was asked.
#[derive(Debug, Default)]
pub struct RaucState {
    /// `A` and `B`.
    pub slots: [Slot; 2],
    pub booted: usize,
    /// The slot the bootloader tries first.
    pub primary: usize,
    pub last_error: String,
    /// Bundles installed (their versions) and refused (RAUC's words).
    pub installed: Vec<String>,
    pub refused: Vec<String>,
    /// `Mark` calls: (state, slot name).
    pub marks: Vec<(String, String)>,
}

const NAMES: [&str; 2] = ["A", "B"];

struct FakeInstaller {
    state: Arc<Mutex<RaucState>>,
    keyring: PathBuf,
    compatible: String,
}

impl FakeInstaller {
    fn slot_of(&self, id: &str) -> Option<usize> {
        let s = self.state.lock().unwrap();
        match id {
            "booted" => Some(s.booted),
            "other" => Some(1 - s.booted),
            "rootfs.0" | "A" => Some(0),
            "rootfs.1" | "B" => Some(1),
            _ => None,
        }
    }
}

/// The real `rauc info` on `bundle` against `keyring`: (compatible, version) or RAUC's error.
fn rauc_info(bundle: &str, keyring: &std::path::Path) -> Result<(String, String), String> {
    let out = std::process::Command::new("rauc")
        .arg("info")
        .arg(format!("--keyring={}", keyring.display()))
        .arg("--output-format=json")
        .arg(bundle)
        .output()
        .map_err(|e| format!("rauc: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let line = err
            .lines()
            .rfind(|l| !l.trim().is_empty() && !l.starts_with("rauc-Message"))
            .unwrap_or("failed")
            .trim()
            .to_owned();
        return Err(line);
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    Ok((
        v["compatible"].as_str().unwrap_or_default().to_owned(),
        v["version"].as_str().unwrap_or_default().to_owned(),
    ))
}

#[zbus::interface(name = "de.pengutronix.rauc.Installer")]
impl FakeInstaller {
    async fn install_bundle(
        &self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        source: String,
        _args: HashMap<String, OwnedValue>,
    ) -> zbus::fdo::Result<()> {
        let (state, keyring, compatible) = (
            self.state.clone(),
            self.keyring.clone(),
            self.compatible.clone(),
        );
        let emitter = emitter.into_owned();
        // RAUC answers the call at once and signals Completed when done.
        tokio::spawn(async move {
            let checked = tokio::task::spawn_blocking(move || rauc_info(&source, &keyring))
                .await
                .unwrap();
            let result = {
                let mut s = state.lock().unwrap();
                match checked {
                    Ok((c, _)) if c != compatible => {
                        s.last_error = format!(
                            "Compatible mismatch: Expected '{compatible}' but bundle manifest has '{c}'"
                        );
                        let e = s.last_error.clone();
                        s.refused.push(e);
                        1
                    }
                    Ok((_, version)) => {
                        let other = 1 - s.booted;
                        s.slots[other] = Slot {
                            version: version.clone(),
                            good: false,
                            tries: 1,
                        };
                        s.installed.push(version);
                        s.last_error.clear();
                        0
                    }
                    Err(e) => {
                        s.last_error = e;
                        let e = s.last_error.clone();
                        s.refused.push(e);
                        1
                    }
                }
            };
            let _ = FakeInstaller::completed(&emitter, result).await;
        });
        Ok(())
    }

    fn mark(&self, state: String, slot_identifier: String) -> zbus::fdo::Result<(String, String)> {
        let i = self
            .slot_of(&slot_identifier)
            .ok_or_else(|| zbus::fdo::Error::InvalidArgs(format!("No slot {slot_identifier}")))?;
        let mut s = self.state.lock().unwrap();
        s.marks.push((state.clone(), NAMES[i].to_owned()));
        match state.as_str() {
            "good" => s.slots[i].good = true,
            "bad" => {
                s.slots[i].good = false;
                s.slots[i].tries = 0;
                if s.primary == i {
                    s.primary = 1 - i;
                }
            }
            "active" => s.primary = i,
            other => {
                return Err(zbus::fdo::Error::InvalidArgs(format!(
                    "unknown state {other}"
                )));
            }
        }
        Ok((
            format!("rootfs.{i}"),
            format!("marked slot rootfs.{i} as {state}"),
        ))
    }

    fn get_slot_status(&self) -> Vec<(String, HashMap<String, OwnedValue>)> {
        let s = self.state.lock().unwrap();
        (0..2)
            .map(|i| {
                let mut m = HashMap::new();
                let mut put = |k: &str, v: &str| {
                    m.insert(
                        k.to_owned(),
                        OwnedValue::try_from(zbus::zvariant::Value::from(v)).unwrap(),
                    );
                };
                put("class", "rootfs");
                put("bootname", NAMES[i]);
                put("state", if s.booted == i { "booted" } else { "inactive" });
                put("boot-status", if s.slots[i].good { "good" } else { "bad" });
                if !s.slots[i].version.is_empty() {
                    put("bundle.version", &s.slots[i].version);
                }
                (format!("rootfs.{i}"), m)
            })
            .collect()
    }

    #[zbus(signal)]
    async fn completed(emitter: &SignalEmitter<'_>, result: i32) -> zbus::Result<()>;

    #[zbus(property)]
    fn last_error(&self) -> String {
        self.state.lock().unwrap().last_error.clone()
    }

    #[zbus(property)]
    fn boot_slot(&self) -> String {
        NAMES[self.state.lock().unwrap().booted].to_owned()
    }

    #[zbus(property)]
    fn compatible(&self) -> String {
        self.compatible.clone()
    }

    #[zbus(property)]
    fn operation(&self) -> String {
        "idle".into()
    }
}

/// The fake on the bus at `address`; leaves it on drop.
pub struct FakeRauc {
    pub state: Arc<Mutex<RaucState>>,
    /// This "boot"'s id, as the kernel's `boot_id` (give it to the agent as `update.boot_id_file`).
    pub boot_id_file: PathBuf,
    _dir: tempfile::TempDir,
    connection: Option<zbus::Connection>,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for FakeRauc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeRauc").finish_non_exhaustive()
    }
}

impl FakeRauc {
    /// Slot A booted and good with `version`; bundles taken when `keyring` verifies them and
    /// they are for `compatible`.
    pub fn start(address: &str, keyring: PathBuf, compatible: &str, version: &str) -> FakeRauc {
        let state = Arc::new(Mutex::new(RaucState {
            slots: [
                Slot {
                    version: version.to_owned(),
                    good: true,
                    tries: 0,
                },
                Slot::default(),
            ],
            ..Default::default()
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let installer = FakeInstaller {
            state: state.clone(),
            keyring,
            compatible: compatible.to_owned(),
        };
        let connection = runtime.block_on(async {
            zbus::connection::Builder::address(address)
                .unwrap()
                .name("de.pengutronix.rauc")
                .unwrap()
                .serve_at("/", installer)
                .unwrap()
                .build()
                .await
                .expect("the fake RAUC joins the bus")
        });
        let dir = tempfile::tempdir().unwrap();
        let boot_id_file = dir.path().join("boot_id");
        std::fs::write(&boot_id_file, "boot-0\n").unwrap();
        FakeRauc {
            state,
            boot_id_file,
            _dir: dir,
            connection: Some(connection),
            runtime,
        }
    }

    /// The terminal restarts: the bootloader boots the primary slot if it is good or has a try
    /// left (using it up), else the other one.
    pub fn reboot(&self) -> &'static str {
        let boots = std::fs::read_to_string(&self.boot_id_file).unwrap();
        let n: u32 = boots
            .trim()
            .trim_start_matches("boot-")
            .parse()
            .unwrap_or(0);
        std::fs::write(&self.boot_id_file, format!("boot-{}\n", n + 1)).unwrap();
        let mut s = self.state.lock().unwrap();
        let p = s.primary;
        if s.slots[p].good || s.slots[p].tries > 0 {
            if !s.slots[p].good {
                s.slots[p].tries -= 1;
            }
            s.booted = p;
        } else {
            s.booted = 1 - p;
            s.primary = 1 - p;
        }
        NAMES[s.booted]
    }

    pub fn booted(&self) -> &'static str {
        NAMES[self.state.lock().unwrap().booted]
    }

    pub fn slot(&self, name: &str) -> Slot {
        let i = NAMES.iter().position(|n| *n == name).unwrap();
        self.state.lock().unwrap().slots[i].clone()
    }
}

impl Drop for FakeRauc {
    fn drop(&mut self) {
        if let Some(c) = self.connection.take() {
            self.runtime.block_on(async move { drop(c) });
        }
    }
}
