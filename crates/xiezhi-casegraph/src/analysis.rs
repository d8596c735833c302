//! Link analysis on the person projection of the case graph: co-offender communities and
//! central persons.
//!
//! **Projection.** Two persons are tied when they are offenders (犯罪嫌疑人, 被告人, 罪犯) of the
//! same case, or share a phone number or an address (a person's own, or a number written in
//! the summary of a case they offended in). A case of n offenders gives each pair 1/(n−1), an
//! identifier held by n persons the same, so that one person's tie strength is about one per
//! case or identifier however many take part; an identifier held by more than
//! [`MAX_SHARED`] persons (a switchboard, a hostel, a village with one address) ties nobody.
//!
//! **Communities.** A co-offending network is the set of persons that offend together or share
//! identifiers: a connected component of the projection. Modularity methods (Louvain) and label
//! propagation alone can split chains and rings of co-offenders (a group whose cases each involve
//! two or three of its members forms a ring of small cliques), and modularity on the whole
//! province tends to merge two groups joined by one tie (its resolution limit), so components are
//! taken as they are; only a component of more than [`SPLIT_ABOVE`] persons — larger than any
//! group acts together — is split by weighted label propagation (deterministic order, ties to
//! the current label, then the smallest). Measured on the planted groups of a synthetic
//! province by [`score`].
//!
//! **Central persons.** Degree (distinct persons tied) and weighted degree, and betweenness
//! centrality (Brandes, unweighted) per component; in a component of more than
//! [`EXACT_BETWEENNESS`] persons it is estimated from evenly spaced sources and scaled.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::unionfind::UnionFind;
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};
use xiezhi_store::{GraphEdge, Store};

use crate::gate::{Gate, QueryContext};
use crate::{EdgeKind, NodeView, Result};

/// An identifier held by more persons than this ties none of them.
pub const MAX_SHARED: usize = 10;

/// A component of more persons than this is split by label propagation.
pub const SPLIT_ABOVE: usize = 30;

/// Betweenness is exact in components up to this size, estimated above it.
pub const EXACT_BETWEENNESS: usize = 2_000;

/// Sources of the estimate in a larger component.
const SAMPLED_SOURCES: usize = 256;

/// Roles that make a person an offender of a case.
const OFFENDER_ROLES: [&str; 3] = ["suspect", "defendant", "convict"];

/// The person projection: persons (node ids) and weighted ties.
pub struct Projection {
    pub persons: Vec<String>,
    pub graph: UnGraph<usize, f64>,
    /// Per person, the case node ids it offended in.
    pub cases: Vec<Vec<String>>,
}

/// Builds the person projection from graph edges (all of a graph's, or the visible ones).
pub fn project<'e>(edges: &'e [GraphEdge]) -> Projection {
    let mut index: BTreeMap<&'e str, usize> = BTreeMap::new();
    let mut persons: Vec<String> = Vec::new();
    let mut idx = |id: &'e str, persons: &mut Vec<String>| -> usize {
        *index.entry(id).or_insert_with(|| {
            persons.push(id.to_string());
            persons.len() - 1
        })
    };
    let mut case_offenders: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut holders: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut mentions: Vec<(&str, &str)> = Vec::new();
    for e in edges {
        match EdgeKind::parse(&e.kind) {
            Some(EdgeKind::InvolvedIn) => {
                let p = idx(&e.from, &mut persons);
                let offender = e
                    .detail
                    .as_deref()
                    .is_none_or(|r| OFFENDER_ROLES.contains(&r));
                if offender {
                    case_offenders.entry(&e.to).or_default().push(p);
                }
            }
            Some(EdgeKind::UsesPhone | EdgeKind::LivesAt) => {
                let p = idx(&e.from, &mut persons);
                holders.entry(&e.to).or_default().push(p);
            }
            Some(EdgeKind::MentionsPhone) => mentions.push((&e.from, &e.to)),
            _ => {}
        }
    }
    for (case, phone) in mentions {
        let offenders = case_offenders.get(case).cloned().unwrap_or_default();
        holders.entry(phone).or_default().extend(offenders);
    }
    let mut cases: Vec<Vec<String>> = vec![Vec::new(); persons.len()];
    let mut weights: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    let mut tie = |members: &mut Vec<usize>, cap: Option<usize>| {
        members.sort_unstable();
        members.dedup();
        let n = members.len();
        if n < 2 || cap.is_some_and(|c| n > c) {
            return;
        }
        let w = 1.0 / (n - 1) as f64;
        for i in 0..n {
            for j in i + 1..n {
                *weights.entry((members[i], members[j])).or_default() += w;
            }
        }
    };
    for (case, members) in &mut case_offenders {
        for &p in members.iter() {
            cases[p].push((*case).to_string());
        }
        tie(members, None);
    }
    for members in holders.values_mut() {
        tie(members, Some(MAX_SHARED));
    }
    let mut graph = UnGraph::with_capacity(persons.len(), weights.len());
    for i in 0..persons.len() {
        graph.add_node(i);
    }
    for ((a, b), w) in weights {
        graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), w);
    }
    for c in &mut cases {
        c.sort();
        c.dedup();
    }
    Projection {
        persons,
        graph,
        cases,
    }
}

/// Connected components of the projection, in order of their smallest member.
fn components(p: &Projection) -> Vec<Vec<usize>> {
    let n = p.graph.node_count();
    let mut uf = UnionFind::<usize>::new(n);
    for e in p.graph.edge_references() {
        uf.union(e.source().index(), e.target().index());
    }
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for v in 0..n {
        by_root.entry(uf.find(v)).or_default().push(v);
    }
    let mut out: Vec<Vec<usize>> = by_root.into_values().collect();
    out.sort_by_key(|c| c[0]);
    out
}

/// Weighted label propagation inside one component.
fn propagate(p: &Projection, members: &[usize]) -> Vec<Vec<usize>> {
    let mut label: HashMap<usize, usize> = members.iter().map(|&v| (v, v)).collect();
    for _ in 0..100 {
        let mut changed = false;
        for &v in members {
            let mut tally: BTreeMap<usize, f64> = BTreeMap::new();
            for e in p.graph.edges(NodeIndex::new(v)) {
                let u = if e.source().index() == v {
                    e.target().index()
                } else {
                    e.source().index()
                };
                *tally.entry(label[&u]).or_default() += *e.weight();
            }
            let Some(best) = tally.values().copied().reduce(f64::max) else {
                continue;
            };
            let current = label[&v];
            if tally.get(&current).is_some_and(|w| *w >= best - 1e-12) {
                continue;
            }
            let pick = tally
                .iter()
                .find(|(_, w)| **w >= best - 1e-12)
                .map(|(l, _)| *l)
                .unwrap_or(current);
            label.insert(v, pick);
            changed = true;
        }
        if !changed {
            break;
        }
    }
    let mut by_label: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &v in members {
        by_label.entry(label[&v]).or_default().push(v);
    }
    by_label.into_values().collect()
}

/// Co-offender communities of at least two persons, largest first (see the module doc).
pub fn detect(p: &Projection) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    for c in components(p) {
        if c.len() < 2 {
            continue;
        }
        if c.len() > SPLIT_ABOVE {
            out.extend(propagate(p, &c).into_iter().filter(|x| x.len() >= 2));
        } else {
            out.push(c);
        }
    }
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    out
}

/// Betweenness centrality of every person (Brandes; unweighted ties).
pub fn betweenness(p: &Projection) -> Vec<f64> {
    let n = p.graph.node_count();
    let mut bc = vec![0.0; n];
    let neighbours: Vec<Vec<usize>> = (0..n)
        .map(|v| {
            let mut ns: Vec<usize> = p
                .graph
                .neighbors(NodeIndex::new(v))
                .map(NodeIndex::index)
                .collect();
            ns.sort_unstable();
            ns.dedup();
            ns
        })
        .collect();
    let mut sigma = vec![0.0f64; n];
    let mut dist = vec![-1i64; n];
    let mut delta = vec![0.0f64; n];
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for comp in components(p) {
        if comp.len() < 3 {
            continue;
        }
        let (sources, scale): (Vec<usize>, f64) = if comp.len() <= EXACT_BETWEENNESS {
            (comp.clone(), 1.0)
        } else {
            let step = comp.len().div_ceil(SAMPLED_SOURCES);
            let s: Vec<usize> = comp.iter().copied().step_by(step).collect();
            let scale = comp.len() as f64 / s.len() as f64;
            (s, scale)
        };
        for &s in &sources {
            for &v in &comp {
                sigma[v] = 0.0;
                dist[v] = -1;
                delta[v] = 0.0;
                preds[v].clear();
            }
            sigma[s] = 1.0;
            dist[s] = 0;
            let mut order = Vec::with_capacity(comp.len());
            let mut queue = std::collections::VecDeque::from([s]);
            while let Some(v) = queue.pop_front() {
                order.push(v);
                for &w in &neighbours[v] {
                    if dist[w] < 0 {
                        dist[w] = dist[v] + 1;
                        queue.push_back(w);
                    }
                    if dist[w] == dist[v] + 1 {
                        sigma[w] += sigma[v];
                        preds[w].push(v);
                    }
                }
            }
            while let Some(w) = order.pop() {
                for &v in &preds[w] {
                    delta[v] += sigma[v] / sigma[w] * (1.0 + delta[w]);
                }
                if w != s {
                    bc[w] += delta[w] * scale;
                }
            }
        }
    }
    // Each pair was counted from both ends.
    bc.iter().map(|b| b / 2.0).collect()
}

/// Precision and recall of detected communities against planted groups, both ways.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CommunityScore {
    /// Pairwise over the persons of the planted groups and of every community that holds one
    /// of them: of the pairs put in one community, the share that are in one group
    /// (precision), and of the pairs in one group, the share put in one community (recall).
    pub pair_precision: f64,
    pub pair_recall: f64,
    /// Per group, the community sharing most members with it: shared / community size
    /// (precision) and shared / group size (recall), averaged over groups.
    pub match_precision: f64,
    pub match_recall: f64,
    pub groups: usize,
}

/// Community detection over the whole stored graph, scored against known groups (person node
/// ids): an evaluation of the method on a province with planted truth, not a query — it reads
/// no case data and answers for no principal, so it is not ledgered.
pub fn score_stored<S: Store + ?Sized>(
    store: &S,
    graph: &str,
    groups: &[Vec<String>],
) -> Result<CommunityScore> {
    let edges = load(store, graph)?;
    let proj = project(&edges);
    let found: Vec<Vec<String>> = detect(&proj)
        .into_iter()
        .map(|c| c.into_iter().map(|v| proj.persons[v].clone()).collect())
        .collect();
    Ok(score(&found, groups))
}

/// Scores communities (sets of person keys) against planted groups (the same keys).
pub fn score(communities: &[Vec<String>], groups: &[Vec<String>]) -> CommunityScore {
    let community_of: HashMap<&str, usize> = communities
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.iter().map(move |p| (p.as_str(), i)))
        .collect();
    let group_of: HashMap<&str, usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| g.iter().map(move |p| (p.as_str(), i)))
        .collect();
    let mut universe: BTreeSet<&str> = group_of.keys().copied().collect();
    for g in groups {
        for p in g {
            if let Some(&c) = community_of.get(p.as_str()) {
                universe.extend(communities[c].iter().map(String::as_str));
            }
        }
    }
    let u: Vec<&str> = universe.into_iter().collect();
    let (mut both, mut predicted, mut truth) = (0u64, 0u64, 0u64);
    for i in 0..u.len() {
        for j in i + 1..u.len() {
            let same_c = matches!((community_of.get(u[i]), community_of.get(u[j])), (Some(a), Some(b)) if a == b);
            let same_g =
                matches!((group_of.get(u[i]), group_of.get(u[j])), (Some(a), Some(b)) if a == b);
            predicted += u64::from(same_c);
            truth += u64::from(same_g);
            both += u64::from(same_c && same_g);
        }
    }
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let (mut mp, mut mr) = (0.0, 0.0);
    for g in groups {
        let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
        for p in g {
            if let Some(&c) = community_of.get(p.as_str()) {
                *counts.entry(c).or_default() += 1;
            }
        }
        if let Some((c, shared)) = counts.into_iter().max_by_key(|(c, n)| (*n, usize::MAX - c)) {
            mp += shared as f64 / communities[c].len() as f64;
            mr += shared as f64 / g.len() as f64;
        }
    }
    let n = groups.len().max(1) as f64;
    CommunityScore {
        pair_precision: ratio(both, predicted),
        pair_recall: ratio(both, truth),
        match_precision: mp / n,
        match_recall: mr / n,
        groups: groups.len(),
    }
}

/// A co-offender community as the asker may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Community {
    /// 1-based, largest first.
    pub id: usize,
    pub members: Vec<NodeView>,
    /// Case node ids in which at least two members offended together.
    pub shared_cases: Vec<String>,
    /// Sum of the members' tie weights.
    pub weight: f64,
}

/// A person ranked by centrality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CentralPerson {
    pub person: NodeView,
    /// Distinct persons tied to him.
    pub degree: usize,
    pub weighted_degree: f64,
    pub betweenness: f64,
    pub cases: usize,
}

/// The communities and central persons of what the asker may see, with how they were found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub communities: Vec<Community>,
    pub central: Vec<CentralPerson>,
    pub explanation_zh: String,
}

/// Reads a whole graph's edges of the kinds the projection uses.
fn load<S: Store + ?Sized>(store: &S, graph: &str) -> Result<Vec<GraphEdge>> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store.graph_edges_after(graph, after, 10_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        out.extend(page.into_iter().filter(|e| {
            matches!(
                EdgeKind::parse(&e.kind),
                Some(
                    EdgeKind::InvolvedIn
                        | EdgeKind::UsesPhone
                        | EdgeKind::LivesAt
                        | EdgeKind::MentionsPhone
                )
            )
        }));
    }
    Ok(out)
}

/// Communities of at least `min_size` persons and the `top` most central persons, computed on
/// the part of the graph `q.principal` may see; one ledger entry.
pub fn analyse<S: Store + ?Sized>(
    store: &mut S,
    graph: &str,
    q: &QueryContext<'_>,
    min_size: usize,
    top: usize,
) -> Result<Analysis> {
    let edges = load(&*store, graph)?;
    let (result, entry) = {
        let mut gate = Gate::new(&*store, graph, q)?;
        gate.preload(&edges);
        let mut visible = Vec::with_capacity(edges.len());
        for e in &edges {
            if gate.edge_visible(e)? {
                visible.push(e.clone());
            }
        }
        let p = project(&visible);
        let found: Vec<Vec<usize>> = detect(&p)
            .into_iter()
            .filter(|c| c.len() >= min_size.max(2))
            .collect();
        let bc = betweenness(&p);
        let mut ranked: Vec<usize> = (0..p.persons.len()).collect();
        let wdeg = |v: usize| -> f64 {
            p.graph
                .edges(NodeIndex::new(v))
                .fold(0.0, |s, e| s + *e.weight())
        };
        ranked.sort_by(|&a, &b| {
            bc[b]
                .total_cmp(&bc[a])
                .then(wdeg(b).total_cmp(&wdeg(a)))
                .then(a.cmp(&b))
        });
        ranked.truncate(top);
        let mut ids: Vec<String> = found
            .iter()
            .flatten()
            .chain(ranked.iter())
            .map(|&v| p.persons[v].clone())
            .collect();
        ids.sort();
        ids.dedup();
        let views: HashMap<String, NodeView> = gate
            .node_views(&ids, &BTreeSet::new())?
            .into_iter()
            .map(|v| (v.id.clone(), v))
            .collect();
        let communities: Vec<Community> = found
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for &v in c {
                    for case in &p.cases[v] {
                        *counts.entry(case).or_default() += 1;
                    }
                }
                let set: BTreeSet<usize> = c.iter().copied().collect();
                let weight = c
                    .iter()
                    .flat_map(|&v| p.graph.edges(NodeIndex::new(v)))
                    .filter(|e| {
                        set.contains(&e.source().index()) && set.contains(&e.target().index())
                    })
                    .map(|e| *e.weight())
                    .sum::<f64>()
                    / 2.0;
                Community {
                    id: i + 1,
                    members: c
                        .iter()
                        .filter_map(|&v| views.get(&p.persons[v]).cloned())
                        .collect(),
                    shared_cases: counts
                        .into_iter()
                        .filter(|(_, n)| *n >= 2)
                        .map(|(c, _)| c.to_string())
                        .collect(),
                    weight,
                }
            })
            .collect();
        let central: Vec<CentralPerson> = ranked
            .iter()
            .filter_map(|&v| {
                let mut ns: Vec<usize> = p
                    .graph
                    .neighbors(NodeIndex::new(v))
                    .map(NodeIndex::index)
                    .collect();
                ns.sort_unstable();
                ns.dedup();
                Some(CentralPerson {
                    person: views.get(&p.persons[v])?.clone(),
                    degree: ns.len(),
                    weighted_degree: wdeg(v),
                    betweenness: bc[v],
                    cases: p.cases[v].len(),
                })
            })
            .collect();
        let explanation_zh = format!(
            "在本人有权查看的 {} 条关系上构建人员关系投影（共同作案按案件、共用电话或住址按号码与地址计权，{} 人以上共用的号码或地址不计）；团伙为投影的连通分量，超过 {} 人的分量以加权标签传播再分；中心度为度数与介数（Brandes 算法，超过 {} 人的分量抽样估计）",
            visible.len(),
            MAX_SHARED + 1,
            SPLIT_ABOVE,
            EXACT_BETWEENNESS
        );
        let returned: Vec<String> = views.keys().cloned().collect();
        let query = serde_json::json!({"analysis": "communities_central", "min_size": min_size, "top": top});
        let entry = gate.entry(query, &returned, 0)?;
        (
            Analysis {
                communities,
                central,
                explanation_zh,
            },
            entry,
        )
    };
    store.append_events(&[entry])?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(seq: i64, kind: EdgeKind, from: &str, to: &str, role: Option<&str>) -> GraphEdge {
        GraphEdge {
            seq,
            from: from.into(),
            to: to.into(),
            kind: kind.as_str().into(),
            date: None,
            case_uid: None,
            field: None,
            detail: role.map(Into::into),
            source_entity: None,
            source_uid: None,
            source_record_id: None,
        }
    }

    #[test]
    fn a_ring_of_co_offenders_is_one_community_and_a_victim_is_not_tied() {
        // Five persons in a ring of two-person cases, plus a victim of one case and an
        // unrelated pair.
        let mut edges = Vec::new();
        let mut seq = 0;
        let mut add = |kind, from: &str, to: &str, role| {
            seq += 1;
            edges.push(edge(seq, kind, from, to, role));
        };
        for i in 0..5 {
            let case = format!("case:C{i}");
            add(
                EdgeKind::InvolvedIn,
                &format!("person:P{i}"),
                &case,
                Some("suspect"),
            );
            add(
                EdgeKind::InvolvedIn,
                &format!("person:P{}", (i + 1) % 5),
                &case,
                Some("suspect"),
            );
        }
        add(EdgeKind::InvolvedIn, "person:V", "case:C0", Some("victim"));
        add(EdgeKind::InvolvedIn, "person:X", "case:C9", Some("suspect"));
        add(EdgeKind::InvolvedIn, "person:Y", "case:C9", Some("suspect"));
        let p = project(&edges);
        let found: Vec<Vec<String>> = detect(&p)
            .into_iter()
            .map(|c| c.into_iter().map(|v| p.persons[v].clone()).collect())
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].len(), 5);
        assert!(!found.iter().flatten().any(|x| x == "person:V"));
        let s = score(&found, &[(0..5).map(|i| format!("person:P{i}")).collect()]);
        assert_eq!((s.pair_precision, s.pair_recall), (1.0, 1.0));
    }

    #[test]
    fn betweenness_of_a_path_peaks_in_the_middle() {
        let edges: Vec<GraphEdge> = (0..4)
            .map(|i| {
                edge(
                    i,
                    EdgeKind::UsesPhone,
                    &format!("person:P{}", i.min(3)),
                    &format!("phone:{i}"),
                    None,
                )
            })
            .chain((0..4).map(|i| {
                edge(
                    10 + i,
                    EdgeKind::UsesPhone,
                    &format!("person:P{}", i + 1),
                    &format!("phone:{i}"),
                    None,
                )
            }))
            .collect();
        // P0 - P1 - P2 - P3 - P4 tied by shared phones.
        let p = project(&edges);
        let bc = betweenness(&p);
        let at = |id: &str| bc[p.persons.iter().position(|x| x == id).unwrap()];
        assert_eq!(at("person:P0"), 0.0);
        assert_eq!(at("person:P1"), 3.0);
        assert_eq!(at("person:P2"), 4.0);
    }

    #[test]
    fn merged_groups_lower_precision_and_split_groups_lower_recall() {
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let groups = [g(&["a", "b", "c"]), g(&["d", "e", "f"])];
        let merged = score(&[g(&["a", "b", "c", "d", "e", "f"])], &groups);
        assert!(merged.pair_recall == 1.0 && merged.pair_precision < 0.5);
        let split = score(&[g(&["a", "b"]), g(&["c"]), g(&["d", "e", "f"])], &groups);
        assert!(split.pair_precision == 1.0 && split.pair_recall < 1.0);
        assert!(split.match_recall < 1.0);
    }
}
