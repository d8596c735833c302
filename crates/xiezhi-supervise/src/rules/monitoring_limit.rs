//! 电子定位装置超期使用: electronic monitoring is approved for at most three months, renewable
//! by approval three months at a time (社区矫正法 第29条第2款). From each `monitoring_started`
//! or `monitoring_renewed`, the next `monitoring_ended` or `monitoring_renewed` must come within
//! three calendar months (the start day not counted; a longest duration, so no rest-day
//! extension). Monitoring still running past that day is reported as ongoing, unless the
//! correction itself ended first.

use chrono::NaiveDate;

use super::Rule;
use crate::corrections::{act_fact, item, subjects};
use crate::deadline::{calendar_expiry, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "sqjz-029-monitoring-limit",
    title_zh: "电子定位装置使用超过三个月未经批准延长",
    basis: Basis {
        law: "社区矫正法",
        version: "2019",
        article: 29,
        paragraph: Some(2),
        quote: "前款规定的使用电子定位装置的期限不得超过三个月。",
    },
    severity: Severity::Orange,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    for s in subjects(facts) {
        let ended = s.ended_on();
        for (i, start) in s.acts.iter().enumerate() {
            if start.kind != "monitoring_started" && start.kind != "monitoring_renewed" {
                continue;
            }
            let due = calendar_expiry(start.at.date(), Period::Months(3));
            let next = s.acts[i + 1..]
                .iter()
                .find(|a| a.kind == "monitoring_ended" || a.kind == "monitoring_renewed");
            let head = format!(
                "{}开始（或延长）使用电子定位装置（{}）；依{}，每次使用不得超过三个月，期满日为{due}。",
                start.at.date(),
                start.org_code,
                RULE.basis.cite()
            );
            match next {
                Some(n) if n.at.date() > due => {
                    return vec![item(
                        &RULE,
                        &facts.case_uid,
                        due,
                        format!(
                            "{head}实际于{}{}，超期{}日。",
                            n.at.date(),
                            if n.kind == "monitoring_ended" {
                                "解除"
                            } else {
                                "延长"
                            },
                            (n.at.date() - due).num_days()
                        ),
                        vec![act_fact(start), act_fact(n)],
                    )]
                }
                None if as_of > due && ended.is_none_or(|e| e > due) => {
                    return vec![item(
                        &RULE,
                        &facts.case_uid,
                        due,
                        format!(
                            "{head}截至{as_of}未见解除或经批准延长的记录，已超期{}日。",
                            (as_of - due).num_days()
                        ),
                        vec![act_fact(start), format!("as_of {as_of}")],
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

    fn monitored(acts: &[(&str, NaiveDate)]) -> CaseFacts {
        let acts: Vec<_> = acts.iter().map(|(k, on)| (*k, *on, "SJ1", None)).collect();
        subject(&acts)
    }

    #[test]
    fn three_months_to_the_day_and_renewals_restart_the_clock() {
        let start = ("monitoring_started", d(2024, 1, 31));
        // 2024-01-31 + 3 months = 2024-04-30.
        let ok = monitored(&[start, ("monitoring_ended", d(2024, 4, 30))]);
        assert!(check(&ok, d(2024, 9, 1), &WeekendsOnly).is_empty());
        let late = monitored(&[start, ("monitoring_ended", d(2024, 5, 2))]);
        assert_eq!(
            check(&late, d(2024, 9, 1), &WeekendsOnly)[0].due,
            d(2024, 4, 30)
        );
        let renewed = monitored(&[
            start,
            ("monitoring_renewed", d(2024, 4, 29)),
            ("monitoring_ended", d(2024, 7, 20)),
        ]);
        assert!(check(&renewed, d(2024, 9, 1), &WeekendsOnly).is_empty());
        let running = monitored(&[start]);
        assert!(check(&running, d(2024, 4, 30), &WeekendsOnly).is_empty());
        assert_eq!(check(&running, d(2024, 5, 1), &WeekendsOnly).len(), 1);
    }
}
