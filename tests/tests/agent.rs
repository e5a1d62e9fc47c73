//! The real `menpai-agent` process on a loopback port the OS picks: content, events, bad packs.

use std::net::TcpStream;
use std::process::Command;

use menpai_tests::{binary, copy_dir, demo_region, get_json, http, start_agent};

const TOKEN: &str = "technician-secret";

fn token_hash() -> String {
    // sha256sum (coreutils) computes it independently of the agent.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("printf %s '{TOKEN}' | sha256sum"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn the_agent_serves_the_demo_region_on_loopback_only() {
    let agent = start_agent(&demo_region(), "");
    assert!(agent.addr.ip().is_loopback());
    let (status, health) = get_json(agent.addr, "/api/v1/health");
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["items"], 100);
    // The kernel's socket table shows the listener bound to 127.0.0.1, not to every interface.
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let port = format!(":{:04X}", agent.addr.port());
    let listener = tcp.lines().find(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        cols.get(1).is_some_and(|a| a.ends_with(&port)) && cols.get(3) == Some(&"0A")
    });
    assert_eq!(
        listener.map(|l| l.split_whitespace().nth(1).unwrap().to_owned()),
        Some(format!("0100007F{port}"))
    );
}

#[test]
fn a_public_listen_address_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agent.toml");
    std::fs::write(&config, "listen = \"0.0.0.0:0\"\n").unwrap();
    let out = Command::new(binary("menpai-agent"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a loopback address"), "{err}");
}

#[test]
fn content_changes_reach_the_event_stream_and_broken_packs_change_nothing() {
    let hash = token_hash();
    assert_eq!(hash.len(), 64);
    let agent = start_agent(
        &demo_region(),
        &format!("[admin]\ntoken_sha256 = \"{hash}\"\n"),
    );
    let (mut ws, _) = tungstenite::connect(format!("ws://{}/api/v1/events", agent.addr)).unwrap();
    let hello: serde_json::Value =
        serde_json::from_str(ws.read().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["content_version"], "2026.11.21-1");

    // A broken pack: refused with file, item and field named; the active version stays.
    let broken = tempfile::tempdir().unwrap();
    copy_dir(&demo_region(), broken.path());
    let item = broken.path().join("items/E07.json");
    let text = std::fs::read_to_string(&item).unwrap().replacen(
        "\"audience\": \"法人\"",
        "\"audience\": \"公司\"",
        1,
    );
    std::fs::write(&item, text).unwrap();
    let auth = format!("Bearer {TOKEN}");
    let body = format!("{{\"dir\": {:?}}}", broken.path());
    let (status, reply) = http(
        agent.addr,
        "POST",
        "/api/v1/admin/content/import",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    );
    assert_eq!(status, 422, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["details"][0]["file"], "items/E07.json");
    assert_eq!(reply["details"][0]["record"], "item E07");
    assert_eq!(reply["details"][0]["field"], "audience");
    let (_, health) = get_json(agent.addr, "/api/v1/health");
    assert_eq!(health["content_version"], "2026.11.21-1");

    // The same pack fixed and with a new version: activated, and the UI is told.
    let text = std::fs::read_to_string(&item).unwrap().replacen(
        "\"audience\": \"公司\"",
        "\"audience\": \"法人\"",
        1,
    );
    std::fs::write(&item, text).unwrap();
    let region = broken.path().join("region.json");
    let text =
        std::fs::read_to_string(&region)
            .unwrap()
            .replacen("2026.11.21-1", "2026.11.22-1", 1);
    std::fs::write(&region, text).unwrap();
    let (status, reply) = http(
        agent.addr,
        "POST",
        "/api/v1/admin/content/import",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{reply}");
    let event: serde_json::Value =
        serde_json::from_str(ws.read().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(event["type"], "content_changed");
    assert_eq!(event["version"], "2026.11.22-1");

    // Garbage on the socket does not take the agent down.
    use std::io::Write;
    let mut s = TcpStream::connect(agent.addr).unwrap();
    s.write_all(b"\x00\xff\xfe GARBAGE\r\n\r\n").unwrap();
    drop(s);
    let (status, _) = get_json(agent.addr, "/api/v1/health");
    assert_eq!(status, 200);
}

#[test]
fn the_import_command_names_file_item_and_field_of_a_broken_pack() {
    let broken = tempfile::tempdir().unwrap();
    copy_dir(&demo_region(), broken.path());
    let item = broken.path().join("items/P27.json");
    let text = std::fs::read_to_string(&item)
        .unwrap()
        .replacen("\"visits\": ", "\"visits\": 7", 1);
    // `"visits": 71` or similar: any value over 1 is invalid.
    std::fs::write(&item, text).unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("agent.toml");
    std::fs::write(&config, format!("data_dir = {:?}\n", data.path())).unwrap();
    let out = Command::new(binary("menpai-agent"))
        .args(["import", "--config"])
        .arg(&config)
        .arg(broken.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("items/P27.json: item P27: field `visits`"),
        "{err}"
    );
    assert!(err.contains("active version is unchanged"), "{err}");
}

/// The raw answer to a GET: status and body bytes (pictures are not text).
fn get_bytes(addr: std::net::SocketAddr, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, raw[split + 4..].to_vec())
}

#[test]
fn a_seed_packs_pictures_are_served_as_small_pngs_and_its_form_files_never() {
    // A pack directory whose first slide carries a picture and whose first form a blank PDF.
    let pack = tempfile::tempdir().unwrap();
    copy_dir(&demo_region(), pack.path());
    std::fs::create_dir_all(pack.path().join("files")).unwrap();
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        800,
        400,
        image::Rgb([20, 90, 180]),
    ))
    .write_to(
        &mut std::io::Cursor::new(&mut jpeg),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    std::fs::write(pack.path().join("files/agent-test-poster.jpg"), &jpeg).unwrap();
    let slides_path = pack.path().join("slides.json");
    let mut slides: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&slides_path).unwrap()).unwrap();
    slides[0]["image"] = serde_json::json!({
        "media_type": "image/jpeg",
        "name": "海报.jpg",
        "path": "files/agent-test-poster.jpg"
    });
    std::fs::write(&slides_path, slides.to_string()).unwrap();

    let agent = start_agent(pack.path(), "");
    let (status, home) = get_json(agent.addr, "/api/v1/home");
    assert_eq!(status, 200);
    let sha = home["slides"][0]["image"]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(sha.len(), 64);
    // Re-encoded as PNG at the width asked, whatever the stored picture's type.
    let (status, png) = get_bytes(agent.addr, &format!("/api/v1/files/{sha}?w=200"));
    assert_eq!(status, 200);
    let shown = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap();
    assert_eq!((shown.width(), shown.height()), (200, 100));
    let (status, _) = get_bytes(agent.addr, &format!("/api/v1/files/{sha}?w=5000"));
    assert_eq!(status, 400, "a width beyond the screen is refused");
    // A form file of the pack (a PDF for phones) is never served by the terminal.
    let forms: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(demo_region().join("forms/P1.json")).unwrap(),
    )
    .unwrap();
    let blank = forms
        .as_array()
        .unwrap()
        .iter()
        .find_map(|f| f["blank"]["path"].as_str().map(str::to_owned));
    if let Some(path) = blank {
        let bytes = std::fs::read(demo_region().join(path)).unwrap();
        let pdf_sha = menpai_model::bundle::sha256_hex(&bytes);
        let (status, _) = get_bytes(agent.addr, &format!("/api/v1/files/{pdf_sha}"));
        assert_eq!(status, 404);
    }
    let (status, _) = get_bytes(agent.addr, &format!("/api/v1/files/{}", "0".repeat(64)));
    assert_eq!(status, 404);
}
