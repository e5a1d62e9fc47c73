//! What a change set changes, record by record (added / changed / removed, titled by the
//! record's name) and inside a changed record field by field, keyed by the field's path
//! (`situations[0].materials[1].note`) with a Chinese label where there is one.

use serde::Serialize;
use serde_json::Value;

use crate::Server;
use crate::error::AppError;
use crate::storage::{ChangeSet, ChangeState};

/// Field changes listed per record at most; the rest are counted.
pub const MAX_FIELDS: usize = 300;
/// Characters of one value shown at most.
const MAX_VALUE_CHARS: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Changed,
    Removed,
}

impl Change {
    pub fn label(self) -> &'static str {
        match self {
            Change::Added => "新增",
            Change::Changed => "修改",
            Change::Removed => "删除",
        }
    }
}

/// One side of a field change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Shown {
    /// Not there.
    None,
    Text {
        text: String,
    },
    /// A file the content names: its name and where a reviewer sees it.
    File {
        name: String,
        sha256: String,
        media_type: String,
    },
}

impl Shown {
    pub fn file_link(sha256: &str) -> String {
        format!("/studio/files/{sha256}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field's path in the record's JSON, e.g. `situations[0].materials[1].note`.
    pub path: String,
    /// The same in words, e.g. `情形1 › 申请材料2 › 审查要点/备注`.
    pub label: String,
    pub old: Shown,
    pub new: Shown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordDiff {
    pub kind: String,
    pub key: String,
    /// E.g. `事项 P43 居民身份证申领`.
    pub title: String,
    pub change: Change,
    pub fields: Vec<FieldChange>,
    /// Field changes beyond [`MAX_FIELDS`], not listed.
    pub more: usize,
    /// The published record changed after the change set was based on it: publishing the
    /// set would fail rather than overwrite it.
    pub stale: bool,
}

/// A record kind's name on pages.
pub fn kind_label(kind: &str) -> &str {
    match kind {
        "region" => "区域",
        "item" => "事项",
        "outlet" => "网点",
        "floor_plan" => "平面图",
        "faq" => "常见问题",
        "slide" => "轮播",
        "form" => "表格",
        "notice" => "通知",
        "base_map" => "底图",
        other => other,
    }
}

/// The Chinese name of a field, where there is a common one.
fn field_label(key: &str) -> Option<&'static str> {
    Some(match key {
        "id" => "编号",
        "code" => "实施编码",
        "name" => "名称",
        "aliases" => "别名",
        "audience" => "服务对象",
        "topic" => "主题",
        "life_events" => "人生事件",
        "target_groups" => "特定人群",
        "department" => "实施部门",
        "item_type" => "事项类型",
        "legal_basis" => "设定依据",
        "conditions" => "申请条件",
        "materials" => "申请材料",
        "situations" => "情形",
        "description" => "说明",
        "form" => "材料形式",
        "copies" => "份数",
        "required" => "是否必需",
        "condition" => "适用情形",
        "source" => "来源渠道",
        "sample" => "样表",
        "template_form" => "空白表格",
        "note" => "审查要点/备注",
        "sample_image" => "示例图片",
        "fees" => "收费",
        "charged" => "是否收费",
        "items" => "项目",
        "amount" => "金额",
        "basis" => "依据",
        "legal_limit" => "法定时限",
        "promised_limit" => "承诺时限",
        "days" => "天数",
        "unit" => "单位",
        "visits" => "到现场次数",
        "online_depth" => "网办深度",
        "channels" => "办理渠道",
        "online" => "网上办理",
        "platform" => "平台",
        "url" => "网址",
        "mobile_app" => "移动端",
        "halls" => "窗口办理",
        "outlet" => "网点",
        "windows" => "窗口",
        "self_service" => "自助办理",
        "steps" => "办理流程",
        "title" => "标题",
        "subtitle" => "副标题",
        "detail" => "说明",
        "result" => "办理结果",
        "consult_phone" => "咨询电话",
        "complaint_phone" => "投诉电话",
        "business_type" => "业务类型",
        "popularity" => "热度",
        "featured" => "高频",
        "question" => "问题",
        "answer" => "回答",
        "category" => "分类",
        "text" => "内容",
        "kind" => "类型",
        "starts_at" => "开始时间",
        "expires_at" => "过期时间",
        "image" => "图片",
        "blank" => "空白表格文件",
        "address" => "地址",
        "phone" => "电话",
        "hours" => "办公时间",
        "holidays" => "节假日安排",
        _ => return None,
    })
}

/// The record's title: its kind, key and name (or title, or question).
pub fn title(kind: &str, key: &str, body: Option<&Value>) -> String {
    let name = body.and_then(|v| {
        ["name", "title", "question"]
            .iter()
            .find_map(|f| v.get(*f).and_then(Value::as_str))
    });
    match name {
        Some(n) if n != key => format!("{} {key} {n}", kind_label(kind)),
        _ => format!("{} {key}", kind_label(kind)),
    }
}

/// What changes from `old` to `new` in record `kind`/`key` (`None`: not there); `None` when
/// nothing does. Bodies that are not JSON count as text.
pub fn record(kind: &str, key: &str, old: Option<&[u8]>, new: Option<&[u8]>) -> Option<RecordDiff> {
    let parse = |b: &[u8]| {
        serde_json::from_slice::<Value>(b)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(b).into_owned()))
    };
    let old = old.map(parse);
    let new = new.map(parse);
    let change = match (&old, &new) {
        (None, None) => return None,
        (None, Some(_)) => Change::Added,
        (Some(_), None) => Change::Removed,
        (Some(a), Some(b)) if a == b => return None,
        _ => Change::Changed,
    };
    let mut walk = Walk::default();
    walk.value(&mut Vec::new(), old.as_ref(), new.as_ref());
    Some(RecordDiff {
        kind: kind.to_owned(),
        key: key.to_owned(),
        title: title(kind, key, new.as_ref().or(old.as_ref())),
        change,
        fields: walk.fields,
        more: walk.more,
        stale: false,
    })
}

/// What change set `set` changes, against the records it was based on; until it is
/// published, a record published anew since is marked stale.
pub fn of_set(server: &Server, set: &ChangeSet) -> Result<Vec<RecordDiff>, AppError> {
    let records = server
        .storage
        .change_set_records(set.id)
        .map_err(AppError::internal)?;
    let open = set.state != ChangeState::Published;
    let latest = server.phone.current();
    let mut out = Vec::with_capacity(records.len());
    for r in &records {
        let old = match &r.base_sha {
            Some(sha) => server.storage.blob(sha).map_err(AppError::internal)?,
            None => None,
        };
        let Some(mut d) = record(&r.kind, &r.key, old.as_deref(), r.body.as_deref()) else {
            continue;
        };
        d.stale = open
            && latest
                .as_ref()
                .is_some_and(|c| super::record_sha(&c.pack, &r.kind, &r.key) != r.base_sha);
        out.push(d);
    }
    Ok(out)
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

#[derive(Default)]
struct Walk {
    fields: Vec<FieldChange>,
    more: usize,
}

fn is_file(v: &Value) -> bool {
    v.get("sha256").is_some() && v.get("media_type").is_some() && v.get("name").is_some()
}

/// A value as a reviewer reads it: text, a file, or nothing. A list of texts shows one per
/// line, each marked, so `["甲；乙"]` and `["甲", "乙"]` never read the same.
fn plain(v: Option<&Value>) -> Option<Result<String, Shown>> {
    match v {
        None | Some(Value::Null) => None,
        Some(v) if is_file(v) => {
            let s = |f: &str| v[f].as_str().unwrap_or_default().to_owned();
            Some(Err(Shown::File {
                name: s("name"),
                sha256: s("sha256"),
                media_type: s("media_type"),
            }))
        }
        Some(Value::String(s)) => Some(Ok(s.clone())),
        Some(Value::Bool(b)) => Some(Ok(if *b { "是" } else { "否" }.to_owned())),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => Some(Ok(a
            .iter()
            .filter_map(Value::as_str)
            .map(|t| format!("• {t}"))
            .collect::<Vec<_>>()
            .join("\n"))),
        Some(v) => Some(Ok(v.to_string())),
    }
}

/// At most [`MAX_VALUE_CHARS`] of a text, from `from` (a character index), marked with … where
/// cut.
fn window(text: &str, from: usize) -> Shown {
    let total = text.chars().count();
    let start = from.min(total.saturating_sub(MAX_VALUE_CHARS));
    let mut t: String = text.chars().skip(start).take(MAX_VALUE_CHARS).collect();
    if start > 0 {
        t.insert(0, '…');
    }
    if start + MAX_VALUE_CHARS < total {
        t.push('…');
    }
    Shown::Text { text: t }
}

/// Both sides of a changed value as shown. Long texts are cut around their first difference,
/// so what changed is always on the page.
fn shown_pair(old: Option<&Value>, new: Option<&Value>) -> (Shown, Shown) {
    match (plain(old), plain(new)) {
        (Some(Ok(a)), Some(Ok(b))) => {
            let first = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
            let from = first.saturating_sub(MAX_VALUE_CHARS / 4);
            (window(&a, from), window(&b, from))
        }
        (a, b) => {
            let one = |x: Option<Result<String, Shown>>| match x {
                None => Shown::None,
                Some(Ok(t)) => window(&t, 0),
                Some(Err(f)) => f,
            };
            (one(a), one(b))
        }
    }
}

fn path_of(segs: &[Seg]) -> String {
    let mut p = String::new();
    for s in segs {
        match s {
            Seg::Key(k) if p.is_empty() => p.push_str(k),
            Seg::Key(k) => {
                p.push('.');
                p.push_str(k);
            }
            Seg::Index(i) => p.push_str(&format!("[{i}]")),
        }
    }
    p
}

fn label_of(segs: &[Seg]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for s in segs {
        match s {
            Seg::Key(k) => parts.push(field_label(k).unwrap_or(k).to_owned()),
            Seg::Index(i) => match parts.last_mut() {
                Some(last) => last.push_str(&(i + 1).to_string()),
                None => parts.push(format!("第{}项", i + 1)),
            },
        }
    }
    if parts.is_empty() {
        "整条记录".to_owned()
    } else {
        parts.join(" › ")
    }
}

impl Walk {
    /// One changed field; every difference counts, whatever is shown of it.
    fn push(&mut self, segs: &[Seg], old: Option<&Value>, new: Option<&Value>) {
        let absent = |v: Option<&Value>| v.is_none_or(Value::is_null);
        if old == new || (absent(old) && absent(new)) {
            return;
        }
        let (old, new) = shown_pair(old, new);
        if self.fields.len() >= MAX_FIELDS {
            self.more += 1;
            return;
        }
        self.fields.push(FieldChange {
            path: path_of(segs),
            label: label_of(segs),
            old,
            new,
        });
    }

    fn value(&mut self, segs: &mut Vec<Seg>, old: Option<&Value>, new: Option<&Value>) {
        if old == new {
            return;
        }
        let is_leaf = |v: Option<&Value>| {
            v.is_none_or(|v| !(v.is_object() || v.is_array()) || is_file(v))
                || v.is_some_and(|v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
        };
        if is_leaf(old) && is_leaf(new) {
            self.push(segs, old, new);
            return;
        }
        match (old, new) {
            (Some(Value::Object(_)) | None, Some(Value::Object(_)) | None)
                if !old.is_some_and(is_file) && !new.is_some_and(is_file) =>
            {
                let empty = serde_json::Map::new();
                let a = old.and_then(Value::as_object).unwrap_or(&empty);
                let b = new.and_then(Value::as_object).unwrap_or(&empty);
                let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    segs.push(Seg::Key(k.clone()));
                    self.value(segs, a.get(k), b.get(k));
                    segs.pop();
                }
            }
            (Some(Value::Array(_)) | None, Some(Value::Array(_)) | None) => {
                let empty = Vec::new();
                let a = old.and_then(Value::as_array).unwrap_or(&empty);
                let b = new.and_then(Value::as_array).unwrap_or(&empty);
                for i in 0..a.len().max(b.len()) {
                    segs.push(Seg::Index(i));
                    self.value(segs, a.get(i), b.get(i));
                    segs.pop();
                }
            }
            // A value whose shape changed (a list became text…): shown whole.
            _ => self.push(segs, old, new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_note_is_named_by_its_path_and_label() {
        let old = r#"{"id":"P43","name":"居民身份证申领","situations":[{"name":"首次","materials":[{"name":"户口簿","note":"原件"},{"name":"照片","note":null}]}],"legal_basis":["A"]}"#;
        let new = r#"{"id":"P43","name":"居民身份证申领","situations":[{"name":"首次","materials":[{"name":"户口簿","note":"原件"},{"name":"照片","note":"白底","sample_image":{"sha256":"ab","media_type":"image/png","name":"照片样例.png","size":3}}]}],"legal_basis":["A","B"]}"#;
        let d = record("item", "P43", Some(old.as_bytes()), Some(new.as_bytes())).unwrap();
        assert_eq!(d.title, "事项 P43 居民身份证申领");
        assert_eq!(d.change, Change::Changed);
        let paths: Vec<&str> = d.fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "legal_basis",
                "situations[0].materials[1].note",
                "situations[0].materials[1].sample_image"
            ]
        );
        assert_eq!(d.fields[1].label, "情形1 › 申请材料2 › 审查要点/备注");
        assert_eq!(d.fields[1].old, Shown::None);
        assert_eq!(
            d.fields[1].new,
            Shown::Text {
                text: "白底".into()
            }
        );
        assert!(matches!(&d.fields[2].new, Shown::File { name, .. } if name == "照片样例.png"));
        assert_eq!(
            d.fields[0].new,
            Shown::Text {
                text: "• A\n• B".into()
            }
        );
        assert!(record("item", "P43", Some(old.as_bytes()), Some(old.as_bytes())).is_none());

        // A change past what a page shows is still listed, cut around where it differs; a
        // list is never mistaken for one entry holding the separator.
        let long = "办理须知。".repeat(500);
        let a = serde_json::json!({"id": "F1", "answer": long, "tags": ["甲；乙"]});
        let b = serde_json::json!({"id": "F1", "answer": format!("{long}请转账到 6222…"), "tags": ["甲", "乙"]});
        let d = record(
            "faq",
            "F1",
            Some(a.to_string().as_bytes()),
            Some(b.to_string().as_bytes()),
        )
        .unwrap();
        assert_eq!(d.fields.len(), 2, "{:?}", d.fields);
        match &d.fields[0].new {
            Shown::Text { text } => assert!(text.contains("请转账到") && text.starts_with('…')),
            other => panic!("{other:?}"),
        }
        assert_ne!(d.fields[1].old, d.fields[1].new);
        let added = record(
            "faq",
            "F1",
            None,
            Some(r#"{"question":"几点开门"}"#.as_bytes()),
        )
        .unwrap();
        assert_eq!(
            (added.change, added.title.as_str()),
            (Change::Added, "常见问题 F1 几点开门")
        );
    }
}
