//! The statute graph's path behind a sentencing finding: charge (the name in force on the
//! offence date) → article → amount threshold → penalty range → starting point →
//! circumstances → interval, every step naming its source file and article
//! (`xiezhi_graph::StatuteGraph::explain_sentence`).
//!
//! The graph explains, it does not judge: the rules decide which cases fire exactly as without
//! it, and only a finding of a rule that holds a term against an interval
//! ([`EXPLAINED_RULES`]) has the path appended to its explanation, so only findings pay for it.
//! The graph is built from the reference texts once per engine run ([`load`]); where they are
//! absent, findings read as they always did.

use chrono::NaiveDate;
use xiezhi_graph::{default_reference_dir, StatuteGraph};
use xiezhi_standard::codes::CodeTable;

use crate::rules::{
    code_zh, detention_range, fixed_term_range, guideline_floor, kind_zh, sentence_day,
    sentence_fact, similar_cases, statutory_band, surveillance_range,
};
use crate::{CaseFacts, RiskItem, SentenceFacts};

/// The rules whose findings judge a declared term against an interval.
pub const EXPLAINED_RULES: [&str; 6] = [
    statutory_band::RULE.id,
    fixed_term_range::RULE.id,
    detention_range::RULE.id,
    surveillance_range::RULE.id,
    guideline_floor::RULE.id,
    similar_cases::RULE.id,
];

/// The standard's circumstance codes (`circumstances.tsv`) and the guideline circumstance
/// (§三, domain-facts §3.3) each one is. `minor` is left out: the code does not say which of
/// the guideline's two age bands applies. 犯罪预备, 犯罪中止 and 胁从犯 have no guideline ratio.
/// 立功 without 重大 is the guideline's 一般立功.
const GUIDELINE_CIRCUMSTANCES: [(&str, &str); 11] = [
    ("elderly", "已满七十五周岁的老年人故意犯罪"),
    ("attempt", "未遂犯"),
    ("accessory", "从犯"),
    ("recidivist", "累犯"),
    ("surrender", "自首"),
    ("confession", "坦白"),
    ("meritorious", "一般立功"),
    ("plea_leniency", "认罪认罚"),
    ("restitution", "退赃、退赔"),
    ("forgiveness", "积极赔偿被害人经济损失并取得谅解"),
    ("prior_record", "前科"),
];

/// The guideline's name for a circumstance code, if the guideline gives it a ratio.
pub fn guideline_name(code: &str) -> Option<&'static str> {
    GUIDELINE_CIRCUMSTANCES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

/// The statute graph of the reference texts, or `None` where they are absent or do not parse
/// (supervision then runs without paths).
pub fn load() -> Option<StatuteGraph> {
    let dir = default_reference_dir();
    if !dir.join("laws").exists() {
        return None;
    }
    StatuteGraph::build(&dir).ok()
}

/// The offence date the path is read on.
#[derive(Debug, Clone)]
pub(crate) struct Offence {
    pub on: NaiveDate,
    /// The kind of the act whose date stands in where the case records no 案发时间.
    pub stand_in: Option<String>,
}

/// The case's 案发时间, else its first recorded act (the offence lies before it), said in a
/// note. Kept per sentence by the cohort rule, so the note is worded only for a finding.
pub(crate) fn offence_day(facts: &CaseFacts) -> Option<Offence> {
    if let Some(on) = facts.occurred_on {
        return Some(Offence { on, stand_in: None });
    }
    let first = facts.events.first()?;
    Some(Offence {
        on: first.on,
        stand_in: Some(first.kind.clone()),
    })
}

/// The path for one sentence, as one paragraph of Chinese text.
pub(crate) fn path_zh(
    graph: &StatuteGraph,
    s: &SentenceFacts,
    offence: &Offence,
    amount_fen: Option<i64>,
) -> String {
    let date = &offence.on;
    let mut names: Vec<&str> = Vec::new();
    let mut outside: Vec<String> = Vec::new();
    for c in &s.circumstances {
        match guideline_name(c) {
            Some(n) => names.push(n),
            None => outside.push(code_zh(CodeTable::Circumstance, c)),
        }
    }
    let joined = s.charges.len() > 1;
    let mut out = String::new();
    for code in &s.charges {
        let charge = code_zh(CodeTable::Charge, code);
        // 数罪并罚: the case's amount cannot be split between the charges.
        let amount = if joined { None } else { amount_fen };
        out.push_str(&format!("【定罪量刑路径：{charge}，行为日期{date}】"));
        match graph.explain_sentence(&charge, *date, amount, &names) {
            Ok(e) => {
                for (i, st) in e.steps.iter().enumerate() {
                    out.push_str(&format!(
                        "（{}）{}：{}（依据：{} {}）",
                        i + 1,
                        st.kind,
                        st.text,
                        st.file,
                        st.article
                    ));
                }
                for n in &e.notes {
                    out.push_str(&format!("注：{n}"));
                }
            }
            Err(msg) => out.push_str(&format!("路径不可得：{msg}。")),
        }
    }
    if let Some(kind) = &offence.stand_in {
        out.push_str(&format!(
            "注：案发时间未记载，以最早的程序节点（{}，{date}）为行为日期。",
            kind_zh(kind)
        ));
    }
    if joined {
        out.push_str("注：数罪并罚，涉案金额不能分属各罪，各罪按本条第一个法定刑幅度说明。");
    }
    if !outside.is_empty() {
        out.push_str(&format!(
            "注：{}不在量刑指导意见第三部分的调节比例中（或未记载年龄段），未计入路径。",
            outside.join("、")
        ));
    }
    out
}

/// Appends the path to each finding of an [`EXPLAINED_RULES`] rule on this case; the finding
/// names the sentence it judged in its first fact line.
pub(crate) fn annotate(items: &mut [RiskItem], facts: &CaseFacts, graph: &StatuteGraph) {
    let mut offence = None;
    for item in items
        .iter_mut()
        .filter(|i| EXPLAINED_RULES.contains(&i.rule_id))
    {
        let Some(s) = facts.sentences.iter().find(|s| {
            sentence_day(facts, s)
                .is_some_and(|d| item.facts_used.first() == Some(&sentence_fact(d, s)))
        }) else {
            continue;
        };
        let Some(day) = offence.get_or_insert_with(|| offence_day(facts)).as_ref() else {
            continue;
        };
        let path = path_zh(graph, s, day, facts.amount_fen);
        item.explanation_zh.push_str(&path);
    }
}
