//! 监视居住最长六个月 (刑事诉讼法 第79条第1款): the check of
//! [`bail_limit`](super::bail_limit) for `residential_surveillance`, with six months. Periods
//! spent under 指定居所监视居住 count against a later sentence (第76条), which is not judged here.

use chrono::NaiveDate;

use super::bail_limit::measure_check;
use super::Rule;
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-079-surveillance-limit",
    title_zh: "监视居住超过六个月",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 79,
        paragraph: Some(1),
        quote: "人民法院、人民检察院和公安机关对犯罪嫌疑人、被告人取保候审最长不得超过十二个月，监视居住最长不得超过六个月。",
    },
    severity: Severity::Yellow,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    measure_check(
        &RULE,
        "residential_surveillance",
        6,
        "解除或变更监视居住，或移送下一办案机关",
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

    #[test]
    fn six_months_to_the_day() {
        // 2024-01-31 + 6 months = Wednesday 2024-07-31.
        let f = |on| {
            CaseFacts::new("C1")
                .with("residential_surveillance", d(2024, 1, 31), "GA1")
                .with("arrest_executed", on, "GA1")
        };
        assert!(check(&f(d(2024, 7, 31)), d(2025, 1, 1), &WeekendsOnly).is_empty());
        let items = check(&f(d(2024, 8, 1)), d(2025, 1, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 7, 31));
        assert!(items[0].explanation_zh.contains("6个月"));
    }
}
