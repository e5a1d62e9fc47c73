//! What an uploaded file is, read from its bytes (never from its name or the type it claims):
//! PDF, Word and Excel (old and new), PNG, JPEG and WebP; archives and pictures are measured
//! before they are opened, so a zip bomb or a decompression bomb is refused, not inflated.

use std::io::{Cursor, Read};

use axum::http::StatusCode;
use menpai_model::file::{FORM_TYPES, FileRef, IMAGE_TYPES, MAX_FILE_BYTES, name_problem};

pub const PDF: &str = "application/pdf";
pub const DOC: &str = "application/msword";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const XLS: &str = "application/vnd.ms-excel";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PNG: &str = "image/png";
pub const JPEG: &str = "image/jpeg";
pub const WEBP: &str = "image/webp";

/// A picture is at most this many pixels wide and high (a scanned A4 page at 300 dpi is less).
pub const MAX_IMAGE_SIDE: u32 = 4096;
/// What the parts of a DOCX or XLSX may inflate to, together; and how many parts it may have.
const MAX_INFLATED: u64 = 64 << 20;
const MAX_PARTS: usize = 5_000;

/// Why a file is refused: the status and a message for the editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
    }
}

fn unprocessable(message: impl Into<String>) -> Refusal {
    refuse(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// The type's name on pages.
pub fn label(media_type: &str) -> &'static str {
    match media_type {
        PDF => "PDF 文档",
        DOC => "Word 文档（DOC）",
        DOCX => "Word 文档（DOCX）",
        XLS => "Excel 表格（XLS）",
        XLSX => "Excel 表格（XLSX）",
        PNG => "PNG 图片",
        JPEG => "JPEG 图片",
        WEBP => "WebP 图片",
        _ => "不支持的类型",
    }
}

/// The extension a file of this type is saved with.
pub fn extension(media_type: &str) -> &'static str {
    match media_type {
        PDF => "pdf",
        DOC => "doc",
        DOCX => "docx",
        XLS => "xls",
        XLSX => "xlsx",
        PNG => "png",
        JPEG => "jpg",
        WEBP => "webp",
        _ => "bin",
    }
}

/// The type a file name's extension stands for.
fn type_of_extension(name: &str) -> Option<&'static str> {
    let (_, ext) = name.rsplit_once('.')?;
    Some(match ext.to_ascii_lowercase().as_str() {
        "pdf" => PDF,
        "doc" => DOC,
        "docx" => DOCX,
        "xls" => XLS,
        "xlsx" => XLSX,
        "png" => PNG,
        "jpg" | "jpeg" => JPEG,
        "webp" => WEBP,
        _ => return None,
    })
}

/// Checks an upload named `name`, claimed to be `claimed` (the request's `Content-Type`;
/// `None` or `application/octet-stream` when the browser did not know): its reference when
/// name, claim and bytes agree and the bytes are a sound file of a kind the content takes.
pub fn check(name: &str, claimed: Option<&str>, bytes: &[u8]) -> Result<FileRef, Refusal> {
    if let Some(p) = name_problem(name) {
        return Err(unprocessable(p));
    }
    if bytes.is_empty() {
        return Err(unprocessable("文件是空的"));
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("文件超过 {} MB", MAX_FILE_BYTES >> 20),
        ));
    }
    let by_name = type_of_extension(name).ok_or_else(|| {
        refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("文件名“{name}”的扩展名不支持：只收 PDF、DOC、DOCX、XLS、XLSX、PNG、JPG、WebP"),
        )
    })?;
    let claimed = claimed
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|c| !c.is_empty() && c != "application/octet-stream");
    if let Some(c) = &claimed
        && !FORM_TYPES.contains(&c.as_str())
        && !IMAGE_TYPES.contains(&c.as_str())
    {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("不支持的文件类型 {c}：只收 PDF、Word、Excel 表格和 PNG、JPEG、WebP 图片"),
        ));
    }
    let found = sniff(bytes)?;
    if let Some(c) = &claimed
        && c != found
    {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "文件内容是{}，但声明的类型是{}（{c}），两者不符",
                label(found),
                label(c)
            ),
        ));
    }
    if by_name != found {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "文件内容是{}，但文件名“{name}”表示{}，两者不符",
                label(found),
                label(by_name)
            ),
        ));
    }
    if IMAGE_TYPES.contains(&found) {
        check_picture(found, bytes)?;
    }
    Ok(FileRef {
        sha256: menpai_model::bundle::sha256_hex(bytes),
        media_type: found.to_owned(),
        size: bytes.len() as u64,
        name: name.to_owned(),
        path: None,
    })
}

/// The type of `bytes`, from their magic numbers and, for archives and compound files, what
/// they hold.
pub fn sniff(bytes: &[u8]) -> Result<&'static str, Refusal> {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(b"%PDF-") {
        let tail = &bytes[bytes.len().saturating_sub(2048)..];
        if !tail.windows(5).any(|w| w == b"%%EOF") {
            return Err(unprocessable(
                "PDF 文件不完整（没有结尾标记），请重新导出后上传",
            ));
        }
        if let Some(what) = pdf_active_content(bytes) {
            return Err(unprocessable(format!(
                "PDF 含有{what}，请“打印”为普通 PDF 后再上传"
            )));
        }
        return Ok(PDF);
    }
    if bytes.starts_with(PNG_MAGIC) {
        return Ok(PNG);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(JPEG);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(WEBP);
    }
    if bytes.starts_with(OLE) {
        return compound_kind(bytes);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return office_kind(bytes);
    }
    Err(unprocessable(
        "看不出文件是什么：不是 PDF、Word、Excel 文件，也不是 PNG、JPEG、WebP 图片",
    ))
}

/// Bytes all of a PDF's compressed streams may inflate to while looking for active content.
const MAX_PDF_INFLATED: u64 = 32 << 20;

/// Names of what a PDF may carry besides its pages — scripts, actions that open programs,
/// send data or fetch other files, attached files, rich media, XFA forms — and how a citizen's
/// editor reads each; a blank form needs none of them.
const PDF_ACTIVE: &[(&[u8], &str)] = &[
    (b"/JavaScript", "脚本"),
    (b"/JS", "脚本"),
    (b"/Launch", "打开其他程序的动作"),
    (b"/EmbeddedFile", "附件"),
    (b"/RichMedia", "多媒体"),
    (b"/XFA", "XFA 动态表单"),
    (b"/SubmitForm", "提交数据的动作"),
    (b"/ImportData", "导入数据的动作"),
    (b"/GoToR", "打开其他文件的动作"),
    (b"/GoToE", "打开附件的动作"),
    (b"/AA", "自动执行的动作"),
];

/// PDF names may spell a character as `#hh` (`/J#61vaScript`): spelt out plainly.
fn plain_names(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#'
            && let (Some(a), Some(b)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(a * 16 + b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The first active content named in `text`: a name followed by a delimiter (so `/JS` is
/// not `/JSON`).
fn active_in(text: &[u8]) -> Option<&'static str> {
    let text = plain_names(text);
    PDF_ACTIVE.iter().find_map(|(name, what)| {
        text.windows(name.len() + 1)
            .any(|w| {
                &w[..name.len()] == *name
                    && matches!(
                        w[name.len()],
                        b' ' | b'\n'
                            | b'\r'
                            | b'\t'
                            | b'\x0c'
                            | b'\0'
                            | b'('
                            | b')'
                            | b'<'
                            | b'>'
                            | b'['
                            | b']'
                            | b'{'
                            | b'}'
                            | b'/'
                            | b'%'
                    )
            })
            .then_some(*what)
    })
}

/// What a PDF carries besides the page, named in its objects — plain, or inside compressed
/// streams (object streams hold most objects of a modern PDF), each inflated within a bound.
fn pdf_active_content(bytes: &[u8]) -> Option<&'static str> {
    if let Some(what) = active_in(bytes) {
        return Some(what);
    }
    let mut budget = MAX_PDF_INFLATED;
    let mut rest = bytes;
    while let Some(at) = find(rest, b"stream") {
        let mut body = &rest[at + 6..];
        if body.starts_with(b"\r\n") {
            body = &body[2..];
        } else if body.starts_with(b"\n") || body.starts_with(b"\r") {
            body = &body[1..];
        } else {
            rest = &rest[at + 6..];
            continue;
        }
        let Some(end) = find(body, b"endstream") else {
            break;
        };
        let mut inflated = Vec::new();
        let reader = flate2::read::ZlibDecoder::new(&body[..end]);
        // A stream that is not Flate (or is broken) inflates to nothing: its bytes were searched.
        let _ =
            std::io::Read::read_to_end(&mut std::io::Read::take(reader, budget + 1), &mut inflated);
        if inflated.len() as u64 > budget {
            return Some("压缩内容过大，无法检查");
        }
        budget -= inflated.len() as u64;
        if let Some(what) = active_in(&inflated) {
            return Some(what);
        }
        rest = &body[end + b"endstream".len()..];
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// An old Office file (OLE compound file): Word names a `WordDocument` stream, Excel a
/// `Workbook` (or `Book`) stream, in UTF-16 in its directory.
fn compound_kind(bytes: &[u8]) -> Result<&'static str, Refusal> {
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let has = |s: &str| {
        let needle = utf16(s);
        bytes.windows(needle.len()).any(|w| w == needle)
    };
    if has("_VBA_PROJECT") || has("Macros") || has("_VBA_PROJECT_CUR") {
        Err(unprocessable(
            "文件里带有宏，表格不需要：请另存为不带宏的文件后再上传",
        ))
    } else if has("WordDocument") {
        Ok(DOC)
    } else if has("Workbook") || has("Book") {
        Ok(XLS)
    } else {
        Err(unprocessable(
            "这是一个 Office 复合文件，但既不是 Word 文档也不是 Excel 表格",
        ))
    }
}

/// A DOCX or XLSX (a ZIP with `[Content_Types].xml` and `word/` or `xl/` parts), after every
/// part is inflated into nothing, counting: a zip bomb stops at the limit.
fn office_kind(bytes: &[u8]) -> Result<&'static str, Refusal> {
    let bad = |e: &dyn std::fmt::Display| unprocessable(format!("ZIP 文件损坏：{e}"));
    let bomb = || {
        unprocessable(format!(
            "文件解压后超过 {} MB，不是正常的 Word 或 Excel 文件",
            MAX_INFLATED >> 20
        ))
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(&e))?;
    if zip.len() > MAX_PARTS {
        return Err(unprocessable(format!(
            "文件里有 {} 个部件，不是正常的 Word 或 Excel 文件",
            zip.len()
        )));
    }
    let has = |prefix: &[u8], whole: bool| {
        zip.file_names_raw().any(|n| {
            if whole {
                n == prefix
            } else {
                n.starts_with(prefix)
            }
        })
    };
    let kind = if !has(b"[Content_Types].xml", true) {
        None
    } else if has(b"word/", false) {
        Some(DOCX)
    } else if has(b"xl/", false) {
        Some(XLSX)
    } else {
        None
    };
    let kind = kind.ok_or_else(|| {
        unprocessable("这是一个 ZIP 压缩包，不是 Word（DOCX）或 Excel（XLSX）文件")
    })?;
    // Macros, ActiveX controls and embedded objects: a form to fill in needs none of them.
    let active = zip.file_names_raw().any(|n| {
        let n = String::from_utf8_lossy(n).to_ascii_lowercase();
        n.ends_with("vbaproject.bin") || n.contains("/activex/") || n.contains("/embeddings/")
    });
    if active {
        return Err(unprocessable(
            "文件里带有宏、ActiveX 控件或嵌入的对象，表格不需要这些：请另存为不带宏的文件后再上传",
        ));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index(i).map_err(|e| bad(&e))?;
        if part.size() > MAX_INFLATED - total {
            return Err(bomb());
        }
        let left = MAX_INFLATED - total;
        let n =
            std::io::copy(&mut part.take(left + 1), &mut std::io::sink()).map_err(|e| bad(&e))?;
        total += n;
        if total > MAX_INFLATED {
            return Err(bomb());
        }
    }
    Ok(kind)
}

/// A picture's size within [`MAX_IMAGE_SIDE`], read before any pixel is decoded; then decoded
/// under the same limits, so a broken picture or a decompression bomb is refused.
fn check_picture(media_type: &str, bytes: &[u8]) -> Result<(), Refusal> {
    let format = match media_type {
        PNG => image::ImageFormat::Png,
        JPEG => image::ImageFormat::Jpeg,
        _ => image::ImageFormat::WebP,
    };
    let broken =
        |e: &dyn std::fmt::Display| unprocessable(format!("{}损坏：{e}", label(media_type)));
    let (w, h) = image::ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|e| broken(&e))?;
    if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(unprocessable(format!(
            "图片 {w}×{h} 像素，太大：长宽都不能超过 {MAX_IMAGE_SIDE} 像素"
        )));
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(u64::from(MAX_IMAGE_SIDE) * u64::from(MAX_IMAGE_SIDE) * 8);
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    reader.decode().map(|_| ()).map_err(|e| broken(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_forms_pass_and_scripts_hidden_in_names_or_streams_do_not() {
        let dir = menpai_content::demo_region_dir().join("files");
        let mut pdfs = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "pdf") {
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(pdf_active_content(&bytes), None, "{}", path.display());
                pdfs += 1;
            }
        }
        assert!(pdfs >= 20, "{pdfs}");

        let plain = b"%PDF-1.7\n1 0 obj << /OpenAction << /S /J#61vaScript /JS (app.alert(1)) >> >>\n%%EOF\n";
        assert_eq!(pdf_active_content(plain), Some("脚本"));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, b"<< /Type /Action /S /Launch /F (cmd.exe) >>").unwrap();
        let mut hidden =
            b"%PDF-1.7\n2 0 obj << /Type /ObjStm /Filter /FlateDecode >>\nstream\n".to_vec();
        hidden.extend(z.finish().unwrap());
        hidden.extend(b"\nendstream\nendobj\n%%EOF\n");
        assert_eq!(pdf_active_content(&hidden), Some("打开其他程序的动作"));
        // `/JSON` is not `/JS`.
        assert_eq!(
            pdf_active_content(b"%PDF-1.7\n<< /JSONData 1 >>\n%%EOF"),
            None
        );
    }

    #[test]
    fn office_files_with_macros_are_refused() {
        let mut out = Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut out);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for name in [
            "[Content_Types].xml",
            "word/document.xml",
            "word/vbaProject.bin",
        ] {
            z.start_file(name, stored).unwrap();
            std::io::Write::write_all(&mut z, b"<x/>").unwrap();
        }
        z.finish().unwrap();
        let refused = check("申请表.docx", Some(DOCX), out.get_ref()).unwrap_err();
        assert!(refused.message.contains("宏"), "{}", refused.message);
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::RgbImage::new(w, h)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn content_decides_not_the_name() {
        let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
        assert_eq!(check("表.pdf", Some(PDF), pdf).unwrap().media_type, PDF);
        assert_eq!(check("表.pdf", None, pdf).unwrap().media_type, PDF);
        let e = check("表.pdf", Some(PDF), &png(4, 4)).unwrap_err();
        assert!(
            e.message.contains("PNG 图片") && e.message.contains("PDF 文档"),
            "{e:?}"
        );
        let e = check("照片.png", Some(PNG), b"just text").unwrap_err();
        assert!(e.message.contains("看不出"), "{e:?}");
        let e = check("照片.pdf", Some(PNG), &png(4, 4)).unwrap_err();
        assert!(e.message.contains("文件名"), "{e:?}");
        assert_eq!(
            check("照片.PNG", Some("image/png"), &png(4, 4))
                .unwrap()
                .size,
            png(4, 4).len() as u64
        );
    }

    #[test]
    fn pdfs_with_scripts_or_attachments_are_refused() {
        let js =
            b"%PDF-1.4\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n%%EOF\n";
        let e = check("表.pdf", Some(PDF), js).unwrap_err();
        assert!(e.message.contains("脚本"), "{e:?}");
        let att = b"%PDF-1.4\n1 0 obj<</Type/EmbeddedFile>>endobj\n%%EOF\n";
        assert!(
            check("表.pdf", Some(PDF), att)
                .unwrap_err()
                .message
                .contains("附件")
        );
    }

    #[test]
    fn huge_pictures_are_refused_before_decoding() {
        let e = check("大.png", Some(PNG), &png(5000, 1)).unwrap_err();
        assert!(e.message.contains("5000×1"), "{e:?}");
    }

    #[test]
    fn webp_pictures_are_measured_and_decoded() {
        let webp = |w: u32, h: u32| {
            let mut out = Vec::new();
            image::RgbImage::new(w, h)
                .write_to(&mut Cursor::new(&mut out), image::ImageFormat::WebP)
                .unwrap();
            out
        };
        assert_eq!(
            check("照片.webp", Some(WEBP), &webp(30, 20))
                .unwrap()
                .media_type,
            WEBP
        );
        let e = check("大.webp", Some(WEBP), &webp(4097, 1)).unwrap_err();
        assert!(e.message.contains("4097×1"), "{e:?}");
        let mut cut = webp(30, 20);
        cut.truncate(cut.len() - 4);
        assert!(check("坏.webp", Some(WEBP), &cut).is_err());
    }
}
