//! The error every driver returns: a kind a caller can act on, and a message for the log.

use std::fmt;

/// What went wrong, in terms a device manager can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The device is gone (unplugged, port closed): reconnect with backoff.
    Disconnected,
    /// The device did not answer in time.
    Timeout,
    /// The device answered with something the protocol does not allow.
    Protocol,
    /// The device cannot do this now (printer out of paper, cover open).
    NotReady,
    /// The configuration names something that cannot work.
    Config,
    /// Any other I/O failure.
    Io,
}

#[derive(Debug, thiserror::Error)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match e.kind() {
            K::TimedOut | K::WouldBlock => ErrorKind::Timeout,
            K::NotFound
            | K::BrokenPipe
            | K::ConnectionReset
            | K::UnexpectedEof
            | K::NotConnected => ErrorKind::Disconnected,
            _ if e.raw_os_error() == Some(5) => ErrorKind::Disconnected, // EIO: the other end went away
            _ => ErrorKind::Io,
        };
        Error::new(kind, e.to_string())
    }
}

impl From<serialport::Error> for Error {
    fn from(e: serialport::Error) -> Self {
        let kind = match e.kind() {
            serialport::ErrorKind::NoDevice => ErrorKind::Disconnected,
            serialport::ErrorKind::InvalidInput => ErrorKind::Config,
            serialport::ErrorKind::Io(k) => return std::io::Error::new(k, e.description).into(),
            _ => ErrorKind::Io,
        };
        Error::new(kind, e.description)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
