//! 请假外出逾期未归: a subject leaving the city or county needs the organ's approval (社区矫正法
//! 第27条), which sets the day the leave ends (`until` of the `leave_approved` act). A return
//! (`leave_returned`) after that day, or none while the day has passed, is reported. An
//! approved last day is a fixed day: no rest-day extension.

use chrono::NaiveDate;

use super::Rule;
use crate::corrections::{act_fact, item, subjects};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "sqjz-027-leave-overrun",
    title_zh: "社区矫正对象请假外出逾期未归",
    basis: Basis {
        law: "社区矫正法",
        version: "2019",
        article: 27,
        paragraph: Some(1),
        quote: "社区矫正对象离开所居住的市、县或者迁居，应当报经社区矫正机构批准。",
    },
    severity: Severity::Orange,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    for s in subjects(facts) {
        for leave in s.acts.iter().filter(|a| a.kind == "leave_approved") {
            let Some(until) = leave.until else { continue };
            let back = s
                .acts
                .iter()
                .find(|a| a.kind == "leave_returned" && a.at >= leave.at);
            let head = format!(
                "{}批准社区矫正对象离开所居住的市、县（{}），批准外出至{until}；依{}，外出须经批准，应于批准期限内返回。",
                leave.at.date(),
                leave.org_code,
                RULE.basis.cite()
            );
            match back {
                Some(b) if b.at.date() > until => {
                    return vec![item(
                        &RULE,
                        &facts.case_uid,
                        until,
                        format!(
                            "{head}实际于{}销假返回，逾期{}日。",
                            b.at.date(),
                            (b.at.date() - until).num_days()
                        ),
                        vec![act_fact(leave), act_fact(b)],
                    )]
                }
                None if as_of > until => {
                    return vec![item(
                        &RULE,
                        &facts.case_uid,
                        until,
                        format!(
                            "{head}截至{as_of}未见销假返回记录，已逾期{}日。",
                            (as_of - until).num_days()
                        ),
                        vec![act_fact(leave), format!("as_of {as_of}")],
                    )]
                }
                _ => {}
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, subject};
    use crate::WeekendsOnly;

    fn leave(back: Option<NaiveDate>) -> CaseFacts {
        let mut acts = vec![("leave_approved", d(2024, 3, 1), "SJ1", Some(d(2024, 3, 9)))];
        acts.extend(back.map(|b| ("leave_returned", b, "SJ1", None)));
        subject(&acts)
    }

    #[test]
    fn the_approved_day_is_in_time_even_on_a_weekend() {
        // 2024-03-09 is a Saturday: no extension for an approved day.
        assert!(check(&leave(Some(d(2024, 3, 9))), d(2024, 4, 1), &WeekendsOnly).is_empty());
        let items = check(&leave(Some(d(2024, 3, 11))), d(2024, 4, 1), &WeekendsOnly);
        assert!(items[0].explanation_zh.contains("逾期2日"));
        let missing = check(&leave(None), d(2024, 3, 12), &WeekendsOnly);
        assert_eq!(missing[0].facts_used[1], "as_of 2024-03-12");
        assert!(check(&leave(None), d(2024, 3, 9), &WeekendsOnly).is_empty());
    }
}
