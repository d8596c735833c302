//! 认罪认罚无辩护人或值班律师: a suspect who pleads signs the plea (认罪认罚具结书) with a
//! defender or a duty lawyer present (刑事诉讼法 第174条第1款); a suspect without a defender is
//! helped by a duty lawyer (法律援助法 第30条). A sentence with the circumstance `plea_leniency`
//! whose defendant has neither a legal-aid defender (`criminal_defence`) nor a duty lawyer
//! (`duty_lawyer`) granted on record is reported.
//!
//! What the data cannot show: a defender the defendant retained himself is in no export, so
//! a finding asks for the file to be checked (blue), and the explanation says so. This is also
//! the platform's measure of legal-aid reach: persons the law entitles to help who got none on
//! record.

use chrono::NaiveDate;

use super::Rule;
use crate::corrections::item;
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-174-plea-without-counsel",
    title_zh: "认罪认罚案件无辩护人或值班律师在场记录",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 174,
        paragraph: Some(1),
        quote: "犯罪嫌疑人自愿认罪，同意量刑建议和程序适用的，应当在辩护人或者值班律师在场的情况下签署认罪认罚具结书。",
    },
    severity: Severity::Blue,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    for s in &facts.sentences {
        if !s.circumstances.iter().any(|c| c == "plea_leniency") {
            continue;
        }
        let Some(person) = s.person_uid.as_deref() else {
            continue;
        };
        let helped = facts.legal_aid.iter().any(|a| {
            a.person_uid.as_deref() == Some(person)
                && matches!(a.kind.as_str(), "criminal_defence" | "duty_lawyer")
                && a.decision.as_deref() != Some("refused")
        });
        if helped {
            continue;
        }
        let Some(judged) = s.judgment_date else {
            continue;
        };
        return vec![item(
            &RULE,
            &facts.case_uid,
            judged,
            format!(
                "被告人认罪认罚（判决日期{judged}，{}）；依{}，具结书应在辩护人或值班律师在场时签署，没有辩护人的应由值班律师提供法律帮助（《法律援助法》(2021) 第30条）。平台未见该被告人的法律援助辩护或值班律师记录。自行委托的辩护人不在各部门导出数据中，请核查卷宗。",
                s.court_code,
                RULE.basis.cite()
            ),
            vec![format!("sentence {judged} {}", s.court_code)],
        )];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrections::LegalAidFacts;
    use crate::rules::testing::{d, suspended};
    use crate::WeekendsOnly;

    fn plea() -> CaseFacts {
        let mut f = suspended(&["plea_leniency"]);
        f.sentences[0].person_uid = Some("P1".into());
        f
    }

    #[test]
    fn a_plea_needs_a_defender_or_duty_lawyer_on_record() {
        let items = check(&plea(), d(2024, 9, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("请核查卷宗"));
        for (kind, decision, fires) in [
            ("duty_lawyer", "granted", false),
            ("criminal_defence", "granted", false),
            ("duty_lawyer", "refused", true),
            ("consultation", "granted", true),
        ] {
            let mut f = plea();
            f.legal_aid.push(LegalAidFacts {
                person_uid: Some("P1".into()),
                kind: kind.into(),
                decision: Some(decision.into()),
                org_code: "SF1".into(),
                decided: Some(d(2024, 4, 1)),
            });
            assert_eq!(
                !check(&f, d(2024, 9, 1), &WeekendsOnly).is_empty(),
                fires,
                "{kind} {decision}"
            );
        }
        let mut other = plea();
        other.sentences[0].circumstances.clear();
        assert!(check(&other, d(2024, 9, 1), &WeekendsOnly).is_empty());
    }
}
