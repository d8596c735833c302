//! Property: over random case graphs and random askers, a neighbourhood or a path never holds
//! or crosses a node the asker may not see, every node and edge returned is visible, and the
//! answers are exactly those of the visible subgraph (computed here independently).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use proptest::prelude::*;
use xiezhi_access::principal::{OrgKind, Principal, Role, User};
use xiezhi_access::{Authorizer, RequestContext, Salt};
use xiezhi_casegraph::{
    build, neighbours, neighbours_within, path, path_within, GraphError, NeighbourQuery, NodeKind,
    PathQuery, QueryContext, CASE_GRAPH,
};
use xiezhi_standard::{Entity, Level, Record, Value};
use xiezhi_store::{Batch, EntityRow, NewRun, Outcome, SourceRecordRow, SqliteStore, Store};

const ORGS: [&str; 3] = [
    "520102000000000001",
    "520103000000000002",
    "520111000000000003",
];

#[derive(Debug, Clone)]
struct World {
    /// Per case: handling organ index.
    cases: Vec<usize>,
    /// Per person: (phone index, address index).
    persons: Vec<(usize, usize)>,
    /// (case, person) links.
    links: BTreeSet<(usize, usize)>,
}

fn world() -> impl Strategy<Value = World> {
    (1usize..7, 1usize..9).prop_flat_map(|(nc, np)| {
        (
            proptest::collection::vec(0usize..ORGS.len(), nc),
            proptest::collection::vec((0usize..4, 0usize..4), np),
            proptest::collection::btree_set((0..nc, 0..np), 1..(nc * np).min(14) + 1),
        )
            .prop_map(|(cases, persons, links)| World {
                cases,
                persons,
                links,
            })
    })
}

fn row(
    entity: Entity,
    uid: &str,
    fields: &[(&str, Value)],
    case: Option<&str>,
    person: Option<&str>,
    src: i64,
) -> EntityRow {
    let mut r = Record::new(entity);
    for (f, v) in fields {
        r.set(f, v.clone()).unwrap();
    }
    EntityRow {
        uid: uid.into(),
        case_uid: case.map(Into::into),
        person_uid: person.map(Into::into),
        record: r,
        source_record_id: src,
    }
}

fn store_of(w: &World) -> SqliteStore {
    let mut store = SqliteStore::in_memory().unwrap();
    let run = store
        .begin_run(&NewRun {
            kind: "ingest".into(),
            source: "police".into(),
            file: "police/cases.csv".into(),
            mapping: "police.toml".into(),
            started_at: "2024-01-01T00:00:00".into(),
        })
        .unwrap();
    let mut entities = Vec::new();
    let mut src = 0;
    let mut next = || {
        src += 1;
        src
    };
    for (i, org) in ORGS.iter().enumerate() {
        entities.push(row(
            Entity::Organization,
            org,
            &[
                ("org_code", Value::Text((*org).into())),
                ("name", Value::Text(format!("测试公安分局{i}"))),
                ("division", Value::Code(org[..6].into())),
            ],
            None,
            None,
            next(),
        ));
    }
    for (c, org) in w.cases.iter().enumerate() {
        let at = chrono::NaiveDate::from_ymd_opt(2024, 1, 1 + c as u32)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        entities.push(row(
            Entity::Case,
            &format!("C{c}"),
            &[
                ("name", Value::Text(format!("某某盗窃案{c}"))),
                ("handling_org", Value::Text(ORGS[*org].into())),
                ("occurred_at", Value::DateTime(at)),
                ("occurred_division", Value::Code(ORGS[*org][..6].into())),
            ],
            None,
            None,
            next(),
        ));
    }
    for (p, (phone, address)) in w.persons.iter().enumerate() {
        entities.push(row(
            Entity::Person,
            &format!("P{p}"),
            &[
                ("name", Value::Text(format!("张{p}"))),
                ("phone", Value::Text(format!("1391234000{phone}"))),
                (
                    "address",
                    Value::Text(format!("贵阳市南明区新华路{address}号")),
                ),
            ],
            None,
            None,
            next(),
        ));
    }
    for (c, p) in &w.links {
        let case = format!("C{c}");
        let person = format!("P{p}");
        entities.push(row(
            Entity::CasePerson,
            &format!("L{c}-{p}"),
            &[("role", Value::Code("suspect".into()))],
            Some(&case),
            Some(&person),
            next(),
        ));
    }
    let source_records = (1..=src)
        .map(|id| SourceRecordRow {
            id,
            source: "police".into(),
            file: "police/cases.csv".into(),
            record_no: id,
            line: id + 1,
            sha256: format!("{id:064x}"),
            outcome: Outcome::Accepted,
        })
        .collect();
    store
        .write_batch(
            run,
            &Batch {
                source_records,
                entities,
                ..Batch::default()
            },
        )
        .unwrap();
    build(&mut store, CASE_GRAPH, &mut |_| {}).unwrap();
    store
}

/// The visible subgraph, computed from the world alone: the asker's organ handled the case;
/// a person is visible through a visible case; a phone or address through a visible holder;
/// organs are seen but never passed through.
struct Oracle {
    visible: BTreeSet<String>,
    adj: BTreeMap<String, BTreeSet<String>>,
}

fn oracle(store: &SqliteStore, w: &World, org: Option<usize>) -> Oracle {
    let case_ok = |c: usize| org == Some(w.cases[c]);
    let mut visible = BTreeSet::new();
    let mut adj: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut link = |a: &str, b: &str| {
        adj.entry(a.into()).or_default().insert(b.into());
        adj.entry(b.into()).or_default().insert(a.into());
    };
    let person_ok = |p: usize| w.links.iter().any(|&(c, q)| q == p && case_ok(c));
    for c in 0..w.cases.len() {
        if case_ok(c) {
            visible.insert(format!("case:C{c}"));
            visible.insert(format!("organ:{}", ORGS[w.cases[c]]));
            link(
                &format!("case:C{c}"),
                &format!("organ:{}", ORGS[w.cases[c]]),
            );
        }
    }
    for &(c, p) in &w.links {
        if case_ok(c) {
            visible.insert(format!("person:P{p}"));
            link(&format!("person:P{p}"), &format!("case:C{c}"));
        }
    }
    // Identifier node ids as the graph stores them.
    let edges = store.graph_edges_after(CASE_GRAPH, 0, 10_000).unwrap();
    for e in edges {
        let Some(p) = e.from.strip_prefix("person:P") else {
            continue;
        };
        let p: usize = p.parse().unwrap();
        if matches!(
            NodeKind::of_id(&e.to),
            Some(NodeKind::Phone | NodeKind::Address)
        ) && person_ok(p)
        {
            visible.insert(e.to.clone());
            link(&e.from, &e.to);
        }
    }
    Oracle { visible, adj }
}

impl Oracle {
    /// Breadth-first distances from `start` over visible nodes, not passing through organs.
    fn distances(&self, start: &str, max: usize) -> BTreeMap<String, usize> {
        let mut d = BTreeMap::from([(start.to_string(), 0)]);
        let mut queue = VecDeque::from([start.to_string()]);
        while let Some(n) = queue.pop_front() {
            let dn = d[&n];
            if dn == max || (n != start && n.starts_with("organ:")) {
                continue;
            }
            for m in self.adj.get(&n).into_iter().flatten() {
                if self.visible.contains(m) && !d.contains_key(m) {
                    d.insert(m.clone(), dn + 1);
                    queue.push_back(m.clone());
                }
            }
        }
        d
    }
}

fn asker(org: Option<usize>) -> Principal {
    Principal::User(User {
        id: "u".into(),
        name: "测试".into(),
        org_code: org.map_or("999999000000000000", |o| ORGS[o]).into(),
        org_kind: OrgKind::Police,
        division: org.map_or("999999", |o| &ORGS[o][..6]).into(),
        role: if org.is_some() {
            Role::CaseHandler
        } else {
            Role::Public
        },
        clearance: Level::L3,
    })
}

/// The asker's query context on a fixed day, views compiled per query.
fn context<'a>(
    authz: &'a Authorizer,
    salt: &'a Salt,
    principal: &'a Principal,
) -> QueryContext<'a> {
    QueryContext {
        authz,
        salt,
        principal,
        ctx: RequestContext::on(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
        cache: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn answers_hold_only_visible_nodes_and_are_those_of_the_visible_subgraph(
        w in world(),
        org in proptest::option::of(0usize..ORGS.len()),
        start_pick in 0usize..64,
        end_pick in 0usize..64,
        hops in 1u8..=3,
    ) {
        let mut store = store_of(&w);
        let o = oracle(&store, &w, org);
        let (authz, salt, principal) = (Authorizer::builtin().unwrap(), Salt::new(b"s".to_vec()), asker(org));
        let q = context(&authz, &salt, &principal);
        let mut ids: Vec<String> = o.adj.keys().cloned().collect();
        ids.extend((0..w.persons.len()).map(|p| format!("person:P{p}")));
        ids.extend((0..w.cases.len()).map(|c| format!("case:C{c}")));
        ids.sort();
        ids.dedup();
        let start = ids[start_pick % ids.len()].clone();
        let end = ids[end_pick % ids.len()].clone();

        let before = store.ledger_len().unwrap();
        let got = neighbours(&mut store, CASE_GRAPH, &q, &NeighbourQuery {
            start: start.clone(), hops, kinds: Vec::new(), since: None, until: None, max_nodes: 1_000,
        });
        prop_assert_eq!(store.ledger_len().unwrap(), before + 1);
        if !o.visible.contains(&start) {
            prop_assert!(matches!(got, Err(GraphError::NoNode(_))));
        } else {
            let sub = got.unwrap();
            let want: BTreeSet<String> = o.distances(&start, usize::from(hops)).into_keys().collect();
            let have: BTreeSet<String> = sub.nodes.iter().map(|n| n.id.clone()).collect();
            for n in &have {
                prop_assert!(o.visible.contains(n), "hidden node {} returned", n);
            }
            for e in &sub.edges {
                prop_assert!(o.visible.contains(&e.from) && o.visible.contains(&e.to));
                prop_assert!(have.contains(&e.from) && have.contains(&e.to));
            }
            prop_assert_eq!(have, want);
        }

        let got = path(&mut store, CASE_GRAPH, &q, &PathQuery {
            from: start.clone(), to: end.clone(), max_hops: 6, kinds: Vec::new(), since: None, until: None,
        });
        if !o.visible.contains(&start) || !o.visible.contains(&end) {
            prop_assert!(matches!(got, Err(GraphError::NoNode(_))));
        } else {
            let sub = got.unwrap();
            for n in &sub.nodes {
                prop_assert!(o.visible.contains(&n.id), "path crosses hidden node {}", n.id);
            }
            for n in sub.nodes.iter().skip(1).take(sub.nodes.len().saturating_sub(2)) {
                prop_assert!(n.kind != NodeKind::Organ, "path passes through an organ");
            }
            let shortest = o.distances(&start, 6).get(&end).copied();
            match shortest {
                None => prop_assert!(sub.nodes.is_empty()),
                Some(d) => prop_assert_eq!(sub.edges.len(), d),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// A query's case budget can only leave things out: with budget for a few cases, a
    /// neighbourhood holds visible nodes only, all within the full answer, and it is the full
    /// answer whenever no case was left undecided; a path found is never shorter than the
    /// shortest visible one, and is that one when nothing was left undecided.
    #[test]
    fn a_spent_case_budget_leaves_nodes_out_and_says_so(
        w in world(),
        org in 0usize..ORGS.len(),
        start_pick in 0usize..64,
        end_pick in 0usize..64,
        hops in 1u8..=3,
        budget in 0usize..4,
    ) {
        let mut store = store_of(&w);
        let o = oracle(&store, &w, Some(org));
        let (authz, salt, principal) = (Authorizer::builtin().unwrap(), Salt::new(b"s".to_vec()), asker(Some(org)));
        let q = context(&authz, &salt, &principal);
        let mut ids: Vec<String> = o.visible.iter().cloned().collect();
        ids.sort();
        prop_assume!(!ids.is_empty());
        let start = ids[start_pick % ids.len()].clone();
        let end = ids[end_pick % ids.len()].clone();

        let query = NeighbourQuery {
            start: start.clone(), hops, kinds: Vec::new(), since: None, until: None, max_nodes: 1_000,
        };
        let want: BTreeSet<String> = o.distances(&start, usize::from(hops)).into_keys().collect();
        match neighbours_within(&mut store, CASE_GRAPH, &q, &query, budget) {
            // The start's own cases may be past the budget, never when all cases fit in it.
            Err(GraphError::NoNode(_)) => prop_assert!(budget < w.cases.len()),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
            Ok(sub) => {
                let have: BTreeSet<String> = sub.nodes.iter().map(|n| n.id.clone()).collect();
                prop_assert!(have.is_subset(&want), "{:?} not within {:?}", have, want);
                if sub.undecided_cases == 0 {
                    prop_assert_eq!(&have, &want);
                    prop_assert!(!sub.explanation_zh.contains("判定上限"));
                } else {
                    let said = format!("案件判定上限 {budget} 件");
                    prop_assert!(sub.explanation_zh.contains(&said));
                }
            }
        }

        let query = PathQuery {
            from: start.clone(), to: end.clone(), max_hops: 6, kinds: Vec::new(), since: None, until: None,
        };
        let shortest = o.distances(&start, 6).get(&end).copied();
        let got = path_within(&mut store, CASE_GRAPH, &q, &query, budget);
        if budget >= w.cases.len() {
            prop_assert!(got.as_ref().is_ok_and(|s| s.undecided_cases == 0));
        }
        if let Ok(sub) = got {
            for n in &sub.nodes {
                prop_assert!(o.visible.contains(&n.id), "path crosses hidden node {}", n.id);
            }
            match (shortest, sub.nodes.is_empty()) {
                (None, found_none) => prop_assert!(found_none),
                (Some(d), false) => prop_assert!(sub.edges.len() >= d),
                (Some(_), true) => prop_assert!(sub.undecided_cases > 0),
            }
            if sub.undecided_cases == 0 && !sub.nodes.is_empty() {
                prop_assert_eq!(Some(sub.edges.len()), shortest);
            }
        }
    }
}
