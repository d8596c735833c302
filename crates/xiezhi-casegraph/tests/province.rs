//! End to end on a small synthetic province: ingest, build the case graph, find the planted
//! co-offending groups, and query it as an organ that handled some of their cases.

use std::collections::{BTreeMap, BTreeSet};

use xiezhi_access::principal::{OrgKind, Principal, Role, User};
use xiezhi_access::{Authorizer, RequestContext, Salt};
use xiezhi_casegraph::analysis::{detect, project, score};
use xiezhi_casegraph::{
    analyse, build, neighbours, path, EdgeKind, GraphError, NeighbourQuery, NodeKind, PathQuery,
    QueryContext, CASE_GRAPH,
};
use xiezhi_ingest::evaluate::read_truth;
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_standard::{Entity, Level};
use xiezhi_store::{GraphEdge, SqliteStore, Store};
use xiezhi_synth::groups::{GroupTruth, FILE};
use xiezhi_synth::SynthConfig;

struct Province {
    _dir: tempfile::TempDir,
    store: SqliteStore,
    /// True person id (`P000123`) → platform person uid.
    uid_of: BTreeMap<String, String>,
    groups: Vec<GroupTruth>,
}

fn province(seed: u64, cases: usize) -> Province {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    let cfg = SynthConfig {
        seed,
        cases,
        dirty_rate: 0.05,
        ..SynthConfig::default()
    };
    xiezhi_synth::generate(&cfg, &export).unwrap();
    let mut store = SqliteStore::open(&dir.path().join("x.db")).unwrap();
    let plans = shipped_plans().unwrap();
    let reports = ingest_export(
        &mut store,
        &plans,
        &export,
        &IngestOptions::default(),
        &mut |_, _, _| {},
    )
    .unwrap();
    // Join the ground truth (file, record → true person) with the ingest outcomes (file,
    // record → platform person); a true person's uid is the one most of his records got.
    let mut votes: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let truth = read_truth(&export.join("ground-truth.jsonl")).unwrap();
    let by_record: BTreeMap<(&str, i64), &str> = truth
        .iter()
        .map(|t| ((t.file.as_str(), t.record), t.person.as_str()))
        .collect();
    for r in &reports {
        for o in &r.outcomes {
            let (Some(uid), Some(person)) = (
                o.person_uid.as_ref(),
                by_record.get(&(r.file.as_str(), o.record_no)),
            ) else {
                continue;
            };
            *votes
                .entry(person.to_string())
                .or_default()
                .entry(uid.clone())
                .or_default() += 1;
        }
    }
    let uid_of = votes
        .into_iter()
        .filter_map(|(p, v)| Some((p, v.into_iter().max_by_key(|(_, n)| *n)?.0)))
        .collect();
    let groups = std::fs::read_to_string(export.join(FILE))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Province {
        _dir: dir,
        store,
        uid_of,
        groups,
    }
}

fn all_edges(store: &SqliteStore) -> Vec<GraphEdge> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store.graph_edges_after(CASE_GRAPH, after, 5_000).unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        out.extend(page);
    }
    out
}

fn handler(org: &str) -> Principal {
    Principal::User(User {
        id: "handler".into(),
        name: "办案民警".into(),
        org_code: org.into(),
        org_kind: OrgKind::Police,
        division: "520102".into(),
        role: Role::CaseHandler,
        clearance: Level::L3,
    })
}

#[test]
fn planted_co_offending_groups_are_found_and_queried_under_access_rules() {
    let mut p = province(5, 2_000);
    assert_eq!(p.groups.len(), 10);
    let stats = build(&mut p.store, CASE_GRAPH, &mut |_| {}).unwrap();
    assert_eq!(stats.cases as i64, p.store.count(Entity::Case).unwrap());
    assert!(stats.phones_in_text >= p.groups.iter().map(|g| g.cases.len() as u64).sum());
    assert!(stats.records > 0, "persons seen by several departments");
    let edges = all_edges(&p.store);
    assert_eq!(edges.len() as u64, stats.edges);

    // No identifier is stored in the clear.
    for g in &p.groups {
        for x in g.phones.iter().chain(&g.addresses) {
            assert!(
                !edges
                    .iter()
                    .any(|e| e.from.contains(x.as_str()) || e.to.contains(x.as_str())),
                "{x} stored in the clear"
            );
        }
    }

    // Community detection against the planted groups.
    let proj = project(&edges);
    let found: Vec<Vec<String>> = detect(&proj)
        .into_iter()
        .map(|c| c.into_iter().map(|v| proj.persons[v].clone()).collect())
        .collect();
    let groups: Vec<Vec<String>> = p
        .groups
        .iter()
        .map(|g| {
            g.members
                .iter()
                .map(|m| format!("person:{}", p.uid_of[m]))
                .collect()
        })
        .collect();
    let s = score(&found, &groups);
    let message = format!(
        "pairwise precision {:.3} recall {:.3}; best-match precision {:.3} recall {:.3} over {} groups",
        s.pair_precision, s.pair_recall, s.match_precision, s.match_recall, s.groups
    );
    println!("{message}");
    assert!(
        s.pair_precision >= 0.9
            && s.pair_recall >= 0.9
            && s.match_precision >= 0.9
            && s.match_recall >= 0.9,
        "{message}"
    );

    // An organ that handled a group's case sees the member and the case around him.
    let group = &groups[0];
    let member = &group[0];
    let case = edges
        .iter()
        .find(|e| &e.from == member && e.kind == EdgeKind::InvolvedIn.as_str())
        .unwrap()
        .to
        .clone();
    let org = edges
        .iter()
        .find(|e| e.from == case && e.kind == EdgeKind::HandledBy.as_str())
        .unwrap()
        .to
        .trim_start_matches("organ:")
        .to_string();
    let authz = Authorizer::builtin().unwrap();
    let salt = Salt::new(b"test".to_vec());
    let principal = handler(&org);
    let q = QueryContext {
        authz: &authz,
        salt: &salt,
        principal: &principal,
        ctx: RequestContext::on(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()),
        cache: None,
    };
    let before = p.store.ledger_len().unwrap();
    let sub = neighbours(
        &mut p.store,
        CASE_GRAPH,
        &q,
        &NeighbourQuery {
            start: member.clone(),
            hops: 2,
            kinds: Vec::new(),
            since: None,
            until: None,
            max_nodes: 500,
        },
    )
    .unwrap();
    assert_eq!(
        p.store.ledger_len().unwrap(),
        before + 1,
        "one entry per query"
    );
    // The same query on views cached across queries (as a server keeps them) answers alike.
    let shared = std::sync::Arc::new(Authorizer::builtin().unwrap());
    let cache = xiezhi_access::reader::ViewCache::default();
    let cached = QueryContext {
        cache: Some((&cache, &shared)),
        ..q
    };
    let query = NeighbourQuery {
        start: member.clone(),
        hops: 2,
        kinds: Vec::new(),
        since: None,
        until: None,
        max_nodes: 500,
    };
    for _ in 0..2 {
        let again = neighbours(&mut p.store, CASE_GRAPH, &cached, &query).unwrap();
        assert_eq!(again, sub);
    }
    assert_eq!(cache.len(), 4, "one view per entity, compiled once");
    assert!(sub.nodes.iter().any(|n| n.id == case));
    let me = sub.nodes.iter().find(|n| &n.id == member).unwrap();
    assert!(me.label.contains('*') || !me.label.is_empty());
    // Every case returned is one this organ took part in.
    for n in sub.nodes.iter().filter(|n| n.kind == NodeKind::Case) {
        let handled: BTreeSet<&str> = edges
            .iter()
            .filter(|e| e.from == n.id && e.kind != EdgeKind::MentionsPhone.as_str())
            .map(|e| e.to.as_str())
            .collect();
        assert!(
            handled.contains(format!("organ:{org}").as_str()),
            "{} returned to an organ that did not take part in it",
            n.id
        );
    }
    // Co-offenders of that case are two hops away: a path to one of them.
    let partner = edges
        .iter()
        .find(|e| e.to == case && &e.from != member && e.kind == EdgeKind::InvolvedIn.as_str())
        .unwrap()
        .from
        .clone();
    let found_path = path(
        &mut p.store,
        CASE_GRAPH,
        &q,
        &PathQuery {
            from: member.clone(),
            to: partner.clone(),
            max_hops: 4,
            kinds: Vec::new(),
            since: None,
            until: None,
        },
    )
    .unwrap();
    assert!((1..=2).contains(&found_path.edges.len()), "{found_path:?}");
    assert_eq!(found_path.nodes.first().unwrap().id, *member);
    assert_eq!(found_path.nodes.last().unwrap().id, partner);
    // A date window on the path: the same path inside the window its dated edges span; none
    // through case links once the window ends before any case began.
    let dates: Vec<&str> = found_path
        .edges
        .iter()
        .filter_map(|e| e.date.as_deref())
        .collect();
    let windowed = |since: Option<&str>, until: Option<&str>, store: &mut _| {
        path(
            store,
            CASE_GRAPH,
            &q,
            &PathQuery {
                from: member.clone(),
                to: partner.clone(),
                max_hops: 4,
                kinds: vec![EdgeKind::InvolvedIn],
                since: since.map(str::to_string),
                until: until.map(str::to_string),
            },
        )
        .unwrap()
    };
    if let (Some(first), Some(last)) = (dates.iter().min(), dates.iter().max()) {
        let inside = windowed(Some(first), Some(last), &mut p.store);
        assert_eq!(inside.edges.len(), found_path.edges.len(), "{inside:?}");
        for e in &inside.edges {
            let d = e.date.as_deref().unwrap();
            assert!(*first <= d && d <= *last, "{d} outside {first}..{last}");
        }
    }
    let before_all = windowed(None, Some("1900-01-01"), &mut p.store);
    assert!(before_all.nodes.is_empty(), "{before_all:?}");

    // An organ of no case sees nothing, and the query is still logged.
    let outsider = handler("000000000000000000");
    let q2 = QueryContext {
        principal: &outsider,
        ..q
    };
    let before = p.store.ledger_len().unwrap();
    let denied = neighbours(
        &mut p.store,
        CASE_GRAPH,
        &q2,
        &NeighbourQuery {
            start: member.clone(),
            hops: 1,
            kinds: Vec::new(),
            since: None,
            until: None,
            max_nodes: 100,
        },
    );
    assert!(matches!(denied, Err(GraphError::NoNode(_))));
    assert_eq!(p.store.ledger_len().unwrap(), before + 1);
    let a = analyse(&mut p.store, CASE_GRAPH, &q2, 2, 10).unwrap();
    assert!(a.communities.is_empty() && a.central.is_empty());

    // The organ's own analysis holds only persons of its cases.
    let a = analyse(&mut p.store, CASE_GRAPH, &q, 2, 10).unwrap();
    assert!(!a.central.is_empty());
    let last = p
        .store
        .ledger_entries(p.store.ledger_len().unwrap() - 1, 1)
        .unwrap();
    assert!(last[0].body.contains("graph_query"));

    // The benchmark pass: every start answered, a path found to every warm-up target, and each
    // timed query ledgered.
    let before = p.store.ledger_len().unwrap();
    let t = xiezhi_casegraph::bench::time_queries(&mut p.store, CASE_GRAPH, 8).unwrap();
    let starts = t.khop[0].queries;
    assert!(starts >= 8, "{t:?}");
    assert!(
        t.khop
            .iter()
            .all(|h| h.queries == starts && h.mean_nodes > 1.0),
        "{t:?}"
    );
    assert!(t.khop[2].mean_nodes >= t.khop[0].mean_nodes, "{t:?}");
    assert!(
        t.path_near.queries > 0 && t.path_near.found == t.path_near.queries,
        "{t:?}"
    );
    assert_eq!(t.path_far.queries, starts);
    let logged = p.store.ledger_len().unwrap() - before;
    // Warm-up, three k-hop passes and two path passes, one entry each.
    let asked = 4 * starts + t.path_near.queries + t.path_far.queries;
    assert_eq!(logged as usize, asked);
}

/// With field encryption on, an identifier node is the store's blinded key of the value (the
/// same MAC entity resolution uses), not the value or its plain hash.
#[test]
fn identifiers_are_keyed_by_the_store_blinder_when_fields_are_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    xiezhi_synth::generate(
        &SynthConfig {
            seed: 9,
            cases: 200,
            dirty_rate: 0.0,
            ..SynthConfig::default()
        },
        &export,
    )
    .unwrap();
    let at = xiezhi_store::Location::Sqlite(dir.path().join("x.db"));
    let mut store = xiezhi_store::open::open(&at, Some(dir.path())).unwrap();
    assert!(store.field_encryption().is_some());
    ingest_export(
        &mut store,
        &shipped_plans().unwrap(),
        &export,
        &IngestOptions::default(),
        &mut |_, _, _| {},
    )
    .unwrap();
    build(&mut store, CASE_GRAPH, &mut |_| {}).unwrap();
    let groups: Vec<GroupTruth> = std::fs::read_to_string(export.join(FILE))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let phone = &groups[0].phones[0];
    let blinded = store.key_blinder().blind(&format!("phone:{phone}"));
    assert_ne!(blinded, format!("phone:{phone}"));
    let unkeyed = xiezhi_casegraph::build::identifier_id(
        &xiezhi_store::fieldcrypt::KeyBlinder::none(),
        NodeKind::Phone,
        phone,
    );
    assert_ne!(blinded, unkeyed);
    let nodes = store
        .graph_nodes(CASE_GRAPH, &[blinded.clone(), unkeyed])
        .unwrap();
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    assert_eq!(nodes[0].node, blinded);
}
