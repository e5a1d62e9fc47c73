//! Spoken calls: "请 A001 号到 5 号窗口办理" in Mandarin, offline, by espeak-ng.
//!
//! espeak-ng's `cmn` voice misreads hanzi, so announcements are turned into toned pinyin
//! (`qing3 ei1 ling2 ling2 yi1 hao4 …`) and spoken with the `cmn-latn-pinyin` voice. The
//! simulated twin writes each announcement to a WAV file (and its text beside it) instead
//! of playing it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Error, ErrorKind, Result};

mod pinyin;
mod reading;

pub use pinyin::{cardinal, spoken_pinyin, to_pinyin};
pub use reading::{Reading, ReadingPlayer, reading};

/// What to say: the words as shown, and as spoken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// As a citizen reads it, e.g. `请A001号到5号窗口办理`.
    pub text: String,
    /// Toned pinyin for the voice.
    pub pinyin: String,
}

/// The call of a ticket to a window: the number said digit by digit, the window as a number.
pub fn call(number: &str, window: u32) -> Announcement {
    let text = format!("请{number}号到{window}号窗口办理");
    let spoken = format!("请{number}号，到{}号窗口办理", cardinal(window));
    Announcement {
        pinyin: to_pinyin(&spoken),
        text,
    }
}

/// Something that speaks announcements.
pub trait Voice: Send {
    fn say(&mut self, a: &Announcement) -> Result<()>;
}

/// How espeak-ng is run.
#[derive(Debug, Clone, PartialEq)]
pub struct EspeakConfig {
    /// The program, `espeak-ng` on PATH by default.
    pub program: PathBuf,
    pub voice: String,
    /// Words per minute.
    pub speed: u32,
}

impl Default for EspeakConfig {
    fn default() -> Self {
        EspeakConfig {
            program: PathBuf::from("espeak-ng"),
            voice: "cmn-latn-pinyin".into(),
            speed: 150,
        }
    }
}

pub(crate) fn run(c: &EspeakConfig, extra: &[&std::ffi::OsStr], pinyin: &str) -> Result<()> {
    let out = Command::new(&c.program)
        .arg("-v")
        .arg(&c.voice)
        .arg("-s")
        .arg(c.speed.to_string())
        .args(extra)
        .arg("--")
        .arg(pinyin)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("cannot run {}: {e}", c.program.display()),
            )
        })?;
    if !out.status.success() {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "{} failed: {}",
                c.program.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(())
}

/// Speaks through the sound card, `repeat` times (halls say a call twice).
#[derive(Debug, Clone)]
pub struct Espeak {
    pub config: EspeakConfig,
    pub repeat: u32,
}

impl Voice for Espeak {
    fn say(&mut self, a: &Announcement) -> Result<()> {
        for _ in 0..self.repeat.max(1) {
            run(&self.config, &[], &a.pinyin)?;
        }
        Ok(())
    }
}

/// The simulated voice: `NNNN.wav` (spoken by espeak-ng) and `NNNN.txt` (text and pinyin)
/// per announcement, in a directory.
#[derive(Debug, Clone)]
pub struct WavTwin {
    pub config: EspeakConfig,
    pub dir: PathBuf,
    count: u32,
}

impl WavTwin {
    pub fn new(config: EspeakConfig, dir: &Path) -> Result<WavTwin> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
        let count = std::fs::read_dir(dir)
            .map(|d| d.count() as u32 / 2)
            .unwrap_or(0);
        Ok(WavTwin {
            config,
            dir: dir.to_owned(),
            count,
        })
    }
}

impl WavTwin {
    /// The newest announcement's files, without extension (`NNNN`).
    pub fn latest(&self) -> PathBuf {
        self.dir.join(format!("{:04}", self.count))
    }
}

impl Voice for WavTwin {
    fn say(&mut self, a: &Announcement) -> Result<()> {
        self.count += 1;
        let base = self.latest();
        let wav = base.with_extension("wav");
        let partial = base.with_extension("wav.part");
        run(
            &self.config,
            &[std::ffi::OsStr::new("-w"), partial.as_os_str()],
            &a.pinyin,
        )?;
        let io = |e: std::io::Error| Error::new(ErrorKind::Io, e.to_string());
        std::fs::write(
            base.with_extension("txt"),
            format!("{}\n{}\n", a.text, a.pinyin),
        )
        .map_err(io)?;
        // The WAV appears whole or not at all, so a reader never sees half an announcement.
        std::fs::rename(&partial, &wav).map_err(io)
    }
}

/// Length of a PCM WAV file's sound, in seconds (for tests and the self-test).
pub fn wav_seconds(bytes: &[u8]) -> Option<f64> {
    if bytes.len() < 44 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return None;
    }
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap_or_default());
    let byte_rate = u32_at(28);
    // Walk the chunks to `data` (espeak-ng writes a streaming header with a 0x7fffffff size).
    let mut i = 12;
    while i + 8 <= bytes.len() {
        let size = u32_at(i + 4) as usize;
        if &bytes[i..i + 4] == b"data" {
            let len = size.min(bytes.len() - i - 8);
            return (byte_rate > 0).then(|| len as f64 / byte_rate as f64);
        }
        i += 8 + size + (size & 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_calls_become_toned_pinyin() {
        assert_eq!(cardinal(5), "五");
        assert_eq!(cardinal(12), "十二");
        assert_eq!(cardinal(40), "四十");
        assert_eq!(cardinal(105), "一百零五");
        assert_eq!(cardinal(110), "一百一十");
        let a = call("A001", 12);
        assert_eq!(a.text, "请A001号到12号窗口办理");
        assert_eq!(
            a.pinyin,
            "qing3 ei1 ling2 ling2 yi1 hao4, dao4 shi2 er4 hao4 chuang1 kou3 ban4 li3"
        );
        assert_eq!(to_pinyin("的"), "de5");
    }

    #[test]
    fn the_twin_writes_a_spoken_wav_of_the_call() {
        let dir = tempfile::tempdir().unwrap();
        let mut twin = WavTwin::new(EspeakConfig::default(), dir.path()).unwrap();
        twin.say(&call("E012", 5)).unwrap();
        let wav = std::fs::read(dir.path().join("0001.wav")).unwrap();
        let secs = wav_seconds(&wav).unwrap();
        assert!((1.5..10.0).contains(&secs), "{secs} s");
        let txt = std::fs::read_to_string(dir.path().join("0001.txt")).unwrap();
        assert!(
            txt.starts_with("请E012号到5号窗口办理\nqing3 yi4 ling2 yi1 er4 hao4"),
            "{txt}"
        );
    }
}
