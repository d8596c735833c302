//! 逮捕须经批准或者决定: an arrest must be approved by the procuratorate or decided by a court,
//! and is executed by the police (刑事诉讼法 第80条). An `arrest_executed` with no
//! `arrest_approved` on or before its date is an arrest without approval.
//!
//! The event table has no kind for a court's decision to arrest (人民法院决定逮捕); an arrest
//! executed after the case reached a court (`court_accepted` before it) is therefore not judged.
//! Judged only when the case carries some procuratorate record (`arrest_approved`,
//! `arrest_denied`, `prosecuted`, `not_prosecuted`, `returned_for_investigation`), so that a
//! missing procuratorate export is not read as a missing approval.

use chrono::NaiveDate;

use super::{PriorCheck, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-080-arrest-without-approval",
    title_zh: "未经批准或者决定执行逮捕",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 80,
        paragraph: None,
        quote: "逮捕犯罪嫌疑人、被告人，必须经过人民检察院批准或者人民法院决定，由公安机关执行。",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    let at_court = facts
        .events
        .iter()
        .find(|e| e.kind == "court_accepted")
        .map(|e| e.on);
    let mut pre_trial = facts.clone();
    if let Some(accepted) = at_court {
        pre_trial
            .events
            .retain(|e| !(e.kind == "arrest_executed" && e.on >= accepted));
    }
    PriorCheck {
        rule: &RULE,
        acts: &["arrest_executed"],
        priors: &["arrest_approved"],
        gate: &[
            "arrest_approved",
            "arrest_denied",
            "prosecuted",
            "not_prosecuted",
            "returned_for_investigation",
        ],
        prior_zh: "人民检察院批准逮捕",
        note: "人民法院决定逮捕的情形数据中无对应节点，法院受理后的执行逮捕不予判断。",
    }
    .run(&pre_trial)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    #[test]
    fn execution_without_approval_fires_and_with_it_does_not() {
        let f = CaseFacts::new("C1")
            .with("arrest_executed", d(2024, 3, 9), "GA1")
            .with("prosecuted", d(2024, 5, 9), "JC1");
        let items = check(&f, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 3, 9));
        let ok = f.with("arrest_approved", d(2024, 3, 9), "JC1");
        assert!(check(&ok, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }

    #[test]
    fn a_court_stage_arrest_and_a_case_without_procuratorate_record_are_not_judged() {
        let court = CaseFacts::new("C1")
            .with("prosecuted", d(2024, 5, 9), "JC1")
            .with("court_accepted", d(2024, 5, 10), "FY1")
            .with("arrest_executed", d(2024, 5, 20), "GA1");
        assert!(check(&court, d(2024, 6, 1), &WeekendsOnly).is_empty());
        let police_only = CaseFacts::new("C1").with("arrest_executed", d(2024, 3, 9), "GA1");
        assert!(check(&police_only, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }
}
