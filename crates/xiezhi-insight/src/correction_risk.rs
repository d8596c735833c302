//! Risk of misconduct of a community-corrections subject (社区矫正对象再违规风险), assessed at
//! intake from what the platform holds: age, work or study, a prior record (前科 / 累犯), the
//! charge, the kind of correction and how promptly he reported in.
//!
//! A binary logistic regression over one-hot factors, trained by full-batch gradient descent
//! with L2 (deterministic: no shuffling), so every score decomposes into factor × weight and
//! the explanation lists them. Quality on a held-out part: AUC (rank statistic), expected
//! calibration error over ten equal-width bins, and the reliability curve behind it.
//!
//! The score supports an officer's judgement (矫正方案, 社区矫正法 第24条); it decides nothing.

use serde::{Deserialize, Serialize};

/// What the platform holds about one subject at intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectFeatures {
    /// The correction subject's uid.
    pub uid: String,
    /// Age on the day the judgment took effect.
    pub age: Option<i32>,
    /// Employment code (`employment.tsv`).
    pub employment: Option<String>,
    /// 前科 or 累犯 among the sentence's circumstances.
    pub prior_record: bool,
    /// Principal charge code (`charges.tsv`).
    pub charge: Option<String>,
    /// Correction kind code (`correction-kinds.tsv`).
    pub kind: Option<String>,
    /// Days from the judgment taking effect to the report-in.
    pub report_lag_days: Option<i64>,
}

/// One factor of the model: a name for people and the test that switches it on.
#[derive(Debug, Clone, Copy)]
struct Factor {
    id: &'static str,
    name_zh: &'static str,
    on: fn(&SubjectFeatures) -> bool,
}

fn charge_in(f: &SubjectFeatures, codes: &[&str]) -> bool {
    f.charge.as_deref().is_some_and(|c| codes.contains(&c))
}

/// Property crimes and crimes against public order, whose recidivism the sentencing guideline
/// treats as a group (盗窃 C264, 诈骗 C266, 寻衅滋事 C293, 毒品 C347, 开设赌场 C303.2).
const ACQUISITIVE: [&str; 5] = ["C264.1", "C266.1", "C293.1", "C347.1", "C303.2"];
/// Traffic offences (交通肇事 C133.1, 危险驾驶 C133-1.1).
const TRAFFIC: [&str; 2] = ["C133.1", "C133-1.1"];

const FACTORS: [Factor; 14] = [
    Factor {
        id: "age_under_25",
        name_zh: "年龄不满25周岁",
        on: |f| f.age.is_some_and(|a| a < 25),
    },
    Factor {
        id: "age_25_34",
        name_zh: "年龄25至34周岁",
        on: |f| f.age.is_some_and(|a| (25..35).contains(&a)),
    },
    Factor {
        id: "age_35_49",
        name_zh: "年龄35至49周岁",
        on: |f| f.age.is_some_and(|a| (35..50).contains(&a)),
    },
    Factor {
        id: "age_50_plus",
        name_zh: "年龄50周岁以上",
        on: |f| f.age.is_some_and(|a| a >= 50),
    },
    Factor {
        id: "unemployed",
        name_zh: "无业",
        on: |f| f.employment.as_deref() == Some("unemployed"),
    },
    Factor {
        id: "employed",
        name_zh: "在业",
        on: |f| f.employment.as_deref() == Some("employed"),
    },
    Factor {
        id: "studying_or_retired",
        name_zh: "在学或离退休",
        on: |f| matches!(f.employment.as_deref(), Some("studying" | "retired")),
    },
    Factor {
        id: "prior_record",
        name_zh: "有前科或累犯",
        on: |f| f.prior_record,
    },
    Factor {
        id: "acquisitive_charge",
        name_zh: "侵财或扰乱秩序类罪名",
        on: |f| charge_in(f, &ACQUISITIVE),
    },
    Factor {
        id: "traffic_charge",
        name_zh: "交通类罪名",
        on: |f| charge_in(f, &TRAFFIC),
    },
    Factor {
        id: "surveillance",
        name_zh: "管制",
        on: |f| f.kind.as_deref() == Some("surveillance"),
    },
    Factor {
        id: "reported_day_0_3",
        name_zh: "生效后3日内报到",
        on: |f| f.report_lag_days.is_some_and(|d| d <= 3),
    },
    Factor {
        id: "reported_day_8_plus",
        name_zh: "生效后8日以后报到",
        on: |f| f.report_lag_days.is_some_and(|d| d >= 8),
    },
    Factor {
        id: "no_report_on_record",
        name_zh: "无报到记录",
        on: |f| f.report_lag_days.is_none(),
    },
];

/// The trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskModel {
    pub factors: Vec<String>,
    pub weights: Vec<f64>,
    pub bias: f64,
    pub l2: f64,
    pub method: String,
}

/// One factor's share of a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    pub factor: String,
    pub name_zh: String,
    pub weight: f64,
}

/// A subject's score with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskScore {
    pub uid: String,
    pub probability: f64,
    /// 高 / 中 / 低, by the model's probability (0.25 and 0.10: platform settings).
    pub band_zh: &'static str,
    pub intercept: f64,
    /// The factors that apply, largest effect first.
    pub factors: Vec<Contribution>,
    pub method: String,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn encode(f: &SubjectFeatures) -> Vec<f64> {
    FACTORS
        .iter()
        .map(|x| if (x.on)(f) { 1.0 } else { 0.0 })
        .collect()
}

impl RiskModel {
    /// Trains on subjects and their labels (`true`: misbehaved during the correction).
    pub fn train(xs: &[SubjectFeatures], ys: &[bool]) -> RiskModel {
        let l2 = 1e-3;
        let rows: Vec<Vec<f64>> = xs.iter().map(encode).collect();
        let n = rows.len().max(1) as f64;
        let mut w = vec![0.0; FACTORS.len()];
        let base = ys.iter().filter(|y| **y).count() as f64 / n;
        let mut b = (base.clamp(1e-3, 1.0 - 1e-3) / (1.0 - base.clamp(1e-3, 1.0 - 1e-3))).ln();
        let rate = 0.5;
        for _ in 0..3_000 {
            let mut gw = vec![0.0; w.len()];
            let mut gb = 0.0;
            for (x, &y) in rows.iter().zip(ys) {
                let z = b + x.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
                let err = sigmoid(z) - if y { 1.0 } else { 0.0 };
                gb += err;
                for (g, a) in gw.iter_mut().zip(x) {
                    *g += err * a;
                }
            }
            b -= rate * gb / n;
            for (wi, g) in w.iter_mut().zip(&gw) {
                *wi -= rate * (g / n + l2 * *wi);
            }
        }
        RiskModel {
            factors: FACTORS.iter().map(|f| f.id.to_string()).collect(),
            weights: w,
            bias: b,
            l2,
            method: "logistic regression over 14 one-hot intake factors, full-batch gradient descent (3,000 steps, rate 0.5, L2 1e-3)".into(),
        }
    }

    pub fn probability(&self, f: &SubjectFeatures) -> f64 {
        let x = encode(f);
        sigmoid(self.bias + x.iter().zip(&self.weights).map(|(a, b)| a * b).sum::<f64>())
    }

    /// The score of one subject and the factors behind it.
    pub fn score(&self, f: &SubjectFeatures) -> RiskScore {
        let p = self.probability(f);
        let mut factors: Vec<Contribution> = FACTORS
            .iter()
            .zip(&self.weights)
            .filter(|(x, _)| (x.on)(f))
            .map(|(x, w)| Contribution {
                factor: x.id.to_string(),
                name_zh: x.name_zh.to_string(),
                weight: *w,
            })
            .collect();
        factors.sort_by(|a, b| b.weight.abs().total_cmp(&a.weight.abs()));
        RiskScore {
            uid: f.uid.clone(),
            probability: p,
            band_zh: if p >= 0.25 {
                "高"
            } else if p >= 0.10 {
                "中"
            } else {
                "低"
            },
            intercept: self.bias,
            factors,
            method: format!(
                "{}；对数几率 = 截距 + 各适用因素权重之和，概率 = 1/(1+e^-对数几率)",
                self.method
            ),
        }
    }
}

/// One bin of the reliability curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityBin {
    pub from: f64,
    pub to: f64,
    pub count: usize,
    pub mean_predicted: f64,
    pub observed_rate: f64,
}

/// Quality of the model on a held-out set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskEvaluation {
    pub train: usize,
    pub held_out: usize,
    pub positives_held_out: usize,
    pub auc: f64,
    /// Expected calibration error: Σ (bin share × |mean predicted − observed rate|).
    pub ece: f64,
    pub brier: f64,
    pub reliability: Vec<ReliabilityBin>,
    pub split: String,
}

/// Whether a subject falls in the held-out part: a stable hash of its uid, 30 %.
pub fn held_out(uid: &str) -> bool {
    // FNV-1a: stable across runs and machines.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in uid.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % 10 < 3
}

/// Area under the ROC curve by the rank statistic (ties count half).
pub fn auc(scores: &[(f64, bool)]) -> f64 {
    let pos = scores.iter().filter(|s| s.1).count();
    let neg = scores.len() - pos;
    if pos == 0 || neg == 0 {
        return f64::NAN;
    }
    let mut sorted: Vec<(f64, bool)> = scores.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            j += 1;
        }
        let avg_rank = (i + j + 1) as f64 / 2.0; // ranks are 1-based
        rank_sum += avg_rank * sorted[i..j].iter().filter(|s| s.1).count() as f64;
        i = j;
    }
    (rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos * neg) as f64
}

/// Reliability curve over ten equal-width bins, and the calibration error.
pub fn reliability(scores: &[(f64, bool)]) -> (Vec<ReliabilityBin>, f64) {
    let mut bins = Vec::new();
    let mut ece = 0.0;
    for k in 0..10 {
        let (from, to) = (k as f64 / 10.0, (k + 1) as f64 / 10.0);
        let inside: Vec<&(f64, bool)> = scores
            .iter()
            .filter(|(p, _)| *p >= from && (*p < to || (k == 9 && *p <= 1.0)))
            .collect();
        if inside.is_empty() {
            continue;
        }
        let mean_predicted = inside.iter().map(|s| s.0).sum::<f64>() / inside.len() as f64;
        let observed_rate = inside.iter().filter(|s| s.1).count() as f64 / inside.len() as f64;
        ece += inside.len() as f64 / scores.len() as f64 * (mean_predicted - observed_rate).abs();
        bins.push(ReliabilityBin {
            from,
            to,
            count: inside.len(),
            mean_predicted,
            observed_rate,
        });
    }
    (bins, ece)
}

/// Trains on the subjects outside the held-out part and measures on the rest.
pub fn train_and_evaluate(xs: &[SubjectFeatures], ys: &[bool]) -> (RiskModel, RiskEvaluation) {
    let (mut tx, mut ty, mut hx, mut hy) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (x, y) in xs.iter().zip(ys) {
        if held_out(&x.uid) {
            hx.push(x.clone());
            hy.push(*y);
        } else {
            tx.push(x.clone());
            ty.push(*y);
        }
    }
    let model = RiskModel::train(&tx, &ty);
    let scores: Vec<(f64, bool)> = hx
        .iter()
        .zip(&hy)
        .map(|(x, y)| (model.probability(x), *y))
        .collect();
    let (bins, ece) = reliability(&scores);
    let brier = scores
        .iter()
        .map(|(p, y)| (p - if *y { 1.0 } else { 0.0 }).powi(2))
        .sum::<f64>()
        / scores.len().max(1) as f64;
    let eval = RiskEvaluation {
        train: tx.len(),
        held_out: hx.len(),
        positives_held_out: hy.iter().filter(|y| **y).count(),
        auc: auc(&scores),
        ece,
        brier,
        reliability: bins,
        split: "held out: FNV-1a hash of the subject uid mod 10 < 3 (30 %), never trained on"
            .into(),
    };
    (model, eval)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(uid: &str, age: i32, employment: &str, prior: bool) -> SubjectFeatures {
        SubjectFeatures {
            uid: uid.into(),
            age: Some(age),
            employment: Some(employment.into()),
            prior_record: prior,
            charge: Some("C264.1".into()),
            kind: Some("probation".into()),
            report_lag_days: Some(2),
        }
    }

    #[test]
    fn auc_of_perfect_random_and_inverted_rankings() {
        let perfect = [(0.9, true), (0.8, true), (0.2, false), (0.1, false)];
        assert_eq!(auc(&perfect), 1.0);
        let tied = [(0.5, true), (0.5, false)];
        assert_eq!(auc(&tied), 0.5);
        let inverted = [(0.1, true), (0.9, false)];
        assert_eq!(auc(&inverted), 0.0);
    }

    #[test]
    fn a_factor_that_drives_the_label_gets_weight_and_is_explained() {
        // Unemployed young subjects with a prior record misbehave; the others do not.
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..400 {
            let risky = i % 4 == 0;
            xs.push(if risky {
                subject(&format!("J{i}"), 22, "unemployed", true)
            } else {
                subject(&format!("J{i}"), 45, "employed", false)
            });
            ys.push(risky && i % 8 == 0);
        }
        let (model, eval) = train_and_evaluate(&xs, &ys);
        assert!(eval.auc > 0.9, "{eval:?}");
        let s = model.score(&subject("X", 22, "unemployed", true));
        assert!(s.probability > 0.3 && s.probability < 0.7, "{s:?}");
        assert!(s
            .factors
            .iter()
            .any(|c| c.factor == "unemployed" && c.weight > 0.0));
        let calm = model.score(&subject("Y", 45, "employed", false));
        assert!(calm.probability < 0.05);
        assert_eq!(calm.band_zh, "低");
    }

    #[test]
    fn calibration_error_is_zero_for_calibrated_scores() {
        let scores: Vec<(f64, bool)> = (0..100).map(|i| (0.25, i % 4 == 0)).collect();
        let (bins, ece) = reliability(&scores);
        assert_eq!(bins.len(), 1);
        assert!(ece.abs() < 1e-12);
    }
}
