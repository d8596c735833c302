//! 法定刑幅度: a sentence must stay within the statutory penalty of its charge; aggravating and
//! mitigating circumstances move it only inside that limit (刑法 第62条). Fires on a single-charge
//! sentence whose principal penalty is heavier than the heaviest penalty the charge's article
//! provides: a fixed term for 危险驾驶罪 (拘役 only), four years for 帮助信息网络犯罪活动罪
//! (three years at most), life for 敲诈勒索罪.
//!
//! The maxima are data, `data/statutory-bands.tsv`, one row per charge with the article and the
//! clause quoted from 刑法.md; a charge without a row is not judged. Several charges (数罪并罚)
//! are left to [`fixed_term_range`](super::fixed_term_range). Below the band is not judged: a
//! statutory mitigation (减轻处罚, 第63条) may lawfully take a sentence under it.

use std::sync::OnceLock;

use chrono::NaiveDate;
use xiezhi_standard::codes::{table, CodeTable};

use super::{charges_zh, code_zh, item, sentence_day, sentence_fact, sentence_zh, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cl-062-statutory-band",
    title_zh: "宣告刑超出法定最高刑",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 62,
        paragraph: None,
        quote: "犯罪分子具有本法规定的从重处罚、从轻处罚情节的，应当在法定刑的限度以内判处刑罚。",
    },
    severity: Severity::Red,
};

/// The shipped maxima.
pub const SHIPPED_BANDS: &str = include_str!("../../data/statutory-bands.tsv");

/// A principal penalty as a severity: kind rank, then months for a fixed term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Weight(u8, i64);

impl Weight {
    /// The weight of a penalty kind code and term; `None` for a kind that is not a principal
    /// penalty (罚金 alone, say).
    pub fn of(penalty: &str, months: Option<i64>) -> Option<Weight> {
        let rank = match penalty {
            "exempted" => 0,
            "public_surveillance" => 1,
            "criminal_detention" => 2,
            "fixed_term" => 3,
            "life" => 4,
            "death_suspended" => 5,
            "death" => 6,
            _ => return None,
        };
        Some(Weight(
            rank,
            if rank == 3 { months.unwrap_or(0) } else { 0 },
        ))
    }
}

/// One charge's maximum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub charge: String,
    pub max: Weight,
    /// `有期徒刑84个月`.
    pub max_zh: String,
    /// `第二百五十三条之一`.
    pub article: String,
    pub quote: String,
}

/// An error in a band file: the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("statutory-bands line {line}: {message}")]
pub struct BandError {
    pub line: usize,
    pub message: String,
}

/// Parses `charge, name, max, article, quote, source` rows. The charge must be in the charge
/// table under that name, and every row must name its source.
pub fn parse_bands(text: &str) -> Result<Vec<Band>, BandError> {
    let mut bands: Vec<Band> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let row = raw.trim_end_matches('\r');
        if row.trim().is_empty() || row.starts_with('#') || row.starts_with("charge\t") {
            continue;
        }
        let err = |message: String| BandError { line, message };
        let cols: Vec<&str> = row.split('\t').map(str::trim).collect();
        let [charge, name, max, article, quote, source] = cols[..] else {
            return Err(err(format!("expected 6 columns, got {}", cols.len())));
        };
        match table(CodeTable::Charge).get(charge) {
            Some(e) if e.name == name => {}
            Some(e) => return Err(err(format!("{charge} is {}, not {name}", e.name))),
            None => return Err(err(format!("unknown charge code `{charge}`"))),
        }
        let (kind, months) = match max.split_once(':') {
            Some((kind, m)) => {
                let m: i64 = m
                    .parse()
                    .map_err(|_| err(format!("bad months in `{max}`")))?;
                (kind, Some(m))
            }
            None => (max, None),
        };
        let weight = match (kind, months) {
            ("fixed_term", Some(m)) if (1..=180).contains(&m) => Weight::of(kind, months),
            ("criminal_detention" | "life" | "death", None) => Weight::of(kind, None),
            _ => None,
        }
        .ok_or_else(|| err(format!("bad max `{max}`")))?;
        if quote.is_empty() || source.is_empty() || !article.starts_with('第') {
            return Err(err(format!(
                "{charge}: article, quote and source are required"
            )));
        }
        if bands.iter().any(|b| b.charge == charge) {
            return Err(err(format!("{charge} listed twice")));
        }
        let max_zh = match months {
            Some(m) => format!("{}{m}个月", code_zh(CodeTable::PenaltyKind, kind)),
            None => code_zh(CodeTable::PenaltyKind, kind),
        };
        bands.push(Band {
            charge: charge.to_string(),
            max: weight,
            max_zh,
            article: article.to_string(),
            quote: quote.to_string(),
        });
    }
    Ok(bands)
}

fn shipped() -> &'static [Band] {
    static BANDS: OnceLock<Vec<Band>> = OnceLock::new();
    BANDS.get_or_init(|| {
        parse_bands(SHIPPED_BANDS).expect("data/statutory-bands.tsv parses (unit-tested)")
    })
}

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    check_with(shipped(), facts)
}

pub(crate) fn check_with(bands: &[Band], facts: &CaseFacts) -> Vec<RiskItem> {
    facts
        .sentences
        .iter()
        .filter_map(|s| {
            let [charge] = &s.charges[..] else {
                return None;
            };
            let band = bands.iter().find(|b| &b.charge == charge)?;
            let weight = Weight::of(s.principal_penalty.as_deref()?, s.term_months)?;
            if weight <= band.max {
                return None;
            }
            let day = sentence_day(facts, s)?;
            Some(item(
                &RULE,
                facts,
                day,
                format!(
                    "{}判决（{}）：{}，判处{}；《刑法》{}规定该罪最高刑为{}（“{}”），依{}，宣告刑应在法定刑限度以内。",
                    day,
                    s.court_code,
                    charges_zh(&s.charges),
                    sentence_zh(s),
                    band.article,
                    band.max_zh,
                    band.quote,
                    RULE.basis.cite()
                ),
                vec![sentence_fact(day, s)],
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::rules::testing::sentenced;
    use crate::WeekendsOnly;

    #[test]
    fn shipped_bands_parse_and_cover_the_common_charges() {
        let bands = parse_bands(SHIPPED_BANDS).unwrap();
        assert!(bands.len() >= 20);
        for c in ["C133-1.1", "C264.1", "C266.1", "C287-2.1", "C312.2"] {
            assert!(bands.iter().any(|b| b.charge == c), "{c}");
        }
    }

    #[test]
    fn bad_rows_are_refused_with_their_line() {
        let e = parse_bands("C264.1\t诈骗罪\tlife\t第二百六十四条\tq\ts\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("盗窃罪"));
        assert!(parse_bands("C264.1\t盗窃罪\tfixed_term:x\t第二百六十四条\tq\ts\n").is_err());
        assert!(parse_bands("C264.1\t盗窃罪\tlife\t第二百六十四条\tq\t\n").is_err());
        assert!(parse_bands("C9999.1\t无罪\tlife\t第一条\tq\ts\n").is_err());
        assert!(parse_bands("C264.1\t盗窃罪\tlife\n").is_err());
    }

    #[test]
    fn drunk_driving_allows_detention_only() {
        let as_of = d(2024, 6, 1);
        assert!(check(
            &sentenced("criminal_detention", 6, &["C133-1.1"]),
            as_of,
            &WeekendsOnly
        )
        .is_empty());
        let items = check(
            &sentenced("fixed_term", 6, &["C133-1.1"]),
            as_of,
            &WeekendsOnly,
        );
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("处拘役，并处罚金"));
        assert!(items[0].explanation_zh.contains("危险驾驶罪"));
    }

    #[test]
    fn the_maximum_is_in_the_band_and_one_month_more_is_not() {
        let as_of = d(2024, 6, 1);
        let fires =
            |p: &str, t, c: &str| !check(&sentenced(p, t, &[c]), as_of, &WeekendsOnly).is_empty();
        assert!(!fires("fixed_term", 36, "C287-2.1") && fires("fixed_term", 37, "C287-2.1"));
        assert!(!fires("fixed_term", 180, "C274.1") && fires("life", 0, "C274.1"));
        assert!(!fires("life", 0, "C264.1") && fires("death_suspended", 0, "C264.1"));
        // A charge without a row, and several charges, are not judged here.
        assert!(!fires("life", 0, "C102.1"));
        let joined = sentenced("fixed_term", 50, &["C287-2.1", "C264.1"]);
        assert!(check(&joined, as_of, &WeekendsOnly).is_empty());
    }
}
