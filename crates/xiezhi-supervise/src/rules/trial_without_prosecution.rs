//! 审判须有公诉: a court opens a trial on a public prosecution after reviewing the indictment
//! (刑事诉讼法 第186条). A `court_accepted`, `trial_opened` or `verdict_announced` with no
//! `prosecuted` on or before its date is a trial without a prosecution.
//!
//! 自诉案件 (private prosecutions, 第210条) and 减刑假释案件 come to court without one: a case
//! whose category is `private_prosecution` or `commutation_parole` is not judged. Judged only when the case carries some record from
//! before the court (`case_filed`, `detention`, `transferred_for_prosecution`, ...): a case known
//! only from the court's export (a judgment the resolution could not link to its investigation)
//! lacks the prosecution because the other exports are not linked, not because it is missing.

use chrono::NaiveDate;

use super::{PriorCheck, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-186-trial-without-prosecution",
    title_zh: "未经提起公诉即受理、审判",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 186,
        paragraph: None,
        quote: "人民法院对提起公诉的案件进行审查后，对于起诉书中有明确的指控犯罪事实的，应当决定开庭审判。",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    if matches!(
        facts.category.as_deref(),
        Some("private_prosecution" | "commutation_parole")
    ) {
        return Vec::new();
    }
    PriorCheck {
        rule: &RULE,
        acts: &["court_accepted", "trial_opened", "verdict_announced"],
        priors: &["prosecuted"],
        gate: &[
            "case_filed",
            "detention",
            "arrest_requested",
            "arrest_approved",
            "transferred_for_prosecution",
            "returned_for_investigation",
            "prosecuted",
        ],
        prior_zh: "人民检察院提起公诉",
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
    fn a_verdict_without_prosecution_fires_on_the_first_court_act() {
        let f = CaseFacts::new("C1")
            .with("transferred_for_prosecution", d(2024, 4, 1), "GA1")
            .with("court_accepted", d(2024, 5, 10), "FY1")
            .with("verdict_announced", d(2024, 6, 10), "FY1");
        let items = check(&f, d(2024, 7, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 5, 10));
        let ok = f.with("prosecuted", d(2024, 5, 9), "JC1");
        assert!(check(&ok, d(2024, 7, 1), &WeekendsOnly).is_empty());
    }

    #[test]
    fn a_court_only_case_is_not_judged() {
        let f = CaseFacts::new("C1")
            .with("court_accepted", d(2024, 5, 10), "FY1")
            .with("verdict_announced", d(2024, 6, 10), "FY1");
        assert!(check(&f, d(2024, 7, 1), &WeekendsOnly).is_empty());
    }

    #[test]
    fn a_private_prosecution_is_not_judged() {
        let mut f = CaseFacts::new("C1")
            .with("case_filed", d(2024, 1, 10), "GA1")
            .with("verdict_announced", d(2024, 6, 10), "FY1");
        assert_eq!(check(&f, d(2024, 7, 1), &WeekendsOnly).len(), 1);
        f.category = Some("private_prosecution".into());
        assert!(check(&f, d(2024, 7, 1), &WeekendsOnly).is_empty());
        f.category = Some("commutation_parole".into());
        assert!(check(&f, d(2024, 7, 1), &WeekendsOnly).is_empty());
    }
}
