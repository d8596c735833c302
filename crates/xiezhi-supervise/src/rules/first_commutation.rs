//! 减刑起始时间: a fixed-term convict may first be commuted after serving one year of a term
//! under five years, one year and six months of a term of five to ten years, two years of a
//! term of ten years or more, counted from the day the judgment was executed (最高法减刑假释规定
//! (2016) 第6条第1款); a 累犯 sentenced to ten years or less only after two years (第7条第1款).
//! "判决执行之日" is the day the convict was delivered to the executing organ (第40条): the
//! `prison_admission` event, else the execution row's start.
//!
//! The 从严 groups of 第7条第1款 wait two years whatever the term: read from the charges by
//! their article of 刑法 (职务犯罪 第382–419条, 破坏金融管理秩序和金融诈骗 第170–200条, 黑社会性质
//! 组织 第294条, 危害国家安全 第102–113条, 恐怖活动 第120条 and its 之一–之六), and 累犯 from the
//! sentence's circumstances.
//!
//! Fires when the first `commutation_ruled` comes before that earliest day. Judged only on a
//! case with one execution row, since events carry no person. Not modelled: 重大立功, which
//! lifts the limit (第6条第4款); 毒品犯罪集团的首要分子 and 毒品再犯, and the failure to pay a
//! property judgment ([`property_judgment`](super::property_judgment) reports a ruling without
//! its review), which the sentence row does not mark.

use chrono::NaiveDate;

use super::{execution_fact, fact, item, sentence_zh, sole_convict, Rule};
use crate::deadline::{calendar_expiry, Period, RestDays};
use crate::{Basis, CaseFacts, RiskItem, Severity};

pub const RULE: Rule = Rule {
    id: "jx16-006-first-commutation",
    title_zh: "未满减刑起始时间即减刑",
    basis: Basis {
        law: "减刑假释具体应用规定",
        version: "2016",
        article: 6,
        paragraph: Some(1),
        quote: "不满五年有期徒刑的，应当执行一年以上方可减刑；五年以上不满十年有期徒刑的，应当执行一年六个月以上方可减刑；十年以上有期徒刑的，应当执行二年以上方可减刑。",
    },
    severity: Severity::Orange,
};

/// The article of 刑法 a charge code belongs to: `C176.1` → 176, `C120-1.1` → 120.
fn article_of(charge: &str) -> Option<u32> {
    let digits: String = charge
        .strip_prefix('C')?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The 从严 group of 第7条第1款 a charge falls in, by its article.
pub fn strict_group(charges: &[String]) -> Option<&'static str> {
    charges
        .iter()
        .filter_map(|c| article_of(c))
        .find_map(|a| match a {
            102..=113 => Some("危害国家安全犯罪"),
            120 => Some("恐怖活动犯罪"),
            170..=191 => Some("破坏金融管理秩序犯罪"),
            192..=200 => Some("金融诈骗犯罪"),
            294 => Some("黑社会性质组织犯罪"),
            382..=419 => Some("职务犯罪"),
            _ => None,
        })
}

/// The waiting time in months for a fixed term, and the words of the provision applied.
pub(crate) fn waiting_months(term: i64, recidivist: bool, strict: Option<&str>) -> (u32, String) {
    if recidivist {
        (24, "累犯执行二年以上方可减刑（第7条）".to_string())
    } else if let Some(group) = strict {
        (24, format!("{group}罪犯执行二年以上方可减刑（第7条）"))
    } else if term < 60 {
        (
            12,
            "不满五年有期徒刑的，应当执行一年以上方可减刑".to_string(),
        )
    } else if term < 120 {
        (
            18,
            "五年以上不满十年有期徒刑的，应当执行一年六个月以上方可减刑".to_string(),
        )
    } else {
        (
            24,
            "十年以上有期徒刑的，应当执行二年以上方可减刑".to_string(),
        )
    }
}

/// The day the judgment was executed (判决执行之日): the admission to prison, else the start of
/// execution.
pub(crate) fn executed_on(facts: &CaseFacts, start: Option<NaiveDate>) -> Option<NaiveDate> {
    facts
        .events
        .iter()
        .find(|e| e.kind == "prison_admission")
        .map(|e| e.on)
        .or(start)
}

pub fn check(facts: &CaseFacts, _as_of: NaiveDate, _calendar: &dyn RestDays) -> Vec<RiskItem> {
    let Some((e, s)) = sole_convict(facts) else {
        return Vec::new();
    };
    if s.principal_penalty.as_deref() != Some("fixed_term") {
        return Vec::new();
    }
    let (Some(term), Some(from)) = (s.term_months, executed_on(facts, e.start)) else {
        return Vec::new();
    };
    let Some(ruled) = facts.events.iter().find(|x| x.kind == "commutation_ruled") else {
        return Vec::new();
    };
    let recidivist = s.circumstances.iter().any(|c| c == "recidivist");
    let (months, words) = waiting_months(term, recidivist, strict_group(&s.charges));
    let earliest = calendar_expiry(from, Period::Months(months));
    if ruled.on >= earliest {
        return Vec::new();
    }
    vec![item(
        &RULE,
        facts,
        ruled.on,
        format!(
            "原判{}，判决执行之日为{}；依{}，{}，最早可于{}减刑；首次减刑裁定于{}（{}），早于该日{}日。",
            sentence_zh(s),
            from,
            RULE.basis.cite(),
            words,
            earliest,
            ruled.on,
            ruled.org_code,
            (earliest - ruled.on).num_days()
        ),
        vec![execution_fact(from, e), fact(ruled)],
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_groups_follow_the_article() {
        let g = |c: &str| strict_group(&[c.to_string()]);
        assert_eq!(g("C176.1"), Some("破坏金融管理秩序犯罪"));
        assert_eq!(g("C177-1.1"), Some("破坏金融管理秩序犯罪"));
        assert_eq!(g("C192.1"), Some("金融诈骗犯罪"));
        assert_eq!(g("C385.1"), Some("职务犯罪"));
        assert_eq!(g("C120-1.1"), Some("恐怖活动犯罪"));
        assert_eq!(g("C264.1"), None);
        assert_eq!(g("C271.1"), None);
        assert_eq!(g("garbage"), None);
    }

    #[test]
    fn a_strict_group_waits_two_years() {
        let mut f = serving(30, 6).with("commutation_ruled", d(2023, 6, 1), "FY2");
        let plain = check(&f, d(2024, 1, 1), &WeekendsOnly);
        f.sentences[0].charges = vec!["C176.1".into()];
        let strict = check(&f, d(2024, 1, 1), &WeekendsOnly);
        assert_eq!(plain.len() + 1, strict.len());
        assert!(strict[0]
            .explanation_zh
            .contains("破坏金融管理秩序犯罪罪犯执行二年以上"));
    }
    use crate::rules::testing::{d, serving};
    use crate::WeekendsOnly;

    #[test]
    fn one_year_for_a_term_under_five_years() {
        // Admitted 2022-01-05: earliest 2023-01-05.
        let f = |on| serving(48, 6).with("commutation_ruled", on, "FY2");
        assert!(check(&f(d(2023, 1, 5)), d(2026, 1, 1), &WeekendsOnly).is_empty());
        let items = check(&f(d(2023, 1, 4)), d(2026, 1, 1), &WeekendsOnly);
        assert_eq!(items.len(), 1);
        assert!(items[0].explanation_zh.contains("最早可于2023-01-05"));
    }

    #[test]
    fn longer_terms_and_recidivists_wait_longer() {
        let at = |term, on| serving(term, 6).with("commutation_ruled", on, "FY2");
        // Five years: 18 months → 2023-07-05.
        assert_eq!(
            check(&at(60, d(2023, 7, 4)), d(2026, 1, 1), &WeekendsOnly).len(),
            1
        );
        assert!(check(&at(60, d(2023, 7, 5)), d(2026, 1, 1), &WeekendsOnly).is_empty());
        // Ten years: 24 months → 2024-01-05.
        assert_eq!(
            check(&at(120, d(2024, 1, 4)), d(2026, 1, 1), &WeekendsOnly).len(),
            1
        );
        // A recidivist with three years also waits two years.
        let mut r = at(36, d(2023, 6, 1));
        r.sentences[0].circumstances = vec!["recidivist".into()];
        assert!(check(&r, d(2026, 1, 1), &WeekendsOnly)[0]
            .explanation_zh
            .contains("累犯"));
    }

    #[test]
    fn several_convicts_are_not_judged() {
        let mut f = serving(48, 6).with("commutation_ruled", d(2022, 6, 1), "FY2");
        let second = f.executions[0].clone();
        f.executions.push(second);
        assert!(check(&f, d(2026, 1, 1), &WeekendsOnly).is_empty());
    }
}
