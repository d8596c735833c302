//! 批准逮捕须经提请: the police ask for an arrest by sending a 提请批准逮捕书 to the
//! procuratorate, which reviews and approves it (刑事诉讼法 第87条). An `arrest_approved` with no
//! `arrest_requested` on or before its date is an approval without a request.
//!
//! Judged only when the case carries the police's own record (`case_filed` or `detention`): a
//! case known only from the procuratorate's export may lack the request because the police
//! export is missing, not because the request was. Arrests the procuratorate decides in its own
//! investigations (自侦案件, 第165条) need no police request; the data does not mark them, so such
//! a case without police events is not judged either.

use chrono::NaiveDate;

use super::{PriorCheck, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-087-arrest-without-request",
    title_zh: "未经提请批准逮捕即批准逮捕",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 87,
        paragraph: None,
        quote: "公安机关要求逮捕犯罪嫌疑人的时候，应当写出提请批准逮捕书，连同案卷材料、证据，一并移送同级人民检察院审查批准。",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    PriorCheck {
        rule: &RULE,
        acts: &["arrest_approved"],
        priors: &["arrest_requested"],
        gate: &["case_filed", "detention"],
        prior_zh: "公安机关提请批准逮捕",
        note: "",
    }
    .run(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    fn base() -> CaseFacts {
        CaseFacts::new("C1")
            .with("case_filed", d(2024, 3, 1), "GA1")
            .with("detention", d(2024, 3, 2), "GA1")
    }

    #[test]
    fn approval_without_request_fires() {
        let f = base().with("arrest_approved", d(2024, 3, 9), "JC1");
        let items = check(&f, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 3, 9));
        assert!(items[0]
            .explanation_zh
            .contains("未见公安机关提请批准逮捕记录"));
        assert!(items[0].explanation_zh.contains("第87条"));
    }

    #[test]
    fn a_request_on_the_same_day_is_enough_and_a_later_one_is_not() {
        let same = base().with("arrest_requested", d(2024, 3, 9), "GA1").with(
            "arrest_approved",
            d(2024, 3, 9),
            "JC1",
        );
        assert!(check(&same, d(2024, 6, 1), &WeekendsOnly).is_empty());
        let later = base().with("arrest_approved", d(2024, 3, 9), "JC1").with(
            "arrest_requested",
            d(2024, 3, 10),
            "GA1",
        );
        let items = check(&later, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("2024-03-10"));
        assert_eq!(items[0].facts_used.len(), 2);
    }

    #[test]
    fn a_case_without_the_police_record_is_not_judged() {
        let f = CaseFacts::new("C1").with("arrest_approved", d(2024, 3, 9), "JC1");
        assert!(check(&f, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }
}
