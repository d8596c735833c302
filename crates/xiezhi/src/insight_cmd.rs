//! `xiezhi train | predict | extract | insight eval`: the insight models on the shared data.

use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use xiezhi_insight::cail::{self, parse_fact};
use xiezhi_insight::extract::{self, IeFormat};
use xiezhi_insight::predict::{Predictor, StatuteSources, TrainConfig};
use xiezhi_insight::search::{SearchDoc, SearchIndex, SearchQuery};
use xiezhi_insight::tagger::Tagger;
use xiezhi_insight::{batch, corpus, data, eval, warning};
use xiezhi_standard::codes::{self, CodeTable};

/// Seed of every split, so figures reproduce.
const SEED: u64 = 2018;
/// Share of each data set held out for evaluation.
const TEST_SHARE: f64 = 0.2;
/// Perceptron passes of the entity tagger.
const TAGGER_EPOCHS: usize = 5;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// cail2018 (charge/article/term predictor) | cail2022 | cail2021 (entity tagger)
    #[arg(long)]
    pub format: String,
    /// Labeled JSON-lines file (default: the shared data set of that format).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Where to write the model (default: <data-dir>/models/<format>.model).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Shared data directory (default: $XIEZHI_SHARED_DATA or ../shared/data).
    #[arg(long)]
    pub shared: Option<PathBuf>,
    /// Reference texts for the statute graph (刑法, 罪名规定, 司法解释; default:
    /// ../reference beside the shared data).
    #[arg(long)]
    pub reference: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BatchArgs {
    /// cail2018 for predict; cail2022 | cail2021 | judgment (`text` field) for extract
    #[arg(long)]
    pub format: String,
    /// Model file (default: <data-dir>/models/<format>.model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Where malformed lines are reported (default: <format>-errors.jsonl).
    #[arg(long)]
    pub errors: Option<PathBuf>,
    /// Add the evidence of each prediction (`explanation`: top features, statute matches).
    #[arg(long)]
    pub explain: bool,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// 案情描述 (the case facts to find similar cases for)
    pub text: String,
    /// 罪名过滤 (charge, with or without 罪)
    #[arg(long)]
    pub charge: Option<String>,
    /// 地区过滤：行政区划代码或名称（文书中须出现该地名）(division code or name)
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub year_from: Option<u64>,
    #[arg(long)]
    pub year_to: Option<u64>,
    /// Minimum term of imprisonment in months.
    #[arg(long)]
    pub term_min: Option<u64>,
    /// Maximum term of imprisonment in months.
    #[arg(long)]
    pub term_max: Option<u64>,
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Index directory (default: <data-dir>/search-index, built by `xiezhi insight index`).
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// Print hits as JSON lines with every part of the score.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum InsightAction {
    /// 建立类案检索索引：CJRC 裁判文书与 CAIL2018 案情 (index the shared judgments and facts)
    Index {
        #[arg(long)]
        shared: Option<PathBuf>,
        /// Index directory (default: <data-dir>/search-index); replaced if it exists.
        #[arg(long)]
        index: Option<PathBuf>,
    },
    /// 检索性能基准：真实+合成文书 (search benchmark on real + synthetic documents)
    Bench {
        #[arg(long)]
        shared: Option<PathBuf>,
        #[arg(long, default_value_t = 100_000)]
        docs: usize,
        #[arg(long, default_value_t = 200)]
        queries: usize,
    },
    /// 案件激增预警：按县×罪名的周立案数，经汇总读取路径 (surge warning over the store's weekly series)
    Warn {
        /// 以名册中的哪个身份读取 (principal id; internal principals only)
        #[arg(long = "as", default_value = "supervisor")]
        principal: String,
        /// 激增真值文件，评估召回、误报与延迟 (default: <data-dir>/export/surge-truth.jsonl if present)
        #[arg(long)]
        truth: Option<PathBuf>,
        /// Alerts to print (highest score first).
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[arg(long)]
        json: bool,
    },
    /// 在共享数据上训练并在留出部分评估 (train on the shared data, report on the held-out part)
    Eval {
        /// Shared data directory (default: $XIEZHI_SHARED_DATA or ../shared/data).
        #[arg(long)]
        shared: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn shared_dir(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .unwrap_or_else(data::shared_data_dir)
}

fn model_path(data_dir: &Path, format: &str, flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.join("models").join(format!("{format}.model")))
}

/// The statute graph and interpretations from the reference texts.
fn statute_sources(reference: &Path) -> Result<StatuteSources> {
    StatuteSources::load(reference)
        .with_context(|| format!("由参考文本 `{}` 建立法条图谱", reference.display()))
}

/// The offence date of an input line: its `offence_date` field (YYYY-MM-DD), if any.
fn offence_date(line: &str) -> Result<Option<chrono::NaiveDate>, String> {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    match v.get("offence_date") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("field `offence_date` is not a date (YYYY-MM-DD): `{s}`")),
        Some(_) => Err("field `offence_date` is not a string".into()),
    }
}

fn ie_format(format: &str) -> Result<IeFormat> {
    IeFormat::parse(format)
        .with_context(|| format!("不支持的格式 `{format}`（可用：cail2022、cail2021）"))
}

fn ie_file(format: IeFormat) -> &'static str {
    match format {
        IeFormat::Cail2022 => "cail2022-ie/train.json",
        IeFormat::Cail2021 => "cail2021-ie/train.json",
    }
}

/// `xiezhi train`.
pub fn train(data_dir: &Path, args: TrainArgs) -> Result<i32> {
    let shared = shared_dir(args.shared.as_deref());
    let out = model_path(data_dir, &args.format, args.out.as_deref());
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let t0 = std::time::Instant::now();
    if args.format == "cail2018" {
        let input = args
            .input
            .unwrap_or_else(|| shared.join("cail2018/train.json"));
        let records = data::read_jsonl(&input, cail::parse_record)?;
        let reference = args
            .reference
            .unwrap_or_else(|| data::reference_dir(&shared));
        let statute = statute_sources(&reference)?;
        let model = Predictor::train(&records, &statute, TrainConfig::default());
        model.save(&out)?;
        println!(
            "已训练罪名/法条/刑期模型：{} 条样本，有标注罪名 {} 个，法条图谱现行罪名 {} 个（均为候选），用时 {:.1} 秒 -> {}",
            records.len(),
            model.charges().len(),
            model.statute().charges.len(),
            t0.elapsed().as_secs_f64(),
            out.display()
        );
    } else {
        let format = ie_format(&args.format)?;
        let input = args.input.unwrap_or_else(|| shared.join(ie_file(format)));
        let examples = data::read_jsonl(&input, |l| extract::parse_example(l, format))?;
        let tagger = Tagger::train(&examples, TAGGER_EPOCHS, SEED);
        let f = std::fs::File::create(&out).with_context(|| format!("写入 `{}`", out.display()))?;
        tagger.write(BufWriter::new(f))?;
        println!(
            "已训练实体抽取模型（{}）：{} 句，标签 {}，用时 {:.1} 秒 -> {}",
            args.format,
            examples.len(),
            tagger.tags.len(),
            t0.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(0)
}

fn run_batch(
    format: &str,
    errors: Option<PathBuf>,
    f: impl FnMut(&str) -> Result<String, String>,
) -> Result<i32> {
    let err_path = errors.unwrap_or_else(|| PathBuf::from(format!("{format}-errors.jsonl")));
    let err_file = std::fs::File::create(&err_path)
        .with_context(|| format!("创建错误文件 `{}`", err_path.display()))?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let s = batch::run(
        BufReader::new(stdin.lock()),
        BufWriter::new(stdout.lock()),
        BufWriter::new(err_file),
        f,
    )?;
    eprintln!(
        "读取 {} 行，输出 {} 行，格式错误 {} 行{}",
        s.read,
        s.written,
        s.failed,
        if s.failed > 0 {
            format!("（逐行记录于 `{}`）", err_path.display())
        } else {
            String::new()
        }
    );
    Ok(if s.failed > 0 { 1 } else { 0 })
}

/// `xiezhi predict --format cail2018`.
pub fn predict(data_dir: &Path, args: BatchArgs) -> Result<i32> {
    if args.format != "cail2018" {
        bail!("不支持的格式 `{}`（可用：cail2018）", args.format);
    }
    let path = model_path(data_dir, &args.format, args.model.as_deref());
    let model = Predictor::load(&path).with_context(|| {
        format!(
            "请先运行 `xiezhi train --format cail2018`（模型 `{}`）",
            path.display()
        )
    })?;
    // With the statute graph at hand, citations name the 罪名规定 version in force on the
    // offence date; without it, today's version kept in the model.
    let reference = data::reference_dir(&data::shared_data_dir());
    let model = match StatuteSources::load(&reference) {
        Ok(s) => model.with_graph(s.graph),
        Err(e) => {
            eprintln!("未能建立法条图谱（{e}），引用按模型中的现行罪名版本");
            model
        }
    };
    let explain = args.explain;
    run_batch(&args.format, args.errors, |line| {
        let fact = parse_fact(line)?;
        let p = match offence_date(line)? {
            Some(d) => model.predict_on(&fact, Some(d), "input"),
            None => model.predict(&fact),
        };
        let mut v = serde_json::to_value(&p.labels).map_err(|e| e.to_string())?;
        if explain {
            v["explanation"] = serde_json::to_value(&p.explanation).map_err(|e| e.to_string())?;
        }
        Ok(v.to_string())
    })
}

/// `xiezhi extract --format cail2022 | cail2021 | judgment`.
pub fn extract(data_dir: &Path, args: BatchArgs) -> Result<i32> {
    if args.format == "judgment" {
        // Whole judgments: the drug-case tagger's entities plus the rule elements.
        let path = model_path(data_dir, "cail2022", args.model.as_deref());
        let file = std::fs::File::open(&path).with_context(|| {
            format!(
                "请先运行 `xiezhi train --format cail2022`（模型 `{}`）",
                path.display()
            )
        })?;
        let tagger = Tagger::read(BufReader::new(file))?;
        return run_batch(&args.format, args.errors, |line| {
            extract::extract_judgment(&tagger, line)
        });
    }
    let format = ie_format(&args.format)?;
    let path = model_path(data_dir, &args.format, args.model.as_deref());
    let file = std::fs::File::open(&path).with_context(|| {
        format!(
            "请先运行 `xiezhi train --format {}`（模型 `{}`）",
            args.format,
            path.display()
        )
    })?;
    let tagger = Tagger::read(BufReader::new(file))?;
    run_batch(&args.format, args.errors, |line| {
        extract::extract_line(&tagger, line, format)
    })
}

fn index_dir(data_dir: &Path, flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.join("search-index"))
}

fn real_docs(shared: &Path) -> Result<Vec<SearchDoc>> {
    let mut docs = corpus::cjrc_docs(&shared.join("judgments/cjrc_dev.json"))?;
    docs.extend(corpus::cail2018_docs(&shared.join("cail2018/train.json"))?);
    Ok(docs)
}

/// Builds `<data-dir>/search-index` for the demo when the shared data are at hand, so `xiezhi
/// search` and `GET /api/v1/search` work after `xiezhi demo`; says so when they are not.
pub fn demo_index(data_dir: &Path) -> Result<()> {
    let shared = data::shared_data_dir();
    if !shared.join("judgments/cjrc_dev.json").exists()
        || !shared.join("cail2018/train.json").exists()
    {
        println!(
            "未找到共享数据 `{}`（可设 XIEZHI_SHARED_DATA），跳过类案检索索引；之后可运行 `xiezhi insight index --shared <目录>`",
            shared.display()
        );
        return Ok(());
    }
    insight(
        data_dir,
        InsightAction::Index {
            shared: Some(shared),
            index: None,
        },
    )
    .map(|_| ())
}

/// `xiezhi search`.
pub fn search(data_dir: &Path, args: SearchArgs) -> Result<i32> {
    let dir = index_dir(data_dir, args.index.as_deref());
    if !dir.join("meta.json").exists() {
        bail!(
            "没有检索索引 `{}`：请先运行 `xiezhi insight index`",
            dir.display()
        );
    }
    let ix = SearchIndex::open(&dir)?;
    let hits = ix.search(&SearchQuery {
        text: args.text,
        charge: args.charge,
        region: args.region,
        year_from: args.year_from,
        year_to: args.year_to,
        term_min: args.term_min,
        term_max: args.term_max,
        limit: args.limit,
        bm25_only: false,
    })?;
    if args.json {
        for h in &hits {
            println!("{}", serde_json::to_string(h)?);
        }
        return Ok(0);
    }
    if hits.is_empty() {
        println!("未找到类案");
    }
    for (i, h) in hits.iter().enumerate() {
        println!(
            "{}. [{}] {} 罪名：{} 年份：{} 刑期：{}  得分 {:.3}（BM25 {:.2}，罪名 +{:.2}，金额 +{:.2}，情节 +{:.2}）",
            i + 1,
            h.id,
            h.title,
            if h.charges.is_empty() { "—".into() } else { h.charges.join("、") },
            h.year.map_or("—".into(), |y| y.to_string()),
            h.term_months.map_or("—".into(), |t| format!("{t}个月")),
            h.score,
            h.bm25,
            h.charge_bonus,
            h.amount_bonus,
            h.circumstance_bonus
        );
        if !h.matched.is_empty() {
            println!("   匹配要素：{}", h.matched.join("；"));
        }
        println!("   {}…", h.snippet);
    }
    Ok(0)
}

/// The planted surges of a synthetic province's `surge-truth.jsonl`, as the detector's truth.
pub fn planted_surges(path: &Path) -> Result<Vec<warning::PlantedSurge>> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let rows = if path
        .file_name()
        .is_some_and(|n| n == xiezhi_synth::surges::FILE)
    {
        xiezhi_synth::surges::read(dir)?
    } else {
        bail!("真值文件应为 `{}`", xiezhi_synth::surges::FILE);
    };
    Ok(rows
        .into_iter()
        .map(|r| warning::PlantedSurge {
            division: r.division,
            charge: r.charge,
            weeks: r
                .weeks
                .iter()
                .filter_map(|w| warning::week_of(w.week_start))
                .collect(),
        })
        .collect())
}

/// `xiezhi insight warn`: alerts over the store's weekly series, scored against planted
/// surges when a truth file is at hand.
fn warn(
    data_dir: &Path,
    principal: &str,
    truth: Option<PathBuf>,
    top: usize,
    json: bool,
) -> Result<i32> {
    let principals = crate::access_cmd::load_principals(data_dir)?;
    let Some(p) = principals.iter().find(|x| x.id() == principal) else {
        bail!("名册中没有身份 `{principal}`");
    };
    let mut store = crate::commands::open_store(data_dir)?;
    let authz = crate::request_cmd::authorizer(data_dir, &mut store)?;
    let ctx = xiezhi_access::RequestContext::new(chrono::Local::now().naive_local());
    let (series, access) =
        xiezhi_server::insight_api::weekly_case_series(&mut store, &authz, p, &ctx)?;
    if access.min_cell.is_some() {
        bail!("预警按周计数，含小于公布阈值的数字，仅供内部身份使用（`{principal}` 只能看到抑制后的汇总）");
    }
    let detector = warning::Detector::default();
    let truth_path = truth.or_else(|| {
        let p = data_dir.join("export").join(xiezhi_synth::surges::FILE);
        p.exists().then_some(p)
    });
    let planted = truth_path.as_deref().map(planted_surges).transpose()?;
    let mut alerts = warning::scan(&series, planted.as_deref(), detector);
    alerts.sort_by(|a, b| b.alert.score.total_cmp(&a.alert.score));
    let report = planted
        .as_deref()
        .map(|t| warning::evaluate_planted(&series, t, detector));
    if json {
        let v = serde_json::json!({"cases_read": access.cases_read, "series": series.len(), "alerts": alerts.iter().take(top).collect::<Vec<_>>(), "evaluation": report});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    println!(
        "案件激增预警：{} 件案件（经汇总读取路径），{} 条 县×罪名 周序列，预警 {} 次；前 {}：",
        access.cases_read,
        series.len(),
        alerts.len(),
        top.min(alerts.len())
    );
    let label = |t: CodeTable, c: &str| {
        codes::table(t)
            .get(c)
            .map_or_else(|| c.to_string(), |e| e.name.clone())
    };
    for a in alerts.iter().take(top) {
        println!(
            "  {} 周：{}（{}）{}：立案 {} 件，基线 {:.1}，尺度 {:.2}，得分 {:.1}{}",
            a.week_start,
            label(CodeTable::Division, &a.division),
            a.division,
            label(CodeTable::Charge, &a.charge),
            a.alert.observed,
            a.alert.baseline,
            a.alert.scale,
            a.alert.score,
            match a.planted {
                Some(true) => "  [植入激增]",
                Some(false) => "  [误报]",
                None => "",
            }
        );
    }
    if let Some(first) = alerts.first() {
        println!("  方法：{}", first.alert.method);
    }
    if let Some(r) = report {
        println!(
            "评估（植入真值 {}）：激增 {} 次，检出 {}，召回 {:.3}；评估 {} 个序列周，误报 {} 次，每千序列周 {:.2}；平均延迟 {:.2} 周",
            truth_path.as_deref().map(|p| p.display().to_string()).unwrap_or_default(),
            r.surges,
            r.detected,
            r.recall,
            r.series_weeks,
            r.false_alarms,
            r.false_alarms_per_1000,
            r.mean_delay_weeks
        );
        for m in &r.missed {
            println!(
                "  漏报：{}（{}）{} 周 {:?}",
                label(CodeTable::Division, &m.division),
                m.division,
                label(CodeTable::Charge, &m.charge),
                m.weeks
            );
        }
    }
    Ok(0)
}

/// `xiezhi insight …`.
pub fn insight(data_dir: &Path, action: InsightAction) -> Result<i32> {
    match action {
        InsightAction::Index { shared, index } => {
            let shared = shared_dir(shared.as_deref());
            let dir = index_dir(data_dir, index.as_deref());
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            let docs = real_docs(&shared)?;
            let t0 = std::time::Instant::now();
            let mut ix = SearchIndex::create(Some(&dir))?;
            ix.add(&docs)?;
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "已建立类案检索索引：{} 篇（CJRC 裁判文书与 CAIL2018 案情），用时 {:.1} 秒（{:.0} 篇/秒）-> {}",
                ix.num_docs(),
                secs,
                docs.len() as f64 / secs,
                dir.display()
            );
            Ok(0)
        }
        InsightAction::Warn {
            principal,
            truth,
            top,
            json,
        } => warn(data_dir, &principal, truth, top, json),
        InsightAction::Bench {
            shared,
            docs,
            queries,
        } => {
            let shared = shared_dir(shared.as_deref());
            let real = real_docs(&shared)?;
            let mut all = real.clone();
            all.extend(corpus::synthetic_docs(
                &real,
                docs.saturating_sub(real.len()),
                SEED,
            ));
            all.truncate(docs);
            let dir = tempfile::tempdir()?;
            let t0 = std::time::Instant::now();
            let mut ix = SearchIndex::create(Some(dir.path()))?;
            ix.add(&all)?;
            let index_secs = t0.elapsed().as_secs_f64();
            let mut rng = xiezhi_insight::linear::SplitMix(SEED);
            let mut lat = Vec::new();
            for _ in 0..queries {
                let d = &real[(rng.next_u64() % real.len() as u64) as usize];
                let text: String = d.text.chars().take(40).collect();
                let t = std::time::Instant::now();
                ix.search(&SearchQuery {
                    text,
                    limit: 10,
                    ..Default::default()
                })?;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat.sort_by(f64::total_cmp);
            let pct =
                |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
            println!(
                "检索基准：{} 篇（真实 {}，合成 {}），建索引 {:.1} 秒（{:.0} 篇/秒）；{} 次查询（40 字案情，前 10 条，含重排），p50 {:.1} ms，p99 {:.1} ms",
                all.len(),
                real.len().min(all.len()),
                all.len().saturating_sub(real.len()),
                index_secs,
                all.len() as f64 / index_secs,
                lat.len(),
                pct(0.5),
                pct(0.99)
            );
            Ok(0)
        }
        InsightAction::Eval { shared, json } => {
            let shared = shared_dir(shared.as_deref());
            let statute = statute_sources(&data::reference_dir(&shared))?;
            let records =
                data::read_jsonl(&shared.join("cail2018/train.json"), cail::parse_record)?;
            let (train, test) = data::split(&records, TEST_SHARE, SEED);
            let (_, pred) =
                eval::evaluate_prediction(&train, &test, &statute, TrainConfig::default());
            let unseen = eval::evaluate_unseen(&records, &eval::UNSEEN_CHECK, &statute);
            let unseen2 = eval::evaluate_unseen(&records, &eval::UNSEEN_SECOND, &statute);
            let mut ext = Vec::new();
            for format in [IeFormat::Cail2022, IeFormat::Cail2021] {
                let name = if format == IeFormat::Cail2022 {
                    "cail2022"
                } else {
                    "cail2021"
                };
                let ex = data::read_jsonl(&shared.join(ie_file(format)), |l| {
                    extract::parse_example(l, format)
                })?;
                let (tr, te) = data::split(&ex, TEST_SHARE, SEED);
                ext.push(eval::evaluate_extraction(name, &tr, &te, TAGGER_EPOCHS).1);
            }
            let docs = real_docs(&shared)?;
            let mut ix = SearchIndex::create(None)?;
            ix.add(&docs)?;
            let judged = corpus::judged(corpus::JUDGED);
            let quality = corpus::search_quality(&ix, &docs, &judged, false)?;
            let baseline = corpus::search_quality(&ix, &docs, &judged, true)?;
            let warn = warning::evaluate_simulated(1000, SEED, warning::Detector::default());
            if json {
                let v = serde_json::json!({"prediction": pred, "unseen_charges": unseen, "unseen_charges_second": unseen2, "extraction": ext, "search": quality, "search_bm25_only": baseline, "early_warning": warn});
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(0);
            }
            println!(
                "== 罪名/法条/刑期预测（CAIL2018 样本，种子 {SEED}，留出 {:.0}%）==",
                TEST_SHARE * 100.0
            );
            println!(
                "训练 {} 条，测试 {} 条；训练用时 {:.1} 秒，预测 {:.0} 条/秒",
                pred.train, pred.test, pred.train_seconds, pred.predict_docs_per_second
            );
            for (name, s) in [
                ("罪名 (charges)", &pred.charges),
                ("法条 (articles)", &pred.articles),
            ] {
                println!(
                    "{name}: 首位准确率 {:.3}，完全一致率 {:.3}，micro-F1 {:.3}，macro-F1 {:.3}",
                    s.top1_accuracy, s.exact_accuracy, s.micro_f1, s.macro_f1
                );
            }
            println!("刑期得分 (CAIL2018 term score): {:.3}", pred.term_score);
            println!(
                "多数类基线 (majority charge): {:.3}；由法条知识决定的比例 {:.3}",
                pred.majority_baseline, pred.statute_decided
            );
            for u in [&unseen, &unseen2] {
                println!(
                    "未见罪名检验（训练中剔除 {}）：{} 条，召回 {:.3}，其中法条图谱决定 {:.3}",
                    u.held_out_charges.join("、"),
                    u.test,
                    u.recall,
                    u.statute_decided
                );
            }
            for e in &ext {
                println!(
                    "== 实体抽取 {}：训练 {} 句，测试 {} 句 == P {:.3} R {:.3} F1 {:.3}；{:.0} 句/秒",
                    e.format, e.train, e.test, e.entities.precision, e.entities.recall, e.entities.f1, e.extract_docs_per_second
                );
                let per: Vec<String> = e
                    .per_label
                    .iter()
                    .map(|(l, f)| format!("{l} {f:.3}"))
                    .collect();
                println!("  各标签 F1: {}", per.join("，"));
            }
            println!(
                "== 类案检索（{} 篇；自建判定集 {} 个查询，{} 个因无相关文书跳过）== P@10 {:.3}，MRR {:.3}，nDCG@10 {:.3}",
                docs.len(),
                quality.queries,
                quality.skipped,
                quality.precision_at_10,
                quality.mrr,
                quality.ndcg_at_10
            );
            println!(
                "  仅 BM25（不重排）：P@10 {:.3}，MRR {:.3}，nDCG@10 {:.3}",
                baseline.precision_at_10, baseline.mrr, baseline.ndcg_at_10
            );
            println!(
                "== 预警（模拟泊松周序列 {} 条，注入激增 {} 次，评估第三年 {} 个序列周）== 召回 {:.3}，每千序列周误报 {:.2}，平均延迟 {:.2} 周",
                warn.series,
                warn.surges,
                warn.weeks_scored,
                warn.recall,
                warn.false_alarms_per_1000,
                warn.mean_delay_weeks
            );
            Ok(0)
        }
    }
}
