//! 速裁程序审限: a case tried under the fast-track procedure is concluded within ten days of
//! acceptance; when the fixed term that may be imposed exceeds one year, within fifteen days
//! (刑事诉讼法 第225条). The check is [`summary_procedure`](super::summary_procedure)'s, with the
//! court's `fast_track_procedure` act and these limits.

use chrono::NaiveDate;

use super::summary_procedure::{procedure_check, ShortProcedure};
use super::Rule;
use crate::deadline::{Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-225-fast-track-procedure",
    title_zh: "速裁程序审理超期",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 225,
        paragraph: None,
        quote: "适用速裁程序审理案件，人民法院应当在受理后十日以内审结；对可能判处的有期徒刑超过一年的，可以延长至十五日。",
    },
    severity: Severity::Orange,
};

pub(crate) const FAST_TRACK: ShortProcedure = ShortProcedure {
    act: "fast_track_procedure",
    name_zh: "速裁程序",
    base: Period::Days(10),
    longer: Period::Days(15),
    over_months: 12,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    procedure_check(&RULE, &FAST_TRACK, facts, as_of, calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::{SentenceFacts, WeekendsOnly};

    fn tried(verdict: NaiveDate, term: i64, detained: bool) -> CaseFacts {
        let mut f = CaseFacts::new("C1");
        if detained {
            f = f.with("detention", d(2024, 1, 10), "GA1");
        }
        let mut f = f
            .with("court_accepted", d(2024, 3, 4), "FY1")
            .with("fast_track_procedure", d(2024, 3, 4), "FY1")
            .with("verdict_announced", verdict, "FY1");
        f.sentences.push(SentenceFacts {
            principal_penalty: Some("fixed_term".into()),
            term_months: Some(term),
            ..SentenceFacts::default()
        });
        f
    }

    #[test]
    fn ten_days_and_fifteen_above_a_year() {
        // Monday 2024-03-04 + 10 = Thursday 2024-03-14; + 15 = Tuesday 2024-03-19.
        let as_of = d(2024, 9, 1);
        assert!(check(&tried(d(2024, 3, 14), 10, false), as_of, &WeekendsOnly).is_empty());
        assert_eq!(
            check(&tried(d(2024, 3, 15), 10, false), as_of, &WeekendsOnly)[0].due,
            d(2024, 3, 14)
        );
        assert!(check(&tried(d(2024, 3, 19), 13, false), as_of, &WeekendsOnly).is_empty());
        assert_eq!(
            check(&tried(d(2024, 3, 20), 13, false), as_of, &WeekendsOnly)[0].due,
            d(2024, 3, 19)
        );
    }

    #[test]
    fn in_custody_a_weekend_expiry_does_not_move() {
        // Wednesday 2024-03-06 + 10 = Saturday 2024-03-16.
        let mut f = tried(d(2024, 3, 18), 10, true);
        f.events.iter_mut().for_each(|e| {
            if e.kind == "court_accepted" || e.kind == "fast_track_procedure" {
                e.on = d(2024, 3, 6);
            }
        });
        f.events.sort_by_key(|e| e.on);
        assert_eq!(
            check(&f, d(2024, 9, 1), &WeekendsOnly)[0].due,
            d(2024, 3, 16)
        );
        let mut free = f.clone();
        free.events.retain(|e| e.kind != "detention");
        assert!(check(&free, d(2024, 9, 1), &WeekendsOnly).is_empty());
    }
}
