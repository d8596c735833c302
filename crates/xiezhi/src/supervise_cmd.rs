//! `xiezhi supervise` and `xiezhi risk`: the rule catalog, runs of the engine into the risk
//! worklist, the measurement against the synthetic ground truth, and the lifecycle actions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use xiezhi_store::AnyStore;
use xiezhi_supervise::engine::{evaluate_all, evaluate_changed};
use xiezhi_supervise::lifecycle::{self, Action, RiskRecord, Status, SyncReport};
use xiezhi_supervise::measure::{score, Expected, Scorecard};
use xiezhi_supervise::{catalog, DataCalendar, Severity};

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

/// Evaluates the store as of a date and brings the worklist in line. Incremental (only the
/// cases changed since the last run) when the last run was for the same date, unless `full`.
pub fn run(store: &mut AnyStore, as_of: NaiveDate, full: bool) -> Result<SyncReport> {
    let calendar = DataCalendar::shipped()?;
    let mut report = lifecycle::run(store, as_of, full, &calendar)?;
    let transfers = lifecycle::sync_external(store, unanswered_transfers(store, as_of)?, as_of)?;
    report.findings += transfers.findings;
    report.new += transfers.new;
    report.updated += transfers.updated;
    report.unchanged += transfers.unchanged;
    Ok(report)
}

/// Transfers received and left unanswered past their statutory answer period (审查批捕 7 日 …),
/// as risk records: the exchange finds them, the worklist keeps them.
fn unanswered_transfers(store: &AnyStore, as_of: NaiveDate) -> Result<Vec<RiskRecord>> {
    let end_of_day = as_of.and_hms_opt(23, 59, 59).context("date")?;
    let overdue = xiezhi_exchange::deadline::overdue(store, end_of_day)?;
    Ok(overdue
        .into_iter()
        .map(|u| {
            let basis = format!("《{}》{}", u.basis.law, u.basis.article);
            RiskRecord {
                id: format!("{}:xchg-unanswered:{}", u.case_uid, u.envelope_id),
                case_uid: u.case_uid.clone(),
                rule_id: format!("xchg-unanswered-{}", u.kind.code()),
                title_zh: format!("{}逾期未答复", u.kind.name_zh()),
                basis: basis.clone(),
                basis_quote: u.basis.quote.to_string(),
                severity: Severity::Orange,
                colour: Severity::Orange,
                status: Status::Warned,
                assignee: u.to.clone(),
                due: u.deadline,
                overdue_days: u.days_overdue,
                ongoing: true,
                explanation_zh: format!(
                    "{}（交换件 {}）由 {} 于{}送达 {}；依{}，应在{}内答复，期限自次日起算，期满日为{}。截至{}未见答复，已超期{}日。",
                    u.kind.name_zh(),
                    u.envelope_id,
                    u.from,
                    u.received_on,
                    u.to,
                    basis,
                    u.period.zh(),
                    u.deadline,
                    as_of,
                    u.days_overdue
                ),
                facts_used: vec![
                    format!("transfer_received {} {}", u.received_on, u.to),
                    format!("as_of {as_of}"),
                ],
                first_detected: as_of,
                last_detected: as_of,
                reopened: 0,
                history: Vec::new(),
            }
        })
        .collect())
}

/// Prints what a run changed and the open worklist by colour and rule.
pub fn print_run(report: &SyncReport, store: &AnyStore, show: usize) -> Result<()> {
    println!(
        "{}评估案件 {} 件，发现 {} 项；新增预警 {}，更新 {}，重新预警 {}，未变 {}，数据已不再显示问题 {}",
        if report.incremental {
            "增量"
        } else {
            "全量"
        },
        report.cases_evaluated,
        report.findings,
        report.new,
        report.updated,
        report.reopened,
        report.unchanged,
        report.no_longer_found
    );
    print_worklist(&lifecycle::records(store)?, show);
    Ok(())
}

/// Prints the open worklist summary by colour and rule, and the first items explained.
pub fn print_worklist(records: &[RiskRecord], show: usize) {
    let open: Vec<&RiskRecord> = records.iter().filter(|r| r.status.is_open()).collect();
    let mut by_colour: BTreeMap<Severity, usize> = BTreeMap::new();
    let mut by_rule: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for r in &open {
        *by_colour.entry(r.colour).or_default() += 1;
        *by_rule.entry((&r.rule_id, &r.title_zh)).or_default() += 1;
    }
    let colours: Vec<String> = by_colour
        .iter()
        .map(|(c, n)| format!("{} {n}", c.name_zh()))
        .collect();
    println!("在办风险 {} 项（{}）：", open.len(), colours.join("，"));
    for ((id, title), n) in &by_rule {
        println!("  {title:<28} {n:>6}  ({id})");
    }
    let mut first: Vec<&&RiskRecord> = open.iter().collect();
    first.sort_by_key(|r| (r.colour, std::cmp::Reverse(r.overdue_days), &r.id));
    for r in first.into_iter().take(show) {
        print_record_head(r);
    }
}

fn print_record_head(r: &RiskRecord) {
    println!(
        "\n  ▸ [{}] {} · {} · {} · 期限 {} · 超期 {} 日 · 承办 {}",
        r.colour.name_zh(),
        r.id,
        r.title_zh,
        r.status.name_zh(),
        r.due,
        r.overdue_days,
        r.assignee
    );
    println!("    依据：{}", r.basis);
    println!("    {}", r.explanation_zh);
}

/// Prints one record with its facts and history.
pub fn print_record(r: &RiskRecord) {
    print_record_head(r);
    println!("    法条原文：{}", r.basis_quote);
    println!("    所用事实：{}", r.facts_used.join("；"));
    println!(
        "    首次发现 {}，最近发现 {}，重新预警 {} 次",
        r.first_detected, r.last_detected, r.reopened
    );
    for s in &r.history {
        println!("    {} {:<10} {:<16} {}", s.on, s.action, s.by, s.note);
    }
}

/// Lists stored items, filtered.
pub fn list(
    store: &AnyStore,
    status: Option<&str>,
    colour: Option<&str>,
    rule: Option<&str>,
    limit: usize,
) -> Result<()> {
    let records = lifecycle::records(store)?;
    let shown: Vec<&RiskRecord> = records
        .iter()
        .filter(|r| {
            status.is_none_or(|s| {
                serde_json::to_value(r.status)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    == Some(s.to_string())
                    || r.status.name_zh() == s
            })
        })
        .filter(|r| colour.is_none_or(|c| r.colour.name_zh() == c || colour_en(r.colour) == c))
        .filter(|r| rule.is_none_or(|x| r.rule_id == x))
        .collect();
    println!("共 {} 项（显示前 {}）", shown.len(), limit.min(shown.len()));
    for r in shown.into_iter().take(limit) {
        println!(
            "{:<52} [{}] {:<10} {:<28} 期限 {} 承办 {}",
            r.id,
            r.colour.name_zh(),
            r.status.name_zh(),
            r.title_zh,
            r.due,
            r.assignee
        );
    }
    Ok(())
}

fn colour_en(c: Severity) -> &'static str {
    match c {
        Severity::Red => "red",
        Severity::Orange => "orange",
        Severity::Yellow => "yellow",
        Severity::Blue => "blue",
    }
}

/// Applies a lifecycle action and prints the new state.
pub fn act(store: &mut AnyStore, id: &str, action: Action, by: &str) -> Result<i32> {
    let today = chrono::Local::now().date_naive();
    match lifecycle::act(store, id, &action, by, today) {
        Ok(r) => {
            println!("已记录：{} 现为「{}」", r.id, r.status.name_zh());
            print_record(&r);
            Ok(0)
        }
        Err(e) => {
            eprintln!("操作被拒绝：{e}");
            Ok(2)
        }
    }
}

/// The ground truth of a synthetic export directory, and the police numbers of the cases
/// with a quarantined record (left out of the measurement).
pub fn truth(export: &Path) -> Result<(Vec<Expected>, BTreeSet<String>)> {
    let marks = xiezhi_synth::violations::read(export)
        .with_context(|| format!("无法读取 `{}` 中的监督真值", export.display()))?;
    let police_no: BTreeMap<String, String> = xiezhi_synth::violations::read_case_numbers(export)?
        .into_iter()
        .collect();
    let expected = marks
        .iter()
        .map(|m| Expected {
            police_case_no: m
                .petition_no
                .clone()
                .unwrap_or_else(|| m.police_case_no.clone()),
            rule: m.rule.clone(),
            violation: m.mark == xiezhi_synth::violations::Mark::Violation,
        })
        .collect();
    // Cases with a quarantined record lack facts the rules need: left out.
    let records = xiezhi_synth::truth::read(export)?;
    let excluded = records
        .iter()
        .filter(|r| r.expect == xiezhi_synth::truth::Expect::Quarantined)
        .filter_map(|r| police_no.get(&r.case).cloned())
        .collect();
    Ok((expected, excluded))
}

/// Measures every rule against a synthetic export's ground truth.
pub fn measure(store: &AnyStore, export: &Path, as_of: NaiveDate) -> Result<Scorecard> {
    let (expected, excluded) = truth(export)?;
    let calendar = DataCalendar::shipped()?;
    let findings = evaluate_all(store, as_of, &calendar)?;
    Ok(score(store, &expected, &excluded, &findings.items)?)
}

/// Prints a scorecard; returns whether every measured rule reached recall and precision 1.
pub fn print_scorecard(card: &Scorecard) -> bool {
    println!(
        "评估案件 {} 件（含隔离记录而排除 {} 件，归并拆分排除 {} 件，范围外标注 {} 条）",
        card.scored_cases, card.excluded_cases, card.split_cases, card.marks_out_of_scope
    );
    println!(
        "{:<44} {:>6} {:>6} {:>6} {:>8} {:>8} {:>10}",
        "规则", "植入", "检出", "误报", "召回率", "精确率", "临界未报"
    );
    let mut perfect = true;
    let pct = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{:.3}", v));
    for s in &card.rules {
        perfect &= s.detected == s.planted && s.false_alarms == 0 && s.near_misses_fired == 0;
        println!(
            "{:<44} {:>6} {:>6} {:>6} {:>8} {:>8} {:>5}/{:<4}",
            s.rule,
            s.planted,
            s.detected,
            s.false_alarms,
            pct(s.recall()),
            pct(s.precision()),
            s.near_misses - s.near_misses_fired,
            s.near_misses
        );
        if !s.missed_cases.is_empty() {
            println!("    漏报案件：{}", s.missed_cases.join("、"));
        }
        if !s.false_alarm_cases.is_empty() {
            println!("    误报案件：{}", s.false_alarm_cases.join("、"));
        }
    }
    perfect
}

/// Works the first warned item through 核查, 整改 and 销号, for the demo.
pub fn demo_lifecycle(store: &mut AnyStore, on: NaiveDate) -> Result<()> {
    let Some(first) = lifecycle::records(store)?
        .into_iter()
        .find(|r| r.status == Status::Warned)
    else {
        return Ok(());
    };
    println!(
        "\n风险处置示范：{}（预警 → 核查 → 整改 → 销号，每一步记入账本）",
        first.id
    );
    let steps = [
        (
            Action::Verify {
                confirmed: true,
                reason: "调阅卷宗核查，问题属实".into(),
            },
            "supervisor",
        ),
        (
            Action::Rectify {
                note: "承办机构已书面说明原因并落实整改".into(),
            },
            first.assignee.as_str(),
        ),
        (
            Action::Close {
                note: "整改到位，予以销号".into(),
            },
            "supervisor",
        ),
    ];
    let mut last = first.clone();
    for (action, by) in steps {
        last = lifecycle::act(store, &first.id, &action, by, on)?;
    }
    print_record(&last);
    Ok(())
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat`: the engine is
/// single-threaded, so across a step it is the step's time on one core, whatever else the
/// machine runs. `None` where the file is not there.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// `xiezhi bench supervise`: full evaluation of a synthetic province, then 1 % of the police
/// rows re-sent by the department and only the changed cases evaluated again. Prints wall and
/// CPU time of each step.
pub fn bench(cases: usize, seed: u64) -> Result<i32> {
    use std::time::Instant;
    use xiezhi_ingest::export::{ingest_export, shipped_plans};
    use xiezhi_ingest::{IngestOptions, Ingestor};

    let dir = tempfile::tempdir()?;
    let export = dir.path().join("export");
    let cfg = xiezhi_synth::SynthConfig {
        seed,
        cases,
        ..xiezhi_synth::SynthConfig::default()
    };
    xiezhi_synth::generate(&cfg, &export)?;
    let mut store: AnyStore = Box::new(xiezhi_store::SqliteStore::open(
        &dir.path().join("bench.db"),
    )?);
    let plans = shipped_plans()?;
    let as_of = NaiveDate::from_ymd_opt(2026, 9, 30).context("date")?;
    let opts = IngestOptions {
        as_of: Some(as_of),
        ..IngestOptions::default()
    };
    ingest_export(&mut store, &plans, &export, &opts, &mut |_, _, _| {})?;
    let calendar = DataCalendar::shipped()?;
    println!("bench supervise: cases={cases} seed={seed} as_of={as_of}");

    let t = Instant::now();
    let cpu = cpu_seconds();
    let full = evaluate_all(&store, as_of, &calendar)?;
    let eval_secs = t.elapsed().as_secs_f64();
    let eval_cpu = cpu.zip(cpu_seconds()).map_or(f64::NAN, |(a, b)| b - a);
    let t = Instant::now();
    let first = lifecycle::sync(&mut store, &full, as_of, false)?;
    let sync_secs = t.elapsed().as_secs_f64();
    println!(
        "  full:        {} cases evaluated in {eval_secs:.2} s ({:.0} cases/s; {eval_cpu:.2} s CPU), {} findings; worklist written in {sync_secs:.2} s ({} items, one ledger entry each)",
        full.cases.len(),
        full.cases.len() as f64 / eval_secs,
        full.items.len(),
        first.new
    );

    // The police re-send every hundredth row of their export (GBK lines split on newline
    // bytes, which GBK never uses inside a character).
    let police = plans
        .iter()
        .find(|p| p.source == "police")
        .context("police mapping")?;
    let bytes = std::fs::read(export.join(&police.default_file))?;
    let mut lines = bytes.split_inclusive(|b| *b == b'\n');
    let mut subset: Vec<u8> = lines.next().unwrap_or_default().to_vec();
    for (i, line) in lines.enumerate() {
        if i % 100 == 0 {
            subset.extend_from_slice(line);
        }
    }
    let resend = dir.path().join("police-resend.csv");
    std::fs::write(&resend, &subset)?;
    let cursor = lifecycle::cursor(&store)?.context("cursor")?;
    Ingestor::new(&mut store)?.ingest_file(
        police,
        &resend,
        "police-resend.csv",
        &opts,
        &mut |_, _| {},
    )?;
    let t = Instant::now();
    let cpu = cpu_seconds();
    let changed = evaluate_changed(&store, cursor.ledger_seq, as_of, &calendar)?;
    let inc_secs = t.elapsed().as_secs_f64();
    let inc_cpu = cpu.zip(cpu_seconds()).map_or(f64::NAN, |(a, b)| b - a);
    let t = Instant::now();
    let second = lifecycle::sync(&mut store, &changed, as_of, true)?;
    let inc_sync_secs = t.elapsed().as_secs_f64();
    println!(
        "  incremental: {} changed cases ({:.2} % of stored) found from the ledger and evaluated in {inc_secs:.3} s ({inc_cpu:.2} s CPU); worklist synced in {inc_sync_secs:.3} s (new {}, updated {}, unchanged {})",
        changed.cases.len(),
        100.0 * changed.cases.len() as f64 / full.cases.len().max(1) as f64,
        second.new,
        second.updated,
        second.unchanged
    );
    Ok(0)
}
