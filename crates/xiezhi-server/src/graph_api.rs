//! The case graph (案件关系图谱) over the API: k-hop neighbourhoods, shortest paths, the node of
//! a case or person, co-offender communities and central persons.
//!
//! Every answer comes from `xiezhi_casegraph`'s own query functions, run for the signed-in
//! principal with the server's compiled-view cache: they decide each case met, return only
//! what the principal may see (masked as in a case read), never expand through a hidden node,
//! and append one `graph_query` ledger entry per query, answered or not. A missing node and a
//! hidden one get the same 404, so an answer never tells whether a hidden node exists.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use xiezhi_access::{Principal, Role};
use xiezhi_casegraph::{
    analyse, neighbours, path, Analysis, EdgeKind, GraphError, NeighbourQuery, NodeView, PathQuery,
    QueryContext, Subgraph, CASE_GRAPH,
};

use crate::api::{require_role, today_ctx};
use crate::auth::Caller;
use crate::error::Problem;
use crate::law_api::query_multi;
use crate::state::AppState;

/// Nodes a neighbourhood returns by default, and at most.
pub const DEFAULT_NODES: usize = 200;
pub const MAX_NODES: usize = 500;

/// Who may ask for communities and central persons: those who investigate (办案人员) and those
/// who supervise (监督人员). The answer is still computed on what each may see; data stewards,
/// administrators, auditors and the public have no investigative need for a person ranking.
pub const ANALYSTS: [Role; 2] = [Role::CaseHandler, Role::Supervisor];

fn first<'a>(q: &'a BTreeMap<String, Vec<String>>, key: &str) -> Option<&'a str> {
    q.get(key)
        .and_then(|v| v.first())
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

/// A node id from `person:<uid>`, `case:<uid>` or a bare case (`C…`) or person uid.
pub fn node_id(s: &str) -> String {
    let s = s.trim();
    if s.contains(':') {
        s.to_string()
    } else if s.starts_with('C') {
        format!("case:{s}")
    } else {
        format!("person:{s}")
    }
}

/// `kinds=involved_in,uses_phone` (or repeated); every name must be an edge kind.
pub fn kinds_of(q: &BTreeMap<String, Vec<String>>) -> Result<Vec<EdgeKind>, Problem> {
    let mut out = Vec::new();
    for name in q
        .get("kinds")
        .into_iter()
        .flatten()
        .flat_map(|v| v.split([',', '，']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let k = EdgeKind::parse(name).ok_or_else(|| {
            let known: Vec<String> = EdgeKind::ALL
                .iter()
                .map(|k| format!("{}（{}）", k.as_str(), k.name_zh()))
                .collect();
            Problem::bad_request(
                "kinds",
                "unknown_value",
                format!("未知的关系类型 `{name}`（可用：{}）", known.join("、")),
            )
        })?;
        if !out.contains(&k) {
            out.push(k);
        }
    }
    Ok(out)
}

/// A `YYYY-MM-DD` parameter, if given.
pub fn day_of(q: &BTreeMap<String, Vec<String>>, key: &str) -> Result<Option<String>, Problem> {
    first(q, key)
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map(|d| d.to_string())
                .map_err(|_| {
                    Problem::bad_request(key, "format", format!("日期应为 YYYY-MM-DD，收到 `{d}`"))
                })
        })
        .transpose()
}

/// A whole-number parameter within `range`, or `default`.
pub fn number_of(
    q: &BTreeMap<String, Vec<String>>,
    key: &str,
    range: std::ops::RangeInclusive<usize>,
    default: usize,
) -> Result<usize, Problem> {
    let Some(raw) = first(q, key) else {
        return Ok(default);
    };
    match raw.parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(Problem::bad_request(
            key,
            "range",
            format!(
                "`{key}` 应为 {} 至 {} 的整数，收到 `{raw}`",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// The crate's errors as problems: a missing or hidden node is one 404.
pub fn graph_problem(e: GraphError) -> Problem {
    match e {
        GraphError::NoNode(id) => Problem::not_found(format!(
            "节点 `{id}` 不存在或无权查看（案件关系图谱中不可见的节点与不存在的节点答复相同）"
        )),
        GraphError::BadQuery(m) => Problem::bad_request("query", "range", m),
        other => Problem::internal(&other),
    }
}

/// Runs a casegraph query for `principal` on the writer connection (the query appends its own
/// ledger entry there, in the one sequence every other write uses), with the server's views.
pub fn with_graph<T>(
    state: &AppState,
    principal: &Principal,
    f: impl FnOnce(&mut xiezhi_store::AnyStore, &QueryContext<'_>) -> Result<T, GraphError>,
) -> Result<T, Problem> {
    let authz = state.authz()?;
    let q = QueryContext {
        authz: &authz,
        salt: &state.salt,
        principal,
        ctx: today_ctx(),
        cache: Some((&state.views, &authz)),
    };
    let mut store = state.store()?;
    f(&mut store, &q).map_err(graph_problem)
}

/// The neighbourhood query of `node`, `hops`, `kinds`, `from`, `to`, `max_nodes`.
pub fn neighbour_query(q: &BTreeMap<String, Vec<String>>) -> Result<NeighbourQuery, Problem> {
    let start = first(q, "node")
        .map(node_id)
        .ok_or_else(|| Problem::bad_request("node", "missing_field", "缺少节点 `node`"))?;
    Ok(NeighbourQuery {
        start,
        hops: number_of(q, "hops", 1..=3, 1)? as u8,
        kinds: kinds_of(q)?,
        since: day_of(q, "from")?,
        until: day_of(q, "to")?,
        max_nodes: number_of(q, "max_nodes", 1..=MAX_NODES, DEFAULT_NODES)?,
    })
}

/// The path query of `from`, `to`, `kinds`, `max_hops`, `since`, `until` (the edge dates; `from`
/// and `to` are the ends here).
pub fn path_query(q: &BTreeMap<String, Vec<String>>) -> Result<PathQuery, Problem> {
    let end = |k: &str| {
        first(q, k)
            .map(node_id)
            .ok_or_else(|| Problem::bad_request(k, "missing_field", format!("缺少节点 `{k}`")))
    };
    Ok(PathQuery {
        from: end("from")?,
        to: end("to")?,
        max_hops: number_of(q, "max_hops", 1..=8, 6)? as u8,
        kinds: kinds_of(q)?,
        since: day_of(q, "since")?,
        until: day_of(q, "until")?,
    })
}

/// Neighbours of a node for a principal (one ledger entry).
pub fn neighbours_for(
    state: &AppState,
    principal: &Principal,
    query: &NeighbourQuery,
) -> Result<Subgraph, Problem> {
    with_graph(state, principal, |store, q| {
        neighbours(store, CASE_GRAPH, q, query)
    })
}

/// A shortest path for a principal (one ledger entry).
pub fn path_for(
    state: &AppState,
    principal: &Principal,
    query: &PathQuery,
) -> Result<Subgraph, Problem> {
    with_graph(state, principal, |store, q| {
        path(store, CASE_GRAPH, q, query)
    })
}

/// A node as the principal may see it: the start of a one-node neighbourhood (the crate's
/// query path decides, masks and ledgers it like any other query).
pub fn node_for(state: &AppState, principal: &Principal, id: &str) -> Result<NodeDoc, Problem> {
    let query = NeighbourQuery {
        start: id.to_string(),
        hops: 1,
        kinds: Vec::new(),
        since: None,
        until: None,
        max_nodes: 1,
    };
    let s = neighbours_for(state, principal, &query)?;
    let node = s
        .nodes
        .into_iter()
        .next()
        .ok_or_else(|| graph_problem(GraphError::NoNode(id.to_string())))?;
    Ok(NodeDoc {
        link: format!("/graph?node={}", node.id),
        node,
    })
}

/// Communities and central persons for an analyst (one ledger entry).
pub fn analysis_for(
    state: &AppState,
    caller: &Caller,
    min_size: usize,
    top: usize,
) -> Result<Analysis, Problem> {
    require_role(caller, &ANALYSTS, "团伙与关键人员分析")?;
    with_graph(state, &caller.principal, |store, q| {
        analyse(store, CASE_GRAPH, q, min_size, top)
    })
}

/// A node found for the caller, with the link chart page that draws it.
#[derive(Debug, Clone, Serialize)]
pub struct NodeDoc {
    pub node: NodeView,
    pub link: String,
}

/// Communities only, with how they were found.
#[derive(Debug, Clone, Serialize)]
pub struct CommunitiesDoc {
    pub communities: Vec<xiezhi_casegraph::Community>,
    pub explanation_zh: String,
}

/// Central persons only, with how they were ranked.
#[derive(Debug, Clone, Serialize)]
pub struct CentralDoc {
    pub central: Vec<xiezhi_casegraph::CentralPerson>,
    pub explanation_zh: String,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Problem::internal(&e))?
}

/// 案件关系图谱·邻居：某节点（人员、案件等）k 跳（1–3）内本人有权查看的节点与关系，可按关系类型与日期筛选；标签按权限脱敏，不经由不可见节点扩展；每次查询记入账本。不存在与无权查看的节点同样答复 404。
#[utoipa::path(get, path = "/api/v1/graph/neighbours",
    params(("node" = String, Query, description = "节点：person:<uid>、case:<uid>，或人员/案件 uid"),
        ("hops" = Option<u8>, Query, description = "跳数 1–3，默认 1"),
        ("kinds" = Option<String>, Query, description = "关系类型，逗号分隔或重复：involved_in 涉案、handled_by 承办、acted_on 办理流程、uses_phone 使用电话、lives_at 住址、mentions_phone 案情提及电话、same_person 同一人（跨部门）；默认全部"),
        ("from" = Option<String>, Query, description = "关系日期不早于 YYYY-MM-DD（无日期的关系保留）"),
        ("to" = Option<String>, Query, description = "关系日期不晚于 YYYY-MM-DD"),
        ("max_nodes" = Option<usize>, Query, description = "节点上限 1–500，默认 200")),
    responses((status = 200, body = Object, description = "nodes (id, kind, kind_zh, label, case_uid, hub), edges (seq, from, to, kind, kind_zh, date, detail_zh, case_uid, field, source_entity, source_uid, source_record_id), explanation_zh, undecided_cases（案件判定上限用尽后未判定的案件数，按不可见处理）"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn graph_neighbours(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<Subgraph>, Problem> {
    let q = query_multi(
        uri.query(),
        &["node", "hops", "kinds", "from", "to", "max_nodes"],
    )?;
    let query = neighbour_query(&q)?;
    blocking(move || neighbours_for(&state, &caller.principal, &query).map(Json)).await
}

/// 案件关系图谱·路径：两个节点（通常为两名人员）之间的最短关系路径，只经由本人有权查看的节点与关系、不经由机构节点；无路径时 nodes 为空；每次查询记入账本。
#[utoipa::path(get, path = "/api/v1/graph/path",
    params(("from" = String, Query, description = "起点：person:<uid> 或人员 uid"),
        ("to" = String, Query, description = "终点：person:<uid> 或人员 uid"),
        ("kinds" = Option<String>, Query, description = "只经由这些关系类型（同 neighbours）"),
        ("max_hops" = Option<u8>, Query, description = "最大跳数 1–8，默认 6"),
        ("since" = Option<String>, Query, description = "只经由日期不早于 YYYY-MM-DD 的关系（无日期的关系保留）"),
        ("until" = Option<String>, Query, description = "只经由日期不晚于 YYYY-MM-DD 的关系")),
    responses((status = 200, body = Object, description = "nodes（自起点至终点依次排列）, edges, explanation_zh, undecided_cases"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn graph_path(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<Subgraph>, Problem> {
    let q = query_multi(
        uri.query(),
        &["from", "to", "kinds", "max_hops", "since", "until"],
    )?;
    let query = path_query(&q)?;
    blocking(move || path_for(&state, &caller.principal, &query).map(Json)).await
}

/// 案件关系图谱·定位节点：由本人可查看的案件或人员 uid 找到其图谱节点（脱敏标签）及关系图页面链接；查询记入账本。
#[utoipa::path(get, path = "/api/v1/graph/node",
    params(("case" = Option<String>, Query, description = "案件 uid"),
        ("person" = Option<String>, Query, description = "人员 uid"),
        ("node" = Option<String>, Query, description = "节点 id")),
    responses((status = 200, body = Object, description = "node (id, kind, kind_zh, label, case_uid, hub), link"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn graph_node(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<NodeDoc>, Problem> {
    let q = query_multi(uri.query(), &["case", "person", "node"])?;
    let id = match (first(&q, "case"), first(&q, "person"), first(&q, "node")) {
        (Some(c), _, _) => format!("case:{}", c.trim()),
        (_, Some(p), _) => format!("person:{}", p.trim()),
        (_, _, Some(n)) => node_id(n),
        _ => {
            return Err(Problem::bad_request(
                "case",
                "missing_field",
                "须给出 `case`、`person` 或 `node` 之一",
            ))
        }
    };
    blocking(move || node_for(&state, &caller.principal, &id).map(Json)).await
}

/// 案件关系图谱·团伙：在本人有权查看的关系上发现的共同作案团伙（人员关系投影的连通分量与标签传播），成员标签脱敏；仅限办案人员与监督人员；查询记入账本。
#[utoipa::path(get, path = "/api/v1/graph/communities",
    params(("min_size" = Option<usize>, Query, description = "团伙最少人数 2–50，默认 3")),
    responses((status = 200, body = Object, description = "communities (id, members, shared_cases, weight), explanation_zh"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn graph_communities(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<CommunitiesDoc>, Problem> {
    let q = query_multi(uri.query(), &["min_size"])?;
    let min_size = number_of(&q, "min_size", 2..=50, 3)?;
    blocking(move || {
        let a = analysis_for(&state, &caller, min_size, 0)?;
        Ok(Json(CommunitiesDoc {
            communities: a.communities,
            explanation_zh: a.explanation_zh,
        }))
    })
    .await
}

/// 案件关系图谱·关键人员：在本人有权查看的关系上按介数与加权度数排序的人员，标签脱敏；仅限办案人员与监督人员；查询记入账本。
#[utoipa::path(get, path = "/api/v1/graph/central",
    params(("top" = Option<usize>, Query, description = "返回人数 1–100，默认 20")),
    responses((status = 200, body = Object, description = "central (person, degree, weighted_degree, betweenness, cases), explanation_zh"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn graph_central(
    caller: Caller,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Result<Json<CentralDoc>, Problem> {
    let q = query_multi(uri.query(), &["top"])?;
    let top = number_of(&q, "top", 1..=100, 20)?;
    blocking(move || {
        let a = analysis_for(&state, &caller, usize::MAX, top)?;
        Ok(Json(CentralDoc {
            central: a.central,
            explanation_zh: a.explanation_zh,
        }))
    })
    .await
}
