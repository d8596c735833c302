//! Held-out evaluation: train on one part of the shared data, score on the rest.

use serde::Serialize;

use crate::cail::{label_scores, term_score, LabelScores, Record};
use crate::predict::{Overrides, Predictor, StatuteSources, TrainConfig};

/// Prediction quality on held-out records.
#[derive(Debug, Clone, Serialize)]
pub struct PredictionReport {
    pub train: usize,
    pub test: usize,
    pub charges: LabelScores,
    pub articles: LabelScores,
    /// Mean CAIL2018 term score (0..1).
    pub term_score: f64,
    /// Accuracy of always answering the most frequent training charge.
    pub majority_baseline: f64,
    /// Share of test records whose charge the statute, not the learned model, decided.
    pub statute_decided: f64,
    pub train_seconds: f64,
    pub predict_docs_per_second: f64,
}

/// Trains on `train` and scores on `test`.
pub fn evaluate_prediction(
    train: &[Record],
    test: &[Record],
    statute: &StatuteSources,
    cfg: TrainConfig,
) -> (Predictor, PredictionReport) {
    let t0 = std::time::Instant::now();
    let model = Predictor::train(train, statute, cfg);
    let train_seconds = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let preds: Vec<_> = test.iter().map(|r| model.predict(&r.fact)).collect();
    let secs = t1.elapsed().as_secs_f64().max(1e-9);
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for r in train {
        for a in &r.meta.accusation {
            *counts.entry(a).or_default() += 1;
        }
    }
    let majority = counts
        .iter()
        .max_by_key(|p| p.1)
        .map(|p| *p.0)
        .unwrap_or("");
    let n = test.len().max(1) as f64;
    let report = PredictionReport {
        train: train.len(),
        test: test.len(),
        charges: label_scores(
            &preds
                .iter()
                .zip(test)
                .map(|(p, r)| (p.labels.accusation.clone(), r.meta.accusation.clone()))
                .collect::<Vec<_>>(),
        ),
        articles: label_scores(
            &preds
                .iter()
                .zip(test)
                .map(|(p, r)| {
                    (
                        p.labels.relevant_articles.clone(),
                        r.meta.relevant_articles.clone(),
                    )
                })
                .collect::<Vec<_>>(),
        ),
        term_score: preds
            .iter()
            .zip(test)
            .map(|(p, r)| term_score(&p.labels.term_of_imprisonment, &r.meta.term_of_imprisonment))
            .sum::<f64>()
            / n,
        majority_baseline: test
            .iter()
            .filter(|r| r.meta.accusation.iter().any(|a| a == majority))
            .count() as f64
            / n,
        statute_decided: preds
            .iter()
            .filter(|p| {
                p.explanation
                    .charges
                    .iter()
                    .any(|c| c.decided_by == "statute")
            })
            .count() as f64
            / n,
        train_seconds,
        predict_docs_per_second: test.len() as f64 / secs,
    };
    (model, report)
}

/// Zero-shot check of the statute knowledge: charges left out of training entirely.
#[derive(Debug, Clone, Serialize)]
pub struct UnseenReport {
    pub held_out_charges: Vec<String>,
    pub test: usize,
    /// Share of records of a left-out charge whose prediction names that charge.
    pub recall: f64,
    /// Share of those records where the statute decided (rather than the learned model).
    pub statute_decided: f64,
}

/// Trains without any record of `held_out` charges and tests on the records that have one.
pub fn evaluate_unseen(
    records: &[Record],
    held_out: &[&str],
    statute: &StatuteSources,
) -> UnseenReport {
    let (train, test) = unseen_split(records, held_out);
    let model = Predictor::train(&train, statute, TrainConfig::default());
    unseen_report(&model, &test, held_out)
}

/// (records without any `held_out` charge, records with one).
pub fn unseen_split(records: &[Record], held_out: &[&str]) -> (Vec<Record>, Vec<Record>) {
    records.iter().cloned().partition(|r| {
        !r.meta
            .accusation
            .iter()
            .any(|a| held_out.contains(&a.as_str()))
    })
}

/// Recall of the left-out charges by a model trained without them.
pub fn unseen_report(model: &Predictor, test: &[Record], held_out: &[&str]) -> UnseenReport {
    use crate::cail::charge_name_of_label;
    let (mut hit, mut statute) = (0usize, 0usize);
    for r in test {
        let p = model.predict(&r.fact);
        let predicted: Vec<String> = p
            .labels
            .accusation
            .iter()
            .map(|a| charge_name_of_label(a))
            .collect();
        if r.meta
            .accusation
            .iter()
            .any(|a| held_out.contains(&a.as_str()) && predicted.contains(&charge_name_of_label(a)))
        {
            hit += 1;
        }
        if p.explanation
            .charges
            .iter()
            .any(|c| c.decided_by == "statute")
        {
            statute += 1;
        }
    }
    let n = test.len().max(1) as f64;
    UnseenReport {
        held_out_charges: held_out.iter().map(|s| s.to_string()).collect(),
        test: test.len(),
        recall: hit as f64 / n,
        statute_decided: statute as f64 / n,
    }
}

/// Charges left out in the zero-shot check: mid-frequency charges of the CAIL2018 sample.
pub const UNSEEN_CHECK: [&str; 5] = ["故意杀人", "信用卡诈骗", "容留他人吸毒", "抢夺", "妨害公务"];

/// A second, disjoint left-out set, so the zero-shot figure is not one set's.
pub const UNSEEN_SECOND: [&str; 6] = [
    "寻衅滋事",
    "交通肇事",
    "抢劫",
    "敲诈勒索",
    "非法持有毒品",
    "[掩饰、隐瞒][犯罪所得、犯罪所得收益]",
];

/// The left-out set the statute overrides ([`Overrides`]) were tuned on; disjoint from both
/// reported sets, and mixing charges with distinctive statute wording (危险驾驶, food
/// poisoning, arson) with close siblings of seen charges (合同诈骗 beside 诈骗).
pub const UNSEEN_TUNE: [&str; 8] = [
    "合同诈骗",
    "强奸",
    "危险驾驶",
    "[生产、销售][有毒、有害]食品",
    "放火",
    "故意毁坏财物",
    "非法[持有、私藏][枪支、弹药]",
    "职务侵占",
];

/// Seen-charge scores (on `validation`) and left-out recall (on `unseen`, records
/// of `held_out` charges) of each candidate set of overrides, for one model trained without
/// `held_out`: the tuning measure. Each fact is scored once.
pub fn tune_overrides(
    model: &Predictor,
    candidates: &[Overrides],
    validation: &[Record],
    unseen: &[Record],
    held_out: &[&str],
) -> Vec<(Overrides, LabelScores, f64)> {
    use crate::cail::charge_name_of_label;
    let sv: Vec<_> = validation.iter().map(|r| model.score(&r.fact)).collect();
    let su: Vec<_> = unseen.iter().map(|r| model.score(&r.fact)).collect();
    candidates
        .iter()
        .map(|o| {
            let seen = label_scores(
                &sv.iter()
                    .zip(validation)
                    .map(|(s, r)| (model.charges_under(s, o), r.meta.accusation.clone()))
                    .collect::<Vec<_>>(),
            );
            let recall = su
                .iter()
                .zip(unseen)
                .filter(|(s, r)| {
                    let p: Vec<String> = model
                        .charges_under(s, o)
                        .iter()
                        .map(|a| charge_name_of_label(a))
                        .collect();
                    r.meta.accusation.iter().any(|a| {
                        held_out.contains(&a.as_str()) && p.contains(&charge_name_of_label(a))
                    })
                })
                .count() as f64
                / unseen.len().max(1) as f64;
            (*o, seen, recall)
        })
        .collect()
}

/// Entity extraction quality on held-out annotated sentences.
#[derive(Debug, Clone, Serialize)]
pub struct ExtractionReport {
    pub format: String,
    pub train: usize,
    pub test: usize,
    pub entities: crate::tagger::SpanScores,
    /// Per label: (label, F1).
    pub per_label: Vec<(String, f64)>,
    pub train_seconds: f64,
    pub extract_docs_per_second: f64,
}

/// Trains the tagger on `train` and scores exact entity spans on `test`.
pub fn evaluate_extraction(
    format: &str,
    train: &[crate::tagger::Example],
    test: &[crate::tagger::Example],
    epochs: usize,
) -> (crate::tagger::Tagger, ExtractionReport) {
    use crate::tagger::{span_scores, Tagger};
    let t0 = std::time::Instant::now();
    let tagger = Tagger::train(train, epochs, 2022);
    let train_seconds = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let pairs: Vec<_> = test
        .iter()
        .map(|e| (tagger.tag(&e.text), e.spans.clone()))
        .collect();
    let secs = t1.elapsed().as_secs_f64().max(1e-9);
    let mut labels: Vec<String> = test
        .iter()
        .flat_map(|e| e.spans.iter().map(|s| s.label.clone()))
        .collect();
    labels.sort();
    labels.dedup();
    let per_label = labels
        .iter()
        .map(|l| {
            let only = |v: &Vec<crate::tagger::Span>| {
                v.iter()
                    .filter(|s| &s.label == l)
                    .cloned()
                    .collect::<Vec<_>>()
            };
            let p: Vec<_> = pairs.iter().map(|(a, b)| (only(a), only(b))).collect();
            (l.clone(), span_scores(&p).f1)
        })
        .collect();
    let report = ExtractionReport {
        format: format.into(),
        train: train.len(),
        test: test.len(),
        entities: span_scores(&pairs),
        per_label,
        train_seconds,
        extract_docs_per_second: test.len() as f64 / secs,
    };
    (tagger, report)
}
