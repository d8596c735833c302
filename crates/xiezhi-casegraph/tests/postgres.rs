//! The case graph on PostgreSQL, in both layouts, is the graph SQLite holds for the same
//! province, and answers the same query. Runs when `DATABASE_URL` is set (a fresh schema per
//! layout, dropped afterwards); with `XIEZHI_REQUIRE_PG=1` a missing `DATABASE_URL` fails.

use std::collections::BTreeSet;

use xiezhi_access::principal::{OrgKind, Principal, Role, User};
use xiezhi_access::{Authorizer, RequestContext, Salt};
use xiezhi_casegraph::{build, neighbours, EdgeKind, NeighbourQuery, QueryContext, CASE_GRAPH};
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_standard::Level;
use xiezhi_store::{AnyStore, Location, Store};
use xiezhi_synth::SynthConfig;

fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("XIEZHI_REQUIRE_PG").as_deref() != Ok("1"),
                "XIEZHI_REQUIRE_PG=1 but DATABASE_URL is not set"
            );
            eprintln!("case graph on PostgreSQL: skipped, DATABASE_URL is not set");
            None
        }
    }
}

/// A schema made for one store and dropped with it.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(url: &str, tag: &str) -> Schema {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("casegraph_{tag}_{}_{nanos}", std::process::id());
        let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .expect("create schema");
        Schema {
            url: url.to_string(),
            name,
        }
    }

    fn url(&self, layout: &str) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-csearch_path%3D{}&layout={layout}",
            self.url, self.name
        )
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

type Shape = (
    BTreeSet<String>,
    BTreeSet<(String, String, String, Option<String>)>,
);

fn ingest_and_build(store: &mut AnyStore, export: &std::path::Path) -> Shape {
    ingest_export(
        store,
        &shipped_plans().unwrap(),
        export,
        &IngestOptions::default(),
        &mut |_, _, _| {},
    )
    .unwrap();
    build(store, CASE_GRAPH, &mut |_| {}).unwrap();
    let nodes = store
        .graph_nodes_after(CASE_GRAPH, "", 1_000_000)
        .unwrap()
        .into_iter()
        .map(|n| n.node)
        .collect();
    let edges = store
        .graph_edges_after(CASE_GRAPH, 0, 1_000_000)
        .unwrap()
        .into_iter()
        .map(|e| (e.from, e.to, e.kind, e.case_uid))
        .collect();
    (nodes, edges)
}

#[test]
fn postgres_holds_the_graph_sqlite_holds_in_both_layouts() {
    let Some(url) = database_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    xiezhi_synth::generate(
        &SynthConfig {
            seed: 3,
            cases: 300,
            dirty_rate: 0.03,
            ..SynthConfig::default()
        },
        &export,
    )
    .unwrap();
    let mut sqlite =
        xiezhi_store::open::open(&Location::Sqlite(dir.path().join("x.db")), None).unwrap();
    let want = ingest_and_build(&mut sqlite, &export);
    assert!(want.1.len() > 1_000);
    for layout in ["plain", "partitioned"] {
        let schema = Schema::new(&url, layout);
        let mut pg =
            xiezhi_store::open::open(&Location::Postgres(schema.url(layout)), None).unwrap();
        let got = ingest_and_build(&mut pg, &export);
        assert_eq!(got.0, want.0, "{layout}: nodes");
        assert_eq!(got.1, want.1, "{layout}: edges");

        // The same neighbourhood for the organ of the first case's handler, on both.
        let (case, org) = want
            .1
            .iter()
            .find(|e| e.2 == EdgeKind::HandledBy.as_str())
            .map(|e| (e.0.clone(), e.1.trim_start_matches("organ:").to_string()))
            .unwrap();
        let principal = Principal::User(User {
            id: "u".into(),
            name: "办案民警".into(),
            org_code: org,
            org_kind: OrgKind::Police,
            division: "520000".into(),
            role: Role::CaseHandler,
            clearance: Level::L3,
        });
        let authz = Authorizer::builtin().unwrap();
        let salt = Salt::new(b"s".to_vec());
        let q = QueryContext {
            authz: &authz,
            salt: &salt,
            principal: &principal,
            ctx: RequestContext::on(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()),
            cache: None,
        };
        let query = NeighbourQuery {
            start: case,
            hops: 2,
            kinds: Vec::new(),
            since: None,
            until: None,
            max_nodes: 500,
        };
        let a = neighbours(&mut sqlite, CASE_GRAPH, &q, &query).unwrap();
        let b = neighbours(&mut pg, CASE_GRAPH, &q, &query).unwrap();
        let ids = |s: &xiezhi_casegraph::Subgraph| {
            s.nodes
                .iter()
                .map(|n| n.id.clone())
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(ids(&a), ids(&b), "{layout}");
        assert!(a.nodes.len() > 1);
    }
}
