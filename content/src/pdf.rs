//! A PDF's text as `pdftotext` (Debian's poppler-utils) reads it: how the demo forms' titles
//! are checked, in the pack's tests and in the phone's downloads.

use std::io::Write;
use std::process::{Command, Stdio};

/// The text of `pdf` with every space and line break removed (Chinese reads on without them).
pub fn text_of(pdf: &[u8]) -> Result<String, String> {
    let mut child = Command::new("pdftotext")
        .args(["-q", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("pdftotext cannot run (scripts/setup.sh installs poppler-utils): {e}")
        })?;
    let mut stdin = child.stdin.take().expect("piped");
    let bytes = pdf.to_vec();
    // Written from a thread: pdftotext may answer before it has read everything.
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = writer.join();
    if !out.status.success() {
        return Err("pdftotext cannot read it: not a PDF, or a broken one".into());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect())
}
