//! The CAIL2018 judgment-prediction record shape, its label names, and its scores.

use serde::{Deserialize, Serialize};

/// Term of imprisonment as CAIL2018 writes it: months, or a life or death sentence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Term {
    pub imprisonment: u32,
    pub death_penalty: bool,
    pub life_imprisonment: bool,
}

/// The labels of one CAIL2018 record (`meta`), also the shape `predict` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    pub accusation: Vec<String>,
    pub relevant_articles: Vec<u32>,
    pub term_of_imprisonment: Term,
}

/// One labeled CAIL2018 line.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    pub fact: String,
    pub meta: Labels,
}

/// Parses one line of a CAIL2018 file; the error names the field that is wrong.
pub fn parse_record(line: &str) -> Result<Record, String> {
    serde_json::from_str(line).map_err(|e| format!("not a CAIL2018 record: {e}"))
}

/// Reads the `fact` of an input line to predict for (other fields are ignored).
pub fn parse_fact(line: &str) -> Result<String, String> {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    match v.get("fact") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(serde_json::Value::String(_)) => Err("field `fact` is empty".into()),
        Some(_) => Err("field `fact` is not a string".into()),
        None => Err("missing field `fact`".into()),
    }
}

/// CAIL2018 writes charge names without the final 罪 and with optional parts in brackets,
/// e.g. `[走私、贩卖、运输、制造]毒品`; the charge table's name is `走私、贩卖、运输、制造毒品罪`.
pub fn charge_name_of_label(label: &str) -> String {
    let mut s: String = label.chars().filter(|c| *c != '[' && *c != ']').collect();
    if !s.ends_with('罪') {
        s.push('罪');
    }
    s
}

/// The CAIL2018 term score of one prediction (Xiao et al. 2018, CAIL2018 task 3): 1 when
/// death or life imprisonment agree, else by the distance of log(months + 1).
pub fn term_score(pred: &Term, truth: &Term) -> f64 {
    if truth.death_penalty || pred.death_penalty {
        return f64::from(u8::from(truth.death_penalty == pred.death_penalty));
    }
    if truth.life_imprisonment || pred.life_imprisonment {
        return f64::from(u8::from(truth.life_imprisonment == pred.life_imprisonment));
    }
    let v = ((pred.imprisonment as f64 + 1.0).ln() - (truth.imprisonment as f64 + 1.0).ln()).abs();
    match v {
        v if v <= 0.2 => 1.0,
        v if v <= 0.4 => 0.8,
        v if v <= 0.6 => 0.6,
        v if v <= 0.8 => 0.4,
        v if v <= 1.0 => 0.2,
        _ => 0.0,
    }
}

/// Multi-label scores: exact-set accuracy, micro and macro F1.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LabelScores {
    pub n: usize,
    /// Share of records whose predicted label set equals the true set.
    pub exact_accuracy: f64,
    /// Share of records whose first prediction is one of the true labels.
    pub top1_accuracy: f64,
    pub micro_f1: f64,
    pub macro_f1: f64,
}

/// Scores predicted label sets against true ones. Macro F1 averages over labels present in
/// either truth or prediction.
pub fn label_scores<T: Ord + Clone>(pairs: &[(Vec<T>, Vec<T>)]) -> LabelScores {
    use std::collections::BTreeMap;
    let mut per: BTreeMap<T, (f64, f64, f64)> = BTreeMap::new(); // tp, fp, fn
    let (mut exact, mut top1) = (0usize, 0usize);
    for (pred, truth) in pairs {
        let mut p = pred.clone();
        p.sort();
        p.dedup();
        let mut t = truth.clone();
        t.sort();
        t.dedup();
        if p == t {
            exact += 1;
        }
        if pred.first().is_some_and(|f| truth.contains(f)) {
            top1 += 1;
        }
        for l in &p {
            let e = per.entry(l.clone()).or_default();
            if t.contains(l) {
                e.0 += 1.0;
            } else {
                e.1 += 1.0;
            }
        }
        for l in &t {
            if !p.contains(l) {
                per.entry(l.clone()).or_default().2 += 1.0;
            }
        }
    }
    let f1 = |tp: f64, fp: f64, fn_: f64| {
        if tp == 0.0 {
            0.0
        } else {
            2.0 * tp / (2.0 * tp + fp + fn_)
        }
    };
    let (tp, fp, fn_) = per
        .values()
        .fold((0.0, 0.0, 0.0), |a, v| (a.0 + v.0, a.1 + v.1, a.2 + v.2));
    let n = pairs.len().max(1) as f64;
    LabelScores {
        n: pairs.len(),
        exact_accuracy: exact as f64 / n,
        top1_accuracy: top1 as f64 / n,
        micro_f1: f1(tp, fp, fn_),
        macro_f1: if per.is_empty() {
            0.0
        } else {
            per.values().map(|v| f1(v.0, v.1, v.2)).sum::<f64>() / per.len() as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: u32) -> Term {
        Term {
            imprisonment: m,
            death_penalty: false,
            life_imprisonment: false,
        }
    }

    #[test]
    fn bracketed_labels_become_charge_names() {
        assert_eq!(
            charge_name_of_label("[走私、贩卖、运输、制造]毒品"),
            "走私、贩卖、运输、制造毒品罪"
        );
        assert_eq!(charge_name_of_label("盗窃"), "盗窃罪");
    }

    #[test]
    fn term_score_follows_the_log_distance() {
        assert_eq!(term_score(&t(12), &t(12)), 1.0);
        assert_eq!(term_score(&t(13), &t(12)), 1.0); // ln(14/13) = 0.07
        assert_eq!(term_score(&t(12), &t(24)), 0.4); // ln(25/13) = 0.65
        assert_eq!(term_score(&t(0), &t(120)), 0.0);
        let life = Term {
            life_imprisonment: true,
            ..t(0)
        };
        assert_eq!(term_score(&life, &t(120)), 0.0);
        assert_eq!(term_score(&life, &life), 1.0);
    }

    #[test]
    fn scores_of_perfect_and_wrong_predictions() {
        let s = label_scores(&[(vec![1], vec![1]), (vec![2], vec![2])]);
        assert_eq!((s.exact_accuracy, s.micro_f1, s.macro_f1), (1.0, 1.0, 1.0));
        let s = label_scores(&[(vec![1], vec![2]), (vec![2], vec![2])]);
        assert_eq!(s.exact_accuracy, 0.5);
        assert!((s.micro_f1 - 0.5).abs() < 1e-9);
    }
}
