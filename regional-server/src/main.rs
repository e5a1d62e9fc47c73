//! `menpai-server`: serve, add an operator, publish a pack directory, print the default config.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use menpai_server::config::Config;
use menpai_server::operators::{Role, hash_password};
use menpai_server::{Server, serve};

const USAGE: &str = "usage:
  menpai-server serve [--config FILE]
  menpai-server add-operator NAME ROLE [--config FILE]   (password from MENPAI_PASSWORD or stdin;
                                                        ROLE: viewer, content_editor, queue_staff, admin)
  menpai-server publish DIR [--config FILE]              (a content pack directory, as the next version)
  menpai-server print-default-config";

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "menpai_server=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config_path = args
        .iter()
        .position(|a| a == "--config")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let plain: Vec<&str> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| *a != "--config" && (*i == 0 || args[i - 1] != "--config"))
        .map(|(_, a)| a.as_str())
        .collect();
    match plain.as_slice() {
        ["print-default-config"] => {
            print!("{}", menpai_server::config::DEFAULT_CONFIG);
            Ok(())
        }
        ["serve"] => {
            let config = Config::load(config_path.as_deref())?;
            let server = Arc::new(Server::open(config)?);
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(serve(server, |b| {
                // Tests and scripts read these lines to find the ports.
                println!("public https://{}", b.public);
                println!("devices https://{}", b.devices);
            }))
        }
        ["add-operator", name, role] => {
            let role =
                Role::parse(role).with_context(|| format!("unknown role {role}\n{USAGE}"))?;
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
            let server = Server::open(Config::load(config_path.as_deref())?)?;
            server
                .storage
                .create_operator(name, role, &hash_password(&password)?)?;
            server.storage.audit(
                "cli",
                "operator.create",
                &format!("{name} {}", role.as_str()),
                "ok",
            )?;
            eprintln!("operator {name} ({}) saved", role.as_str());
            Ok(())
        }
        ["publish", dir] => {
            let server = Server::open(Config::load(config_path.as_deref())?)?;
            let pack = menpai_content::load_dir(std::path::Path::new(dir)).map_err(|errors| {
                anyhow::anyhow!(
                    "the pack is invalid:\n{}",
                    errors
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            })?;
            let (version, m) = menpai_server::content::publish(
                server.storage.as_ref(),
                &server.content_key,
                pack,
                "cli",
            )?;
            server
                .storage
                .audit("cli", "content.publish", &version, "ok")?;
            println!("published {version} ({} records)", m.records);
            Ok(())
        }
        _ => anyhow::bail!("{USAGE}"),
    }
}
