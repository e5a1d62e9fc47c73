//! A content version as a signed bundle: every record (item, outlet, form…) is a blob named by
//! the SHA-256 of its JSON; records are listed in [`SHARDS`] shard blobs by a hash of their key;
//! the manifest lists the shards and is signed (Ed25519) by the regional server.
//!
//! One changed item changes its blob, one shard and the manifest, so a terminal that has the
//! previous version fetches three small things.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ContentPack;

/// Shards per bundle: about √(records) for a large region keeps manifest and shard small.
pub const SHARDS: usize = 64;

/// The current manifest format.
pub const FORMAT: u32 = 1;

/// One record of a pack: its kind (`item`, `outlet`, …), key and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: &'static str,
    pub key: String,
    pub body: Vec<u8>,
}

impl Record {
    pub fn sha256(&self) -> String {
        sha256_hex(&self.body)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("content records serialise")
}

/// Every record of a pack, in a stable order.
pub fn records(pack: &ContentPack) -> Vec<Record> {
    let mut out = Vec::new();
    let mut put = |kind: &'static str, key: &str, body: Vec<u8>| {
        out.push(Record {
            kind,
            key: key.to_owned(),
            body,
        })
    };
    if let Some(region) = &pack.region {
        put("region", &region.id, json(region));
    }
    for r in &pack.items {
        put("item", &r.id, json(r));
    }
    for r in &pack.outlets {
        put("outlet", &r.id, json(r));
    }
    for r in &pack.floor_plans {
        put("floor_plan", &r.hall, json(r));
    }
    for r in &pack.faqs {
        put("faq", &r.id, json(r));
    }
    for r in &pack.slides {
        put("slide", &r.id, json(r));
    }
    for r in &pack.forms {
        put("form", &r.id, json(r));
    }
    for r in &pack.notices {
        put("notice", &r.id, json(r));
    }
    if let Some(map) = &pack.base_map {
        put("base_map", "base_map", json(map));
    }
    out
}

/// The entry kind of a file terminals fetch: a picture they show.
pub const IMAGE: &str = "image";
/// The entry kind of a file only the phone pages serve (a form to download): terminals list
/// it but never fetch it.
pub const FILE: &str = "file";

/// Whether an entry of this kind is a file's bytes rather than a JSON record.
pub fn is_file_kind(kind: &str) -> bool {
    kind == IMAGE || kind == FILE
}

/// Every file the pack names, each once: (entry kind, SHA-256), in a stable order.
pub fn files(pack: &ContentPack) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = pack
        .file_refs()
        .map(|f| (if f.is_image() { IMAGE } else { FILE }, f.sha256.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The body of record `kind`/`key` of `pack` as [`records`] writes it (only that record is
/// serialised); `None` when the pack has no such record.
pub fn record(pack: &ContentPack, kind: &str, key: &str) -> Option<Vec<u8>> {
    match kind {
        "region" => pack.region.as_ref().filter(|r| r.id == key).map(json),
        "item" => pack.items.iter().find(|r| r.id == key).map(json),
        "outlet" => pack.outlets.iter().find(|r| r.id == key).map(json),
        "floor_plan" => pack.floor_plans.iter().find(|r| r.hall == key).map(json),
        "faq" => pack.faqs.iter().find(|r| r.id == key).map(json),
        "slide" => pack.slides.iter().find(|r| r.id == key).map(json),
        "form" => pack.forms.iter().find(|r| r.id == key).map(json),
        "notice" => pack.notices.iter().find(|r| r.id == key).map(json),
        "base_map" => pack.base_map.as_ref().map(json),
        _ => None,
    }
}

/// Puts one record back into its place in `pack`; unknown kinds are skipped (newer servers).
pub fn decode_record(
    pack: &mut ContentPack,
    kind: &str,
    body: &[u8],
) -> Result<(), serde_json::Error> {
    match kind {
        "region" => pack.region = Some(serde_json::from_slice(body)?),
        "item" => pack.items.push(serde_json::from_slice(body)?),
        "outlet" => pack.outlets.push(serde_json::from_slice(body)?),
        "floor_plan" => pack.floor_plans.push(serde_json::from_slice(body)?),
        "faq" => pack.faqs.push(serde_json::from_slice(body)?),
        "slide" => pack.slides.push(serde_json::from_slice(body)?),
        "form" => pack.forms.push(serde_json::from_slice(body)?),
        "notice" => pack.notices.push(serde_json::from_slice(body)?),
        "base_map" => pack.base_map = Some(serde_json::from_slice(body)?),
        _ => {}
    }
    Ok(())
}

/// Replaces (or with `body: None` removes) the record `kind`/`key` of `pack`: how a draft's
/// edits are laid over a published version.
pub fn apply_record(
    pack: &mut ContentPack,
    kind: &str,
    key: &str,
    body: Option<&[u8]>,
) -> Result<(), serde_json::Error> {
    match kind {
        "region" => pack.region = None,
        "item" => pack.items.retain(|r| r.id != key),
        "outlet" => pack.outlets.retain(|r| r.id != key),
        "floor_plan" => pack.floor_plans.retain(|r| r.hall != key),
        "faq" => pack.faqs.retain(|r| r.id != key),
        "slide" => pack.slides.retain(|r| r.id != key),
        "form" => pack.forms.retain(|r| r.id != key),
        "notice" => pack.notices.retain(|r| r.id != key),
        "base_map" => pack.base_map = None,
        _ => {}
    }
    match body {
        Some(b) => decode_record(pack, kind, b),
        None => Ok(()),
    }
}

/// The shard a record is listed in.
pub fn shard_of(kind: &str, key: &str) -> usize {
    let h = Sha256::digest(format!("{kind}/{key}").as_bytes());
    usize::from(h[0]) % SHARDS
}

/// A line of a shard: `kind<TAB>key<TAB>sha256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardEntry {
    pub kind: String,
    pub key: String,
    pub sha256: String,
}

/// Reads a shard blob.
pub fn parse_shard(bytes: &[u8]) -> Result<Vec<ShardEntry>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "shard is not UTF-8".to_owned())?;
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.split('\t');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(kind), Some(key), Some(sha), None)
                    if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    Ok(ShardEntry {
                        kind: kind.to_owned(),
                        key: key.to_owned(),
                        sha256: sha.to_owned(),
                    })
                }
                _ => Err(format!("bad shard line `{l}`")),
            }
        })
        .collect()
}

/// What the signature covers: the version and the shards' hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub region: String,
    pub version: String,
    pub created_at: String,
    pub records: usize,
    /// SHA-256 of each shard blob, [`SHARDS`] of them.
    pub shards: Vec<String>,
}

/// A built bundle: its manifest (unsigned), shard blobs and record blobs (the files' bytes
/// are stored as blobs when uploaded, so a bundle names them without carrying them).
#[derive(Debug, Clone)]
pub struct Bundle {
    pub manifest: Manifest,
    pub shards: Vec<Vec<u8>>,
    pub records: Vec<Record>,
}

/// Builds the bundle of `pack` as `version`. The version lives in the manifest only, so the
/// region record (and its blob) stays the same from one version to the next.
pub fn build(pack: &ContentPack, version: &str, created_at: &str) -> Bundle {
    let region = pack.region.as_ref();
    let records = records(pack);
    let mut lines: Vec<Vec<String>> = vec![Vec::new(); SHARDS];
    for r in &records {
        lines[shard_of(r.kind, &r.key)].push(format!("{}\t{}\t{}\n", r.kind, r.key, r.sha256()));
    }
    let files = files(pack);
    for (kind, sha) in &files {
        lines[shard_of(kind, sha)].push(format!("{kind}\t{sha}\t{sha}\n"));
    }
    let shards: Vec<Vec<u8>> = lines
        .into_iter()
        .map(|mut l| {
            l.sort();
            l.concat().into_bytes()
        })
        .collect();
    Bundle {
        manifest: Manifest {
            format: FORMAT,
            region: region.map(|r| r.id.clone()).unwrap_or_default(),
            version: version.to_owned(),
            created_at: created_at.to_owned(),
            records: records.len() + files.len(),
            shards: shards.iter().map(|s| sha256_hex(s)).collect(),
        },
        shards,
        records,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_round_trip_and_bad_lines_are_named() {
        let line = format!("item\tP43\t{}\n", "a".repeat(64));
        let parsed = parse_shard(line.as_bytes()).unwrap();
        assert_eq!(parsed[0].key, "P43");
        assert!(
            parse_shard(b"item\tP43\tnothex\n")
                .unwrap_err()
                .contains("P43")
        );
        assert!(shard_of("item", "P43") < SHARDS);
        let mut pack = ContentPack::default();
        pack.faqs.push(crate::Faq {
            id: "F1".into(),
            question: "几点开门".into(),
            answer: "九点".into(),
            category: "其他".into(),
            items: vec![],
        });
        let all = records(&pack);
        assert_eq!(record(&pack, "faq", "F1").as_ref(), Some(&all[0].body));
        assert_eq!(record(&pack, "faq", "F2"), None);
    }
}
