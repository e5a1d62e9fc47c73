//! Serial line barcode/QR scanners: framing by suffix, inter-byte timeout and maximum length,
//! payloads in UTF-8 or GB18030, and recovery from floods, noise, stalls and unplugging.

use std::io::Read;
use std::time::{Duration, Instant};

use serialport::SerialPort;

use crate::{Error, ErrorKind, Result, serial};

/// What ends a scan on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suffix {
    Cr,
    Lf,
    CrLf,
    Tab,
    /// No suffix: a pause longer than the inter-byte timeout ends the scan.
    None,
}

impl Suffix {
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "CR" => Ok(Suffix::Cr),
            "LF" => Ok(Suffix::Lf),
            "CRLF" => Ok(Suffix::CrLf),
            "TAB" => Ok(Suffix::Tab),
            "NONE" => Ok(Suffix::None),
            _ => Err(Error::new(
                ErrorKind::Config,
                format!("suffix `{s}` is not CR, LF, CRLF, TAB or NONE"),
            )),
        }
    }

    /// The bytes a twin appends to a scan.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Suffix::Cr => b"\r",
            Suffix::Lf => b"\n",
            Suffix::CrLf => b"\r\n",
            Suffix::Tab => b"\t",
            Suffix::None => b"",
        }
    }

    fn ends_line(self, b: u8) -> bool {
        match self {
            Suffix::Cr => b == b'\r',
            Suffix::Lf | Suffix::CrLf => b == b'\n',
            Suffix::Tab => b == b'\t',
            Suffix::None => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramingConfig {
    pub suffix: Suffix,
    /// A pause this long inside a scan ends it (no suffix) or drops it as a stall.
    pub inter_byte_timeout: Duration,
    /// Longest scan accepted; longer input is dropped up to the next suffix.
    pub max_len: usize,
}

impl Default for FramingConfig {
    fn default() -> Self {
        FramingConfig {
            suffix: Suffix::Cr,
            inter_byte_timeout: Duration::from_millis(100),
            max_len: 1024,
        }
    }
}

/// A decoded scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub payload: String,
    /// `utf-8` or `gb18030`.
    pub encoding: &'static str,
}

/// Why input was thrown away instead of becoming a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Longer than `max_len`.
    TooLong,
    /// Not text in UTF-8 or GB18030, or control characters inside.
    NotText,
    /// The device paused mid-scan and never finished it.
    Stalled,
    /// The device went away mid-scan.
    Disconnected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameEvent {
    Scan(Scan),
    Dropped { reason: DropReason, bytes: usize },
}

/// Turns a byte stream into scans; memory stays bounded by `max_len` whatever arrives.
#[derive(Debug)]
pub struct LineFramer {
    config: FramingConfig,
    buf: Vec<u8>,
    /// Bytes discarded since the line went over `max_len`.
    overflowed: usize,
    last_byte: Option<Instant>,
}

impl LineFramer {
    pub fn new(config: FramingConfig) -> Self {
        LineFramer {
            buf: Vec::with_capacity(config.max_len.min(4096)),
            config,
            overflowed: 0,
            last_byte: None,
        }
    }

    /// Feeds bytes received at `now`.
    pub fn push(&mut self, bytes: &[u8], now: Instant) -> Vec<FrameEvent> {
        let mut events = Vec::new();
        if let Some(e) = self.idle(now) {
            events.push(e);
        }
        for &b in bytes {
            if self.config.suffix.ends_line(b) {
                if let Some(e) = self.finish() {
                    events.push(e);
                }
                continue;
            }
            // A CR before LF (CRLF), or stray line ends, are not part of a scan.
            if matches!(b, b'\r' | b'\n') && self.buf.is_empty() && self.overflowed == 0 {
                continue;
            }
            if self.overflowed > 0 || self.buf.len() >= self.config.max_len {
                self.overflowed += 1 + std::mem::take(&mut self.buf).len();
                self.buf = Vec::new();
                continue;
            }
            self.buf.push(b);
        }
        self.last_byte = Some(now);
        events
    }

    /// Called when nothing arrived: a pause ends a suffix-less scan, or drops a stalled one.
    pub fn idle(&mut self, now: Instant) -> Option<FrameEvent> {
        let last = self.last_byte?;
        if now.duration_since(last) < self.config.inter_byte_timeout
            || (self.buf.is_empty() && self.overflowed == 0)
        {
            return None;
        }
        self.last_byte = None;
        if self.config.suffix == Suffix::None {
            return self.finish();
        }
        let bytes = self.buf.len() + self.overflowed;
        self.clear();
        Some(FrameEvent::Dropped {
            reason: DropReason::Stalled,
            bytes,
        })
    }

    /// The device went away: whatever was half-received is dropped, never delivered.
    pub fn disconnected(&mut self) -> Option<FrameEvent> {
        let bytes = self.buf.len() + self.overflowed;
        self.clear();
        self.last_byte = None;
        (bytes > 0).then_some(FrameEvent::Dropped {
            reason: DropReason::Disconnected,
            bytes,
        })
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.buf.shrink_to(4096);
        self.overflowed = 0;
    }

    fn finish(&mut self) -> Option<FrameEvent> {
        if self.overflowed > 0 {
            let bytes = self.overflowed + self.buf.len();
            self.clear();
            return Some(FrameEvent::Dropped {
                reason: DropReason::TooLong,
                bytes,
            });
        }
        if self.buf.is_empty() {
            return None;
        }
        let mut raw = std::mem::take(&mut self.buf);
        self.clear();
        // The CR of a CRLF suffix.
        if raw.last() == Some(&b'\r') {
            raw.pop();
        }
        Some(match decode_payload(&raw) {
            Some(scan) => FrameEvent::Scan(scan),
            None => FrameEvent::Dropped {
                reason: DropReason::NotText,
                bytes: raw.len(),
            },
        })
    }
}

/// The payload as text: UTF-8 or GB18030, whichever reads as more plausible text (some GB18030
/// Chinese is also valid UTF-8, e.g. 预约 reads as "ԤԼ"); control characters are refused.
pub fn decode_payload(raw: &[u8]) -> Option<Scan> {
    let utf8 = std::str::from_utf8(raw).ok().map(str::to_owned);
    let gb = encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(raw)
        .map(|s| s.into_owned())
        .filter(|_| !raw.is_ascii());
    let (payload, encoding) = match (utf8, gb) {
        (Some(u), Some(g)) if plausibility(&g) > plausibility(&u) => (g, "gb18030"),
        (Some(u), _) => (u, "utf-8"),
        (None, Some(g)) => (g, "gb18030"),
        (None, None) => return None,
    };
    let text = payload.chars().all(|c| !c.is_control() || c == '\t');
    (text && !payload.trim().is_empty()).then_some(Scan { payload, encoding })
}

/// Share of characters that a QR code or barcode for a Chinese hall would plausibly hold.
fn plausibility(s: &str) -> f32 {
    let total = s.chars().count().max(1) as f32;
    let good = s
        .chars()
        .filter(|&c| {
            c.is_ascii_graphic()
                || c == ' '
                || matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FFEF}')
        })
        .count() as f32;
    good / total
}

/// A source of scans.
pub trait Scanner {
    /// The next scan, or `None` when `wait` passed without one.
    fn next_scan(&mut self, wait: Duration) -> Result<Option<Scan>>;
}

/// A scanner on a serial port (USB CDC-ACM or RS-232).
pub struct SerialScanner {
    port: Box<dyn SerialPort>,
    framer: LineFramer,
    pending: std::collections::VecDeque<Scan>,
    /// Why input was dropped, for the device's health report.
    pub dropped: u64,
}

impl std::fmt::Debug for SerialScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialScanner")
            .field("port", &self.port.name())
            .finish()
    }
}

impl SerialScanner {
    pub fn open(path: &str, baud: u32, framing: FramingConfig) -> Result<Self> {
        Ok(Self::new(serial::open(path, baud)?, framing))
    }

    pub fn new(port: Box<dyn SerialPort>, framing: FramingConfig) -> Self {
        SerialScanner {
            port,
            framer: LineFramer::new(framing),
            pending: Default::default(),
            dropped: 0,
        }
    }

    /// A harmless query (e.g. a firmware-version request) to check that a scanner, not some
    /// other device, is on the port: sends `query`, returns what came back within `wait`.
    pub fn probe(&mut self, query: &[u8], wait: Duration) -> Result<Vec<u8>> {
        use std::io::Write;
        self.port.write_all(query)?;
        self.port.flush()?;
        let deadline = Instant::now() + wait;
        let mut reply = Vec::new();
        let mut buf = [0u8; 256];
        while Instant::now() < deadline && reply.len() < 4096 {
            match self.port.read(&mut buf) {
                Ok(0) => {
                    return Err(Error::new(
                        ErrorKind::Disconnected,
                        "the scanner closed its port",
                    ));
                }
                Ok(n) => reply.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    if !reply.is_empty() {
                        break;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        if reply.is_empty() {
            return Err(Error::new(
                ErrorKind::Timeout,
                "the scanner did not answer the presence query",
            ));
        }
        Ok(reply)
    }

    /// Bytes the framer holds on to now, to show memory stays bounded.
    pub fn buffered_capacity(&self) -> usize {
        self.framer.buf.capacity()
    }

    fn take(&mut self, events: Vec<FrameEvent>) {
        for e in events {
            match e {
                FrameEvent::Scan(s) => self.pending.push_back(s),
                FrameEvent::Dropped { reason, bytes } => {
                    self.dropped += 1;
                    tracing::warn!(?reason, bytes, port = ?self.port.name(), "Scanner input dropped.");
                }
            }
        }
    }
}

impl Scanner for SerialScanner {
    fn next_scan(&mut self, wait: Duration) -> Result<Option<Scan>> {
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 512];
        loop {
            if let Some(s) = self.pending.pop_front() {
                return Ok(Some(s));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            match self.port.read(&mut buf) {
                Ok(0) => {
                    let e = self.framer.disconnected();
                    self.take(e.into_iter().collect());
                    return Err(Error::new(
                        ErrorKind::Disconnected,
                        "the scanner closed its port",
                    ));
                }
                Ok(n) => {
                    let events = self.framer.push(&buf[..n], Instant::now());
                    self.take(events);
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    let e = self.framer.idle(Instant::now());
                    self.take(e.into_iter().collect());
                }
                Err(e) => {
                    let dropped = self.framer.disconnected();
                    self.take(dropped.into_iter().collect());
                    return Err(e.into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framer(suffix: Suffix) -> LineFramer {
        LineFramer::new(FramingConfig {
            suffix,
            inter_byte_timeout: Duration::from_millis(50),
            max_len: 16,
        })
    }

    fn scans(events: &[FrameEvent]) -> Vec<&str> {
        events
            .iter()
            .filter_map(|e| {
                if let FrameEvent::Scan(s) = e {
                    Some(s.payload.as_str())
                } else {
                    None
                }
            })
            .collect()
    }

    #[test]
    fn suffixes_end_scans() {
        let t = Instant::now();
        assert_eq!(
            scans(&framer(Suffix::Cr).push(b"ABC\rDEF\r", t)),
            ["ABC", "DEF"]
        );
        assert_eq!(
            scans(&framer(Suffix::CrLf).push(b"ABC\r\nDEF\r\n", t)),
            ["ABC", "DEF"]
        );
        assert_eq!(
            scans(&framer(Suffix::Tab).push(b"ABC\tDEF\t", t)),
            ["ABC", "DEF"]
        );
        // A scanner set to CRLF read as CR: the LF is not a scan of its own.
        assert_eq!(
            scans(&framer(Suffix::Cr).push(b"ABC\r\nDEF\r\n", t)),
            ["ABC", "DEF"]
        );
    }

    #[test]
    fn a_pause_ends_a_suffixless_scan_and_drops_a_stalled_one() {
        let t = Instant::now();
        let mut f = framer(Suffix::None);
        assert!(f.push(b"ABC", t).is_empty());
        let e = f.idle(t + Duration::from_millis(60)).unwrap();
        assert_eq!(
            e,
            FrameEvent::Scan(Scan {
                payload: "ABC".into(),
                encoding: "utf-8"
            })
        );
        let mut f = framer(Suffix::Cr);
        f.push(b"AB", t);
        assert_eq!(
            f.idle(t + Duration::from_millis(60)),
            Some(FrameEvent::Dropped {
                reason: DropReason::Stalled,
                bytes: 2
            })
        );
        assert_eq!(
            scans(&f.push(b"XYZ\r", t + Duration::from_millis(70))),
            ["XYZ"]
        );
    }

    #[test]
    fn floods_are_dropped_whole_and_memory_stays_bounded() {
        let t = Instant::now();
        let mut f = framer(Suffix::Cr);
        let flood = vec![b'9'; 100_000];
        assert!(f.push(&flood, t).is_empty());
        assert!(f.buf.capacity() <= 4096);
        let events = f.push(b"\rOK\r", t);
        assert_eq!(
            events[0],
            FrameEvent::Dropped {
                reason: DropReason::TooLong,
                bytes: 100_000
            }
        );
        assert_eq!(scans(&events), ["OK"]);
    }

    #[test]
    fn gb18030_payloads_decode_and_binary_noise_is_dropped() {
        let t = Instant::now();
        let (gbk, _, _) = encoding_rs::GB18030.encode("预约A12");
        let mut bytes = gbk.to_vec();
        bytes.push(b'\r');
        let events = framer(Suffix::Cr).push(&bytes, t);
        assert_eq!(
            events,
            [FrameEvent::Scan(Scan {
                payload: "预约A12".into(),
                encoding: "gb18030"
            })]
        );
        let (utf8, _, _) = encoding_rs::UTF_8.encode("预约A12");
        let mut bytes = utf8.to_vec();
        bytes.push(b'\r');
        let events = framer(Suffix::Cr).push(&bytes, t);
        assert_eq!(
            events,
            [FrameEvent::Scan(Scan {
                payload: "预约A12".into(),
                encoding: "utf-8"
            })]
        );
        let events = framer(Suffix::Cr).push(&[0x00, 0xFF, 0x07, 0x81, b'\r'], t);
        assert_eq!(
            events,
            [FrameEvent::Dropped {
                reason: DropReason::NotText,
                bytes: 4
            }]
        );
    }
}
