//! 信访复核期限: the re-examination (复核) opinion is given within 30 days of receiving the
//! request (信访工作条例 第36条). From `recheck_requested_on` to `recheck_answered_on`.

use chrono::NaiveDate;

use super::Rule;
use crate::deadline::RestDays;
use crate::petitions::{PetitionFacts, PetitionLimit};
use crate::{Basis, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "xfgz-036-recheck-period",
    title_zh: "信访复核逾期未提出复核意见",
    basis: Basis {
        law: "信访工作条例",
        version: "2022",
        article: 36,
        paragraph: None,
        quote: "收到复核请求的机关、单位应当自收到复核请求之日起30日内提出复核意见。",
    },
    severity: Severity::Yellow,
};

/// Days to give the re-examination opinion.
pub const DAYS: u32 = 30;

pub fn check(p: &PetitionFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Option<RiskItem> {
    PetitionLimit {
        rule: &RULE,
        petition: p,
        from: ("recheck_requested", "请求复核", p.recheck_requested?),
        days: DAYS,
        end: ("recheck_answered", "提出复核意见", p.recheck_answered),
        note: String::new(),
    }
    .run(as_of, calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    #[test]
    fn petition_periods_count_from_their_own_act() {
        let mut p = PetitionFacts {
            uid: "Q1".into(),
            petition_no: Some("XF1".into()),
            org_code: "FY1".into(),
            received: Some(d(2024, 3, 1)),
            // Friday 03-01 + 15 = Saturday 03-16 → Monday 03-18.
            accepted: Some(d(2024, 3, 18)),
            ..PetitionFacts::default()
        };
        assert!(
            super::super::petition_acceptance::check(&p, d(2024, 9, 1), &WeekendsOnly).is_none()
        );
        p.accepted = Some(d(2024, 3, 19));
        let late =
            super::super::petition_acceptance::check(&p, d(2024, 9, 1), &WeekendsOnly).unwrap();
        assert_eq!((late.due, late.case_uid.as_str()), (d(2024, 3, 18), "Q1"));
        // Accepted Tuesday 03-19; 60 + 20 extension = Friday 06-07.
        p.extended_days = Some(20);
        p.answered = Some(d(2024, 6, 7));
        assert!(super::super::petition_handling::check(&p, d(2024, 9, 1), &WeekendsOnly).is_none());
        p.extended_days = Some(45);
        let capped = super::super::petition_handling::check(&p, d(2024, 9, 1), &WeekendsOnly);
        assert!(
            capped.is_none(),
            "45 counts as 30, so 90 days: still in time"
        );
        p.extended_days = None;
        let item =
            super::super::petition_handling::check(&p, d(2024, 9, 1), &WeekendsOnly).unwrap();
        assert!(item.explanation_zh.contains("超期"));
        p.recheck_requested = Some(d(2024, 7, 1));
        assert!(check(&p, d(2024, 7, 31), &WeekendsOnly).is_none());
        assert_eq!(
            check(&p, d(2024, 8, 1), &WeekendsOnly).unwrap().facts_used[1],
            "as_of 2024-08-01"
        );
    }
}
