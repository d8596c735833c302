//! The procedural-legality, time-limit, sentencing, completeness and commutation rules over a
//! synthetic province: silent on its cases as generated (but where the province planted a
//! violation of the rule), and firing on copies of real cases with one fact changed (the
//! near-miss and the trigger of each rule).

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_store::{Entity, SqliteStore, Store};
use xiezhi_supervise::{evaluate, facts_from_store, CaseFacts, WeekendsOnly};

const NEW_RULES: [&str; 28] = [
    "cpl-085-family-notice",
    "gl21-guideline-floor",
    "cpl-201-sentencing-proposal",
    "fsp24-004-property-judgment",
    "cpl-087-arrest-without-request",
    "cpl-080-arrest-without-approval",
    "cpl-162-prosecution-without-transfer",
    "cpl-186-trial-without-prosecution",
    "cpl-259-execution-without-effective-judgment",
    "cpl-156-investigation-custody",
    "cpl-175-supplementary-investigation-period",
    "cpl-079-bail-limit",
    "cpl-079-surveillance-limit",
    "cpl-243-second-instance",
    "cl-062-statutory-band",
    "cl-045-fixed-term-range",
    "cl-042-detention-range",
    "cl-038-surveillance-range",
    "cl-072-probation-eligibility",
    "cl-074-probation-recidivist",
    "cl-073-probation-period",
    "cpl-required-document",
    "cpl-required-evidence",
    "cl-078-commutation-half-term",
    "jx16-006-first-commutation",
    "jx16-006-commutation-interval",
    "cl-081-parole-exclusion",
    "cl-081-parole-half-term",
];

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 30).unwrap()
}

/// The stored cases, and the (stored case, rule) pairs the province planted a violation of.
fn province() -> (Vec<CaseFacts>, BTreeSet<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    xiezhi_synth::generate(
        &xiezhi_synth::SynthConfig {
            seed: 5,
            cases: 80,
            // Clean exports: a quarantined police row would leave a case without the police
            // case number its planted marks are matched by.
            dirty_rate: 0.0,
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
    let cases: Vec<CaseFacts> = (1..)
        .map_while(|n| facts_from_store(&store, &format!("C{n:08}")).unwrap())
        .collect();
    let planted_numbers: BTreeSet<(String, String)> = xiezhi_synth::violations::read(&export)
        .unwrap()
        .into_iter()
        .filter(|t| t.mark == xiezhi_synth::violations::Mark::Violation)
        .map(|t| (t.police_case_no, t.rule))
        .collect();
    let mut planted = BTreeSet::new();
    for c in &cases {
        let case = store.get(Entity::Case, &c.case_uid).unwrap().unwrap();
        if let Some(no) = case.record.get("police_case_no").and_then(|v| v.as_str()) {
            for (n, rule) in &planted_numbers {
                if n == no {
                    planted.insert((c.case_uid.clone(), rule.clone()));
                }
            }
        }
    }
    (cases, planted)
}

/// Whether the rule fires; every item it gives names its basis, its date and each fact's date.
fn fires(facts: &CaseFacts, rule: &str) -> bool {
    let items: Vec<_> = evaluate(facts, as_of(), &WeekendsOnly)
        .into_iter()
        .filter(|i| i.rule_id == rule)
        .collect();
    for i in &items {
        assert!(i.explanation_zh.contains(&i.basis.cite()), "{i:?}");
        assert!(i.explanation_zh.contains(&i.due.to_string()), "{i:?}");
        for used in &i.facts_used {
            let date = used.split(' ').nth(1).unwrap();
            assert!(i.explanation_zh.contains(date), "{date} not in {i:?}");
        }
    }
    !items.is_empty()
}

fn has(c: &CaseFacts, kind: &str) -> bool {
    c.events.iter().any(|e| e.kind == kind)
}

fn without(c: &CaseFacts, kind: &str) -> CaseFacts {
    let mut c = c.clone();
    c.events.retain(|e| e.kind != kind);
    c
}

#[test]
fn silent_on_the_province_and_firing_on_one_changed_fact() {
    let (cases, planted) = province();
    assert!(cases.len() >= 70, "{} cases", cases.len());
    assert!(cases.iter().any(|c| !c.sentences.is_empty()));
    assert!(cases.iter().any(|c| !c.documents.is_empty()));
    assert!(cases.iter().any(|c| !c.executions.is_empty()));
    assert!(cases.iter().any(|c| !c.cited_documents.is_empty()));
    let catalog: Vec<_> = xiezhi_supervise::catalog().iter().map(|r| r.id).collect();
    assert!(NEW_RULES.iter().all(|r| catalog.contains(r)));
    for c in &cases {
        for i in evaluate(c, as_of(), &WeekendsOnly) {
            let expected = planted.contains(&(c.case_uid.clone(), i.rule_id.to_string()));
            assert!(
                !NEW_RULES.contains(&i.rule_id) || expected,
                "fires on a generated case: {i:?}"
            );
        }
    }

    // 批准逮捕 without its 提请.
    let arrested = cases
        .iter()
        .find(|c| has(c, "arrest_approved") && has(c, "case_filed"))
        .expect("an arrested case");
    assert!(fires(
        &without(arrested, "arrest_requested"),
        "cpl-087-arrest-without-request"
    ));

    // 提起公诉 without 移送审查起诉; a trial without 提起公诉.
    let tried = cases
        .iter()
        .find(|c| has(c, "prosecuted") && has(c, "court_accepted"))
        .expect("a tried case");
    assert!(fires(
        &without(tried, "transferred_for_prosecution"),
        "cpl-162-prosecution-without-transfer"
    ));
    assert!(fires(
        &without(tried, "prosecuted"),
        "cpl-186-trial-without-prosecution"
    ));

    // 入监 or 社区矫正报到 without an effective judgment.
    let executed = cases
        .iter()
        .find(|c| {
            has(c, "verdict_announced")
                && (has(c, "prison_admission") || has(c, "community_correction_report"))
        })
        .expect("an executed case");
    assert!(fires(
        &without(executed, "judgment_effective"),
        "cpl-259-execution-without-effective-judgment"
    ));

    // Investigation custody: the transfer moved to four months after the approval.
    let mut late = arrested.clone();
    let approved = late
        .events
        .iter()
        .find(|e| e.kind == "arrest_approved")
        .unwrap()
        .on;
    for e in late
        .events
        .iter_mut()
        .filter(|e| e.kind == "transferred_for_prosecution")
    {
        e.on = approved.checked_add_days(Days::new(122)).unwrap();
    }
    late.events.sort_by_key(|e| e.on);
    assert!(fires(&late, "cpl-156-investigation-custody"));

    // Sentencing: a fixed term above fifteen years; probation for a recidivist.
    let sentenced = cases
        .iter()
        .find(|c| {
            c.sentences.iter().any(|s| {
                s.charges.len() == 1 && s.principal_penalty.as_deref() == Some("fixed_term")
            })
        })
        .expect("a fixed-term sentence");
    let mut long = sentenced.clone();
    for s in &mut long.sentences {
        s.term_months = Some(181);
    }
    assert!(fires(&long, "cl-045-fixed-term-range"));
    let suspended = cases
        .iter()
        .find(|c| {
            c.sentences
                .iter()
                .any(|s| s.probation_months.unwrap_or(0) > 0)
        })
        .expect("a suspended sentence");
    let mut recidivist = suspended.clone();
    for s in &mut recidivist.sentences {
        s.circumstances.push("recidivist".into());
    }
    assert!(fires(&recidivist, "cl-074-probation-recidivist"));

    // Completeness: the indictment the 提起公诉 names is not in the file.
    let mut no_indictment = tried.clone();
    assert!(no_indictment
        .cited_documents
        .iter()
        .any(|c| c.event_kind == "prosecuted"));
    no_indictment.documents.retain(|d| d.kind != "indictment");
    assert!(fires(&no_indictment, "cpl-required-document"));

    // Commutation: a cumulative reduction above half the term.
    if let Some(prison) = cases.iter().find(|c| {
        c.executions
            .iter()
            .any(|e| e.kind.as_deref() == Some("prison"))
    }) {
        let mut over = prison.clone();
        for e in &mut over.executions {
            let term = over
                .sentences
                .iter()
                .find(|s| s.person_uid == e.person_uid)
                .and_then(|s| s.term_months)
                .unwrap_or(24);
            e.reduced_months = Some(term / 2 + 1);
        }
        assert!(fires(&over, "cl-078-commutation-half-term"));
    }
}
