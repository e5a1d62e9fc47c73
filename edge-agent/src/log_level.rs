//! The agent's log level, raised for a while by a remote command and then put back. The
//! binary installs how to change its filter; without it (tests, other binaries) a raise is
//! refused, not pretended.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

type Setter = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

struct Level {
    set: Setter,
    /// The filter the agent started with, put back when a raise ends.
    base: String,
    /// Each raise's number: only the latest one's end puts the base back.
    raises: Arc<AtomicU64>,
}

static LEVEL: OnceLock<Level> = OnceLock::new();

/// Called once by the binary: `base` is the filter in force, `set` replaces it.
pub fn install(base: &str, set: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) {
    let _ = LEVEL.set(Level {
        set: Box::new(set),
        base: base.to_owned(),
        raises: Arc::new(AtomicU64::new(0)),
    });
}

/// Menpai's own logs at `level` (`debug` or `trace`) for `span`, others at the base level;
/// then the base filter again (a later raise replaces this one and its end).
pub fn raise(level: &str, span: Duration) -> Result<String, String> {
    if !matches!(level, "debug" | "trace") {
        return Err(format!("日志级别 {level} 不可用"));
    }
    let l = LEVEL
        .get()
        .ok_or_else(|| "这个进程不能调整日志级别".to_owned())?;
    let filter = format!(
        "{},menpai={level},menpai_agent={level},menpai_drivers={level}",
        l.base
    );
    (l.set)(&filter)?;
    let mine = l.raises.fetch_add(1, Ordering::SeqCst) + 1;
    let raises = l.raises.clone();
    tokio::spawn(async move {
        tokio::time::sleep(span).await;
        if raises.load(Ordering::SeqCst) == mine
            && let Some(l) = LEVEL.get()
        {
            match (l.set)(&l.base) {
                Ok(()) => tracing::info!(filter = %l.base, "The raised log level ended."),
                Err(e) => tracing::warn!(error = %e, "The log level could not be put back."),
            }
        }
    });
    Ok(filter)
}
