//! The agent's and the kiosk's logs from the systemd journal (`journalctl`), compressed for a
//! remote "collect logs" command: the newest lines kept when there are too many to send.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Most text read from journalctl, in bytes, before compression.
const TEXT_MAX: usize = 32 << 20;
/// Longest journalctl may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Lines of `units` from the last `minutes`, gzip-compressed within `max` bytes (the oldest
/// lines dropped to fit); from the journal files in `dir` when given (tests, a copied journal).
pub async fn collect(
    units: &[&str],
    minutes: u32,
    dir: Option<&Path>,
    max: usize,
) -> Result<(Vec<u8>, usize), String> {
    let mut cmd = tokio::process::Command::new("journalctl");
    if let Some(d) = dir {
        cmd.arg(format!("--directory={}", d.display()));
    }
    for u in units {
        cmd.arg("-u").arg(u);
    }
    cmd.arg(format!("--since=-{minutes}min"))
        .args(["-o", "short-iso", "--no-pager", "-q"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("无法运行 journalctl：{e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    // Read as it comes, keeping only the newest TEXT_MAX bytes (a day of debug logs is large).
    let read = async {
        use tokio::io::AsyncReadExt;
        let mut text = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = stdout.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            text.extend_from_slice(&buf[..n]);
            if text.len() > 2 * TEXT_MAX {
                text.drain(..text.len() - TEXT_MAX);
            }
        }
        let mut err = Vec::new();
        let _ = (&mut stderr).take(4096).read_to_end(&mut err).await;
        let status = child.wait().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((text, err, status))
    };
    let (mut text, err, status) = tokio::time::timeout(TIMEOUT, read)
        .await
        .map_err(|_| "读取日志超时".to_owned())??;
    if !status.success() {
        let why = String::from_utf8_lossy(&err);
        return Err(format!(
            "journalctl 失败：{}",
            why.trim().chars().take(200).collect::<String>()
        ));
    }
    if text.len() > TEXT_MAX {
        text.drain(..text.len() - TEXT_MAX);
    }
    tokio::task::spawn_blocking(move || fit(text, max))
        .await
        .map_err(|e| e.to_string())?
}

/// `text` compressed within `max` bytes: the newest half kept each time it does not fit.
/// The compressed bytes and how many lines they hold.
fn fit(mut text: Vec<u8>, max: usize) -> Result<(Vec<u8>, usize), String> {
    loop {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).map_err(|e| e.to_string())?;
        let bytes = gz.finish().map_err(|e| e.to_string())?;
        if bytes.len() <= max {
            let lines = text.iter().filter(|b| **b == b'\n').count();
            return Ok((bytes, lines));
        }
        // Keep the newer half, from a line's start.
        let half = text.len() / 2;
        let cut = text[half..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(text.len(), |p| half + p + 1);
        text.drain(..cut);
    }
}

#[cfg(test)]
mod tests {
    use super::fit;
    use std::io::Read;

    #[test]
    fn too_many_lines_keep_the_newest() {
        let mut text = Vec::new();
        let mut x = 1u64;
        for i in 0..20_000 {
            // Lines that do not compress well, numbered.
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.extend_from_slice(
                format!("line {i:05} {x:016x}{:016x}\n", x.rotate_left(7)).as_bytes(),
            );
        }
        let (gz, lines) = fit(text, 64 * 1024).unwrap();
        assert!(gz.len() <= 64 * 1024);
        let mut back = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut back)
            .unwrap();
        assert!(back.lines().last().unwrap().starts_with("line 19999 "));
        assert!(!back.contains("line 00000 "), "the oldest went first");
        assert_eq!(back.lines().count(), lines);
        assert!(
            back.lines().next().unwrap().starts_with("line "),
            "cut at a line's start"
        );
    }
}
