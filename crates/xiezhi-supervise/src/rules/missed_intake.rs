//! 漏管: a convict the court put under community corrections (管制, or a suspended sentence) who
//! has not reached the executing organ within 10 days of the judgment taking effect (社区矫正法
//! 第21条第1款; 第20条 has the court notify the organ within 5 days).
//!
//! A convict has reached the organ when the organ's register holds him: a correction subject,
//! a report-in (报到), intake or hand-over act, or a community-corrections execution row of
//! his; for a sentence that names no person, any report or register row of the case. Counted from the case's
//! `judgment_effective` with the CPL's rules (第105条), as the report rule is.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::Rule;
use crate::corrections::item;
use crate::deadline::{deadline, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "sqjz-021-missed-intake",
    title_zh: "漏管：判处社区矫正的罪犯未到执行地社区矫正机构报到",
    basis: Basis {
        law: "社区矫正法",
        version: "2019",
        article: 21,
        paragraph: Some(1),
        quote: "人民法院判处管制、宣告缓刑、裁定假释的社区矫正对象，应当自判决、裁定生效之日起十日内到执行地社区矫正机构报到。",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    let Some(effective) = facts.events.iter().find(|e| e.kind == "judgment_effective") else {
        return Vec::new();
    };
    let community: Vec<_> = facts
        .sentences
        .iter()
        .filter(|s| {
            s.principal_penalty.as_deref() == Some("public_surveillance")
                || s.probation_months.is_some_and(|m| m > 0)
        })
        .collect();
    if community.is_empty() {
        return Vec::new();
    }
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    reached.extend(
        facts
            .corrections
            .iter()
            .filter_map(|s| s.person_uid.as_deref()),
    );
    reached.extend(
        facts
            .correction_acts
            .iter()
            .filter(|a| matches!(a.kind.as_str(), "report_in" | "intake" | "handover"))
            .filter_map(|a| a.person_uid.as_deref()),
    );
    reached.extend(
        facts
            .executions
            .iter()
            .filter(|e| e.kind.as_deref() == Some("community_correction"))
            .filter_map(|e| e.person_uid.as_deref()),
    );
    let reports = facts
        .events
        .iter()
        .filter(|e| e.kind == "community_correction_report")
        .count();
    let due = deadline(effective.on, Period::Days(10), false, calendar);
    if as_of <= due {
        return Vec::new();
    }
    for s in community {
        let missed = match s.person_uid.as_deref() {
            Some(p) => !reached.contains(p),
            None => reached.is_empty() && reports == 0,
        };
        if !missed {
            continue;
        }
        let penalty = if s.probation_months.is_some_and(|m| m > 0) {
            format!(
                "宣告缓刑（考验期{}个月）",
                s.probation_months.unwrap_or_default()
            )
        } else {
            "判处管制".to_string()
        };
        return vec![item(
            &RULE,
            &facts.case_uid,
            due,
            format!(
                "判决于{}生效，{penalty}；依{}，应自生效之日起10日内到执行地社区矫正机构报到，期满日为{due}。截至{as_of}，执行地社区矫正机构无该罪犯的登记、报到或接收记录，已超期{}日，疑似漏管。社区矫正法未规定期间计算方法，参照刑事诉讼法第105条计算。",
                effective.on,
                RULE.basis.cite(),
                (as_of - due).num_days()
            ),
            vec![
                format!("judgment_effective {} {}", effective.on, effective.org_code),
                format!("as_of {as_of}"),
            ],
        )];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrections::SubjectFacts;
    use crate::rules::testing::{d, suspended};
    use crate::WeekendsOnly;

    fn judged() -> CaseFacts {
        let mut f = suspended(&[]);
        f.sentences[0].person_uid = Some("P1".into());
        f.with("judgment_effective", d(2024, 5, 16), "FY1")
    }

    #[test]
    fn a_suspended_convict_unknown_to_the_organ_is_missed_after_ten_days() {
        // Thursday 2024-05-16 + 10 = Sunday 05-26 → Monday 05-27.
        assert!(check(&judged(), d(2024, 5, 27), &WeekendsOnly).is_empty());
        let items = check(&judged(), d(2024, 5, 28), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 5, 27));
        assert!(items[0].explanation_zh.contains("疑似漏管"));
    }

    #[test]
    fn a_registered_subject_is_not_missed() {
        let mut f = judged();
        f.corrections.push(SubjectFacts {
            person_uid: Some("P1".into()),
            ..SubjectFacts::default()
        });
        assert!(check(&f, d(2024, 9, 1), &WeekendsOnly).is_empty());
        let reported = judged().with("community_correction_report", d(2024, 5, 20), "SJ1");
        let mut anonymous = reported.clone();
        anonymous.sentences[0].person_uid = None;
        assert!(check(&anonymous, d(2024, 9, 1), &WeekendsOnly).is_empty());
    }
}
