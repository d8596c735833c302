//! `xiezhi stats`: case statistics from the store through the aggregate read path, as one
//! principal of the registry may see them.

use std::path::Path;

use anyhow::{bail, Result};
use clap::Args;
use xiezhi_access::RequestContext;
use xiezhi_server::insight_api::{case_statistics, parse_dims};

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// 统计维度，逗号分隔：region(=county)、city、province、charge、stage、organ、period、year
    #[arg(long, default_value = "region")]
    pub by: String,
    /// 以名册中的哪个身份统计 (principal id; the public sees suppressed figures)
    #[arg(long = "as", default_value = "public")]
    pub principal: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `xiezhi stats`.
pub fn stats(data: &Path, args: StatsArgs) -> Result<i32> {
    let by = parse_dims(&args.by).map_err(anyhow::Error::msg)?;
    let principals = crate::access_cmd::load_principals(data)?;
    let Some(principal) = principals.iter().find(|p| p.id() == args.principal) else {
        bail!(
            "名册中没有身份 `{}`（可用：{}）",
            args.principal,
            principals
                .iter()
                .map(|p| p.id())
                .collect::<Vec<_>>()
                .join("、")
        );
    };
    let mut store = crate::commands::open_store(data)?;
    let authz = crate::request_cmd::authorizer(data, &mut store)?;
    let ctx = RequestContext::new(chrono::Local::now().naive_local());
    let st = case_statistics(&mut store, &authz, principal, &by, &ctx)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&st)?);
        return Ok(0);
    }
    let r = &st.report;
    println!(
        "案件统计（身份 {}，{} 件案件经汇总读取路径读取，每列的决定已记入账本）",
        args.principal, st.access.cases_read
    );
    for f in &st.access.fields {
        println!("  {}.{}：{}", f.entity.name(), f.field, f.summary_zh);
    }
    if let Some(m) = st.access.min_cell {
        println!("  对外发布：小于 {m} 的格子不予公布（含补充抑制）");
    }
    let header: Vec<&str> = r.by.iter().map(|d| d.name_zh()).collect();
    println!("\n{}\t件数\t占比", header.join("\t"));
    for c in &r.cells {
        let keys: Vec<String> = c
            .keys
            .iter()
            .zip(&c.labels)
            .map(|(k, l)| {
                if k == l {
                    k.clone()
                } else {
                    format!("{l}({k})")
                }
            })
            .collect();
        match (c.count, c.suppressed) {
            (Some(n), _) => println!(
                "{}\t{n}\t{:.1}%",
                keys.join("\t"),
                c.share_pct.unwrap_or_default()
            ),
            (None, Some(why)) => println!(
                "{}\t—\t—\t（{}抑制）",
                keys.join("\t"),
                if why == "primary" { "小格" } else { "补充" }
            ),
            (None, None) => println!("{}\t—\t—", keys.join("\t")),
        }
    }
    println!(
        "合计\t{}",
        r.total
            .map_or("—（不足公布阈值）".into(), |t| t.to_string())
    );
    println!("\n办理时效（法定期限内办结比例为下限：未计节假日顺延）：");
    for t in &r.timeliness {
        match (t.n, t.median_days, t.within_limit_share) {
            (Some(n), Some(m), Some(w)) => println!(
                "  {}：{n} 次，中位 {m:.1} 日，期限 {} 内办结 {:.1}%（{}）",
                t.stage_zh,
                t.limit,
                w * 100.0,
                t.basis
            ),
            (Some(0), _, _) => println!("  {}：无已办结的阶段（{}）", t.stage_zh, t.basis),
            _ => println!("  {}：样本不足公布阈值，不予公布", t.stage_zh),
        }
    }
    println!("\n计算方法：{}", r.method.counting);
    println!("占比：{}；抑制：{}", r.method.share, r.method.suppression);
    Ok(0)
}
