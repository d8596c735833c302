//! 审查批捕（已拘留）: for a detained suspect the procuratorate decides to approve or deny the
//! arrest within 7 days of receiving the police request (刑事诉讼法 第91条第3款). The suspect
//! is in custody: no holiday extension.
//!
//! Applies when the suspect is in custody on the day of `arrest_requested`; otherwise see
//! [`super::arrest_review_not_detained`].

use chrono::NaiveDate;

use super::{in_custody_at, indices_of, LimitCheck, Rule};
use crate::deadline::{Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-091-arrest-review",
    title_zh: "审查批准逮捕超期（已拘留）",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 91,
        paragraph: Some(3),
        quote: "人民检察院应当自接到公安机关提请批准逮捕书后的七日以内，作出批准逮捕或者不批准逮捕的决定。",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    indices_of(facts, "arrest_requested")
        .filter(|&i| in_custody_at(facts, facts.events[i].on))
        .filter_map(|start| {
            LimitCheck {
                rule: &RULE,
                facts,
                start,
                from: facts.events[start].on,
                ends: &["arrest_approved", "arrest_denied"],
                period: Period::Days(7),
                custody: true,
                act_zh: "作出批准逮捕或者不批准逮捕的决定",
                same_stage: &[],
                judge_missing: true,
                suspensions: super::CASE_HANDLING,
                note: "犯罪嫌疑人提请时在押（已拘留）。".to_string(),
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
        // Request Thursday 2024-03-07 → 7 days → Thursday 2024-03-14.
        CaseFacts::new("C1")
            .with("detention", d(2024, 3, 5), "GA1")
            .with("arrest_requested", d(2024, 3, 7), "GA1")
            .with("arrest_approved", decision, "JC1")
    }

    #[test]
    fn last_day_is_in_time_and_the_next_is_late() {
        let as_of = d(2024, 6, 1);
        assert!(check(&case(d(2024, 3, 14)), as_of, &WeekendsOnly).is_empty());
        let items = check(&case(d(2024, 3, 15)), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 3, 14));
        assert!(items[0].explanation_zh.contains("2024-03-15"));
    }

    #[test]
    fn not_detained_suspects_are_left_to_the_other_rule() {
        let f = CaseFacts::new("C1")
            .with("arrest_requested", d(2024, 3, 7), "GA1")
            .with("arrest_approved", d(2024, 3, 20), "JC1");
        assert!(check(&f, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }
}
