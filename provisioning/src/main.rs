//! `menpai-provision`: the technician's CLI on a terminal. Enrolls it with the regional
//! server, detects its devices and writes them into the agent's config, runs the hardware
//! self-test, and shows the agent's health.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use menpai_model::api::{SelfTestReport, SelfTestRequest};
use menpai_provision::{agent_api, config_file, detect, report};
use sha2::{Digest, Sha256};

/// The technician's CLI on a terminal.
#[derive(Debug, Parser)]
#[command(
    name = "menpai-provision",
    about = "登记终端、识别设备、硬件自检、查看状态 (enroll, detect devices, self-test, status)",
    after_help = "writing an image to an SD card: write-sd IMAGE DEVICE"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The agent's config file.
    #[arg(long, global = true, default_value = "/etc/menpai/agent.toml")]
    config: PathBuf,
    /// The agent's local API (default: the config's `listen`).
    #[arg(long, global = true)]
    agent: Option<String>,
    /// The technician credential (default: technician.token beside the config).
    #[arg(long, global = true)]
    token_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enrolls this terminal with the regional server and restarts the agent.
    Enroll {
        /// The regional server, https://HOST:PORT.
        #[arg(long)]
        server: String,
        /// The region's CA certificate (PEM).
        #[arg(long)]
        ca: PathBuf,
        /// The one-time enrollment token.
        #[arg(long)]
        token: String,
        /// Do not restart menpai-agent afterwards.
        #[arg(long)]
        no_restart: bool,
    },
    /// Detects scanners, printers, LED bars and cameras; `--write` puts them in the config.
    Detect {
        /// Where sysfs is mounted.
        #[arg(long, default_value = "/sys")]
        sysfs: PathBuf,
        /// Write what was found into the config.
        #[arg(long)]
        write: bool,
    },
    /// Runs the hardware self-test (prints a ticket, waits for its QR to be scanned).
    SelfTest {
        /// Seconds to wait for the scan.
        #[arg(long, default_value_t = 30)]
        scan_timeout: u64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Shows the agent's health; exits 0 when it is well.
    Status,
}

fn main() {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("错误：{e:#}");
            std::process::exit(2);
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    let config_path = cli.config;
    let token_file = cli.token_file.unwrap_or_else(|| {
        config_path
            .parent()
            .unwrap_or(Path::new("."))
            .join("technician.token")
    });
    let config = menpai_agent::config::Config::load(config_path.exists().then_some(&config_path))?;
    let agent = agent_api::address(
        &cli.agent
            .unwrap_or_else(|| format!("http://{}", config.listen)),
    )?;
    match cli.command {
        Command::Enroll {
            server,
            ca,
            token,
            no_restart,
        } => {
            let enrollment = Enrollment {
                server,
                ca,
                token,
                restart: !no_restart,
            };
            enroll(&enrollment, &config, &config_path, &token_file).await
        }
        Command::Detect { sysfs, write } => {
            let found = detect::scan(&sysfs);
            let assigned = detect::assign(&found);
            print!("{}", report::detected(&found, &assigned));
            if write {
                let mut table = config_file::read(&config_path)?;
                for (name, t) in detect::config_tables(&found, &assigned) {
                    let toml::Value::Table(t) = t else { continue };
                    for (k, v) in t {
                        config_file::set(&mut table, &format!("devices.{name}"), &k, v);
                    }
                }
                config_file::write(&config_path, &table, "detected devices")?;
                println!("已写入 {}；重启 menpai-agent 后生效", config_path.display());
            }
            Ok(0)
        }
        Command::SelfTest { scan_timeout, json } => {
            let token = std::fs::read_to_string(&token_file).with_context(|| {
                format!(
                    "reading the technician credential {} (written by `menpai-provision enroll`; run as root)",
                    token_file.display()
                )
            })?;
            if !json {
                println!(
                    "开始自检：打印机会出一张测试票，请在 {scan_timeout} 秒内用扫码器扫描票上的二维码。"
                );
            }
            let body = serde_json::to_string(&SelfTestRequest {
                scan_timeout_s: scan_timeout,
                unattended: false,
            })?;
            let (status, text) = agent_api::call(
                agent,
                "POST",
                "/api/v1/admin/selftest",
                Some(token.trim()),
                Some(body),
            )
            .await?;
            if status != 200 {
                bail!("the agent refused the self-test ({status}): {text}");
            }
            let r: SelfTestReport =
                serde_json::from_str(&text).context("reading the self-test report")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print!("{}", report::self_test(&r));
            }
            Ok(if r.passed { 0 } else { 1 })
        }
        Command::Status => status(agent).await,
    }
}

/// What `enroll` was given.
#[derive(Debug)]
struct Enrollment {
    server: String,
    ca: PathBuf,
    token: String,
    restart: bool,
}

/// Enrolls the terminal, makes the technician credential, and restarts the agent.
async fn enroll(
    args: &Enrollment,
    config: &menpai_agent::config::Config,
    config_path: &Path,
    token_file: &Path,
) -> anyhow::Result<i32> {
    let ca_pem = std::fs::read_to_string(&args.ca)
        .with_context(|| format!("reading {}", args.ca.display()))?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let e =
        menpai_agent::sync::enroll(&config.data_dir, &args.server, &ca_pem, &args.token).await?;
    println!("已登记：终端 {}（{} {}）", e.device_id, e.hall, e.position);

    let mut table = config_file::read(config_path)?;
    config_file::set(&mut table, "terminal", "hall", e.hall.clone().into());
    config_file::set(
        &mut table,
        "terminal",
        "position",
        e.position.clone().into(),
    );
    // The technician credential: only its hash goes into the config; the credential itself
    // stays in a root-only file beside it.
    if !token_file.exists() {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let secret = hex::encode(secret);
        write_private(token_file, &secret)?;
        println!("技术员凭据已写入 {}（仅 root 可读）", token_file.display());
    }
    let secret = std::fs::read_to_string(token_file)?;
    let hash = hex::encode(Sha256::digest(secret.trim().as_bytes()));
    config_file::set(&mut table, "admin", "token_sha256", hash.into());
    config_file::write(config_path, &table, &format!("enrolled as {}", e.device_id))?;
    hand_to_agent_user(&config.data_dir)?;

    if !args.restart {
        return Ok(0);
    }
    match restart_agent().await {
        Ok(()) => println!("已重启 menpai-agent.service"),
        Err(e) => println!("未能自动重启（{e}）；请运行 systemctl restart menpai-agent"),
    }
    Ok(0)
}

async fn restart_agent() -> anyhow::Result<()> {
    let bus = menpai_agent::host::system_bus().await?;
    menpai_agent::host::units::restart(&bus, "menpai-agent.service").await?;
    Ok(())
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    menpai_agent::sync::write_private(path, format!("{text}\n").as_bytes())
        .with_context(|| format!("creating {}", path.display()))
}

/// Files written as root in the agent's data directory go to the directory's owner (the
/// `menpai` user), so the agent can read its identity.
fn hand_to_agent_user(data_dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(data_dir)?;
    let (uid, gid) = (owner.uid(), owner.gid());
    let mut stack = vec![data_dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let meta = std::fs::symlink_metadata(&path)?;
            if meta.uid() != uid || meta.gid() != gid {
                std::os::unix::fs::lchown(&path, Some(uid), Some(gid))
                    .with_context(|| format!("handing {} to uid {uid}", path.display()))?;
            }
            if meta.is_dir() {
                stack.push(path);
            }
        }
    }
    Ok(())
}

/// The agent's health in a few lines; the first is for scripts (and the image's boot report).
async fn status(agent: std::net::SocketAddr) -> anyhow::Result<i32> {
    let (code, text) = agent_api::call(agent, "GET", "/api/v1/health", None, None).await?;
    if code != 200 {
        println!("menpai-agent health: error {code}");
        return Ok(1);
    }
    let h: menpai_model::api::Health = serde_json::from_str(&text)?;
    println!(
        "menpai-agent health: {}, content {}, items {}, uptime {} s",
        h.status,
        h.content_version.as_deref().unwrap_or("none"),
        h.items,
        h.uptime_s
    );
    println!("网络：{}", h.host.network.detail);
    println!(
        "界面：{}",
        if h.host.ui.alive {
            "运行中"
        } else {
            "没有运行或没有响应"
        }
    );
    if let Some(r) = &h.regional {
        println!(
            "区域服务器：{}，最近同步 {}",
            r.device_id,
            r.last_sync.as_deref().unwrap_or("尚无")
        );
    } else {
        println!("区域服务器：未登记");
    }
    let (_, devices) = agent_api::call(agent, "GET", "/api/v1/devices", None, None).await?;
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&devices) {
        let map = map
            .get("devices")
            .and_then(|d| d.as_object())
            .unwrap_or(&map);
        for (name, d) in map {
            println!(
                "设备 {name}：{} {}",
                d["state"].as_str().unwrap_or("?"),
                d["detail"].as_str().unwrap_or("")
            );
        }
    }
    Ok(if h.status == "ok" { 0 } else { 1 })
}
