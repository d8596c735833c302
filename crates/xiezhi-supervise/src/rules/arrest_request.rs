//! 拘留后提请批准逮捕: after 刑事拘留 the police must ask the procuratorate to approve an arrest
//! within 3 days, extendable by 1 to 4 days in special cases, and up to 30 days for major
//! suspects of 流窜作案、多次作案、结伙作案 (刑事诉讼法 第91条第1款、第2款).
//!
//! The data carries no record of an approved extension or of the 流窜/多次/结伙 facts, so the
//! limit judged is the longest ordinary one, 3 + 4 = 7 days, and the explanation says so. The
//! detained suspect is in custody: no holiday extension. Fires when `arrest_requested` comes
//! after the limit, or is missing past it while the case shows no later act (a release on bail,
//! say, closes the question without a request).

use chrono::NaiveDate;

use super::{indices_of, LimitCheck, Rule};
use crate::deadline::{deadline, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-091-arrest-request",
    title_zh: "拘留后提请批准逮捕超期",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 91,
        paragraph: Some(1),
        quote: "公安机关对被拘留的人，认为需要逮捕的，应当在拘留后的三日以内，提请人民检察院审查批准。在特殊情况下，提请审查批准的时间可以延长一日至四日。",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    indices_of(facts, "detention")
        .filter_map(|start| {
            let from = facts.events[start].on;
            let base = deadline(from, Period::Days(3), true, calendar);
            LimitCheck {
                rule: &RULE,
                facts,
                start,
                from,
                ends: &["arrest_requested"],
                period: Period::Days(7),
                custody: true,
                act_zh: "提请人民检察院审查批准逮捕（3日，特殊情况延长1至4日）",
                same_stage: &[],
                judge_missing: true,
                suspensions: super::CASE_HANDLING,
                note: format!(
                    "基本期限3日，期满日为{base}；数据中无延长审批及流窜作案、多次作案、结伙作案（可延长至30日，第91条第2款）的记录，按3日加最长延长4日共7日判断。"
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

    fn case(request: Option<NaiveDate>) -> CaseFacts {
        // Monday 2024-03-04; 7 days → Monday 2024-03-11.
        let f = CaseFacts::new("C1").with("detention", d(2024, 3, 4), "GA1");
        match request {
            Some(on) => f.with("arrest_requested", on, "GA1"),
            None => f,
        }
    }

    #[test]
    fn last_day_is_in_time_and_the_next_is_late() {
        let as_of = d(2024, 6, 1);
        assert!(check(&case(Some(d(2024, 3, 11))), as_of, &WeekendsOnly).is_empty());
        let items = check(&case(Some(d(2024, 3, 12))), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 3, 11));
        assert!(items[0].explanation_zh.contains("2024-03-12"));
        assert!(items[0].explanation_zh.contains("超期1日"));
        assert!(items[0].explanation_zh.contains("30日"));
    }

    #[test]
    fn custody_period_is_not_extended_for_a_weekend() {
        // Saturday 2024-03-02 + 7 = Saturday 2024-03-09: stays, though a Monday request would
        // be in time for a non-custody period.
        let f = CaseFacts::new("C1")
            .with("detention", d(2024, 3, 2), "GA1")
            .with("arrest_requested", d(2024, 3, 11), "GA1");
        let items = check(&f, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 3, 9));
    }

    #[test]
    fn missing_request_fires_only_past_the_limit_and_without_later_acts() {
        assert!(check(&case(None), d(2024, 3, 11), &WeekendsOnly).is_empty());
        let items = check(&case(None), d(2024, 3, 12), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("未见提请批准逮捕"));
        let bailed = case(None).with("bail", d(2024, 3, 6), "GA1");
        assert!(check(&bailed, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }
}
