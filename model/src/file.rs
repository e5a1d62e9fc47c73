//! Files content carries (blank forms, filled-in samples, images): content-addressed by the
//! SHA-256 of their bytes, listed in the signed bundle like records.

use serde::{Deserialize, Serialize};

/// Media types a file of the content may have.
pub const FORM_TYPES: &[&str] = &[
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];
pub const IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/webp"];

/// A file's bytes are at most this large (a scanned sample page, a form with pictures).
pub const MAX_FILE_BYTES: u64 = 8 << 20;

/// One file of the content, named by its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// SHA-256 of the bytes, lower-case hex; empty in a pack directory until loaded.
    #[serde(default)]
    pub sha256: String,
    /// The type read from the bytes (never from the name), one of [`FORM_TYPES`] or
    /// [`IMAGE_TYPES`].
    pub media_type: String,
    #[serde(default)]
    pub size: u64,
    /// The name a download is saved under, e.g. 居民身份证申领登记表.pdf.
    pub name: String,
    /// In a pack directory only: the file's path inside the pack (`files/…`); the loader
    /// reads it and fills `sha256` and `size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl FileRef {
    pub fn is_image(&self) -> bool {
        IMAGE_TYPES.contains(&self.media_type.as_str())
    }

    /// What is wrong with this reference, if anything (plain Chinese, for editors).
    pub fn problem(&self) -> Option<String> {
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some("文件没有上传完成（缺少内容摘要）".into());
        }
        if !FORM_TYPES.contains(&self.media_type.as_str()) && !self.is_image() {
            return Some(format!("不支持的文件类型 {}", self.media_type));
        }
        if self.size == 0 || self.size > MAX_FILE_BYTES {
            return Some(format!(
                "文件大小应在 1 字节到 {} MB 之间",
                MAX_FILE_BYTES >> 20
            ));
        }
        name_problem(&self.name)
    }
}

/// Why a file name cannot be kept: path separators, control characters, dot names, length.
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("文件名不能为空".into());
    }
    if name.chars().count() > 100 {
        return Some("文件名太长（最多 100 个字）".into());
    }
    if name.contains(['/', '\\']) {
        return Some("文件名不能含有路径分隔符 / 或 \\".into());
    }
    if name.chars().any(|c| c.is_control() || is_format(c)) {
        return Some("文件名不能含有控制字符或方向控制符".into());
    }
    if name.starts_with('.') {
        return Some("文件名不能以点开头".into());
    }
    None
}

/// Invisible format characters that can make a name read otherwise than it is
/// (`申请表\u{202E}fdp.exe` shows as `申请表exe.pdf`): bidi controls, zero widths, BOM.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_paths_or_controls_are_refused() {
        assert!(name_problem("申请表.pdf").is_none());
        for bad in [
            "../etc/passwd",
            "a\\b.pdf",
            "a\nb.pdf",
            ".hidden",
            "",
            "a\u{7}.pdf",
            "申请表\u{202E}fdp.exe",
        ] {
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
    }
}
