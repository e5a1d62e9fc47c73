//! Stop signals: the listeners, connections and live streams hold one, the background loops
//! another, so requests drain before the loops stop.

use tokio::sync::watch;

/// Fires a stop signal once; every [`Shutdown`] made from it sees it.
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

/// A held stop signal: `wait` returns once it has fired (at once if it already has).
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Default for Trigger {
    fn default() -> Trigger {
        Trigger(watch::channel(false).0)
    }
}

impl Trigger {
    pub fn fire(&self) {
        self.0.send_replace(true);
    }

    /// Whether the server is stopping.
    pub fn is_fired(&self) -> bool {
        *self.0.borrow()
    }

    pub fn subscribe(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

impl Shutdown {
    pub async fn wait(&mut self) {
        // An error means the trigger is gone, which also means stop.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    pub fn fired(&self) -> bool {
        *self.0.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_holder_sees_the_signal_even_after_it_fired() {
        let trigger = Trigger::default();
        let mut early = trigger.subscribe();
        assert!(!early.fired());
        trigger.fire();
        early.wait().await;
        let mut late = trigger.subscribe();
        assert!(late.fired());
        late.wait().await;
    }
}
