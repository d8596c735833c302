//! 假释须执行原判刑期二分之一以上: a fixed-term convict may be paroled after serving at least
//! half of the original term (刑法 第81条第1款), counted from the day the judgment was executed
//! with custody before it credited day for day (最高法减刑假释规定 (2016) 第23条第1款) — the
//! execution row's start, which carries that credit. Fires on a `parole_ruled` before half of
//! the term (in days of the calendar term) has run. The SPC may approve an exception (第81条
//! 第1款); no event records one. Judged only on a case with one execution row.

use chrono::{Days, NaiveDate};

use super::{execution_fact, fact, item, sentence_zh, sole_convict, Rule};
use crate::deadline::{calendar_expiry, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cl-081-parole-half-term",
    title_zh: "未执行原判刑期二分之一即假释",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 81,
        paragraph: Some(1),
        quote: "被判处有期徒刑的犯罪分子，执行原判刑期二分之一以上",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    let Some((e, s)) = sole_convict(facts) else {
        return Vec::new();
    };
    let (Some("fixed_term"), Some(term), Some(start)) =
        (s.principal_penalty.as_deref(), s.term_months, e.start)
    else {
        return Vec::new();
    };
    let Some(parole) = facts.events.iter().find(|x| x.kind == "parole_ruled") else {
        return Vec::new();
    };
    let full = calendar_expiry(start, Period::Months(u32::try_from(term).unwrap_or(0)));
    let half_days = ((full - start).num_days() + 1) / 2;
    let earliest = start
        .checked_add_days(Days::new(u64::try_from(half_days).unwrap_or(0)))
        .unwrap_or(NaiveDate::MAX);
    if parole.on >= earliest {
        return Vec::new();
    }
    vec![item(
        &RULE,
        facts,
        parole.on,
        format!(
            "原判{}，自{}起执行（先行羁押已折抵），刑期至{}；依{}，执行原判刑期二分之一以上方可假释，最早为{}；假释裁定于{}（{}），提前{}日。",
            sentence_zh(s),
            start,
            full,
            RULE.basis.cite(),
            earliest,
            parole.on,
            parole.org_code,
            (earliest - parole.on).num_days()
        ),
        vec![execution_fact(start, e), fact(parole)],
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, serving};
    use crate::WeekendsOnly;

    #[test]
    fn half_of_the_term_in_days() {
        // From 2022-01-05, 48 months → 2026-01-05: 1461 days, half 731 → 2024-01-06.
        let f = |on| serving(48, 0).with("parole_ruled", on, "FY2");
        assert!(check(&f(d(2024, 1, 6)), d(2026, 1, 1), &WeekendsOnly).is_empty());
        let items = check(&f(d(2024, 1, 5)), d(2026, 1, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("最早为2024-01-06"));
        assert!(items[0].explanation_zh.contains("提前1日"));
    }
}
