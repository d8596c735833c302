//! Early warning of surges in weekly case counts (per region × charge): a seasonal median
//! baseline with a robust scale (MAD), and the score of each week against it. An alert carries
//! the baseline, the observed count, the score and the method.

use serde::Serialize;

use crate::linear::SplitMix;

/// Weeks in a seasonal cycle.
pub const SEASON: usize = 52;

/// Detector settings (modelling choices, not legal values).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Detector {
    /// Weeks either side of the same week in earlier years that form the baseline.
    pub half_window: usize,
    /// Score at or above which a week alerts.
    pub threshold: f64,
    /// Minimum excess over the baseline (cases), so one extra case in a quiet county is no surge.
    pub min_excess: f64,
}

impl Default for Detector {
    fn default() -> Self {
        Detector {
            half_window: 3,
            threshold: 3.0,
            min_excess: 3.0,
        }
    }
}

/// A surge alert.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alert {
    pub week: usize,
    pub observed: f64,
    pub baseline: f64,
    pub scale: f64,
    pub score: f64,
    pub method: String,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl Detector {
    /// Baseline and scale for week `t` from the same season in earlier years (or, with less
    /// than a year of history, the previous eight weeks).
    pub fn baseline(&self, series: &[f64], t: usize) -> Option<(f64, f64, String)> {
        let mut ref_vals = Vec::new();
        let mut years = 0;
        let mut back = SEASON;
        while back <= t {
            years += 1;
            let c = t - back;
            let lo = c.saturating_sub(self.half_window);
            let hi = (c + self.half_window).min(t - 1);
            ref_vals.extend_from_slice(&series[lo..=hi]);
            back += SEASON;
        }
        let method = if years > 0 {
            format!(
                "seasonal median of weeks ±{} around the same week in {} earlier year(s); scale max(1.4826·MAD, √baseline, 1)",
                self.half_window, years
            )
        } else if t >= 8 {
            ref_vals.extend_from_slice(&series[t - 8..t]);
            "median of the previous 8 weeks; scale max(1.4826·MAD, √baseline, 1)".to_string()
        } else {
            return None;
        };
        let base = median(&mut ref_vals.clone());
        let mut dev: Vec<f64> = ref_vals.iter().map(|v| (v - base).abs()).collect();
        let mad = median(&mut dev);
        let scale = (1.4826 * mad).max(base.sqrt()).max(1.0);
        Some((base, scale, method))
    }

    /// Scores week `t`; an alert when the score and the excess pass the thresholds.
    pub fn check(&self, series: &[f64], t: usize) -> Option<Alert> {
        let (baseline, scale, method) = self.baseline(series, t)?;
        let observed = series[t];
        let score = (observed - baseline) / scale;
        (score >= self.threshold && observed - baseline >= self.min_excess).then_some(Alert {
            week: t,
            observed,
            baseline,
            scale,
            score,
            method,
        })
    }
}

/// Detection quality on simulated series with injected surges.
#[derive(Debug, Clone, Serialize)]
pub struct WarningReport {
    pub series: usize,
    pub weeks_scored: usize,
    pub surges: usize,
    /// Share of surges with an alert during the surge.
    pub recall: f64,
    /// Alerts outside any surge, per 1,000 series-weeks scored.
    pub false_alarms_per_1000: f64,
    /// Mean weeks from surge start to its first alert (detected surges).
    pub mean_delay_weeks: f64,
    pub detector: Detector,
}

fn poisson(rng: &mut SplitMix, lambda: f64) -> f64 {
    // Knuth's method; lambdas here are small (weekly counts of one county and charge).
    let l = (-lambda).exp();
    let (mut k, mut p) = (0.0, 1.0);
    loop {
        p *= (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        if p <= l {
            return k;
        }
        k += 1.0;
    }
}

/// Simulates `n_series` weekly Poisson series of three years with a yearly season (levels 2
/// to 30 a week, ±30 %), injects a three-week surge (×2.5 to ×4) into every other series in
/// its third year, and scores the third year.
pub fn evaluate_simulated(n_series: usize, seed: u64, d: Detector) -> WarningReport {
    let mut rng = SplitMix(seed);
    let weeks = 3 * SEASON;
    let (mut surges, mut detected, mut false_alarms, mut delay_sum, mut scored) = (0, 0, 0, 0.0, 0);
    for s in 0..n_series {
        let level = 2.0 + (rng.next_u64() % 29) as f64;
        let phase = (rng.next_u64() % SEASON as u64) as f64;
        let surge = (s % 2 == 0).then(|| {
            let start = 2 * SEASON + (rng.next_u64() % (SEASON as u64 - 4)) as usize;
            let mult = 2.5 + (rng.next_u64() % 16) as f64 / 10.0;
            (start, mult)
        });
        let series: Vec<f64> = (0..weeks)
            .map(|t| {
                let season =
                    1.0 + 0.3 * ((t as f64 + phase) * std::f64::consts::TAU / SEASON as f64).sin();
                let mut lambda = level * season;
                if let Some((start, mult)) = surge {
                    if t >= start && t < start + 3 {
                        lambda *= mult;
                    }
                }
                poisson(&mut rng, lambda)
            })
            .collect();
        let mut first_alert = None;
        for t in 2 * SEASON..weeks {
            scored += 1;
            let in_surge = surge.is_some_and(|(st, _)| t >= st && t < st + 3);
            if d.check(&series, t).is_some() {
                if in_surge {
                    first_alert.get_or_insert(t);
                } else {
                    false_alarms += 1;
                }
            }
        }
        if let Some((start, _)) = surge {
            surges += 1;
            if let Some(t) = first_alert {
                detected += 1;
                delay_sum += (t - start) as f64;
            }
        }
    }
    WarningReport {
        series: n_series,
        weeks_scored: scored,
        surges,
        recall: detected as f64 / surges.max(1) as f64,
        false_alarms_per_1000: false_alarms as f64 * 1000.0 / scored.max(1) as f64,
        mean_delay_weeks: delay_sum / detected.max(1) as f64,
        detector: d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_against_a_flat_history_alerts_with_its_baseline() {
        let mut s = vec![10.0; 2 * SEASON];
        s[SEASON + 10] = 30.0;
        let a = Detector::default().check(&s, SEASON + 10).unwrap();
        assert_eq!((a.baseline, a.observed), (10.0, 30.0));
        assert!(a.score > 3.0 && a.method.contains("seasonal median"));
        assert!(Detector::default().check(&s, SEASON + 11).is_none());
        assert!(Detector::default().check(&s, 3).is_none());
    }

    #[test]
    fn seasonal_peaks_do_not_alert() {
        // Every summer the count doubles: that is the season, not a surge.
        let s: Vec<f64> = (0..3 * SEASON)
            .map(|t| {
                (15.0 + 8.0 * (t as f64 * std::f64::consts::TAU / SEASON as f64).sin()).round()
            })
            .collect();
        assert!((2 * SEASON..3 * SEASON).all(|t| Detector::default().check(&s, t).is_none()));
        // The same series with one week tripled does alert.
        let mut s = s;
        s[2 * SEASON + 13] *= 3.0;
        assert!(Detector::default().check(&s, 2 * SEASON + 13).is_some());
    }

    #[test]
    fn simulated_surges_are_mostly_found_with_few_false_alarms() {
        let r = evaluate_simulated(60, 9, Detector::default());
        assert_eq!(r.surges, 30);
        assert!(r.recall > 0.7, "{r:?}");
        assert!(r.false_alarms_per_1000 < 20.0, "{r:?}");
    }
}
