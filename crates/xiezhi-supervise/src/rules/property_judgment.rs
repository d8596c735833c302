//! 财产性判项的审查: a court deciding a commutation or parole must review how the judgment's
//! property penalties were carried out; a convict able to pay is commuted or paroled only after
//! paying (最高法关于办理减刑、假释案件审查财产性判项执行问题的规定, 法释〔2024〕5号, 第1条, 第4条;
//! in force 2024-05-01).
//!
//! Fires on the first `commutation_ruled` or `parole_ruled` from 2024-05-01 of a sole convict
//! whose sentence carries a 罚金 when the case records neither the property judgment carried out
//! (`property_judgment_performed`, 第2条: the enforcing court's closing notice or receipts) nor a
//! finding that the convict cannot pay (`property_inability_found`, 第4条第3款) on or before the
//! ruling. A missing record is the finding: the review 第1条 requires left no trace in the data.
//! Not modelled: 追缴, 退赔, 没收财产 and civil damages, which the sentence row does not carry,
//! and rulings for 重大立功 (第4条第4款).

use chrono::NaiveDate;

use super::{execution_fact, fact, item, sentence_zh, sole_convict, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "fsp24-004-property-judgment",
    title_zh: "减刑、假释未见财产性判项履行审查",
    basis: Basis {
        law: "减刑假释财产性判项规定",
        version: "2024",
        article: 4,
        paragraph: Some(1),
        quote: "罪犯有财产性判项履行能力的，应在履行后方可减刑、假释。",
    },
    severity: Severity::Yellow,
};

/// The day the provisions took effect.
fn in_force() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, 1).unwrap_or(NaiveDate::MIN)
}

const REVIEWED: [&str; 2] = ["property_judgment_performed", "property_inability_found"];

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    let Some((e, s)) = sole_convict(facts) else {
        return Vec::new();
    };
    let Some(fine) = s.fine_fen.filter(|f| *f > 0) else {
        return Vec::new();
    };
    let Some(ruled) = facts.events.iter().find(|x| {
        (x.kind == "commutation_ruled" || x.kind == "parole_ruled") && x.on >= in_force()
    }) else {
        return Vec::new();
    };
    if facts
        .events
        .iter()
        .any(|x| REVIEWED.contains(&x.kind.as_str()) && x.on <= ruled.on)
    {
        return Vec::new();
    }
    let start = e.start.unwrap_or(ruled.on);
    vec![item(
        &RULE,
        facts,
        ruled.on,
        format!(
            "原判{}，并处罚金{}元，自{}起执行；{}（{}）作出{}，此前未见财产性判项执行完毕或确无履行能力的记录。依{}（法释〔2024〕5号，2024年5月1日施行）及第1条，人民法院办理减刑、假释案件必须审查财产性判项的执行情况。",
            sentence_zh(s),
            fine / 100,
            start,
            ruled.on,
            ruled.org_code,
            super::kind_zh(&ruled.kind),
            RULE.basis.cite()
        ),
        vec![fact(ruled), execution_fact(start, e)],
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, serving};
    use crate::WeekendsOnly;

    fn fined(ruled: NaiveDate) -> CaseFacts {
        let mut f = serving(48, 6).with("commutation_ruled", ruled, "FY2");
        f.sentences[0].fine_fen = Some(500_000);
        f
    }

    #[test]
    fn a_ruling_without_the_review_fires_from_the_day_in_force() {
        let at = d(2025, 1, 1);
        let items = check(&fined(d(2024, 5, 1)), at, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("罚金5000元"));
        assert!(check(&fined(d(2024, 4, 30)), at, &WeekendsOnly).is_empty());
    }

    #[test]
    fn payment_or_inability_on_record_before_the_ruling_satisfies_it() {
        let at = d(2025, 1, 1);
        for kind in REVIEWED {
            let paid = fined(d(2024, 9, 1)).with(kind, d(2024, 8, 1), "FY1");
            assert!(check(&paid, at, &WeekendsOnly).is_empty(), "{kind}");
            let late = fined(d(2024, 9, 1)).with(kind, d(2024, 9, 2), "FY1");
            assert_eq!(check(&late, at, &WeekendsOnly).len(), 1, "{kind}");
        }
    }

    #[test]
    fn no_fine_no_finding() {
        let mut f = fined(d(2024, 9, 1));
        f.sentences[0].fine_fen = None;
        assert!(check(&f, d(2025, 1, 1), &WeekendsOnly).is_empty());
    }
}
