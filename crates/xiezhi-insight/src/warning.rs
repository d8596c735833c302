//! Early warning of surges in weekly case counts (per region × charge): a seasonal median
//! baseline with a robust scale (MAD), and the score of each week against it. An alert carries
//! the baseline, the observed count, the score and the method.

use std::collections::BTreeMap;

use chrono::NaiveDate;
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

/// Monday of week 0 of every weekly series (the week of 2021-01-01).
pub fn week_zero() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 12, 28).unwrap_or_default()
}

/// Week index of a day, weeks from Monday [`week_zero`]; `None` before it.
pub fn week_of(day: NaiveDate) -> Option<usize> {
    let d = (day - week_zero()).num_days();
    (d >= 0).then_some((d / 7) as usize)
}

/// A series key: (county-level division, charge code).
pub type SeriesKey = (String, String);

/// Weekly counts of filed cases per (division, charge), every series as long as the latest
/// week seen; a case with two charges counts in both series.
pub fn weekly_series<'a>(
    cases: impl IntoIterator<Item = (NaiveDate, &'a str, &'a [String])>,
) -> BTreeMap<SeriesKey, Vec<f64>> {
    let mut counts: BTreeMap<SeriesKey, BTreeMap<usize, f64>> = BTreeMap::new();
    let mut last = 0;
    for (day, division, charges) in cases {
        let Some(w) = week_of(day) else { continue };
        last = last.max(w);
        for c in charges {
            *counts
                .entry((division.to_string(), c.clone()))
                .or_default()
                .entry(w)
                .or_default() += 1.0;
        }
    }
    counts
        .into_iter()
        .map(|(k, weeks)| {
            let mut v = vec![0.0; last + 1];
            for (w, n) in weeks {
                v[w] = n;
            }
            (k, v)
        })
        .collect()
}

/// A surge planted at a known place: the series and its weeks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlantedSurge {
    pub division: String,
    pub charge: String,
    /// Week indexes (from [`week_zero`]) of the planted filings.
    pub weeks: Vec<usize>,
}

/// An alert in a named series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesAlert {
    pub division: String,
    pub charge: String,
    pub week_start: NaiveDate,
    #[serde(flatten)]
    pub alert: Alert,
    /// During a planted surge of this series (when scored against a truth).
    pub planted: Option<bool>,
}

/// Detection quality against planted surges, over every series of the store.
#[derive(Debug, Clone, Serialize)]
pub struct PlantedReport {
    pub series: usize,
    /// Weeks scored per series: from week 52 (a year of history) to the last week.
    pub weeks_scored: usize,
    pub series_weeks: usize,
    pub surges: usize,
    pub detected: usize,
    pub recall: f64,
    /// Alerts outside the planted weeks.
    pub false_alarms: usize,
    pub false_alarms_per_1000: f64,
    /// Mean weeks from a surge's first planted week to its first alert (detected surges).
    pub mean_delay_weeks: f64,
    pub missed: Vec<PlantedSurge>,
    pub detector: Detector,
    pub method: String,
}

/// Every alert in the series from week 52 on, scored against `truth` when given.
pub fn scan(
    series: &BTreeMap<SeriesKey, Vec<f64>>,
    truth: Option<&[PlantedSurge]>,
    d: Detector,
) -> Vec<SeriesAlert> {
    let mut out = Vec::new();
    for ((division, charge), s) in series {
        for t in SEASON..s.len() {
            if let Some(alert) = d.check(s, t) {
                let planted = truth.map(|tr| {
                    tr.iter().any(|p| {
                        &p.division == division && &p.charge == charge && p.weeks.contains(&t)
                    })
                });
                out.push(SeriesAlert {
                    division: division.clone(),
                    charge: charge.clone(),
                    week_start: week_zero() + chrono::Days::new(7 * t as u64),
                    alert,
                    planted,
                });
            }
        }
    }
    out
}

/// Recall, false alarms per 1,000 series-weeks and delay of the detector against planted
/// surges. A surge counts as detected when its series alerts in one of its planted weeks.
pub fn evaluate_planted(
    series: &BTreeMap<SeriesKey, Vec<f64>>,
    truth: &[PlantedSurge],
    d: Detector,
) -> PlantedReport {
    let alerts = scan(series, Some(truth), d);
    let weeks_scored = series
        .values()
        .next()
        .map_or(0, |s| s.len().saturating_sub(SEASON));
    let series_weeks = weeks_scored * series.len();
    let mut detected = 0;
    let mut delay = 0.0;
    let mut missed = Vec::new();
    for p in truth {
        let first = p.weeks.iter().min().copied().unwrap_or_default();
        let hit = alerts
            .iter()
            .filter(|a| a.division == p.division && a.charge == p.charge)
            .filter(|a| p.weeks.contains(&a.alert.week))
            .map(|a| a.alert.week)
            .min();
        match hit {
            Some(w) => {
                detected += 1;
                delay += (w - first) as f64;
            }
            None => missed.push(p.clone()),
        }
    }
    let false_alarms = alerts.iter().filter(|a| a.planted == Some(false)).count();
    PlantedReport {
        series: series.len(),
        weeks_scored,
        series_weeks,
        surges: truth.len(),
        detected,
        recall: detected as f64 / truth.len().max(1) as f64,
        false_alarms,
        false_alarms_per_1000: false_alarms as f64 * 1000.0 / series_weeks.max(1) as f64,
        mean_delay_weeks: delay / detected.max(1) as f64,
        missed,
        detector: d,
        method: "weekly 立案 counts per (案发地 county, charge) from the store; every series with at least one case, weeks from the 53rd on scored (a year of history); an alert in a planted week of its series detects the surge, any other alert is a false alarm".into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn planted_surges_in_built_series_are_scored() {
        let d = |w: usize| week_zero() + chrono::Days::new(7 * w as u64 + 2);
        let theft = vec!["C264.1".to_string()];
        let fraud = vec!["C266.1".to_string()];
        let mut cases: Vec<(NaiveDate, &str, &[String])> = Vec::new();
        // Two quiet series over three years, one case every fourth week.
        for w in (0..156).step_by(4) {
            cases.push((d(w), "520102", &theft));
            cases.push((d(w + 1), "520103", &fraud));
        }
        // A surge: five extra thefts in weeks 100 and 101.
        for _ in 0..5 {
            cases.push((d(100), "520102", &theft));
            cases.push((d(101), "520102", &theft));
        }
        // A blip that is no surge: one extra fraud.
        cases.push((d(120), "520103", &fraud));
        let series = weekly_series(cases.iter().map(|(a, b, c)| (*a, *b, *c)));
        assert_eq!(series.len(), 2);
        assert_eq!(
            series[&("520102".to_string(), "C264.1".to_string())][100],
            6.0
        );
        let truth = vec![
            PlantedSurge {
                division: "520102".into(),
                charge: "C264.1".into(),
                weeks: vec![100, 101],
            },
            PlantedSurge {
                division: "520103".into(),
                charge: "C266.1".into(),
                weeks: vec![140],
            },
        ];
        let r = evaluate_planted(&series, &truth, Detector::default());
        assert_eq!((r.surges, r.detected, r.false_alarms), (2, 1, 0));
        assert_eq!(r.missed[0].charge, "C266.1");
        assert_eq!(r.mean_delay_weeks, 0.0);
        // The last case falls in week 153: series are 154 weeks long.
        assert_eq!(r.series_weeks, 2 * (154 - SEASON));
        let alerts = scan(&series, None, Detector::default());
        assert!(alerts
            .iter()
            .all(|a| a.division == "520102" && a.planted.is_none()));
        assert_eq!(alerts[0].week_start, d(100) - chrono::Days::new(2));
    }

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
