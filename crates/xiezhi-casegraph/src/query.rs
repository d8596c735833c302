//! Neighbourhoods and paths, read from the store's graph tables node by node and computed on
//! the subgraph the asker may see (see [`crate::gate`]). Organs are never expanded (every case
//! of an organ is two hops from any other: a link through an organ says nothing), nor is a
//! node with more than [`HUB_EDGES`] edges the asker can see, other than the start; both are
//! returned marked as hubs. Every query, answered or not, is one ledger entry.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use xiezhi_store::{GraphEdge, Store};

use crate::gate::{Gate, QueryContext};
use crate::{EdgeKind, GraphError, NodeKind, Result, Subgraph};

/// Cases one neighbourhood or path query decides at most. Deciding a case (reading its
/// resource, planning four views) is what a query spends its time on once the third hop reaches
/// shared phones and addresses, whose every holder's cases are decided; past the budget a case
/// is treated as not visible and the answer says it may be incomplete.
pub const CASES_PER_QUERY: usize = 1_000;

/// A node with more edges than this is returned but not expanded (a shared switchboard, a
/// hostel address), so one query reads a bounded part of the graph.
pub const HUB_EDGES: usize = 200;

/// Neighbours within `hops` of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighbourQuery {
    /// A node id: `person:<uid>`, `case:<uid>`, …
    pub start: String,
    /// 1 to 3.
    pub hops: u8,
    /// Only edges of these kinds (all when empty).
    #[serde(default)]
    pub kinds: Vec<EdgeKind>,
    /// Only dated edges on or after / before or on these days (`YYYY-MM-DD`); an undated edge
    /// (a person's phone or address) is kept, since it records no event.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Stop adding nodes past this many.
    pub max_nodes: usize,
}

/// A shortest path between two nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathQuery {
    pub from: String,
    pub to: String,
    /// At most this many edges (1 to 8).
    pub max_hops: u8,
    #[serde(default)]
    pub kinds: Vec<EdgeKind>,
    /// Only edges dated in this range (inclusive, `YYYY-MM-DD`), as in [`NeighbourQuery`]; an
    /// undated edge (a person's phone or address) is kept.
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
}

fn kind_ok(kinds: &[EdgeKind], e: &GraphEdge) -> bool {
    kinds.is_empty() || kinds.iter().any(|k| k.as_str() == e.kind)
}

fn date_ok(since: Option<&str>, until: Option<&str>, e: &GraphEdge) -> bool {
    match e.date.as_deref() {
        None => true,
        Some(d) => since.is_none_or(|s| d >= s) && until.is_none_or(|u| d <= u),
    }
}

fn other_end<'e>(e: &'e GraphEdge, n: &str) -> &'e str {
    if e.from == n {
        &e.to
    } else {
        &e.from
    }
}

/// Whether a query may pass through a node (not only end at it): the start always, an organ
/// never, any other node while the asker sees at most [`HUB_EDGES`] of its edges. Only visible
/// edges are counted, so whether a node is left unexpanded says nothing about edges the asker
/// cannot see; the count stops at the first edge over the limit.
fn expandable<S: Store + ?Sized>(
    gate: &mut Gate<'_, S>,
    id: &str,
    edges: &[GraphEdge],
    start: &str,
) -> Result<bool> {
    if id == start {
        return Ok(true);
    }
    if NodeKind::of_id(id) == Some(NodeKind::Organ) {
        return Ok(false);
    }
    if edges.len() <= HUB_EDGES {
        return Ok(true);
    }
    let mut visible = 0;
    for e in edges {
        if gate.edge_visible(e)? {
            visible += 1;
            if visible > HUB_EDGES {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Loads the edges of a frontier and of the nodes at their other ends in two reads (the
/// visibility of a person or identifier at the far end depends on its own edges), instead of
/// one read per node.
fn prefetch_layer<S: Store + ?Sized>(gate: &mut Gate<'_, S>, frontier: &[String]) -> Result<()> {
    gate.prefetch(frontier)?;
    let mut ends = Vec::new();
    for n in frontier {
        let edges = gate.edges(n)?;
        if edges.len() > HUB_EDGES || NodeKind::of_id(n) == Some(NodeKind::Organ) {
            continue;
        }
        for e in &edges {
            let other = other_end(e, n);
            if NodeKind::of_id(other) != Some(NodeKind::Organ) {
                ends.push(other.to_string());
            }
        }
    }
    gate.prefetch(&ends)
}

/// Runs one query through a gate over `store` and appends its ledger entry, whether the query
/// was answered or refused (the entry names the nodes returned, none for a refusal).
fn ledgered<S: Store + ?Sized, Q: Serialize>(
    store: &mut S,
    graph: &str,
    q: &QueryContext<'_>,
    query: &Q,
    case_budget: usize,
    run: impl for<'g> FnOnce(&mut Gate<'g, S>) -> Result<Subgraph>,
) -> Result<Subgraph> {
    let (result, entry) = {
        let mut gate = Gate::new(&*store, graph, q)?;
        gate.limit_cases(case_budget);
        let result = run(&mut gate).map(|mut s| {
            s.undecided_cases = gate.undecided();
            if s.undecided_cases > 0 {
                s.explanation_zh.push_str(&format!(
                    "；已达本次查询的案件判定上限 {case_budget} 件，另有 {} 件案件未判定，按不可见处理，结果可能不完整（可减少跳数，或按关系类型、日期筛选）",
                    s.undecided_cases
                ));
            }
            s
        });
        let (nodes, edges) = match &result {
            Ok(s) => (
                s.nodes.iter().map(|n| n.id.clone()).collect(),
                s.edges.len(),
            ),
            Err(_) => (Vec::new(), 0),
        };
        let entry = gate.entry(serde_json::to_value(query)?, &nodes, edges)?;
        (result, entry)
    };
    store.append_events(&[entry])?;
    result
}

/// The neighbours of `query.start` within `query.hops` hops, as `q.principal` may see them,
/// deciding at most [`CASES_PER_QUERY`] cases.
pub fn neighbours<S: Store + ?Sized>(
    store: &mut S,
    graph: &str,
    q: &QueryContext<'_>,
    query: &NeighbourQuery,
) -> Result<Subgraph> {
    neighbours_within(store, graph, q, query, CASES_PER_QUERY)
}

/// [`neighbours`] deciding at most `case_budget` cases.
pub fn neighbours_within<S: Store + ?Sized>(
    store: &mut S,
    graph: &str,
    q: &QueryContext<'_>,
    query: &NeighbourQuery,
    case_budget: usize,
) -> Result<Subgraph> {
    if !(1..=3).contains(&query.hops) {
        return Err(GraphError::BadQuery("跳数须为 1 至 3".into()));
    }
    ledgered(store, graph, q, query, case_budget, |gate| {
        neighbours_in(gate, query)
    })
}

fn neighbours_in<S: Store + ?Sized>(
    gate: &mut Gate<'_, S>,
    query: &NeighbourQuery,
) -> Result<Subgraph> {
    let start = query.start.as_str();
    if !gate.node_visible(start)? {
        return Err(GraphError::NoNode(start.to_string()));
    }
    let mut order = vec![start.to_string()];
    let mut seen: BTreeSet<String> = order.iter().cloned().collect();
    let mut edges: Vec<GraphEdge> = Vec::new();
    let mut edge_seen: BTreeSet<i64> = BTreeSet::new();
    let mut hubs = BTreeSet::new();
    let mut frontier = vec![start.to_string()];
    let mut truncated = false;
    'hops: for _ in 0..query.hops {
        prefetch_layer(gate, &frontier)?;
        let mut next = Vec::new();
        for n in &frontier {
            let all = gate.edges(n)?;
            if !expandable(gate, n, &all, start)? {
                hubs.insert(n.clone());
                continue;
            }
            for e in all {
                if !kind_ok(&query.kinds, &e)
                    || !date_ok(query.since.as_deref(), query.until.as_deref(), &e)
                    || !gate.edge_visible(&e)?
                {
                    continue;
                }
                let other = other_end(&e, n).to_string();
                if !gate.node_visible(&other)? {
                    continue;
                }
                if !seen.contains(&other) {
                    if seen.len() >= query.max_nodes {
                        truncated = true;
                        break 'hops;
                    }
                    seen.insert(other.clone());
                    order.push(other.clone());
                    next.push(other);
                }
                if edge_seen.insert(e.seq) {
                    edges.push(e);
                }
            }
        }
        frontier = next;
    }
    for n in &frontier {
        if NodeKind::of_id(n) == Some(NodeKind::Organ) {
            hubs.insert(n.clone());
        }
    }
    let nodes = gate.node_views(&order, &hubs)?;
    let edges: Vec<_> = edges.iter().filter_map(Gate::<S>::edge_view).collect();
    let mut explanation = format!(
        "自 {start} 起 {} 跳内可见的节点 {} 个、关系 {} 条；只经由本人有权查看的节点与关系扩展（不可见的节点不显示，也不经由其扩展）；机构节点及可见关系超过 {HUB_EDGES} 条的节点不再扩展",
        query.hops,
        nodes.len(),
        edges.len()
    );
    if truncated {
        explanation.push_str(&format!("；已达节点上限 {}，结果截断", query.max_nodes));
    }
    Ok(Subgraph {
        nodes,
        edges,
        explanation_zh: explanation,
        undecided_cases: 0,
    })
}

/// A shortest path from `query.from` to `query.to` over the edges `q.principal` may see,
/// deciding at most [`CASES_PER_QUERY`] cases. `Ok` with no nodes when there is none within
/// `query.max_hops`.
pub fn path<S: Store + ?Sized>(
    store: &mut S,
    graph: &str,
    q: &QueryContext<'_>,
    query: &PathQuery,
) -> Result<Subgraph> {
    path_within(store, graph, q, query, CASES_PER_QUERY)
}

/// [`path`] deciding at most `case_budget` cases.
pub fn path_within<S: Store + ?Sized>(
    store: &mut S,
    graph: &str,
    q: &QueryContext<'_>,
    query: &PathQuery,
    case_budget: usize,
) -> Result<Subgraph> {
    if !(1..=8).contains(&query.max_hops) {
        return Err(GraphError::BadQuery("最大跳数须为 1 至 8".into()));
    }
    ledgered(store, graph, q, query, case_budget, |gate| {
        path_in(gate, query)
    })
}

/// Bidirectional breadth-first search: the side with the smaller frontier grows by one layer
/// at a time; the first layer in which the two meet gives a shortest path.
fn path_in<S: Store + ?Sized>(gate: &mut Gate<'_, S>, query: &PathQuery) -> Result<Subgraph> {
    for end in [&query.from, &query.to] {
        if !gate.node_visible(end)? {
            return Err(GraphError::NoNode(end.clone()));
        }
    }
    let ends = [query.from.as_str(), query.to.as_str()];
    // Per side: node → the edge it was reached by (none for the end itself).
    let mut parents: [HashMap<String, Option<GraphEdge>>; 2] = [
        HashMap::from([(query.from.clone(), None)]),
        HashMap::from([(query.to.clone(), None)]),
    ];
    let mut frontiers = [vec![query.from.clone()], vec![query.to.clone()]];
    let mut depth = [0u8; 2];
    let mut meet: Option<String> = (query.from == query.to).then(|| query.from.clone());
    while meet.is_none() && depth[0] + depth[1] < query.max_hops {
        let side = if frontiers[0].len() <= frontiers[1].len() {
            0
        } else {
            1
        };
        if frontiers[side].is_empty() {
            break;
        }
        prefetch_layer(gate, &frontiers[side])?;
        let mut next = Vec::new();
        for n in std::mem::take(&mut frontiers[side]) {
            let all = gate.edges(&n)?;
            if !expandable(gate, &n, &all, ends[side])? {
                continue;
            }
            for e in all {
                if !kind_ok(&query.kinds, &e)
                    || !date_ok(query.since.as_deref(), query.until.as_deref(), &e)
                    || !gate.edge_visible(&e)?
                {
                    continue;
                }
                let other = other_end(&e, &n).to_string();
                // A path may end at an organ but not pass through one.
                let through_organ =
                    NodeKind::of_id(&other) == Some(NodeKind::Organ) && other != ends[1 - side];
                if through_organ
                    || parents[side].contains_key(&other)
                    || !gate.node_visible(&other)?
                {
                    continue;
                }
                parents[side].insert(other.clone(), Some(e));
                if parents[1 - side].contains_key(&other) && meet.is_none() {
                    meet = Some(other.clone());
                }
                next.push(other);
            }
        }
        frontiers[side] = next;
        depth[side] += 1;
    }
    let Some(m) = meet else {
        return Ok(Subgraph {
            nodes: Vec::new(),
            edges: Vec::new(),
            explanation_zh: format!(
                "在本人有权查看的节点与关系中，{} 与 {} 之间 {} 跳内没有路径",
                query.from, query.to, query.max_hops
            ),
            undecided_cases: 0,
        });
    };
    // Walk back from the meeting node to each end.
    let half = |side: usize| -> Vec<(String, GraphEdge)> {
        let mut out = Vec::new();
        let mut at = m.clone();
        while let Some(Some(e)) = parents[side].get(&at) {
            let prev = other_end(e, &at).to_string();
            out.push((prev.clone(), e.clone()));
            at = prev;
        }
        out
    };
    let left = half(0);
    let right = half(1);
    let mut ids: Vec<String> = left.iter().rev().map(|(n, _)| n.clone()).collect();
    ids.push(m.clone());
    ids.extend(right.iter().map(|(n, _)| n.clone()));
    let mut path_edges: Vec<GraphEdge> = left.iter().rev().map(|(_, e)| e.clone()).collect();
    path_edges.extend(right.iter().map(|(_, e)| e.clone()));
    let nodes = gate.node_views(&ids, &BTreeSet::new())?;
    let edges: Vec<_> = path_edges.iter().filter_map(Gate::<S>::edge_view).collect();
    let explanation = format!(
        "{} 与 {} 之间的最短路径长 {} 跳（双向广度优先搜索，只经由本人有权查看的节点与关系，不经由机构节点）",
        query.from,
        query.to,
        edges.len()
    );
    Ok(Subgraph {
        nodes,
        edges,
        explanation_zh: explanation,
        undecided_cases: 0,
    })
}
