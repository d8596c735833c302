//! Sentencing findings explained by the statute graph's path, over the real reference texts
//! (skipped where they are absent: they are not part of the repository), and the findings the
//! same with and without the graph.

mod common;

use chrono::NaiveDate;
use xiezhi_graph::{default_reference_dir, StatuteGraph};
use xiezhi_supervise::engine::{evaluate_all_in, Context};
use xiezhi_supervise::statute_path::{guideline_name, EXPLAINED_RULES};
use xiezhi_supervise::{evaluate_in, CaseFacts, RiskItem, SentenceFacts, WeekendsOnly};

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

/// One defendant sentenced to a fixed term for one charge, the offence on `offence`.
fn sentenced(charge: &str, term: i64, offence: &str, circumstances: &[&str]) -> CaseFacts {
    let mut f = CaseFacts::new("C00000001");
    f.occurred_on = Some(d(offence));
    f.sentences.push(SentenceFacts {
        charges: vec![charge.into()],
        principal_penalty: Some("fixed_term".into()),
        term_months: Some(term),
        circumstances: circumstances.iter().map(|c| c.to_string()).collect(),
        judgment_date: Some(d("2024-09-02")),
        court_code: "FY1".into(),
        ..SentenceFacts::default()
    });
    f
}

fn run(facts: &CaseFacts, statute: Option<&StatuteGraph>) -> Vec<RiskItem> {
    evaluate_in(
        facts,
        &Context {
            as_of: d("2025-01-01"),
            calendar: &WeekendsOnly,
            statute,
        },
    )
}

fn of_rule<'a>(items: &'a [RiskItem], rule: &str) -> &'a RiskItem {
    items
        .iter()
        .find(|i| i.rule_id == rule)
        .unwrap_or_else(|| panic!("{rule} did not fire: {items:?}"))
}

#[test]
fn every_mapped_circumstance_is_a_guideline_circumstance_of_the_graph() {
    let Some(g) = graph() else { return };
    for code in [
        "elderly",
        "attempt",
        "accessory",
        "recidivist",
        "surrender",
        "confession",
        "meritorious",
        "plea_leniency",
        "restitution",
        "forgiveness",
        "prior_record",
    ] {
        let name = guideline_name(code).unwrap();
        assert!(
            g.circumstances.iter().any(|c| c.name == name),
            "{code}: {name} is not a circumstance of the graph"
        );
    }
    // The code does not say which age band: not mapped rather than guessed.
    assert_eq!(guideline_name("minor"), None);
}

#[test]
fn a_guideline_floor_finding_carries_the_path_with_band_and_adjustments() {
    let Some(g) = graph() else { return };
    // 200,000 yuan of theft is 数额巨大 everywhere: 三年以上十年以下, starting point 3–4 years.
    let mut f = sentenced("C264.1", 12, "2023-05-01", &["recidivist", "surrender"]);
    f.amount_fen = Some(20_000_000);
    let without = run(&f, None);
    let with = run(&f, Some(&g));
    let plain = of_rule(&without, "gl21-guideline-floor");
    let item = of_rule(&with, "gl21-guideline-floor");
    assert!(item.explanation_zh.starts_with(&plain.explanation_zh));
    let path = &item.explanation_zh[plain.explanation_zh.len()..];
    assert!(path.contains("行为日期2023-05-01"), "{path}");
    assert!(path.contains("罪名：行为时有效罪名：盗窃罪（《刑法》第二百六十四条"));
    assert!(
        path.contains("数额标准：数额200000元达到“数额巨大”"),
        "{path}"
    );
    assert!(
        path.contains("法定刑幅度：处三年以上十年以下有期徒刑"),
        "{path}"
    );
    assert!(path.contains("量刑起点："), "{path}");
    assert!(path.contains("3年至4年有期徒刑"), "{path}");
    // 累犯 +10..40 %, 自首 −40..0 %: summed −30..+40 %, the top 48 × 1.4 = 67.2 months, the
    // bottom held at the statutory three years.
    assert!(path.contains("量刑情节：累犯："), "{path}");
    assert!(path.contains("量刑情节：自首："), "{path}");
    assert!(path.contains("量刑区间：3年至67.2个月"), "{path}");
    // Every step names its source file and article.
    let e = g
        .explain_sentence(
            "盗窃罪",
            d("2023-05-01"),
            Some(20_000_000),
            &["累犯", "自首"],
        )
        .unwrap();
    for st in &e.steps {
        assert!(
            path.contains(&format!("（依据：{} {}）", st.file, st.article)),
            "{} without its source",
            st.kind
        );
    }
    // The other findings read as without the graph.
    assert_eq!(with.len(), without.len());
}

#[test]
fn the_charge_is_cited_in_the_version_in_force_on_the_offence_date() {
    let Some(g) = graph() else { return };
    // 补充规定（七）, in force 2021-03-01: 生产、销售假药罪 (C141.1) → 生产、销售、提供假药罪
    // (C141.2). Sixteen years and eight months is beyond any single fixed term (刑法 第45条).
    let fixed = "cl-045-fixed-term-range";
    let before = run(&sentenced("C141.2", 200, "2021-02-28", &[]), Some(&g));
    let text = &of_rule(&before, fixed).explanation_zh;
    assert!(
        text.contains("行为时有效罪名：生产、销售假药罪（《刑法》第一百四十一条"),
        "{text}"
    );
    assert!(text.contains("至2021-03-01止"), "{text}");
    let after = run(&sentenced("C141.1", 200, "2021-03-01", &[]), Some(&g));
    let text = &of_rule(&after, fixed).explanation_zh;
    assert!(
        text.contains("行为时有效罪名：生产、销售、提供假药罪"),
        "{text}"
    );
    assert!(text.contains("补充规定（七）"), "{text}");
    // Without an offence date the first recorded act stands in, and the finding says so.
    let mut undated = sentenced("C141.2", 200, "2021-03-01", &[]);
    undated.occurred_on = None;
    let undated = undated.with("case_filed", d("2020-11-02"), "GA1");
    let items = run(&undated, Some(&g));
    let text = &of_rule(&items, fixed).explanation_zh;
    assert!(text.contains("行为时有效罪名：生产、销售假药罪"), "{text}");
    assert!(text.contains("案发时间未记载"), "{text}");
}

#[test]
fn the_findings_are_the_same_with_and_without_the_graph() {
    let Some(g) = graph() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = common::province(dir.path(), 23, 400, 0.0);
    let ctx = |statute| Context {
        as_of: d("2026-01-01"),
        calendar: &WeekendsOnly,
        statute,
    };
    let without = evaluate_all_in(&store, &ctx(None)).unwrap();
    let with = evaluate_all_in(&store, &ctx(Some(&g))).unwrap();
    assert_eq!(with.cases, without.cases);
    assert_eq!(with.items.len(), without.items.len());
    let mut explained = 0;
    for (a, b) in with.items.iter().zip(&without.items) {
        assert_eq!(
            (a.rule_id, &a.case_uid, a.due, &a.facts_used, a.severity),
            (b.rule_id, &b.case_uid, b.due, &b.facts_used, b.severity)
        );
        assert!(a.explanation_zh.starts_with(&b.explanation_zh));
        if a.explanation_zh != b.explanation_zh {
            assert!(EXPLAINED_RULES.contains(&a.rule_id), "{}", a.rule_id);
            assert!(a.explanation_zh.contains("【定罪量刑路径："));
            explained += 1;
        }
    }
    assert!(explained > 0, "no sentencing finding in the province");
}
