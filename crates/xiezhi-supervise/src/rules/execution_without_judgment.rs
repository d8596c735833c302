//! 执行须以生效判决为据: judgments and rulings are executed after they take legal effect
//! (刑事诉讼法 第259条第1款). A `delivered_for_execution`, `prison_admission` or
//! `community_correction_report` with no `judgment_effective` on or before its date is an
//! execution without an effective judgment.
//!
//! Judged only when the case carries some court record (`court_accepted`, `trial_opened`,
//! `verdict_announced`): a case known only from the executing organ's export is an unlinked
//! record, not an execution without judgment.

use chrono::NaiveDate;

use super::{PriorCheck, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-259-execution-without-effective-judgment",
    title_zh: "判决未生效即交付执行",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 259,
        paragraph: Some(1),
        quote: "判决和裁定在发生法律效力后执行。",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    PriorCheck {
        rule: &RULE,
        acts: &[
            "delivered_for_execution",
            "prison_admission",
            "community_correction_report",
        ],
        priors: &["judgment_effective"],
        gate: &["court_accepted", "trial_opened", "verdict_announced"],
        prior_zh: "判决生效",
        note: "",
    }
    .run(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    #[test]
    fn admission_before_the_judgment_takes_effect_fires() {
        let early = CaseFacts::new("C1")
            .with("verdict_announced", d(2024, 4, 1), "FY1")
            .with("prison_admission", d(2024, 4, 5), "JY1")
            .with("judgment_effective", d(2024, 4, 11), "FY1");
        let items = check(&early, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 4, 5));
        assert!(items[0].explanation_zh.contains("2024-04-11"));
        let unlinked = CaseFacts::new("C1").with("prison_admission", d(2024, 4, 5), "JY1");
        assert!(check(&unlinked, d(2024, 6, 1), &WeekendsOnly).is_empty());
        let in_order = CaseFacts::new("C1")
            .with("judgment_effective", d(2024, 4, 11), "FY1")
            .with("community_correction_report", d(2024, 4, 11), "SF1");
        assert!(check(&in_order, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }
}
