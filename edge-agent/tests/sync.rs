//! Content sync against a stand-in regional server (TLS on loopback, a signed manifest, blobs
//! by hash): pictures the plate shows are fetched, checked and served; form files are never
//! fetched; a forged picture is refused; pictures live as long as a kept version names them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use menpai_agent::Agent;
use menpai_agent::config::Config;
use menpai_agent::store::Store;
use menpai_agent::sync::client::Client;
use menpai_agent::sync::{Outcome, SyncError, sync_once};
use menpai_model::api::RegionalStatus;
use menpai_model::bundle::{self, sha256_hex};
use menpai_model::file::FileRef;
use menpai_model::{ContentPack, Notice, NoticeKind, Slide};
use tower::ServiceExt;

/// What the stand-in server publishes, and what terminals asked it for.
#[derive(Default)]
struct Published {
    manifest: Vec<u8>,
    signature: String,
    blobs: HashMap<String, Vec<u8>>,
    /// Bytes served instead of the real ones (a forged blob).
    forged: HashMap<String, Vec<u8>>,
    asked: Vec<String>,
}

type Shared = Arc<Mutex<Published>>;

const SIGNING: [u8; 32] = [7; 32];

fn publish(shared: &Shared, pack: &ContentPack, version: &str) {
    let b = bundle::build(pack, version, "2026-12-04T10:00:00Z");
    let manifest = serde_json::to_vec(&b.manifest).unwrap();
    let signature = SigningKey::from_bytes(&SIGNING).sign(&manifest);
    let mut p = shared.lock().unwrap();
    p.signature = base64::engine::general_purpose::STANDARD.encode(signature.to_bytes());
    p.manifest = manifest;
    for s in b.shards {
        p.blobs.insert(sha256_hex(&s), s);
    }
    for r in b.records {
        p.blobs.insert(r.sha256(), r.body);
    }
    for (sha, bytes) in &pack.files {
        p.blobs.insert(sha.clone(), bytes.clone());
    }
}

async fn manifest(State(shared): State<Shared>, headers: HeaderMap) -> axum::response::Response {
    let p = shared.lock().unwrap();
    let etag = format!("\"{}\"", sha256_hex(&p.manifest));
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [("x-menpai-signature", p.signature.clone()), ("etag", etag)],
        p.manifest.clone(),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct Asked {
    hashes: Vec<String>,
}

async fn blobs(State(shared): State<Shared>, Json(asked): Json<Asked>) -> Vec<u8> {
    let mut p = shared.lock().unwrap();
    let mut out = Vec::new();
    for sha in asked.hashes {
        let body = p.forged.get(&sha).or_else(|| p.blobs.get(&sha)).cloned();
        match body {
            Some(b) => {
                out.extend(format!("{sha} {}\n", b.len()).into_bytes());
                out.extend(b);
            }
            None => out.extend(format!("{sha} -\n").into_bytes()),
        }
        p.asked.push(sha);
    }
    out
}

/// One blob, or the piece of it `Range: bytes=a-b` asks for (how pictures come).
async fn blob(
    State(shared): State<Shared>,
    axum::extract::Path(sha): axum::extract::Path<String>,
    headers: HeaderMap,
) -> axum::response::Response {
    let mut p = shared.lock().unwrap();
    p.asked.push(sha.clone());
    let Some(body) = p.forged.get(&sha).or_else(|| p.blobs.get(&sha)).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let range = headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)));
    match range {
        Some((a, b)) if a < body.len() => {
            let b = b.min(body.len() - 1);
            (
                StatusCode::PARTIAL_CONTENT,
                [("content-range", format!("bytes {a}-{b}/{}", body.len()))],
                body[a..=b].to_vec(),
            )
                .into_response()
        }
        _ => body.into_response(),
    }
}

/// Serves the stand-in over TLS with a self-signed certificate; returns its address and the
/// certificate (the terminal's only root).
async fn serve(shared: Shared) -> (SocketAddr, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let router = Router::new()
        .route("/device/v1/manifest", axum::routing::get(manifest))
        .route("/device/v1/blobs", post(blobs))
        .route("/device/v1/blobs/{sha}", axum::routing::get(blob))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, router) = (acceptor.clone(), router.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, cert.cert.pem())
}

fn png(width: u32, height: u32, shade: u8) -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(width, height, image::Rgba([shade, 90, 160, 255]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn file_ref(bytes: &[u8], media_type: &str, name: &str) -> FileRef {
    FileRef {
        sha256: sha256_hex(bytes),
        media_type: media_type.into(),
        size: bytes.len() as u64,
        name: name.into(),
        path: None,
    }
}

/// The demo region with a sample picture on item E01's first material, a blank PDF on the
/// first form, and a slide with a picture.
fn pack_with_files(picture: &[u8]) -> ContentPack {
    let mut pack = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    let item = pack.items.iter_mut().find(|i| i.id == "E01").unwrap();
    item.materials[0].sample_image = Some(file_ref(picture, "image/png", "样例.png"));
    let pdf = b"%PDF-1.4\n% blank form stand-in\n".to_vec();
    pack.forms[0].blank = Some(file_ref(&pdf, "application/pdf", "空白表格.pdf"));
    pack.files.insert(sha256_hex(&pdf), pdf);
    pack.slides[0].image = Some(file_ref(picture, "image/png", "宣传.png"));
    pack.files.insert(sha256_hex(picture), picture.to_vec());
    pack
}

fn terminal() -> Arc<Agent> {
    let agent = Agent::with_store(Config::default(), Store::open_in_memory().unwrap());
    *agent.regional.lock().unwrap() = Some(RegionalStatus::default());
    Arc::new(agent)
}

async fn get(agent: &Arc<Agent>, uri: &str) -> (StatusCode, Vec<u8>) {
    let res = menpai_agent::api::router(agent.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body.to_vec())
}

#[tokio::test]
async fn pictures_are_fetched_checked_and_served_and_form_files_never_fetched() {
    let shared = Shared::default();
    // Noise compresses badly: a picture of several pieces.
    let mut seed = 7u32;
    let noisy = image::RgbImage::from_fn(600, 300, |_, _| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        image::Rgb([(seed >> 8) as u8, (seed >> 16) as u8, (seed >> 24) as u8])
    });
    let mut picture = Vec::new();
    noisy
        .write_to(
            &mut std::io::Cursor::new(&mut picture),
            image::ImageFormat::Png,
        )
        .unwrap();
    assert!(picture.len() > 3 * 32 * 1024, "{}", picture.len());
    let pack = pack_with_files(&picture);
    let picture_sha = sha256_hex(&picture);
    let form_files: Vec<String> = bundle::files(&pack)
        .into_iter()
        .filter(|(kind, _)| *kind == bundle::FILE)
        .map(|(_, sha)| sha)
        .collect();
    assert!(!form_files.is_empty());
    publish(&shared, &pack, "v1");
    let (addr, ca) = serve(shared.clone()).await;
    let client = Client::new(&format!("https://localhost:{}", addr.port()), &ca, None).unwrap();
    let key = SigningKey::from_bytes(&SIGNING).verifying_key();
    let agent = terminal();

    let outcome = sync_once(&agent, &client, &key).await.unwrap();
    assert_eq!(outcome, Outcome::Activated("v1".into()));
    agent.reload().unwrap();
    {
        let asked = &shared.lock().unwrap().asked;
        let pieces = asked.iter().filter(|a| **a == picture_sha).count();
        assert!(
            pieces >= 4,
            "the picture comes in 32 KiB pieces, not {pieces}"
        );
        for f in &form_files {
            assert!(!asked.contains(f), "form file {f} must not be fetched");
            assert!(!agent.store.has_blob(f).unwrap());
        }
    }
    let fetched = agent
        .regional
        .lock()
        .unwrap()
        .as_ref()
        .unwrap()
        .last_content
        .clone()
        .unwrap();
    assert_eq!(fetched.version, "v1");
    assert!(fetched.bytes_fetched > picture.len() as u64);
    println!(
        "first sync: {} bytes in {} blobs",
        fetched.bytes_fetched, fetched.blobs_fetched
    );

    // The picture comes back as a PNG at the width asked; nothing else is served.
    let (status, body) = get(&agent, &format!("/api/v1/files/{picture_sha}?w=200")).await;
    assert_eq!(status, StatusCode::OK);
    let thumb = image::load_from_memory_with_format(&body, image::ImageFormat::Png).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (200, 100));
    let record_sha = bundle::records(&pack)[1].sha256();
    let (status, _) = get(&agent, &format!("/api/v1/files/{record_sha}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a record is not a picture");
    let (status, _) = get(&agent, &format!("/api/v1/files/{}", form_files[0])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&agent, "/api/v1/files/..%2Fetc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = get(&agent, "/api/v1/items/E01").await;
    assert_eq!(status, StatusCode::OK);
    let guide: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        guide["item"]["materials"][0]["sample_image"]["sha256"],
        picture_sha.as_str()
    );

    // A new picture: only what changed travels, and the old picture stays while the
    // previous version (kept for rollback) names it.
    let second = png(300, 600, 200);
    let mut v2 = pack_with_files(&second);
    v2.files.remove(&picture_sha);
    let second_sha = sha256_hex(&second);
    publish(&shared, &v2, "v2");
    shared.lock().unwrap().asked.clear();
    assert_eq!(
        sync_once(&agent, &client, &key).await.unwrap(),
        Outcome::Activated("v2".into())
    );
    agent.reload().unwrap();
    let asked = shared.lock().unwrap().asked.clone();
    assert!(asked.contains(&second_sha));
    assert!(
        !asked.contains(&picture_sha),
        "a picture already here is not fetched again"
    );
    let cost = agent
        .regional
        .lock()
        .unwrap()
        .as_ref()
        .unwrap()
        .last_content
        .clone()
        .unwrap();
    println!(
        "one changed picture: {} bytes in {} blobs",
        cost.bytes_fetched, cost.blobs_fetched
    );
    assert!(cost.bytes_fetched < fetched.bytes_fetched);
    assert!(
        agent.store.has_blob(&picture_sha).unwrap(),
        "kept for rollback"
    );
    let (status, _) = get(&agent, &format!("/api/v1/files/{picture_sha}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "not named by the active version"
    );
    let (status, _) = get(&agent, &format!("/api/v1/files/{second_sha}")).await;
    assert_eq!(status, StatusCode::OK);
    agent.rollback().unwrap();
    let (status, _) = get(&agent, &format!("/api/v1/files/{picture_sha}")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "rollback shows the old picture again"
    );
    agent.rollback().unwrap();

    // A third version without either: the first picture has no version left and is dropped.
    let mut v3 = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    v3.region.as_mut().unwrap().notice = Some("第三版".into());
    publish(&shared, &v3, "v3");
    sync_once(&agent, &client, &key).await.unwrap();
    assert!(!agent.store.has_blob(&picture_sha).unwrap());
    assert!(
        agent.store.has_blob(&second_sha).unwrap(),
        "v2 is the previous version"
    );
}

#[tokio::test]
async fn a_forged_picture_is_refused_and_the_active_version_stays() {
    let shared = Shared::default();
    let good = png(100, 100, 10);
    publish(&shared, &pack_with_files(&good), "v1");
    let (addr, ca) = serve(shared.clone()).await;
    let client = Client::new(&format!("https://localhost:{}", addr.port()), &ca, None).unwrap();
    let key = SigningKey::from_bytes(&SIGNING).verifying_key();
    let agent = terminal();
    sync_once(&agent, &client, &key).await.unwrap();

    let picture = png(120, 80, 99);
    let sha = sha256_hex(&picture);
    publish(&shared, &pack_with_files(&picture), "v2");
    shared
        .lock()
        .unwrap()
        .forged
        .insert(sha.clone(), png(120, 80, 98));
    let err = sync_once(&agent, &client, &key).await.unwrap_err();
    assert!(
        matches!(err, SyncError::HashMismatch(ref s) if *s == sha),
        "{err}"
    );
    assert_eq!(agent.store.active().unwrap().unwrap().version, "v1");
    assert!(!agent.store.has_blob(&sha).unwrap());
}

#[tokio::test]
async fn slides_and_notices_leave_the_home_screen_when_they_expire() {
    let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
    let mut pack = menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap();
    let hall = Config::default().terminal.hall;
    let other = pack
        .outlets
        .iter()
        .find(|o| o.id != hall)
        .unwrap()
        .id
        .clone();
    pack.slides.push(Slide {
        id: "zz-short".into(),
        title: "限时宣传".into(),
        subtitle: "本周有效".into(),
        color: "#1E5AA8".into(),
        item: None,
        image: None,
        expires_at: Some(at("2026-12-05T18:00")),
    });
    let notice = |id: &str, outlet: Option<String>, kind| Notice {
        id: id.into(),
        kind,
        outlet,
        title: "周六闭厅".into(),
        text: "因系统升级，本周六不对外办公。".into(),
        starts_at: Some(at("2026-12-04T08:00")),
        expires_at: at("2026-12-06T00:00"),
    };
    pack.notices = vec![
        notice("n-here", Some(hall.clone()), NoticeKind::Closure),
        notice("n-all", None, NoticeKind::Maintenance),
        notice("n-other", Some(other), NoticeKind::Closure),
    ];
    let store = Store::open_in_memory().unwrap();
    store.import(&pack).unwrap();
    let agent = Arc::new(Agent::with_store(Config::default(), store));
    agent.reload().unwrap();

    let home = |at: &'static str| {
        let agent = agent.clone();
        async move {
            let (status, body) = get(&agent, &format!("/api/v1/home?at={at}")).await;
            assert_eq!(status, StatusCode::OK);
            serde_json::from_slice::<serde_json::Value>(&body).unwrap()
        }
    };
    let ids = |v: &serde_json::Value, list: &str| -> Vec<String> {
        v[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let before_start = home("2026-12-04T07:59").await;
    assert!(ids(&before_start, "notices").is_empty());
    let during = home("2026-12-05T17:59").await;
    assert_eq!(ids(&during, "notices"), ["n-all", "n-here"]);
    assert!(ids(&during, "slides").contains(&"zz-short".to_owned()));
    assert_eq!(during["notices"][1]["kind"], "闭厅通知");
    let slide_gone = home("2026-12-05T18:00").await;
    assert!(!ids(&slide_gone, "slides").contains(&"zz-short".to_owned()));
    assert_eq!(ids(&slide_gone, "notices").len(), 2);
    let after = home("2026-12-06T00:00").await;
    assert!(ids(&after, "notices").is_empty());
    assert!(
        !ids(&after, "slides").is_empty(),
        "slides without expiry stay"
    );
}
