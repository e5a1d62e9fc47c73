//! The notice editor's fields: 闭厅通知, 系统维护 and other temporary notices.

use serde_json::{Value, json};

use super::fields::{Field, Input, Suggest};

pub(super) const FIELDS: &[Field] = &[
    Field::new("id", "编号", Input::Text).hint("建好后不能改"),
    Field::new(
        "kind",
        "类型",
        Input::Choice(&["闭厅通知", "系统维护", "临时通知"]),
    ),
    Field::new("outlet", "地点编号", Input::OptText)
        .suggest(Suggest::Outlets)
        .hint("留空表示全区所有地点"),
    Field::new("title", "标题", Input::Text),
    Field::new("text", "内容", Input::Long),
    Field::new(
        "starts_at",
        "开始显示（留空为发布后立即）",
        Input::When { required: false },
    ),
    Field::new("expires_at", "到期时间", Input::When { required: true })
        .hint("到期后终端和手机页面自动不再显示"),
];

pub(super) fn blank() -> Value {
    json!({"kind": "临时通知"})
}
