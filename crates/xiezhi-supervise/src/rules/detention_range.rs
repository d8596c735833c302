//! 拘役的期限: one to six months (刑法 第42条); for 数罪并罚 at most one year (第69条第1款).
//! The check of [`fixed_term_range`](super::fixed_term_range) for `criminal_detention`.

use chrono::NaiveDate;

use super::fixed_term_range::{term_check, TermRange};
use super::Rule;
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cl-042-detention-range",
    title_zh: "拘役期限超出法定期限",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 42,
        paragraph: None,
        quote: "拘役的期限，为一个月以上六个月以下。",
    },
    severity: Severity::Orange,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    term_check(
        &RULE,
        &TermRange {
            penalty: "criminal_detention",
            single: (1, 6),
            joined_max: 12,
            single_zh: "一个月以上六个月以下",
            joined_zh: "拘役最高不能超过一年",
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
    fn one_to_six_months_and_a_year_for_several_charges() {
        let fires = |t, charges: &[&str]| {
            !check(
                &sentenced("criminal_detention", t, charges),
                d(2024, 6, 1),
                &WeekendsOnly,
            )
            .is_empty()
        };
        assert!(!fires(1, &["C133-1.1"]) && fires(0, &["C133-1.1"]));
        assert!(!fires(6, &["C133-1.1"]) && fires(7, &["C133-1.1"]));
        assert!(!fires(12, &["C133-1.1", "C264.1"]) && fires(13, &["C133-1.1", "C264.1"]));
    }
}
