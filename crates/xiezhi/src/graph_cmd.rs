//! `xiezhi graph build | charge`: the statute graph from the reference texts.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::Subcommand;
use xiezhi_graph::{default_reference_dir, manifest_path, StatuteGraph};

#[derive(Subcommand, Debug)]
pub enum GraphAction {
    /// 由法律文本构建定罪量刑知识图谱，写出来源清单 (build the statute graph, write its manifest)
    Build {
        /// Reference directory holding laws/ (default: ../shared/reference).
        #[arg(long)]
        reference: Option<PathBuf>,
        /// Manifest path (default: crates/xiezhi-graph/data/statute-sources.tsv).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 按行为日期查询有效罪名及其条文 (the charge name in force on an offence date)
    Charge {
        #[arg(long)]
        name: String,
        /// Offence date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        #[arg(long)]
        reference: Option<PathBuf>,
    },
}

pub fn graph(action: GraphAction) -> Result<i32> {
    match action {
        GraphAction::Build { reference, out } => {
            let started = Instant::now();
            let g = StatuteGraph::build(&reference.unwrap_or_else(default_reference_dir))?;
            let elapsed = started.elapsed();
            let out = out.unwrap_or_else(manifest_path);
            std::fs::write(&out, g.manifest())
                .with_context(|| format!("写入 {}", out.display()))?;
            println!(
                "知识图谱：条文 {} 条，罪名版本 {} 个（现行 {} 个），节点 {}，边 {}，用时 {:.1} ms；清单 {}",
                g.articles.len(),
                g.charges.len(),
                g.current_charges().count(),
                g.node_count(),
                g.edge_count(),
                elapsed.as_secs_f64() * 1000.0,
                out.display()
            );
        }
        GraphAction::Charge {
            name,
            date,
            reference,
        } => {
            let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                .with_context(|| format!("--date {date}: 日期格式应为 YYYY-MM-DD"))?;
            let g = StatuteGraph::build(&reference.unwrap_or_else(default_reference_dir))?;
            let found = g.charge_as_of(&name, date);
            if found.is_empty() {
                bail!("{name}：{date} 时无有效罪名（该罪名尚未设立或名称不在罪名规定中）");
            }
            for c in found {
                println!("{}", g.cite(c));
                if let Some(a) = g.article_of(c) {
                    println!("  {} {}", a.no.chinese(), a.text);
                }
            }
        }
    }
    Ok(0)
}
