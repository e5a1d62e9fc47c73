//! The voice that says calls: espeak-ng through the sound card, or WAV files from the twin.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use menpai_drivers::voice::{Announcement, Espeak, EspeakConfig, ReadingPlayer, Voice, WavTwin};
use menpai_model::api::DeviceState;
use serde::Deserialize;

use super::backend::Backend;
use super::context::{Ctx, Reporter};
use super::reading::{self, ReadingHandle};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VoiceConfig {
    /// espeak: speak through the sound card; simulated: write WAV files to wav_dir.
    pub backend: Backend,
    /// The espeak-ng program.
    pub program: String,
    /// An espeak-ng voice fed toned pinyin: `cmn-latn-pinyin`.
    pub voice: String,
    /// Words per minute.
    pub speed: u32,
    /// Times each call is said.
    pub repeat: u32,
    /// Where the simulated voice writes; empty: `voice/` in the data directory. Readings
    /// aloud go to `read/` inside it.
    pub wav_dir: String,
    /// The sound device guides are read aloud on (espeak-ng's `-d`), e.g. the headphone
    /// jack; empty: the default device, the speaker calls use.
    pub read_device: String,
    /// Words per minute when reading aloud (slower than calls, for older citizens).
    pub read_speed: u32,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        VoiceConfig {
            backend: Backend::Simulated,
            program: "espeak-ng".into(),
            voice: "cmn-latn-pinyin".into(),
            speed: 150,
            repeat: 2,
            wav_dir: String::new(),
            read_device: String::new(),
            read_speed: 200,
        }
    }
}

impl VoiceConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        if !matches!(
            self.backend,
            Backend::Espeak | Backend::Simulated | Backend::None
        ) {
            return Err(format!(
                "devices.voice.backend `{}` is not possible for the voice",
                self.backend.name()
            ));
        }
        if !(80..=400).contains(&self.speed)
            || !(80..=400).contains(&self.read_speed)
            || !(1..=3).contains(&self.repeat)
        {
            return Err("devices.voice: speed and read_speed must be 80–400, repeat 1–3".into());
        }
        Ok(())
    }
}

/// A running voice: where announcements go, and where the simulated one writes.
pub(super) struct VoiceHandle {
    pub(super) announcements: mpsc::Sender<Announcement>,
    pub(super) wav_dir: Option<PathBuf>,
    pub(super) reading: ReadingHandle,
}

/// Starts the voice's thread.
pub(super) fn spawn(config: &VoiceConfig, ctx: &Ctx) -> anyhow::Result<VoiceHandle> {
    let c = config;
    let espeak = EspeakConfig {
        program: c.program.clone().into(),
        voice: c.voice.clone(),
        speed: c.speed,
    };
    let reading_voice = EspeakConfig {
        speed: c.read_speed,
        ..espeak.clone()
    };
    let mut wav_dir = None;
    let (voice, player): (Box<dyn Voice>, _) = if c.backend == Backend::Simulated {
        let dir = match c.wav_dir.as_str() {
            "" => std::env::temp_dir().join("menpai-voice"),
            d => d.into(),
        };
        wav_dir = Some(dir.clone());
        let twin = WavTwin::new(reading_voice, &dir.join("read"))?;
        (
            Box::new(WavTwin::new(espeak, &dir)?),
            ReadingPlayer::Twin(twin),
        )
    } else {
        let device = (!c.read_device.is_empty()).then(|| c.read_device.clone());
        let player = ReadingPlayer::Espeak {
            config: reading_voice,
            device,
        };
        let calls = Espeak {
            config: espeak,
            repeat: c.repeat,
        };
        (Box::new(calls), player)
    };
    let reading = reading::spawn(player, ctx)?;
    let (announcements, rx) = mpsc::channel();
    let (r, ctx2) = (ctx.reporter("voice", c.backend), ctx.clone());
    ctx.thread("voice", move || run(voice, rx, &r, &ctx2))?;
    Ok(VoiceHandle {
        announcements,
        wav_dir,
        reading,
    })
}

/// Says announcements in turn; a failure marks the voice down until one succeeds.
fn run(
    mut voice: Box<dyn Voice>,
    announcements: mpsc::Receiver<Announcement>,
    r: &Reporter,
    ctx: &Ctx,
) {
    r.opened();
    r.set(DeviceState::Ok, "就绪");
    while !ctx.stopping() {
        match announcements.recv_timeout(Duration::from_millis(200)) {
            Ok(a) => match voice.say(&a) {
                Ok(()) => r.set(DeviceState::Ok, "就绪"),
                Err(e) => {
                    tracing::warn!(error = %e, text = %a.text, "A call could not be spoken.");
                    r.set(DeviceState::Down, format!("无法播报：{}", e.message));
                }
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}
