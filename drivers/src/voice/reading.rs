//! Reading a text aloud at the plate (听指南): a reading can be stopped at any moment and
//! started again. espeak-ng speaks on the configured sound device; the simulated twin writes
//! the WAV (and its text and pinyin) and then "plays" for as long as the WAV lasts.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Announcement, EspeakConfig, Voice, WavTwin, spoken_pinyin, wav_seconds};
use crate::{Error, ErrorKind, Result};

/// A text as it is read out: the words shown, and the pinyin spoken.
pub fn reading(text: &str) -> Announcement {
    Announcement {
        text: text.to_owned(),
        pinyin: spoken_pinyin(text),
    }
}

/// Where readings are played.
#[derive(Debug)]
pub enum ReadingPlayer {
    /// espeak-ng on a sound device (`None`: the default one).
    Espeak {
        config: EspeakConfig,
        device: Option<String>,
    },
    /// The simulated voice's files.
    Twin(WavTwin),
}

/// A reading under way.
#[derive(Debug)]
pub enum Reading {
    Sounding(Child),
    Twin { until: Instant },
}

impl ReadingPlayer {
    /// Starts reading `a`; returns at once for espeak-ng (the twin first writes its WAV).
    pub fn start(&mut self, a: &Announcement) -> Result<Reading> {
        match self {
            ReadingPlayer::Espeak { config, device } => {
                let mut cmd = Command::new(&config.program);
                cmd.arg("-v")
                    .arg(&config.voice)
                    .arg("-s")
                    .arg(config.speed.to_string());
                if let Some(d) = device {
                    cmd.arg("-d").arg(d);
                }
                // Its own process group: a stop silences whatever it started too.
                std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
                let child = cmd
                    .arg("--")
                    .arg(&a.pinyin)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|e| {
                        Error::new(
                            ErrorKind::Config,
                            format!("cannot run {}: {e}", config.program.display()),
                        )
                    })?;
                Ok(Reading::Sounding(child))
            }
            ReadingPlayer::Twin(twin) => {
                twin.say(a)?;
                let wav = std::fs::read(twin.latest().with_extension("wav"))
                    .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
                let secs = wav_seconds(&wav).unwrap_or(0.0);
                Ok(Reading::Twin {
                    until: Instant::now() + Duration::from_secs_f64(secs),
                })
            }
        }
    }
}

impl Reading {
    /// The reading came to its end (or espeak-ng failed: `Err`).
    pub fn finished(&mut self) -> Result<bool> {
        match self {
            Reading::Sounding(child) => match child.try_wait() {
                Ok(Some(status)) if status.success() => Ok(true),
                Ok(Some(status)) => Err(Error::new(
                    ErrorKind::Io,
                    format!("espeak-ng ended with {status}"),
                )),
                Ok(None) => Ok(false),
                Err(e) => Err(Error::new(ErrorKind::Io, e.to_string())),
            },
            Reading::Twin { until } => Ok(Instant::now() >= *until),
        }
    }

    /// Stops the voice now.
    pub fn stop(&mut self) {
        match self {
            Reading::Sounding(child) => {
                // Only while it runs: a reaped child's number may belong to someone else now.
                if let Ok(None) = child.try_wait()
                    && let Ok(pid) = i32::try_from(child.id())
                {
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                let _ = child.kill();
                let _ = child.wait();
            }
            Reading::Twin { until } => *until = Instant::now(),
        }
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_twin_reads_for_as_long_as_its_wav_and_stops_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let twin = WavTwin::new(EspeakConfig::default(), dir.path()).unwrap();
        let mut player = ReadingPlayer::Twin(twin);
        let mut r = player.start(&reading("请到银行还款")).unwrap();
        assert!(
            !r.finished().unwrap(),
            "a spoken WAV lasts more than a moment"
        );
        r.stop();
        assert!(r.finished().unwrap());
        let txt = std::fs::read_to_string(dir.path().join("0001.txt")).unwrap();
        assert_eq!(txt, "请到银行还款\nqing3 dao4 yin2 hang2 huan2 kuan3\n");
    }

    #[test]
    fn a_sounding_reading_is_stopped_at_once() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("speaks-long");
        std::fs::write(&program, "#!/bin/sh\nexec sleep 60\n").unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let config = EspeakConfig {
            program,
            ..EspeakConfig::default()
        };
        let mut player = ReadingPlayer::Espeak {
            config,
            device: Some("headphones".into()),
        };
        let mut r = player.start(&reading("你好")).unwrap();
        assert!(!r.finished().unwrap());
        let asked = Instant::now();
        r.stop();
        assert!(asked.elapsed() < Duration::from_secs(5));
    }
}
