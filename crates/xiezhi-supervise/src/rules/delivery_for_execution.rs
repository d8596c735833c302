//! 交付执行: the court that delivers a convict for execution sends the legal documents to the
//! police, the prison or another executing organ within 10 days of the judgment becoming
//! effective (刑事诉讼法 第264条第1款). The 10 days bind the court's delivery of documents
//! (`delivered_for_execution`), not the prison's admission: the police have one month from
//! receiving the documents to send the convict to prison (监狱法 第15条), a different clock not
//! judged here.
//!
//! Fires when `delivered_for_execution` comes after the limit, or is missing past it while the
//! case shows no later act (an admission to prison or a community-correction report implies the
//! documents arrived; an acquittal has nothing to deliver, nor has a judgment exempting every
//! defendant from punishment). Custody is read from the latest coercive measure on the
//! day the judgment took effect.

use chrono::NaiveDate;

use super::{in_custody_at, indices_of, LimitCheck, Rule};
use crate::deadline::{Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-264-delivery-for-execution",
    title_zh: "判决生效后交付执行超期",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 264,
        paragraph: Some(1),
        quote: "罪犯被交付执行刑罚的时候，应当由交付执行的人民法院在判决生效后十日以内将有关的法律文书送达公安机关、监狱或者其他执行机关。",
    },
    severity: Severity::Yellow,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    // A judgment that exempts every defendant from punishment (免予刑事处罚, 刑法 第37条) has
    // no penalty to execute: a missing delivery is not judged then.
    let nothing_to_execute = !facts.sentences.is_empty()
        && facts
            .sentences
            .iter()
            .all(|s| s.principal_penalty.as_deref() == Some("exempted"));
    indices_of(facts, "judgment_effective")
        .filter_map(|start| {
            let from = facts.events[start].on;
            LimitCheck {
                rule: &RULE,
                facts,
                start,
                from,
                ends: &["delivered_for_execution"],
                period: Period::Days(10),
                custody: in_custody_at(facts, from),
                act_zh: "将有关法律文书送达公安机关、监狱或者其他执行机关",
                same_stage: &[],
                judge_missing: !nothing_to_execute,
                suspensions: super::CASE_HANDLING,
                note: "判决生效后十日期限约束法院送达法律文书；公安机关送交监狱的一个月期限（监狱法第15条）另行计算。".to_string(),
            }
            .run(as_of, calendar)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::{SentenceFacts, WeekendsOnly};

    #[test]
    fn an_exemption_has_nothing_to_deliver() {
        let mut f = CaseFacts::new("C1").with("judgment_effective", d(2024, 4, 1), "FY1");
        f.sentences.push(SentenceFacts {
            principal_penalty: Some("exempted".into()),
            ..SentenceFacts::default()
        });
        assert!(check(&f, d(2024, 6, 1), &WeekendsOnly).is_empty());
        f.sentences.push(SentenceFacts {
            principal_penalty: Some("fixed_term".into()),
            ..SentenceFacts::default()
        });
        assert_eq!(check(&f, d(2024, 6, 1), &WeekendsOnly).len(), 1);
    }

    fn case(delivered: NaiveDate) -> CaseFacts {
        // Effective Monday 2024-04-01 + 10 = Thursday 2024-04-11.
        CaseFacts::new("C1")
            .with("judgment_effective", d(2024, 4, 1), "FY1")
            .with("delivered_for_execution", delivered, "FY1")
    }

    #[test]
    fn last_day_is_in_time_and_the_next_is_late() {
        let as_of = d(2024, 6, 1);
        assert!(check(&case(d(2024, 4, 11)), as_of, &WeekendsOnly).is_empty());
        let items = check(&case(d(2024, 4, 12)), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 4, 11));
    }

    #[test]
    fn weekend_extends_for_a_convict_at_liberty() {
        // Effective Wednesday 2024-04-03 + 10 = Saturday 2024-04-13 → Monday 2024-04-15.
        let f = |on| {
            CaseFacts::new("C1")
                .with("judgment_effective", d(2024, 4, 3), "FY1")
                .with("delivered_for_execution", on, "FY1")
        };
        assert!(check(&f(d(2024, 4, 15)), d(2024, 6, 1), &WeekendsOnly).is_empty());
        assert_eq!(
            check(&f(d(2024, 4, 16)), d(2024, 6, 1), &WeekendsOnly)[0].due,
            d(2024, 4, 15)
        );
        let held = f(d(2024, 4, 15)).with("arrest_executed", d(2023, 12, 1), "GA1");
        assert_eq!(
            check(&held, d(2024, 6, 1), &WeekendsOnly)[0].due,
            d(2024, 4, 13)
        );
    }

    #[test]
    fn a_prison_admission_closes_the_missing_question() {
        let f = CaseFacts::new("C1")
            .with("judgment_effective", d(2024, 4, 1), "FY1")
            .with("prison_admission", d(2024, 4, 30), "JY1");
        assert!(check(&f, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }
}
