//! Space-time hot spots of disputes and petitions: monthly counts per (division, kind), each
//! month scored against the median of the eight months before it with a robust scale (the
//! detector of [`crate::warning`], over months instead of weeks), and the score measured against
//! planted hot spots: recall, false alarms per 1,000 division-months, detection delay.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::warning::{Alert, Detector};

/// (division, kind).
pub type SeriesKey = (String, String);

/// Months of history a month is scored against.
pub const HISTORY: usize = 8;

/// The detector for monthly counts, which are small: an alert needs a score of 4 and five
/// cases over the baseline (modelling choices, not legal values).
pub const DETECTOR: Detector = Detector {
    half_window: 3,
    threshold: 4.0,
    min_excess: 5.0,
};

/// Month index from January of `first_year`.
pub fn month_index(first_year: i32, day: NaiveDate) -> Option<usize> {
    let m = (day.year() - first_year) * 12 + day.month0() as i32;
    usize::try_from(m).ok()
}

/// The first day of month `index`.
pub fn month_start(first_year: i32, index: usize) -> NaiveDate {
    let y = first_year + (index / 12) as i32;
    NaiveDate::from_ymd_opt(y, (index % 12) as u32 + 1, 1).unwrap_or_default()
}

/// Monthly counts per (division, kind) over `months` months from January of `first_year`;
/// events outside the span are left out.
pub fn monthly_series<'a>(
    first_year: i32,
    months: usize,
    events: impl IntoIterator<Item = (NaiveDate, &'a str, &'a str)>,
) -> BTreeMap<SeriesKey, Vec<f64>> {
    let mut out: BTreeMap<SeriesKey, Vec<f64>> = BTreeMap::new();
    for (day, division, kind) in events {
        let Some(m) = month_index(first_year, day).filter(|m| *m < months) else {
            continue;
        };
        out.entry((division.to_string(), kind.to_string()))
            .or_insert_with(|| vec![0.0; months])[m] += 1.0;
    }
    out
}

/// A planted hot spot: a series and its months.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlantedHotSpot {
    pub division: String,
    pub kind: String,
    pub months: Vec<usize>,
}

/// An alert of one series and month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotSpotAlert {
    pub division: String,
    pub kind: String,
    pub month_start: NaiveDate,
    #[serde(flatten)]
    pub alert: Alert,
    /// Whether the month is planted (when a truth is given).
    pub planted: Option<bool>,
}

/// The months of the series that alert, from month [`HISTORY`] on.
pub fn scan(
    first_year: i32,
    series: &BTreeMap<SeriesKey, Vec<f64>>,
    truth: Option<&[PlantedHotSpot]>,
    d: Detector,
) -> Vec<HotSpotAlert> {
    let mut out = Vec::new();
    for ((division, kind), s) in series {
        for t in HISTORY..s.len() {
            let Some(mut alert) = d.check(s, t) else {
                continue;
            };
            alert.method = alert.method.replace("weeks", "months");
            let planted = truth.map(|tr| {
                tr.iter()
                    .any(|p| &p.division == division && &p.kind == kind && p.months.contains(&t))
            });
            out.push(HotSpotAlert {
                division: division.clone(),
                kind: kind.clone(),
                month_start: month_start(first_year, t),
                alert,
                planted,
            });
        }
    }
    out
}

/// Detection quality against planted hot spots.
#[derive(Debug, Clone, Serialize)]
pub struct HotSpotReport {
    pub series: usize,
    pub months_scored: usize,
    /// Series × scored months, the denominator of the false-alarm rate.
    pub division_months: usize,
    pub planted: usize,
    pub detected: usize,
    pub recall: f64,
    pub false_alarms: usize,
    pub false_alarms_per_1000: f64,
    /// Months from a hot spot's first month to its first alert, over those detected.
    pub mean_delay_months: f64,
    pub missed: Vec<PlantedHotSpot>,
    pub detector: Detector,
    pub method: String,
}

/// Scores the detector against the planted hot spots. A planted hot spot is detected by an
/// alert in one of its months; any alert outside a planted month is a false alarm.
pub fn evaluate(
    first_year: i32,
    series: &BTreeMap<SeriesKey, Vec<f64>>,
    truth: &[PlantedHotSpot],
    d: Detector,
) -> HotSpotReport {
    let alerts = scan(first_year, series, Some(truth), d);
    let months_scored = series
        .values()
        .next()
        .map_or(0, |s| s.len().saturating_sub(HISTORY));
    let division_months = months_scored * series.len();
    let (mut detected, mut delay, mut missed) = (0, 0.0, Vec::new());
    for p in truth {
        let first = p.months.iter().min().copied().unwrap_or_default();
        let hit = alerts
            .iter()
            .filter(|a| a.division == p.division && a.kind == p.kind)
            .filter_map(|a| month_index(first_year, a.month_start))
            .filter(|m| p.months.contains(m))
            .min();
        match hit {
            Some(m) => {
                detected += 1;
                delay += (m - first) as f64;
            }
            None => missed.push(p.clone()),
        }
    }
    let false_alarms = alerts.iter().filter(|a| a.planted == Some(false)).count();
    HotSpotReport {
        series: series.len(),
        months_scored,
        division_months,
        planted: truth.len(),
        detected,
        recall: detected as f64 / truth.len().max(1) as f64,
        false_alarms,
        false_alarms_per_1000: false_alarms as f64 * 1000.0 / division_months.max(1) as f64,
        mean_delay_months: delay / detected.max(1) as f64,
        missed,
        detector: d,
        method: format!(
            "monthly counts per (division, kind) from the store; each month from the {}th on scored against the median of the {HISTORY} months before it, scale max(1.4826·MAD, √baseline, 1)",
            HISTORY + 1
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_month_is_found_and_a_quiet_series_gives_no_alarm() {
        let d = |m: u32| NaiveDate::from_ymd_opt(2023 + (m / 12) as i32, m % 12 + 1, 10).unwrap();
        let mut events: Vec<(NaiveDate, &str, &str)> = Vec::new();
        for m in 0..24 {
            events.push((d(m), "520102", "family"));
            events.push((d(m), "520103", "labour"));
        }
        for _ in 0..9 {
            events.push((d(15), "520102", "family"));
        }
        let series = monthly_series(2023, 24, events);
        assert_eq!(series[&("520102".into(), "family".into())][15], 10.0);
        let truth = vec![PlantedHotSpot {
            division: "520102".into(),
            kind: "family".into(),
            months: vec![15],
        }];
        let r = evaluate(2023, &series, &truth, Detector::default());
        assert_eq!((r.planted, r.detected, r.false_alarms), (1, 1, 0), "{r:?}");
        assert_eq!(r.division_months, 2 * (24 - HISTORY));
        assert_eq!(r.mean_delay_months, 0.0);
        let alerts = scan(2023, &series, None, Detector::default());
        assert_eq!(
            alerts[0].month_start,
            NaiveDate::from_ymd_opt(2024, 4, 1).unwrap()
        );
    }
}
