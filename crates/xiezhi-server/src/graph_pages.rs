//! The console's link chart (关系图谱, `/graph`): the neighbourhood of a case or person drawn as
//! an SVG laid out here (rings by distance from the start), typed and coloured edges, masked
//! labels as the API gives them; a node is expanded by clicking it (the page is drawn again
//! with that node's one-hop neighbourhood merged in), edges are filtered by kind and date, and
//! a path finder links two persons. No script: every click is a link, every filter a form.
//! Each query behind the page goes through [`crate::graph_api`], so it is decided, masked and
//! ledgered by the case graph's own query path, like the API.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use minijinja::context;
use serde::Serialize;
use xiezhi_casegraph::{EdgeKind, EdgeView, NeighbourQuery, NodeKind, NodeView, Subgraph};

use crate::graph_api::{
    day_of, kinds_of, neighbours_for, node_id, number_of, path_for, path_query,
};
use crate::law_api::query_multi;
use crate::state::AppState;
use crate::ui::{error_page, me, run, PageUser};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/graph", get(graph))
}

fn render(ctx: minijinja::Value) -> Response {
    crate::ui::render("graph.html", ctx)
}

/// Node expansions kept on one page at most (each is one more query).
const MAX_EXPAND: usize = 12;
/// Nodes drawn at most.
const PAGE_NODES: usize = 150;
const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 720.0;

/// Fill colour of a node kind.
fn node_colour(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Person => "#c0392b",
        NodeKind::Case => "#1f4e79",
        NodeKind::Organ => "#7f8c8d",
        NodeKind::Phone => "#2e86c1",
        NodeKind::Address => "#229954",
        NodeKind::Record => "#8e44ad",
    }
}

/// Stroke colour of an edge kind.
fn edge_colour(k: EdgeKind) -> &'static str {
    match k {
        EdgeKind::InvolvedIn => "#c0392b",
        EdgeKind::HandledBy => "#95a5a6",
        EdgeKind::ActedOn => "#bdc3c7",
        EdgeKind::UsesPhone => "#2e86c1",
        EdgeKind::LivesAt => "#229954",
        EdgeKind::MentionsPhone => "#d68910",
        EdgeKind::SamePerson => "#8e44ad",
    }
}

/// Percent-encodes all but unreserved ASCII.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A node placed on the chart.
#[derive(Debug, Serialize)]
struct Placed {
    id: String,
    kind: &'static str,
    kind_zh: String,
    label: String,
    /// Shortened for the drawing; the full label is in the tooltip and the table.
    short: String,
    x: f64,
    y: f64,
    r: f64,
    fill: &'static str,
    hub: bool,
    start: bool,
    expanded: bool,
    on_path: bool,
    /// The page with this node expanded (HTML-escaped query already).
    href: String,
}

#[derive(Debug, Serialize)]
struct Line {
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
    colour: &'static str,
    kind: &'static str,
    kind_zh: String,
    title: String,
    on_path: bool,
}

/// An edge row of the table: both ends' labels and where the edge comes from.
#[derive(Debug, Serialize)]
struct Row {
    from: String,
    to: String,
    kind_zh: String,
    date: String,
    detail: String,
    source: String,
}

/// Lays the subgraph out in rings by breadth-first distance from the start; a ring's nodes
/// follow their parents' angles, so a branch stays together.
fn layout(nodes: &[NodeView], edges: &[EdgeView], start: &str) -> HashMap<String, (f64, f64)> {
    let mut adj: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in edges {
        adj.entry(&e.from).or_default().push(&e.to);
        adj.entry(&e.to).or_default().push(&e.from);
    }
    for list in adj.values_mut() {
        list.sort_unstable();
        list.dedup();
    }
    let mut depth: HashMap<&str, usize> = HashMap::from([(start, 0)]);
    let mut parent: HashMap<&str, &str> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for &m in adj.get(n).map(Vec::as_slice).unwrap_or(&[]) {
            if !depth.contains_key(m) {
                depth.insert(m, depth[n] + 1);
                parent.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    // Nodes not reached from the start (none, normally) go on the outermost ring.
    let deepest = depth.values().copied().max().unwrap_or(0);
    let mut rings: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for n in nodes {
        let d = depth.get(n.id.as_str()).copied().unwrap_or(deepest + 1);
        rings.entry(d).or_default().push(&n.id);
    }
    let outer = rings.keys().copied().max().unwrap_or(0).max(1) as f64;
    let step = (HEIGHT / 2.0 - 50.0) / outer;
    let (cx, cy) = (WIDTH / 2.0, HEIGHT / 2.0);
    let mut angle: HashMap<&str, f64> = HashMap::new();
    let mut at = HashMap::new();
    for (d, mut ring) in rings {
        if d == 0 {
            for n in ring {
                angle.insert(n, 0.0);
                at.insert(n.to_string(), (cx, cy));
            }
            continue;
        }
        ring.sort_by(|a, b| {
            let pa = parent.get(a).and_then(|p| angle.get(p)).copied();
            let pb = parent.get(b).and_then(|p| angle.get(p)).copied();
            pa.unwrap_or(f64::MAX)
                .total_cmp(&pb.unwrap_or(f64::MAX))
                .then(a.cmp(b))
        });
        let count = ring.len() as f64;
        let radius = step * d as f64;
        for (i, n) in ring.into_iter().enumerate() {
            let a = std::f64::consts::TAU * (i as f64 + 0.5) / count;
            angle.insert(n, a);
            // Wider than tall: the ring is an ellipse filling the canvas.
            let x = cx + radius * (WIDTH / HEIGHT) * a.cos();
            let y = cy + radius * a.sin();
            at.insert(
                n.to_string(),
                ((x * 10.0).round() / 10.0, (y * 10.0).round() / 10.0),
            );
        }
    }
    at
}

fn short(label: &str) -> String {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() > 12 {
        chars[..11].iter().collect::<String>() + "…"
    } else {
        label.to_string()
    }
}

/// The page's own query string (HTML-escaped `&`) for the given expansions.
fn page_query(base: &[(String, String)], expand: &[String]) -> String {
    base.iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(expand.iter().map(|e| ("expand", e.as_str())))
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&amp;")
}

/// `/graph?case=C…` (or `person=`, `node=`), `hops`, `kinds` (repeated), `from`, `to`,
/// `expand` (repeated: nodes clicked), `path_from` and `path_to` (the path finder).
async fn graph(
    PageUser(caller): PageUser,
    State(state): State<Arc<AppState>>,
    uri: axum::http::Uri,
) -> Response {
    let known = [
        "node",
        "case",
        "person",
        "hops",
        "kinds",
        "from",
        "to",
        "expand",
        "path_from",
        "path_to",
    ];
    let page_caller = caller.clone();
    let raw = uri.query().unwrap_or("").to_string();
    let result = run(move || {
        let q = query_multi(Some(&raw), &known)?;
        let one = |k: &str| {
            q.get(k)
                .and_then(|v| v.first())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let start = match (one("node"), one("case"), one("person")) {
            (Some(n), _, _) => Some(node_id(&n)),
            (_, Some(c), _) => Some(format!("case:{c}")),
            (_, _, Some(p)) => Some(format!("person:{p}")),
            _ => None,
        };
        let kinds = kinds_of(&q)?;
        let since = day_of(&q, "from")?;
        let until = day_of(&q, "to")?;
        let hops = number_of(&q, "hops", 1..=3, 1)? as u8;
        let chosen: Vec<&'static str> = kinds.iter().map(|k| k.as_str()).collect();
        let all_kinds: Vec<minijinja::Value> = EdgeKind::ALL
            .iter()
            .map(|k| {
                context! { name => k.as_str(), zh => k.name_zh(), colour => edge_colour(*k),
                checked => kinds.is_empty() || kinds.contains(k) }
            })
            .collect();
        let legend: Vec<minijinja::Value> = NodeKind::ALL
            .iter()
            .map(|k| context! { zh => k.name_zh(), colour => node_colour(*k) })
            .collect();
        let filters = context! {
            hops, kinds => chosen, all_kinds, legend,
            from => since.clone().unwrap_or_default(),
            to => until.clone().unwrap_or_default(),
        };
        let Some(start) = start else {
            return Ok(context! { filters, start => None::<String> });
        };
        let expand: Vec<String> = q
            .get("expand")
            .into_iter()
            .flatten()
            .map(|e| node_id(e))
            .filter(|e| *e != start)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .take(MAX_EXPAND)
            .collect();
        let query = NeighbourQuery {
            start: start.clone(),
            hops,
            kinds: kinds.clone(),
            since: since.clone(),
            until: until.clone(),
            max_nodes: PAGE_NODES,
        };
        let principal = &caller.principal;
        // The start must be visible: otherwise the page is the API's 404.
        let base = neighbours_for(&state, principal, &query)?;
        let mut explanations = vec![base.explanation_zh.clone()];
        let mut notes = Vec::new();
        let mut nodes: Vec<NodeView> = base.nodes;
        let mut edges: Vec<EdgeView> = base.edges;
        for e in &expand {
            let one = NeighbourQuery {
                start: e.clone(),
                hops: 1,
                max_nodes: PAGE_NODES,
                ..query.clone()
            };
            match neighbours_for(&state, principal, &one) {
                Ok(s) => {
                    explanations.push(s.explanation_zh);
                    merge(&mut nodes, &mut edges, s.nodes, s.edges);
                }
                Err(p) if p.status == 404 => {
                    notes.push(format!("展开 {e}：{}", p.detail.unwrap_or_default()))
                }
                Err(p) => return Err(p),
            }
        }
        if nodes.len() > PAGE_NODES {
            notes.push(format!(
                "节点超过 {PAGE_NODES} 个，仅绘制前 {PAGE_NODES} 个"
            ));
            nodes.truncate(PAGE_NODES);
            let kept: BTreeSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
            edges.retain(|e| kept.contains(e.from.as_str()) && kept.contains(e.to.as_str()));
        }

        // The path finder.
        let path_from = one("path_from")
            .or_else(|| (NodeKind::of_id(&start) == Some(NodeKind::Person)).then(|| start.clone()));
        let path_to = one("path_to");
        let mut path: Option<Subgraph> = None;
        let mut path_error: Option<String> = None;
        if let (Some(f), Some(t)) = (&path_from, &path_to) {
            let mut pq = BTreeMap::new();
            pq.insert("from".to_string(), vec![f.clone()]);
            pq.insert("to".to_string(), vec![t.clone()]);
            if !kinds.is_empty() {
                pq.insert(
                    "kinds".to_string(),
                    chosen.iter().map(|s| s.to_string()).collect(),
                );
            }
            // The chart's date filter holds for the path too.
            for (key, day) in [("since", &since), ("until", &until)] {
                if let Some(d) = day {
                    pq.insert(key.to_string(), vec![d.clone()]);
                }
            }
            match path_query(&pq).and_then(|pq| path_for(&state, principal, &pq)) {
                Ok(s) => path = Some(s),
                Err(p) if matches!(p.status, 400 | 404) => {
                    path_error = Some(p.detail.unwrap_or_default());
                }
                Err(p) => return Err(p),
            }
        }
        let path_nodes: BTreeSet<String> = path
            .iter()
            .flat_map(|s| s.nodes.iter().map(|n| n.id.clone()))
            .collect();
        let path_edges: BTreeSet<i64> = path
            .iter()
            .flat_map(|s| s.edges.iter().map(|e| e.seq))
            .collect();

        // The drawing.
        let at = layout(&nodes, &edges, &start);
        let mut base_query: Vec<(String, String)> = vec![
            ("node".into(), start.clone()),
            ("hops".into(), hops.to_string()),
        ];
        for k in &chosen {
            base_query.push(("kinds".into(), k.to_string()));
        }
        if let Some(s) = &since {
            base_query.push(("from".into(), s.clone()));
        }
        if let Some(u) = &until {
            base_query.push(("to".into(), u.clone()));
        }
        let labels: HashMap<&str, &str> = nodes
            .iter()
            .map(|n| (n.id.as_str(), n.label.as_str()))
            .collect();
        let placed: Vec<Placed> = nodes
            .iter()
            .filter_map(|n| {
                let &(x, y) = at.get(&n.id)?;
                let mut with = expand.clone();
                if n.id != start && !with.contains(&n.id) {
                    with.push(n.id.clone());
                }
                Some(Placed {
                    id: n.id.clone(),
                    kind: n.kind.as_str(),
                    kind_zh: n.kind_zh.clone(),
                    label: n.label.clone(),
                    short: short(&n.label),
                    x,
                    y,
                    r: if n.id == start { 14.0 } else { 9.0 },
                    fill: node_colour(n.kind),
                    hub: n.hub,
                    start: n.id == start,
                    expanded: expand.contains(&n.id),
                    on_path: path_nodes.contains(&n.id),
                    href: format!("/graph?{}", page_query(&base_query, &with)),
                })
            })
            .collect();
        let lines: Vec<Line> = edges
            .iter()
            .filter_map(|e| {
                let &(x1, y1) = at.get(&e.from)?;
                let &(x2, y2) = at.get(&e.to)?;
                let mut title = e.kind_zh.clone();
                if let Some(d) = &e.date {
                    title.push_str(&format!(" {d}"));
                }
                if let Some(d) = &e.detail_zh {
                    title.push_str(&format!("（{d}）"));
                }
                Some(Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    colour: edge_colour(e.kind),
                    kind: e.kind.as_str(),
                    kind_zh: e.kind_zh.clone(),
                    title,
                    on_path: path_edges.contains(&e.seq),
                })
            })
            .collect();
        let label = |id: &str| labels.get(id).map_or(id.to_string(), |l| l.to_string());
        let rows: Vec<Row> = edges.iter().map(|e| row(e, &label)).collect();
        let path_rows: Vec<Row> = path
            .iter()
            .flat_map(|s| {
                let pl: HashMap<&str, &str> = s
                    .nodes
                    .iter()
                    .map(|n| (n.id.as_str(), n.label.as_str()))
                    .collect();
                s.edges
                    .iter()
                    .map(|e| {
                        row(e, &|id: &str| {
                            pl.get(id).map_or(id.to_string(), |l| l.to_string())
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let persons: Vec<minijinja::Value> = nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Person)
            .map(|n| context! { id => n.id.clone(), label => n.label.clone() })
            .collect();
        let start_label = label(&start);
        let reset = format!("/graph?{}", page_query(&base_query, &[]));
        Ok(context! {
            filters,
            start,
            start_label,
            nodes => placed,
            lines,
            rows,
            explanations,
            notes,
            expand,
            persons,
            path_from => path_from.unwrap_or_default(),
            path_to => path_to.unwrap_or_default(),
            path,
            path_rows,
            path_error,
            reset,
            width => WIDTH,
            height => HEIGHT,
        })
    })
    .await;
    match result {
        Ok(ctx) => render(context! { me => me(&page_caller), page => "cases", ..ctx }),
        Err(p) => error_page(&page_caller, &p),
    }
}

fn row(e: &EdgeView, label: &dyn Fn(&str) -> String) -> Row {
    let mut source = e.field.clone().unwrap_or_default();
    if let (Some(ent), Some(uid)) = (&e.source_entity, &e.source_uid) {
        source.push_str(&format!("（{ent} {uid}"));
        if let Some(r) = e.source_record_id {
            source.push_str(&format!("，原始记录 #{r}"));
        }
        source.push('）');
    }
    Row {
        from: label(&e.from),
        to: label(&e.to),
        kind_zh: e.kind_zh.clone(),
        date: e.date.clone().unwrap_or_default(),
        detail: e.detail_zh.clone().unwrap_or_default(),
        source,
    }
}

/// Adds a subgraph's nodes and edges not yet on the chart.
fn merge(
    nodes: &mut Vec<NodeView>,
    edges: &mut Vec<EdgeView>,
    more_nodes: Vec<NodeView>,
    more_edges: Vec<EdgeView>,
) {
    let have: BTreeSet<String> = nodes.iter().map(|n| n.id.clone()).collect();
    nodes.extend(more_nodes.into_iter().filter(|n| !have.contains(&n.id)));
    let have: BTreeSet<i64> = edges.iter().map(|e| e.seq).collect();
    edges.extend(more_edges.into_iter().filter(|e| !have.contains(&e.seq)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str) -> NodeView {
        let kind = NodeKind::of_id(id).unwrap();
        NodeView {
            id: id.into(),
            kind,
            kind_zh: kind.name_zh().into(),
            label: id.into(),
            case_uid: None,
            hub: false,
        }
    }

    fn edge(seq: i64, from: &str, to: &str) -> EdgeView {
        EdgeView {
            seq,
            from: from.into(),
            to: to.into(),
            kind: EdgeKind::InvolvedIn,
            kind_zh: EdgeKind::InvolvedIn.name_zh().into(),
            date: None,
            detail_zh: None,
            case_uid: None,
            field: None,
            source_entity: None,
            source_uid: None,
            source_record_id: None,
        }
    }

    #[test]
    fn rings_grow_with_distance_and_every_node_is_placed_inside_the_canvas() {
        let nodes: Vec<NodeView> = ["case:C1", "person:P1", "person:P2", "case:C2", "person:P3"]
            .iter()
            .map(|s| node(s))
            .collect();
        let edges = vec![
            edge(1, "person:P1", "case:C1"),
            edge(2, "person:P2", "case:C1"),
            edge(3, "person:P2", "case:C2"),
            edge(4, "person:P3", "case:C2"),
        ];
        let at = layout(&nodes, &edges, "case:C1");
        assert_eq!(at.len(), nodes.len());
        let (cx, cy) = (WIDTH / 2.0, HEIGHT / 2.0);
        let dist = |id: &str| {
            let (x, y) = at[id];
            ((x - cx) / (WIDTH / HEIGHT)).hypot(y - cy)
        };
        assert_eq!(at["case:C1"], (cx, cy));
        assert!(dist("person:P1") < dist("case:C2"));
        assert!(dist("case:C2") < dist("person:P3"));
        for (x, y) in at.values() {
            assert!((0.0..=WIDTH).contains(x) && (0.0..=HEIGHT).contains(y));
        }
    }

    proptest::proptest! {
        /// On any graph, every node is placed inside the canvas, the start at its centre, and
        /// a node farther from the start (in hops) is never drawn nearer to the centre.
        #[test]
        fn layout_places_every_node_by_its_distance(
            n in 1usize..30,
            pairs in proptest::collection::vec((0usize..30, 0usize..30), 0..60),
        ) {
            let ids: Vec<String> = (0..n)
                .map(|i| if i % 2 == 0 { format!("person:P{i}") } else { format!("case:C{i}") })
                .collect();
            let nodes: Vec<NodeView> = ids.iter().map(|s| node(s)).collect();
            let edges: Vec<EdgeView> = pairs
                .iter()
                .filter(|(a, b)| *a < n && *b < n && a != b)
                .enumerate()
                .map(|(i, (a, b))| edge(i as i64, &ids[*a], &ids[*b]))
                .collect();
            let at = layout(&nodes, &edges, &ids[0]);
            proptest::prop_assert_eq!(at.len(), n);
            let (cx, cy) = (WIDTH / 2.0, HEIGHT / 2.0);
            proptest::prop_assert_eq!(at[&ids[0]], (cx, cy));
            let radius = |id: &String| {
                let (x, y) = at[id];
                ((x - cx) / (WIDTH / HEIGHT)).hypot(y - cy)
            };
            // Hops from the start, by breadth-first search (unreached: beyond every ring).
            let mut hops: HashMap<&String, usize> = HashMap::from([(&ids[0], 0)]);
            let mut queue = VecDeque::from([&ids[0]]);
            while let Some(v) = queue.pop_front() {
                for e in &edges {
                    let other = if &e.from == v { &e.to } else if &e.to == v { &e.from } else { continue };
                    if !hops.contains_key(other) {
                        hops.insert(other, hops[v] + 1);
                        queue.push_back(other);
                    }
                }
            }
            for a in &ids {
                let (x, y) = at[a];
                proptest::prop_assert!((0.0..=WIDTH).contains(&x) && (0.0..=HEIGHT).contains(&y));
                for b in &ids {
                    let (ha, hb) = (hops.get(a).copied().unwrap_or(usize::MAX), hops.get(b).copied().unwrap_or(usize::MAX));
                    if ha < hb {
                        proptest::prop_assert!(radius(a) < radius(b) + 0.5, "{a} ({ha}) outside {b} ({hb})");
                    }
                }
            }
        }

        /// Links carry any node id through: decoding the encoded id gives it back.
        #[test]
        fn encoded_ids_decode_to_themselves(id in ".*") {
            proptest::prop_assert_eq!(crate::api::percent_decode(&encode(&id)), id);
        }
    }

    #[test]
    fn expansion_links_keep_the_filters_and_escape_node_ids() {
        let base = vec![
            ("node".to_string(), "case:C1".to_string()),
            ("kinds".to_string(), "involved_in".to_string()),
        ];
        let q = page_query(&base, &["person:P 1&x".to_string()]);
        assert_eq!(
            q,
            "node=case%3AC1&amp;kinds=involved_in&amp;expand=person%3AP%201%26x"
        );
    }
}
