//! `decode-qr FILE…`: runs the terminal camera's decode path on image files and prints each
//! payload as `FILE: PAYLOAD` (a line per code; `FILE: -` when none). Exits 1 if any file failed
//! to decode or to load.

use std::process::ExitCode;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: decode-qr IMAGE…");
        return ExitCode::from(2);
    }
    let mut ok = true;
    for f in &files {
        match menpai_drivers::qr::decode_file(std::path::Path::new(f)) {
            Ok(codes) if codes.is_empty() => {
                println!("{f}: -");
                ok = false;
            }
            Ok(codes) => codes.iter().for_each(|c| println!("{f}: {c}")),
            Err(e) => {
                eprintln!("{e}");
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
