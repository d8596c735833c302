//! `xiezhi graph explain | navigate | build --store` on the reference texts: the explained path
//! in Chinese, the navigator as of a date, and the statute graph kept in the store's graph
//! tables with its ledger entry.

mod common;

use common::xiezhi;

fn have_texts() -> bool {
    let ok = xiezhi_graph::default_reference_dir().join("laws").exists();
    if !ok {
        eprintln!("reference texts not found: skipped");
    }
    ok
}

#[test]
fn explain_prints_each_step_with_its_source() {
    if !have_texts() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = xiezhi(
        dir.path(),
        &[
            "graph",
            "explain",
            "--charge",
            "盗窃罪",
            "--date",
            "2023-05-01",
            "--amount",
            "5000",
            "--circumstance",
            "自首",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    for kind in [
        "【罪名】",
        "【条文】",
        "【数额标准】",
        "【法定刑幅度】",
        "【量刑起点】",
        "【量刑情节】",
        "【结果】",
    ] {
        assert!(out.contains(kind), "{kind} missing:\n{out}");
    }
    let sources = out
        .lines()
        .filter(|l| l.trim_start().starts_with("依据："))
        .count();
    assert_eq!(sources, 7, "{out}");
    assert!(out.contains("办理盗窃刑事案件适用法律若干问题的解释.md 第一条"));
    let (code, _, err) = xiezhi(
        dir.path(),
        &[
            "graph",
            "explain",
            "--charge",
            "盗窃罪",
            "--date",
            "2023-05-01",
            "--amount",
            "5千",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("金额"), "{err}");
}

#[test]
fn navigate_follows_the_date() {
    if !have_texts() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let args = |date: &'static str| ["graph", "navigate", "--article", "133-2", "--date", date];
    let (code, before, err) = xiezhi(dir.path(), &args("2020-12-31"));
    assert_eq!(code, 0, "{err}");
    assert!(!before.contains("[charge:"), "{before}");
    let (_, after, _) = xiezhi(dir.path(), &args("2021-03-01"));
    assert!(after.contains("[charge:妨害安全驾驶罪]"), "{after}");
    let (code, _, err) = xiezhi(
        dir.path(),
        &[
            "graph",
            "navigate",
            "--charge",
            "妨害安全驾驶罪",
            "--date",
            "2020-12-31",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("无有效罪名"), "{err}");
}

#[test]
fn build_keeps_the_graph_in_the_store_with_its_ledger_entry() {
    if !have_texts() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("sources.tsv");
    let (code, out, err) = xiezhi(
        dir.path(),
        &[
            "graph",
            "build",
            "--store",
            "--out",
            manifest.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        std::fs::read_to_string(&manifest).unwrap(),
        std::fs::read_to_string(xiezhi_graph::manifest_path()).unwrap(),
        "the build writes the committed manifest"
    );
    let db = rusqlite::Connection::open(dir.path().join("xiezhi.db")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    // The rows of the published statute graph: `?1` is where its generation is stored.
    let count_published = |sql: &str| -> i64 {
        let stored_as: String = db
            .query_row(
                "SELECT stored_as FROM graph_generation WHERE name = 'statute'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        db.query_row(sql, [&stored_as], |r| r.get(0)).unwrap()
    };
    let g = xiezhi_graph::StatuteGraph::build(&xiezhi_graph::default_reference_dir()).unwrap();
    assert_eq!(
        count_published("SELECT count(*) FROM graph_node WHERE graph = ?1"),
        g.node_count() as i64
    );
    assert_eq!(
        count_published("SELECT count(*) FROM graph_edge WHERE graph = ?1"),
        g.edge_count() as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM graph_generation WHERE name = 'statute.next'"),
        0,
        "the staging build is published, not left behind"
    );
    // Every edge ends at stored nodes; every node names its source and article.
    assert_eq!(
        count_published(
            "SELECT count(*) FROM graph_edge e WHERE e.graph = ?1 AND NOT EXISTS \
             (SELECT 1 FROM graph_node n WHERE n.graph = e.graph AND n.node = e.to_node)"
        ),
        0
    );
    assert_eq!(
        count_published(
            "SELECT count(*) FROM graph_node WHERE graph = ?1 AND key NOT LIKE '%.md %'"
        ),
        0
    );
    let thresholds = count_published(
        "SELECT count(*) FROM graph_edge WHERE graph = ?1 AND kind = 'threshold_of' \
         AND to_node LIKE 'charge:盗窃罪@%'",
    );
    assert_eq!(thresholds, 3);
    assert_eq!(
        count("SELECT count(*) FROM ledger_entry WHERE kind = 'graph_built' AND body LIKE '%\"statute\"%'"),
        1
    );
    // A rebuild replaces the graph rather than adding to it.
    let (code, _, err) = xiezhi(
        dir.path(),
        &[
            "graph",
            "build",
            "--store",
            "--out",
            manifest.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        count_published("SELECT count(*) FROM graph_node WHERE graph = ?1"),
        g.node_count() as i64
    );
    assert_eq!(
        count("SELECT count(*) FROM graph_node"),
        g.node_count() as i64,
        "the first build's rows are gone"
    );
}
