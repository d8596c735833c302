//! Case-graph benchmark: a synthetic province (seed 42, 3 % dirty) ingested into SQLite, the
//! case graph built from it, then k-hop (k = 1, 2, 3) and shortest-path queries timed, each as
//! a case handler of the police organ that handled a case of the start person (so the answer
//! is not empty), with its access decisions and ledger entry.
//!
//! `cargo run --release -p xiezhi-casegraph --example bench -- --cases 100000 [--queries 200]
//! [--dir DIR]` (DIR is kept if given, so a second run reuses its store: `--reuse`).

use std::path::PathBuf;
use std::time::Instant;

use xiezhi_access::principal::{OrgKind, Principal, Role, User};
use xiezhi_access::{Authorizer, RequestContext, Salt};
use xiezhi_casegraph::{
    build, neighbours, path, EdgeKind, NeighbourQuery, PathQuery, QueryContext, CASE_GRAPH,
};
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_standard::Level;
use xiezhi_store::{GraphEdge, SqliteStore, Store};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn main() {
    let cases: usize = arg("--cases").map_or(100_000, |s| s.parse().expect("--cases"));
    let queries: usize = arg("--queries").map_or(200, |s| s.parse().expect("--queries"));
    let reuse = std::env::args().any(|a| a == "--reuse");
    let (_tmp, dir) = match arg("--dir") {
        Some(d) => (None, PathBuf::from(d)),
        None => {
            let t = tempfile::tempdir().expect("tempdir");
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("x.db");
    if !(reuse && db.exists()) {
        let export = dir.join("export");
        let t = Instant::now();
        xiezhi_synth::generate(
            &xiezhi_synth::SynthConfig {
                seed: 42,
                cases,
                dirty_rate: 0.03,
                ..xiezhi_synth::SynthConfig::default()
            },
            &export,
        )
        .expect("synth");
        let mut store = SqliteStore::open(&db).expect("open");
        ingest_export(
            &mut store,
            &shipped_plans().expect("plans"),
            &export,
            &IngestOptions::default(),
            &mut |_, _, _| {},
        )
        .expect("ingest");
        println!(
            "province of {cases} cases generated and ingested in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let mut store = SqliteStore::open(&db).expect("open");
    let t = Instant::now();
    let stats = build(&mut store, CASE_GRAPH, &mut |_| {}).expect("build");
    let build_s = t.elapsed().as_secs_f64();
    println!(
        "build: {build_s:.1} s — {} cases, {} persons, {} nodes, {} edges",
        stats.cases, stats.persons, stats.nodes, stats.edges
    );

    // Start persons: evenly spaced over the involved_in edges, each with the organ that
    // handled that case; path targets: a co-offender or another person of the same organ.
    let mut edges: Vec<GraphEdge> = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .graph_edges_after(CASE_GRAPH, after, 50_000)
            .expect("edges");
        let Some(last) = page.last() else { break };
        after = last.seq;
        edges.extend(page.into_iter().filter(|e| {
            e.kind == EdgeKind::InvolvedIn.as_str() || e.kind == EdgeKind::HandledBy.as_str()
        }));
    }
    let handled: std::collections::HashMap<&str, &str> = edges
        .iter()
        .filter(|e| e.kind == EdgeKind::HandledBy.as_str())
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    let involved: Vec<&GraphEdge> = edges
        .iter()
        .filter(|e| e.kind == EdgeKind::InvolvedIn.as_str() && handled.contains_key(e.to.as_str()))
        .collect();
    let step = (involved.len() / queries).max(1);
    let starts: Vec<(&str, &str)> = involved
        .iter()
        .step_by(step)
        .take(queries)
        .map(|e| (e.from.as_str(), handled[e.to.as_str()]))
        .collect();
    let mut by_org: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for e in &involved {
        by_org
            .entry(handled[e.to.as_str()])
            .or_default()
            .push(e.from.as_str());
    }

    // Compiled views are kept per principal as a server keeps them (`ViewCache`): the first
    // query of each organ compiles its views, the rest reuse them.
    let authz = std::sync::Arc::new(Authorizer::builtin().expect("authz"));
    let cache = xiezhi_access::reader::ViewCache::default();
    let salt = Salt::new(b"bench".to_vec());
    let ctx = RequestContext::on(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("day"));
    let principal = |org: &str| {
        Principal::User(User {
            id: "bench".into(),
            name: "办案民警".into(),
            org_code: org.trim_start_matches("organ:").into(),
            org_kind: OrgKind::Police,
            division: "520000".into(),
            role: Role::CaseHandler,
            clearance: Level::L3,
        })
    };
    // Warm-up, untimed: every organ's views compiled once, and per start the farthest person
    // within 3 hops, the target of a path that exists.
    let mut near: Vec<Option<String>> = Vec::new();
    for (person, org) in &starts {
        let p = principal(org);
        let q = QueryContext {
            authz: &authz,
            salt: &salt,
            principal: &p,
            ctx,
            cache: Some((&cache, &authz)),
        };
        let r = neighbours(
            &mut store,
            CASE_GRAPH,
            &q,
            &NeighbourQuery {
                start: person.to_string(),
                hops: 3,
                kinds: Vec::new(),
                since: None,
                until: None,
                max_nodes: 1_000,
            },
        );
        near.push(r.ok().and_then(|s| {
            s.nodes
                .iter()
                .rev()
                .find(|n| n.kind == xiezhi_casegraph::NodeKind::Person && n.id != *person)
                .map(|n| n.id.clone())
        }));
    }
    for hops in 1..=3u8 {
        let mut ms = Vec::new();
        let mut sizes = 0usize;
        for (person, org) in &starts {
            let p = principal(org);
            let q = QueryContext {
                authz: &authz,
                salt: &salt,
                principal: &p,
                ctx,
                cache: Some((&cache, &authz)),
            };
            let t = Instant::now();
            let r = neighbours(
                &mut store,
                CASE_GRAPH,
                &q,
                &NeighbourQuery {
                    start: person.to_string(),
                    hops,
                    kinds: Vec::new(),
                    since: None,
                    until: None,
                    max_nodes: 1_000,
                },
            );
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            sizes += r.map_or(0, |s| s.nodes.len());
        }
        println!(
            "k-hop k={hops}: {} queries, p50 {:.2} ms, p99 {:.2} ms, mean nodes returned {:.1}",
            ms.len(),
            percentile(&mut ms, 0.5),
            percentile(&mut ms, 0.99),
            sizes as f64 / ms.len() as f64
        );
    }
    for (label, reachable) in [
        ("a person within 3 hops", true),
        ("another person of the same organ's cases", false),
    ] {
        let mut ms = Vec::new();
        let mut found = 0;
        for (i, (person, org)) in starts.iter().enumerate() {
            let pool = &by_org[org];
            let target = match (&near[i], reachable) {
                (Some(t), true) => t.as_str(),
                (None, true) => continue,
                _ => pool[(i * 7919) % pool.len()],
            };
            let p = principal(org);
            let q = QueryContext {
                authz: &authz,
                salt: &salt,
                principal: &p,
                ctx,
                cache: Some((&cache, &authz)),
            };
            let t = Instant::now();
            let r = path(
                &mut store,
                CASE_GRAPH,
                &q,
                &PathQuery {
                    from: person.to_string(),
                    to: target.to_string(),
                    max_hops: 6,
                    kinds: Vec::new(),
                    since: None,
                    until: None,
                },
            );
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            found += usize::from(r.is_ok_and(|s| !s.nodes.is_empty()));
        }
        println!(
            "path to {label} (max 6 hops): {} queries, {found} found, p50 {:.2} ms, p99 {:.2} ms",
            ms.len(),
            percentile(&mut ms, 0.5),
            percentile(&mut ms, 0.99)
        );
    }
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!("SQLite file {:.2} GB", size as f64 / 1e9);
}
