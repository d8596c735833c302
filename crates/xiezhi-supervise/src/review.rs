//! 案件评查 (case-quality review): a reproducible random sample of the cases an organ closed in
//! a period, a checklist per case generated from the procedure and evidence rules of the
//! catalog that concern that organ (each item pre-filled with what the engine found), scores
//! given by reviewers, and results per organ and per rule. Every sample and every score is a
//! ledger entry, in the same transaction as the state it changes.
//!
//! Sampling: every case with a closing act of the organ dated in the period is ranked by
//! SHA-256 of (seed, organ, period, case uid) and the first `size` are drawn, so the same
//! inputs always give the same sample and anyone can recompute it from the ledger entry.
//!
//! Scoring (a platform scheme, not a statutory one): each item is 符合, 不符合 or 不适用; a
//! case scores 100 × 符合 / (符合 + 不符合).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xiezhi_store::{LedgerEvent, Store, StoreError, WorkflowWrite};

use crate::deadline::RestDays;
use crate::engine::all_cases;
use crate::{catalog, evaluate, facts_of_cases};

/// Workflow-item kind of review samples.
pub const KIND: &str = "case_review";

/// The acts that close a case at an organ, by the organ code's prefix.
fn closing_acts(organ: &str) -> &'static [&'static str] {
    match organ.get(..2) {
        Some("GA") => &["transferred_for_prosecution"],
        Some("JC") => &["prosecuted", "not_prosecuted"],
        Some("FY") => &["judgment_effective"],
        Some("SJ") => &["released", "revocation_ruled"],
        _ => &[],
    }
}

/// The catalog rules a review of the organ checks, by the organ code's prefix: the rules
/// whose acts the organ performs.
fn checklist_rules(organ: &str) -> &'static [&'static str] {
    match organ.get(..2) {
        Some("GA") => &[
            "cpl-091-arrest-request",
            "cpl-156-investigation-custody",
            "cpl-079-bail-limit",
            "cpl-079-surveillance-limit",
            "cpl-087-arrest-without-request",
            "cpl-required-evidence",
        ],
        Some("JC") => &[
            "cpl-091-arrest-review",
            "spp-282-arrest-review-not-detained",
            "cpl-172-prosecution-review",
            "cpl-175-supplementary-investigation-limit",
            "cpl-175-supplementary-investigation-period",
            "cpl-162-prosecution-without-transfer",
            "cpl-174-plea-without-counsel",
            "cpl-required-document",
        ],
        Some("FY") => &[
            "cpl-208-first-instance",
            "cpl-243-second-instance",
            "cpl-264-delivery-for-execution",
            "cpl-186-trial-without-prosecution",
            "cpl-259-execution-without-effective-judgment",
            "cl-062-statutory-band",
            "cl-045-fixed-term-range",
            "cl-042-detention-range",
            "cl-038-surveillance-range",
            "cl-072-probation-eligibility",
            "cl-073-probation-period",
            "cl-074-probation-recidivist",
            "sqjz-020-decision-notice",
            "sqjz-048-revocation-ruling",
        ],
        Some("SJ") => &[
            "sqjz-021-community-correction-report",
            "sqjz-021-missed-intake",
            "sqjz-026-lost-contact",
            "sqjz-027-leave-overrun",
            "sqjz-029-monitoring-limit",
            "sqjz-029-fence-breach",
            "sqjz-044-release-notice",
        ],
        _ => &[],
    }
}

/// A reviewer's verdict on one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 符合
    Conform,
    /// 不符合
    Nonconform,
    /// 不适用
    NotApplicable,
}

impl Verdict {
    pub fn name_zh(self) -> &'static str {
        match self {
            Verdict::Conform => "符合",
            Verdict::Nonconform => "不符合",
            Verdict::NotApplicable => "不适用",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "conform" | "符合" => Some(Verdict::Conform),
            "nonconform" | "不符合" => Some(Verdict::Nonconform),
            "na" | "not_applicable" | "不适用" => Some(Verdict::NotApplicable),
            _ => None,
        }
    }
}

/// One checklist item of a sampled case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub rule_id: String,
    pub title_zh: String,
    pub basis: String,
    /// What the engine found for this case and rule, if anything (the reviewer confirms or
    /// overrides it).
    pub engine_finding: Option<String>,
    pub verdict: Option<Verdict>,
    pub note: String,
}

/// One sampled case and its review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampledCase {
    pub case_uid: String,
    /// The closing act that put the case in the population (kind and date).
    pub closed_by: String,
    pub checklist: Vec<ChecklistItem>,
    pub reviewer: Option<String>,
    pub reviewed_on: Option<NaiveDate>,
    /// 100 × 符合 / (符合 + 不符合), once scored.
    pub score: Option<f64>,
}

/// A review sample of one organ and period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewSample {
    /// `organ:from:to:seed`.
    pub id: String,
    pub organ: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub seed: u64,
    /// Cases the organ closed in the period.
    pub population: usize,
    pub cases: Vec<SampledCase>,
    pub drawn_on: NaiveDate,
    pub drawn_by: String,
    pub method: String,
}

/// Why a review action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("机构代码 `{0}` 不是可评查的办案机关（公安、检察院、法院、社区矫正机构）")]
    Organ(String),
    #[error("评查样本 `{0}` 不存在")]
    NoSample(String),
    #[error("案件 {1} 不在评查样本 `{0}` 中")]
    NotSampled(String, String),
    #[error("评查项 `{0}` 不在该案的评查表中")]
    NoItem(String),
    #[error("评查样本 `{0}` 已存在（同一机关、期间与种子的抽样结果不变）")]
    Exists(String),
    #[error("该案尚有未评查的项目：{0}")]
    Incomplete(String),
}

fn rank(seed: u64, organ: &str, from: NaiveDate, to: NaiveDate, case: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    for part in [organ, &from.to_string(), &to.to_string(), case] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().into()
}

/// Draws a sample and stores it with its ledger entry.
#[allow(clippy::too_many_arguments)]
pub fn draw<S: Store>(
    store: &mut S,
    organ: &str,
    from: NaiveDate,
    to: NaiveDate,
    size: usize,
    seed: u64,
    by: &str,
    today: NaiveDate,
    calendar: &dyn RestDays,
) -> Result<ReviewSample, ReviewError> {
    let closing = closing_acts(organ);
    if closing.is_empty() {
        return Err(ReviewError::Organ(organ.to_string()));
    }
    let id = format!("{organ}:{from}:{to}:{seed}");
    if store.workflow_item(KIND, &id)?.is_some() {
        return Err(ReviewError::Exists(id));
    }
    let mut population: Vec<([u8; 32], String, String)> = Vec::new();
    let cases = all_cases(store)?;
    for block in cases.chunks(512) {
        for f in facts_of_cases(store, block)? {
            let closed = f
                .events
                .iter()
                .map(|e| (e.kind.as_str(), e.on, e.org_code.as_str()))
                .chain(
                    f.correction_acts
                        .iter()
                        .map(|a| (a.kind.as_str(), a.at.date(), a.org_code.as_str())),
                )
                .find(|(k, on, org)| {
                    closing.contains(k) && *org == organ && *on >= from && *on <= to
                });
            if let Some((k, on, _)) = closed {
                population.push((
                    rank(seed, organ, from, to, &f.case_uid),
                    f.case_uid.clone(),
                    format!("{k} {on}"),
                ));
            }
        }
    }
    population.sort();
    let n = population.len();
    let picked: Vec<(String, String)> = population
        .into_iter()
        .take(size)
        .map(|(_, c, by)| (c, by))
        .collect();
    let rules = checklist_rules(organ);
    let catalog = catalog();
    let uids: Vec<String> = picked.iter().map(|(c, _)| c.clone()).collect();
    let facts = facts_of_cases(store, &uids)?;
    let mut sampled = Vec::new();
    for (case_uid, closed_by) in picked {
        let found = facts
            .iter()
            .find(|f| f.case_uid == case_uid)
            .map(|f| evaluate(f, today, calendar))
            .unwrap_or_default();
        let checklist = rules
            .iter()
            .filter_map(|id| catalog.iter().find(|r| r.id == *id))
            .map(|r| ChecklistItem {
                rule_id: r.id.to_string(),
                title_zh: r.title_zh.to_string(),
                basis: r.basis.cite(),
                engine_finding: found
                    .iter()
                    .find(|i| i.rule_id == r.id)
                    .map(|i| i.explanation_zh.clone()),
                verdict: None,
                note: String::new(),
            })
            .collect();
        sampled.push(SampledCase {
            case_uid,
            closed_by,
            checklist,
            reviewer: None,
            reviewed_on: None,
            score: None,
        });
    }
    let sample = ReviewSample {
        id: id.clone(),
        organ: organ.to_string(),
        from,
        to,
        seed,
        population: n,
        cases: sampled,
        drawn_on: today,
        drawn_by: by.to_string(),
        method: "按 SHA-256(种子, 机关, 期间, 案件编号) 排序取前若干件；同一输入抽样结果不变"
            .into(),
    };
    let mut body = serde_json::Map::new();
    body.insert("sample".into(), id.clone().into());
    body.insert("organ".into(), organ.into());
    body.insert("from".into(), from.to_string().into());
    body.insert("to".into(), to.to_string().into());
    body.insert("seed".into(), seed.into());
    body.insert("population".into(), n.into());
    body.insert(
        "cases".into(),
        sample
            .cases
            .iter()
            .map(|c| serde_json::Value::from(c.case_uid.clone()))
            .collect::<Vec<_>>()
            .into(),
    );
    body.insert("by".into(), by.into());
    store.put_workflow_items(&[WorkflowWrite {
        kind: KIND.into(),
        id,
        body: serde_json::to_string(&sample).map_err(StoreError::from)?,
        events: vec![LedgerEvent {
            kind: "review_sampled".into(),
            entity: None,
            uid: None,
            body,
        }],
    }])?;
    Ok(sample)
}

/// A stored sample.
pub fn sample<S: Store>(store: &S, id: &str) -> Result<ReviewSample, ReviewError> {
    let body = store
        .workflow_item(KIND, id)?
        .ok_or_else(|| ReviewError::NoSample(id.to_string()))?;
    Ok(serde_json::from_str(&body).map_err(StoreError::from)?)
}

/// Every stored sample.
pub fn samples<S: Store>(store: &S) -> Result<Vec<ReviewSample>, ReviewError> {
    store
        .workflow_items(KIND)?
        .into_iter()
        .map(|(_, b)| Ok(serde_json::from_str(&b).map_err(StoreError::from)?))
        .collect()
}

/// Records a reviewer's verdicts on one sampled case (every item must get one) and its
/// score, with a ledger entry.
pub fn score<S: Store>(
    store: &mut S,
    id: &str,
    case_uid: &str,
    verdicts: &[(String, Verdict, String)],
    by: &str,
    today: NaiveDate,
) -> Result<SampledCase, ReviewError> {
    let mut s = sample(store, id)?;
    let case = s
        .cases
        .iter_mut()
        .find(|c| c.case_uid == case_uid)
        .ok_or_else(|| ReviewError::NotSampled(id.to_string(), case_uid.to_string()))?;
    for (rule, _, _) in verdicts {
        if !case.checklist.iter().any(|i| &i.rule_id == rule) {
            return Err(ReviewError::NoItem(rule.clone()));
        }
    }
    for item in case.checklist.iter_mut() {
        if let Some((_, v, note)) = verdicts.iter().find(|(r, _, _)| *r == item.rule_id) {
            item.verdict = Some(*v);
            item.note = note.clone();
        }
    }
    let missing: Vec<&str> = case
        .checklist
        .iter()
        .filter(|i| i.verdict.is_none())
        .map(|i| i.rule_id.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(ReviewError::Incomplete(missing.join("、")));
    }
    let count = |v: Verdict| {
        case.checklist
            .iter()
            .filter(|i| i.verdict == Some(v))
            .count()
    };
    let (ok, bad) = (count(Verdict::Conform), count(Verdict::Nonconform));
    case.score = Some(if ok + bad == 0 {
        100.0
    } else {
        100.0 * ok as f64 / (ok + bad) as f64
    });
    case.reviewer = Some(by.to_string());
    case.reviewed_on = Some(today);
    let done = case.clone();
    let mut body = serde_json::Map::new();
    body.insert("sample".into(), id.into());
    body.insert("case".into(), case_uid.into());
    body.insert("by".into(), by.into());
    body.insert("score".into(), done.score.into());
    body.insert(
        "nonconform".into(),
        done.checklist
            .iter()
            .filter(|i| i.verdict == Some(Verdict::Nonconform))
            .map(|i| serde_json::Value::from(i.rule_id.clone()))
            .collect::<Vec<_>>()
            .into(),
    );
    store.put_workflow_items(&[WorkflowWrite {
        kind: KIND.into(),
        id: id.to_string(),
        body: serde_json::to_string(&s).map_err(StoreError::from)?,
        events: vec![LedgerEvent {
            kind: "review_scored".into(),
            entity: Some("case".into()),
            uid: Some(case_uid.to_string()),
            body,
        }],
    }])?;
    Ok(done)
}

/// Results of one organ over its reviewed cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrganResult {
    pub organ: String,
    pub samples: usize,
    pub reviewed: usize,
    pub mean_score: Option<f64>,
    /// Rule → cases judged 不符合.
    pub nonconform_by_rule: BTreeMap<String, usize>,
}

/// Results per organ across every sample.
pub fn results<S: Store>(store: &S) -> Result<Vec<OrganResult>, ReviewError> {
    let mut by: BTreeMap<String, OrganResult> = BTreeMap::new();
    for s in samples(store)? {
        let r = by.entry(s.organ.clone()).or_insert_with(|| OrganResult {
            organ: s.organ.clone(),
            samples: 0,
            reviewed: 0,
            mean_score: None,
            nonconform_by_rule: BTreeMap::new(),
        });
        r.samples += 1;
        for c in s.cases.iter().filter(|c| c.score.is_some()) {
            let prev = r.mean_score.unwrap_or(0.0) * r.reviewed as f64;
            r.reviewed += 1;
            r.mean_score = Some((prev + c.score.unwrap_or(0.0)) / r.reviewed as f64);
            for i in &c.checklist {
                if i.verdict == Some(Verdict::Nonconform) {
                    *r.nonconform_by_rule.entry(i.rule_id.clone()).or_default() += 1;
                }
            }
        }
    }
    Ok(by.into_values().collect())
}
