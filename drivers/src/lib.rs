//! Menpai's terminal peripherals, modelled on embedded-hal: one trait per capability with a
//! typed error, real backends (serial, USB line printer, GPIO) and simulated twins that keep what
//! they were sent, so the whole stack runs on a laptop and in tests.

pub mod error;
pub mod escpos;
pub mod gpio;
pub mod led;
pub mod printer;
pub mod qr;
pub mod scanner;
pub mod serial;
pub mod voice;

pub use error::{Error, ErrorKind, Result};
