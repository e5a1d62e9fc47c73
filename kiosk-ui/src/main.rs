//! `menpai-kiosk`: the plate's fullscreen UI.
//!
//! Options: `--agent http://127.0.0.1:7700`, `--landscape`, `--windowed`,
//! `--shots DIR --script "home;search;key:g;…"` (scripted screenshots for tests).

fn main() {
    let options = match menpai_kiosk::Options::from_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n\n{}", menpai_kiosk::Options::USAGE);
            std::process::exit(2);
        }
    };
    menpai_kiosk::app(options).run();
}
