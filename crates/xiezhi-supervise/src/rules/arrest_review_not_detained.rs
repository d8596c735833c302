//! 审查批捕（未拘留）: for a suspect not detained the procuratorate decides within 15 days of
//! receiving the request, not beyond 20 days for major or complex cases (人民检察院刑事诉讼规则
//! (2019) 第282条). Without a major/complex flag in the data the rule fires only beyond 20
//! days and names the 15-day base limit. The suspect is not in custody: a period ending on a
//! rest day extends (刑事诉讼法 第105条).

use chrono::NaiveDate;

use super::{in_custody_at, indices_of, LimitCheck, Rule};
use crate::deadline::{deadline, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "spp-282-arrest-review-not-detained",
    title_zh: "审查批准逮捕超期（未拘留）",
    basis: Basis {
        law: "人民检察院刑事诉讼规则",
        version: "2019",
        article: 282,
        paragraph: None,
        quote: "未被拘留的，应当在收到提请批准逮捕书后十五日以内作出是否批准逮捕的决定，重大、复杂案件，不得超过二十日。",
    },
    severity: Severity::Orange,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    indices_of(facts, "arrest_requested")
        .filter(|&i| !in_custody_at(facts, facts.events[i].on))
        .filter_map(|start| {
            let from = facts.events[start].on;
            let base = deadline(from, Period::Days(15), false, calendar);
            LimitCheck {
                rule: &RULE,
                facts,
                start,
                from,
                ends: &["arrest_approved", "arrest_denied"],
                period: Period::Days(20),
                custody: false,
                act_zh: "作出是否批准逮捕的决定（重大、复杂案件）",
                same_stage: &[],
                judge_missing: true,
                suspensions: super::CASE_HANDLING,
                note: format!(
                    "犯罪嫌疑人提请时未被拘留；一般案件期限15日（期满日{base}），数据无重大、复杂标记，按最长20日判断。"
                ),
            }
            .run(as_of, calendar)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    fn case(decision: NaiveDate) -> CaseFacts {
        CaseFacts::new("C1")
            .with("arrest_requested", d(2024, 3, 1), "GA1")
            .with("arrest_denied", decision, "JC1")
    }

    #[test]
    fn last_day_is_in_time_and_the_next_is_late() {
        // Friday 2024-03-01 + 20 = Thursday 2024-03-21.
        let as_of = d(2024, 6, 1);
        assert!(check(&case(d(2024, 3, 21)), as_of, &WeekendsOnly).is_empty());
        let items = check(&case(d(2024, 3, 22)), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 3, 21));
    }

    #[test]
    fn a_weekend_last_day_extends_to_monday() {
        // Sunday 2024-03-03 + 20 = Saturday 2024-03-23 → Monday 2024-03-25.
        let f = |on| {
            CaseFacts::new("C1")
                .with("arrest_requested", d(2024, 3, 3), "GA1")
                .with("arrest_approved", on, "JC1")
        };
        assert!(check(&f(d(2024, 3, 25)), d(2024, 6, 1), &WeekendsOnly).is_empty());
        let items = check(&f(d(2024, 3, 26)), d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items[0].due, d(2024, 3, 25));
    }
}
