//! 量刑偏离指导意见区间（从宽过度）: the declared term of a single-charge sentence below the lowest
//! term the 2021 sentencing guideline (《关于常见犯罪的量刑指导意见（试行）》 法发〔2021〕21号,
//! domain-facts §3) can reach for the band the case is in.
//!
//! The guideline's method (§二): a starting point (量刑起点) in the band, a base penalty
//! (基准刑) at or above it, the first-tier circumstances applied one after another, then the
//! second-tier ones summed and applied once; the judge may move the result by 20 %; a result
//! below the band's minimum may be declared only with a statutory mitigation (减轻处罚情节, 刑法
//! 第63条), else the minimum is declared. The floor computed here is the lowest that path
//! allows: the lowest starting point, no increment, every circumstance at its largest
//! reduction (and its smallest increase), minus 20 %, and not below the band's minimum unless a
//! circumstance the Criminal Law lets mitigate below it is present (未遂, 从犯, 胁从犯, 预备, 中止,
//! 未成年人, 已满七十五周岁, 自首, 立功). The upper side is not judged: base-penalty increments
//! follow provincial rules (amounts, counts) the data cannot replay, so the guideline's top is
//! the band's, which [`statutory_band`](super::statutory_band) judges.
//!
//! Bands are data, `data/guideline-floors.tsv`: a charge with its starting points, the amount
//! from which the band certainly applies (the top of the 司法解释's national range), and the
//! band's minimum; a charge or amount without a row is not judged. Ratios (§三, domain-facts §3.3)
//! are below. 认罪认罚 is not counted twice with 自首, 坦白, 退赃退赔, 取得谅解: with any of them the
//! group reduces by at most 60 %, alone by 30 %.

use std::sync::OnceLock;

use chrono::NaiveDate;

use super::{charges_zh, code_zh, item, sentence_day, sentence_fact, sentence_zh, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, SentenceFacts, Severity};
use xiezhi_standard::codes::CodeTable;

pub const RULE: Rule = Rule {
    id: "gl21-guideline-floor",
    title_zh: "宣告刑低于量刑指导意见区间",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 61,
        paragraph: None,
        quote: "对于犯罪分子决定刑罚的时候，应当根据犯罪的事实、犯罪的性质、情节和对于社会的危害程度，依照本法的有关规定判处。",
    },
    severity: Severity::Orange,
};

/// The shipped bands.
pub const SHIPPED_FLOORS: &str = include_str!("../../data/guideline-floors.tsv");

/// One row of the bands file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuidelineBand {
    pub charge: String,
    pub name: String,
    /// The amount (yuan) from which the band certainly applies; `None`: any case of the charge.
    pub from_yuan: Option<i64>,
    pub start_low: i64,
    pub start_high: i64,
    pub band_min: i64,
    /// The band as 刑法 words it.
    pub band: String,
    pub source: String,
}

/// Parses the bands file; errors name the line.
pub fn parse_floors(text: &str) -> Result<Vec<GuidelineBand>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("charge\t") || line.trim().is_empty() {
            continue;
        }
        let c: Vec<&str> = line.split('\t').collect();
        let [charge, name, from, low, high, min, band, source] = c[..] else {
            return Err(format!("line {}: expected 8 columns", i + 1));
        };
        let num = |s: &str, what: &str| {
            s.parse::<i64>()
                .map_err(|_| format!("line {}: {what} `{s}` is not a number", i + 1))
        };
        out.push(GuidelineBand {
            charge: charge.to_string(),
            name: name.to_string(),
            from_yuan: if from.is_empty() {
                None
            } else {
                Some(num(from, "from_yuan")?)
            },
            start_low: num(low, "start_low")?,
            start_high: num(high, "start_high")?,
            band_min: num(min, "band_min")?,
            band: band.to_string(),
            source: source.to_string(),
        });
    }
    Ok(out)
}

fn floors() -> &'static [GuidelineBand] {
    static FLOORS: OnceLock<Vec<GuidelineBand>> = OnceLock::new();
    FLOORS.get_or_init(|| parse_floors(SHIPPED_FLOORS).unwrap_or_default())
}

/// The band a case of `charge` with `amount_yuan` is certainly in: the row with the highest
/// amount threshold met.
pub fn band_of(charge: &str, amount_yuan: Option<i64>) -> Option<&'static GuidelineBand> {
    floors()
        .iter()
        .filter(|b| b.charge == charge)
        .filter(|b| match (b.from_yuan, amount_yuan) {
            (None, _) => true,
            (Some(from), Some(a)) => a >= from,
            (Some(_), None) => false,
        })
        .max_by_key(|b| b.from_yuan.unwrap_or(0))
}

/// First-tier circumstances and their largest reduction (§三; applied one after another).
const FIRST_TIER: [(&str, f64); 6] = [
    ("minor", 0.6),
    ("elderly", 0.4),
    ("attempt", 0.5),
    ("accessory", 0.5),
    ("coerced", 0.5),
    ("preparation", 0.5),
];

/// Second-tier circumstances and their extreme signed ratio towards leniency (summed).
const SECOND_TIER: [(&str, f64); 7] = [
    ("surrender", -0.4),
    ("confession", -0.2),
    ("meritorious", -0.5),
    ("restitution", -0.3),
    ("forgiveness", -0.4),
    ("recidivist", 0.1),
    ("prior_record", 0.0),
];

/// Circumstances under which the Criminal Law lets a sentence go below the band (减轻处罚).
const MITIGATING_BELOW_BAND: [&str; 9] = [
    "attempt",
    "accessory",
    "coerced",
    "preparation",
    "abandonment",
    "minor",
    "elderly",
    "surrender",
    "meritorious",
];

/// The plea's group: not counted twice with the plea (§三 认罪认罚).
const PLEA_GROUP: [&str; 4] = ["surrender", "confession", "restitution", "forgiveness"];

/// The lowest term (months) the guideline reaches, and the steps that led there.
pub fn floor_of(band: &GuidelineBand, circumstances: &[String]) -> (f64, Vec<String>) {
    let has = |c: &str| circumstances.iter().any(|x| x == c);
    let mut steps = vec![format!(
        "量刑起点{}至{}个月，取下限{}个月",
        band.start_low, band.start_high, band.start_low
    )];
    let mut term = band.start_low as f64;
    if has("abandonment") {
        steps.push("犯罪中止，应当免除或者减轻处罚，不设下限".to_string());
        return (0.0, steps);
    }
    for (c, r) in FIRST_TIER {
        if has(c) {
            term *= 1.0 - r;
            steps.push(format!(
                "{}（第一层次）最多减{}%，得{:.1}个月",
                code_zh(CodeTable::Circumstance, c),
                (r * 100.0).round(),
                term
            ));
        }
    }
    let plea = has("plea_leniency");
    let mut sum = 0.0;
    let mut named = Vec::new();
    for (c, r) in SECOND_TIER {
        if has(c) && !(plea && PLEA_GROUP.contains(&c)) {
            sum += r;
            named.push(format!(
                "{}{:+}%",
                code_zh(CodeTable::Circumstance, c),
                (r * 100.0).round()
            ));
        }
    }
    if plea {
        let with_group = PLEA_GROUP.iter().any(|c| has(c));
        let r = if with_group { -0.6 } else { -0.3 };
        sum += r;
        named.push(format!(
            "认罪认罚{}{:+}%",
            if with_group {
                "（含自首、坦白、退赃退赔或谅解，不重复评价）"
            } else {
                ""
            },
            (r * 100.0).round()
        ));
    }
    if !named.is_empty() {
        term *= (1.0 + sum).max(0.0);
        steps.push(format!(
            "第二层次情节相加：{}，合计{:+}%，得{:.1}个月",
            named.join("、"),
            (sum * 100.0).round(),
            term
        ));
    }
    term *= 0.8;
    steps.push(format!("法官可在20%幅度内调整，下限{term:.1}个月"));
    if !MITIGATING_BELOW_BAND.iter().any(|c| has(c)) && term < band.band_min as f64 {
        term = band.band_min as f64;
        steps.push(format!(
            "无法定减轻处罚情节，不得低于法定刑下限{}个月（刑法第63条）",
            band.band_min
        ));
    }
    (term, steps)
}

fn judged(s: &SentenceFacts) -> bool {
    s.charges.len() == 1
        && matches!(
            s.principal_penalty.as_deref(),
            Some("fixed_term" | "criminal_detention" | "public_surveillance")
        )
}

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    let amount_yuan = facts.amount_fen.map(|f| f / 100);
    let mut items = Vec::new();
    for s in facts.sentences.iter().filter(|s| judged(s)) {
        let Some(band) = band_of(&s.charges[0], amount_yuan) else {
            continue;
        };
        let Some(day) = sentence_day(facts, s) else {
            continue;
        };
        let (floor, steps) = floor_of(band, &s.circumstances);
        // 拘役 and 管制 are below every fixed term the band's floor asks for.
        let declared = match s.principal_penalty.as_deref() {
            Some("fixed_term") => s.term_months.unwrap_or(0) as f64,
            _ => 0.0,
        };
        if floor < 6.0 || declared >= floor.floor() {
            continue;
        }
        let amount = amount_yuan.map_or(String::new(), |a| format!("，涉案金额{a}元"));
        let explanation = format!(
            "{}{}，{}宣判；所在量刑幅度：{}（{}）。依{}及《关于常见犯罪的量刑指导意见（试行）》（法发〔2021〕21号）第二、三、四部分：{}。宣告刑{}低于指导意见所能达到的最低刑{}个月。",
            charges_zh(&s.charges),
            amount,
            day,
            band.band,
            band.source,
            RULE.basis.cite(),
            steps.join("；"),
            sentence_zh(s),
            floor.floor()
        );
        items.push(item(
            &RULE,
            facts,
            day,
            explanation,
            vec![
                sentence_fact(day, s),
                format!(
                    "amount {}",
                    amount_yuan.map_or("-".to_string(), |a| a.to_string())
                ),
            ],
        ));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    fn robbery(term: i64, circumstances: &[&str]) -> CaseFacts {
        let mut f = CaseFacts::new("C1");
        f.sentences.push(SentenceFacts {
            charges: vec!["C263.1".into()],
            principal_penalty: Some("fixed_term".into()),
            term_months: Some(term),
            circumstances: circumstances.iter().map(|c| c.to_string()).collect(),
            judgment_date: Some(d(2024, 3, 1)),
            ..SentenceFacts::default()
        });
        f
    }

    #[test]
    fn without_a_statutory_mitigation_the_band_minimum_holds() {
        let at = d(2024, 6, 1);
        assert!(check(&robbery(36, &["plea_leniency"]), at, &WeekendsOnly).is_empty());
        let items = check(
            &robbery(35, &["plea_leniency", "confession"]),
            at,
            &WeekendsOnly,
        );
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("法定刑下限36个月"));
        assert!(items[0].explanation_zh.contains("不重复评价"));
    }

    #[test]
    fn a_statutory_mitigation_lowers_the_floor_by_the_largest_ratios() {
        // 自首 alone: 36 × (1 − 40 %) × 0.8 = 17.28 → 17 months is the floor.
        let at = d(2024, 6, 1);
        assert!(check(&robbery(17, &["surrender"]), at, &WeekendsOnly).is_empty());
        let items = check(&robbery(16, &["surrender"]), at, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("17.3"));
        // 未遂 (first tier, −50 %) then 累犯 (+10 %): 36 × 0.5 × 1.1 × 0.8 = 15.84.
        assert!(check(&robbery(14, &["attempt", "recidivist"]), at, &WeekendsOnly).len() == 1);
        assert!(check(&robbery(15, &["attempt", "recidivist"]), at, &WeekendsOnly).is_empty());
    }

    #[test]
    fn amount_bands_need_the_amount_certainly_in_them() {
        let theft = |amount_yuan: i64, term: i64| {
            let mut f = robbery(term, &[]);
            f.sentences[0].charges = vec!["C264.1".into()];
            f.amount_fen = Some(amount_yuan * 100);
            f
        };
        let at = d(2024, 6, 1);
        // Below ten thousand yuan × 10 the band depends on the province: not judged.
        assert!(check(&theft(99_999, 12), at, &WeekendsOnly).is_empty());
        assert_eq!(check(&theft(100_000, 12), at, &WeekendsOnly).len(), 1);
        assert_eq!(check(&theft(500_000, 100), at, &WeekendsOnly).len(), 1);
        assert!(check(&theft(500_000, 120), at, &WeekendsOnly).is_empty());
        let mut detention = theft(150_000, 6);
        detention.sentences[0].principal_penalty = Some("criminal_detention".into());
        assert_eq!(check(&detention, at, &WeekendsOnly).len(), 1);
    }

    #[test]
    fn several_charges_or_an_unlisted_charge_are_not_judged() {
        let at = d(2024, 6, 1);
        let mut two = robbery(12, &[]);
        two.sentences[0].charges.push("C264.1".into());
        assert!(check(&two, at, &WeekendsOnly).is_empty());
        let mut other = robbery(1, &[]);
        other.sentences[0].charges = vec!["C133-1.1".into()];
        assert!(check(&other, at, &WeekendsOnly).is_empty());
    }
}
