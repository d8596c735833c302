//! The statute graph against the real reference texts.

use chrono::NaiveDate;
use xiezhi_graph::{default_reference_dir, parse_article_ref, to_chinese, StatuteGraph};

/// The graph of the reference texts, or `None` where they are not beside the repository
/// (they are not part of it).
fn graph() -> Option<StatuteGraph> {
    let dir = default_reference_dir();
    if !dir.join("laws").exists() {
        eprintln!("reference texts not found at {}: skipped", dir.display());
        return None;
    }
    Some(StatuteGraph::build(&dir).expect("reference texts parse"))
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn every_current_charge_is_linked_to_an_article_in_the_criminal_law() {
    let Some(g) = graph() else { return };
    let current: Vec<_> = g.current_charges().collect();
    assert!(
        current.len() > 400,
        "only {} current charges",
        current.len()
    );
    let mut missing = Vec::new();
    for c in &current {
        if g.article_of(c).is_none() {
            missing.push(format!("{} {}", c.name, c.cited_as));
        }
    }
    assert!(missing.is_empty(), "charges without article: {missing:?}");
    // The paragraph is kept where the text names one.
    let split = current.iter().find(|c| c.name == "分裂国家罪").unwrap();
    assert_eq!((split.article.number, split.paragraph), (103, Some(1)));
}

#[test]
fn every_node_source_exists_and_quoted_article_text_is_in_it() {
    let Some(g) = graph() else { return };
    let root = default_reference_dir();
    for s in &g.sources {
        assert!(root.join(&s.file).is_file(), "{}", s.file);
        assert_eq!(s.sha256.len(), 64);
    }
    let law = std::fs::read_to_string(root.join("laws/刑法.md")).unwrap();
    for a in g.articles.values() {
        let line = format!("{} {}", a.no.chinese(), a.text);
        assert!(
            law.contains(&line),
            "{} not quoted verbatim",
            a.no.chinese()
        );
    }
    let theft = g
        .articles
        .get(&parse_article_ref("第264条").unwrap().0)
        .unwrap();
    assert!(theft.text.starts_with("盗窃公私财物"));
}

#[test]
fn renames_of_2021_resolve_by_offence_date() {
    let Some(g) = graph() else { return };
    // 补充规定（七）, in force 2021-03-01: 生产、销售假药罪 → 生产、销售、提供假药罪.
    let before = g.charge_as_of("生产、销售、提供假药罪", d("2021-02-28"));
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].name, "生产、销售假药罪");
    let after = g.charge_as_of("生产、销售假药罪", d("2021-03-01"));
    assert_eq!(after[0].name, "生产、销售、提供假药罪");
    assert!(g.cite(after[0]).contains("补充规定（七）"));
    // A chain over three texts: 2007 adds 强令违章冒险作业罪, 2021 renames it.
    assert!(g
        .charge_as_of("强令、组织他人违章冒险作业罪", d("2007-11-05"))
        .is_empty());
    assert_eq!(
        g.charge_as_of("强令、组织他人违章冒险作业罪", d("2010-01-01"))[0].name,
        "强令违章冒险作业罪"
    );
    let v2007 = g.charge_as_of("强令违章冒险作业罪", d("2007-11-06"));
    assert!(
        !v2007[0].date_from_title,
        "补充规定（三） gives 2007-11-06 施行"
    );
    // A charge added in 2021 has no name before it.
    assert!(g.charge_as_of("妨害安全驾驶罪", d("2020-12-31")).is_empty());
    let added = g.charge_as_of("妨害安全驾驶罪", d("2021-03-01"));
    assert_eq!(added[0].article.chinese(), "第一百三十三条之二");
}

#[test]
fn rename_of_2024_resolves_by_offence_date() {
    let Some(g) = graph() else { return };
    let old = "徇私舞弊低价折股、出售国有资产罪";
    let new = "徇私舞弊低价折股、出售公司、企业资产罪";
    assert_eq!(g.charge_as_of(new, d("2024-02-29"))[0].name, old);
    let now = g.charge_as_of(old, d("2024-03-01"));
    assert_eq!(now[0].name, new);
    assert_eq!(now[0].article.number, 169);
    assert!(g.current_charges().all(|c| c.name != old));
}

#[test]
fn article_numbers_round_trip() {
    for n in 1..=452 {
        let s = format!("第{}条之二第三款", to_chinese(n));
        let (a, p, used) = parse_article_ref(&s).unwrap();
        assert_eq!((a.number, a.sub, p, used), (n, 2, Some(3), s.len()), "{s}");
    }
    assert_eq!(to_chinese(102), "一百零二");
    assert_eq!(to_chinese(110), "一百一十");
}

#[test]
fn graph_has_typed_edges() {
    let Some(g) = graph() else { return };
    assert!(g.node_count() > 900);
    assert!(g.edge_count() > g.charges.len() * 2 - 10);
}

#[test]
fn committed_manifest_matches_the_source_texts() {
    let Some(g) = graph() else { return };
    let committed = std::fs::read_to_string(xiezhi_graph::manifest_path())
        .expect("data/statute-sources.tsv present (run `cargo run -p xiezhi-graph --example write_manifest`)");
    assert_eq!(
        committed,
        g.manifest(),
        "a source text changed: rebuild with `cargo run -p xiezhi-graph --example write_manifest`"
    );
}

#[test]
fn penalty_ranges_come_from_the_article_text() {
    let Some(g) = graph() else { return };
    let theft = g
        .articles
        .get(&parse_article_ref("第264条").unwrap().0)
        .unwrap();
    let ranges = theft.penalty_ranges();
    assert_eq!(ranges.len(), 3, "{ranges:?}");
    assert_eq!(
        ranges[0],
        "处三年以下有期徒刑、拘役或者管制，并处或者单处罚金"
    );
    assert!(ranges[2].starts_with("处十年以上有期徒刑或者无期徒刑"));
    for c in g.current_charges().filter(|c| c.name == "盗窃罪") {
        assert_eq!(g.article_of(c).unwrap().no, theft.no);
    }
}

#[test]
fn every_node_names_its_source_file_and_article() {
    let Some(g) = graph() else { return };
    let root = default_reference_dir();
    let mut texts = std::collections::BTreeMap::new();
    for n in g.graph.node_indices() {
        let p = g.provenance(n);
        assert!(!p.article.is_empty(), "{:?} names no article", g.graph[n]);
        let text = texts
            .entry(p.file.clone())
            .or_insert_with(|| std::fs::read_to_string(root.join(&p.file)).unwrap_or_default());
        assert!(!text.is_empty(), "{:?}: {} missing", g.graph[n], p.file);
        // A statute article is cited by its head (`第二百六十四条`), which the file holds; a
        // table row by its section, which the file holds as a heading.
        let head = if let Some(section) = p.article.strip_prefix('§') {
            format!("### {}", section.split(' ').next().unwrap())
        } else if p.article == "全文" {
            continue;
        } else {
            let end = p.article.find('条').unwrap() + '条'.len_utf8();
            let mut head = p.article[..end].to_string();
            if let Some(sub) = p.article[end..].strip_prefix('之') {
                head.push('之');
                head.extend(sub.chars().take_while(|c| !"第（".contains(*c)));
            }
            head
        };
        assert!(
            text.contains(&head),
            "{:?}: {head} not in {}",
            g.graph[n],
            p.file
        );
    }
}
