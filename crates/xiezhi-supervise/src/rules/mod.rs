//! The rule catalog: one rule, one module (doc comment, code, tests). Each module exports
//! `RULE` (id, Chinese title, legal basis, severity) and `check`, a pure function of the case's
//! facts, the evaluation date and the rest-day calendar.
//!
//! Shared here: the time-limit check most rules are made of ([`LimitCheck`]), the check for an
//! act done without the act that must precede it ([`PriorCheck`]), the custody test that decides
//! whether a period may be extended for a holiday, and the formatting of facts.
//!
//! Not a rule: the notification of the family within 24 hours of 拘留 or 逮捕 (刑事诉讼法 第85条
//! 第2款, 第93条). The event table has no notification event, so the data cannot show it.

pub mod arrest_request;
pub mod arrest_review_detained;
pub mod arrest_review_not_detained;
pub mod arrest_without_approval;
pub mod arrest_without_request;
pub mod bail_limit;
pub mod community_correction_report;
pub mod delivery_for_execution;
pub mod execution_without_judgment;
pub mod first_instance;
pub mod investigation_custody;
pub mod prosecution_review;
pub mod prosecution_without_transfer;
pub mod second_instance;
pub mod supplementary_investigation;
pub mod surveillance_limit;
pub mod trial_without_prosecution;

use chrono::NaiveDate;
use serde::Serialize;
use xiezhi_standard::codes::{table, CodeTable};

use crate::deadline::{deadline, Period, RestDays};
use crate::{Basis, CaseEvent, CaseFacts, RiskItem, Severity};

/// A rule's catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub title_zh: &'static str,
    pub basis: Basis,
    pub severity: Severity,
}

type Check = fn(&CaseFacts, NaiveDate, &dyn RestDays) -> Vec<RiskItem>;

const RULES: &[(Rule, Check)] = &[
    (arrest_request::RULE, arrest_request::check),
    (arrest_review_detained::RULE, arrest_review_detained::check),
    (
        arrest_review_not_detained::RULE,
        arrest_review_not_detained::check,
    ),
    (prosecution_review::RULE, prosecution_review::check),
    (
        supplementary_investigation::RULE,
        supplementary_investigation::check,
    ),
    (first_instance::RULE, first_instance::check),
    (delivery_for_execution::RULE, delivery_for_execution::check),
    (
        community_correction_report::RULE,
        community_correction_report::check,
    ),
    (investigation_custody::RULE, investigation_custody::check),
    (bail_limit::RULE, bail_limit::check),
    (surveillance_limit::RULE, surveillance_limit::check),
    (second_instance::RULE, second_instance::check),
    // Procedural legality: an act without the act the law requires before it.
    (arrest_without_request::RULE, arrest_without_request::check),
    (
        arrest_without_approval::RULE,
        arrest_without_approval::check,
    ),
    (
        prosecution_without_transfer::RULE,
        prosecution_without_transfer::check,
    ),
    (
        trial_without_prosecution::RULE,
        trial_without_prosecution::check,
    ),
    (
        execution_without_judgment::RULE,
        execution_without_judgment::check,
    ),
];

/// Every rule, in catalog order.
pub fn catalog() -> Vec<Rule> {
    RULES.iter().map(|(rule, _)| *rule).collect()
}

/// Runs every rule over one case as of a date.
pub fn evaluate(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    RULES
        .iter()
        .flat_map(|(_, check)| check(facts, as_of, calendar))
        .collect()
}

/// The Chinese name of an event kind, or the code when the table does not know it.
pub(crate) fn kind_zh(kind: &str) -> String {
    table(CodeTable::EventKind)
        .get(kind)
        .map_or_else(|| kind.to_string(), |e| e.name.clone())
}

/// One fact line: `detention 2024-03-04 GA520102`.
pub(crate) fn fact(e: &CaseEvent) -> String {
    format!("{} {} {}", e.kind, e.on, e.org_code)
}

/// Whether the person is in custody (被拘留 or 被逮捕) on a day, from the latest coercive-measure
/// event on or before it. Unknown means not in custody, so the holiday extension applies and
/// the rule errs towards not firing.
pub(crate) fn in_custody_at(facts: &CaseFacts, day: NaiveDate) -> bool {
    let mut custody = false;
    for e in facts.events.iter().take_while(|e| e.on <= day) {
        match e.kind.as_str() {
            "detention" | "arrest_approved" | "arrest_executed" => custody = true,
            "bail"
            | "residential_surveillance"
            | "arrest_denied"
            | "not_prosecuted"
            | "released" => custody = false,
            _ => {}
        }
    }
    custody
}

/// When a missing closing act is judged: only if the case shows no later act, except the kinds
/// listed (which belong to the same stage and do not close it).
pub(crate) struct LimitCheck<'a> {
    pub rule: &'a Rule,
    pub facts: &'a CaseFacts,
    /// Index of the opening event in `facts.events`.
    pub start: usize,
    /// The opening date to count from (usually the opening event's date).
    pub from: NaiveDate,
    /// Kinds that close the period in time.
    pub ends: &'a [&'a str],
    pub period: Period,
    pub custody: bool,
    /// What must happen, in Chinese, e.g. `提请人民检察院审查批准逮捕`.
    pub act_zh: &'a str,
    /// Same-stage kinds that do not stop a missing act from being judged.
    pub same_stage: &'a [&'a str],
    /// Whether a missing closing act is judged at all.
    pub judge_missing: bool,
    /// Extra sentence(s) for the explanation: base limits, what the data cannot show.
    pub note: String,
}

impl LimitCheck<'_> {
    /// The finding, if the closing act came after the deadline, or is missing past it while the
    /// case shows no later act.
    pub fn run(&self, as_of: NaiveDate, calendar: &dyn RestDays) -> Option<RiskItem> {
        let start = self.facts.events.get(self.start)?;
        let due = deadline(self.from, self.period, self.custody, calendar);
        let end = self
            .facts
            .events
            .iter()
            .enumerate()
            .find(|(i, e)| {
                *i != self.start && e.on >= start.on && self.ends.contains(&e.kind.as_str())
            })
            .map(|(_, e)| e);
        let custody_zh = if self.custody {
            "在押期间，期满日不因节假日顺延"
        } else {
            "期满日为节假日的顺延至节假日后第一日"
        };
        let head = format!(
            "{}于{}（{}）；依{}，应在{}内{}，期限自次日起算，期满日为{}（{}）。",
            kind_zh(&start.kind),
            self.from,
            start.org_code,
            self.rule.basis.cite(),
            self.period.zh(),
            self.act_zh,
            due,
            custody_zh
        );
        let mut facts_used = vec![fact(start)];
        let tail = match end {
            Some(end) if end.on > due => {
                facts_used.push(fact(end));
                format!(
                    "实际{}于{}（{}），超期{}日。",
                    kind_zh(&end.kind),
                    end.on,
                    end.org_code,
                    (end.on - due).num_days()
                )
            }
            Some(_) => return None,
            None => {
                if !self.judge_missing || as_of <= due {
                    return None;
                }
                let later = self.facts.events.iter().enumerate().any(|(i, e)| {
                    i != self.start
                        && e.on > start.on
                        && !self.same_stage.contains(&e.kind.as_str())
                });
                if later {
                    return None;
                }
                facts_used.push(format!("as_of {as_of}"));
                format!(
                    "截至{}未见{}记录，且案件无后续流程，已超期{}日。",
                    as_of,
                    self.ends
                        .iter()
                        .map(|k| kind_zh(k))
                        .collect::<Vec<_>>()
                        .join("或"),
                    (as_of - due).num_days()
                )
            }
        };
        Some(RiskItem {
            rule_id: self.rule.id,
            title_zh: self.rule.title_zh,
            basis: self.rule.basis,
            severity: self.rule.severity,
            case_uid: self.facts.case_uid.clone(),
            due,
            explanation_zh: format!("{head}{tail}{}", self.note),
            facts_used,
        })
    }
}

/// A procedural act that the law allows only after another act (批准逮捕 only upon a 提请批准逮捕,
/// say). Fires once per case, on the first act with no prior act on or before its date; the due
/// date reported is the date of that act.
pub(crate) struct PriorCheck<'a> {
    pub rule: &'a Rule,
    /// The acts judged.
    pub acts: &'a [&'a str],
    /// Any one of these on or before the act makes it regular.
    pub priors: &'a [&'a str],
    /// The case is judged only when it shows at least one of these kinds (the upstream organ's
    /// record is present at all); empty: always judged.
    pub gate: &'a [&'a str],
    /// What is missing, in Chinese, e.g. `提请批准逮捕`.
    pub prior_zh: &'a str,
    /// Extra sentence(s) for the explanation: what the data cannot show.
    pub note: &'a str,
}

impl PriorCheck<'_> {
    pub fn run(&self, facts: &CaseFacts) -> Vec<RiskItem> {
        let has = |kinds: &[&str]| {
            facts
                .events
                .iter()
                .any(|e| kinds.contains(&e.kind.as_str()))
        };
        if !self.gate.is_empty() && !has(self.gate) {
            return Vec::new();
        }
        let Some(act) = facts.events.iter().find(|a| {
            self.acts.contains(&a.kind.as_str())
                && !facts
                    .events
                    .iter()
                    .any(|p| p.on <= a.on && self.priors.contains(&p.kind.as_str()))
        }) else {
            return Vec::new();
        };
        let mut facts_used = vec![fact(act)];
        let later: Vec<&CaseEvent> = facts
            .events
            .iter()
            .filter(|p| p.on > act.on && self.priors.contains(&p.kind.as_str()))
            .collect();
        let seen = match later.first() {
            Some(p) => {
                facts_used.push(fact(p));
                format!("{}记录最早见于{}，晚于该行为。", kind_zh(&p.kind), p.on)
            }
            None => "案件中无该记录。".to_string(),
        };
        vec![RiskItem {
            rule_id: self.rule.id,
            title_zh: self.rule.title_zh,
            basis: self.rule.basis,
            severity: self.rule.severity,
            case_uid: facts.case_uid.clone(),
            due: act.on,
            explanation_zh: format!(
                "{}于{}（{}）；依{}，此前应有{}，但截至{}未见{}记录，{}{}",
                kind_zh(&act.kind),
                act.on,
                act.org_code,
                self.rule.basis.cite(),
                self.prior_zh,
                act.on,
                self.prior_zh,
                seen,
                self.note
            ),
            facts_used,
        }]
    }
}

/// Indices of the events of a kind.
pub(crate) fn indices_of<'a>(
    facts: &'a CaseFacts,
    kind: &'a str,
) -> impl Iterator<Item = usize> + 'a {
    facts
        .events
        .iter()
        .enumerate()
        .filter(move |(_, e)| e.kind == kind)
        .map(|(i, _)| i)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the rules' tests.
    use chrono::NaiveDate;

    pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_are_unique_and_every_basis_has_an_article() {
        let rules = catalog();
        let mut ids: Vec<_> = rules.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), rules.len());
        for r in rules {
            assert!(r.basis.article > 0 && !r.basis.quote.is_empty(), "{}", r.id);
        }
    }

    #[test]
    fn custody_follows_the_latest_measure() {
        let f = CaseFacts::new("C1")
            .with("detention", testing::d(2024, 1, 1), "GA")
            .with("bail", testing::d(2024, 1, 5), "GA")
            .with("arrest_executed", testing::d(2024, 2, 1), "GA");
        assert!(in_custody_at(&f, testing::d(2024, 1, 2)));
        assert!(!in_custody_at(&f, testing::d(2024, 1, 20)));
        assert!(in_custody_at(&f, testing::d(2024, 3, 1)));
        assert!(!in_custody_at(&f, testing::d(2023, 12, 31)));
    }
}
