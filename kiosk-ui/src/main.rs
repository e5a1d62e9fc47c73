//! `menpai-kiosk`: the plate's fullscreen UI. `menpai-kiosk --help` lists the options, e.g.
//! `--agent http://127.0.0.1:7700`, `--landscape`, `--windowed`,
//! `--shots DIR --script "start;go:search;key:g;…"` (scripted screenshots for tests).

use clap::Parser;

fn main() {
    menpai_kiosk::app(menpai_kiosk::Options::parse()).run();
}
