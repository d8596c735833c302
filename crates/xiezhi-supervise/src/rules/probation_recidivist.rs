//! 累犯不适用缓刑: probation is not granted to a recidivist (累犯) or to the ringleader of a
//! criminal group (刑法 第74条). Fires on a sentence with probation (`probation_months` > 0)
//! whose circumstances include `recidivist`. Ringleaders are not a circumstance of the standard,
//! so that half of the article is not judged.

use chrono::NaiveDate;

use super::{charges_zh, item, sentence_day, sentence_fact, sentence_zh, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cl-074-probation-recidivist",
    title_zh: "对累犯宣告缓刑",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 74,
        paragraph: None,
        quote: "对于累犯和犯罪集团的首要分子，不适用缓刑。",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    facts
        .sentences
        .iter()
        .filter(|s| s.probation_months.unwrap_or(0) > 0)
        .filter(|s| s.circumstances.iter().any(|c| c == "recidivist"))
        .filter_map(|s| {
            let day = sentence_day(facts, s)?;
            Some(item(
                &RULE,
                facts,
                day,
                format!(
                    "{}判决（{}）：{}，判处{}，量刑情节含累犯；依{}，对累犯不适用缓刑。",
                    day,
                    s.court_code,
                    charges_zh(&s.charges),
                    sentence_zh(s),
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
    use crate::rules::testing::{d, suspended};
    use crate::WeekendsOnly;

    #[test]
    fn probation_for_a_recidivist_fires_and_for_a_prior_record_does_not() {
        let items = check(
            &suspended(&["recidivist", "confession"]),
            d(2024, 6, 1),
            &WeekendsOnly,
        );
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 5, 6));
        assert!(items[0].explanation_zh.contains("盗窃罪"));
        assert!(items[0].explanation_zh.contains("缓刑考验期24个月"));
        assert!(check(&suspended(&["prior_record"]), d(2024, 6, 1), &WeekendsOnly).is_empty());
        let mut served = suspended(&["recidivist"]);
        served.sentences[0].probation_months = Some(0);
        assert!(check(&served, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }
}
