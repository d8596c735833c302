//! Printing reports for people.

use anyhow::Result;
use xiezhi_ingest::evaluate::Evaluation;
use xiezhi_ingest::FileReport;
use xiezhi_standard::Entity;
use xiezhi_store::{AnyStore, QuarantineEntry, Store};

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Per-file counts, quarantine reasons, repairs and entity resolution.
pub fn print_reports(reports: &[FileReport], store: &AnyStore) -> Result<()> {
    println!(
        "{:<15} {:>8} {:>8} {:>7} {:>7} {:>6} {:>8} {:>8} {:>10}",
        "来源 source", "读入", "接收", "隔离", "修复", "重复", "完整性", "有效性", "时效(中位天)"
    );
    let mut total = [0i64; 5];
    for r in reports {
        let c = &r.counts;
        println!(
            "{:<15} {:>10} {:>10} {:>9} {:>9} {:>8} {:>11} {:>11} {:>10}",
            r.source,
            c.records_read,
            c.accepted,
            c.quarantined,
            c.repaired,
            c.duplicates,
            pct(r.quality.completeness),
            pct(r.quality.validity),
            r.quality
                .timeliness_median_days
                .map_or("-".into(), |d| d.to_string())
        );
        for (i, n) in [
            c.records_read,
            c.accepted,
            c.quarantined,
            c.repaired,
            c.duplicates,
        ]
        .into_iter()
        .enumerate()
        {
            total[i] += n;
        }
    }
    println!(
        "{:<15} {:>10} {:>10} {:>9} {:>9} {:>8}",
        "合计 total", total[0], total[1], total[2], total[3], total[4]
    );
    let reconciled = reports
        .iter()
        .all(|r| r.counts.records_read == r.counts.accepted + r.counts.quarantined);
    println!(
        "对账：读入 = 接收 + 隔离 {}",
        if reconciled {
            "✓ 全部来源一致"
        } else {
            "✗ 不一致！"
        }
    );
    let mut reasons: std::collections::BTreeMap<&str, i64> = Default::default();
    let mut repairs: std::collections::BTreeMap<&str, i64> = Default::default();
    for r in reports {
        for (k, v) in &r.quarantined_by_rule {
            *reasons.entry(k).or_default() += v;
        }
        for (k, v) in &r.repaired_by_rule {
            *repairs.entry(k).or_default() += v;
        }
    }
    if !reasons.is_empty() {
        println!("\n隔离原因（一条记录可有多条原因）：");
        for (k, v) in &reasons {
            println!("  {k:<34} {v:>7}");
        }
    }
    if !repairs.is_empty() {
        println!("\n自动修复：");
        for (k, v) in &repairs {
            println!("  {k:<34} {v:>7}");
        }
    }
    println!("\n实体归并（来源记录 → 平台实体，按规则）：");
    for (entity, rule, n) in store.link_counts()? {
        let rule_zh = match rule.as_str() {
            "new" => "新建",
            "id_number" => "证件号码一致",
            "name_birth_division" => "姓名+出生日期+户籍地一致",
            "case_number" => "部门案件编号一致",
            "conflict" => "编号冲突待核",
            other => other,
        };
        println!("  {entity:<8} {rule_zh:<24} {n:>8}");
    }
    println!("\n平台实体：");
    for e in Entity::ALL {
        let n = store.count(e)?;
        if n > 0 {
            println!("  {:<10} {:<8} {:>9}", e.name_zh(), e.name(), n);
        }
    }
    Ok(())
}

/// Agreement with ground truth and merge precision/recall.
pub fn print_evaluation(ev: &Evaluation) {
    println!("\n对照真值 (ground truth)：");
    println!(
        "  记录结果一致 {}/{}（未匹配 {}）",
        ev.agreed, ev.records, ev.unmatched
    );
    for (defect, (n, ok)) in &ev.by_defect {
        println!("    {defect:<20} {ok:>7}/{n:<7}");
    }
    for (file, rec, defect, expected, got) in ev.mismatches.iter().take(10) {
        println!("  ✗ {file} 第{rec}条 [{defect}] 应为 {expected}，实为 {got}");
    }
    println!(
        "  人员归并：精确率 {:.4}  召回率 {:.4}（真实同人记录对 {}，判定 {}，正确 {}）",
        ev.persons.precision,
        ev.persons.recall,
        ev.persons.true_pairs,
        ev.persons.predicted_pairs,
        ev.persons.correct_pairs
    );
    println!(
        "  案件归并：精确率 {:.4}  召回率 {:.4}（真实同案记录对 {}，判定 {}，正确 {}）",
        ev.cases.precision,
        ev.cases.recall,
        ev.cases.true_pairs,
        ev.cases.predicted_pairs,
        ev.cases.correct_pairs
    );
}

/// Per-source quality from stored runs, with the store's own reconciliation.
pub fn print_quality(store: &AnyStore) -> Result<()> {
    println!(
        "{:<6} {:<15} {:<28} {:>8} {:>8} {:>7} {:>7}  质量",
        "运行", "来源", "文件", "读入", "接收", "隔离", "修复"
    );
    for r in store.runs()? {
        println!(
            "{:<6} {:<15} {:<28} {:>8} {:>8} {:>7} {:>7}  {}",
            r.run_id,
            r.source,
            r.file,
            r.counts.records_read,
            r.counts.accepted,
            r.counts.quarantined,
            r.counts.repaired,
            r.quality.unwrap_or_default()
        );
    }
    println!("\n当前对账（含已重新接入的隔离记录）：");
    for (source, file, acc, q) in store.source_outcomes()? {
        println!(
            "  {source:<15} {file:<28} 读入 {:>8} = 接收 {acc:>8} + 隔离 {q:>7}",
            acc + q
        );
    }
    Ok(())
}

pub fn print_quarantine_list(entries: &[QuarantineEntry]) {
    println!(
        "{:>6} {:<8} {:<14} {:<28} {:>7}  原因",
        "编号", "状态", "来源", "文件", "记录"
    );
    for e in entries {
        let rules: Vec<&str> = e
            .reasons
            .iter()
            .filter(|r| r.severity == "error")
            .map(|r| r.rule.as_str())
            .collect();
        println!(
            "{:>6} {:<8} {:<14} {:<28} {:>7}  {}",
            e.id,
            e.status,
            e.source,
            e.file,
            e.record_no,
            rules.join(", ")
        );
    }
}

pub fn print_quarantine_entry(e: &QuarantineEntry) {
    println!("隔离记录 {}（{}）", e.id, e.status);
    println!(
        "来源 {}，文件 {} 第{}条（第{}行），接入运行 {}",
        e.source, e.file, e.record_no, e.line, e.run_id
    );
    println!("原因：");
    for r in &e.reasons {
        println!(
            "  - [{}] {} {}：{}（{}）{}",
            r.severity,
            r.field,
            r.rule,
            r.message_zh,
            r.message_en,
            r.value
                .as_ref()
                .map_or(String::new(), |v| format!(" 值 `{v}`"))
        );
    }
    println!("原始字段：");
    for (k, v) in &e.raw {
        println!("  {k} = {v}");
    }
    println!(
        "\n修正后重新接入：xiezhi quarantine retry {} --set 列名=新值",
        e.id
    );
}
