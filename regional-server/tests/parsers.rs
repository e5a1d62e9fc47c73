//! Property tests of what the regional server reads from outside: content uploads (JSON, CSV,
//! XLSX) and the bodies of its public routes. No input panics or takes the server down; every
//! refusal is a 4xx with a message (never a 5xx), and problem lists stay bounded.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use menpai_model::ContentPack;
use menpai_server::content::{self, Format, MAX_SHOWN};
use menpai_server::{Server, config::Config};
use proptest::prelude::*;
use tower::ServiceExt;

fn demo() -> &'static ContentPack {
    static PACK: OnceLock<ContentPack> = OnceLock::new();
    PACK.get_or_init(|| menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap())
}

/// One server with the demo region published, shared by the cases.
fn server() -> &'static (Arc<Server>, tokio::runtime::Runtime, tempfile::TempDir) {
    static SERVER: OnceLock<(Arc<Server>, tokio::runtime::Runtime, tempfile::TempDir)> =
        OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("data"),
            booking_per_ip_per_hour: 1_000_000,
            ..Config::default()
        };
        let server = Server::open(config).unwrap();
        let (version, _) = content::publish(
            server.storage.as_ref(),
            &server.content_key,
            demo().clone(),
            "test",
        )
        .unwrap();
        server
            .halls
            .replace_with(menpai_server::queue::Halls::from_pack(demo()));
        server.phone.replace(version, demo().clone());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        (Arc::new(server), rt, dir)
    })
}

fn bounded(problems: &content::Problems) -> bool {
    problems.shown.len() <= MAX_SHOWN
        && problems.total >= problems.shown.len()
        && problems.total > 0
        && problems.shown.iter().all(|p| !p.message.is_empty())
}

/// A sheet of items: the header a department writes and rows of arbitrary cells.
fn sheet() -> impl Strategy<Value = String> {
    let header = prop::sample::subsequence(
        vec![
            "事项ID",
            "事项名称",
            "服务对象",
            "到现场次数",
            "承诺时限",
            "网办深度",
            "高频",
            "业务类型",
            "颜色",
        ],
        1..6,
    );
    (
        header,
        prop::collection::vec(prop::collection::vec("[^\"\\r\\n]{0,12}", 0..8), 0..30),
    )
        .prop_map(|(h, rows)| {
            let mut s = h.join(",");
            s.push('\n');
            for r in rows {
                s.push_str(&r.join(","));
                s.push('\n');
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_upload_imports_or_is_refused_with_bounded_problems(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        format in prop::sample::select(vec![Format::Json, Format::Csv, Format::Xlsx]),
    ) {
        match content::import(format, &bytes, Some(demo())) {
            Ok(pack) => prop_assert!(pack.validate().is_ok()),
            Err(problems) => prop_assert!(bounded(&problems), "{problems:?}"),
        }
    }

    #[test]
    fn any_items_sheet_imports_or_names_its_problems(csv in sheet()) {
        match content::import(Format::Csv, csv.as_bytes(), Some(demo())) {
            Ok(pack) => prop_assert!(pack.items.len() >= demo().items.len()),
            Err(problems) => prop_assert!(bounded(&problems), "{problems:?}"),
        }
    }

    #[test]
    fn public_routes_answer_any_body_with_a_4xx_and_a_message(
        body in prop::collection::vec(any::<u8>(), 0..1024),
        route in prop::sample::select(vec![
            ("/api/v1/login", "application/json"),
            ("/login", "application/x-www-form-urlencoded"),
            ("/api/v1/appointments", "application/json"),
            ("/api/v1/appointments/bk-0123456789abcdef/confirm", "application/json"),
            ("/book/hall-futian/P43", "application/x-www-form-urlencoded"),
            ("/book/code/bk-0123456789abcdef", "application/x-www-form-urlencoded"),
            ("/t/hall-futian/20261130/E001/rate", "application/x-www-form-urlencoded"),
            ("/api/v1/account/password", "application/json"),
        ]),
    ) {
        let (server, rt, _) = server();
        let app = menpai_server::public_app(server.clone());
        let mut req = Request::post(route.0)
            .header("content-type", route.1)
            .header("host", "localhost")
            .body(Body::from(body))
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 40000))));
        let res = rt.block_on(app.oneshot(req)).unwrap();
        let status = res.status();
        let text = rt
            .block_on(axum::body::to_bytes(res.into_body(), 1 << 20))
            .unwrap();
        prop_assert!(
            status.is_client_error() || status == StatusCode::SEE_OTHER,
            "{} → {status}: {}",
            route.0,
            String::from_utf8_lossy(&text)
        );
        prop_assert!(status == StatusCode::SEE_OTHER || !text.is_empty());
    }
}
