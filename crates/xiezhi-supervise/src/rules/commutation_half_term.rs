//! 减刑后实际执行不少于原判刑期二分之一: after commutation a convict sentenced to 管制, 拘役 or
//! 有期徒刑 must actually serve at least half of the original term (刑法 第78条第2款第1项).
//! Fires on an execution row whose cumulative reduction (`reduced_months`) exceeds half of the
//! original term of the same person's sentence, i.e. `2 × reduced > term`. The finding is dated
//! at the start of execution, the only date the row carries; the commutation rulings behind the
//! total are not in the row.

use chrono::NaiveDate;

use super::{charges_zh, execution_fact, item, sentence_of, sentence_zh, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cl-078-commutation-half-term",
    title_zh: "减刑后实际执行刑期少于原判刑期二分之一",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 78,
        paragraph: None,
        quote: "判处管制、拘役、有期徒刑的，不能少于原判刑期的二分之一",
    },
    severity: Severity::Red,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    facts
        .executions
        .iter()
        .filter_map(|e| {
            let reduced = e.reduced_months.filter(|r| *r > 0)?;
            let start = e.start?;
            let s = sentence_of(facts, e)?;
            let limited = matches!(
                s.principal_penalty.as_deref(),
                Some("public_surveillance" | "criminal_detention" | "fixed_term")
            );
            let term = s.term_months.filter(|t| *t > 0 && limited)?;
            if 2 * reduced <= term {
                return None;
            }
            Some(item(
                &RULE,
                facts,
                start,
                format!(
                    "{}：原判{}，自{}起在{}执行，累计减刑{}个月；依{}，减刑以后实际执行的刑期不能少于原判刑期的二分之一，最多可减{}个月。",
                    charges_zh(&s.charges),
                    sentence_zh(s),
                    start,
                    e.org_code,
                    reduced,
                    RULE.basis.cite(),
                    term / 2
                ),
                vec![execution_fact(start, e)],
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, serving};
    use crate::WeekendsOnly;

    #[test]
    fn half_the_term_may_be_reduced_and_a_month_more_may_not() {
        let as_of = d(2026, 1, 1);
        assert!(check(&serving(48, 24), as_of, &WeekendsOnly).is_empty());
        let items = check(&serving(48, 25), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2022, 1, 5));
        assert!(items[0].explanation_zh.contains("最多可减24个月"));
        // An odd term: 25 months allow 12.
        assert!(check(&serving(25, 12), as_of, &WeekendsOnly).is_empty());
        assert_eq!(check(&serving(25, 13), as_of, &WeekendsOnly).len(), 1);
    }
}
