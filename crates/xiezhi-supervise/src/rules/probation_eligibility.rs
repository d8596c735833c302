//! 缓刑的适用对象: probation may be granted only to offenders sentenced to 拘役 or to
//! 有期徒刑 of three years or less (刑法 第72条第1款). Fires on a sentence with probation whose
//! principal penalty is another kind, or a fixed term above 36 months. The substantive
//! conditions (情节较轻, 悔罪表现, ...) are the court's judgement and are not judged.

use chrono::NaiveDate;

use super::{charges_zh, item, sentence_day, sentence_fact, sentence_zh, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cl-072-probation-eligibility",
    title_zh: "不符合缓刑适用刑种、刑期",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 72,
        paragraph: Some(1),
        quote: "对于被判处拘役、三年以下有期徒刑的犯罪分子，同时符合下列条件的，可以宣告缓刑",
    },
    severity: Severity::Red,
};

/// 三年: the longest fixed term that may be suspended, in months.
const MAX_SUSPENDED_MONTHS: i64 = 36;

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    facts
        .sentences
        .iter()
        .filter(|s| s.probation_months.unwrap_or(0) > 0)
        .filter_map(|s| {
            let why = match (s.principal_penalty.as_deref()?, s.term_months) {
                ("criminal_detention", _) => return None,
                ("fixed_term", Some(t)) if t <= MAX_SUSPENDED_MONTHS => return None,
                ("fixed_term", Some(t)) => {
                    format!("有期徒刑{t}个月超过三年（{MAX_SUSPENDED_MONTHS}个月）")
                }
                ("fixed_term", None) => return None,
                _ => "主刑不是拘役或者有期徒刑".to_string(),
            };
            let day = sentence_day(facts, s)?;
            Some(item(
                &RULE,
                facts,
                day,
                format!(
                    "{}判决（{}）：{}，判处{}；{}，依{}，不得宣告缓刑。",
                    day,
                    s.court_code,
                    charges_zh(&s.charges),
                    sentence_zh(s),
                    why,
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
    use crate::rules::testing::suspended;
    use crate::WeekendsOnly;

    #[test]
    fn three_years_may_be_suspended_and_one_month_more_may_not() {
        let mut f = suspended(&[]);
        f.sentences[0].term_months = Some(36);
        f.sentences[0].probation_months = Some(48);
        assert!(check(&f, d(2024, 6, 1), &WeekendsOnly).is_empty());
        f.sentences[0].term_months = Some(37);
        let items = check(&f, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("超过三年"));
    }

    #[test]
    fn only_detention_and_fixed_terms_may_be_suspended() {
        let mut f = suspended(&[]);
        f.sentences[0].principal_penalty = Some("criminal_detention".into());
        f.sentences[0].term_months = Some(5);
        assert!(check(&f, d(2024, 6, 1), &WeekendsOnly).is_empty());
        f.sentences[0].principal_penalty = Some("public_surveillance".into());
        let items = check(&f, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("管制"));
    }
}
