//! `menpai-server`: serve, add or disable an operator, publish a pack directory, print the
//! default config.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use menpai_server::config::Config;
use menpai_server::operators::{Role, hash_password};
use menpai_server::{Server, serve};

/// Menpai's regional server.
#[derive(Debug, Parser)]
#[command(name = "menpai-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serves the public and the device listeners until SIGTERM or Ctrl-C.
    Serve {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Adds an operator, or updates one (who is then logged out). The password comes from
    /// MENPAI_PASSWORD or stdin.
    AddOperator {
        name: String,
        /// viewer, content_editor, reviewer, queue_staff, hall_manager or admin.
        #[arg(value_parser = parse_role)]
        role: Role,
        /// Halls a queue_staff or hall_manager operator acts in, comma-separated.
        #[arg(long, value_delimiter = ',')]
        halls: Vec<String>,
        /// The full name pages show (e.g. 王小明); the login name when not given.
        #[arg(long, default_value = "")]
        display_name: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Disables an operator and logs them out for good.
    DisableOperator {
        name: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Publishes a content pack directory as the next version.
    Publish {
        dir: PathBuf,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Backs the data directory up into a new directory while the server runs: a consistent
    /// snapshot of the database and the region's keys (keep it as safe as the keys).
    Backup {
        out: PathBuf,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Restores a backup into the configured data directory, which must be empty; says what
    /// the backup cannot bring back.
    Restore {
        from: PathBuf,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Prints the default configuration, documented.
    PrintDefaultConfig,
}

#[derive(Debug, clap::Args)]
struct ConfigArg {
    /// The server's configuration file (defaults apply without one).
    #[arg(long = "config", value_name = "FILE")]
    path: Option<PathBuf>,
}

impl ConfigArg {
    fn open(&self) -> anyhow::Result<Server> {
        Server::open(Config::load(self.path.as_deref())?)
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!(
            "unknown role {s} (viewer, content_editor, reviewer, queue_staff, hall_manager or admin)"
        )
    })
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "menpai_server=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::PrintDefaultConfig => {
            print!("{}", menpai_server::config::DEFAULT_CONFIG);
            Ok(())
        }
        Command::Serve { config } => {
            let config = Config::load(config.path.as_deref())?;
            let server = Arc::new(Server::open(config)?);
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let stop = stop_signal()?;
                serve(server, stop, |b| {
                    // Tests and scripts read these lines to find the ports.
                    println!("public https://{}", b.public);
                    println!("devices https://{}", b.devices);
                })
                .await
            })
        }
        Command::AddOperator {
            name,
            role,
            halls,
            display_name,
            config,
        } => {
            let halls: Vec<String> = halls
                .iter()
                .map(|h| h.trim())
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect();
            let password = match std::env::var("MENPAI_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut p = String::new();
                    std::io::stdin().read_line(&mut p)?;
                    p.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            anyhow::ensure!(
                password.chars().count() >= 10,
                "the password needs at least 10 characters"
            );
            anyhow::ensure!(
                display_name.chars().count() <= 32 && !display_name.chars().any(char::is_control),
                "the display name has at most 32 characters"
            );
            let server = config.open()?;
            server.storage.create_operator(
                &name,
                display_name.trim(),
                role,
                &hash_password(&password)?,
                &halls,
            )?;
            server.storage.audit(
                "cli",
                "operator.create",
                &format!("{name} {} {}", role.as_str(), halls.join(",")),
                "ok",
            )?;
            eprintln!("operator {name} ({}) saved", role.as_str());
            Ok(())
        }
        Command::DisableOperator { name, config } => {
            let server = config.open()?;
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            anyhow::ensure!(
                server.storage.disable_operator(&name, &at)?,
                "no operator {name}"
            );
            server
                .storage
                .audit("cli", "operator.disable", &name, "ok")?;
            eprintln!("operator {name} disabled; their sessions ended");
            Ok(())
        }
        Command::Publish { dir, config } => publish(&dir, &config.open()?),
        Command::Backup { out, config } => {
            let config = Config::load(config.path.as_deref())?;
            let at = menpai_server::clock::local_now()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            let m = menpai_server::backup::backup(&config, &out, &at)?;
            println!(
                "backed up at {at}: content {}, {} terminals, {} tickets, {} appointments → {}",
                m.content_version.as_deref().unwrap_or("none"),
                m.terminals,
                m.tickets,
                m.appointments,
                out.display()
            );
            Ok(())
        }
        Command::Restore { from, config } => {
            let config = Config::load(config.path.as_deref())?;
            let today = menpai_server::clock::local_now().date();
            let m = menpai_server::backup::restore(&from, &config, today)?;
            println!("{}", menpai_server::backup::restored_words(&m));
            Ok(())
        }
    }
}

fn publish(dir: &Path, server: &Server) -> anyhow::Result<()> {
    let pack = menpai_content::load_dir(dir).map_err(|errors| {
        anyhow::anyhow!(
            "the pack is invalid:\n{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    let (version, m) =
        menpai_server::content::publish(server.storage.as_ref(), &server.content_key, pack, "cli")?;
    server
        .storage
        .audit("cli", "content.publish", &version, "ok")?;
    println!("published {version} ({} records)", m.records);
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C; the handlers are in place once this returns.
fn stop_signal() -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: stopping."),
            _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: stopping."),
        }
    })
}
