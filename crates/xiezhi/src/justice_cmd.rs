//! `xiezhi justice`: the justice-administration analyses over the store. `risk` trains the
//! correction subjects' risk model on a synthetic province's labels and reports AUC and
//! calibration on the held-out part; `hotspots` finds space-time surges of mediation cases and
//! petitions and, for a synthetic province, scores them against the planted hot spots.
//!
//! Like the supervision engine, these are the platform's own analyses: they read the rows they
//! need from the store and hand out scores and alerts with their explanations, never rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use xiezhi_insight::correction_risk::{train_and_evaluate, RiskModel, SubjectFeatures};
use xiezhi_insight::hotspots::{self, PlantedHotSpot};
use xiezhi_store::AnyStore;

use crate::commands::open_store;

#[derive(Debug, Subcommand)]
pub enum JusticeAction {
    /// 社区矫正对象风险评估：以合成省份的真值训练，留出部分报告 AUC 与校准 (risk model)
    Risk {
        /// The synthetic export directory (default: the data directory's `export`).
        #[arg(long)]
        export: Option<PathBuf>,
        /// Subjects to print with their score and factors.
        #[arg(long, default_value_t = 3)]
        show: usize,
        #[arg(long)]
        json: bool,
    },
    /// 人民调解与信访热点：按行政区划×月的激增检测，合成省份下报告召回、误报与延迟 (hot spots)
    Hotspots {
        #[arg(long)]
        export: Option<PathBuf>,
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(data: &Path, action: JusticeAction) -> Result<i32> {
    let store = open_store(data)?;
    let export_of = |e: Option<PathBuf>| e.unwrap_or_else(|| data.join("export"));
    match action {
        JusticeAction::Risk { export, show, json } => {
            risk(data, &store, &export_of(export), show, json)
        }
        JusticeAction::Hotspots { export, top, json } => {
            hot_spots(&store, &export_of(export), top, json)
        }
    }
}

fn risk(data: &Path, store: &AnyStore, export: &Path, show: usize, json: bool) -> Result<i32> {
    let labels: BTreeMap<(String, String), bool> = xiezhi_synth::read_risk_truth(export)
        .with_context(|| format!("无法读取 `{}` 中的风险真值", export.display()))?
        .into_iter()
        .map(|t| ((t.court_case_no, t.id_number), t.violated))
        .collect();
    let (mut xs, mut ys, mut unlabelled) = (Vec::new(), Vec::new(), 0);
    for f in xiezhi_supervise::corrections::intake_factors(store, &labels)? {
        let Some(y) = f.label else {
            unlabelled += 1;
            continue;
        };
        xs.push(SubjectFeatures {
            uid: f.uid,
            age: f.age,
            employment: f.employment,
            prior_record: f.prior_record,
            charge: f.charge,
            kind: f.kind,
            report_lag_days: f.report_lag_days,
        });
        ys.push(y);
    }
    anyhow::ensure!(
        !xs.is_empty(),
        "库中没有带真值的社区矫正对象（先接入合成省份）"
    );
    let (model, eval) = train_and_evaluate(&xs, &ys);
    let dir = data.join("models");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("correction-risk.json"),
        serde_json::to_string_pretty(&model)?,
    )?;
    let examples: Vec<_> = xs
        .iter()
        .filter(|x| xiezhi_insight::correction_risk::held_out(&x.uid))
        .take(show)
        .map(|x| model.score(x))
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "evaluation": eval, "model": model, "unlabelled": unlabelled, "examples": examples
            }))?
        );
        return Ok(0);
    }
    println!("社区矫正对象风险评估（{}）", model.method);
    println!(
        "训练 {} 人，留出 {} 人（其中违规 {} 人），无真值 {} 人；留出划分：{}",
        eval.train, eval.held_out, eval.positives_held_out, unlabelled, eval.split
    );
    println!(
        "AUC {:.3}  校准误差 ECE {:.3}  Brier {:.3}",
        eval.auc, eval.ece, eval.brier
    );
    println!("可靠性曲线（预测概率区间：人数、平均预测、实际违规率）：");
    for b in &eval.reliability {
        println!(
            "  [{:.1}, {:.1})  {:>5}  {:.3}  {:.3}",
            b.from, b.to, b.count, b.mean_predicted, b.observed_rate
        );
    }
    print_weights(&model);
    for s in &examples {
        println!(
            "\n对象 {}：违规风险 {:.1}%（{}）",
            s.uid,
            s.probability * 100.0,
            s.band_zh
        );
        for c in &s.factors {
            println!("  {:<16} 权重 {:+.3}", c.name_zh, c.weight);
        }
    }
    Ok(0)
}

fn print_weights(model: &RiskModel) {
    println!("因素权重（对数几率，截距 {:+.3}）：", model.bias);
    for (f, w) in model.factors.iter().zip(&model.weights) {
        println!("  {f:<22} {w:+.3}");
    }
}

/// First year of the monthly series: the synthetic province's mediation register starts in
/// 2023; earlier rows are left out of the series.
const FIRST_YEAR: i32 = 2023;
const MONTHS: usize = 44;

fn hot_spots(store: &AnyStore, export: &Path, top: usize, json: bool) -> Result<i32> {
    let mediation = xiezhi_supervise::hotspot_inputs::mediation(store)?;
    let petitions = xiezhi_supervise::hotspot_inputs::petitions(store)?;
    let series = |rows: &[(chrono::NaiveDate, String, String)]| {
        hotspots::monthly_series(
            FIRST_YEAR,
            MONTHS,
            rows.iter().map(|(d, a, b)| (*d, a.as_str(), b.as_str())),
        )
    };
    let mediation_series = series(&mediation);
    let petition_series = series(&petitions);
    let d = hotspots::DETECTOR;
    let truth: Option<Vec<PlantedHotSpot>> = xiezhi_synth::read_hot_spots(export).ok().map(|t| {
        t.into_iter()
            .map(|h| PlantedHotSpot {
                division: h.division,
                kind: h.dispute_kind,
                months: h
                    .months
                    .iter()
                    .filter_map(|m| hotspots::month_index(FIRST_YEAR, *m))
                    .collect(),
            })
            .collect()
    });
    // Mediation series are scored against the mediation hot spots, petition series against
    // the petition surges (kind `petition`).
    let split = |petition: bool| -> Option<Vec<PlantedHotSpot>> {
        truth.as_ref().map(|t| {
            t.iter()
                .filter(|h| (h.kind == "petition") == petition)
                .cloned()
                .collect()
        })
    };
    let (mediation_truth, petition_truth) = (split(false), split(true));
    let mediation_report = mediation_truth
        .as_deref()
        .map(|t| hotspots::evaluate(FIRST_YEAR, &mediation_series, t, d));
    let petition_report = petition_truth
        .as_deref()
        .map(|t| hotspots::evaluate(FIRST_YEAR, &petition_series, t, d));
    let mut alerts = hotspots::scan(FIRST_YEAR, &mediation_series, mediation_truth.as_deref(), d);
    alerts.extend(hotspots::scan(
        FIRST_YEAR,
        &petition_series,
        petition_truth.as_deref(),
        d,
    ));
    alerts.sort_by(|a, b| b.alert.score.total_cmp(&a.alert.score));
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "evaluation": mediation_report,
                "petition_evaluation": petition_report,
                "alerts": alerts.iter().take(top).collect::<Vec<_>>()
            }))?
        );
        return Ok(0);
    }
    println!(
        "人民调解 {} 件、信访 {} 件，按行政区划×纠纷类型（信访不分类型）×月统计",
        mediation.len(),
        petitions.len()
    );
    for (what, r) in [("人民调解", &mediation_report), ("信访", &petition_report)] {
        if let Some(r) = r {
            println!(
                "{what}：植入热点 {} 个，检出 {}，召回率 {:.3}；误报 {} 个（每千区划·月 {:.2}）；平均检出延迟 {:.2} 月（{} 个序列 × {} 个月）",
                r.planted, r.detected, r.recall, r.false_alarms, r.false_alarms_per_1000, r.mean_delay_months, r.series, r.months_scored
            );
        }
    }
    if let Some(r) = &mediation_report {
        println!("方法：{}", r.method);
    }
    println!("得分最高的 {top} 个预警：");
    for a in alerts.iter().take(top) {
        let mark = match a.planted {
            Some(true) => "（植入）",
            Some(false) => "（误报）",
            None => "",
        };
        println!(
            "  {} {} {}：{} 件，基线 {:.1}，得分 {:.1}{mark}",
            a.division, a.kind, a.month_start, a.alert.observed, a.alert.baseline, a.alert.score
        );
    }
    Ok(0)
}

/// `xiezhi review`: 案件评查 samples, checklists, scores and results.
#[derive(Debug, Subcommand)]
pub enum ReviewAction {
    /// 抽取评查样本：某机关某期间办结的案件，可复现的随机抽样 (draw a reproducible sample)
    Sample {
        /// 机构代码 (org code of a police station, procuratorate, court or corrections organ)
        #[arg(long)]
        organ: String,
        #[arg(long)]
        from: chrono::NaiveDate,
        #[arg(long)]
        to: chrono::NaiveDate,
        #[arg(long, default_value_t = 10)]
        size: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value = "reviewer")]
        by: String,
    },
    /// 查看评查样本与评查表 (show a sample and its checklists)
    Show { id: String },
    /// 评分：逐项给出 符合/不符合/不适用 (score one sampled case, every item)
    Score {
        id: String,
        #[arg(long)]
        case: String,
        /// `rule=conform|nonconform|na[:说明]`, one per checklist item.
        #[arg(long = "item")]
        items: Vec<String>,
        #[arg(long, default_value = "reviewer")]
        by: String,
    },
    /// 评查结果：按机关、按规则 (results per organ and per rule)
    Results,
}

pub fn review_run(data: &Path, action: ReviewAction) -> Result<i32> {
    use xiezhi_supervise::review::{self, Verdict};
    let mut store = open_store(data)?;
    let today = chrono::Local::now().date_naive();
    match action {
        ReviewAction::Sample {
            organ,
            from,
            to,
            size,
            seed,
            by,
        } => {
            let cal = xiezhi_supervise::DataCalendar::shipped()?;
            let s = review::draw(&mut store, &organ, from, to, size, seed, &by, today, &cal)?;
            println!(
                "评查样本 {}：{} 在 {from} 至 {to} 办结 {} 件，抽取 {} 件（{}）",
                s.id,
                s.organ,
                s.population,
                s.cases.len(),
                s.method
            );
            for c in &s.cases {
                println!(
                    "  {}（{}），评查项 {} 个",
                    c.case_uid,
                    c.closed_by,
                    c.checklist.len()
                );
            }
            Ok(0)
        }
        ReviewAction::Show { id } => {
            let s = review::sample(&store, &id)?;
            println!(
                "评查样本 {}（总体 {} 件，{}）",
                s.id, s.population, s.method
            );
            for c in &s.cases {
                let score = c
                    .score
                    .map_or("未评查".to_string(), |v| format!("{v:.1} 分"));
                println!("\n案件 {}（{}）：{score}", c.case_uid, c.closed_by);
                for i in &c.checklist {
                    let v = i.verdict.map_or("待评", Verdict::name_zh);
                    println!("  [{v}] {} {}（{}）", i.rule_id, i.title_zh, i.basis);
                    if let Some(f) = &i.engine_finding {
                        println!("        引擎发现：{f}");
                    }
                }
            }
            Ok(0)
        }
        ReviewAction::Score {
            id,
            case,
            items,
            by,
        } => {
            let mut verdicts = Vec::new();
            for it in &items {
                let (rule, rest) = it
                    .split_once('=')
                    .with_context(|| format!("评查项 `{it}` 应为 规则=结论[:说明]"))?;
                let (v, note) = rest.split_once(':').unwrap_or((rest, ""));
                let v = Verdict::parse(v)
                    .with_context(|| format!("结论 `{v}` 应为 conform、nonconform 或 na"))?;
                verdicts.push((rule.to_string(), v, note.to_string()));
            }
            let c = review::score(&mut store, &id, &case, &verdicts, &by, today)?;
            println!(
                "已记录：案件 {} 评查得分 {:.1}（已入账本）",
                c.case_uid,
                c.score.unwrap_or_default()
            );
            Ok(0)
        }
        ReviewAction::Results => {
            for r in review::results(&store)? {
                let mean = r.mean_score.map_or("—".to_string(), |m| format!("{m:.1}"));
                println!(
                    "{}：样本 {} 个，已评查 {} 件，平均 {mean} 分",
                    r.organ, r.samples, r.reviewed
                );
                for (rule, n) in &r.nonconform_by_rule {
                    println!("    不符合 {rule}：{n} 件");
                }
            }
            Ok(0)
        }
    }
}
