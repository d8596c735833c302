//! Case-graph benchmark: a synthetic province (seed 42, 3 % dirty) ingested into SQLite, the
//! case graph built from it, then k-hop (k = 1, 2, 3) and shortest-path queries timed, each as
//! a case handler of the police organ that handled a case of the start person (so the answer
//! is not empty), with its access decisions and ledger entry.
//!
//! `cargo run --release -p xiezhi-casegraph --example bench -- --cases 100000 [--queries 200]
//! [--dir DIR] [--case-flow]` (DIR is kept if given, so a second run reuses its store:
//! `--reuse`). `--case-flow` ingests only the three case-flow exports (police cases,
//! procuratorate cases, court judgments): every person, case, party, organ, phone and address
//! the graph holds comes from them, and at 10⁶ cases the registers left out (corrections,
//! location fixes, mediation, acts and dossiers) would more than double the store.

use std::path::PathBuf;
use std::time::Instant;

use xiezhi_casegraph::{build, CASE_GRAPH};
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_store::SqliteStore;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let cases: usize = arg("--cases").map_or(100_000, |s| s.parse().expect("--cases"));
    let queries: usize = arg("--queries").map_or(200, |s| s.parse().expect("--queries"));
    let reuse = std::env::args().any(|a| a == "--reuse");
    let case_flow = std::env::args().any(|a| a == "--case-flow");
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
        if case_flow {
            const KEPT: [&str; 3] = [
                "police/cases.csv",
                "procuratorate/cases.jsonl",
                "court/judgments.xml",
            ];
            for dept in std::fs::read_dir(&export).expect("export") {
                let dept = dept.expect("entry").path();
                if !dept.is_dir() {
                    continue;
                }
                for file in std::fs::read_dir(&dept).expect("department") {
                    let file = file.expect("entry").path();
                    let rel = file.strip_prefix(&export).expect("inside");
                    if !KEPT.iter().any(|k| rel == std::path::Path::new(k)) {
                        std::fs::remove_file(&file).expect("remove");
                    }
                }
            }
        }
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

    let t =
        xiezhi_casegraph::bench::time_queries(&mut store, CASE_GRAPH, queries).expect("queries");
    for (k, h) in t.khop.iter().enumerate() {
        println!(
            "k-hop k={}: {} queries, p50 {:.2} ms, p99 {:.2} ms, mean nodes returned {:.1}, case budget spent in {}",
            k + 1,
            h.queries,
            h.p50_ms,
            h.p99_ms,
            h.mean_nodes,
            h.budget_spent
        );
    }
    for (label, p) in [
        ("a person within 3 hops", &t.path_near),
        ("another person of the same organ's cases", &t.path_far),
    ] {
        println!(
            "path to {label} (max 6 hops): {} queries, {} found, p50 {:.2} ms, p99 {:.2} ms, case budget spent in {}",
            p.queries, p.found, p.p50_ms, p.p99_ms, p.budget_spent
        );
    }
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!("SQLite file {:.2} GB", size as f64 / 1e9);
}
