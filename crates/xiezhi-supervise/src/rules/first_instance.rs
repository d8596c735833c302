//! 一审审限（公诉）: the court pronounces judgment within two months of accepting a public
//! prosecution, at the latest within three months (刑事诉讼法 第208条第1款). Further extensions
//! need the approval of the court one level up (or the SPC); a recorded `trial_extended` means
//! such an approval exists, and this rule then stays silent (the extended limits are not yet
//! modelled). Fires beyond 3 months without `trial_extended`, naming the 2-month base limit.
//! An acceptance after an `appeal` or `protest` is the second instance's
//! ([`second_instance`](super::second_instance)); the shorter 简易/速裁 limits are
//! [`summary_procedure`](super::summary_procedure) and
//! [`fast_track_procedure`](super::fast_track_procedure). Not modelled: restarts after change
//! of jurisdiction or supplementary investigation (第208条第2款、第3款). Custody is read from
//! the latest coercive measure on the day of acceptance.

use chrono::NaiveDate;

use super::{first_instance_acceptances, in_custody_at, LimitCheck, Rule};
use crate::deadline::{deadline, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-208-first-instance",
    title_zh: "一审审理超期",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 208,
        paragraph: Some(1),
        quote: "人民法院审理公诉案件，应当在受理后二个月以内宣判，至迟不得超过三个月。",
    },
    severity: Severity::Orange,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    first_instance_acceptances(facts)
        .filter_map(|start| {
            let from = facts.events[start].on;
            if facts
                .events
                .iter()
                .any(|e| e.kind == "trial_extended" && e.on >= from)
            {
                return None;
            }
            let custody = in_custody_at(facts, from);
            let base = deadline(from, Period::Months(2), custody, calendar);
            LimitCheck {
                rule: &RULE,
                facts,
                start,
                from,
                ends: &["verdict_announced"],
                period: Period::Months(3),
                custody,
                act_zh: "宣判（至迟不超过3个月）",
                same_stage: &["trial_opened"],
                judge_missing: true,
                suspensions: super::CASE_HANDLING,
                note: format!(
                    "审理期限一般为2个月（期满日{base}），未见延长审限（trial_extended）记录。"
                ),
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

    fn case(verdict: NaiveDate) -> CaseFacts {
        // Accepted Wednesday 2024-01-10 + 3 months = Wednesday 2024-04-10.
        CaseFacts::new("C1")
            .with("court_accepted", d(2024, 1, 10), "FY1")
            .with("trial_opened", d(2024, 2, 20), "FY1")
            .with("verdict_announced", verdict, "FY1")
    }

    #[test]
    fn last_day_is_in_time_and_the_next_is_late() {
        let as_of = d(2024, 6, 1);
        assert!(check(&case(d(2024, 4, 10)), as_of, &WeekendsOnly).is_empty());
        let items = check(&case(d(2024, 4, 11)), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 4, 10));
        assert!(items[0].explanation_zh.contains("2024-03-11")); // 2-month base: Sunday 03-10 → Monday
    }

    #[test]
    fn a_suspended_trial_does_not_count() {
        // Ten days suspended: the start moves to 2024-01-20, + 3 months = Saturday 2024-04-20,
        // not in custody → Monday 2024-04-22.
        let suspended = |verdict| {
            case(verdict)
                .with("trial_suspended", d(2024, 2, 1), "FY1")
                .with("trial_resumed", d(2024, 2, 11), "FY1")
        };
        let as_of = d(2024, 6, 1);
        assert!(check(&suspended(d(2024, 4, 22)), as_of, &WeekendsOnly).is_empty());
        let items = check(&suspended(d(2024, 4, 23)), as_of, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].due, d(2024, 4, 22));
        assert!(items[0].explanation_zh.contains("共10日不计入期限"));
        assert!(items[0]
            .facts_used
            .iter()
            .any(|f| f.starts_with("trial_resumed")));
        // Still suspended: the clock has stopped, nothing is late.
        let running = case(d(2024, 5, 30)).with("trial_suspended", d(2024, 2, 1), "FY1");
        assert!(check(&running, as_of, &WeekendsOnly).is_empty());
        // A suspension after the period ran out does not revive it.
        let after = case(d(2024, 5, 30))
            .with("trial_suspended", d(2024, 4, 20), "FY1")
            .with("trial_resumed", d(2024, 5, 10), "FY1");
        assert_eq!(check(&after, as_of, &WeekendsOnly).len(), 1);
    }

    #[test]
    fn an_approved_extension_silences_the_rule() {
        let f = case(d(2024, 5, 20)).with("trial_extended", d(2024, 3, 20), "FY1");
        assert!(check(&f, d(2024, 6, 1), &WeekendsOnly).is_empty());
    }

    #[test]
    fn a_pending_trial_fires_past_the_limit_despite_a_hearing() {
        let f = CaseFacts::new("C1")
            .with("court_accepted", d(2024, 1, 10), "FY1")
            .with("trial_opened", d(2024, 2, 20), "FY1");
        assert!(check(&f, d(2024, 4, 10), &WeekendsOnly).is_empty());
        assert_eq!(check(&f, d(2024, 4, 11), &WeekendsOnly).len(), 1);
    }
}
