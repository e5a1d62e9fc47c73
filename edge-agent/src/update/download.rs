//! The bundle's download: into a file in the data directory, resumed with a `Range` request
//! where the last attempt stopped (a cut link, a restart, a reboot), then checked against the
//! SHA-256 the server gave.

use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::Duration;

use http_body_util::BodyExt;
use menpai_model::update::UpdateOffer;
use sha2::{Digest, Sha256};

use crate::devices::backoff::Backoff;
use crate::sync::client::Client;

/// Attempts in a row that bring nothing new before the round gives up (the next one resumes).
const FRUITLESS_TRIES: u32 = 8;
/// Longest wait for the next piece of the body on a live connection.
const STALL: Duration = Duration::from_secs(60);

/// Why a download stopped.
#[derive(Debug)]
pub enum Failure {
    /// The link: try again later, keeping what came.
    Link(String),
    /// The server no longer offers it (404) or it came wrong: start over.
    Gone(String),
}

/// Fetches `offer` into `part` until it is whole; `resumed` hears of each resume (bytes held).
pub async fn fetch(
    client: &Client,
    offer: &UpdateOffer,
    part: &Path,
    mut resumed: impl FnMut(u64),
) -> Result<(), Failure> {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    let mut fruitless = 0;
    loop {
        let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        if have == offer.size {
            return Ok(());
        }
        if have > offer.size {
            let _ = std::fs::remove_file(part);
            continue;
        }
        if have > 0 {
            resumed(have);
        }
        let result = attempt(client, offer, part, have).await;
        let now = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        let error = match result {
            Err(Failure::Gone(e)) => return Err(Failure::Gone(e)),
            Err(Failure::Link(e)) => e,
            Ok(()) if now == offer.size => continue,
            Ok(()) => "the answer ended early".to_owned(),
        };
        // Progress resets the count; answers that bring nothing new add up to a giving up.
        if now > have {
            fruitless = 0;
            backoff.reset();
        } else {
            fruitless += 1;
            if fruitless >= FRUITLESS_TRIES {
                return Err(Failure::Link(error));
            }
        }
        tracing::info!(bytes = now, of = offer.size, error = %error, "The bundle's download was cut; resuming.");
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// One request from byte `from`, appended to `part` as it comes.
async fn attempt(
    client: &Client,
    offer: &UpdateOffer,
    part: &Path,
    from: u64,
) -> Result<(), Failure> {
    let range = format!("bytes={from}-");
    let headers: Vec<(&str, &str)> = if from > 0 {
        vec![("range", range.as_str())]
    } else {
        Vec::new()
    };
    let (status, res_headers, mut body) = client
        .open(&offer.path, &headers)
        .await
        .map_err(|e| Failure::Link(e.to_string()))?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(part)
        .map_err(|e| Failure::Link(format!("写不进下载文件：{e}")))?;
    match status {
        206 => {
            let starts = res_headers
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("bytes "))
                .and_then(|v| v.split('-').next())
                .and_then(|v| v.parse::<u64>().ok());
            if starts != Some(from) {
                return Err(Failure::Gone("服务器给的片段对不上".into()));
            }
        }
        200 => {
            // The whole file again: start over.
            file.set_len(0).map_err(|e| Failure::Link(e.to_string()))?;
        }
        // Paused: keep what came, ask again later.
        409 | 423 | 503 => return Err(Failure::Link(format!("服务器暂不提供（{status}）"))),
        404 => return Err(Failure::Gone("服务器不再提供这个更新包".into())),
        416 => return Err(Failure::Gone("下载的文件比更新包还大".into())),
        s => return Err(Failure::Link(format!("服务器回答 {s}"))),
    }
    loop {
        let frame = tokio::time::timeout(STALL, body.frame())
            .await
            .map_err(|_| Failure::Link("下载停住了".into()))?;
        match frame {
            None => break,
            Some(Err(e)) => {
                let _ = file.sync_data();
                return Err(Failure::Link(e.to_string()));
            }
            Some(Ok(f)) => {
                if let Ok(data) = f.into_data() {
                    // Never more than the bundle's size, whatever the server sends.
                    let held = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
                    if held + data.len() as u64 > offer.size {
                        let _ = file.set_len(0);
                        return Err(Failure::Gone("服务器发来的比更新包大".into()));
                    }
                    file.write_all(&data)
                        .map_err(|e| Failure::Link(format!("写不进下载文件：{e}")))?;
                }
            }
        }
    }
    file.sync_data().map_err(|e| Failure::Link(e.to_string()))?;
    Ok(())
}

/// SHA-256 of the file at `path`, hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    f.rewind()?;
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
    }
    Ok(hex::encode(sha.finalize()))
}
