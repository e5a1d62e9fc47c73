//! The FAQ editor's fields.

use serde_json::{Value, json};

use super::fields::{Field, Input, Suggest};

pub(super) const FIELDS: &[Field] = &[
    Field::new("id", "编号", Input::Text).hint("建好后不能改"),
    Field::new("question", "问题", Input::Text),
    Field::new("answer", "回答", Input::Long),
    Field::new("category", "分类", Input::Text),
    Field::new("items", "相关事项（事项编号）", Input::TextRows).suggest(Suggest::Items),
];

pub(super) fn blank() -> Value {
    json!({"items": []})
}
