//! 信访复查期限: the review (复查) opinion is given within 30 days of receiving the request
//! (信访工作条例 第35条). From `review_requested_on` to `review_answered_on`.

use chrono::NaiveDate;

use super::Rule;
use crate::deadline::RestDays;
use crate::petitions::{PetitionFacts, PetitionLimit};
use crate::{Basis, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "xfgz-035-review-period",
    title_zh: "信访复查逾期未提出复查意见",
    basis: Basis {
        law: "信访工作条例",
        version: "2022",
        article: 35,
        paragraph: None,
        quote:
            "收到复查请求的机关、单位应当自收到复查请求之日起30日内提出复查意见，并予以书面答复。",
    },
    severity: Severity::Yellow,
};

/// Days to give the review opinion.
pub const DAYS: u32 = 30;

pub fn check(p: &PetitionFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Option<RiskItem> {
    PetitionLimit {
        rule: &RULE,
        petition: p,
        from: ("review_requested", "请求复查", p.review_requested?),
        days: DAYS,
        end: ("review_answered", "提出复查意见", p.review_answered),
        note: String::new(),
    }
    .run(as_of, calendar)
}
