//! The form editor's fields: a blank form (范本), a filled-in sample (样表) and its picture.

use serde_json::{Value, json};

use super::fields::{Field, Input};

pub(super) const FIELDS: &[Field] = &[
    Field::new("id", "表格编号", Input::Text).hint("建好后不能改"),
    Field::new("name", "表格名称", Input::Text),
    Field::new("url", "下载地址", Input::Text).hint("/forms/ 开头，如 /forms/sfz-sl.pdf"),
    Field::new(
        "blank",
        "空白表格（PDF、Word 或 Excel）",
        Input::File { image: false },
    ),
    Field::new(
        "sample",
        "填写样表（PDF、Word 或 Excel）",
        Input::File { image: false },
    ),
    Field::new(
        "sample_image",
        "样表图片（门牌上显示）",
        Input::File { image: true },
    ),
];

pub(super) fn blank() -> Value {
    json!({})
}
