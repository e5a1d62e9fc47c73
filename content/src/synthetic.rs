//! A synthetic region of any size for benchmarks: the demo region's real items plus generated ones
//! that reuse real guides under new, catalogue-like names.

use menpai_model::ContentPack;

const OBJECTS: &[&str] = &[
    "医疗机构",
    "民办学校",
    "旅行社",
    "互联网上网服务营业场所",
    "娱乐场所",
    "危险化学品经营",
    "第二类医疗器械经营",
    "房地产开发企业资质",
    "人力资源服务",
    "道路运输从业人员",
    "船舶",
    "农药经营",
    "兽药经营",
    "农作物种子生产经营",
    "林木采伐",
    "取水",
    "河道采砂",
    "临时占用绿地",
    "文物保护单位修缮",
    "宗教活动场所",
    "社会团体",
    "民办非企业单位",
    "慈善组织",
    "养老机构",
    "托育机构",
    "母婴保健技术服务",
    "放射诊疗",
    "职业病诊断",
    "殡葬服务",
    "计量器具",
    "商品条码",
    "专利权质押",
    "商标专用权质押",
    "建筑业企业资质",
    "工程监理企业资质",
    "燃气经营",
    "城市道路挖掘",
    "排水户接入市政管网",
    "占用城市道路",
    "建筑垃圾处置",
    "夜间施工",
    "户外招牌",
    "餐厨垃圾收运",
    "生活垃圾经营性清扫",
    "二次供水设施",
    "消毒产品生产企业",
    "饮用水供水单位",
    "体育类校外培训机构",
    "营业性演出",
    "网络文化经营",
    "广播电视节目制作经营",
    "电影放映单位",
    "艺术品经营",
    "出版物印刷",
    "包装装潢印刷",
    "机动车维修经营",
    "机动车驾驶员培训",
    "网络预约出租汽车经营",
    "巡游出租汽车经营",
    "客运站经营",
    "港口经营",
    "报废机动车回收拆解",
    "成品油零售经营",
    "再生资源回收经营",
    "单用途商业预付卡",
    "拍卖企业",
    "典当行",
    "融资担保公司",
    "小额贷款公司",
    "劳动合同",
    "集体合同",
    "特殊工时工作制",
    "职业技能等级认定",
    "技工学校",
    "失业人员",
    "灵活就业人员",
    "见义勇为人员",
    "烈士褒扬金",
    "优抚对象",
    "孤儿基本生活费",
    "临时救助",
    "住房租赁",
    "公共租赁住房",
    "人才住房",
    "经济适用住房",
    "房屋租赁合同",
    "物业服务企业",
    "住宅专项维修资金",
    "犬只",
    "献血者",
    "中医诊所",
    "护士执业",
    "药师执业",
    "外国人永久居留",
    "华侨回国定居",
    "港澳居民居住证",
    "台湾居民居住证",
    "临时身份证明",
];

const ACTIONS: &[&str] = &[
    "许可",
    "登记",
    "备案",
    "变更登记",
    "注销登记",
    "延续",
    "补证",
    "审批",
    "核发",
    "认定",
    "查询",
    "证明开具",
    "资格审核",
    "补贴申领",
    "年度报告",
];

const QUALIFIERS: &[&str] = &[
    "",
    "（首次申请）",
    "（延续申请）",
    "（跨区迁入）",
    "（简易程序）",
];

const ALIAS_VERBS: &[&str] = &["办", "申请", "怎么办", "去哪办", "要什么材料"];

/// Returns `base` grown to `total` items; generated items are `S00001`, `S00002`, ….
pub fn expand(base: &ContentPack, total: usize, seed: u64) -> ContentPack {
    let mut pack = base.clone();
    let templates: Vec<_> = base.items.clone();
    assert!(
        !templates.is_empty(),
        "the base pack has no items to copy guides from"
    );
    let mut rng = SplitMix(seed);
    let mut combos: Vec<(usize, usize, usize)> = (0..OBJECTS.len())
        .flat_map(|o| {
            (0..ACTIONS.len()).flat_map(move |a| (0..QUALIFIERS.len()).map(move |q| (o, a, q)))
        })
        .collect();
    // Fisher–Yates, so every run with the same seed yields the same region.
    for i in (1..combos.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        combos.swap(i, j);
    }
    let needed = total.saturating_sub(pack.items.len());
    for n in 0..needed {
        let (o, a, q) = combos[n % combos.len()];
        let round = n / combos.len();
        let template = &templates[n % templates.len()];
        let mut item = template.clone();
        item.id = format!("S{:05}", n + 1);
        item.code = format!("11440304SYN{:08}X", n + 1);
        item.name = format!("{}{}{}", OBJECTS[o], ACTIONS[a], QUALIFIERS[q]);
        if round > 0 {
            item.name.push_str(&format!("（{}）", round + 1));
        }
        let verb = ALIAS_VERBS[(rng.next() % ALIAS_VERBS.len() as u64) as usize];
        item.aliases = vec![
            format!("{}{}", OBJECTS[o], verb),
            format!("{}{}", verb, OBJECTS[o]),
        ];
        // Demand falls off steeply, as in real halls: a few items carry most visits.
        item.popularity = (10_000.0 / (1.0 + (rng.next() % 2_000) as f64)) as u32;
        item.featured = false;
        pack.sources.insert(
            format!("item:{}", item.id),
            format!("items/{}.json", item.id),
        );
        pack.items.push(item);
    }
    if let Some(region) = &mut pack.region {
        region.version = format!("{}-synthetic-{}", region.version, total);
    }
    pack
}

/// A small deterministic generator (SplitMix64), enough for shuffling names.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
