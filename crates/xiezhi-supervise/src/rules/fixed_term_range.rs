//! 有期徒刑的期限: six months to fifteen years, except for 数罪并罚 (刑法 第45条), where the term
//! decided may reach twenty years, or twenty-five when the terms add up to thirty-five years or
//! more (第69条第1款). Fires on a `fixed_term` sentence whose term lies outside six months to
//! fifteen years for one charge, or above twenty-five years for several (the sum of the
//! separate terms is not in the data, so the twenty-year cap is not judged).
//! [`detention_range`](super::detention_range) and
//! [`surveillance_range`](super::surveillance_range) apply the same check to 拘役 and 管制.

use chrono::NaiveDate;

use super::{charges_zh, item, sentence_day, sentence_fact, sentence_zh, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cl-045-fixed-term-range",
    title_zh: "有期徒刑刑期超出法定期限",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 45,
        paragraph: None,
        quote: "有期徒刑的期限，除本法第五十条、第六十九条规定外，为六个月以上十五年以下。",
    },
    severity: Severity::Orange,
};

/// The term limits of one principal penalty, in months.
pub(crate) struct TermRange {
    pub penalty: &'static str,
    pub single: (i64, i64),
    /// The cap of 刑法 第69条 for several charges.
    pub joined_max: i64,
    /// The limits in words, e.g. `六个月以上十五年以下`.
    pub single_zh: &'static str,
    pub joined_zh: &'static str,
}

pub(crate) fn term_check(rule: &Rule, range: &TermRange, facts: &CaseFacts) -> Vec<RiskItem> {
    facts
        .sentences
        .iter()
        .filter(|s| s.principal_penalty.as_deref() == Some(range.penalty))
        .filter_map(|s| {
            let term = s.term_months?;
            let joined = s.charges.len() > 1;
            let (lo, hi) = if joined {
                (range.single.0, range.joined_max)
            } else {
                range.single
            };
            if (lo..=hi).contains(&term) {
                return None;
            }
            let day = sentence_day(facts, s)?;
            let limit = if joined {
                format!(
                    "数罪并罚，依{}及《刑法》(2023) 第69条第1款，{}（{}至{}个月）",
                    rule.basis.cite(),
                    range.joined_zh,
                    lo,
                    hi
                )
            } else {
                format!(
                    "依{}，期限为{}（{}至{}个月）",
                    rule.basis.cite(),
                    range.single_zh,
                    lo,
                    hi
                )
            };
            Some(item(
                rule,
                facts,
                day,
                format!(
                    "{}判决（{}）：{}，判处{}；{}，所判{}个月超出该期限。",
                    day,
                    s.court_code,
                    charges_zh(&s.charges),
                    sentence_zh(s),
                    limit,
                    term
                ),
                vec![sentence_fact(day, s)],
            ))
        })
        .collect()
}

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    term_check(
        &RULE,
        &TermRange {
            penalty: "fixed_term",
            single: (6, 180),
            joined_max: 300,
            single_zh: "六个月以上十五年以下",
            joined_zh: "有期徒刑最高不能超过二十五年",
        },
        facts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::rules::testing::sentenced;
    use crate::WeekendsOnly;

    #[test]
    fn one_charge_six_months_to_fifteen_years() {
        let fires = |t| {
            !check(
                &sentenced("fixed_term", t, &["C264.1"]),
                d(2024, 6, 1),
                &WeekendsOnly,
            )
            .is_empty()
        };
        assert!(!fires(6) && fires(5));
        assert!(!fires(180) && fires(181));
    }

    #[test]
    fn several_charges_up_to_twenty_five_years() {
        let f = sentenced("fixed_term", 200, &["C264.1", "C266.1"]);
        assert!(check(&f, d(2024, 6, 1), &WeekendsOnly).is_empty());
        let f = sentenced("fixed_term", 301, &["C264.1", "C266.1"]);
        let items = check(&f, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("第69条"));
        assert!(items[0].explanation_zh.contains(&RULE.basis.cite()));
    }
}
