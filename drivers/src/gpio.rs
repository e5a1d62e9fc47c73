//! GPIO on the terminal: a presence sensor that wakes the screen, a help button (debounced) and
//! the status LED. rppal drives a Raspberry Pi (feature `rpi`); the simulated twin runs anywhere.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Result;

/// The terminal's GPIO lines.
pub trait Gpio: Send {
    /// Raw level of the presence sensor: someone stands in front of the plate.
    fn presence(&mut self) -> Result<bool>;
    /// Raw level of the help button (pressed = true), before debouncing.
    fn help_button(&mut self) -> Result<bool>;
    fn set_status_led(&mut self, on: bool) -> Result<()>;
}

/// A level change that held for the debounce window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Rising,
    Falling,
}

/// Accepts a new level only after it held for `window` (contact bounce is a few ms).
#[derive(Debug, Clone)]
pub struct Debouncer {
    stable: bool,
    candidate: bool,
    since: Instant,
    window: Duration,
}

impl Debouncer {
    pub fn new(initial: bool, window: Duration, now: Instant) -> Self {
        Debouncer {
            stable: initial,
            candidate: initial,
            since: now,
            window,
        }
    }

    /// Feeds a raw sample; returns an edge when the level changed for good.
    pub fn update(&mut self, raw: bool, now: Instant) -> Option<Edge> {
        if raw != self.candidate {
            self.candidate = raw;
            self.since = now;
        }
        if self.candidate != self.stable && now.duration_since(self.since) >= self.window {
            self.stable = self.candidate;
            return Some(if self.stable {
                Edge::Rising
            } else {
                Edge::Falling
            });
        }
        None
    }

    pub fn level(&self) -> bool {
        self.stable
    }
}

/// Levels of the simulated lines, shared with whoever drives them (tests, the demo).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SimLevels {
    pub presence: bool,
    pub help_button: bool,
    pub status_led: bool,
    /// Times the status LED changed (a self-test blink shows here).
    pub status_led_changes: u32,
}

/// Simulated GPIO: levels in memory.
#[derive(Debug, Clone, Default)]
pub struct SimGpio {
    pub levels: Arc<Mutex<SimLevels>>,
}

impl SimGpio {
    fn with<T>(&self, f: impl FnOnce(&mut SimLevels) -> T) -> T {
        f(&mut self.levels.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn set_presence(&self, on: bool) {
        self.with(|l| l.presence = on);
    }

    pub fn set_help_button(&self, pressed: bool) {
        self.with(|l| l.help_button = pressed);
    }

    pub fn status_led(&self) -> bool {
        self.with(|l| l.status_led)
    }

    pub fn levels(&self) -> SimLevels {
        self.with(|l| *l)
    }
}

impl Gpio for SimGpio {
    fn presence(&mut self) -> Result<bool> {
        Ok(self.with(|l| l.presence))
    }

    fn help_button(&mut self) -> Result<bool> {
        Ok(self.with(|l| l.help_button))
    }

    fn set_status_led(&mut self, on: bool) -> Result<()> {
        self.with(|l| {
            if l.status_led != on {
                l.status_led_changes += 1;
            }
            l.status_led = on;
        });
        Ok(())
    }
}

/// GPIO on a Raspberry Pi through rppal.
#[cfg(feature = "rpi")]
pub mod rpi {
    use rppal::gpio::{Gpio as Chip, InputPin, OutputPin};

    use crate::{Error, ErrorKind, Result};

    /// BCM pin numbers of the three lines.
    #[derive(Debug, Clone, Copy)]
    pub struct Pins {
        pub presence: u8,
        pub help_button: u8,
        pub status_led: u8,
    }

    #[derive(Debug)]
    pub struct RpiGpio {
        presence: InputPin,
        help_button: InputPin,
        status_led: OutputPin,
    }

    fn gpio_error(e: rppal::gpio::Error) -> Error {
        Error::new(ErrorKind::Disconnected, format!("GPIO: {e}"))
    }

    impl RpiGpio {
        /// Presence is active high; the help button pulls to ground (active low, pull-up on).
        pub fn open(pins: Pins) -> Result<Self> {
            let chip = Chip::new().map_err(gpio_error)?;
            Ok(RpiGpio {
                presence: chip
                    .get(pins.presence)
                    .map_err(gpio_error)?
                    .into_input_pulldown(),
                help_button: chip
                    .get(pins.help_button)
                    .map_err(gpio_error)?
                    .into_input_pullup(),
                status_led: chip
                    .get(pins.status_led)
                    .map_err(gpio_error)?
                    .into_output_low(),
            })
        }
    }

    impl super::Gpio for RpiGpio {
        fn presence(&mut self) -> Result<bool> {
            Ok(self.presence.is_high())
        }

        fn help_button(&mut self) -> Result<bool> {
            Ok(self.help_button.is_low())
        }

        fn set_status_led(&mut self, on: bool) -> Result<()> {
            self.status_led.write(on.into());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounces_shorter_than_the_window_are_ignored() {
        let t = Instant::now();
        let ms = |n| t + Duration::from_millis(n);
        let mut d = Debouncer::new(false, Duration::from_millis(30), t);
        assert_eq!(d.update(true, ms(1)), None);
        assert_eq!(d.update(false, ms(3)), None);
        assert_eq!(d.update(true, ms(5)), None);
        assert_eq!(d.update(true, ms(20)), None);
        assert_eq!(d.update(true, ms(36)), Some(Edge::Rising));
        assert_eq!(d.update(true, ms(50)), None);
        assert_eq!(d.update(false, ms(60)), None);
        assert_eq!(d.update(false, ms(95)), Some(Edge::Falling));
        assert!(!d.level());
    }
}
