//! 减刑间隔时间: two commutations of a convict sentenced to less than ten years must be at least
//! one year apart, of one sentenced to ten years or more at least one year and six months
//! (最高法减刑假释规定 (2016) 第6条第3款). The interval runs from the service of the previous
//! ruling to the filing of the next proposal (第40条); the data has the previous ruling's date
//! (service comes on or after it) and the next `commutation_proposed`, else the next
//! `commutation_ruled`, so the interval computed is never shorter than the legal one and the rule
//! errs towards silence. Judged only on a case with one execution row; 重大立功 (第6条第4款) is not
//! in the data. The rule that an interval may not be shorter than the previous reduction needs
//! each reduction, which the data does not carry.

use chrono::NaiveDate;

use super::{fact, item, sentence_zh, sole_convict, Rule};
use crate::deadline::{calendar_expiry, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "jx16-006-commutation-interval",
    title_zh: "两次减刑间隔时间不足",
    basis: Basis {
        law: "减刑假释具体应用规定",
        version: "2016",
        article: 6,
        paragraph: Some(3),
        quote: "被判处不满十年有期徒刑的罪犯，两次减刑间隔时间不得少于一年；被判处十年以上有期徒刑的罪犯，两次减刑间隔时间不得少于一年六个月。",
    },
    severity: Severity::Orange,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    let Some((_, s)) = sole_convict(facts) else {
        return Vec::new();
    };
    let Some(term) = s
        .term_months
        .filter(|_| s.principal_penalty.as_deref() == Some("fixed_term"))
    else {
        return Vec::new();
    };
    let months = if term < 120 { 12 } else { 18 };
    let rulings: Vec<_> = facts
        .events
        .iter()
        .filter(|e| e.kind == "commutation_ruled")
        .collect();
    let mut items = Vec::new();
    for pair in rulings.windows(2) {
        let (prev, next_ruling) = (pair[0], pair[1]);
        let next = facts
            .events
            .iter()
            .find(|e| e.kind == "commutation_proposed" && e.on > prev.on && e.on <= next_ruling.on)
            .unwrap_or(next_ruling);
        let earliest = calendar_expiry(prev.on, Period::Months(months));
        if next.on >= earliest {
            continue;
        }
        items.push(item(
            &RULE,
            facts,
            next.on,
            format!(
                "原判{}；前次减刑裁定于{}（{}），依{}，两次减刑间隔不得少于{}个月，下次报请最早应在{}；实际{}于{}，间隔不足。",
                sentence_zh(s),
                prev.on,
                prev.org_code,
                RULE.basis.cite(),
                months,
                earliest,
                super::kind_zh(&next.kind),
                next.on
            ),
            vec![fact(prev), fact(next)],
        ));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, serving};
    use crate::WeekendsOnly;

    #[test]
    fn one_year_between_commutations_under_ten_years() {
        let f = |proposed| {
            serving(96, 12)
                .with("commutation_ruled", d(2023, 3, 1), "FY2")
                .with("commutation_proposed", proposed, "JY1")
                .with("commutation_ruled", d(2024, 4, 1), "FY2")
        };
        assert!(check(&f(d(2024, 3, 1)), d(2026, 1, 1), &WeekendsOnly).is_empty());
        let items = check(&f(d(2024, 2, 29)), d(2026, 1, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 2, 29));
    }

    #[test]
    fn eighteen_months_from_ten_years_and_rulings_alone_are_used() {
        let f = |second| {
            serving(120, 12)
                .with("commutation_ruled", d(2023, 3, 1), "FY2")
                .with("commutation_ruled", second, "FY2")
        };
        assert!(check(&f(d(2024, 9, 1)), d(2026, 1, 1), &WeekendsOnly).is_empty());
        assert_eq!(
            check(&f(d(2024, 8, 31)), d(2026, 1, 1), &WeekendsOnly).len(),
            1
        );
    }
}
