//! The engine over a synthetic province, and every rule's basis checked against the statute
//! texts in `shared/reference/laws/`.

use std::path::PathBuf;

use chrono::{Days, NaiveDate};
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_store::SqliteStore;
use xiezhi_supervise::{catalog, evaluate, facts_from_store, WeekendsOnly};

#[test]
fn every_case_of_a_synthetic_province_is_evaluated_and_explained() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    xiezhi_synth::generate(
        &xiezhi_synth::SynthConfig {
            seed: 11,
            cases: 60,
            ..Default::default()
        },
        &export,
    )
    .unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    ingest_export(
        &mut store,
        &shipped_plans().unwrap(),
        &export,
        &IngestOptions::default(),
        &mut |_, _, _| {},
    )
    .unwrap();

    let as_of = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut cases = Vec::new();
    for n in 1.. {
        let uid = format!("C{n:08}");
        match facts_from_store(&store, &uid).unwrap() {
            Some(facts) => cases.push(facts),
            None => break,
        }
    }
    assert!(cases.len() >= 50, "only {} cases stored", cases.len());
    assert!(cases.iter().any(|c| !c.events.is_empty()));

    let mut fired = std::collections::BTreeMap::<&str, usize>::new();
    for facts in &cases {
        for item in evaluate(facts, as_of, &WeekendsOnly) {
            *fired.entry(item.rule_id).or_default() += 1;
            assert!(item.basis.article > 0, "{item:?}");
            assert!(item
                .basis
                .cite()
                .contains(&format!("第{}条", item.basis.article)));
            assert!(
                item.explanation_zh.contains(&item.basis.cite()) || item.rule_id.contains("limit"),
                "{item:?}"
            );
            assert!(
                item.explanation_zh.contains(&item.due.to_string()),
                "{item:?}"
            );
            for used in &item.facts_used {
                let date = used.split(' ').nth(1).unwrap();
                assert!(item.explanation_zh.contains(date), "{date} not in {item:?}");
            }
            serde_json::to_string(&item).unwrap();
        }
    }

    eprintln!("{} cases, risk items by rule: {fired:?}", cases.len());
    if std::env::var_os("SHOW_ITEMS").is_some() {
        for f in &cases {
            for i in evaluate(f, as_of, &WeekendsOnly) {
                eprintln!("{} {}: {}", i.case_uid, i.rule_id, i.explanation_zh);
            }
        }
    }

    // A copy of a real case with its prosecution decision moved past the limit fires.
    let facts = cases
        .iter()
        .find(|c| {
            c.events
                .iter()
                .any(|e| e.kind == "transferred_for_prosecution")
                && c.events.iter().any(|e| e.kind == "prosecuted")
                && !c
                    .events
                    .iter()
                    .any(|e| e.kind == "returned_for_investigation")
        })
        .expect("a prosecuted case");
    let rule = "cpl-172-prosecution-review";
    assert!(!evaluate(facts, as_of, &WeekendsOnly)
        .iter()
        .any(|i| i.rule_id == rule));
    let mut late = facts.clone();
    let transferred = late
        .events
        .iter()
        .find(|e| e.kind == "transferred_for_prosecution")
        .unwrap()
        .on;
    for e in late.events.iter_mut().filter(|e| e.kind == "prosecuted") {
        e.on = transferred.checked_add_days(Days::new(60)).unwrap();
    }
    late.events.sort_by_key(|e| e.on);
    let items = evaluate(&late, as_of, &WeekendsOnly);
    let item = items
        .iter()
        .find(|i| i.rule_id == rule)
        .expect("late review fires");
    assert_eq!(item.case_uid, facts.case_uid);
    assert!(item.explanation_zh.contains("超期"));
}

/// `第91条` → `第九十一条`.
fn article_zh(n: u32) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (h, t, u) = (n / 100, (n / 10) % 10, n % 10);
    let mut s = String::new();
    if h > 0 {
        s += D[h as usize];
        s += "百";
    }
    if t > 0 {
        if !(h == 0 && t == 1) {
            s += D[t as usize];
        }
        s += "十";
    } else if h > 0 && u > 0 {
        s += "零";
    }
    if u > 0 {
        s += D[u as usize];
    }
    format!("第{s}条")
}

#[test]
fn every_basis_quotes_its_article_verbatim() {
    assert_eq!(article_zh(91), "第九十一条");
    assert_eq!(article_zh(105), "第一百零五条");
    assert_eq!(article_zh(110), "第一百一十条");
    assert_eq!(article_zh(21), "第二十一条");
    assert_eq!(article_zh(264), "第二百六十四条");
    let laws = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/laws");
    if !laws.exists() {
        eprintln!("statute texts not present at {}; skipped", laws.display());
        return;
    }
    let file = |law: &str, version: &str| {
        [format!("{law}.md"), format!("{law}-{version}.md")]
            .into_iter()
            .map(|n| laws.join(n))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no text for {law}"))
    };
    for rule in catalog() {
        let b = rule.basis;
        let text = std::fs::read_to_string(file(b.law, b.version)).unwrap();
        let head = format!("{} ", article_zh(b.article));
        let start = text
            .lines()
            .position(|l| l.starts_with(&head))
            .unwrap_or_else(|| panic!("{}: {head} not found", rule.id));
        // The article runs until the next line that starts an article; an item line (（一）…)
        // belongs to the paragraph before it.
        let mut body: Vec<String> = Vec::new();
        for l in text
            .lines()
            .skip(start)
            .enumerate()
            .take_while(|(i, l)| *i == 0 || !(l.starts_with('第') && l.contains("条 ")))
            .map(|(_, l)| l)
            .filter(|l| !l.trim().is_empty())
        {
            match body.last_mut() {
                Some(para) if l.starts_with('（') => para.push_str(l),
                _ => body.push(l.to_string()),
            }
        }
        assert!(
            body.iter().any(|l| l.contains(b.quote)),
            "{}: quote not in {head}",
            rule.id
        );
        if let Some(p) = b.paragraph {
            let para = body.get(p as usize - 1).map_or("", String::as_str);
            assert!(
                para.contains(b.quote),
                "{}: quote not in paragraph {p}",
                rule.id
            );
        }
    }
    // And the counting rule the deadline module relies on.
    let cpl = std::fs::read_to_string(laws.join("刑事诉讼法.md")).unwrap();
    assert!(cpl.contains("期间开始的时和日不算在期间以内。"));
    assert!(cpl.contains("期间的最后一日为节假日的，以节假日后的第一日为期满日期，但犯罪嫌疑人、被告人或者罪犯在押期间，应当至期满之日为止，不得因节假日而延长。"));
}
