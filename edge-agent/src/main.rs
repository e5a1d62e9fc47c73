//! `menpai-agent`: runs the edge agent, imports a content pack, or prints the default config.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use menpai_agent::config::{Config, DEFAULT_CONFIG};
use menpai_agent::{Agent, ImportError};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: menpai-agent [serve] [--config FILE]
       menpai-agent import --config FILE <pack-dir>
       menpai-agent enroll --server https://HOST:PORT --ca CA.pem --token TOKEN [--config FILE]
       menpai-agent check-config [--config FILE]
       menpai-agent print-default-config";

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour only for people at a terminal; journald and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args.first().map(String::as_str) {
        Some("serve" | "import" | "enroll" | "check-config" | "print-default-config") => {
            args.remove(0)
        }
        Some("--help" | "-h") => {
            println!("{USAGE}");
            return Ok(());
        }
        _ => "serve".to_owned(),
    };
    let mut config_path: Option<PathBuf> = None;
    let mut rest = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            config_path = Some(it.next().context("--config needs a file")?.into());
        } else {
            rest.push(a);
        }
    }
    match command.as_str() {
        "print-default-config" => {
            print!("{DEFAULT_CONFIG}");
            Ok(())
        }
        "enroll" => {
            let flag = |name: &str| {
                rest.iter()
                    .position(|a| a == name)
                    .and_then(|i| rest.get(i + 1))
                    .cloned()
                    .with_context(|| format!("enroll needs {name}\n{USAGE}"))
            };
            let (server, ca, token) = (flag("--server")?, flag("--ca")?, flag("--token")?);
            let config = Config::load(config_path.as_deref())?;
            let ca_pem = std::fs::read_to_string(&ca).with_context(|| format!("reading {ca}"))?;
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
        "check-config" => {
            let c = Config::load(config_path.as_deref())?;
            println!("config is valid; the API will listen on {}", c.listen);
            Ok(())
        }
        "import" => {
            let [dir] = rest.as_slice() else {
                bail!("{USAGE}")
            };
            let agent = Agent::open(Config::load(config_path.as_deref())?)?;
            match agent.import_dir(dir.as_ref()) {
                Ok(v) => {
                    println!("activated content version {} ({})", v.version, v.region);
                    Ok(())
                }
                Err(ImportError::Invalid(errors)) => {
                    for e in &errors {
                        eprintln!("{e}");
                    }
                    bail!(
                        "{dir}: {} problem(s); the active version is unchanged",
                        errors.len()
                    )
                }
                Err(e) => Err(e.into()),
            }
        }
        _ => {
            if !rest.is_empty() {
                bail!("{USAGE}");
            }
            serve(Config::load(config_path.as_deref())?)
        }
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
        let version = agent.catalog().map(|c| c.version.version.clone());
        menpai_agent::systemd::notify(&format!(
            "READY=1\nSTATUS=serving on {addr}, content {}",
            version.as_deref().unwrap_or("none")
        ));
        if let Some(every) = menpai_agent::systemd::watchdog_interval() {
            tokio::spawn(menpai_agent::systemd::watchdog(agent.clone(), every));
        }
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
