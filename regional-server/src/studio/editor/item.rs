//! The item editor's fields: every element of an item's 办事指南.

use serde_json::{Value, json};

use super::fields::{Field, Input, Suggest};

const MATERIAL_FORMS: &[&str] = &["原件", "复印件", "原件和复印件", "电子证照"];

/// One material to bring, with its 审查要点 (sample text, note, sample picture).
const MATERIAL: &[Field] = &[
    Field::new("name", "材料名称", Input::Text),
    Field::new("form", "形式", Input::Choice(MATERIAL_FORMS)),
    Field::new("copies", "份数", Input::Number),
    Field::new("required", "必须提交（不勾选则写明何时需要）", Input::Check),
    Field::new("condition", "何时需要", Input::OptText).hint("如：委托他人办理的"),
    Field::new("source", "来源渠道", Input::OptText).hint("如：申请人自备、公安机关核发"),
    Field::new("sample", "审查要点：样例说明", Input::OptLong),
    Field::new("note", "审查要点：注意事项", Input::OptLong),
    Field::new("template_form", "空白表格（表格编号）", Input::OptText).suggest(Suggest::Forms),
    Field::new(
        "sample_image",
        "审查要点：样例图片",
        Input::File { image: true },
    ),
];

const SITUATION: &[Field] = &[
    Field::new("id", "情形编号", Input::Text).hint("事项内唯一，如 s1"),
    Field::new("name", "情形名称", Input::Text),
    Field::new("description", "何时属于这种情形", Input::Long),
    Field::new(
        "materials",
        "这种情形要带的材料",
        Input::Rows(MATERIAL, "材料"),
    ),
];

const FEE: &[Field] = &[
    Field::new("name", "收费项目", Input::Text),
    Field::new("amount", "金额", Input::Text).hint("如：20元/本"),
    Field::new("basis", "收费依据", Input::OptText),
];

const FEES: &[Field] = &[
    Field::new("charged", "收费", Input::Check),
    Field::new("items", "收费项目", Input::Rows(FEE, "收费项目")),
    Field::new("note", "收费说明", Input::OptText),
];

const LIMIT: &[Field] = &[
    Field::new("days", "天数（0 为即办）", Input::Number),
    Field::new("unit", "单位", Input::Choice(&["工作日", "自然日"])),
    Field::new("note", "说明", Input::OptText),
];

const ONLINE: &[Field] = &[
    Field::new("platform", "平台名称", Input::Text)
        .hint("如：广东政务服务网（全部留空表示不能网上办理）"),
    Field::new("url", "网址", Input::Text).hint("https:// 开头"),
    Field::new("mobile_app", "手机应用 / 小程序", Input::OptText).hint("如：粤省事"),
];

const HALL: &[Field] = &[
    Field::new("outlet", "大厅（地点编号）", Input::Text).suggest(Suggest::Outlets),
    Field::new("windows", "窗口号", Input::Numbers),
];

const CHANNELS: &[Field] = &[
    Field::new("online", "网上办理", Input::OptGroup(ONLINE)),
    Field::new("halls", "大厅窗口", Input::Rows(HALL, "大厅")),
    Field::new("self_service", "自助终端（地点编号）", Input::TextRows).suggest(Suggest::Outlets),
];

const STEP: &[Field] = &[
    Field::new("title", "步骤", Input::Text),
    Field::new("detail", "说明", Input::Long),
];

const ITEM_TYPES: &[&str] = &[
    "行政许可",
    "行政确认",
    "行政给付",
    "行政备案",
    "行政裁决",
    "其他行政权力",
    "公共服务",
];

pub(super) const FIELDS: &[Field] = &[
    Field::new("id", "事项编号", Input::Text).hint("区内唯一，如 P43；建好后不能改"),
    Field::new("code", "实施编码", Input::Text),
    Field::new("name", "事项名称", Input::Text).hint("与事项目录一致"),
    Field::new(
        "aliases",
        "俗称（群众常说的叫法，用于搜索）",
        Input::TextRows,
    ),
    Field::new("audience", "服务对象", Input::Choice(&["个人", "法人"])),
    Field::new("topic", "主题分类", Input::Text).suggest(Suggest::Topics),
    Field::new("life_events", "人生事件 / 企业生命周期", Input::TextRows)
        .suggest(Suggest::LifeEvents),
    Field::new("target_groups", "特定人群", Input::TextRows).suggest(Suggest::TargetGroups),
    Field::new("department", "实施主体", Input::Text).suggest(Suggest::Departments),
    Field::new("item_type", "事项类型", Input::Choice(ITEM_TYPES)),
    Field::new("legal_basis", "设定依据", Input::TextRows),
    Field::new("conditions", "申请条件", Input::TextRows),
    Field::new(
        "materials",
        "所有申请人都要带的材料",
        Input::Rows(MATERIAL, "材料"),
    ),
    Field::new("situations", "情形", Input::Rows(SITUATION, "情形")),
    Field::new("fees", "收费", Input::Group(FEES)),
    Field::new("legal_limit", "法定办结时限", Input::Group(LIMIT)),
    Field::new("promised_limit", "承诺办结时限", Input::Group(LIMIT)),
    Field::new("visits", "到现场次数（0 或 1）", Input::Number),
    Field::new("online_depth", "网办深度（1–4）", Input::Number),
    Field::new("channels", "办理渠道", Input::Group(CHANNELS)),
    Field::new("steps", "办理流程", Input::Rows(STEP, "步骤")),
    Field::new("result", "办理结果", Input::Text).hint("如：营业执照"),
    Field::new("consult_phone", "咨询电话", Input::Text),
    Field::new("complaint_phone", "投诉电话", Input::Text),
    Field::new("business_type", "排队业务类型（取号字母）", Input::OptText)
        .hint("如 A；留空表示不排队取号"),
    Field::new("popularity", "热度（越大越靠前）", Input::Number),
    Field::new("featured", "首页高频事项", Input::Check),
];

/// A new item's starting values.
pub(super) fn blank() -> Value {
    let limit = json!({"days": 0, "unit": "工作日"});
    json!({
        "audience": "个人", "item_type": "公共服务", "legal_basis": [""], "conditions": [""],
        "materials": [], "situations": [{"id": "s1", "name": "", "description": "", "materials": []}],
        "fees": {"charged": false, "items": []}, "legal_limit": limit, "promised_limit": limit,
        "visits": 1, "online_depth": 1, "channels": {"halls": [], "self_service": []},
        "steps": [{"title": "", "detail": ""}], "popularity": 0, "featured": false
    })
}
