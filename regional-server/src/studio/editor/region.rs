//! The region editor's fields: its name and notice, the hotline, the calendar (public holidays
//! and weekend days worked in exchange, which every hall's hours and deadlines follow), and
//! the topics, life events, target groups and departments items are filed under. A region is
//! edited, never created or deleted.

use super::fields::{Field, Input};

const AUDIENCE: Input = Input::Choice(&["个人", "法人"]);

const CENTRE: &[Field] = &[
    Field::new("lat", "纬度（WGS-84）", Input::Decimal),
    Field::new("lon", "经度（WGS-84）", Input::Decimal),
];

const HOLIDAY: &[Field] = &[
    Field::new("date", "日期", Input::Text).hint("如 2026-10-01"),
    Field::new("name", "名称", Input::Text).hint("如 国庆节"),
];

const NAMED: &[Field] = &[
    Field::new("name", "名称", Input::Text),
    Field::new("audience", "服务对象", AUDIENCE),
];

const DEPARTMENT: &[Field] = &[
    Field::new("name", "部门名称", Input::Text),
    Field::new("phone", "咨询电话", Input::Text),
];

pub(super) const FIELDS: &[Field] = &[
    Field::new("id", "地区编号", Input::Text).hint("不能改"),
    Field::new("name", "名称", Input::Text),
    Field::new("demo", "演示数据", Input::Check),
    Field::new("notice", "全区提示", Input::OptText).hint("显示在终端和手机页面上"),
    Field::new("version", "内容版本说明", Input::Text),
    Field::new("center", "地图中心", Input::Group(CENTRE)),
    Field::new("hotline", "服务热线", Input::Text).hint("如 12345"),
    Field::new("holidays", "法定节假日", Input::Rows(HOLIDAY, "节假日"))
        .hint("这些日子大厅休息（设为节假日休息的地点），办结时限不计"),
    Field::new("makeup_workdays", "调休上班的周末", Input::TextRows)
        .hint("每行一个日期，如 2026-09-27"),
    Field::new("topics", "主题分类", Input::Rows(NAMED, "主题")),
    Field::new("life_events", "人生事件", Input::Rows(NAMED, "事件")),
    Field::new("target_groups", "特定人群", Input::TextRows),
    Field::new("departments", "部门", Input::Rows(DEPARTMENT, "部门")),
];
