//! Pictures the content names (materials' samples, slides): fetched from the agent as PNGs at
//! the width shown and decoded on a worker thread, so a frame never waits for one. A node asks
//! for a picture by carrying [`Picture`]; it stays hidden until the picture is there.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use bevy::asset::RenderAssetUsages;
use bevy::image::{CompressedImageFormats, ImageSampler, ImageType};
use bevy::prelude::*;
use bevy::winit::{EventLoopProxyWrapper, WinitUserEvent};
use menpai_model::api::AgentEvent;

use crate::Options;
use crate::agent::{AgentLink, AgentPush, AgentStatus};
use crate::nav::KeepAwake;

pub(crate) fn plugin(app: &mut App) {
    app.add_systems(PreStartup, start);
    app.add_systems(PreUpdate, receive);
    app.add_systems(Update, forget_on_new_content);
    app.add_systems(PostUpdate, (ask, show).chain());
}

/// A picture a node shows: its SHA-256 and the width asked of the agent.
#[derive(Component, Debug, Clone, PartialEq, Eq, Hash)]
pub struct Picture {
    pub sha256: String,
    pub width: u32,
}

impl Picture {
    pub fn new(sha256: &str, width: u32) -> Self {
        Picture {
            sha256: sha256.to_owned(),
            width,
        }
    }
}

/// A node showing `picture` at `width` pixels (its height follows the picture), hidden until
/// the picture has come.
pub fn picture(sha256: &str, width: u32) -> (Picture, ImageNode, Visibility, Node) {
    (
        Picture::new(sha256, width),
        ImageNode::default(),
        Visibility::Hidden,
        Node {
            width: px(width),
            flex_shrink: 0.0,
            ..default()
        },
    )
}

type Fetched = (Picture, Option<Image>);

/// Pictures fetched (or failed: `None`), and the link to the worker.
#[derive(Resource)]
struct Pictures {
    got: HashMap<Picture, Option<Handle<Image>>>,
    asks: Option<Sender<Picture>>,
    answers: Mutex<Receiver<Fetched>>,
}

/// Starts the worker, unless a test put its own agent link in place (then nothing is fetched).
fn start(
    mut commands: Commands,
    options: Res<Options>,
    link: Option<Res<AgentLink>>,
    proxy: Option<Res<EventLoopProxyWrapper>>,
) {
    let (ask_tx, ask_rx) = mpsc::channel::<Picture>();
    let (answer_tx, answer_rx) = mpsc::channel();
    let asks = if link.is_some() {
        None
    } else {
        let base = options.agent.trim_end_matches('/').to_owned();
        let waker = proxy.map(|p| (**p).clone());
        std::thread::Builder::new()
            .name("pictures".into())
            .spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_connect(Some(Duration::from_secs(2)))
                    .timeout_global(Some(Duration::from_secs(30)))
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .proxy(None)
                    .build()
                    .into();
                for p in ask_rx {
                    let image = fetch(&agent, &base, &p);
                    if answer_tx.send((p, image)).is_err() {
                        return;
                    }
                    if let Some(w) = &waker {
                        let _ = w.send_event(WinitUserEvent::WakeUp);
                    }
                }
            })
            .expect("thread starts");
        Some(ask_tx)
    };
    commands.insert_resource(Pictures {
        got: HashMap::new(),
        asks,
        answers: Mutex::new(answer_rx),
    });
}

/// A picture's PNG from the agent, decoded; `None` when it is missing or broken.
fn fetch(agent: &ureq::Agent, base: &str, p: &Picture) -> Option<Image> {
    let url = format!("{base}/api/v1/files/{}?w={}", p.sha256, p.width);
    let mut response = agent.get(&url).call().ok()?;
    if response.status() != 200 {
        warn!(sha = %p.sha256, status = %response.status(), "A picture could not be fetched.");
        return None;
    }
    let bytes = response
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_vec()
        .ok()?;
    Image::from_buffer(
        &bytes,
        ImageType::Extension("png"),
        CompressedImageFormats::NONE,
        true,
        ImageSampler::Default,
        RenderAssetUsages::RENDER_WORLD,
    )
    .map_err(|e| warn!(sha = %p.sha256, error = %e, "A picture does not decode."))
    .ok()
}

/// Asks the worker for pictures new nodes want; each counts as a request in flight.
fn ask(
    wanted: Query<&Picture, Changed<Picture>>,
    pictures: Option<ResMut<Pictures>>,
    mut status: ResMut<AgentStatus>,
) {
    let Some(mut pictures) = pictures else { return };
    for p in &wanted {
        if p.sha256.is_empty() || pictures.got.contains_key(p) {
            continue;
        }
        if let Some(tx) = &pictures.asks
            && tx.send(p.clone()).is_ok()
        {
            status.pending += 1;
        }
        pictures.got.insert(p.clone(), None);
    }
}

/// Takes in what the worker decoded.
fn receive(
    pictures: Option<ResMut<Pictures>>,
    images: Option<ResMut<Assets<Image>>>,
    mut status: ResMut<AgentStatus>,
    mut keep: ResMut<KeepAwake>,
) {
    let (Some(mut pictures), Some(mut images)) = (pictures, images) else {
        return;
    };
    let answers: Vec<Fetched> = pictures
        .answers
        .lock()
        .map(|r| r.try_iter().collect())
        .unwrap_or_default();
    for (p, image) in answers {
        status.pending = status.pending.saturating_sub(1);
        keep.ask();
        let handle = image.map(|i| images.add(i));
        pictures.got.insert(p, handle);
    }
}

/// A new content version: pictures no page shows any more are let go (those in view are
/// asked for again when the page is rebuilt).
fn forget_on_new_content(mut pushes: MessageReader<AgentPush>, pictures: Option<ResMut<Pictures>>) {
    let changed = pushes
        .read()
        .any(|p| matches!(p, AgentPush::Event(AgentEvent::ContentChanged { .. })));
    if let (true, Some(mut pictures)) = (changed, pictures) {
        pictures.got.clear();
    }
}

/// Shows each node's picture once it has come.
fn show(
    pictures: Option<Res<Pictures>>,
    mut nodes: Query<(&Picture, &mut ImageNode, &mut Visibility)>,
) {
    let Some(pictures) = pictures else { return };
    for (p, mut node, mut visibility) in &mut nodes {
        if let Some(Some(handle)) = pictures.got.get(p)
            && node.image != *handle
        {
            node.image = handle.clone();
            *visibility = Visibility::Inherited;
        }
    }
}
