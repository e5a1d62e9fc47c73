//! Edits the agent's config file: the keys provisioning owns change, everything else stays.

use std::path::Path;

use anyhow::Context;

/// The file's tables, or none yet.
pub fn read(path: &Path) -> anyhow::Result<toml::Table> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(toml::Table::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Sets `section.key` (sections nest with dots: `devices.scanner`).
pub fn set(table: &mut toml::Table, section: &str, key: &str, value: toml::Value) {
    let mut t = table;
    for part in section.split('.') {
        let entry = t
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        t = entry.as_table_mut().expect("a table");
    }
    t.insert(key.to_owned(), value);
}

/// Writes the file whole (a temporary file renamed over it), after checking the agent accepts
/// it; the previous file is kept as `.bak`.
pub fn write(path: &Path, table: &toml::Table, why: &str) -> anyhow::Result<()> {
    let body = toml::to_string(table).context("serialising the config")?;
    let text = format!(
        "# Menpai agent configuration. Keys left out keep the defaults of\n# `menpai-agent print-default-config`. Last written by menpai-provision: {why}.\n\n{body}"
    );
    let tmp = path.with_extension("toml.new");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&tmp, &text).with_context(|| format!("writing {}", tmp.display()))?;
    if let Err(e) = menpai_agent::config::Config::load(Some(&tmp)) {
        let _ = std::fs::remove_file(&tmp);
        anyhow::bail!("the new config would be refused by the agent: {e}");
    }
    if path.exists() {
        std::fs::copy(path, path.with_extension("toml.bak"))
            .with_context(|| format!("backing up {}", path.display()))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}
