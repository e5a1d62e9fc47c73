//! Content on the server: import from JSON packs and from the sheets departments keep (CSV,
//! XLSX) with a report per row and column, and publishing as a signed bundle.

use std::collections::HashMap;

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use menpai_model::bundle::{self, Manifest};
use menpai_model::{ContentPack, Item};
use serde::Serialize;
use serde_json::{Value, json};

use crate::storage::{Storage, StorageError, Version};

/// A problem in an upload, where a person can find it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// 1-based row of the sheet (the header is row 1), or line of a JSON file.
    pub row: usize,
    /// The column's header, or the JSON field.
    pub column: String,
    pub message: String,
}

fn problem(row: usize, column: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        row,
        column: column.into(),
        message: message.into(),
    }
}

/// Problems listed in full at most; the rest are counted.
pub const MAX_SHOWN: usize = 100;

/// The problems of an upload: the first [`MAX_SHOWN`] of them, and how many there were.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Problems {
    pub shown: Vec<Problem>,
    pub total: usize,
}

impl Problems {
    fn one(p: Problem) -> Problems {
        let mut all = Problems::default();
        all.push(p);
        all
    }

    fn push(&mut self, p: Problem) {
        self.total += 1;
        if self.shown.len() < MAX_SHOWN {
            self.shown.push(p);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.shown.iter()
    }
}

impl FromIterator<Problem> for Problems {
    fn from_iter<I: IntoIterator<Item = Problem>>(iter: I) -> Problems {
        let mut all = Problems::default();
        for p in iter {
            all.push(p);
        }
        all
    }
}

/// A sheet's bounds: far more than a department's item list needs, far less than would hurt.
pub const MAX_SHEET_ROWS: usize = 20_000;
pub const MAX_SHEET_COLUMNS: usize = 64;
/// Bytes in one cell, and all the text a sheet keeps.
pub const MAX_CELL_BYTES: usize = 8 * 1024;
pub const MAX_SHEET_TEXT: usize = 32 << 20;
/// An XLSX (a zip) may hold this many parts, each inflating to at most `MAX_XLSX_PART` bytes
/// and all together to at most `MAX_XLSX_INFLATED`: checked by inflating before reading.
const MAX_XLSX_PARTS: usize = 1_000;
const MAX_XLSX_PART: u64 = 48 << 20;
const MAX_XLSX_INFLATED: u64 = 96 << 20;

/// Upload formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A whole pack: `{"region": …, "items": […], "outlets": […], …}`.
    Json,
    /// A sheet of items (one row each), merged into the latest published content.
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// Reads an upload into a full pack, validated; every problem is reported (the first
/// [`MAX_SHOWN`] in full), nothing is kept.
pub fn import(
    format: Format,
    bytes: &[u8],
    base: Option<&ContentPack>,
) -> Result<ContentPack, Problems> {
    let pack = match format {
        Format::Json => serde_json::from_slice::<ContentPack>(bytes).map_err(|e| {
            Problems::one(problem(
                e.line(),
                format!("第{}列", e.column()),
                format!("JSON 有误：{e}"),
            ))
        })?,
        Format::Csv | Format::Xlsx => {
            let base = base.ok_or_else(|| {
                Problems::one(problem(
                    0,
                    "",
                    "还没有发布过内容：请先导入完整的内容包（JSON）",
                ))
            })?;
            let rows = match format {
                Format::Csv => csv_rows(bytes)?,
                _ => xlsx_rows(bytes)?,
            };
            merge_sheet(base, &rows)?
        }
    };
    pack.validate().map_err(|errors| {
        errors
            .into_iter()
            .map(|e| problem(0, format!("{} {} {}", e.file, e.record, e.field), e.message))
            .collect::<Problems>()
    })?;
    Ok(pack)
}

fn cell_too_big(row: usize) -> Problems {
    Problems::one(problem(
        row + 1,
        "",
        format!(
            "单元格内容超过 {MAX_CELL_BYTES} 字节，或表格文字超过 {} MB",
            MAX_SHEET_TEXT >> 20
        ),
    ))
}

fn too_big(row: usize) -> Problems {
    Problems::one(problem(
        row,
        "",
        format!(
            "表格超出 {MAX_SHEET_ROWS} 行或 {MAX_SHEET_COLUMNS} 列：请只保留事项数据，分几次导入"
        ),
    ))
}

fn csv_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, Problems> {
    // Departments' exports are often GB18030 (Excel on Chinese Windows); take UTF-8 first.
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.trim_start_matches('\u{feff}').to_owned(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Problems::one(problem(i + 1, "", format!("CSV 有误：{e}"))))?;
        if i >= MAX_SHEET_ROWS || rec.len() > MAX_SHEET_COLUMNS {
            return Err(too_big(i + 1));
        }
        rows.push(rec.iter().map(|c| c.trim().to_owned()).collect());
    }
    Ok(rows)
}

/// Inflates every part of the archive into nothing, counting: a zip bomb stops at the limit
/// instead of filling memory when the sheet is read.
fn check_inflated_size(bytes: &[u8]) -> Result<(), Problems> {
    use std::io::Read;
    let not_xlsx = |e: &dyn std::fmt::Display| {
        Problems::one(problem(0, "", format!("不是有效的 XLSX 文件：{e}")))
    };
    let bomb = || {
        Problems::one(problem(
            0,
            "",
            format!(
                "XLSX 文件解压后超过 {} MB，不是正常的事项表",
                MAX_XLSX_INFLATED >> 20
            ),
        ))
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| not_xlsx(&e))?;
    if zip.len() > MAX_XLSX_PARTS {
        return Err(not_xlsx(&format!("{} 个部件，太多", zip.len())));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index(i).map_err(|e| not_xlsx(&e))?;
        if part.size() > MAX_XLSX_PART {
            return Err(bomb());
        }
        let n = std::io::copy(&mut part.take(MAX_XLSX_PART + 1), &mut std::io::sink())
            .map_err(|e| not_xlsx(&e))?;
        total += n;
        if n > MAX_XLSX_PART || total > MAX_XLSX_INFLATED {
            return Err(bomb());
        }
    }
    Ok(())
}

/// The cells of the items sheet, read one at a time (never as a range the sheet's extent
/// would size), within [`MAX_SHEET_ROWS`] × [`MAX_SHEET_COLUMNS`].
fn xlsx_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, Problems> {
    use calamine::{DataRef, Reader, Xlsx};
    check_inflated_size(bytes)?;
    let unreadable = |e: &dyn std::fmt::Display| {
        Problems::one(problem(0, "", format!("不是有效的 XLSX 文件：{e}")))
    };
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let names = book.sheet_names();
    let name = names
        .iter()
        .find(|n| n.as_str() == "事项")
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| Problems::one(problem(0, "", "XLSX 文件里没有工作表")))?;
    let mut cells = book
        .worksheet_cells_reader(&name)
        .map_err(|e| Problems::one(problem(0, "", format!("读不出工作表“{name}”：{e}"))))?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut kept = 0usize;
    while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
        let (r, c) = cell.get_position();
        let (r, c) = (r as usize, c as usize);
        // Shared strings are referenced, not copied, until a cell's size is known to be sane:
        // one long string named by a million cells must not become a million copies.
        let text = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            DataRef::SharedString(s) if s.len() > MAX_CELL_BYTES => return Err(cell_too_big(r)),
            DataRef::String(s) if s.len() > MAX_CELL_BYTES => return Err(cell_too_big(r)),
            DataRef::SharedString(s) => s.trim().to_owned(),
            DataRef::String(s) => s.trim().to_owned(),
            other => calamine::Data::from(other.clone())
                .to_string()
                .trim()
                .to_owned(),
        };
        if text.is_empty() {
            continue;
        }
        if r >= MAX_SHEET_ROWS || c >= MAX_SHEET_COLUMNS {
            return Err(too_big(r + 1));
        }
        kept += text.len();
        if text.len() > MAX_CELL_BYTES || kept > MAX_SHEET_TEXT {
            return Err(cell_too_big(r));
        }
        if rows.len() <= r {
            rows.resize(r + 1, Vec::new());
        }
        let row = &mut rows[r];
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = text;
    }
    Ok(rows)
}

/// Sheet columns: the header a department writes (or the field name) → the item field.
const COLUMNS: &[(&str, &str)] = &[
    ("事项ID", "id"),
    ("实施编码", "code"),
    ("事项名称", "name"),
    ("别名", "aliases"),
    ("服务对象", "audience"),
    ("主题", "topic"),
    ("人生事件", "life_events"),
    ("特定人群", "target_groups"),
    ("实施部门", "department"),
    ("事项类型", "item_type"),
    ("设定依据", "legal_basis"),
    ("申请条件", "conditions"),
    ("法定时限", "legal_limit"),
    ("承诺时限", "promised_limit"),
    ("到现场次数", "visits"),
    ("网办深度", "online_depth"),
    ("网办地址", "online_url"),
    ("办理结果", "result"),
    ("咨询电话", "consult_phone"),
    ("投诉电话", "complaint_phone"),
    ("业务类型", "business_type"),
    ("热度", "popularity"),
    ("高频", "featured"),
];

/// Columns a new item cannot do without.
const REQUIRED_FOR_NEW: &[&str] = &[
    "code",
    "name",
    "audience",
    "topic",
    "department",
    "item_type",
    "legal_limit",
    "promised_limit",
    "visits",
    "online_depth",
    "result",
    "consult_phone",
    "complaint_phone",
];

fn header_of(field: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|(_, f)| *f == field)
        .map(|(h, _)| *h)
        .unwrap_or("?")
}

fn list(cell: &str) -> Value {
    json!(
        cell.split(['、', '；', ';', '\n', '|'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
    )
}

fn time_limit(cell: &str) -> Result<Value, String> {
    if cell == "即办" || cell == "0" {
        return Ok(json!({"days": 0, "unit": "工作日"}));
    }
    for (suffix, unit) in [
        ("个工作日", "工作日"),
        ("工作日", "工作日"),
        ("个自然日", "自然日"),
        ("自然日", "自然日"),
        ("天", "自然日"),
    ] {
        if let Some(n) = cell.strip_suffix(suffix)
            && let Ok(days) = n.trim().parse::<u32>()
        {
            return Ok(json!({"days": days, "unit": unit}));
        }
    }
    Err(format!("“{cell}”应写成 即办、5个工作日 或 30个自然日"))
}

/// One cell into the item's JSON.
fn set_field(item: &mut Value, field: &str, cell: &str) -> Result<(), String> {
    let v = match field {
        "aliases" | "life_events" | "target_groups" | "legal_basis" | "conditions" => list(cell),
        "audience" => match cell {
            "个人" | "自然人" => json!("个人"),
            "法人" | "企业" => json!("法人"),
            _ => return Err(format!("“{cell}”应为 个人 或 法人")),
        },
        "legal_limit" | "promised_limit" => time_limit(cell)?,
        "visits" => match cell {
            "0" => json!(0),
            "1" => json!(1),
            _ => return Err(format!("“{cell}”应为 0 或 1")),
        },
        "online_depth" => json!(match cell {
            "1" | "I" | "Ⅰ" => 1,
            "2" | "II" | "Ⅱ" => 2,
            "3" | "III" | "Ⅲ" => 3,
            "4" | "IV" | "Ⅳ" => 4,
            _ => return Err(format!("“{cell}”应为 1–4 或 Ⅰ–Ⅳ")),
        }),
        "popularity" => json!(
            cell.parse::<u32>()
                .map_err(|_| format!("“{cell}”应为非负整数"))?
        ),
        "featured" => json!(matches!(cell, "是" | "1" | "true" | "Y" | "y")),
        "online_url" => {
            if !cell.starts_with("https://") && !cell.starts_with("http://") {
                return Err(format!("“{cell}”应为网址（https://…）"));
            }
            let online = &mut item["channels"]["online"];
            if online.is_null() {
                *online = json!({"platform": "广东政务服务网", "url": cell});
            } else {
                online["url"] = json!(cell);
            }
            return Ok(());
        }
        "business_type" => {
            if cell.is_empty() {
                Value::Null
            } else if cell.len() == 1 && cell.chars().all(|c| c.is_ascii_uppercase()) {
                json!(cell)
            } else {
                return Err(format!("“{cell}”应为一个大写字母，如 A"));
            }
        }
        _ => json!(cell),
    };
    item[field] = v;
    Ok(())
}

/// Applies item rows to a copy of `base`.
fn merge_sheet(base: &ContentPack, rows: &[Vec<String>]) -> Result<ContentPack, Problems> {
    let Some(header) = rows.first() else {
        return Err(Problems::one(problem(1, "", "表格是空的")));
    };
    let mut problems = Problems::default();
    let mut fields: Vec<Option<&str>> = Vec::new();
    for h in header {
        let f = COLUMNS
            .iter()
            .find(|(cn, en)| h == cn || h == en)
            .map(|(_, en)| *en);
        if f.is_none() && !h.is_empty() {
            problems.push(problem(1, h.clone(), "不认识这一列"));
        }
        fields.push(f);
    }
    let Some(id_col) = fields.iter().position(|f| *f == Some("id")) else {
        problems.push(problem(1, "事项ID", "缺少“事项ID”列"));
        return Err(problems);
    };
    let mut pack = base.clone();
    let index: HashMap<String, usize> = pack
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.id.clone(), i))
        .collect();
    let mut row_of: HashMap<String, usize> = HashMap::new();
    for (r, row) in rows.iter().enumerate().skip(1) {
        let row_no = r + 1;
        if row.iter().all(|c| c.is_empty()) {
            continue;
        }
        let id = row.get(id_col).cloned().unwrap_or_default();
        if id.is_empty() {
            problems.push(problem(row_no, "事项ID", "事项ID 不能为空"));
            continue;
        }
        if let Some(first) = row_of.insert(id.clone(), row_no) {
            problems.push(problem(
                row_no,
                "事项ID",
                format!("{id} 与第 {first} 行重复"),
            ));
            continue;
        }
        let existing = index.get(&id).copied();
        let mut item = match existing {
            Some(i) => serde_json::to_value(&pack.items[i]).expect("items serialise"),
            None => json!({
                "id": id, "legal_basis": [], "conditions": [], "situations": [],
                "fees": {"charged": false}, "channels": {}, "steps": [],
            }),
        };
        let mut row_ok = true;
        for (c, field) in fields.iter().enumerate() {
            let (Some(field), Some(cell)) = (field, row.get(c)) else {
                continue;
            };
            if *field == "id" || (cell.is_empty() && existing.is_some()) {
                continue;
            }
            if cell.is_empty() {
                continue;
            }
            if let Err(m) = set_field(&mut item, field, cell) {
                problems.push(problem(row_no, header_of(field), m));
                row_ok = false;
            }
        }
        if existing.is_none() {
            for f in REQUIRED_FOR_NEW {
                if item.get(*f).is_none_or(Value::is_null) {
                    problems.push(problem(row_no, header_of(f), "新事项必须填写"));
                    row_ok = false;
                }
            }
        }
        if !row_ok {
            continue;
        }
        match serde_json::from_value::<Item>(item) {
            Ok(it) => match existing {
                Some(i) => pack.items[i] = it,
                None => pack.items.push(it),
            },
            Err(e) => problems.push(problem(row_no, "", format!("内容不完整：{e}"))),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // Problems found by validation point back at the row of their item.
    pack.validate().map_err(|errors| {
        errors
            .into_iter()
            .map(|e| {
                let id = e.record.strip_prefix("item ").unwrap_or(&e.record);
                let row = row_of.get(id).copied().unwrap_or(0);
                let field = e.field.split(['.', '[']).next().unwrap_or(&e.field);
                let column = match header_of(field) {
                    "?" => e.field.clone(),
                    h => h.to_owned(),
                };
                problem(row, column, format!("{}：{}", e.record, e.message))
            })
            .collect::<Problems>()
    })?;
    Ok(pack)
}

/// The next version name: the local date and a running number, e.g. `2026.11.21-2`.
pub fn next_version(
    storage: &dyn Storage,
    local_now: chrono::NaiveDateTime,
) -> Result<String, StorageError> {
    let day = local_now.format("%Y.%m.%d").to_string();
    // Today's running number follows the latest version's.
    let n = storage
        .latest_version()?
        .and_then(|v| {
            v.version
                .strip_prefix(&format!("{day}-"))
                .and_then(|n| n.parse::<u32>().ok())
        })
        .unwrap_or(0);
    Ok(format!("{day}-{}", n + 1))
}

/// Publishes `pack` as a signed bundle; returns the version.
pub fn publish(
    storage: &dyn Storage,
    key: &SigningKey,
    pack: ContentPack,
    by: &str,
) -> Result<(String, Manifest), StorageError> {
    let version = next_version(storage, crate::clock::local_now())?;
    let now = chrono::Utc::now();
    let created = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let b = bundle::build(&pack, &version, &created);
    let manifest_bytes = serde_json::to_vec(&b.manifest).expect("manifests serialise");
    let signature =
        base64::engine::general_purpose::STANDARD.encode(key.sign(&manifest_bytes).to_bytes());
    let mut blobs: Vec<(String, Vec<u8>)> = b
        .shards
        .iter()
        .map(|s| (bundle::sha256_hex(s), s.clone()))
        .collect();
    blobs.extend(b.records.into_iter().map(|r| (r.sha256(), r.body)));
    // Files come with a pack directory, or were uploaded before: each must be there.
    for (_, sha) in bundle::files(&pack) {
        match pack.files.get(&sha) {
            Some(bytes) => blobs.push((sha, bytes.clone())),
            None if storage.has_blob(&sha)? => {}
            None => {
                return Err(StorageError::Conflict(format!(
                    "文件 {sha} 没有上传，不能发布"
                )));
            }
        }
    }
    storage.publish(
        &Version {
            version: version.clone(),
            region: b.manifest.region.clone(),
            manifest: manifest_bytes,
            signature,
            published_at: created,
            published_by: by.to_owned(),
        },
        &blobs,
    )?;
    Ok((version, b.manifest))
}

/// Publishes `pack` and makes it live: the halls' queues and the phone pages take it, the
/// fleet view and every terminal's stream hear of it, and the publish is audited. Blocking
/// (call it on a blocking thread).
pub fn publish_live(
    server: &crate::Server,
    pack: ContentPack,
    by: &str,
    detail: &str,
) -> Result<(String, Manifest), StorageError> {
    let halls = crate::queue::Halls::from_pack(&pack);
    let for_phones = pack.clone();
    let (version, manifest) = publish(server.storage.as_ref(), &server.content_key, pack, by)?;
    server.halls.replace_with(halls);
    server.phone.replace(version.clone(), for_phones);
    server.fleet.published(&version);
    let _ = server
        .stream
        .send(menpai_model::sync::StreamEvent::Content {
            version: version.clone(),
        });
    crate::bus::tell(
        server,
        crate::bus::Signal::Content {
            version: version.clone(),
        },
    );
    let what = if detail.is_empty() {
        version.clone()
    } else {
        format!("{version}: {detail}")
    };
    let _ = server.storage.audit(by, "content.publish", &what, "ok");
    tracing::info!(%version, by, "Content published.");
    Ok((version, manifest))
}

/// The pack of a published version, read back from its bundle (a rollback republishes it).
/// Makes the database's latest published version the one this replica serves and its
/// terminals sync to (another replica published it); nothing when it already is.
pub fn load_latest(server: &crate::Server) -> Result<(), String> {
    let Some(latest) = server.storage.latest_version().map_err(|e| e.to_string())? else {
        return Ok(());
    };
    if server
        .phone
        .current()
        .is_some_and(|c| c.version == latest.version)
    {
        return Ok(());
    }
    let pack = pack_of(server.storage.as_ref(), &latest)?;
    server
        .halls
        .replace_with(crate::queue::Halls::from_pack(&pack));
    server.phone.replace(latest.version.clone(), pack);
    server.fleet.published(&latest.version);
    let _ = server
        .stream
        .send(menpai_model::sync::StreamEvent::Content {
            version: latest.version,
        });
    Ok(())
}

pub fn pack_of(storage: &dyn Storage, version: &Version) -> Result<ContentPack, String> {
    let manifest: Manifest =
        serde_json::from_slice(&version.manifest).map_err(|e| e.to_string())?;
    let mut pack = ContentPack::default();
    for shard in &manifest.shards {
        let body = storage
            .blob(shard)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("shard {shard} is missing"))?;
        for e in bundle::parse_shard(&body)? {
            if bundle::is_file_kind(&e.kind) {
                continue;
            }
            let rec = storage
                .blob(&e.sha256)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("blob {} is missing", e.sha256))?;
            bundle::decode_record(&mut pack, &e.kind, &rec).map_err(|e| e.to_string())?;
        }
    }
    Ok(pack)
}

/// The latest published pack, read back from its bundle.
pub fn latest_pack(storage: &dyn Storage) -> Result<Option<ContentPack>, String> {
    match storage.latest_version().map_err(|e| e.to_string())? {
        Some(v) => pack_of(storage, &v).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ContentPack {
        menpai_content::load_dir(&menpai_content::demo_region_dir()).unwrap()
    }

    #[test]
    fn a_sheet_edits_items_and_broken_rows_are_named() {
        let base = base();
        let good = "事项ID,事项名称,承诺时限,高频\nP43,住房公积金购房提取,3个工作日,是\n";
        let pack = import(Format::Csv, good.as_bytes(), Some(&base)).unwrap();
        let p43 = pack.item("P43").unwrap();
        assert_eq!(p43.promised_limit.days, 3);
        assert!(p43.featured);

        let bad = "事项ID,服务对象,到现场次数,承诺时限,颜色\n\
                   P43,市民,2,三天,红\n\
                   ,个人,0,即办,\n\
                   NEW1,个人,0,即办,\n";
        let problems = import(Format::Csv, bad.as_bytes(), Some(&base)).unwrap_err();
        let has = |row: usize, col: &str| problems.iter().any(|p| p.row == row && p.column == col);
        assert!(has(1, "颜色"), "{problems:?}");
        assert!(
            has(2, "服务对象") && has(2, "到现场次数") && has(2, "承诺时限"),
            "{problems:?}"
        );
        assert!(has(3, "事项ID"), "{problems:?}");
        assert!(has(4, "事项名称") && has(4, "实施部门"), "{problems:?}");
    }

    #[test]
    fn json_packs_import_and_report_their_line() {
        let base = base();
        let bytes = serde_json::to_vec_pretty(&base).unwrap();
        assert_eq!(
            import(Format::Json, &bytes, None).unwrap().items.len(),
            base.items.len()
        );
        let problems = import(
            Format::Json,
            b"{\n \"items\": [\n  {\"id\": 1}\n ]\n}",
            None,
        )
        .unwrap_err();
        assert_eq!(problems.shown[0].row, 3, "{problems:?}");
    }
}
