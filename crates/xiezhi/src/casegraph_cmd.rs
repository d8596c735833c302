//! `xiezhi graph cases build | neighbours | path | communities | central`: the case graph
//! (案件关系图谱). Every query runs as a principal of the registry (`--as`), sees only what that
//! principal may see, and is one ledger entry.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use xiezhi_access::{Principal, RequestContext};
use xiezhi_casegraph::{
    analyse, build, neighbours, path, EdgeKind, NeighbourQuery, PathQuery, QueryContext, Subgraph,
    CASE_GRAPH,
};

use crate::commands::open_store;
use xiezhi_store::AnyStore;

/// `xiezhi graph`: the statute graph's actions and the case graph's.
#[derive(Subcommand, Debug)]
pub enum GraphCommand {
    /// 案件关系图谱：人员、案件、机构、电话、地址及其关系 (the case graph)
    Cases {
        #[command(subcommand)]
        action: CasesAction,
    },
    #[command(flatten)]
    Statute(crate::graph_cmd::GraphAction),
}

#[derive(Subcommand, Debug)]
pub enum CasesAction {
    /// 由库中数据构建案件关系图谱 (build the case graph into the store's graph tables)
    Build,
    /// 查询 k 跳内的关联节点 (neighbours within k hops)
    Neighbours {
        #[arg(long = "as")]
        principal: String,
        /// Node: `person:<uid>`, `case:<uid>`, or a bare person (P…) or case (C…) uid.
        node: String,
        /// 1 to 3.
        #[arg(long, default_value_t = 2)]
        hops: u8,
        /// Edge kinds to follow (involved_in, handled_by, acted_on, uses_phone, lives_at,
        /// mentions_phone, same_person); all when none.
        #[arg(long = "kind", value_delimiter = ',')]
        kinds: Vec<String>,
        /// Dated edges on or after this day (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Dated edges on or before this day (YYYY-MM-DD).
        #[arg(long)]
        until: Option<String>,
        #[arg(long, default_value_t = 200)]
        max_nodes: usize,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// 查询两个节点之间的最短关系路径 (shortest path between two nodes)
    Path {
        #[arg(long = "as")]
        principal: String,
        from: String,
        to: String,
        #[arg(long, default_value_t = 6)]
        max_hops: u8,
        #[arg(long)]
        json: bool,
    },
    /// 发现团伙（共同作案、共用电话或住址的人员群体）(co-offender communities)
    Communities {
        #[arg(long = "as")]
        principal: String,
        #[arg(long, default_value_t = 3)]
        min_size: usize,
        #[arg(long)]
        json: bool,
    },
    /// 关键人员：度数与介数中心度 (central persons)
    Central {
        #[arg(long = "as")]
        principal: String,
        #[arg(long, default_value_t = 20)]
        top: usize,
        #[arg(long)]
        json: bool,
    },
}

fn node(s: &str) -> String {
    if s.contains(':') {
        s.to_string()
    } else if s.starts_with('C') {
        format!("case:{s}")
    } else {
        format!("person:{s}")
    }
}

fn principal(data: &Path, id: &str) -> Result<Principal> {
    crate::access_cmd::load_principals(data)?
        .into_iter()
        .find(|p| p.id() == id)
        .with_context(|| format!("人员名册中没有 `{id}`（见 xiezhi access principals）"))
}

fn kinds(names: &[String]) -> Result<Vec<EdgeKind>> {
    names
        .iter()
        .map(|n| {
            EdgeKind::parse(n).with_context(|| {
                let all: Vec<&str> = EdgeKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("未知的关系类型 `{n}`，可选：{}", all.join(", "))
            })
        })
        .collect()
}

fn print_subgraph(s: &Subgraph) {
    println!("{}", s.explanation_zh);
    println!("节点：");
    for n in &s.nodes {
        println!(
            "  {:<10} {:<44} {}{}",
            n.kind_zh,
            n.id,
            n.label,
            if n.hub { "（未展开）" } else { "" }
        );
    }
    println!("关系：");
    for e in &s.edges {
        println!(
            "  {} —{}{}→ {}  {}  来源 {} {} 记录 {}",
            e.from,
            e.kind_zh,
            e.detail_zh
                .as_deref()
                .map(|d| format!("（{d}）"))
                .unwrap_or_default(),
            e.to,
            e.date.as_deref().unwrap_or("日期不详"),
            e.source_entity.as_deref().unwrap_or("-"),
            e.source_uid.as_deref().unwrap_or("-"),
            e.source_record_id
                .map_or_else(|| "-".to_string(), |r| r.to_string()),
        );
    }
}

/// The demo's case-graph step: builds the graph of the ingested province and scores community
/// detection against the co-offending groups the generator planted (`co-offending-groups.jsonl`).
/// A true person is the platform person most of his records were resolved to.
pub fn demo(
    store: &mut AnyStore,
    export: &Path,
    truth: &[xiezhi_ingest::evaluate::TruthRow],
    reports: &[xiezhi_ingest::FileReport],
) -> Result<()> {
    let t = Instant::now();
    let stats = build(store, CASE_GRAPH, &mut |_| {})?;
    println!(
        "  构建：案件 {}，人员 {}，机构 {}，电话 {}（案情中提及 {} 次），地址 {}，跨部门记录 {}；节点 {}，关系 {}（{:.1} 秒）",
        stats.cases,
        stats.persons,
        stats.organs,
        stats.phones,
        stats.phones_in_text,
        stats.addresses,
        stats.records,
        stats.nodes,
        stats.edges,
        t.elapsed().as_secs_f64()
    );
    let path = export.join(xiezhi_synth::groups::FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("  （无团伙真值文件 {}，不评估团伙发现）", path.display());
        return Ok(());
    };
    let planted: Vec<xiezhi_synth::groups::GroupTruth> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<std::result::Result<_, _>>()
        .with_context(|| format!("无法读取团伙真值 `{}`", path.display()))?;
    let by_record: std::collections::HashMap<(&str, i64), &str> = truth
        .iter()
        .map(|t| ((t.file.as_str(), t.record), t.person.as_str()))
        .collect();
    let mut votes: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for r in reports {
        for o in &r.outcomes {
            if let (Some(uid), Some(person)) = (
                o.person_uid.as_deref(),
                by_record.get(&(r.file.as_str(), o.record_no)),
            ) {
                *votes.entry(person).or_default().entry(uid).or_default() += 1;
            }
        }
    }
    let uid_of: BTreeMap<&str, &str> = votes
        .into_iter()
        .filter_map(|(p, v)| Some((p, v.into_iter().max_by_key(|(_, n)| *n)?.0)))
        .collect();
    let groups: Vec<Vec<String>> = planted
        .iter()
        .map(|g| {
            g.members
                .iter()
                .filter_map(|m| uid_of.get(m.as_str()))
                .map(|uid| format!("person:{uid}"))
                .collect()
        })
        .filter(|g: &Vec<String>| g.len() >= 2)
        .collect();
    let s = xiezhi_casegraph::analysis::score_stored(&*store, CASE_GRAPH, &groups)?;
    println!(
        "  团伙发现（对照植入的 {} 个共同犯罪团伙）：成对精确率 {:.3}、召回率 {:.3}；最佳匹配精确率 {:.3}、召回率 {:.3}",
        s.groups, s.pair_precision, s.pair_recall, s.match_precision, s.match_recall
    );
    Ok(())
}

/// Runs `xiezhi graph cases …`.
pub fn cases(action: CasesAction, data: &Path) -> Result<i32> {
    let mut store = open_store(data)?;
    if let CasesAction::Build = action {
        let t = Instant::now();
        let stats = build(&mut store, CASE_GRAPH, &mut |_| {})?;
        println!(
            "案件关系图谱已构建：案件 {}，人员 {}，机构 {}，电话 {}（其中案情中提及 {} 次），地址 {}，跨部门记录 {}；节点 {}，关系 {}；用时 {:.1} 秒",
            stats.cases,
            stats.persons,
            stats.organs,
            stats.phones,
            stats.phones_in_text,
            stats.addresses,
            stats.records,
            stats.nodes,
            stats.edges,
            t.elapsed().as_secs_f64()
        );
        return Ok(0);
    }
    let who = match &action {
        CasesAction::Neighbours { principal, .. }
        | CasesAction::Path { principal, .. }
        | CasesAction::Communities { principal, .. }
        | CasesAction::Central { principal, .. } => principal.clone(),
        CasesAction::Build => unreachable!("handled above"),
    };
    let principal = principal(data, &who)?;
    let authz = crate::request_cmd::authorizer(data, &mut store)?;
    let salt = crate::access_cmd::salt(data)?;
    let q = QueryContext {
        authz: &authz,
        salt: &salt,
        principal: &principal,
        ctx: RequestContext::new(chrono::Local::now().naive_local()),
        cache: None,
    };
    match action {
        CasesAction::Build => unreachable!("handled above"),
        CasesAction::Neighbours {
            node: start,
            hops,
            kinds: k,
            since,
            until,
            max_nodes,
            json,
            ..
        } => {
            if !(1..=3).contains(&hops) {
                bail!("--hops 须为 1 至 3");
            }
            let query = NeighbourQuery {
                start: node(&start),
                hops,
                kinds: kinds(&k)?,
                since,
                until,
                max_nodes,
            };
            let s = neighbours(&mut store, CASE_GRAPH, &q, &query)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print_subgraph(&s);
            }
        }
        CasesAction::Path {
            from,
            to,
            max_hops,
            json,
            ..
        } => {
            let query = PathQuery {
                from: node(&from),
                to: node(&to),
                max_hops,
                kinds: Vec::new(),
                since: None,
                until: None,
            };
            let s = path(&mut store, CASE_GRAPH, &q, &query)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print_subgraph(&s);
            }
        }
        CasesAction::Communities { min_size, json, .. } => {
            let a = analyse(&mut store, CASE_GRAPH, &q, min_size, 0)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&a.communities)?);
            } else {
                println!("{}", a.explanation_zh);
                println!("团伙 {} 个（不少于 {min_size} 人）：", a.communities.len());
                for c in &a.communities {
                    let names: Vec<String> = c
                        .members
                        .iter()
                        .map(|m| format!("{}（{}）", m.label, m.id))
                        .collect();
                    println!(
                        "  团伙 {}：{} 人，共同案件 {} 起，关系强度 {:.2}：{}",
                        c.id,
                        c.members.len(),
                        c.shared_cases.len(),
                        c.weight,
                        names.join("、")
                    );
                }
            }
        }
        CasesAction::Central { top, json, .. } => {
            let a = analyse(&mut store, CASE_GRAPH, &q, usize::MAX, top)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&a.central)?);
            } else {
                println!("{}", a.explanation_zh);
                println!("关键人员（按介数、加权度数排序）：");
                for c in &a.central {
                    println!(
                        "  {:<40} {:<10} 关联人员 {:>3}  加权度数 {:>6.2}  介数 {:>8.2}  案件 {}",
                        c.person.id,
                        c.person.label,
                        c.degree,
                        c.weighted_degree,
                        c.betweenness,
                        c.cases
                    );
                }
            }
        }
    }
    Ok(0)
}
