//! 二审审限: the court of second instance decides an appeal or protest within two months of
//! accepting it; for cases that may carry the death penalty, have an incidental civil action or
//! fall under 第158条, the provincial high court may extend this by two months (刑事诉讼法 第243条
//! 第1款); further extensions need the SPC.
//!
//! The second-instance acceptance is the first `court_accepted` on or after an `appeal` or
//! `protest`; the period closes with the next `verdict_announced` or `judgment_effective`. A
//! `trial_extended` recorded before the two months ran out stands for the high court's
//! approval and gives four months; one recorded later does not cure the lapse. Custody is read
//! from the latest coercive measure on the day of acceptance. Not modelled: the SPC's own
//! limits, extensions beyond four months, time excluded while the procuratorate reads the file
//! (第235条).

use chrono::NaiveDate;

use super::{in_custody_at, LimitCheck, Rule};
use crate::deadline::{deadline, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-243-second-instance",
    title_zh: "二审审理超期",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 243,
        paragraph: Some(1),
        quote: "第二审人民法院受理上诉、抗诉案件，应当在二个月以内审结。",
    },
    severity: Severity::Orange,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    let ev = &facts.events;
    let mut starts: Vec<usize> = ev
        .iter()
        .filter(|e| e.kind == "appeal" || e.kind == "protest")
        .filter_map(|a| {
            ev.iter()
                .position(|e| e.kind == "court_accepted" && e.on >= a.on)
        })
        .collect();
    starts.dedup();
    starts
        .into_iter()
        .filter_map(|start| {
            let from = ev[start].on;
            let custody = in_custody_at(facts, from);
            let base = deadline(from, Period::Months(2), custody, calendar);
            let extended = ev
                .iter()
                .find(|e| e.kind == "trial_extended" && e.on >= from && e.on <= base);
            let (period, note) = match extended {
                Some(e) => (
                    Period::Months(4),
                    format!(
                        "审理期限一般为2个月（期满日{base}），{}经批准延长二个月。",
                        e.on
                    ),
                ),
                None => (
                    Period::Months(2),
                    "未见期满前批准延长审限（trial_extended）的记录。".to_string(),
                ),
            };
            LimitCheck {
                rule: &RULE,
                facts,
                start,
                from,
                ends: &["verdict_announced", "judgment_effective"],
                period,
                custody,
                act_zh: "审结上诉、抗诉案件",
                same_stage: &["trial_opened", "trial_extended"],
                judge_missing: true,
                suspensions: super::CASE_HANDLING,
                note,
            }
            .run(as_of, calendar)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    fn appealed() -> CaseFacts {
        // Second instance accepted Monday 2024-04-01; 2 months → Saturday 2024-06-01.
        CaseFacts::new("C1")
            .with("court_accepted", d(2024, 1, 10), "FY1")
            .with("verdict_announced", d(2024, 3, 1), "FY1")
            .with("appeal", d(2024, 3, 8), "FY1")
            .with("court_accepted", d(2024, 4, 1), "FY2")
    }

    #[test]
    fn weekend_extends_at_liberty_but_not_in_custody() {
        let ok = appealed().with("verdict_announced", d(2024, 6, 3), "FY2");
        assert!(check(&ok, d(2025, 1, 1), &WeekendsOnly).is_empty());
        let late = appealed().with("verdict_announced", d(2024, 6, 4), "FY2");
        let items = check(&late, d(2025, 1, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 6, 3));
        let held = ok.with("arrest_executed", d(2023, 12, 1), "GA1");
        assert_eq!(
            check(&held, d(2025, 1, 1), &WeekendsOnly)[0].due,
            d(2024, 6, 1)
        );
    }

    #[test]
    fn a_timely_extension_gives_four_months_and_a_late_one_does_not() {
        // 2024-04-01 + 4 months = Thursday 2024-08-01.
        let timely = appealed()
            .with("trial_extended", d(2024, 5, 20), "GJFY")
            .with("verdict_announced", d(2024, 8, 1), "FY2");
        assert!(check(&timely, d(2025, 1, 1), &WeekendsOnly).is_empty());
        let late = appealed()
            .with("trial_extended", d(2024, 6, 10), "GJFY")
            .with("verdict_announced", d(2024, 8, 1), "FY2");
        let items = check(&late, d(2025, 1, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 6, 3));
    }

    #[test]
    fn no_appeal_no_second_instance() {
        let f = CaseFacts::new("C1")
            .with("court_accepted", d(2024, 1, 10), "FY1")
            .with("verdict_announced", d(2024, 9, 1), "FY1");
        assert!(check(&f, d(2025, 1, 1), &WeekendsOnly).is_empty());
    }
}
