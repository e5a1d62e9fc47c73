//! Reads ESC/POS bytes back into what the paper shows: text lines (GB18030 in Chinese mode),
//! QR payloads and cuts. The printer twin's preview and the tests use it.

/// One thing on the paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// A printed line, with the style it was printed in.
    Line {
        text: String,
        bold: bool,
        width: u8,
        height: u8,
    },
    /// A QR code and its payload.
    Qr(String),
    /// The cutter cut here.
    Cut,
}

/// Decodes a job; unknown commands are skipped by their documented length.
pub fn decode(bytes: &[u8]) -> Vec<Element> {
    let mut out = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let (mut bold, mut width, mut height) = (false, 1u8, 1u8);
    let mut qr_data: Option<Vec<u8>> = None;
    let mut i = 0;
    let flush = |line: &mut Vec<u8>, out: &mut Vec<Element>, bold: bool, width: u8, height: u8| {
        let (text, _, _) = encoding_rs::GB18030.decode(line);
        out.push(Element::Line {
            text: text.into_owned(),
            bold,
            width,
            height,
        });
        line.clear();
    };
    while i < bytes.len() {
        let b = bytes[i];
        let at = |k: usize| bytes.get(i + k).copied().unwrap_or(0);
        match b {
            b'\n' => {
                flush(&mut line, &mut out, bold, width, height);
                i += 1;
            }
            0x1B => match at(1) {
                b'@' => i += 2,
                b'E' => {
                    bold = at(2) & 1 == 1;
                    i += 3;
                }
                b'a' | b'!' | b'-' | b'M' | b't' | b'R' => i += 3,
                b'd' => {
                    if !line.is_empty() {
                        flush(&mut line, &mut out, bold, width, height);
                    }
                    for _ in 1..at(2) {
                        flush(&mut line, &mut out, bold, width, height);
                    }
                    i += 3;
                }
                _ => i += 2,
            },
            0x1C => i += 2, // FS & / FS .: Chinese mode on or off
            0x1D => match at(1) {
                b'!' => {
                    width = (at(2) >> 4) + 1;
                    height = (at(2) & 0x0F) + 1;
                    i += 3;
                }
                b'V' => {
                    if !line.is_empty() {
                        flush(&mut line, &mut out, bold, width, height);
                    }
                    out.push(Element::Cut);
                    i += if at(2) >= 65 { 4 } else { 3 };
                }
                b'(' if at(2) == b'k' => {
                    let len = at(3) as usize | (at(4) as usize) << 8;
                    let (cn, fun) = (at(5), at(6));
                    let params = bytes
                        .get(i + 5..(i + 5 + len).min(bytes.len()))
                        .unwrap_or(&[]);
                    if cn == 49 && fun == 80 && params.len() >= 3 {
                        qr_data = Some(params[3..].to_vec());
                    } else if cn == 49 && fun == 81 {
                        if !line.is_empty() {
                            flush(&mut line, &mut out, bold, width, height);
                        }
                        let data = qr_data.take().unwrap_or_default();
                        out.push(Element::Qr(String::from_utf8_lossy(&data).into_owned()));
                    }
                    i += 5 + len;
                }
                _ => i += 3,
            },
            0x10 => i += 3, // DLE EOT n: a status query, not paper
            _ => {
                line.push(b);
                i += 1;
            }
        }
    }
    if !line.is_empty() {
        flush(&mut line, &mut out, bold, width, height);
    }
    out
}

/// A plain-text picture of the paper: lines, `[QR …]` and `✂` for cuts.
pub fn preview(bytes: &[u8]) -> String {
    decode(bytes)
        .into_iter()
        .map(|e| match e {
            Element::Line {
                text, bold, width, ..
            } => {
                let mut t = text;
                if width > 1 {
                    t = format!("{t}  (×{width})");
                }
                if bold { format!("**{t}**") } else { t }
            }
            Element::Qr(data) => format!("[QR {data}]"),
            Element::Cut => "✂------------------------".to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::super::{Job, QrLevel};
    use super::*;

    #[test]
    fn a_job_decodes_to_its_text_qr_and_cut() {
        let mut j = Job::new();
        j.bold(true)
            .size(2, 2)
            .line("A023")
            .bold(false)
            .size(1, 1)
            .line("公积金业务");
        j.qr("https://m.example/t/A023", 6, QrLevel::M).cut();
        let elements = decode(j.bytes());
        assert_eq!(
            elements,
            vec![
                Element::Line {
                    text: "A023".into(),
                    bold: true,
                    width: 2,
                    height: 2
                },
                Element::Line {
                    text: "公积金业务".into(),
                    bold: false,
                    width: 1,
                    height: 1
                },
                Element::Qr("https://m.example/t/A023".into()),
                Element::Cut,
            ]
        );
    }
}
