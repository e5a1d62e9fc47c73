//! A private PostgreSQL cluster for one test: `initdb` into a temporary directory, listening on
//! a Unix socket there and on no TCP port, stopped (fast) when dropped. PostgreSQL refuses to
//! run as root, so as root (CI on this machine) the cluster runs as the `postgres` user that
//! Debian's package creates.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The database role the tests connect as.
pub const ROLE: &str = "menpai";

/// A running private cluster.
#[derive(Debug)]
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
}

/// PostgreSQL's programs: on `PATH`, else Debian's `/usr/lib/postgresql/<newest>/bin`.
fn programs() -> PathBuf {
    let on_path = Command::new("sh")
        .args(["-c", "command -v pg_ctl"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(p) = on_path.and_then(|p| p.parent().map(Path::to_owned)) {
        return p;
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/setup.sh installs postgresql-15)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL version with pg_ctl")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Cluster {
    /// Initialises and starts a cluster; waits until it takes connections.
    pub fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown to the postgres user");
        }
        let c = Cluster {
            dir,
            bin: programs(),
            as_postgres,
        };
        let data = c.data();
        let (ok, out) = c.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                ROLE,
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        assert!(ok, "initdb: {out}");
        let options = format!(
            "-c listen_addresses='' -k {} -c fsync=off",
            c.dir.path().display()
        );
        let log = c.dir.path().join("postgres.log");
        let (ok, out) = c.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        assert!(
            ok,
            "pg_ctl start: {out}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        c
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The directory of the cluster's socket (a libpq `host`).
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs one of PostgreSQL's programs (as `postgres` when we are root): success and output.
    fn run(&self, program: &str, args: &[&str]) -> (bool, String) {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = cmd.args(args).output().unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    /// Runs `psql` against database `postgres` with `args` (errors stop it): success and
    /// output (`-At`: unaligned rows, no headers).
    pub fn psql(&self, args: &[&str]) -> (bool, String) {
        let host = self.dir.path().to_str().unwrap().to_owned();
        let mut all = vec![
            "-h",
            host.as_str(),
            "-U",
            ROLE,
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-At",
        ];
        all.extend_from_slice(args);
        // A client: run as ourselves, from beside the server's programs or from PATH.
        let beside = self.bin.join("psql");
        let program = if beside.exists() {
            beside
        } else {
            PathBuf::from("psql")
        };
        let out = Command::new(program).args(&all).output().unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }
}
