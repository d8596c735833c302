//! 脱管: a subject the executing organ has lost touch with. The organ must know the subject's
//! whereabouts and conduct (社区矫正法 第26条) by contact: the report-in, check-ins (报告),
//! visits, leave approvals and returns, and location fixes. A stretch of more than
//! [`CONTACT_GAP_DAYS`] days between two contacts, or from the last contact to the evaluation
//! date while the correction runs, is reported once per case (the first stretch found).
//!
//! [`CONTACT_GAP_DAYS`] is a platform setting, not a statutory period: 社区矫正法 sets none,
//! and the explanation says so.

use chrono::{Days, NaiveDate};

use super::Rule;
use crate::corrections::{item, subjects};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

/// Longest stretch without contact the platform tolerates (platform setting).
pub const CONTACT_GAP_DAYS: u64 = 30;

/// Act kinds that are contact with the subject.
const CONTACT: [&str; 6] = [
    "report_in",
    "intake",
    "check_in",
    "visit",
    "leave_approved",
    "leave_returned",
];

pub const RULE: Rule = Rule {
    id: "sqjz-026-lost-contact",
    title_zh: "脱管：社区矫正对象长期无报告、走访或定位记录",
    basis: Basis {
        law: "社区矫正法",
        version: "2019",
        article: 26,
        paragraph: Some(1),
        quote: "社区矫正机构应当了解掌握社区矫正对象的活动情况和行为表现。",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    for s in subjects(facts) {
        let Some(reported) = s
            .record
            .reported
            .or(s.first("report_in").map(|a| a.at.date()))
        else {
            continue;
        };
        let end = s.ended_on().map_or(as_of, |e| e.min(as_of));
        let mut contacts: Vec<(NaiveDate, String)> = s
            .acts
            .iter()
            .filter(|a| CONTACT.contains(&a.kind.as_str()))
            .map(|a| {
                (
                    a.at.date(),
                    format!("{} {} {}", a.kind, a.at.date(), a.org_code),
                )
            })
            .chain(s.fixes.iter().map(|f| {
                (
                    f.at.date(),
                    format!("location_fix {} {}", f.at.date(), s.record.executing_org),
                )
            }))
            .filter(|(d, _)| *d >= reported && *d <= end)
            .collect();
        contacts.sort_by_key(|(d, _)| *d);
        let mut prev = (
            reported,
            format!("report_in {reported} {}", s.record.executing_org),
        );
        let gap_zh = "平台监管设置：连续30日无任何报告、走访、请销假或定位记录视为失去联系（非法定期限，社区矫正法未规定天数）。";
        for (d, line) in contacts
            .into_iter()
            .chain(std::iter::once((end, String::new())))
        {
            let due = prev.0 + Days::new(CONTACT_GAP_DAYS);
            if d > due {
                let ongoing = line.is_empty();
                let (tail, last) = if ongoing && d == as_of {
                    (
                        format!("截至{d}仍无联系记录，已失联{}日。", (d - prev.0).num_days()),
                        format!("as_of {as_of}"),
                    )
                } else if ongoing {
                    (
                        format!(
                            "至矫正终止日{d}仍无联系记录，失联{}日。",
                            (d - prev.0).num_days()
                        ),
                        format!("correction_ended {d} {}", s.record.executing_org),
                    )
                } else {
                    (
                        format!(
                            "下一次联系记录为{d}，其间失联{}日。",
                            (d - prev.0).num_days()
                        ),
                        line,
                    )
                };
                return vec![item(
                    &RULE,
                    &facts.case_uid,
                    due,
                    format!(
                        "社区矫正对象于{reported}报到（{}），最后一次联系记录为{}，{due}后即超过平台容许的联系间隔；{tail}依{}，社区矫正机构应当掌握其活动情况。{gap_zh}",
                        s.record.executing_org,
                        prev.0,
                        RULE.basis.cite()
                    ),
                    vec![prev.1, last],
                )];
            }
            if !line.is_empty() {
                prev = (d, line);
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrections::{ActFacts, FixFacts, SubjectFacts};
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    fn subject(check_ins: &[NaiveDate]) -> CaseFacts {
        let mut f = CaseFacts::new("C1");
        f.corrections.push(SubjectFacts {
            person_uid: Some("P1".into()),
            executing_org: "SJ1".into(),
            reported: Some(d(2024, 1, 1)),
            end: Some(d(2025, 1, 1)),
            ..SubjectFacts::default()
        });
        for c in check_ins {
            f.correction_acts.push(ActFacts {
                person_uid: Some("P1".into()),
                kind: "check_in".into(),
                at: c.and_hms_opt(9, 0, 0).unwrap(),
                org_code: "SJ1".into(),
                until: None,
            });
        }
        f
    }

    #[test]
    fn thirty_days_is_tolerated_and_thirty_one_is_not() {
        let ok = subject(&[d(2024, 1, 31), d(2024, 3, 1)]);
        assert!(check(&ok, d(2024, 3, 31), &WeekendsOnly).is_empty());
        let gap = subject(&[d(2024, 1, 31), d(2024, 3, 2)]);
        let items = check(&gap, d(2024, 3, 5), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 3, 1));
        assert!(items[0].explanation_zh.contains("失联31日"));
    }

    #[test]
    fn contact_lost_to_the_evaluation_date_is_ongoing_and_fixes_count_as_contact() {
        let f = subject(&[d(2024, 1, 20)]);
        let items = check(&f, d(2024, 3, 1), &WeekendsOnly);
        assert_eq!(items[0].facts_used[1], "as_of 2024-03-01");
        let mut with_fix = subject(&[d(2024, 1, 20)]);
        with_fix.fixes.push(FixFacts {
            person_uid: Some("P1".into()),
            at: d(2024, 2, 15).and_hms_opt(8, 0, 0).unwrap(),
            lon: 106_000_000,
            lat: 26_000_000,
        });
        assert!(check(&with_fix, d(2024, 3, 1), &WeekendsOnly).is_empty());
    }

    #[test]
    fn nothing_is_owed_after_the_term() {
        let f = subject(&[d(2024, 12, 20)]);
        assert!(
            check(&f, d(2025, 6, 1), &WeekendsOnly).len() == 1,
            "the gap before 12-20"
        );
        let mut regular = subject(&[]);
        regular.corrections[0].end = Some(d(2024, 1, 25));
        assert!(check(&regular, d(2025, 6, 1), &WeekendsOnly).is_empty());
    }
}
