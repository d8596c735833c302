//! The case graph over HTTP: a synthetic province (seed 42, 3 % dirty) ingested into SQLite, its
//! case graph built, then `GET /api/v1/graph/neighbours` (k = 1, 2, 3) and `/graph/path` timed
//! through the whole router (session cookie, the case graph's query with the server's view
//! cache, its ledger entry, JSON), as the police case handler of the organ that handled the most
//! cases, starting from persons of its cases.
//!
//! `cargo run --release -p xiezhi-server --example graph_bench -- --cases 10000 [--queries 200]`

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use xiezhi_access::{OrgKind, Principal, Role, User};
use xiezhi_casegraph::{build, EdgeKind, CASE_GRAPH};
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_server::auth::write_credentials;
use xiezhi_server::{app, AppState, Limits};
use xiezhi_standard::Level;
use xiezhi_store::{SqliteStore, Store};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[(((v.len() as f64 - 1.0) * p).round() as usize).min(v.len() - 1)]
}

async fn get(state: &std::sync::Arc<AppState>, cookie: &str, uri: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .uri(uri)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    let res = app(state.clone()).oneshot(req).await.expect("response");
    let status = res.status();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, body.to_vec())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let cases: usize = arg("--cases").map_or(10_000, |s| s.parse().expect("--cases"));
    let queries: usize = arg("--queries").map_or(200, |s| s.parse().expect("--queries"));
    let tmp = tempfile::tempdir().expect("tempdir");
    let export = tmp.path().join("export");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).expect("data");
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
    let mut store = SqliteStore::open(&data.join("xiezhi.db")).expect("open");
    ingest_export(
        &mut store,
        &shipped_plans().expect("plans"),
        &export,
        &IngestOptions::default(),
        &mut |_, _, _| {},
    )
    .expect("ingest");
    let stats = build(&mut store, CASE_GRAPH, &mut |_| {}).expect("build");
    println!(
        "{cases} cases generated, ingested and graphed in {:.1} s ({} nodes, {} edges)",
        t.elapsed().as_secs_f64(),
        stats.nodes,
        stats.edges
    );
    // Persons per handling organ; the busiest police organ asks.
    let mut handled: BTreeMap<String, String> = BTreeMap::new();
    let mut involved: Vec<(String, String)> = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .graph_edges_after(CASE_GRAPH, after, 50_000)
            .expect("edges");
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in page {
            if e.kind == EdgeKind::HandledBy.as_str() {
                handled.insert(e.from, e.to);
            } else if e.kind == EdgeKind::InvolvedIn.as_str() {
                involved.push((e.from, e.to));
            }
        }
    }
    let mut by_org: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (person, case) in &involved {
        if let Some(org) = handled.get(case) {
            by_org.entry(org).or_default().insert(person);
        }
    }
    let (org, persons) = by_org
        .iter()
        .filter(|(o, _)| o.starts_with("organ:GA"))
        .max_by_key(|(_, p)| p.len())
        .expect("a police organ");
    let persons: Vec<&str> = persons.iter().copied().collect();
    let principal = Principal::User(User {
        id: "bench".into(),
        name: "办案民警".into(),
        org_code: org.trim_start_matches("organ:").into(),
        org_kind: OrgKind::Police,
        division: "520000".into(),
        role: Role::CaseHandler,
        clearance: Level::L3,
    });
    std::fs::write(
        data.join("principals.json"),
        serde_json::to_string(&[principal]).expect("json"),
    )
    .expect("principals");
    let password = "bench password 马";
    let secrets = write_credentials(
        &data,
        &[("bench".into(), "bench".into(), password.into())],
        &[],
        argon2::Params::new(64, 1, 1, None).expect("params"),
    )
    .expect("credentials");
    drop(store);
    let state = AppState::open(&data, Limits::default()).expect("state");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let totp = xiezhi_server::totp::code(&secrets[0].1, now).expect("totp");
    let login = Request::builder()
        .method("POST")
        .uri("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({"username": "bench", "password": password, "totp": totp})
                .to_string(),
        ))
        .expect("login");
    let res = app(state.clone()).oneshot(login).await.expect("login");
    assert_eq!(res.status(), StatusCode::OK, "login");
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("cookie")
        .to_string();
    println!(
        "asking as a police case handler of {org} ({} persons in its cases)",
        persons.len()
    );
    let step = (persons.len() / queries).max(1);
    let starts: Vec<&str> = persons
        .iter()
        .step_by(step)
        .take(queries)
        .copied()
        .collect();
    for hops in 1..=3 {
        let (mut ms, mut bytes) = (Vec::new(), 0);
        for p in &starts {
            let uri = format!("/api/v1/graph/neighbours?node={p}&hops={hops}&max_nodes=500");
            let t = Instant::now();
            let (s, body) = get(&state, &cookie, &uri).await;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(s, StatusCode::OK, "{uri}");
            bytes += body.len();
        }
        println!(
            "GET neighbours hops={hops}: {} requests, p50 {:.2} ms, p99 {:.2} ms, mean body {:.1} KiB",
            ms.len(),
            percentile(&mut ms, 0.5),
            percentile(&mut ms, 0.99),
            bytes as f64 / ms.len() as f64 / 1024.0
        );
    }
    let (mut ms, mut found) = (Vec::new(), 0);
    for (i, p) in starts.iter().enumerate() {
        let to = persons[(i * 7919) % persons.len()];
        let uri = format!("/api/v1/graph/path?from={p}&to={to}&max_hops=6");
        let t = Instant::now();
        let (s, body) = get(&state, &cookie, &uri).await;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(s, StatusCode::OK, "{uri}");
        let doc: serde_json::Value = serde_json::from_slice(&body).expect("json");
        found += usize::from(!doc["nodes"].as_array().expect("nodes").is_empty());
    }
    println!(
        "GET path (max 6 hops): {} requests, p50 {:.2} ms, p99 {:.2} ms, {found} with a path",
        ms.len(),
        percentile(&mut ms, 0.5),
        percentile(&mut ms, 0.99)
    );
}
