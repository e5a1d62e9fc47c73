//! Network connectivity as NetworkManager sees it.

use menpai_model::api::NetworkStatus;
use zbus::proxy::CacheProperties;
use zbus::zvariant::OwnedObjectPath;

#[zbus::proxy(
    interface = "org.freedesktop.NetworkManager",
    default_service = "org.freedesktop.NetworkManager",
    default_path = "/org/freedesktop/NetworkManager"
)]
trait NetworkManager {
    #[zbus(property)]
    fn connectivity(&self) -> zbus::Result<u32>;
    #[zbus(property)]
    fn primary_connection(&self) -> zbus::Result<OwnedObjectPath>;
}

#[zbus::proxy(
    interface = "org.freedesktop.NetworkManager.Connection.Active",
    default_service = "org.freedesktop.NetworkManager"
)]
trait ActiveConnection {
    #[zbus(property)]
    fn id(&self) -> zbus::Result<String>;
    #[zbus(property, name = "Type")]
    fn kind(&self) -> zbus::Result<String>;
}

/// NetworkManager's connectivity number in its own word and in plain Chinese.
pub fn connectivity_words(n: u32) -> (&'static str, &'static str) {
    match n {
        1 => ("none", "没有网络"),
        2 => ("portal", "需要网页认证才能上网"),
        3 => ("limited", "网络受限，连不上外网"),
        4 => ("full", "网络正常"),
        _ => ("unknown", "网络状态未知"),
    }
}

/// Asks NetworkManager; an absent or silent NetworkManager is `unknown`, with the reason.
pub async fn read(bus: &zbus::Connection) -> NetworkStatus {
    match try_read(bus).await {
        Ok(s) => s,
        Err(e) => NetworkStatus {
            connectivity: "unknown".into(),
            connection: None,
            kind: None,
            detail: format!("NetworkManager 没有回答：{e}"),
        },
    }
}

async fn try_read(bus: &zbus::Connection) -> zbus::Result<NetworkStatus> {
    // Fresh values on every poll: no cache that depends on change signals.
    let nm = NetworkManagerProxy::builder(bus)
        .cache_properties(CacheProperties::No)
        .build()
        .await?;
    let (word, words) = connectivity_words(nm.connectivity().await?);
    let primary = nm.primary_connection().await?;
    let (mut connection, mut kind) = (None, None);
    if primary.as_str() != "/" {
        let active = ActiveConnectionProxy::builder(bus)
            .path(primary)?
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        connection = active.id().await.ok();
        kind = active.kind().await.ok();
    }
    let detail = match &connection {
        Some(name) => format!("{words}（{name}）"),
        None => words.to_owned(),
    };
    Ok(NetworkStatus {
        connectivity: word.into(),
        connection,
        kind,
        detail,
    })
}
