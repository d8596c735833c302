//! 案件评查 over an ingested synthetic province: the sample is reproducible, its checklist
//! comes from the organ's rules with the engine's findings, a score needs every item, and
//! every sample and score is a ledger entry.

mod common;

use chrono::NaiveDate;
use xiezhi_store::{SqliteStore, Store};
use xiezhi_supervise::review::{self, ReviewError, Verdict};
use xiezhi_supervise::DataCalendar;

fn province(dir: &std::path::Path) -> SqliteStore {
    common::province(dir, 11, 400, 0.0)
}

/// The court that closed the most cases.
fn busiest_court(store: &SqliteStore) -> String {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let cases = xiezhi_supervise::engine::all_cases(store).unwrap();
    for f in xiezhi_supervise::facts_of_cases(store, &cases).unwrap() {
        for e in f.events.iter().filter(|e| e.kind == "judgment_effective") {
            *counts.entry(e.org_code.clone()).or_default() += 1;
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).unwrap().0
}

#[test]
fn a_sample_is_reproducible_scored_item_by_item_and_ledgered() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = province(dir.path());
    let cal = DataCalendar::shipped().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
    let (from, to) = (
        NaiveDate::from_ymd_opt(2021, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 9, 30).unwrap(),
    );
    let court = busiest_court(&store);
    let before = store.ledger_len().unwrap();
    let s = review::draw(&mut store, &court, from, to, 3, 7, "reviewer", today, &cal).unwrap();
    assert_eq!(s.cases.len(), 3.min(s.population));
    assert!(s.population >= 3, "{s:?}");
    assert_eq!(store.ledger_len().unwrap(), before + 1);
    // The same inputs give the same sample (on a second store with the same data), and a
    // second draw with the same id is refused.
    let dir2 = tempfile::tempdir().unwrap();
    let mut again = province(dir2.path());
    let s2 = review::draw(&mut again, &court, from, to, 3, 7, "other", today, &cal).unwrap();
    let ids = |s: &review::ReviewSample| {
        s.cases
            .iter()
            .map(|c| c.case_uid.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&s), ids(&s2));
    let s3 = review::draw(&mut again, &court, from, to, 3, 8, "other", today, &cal).unwrap();
    assert_ne!(ids(&s), ids(&s3), "another seed, another sample");
    assert!(matches!(
        review::draw(&mut store, &court, from, to, 3, 7, "x", today, &cal),
        Err(ReviewError::Exists(_))
    ));
    assert!(matches!(
        review::draw(&mut store, "ZF52000001", from, to, 3, 7, "x", today, &cal),
        Err(ReviewError::Organ(_))
    ));

    // The checklist is the court's rules, with the basis of each.
    let case = &s.cases[0];
    assert!(case
        .checklist
        .iter()
        .any(|i| i.rule_id == "cpl-208-first-instance"));
    assert!(case.checklist.iter().all(|i| i.basis.contains('第')));
    // Scoring needs every item; then the score is 符合 / (符合 + 不符合).
    let one = vec![(
        case.checklist[0].rule_id.clone(),
        Verdict::Conform,
        String::new(),
    )];
    assert!(matches!(
        review::score(&mut store, &s.id, &case.case_uid, &one, "reviewer", today),
        Err(ReviewError::Incomplete(_))
    ));
    let mut all: Vec<(String, Verdict, String)> = case
        .checklist
        .iter()
        .map(|i| (i.rule_id.clone(), Verdict::Conform, String::new()))
        .collect();
    all[1].1 = Verdict::Nonconform;
    all[1].2 = "宣判后未按期送达".into();
    all[2].1 = Verdict::NotApplicable;
    let n = all.len();
    let before = store.ledger_len().unwrap();
    let scored = review::score(&mut store, &s.id, &case.case_uid, &all, "reviewer", today).unwrap();
    let want = 100.0 * (n - 2) as f64 / (n - 1) as f64;
    assert!((scored.score.unwrap() - want).abs() < 1e-9);
    assert_eq!(store.ledger_len().unwrap(), before + 1);
    let last = store.ledger_entries(before, 1).unwrap();
    assert_eq!(last[0].kind, "review_scored");
    assert!(last[0].body.contains(&all[1].0));

    let results = review::results(&store).unwrap();
    let r = results.iter().find(|r| r.organ == court).unwrap();
    assert_eq!((r.samples, r.reviewed), (1, 1));
    assert_eq!(r.nonconform_by_rule[&all[1].0], 1);
}
