//! ESC/POS: building print jobs (GB18030 Chinese, sizes, bold, alignment, QR codes, cut), reading
//! real-time status (DLE EOT), decoding jobs back into what the paper shows, and our layouts.

mod decode;
mod layout;

pub use decode::{Element, decode, preview};
pub use layout::{AppointmentSlip, ChecklistLine, ChecklistSlip, Ticket};

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const DLE: u8 = 0x10;
const EOT: u8 = 0x04;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left = 0,
    Center = 1,
    Right = 2,
}

/// QR error correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrLevel {
    L = 48,
    M = 49,
    Q = 50,
    H = 51,
}

/// A print job under construction: every method appends the bytes of one command.
#[derive(Debug, Clone, Default)]
pub struct Job {
    bytes: Vec<u8>,
}

impl Job {
    /// Starts a job: resets the printer and selects Chinese (GB18030) character mode.
    pub fn new() -> Self {
        let mut j = Job {
            bytes: Vec::with_capacity(512),
        };
        j.bytes.extend_from_slice(&[ESC, b'@', FS, b'&']);
        j
    }

    /// Text in GB18030; characters GB18030 cannot carry become `?`.
    pub fn text(&mut self, s: &str) -> &mut Self {
        let (encoded, _, _) = encoding_rs::GB18030.encode(s);
        // Control bytes inside text would be read as commands: drop them.
        self.bytes
            .extend(encoded.iter().copied().filter(|&b| b >= 0x20 || b == b'\n'));
        self
    }

    /// Text and a line feed.
    pub fn line(&mut self, s: &str) -> &mut Self {
        self.text(s).feed(1)
    }

    pub fn feed(&mut self, lines: u8) -> &mut Self {
        if lines == 1 {
            self.bytes.push(b'\n');
        } else {
            self.bytes.extend_from_slice(&[ESC, b'd', lines]);
        }
        self
    }

    /// Character size as multiples of the normal width and height (1–8 each).
    pub fn size(&mut self, width: u8, height: u8) -> &mut Self {
        let (w, h) = (width.clamp(1, 8) - 1, height.clamp(1, 8) - 1);
        self.bytes.extend_from_slice(&[GS, b'!', (w << 4) | h]);
        self
    }

    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.bytes.extend_from_slice(&[ESC, b'E', u8::from(on)]);
        self
    }

    pub fn align(&mut self, a: Align) -> &mut Self {
        self.bytes.extend_from_slice(&[ESC, b'a', a as u8]);
        self
    }

    /// A QR code (model 2) of `data`, `module` dots per module (1–16).
    pub fn qr(&mut self, data: &str, module: u8, level: QrLevel) -> &mut Self {
        let data = data.as_bytes();
        let store_len = data.len().min(7089) + 3;
        self.bytes
            .extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
        self.bytes
            .extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, module.clamp(1, 16)]);
        self.bytes
            .extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, level as u8]);
        self.bytes.extend_from_slice(&[
            GS,
            b'(',
            b'k',
            (store_len & 0xFF) as u8,
            (store_len >> 8) as u8,
            49,
            80,
            48,
        ]);
        self.bytes.extend_from_slice(&data[..store_len - 3]);
        self.bytes
            .extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
        self
    }

    /// Feeds past the cutter and cuts, leaving a small hinge (partial cut).
    pub fn cut(&mut self) -> &mut Self {
        self.bytes.extend_from_slice(&[GS, b'V', 66, 0]);
        self
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The DLE EOT queries, in the order a status check sends them.
pub const STATUS_QUERIES: [[u8; 3]; 4] =
    [[DLE, EOT, 1], [DLE, EOT, 2], [DLE, EOT, 3], [DLE, EOT, 4]];

/// What the printer reports about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrinterStatus {
    pub online: bool,
    pub cover_open: bool,
    pub paper_near_end: bool,
    pub paper_out: bool,
    /// Cutter jam or another error the printer reports.
    pub error: bool,
}

impl PrinterStatus {
    /// Reads the four status bytes answering [`STATUS_QUERIES`].
    pub fn from_replies(replies: [u8; 4]) -> Option<Self> {
        // Every reply has bit 1 and bit 4 set and bits 0 and 7 clear.
        if replies.iter().any(|&b| b & 0x93 != 0x12) {
            return None;
        }
        let [printer, offline, error, paper] = replies;
        Some(PrinterStatus {
            online: printer & 0x08 == 0,
            cover_open: offline & 0x04 != 0,
            paper_out: paper & 0x60 != 0 || offline & 0x20 != 0,
            paper_near_end: paper & 0x0C != 0,
            error: error & 0x68 != 0 || offline & 0x40 != 0,
        })
    }

    /// The replies a printer in this state sends (for simulated printers).
    pub fn to_replies(self) -> [u8; 4] {
        let base = 0x12;
        [
            base | if self.online { 0 } else { 0x08 },
            base | if self.cover_open { 0x04 } else { 0 } | if self.paper_out { 0x20 } else { 0 },
            base | if self.error { 0x40 } else { 0 },
            base | if self.paper_near_end { 0x0C } else { 0 }
                | if self.paper_out { 0x60 } else { 0 },
        ]
    }

    /// Can a job print now?
    pub fn ready(&self) -> bool {
        self.online && !self.cover_open && !self.paper_out && !self.error
    }
}

/// Display width of text on a receipt: CJK characters take two columns.
pub fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Breaks text into lines of at most `cols` columns, keeping Chinese line-breaking rules:
/// closing punctuation hangs at the end of a line, an opening bracket never ends one.
pub fn wrap(s: &str, cols: usize) -> Vec<String> {
    const CLOSING: &str = "，。、；：！？）》」』】,.;:!?)";
    const OPENING: &str = "（《「『【(";
    let width = |c: char| if c.is_ascii() { 1 } else { 2 };
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for c in s.chars() {
        if used + width(c) > cols && !line.is_empty() && !CLOSING.contains(c) {
            let mut carry = String::new();
            while line.chars().last().is_some_and(|l| OPENING.contains(l)) {
                carry.insert(0, line.pop().expect("checked"));
            }
            lines.push(std::mem::take(&mut line));
            used = carry.chars().map(width).sum();
            line = carry;
        }
        line.push(c);
        used += width(c);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_and_rejects_garbage() {
        let s = PrinterStatus {
            online: true,
            paper_near_end: true,
            ..Default::default()
        };
        assert_eq!(PrinterStatus::from_replies(s.to_replies()), Some(s));
        let out = PrinterStatus {
            online: false,
            paper_out: true,
            ..Default::default()
        };
        assert_eq!(PrinterStatus::from_replies(out.to_replies()), Some(out));
        assert!(!out.ready());
        assert_eq!(PrinterStatus::from_replies([0xFF, 0, 0, 0]), None);
    }

    #[test]
    fn wrapping_counts_chinese_as_two_columns() {
        // Closing punctuation hangs; an opening bracket moves to the next line.
        assert_eq!(
            wrap("居民身份证（原件）", 8),
            vec!["居民身份", "证（原件）"]
        );
        assert_eq!(
            wrap("银行卡（原件 1份）", 7),
            vec!["银行卡", "（原件 ", "1份）"]
        );
        assert_eq!(
            wrap("17、18、19号窗口", 4),
            vec!["17、", "18、", "19号", "窗口"]
        );
        assert_eq!(display_width("A1公积金"), 8);
    }
}
