//! `xiezhi supervise`: the rule catalog and a worklist of procedural risks over every stored case.

use std::collections::BTreeMap;

use anyhow::Result;
use xiezhi_store::{SqliteStore, Store};
use xiezhi_supervise::{catalog, evaluate, facts_from_store, DataCalendar, RiskItem};

/// Prints the rule catalog.
pub fn print_catalog() {
    println!("{:<44} {:<4} {:<28} 依据", "规则", "等级", "名称");
    for r in catalog() {
        println!(
            "{:<44} {:<4} {:<28} {}",
            r.id,
            r.severity.name_zh(),
            r.title_zh,
            r.basis.cite()
        );
    }
}

/// Evaluates every stored case as of a date and returns the risk items.
pub fn run(store: &SqliteStore, as_of: chrono::NaiveDate) -> Result<Vec<RiskItem>> {
    let calendar = DataCalendar::shipped()?;
    let last = store.next_ids()?.case;
    let mut items = Vec::new();
    for n in 1..=last {
        if let Some(facts) = facts_from_store(store, &format!("C{n:08}"))? {
            items.extend(evaluate(&facts, as_of, &calendar));
        }
    }
    Ok(items)
}

/// Prints the worklist summary by colour and rule, and the first items with their explanation.
pub fn print_worklist(items: &[RiskItem], show: usize) {
    let mut by_rule: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
    for i in items {
        *by_rule
            .entry((i.severity.name_zh(), i.rule_id, i.title_zh))
            .or_default() += 1;
    }
    println!("风险预警 {} 条：", items.len());
    for ((colour, id, title), n) in &by_rule {
        println!("  [{colour}] {title:<28} {n:>6}  ({id})");
    }
    for i in items.iter().take(show) {
        println!(
            "\n  ▸ [{}] 案件 {} · {} · 期限 {}",
            i.severity.name_zh(),
            i.case_uid,
            i.title_zh,
            i.due
        );
        println!("    依据：{}", i.basis.cite());
        println!("    {}", i.explanation_zh);
    }
}
