//! 量刑建议的采纳: in a case where the defendant pleaded guilty and accepted punishment (认罪认罚),
//! the court generally adopts the procuratorate's charge and sentencing proposal, save five
//! exceptions (刑事诉讼法 第201条第1款); a proposal the court finds clearly improper is for the
//! procuratorate to adjust, and only then, or when it is still clearly improper, does the court
//! decide otherwise (第2款).
//!
//! Fires on a sentence that departs from the latest proposal for the same person made on or
//! before the judgment: another principal penalty, a term outside the proposed range, or a
//! suspended sentence where none was proposed (or none where one was). A departure can be
//! lawful — one of the exceptions, or 第2款 — and the reasons are in the judgment's text, not in
//! the data: the finding names what differs, for the supervisor to read the judgment against.
//! A sentence with no proposal for its person is not judged.

use chrono::NaiveDate;

use super::{code_zh, item, sentence_day, sentence_fact, sentence_zh, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, ProposalFacts, RiskItem, Severity};
use xiezhi_standard::codes::CodeTable;

pub const RULE: Rule = Rule {
    id: "cpl-201-sentencing-proposal",
    title_zh: "认罪认罚案件未采纳量刑建议",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 201,
        paragraph: Some(1),
        quote:
            "对于认罪认罚案件，人民法院依法作出判决时，一般应当采纳人民检察院指控的罪名和量刑建议",
    },
    severity: Severity::Yellow,
};

fn proposal_zh(p: &ProposalFacts) -> String {
    let mut text = p.principal_penalty.as_deref().map_or_else(
        || "主刑不详".to_string(),
        |k| code_zh(CodeTable::PenaltyKind, k),
    );
    match (p.term_min_months, p.term_max_months) {
        (Some(lo), Some(hi)) if lo == hi => text += &format!("{lo}个月"),
        (Some(lo), Some(hi)) => text += &format!("{lo}至{hi}个月"),
        _ => {}
    }
    match p.probation {
        Some(true) => text += "，适用缓刑",
        Some(false) => text += "，不适用缓刑",
        None => {}
    }
    text
}

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    let mut items = Vec::new();
    for s in &facts.sentences {
        let Some(day) = sentence_day(facts, s) else {
            continue;
        };
        let Some(p) = facts
            .proposals
            .iter()
            .filter(|p| p.person_uid.is_some() && p.person_uid == s.person_uid)
            .filter(|p| p.proposed_on.is_some_and(|on| on <= day))
            .max_by_key(|p| p.proposed_on)
        else {
            continue;
        };
        let mut differs = Vec::new();
        if p.principal_penalty.is_some() && p.principal_penalty != s.principal_penalty {
            differs.push("主刑种类不同".to_string());
        } else if let (Some(t), Some(lo), Some(hi)) =
            (s.term_months, p.term_min_months, p.term_max_months)
        {
            if t < lo {
                differs.push(format!("刑期低于建议下限{}个月", lo - t));
            } else if t > hi {
                differs.push(format!("刑期高于建议上限{}个月", t - hi));
            }
        }
        let suspended = s.probation_months.is_some_and(|m| m > 0);
        match p.probation {
            Some(false) if suspended => differs.push("建议不适用缓刑而判处缓刑".to_string()),
            Some(true) if !suspended => differs.push("建议适用缓刑而未判处缓刑".to_string()),
            _ => {}
        }
        if differs.is_empty() {
            continue;
        }
        let proposed_on = p.proposed_on.unwrap_or(day);
        items.push(item(
            &RULE,
            facts,
            day,
            format!(
                "{}（{}）提出量刑建议：{}；{}宣判：{}。{}。依{}，除该款所列情形或者人民检察院调整量刑建议外，人民法院一般应当采纳量刑建议；请核查判决书所述不予采纳的理由。",
                proposed_on,
                p.org_code,
                proposal_zh(p),
                day,
                sentence_zh(s),
                differs.join("；"),
                RULE.basis.cite()
            ),
            vec![
                format!("proposal {proposed_on} {} {}", p.org_code, proposal_zh(p)),
                sentence_fact(day, s),
            ],
        ));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::{SentenceFacts, WeekendsOnly};

    fn case(term: i64, probation: Option<i64>, proposal: (i64, i64, Option<bool>)) -> CaseFacts {
        let mut f = CaseFacts::new("C1");
        f.sentences.push(SentenceFacts {
            person_uid: Some("P1".into()),
            charges: vec!["C264.1".into()],
            principal_penalty: Some("fixed_term".into()),
            term_months: Some(term),
            probation_months: probation,
            judgment_date: Some(d(2024, 5, 6)),
            ..SentenceFacts::default()
        });
        f.proposals.push(ProposalFacts {
            person_uid: Some("P1".into()),
            proposed_on: Some(d(2024, 3, 1)),
            org_code: "JC1".into(),
            principal_penalty: Some("fixed_term".into()),
            term_min_months: Some(proposal.0),
            term_max_months: Some(proposal.1),
            probation: proposal.2,
            ..ProposalFacts::default()
        });
        f
    }

    #[test]
    fn a_term_inside_the_range_is_adopted_and_outside_is_not() {
        let at = d(2024, 6, 1);
        for t in [12, 15, 18] {
            assert!(check(&case(t, None, (12, 18, Some(false))), at, &WeekendsOnly).is_empty());
        }
        let items = check(&case(24, None, (12, 18, Some(false))), at, &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("高于建议上限6个月"));
        assert!(items[0].explanation_zh.contains("12至18个月"));
        assert!(check(&case(11, None, (12, 18, None)), at, &WeekendsOnly)[0]
            .explanation_zh
            .contains("低于建议下限1个月"));
    }

    #[test]
    fn probation_against_the_proposal_is_a_departure() {
        let at = d(2024, 6, 1);
        assert_eq!(
            check(
                &case(12, Some(24), (12, 18, Some(false))),
                at,
                &WeekendsOnly
            )
            .len(),
            1
        );
        assert_eq!(
            check(&case(12, None, (12, 18, Some(true))), at, &WeekendsOnly).len(),
            1
        );
        assert!(check(&case(12, Some(24), (12, 18, Some(true))), at, &WeekendsOnly).is_empty());
    }

    #[test]
    fn the_latest_proposal_before_the_judgment_counts_and_other_persons_do_not() {
        let at = d(2024, 6, 1);
        let mut f = case(24, None, (12, 18, None));
        // Adjusted by the procuratorate (第201条第2款) before the judgment.
        f.proposals.push(ProposalFacts {
            proposed_on: Some(d(2024, 4, 20)),
            term_min_months: Some(20),
            term_max_months: Some(26),
            ..f.proposals[0].clone()
        });
        assert!(check(&f, at, &WeekendsOnly).is_empty());
        let mut other = case(24, None, (12, 18, None));
        other.proposals[0].person_uid = Some("P2".into());
        assert!(check(&other, at, &WeekendsOnly).is_empty());
    }
}
