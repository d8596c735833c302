//! Charge profiles: which charges the province sees and how often (domain-facts §2.1–2.2), who
//! commits them, how they are investigated and sentenced, and the police summary text.
//!
//! Names are looked up in the standard's charge table at run time; a profile whose name the
//! table lacks is skipped. Duty crimes of state functionaries (贪污, 受贿) are left out: the
//! supervision commissions, not the police, investigate them.

use xiezhi_standard::codes::{table, CodeEntry, CodeTable};

/// Principal penalty weights and term ranges of a charge (months; fines in yuan).
#[derive(Debug)]
pub(crate) struct Sentencing {
    /// Weights of 管制, 拘役, 有期徒刑, 免予刑事处罚.
    pub weights: [u32; 4],
    pub detention_months: (u16, u16),
    pub fixed_months: (u16, u16),
    /// The heavier statutory band (large amounts, serious injury), if any.
    pub heavy_months: Option<(u16, u16)>,
    pub fine: Option<(u32, u32)>,
    /// Percent of eligible terms (拘役, 有期徒刑 ≤ 36 months) suspended.
    pub probation_pct: u8,
}

#[derive(Debug)]
pub(crate) struct Profile {
    /// Official name, with 罪.
    pub name: &'static str,
    /// Relative frequency (per mille of cases).
    pub weight: u32,
    pub male_pct: u8,
    pub age: (u8, u8),
    /// 涉案金额 range in yuan, if the charge has one.
    pub amount: Option<(u64, u64)>,
    /// Amounts carry fen (transfers) rather than whole yuan (valuations).
    pub cents: bool,
    pub detain_pct: u8,
    /// Percent of detained suspects for whom police request arrest.
    pub arrest_pct: u8,
    /// Committed by several people together at times.
    pub group: bool,
    /// Committed at night (drunk driving).
    pub night: bool,
    pub sentencing: Sentencing,
    /// A misspelt short name that is no charge (`盗切`).
    pub typo: &'static str,
    /// 简要案情 templates: `{时}` time, `{人}` suspect, `{地}` place, `{额}` amount,
    /// `{罪}` short charge name, `{量}` grams, `{酒}` blood alcohol, `{日}` date of the offence.
    pub facts: &'static [&'static str],
    /// A charge sometimes prosecuted together with this one.
    pub companion: Option<&'static str>,
}

const fn s(
    weights: [u32; 4],
    detention_months: (u16, u16),
    fixed_months: (u16, u16),
    heavy_months: Option<(u16, u16)>,
    fine: Option<(u32, u32)>,
    probation_pct: u8,
) -> Sentencing {
    Sentencing {
        weights,
        detention_months,
        fixed_months,
        heavy_months,
        fine,
        probation_pct,
    }
}

const GENERIC_AMOUNT: &[&str] = &["{时}，犯罪嫌疑人{人}在{地}涉嫌{罪}，涉案金额人民币{额}元。"];
const GENERIC: &[&str] = &["{时}，犯罪嫌疑人{人}在{地}涉嫌{罪}，被公安机关依法查获。"];

#[allow(clippy::too_many_arguments)]
const fn p(
    name: &'static str,
    weight: u32,
    male_pct: u8,
    age: (u8, u8),
    amount: Option<(u64, u64)>,
    detain_pct: u8,
    arrest_pct: u8,
    group: bool,
    sentencing: Sentencing,
    typo: &'static str,
    facts: &'static [&'static str],
) -> Profile {
    Profile {
        name,
        weight,
        male_pct,
        age,
        amount,
        cents: false,
        detain_pct,
        arrest_pct,
        group,
        night: false,
        sentencing,
        typo,
        facts,
        companion: None,
    }
}

const NONE: Option<(u64, u64)> = None;

pub(crate) static PROFILES: &[Profile] = &[
    Profile {
        night: true,
        ..p(
            "危险驾驶罪",
            180,
            96,
            (22, 60),
            NONE,
            15,
            0,
            false,
            s([0, 97, 0, 3], (1, 6), (6, 6), None, Some((1000, 20000)), 35),
            "危险架驶",
            &[
                "{时}，犯罪嫌疑人{人}饮酒后驾驶小型轿车行驶至{地}时被执勤民警查获，经鉴定其血液中乙醇含量为{酒}mg/100ml。",
                "{时}，犯罪嫌疑人{人}醉酒驾驶无号牌二轮摩托车行驶至{地}时被民警拦截检查，经鉴定其血液中乙醇含量为{酒}mg/100ml。",
            ],
        )
    },
    Profile {
        companion: Some("诈骗罪"),
        ..p(
            "盗窃罪",
            130,
            88,
            (18, 55),
            Some((1000, 200_000)),
            85,
            70,
            true,
            s([3, 20, 77, 0], (2, 6), (6, 36), Some((36, 120)), Some((1000, 30000)), 30),
            "盗切",
            &[
                "{时}，犯罪嫌疑人{人}在{地}一小区内盗窃电动自行车一辆，经鉴定价值人民币{额}元。",
                "{时}，犯罪嫌疑人{人}窜至{地}一居民家中入户盗窃现金及金饰，共计价值人民币{额}元。",
                "{时}，犯罪嫌疑人{人}在{地}公交车上扒窃他人手机，经鉴定价值人民币{额}元。",
            ],
        )
    },
    Profile {
        cents: true,
        companion: Some("掩饰、隐瞒犯罪所得、犯罪所得收益罪"),
        ..p(
            "帮助信息网络犯罪活动罪",
            100,
            80,
            (18, 35),
            Some((20_000, 3_000_000)),
            80,
            60,
            true,
            s([0, 10, 90, 0], (3, 6), (6, 24), Some((24, 36)), Some((2000, 30000)), 35),
            "帮助信息网路犯罪活动",
            &[
                "{日}起，犯罪嫌疑人{人}明知他人利用信息网络实施犯罪，仍将本人名下银行卡出租给他人用于支付结算，流水金额达人民币{额}元。",
                "{日}起，犯罪嫌疑人{人}在{地}收购他人电话卡并提供给境外诈骗团伙使用，涉案资金人民币{额}元。",
            ],
        )
    },
    p(
        "掩饰、隐瞒犯罪所得、犯罪所得收益罪",
        60,
        80,
        (18, 45),
        Some((3000, 300_000)),
        80,
        60,
        true,
        s([2, 15, 83, 0], (2, 6), (6, 36), Some((36, 84)), Some((2000, 30000)), 35),
        "掩饰、隐瞒犯罪所的、犯罪所得收益",
        &["{时}，犯罪嫌疑人{人}明知是犯罪所得的手机仍在{地}以明显低于市场价格收购，涉案金额人民币{额}元。"],
    ),
    Profile {
        cents: true,
        ..p(
            "诈骗罪",
            60,
            72,
            (18, 60),
            Some((3000, 800_000)),
            85,
            75,
            true,
            s([0, 8, 92, 0], (3, 6), (6, 36), Some((36, 120)), Some((2000, 100000)), 25),
            "炸骗",
            &[
                "{时}，犯罪嫌疑人{人}以介绍工作为由在{地}骗取被害人钱款，共计人民币{额}元。",
                "{时}，犯罪嫌疑人{人}冒充客服以刷单返利为名骗取被害人转账，共计人民币{额}元。",
            ],
        )
    },
    p(
        "开设赌场罪",
        50,
        85,
        (25, 60),
        Some((5000, 500_000)),
        85,
        70,
        true,
        s([0, 5, 95, 0], (3, 6), (6, 36), Some((60, 96)), Some((5000, 100000)), 35),
        "开设堵场",
        &[
            "{时}，犯罪嫌疑人{人}在{地}一民房内开设赌场，组织他人以\"推筒子\"方式赌博，抽头渔利人民币{额}元。",
            "{时}，犯罪嫌疑人{人}在{地}一茶楼内组织他人以\"斗牛\"方式赌博并从中抽头，非法获利人民币{额}元。",
        ],
    ),
    Profile {
        companion: Some("寻衅滋事罪"),
        ..p(
            "故意伤害罪",
            50,
            92,
            (18, 65),
            NONE,
            85,
            70,
            true,
            s([5, 15, 78, 2], (3, 6), (6, 36), Some((36, 120)), None, 35),
            "故意伤客",
            &["{时}，犯罪嫌疑人{人}在{地}因琐事与被害人发生争执，持木棒将被害人打伤，经鉴定被害人损伤程度为轻伤一级。"],
        )
    },
    p(
        "寻衅滋事罪",
        40,
        95,
        (18, 50),
        NONE,
        90,
        75,
        true,
        s([3, 15, 82, 0], (3, 6), (6, 36), Some((60, 96)), None, 30),
        "寻衅兹事",
        &["{时}，犯罪嫌疑人{人}酒后在{地}一烧烤店内随意殴打他人，致一人轻微伤，并砸毁店内物品。"],
    ),
    Profile {
        companion: Some("容留他人吸毒罪"),
        ..p(
            "走私、贩卖、运输、制造毒品罪",
            40,
            80,
            (20, 55),
            NONE,
            100,
            95,
            true,
            s([0, 5, 95, 0], (3, 6), (6, 36), Some((84, 180)), Some((1000, 50000)), 10),
            "走私、贩卖、运输、制造毒口",
            &["{时}，犯罪嫌疑人{人}在{地}向他人贩卖甲基苯丙胺{量}克，被民警当场抓获。"],
        )
    },
    p(
        "交通肇事罪",
        35,
        93,
        (22, 65),
        NONE,
        30,
        20,
        false,
        s([0, 20, 80, 0], (3, 6), (6, 36), Some((36, 84)), None, 60),
        "交通肇是",
        &["{时}，犯罪嫌疑人{人}驾驶小型货车行驶至{地}时与一辆电动自行车相撞，造成一人死亡，经认定负事故主要责任。"],
    ),
    p(
        "非法吸收公众存款罪",
        10,
        65,
        (30, 65),
        Some((1_000_000, 50_000_000)),
        80,
        70,
        true,
        s([0, 0, 100, 0], (3, 6), (12, 48), Some((48, 96)), Some((50000, 500000)), 30),
        "非法吸收公众存歀",
        &["{日}起，犯罪嫌疑人{人}以高额返利为诱饵在{地}向社会公众吸收资金，共计人民币{额}元。"],
    ),
    p(
        "组织、领导传销活动罪",
        6,
        60,
        (25, 60),
        Some((100_000, 10_000_000)),
        80,
        70,
        true,
        s([0, 0, 100, 0], (3, 6), (12, 60), None, Some((10000, 200000)), 25),
        "组织、领导传消活动",
        GENERIC_AMOUNT,
    ),
    p(
        "容留他人吸毒罪",
        15,
        70,
        (20, 55),
        NONE,
        90,
        60,
        false,
        s([0, 30, 70, 0], (3, 6), (6, 24), None, Some((1000, 5000)), 20),
        "容留他人吸独",
        &["{时}，犯罪嫌疑人{人}在{地}其租住房内容留他人吸食甲基苯丙胺，被民警当场查获。"],
    ),
    p(
        "非法持有毒品罪",
        10,
        80,
        (20, 55),
        NONE,
        90,
        70,
        false,
        s([0, 20, 80, 0], (3, 6), (6, 36), None, Some((1000, 10000)), 20),
        "非法持有毒吕",
        &["{时}，民警在{地}将犯罪嫌疑人{人}抓获，当场从其身上查获甲基苯丙胺{量}克。"],
    ),
    p(
        "妨害公务罪",
        10,
        90,
        (20, 60),
        NONE,
        90,
        50,
        false,
        s([10, 40, 50, 0], (2, 6), (6, 24), None, None, 50),
        "妨碍公务",
        GENERIC,
    ),
    p(
        "袭警罪",
        8,
        92,
        (20, 60),
        NONE,
        95,
        60,
        false,
        s([5, 35, 60, 0], (2, 6), (6, 30), None, None, 40),
        "袭惊",
        &["{时}，犯罪嫌疑人{人}在{地}拒不配合民警依法盘查，并对执勤民警推搡撕打致其轻微伤。"],
    ),
    p(
        "聚众斗殴罪",
        10,
        97,
        (18, 40),
        NONE,
        90,
        75,
        true,
        s([0, 20, 80, 0], (3, 6), (6, 36), Some((36, 96)), None, 35),
        "聚众斗欧",
        GENERIC,
    ),
    p(
        "强奸罪",
        8,
        100,
        (18, 60),
        NONE,
        100,
        100,
        false,
        s([0, 0, 100, 0], (3, 6), (36, 120), None, None, 0),
        "强歼",
        GENERIC,
    ),
    p(
        "故意杀人罪",
        3,
        85,
        (20, 65),
        NONE,
        100,
        100,
        false,
        s([0, 0, 100, 0], (3, 6), (36, 120), None, None, 0),
        "故意杀入",
        GENERIC,
    ),
    p(
        "抢劫罪",
        12,
        95,
        (18, 45),
        Some((200, 20000)),
        100,
        95,
        true,
        s([0, 0, 100, 0], (3, 6), (36, 120), None, Some((2000, 20000)), 5),
        "抢刼",
        &["{时}，犯罪嫌疑人{人}在{地}持刀抢劫被害人现金及手机，共计价值人民币{额}元。"],
    ),
    p(
        "敲诈勒索罪",
        8,
        90,
        (18, 50),
        Some((2000, 100_000)),
        85,
        70,
        true,
        s([0, 15, 85, 0], (3, 6), (6, 48), None, Some((2000, 20000)), 30),
        "敲榨勒索",
        GENERIC_AMOUNT,
    ),
    p(
        "抢夺罪",
        3,
        90,
        (18, 45),
        Some((1000, 30000)),
        90,
        70,
        false,
        s([0, 20, 80, 0], (3, 6), (6, 36), None, Some((1000, 10000)), 30),
        "抢多",
        GENERIC_AMOUNT,
    ),
    p(
        "职务侵占罪",
        7,
        70,
        (25, 55),
        Some((60_000, 2_000_000)),
        70,
        60,
        false,
        s([0, 10, 90, 0], (3, 6), (6, 60), None, Some((10000, 100000)), 35),
        "职务浸占",
        GENERIC_AMOUNT,
    ),
    p(
        "侵犯公民个人信息罪",
        10,
        80,
        (20, 45),
        Some((5000, 200_000)),
        80,
        50,
        true,
        s([0, 15, 85, 0], (3, 6), (6, 36), None, Some((5000, 50000)), 40),
        "侵犯公民个人讯息",
        GENERIC_AMOUNT,
    ),
    Profile {
        cents: true,
        ..p(
            "信用卡诈骗罪",
            10,
            75,
            (22, 55),
            Some((50_000, 500_000)),
            70,
            60,
            false,
            s([0, 10, 90, 0], (3, 6), (6, 60), None, Some((20000, 200000)), 40),
            "信用卡炸骗",
            GENERIC_AMOUNT,
        )
    },
    p(
        "合同诈骗罪",
        8,
        80,
        (25, 60),
        Some((20_000, 2_000_000)),
        85,
        75,
        false,
        s([0, 5, 95, 0], (3, 6), (6, 60), Some((60, 120)), Some((5000, 200000)), 25),
        "合同炸骗",
        GENERIC_AMOUNT,
    ),
    p(
        "非法经营罪",
        8,
        85,
        (25, 60),
        Some((50_000, 2_000_000)),
        70,
        60,
        true,
        s([0, 10, 90, 0], (3, 6), (6, 48), None, Some((10000, 200000)), 40),
        "非法经管",
        GENERIC_AMOUNT,
    ),
    p(
        "非法拘禁罪",
        6,
        90,
        (20, 50),
        NONE,
        90,
        70,
        true,
        s([5, 25, 70, 0], (3, 6), (6, 36), None, None, 35),
        "非法拘紧",
        GENERIC,
    ),
    p(
        "拒不执行判决、裁定罪",
        10,
        80,
        (30, 65),
        Some((10_000, 500_000)),
        60,
        40,
        false,
        s([0, 30, 70, 0], (3, 6), (6, 24), None, None, 50),
        "拒不执行判决、栽定",
        GENERIC_AMOUNT,
    ),
    p(
        "赌博罪",
        8,
        85,
        (25, 65),
        Some((5000, 100_000)),
        80,
        50,
        true,
        s([5, 35, 60, 0], (2, 6), (6, 24), None, Some((2000, 20000)), 40),
        "堵博",
        GENERIC_AMOUNT,
    ),
    p(
        "滥伐林木罪",
        6,
        90,
        (30, 70),
        NONE,
        40,
        20,
        false,
        s([10, 30, 60, 0], (2, 6), (6, 36), None, Some((2000, 20000)), 60),
        "烂伐林木",
        GENERIC,
    ),
    p(
        "非法采矿罪",
        5,
        92,
        (30, 65),
        Some((100_000, 2_000_000)),
        60,
        40,
        true,
        s([0, 15, 85, 0], (3, 6), (6, 36), None, Some((10000, 200000)), 45),
        "非法采旷",
        GENERIC_AMOUNT,
    ),
    p(
        "妨害信用卡管理罪",
        6,
        80,
        (20, 45),
        NONE,
        80,
        60,
        true,
        s([0, 10, 90, 0], (3, 6), (6, 36), None, Some((5000, 50000)), 40),
        "妨害信用卡管里",
        GENERIC,
    ),
    p(
        "引诱、容留、介绍卖淫罪",
        5,
        50,
        (22, 55),
        NONE,
        90,
        70,
        true,
        s([0, 20, 80, 0], (3, 6), (6, 36), None, Some((2000, 20000)), 30),
        "引诱、容留、介绍买淫",
        GENERIC,
    ),
    p(
        "组织卖淫罪",
        2,
        70,
        (25, 55),
        NONE,
        100,
        95,
        true,
        s([0, 0, 100, 0], (3, 6), (60, 120), None, Some((10000, 100000)), 0),
        "组织买淫",
        GENERIC,
    ),
    p(
        "非法捕捞水产品罪",
        4,
        95,
        (25, 70),
        NONE,
        30,
        10,
        true,
        s([10, 40, 50, 0], (2, 6), (6, 24), None, None, 60),
        "非法捕涝水产品",
        GENERIC,
    ),
    p(
        "强制猥亵、侮辱罪",
        4,
        100,
        (20, 65),
        NONE,
        95,
        85,
        false,
        s([0, 10, 90, 0], (3, 6), (12, 60), None, None, 15),
        "强制猥亵、悔辱",
        GENERIC,
    ),
    p(
        "失火罪",
        3,
        85,
        (30, 75),
        NONE,
        30,
        10,
        false,
        s([5, 30, 65, 0], (2, 6), (6, 36), None, None, 70),
        "失伙",
        GENERIC,
    ),
    p(
        "重大责任事故罪",
        3,
        90,
        (30, 65),
        NONE,
        40,
        20,
        false,
        s([0, 20, 80, 0], (3, 6), (6, 36), None, None, 70),
        "重大责任事古",
        GENERIC,
    ),
];

/// A profile whose name the standard's charge table knows.
#[derive(Debug)]
pub(crate) struct Charge {
    pub profile: &'static Profile,
    /// The standard's entry, for the days it is in force (袭警罪 only from 2021-03-01).
    pub entry: &'static CodeEntry,
    /// The standard's name (`盗窃罪`).
    pub name: &'static str,
    /// The police form, without 罪 (`盗窃`).
    pub short: &'static str,
    /// Index of the companion charge in the loaded list.
    pub companion: Option<usize>,
    /// Whether `typo` (and `typo` + 罪) are unknown to the table, so usable as a defect.
    pub typo_ok: bool,
}

/// The profiles the charge table knows, in profile order, with cumulative weights.
pub(crate) fn load() -> (Vec<Charge>, Vec<u32>) {
    let t = table(CodeTable::Charge);
    let mut charges: Vec<Charge> = PROFILES
        .iter()
        .filter_map(|p| {
            let e = t.current_by_name(p.name)?;
            let typo_full = format!("{}罪", p.typo);
            Some(Charge {
                profile: p,
                entry: e,
                name: e.name.as_str(),
                short: e.name.strip_suffix('罪').unwrap_or(&e.name),
                companion: None,
                typo_ok: t.by_name(&typo_full).next().is_none()
                    && t.by_name(p.typo).next().is_none(),
            })
        })
        .collect();
    for i in 0..charges.len() {
        if let Some(c) = charges[i].profile.companion {
            charges[i].companion = charges.iter().position(|x| x.name == c);
        }
    }
    let mut acc = 0;
    let cumulative = charges
        .iter()
        .map(|c| {
            acc += c.profile.weight;
            acc
        })
        .collect();
    (charges, cumulative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_is_a_known_charge_with_an_unknown_typo() {
        let (charges, cum) = load();
        for p in PROFILES {
            let c = charges.iter().find(|c| c.name == p.name);
            let c = c.unwrap_or_else(|| panic!("{} is not in the charge table", p.name));
            assert!(c.typo_ok, "typo of {} is a real charge", p.name);
            assert!(p.age.0 >= 18 && p.age.0 <= p.age.1);
            let s = &p.sentencing;
            assert!(s.fixed_months.0 >= 6 && s.fixed_months.0 <= s.fixed_months.1);
            assert!(s.detention_months.0 >= 1 && s.detention_months.1 <= 6);
            if let Some(c) = p.companion {
                assert!(charges.iter().any(|x| x.name == c), "{c}");
            }
        }
        assert_eq!(cum.len(), charges.len());
        assert_eq!(charges[0].short, "危险驾驶");
    }
}
