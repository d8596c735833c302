//! Thresholds, the sentencing guideline and the CPL deadlines in the statute graph, checked
//! against the reference texts and the supervision rules' own tables.

use std::collections::BTreeSet;

use xiezhi_graph::{
    amounts_in, default_reference_dir, parse_thresholds, parse_yuan, to_chinese, Edge, Node,
    StatuteGraph, THRESHOLDS_TSV,
};

fn graph() -> Option<StatuteGraph> {
    let dir = default_reference_dir();
    if !dir.join("laws").exists() {
        eprintln!("reference texts not found at {}: skipped", dir.display());
        return None;
    }
    Some(StatuteGraph::build(&dir).expect("reference texts parse"))
}

fn edges(g: &StatuteGraph, kind: Edge) -> Vec<(&Node, &Node)> {
    g.graph
        .raw_edges()
        .iter()
        .filter(|e| e.weight == kind)
        .map(|e| (&g.graph[e.source()], &g.graph[e.target()]))
        .collect()
}

#[test]
fn amounts_read_as_the_interpretations_write_them() {
    assert_eq!(parse_yuan("一千元至"), Some((1000, "一千元".len())));
    assert_eq!(parse_yuan("三十万元").map(|x| x.0), Some(300_000));
    assert_eq!(parse_yuan("二十万元").map(|x| x.0), Some(200_000));
    assert_eq!(parse_yuan("三百万元").map(|x| x.0), Some(3_000_000));
    assert_eq!(parse_yuan("5000万元").map(|x| x.0), Some(50_000_000));
    assert_eq!(parse_yuan("三年"), None);
    assert_eq!(
        amounts_in("价值一千元至三千元以上、三万元至十万元以上"),
        vec![1000, 3000, 30_000, 100_000]
    );
}

#[test]
fn every_threshold_quote_is_in_its_file_and_names_its_amounts() {
    let root = default_reference_dir();
    if !root.join("laws").exists() {
        return;
    }
    let rows = parse_thresholds(THRESHOLDS_TSV).unwrap();
    assert!(rows.len() >= 20);
    for t in &rows {
        let text = std::fs::read_to_string(root.join("laws/司法解释-数额标准").join(&t.file))
            .unwrap_or_else(|e| panic!("{}: {e}", t.file));
        assert!(text.contains(&t.quote), "{}: {}", t.file, t.quote);
        // The article line holds the quote (or the quote is one of its items).
        let at = text.find(&t.quote).unwrap();
        let head = text[..at].rfind(&format!("\n{} ", t.article)).or_else(|| {
            text[..at]
                .starts_with(&format!("{} ", t.article))
                .then_some(0)
        });
        assert!(head.is_some(), "{} not under {}", t.quote, t.article);
        if t.via.is_none() {
            let amounts = amounts_in(&t.quote);
            assert!(
                amounts.contains(&(t.low_fen / 100)),
                "{} {}",
                t.charge,
                t.level
            );
            assert!(
                amounts.contains(&(t.high_fen / 100)),
                "{} {}",
                t.charge,
                t.level
            );
        }
    }
    // A row that follows another charge's amounts carries exactly them.
    for t in rows.iter().filter(|t| t.via.is_some()) {
        let via = t.via.as_deref().unwrap();
        let src = rows
            .iter()
            .find(|r| r.charge == via && r.level == t.level)
            .expect("the followed charge has the level");
        assert_eq!((t.low_fen, t.high_fen), (src.low_fen, src.high_fen));
    }
}

#[test]
fn thresholds_select_the_range_of_their_level() {
    let Some(g) = graph() else { return };
    let selects = edges(&g, Edge::Selects);
    for (i, t) in g.thresholds.iter().enumerate() {
        let ranges: Vec<_> = selects
            .iter()
            .filter(|(s, _)| matches!(s, Node::Threshold(k) if *k == i))
            .map(|(_, r)| match r {
                Node::PenaltyRange(r) => &g.penalty_ranges[*r],
                _ => panic!("Selects to a non-range"),
            })
            .collect();
        assert_eq!(ranges.len(), 1, "{} {}", t.charge, t.level);
        if t.level != "入罪" {
            assert!(ranges[0]
                .condition
                .contains(t.level.trim_start_matches("抢劫")));
        }
    }
    // Every threshold is linked to a current charge.
    assert_eq!(edges(&g, Edge::ThresholdOf).len(), g.thresholds.len());
    let theft: Vec<_> = g
        .thresholds
        .iter()
        .filter(|t| t.charge == "盗窃罪")
        .collect();
    assert_eq!(theft.len(), 3);
    assert_eq!(
        (theft[1].low_fen, theft[1].high_fen),
        (3_000_000, 10_000_000)
    );
}

/// The supervision rules' tables (`xiezhi-supervise/data`) hold some of the same numbers:
/// the graph must not contradict them.
#[test]
fn the_graph_agrees_with_the_supervision_tables() {
    let Some(g) = graph() else { return };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../xiezhi-supervise/data");
    let Ok(floors) = std::fs::read_to_string(dir.join("guideline-floors.tsv")) else {
        return;
    };
    let mut checked = 0;
    for line in floors.lines().filter(|l| l.starts_with('C')) {
        let c: Vec<&str> = line.split('\t').collect();
        let (name, from, lo, hi) = (c[1], c[2], c[3], c[4]);
        let (lo, hi): (u32, u32) = (lo.parse().unwrap(), hi.parse().unwrap());
        assert!(
            g.starting_points
                .iter()
                .any(|p| p.crime == name && p.min_months == lo && p.max_months == hi),
            "{name} {lo}..{hi} not a starting point"
        );
        if !from.is_empty() {
            let yuan: i64 = from.parse().unwrap();
            assert!(
                g.thresholds
                    .iter()
                    .any(|t| t.charge == name && t.high_fen == yuan * 100),
                "{name}: no threshold topping at {yuan}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 4);
    let bands = std::fs::read_to_string(dir.join("statutory-bands.tsv")).unwrap();
    let mut compared = 0;
    for line in bands.lines().filter(|l| l.starts_with('C')) {
        let c: Vec<&str> = line.split('\t').collect();
        let (name, max, quote) = (c[1], c[2], c[4]);
        let Some(ci) = g.current_charge_named(name) else {
            panic!("{name} not current")
        };
        let art = g.charges[ci].article;
        let heaviest = g
            .ranges_of(art, None)
            .into_iter()
            .map(|r| &g.penalty_ranges[r])
            .filter(|r| quote.contains(r.clause.as_str()) || r.clause.contains(quote))
            .map(|r| {
                let p = &r.penalty;
                if p.death {
                    "death".to_string()
                } else if p.life {
                    "life".into()
                } else if let Some((_, hi)) = p.fixed_term {
                    format!("fixed_term:{hi}")
                } else {
                    "criminal_detention".into()
                }
            })
            .next();
        if let Some(h) = heaviest {
            assert_eq!(h, max, "{name}");
            compared += 1;
        }
    }
    assert!(compared >= 15, "only {compared} statutory bands compared");
}

#[test]
fn every_guideline_crime_has_starting_points_and_a_current_charge() {
    let Some(g) = graph() else { return };
    // The crimes as §3.4 names them, read independently of the parser.
    let facts = std::fs::read_to_string(default_reference_dir().join("domain-facts.md")).unwrap();
    let section = facts
        .split("### 3.4")
        .nth(1)
        .unwrap()
        .split("\n#")
        .next()
        .unwrap();
    let named: BTreeSet<String> = section
        .lines()
        .filter(|l| l.starts_with("| ") && l[2..].starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            l.split('|')
                .nth(2)
                .unwrap()
                .split(" (")
                .next()
                .unwrap()
                .trim()
                .to_string()
        })
        .collect();
    assert_eq!(named.len(), 23, "the guideline covers 23 crimes");
    let linked = edges(&g, Edge::StartingPointOf);
    for crime in &named {
        let points: Vec<usize> = (0..g.starting_points.len())
            .filter(|&i| &g.starting_points[i].crime == crime)
            .collect();
        assert!(!points.is_empty(), "{crime} has no starting point");
        for i in points {
            let to: Vec<_> = linked
                .iter()
                .filter(|(s, _)| matches!(s, Node::StartingPoint(k) if *k == i))
                .map(|(_, c)| match c {
                    Node::Charge(c) => &g.charges[*c],
                    _ => panic!("StartingPointOf to a non-charge"),
                })
                .collect();
            assert_eq!(to.len(), 1, "{crime}");
            assert!(
                to[0].retired_from.is_none(),
                "{crime} linked to a retired name"
            );
        }
    }
    // 袭警's band goes to 袭警罪, the rest of row 16 to 妨害公务罪.
    let assault = g
        .starting_points
        .iter()
        .position(|p| p.label.contains("袭警"))
        .unwrap();
    assert!(linked.iter().any(
        |(s, c)| matches!(s, Node::StartingPoint(k) if *k == assault)
            && matches!(c, Node::Charge(i) if g.charges[*i].name == "袭警罪")
    ));
}

#[test]
fn starting_points_lie_within_a_statutory_range_of_their_charge() {
    let Some(g) = graph() else { return };
    let within = edges(&g, Edge::Within);
    for (i, p) in g.starting_points.iter().enumerate() {
        let r = within
            .iter()
            .find(|(s, _)| matches!(s, Node::StartingPoint(k) if *k == i))
            .map(|(_, r)| match r {
                Node::PenaltyRange(r) => &g.penalty_ranges[*r],
                _ => panic!(),
            })
            .unwrap_or_else(|| panic!("{} {} outside every range", p.crime, p.chinese()));
        let (lo, hi) = r.penalty.month_bounds().unwrap();
        assert!(lo <= p.min_months && p.max_months <= hi);
    }
}

#[test]
fn circumstances_carry_the_guideline_ratios() {
    let Some(g) = graph() else { return };
    let find = |n: &str| g.circumstances.iter().find(|c| c.name == n).unwrap();
    assert_eq!((find("自首").min_pct, find("自首").max_pct), (-40, 0));
    assert_eq!((find("累犯").min_pct, find("累犯").max_pct), (10, 40));
    assert_eq!((find("从犯").min_pct, find("从犯").tier), (-50, 1));
    assert_eq!(find("认罪认罚").min_pct, -30);
    for c in &g.circumstances {
        assert!(c.min_pct <= c.max_pct, "{}", c.name);
        assert!(
            c.quote.contains(&format!("{} %", c.min_pct.abs()))
                || c.quote.contains(&format!("{} %", c.max_pct.abs())),
            "{}",
            c.name
        );
    }
    let adjusts = edges(&g, Edge::AdjustsBy).len();
    let crimes: BTreeSet<_> = g.starting_points.iter().map(|p| &p.crime).collect();
    assert!(adjusts >= g.circumstances.len() * crimes.len());
}

#[test]
fn deadlines_are_quoted_from_their_cpl_paragraph() {
    let Some(g) = graph() else { return };
    let cpl = std::fs::read_to_string(default_reference_dir().join("laws/刑事诉讼法.md")).unwrap();
    assert!(g.deadlines.len() >= 25);
    for d in &g.deadlines {
        assert!(cpl.contains(&d.quote), "{}", d.key);
        assert!(d.quote.contains(&d.worded), "{}: {}", d.key, d.worded);
        let spelled = if d.amount.fract() == 0.0 {
            format!("{}{}", to_chinese(d.amount as u32), d.unit)
        } else {
            format!("{}个半月", to_chinese(d.amount as u32))
        };
        assert!(
            d.worded.ends_with(&spelled),
            "{}: {} vs {spelled}",
            d.key,
            d.worded
        );
        // The quote sits in the article it names: between its head and the next article's.
        let head = cpl.find(&format!("\n{} ", d.article.chinese())).unwrap() + 1;
        let end = cpl[head..]
            .match_indices("\n第")
            .find(|(i, _)| {
                cpl[head + i + 1..]
                    .split(' ')
                    .next()
                    .unwrap()
                    .ends_with('条')
            })
            .map_or(cpl.len(), |(i, _)| head + i);
        assert!(cpl[head..end].contains(&d.quote), "{}", d.key);
    }
    let review = g
        .deadlines
        .iter()
        .find(|d| d.key == "arrest-review")
        .unwrap();
    assert_eq!(
        (review.article.number, review.paragraph, review.amount),
        (91, 3, 7.0)
    );
}
