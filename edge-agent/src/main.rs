//! `menpai-agent`: runs the edge agent, imports a content pack, or prints the default config.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use menpai_agent::config::{Config, DEFAULT_CONFIG};
use menpai_agent::{Agent, ImportError};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The Menpai edge agent: the terminal's store, search and loopback API for the kiosk UI.
#[derive(Debug, Parser)]
#[command(name = "menpai-agent", version)]
struct Cli {
    /// The config file, layered over the documented default (`print-default-config`).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the local API, run the devices and sync with the regional server (the default).
    Serve,
    /// Validate a content pack directory and make it the active version.
    Import {
        /// The content pack directory.
        #[arg(value_name = "PACK_DIR")]
        dir: PathBuf,
    },
    /// Enroll this terminal with a regional server.
    Enroll {
        /// The server's device address, https://HOST:PORT.
        #[arg(long, value_name = "URL")]
        server: String,
        /// The region's CA certificate (PEM).
        #[arg(long, value_name = "CA.pem")]
        ca: PathBuf,
        /// The one-time enrollment token from the regional server's admin.
        #[arg(long)]
        token: String,
    },
    /// Check the configuration and say where the API would listen.
    CheckConfig,
    /// Print the documented default configuration.
    PrintDefaultConfig,
}

fn main() -> anyhow::Result<()> {
    // The filter can be replaced while running: a remote command raises it for a while.
    let base = std::env::var("RUST_LOG")
        .ok()
        .filter(|f| EnvFilter::try_new(f).is_ok())
        .unwrap_or_else(|| "info".to_owned());
    let (filter, handle) = tracing_subscriber::reload::Layer::new(EnvFilter::new(&base));
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                // Colour only for people at a terminal; journald and log files get plain text.
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .init();
    menpai_agent::log_level::install(&base, move |f| {
        let filter = EnvFilter::try_new(f).map_err(|e| e.to_string())?;
        handle.reload(filter).map_err(|e| e.to_string())
    });
    let cli = Cli::parse();
    let config_path = cli.config.as_deref();
    match cli.command.unwrap_or(Command::Serve) {
        Command::PrintDefaultConfig => {
            print!("{DEFAULT_CONFIG}");
            Ok(())
        }
        Command::Enroll { server, ca, token } => {
            let config = Config::load(config_path)?;
            let ca_pem = std::fs::read_to_string(&ca)
                .with_context(|| format!("reading {}", ca.display()))?;
            std::fs::create_dir_all(&config.data_dir)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let e = runtime.block_on(menpai_agent::sync::enroll(
                &config.data_dir,
                &server,
                &ca_pem,
                &token,
            ))?;
            println!("enrolled as {} ({} {})", e.device_id, e.hall, e.position);
            Ok(())
        }
        Command::CheckConfig => {
            let c = Config::load(config_path)?;
            println!("config is valid; the API will listen on {}", c.listen);
            Ok(())
        }
        Command::Import { dir } => {
            let agent = Agent::open(Config::load(config_path)?)?;
            match agent.import_dir(&dir) {
                Ok(v) => {
                    println!("activated content version {} ({})", v.version, v.region);
                    Ok(())
                }
                Err(ImportError::Invalid(errors)) => {
                    for e in &errors {
                        eprintln!("{e}");
                    }
                    bail!(
                        "{}: {} problem(s); the active version is unchanged",
                        dir.display(),
                        errors.len()
                    )
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Serve => serve(Config::load(config_path)?),
    }
}

fn serve(mut config: Config) -> anyhow::Result<()> {
    // An enrolled terminal is where its enrollment says, and checks appointments with the
    // region's key.
    let identity = menpai_agent::sync::Identity::load(&config.data_dir)?;
    if let Some(id) = &identity {
        config.terminal.hall = id.enrollment.hall.clone();
        config.terminal.position = id.enrollment.position.clone();
        if config.queue.appointment_public_key.is_empty() {
            config.queue.appointment_public_key = id.enrollment.appointment_public_key.clone();
        }
        config.queue.ticket_key = id.enrollment.ticket_key.clone();
    }
    let sync_config = config.regional.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        let agent = Arc::new(tokio::task::spawn_blocking(move || Agent::open(config)).await??);
        // Tests and scripts read this line to learn the port the OS chose.
        println!("menpai-agent listening on http://{addr}");
        tracing::info!(%addr, "Local API ready.");
        if let Some(id) = identity {
            tracing::info!(device = %id.enrollment.device_id, server = %id.enrollment.server, "Syncing with the regional server.");
            menpai_agent::sync::start(agent.clone(), id, sync_config)?;
        }
        menpai_agent::host::start(agent.clone());
        // The help button still reaches the hall while no kiosk UI listens.
        agent.tasks.spawn(
            "help-button",
            menpai_agent::sync::help::watch_button(agent.clone()),
        );
        let version = agent.catalog().map(|c| c.version.version.clone());
        menpai_agent::systemd::notify(&format!(
            "READY=1\nSTATUS=serving on {addr}, content {}",
            version.as_deref().unwrap_or("none")
        ));
        if let Some(every) = menpai_agent::systemd::watchdog_interval() {
            let stop = agent.tasks.shutdown();
            let pets = menpai_agent::systemd::watchdog(agent.clone(), every);
            agent.tasks.spawn("watchdog", async move {
                stop.unless_stopped(pets).await;
            });
        }
        // Answers the requests in flight, then stops every background task and device thread.
        menpai_agent::serve(agent, listener, shutdown_signal()).await?;
        menpai_agent::systemd::notify("STOPPING=1");
        tracing::info!("Stopped.");
        Ok(())
    })
}

/// Completes on SIGTERM (systemd stop) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
