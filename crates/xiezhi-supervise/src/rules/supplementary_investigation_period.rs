//! 补充侦查一个月: a case returned for supplementary investigation must be completed and sent
//! back within one month (刑事诉讼法 第175条第3款). Each `returned_for_investigation` opens a
//! period closed by the case's re-submission (`transferred_for_prosecution`), or by the
//! procuratorate's decision (`prosecuted`, `not_prosecuted`) when no re-submission is recorded
//! — then the decision shows the file came back, but not when, so a decision in time closes
//! the period and a late one is not judged (审查起诉 counts that case from the return,
//! [`prosecution_review`](super::prosecution_review)). A missing re-submission is judged past
//! the month only when the case shows no later act. Custody is read from the latest coercive
//! measure on the day of the return.

use chrono::NaiveDate;

use super::{in_custody_at, indices_of, LimitCheck, Rule};
use crate::deadline::{deadline, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-175-supplementary-investigation-period",
    title_zh: "补充侦查超过一个月",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 175,
        paragraph: Some(3),
        quote: "对于补充侦查的案件，应当在一个月以内补充侦查完毕。",
    },
    severity: Severity::Orange,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    indices_of(facts, "returned_for_investigation")
        .filter_map(|start| {
            let from = facts.events[start].on;
            let custody = in_custody_at(facts, from);
            let opened = &facts.events[start];
            let next = facts.events[start + 1..].iter().find(|e| {
                !super::same_act(e, opened)
                    && matches!(
                        e.kind.as_str(),
                        "transferred_for_prosecution"
                            | "prosecuted"
                            | "not_prosecuted"
                            | "returned_for_investigation"
                    )
            });
            // A decision without a recorded re-submission: only a late one is unknowable.
            if let Some(n) = next {
                if n.kind != "transferred_for_prosecution"
                    && n.on > deadline(from, Period::Months(1), custody, calendar)
                {
                    return None;
                }
            }
            LimitCheck {
                rule: &RULE,
                facts,
                start,
                from,
                ends: &[
                    "transferred_for_prosecution",
                    "prosecuted",
                    "not_prosecuted",
                    "returned_for_investigation",
                ],
                period: Period::Months(1),
                custody,
                act_zh: "补充侦查完毕并重新移送审查起诉",
                same_stage: &[],
                judge_missing: true,
                suspensions: super::CASE_HANDLING,
                note: String::new(),
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

    fn returned(resent: NaiveDate) -> CaseFacts {
        // Returned Friday 2024-03-01; 1 month → Monday 2024-04-01.
        CaseFacts::new("C1")
            .with("transferred_for_prosecution", d(2024, 2, 1), "GA1")
            .with("returned_for_investigation", d(2024, 3, 1), "JC1")
            .with("transferred_for_prosecution", resent, "GA1")
    }

    #[test]
    fn last_day_is_in_time_and_the_next_is_late() {
        assert!(check(&returned(d(2024, 4, 1)), d(2024, 6, 1), &WeekendsOnly).is_empty());
        let items = check(&returned(d(2024, 4, 2)), d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 4, 1));
    }

    #[test]
    fn weekend_extends_at_liberty_but_not_in_custody() {
        // Returned Friday 2024-02-09; 1 month → Saturday 2024-03-09 → Monday 2024-03-11.
        let f = |resent| {
            CaseFacts::new("C1")
                .with("returned_for_investigation", d(2024, 2, 9), "JC1")
                .with("transferred_for_prosecution", resent, "GA1")
        };
        assert!(check(&f(d(2024, 3, 11)), d(2024, 6, 1), &WeekendsOnly).is_empty());
        let held = f(d(2024, 3, 11)).with("arrest_executed", d(2024, 1, 2), "GA1");
        assert_eq!(
            check(&held, d(2024, 6, 1), &WeekendsOnly)[0].due,
            d(2024, 3, 9)
        );
    }

    #[test]
    fn a_late_decision_without_resubmission_is_not_judged_and_a_stale_return_is() {
        let decided = CaseFacts::new("C1")
            .with("returned_for_investigation", d(2024, 3, 1), "JC1")
            .with("prosecuted", d(2024, 5, 1), "JC1");
        assert!(check(&decided, d(2024, 6, 1), &WeekendsOnly).is_empty());
        let stale = CaseFacts::new("C1").with("returned_for_investigation", d(2024, 3, 1), "JC1");
        assert!(check(&stale, d(2024, 4, 1), &WeekendsOnly).is_empty());
        assert_eq!(check(&stale, d(2024, 4, 2), &WeekendsOnly).len(), 1);
    }
}
