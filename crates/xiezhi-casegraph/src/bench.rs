//! Query timings over a built case graph, shared by the crate's `bench` example and the cost
//! curve (`xiezhi bench scale`), so both report the same measurement: k-hop (k = 1, 2, 3) and
//! shortest-path queries, each asked by a case handler of the police organ that handled a case
//! of the start person (so the answer is not empty), with its access decisions, masking and
//! ledger entry, compiled views kept across queries as a server keeps them.

use std::collections::HashMap;
use std::time::Instant;

use xiezhi_access::principal::{OrgKind, Principal, Role, User};
use xiezhi_access::reader::ViewCache;
use xiezhi_access::{Authorizer, RequestContext, Salt};
use xiezhi_standard::Level;
use xiezhi_store::{GraphEdge, Store};

use crate::{
    neighbours, path, EdgeKind, NeighbourQuery, NodeKind, PathQuery, QueryContext, Result, Subgraph,
};

/// Percentiles of one kind of query.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    pub queries: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Mean nodes returned (k-hop) or paths found (path).
    pub mean_nodes: f64,
    pub found: usize,
    /// Queries that spent their case budget ([`crate::CASES_PER_QUERY`]) and may be incomplete.
    pub budget_spent: usize,
}

/// The timings of one benchmark pass.
#[derive(Debug, Clone, Default)]
pub struct QueryTimings {
    /// k = 1, 2, 3.
    pub khop: [Timing; 3],
    /// To the farthest person within 3 hops of the start (a path that exists).
    pub path_near: Timing,
    /// To another person of the same organ's cases (mostly unconnected: the search ends when
    /// the visible neighbourhood is exhausted).
    pub path_far: Timing,
}

/// The `p` quantile (0–1) of `v`, nearest rank; 0 for none.
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn timing(mut ms: Vec<f64>, nodes: usize, found: usize, budget_spent: usize) -> Timing {
    let queries = ms.len();
    Timing {
        queries,
        p50_ms: percentile(&mut ms, 0.5),
        p99_ms: percentile(&mut ms, 0.99),
        mean_nodes: nodes as f64 / queries.max(1) as f64,
        found,
        budget_spent,
    }
}

fn handler(org: &str) -> Principal {
    Principal::User(User {
        id: "bench".into(),
        name: "办案民警".into(),
        org_code: org.trim_start_matches("organ:").into(),
        org_kind: OrgKind::Police,
        division: "520000".into(),
        role: Role::CaseHandler,
        clearance: Level::L3,
    })
}

/// Times `queries` starts (persons evenly spaced over the `involved_in` edges of `graph`) after
/// an untimed warm-up that compiles every organ's views and finds each start's path target.
pub fn time_queries<S: Store + ?Sized>(
    store: &mut S,
    graph: &str,
    queries: usize,
) -> Result<QueryTimings> {
    let mut edges: Vec<GraphEdge> = Vec::new();
    let mut after = 0;
    loop {
        let page = store.graph_edges_after(graph, after, 50_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        edges.extend(page.into_iter().filter(|e| {
            e.kind == EdgeKind::InvolvedIn.as_str() || e.kind == EdgeKind::HandledBy.as_str()
        }));
    }
    let handled: HashMap<&str, &str> = edges
        .iter()
        .filter(|e| e.kind == EdgeKind::HandledBy.as_str())
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    let involved: Vec<&GraphEdge> = edges
        .iter()
        .filter(|e| e.kind == EdgeKind::InvolvedIn.as_str() && handled.contains_key(e.to.as_str()))
        .collect();
    let step = (involved.len() / queries.max(1)).max(1);
    let starts: Vec<(&str, &str)> = involved
        .iter()
        .step_by(step)
        .take(queries)
        .map(|e| (e.from.as_str(), handled[e.to.as_str()]))
        .collect();
    let mut by_org: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in &involved {
        by_org
            .entry(handled[e.to.as_str()])
            .or_default()
            .push(e.from.as_str());
    }

    let authz = std::sync::Arc::new(Authorizer::builtin()?);
    let cache = ViewCache::default();
    let salt = Salt::new(b"bench".to_vec());
    let ctx = RequestContext::on(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("a date"));
    let ask = |store: &mut S, org: &str, run: &mut dyn FnMut(&mut S, &QueryContext<'_>)| {
        let p = handler(org);
        let q = QueryContext {
            authz: &authz,
            salt: &salt,
            principal: &p,
            ctx,
            cache: Some((&cache, &authz)),
        };
        run(store, &q);
    };
    let khop = |store: &mut S, q: &QueryContext<'_>, start: &str, hops: u8| {
        let query = NeighbourQuery {
            start: start.to_string(),
            hops,
            kinds: Vec::new(),
            since: None,
            until: None,
            max_nodes: 1_000,
        };
        neighbours(store, graph, q, &query)
    };

    // Warm-up, untimed: per start the farthest person within 3 hops, a path that exists.
    let mut near: Vec<Option<String>> = Vec::new();
    for (person, org) in &starts {
        ask(store, org, &mut |store, q| {
            let r: Result<Subgraph> = khop(store, q, person, 3);
            near.push(r.ok().and_then(|s| {
                s.nodes
                    .iter()
                    .rev()
                    .find(|n| n.kind == NodeKind::Person && n.id != *person)
                    .map(|n| n.id.clone())
            }));
        });
    }
    let mut out = QueryTimings::default();
    for hops in 1..=3u8 {
        let (mut ms, mut nodes, mut spent) = (Vec::new(), 0usize, 0usize);
        for (person, org) in &starts {
            ask(store, org, &mut |store, q| {
                let t = Instant::now();
                let r = khop(store, q, person, hops);
                ms.push(t.elapsed().as_secs_f64() * 1e3);
                if let Ok(s) = r {
                    nodes += s.nodes.len();
                    spent += usize::from(s.undecided_cases > 0);
                }
            });
        }
        out.khop[usize::from(hops - 1)] = timing(ms, nodes, 0, spent);
    }
    for reachable in [true, false] {
        let (mut ms, mut found, mut spent) = (Vec::new(), 0usize, 0usize);
        for (i, (person, org)) in starts.iter().enumerate() {
            let pool = &by_org[org];
            let target = match (&near[i], reachable) {
                (Some(t), true) => t.clone(),
                (None, true) => continue,
                _ => pool[(i * 7919) % pool.len()].to_string(),
            };
            ask(store, org, &mut |store, q| {
                let query = PathQuery {
                    from: person.to_string(),
                    to: target.clone(),
                    max_hops: 6,
                    kinds: Vec::new(),
                    since: None,
                    until: None,
                };
                let t = Instant::now();
                let r = path(store, graph, q, &query);
                ms.push(t.elapsed().as_secs_f64() * 1e3);
                if let Ok(s) = r {
                    found += usize::from(!s.nodes.is_empty());
                    spent += usize::from(s.undecided_cases > 0);
                }
            });
        }
        let t = timing(ms, 0, found, spent);
        if reachable {
            out.path_near = t;
        } else {
            out.path_far = t;
        }
    }
    Ok(out)
}
