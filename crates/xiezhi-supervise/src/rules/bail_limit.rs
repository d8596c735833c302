//! 取保候审最长十二个月: the police, the procuratorate and the court may each keep a suspect or
//! defendant on bail for at most twelve months (刑事诉讼法 第79条第1款); on expiry the measure
//! must be lifted (第2款).
//!
//! Each `bail` opens a period. It closes when the measure changes (another `bail` re-issued,
//! `residential_surveillance`, `detention`, an arrest) or when the case passes to the next
//! organ (`transferred_for_prosecution`, `prosecuted`, `not_prosecuted`, `court_accepted`,
//! `verdict_announced`, `judgment_effective`): the receiving organ decides afresh and the period
//! restarts (人民检察院刑事诉讼规则 第103条; 最高法解释 第162条), a decision the data records only
//! when it is a new `bail`. Lifting the measure (`measure_lifted`, 第79条第2款) closes it too; a
//! period with no closing act fires only past its limit and when the case shows no later act. The
//! person is at liberty: a last day on a rest day moves to the next working day (第105条).
//! [`surveillance_limit`](super::surveillance_limit) applies the same check to 监视居住.

use chrono::NaiveDate;

use super::{indices_of, LimitCheck, Rule};
use crate::deadline::{Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-079-bail-limit",
    title_zh: "取保候审超过十二个月",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 79,
        paragraph: Some(1),
        quote: "人民法院、人民检察院和公安机关对犯罪嫌疑人、被告人取保候审最长不得超过十二个月，监视居住最长不得超过六个月。",
    },
    severity: Severity::Yellow,
};

/// Acts that end one organ's period of a non-custodial measure.
pub(crate) const MEASURE_ENDS: [&str; 12] = [
    "bail",
    "measure_lifted",
    "residential_surveillance",
    "detention",
    "arrest_approved",
    "arrest_executed",
    "transferred_for_prosecution",
    "prosecuted",
    "not_prosecuted",
    "court_accepted",
    "verdict_announced",
    "judgment_effective",
];

/// The limit check of a non-custodial measure: each `kind` event opens a period of `months`.
pub(crate) fn measure_check(
    rule: &Rule,
    kind: &str,
    months: u32,
    act_zh: &str,
    facts: &CaseFacts,
    as_of: NaiveDate,
    calendar: &dyn RestDays,
) -> Vec<RiskItem> {
    indices_of(facts, kind)
        .filter_map(|start| {
            LimitCheck {
                rule,
                facts,
                start,
                from: facts.events[start].on,
                ends: &MEASURE_ENDS,
                period: Period::Months(months),
                custody: false,
                act_zh,
                same_stage: &[],
                judge_missing: true,
                suspensions: &[],
                note: "案件移送下一机关后由接收机关重新作出决定、期限重新计算；数据中无解除强制措施的节点。".to_string(),
            }
            .run(as_of, calendar)
        })
        .collect()
}

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    measure_check(
        &RULE,
        "bail",
        12,
        "解除或变更取保候审，或移送下一办案机关",
        facts,
        as_of,
        calendar,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    fn case(next: &str, on: NaiveDate) -> CaseFacts {
        CaseFacts::new("C1")
            .with("bail", d(2023, 3, 1), "GA1")
            .with(next, on, "GA1")
    }

    #[test]
    fn last_day_is_in_time_and_the_next_is_late() {
        // 2023-03-01 + 12 months = Friday 2024-03-01.
        let as_of = d(2025, 1, 1);
        assert!(check(
            &case("transferred_for_prosecution", d(2024, 3, 1)),
            as_of,
            &WeekendsOnly
        )
        .is_empty());
        let items = check(
            &case("transferred_for_prosecution", d(2024, 3, 2)),
            as_of,
            &WeekendsOnly,
        );
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 3, 1));
    }

    #[test]
    fn a_weekend_last_day_moves_to_monday() {
        // 2023-03-04 + 12 months = Monday 2024-03-04; 2023-03-02 → Saturday 2024-03-02 → Monday.
        let f = |on| {
            CaseFacts::new("C1")
                .with("bail", d(2023, 3, 2), "GA1")
                .with("prosecuted", on, "JC1")
        };
        assert!(check(&f(d(2024, 3, 4)), d(2025, 1, 1), &WeekendsOnly).is_empty());
        assert_eq!(
            check(&f(d(2024, 3, 5)), d(2025, 1, 1), &WeekendsOnly)[0].due,
            d(2024, 3, 4)
        );
    }

    #[test]
    fn a_new_decision_restarts_and_a_stale_bail_fires() {
        let renewed = CaseFacts::new("C1")
            .with("bail", d(2023, 3, 1), "GA1")
            .with("bail", d(2023, 12, 1), "JC1")
            .with("prosecuted", d(2024, 10, 1), "JC1");
        assert!(check(&renewed, d(2025, 1, 1), &WeekendsOnly).is_empty());
        let stale = CaseFacts::new("C1").with("bail", d(2023, 3, 1), "GA1");
        assert!(check(&stale, d(2024, 3, 1), &WeekendsOnly).is_empty());
        let items = check(&stale, d(2024, 3, 2), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("未见"));
    }
}
