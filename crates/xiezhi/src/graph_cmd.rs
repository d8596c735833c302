//! `xiezhi graph build | charge | explain | navigate`: the statute graph from the reference texts.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::Subcommand;
use xiezhi_graph::{default_reference_dir, manifest_path, Edge, Node, StatuteGraph};
use xiezhi_store::{GraphEdge, GraphNode, LedgerEvent, Store};

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
        /// Also keep the graph in the store's graph tables as graph `statute` (implied by a
        /// global `--db`).
        #[arg(long)]
        store: bool,
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
    /// 解释量刑区间：罪名→条文→法定刑幅度→量刑起点→情节调节 (explain a sentencing interval by the graph path)
    Explain {
        #[arg(long)]
        charge: String,
        /// Offence date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Amount in yuan (元), for charges judged by amount.
        #[arg(long)]
        amount: Option<String>,
        /// 量刑情节, e.g. 自首 (repeatable).
        #[arg(long = "circumstance")]
        circumstances: Vec<String>,
        #[arg(long)]
        reference: Option<PathBuf>,
    },
    /// 法律导航：条文或罪名及其关联节点 (a node of the statute graph and its neighbours on a date)
    Navigate {
        /// Article number, e.g. 264 or 133-1 (第一百三十三条之一).
        #[arg(long, conflicts_with_all = ["charge", "key"])]
        article: Option<String>,
        #[arg(long, conflicts_with = "key")]
        charge: Option<String>,
        /// A node key as navigate prints it, e.g. threshold:3.
        #[arg(long)]
        key: Option<String>,
        /// Date, YYYY-MM-DD (default: today).
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        reference: Option<PathBuf>,
    },
}

fn parse_date(date: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .with_context(|| format!("--date {date}: 日期格式应为 YYYY-MM-DD"))
}

/// Yuan as typed (`5000`, `5000.50`) into fen.
fn parse_yuan_arg(s: &str) -> Result<i64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        bail!("--amount {s}: 金额应为元，最多两位小数");
    }
    let fen = format!("{frac:0<2}").parse::<i64>().unwrap_or(0);
    Ok(whole.parse::<i64>().context("金额过大")? * 100 + fen)
}

/// The graph name in the store's graph tables.
pub const STORE_GRAPH: &str = "statute";

/// The statute graph as store rows: a node's id is its navigator key (a charge version also
/// carries its first day), its key the source file and article it comes from; an edge's date is
/// the day a charge version took effect or was renamed.
pub fn store_rows(g: &StatuteGraph) -> (Vec<GraphNode>, Vec<GraphEdge>) {
    let ids: Vec<String> = g
        .graph
        .node_indices()
        .map(|n| match &g.graph[n] {
            Node::Charge(i) => format!(
                "charge:{}@{}",
                g.charges[*i].name, g.charges[*i].in_force_from
            ),
            _ => g.view(n).key,
        })
        .collect();
    let nodes = g
        .graph
        .node_indices()
        .map(|n| {
            let p = g.provenance(n);
            GraphNode {
                node: ids[n.index()].clone(),
                kind: node_kind(&g.graph[n]).into(),
                key: format!("{} {}", p.file, p.article),
                case_uid: None,
                source_record_id: None,
            }
        })
        .collect();
    let edges = g
        .graph
        .raw_edges()
        .iter()
        .enumerate()
        .map(|(seq, e)| {
            let date = match (&g.graph[e.source()], e.weight) {
                (Node::Charge(i), Edge::DefinedIn) => Some(g.charges[*i].in_force_from.to_string()),
                (Node::Charge(i), Edge::RenamedTo) => {
                    g.charges[*i].retired_from.map(|d| d.to_string())
                }
                _ => None,
            };
            GraphEdge {
                seq: seq as i64 + 1,
                from: ids[e.source().index()].clone(),
                to: ids[e.target().index()].clone(),
                kind: edge_kind(e.weight).into(),
                date,
                case_uid: None,
                field: None,
                detail: None,
                source_entity: None,
                source_uid: None,
                source_record_id: None,
            }
        })
        .collect();
    (nodes, edges)
}

fn node_kind(n: &Node) -> &'static str {
    match n {
        Node::Source(_) => "source",
        Node::Article(_) => "article",
        Node::Charge(_) => "charge",
        Node::PenaltyRange(_) => "penalty_range",
        Node::Threshold(_) => "threshold",
        Node::StartingPoint(_) => "starting_point",
        Node::Circumstance(_) => "circumstance",
        Node::Deadline(_) => "deadline",
    }
}

fn edge_kind(e: Edge) -> &'static str {
    match e {
        Edge::DefinedIn => "defined_in",
        Edge::From => "from",
        Edge::RenamedTo => "renamed_to",
        Edge::PenaltyOf => "penalty_of",
        Edge::ThresholdOf => "threshold_of",
        Edge::Selects => "selects",
        Edge::StartingPointOf => "starting_point_of",
        Edge::Within => "within",
        Edge::AdjustsBy => "adjusts_by",
    }
}

/// Writes the graph to a staging graph in batches, then publishes it as `statute` with its
/// ledger entry in one transaction.
pub fn persist(g: &StatuteGraph, store: &mut dyn Store) -> Result<(usize, usize)> {
    let (nodes, edges) = store_rows(g);
    let staging = format!("{STORE_GRAPH}.next");
    store.graph_clear(&staging)?;
    for chunk in nodes.chunks(1000) {
        store.graph_write(&staging, chunk, &[])?;
    }
    for chunk in edges.chunks(2000) {
        store.graph_write(&staging, &[], chunk)?;
    }
    let mut body = serde_json::Map::new();
    body.insert("graph".into(), STORE_GRAPH.into());
    body.insert("nodes".into(), nodes.len().into());
    body.insert("edges".into(), edges.len().into());
    body.insert(
        "sources".into(),
        g.sources
            .iter()
            .map(|s| serde_json::json!({"file": s.file, "sha256": s.sha256}))
            .collect::<Vec<_>>()
            .into(),
    );
    let event = LedgerEvent {
        kind: "graph_built".into(),
        entity: None,
        uid: None,
        body,
    };
    store.graph_publish(&staging, STORE_GRAPH, &[event])?;
    Ok((nodes.len(), edges.len()))
}

pub fn graph(action: GraphAction, data: &Path) -> Result<i32> {
    match action {
        GraphAction::Build {
            reference,
            out,
            store,
        } => {
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
            if store || crate::commands::db_given() {
                let mut st = crate::commands::open_store(data)?;
                let (n, e) = persist(&g, st.as_mut())?;
                println!(
                    "已写入数据库 {}：图谱 {STORE_GRAPH}，节点 {n}，边 {e}",
                    crate::commands::store_at(data).display()
                );
            }
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
        GraphAction::Explain {
            charge,
            date,
            amount,
            circumstances,
            reference,
        } => {
            let date = parse_date(&date)?;
            let amount = amount.as_deref().map(parse_yuan_arg).transpose()?;
            let g = StatuteGraph::build(&reference.unwrap_or_else(default_reference_dir))?;
            let names: Vec<&str> = circumstances.iter().map(String::as_str).collect();
            let e = g
                .explain_sentence(&charge, date, amount, &names)
                .map_err(anyhow::Error::msg)?;
            print!("{}", e.render());
        }
        GraphAction::Navigate {
            article,
            charge,
            key,
            date,
            reference,
        } => {
            let date = match date {
                Some(d) => parse_date(&d)?,
                None => chrono::Local::now().date_naive(),
            };
            let g = StatuteGraph::build(&reference.unwrap_or_else(default_reference_dir))?;
            let key = match (article, charge, key) {
                (Some(a), _, _) => format!("article:{a}"),
                (_, Some(c), _) => match g.charge_as_of(&c, date).first() {
                    Some(v) => format!("charge:{}", v.name),
                    None => bail!("{c}：{date} 时无有效罪名（该罪名尚未设立或名称不在罪名规定中）"),
                },
                (_, _, Some(k)) => k,
                _ => bail!("请给出 --article、--charge 或 --key"),
            };
            let n = g
                .find_key(&key)
                .with_context(|| format!("{key}：知识图谱中无此节点"))?;
            let (node, neighbours) = g.navigate(n, date);
            println!(
                "【{}】{}\n  键 {}；依据：{} {}",
                node.kind, node.label, node.key, node.file, node.article
            );
            println!("{} 时有效的关联节点 {} 个：", date, neighbours.len());
            for (rel, v) in neighbours {
                println!("  {rel} →【{}】{}  [{}]", v.kind, v.label, v.key);
            }
        }
    }
    Ok(0)
}
