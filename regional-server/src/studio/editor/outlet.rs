//! The outlet editor's fields: opening hours by weekday, holidays and notes, transit, the
//! items it handles and its queue business types.

use serde_json::{Value, json};

use super::fields::{Field, Input, Suggest};

const DAY_HINT: &str = "每行一段，如 09:00-12:00；留空为休息";

const HOURS: &[Field] = &[
    Field::new("mon", "周一", Input::Lines).hint(DAY_HINT),
    Field::new("tue", "周二", Input::Lines),
    Field::new("wed", "周三", Input::Lines),
    Field::new("thu", "周四", Input::Lines),
    Field::new("fri", "周五", Input::Lines),
    Field::new("sat", "周六", Input::Lines),
    Field::new("sun", "周日", Input::Lines),
    Field::new("closed_on_holidays", "法定节假日休息", Input::Check),
    Field::new("note", "时间说明", Input::OptText).hint("如：周六上午仅办理社保业务"),
];

const LOCATION: &[Field] = &[
    Field::new("lat", "纬度（WGS-84）", Input::Decimal),
    Field::new("lon", "经度（WGS-84）", Input::Decimal),
];

const BUSINESS_TYPE: &[Field] = &[
    Field::new("prefix", "取号字母", Input::Text).hint("一个大写字母，如 A"),
    Field::new("name", "业务名称", Input::Text),
    Field::new(
        "service_level_min",
        "等候时限（分钟，空为 20）",
        Input::OptNumber,
    ),
];

pub(super) const FIELDS: &[Field] = &[
    Field::new("id", "地点编号", Input::Text).hint("如 hall-futian；建好后不能改"),
    Field::new(
        "kind",
        "类型",
        Input::Choice(&["政务服务大厅", "自助服务终端", "便民服务站"]),
    ),
    Field::new("name", "名称", Input::Text),
    Field::new("address", "地址", Input::Text),
    Field::new("location", "位置", Input::Group(LOCATION)),
    Field::new("phone", "电话", Input::Text),
    Field::new("hours", "办公时间", Input::Group(HOURS)),
    Field::new("transit", "公交地铁", Input::TextRows),
    Field::new("items", "可办事项（事项编号）", Input::TextRows).suggest(Suggest::Items),
    Field::new(
        "business_types",
        "排队业务类型",
        Input::Rows(BUSINESS_TYPE, "业务类型"),
    ),
    Field::new("notes", "提示（停车、无障碍等）", Input::TextRows),
];

pub(super) fn blank() -> Value {
    json!({
        "kind": "政务服务大厅", "location": {"lat": 22.54, "lon": 114.05},
        "hours": {"closed_on_holidays": true}, "items": [], "business_types": []
    })
}
