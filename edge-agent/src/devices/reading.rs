//! Reading aloud at the plate (听指南): one reading at a time on its own thread, stopped or
//! replaced at once; every start and end is pushed to the UI as `ReadingChanged`.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use menpai_drivers::voice::{Announcement, Reading, ReadingPlayer};
use menpai_model::api::{AgentEvent, ReadingState};
use tokio::sync::broadcast;

use super::context::Ctx;

pub(super) enum Command {
    Read(u64, Announcement),
    Stop,
}

/// The running reader: where commands go, and what it reads now.
pub(super) struct ReadingHandle {
    commands: mpsc::Sender<Command>,
    state: Arc<Mutex<ReadingState>>,
    events: broadcast::Sender<AgentEvent>,
}

impl ReadingHandle {
    /// Starts reading `a` (the one reading before is cut off); returns its state.
    pub(super) fn read(&self, a: Announcement) -> ReadingState {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *s = ReadingState {
            id: s.id + 1,
            playing: true,
            text: a.text.clone(),
            pinyin: a.pinyin.clone(),
            error: None,
        };
        let _ = self.commands.send(Command::Read(s.id, a));
        let _ = self
            .events
            .send(AgentEvent::ReadingChanged { reading: s.clone() });
        s.clone()
    }

    /// Stops the reading now; returns the state it leaves. Under the state's lock, so a reading
    /// started meanwhile is either stopped here or not touched at all.
    pub(super) fn stop(&self) -> ReadingState {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self.commands.send(Command::Stop);
        mark_ended(&mut s, &self.events, None);
        s.clone()
    }

    pub(super) fn state(&self) -> ReadingState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub(super) fn spawn(player: ReadingPlayer, ctx: &Ctx) -> anyhow::Result<ReadingHandle> {
    let (commands, rx) = mpsc::channel();
    let state = Arc::new(Mutex::new(ReadingState::default()));
    let (s2, ctx2) = (state.clone(), ctx.clone());
    ctx.thread("read-aloud", move || run(player, rx, &s2, &ctx2))?;
    Ok(ReadingHandle {
        commands,
        state,
        events: ctx.events.clone(),
    })
}

/// Marks reading `id` ended (with why, when it failed) and tells the UI; a newer reading is
/// left alone.
fn ended(
    state: &Mutex<ReadingState>,
    events: &broadcast::Sender<AgentEvent>,
    id: u64,
    error: Option<String>,
) {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    if s.id == id {
        mark_ended(&mut s, events, error);
    }
}

fn mark_ended(s: &mut ReadingState, events: &broadcast::Sender<AgentEvent>, error: Option<String>) {
    if s.playing {
        s.playing = false;
        s.error = error;
        let _ = events.send(AgentEvent::ReadingChanged { reading: s.clone() });
    }
}

fn run(
    mut player: ReadingPlayer,
    commands: mpsc::Receiver<Command>,
    state: &Mutex<ReadingState>,
    ctx: &Ctx,
) {
    let mut now: Option<(u64, Reading)> = None;
    while !ctx.stopping() {
        match commands.recv_timeout(Duration::from_millis(50)) {
            Ok(Command::Read(id, a)) => {
                // A newer reading may already wait: only the last one asked for is read.
                let (mut id, mut a, mut stopped) = (id, a, false);
                while let Ok(next) = commands.try_recv() {
                    match next {
                        Command::Read(i, b) => (id, a, stopped) = (i, b, false),
                        Command::Stop => stopped = true,
                    }
                }
                now = None; // the one before stops here
                if stopped {
                    continue;
                }
                match player.start(&a) {
                    Ok(r) => now = Some((id, r)),
                    Err(e) => {
                        tracing::warn!(error = %e, "A reading could not be started.");
                        ended(state, &ctx.events, id, Some("朗读暂不可用".into()));
                    }
                }
            }
            Ok(Command::Stop) => now = None,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if let Some((id, r)) = now.as_mut() {
            let id = *id;
            match r.finished() {
                Ok(false) => {}
                Ok(true) => {
                    now = None;
                    ended(state, &ctx.events, id, None);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "A reading stopped short.");
                    now = None;
                    ended(state, &ctx.events, id, Some("朗读中断了".into()));
                }
            }
        }
    }
}
