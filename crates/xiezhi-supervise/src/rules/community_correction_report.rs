//! 社区矫正报到: an offender sentenced to 管制, granted probation (缓刑) or paroled (假释) reports
//! to the community-correction agency of the place of execution within 10 days of the judgment
//! or ruling taking effect (社区矫正法 第21条第1款).
//!
//! The period runs from the latest `judgment_effective` or `parole_ruled` before the
//! `community_correction_report`. 社区矫正法 has no counting rule of its own; the CPL's (第105条:
//! start day not counted, a rest last day extends) is applied, and the offender is not in
//! custody. Only a late report is judged: the case data does not yet say which judgments put
//! the offender under community correction, so a missing report is not flagged.

use chrono::NaiveDate;

use super::{LimitCheck, Rule};
use crate::deadline::{Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "sqjz-021-community-correction-report",
    title_zh: "社区矫正对象逾期报到",
    basis: Basis {
        law: "社区矫正法",
        version: "2019",
        article: 21,
        paragraph: Some(1),
        quote: "人民法院判处管制、宣告缓刑、裁定假释的社区矫正对象，应当自判决、裁定生效之日起十日内到执行地社区矫正机构报到。",
    },
    severity: Severity::Yellow,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    let mut items = Vec::new();
    for (r, report) in facts.events.iter().enumerate() {
        if report.kind != "community_correction_report" {
            continue;
        }
        let start = facts.events[..r]
            .iter()
            .rposition(|e| e.kind == "judgment_effective" || e.kind == "parole_ruled");
        let Some(start) = start else { continue };
        // Each offender reports on his own: judge this report, not the first report of the
        // case (co-defendants report separately).
        let mut own = CaseFacts::new(&facts.case_uid);
        own.events = vec![facts.events[start].clone(), report.clone()];
        let check = LimitCheck {
            rule: &RULE,
            facts: &own,
            start: 0,
            from: facts.events[start].on,
            ends: &["community_correction_report"],
            period: Period::Days(10),
            custody: false,
            act_zh: "到执行地社区矫正机构报到",
            same_stage: &[],
            judge_missing: false,
            suspensions: super::CASE_HANDLING,
            note: "社区矫正法未规定期间计算方法，参照刑事诉讼法第105条计算。".to_string(),
        };
        items.extend(check.run(as_of, calendar));
    }
    items.dedup_by(|a, b| a.due == b.due && a.explanation_zh == b.explanation_zh);
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::WeekendsOnly;

    fn case(report: NaiveDate) -> CaseFacts {
        // Effective Monday 2024-04-01 + 10 = Thursday 2024-04-11.
        CaseFacts::new("C1")
            .with("judgment_effective", d(2024, 4, 1), "FY1")
            .with("community_correction_report", report, "SF1")
    }

    #[test]
    fn last_day_is_in_time_and_the_next_is_late() {
        let as_of = d(2024, 6, 1);
        assert!(check(&case(d(2024, 4, 11)), as_of, &WeekendsOnly).is_empty());
        let items = check(&case(d(2024, 4, 12)), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 4, 11));
        assert!(items[0].explanation_zh.contains("社区矫正报到于2024-04-12"));
    }

    #[test]
    fn each_co_defendant_is_judged_on_his_own_report() {
        let f = case(d(2024, 4, 5)).with("community_correction_report", d(2024, 4, 20), "SF2");
        let items = check(&f, d(2024, 6, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1, "{items:?}");
        assert!(items[0].explanation_zh.contains("2024-04-20"));
        assert!(items[0].facts_used[1].ends_with("SF2"));
    }

    #[test]
    fn weekend_extends_and_parole_starts_the_clock() {
        // Parole ruled Wednesday 2024-04-03 + 10 = Saturday 2024-04-13 → Monday 2024-04-15.
        let f = |on| {
            CaseFacts::new("C1")
                .with("judgment_effective", d(2020, 1, 1), "FY1")
                .with("parole_ruled", d(2024, 4, 3), "FY1")
                .with("community_correction_report", on, "SF1")
        };
        assert!(check(&f(d(2024, 4, 15)), d(2024, 6, 1), &WeekendsOnly).is_empty());
        assert_eq!(
            check(&f(d(2024, 4, 16)), d(2024, 6, 1), &WeekendsOnly)[0].due,
            d(2024, 4, 15)
        );
    }
}
