//! Talking to the regional server about updates: what to install (`GET /device/v1/update`),
//! and each step and what the terminal runs (`POST /device/v1/update`).

use std::time::Duration;

use menpai_model::update::{SystemInfo, UpdateAnswer, UpdatePhase, UpdateReport};

use super::pending::Pending;
use crate::sync::client::{Client, ClientError};

/// How long one request to the server may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// What the loop remembers between rounds: the last step and system reported (each told once,
/// not every few seconds), and whether this boot's slot was marked good.
#[derive(Debug, Default)]
pub(super) struct Told {
    last: Option<(Option<UpdatePhase>, String)>,
    system: Option<SystemInfo>,
    pub(super) marked_good: bool,
}

/// What became of a report.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Sent {
    Landed,
    /// Refused for good: the terminal is no longer in that rollout (cancelled, finished).
    Refused,
}

/// Why the server did not take a report.
#[derive(Debug)]
pub(super) enum Unsent {
    /// Not reached: no route, refused or timed out (the server or the link is away).
    Away(String),
    /// Reached but the exchange failed (TLS, HTTP, a 5xx): something on this side or the
    /// server's is broken.
    Broken(String),
}

impl std::fmt::Display for Unsent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsent::Away(e) | Unsent::Broken(e) => f.write_str(e),
        }
    }
}

impl From<Unsent> for String {
    fn from(u: Unsent) -> String {
        u.to_string()
    }
}

fn unsent(e: ClientError) -> Unsent {
    match e {
        ClientError::Timeout => Unsent::Away(e.to_string()),
        ClientError::Connect(m) if !m.starts_with("TLS") => Unsent::Away(m),
        other => Unsent::Broken(other.to_string()),
    }
}

pub(super) async fn report(
    client: &Client,
    rollout: Option<&str>,
    phase: Option<UpdatePhase>,
    detail: &str,
    system: &SystemInfo,
) -> Result<Sent, Unsent> {
    let body = UpdateReport {
        rollout: rollout.map(str::to_owned),
        phase,
        detail: detail
            .chars()
            .take(menpai_model::update::DETAIL_MAX_CHARS)
            .collect(),
        system: system.clone(),
    };
    let r = client
        .request(
            "POST",
            "/device/v1/update",
            &[],
            serde_json::to_vec(&body).expect("reports serialise"),
            TIMEOUT,
        )
        .await
        .map_err(unsent)?;
    match r.status {
        200 => Ok(Sent::Landed),
        400 | 403 | 404 | 409 => {
            tracing::warn!(status = r.status, error = %r.error_text(), "An update report was refused.");
            Ok(Sent::Refused)
        }
        s => Err(Unsent::Broken(format!(
            "the server answered {s} to an update report"
        ))),
    }
}

/// Reports what the terminal runs, when it changed since the last report.
pub(super) async fn system(
    client: &Client,
    told: &mut Told,
    system: &SystemInfo,
) -> Result<(), String> {
    if told.system.as_ref() == Some(system) {
        return Ok(());
    }
    report(client, None, None, "", system).await?;
    told.system = Some(system.clone());
    Ok(())
}

/// Reports a step of `p` (once per distinct step and words).
pub(super) async fn step(
    client: &Client,
    told: &mut Told,
    p: &Pending,
    phase: UpdatePhase,
    detail: &str,
    system: &SystemInfo,
) -> Result<Sent, Unsent> {
    let key = (Some(phase), detail.to_owned());
    if told.last.as_ref() == Some(&key) {
        return Ok(Sent::Landed);
    }
    tracing::info!(phase = phase.name(), detail, rollout = %p.offer.rollout, "Update step.");
    let sent = report(client, Some(&p.offer.rollout), Some(phase), detail, system).await?;
    told.last = Some(key);
    Ok(sent)
}

/// What the server offers now.
pub(super) async fn offer(client: &Client) -> Result<UpdateAnswer, String> {
    let r = client
        .request("GET", "/device/v1/update", &[], Vec::new(), TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    if r.status != 200 {
        return Err(format!("the server answered {} for the update", r.status));
    }
    serde_json::from_slice(&r.body).map_err(|e| format!("the update answer: {e}"))
}
