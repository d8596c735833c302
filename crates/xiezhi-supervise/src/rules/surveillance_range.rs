//! 管制的期限: three months to two years (刑法 第38条第1款); for 数罪并罚 at most three years
//! (第69条第1款). The check of [`fixed_term_range`](super::fixed_term_range) for
//! `public_surveillance`.

use chrono::NaiveDate;

use super::fixed_term_range::{term_check, TermRange};
use super::Rule;
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cl-038-surveillance-range",
    title_zh: "管制期限超出法定期限",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 38,
        paragraph: Some(1),
        quote: "管制的期限，为三个月以上二年以下。",
    },
    severity: Severity::Orange,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    term_check(
        &RULE,
        &TermRange {
            penalty: "public_surveillance",
            single: (3, 24),
            joined_max: 36,
            single_zh: "三个月以上二年以下",
            joined_zh: "管制最高不能超过三年",
        },
        facts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::rules::testing::sentenced;
    use crate::WeekendsOnly;

    #[test]
    fn three_months_to_two_years() {
        let fires = |t| {
            !check(
                &sentenced("public_surveillance", t, &["C234.1"]),
                d(2024, 6, 1),
                &WeekendsOnly,
            )
            .is_empty()
        };
        assert!(!fires(3) && fires(2));
        assert!(!fires(24) && fires(25));
    }
}
