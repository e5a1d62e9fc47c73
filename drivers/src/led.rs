//! LED queue bars (叫号条屏) over a serial line.
//!
//! Menpai's own framing, which our reference bar firmware speaks; vendors' protocols plug in
//! through [`LedProtocol`]:
//!
//! ```text
//! STX  ADDR  CMD  LEN_HI LEN_LO  PAYLOAD…  CHK  ETX
//! 0x02 1 B   1 B  2 bytes (BE)   GB18030   1 B  0x03
//! ```
//! - `ADDR`: the bar's address on the RS-485 bus (1–254; 0 broadcasts).
//! - `CMD`: `T` show text, `B` show blinking text, `C` clear (no payload).
//! - `CHK`: XOR of every byte from `ADDR` to the end of `PAYLOAD`.
//! - Payloads are at most 512 bytes; longer text is cut at a character boundary.

use std::io::{Read, Write};

use crate::serial::{self, PtyPair};
use crate::{Error, ErrorKind, Result};

const STX: u8 = 0x02;
const ETX: u8 = 0x03;
/// Longest payload a frame carries.
pub const MAX_PAYLOAD: usize = 512;

/// What the bar should show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedMessage {
    Text(String),
    /// Blinks, for a fresh call.
    Blink(String),
    Clear,
}

/// Turns messages into a vendor's bytes.
pub trait LedProtocol: Send + std::fmt::Debug {
    fn encode(&self, address: u8, message: &LedMessage) -> Vec<u8>;
}

/// The framing documented above.
#[derive(Debug, Clone, Copy, Default)]
pub struct MenpaiFraming;

impl LedProtocol for MenpaiFraming {
    fn encode(&self, address: u8, message: &LedMessage) -> Vec<u8> {
        let (cmd, text) = match message {
            LedMessage::Text(t) => (b'T', t.as_str()),
            LedMessage::Blink(t) => (b'B', t.as_str()),
            LedMessage::Clear => (b'C', ""),
        };
        let mut payload = Vec::new();
        for c in text.chars() {
            let mut utf8 = [0u8; 4];
            let (bytes, _, _) = encoding_rs::GB18030.encode(c.encode_utf8(&mut utf8));
            if payload.len() + bytes.len() > MAX_PAYLOAD {
                break;
            }
            payload.extend_from_slice(&bytes);
        }
        let mut frame = vec![
            STX,
            address,
            cmd,
            (payload.len() >> 8) as u8,
            payload.len() as u8,
        ];
        frame.extend_from_slice(&payload);
        let chk = frame[1..].iter().fold(0u8, |a, b| a ^ b);
        frame.push(chk);
        frame.push(ETX);
        frame
    }
}

/// Reads Menpai frames back (the bar twin, tests): address and message of each whole frame;
/// bytes that do not form a valid frame are skipped.
pub fn decode_frames(bytes: &[u8]) -> Vec<(u8, LedMessage)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != STX || i + 5 > bytes.len() {
            i += 1;
            continue;
        }
        let len = usize::from(bytes[i + 3]) << 8 | usize::from(bytes[i + 4]);
        let end = i + 5 + len;
        if len > MAX_PAYLOAD || end + 2 > bytes.len() || bytes[end + 1] != ETX {
            i += 1;
            continue;
        }
        let chk = bytes[i + 1..end].iter().fold(0u8, |a, b| a ^ b);
        if chk != bytes[end] {
            i += 1;
            continue;
        }
        let (text, _, _) = encoding_rs::GB18030.decode(&bytes[i + 5..end]);
        let message = match bytes[i + 2] {
            b'T' => LedMessage::Text(text.into_owned()),
            b'B' => LedMessage::Blink(text.into_owned()),
            b'C' => LedMessage::Clear,
            _ => {
                i += 1;
                continue;
            }
        };
        out.push((bytes[i + 1], message));
        i = end + 2;
    }
    out
}

/// A queue display.
pub trait QueueDisplay: Send {
    fn show(&mut self, message: &LedMessage) -> Result<()>;
}

/// An LED bar on a serial line.
pub struct SerialLedBar {
    port: Box<dyn serialport::SerialPort>,
    address: u8,
    protocol: Box<dyn LedProtocol>,
}

impl std::fmt::Debug for SerialLedBar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialLedBar")
            .field("port", &self.port.name())
            .field("address", &self.address)
            .finish()
    }
}

impl SerialLedBar {
    pub fn open(
        path: &str,
        baud: u32,
        address: u8,
        protocol: Box<dyn LedProtocol>,
    ) -> Result<Self> {
        Ok(SerialLedBar {
            port: serial::open(path, baud)?,
            address,
            protocol,
        })
    }
}

impl QueueDisplay for SerialLedBar {
    fn show(&mut self, message: &LedMessage) -> Result<()> {
        let frame = self.protocol.encode(self.address, message);
        self.port.write_all(&frame)?;
        self.port.flush()?;
        Ok(())
    }
}

/// A simulated bar on a pseudo-terminal: keeps every frame it receives.
#[derive(Debug)]
pub struct LedTwin {
    pair: PtyPair,
    buffer: Vec<u8>,
}

impl LedTwin {
    pub fn start() -> Result<Self> {
        Ok(LedTwin {
            pair: PtyPair::new()?,
            buffer: Vec::new(),
        })
    }

    pub fn device_path(&self) -> String {
        self.pair.device_path.display().to_string()
    }

    /// Reads what arrived and returns the whole frames seen so far.
    pub fn frames(&mut self) -> Result<Vec<(u8, LedMessage)>> {
        let mut buf = [0u8; 1024];
        loop {
            match self.pair.twin.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.buffer.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => break,
                Err(e) if e.raw_os_error() == Some(5) => break,
                Err(e) => return Err(Error::new(ErrorKind::Io, e.to_string())),
            }
        }
        Ok(decode_frames(&self.buffer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_with_chinese_text() {
        let f = MenpaiFraming.encode(3, &LedMessage::Blink("请A023号到17号窗口".into()));
        assert_eq!(f[0], STX);
        assert_eq!(*f.last().unwrap(), ETX);
        let mut noisy = vec![0xFF, 0x02, 0x00];
        noisy.extend_from_slice(&f);
        noisy.extend_from_slice(&MenpaiFraming.encode(3, &LedMessage::Clear));
        assert_eq!(
            decode_frames(&noisy),
            vec![
                (3, LedMessage::Blink("请A023号到17号窗口".into())),
                (3, LedMessage::Clear)
            ]
        );
    }

    #[test]
    fn a_corrupted_frame_is_skipped() {
        let mut f = MenpaiFraming.encode(1, &LedMessage::Text("A001".into()));
        f[6] ^= 0x01;
        assert!(decode_frames(&f).is_empty());
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let f = MenpaiFraming.encode(1, &LedMessage::Text("号".repeat(400)));
        let decoded = decode_frames(&f);
        let LedMessage::Text(t) = &decoded[0].1 else {
            panic!()
        };
        assert_eq!(t.chars().count(), MAX_PAYLOAD / 2);
    }
}
