//! 解除矫正未通知: at the end of the term the organ issues the release certificate and notifies
//! the decision organ, the procuratorate and the police (社区矫正法 第44条). The law sets no
//! period for the notice, so only its absence is judged: a `released` act with no
//! `release_notified` on or after it, by an evaluation date after the release day.

use chrono::NaiveDate;

use super::Rule;
use crate::corrections::{act_fact, item, subjects};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "sqjz-044-release-notice",
    title_zh: "解除社区矫正未通知决定机关、检察院、公安机关",
    basis: Basis {
        law: "社区矫正法",
        version: "2019",
        article: 44,
        paragraph: None,
        quote: "社区矫正对象矫正期满或者被赦免的，社区矫正机构应当向社区矫正对象发放解除社区矫正证明书，并通知社区矫正决定机关、所在地的人民检察院、公安机关。",
    },
    severity: Severity::Yellow,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    for s in subjects(facts) {
        let Some(released) = s.first("released") else {
            continue;
        };
        let day = released.at.date();
        let notified = s
            .acts
            .iter()
            .any(|a| a.kind == "release_notified" && a.at.date() >= day);
        if !notified && as_of > day {
            return vec![item(
                &RULE,
                &facts.case_uid,
                day,
                format!(
                    "社区矫正对象于{day}矫正期满解除（{}）；依{}，应通知社区矫正决定机关、所在地人民检察院和公安机关。截至{as_of}未见通知记录。法律未规定通知期限，平台仅判断是否通知。",
                    released.org_code,
                    RULE.basis.cite()
                ),
                vec![act_fact(released), format!("as_of {as_of}")],
            )];
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, subject};
    use crate::WeekendsOnly;

    #[test]
    fn a_release_without_notice_fires_the_next_day() {
        let released = [("released", d(2024, 3, 1), "SJ1", None)];
        let f = subject(&released);
        assert!(check(&f, d(2024, 3, 1), &WeekendsOnly).is_empty());
        assert_eq!(check(&f, d(2024, 3, 2), &WeekendsOnly).len(), 1);
        let notified = subject(&[
            released[0],
            ("release_notified", d(2024, 3, 4), "SJ1", None),
        ]);
        assert!(check(&notified, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }
}
