//! 提起公诉须经移送审查起诉: the police send a finished investigation with its 起诉意见书 to the
//! procuratorate for review (刑事诉讼法 第162条第1款), and only the procuratorate's review leads to
//! a public prosecution (第169条). A `prosecuted` with no `transferred_for_prosecution` on or
//! before its date is a prosecution without a case transfer.
//!
//! Cases the procuratorate investigates itself (自侦案件) are prosecuted without a transfer; the
//! data does not mark them, so the explanation says to check for one.

use chrono::NaiveDate;

use super::{PriorCheck, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-162-prosecution-without-transfer",
    title_zh: "未经移送审查起诉即提起公诉",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 162,
        paragraph: Some(1),
        quote: "公安机关侦查终结的案件，应当做到犯罪事实清楚，证据确实、充分，并且写出起诉意见书，连同案卷材料、证据一并移送同级人民检察院审查决定",
    },
    severity: Severity::Orange,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    PriorCheck {
        rule: &RULE,
        acts: &["prosecuted"],
        priors: &["transferred_for_prosecution"],
        gate: &[],
        prior_zh: "移送审查起诉",
        note: "如属人民检察院自行侦查的案件，请核实并注明。",
    }
    .run(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    #[test]
    fn prosecution_needs_a_transfer_on_or_before_it() {
        let bare = CaseFacts::new("C1").with("prosecuted", d(2024, 5, 9), "JC1");
        let items = check(&bare, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("未见移送审查起诉记录"));
        let same_day = bare
            .clone()
            .with("transferred_for_prosecution", d(2024, 5, 9), "GA1");
        assert!(check(&same_day, d(2024, 6, 1), &WeekendsOnly).is_empty());
        let after = bare.with("transferred_for_prosecution", d(2024, 5, 10), "GA1");
        assert_eq!(check(&after, d(2024, 6, 1), &WeekendsOnly).len(), 1);
    }
}
