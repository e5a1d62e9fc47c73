//! The slide editor's fields: the attract loop's slides.

use serde_json::{Value, json};

use super::fields::{Field, Input, Suggest};

pub(super) const FIELDS: &[Field] = &[
    Field::new("id", "编号", Input::Text).hint("如 slide-07；建好后不能改"),
    Field::new("title", "标题", Input::Text),
    Field::new("subtitle", "副标题", Input::Text),
    Field::new("color", "底色", Input::Colour),
    Field::new("item", "点击后打开的事项（事项编号）", Input::OptText).suggest(Suggest::Items),
    Field::new("image", "图片", Input::File { image: true }),
    Field::new(
        "expires_at",
        "到期时间（留空为长期）",
        Input::When { required: false },
    )
    .hint("到期后终端自动不再显示，无需重新发布"),
];

pub(super) fn blank() -> Value {
    json!({"subtitle": "", "color": "#1A5FB4"})
}
