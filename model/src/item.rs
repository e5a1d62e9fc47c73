//! A service item (事项) with every element of its 办事指南 (service guide).

use serde::{Deserialize, Serialize};

/// Who the item serves: citizens (个人) or legal persons such as companies (法人).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Audience {
    #[serde(rename = "个人")]
    Personal,
    #[serde(rename = "法人")]
    Legal,
}

impl Audience {
    /// The label citizens read.
    pub fn label(self) -> &'static str {
        match self {
            Audience::Personal => "个人",
            Audience::Legal => "法人",
        }
    }

    /// Parses the label used in content and query strings.
    pub fn from_label(s: &str) -> Option<Self> {
        match s {
            "个人" | "personal" => Some(Audience::Personal),
            "法人" | "legal" => Some(Audience::Legal),
            _ => None,
        }
    }
}

/// The legal kind of the item (事项类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemType {
    #[serde(rename = "行政许可")]
    Licence,
    #[serde(rename = "行政确认")]
    Confirmation,
    #[serde(rename = "行政给付")]
    Benefit,
    #[serde(rename = "行政备案")]
    Filing,
    #[serde(rename = "行政裁决")]
    Adjudication,
    #[serde(rename = "其他行政权力")]
    OtherPower,
    #[serde(rename = "公共服务")]
    PublicService,
}

/// One service item and its guide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id inside the region, e.g. `P43`.
    pub id: String,
    /// The implementation code (实施编码) from the provincial item catalogue.
    pub code: String,
    /// The official item name, exactly as the catalogue spells it.
    pub name: String,
    /// Everyday words citizens use for it (口头语), used by search.
    #[serde(default)]
    pub aliases: Vec<String>,
    pub audience: Audience,
    /// Topic category (主题分类), one of the region's topics.
    pub topic: String,
    /// Life events (人生事件 / 企业生命周期) this item belongs to.
    #[serde(default)]
    pub life_events: Vec<String>,
    /// Target groups (特定人群) such as 老年人 or 残疾人.
    #[serde(default)]
    pub target_groups: Vec<String>,
    /// The department that decides (实施主体), one of the region's departments.
    pub department: String,
    pub item_type: ItemType,
    /// Laws and regulations the item rests on (设定依据).
    pub legal_basis: Vec<String>,
    /// Who may apply and under what conditions (申请条件).
    pub conditions: Vec<String>,
    /// Materials every applicant brings, whatever their situation.
    #[serde(default)]
    pub materials: Vec<Material>,
    /// Situations (情形) an applicant picks from, each adding the materials it needs.
    pub situations: Vec<Situation>,
    pub fees: Fees,
    /// Time limit set by law (法定办结时限).
    pub legal_limit: TimeLimit,
    /// Time limit the hall promises (承诺办结时限).
    pub promised_limit: TimeLimit,
    /// Visits to the hall needed at most (到办事现场次数): 0 or 1.
    pub visits: u8,
    /// Depth of online service (网办深度) from 1 (I, information) to 4 (IV, fully online).
    pub online_depth: u8,
    pub channels: Channels,
    /// The steps of the process (办理流程).
    pub steps: Vec<Step>,
    /// What the applicant receives (办理结果), e.g. 营业执照.
    pub result: String,
    /// Phone for questions (咨询电话).
    pub consult_phone: String,
    /// Phone for complaints (投诉电话).
    pub complaint_phone: String,
    /// Queue business type prefix (e.g. `A`) used for tickets at halls.
    #[serde(default)]
    pub business_type: Option<String>,
    /// Relative demand; breaks ties in search and orders featured lists.
    #[serde(default)]
    pub popularity: u32,
    /// Shown among the high-frequency items on the home screen.
    #[serde(default)]
    pub featured: bool,
}

/// A situation (情形) with the materials it adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Situation {
    /// Stable id inside the item, e.g. `s1`.
    pub id: String,
    /// Short name a citizen recognises, e.g. 首次申领.
    pub name: String,
    /// One plain sentence saying when this situation applies.
    #[serde(default)]
    pub description: String,
    pub materials: Vec<Material>,
}

/// Whether the original, a copy or both must be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaterialForm {
    #[serde(rename = "原件")]
    Original,
    #[serde(rename = "复印件")]
    Copy,
    #[serde(rename = "原件和复印件")]
    OriginalAndCopy,
    #[serde(rename = "电子证照")]
    Electronic,
}

impl MaterialForm {
    pub fn label(self) -> &'static str {
        match self {
            MaterialForm::Original => "原件",
            MaterialForm::Copy => "复印件",
            MaterialForm::OriginalAndCopy => "原件和复印件",
            MaterialForm::Electronic => "电子证照",
        }
    }
}

/// One material to bring (申请材料).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Material {
    pub name: String,
    pub form: MaterialForm,
    /// Number of copies (份数).
    pub copies: u8,
    /// Required for everyone in the situation; otherwise `condition` says when.
    pub required: bool,
    /// When a conditional material is needed (e.g. 委托他人办理的).
    #[serde(default)]
    pub condition: Option<String>,
    /// Where it comes from (来源渠道), e.g. 申请人自备 or 公安机关核发.
    #[serde(default)]
    pub source: Option<String>,
    /// A filled-in sample (示例样表) description.
    #[serde(default)]
    pub sample: Option<String>,
    /// The blank form to fill (空白表格), a form id of the pack.
    #[serde(default)]
    pub template_form: Option<String>,
    /// Short extra guidance.
    #[serde(default)]
    pub note: Option<String>,
    /// A picture of a good example (审查要点: what the window checks), shown on the plate.
    #[serde(default)]
    pub sample_image: Option<crate::file::FileRef>,
}

/// Fees (收费标准); `charged: false` means the item is free.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fees {
    pub charged: bool,
    #[serde(default)]
    pub items: Vec<Fee>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fee {
    pub name: String,
    /// Amount as the guide states it, e.g. `20元/本`.
    pub amount: String,
    /// The document that sets the fee.
    #[serde(default)]
    pub basis: Option<String>,
}

/// Working days or calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeUnit {
    #[serde(rename = "工作日")]
    WorkingDays,
    #[serde(rename = "自然日")]
    CalendarDays,
}

/// A time limit; `days: 0` means done on the spot (即办).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeLimit {
    pub days: u32,
    pub unit: TimeUnit,
    #[serde(default)]
    pub note: Option<String>,
}

impl TimeLimit {
    /// Plain wording, e.g. 即办 or 5个工作日.
    pub fn label(&self) -> String {
        if self.days == 0 {
            return "即办".to_owned();
        }
        let unit = match self.unit {
            TimeUnit::WorkingDays => "个工作日",
            TimeUnit::CalendarDays => "天",
        };
        format!("{}{}", self.days, unit)
    }
}

/// Every way to get the item done (办理渠道).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channels {
    /// Online entry, when there is one.
    #[serde(default)]
    pub online: Option<OnlineChannel>,
    /// Hall windows that handle it.
    #[serde(default)]
    pub halls: Vec<HallChannel>,
    /// Self-service machines (outlet ids) that handle it.
    #[serde(default)]
    pub self_service: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnlineChannel {
    /// Platform name, e.g. 广东政务服务网.
    pub platform: String,
    pub url: String,
    /// Also in the mobile app / mini program (e.g. 粤省事).
    #[serde(default)]
    pub mobile_app: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallChannel {
    /// Outlet id of the hall.
    pub outlet: String,
    /// Window numbers on the hall's floor plan.
    pub windows: Vec<u32>,
}

/// One step of the process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub title: String,
    pub detail: String,
}
