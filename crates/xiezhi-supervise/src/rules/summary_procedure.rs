//! 简易程序审限: a case tried under the summary procedure is concluded within twenty days of
//! acceptance; when the fixed term that may be imposed exceeds three years, within one and a
//! half months (刑事诉讼法 第220条). [`fast_track_procedure`](super::fast_track_procedure)
//! applies the same check to 速裁 (第225条: ten days, fifteen above one year).
//!
//! The procedure is read from the court's act choosing it (`summary_procedure`,
//! `fast_track_procedure`); the period runs from the first-instance acceptance on or before that
//! act to the verdict. "May be imposed" is read from the heaviest fixed term declared in the
//! case, the only measure of it the data has: a case sentenced above the threshold gets the
//! longer limit, so the rule errs towards silence. Custody is read from the latest coercive
//! measure on the day of acceptance. Not modelled: the switch to the ordinary procedure (第221条,
//! 第226条), for which the data has no act; a switched case is reported with the short limit,
//! and the explanation says which act chose the procedure.

use chrono::NaiveDate;

use super::{fact, first_instance_acceptances, in_custody_at, LimitCheck, Rule};
use crate::deadline::{Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-220-summary-procedure",
    title_zh: "简易程序审理超期",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 220,
        paragraph: None,
        quote: "适用简易程序审理案件，人民法院应当在受理后二十日以内审结；对可能判处的有期徒刑超过三年的，可以延长至一个半月。",
    },
    severity: Severity::Orange,
};

/// A short procedure's limits: the base period, the longer one, and the fixed term (months)
/// above which the longer applies.
pub(crate) struct ShortProcedure {
    pub act: &'static str,
    pub name_zh: &'static str,
    pub base: Period,
    pub longer: Period,
    pub over_months: i64,
}

pub(crate) const SUMMARY: ShortProcedure = ShortProcedure {
    act: "summary_procedure",
    name_zh: "简易程序",
    base: Period::Days(20),
    longer: Period::MonthsDays(1, 15),
    over_months: 36,
};

/// The limit check of a short procedure (简易 or 速裁).
pub(crate) fn procedure_check(
    rule: &Rule,
    procedure: &ShortProcedure,
    facts: &CaseFacts,
    as_of: NaiveDate,
    calendar: &dyn RestDays,
) -> Vec<RiskItem> {
    let Some(chosen) = facts.events.iter().find(|e| e.kind == procedure.act) else {
        return Vec::new();
    };
    let Some(start) = first_instance_acceptances(facts)
        .filter(|&i| facts.events[i].on <= chosen.on)
        .last()
    else {
        return Vec::new();
    };
    let heaviest = facts
        .sentences
        .iter()
        .filter(|s| s.principal_penalty.as_deref() == Some("fixed_term"))
        .filter_map(|s| s.term_months)
        .max();
    let (period, why) = match heaviest {
        Some(t) if t > procedure.over_months => (
            procedure.longer,
            format!(
                "判处有期徒刑{t}个月，超过{}个月，审限可延长至{}。",
                procedure.over_months,
                procedure.longer.zh()
            ),
        ),
        Some(t) => (
            procedure.base,
            format!(
                "判处最重有期徒刑{t}个月，不超过{}个月。",
                procedure.over_months
            ),
        ),
        None => (procedure.base, "未判处有期徒刑。".to_string()),
    };
    let from = facts.events[start].on;
    let check = LimitCheck {
        rule,
        facts,
        start,
        from,
        ends: &["verdict_announced"],
        period,
        custody: in_custody_at(facts, from),
        act_zh: "审结宣判",
        same_stage: &["trial_opened", procedure.act],
        judge_missing: true,
        suspensions: super::CASE_HANDLING,
        note: format!(
            "{}于{}（{}）决定适用{}；{}",
            super::kind_zh(procedure.act),
            chosen.on,
            chosen.org_code,
            procedure.name_zh,
            why
        ),
    };
    check
        .run(as_of, calendar)
        .map(|mut item| {
            item.facts_used.insert(1, fact(chosen));
            item
        })
        .into_iter()
        .collect()
}

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    procedure_check(&RULE, &SUMMARY, facts, as_of, calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::{SentenceFacts, WeekendsOnly};

    fn tried(verdict: NaiveDate, term: i64) -> CaseFacts {
        // Monday 2024-03-04 + 20 days = Sunday 2024-03-24 → Monday 2024-03-25 (not in custody).
        let mut f = CaseFacts::new("C1")
            .with("court_accepted", d(2024, 3, 4), "FY1")
            .with("summary_procedure", d(2024, 3, 5), "FY1")
            .with("verdict_announced", verdict, "FY1");
        f.sentences.push(SentenceFacts {
            principal_penalty: Some("fixed_term".into()),
            term_months: Some(term),
            ..SentenceFacts::default()
        });
        f
    }

    #[test]
    fn twenty_days_with_the_rest_day_extension() {
        let as_of = d(2024, 9, 1);
        assert!(check(&tried(d(2024, 3, 25), 12), as_of, &WeekendsOnly).is_empty());
        let items = check(&tried(d(2024, 3, 26), 12), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 3, 25));
        assert!(items[0].explanation_zh.contains("决定适用简易程序"));
        assert!(items[0].facts_used[1].starts_with("summary_procedure"));
    }

    #[test]
    fn a_term_above_three_years_gets_a_month_and_a_half() {
        // 2024-03-04 + 1 month 15 days = 2024-04-19 (Friday).
        let as_of = d(2024, 9, 1);
        assert!(check(&tried(d(2024, 4, 19), 37), as_of, &WeekendsOnly).is_empty());
        let items = check(&tried(d(2024, 4, 22), 37), as_of, &WeekendsOnly);
        assert_eq!(items[0].due, d(2024, 4, 19));
        assert!(check(&tried(d(2024, 4, 19), 36), as_of, &WeekendsOnly).len() == 1);
    }

    #[test]
    fn without_the_procedure_act_or_for_the_second_instance_it_is_silent() {
        let plain = CaseFacts::new("C1")
            .with("court_accepted", d(2024, 3, 4), "FY1")
            .with("verdict_announced", d(2024, 5, 1), "FY1");
        assert!(check(&plain, d(2024, 9, 1), &WeekendsOnly).is_empty());
        let appealed = CaseFacts::new("C1")
            .with("court_accepted", d(2024, 1, 4), "FY1")
            .with("verdict_announced", d(2024, 1, 20), "FY1")
            .with("appeal", d(2024, 1, 25), "FY1")
            .with("court_accepted", d(2024, 2, 5), "FY2")
            .with("summary_procedure", d(2024, 2, 6), "FY2")
            .with("verdict_announced", d(2024, 4, 1), "FY2");
        // The acceptance before the appeal is the first instance's; the verdict of 2024-01-20
        // closed it in time.
        assert!(check(&appealed, d(2024, 9, 1), &WeekendsOnly).is_empty());
    }

    #[test]
    fn a_missing_verdict_is_judged_only_without_later_acts() {
        let mut f = tried(d(2024, 3, 25), 12);
        f.events.retain(|e| e.kind != "verdict_announced");
        assert_eq!(check(&f, d(2024, 4, 1), &WeekendsOnly).len(), 1);
        assert!(check(&f, d(2024, 3, 25), &WeekendsOnly).is_empty());
    }
}
