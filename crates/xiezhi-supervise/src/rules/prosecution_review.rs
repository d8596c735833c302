//! 审查起诉: the procuratorate decides on a case transferred for prosecution within one month,
//! extendable by 15 days for major or complex cases (刑事诉讼法 第172条第1款). The data has
//! no major/complex flag, so the rule fires only beyond 1 month + 15 days and names the base
//! month in the explanation.
//!
//! After 退回补充侦查 the review clock restarts when the case is sent back (第175条第3款), so
//! each `transferred_for_prosecution` opens a period closed by `prosecuted`, `not_prosecuted` or
//! the next `returned_for_investigation`. Where a return is followed by a decision with no
//! re-transfer recorded, the period is counted from the return with the month of
//! supplementary investigation added (1 + 1 months + 15 days), and the explanation says so.
//! Custody is read from the latest coercive measure on the opening day.

use chrono::NaiveDate;

use super::{in_custody_at, LimitCheck, Rule};
use crate::deadline::{deadline, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-172-prosecution-review",
    title_zh: "审查起诉超期",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 172,
        paragraph: Some(1),
        quote: "人民检察院对于监察机关、公安机关移送起诉的案件，应当在一个月以内作出决定，重大、复杂的案件，可以延长十五日",
    },
    severity: Severity::Orange,
};

const CLOSING: [&str; 3] = ["prosecuted", "not_prosecuted", "returned_for_investigation"];

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    let mut items = Vec::new();
    for (i, e) in facts.events.iter().enumerate() {
        let (period, extra) = match e.kind.as_str() {
            "transferred_for_prosecution" => (Period::MonthsDays(1, 15), String::new()),
            "returned_for_investigation" => {
                let next = facts.events[i + 1..].iter().find(|n| {
                    n.kind == "transferred_for_prosecution" || CLOSING.contains(&n.kind.as_str())
                });
                match next {
                    Some(n) if n.kind == "prosecuted" || n.kind == "not_prosecuted" => (
                        Period::MonthsDays(2, 15),
                        "退回补充侦查后未见重新移送审查起诉的记录，自退回之日起按补充侦查1个月（第175条第3款）加审查起诉1个月又15日计算。".to_string(),
                    ),
                    _ => continue,
                }
            }
            _ => continue,
        };
        let custody = in_custody_at(facts, e.on);
        let base = deadline(e.on, Period::Months(1), custody, calendar);
        let check = LimitCheck {
            rule: &RULE,
            facts,
            start: i,
            from: e.on,
            ends: &CLOSING,
            period,
            custody,
            act_zh: "作出是否起诉的决定（含重大、复杂案件延长15日）",
            same_stage: &[],
            judge_missing: true,
            suspensions: super::CASE_HANDLING,
            note: format!(
                "{extra}一般案件期限1个月（期满日{base}），数据无重大、复杂标记，仅在超过1个月又15日时预警。"
            ),
        };
        items.extend(check.run(as_of, calendar));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    fn case(decision: NaiveDate) -> CaseFacts {
        // Wednesday 2024-01-31 + 1 month = 2024-02-29, + 15 days = Friday 2024-03-15.
        CaseFacts::new("C1")
            .with("transferred_for_prosecution", d(2024, 1, 31), "GA1")
            .with("prosecuted", decision, "JC1")
    }

    #[test]
    fn last_day_is_in_time_and_the_next_is_late() {
        let as_of = d(2024, 6, 1);
        assert!(check(&case(d(2024, 3, 15)), as_of, &WeekendsOnly).is_empty());
        let items = check(&case(d(2024, 3, 16)), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 3, 15));
        assert!(
            items[0].explanation_zh.contains("2024-02-29"),
            "{}",
            items[0].explanation_zh
        );
    }

    #[test]
    fn weekend_extends_when_not_in_custody_but_not_in_custody() {
        // 2024-02-08 + 1 month + 15 days = Saturday 2024-03-23.
        let f = |on| {
            CaseFacts::new("C1")
                .with("transferred_for_prosecution", d(2024, 2, 8), "GA1")
                .with("prosecuted", on, "JC1")
        };
        assert!(check(&f(d(2024, 3, 25)), d(2024, 6, 1), &WeekendsOnly).is_empty());
        assert_eq!(
            check(&f(d(2024, 3, 26)), d(2024, 6, 1), &WeekendsOnly)[0].due,
            d(2024, 3, 25)
        );
        let arrested = f(d(2024, 3, 25)).with("arrest_executed", d(2024, 1, 10), "GA1");
        let items = check(&arrested, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items[0].due, d(2024, 3, 23));
    }

    #[test]
    fn the_clock_restarts_on_resubmission() {
        // Re-sent Friday 2024-03-29 + 1 month + 15 days = Tuesday 2024-05-14.
        let f = |on| {
            CaseFacts::new("C1")
                .with("transferred_for_prosecution", d(2024, 1, 31), "GA1")
                .with("returned_for_investigation", d(2024, 3, 1), "JC1")
                .with("transferred_for_prosecution", d(2024, 3, 29), "GA1")
                .with("prosecuted", on, "JC1")
        };
        assert!(check(&f(d(2024, 5, 14)), d(2024, 6, 1), &WeekendsOnly).is_empty());
        let items = check(&f(d(2024, 5, 15)), d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 5, 14));
    }

    #[test]
    fn a_return_without_resubmission_counts_the_supplementary_month() {
        // Return Friday 2024-03-01 + 2 months (2024-05-01) + 15 days = Thursday 2024-05-16.
        let f = |on| {
            CaseFacts::new("C1")
                .with("transferred_for_prosecution", d(2024, 1, 31), "GA1")
                .with("returned_for_investigation", d(2024, 3, 1), "JC1")
                .with("prosecuted", on, "JC1")
        };
        assert!(check(&f(d(2024, 5, 16)), d(2024, 6, 1), &WeekendsOnly).is_empty());
        let items = check(&f(d(2024, 5, 17)), d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("未见重新移送"));
    }
}
