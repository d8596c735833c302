//! 撤销缓刑、假释裁定期限: the court rules within 30 days of receiving the organ's proposal to
//! revoke probation or parole (社区矫正法 第48条; the decision on 收监执行 under 第49条 has the
//! same 30 days). Counted from the `revocation_proposed` act to the first `revocation_ruled`
//! after it, with the CPL's rules (第105条), as the other correction periods are.

use chrono::NaiveDate;

use super::Rule;
use crate::corrections::{act_fact, item, subjects};
use crate::deadline::{deadline, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "sqjz-048-revocation-ruling",
    title_zh: "撤销缓刑、假释建议逾期未裁定",
    basis: Basis {
        law: "社区矫正法",
        version: "2019",
        article: 48,
        paragraph: Some(1),
        quote: "人民法院应当在收到社区矫正机构撤销缓刑、假释建议书后三十日内作出裁定，将裁定书送达社区矫正机构和公安机关，并抄送人民检察院。",
    },
    severity: Severity::Orange,
};

pub fn check(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    for s in subjects(facts) {
        let Some(proposed) = s.first("revocation_proposed") else {
            continue;
        };
        let due = deadline(proposed.at.date(), Period::Days(30), false, calendar);
        let ruled = s
            .acts
            .iter()
            .find(|a| a.kind == "revocation_ruled" && a.at >= proposed.at);
        let head = format!(
            "社区矫正机构于{}提出撤销建议（{}）；依{}，人民法院应在30日内作出裁定，期满日为{due}（期满日为节假日的顺延）。",
            proposed.at.date(),
            proposed.org_code,
            RULE.basis.cite()
        );
        let note = "社区矫正法未规定期间计算方法，参照刑事诉讼法第105条计算。";
        match ruled {
            Some(r) if r.at.date() > due => {
                return vec![item(
                    &RULE,
                    &facts.case_uid,
                    due,
                    format!(
                        "{head}实际于{}裁定（{}），超期{}日。{note}",
                        r.at.date(),
                        r.org_code,
                        (r.at.date() - due).num_days()
                    ),
                    vec![act_fact(proposed), act_fact(r)],
                )]
            }
            None if as_of > due => {
                return vec![item(
                    &RULE,
                    &facts.case_uid,
                    due,
                    format!(
                        "{head}截至{as_of}未见裁定记录，已超期{}日。{note}",
                        (as_of - due).num_days()
                    ),
                    vec![act_fact(proposed), format!("as_of {as_of}")],
                )]
            }
            _ => {}
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, subject};
    use crate::WeekendsOnly;

    fn proposal(ruled: Option<NaiveDate>) -> CaseFacts {
        let mut acts = vec![("revocation_proposed", d(2024, 3, 1), "SJ1", None)];
        acts.extend(ruled.map(|r| ("revocation_ruled", r, "FY1", None)));
        subject(&acts)
    }

    #[test]
    fn thirty_days_then_late_or_missing() {
        // Friday 2024-03-01 + 30 = Sunday 03-31 → Monday 04-01.
        let as_of = d(2024, 6, 1);
        assert!(check(&proposal(Some(d(2024, 4, 1))), as_of, &WeekendsOnly).is_empty());
        assert_eq!(
            check(&proposal(Some(d(2024, 4, 2))), as_of, &WeekendsOnly)[0].due,
            d(2024, 4, 1)
        );
        assert!(check(&proposal(None), d(2024, 4, 1), &WeekendsOnly).is_empty());
        assert_eq!(
            check(&proposal(None), d(2024, 4, 2), &WeekendsOnly).len(),
            1
        );
    }
}
