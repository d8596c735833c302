//! 信访受理告知: a petition handed in directly is told within 15 days of receipt whether it is
//! accepted (信访工作条例 第23条第2款). From `received_on` to `accepted_on`.

use chrono::NaiveDate;

use super::Rule;
use crate::deadline::RestDays;
use crate::petitions::{PetitionFacts, PetitionLimit};
use crate::{Basis, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "xfgz-023-acceptance-notice",
    title_zh: "信访事项逾期未告知受理",
    basis: Basis {
        law: "信访工作条例",
        version: "2022",
        article: 23,
        paragraph: Some(2),
        quote: "对信访人直接提出的信访事项，有关机关、单位能够当场告知的，应当当场书面告知；不能当场告知的，应当自收到信访事项之日起15日内书面告知信访人，但信访人的姓名（名称）、住址不清的除外。",
    },
    severity: Severity::Yellow,
};

/// Days to tell the petitioner of acceptance.
pub const DAYS: u32 = 15;

pub fn check(p: &PetitionFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Option<RiskItem> {
    PetitionLimit {
        rule: &RULE,
        petition: p,
        from: ("petition_received", "登记", p.received?),
        days: DAYS,
        end: ("petition_accepted", "书面告知受理", p.accepted),
        note: String::new(),
    }
    .run(as_of, calendar)
}
