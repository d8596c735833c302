//! 缓刑考验期限: for 拘役 the probation period is from the original term up to one year, and at
//! least two months; for 有期徒刑 from the original term up to five years, and at least one year
//! (刑法 第73条第1款、第2款). Fires on a suspended sentence whose probation period lies outside
//! that range. Other principal penalties are left to
//! [`probation_eligibility`](super::probation_eligibility).

use chrono::NaiveDate;

use super::{charges_zh, item, sentence_day, sentence_fact, sentence_zh, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cl-073-probation-period",
    title_zh: "缓刑考验期限不合法",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 73,
        paragraph: None,
        quote: "有期徒刑的缓刑考验期限为原判刑期以上五年以下，但是不能少于一年。",
    },
    severity: Severity::Yellow,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    facts
        .sentences
        .iter()
        .filter_map(|s| {
            let probation = s.probation_months.filter(|p| *p > 0)?;
            let term = s.term_months?;
            // (floor, ceiling, the paragraph's words)
            let (floor, ceiling, law_zh) = match s.principal_penalty.as_deref()? {
                "criminal_detention" => (
                    2,
                    12,
                    "第73条第1款：拘役的缓刑考验期限为原判刑期以上一年以下，但是不能少于二个月",
                ),
                "fixed_term" => (
                    12,
                    60,
                    "第73条第2款：有期徒刑的缓刑考验期限为原判刑期以上五年以下，但是不能少于一年",
                ),
                _ => return None,
            };
            let low = term.max(floor);
            if (low..=ceiling).contains(&probation) {
                return None;
            }
            let day = sentence_day(facts, s)?;
            Some(item(
                &RULE,
                facts,
                day,
                format!(
                    "{}判决（{}）：{}，判处{}；依《刑法》(2023) {}，考验期应在{}至{}个月之间，实际为{}个月。",
                    day,
                    s.court_code,
                    charges_zh(&s.charges),
                    sentence_zh(s),
                    law_zh,
                    low,
                    ceiling,
                    probation
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

    fn with(penalty: &str, term: i64, probation: i64) -> CaseFacts {
        let mut f = suspended(&[]);
        f.sentences[0].principal_penalty = Some(penalty.into());
        f.sentences[0].term_months = Some(term);
        f.sentences[0].probation_months = Some(probation);
        f
    }

    #[test]
    fn fixed_term_bounds() {
        let fires =
            |t, p| !check(&with("fixed_term", t, p), d(2024, 6, 1), &WeekendsOnly).is_empty();
        assert!(!fires(8, 12) && fires(8, 11)); // at least one year
        assert!(!fires(30, 30) && fires(30, 29)); // at least the original term
        assert!(!fires(30, 60) && fires(30, 61)); // at most five years
    }

    #[test]
    fn detention_bounds() {
        let fires = |t, p| {
            !check(
                &with("criminal_detention", t, p),
                d(2024, 6, 1),
                &WeekendsOnly,
            )
            .is_empty()
        };
        assert!(!fires(1, 2) && fires(1, 1)); // at least two months
        assert!(!fires(5, 5) && fires(5, 4)); // at least the original term
        assert!(!fires(5, 12) && fires(5, 13)); // at most one year
    }
}
