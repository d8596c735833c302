//! The explanation path and the navigator over the real reference texts.

use chrono::NaiveDate;
use xiezhi_graph::{default_reference_dir, StatuteGraph};

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

fn kinds(e: &xiezhi_graph::Explanation) -> Vec<&str> {
    e.steps.iter().map(|s| s.kind).collect()
}

#[test]
fn theft_path_runs_from_charge_to_interval_with_sources() {
    let Some(g) = graph() else { return };
    let e = g
        .explain_sentence("盗窃罪", d("2023-05-01"), Some(500_000), &["自首"])
        .unwrap();
    assert_eq!(
        kinds(&e),
        [
            "罪名",
            "条文",
            "数额标准",
            "法定刑幅度",
            "量刑起点",
            "量刑情节",
            "结果"
        ]
    );
    assert!(e.steps[2].text.contains("数额较大"));
    assert!(e.steps[3].text.starts_with("处三年以下有期徒刑"));
    // 拘役 to one year, 自首 lowers by up to 40 %: the low end stays at the 拘役 minimum.
    assert_eq!(e.interval, Some((1.0, 12.0)));
    let root = default_reference_dir();
    for s in &e.steps {
        let text = std::fs::read_to_string(root.join(&s.file))
            .unwrap_or_else(|_| panic!("{} names a missing file", s.kind));
        assert!(!s.article.is_empty(), "{} names no article", s.kind);
        if s.file.ends_with("刑法.md") || s.file.contains("司法解释") {
            let head = s.article.split('第').nth(1).map(|a| format!("第{a}"));
            let head = head.unwrap().split('款').next().unwrap().to_string();
            let head = head
                .rsplit_once('第')
                .map_or(head.clone(), |(h, _)| h.to_string());
            assert!(
                text.contains(&head),
                "{}: {} not in {}",
                s.kind,
                head,
                s.file
            );
        }
    }
}

#[test]
fn circumstances_adjust_by_tier_and_clamp_to_the_range() {
    let Some(g) = graph() else { return };
    // 200,000 yuan is 数额巨大 in every province: range 3–10 years, starting point 3–4 years.
    let plain = g
        .explain_sentence("盗窃罪", d("2023-05-01"), Some(20_000_000), &[])
        .unwrap();
    assert_eq!(plain.interval, Some((36.0, 48.0)));
    // 累犯 +10..40 % and 自首 −40..0 % sum to −30..+40 %: the low end falls below three
    // years and is held at the statutory minimum.
    let both = g
        .explain_sentence(
            "盗窃罪",
            d("2023-05-01"),
            Some(20_000_000),
            &["累犯", "自首"],
        )
        .unwrap();
    let (lo, hi) = both.interval.unwrap();
    assert_eq!(lo, 36.0);
    assert!((hi - 48.0 * 1.4).abs() < 1e-9, "{hi}");
    assert!(both.notes.iter().any(|n| n.contains("低于法定最低刑")));
    // A first-tier circumstance multiplies before the second tier sums: 从犯 −50..−20 %
    // then 累犯 +10..+40 % gives a top of 48 × 0.8 × 1.4.
    let acc = g
        .explain_sentence(
            "盗窃罪",
            d("2023-05-01"),
            Some(20_000_000),
            &["累犯", "从犯"],
        )
        .unwrap();
    let order: Vec<&str> = acc
        .steps
        .iter()
        .filter(|s| s.kind == "量刑情节")
        .map(|s| s.text.split('：').next().unwrap())
        .collect();
    assert_eq!(order, ["从犯", "累犯"]);
    assert!((acc.interval.unwrap().1 - 48.0 * 0.8 * 1.4).abs() < 1e-9);
    assert!(g
        .explain_sentence("盗窃罪", d("2023-05-01"), Some(1), &["不存在的情节"])
        .is_err());
}

#[test]
fn amounts_between_provincial_bounds_are_flagged_and_small_amounts_stop() {
    let Some(g) = graph() else { return };
    // 50,000 yuan is 数额巨大 only where the province fixed less than 100,000.
    let e = g
        .explain_sentence("盗窃罪", d("2023-05-01"), Some(5_000_000), &[])
        .unwrap();
    assert!(e.steps[2].text.contains("数额较大"));
    assert!(e
        .notes
        .iter()
        .any(|n| n.contains("数额巨大") && n.contains("当地标准")));
    let small = g
        .explain_sentence("盗窃罪", d("2023-05-01"), Some(50_000), &[])
        .unwrap();
    assert_eq!(small.interval, None);
    assert!(small.steps.last().unwrap().text.contains("未达"));
}

#[test]
fn the_2021_supplement_decides_name_and_citation_by_offence_date() {
    let Some(g) = graph() else { return };
    assert!(g
        .explain_sentence("妨害安全驾驶罪", d("2020-12-31"), None, &[])
        .is_err());
    let added = g
        .explain_sentence("妨害安全驾驶罪", d("2021-03-01"), None, &[])
        .unwrap();
    assert!(added.steps[0].file.contains("补充规定（七）"));
    assert!(added.steps[1].text.contains("第一百三十三条之二"));
    let before = g
        .explain_sentence("生产、销售、提供假药罪", d("2021-02-28"), None, &[])
        .unwrap();
    assert_eq!(before.charge, "生产、销售假药罪");
    assert!(!before.steps[0].file.contains("补充规定（七）"));
    let after = g
        .explain_sentence("生产、销售假药罪", d("2021-03-01"), None, &[])
        .unwrap();
    assert_eq!(after.charge, "生产、销售、提供假药罪");
    assert!(after.steps[0].text.contains("补充规定（七）"));
    // The navigator agrees: 第一百三十三条之二 has no charge before the supplement.
    let art = g.find_key("article:133-2").unwrap();
    let charges = |date| {
        g.navigate(art, d(date))
            .1
            .into_iter()
            .filter(|(_, v)| v.kind == "罪名")
            .map(|(_, v)| v.key)
            .collect::<Vec<_>>()
    };
    assert!(charges("2020-12-31").is_empty());
    assert_eq!(charges("2021-03-01"), ["charge:妨害安全驾驶罪"]);
}

#[test]
fn the_2024_supplement_renames_by_offence_date() {
    let Some(g) = graph() else { return };
    let old = "徇私舞弊低价折股、出售国有资产罪";
    let new = "徇私舞弊低价折股、出售公司、企业资产罪";
    let before = g.explain_sentence(new, d("2024-02-29"), None, &[]).unwrap();
    assert_eq!(before.charge, old);
    let after = g.explain_sentence(old, d("2024-03-01"), None, &[]).unwrap();
    assert_eq!(after.charge, new);
    assert!(after.steps[0].text.contains("补充规定（八）"));
    let art = g.find_key("article:169").unwrap();
    let names = |date| {
        g.navigate(art, d(date))
            .1
            .into_iter()
            .filter(|(_, v)| v.kind == "罪名")
            .map(|(_, v)| v.key)
            .collect::<Vec<_>>()
    };
    assert_eq!(names("2024-02-29"), [format!("charge:{old}")]);
    assert_eq!(names("2024-03-01"), [format!("charge:{new}")]);
}

#[test]
fn navigator_shows_a_charges_thresholds_and_guideline_as_of_the_date() {
    let Some(g) = graph() else { return };
    let theft = g.find_key("charge:盗窃罪").unwrap();
    let (node, now) = g.navigate(theft, d("2023-05-01"));
    assert_eq!(node.kind, "罪名");
    let count = |v: &[(&str, xiezhi_graph::NodeView)], k: &str| {
        v.iter().filter(|(_, n)| n.kind == k).count()
    };
    assert_eq!(count(&now, "条文"), 1);
    assert_eq!(count(&now, "数额标准"), 3);
    assert_eq!(count(&now, "量刑起点"), 3);
    assert_eq!(count(&now, "量刑情节"), g.circumstances.len());
    // Before the guideline took effect its nodes are not shown; before the 2013
    // interpretation, its thresholds are not either.
    let (_, early) = g.navigate(theft, d("2012-01-01"));
    assert_eq!(count(&early, "量刑起点"), 0);
    assert_eq!(count(&early, "数额标准"), 0);
    // Every key shown leads back to its node.
    for (_, v) in &now {
        let n = g.find_key(&v.key).unwrap_or_else(|| panic!("{}", v.key));
        assert_eq!(g.view(n), *v);
    }
    let deadline = g.find_key("deadline:arrest-review").unwrap();
    assert!(g.view(deadline).label.contains("七日"));
}

#[test]
fn a_guilty_plea_is_not_counted_twice() {
    let Some(g) = graph() else { return };
    let step = |e: &xiezhi_graph::Explanation, name: &str| {
        e.steps
            .iter()
            .find(|s| s.kind == "量刑情节" && s.text.starts_with(name))
            .unwrap()
            .text
            .clone()
    };
    // With 自首 the two together reduce by the cell's joint ratio (up to 60 %), not 30 % + 40 %.
    let e = g
        .explain_sentence(
            "盗窃罪",
            d("2023-05-01"),
            Some(20_000_000),
            &["自首", "认罪认罚"],
        )
        .unwrap();
    assert!(step(&e, "认罪认罚").contains("合并调节-60%至0%"), "{e:?}");
    assert!(step(&e, "自首").contains("不重复评价"));
    // 当庭自愿认罪 only folds in: the plea keeps its own 30 %.
    let e = g
        .explain_sentence(
            "盗窃罪",
            d("2023-05-01"),
            Some(20_000_000),
            &["当庭自愿认罪", "认罪认罚"],
        )
        .unwrap();
    assert!(step(&e, "认罪认罚").contains("合并调节-30%至0%"), "{e:?}");
    // Without the plea each circumstance counts on its own.
    let e = g
        .explain_sentence(
            "盗窃罪",
            d("2023-05-01"),
            Some(20_000_000),
            &["自首", "坦白"],
        )
        .unwrap();
    assert!(step(&e, "坦白").contains("同向相加"));
}
