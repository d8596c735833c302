//! Penalty ranges read from the article text: real articles and generated clauses.

use proptest::prelude::*;
use xiezhi_graph::{
    default_reference_dir, parse_article_ref, to_chinese, Edge, FineMode, Node, Penalty,
    StatuteGraph,
};

fn graph() -> Option<StatuteGraph> {
    let dir = default_reference_dir();
    if !dir.join("laws").exists() {
        eprintln!("reference texts not found at {}: skipped", dir.display());
        return None;
    }
    Some(StatuteGraph::build(&dir).expect("reference texts parse"))
}

fn ranges<'a>(g: &'a StatuteGraph, art: &str) -> Vec<&'a xiezhi_graph::PenaltyRange> {
    let no = parse_article_ref(art).unwrap().0;
    g.penalty_ranges
        .iter()
        .filter(|r| r.article == no)
        .collect()
}

#[test]
fn theft_has_three_ranges_selected_by_amount() {
    let Some(g) = graph() else { return };
    let r = ranges(&g, "第264条");
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].penalty.fixed_term, Some((6, 36)));
    assert!(r[0].penalty.detention && r[0].penalty.control);
    assert_eq!(r[0].penalty.fine, Some(FineMode::MandatoryOrAlone));
    assert_eq!(r[0].conditions, vec!["数额较大"]);
    assert_eq!(r[1].penalty.fixed_term, Some((36, 120)));
    assert_eq!(r[1].penalty.fine, Some(FineMode::Mandatory));
    assert_eq!(r[1].conditions, vec!["数额巨大", "其他严重情节"]);
    assert_eq!(r[2].penalty.fixed_term, Some((120, 180)));
    assert!(r[2].penalty.life && !r[2].penalty.death && r[2].penalty.confiscation);
    assert_eq!(r[2].conditions, vec!["数额特别巨大", "其他特别严重情节"]);
}

#[test]
fn fraud_mirrors_theft_without_the_conduct_forms() {
    let Some(g) = graph() else { return };
    let r = ranges(&g, "第266条");
    let terms: Vec<_> = r.iter().map(|r| r.penalty.fixed_term).collect();
    assert_eq!(
        terms[..3],
        [Some((6, 36)), Some((36, 120)), Some((120, 180))]
    );
    assert!(r[0].condition.contains("数额较大"));
}

#[test]
fn intentional_injury_ranges_span_its_paragraphs() {
    let Some(g) = graph() else { return };
    let r = ranges(&g, "第234条");
    assert_eq!(r.len(), 3, "{r:?}");
    assert_eq!(r[0].paragraph, 1);
    assert_eq!(
        (r[1].paragraph, r[1].penalty.fixed_term),
        (2, Some((36, 120)))
    );
    assert_eq!(r[1].conditions, vec!["致人重伤"]);
    assert!(r[2].penalty.death && r[2].penalty.life);
    assert!(r[2].conditions.contains(&"致人死亡"));
}

#[test]
fn robbery_aggravated_range_carries_its_listed_cases() {
    let Some(g) = graph() else { return };
    let r = ranges(&g, "第263条");
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].penalty.fixed_term, Some((36, 120)));
    assert!(r[1].penalty.death);
    assert!(r[1].condition.contains("（四）多次抢劫或者抢劫数额巨大的"));
    assert!(r[1].conditions.contains(&"数额巨大"));
}

#[test]
fn every_range_is_linked_to_its_article_and_quotes_it() {
    let Some(g) = graph() else { return };
    assert!(g.penalty_ranges.len() > 800);
    for e in g.graph.raw_edges() {
        if e.weight == Edge::PenaltyOf {
            let (Node::PenaltyRange(i), Node::Article(no)) =
                (&g.graph[e.source()], &g.graph[e.target()])
            else {
                panic!("PenaltyOf between wrong kinds");
            };
            let r = &g.penalty_ranges[*i];
            assert_eq!(r.article, *no);
            let para = &g.articles[no].paragraphs[r.paragraph as usize - 1];
            assert!(para.contains(&r.clause), "{} {}", no.chinese(), r.clause);
        }
    }
    let linked = g
        .graph
        .raw_edges()
        .iter()
        .filter(|e| e.weight == Edge::PenaltyOf)
        .count();
    assert_eq!(linked, g.penalty_ranges.len());
}

/// A clause written the way the statute words them, from its parts.
fn render(
    lo: Option<u32>,
    hi: Option<u32>,
    det: bool,
    ctl: bool,
    fine: Option<FineMode>,
) -> String {
    let mut s = String::from("处");
    match (lo, hi) {
        (Some(a), Some(b)) => s.push_str(&format!(
            "{}年以上{}年以下有期徒刑",
            to_chinese(a),
            to_chinese(b)
        )),
        (Some(a), None) => s.push_str(&format!("{}年以上有期徒刑", to_chinese(a))),
        (None, Some(b)) => s.push_str(&format!("{}年以下有期徒刑", to_chinese(b))),
        (None, None) => s.push_str("拘役"),
    }
    if lo.is_some() || hi.is_some() {
        match (det, ctl) {
            (true, true) => s.push_str("、拘役或者管制"),
            (true, false) => s.push_str("或者拘役"),
            (false, true) => s.push_str("或者管制"),
            _ => {}
        }
    }
    match fine {
        Some(FineMode::Mandatory) => s.push_str("，并处罚金"),
        Some(FineMode::MandatoryOrAlone) => s.push_str("，并处或者单处罚金"),
        Some(FineMode::Optional) => s.push_str("，可以并处罚金"),
        _ => {}
    }
    s
}

proptest! {
    #[test]
    fn generated_clauses_read_back(
        lo in proptest::option::of(1u32..15),
        span in 1u32..10,
        open_top in any::<bool>(),
        det in any::<bool>(),
        ctl in any::<bool>(),
        fine in proptest::option::of(prop_oneof![
            Just(FineMode::Mandatory), Just(FineMode::MandatoryOrAlone), Just(FineMode::Optional)
        ]),
    ) {
        let hi = if open_top && lo.is_some() { None } else { Some(lo.unwrap_or(0) + span) };
        let clause = render(lo, hi, det, ctl, fine);
        let p = Penalty::parse(&clause).expect("a penalty");
        let expect = match (lo, hi) {
            (Some(a), Some(b)) => Some((a * 12, b * 12)),
            (Some(a), None) => Some((a * 12, 180)),
            (None, Some(b)) => Some((6, b * 12)),
            (None, None) => None,
        };
        prop_assert_eq!(p.fixed_term, expect);
        let has_term = lo.is_some() || hi.is_some();
        prop_assert_eq!(p.detention, det || !has_term);
        prop_assert_eq!(p.control, ctl && has_term);
        prop_assert_eq!(p.fine, fine);
        prop_assert!(!p.life && !p.death);
    }
}
