//! 退回补充侦查以二次为限: a case may be returned to the police for supplementary investigation
//! at most twice (刑事诉讼法 第175条第3款). Fires on the third `returned_for_investigation`;
//! the due date reported is the date of that third return, the act that broke the limit.
//! Returns are counted by date: each suspect's record repeats the case's returns.

use chrono::NaiveDate;

use super::{fact, indices_of, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-175-supplementary-investigation-limit",
    title_zh: "退回补充侦查超过二次",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 175,
        paragraph: Some(3),
        quote: "对于补充侦查的案件，应当在一个月以内补充侦查完毕。补充侦查以二次为限。",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    // One return is recorded once per suspect: a return is a date, not a row.
    let mut returns: Vec<_> = indices_of(facts, "returned_for_investigation")
        .map(|i| &facts.events[i])
        .collect();
    returns.dedup_by_key(|e| e.on);
    let Some(third) = returns.get(2) else {
        return Vec::new();
    };
    let dates: Vec<String> = returns.iter().map(|e| e.on.to_string()).collect();
    vec![RiskItem {
        rule_id: RULE.id,
        title_zh: RULE.title_zh,
        basis: RULE.basis,
        severity: RULE.severity,
        case_uid: facts.case_uid.clone(),
        due: third.on,
        explanation_zh: format!(
            "本案退回补充侦查{}次（{}）；依{}，补充侦查以二次为限，第三次退回发生于{}。",
            returns.len(),
            dates.join("、"),
            RULE.basis.cite(),
            third.on
        ),
        facts_used: returns.iter().map(|e| fact(e)).collect(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    #[test]
    fn two_returns_are_allowed_and_a_third_fires() {
        let two = CaseFacts::new("C1")
            .with("returned_for_investigation", d(2024, 1, 10), "JC1")
            .with("returned_for_investigation", d(2024, 3, 10), "JC1");
        assert!(check(&two, d(2024, 6, 1), &WeekendsOnly).is_empty());
        let three = two.with("returned_for_investigation", d(2024, 5, 10), "JC1");
        let items = check(&three, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 5, 10));
        assert!(items[0].explanation_zh.contains("2024-01-10"));
    }
}
