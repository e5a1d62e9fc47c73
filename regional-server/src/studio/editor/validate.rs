//! Checks a record as the editor typed it with the importer's own rules: parsed as its kind,
//! laid over the editor's draft, and the whole pack validated (`ContentPack::validate`).

use std::collections::HashSet;

use menpai_model::ContentPack;
use menpai_model::bundle;
use serde::Serialize;

use super::kind::Kind;

/// One problem the editor sees beside a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Problem {
    /// Path of the field inside the record, e.g. `situations[0].materials[1].note`.
    pub field: String,
    pub message: String,
    /// Another record the change breaks (e.g. `outlet hall-futian`); `None` for this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
}

/// The problems of record `kind`/`key` with `body` (`None`: removed) laid over `draft`: those
/// of the record itself, and those the change makes in other records. `creating`: a new
/// record, whose key must not be taken.
pub(super) fn check(
    draft: &ContentPack,
    kind: Kind,
    key: &str,
    body: Option<&[u8]>,
    creating: bool,
) -> Vec<Problem> {
    if !kind.creatable() && (creating || body.is_none() || kind.record(draft, key).is_none()) {
        return vec![Problem {
            field: "id".into(),
            message: format!("{}只能修改，不能新建、删除或改编号", kind.label()),
            record: None,
        }];
    }
    if let Some(body) = body {
        match kind.parse_record(body) {
            Err((field, message)) => {
                return vec![Problem {
                    field,
                    message,
                    record: None,
                }];
            }
            Ok(id) if id != key => {
                return vec![Problem {
                    field: "id".into(),
                    message: format!("编号应为 {key}"),
                    record: None,
                }];
            }
            Ok(_) => {}
        }
    }
    let taken = creating && kind.record(draft, key).is_some();
    if let Some(p) = key_problem(key).or(taken.then_some("这个编号已经有了，请换一个"))
    {
        return vec![Problem {
            field: "id".into(),
            message: p.into(),
            record: None,
        }];
    }
    let before: HashSet<String> = draft
        .validate()
        .err()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut after = draft.clone();
    if let Err(e) = bundle::apply_record(&mut after, kind.as_str(), key, body) {
        return vec![Problem {
            field: String::new(),
            message: format!("格式不对：{e}"),
            record: None,
        }];
    }
    let this = format!("{} {key}", kind.as_str());
    after
        .validate()
        .err()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.record == this || !before.contains(&e.to_string()))
        .map(|e| Problem {
            message: plain(&e.message),
            record: (e.record != this).then_some(e.record),
            field: e.field,
        })
        .collect()
}

/// Why a record key cannot be used (it becomes part of URLs and the bundle's lines).
pub(super) fn key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() || key.len() > 64 {
        return Some("编号须为 1 到 64 个字符");
    }
    let ok = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    (!ok).then_some("编号只能用字母、数字、- 和 _")
}

/// The importer's English messages in plain Chinese for editors (others as they are).
pub(super) fn plain(message: &str) -> String {
    let fixed = [
        ("must not be empty", "不能为空"),
        ("must list at least one entry", "至少要填一项"),
        ("must be at least 1", "至少为 1"),
        ("must be an https:// link", "须是 https:// 开头的网址"),
        ("must be one capital letter", "须是一个大写字母"),
        ("must look like #1A6FD0", "须是 #1A6FD0 这样的颜色"),
        ("must come after starts_at", "须晚于开始显示的时间"),
        ("must be 0 or 1 (最多跑一次)", "只能是 0 或 1（最多跑一次）"),
        ("must be 1 to 4 (I–IV)", "须为 1 到 4"),
        (
            "a charged item must list its fees",
            "收费的事项须列出收费项目",
        ),
        ("the item has no channel at all", "至少要有一种办理渠道"),
        (
            "the promised limit exceeds the legal limit",
            "承诺时限不能长于法定时限",
        ),
        (
            "no materials at all for this situation",
            "这种情形一份材料也没有",
        ),
        (
            "a hall needs at least one queue business type",
            "大厅至少要有一种排队业务类型",
        ),
    ];
    if let Some((_, zh)) = fixed.iter().find(|(en, _)| *en == message) {
        return (*zh).to_owned();
    }
    let named = [
        ("unknown item ", "没有这个事项："),
        ("unknown outlet ", "没有这个地点："),
        ("unknown form ", "没有这个表格："),
        ("unknown department ", "没有这个部门："),
        ("unknown life event ", "没有这个人生事件："),
        ("unknown target group ", "没有这个特定人群："),
        ("duplicate situation id ", "情形编号重复："),
    ];
    for (en, zh) in named {
        if let Some(rest) = message.strip_prefix(en) {
            return format!("{zh}{}", rest.trim_matches('`'));
        }
    }
    message.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_and_messages_chinese() {
        assert!(key_problem("P43").is_none());
        assert!(key_problem("hall-futian").is_none());
        assert!(key_problem("../x").is_some());
        assert!(key_problem("").is_some());
        assert_eq!(plain("must not be empty"), "不能为空");
        assert_eq!(plain("unknown item `P99`"), "没有这个事项：P99");
    }
}
