//! Measuring ingest against a synthetic province's ground truth: outcome agreement per record
//! and pairwise precision/recall of person and case merges.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use xiezhi_store::Outcome;

use crate::pipeline::FileReport;

/// One line of `ground-truth.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct TruthRow {
    pub source: String,
    pub file: String,
    pub record: i64,
    pub case: String,
    pub person: String,
    pub defect: Option<String>,
    /// `accepted`, `quarantined` or `repaired`.
    pub expect: String,
}

/// Reads a ground-truth file.
pub fn read_truth(path: &Path) -> std::io::Result<Vec<TruthRow>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}:{}: {e}", path.display(), i + 1),
                )
            })
        })
        .collect()
}

/// Pairwise merge quality.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PairScore {
    pub precision: f64,
    pub recall: f64,
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub correct_pairs: u64,
}

/// The evaluation of one ingest against ground truth.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evaluation {
    pub records: usize,
    /// Records whose outcome matched `expect`.
    pub agreed: usize,
    /// Mismatches: (file, record, defect, expected, got).
    pub mismatches: Vec<(String, i64, String, String, String)>,
    /// Per defect kind: (records, agreed).
    pub by_defect: BTreeMap<String, (usize, usize)>,
    /// Records present in the truth but in no report, or the reverse.
    pub unmatched: usize,
    pub persons: PairScore,
    pub cases: PairScore,
}

fn choose2(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

fn pair_score(pairs: &[(&str, &str)]) -> PairScore {
    let mut cells: HashMap<(&str, &str), u64> = HashMap::new();
    let mut predicted: HashMap<&str, u64> = HashMap::new();
    let mut truth: HashMap<&str, u64> = HashMap::new();
    for (p, t) in pairs {
        *cells.entry((p, t)).or_default() += 1;
        *predicted.entry(p).or_default() += 1;
        *truth.entry(t).or_default() += 1;
    }
    let correct: u64 = cells.values().map(|n| choose2(*n)).sum();
    let pred: u64 = predicted.values().map(|n| choose2(*n)).sum();
    let tru: u64 = truth.values().map(|n| choose2(*n)).sum();
    PairScore {
        precision: if pred == 0 {
            1.0
        } else {
            correct as f64 / pred as f64
        },
        recall: if tru == 0 {
            1.0
        } else {
            correct as f64 / tru as f64
        },
        true_pairs: tru,
        predicted_pairs: pred,
        correct_pairs: correct,
    }
}

/// Compares reports with the truth.
pub fn evaluate(truth: &[TruthRow], reports: &[FileReport]) -> Evaluation {
    let mut by_key = HashMap::new();
    for r in reports {
        for o in &r.outcomes {
            by_key.insert((r.file.as_str(), o.record_no), o);
        }
    }
    let mut ev = Evaluation {
        records: truth.len(),
        ..Evaluation::default()
    };
    let mut person_pairs = Vec::new();
    let mut case_pairs = Vec::new();
    for t in truth {
        let Some(o) = by_key.remove(&(t.file.as_str(), t.record)) else {
            ev.unmatched += 1;
            continue;
        };
        let got = match (o.outcome, o.repaired) {
            (Outcome::Quarantined, _) => "quarantined",
            (Outcome::Accepted, true) => "repaired",
            (Outcome::Accepted, false) => "accepted",
        };
        let defect = t.defect.clone().unwrap_or_else(|| "clean".into());
        let entry = ev.by_defect.entry(defect.clone()).or_default();
        entry.0 += 1;
        if got == t.expect {
            ev.agreed += 1;
            entry.1 += 1;
        } else {
            ev.mismatches.push((
                t.file.clone(),
                t.record,
                defect,
                t.expect.clone(),
                got.to_string(),
            ));
        }
        if let Some(p) = &o.person_uid {
            person_pairs.push((p.as_str(), t.person.as_str()));
        }
        if let Some(c) = &o.case_uid {
            case_pairs.push((c.as_str(), t.case.as_str()));
        }
    }
    // Outcomes left over in a file the truth covers are records the truth does not know. The
    // covered files are collected once: scanning the truth per outcome made a 100,000-case
    // province's evaluation quadratic.
    let covered: HashSet<&str> = truth.iter().map(|t| t.file.as_str()).collect();
    ev.unmatched += by_key.keys().filter(|(f, _)| covered.contains(f)).count();
    ev.persons = pair_score(&person_pairs);
    ev.cases = pair_score(&case_pairs);
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_scores_count_split_and_merged_clusters() {
        // Truth: a a b. Prediction merges all three: precision 1/3, recall 1.
        let s = pair_score(&[("x", "a"), ("x", "a"), ("x", "b")]);
        assert_eq!(
            (s.correct_pairs, s.predicted_pairs, s.true_pairs),
            (1, 3, 1)
        );
        // Prediction splits a: precision 1 (no pairs), recall 0.
        let s = pair_score(&[("x", "a"), ("y", "a")]);
        assert_eq!((s.precision, s.recall), (1.0, 0.0));
    }
}
