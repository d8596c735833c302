//! 社区矫正决定机关通知执行地社区矫正机构: within 5 days of the judgment, ruling or decision
//! taking effect (社区矫正法 第20条).
//!
//! Counted from the subject's `effective_date` to the first `notified` act. 社区矫正法 has no
//! counting rule of its own; the CPL's (第105条: start day not counted, a rest last day extends)
//! is applied. A notice still missing past the deadline is reported as ongoing.

use chrono::NaiveDate;

use super::Rule;
use crate::corrections::{act_fact, item, subjects};
use crate::deadline::{deadline, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "sqjz-020-decision-notice",
    title_zh: "社区矫正决定机关逾期通知执行地社区矫正机构",
    basis: Basis {
        law: "社区矫正法",
        version: "2019",
        article: 20,
        paragraph: Some(1),
        quote: "社区矫正决定机关应当自判决、裁定或者决定生效之日起五日内通知执行地社区矫正机构，并在十日内送达有关法律文书，同时抄送人民检察院和执行地公安机关。",
    },
    severity: Severity::Yellow,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    for s in subjects(facts) {
        let Some(effective) = s.record.effective else {
            continue;
        };
        let due = deadline(effective, Period::Days(5), false, calendar);
        let head = format!(
            "判决（裁定）于{effective}生效；依{}，决定机关应在5日内通知执行地社区矫正机构（{}），期满日为{due}（期满日为节假日的顺延）。",
            RULE.basis.cite(),
            s.record.executing_org
        );
        let opened = format!("judgment_effective {effective} {}", s.record.decision_org);
        let note = "社区矫正法未规定期间计算方法，参照刑事诉讼法第105条计算。";
        match s.first("notified") {
            Some(n) if n.at.date() > due => {
                return vec![item(
                    &RULE,
                    &facts.case_uid,
                    due,
                    format!(
                        "{head}实际通知于{}（{}），超期{}日。{note}",
                        n.at.date(),
                        n.org_code,
                        (n.at.date() - due).num_days()
                    ),
                    vec![opened, act_fact(n)],
                )]
            }
            Some(_) => {}
            None if as_of > due => {
                return vec![item(
                    &RULE,
                    &facts.case_uid,
                    due,
                    format!(
                        "{head}截至{as_of}未见通知记录，已超期{}日。{note}",
                        (as_of - due).num_days()
                    ),
                    vec![opened, format!("as_of {as_of}")],
                )]
            }
            None => {}
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrections::{ActFacts, SubjectFacts};
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    fn case(notified: Option<NaiveDate>) -> CaseFacts {
        let mut f = CaseFacts::new("C1");
        f.corrections.push(SubjectFacts {
            person_uid: Some("P1".into()),
            effective: Some(d(2024, 4, 1)),
            decision_org: "FY1".into(),
            executing_org: "SJ1".into(),
            ..SubjectFacts::default()
        });
        if let Some(n) = notified {
            f.correction_acts.push(ActFacts {
                person_uid: Some("P1".into()),
                kind: "notified".into(),
                at: n.and_hms_opt(10, 0, 0).unwrap(),
                org_code: "FY1".into(),
                until: None,
            });
        }
        f
    }

    #[test]
    fn fifth_day_is_in_time_and_a_weekend_extends() {
        // Monday 2024-04-01 + 5 = Saturday 04-06 → Monday 04-08.
        let as_of = d(2024, 6, 1);
        assert!(check(&case(Some(d(2024, 4, 8))), as_of, &WeekendsOnly).is_empty());
        let items = check(&case(Some(d(2024, 4, 9))), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 4, 8));
        assert!(items[0].explanation_zh.contains("超期1日"));
    }

    #[test]
    fn a_missing_notice_is_ongoing_only_past_the_deadline() {
        assert!(check(&case(None), d(2024, 4, 8), &WeekendsOnly).is_empty());
        let items = check(&case(None), d(2024, 4, 20), &WeekendsOnly);
        assert_eq!(items[0].facts_used.last().unwrap(), "as_of 2024-04-20");
    }
}
