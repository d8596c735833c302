//! 不得假释: no parole for a 累犯, nor for a convict sentenced to ten years or more or to life
//! for 故意杀人, 强奸, 抢劫, 绑架, 放火, 爆炸, 投放危险物质 or organised violence (刑法 第81条第2款).
//! Fires on a `parole_ruled` in a case whose one convict's sentence has the circumstance
//! `recidivist`, or one of those charges with a fixed term of 120 months or more or life.
//! Organised violence is not a charge of its own and is not judged; a case with several
//! execution rows is not judged, since events carry no person.

use chrono::NaiveDate;

use super::{charges_zh, fact, item, sentence_zh, sole_convict, Rule};
use crate::deadline::RestDays;
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "cl-081-parole-exclusion",
    title_zh: "对不得假释的罪犯假释",
    basis: Basis {
        law: "刑法",
        version: "2023",
        article: 81,
        paragraph: Some(2),
        quote: "对累犯以及因故意杀人、强奸、抢劫、绑架、放火、爆炸、投放危险物质或者有组织的暴力性犯罪被判处十年以上有期徒刑、无期徒刑的犯罪分子，不得假释。",
    },
    severity: Severity::Red,
};

/// 故意杀人罪, 强奸罪, 抢劫罪, 绑架罪, 放火罪, 爆炸罪, 投放危险物质罪 (charges.tsv codes).
const VIOLENT: [&str; 7] = [
    "C232.1", "C236.1", "C263.1", "C239.1", "C114.1", "C114.3", "C114.6",
];

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    let Some((_, s)) = sole_convict(facts) else {
        return Vec::new();
    };
    let Some(parole) = facts.events.iter().find(|e| e.kind == "parole_ruled") else {
        return Vec::new();
    };
    let long = match s.principal_penalty.as_deref() {
        Some("fixed_term") => s.term_months.unwrap_or(0) >= 120,
        Some("life" | "death_suspended") => true,
        _ => false,
    };
    let why = if s.circumstances.iter().any(|c| c == "recidivist") {
        "罪犯系累犯".to_string()
    } else if long && s.charges.iter().any(|c| VIOLENT.contains(&c.as_str())) {
        format!("罪犯因{}被判处{}", charges_zh(&s.charges), sentence_zh(s))
    } else {
        return Vec::new();
    };
    vec![item(
        &RULE,
        facts,
        parole.on,
        format!(
            "{}（{}）裁定假释；{}，依{}，不得假释。",
            parole.on,
            parole.org_code,
            why,
            RULE.basis.cite()
        ),
        vec![fact(parole)],
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{d, serving};
    use crate::WeekendsOnly;

    #[test]
    fn a_recidivist_is_not_paroled() {
        let mut f = serving(48, 0).with("parole_ruled", d(2024, 3, 1), "FY2");
        assert!(check(&f, d(2026, 1, 1), &WeekendsOnly).is_empty());
        f.sentences[0].circumstances = vec!["recidivist".into()];
        let items = check(&f, d(2026, 1, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("累犯"));
    }

    #[test]
    fn robbery_from_ten_years_is_not_paroled() {
        let f = |term| {
            let mut f = serving(term, 0).with("parole_ruled", d(2027, 3, 1), "FY2");
            f.sentences[0].charges = vec!["C263.1".into()];
            f
        };
        assert!(check(&f(119), d(2028, 1, 1), &WeekendsOnly).is_empty());
        assert_eq!(check(&f(120), d(2028, 1, 1), &WeekendsOnly).len(), 1);
    }
}
