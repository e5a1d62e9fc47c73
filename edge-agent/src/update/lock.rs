//! The update lock (balena's idea): a terminal restarts into a new version only at a quiet
//! moment — no print running, nobody using the plate for a while.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::Agent;

#[derive(Debug, Default)]
pub struct UpdateLock {
    /// When the kiosk UI last said a citizen was using the plate.
    last_use: Mutex<Option<Instant>>,
}

impl UpdateLock {
    /// The kiosk UI says a citizen is using the plate (every 20 s while they do).
    pub fn touch(&self) {
        *self.last_use.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// Why now is not a quiet moment, if it is not.
    pub fn held(&self, agent: &Agent, quiet: Duration) -> Option<&'static str> {
        if agent.devices.printing() {
            return Some("正在打印");
        }
        let last = *self.last_use.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < quiet) {
            return Some("有人正在使用");
        }
        None
    }
}
