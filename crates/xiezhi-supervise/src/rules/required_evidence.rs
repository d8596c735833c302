//! 证据齐备: the evidence a charge's facts need accompanies the case — for 盗窃罪 the value of
//! the stolen goods rests on a valid price proof or an appraisal by a valuation body (盗窃解释
//! 第4条第1项). The `evidence:` rows of `data/required-documents.tsv`; each finding carries its
//! row's basis.
//!
//! Data-presence gate: judged only on cases that carry at least one Evidence row, i.e. whose
//! evidence catalogue is exchanged at all; a case without any is not judged (the synthetic
//! province exports no evidence). A blood-alcohol test for 危险驾驶罪 is not required here: the
//! reference texts carry no provision that names it.

use chrono::NaiveDate;
use xiezhi_standard::codes::CodeTable;

use super::required_documents::{shipped, Need, Requirement};
use super::{code_zh, fact, item, kind_zh, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cpl-required-evidence",
    title_zh: "移送案件缺少必要证据",
    basis: Basis {
        law: "刑事诉讼法",
        version: "2018",
        article: 162,
        paragraph: Some(1),
        quote: "公安机关侦查终结的案件，应当做到犯罪事实清楚，证据确实、充分，并且写出起诉意见书，连同案卷材料、证据一并移送同级人民检察院审查决定",
    },
    severity: Severity::Yellow,
};

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    check_with(shipped(), facts)
}

pub(crate) fn check_with(rows: &[Requirement], facts: &CaseFacts) -> Vec<RiskItem> {
    if facts.evidence.is_empty() {
        return Vec::new();
    }
    let mut items = Vec::new();
    for r in rows.iter().filter(|r| r.applies(facts)) {
        let Need::Evidence { kinds, words } = &r.need else {
            continue;
        };
        let Some(trigger) = facts.events.iter().find(|e| e.kind == r.trigger) else {
            continue;
        };
        let met = facts.evidence.iter().any(|e| {
            kinds.contains(&e.kind.as_str())
                && (words.is_empty() || words.iter().any(|w| e.name.contains(w)))
        });
        if met {
            continue;
        }
        let kinds_zh: Vec<String> = kinds
            .iter()
            .map(|k| code_zh(CodeTable::EvidenceKind, k))
            .collect();
        let words_zh = if words.is_empty() {
            String::new()
        } else {
            format!("（名称含“{}”）", words.join("”或“"))
        };
        let mut it = item(
            &RULE,
            facts,
            trigger.on,
            format!(
                "{}于{}（{}），涉及罪名{}；依{}（“{}”），应有{}{}，案件的{}项证据中未见。",
                kind_zh(&trigger.kind),
                trigger.on,
                trigger.org_code,
                code_zh(CodeTable::Charge, r.charge),
                r.basis.cite(),
                r.basis.quote,
                kinds_zh.join("或"),
                words_zh,
                facts.evidence.len()
            ),
            vec![fact(trigger)],
        );
        it.basis = r.basis;
        items.push(it);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::d;
    use crate::{CaseEvidence, WeekendsOnly};

    fn theft(evidence: &[(&str, &str)]) -> CaseFacts {
        let mut f = CaseFacts::new("C1").with("transferred_for_prosecution", d(2024, 5, 9), "GA1");
        f.charges = vec!["C264.1".into()];
        f.evidence = evidence
            .iter()
            .map(|(k, n)| CaseEvidence {
                kind: k.to_string(),
                name: n.to_string(),
            })
            .collect();
        f
    }

    #[test]
    fn a_theft_needs_a_price_proof_or_appraisal() {
        let as_of = d(2024, 6, 1);
        let items = check(
            &theft(&[("witness_testimony", "证人证言")]),
            as_of,
            &WeekendsOnly,
        );
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].basis.law, "办理盗窃刑事案件适用法律若干问题的解释");
        assert!(items[0].explanation_zh.contains("盗窃罪"));
        let appraised = theft(&[("expert_opinion", "涉案财物价格认定结论书")]);
        assert!(check(&appraised, as_of, &WeekendsOnly).is_empty());
        let receipt = theft(&[("documentary", "购物发票及价格证明")]);
        assert!(check(&receipt, as_of, &WeekendsOnly).is_empty());
        // An expert opinion on something else does not count.
        let other = theft(&[("expert_opinion", "伤情鉴定意见")]);
        assert_eq!(check(&other, as_of, &WeekendsOnly).len(), 1);
    }

    #[test]
    fn no_evidence_catalogue_and_other_charges_are_not_judged() {
        let as_of = d(2024, 6, 1);
        assert!(check(&theft(&[]), as_of, &WeekendsOnly).is_empty());
        let mut fraud = theft(&[("witness_testimony", "证人证言")]);
        fraud.charges = vec!["C266.1".into()];
        assert!(check(&fraud, as_of, &WeekendsOnly).is_empty());
    }
}
