//! `menpai-server`: serve, add an operator, publish a pack directory, print the default config.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use menpai_server::config::Config;
use menpai_server::operators::{Role, hash_password};
use menpai_server::{Server, serve};

const USAGE: &str = "usage:
  menpai-server serve [--config FILE]
  menpai-server add-operator NAME ROLE [--halls H1,H2] [--config FILE]
                                    (password from MENPAI_PASSWORD or stdin; ROLE: viewer,
                                    content_editor, queue_staff, admin; queue_staff acts only in
                                    its --halls; an existing operator is updated and logged out)
  menpai-server disable-operator NAME [--config FILE]     (logs the operator out for good)
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
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let config_path = flag("--config").map(PathBuf::from);
    let halls: Vec<String> = flag("--halls")
        .map(|h| {
            h.split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let takes_value = |a: &str| a == "--config" || a == "--halls";
    let plain: Vec<&str> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !takes_value(a) && (*i == 0 || !takes_value(&args[i - 1])))
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
                .create_operator(name, role, &hash_password(&password)?, &halls)?;
            server.storage.audit(
                "cli",
                "operator.create",
                &format!("{name} {} {}", role.as_str(), halls.join(",")),
                "ok",
            )?;
            eprintln!("operator {name} ({}) saved", role.as_str());
            Ok(())
        }
        ["disable-operator", name] => {
            let server = Server::open(Config::load(config_path.as_deref())?)?;
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            anyhow::ensure!(
                server.storage.disable_operator(name, &at)?,
                "no operator {name}"
            );
            server
                .storage
                .audit("cli", "operator.disable", name, "ok")?;
            eprintln!("operator {name} disabled; their sessions ended");
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
