//! Statistics for publication: counts by keys (region, charge, stage, organ, period) with
//! small-cell suppression, and timeliness indicators. Every figure names how it was computed.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Serialize;
use xiezhi_standard::codes::{self, division, CodeTable};

/// One published cell: a count, or nothing with the reason it was withheld.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    pub keys: Vec<String>,
    pub count: Option<u64>,
    /// `primary` (under the threshold) or `complementary` (withheld so a suppressed cell cannot
    /// be recovered from the group total).
    pub suppressed: Option<&'static str>,
}

/// Suppresses every cell under `threshold`; then, in each group of cells sharing all keys but
/// the last, if exactly one cell is suppressed, also the smallest other cell, so that the
/// published total of the group does not reveal it.
pub fn suppress(cells: &[(Vec<String>, u64)], threshold: u64) -> Vec<Published> {
    let mut out: Vec<Published> = cells
        .iter()
        .map(|(k, c)| Published {
            keys: k.clone(),
            count: (*c >= threshold).then_some(*c),
            suppressed: (*c < threshold).then_some("primary"),
        })
        .collect();
    let mut groups: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
    for (i, (k, _)) in cells.iter().enumerate() {
        groups
            .entry(k[..k.len().saturating_sub(1)].to_vec())
            .or_default()
            .push(i);
    }
    for idx in groups.values() {
        let hidden = idx.iter().filter(|&&i| out[i].suppressed.is_some()).count();
        if hidden == 1 && idx.len() > 1 {
            if let Some(&j) = idx
                .iter()
                .filter(|&&i| out[i].suppressed.is_none())
                .min_by_key(|&&i| (cells[i].1, i))
            {
                out[j].count = None;
                out[j].suppressed = Some("complementary");
            }
        }
    }
    out
}

/// Timeliness of one stage: how long it took and how often within the statutory limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeliness {
    pub n: usize,
    pub median_days: f64,
    pub within_limit_share: f64,
    pub limit_days: i64,
    pub method: String,
}

/// Median duration and the share within `limit_days` (the limit and its article come from the
/// supervision rules; this function only counts).
pub fn timeliness(durations_days: &[i64], limit_days: i64, basis: &str) -> Timeliness {
    let mut d = durations_days.to_vec();
    d.sort_unstable();
    let n = d.len();
    let median_days = match n {
        0 => 0.0,
        _ if n % 2 == 1 => d[n / 2] as f64,
        _ => (d[n / 2 - 1] + d[n / 2]) as f64 / 2.0,
    };
    Timeliness {
        n,
        median_days,
        within_limit_share: d.iter().filter(|&&x| x <= limit_days).count() as f64 / n.max(1) as f64,
        limit_days,
        method: format!(
            "median of {n} stage durations in days; share with duration <= {limit_days} days ({basis})"
        ),
    }
}

/// A case as statistics need it: the columns the aggregate read path handed over, nothing else.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFacts {
    /// 6-digit GB/T 2260 code of where it happened.
    pub division: Option<String>,
    pub charges: Vec<String>,
    pub stage: Option<String>,
    pub organ: Option<String>,
    /// Day of 立案 (`case_filed`), else of the first event.
    pub filed_on: Option<NaiveDate>,
    /// (event kind, day), in any order.
    pub events: Vec<(String, NaiveDate)>,
}

/// A key a table can be broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    /// Province (`XX0000`).
    Province,
    /// Prefecture (`XXYY00`).
    City,
    /// County (the 6-digit code as stored); `region` means this level.
    County,
    Charge,
    Stage,
    /// The handling organ.
    Organ,
    /// Month of filing (`2025-03`).
    Period,
    /// Year of filing.
    Year,
}

impl Dim {
    /// Parses a key name of `--by` / `?by=`.
    pub fn parse(s: &str) -> Option<Dim> {
        Some(match s {
            "province" => Dim::Province,
            "city" | "prefecture" => Dim::City,
            "county" | "region" => Dim::County,
            "charge" => Dim::Charge,
            "stage" => Dim::Stage,
            "organ" => Dim::Organ,
            "period" | "month" => Dim::Period,
            "year" => Dim::Year,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Dim::Province => "province",
            Dim::City => "city",
            Dim::County => "county",
            Dim::Charge => "charge",
            Dim::Stage => "stage",
            Dim::Organ => "organ",
            Dim::Period => "period",
            Dim::Year => "year",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Dim::Province => "省",
            Dim::City => "市（州）",
            Dim::County => "县（区）",
            Dim::Charge => "罪名",
            Dim::Stage => "案件阶段",
            Dim::Organ => "承办机构",
            Dim::Period => "立案月份",
            Dim::Year => "立案年份",
        }
    }

    /// The values of this key for one case (a case has one per charge for [`Dim::Charge`]).
    fn values(self, c: &CaseFacts) -> Vec<String> {
        let unknown = || vec!["未知".to_string()];
        let div = |f: fn(&str) -> Option<String>| {
            c.division
                .as_deref()
                .and_then(f)
                .map_or_else(unknown, |d| vec![d])
        };
        match self {
            Dim::Province => div(division::province_of),
            Dim::City => div(division::prefecture_of),
            Dim::County => div(|d| Some(d.to_string())),
            Dim::Charge if c.charges.is_empty() => unknown(),
            Dim::Charge => c.charges.clone(),
            Dim::Stage => c.stage.clone().map_or_else(unknown, |s| vec![s]),
            Dim::Organ => c.organ.clone().map_or_else(unknown, |s| vec![s]),
            Dim::Period => c
                .filed_on
                .map_or_else(unknown, |d| vec![format!("{}-{:02}", d.year(), d.month())]),
            Dim::Year => c
                .filed_on
                .map_or_else(unknown, |d| vec![d.year().to_string()]),
        }
    }

    /// The Chinese name of a value (division, charge or stage name), or the value itself.
    pub fn label(self, value: &str) -> String {
        let table = match self {
            Dim::Province | Dim::City | Dim::County => Some(CodeTable::Division),
            Dim::Charge => Some(CodeTable::Charge),
            Dim::Stage => Some(CodeTable::CaseStage),
            _ => None,
        };
        table
            .and_then(|t| codes::table(t).get(value))
            .map_or_else(|| value.to_string(), |e| e.name.clone())
    }
}

/// Counts of cases per combination of keys, sorted by keys. A case with two charges counts
/// once under each.
pub fn count_by(cases: &[CaseFacts], by: &[Dim]) -> Vec<(Vec<String>, u64)> {
    let mut counts: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for c in cases {
        let mut keys: Vec<Vec<String>> = vec![Vec::new()];
        for d in by {
            let vals = d.values(c);
            keys = keys
                .into_iter()
                .flat_map(|k| {
                    vals.iter().map(move |v| {
                        let mut k = k.clone();
                        k.push(v.clone());
                        k
                    })
                })
                .collect();
        }
        for k in keys {
            *counts.entry(k).or_default() += 1;
        }
    }
    counts.into_iter().collect()
}

/// One cell of a statistics table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub keys: Vec<String>,
    /// The keys' Chinese names.
    pub labels: Vec<String>,
    pub count: Option<u64>,
    /// Share of all cases in scope, in percent.
    pub share_pct: Option<f64>,
    pub suppressed: Option<&'static str>,
}

/// How every figure of a report was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Method {
    pub unit: &'static str,
    pub counting: String,
    pub share: &'static str,
    pub suppression: String,
}

/// A statistics table with its timeliness indicators and their method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsReport {
    pub by: Vec<Dim>,
    /// Cases in scope (withheld from the public when under the threshold).
    pub total: Option<u64>,
    pub cells: Vec<Cell>,
    pub timeliness: Vec<StageTimeliness>,
    pub method: Method,
}

/// A procedural stage with a statutory limit, measured from its opening to its closing event.
#[derive(Debug, Clone, Copy)]
pub struct StageLimit {
    pub stage_zh: &'static str,
    pub from: &'static str,
    pub to: &'static [&'static str],
    pub days: u32,
    pub months: u32,
    /// The article that sets the limit, quoted by name.
    pub basis: &'static str,
    /// Events that close a span and open the next one with `after_pause` (months, days) unless
    /// a new opening event follows: 退回补充侦查 (补充侦查 one month, 第175条第3款, then review again).
    pub pause: &'static [&'static str],
    pub after_pause: (u32, u32),
}

/// The stages measured. Within the limit means closing on or before the calendar expiry (the
/// start day not counted, months to the same date, 刑事诉讼法第105条) without the holiday
/// extension, so the share is a lower bound for persons not in custody.
pub const STAGE_LIMITS: [StageLimit; 4] = [
    StageLimit {
        stage_zh: "审查批捕（已拘留）",
        from: "arrest_requested",
        to: &["arrest_approved", "arrest_denied"],
        days: 7,
        months: 0,
        basis: "刑事诉讼法第91条第3款：七日以内作出批准逮捕或者不批准逮捕的决定",
        pause: &[],
        after_pause: (0, 0),
    },
    StageLimit {
        stage_zh: "审查起诉",
        from: "transferred_for_prosecution",
        to: &["prosecuted", "not_prosecuted"],
        days: 15,
        months: 1,
        basis: "刑事诉讼法第172条第1款：一个月以内作出决定，重大、复杂的案件可以延长十五日（数据无重大、复杂标记，按一个月又十五日计，与监督规则一致）；退回补充侦查后未见重新移送的，自退回之日起按第175条第3款补充侦查一个月另计",
        pause: &["returned_for_investigation"],
        after_pause: (2, 15),
    },
    StageLimit {
        stage_zh: "一审",
        from: "court_accepted",
        to: &["verdict_announced"],
        days: 0,
        months: 3,
        basis: "刑事诉讼法第208条第1款：受理后二个月以内宣判，至迟不得超过三个月",
        pause: &[],
        after_pause: (0, 0),
    },
    StageLimit {
        stage_zh: "交付执行",
        from: "judgment_effective",
        to: &["delivered_for_execution"],
        days: 10,
        months: 0,
        basis: "刑事诉讼法第264条第1款：判决生效后十日以内送达执行机关",
        pause: &[],
        after_pause: (0, 0),
    },
];

/// The calendar expiry of a period opened on `start` (start day not counted).
fn expiry(start: NaiveDate, months: u32, days: u32) -> NaiveDate {
    start
        .checked_add_months(Months::new(months))
        .and_then(|d| d.checked_add_days(Days::new(days.into())))
        .unwrap_or(NaiveDate::MAX)
}

/// Timeliness of one stage over the cases in scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageTimeliness {
    pub stage_zh: &'static str,
    /// Stages measured (withheld with the figures below from the public under the threshold).
    pub n: Option<usize>,
    pub median_days: Option<f64>,
    pub within_limit_share: Option<f64>,
    pub limit: String,
    pub basis: &'static str,
    pub method: String,
}

impl StageLimit {
    /// The calendar expiry of the stage opened on `start`.
    pub fn expiry(&self, start: NaiveDate) -> NaiveDate {
        expiry(start, self.months, self.days)
    }

    /// (days taken, within the limit) for each completed stage of a case: from the last
    /// opening event on or before each closing event; a pause closes the span and, unless the
    /// stage is opened again, starts one with the longer limit. An arrest review counts only
    /// for a suspect detained (刑事拘留) before the request.
    pub fn durations(&self, events: &[(String, NaiveDate)]) -> Vec<(i64, bool)> {
        let mut ev: Vec<&(String, NaiveDate)> = events.iter().collect();
        ev.sort_by_key(|(k, d)| (*d, k.clone()));
        let mut out = Vec::new();
        let mut open: Option<(NaiveDate, u32, u32)> = None;
        let mut detained = false;
        for (kind, day) in ev {
            if kind == "detention" {
                detained = true;
            }
            let pause = self.pause.contains(&kind.as_str());
            if kind == self.from {
                open = Some((*day, self.months, self.days));
            } else if pause || self.to.contains(&kind.as_str()) {
                if let Some((start, m, d)) = open.take() {
                    if self.from != "arrest_requested" || detained {
                        out.push(((*day - start).num_days(), *day <= expiry(start, m, d)));
                    }
                }
                if pause {
                    open = Some((*day, self.after_pause.0, self.after_pause.1));
                }
            }
        }
        out
    }

    pub fn limit_zh(&self) -> String {
        match (self.months, self.days) {
            (0, d) => format!("{d}日"),
            (m, 0) => format!("{m}个月"),
            (m, d) => format!("{m}个月又{d}日"),
        }
    }
}

fn median_i(v: &mut [i64]) -> f64 {
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2] as f64,
        _ => (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0,
    }
}

/// The timeliness of every stage of [`STAGE_LIMITS`] over the cases; under `min_cell`
/// measured stages the figures are withheld.
pub fn stage_timeliness(cases: &[CaseFacts], min_cell: Option<u64>) -> Vec<StageTimeliness> {
    STAGE_LIMITS
        .iter()
        .map(|lim| {
            let all: Vec<(i64, bool)> = cases.iter().flat_map(|c| lim.durations(&c.events)).collect();
            let n = all.len();
            let shown = min_cell.is_none_or(|m| n as u64 >= m);
            let mut days: Vec<i64> = all.iter().map(|(d, _)| *d).collect();
            let within = all.iter().filter(|(_, w)| *w).count() as f64 / n.max(1) as f64;
            StageTimeliness {
                stage_zh: lim.stage_zh,
                n: shown.then_some(n),
                median_days: (shown && n > 0).then(|| median_i(&mut days)),
                within_limit_share: (shown && n > 0).then_some(within),
                limit: lim.limit_zh(),
                basis: lim.basis,
                method: format!(
                    "each `{}` to the next of {:?}: days between the events; within the limit when closed on or before the start day + {} (start day not counted, 刑事诉讼法第105条; no holiday extension, so a lower bound); median over the {} stages measured{}",
                    lim.from,
                    lim.to,
                    lim.limit_zh(),
                    if shown { n.to_string() } else { "(withheld)".into() },
                    if shown { "" } else { "; withheld: fewer stages than the publication threshold" }
                ),
            }
        })
        .collect()
}

/// Hides the smallest visible cell among `idx`.
fn hide_smallest(published: &mut [Published], counts: &[(Vec<String>, u64)], idx: &[usize]) {
    if let Some(&j) = idx
        .iter()
        .filter(|&&i| published[i].suppressed.is_none())
        .min_by_key(|&&i| (counts[i].1, i))
    {
        published[j].count = None;
        published[j].suppressed = Some("complementary");
    }
}

/// Complementary suppression to a fixed point: no group (cells sharing all keys but the last)
/// with exactly one withheld cell, and, when the total is published, not exactly one withheld
/// cell in the whole table. Hiding a cell for one rule can break the other, so both repeat
/// until neither changes anything.
fn complete_suppression(
    published: &mut [Published],
    counts: &[(Vec<String>, u64)],
    total_shown: bool,
) {
    let mut groups: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
    for (i, (k, _)) in counts.iter().enumerate() {
        groups
            .entry(k[..k.len().saturating_sub(1)].to_vec())
            .or_default()
            .push(i);
    }
    let all: Vec<usize> = (0..counts.len()).collect();
    loop {
        let mut changed = false;
        for idx in groups.values() {
            let hidden = idx
                .iter()
                .filter(|&&i| published[i].suppressed.is_some())
                .count();
            if hidden == 1 && idx.len() > 1 {
                hide_smallest(published, counts, idx);
                changed = true;
            }
        }
        let hidden = published.iter().filter(|p| p.suppressed.is_some()).count();
        if total_shown && hidden == 1 && published.len() > 1 {
            hide_smallest(published, counts, &all);
            changed = true;
        }
        if !changed {
            break;
        }
    }
}

/// The statistics report: counts by `by` with shares of the total, suppressed below
/// `min_cell` (primary, complementary within each group and against the published total),
/// and the timeliness of every measured stage.
pub fn report(cases: &[CaseFacts], by: &[Dim], min_cell: Option<u64>) -> StatsReport {
    let counts = count_by(cases, by);
    let total = cases.len() as u64;
    let mut published = match min_cell {
        Some(m) if !by.is_empty() => suppress(&counts, m),
        _ => counts
            .iter()
            .map(|(k, c)| Published {
                keys: k.clone(),
                count: Some(*c),
                suppressed: None,
            })
            .collect(),
    };
    let total_shown = min_cell.is_none_or(|m| total >= m);
    if min_cell.is_some() {
        complete_suppression(&mut published, &counts, total_shown);
    }
    let cells = published
        .into_iter()
        .map(|p| Cell {
            labels: p.keys.iter().zip(by).map(|(k, d)| d.label(k)).collect(),
            share_pct: p
                .count
                .map(|c| (c as f64 * 1000.0 / total.max(1) as f64).round() / 10.0),
            keys: p.keys,
            count: p.count,
            suppressed: p.suppressed,
        })
        .collect();
    let keys: Vec<&str> = by.iter().map(|d| d.name()).collect();
    StatsReport {
        by: by.to_vec(),
        total: total_shown.then_some(total),
        cells,
        timeliness: stage_timeliness(cases, min_cell),
        method: Method {
            unit: "案件",
            counting: format!(
                "cases in the store counted once per combination of [{}] (a case with several charges once under each; region from 案发地 as GB/T 2260 county, prefecture XXYY00, province XX0000; period from the 立案 event, else the first event); missing values as 未知",
                keys.join(", ")
            ),
            share: "count / all cases in scope × 100, one decimal",
            suppression: match min_cell {
                Some(m) => format!(
                    "cells under {m} withheld (primary); where one cell of a group (or of the whole table, against the published total) is withheld, the smallest other cell too (complementary)"
                ),
                None => "none: internal figures for an authorised principal".into(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the counts: no published cell under the threshold, no group with a single
        /// withheld cell, and the published total never pins down one withheld cell.
        #[test]
        fn suppression_never_reveals_a_small_cell(
            counts in proptest::collection::vec((0u8..4, 0u8..5, 1u64..12), 1..30)
        ) {
            let mut cases = Vec::new();
            for (county, charge, n) in &counts {
                for _ in 0..*n {
                    cases.push(CaseFacts {
                        division: Some(format!("52010{county}")),
                        charges: vec![format!("C26{charge}.1")],
                        ..CaseFacts::default()
                    });
                }
            }
            let exact = count_by(&cases, &[Dim::County, Dim::Charge]);
            let r = report(&cases, &[Dim::County, Dim::Charge], Some(5));
            prop_assert_eq!(r.cells.len(), exact.len());
            let mut groups: BTreeMap<String, Vec<&Cell>> = BTreeMap::new();
            for (c, (k, n)) in r.cells.iter().zip(&exact) {
                prop_assert_eq!(&c.keys, k);
                match c.count {
                    Some(shown) => prop_assert!(shown == *n && shown >= 5),
                    None => prop_assert!(c.suppressed.is_some()),
                }
                if *n < 5 {
                    prop_assert_eq!(c.suppressed, Some("primary"));
                }
                groups.entry(k[0].clone()).or_default().push(c);
            }
            for cells in groups.values() {
                let hidden = cells.iter().filter(|c| c.count.is_none()).count();
                prop_assert!(hidden != 1 || cells.len() == 1);
            }
            let hidden = r.cells.iter().filter(|c| c.count.is_none()).count();
            prop_assert!(r.total.is_none() || hidden != 1);
        }
    }

    fn k(a: &str, b: &str) -> Vec<String> {
        vec![a.into(), b.into()]
    }

    #[test]
    fn small_cells_and_their_complements_are_withheld() {
        let cells = vec![
            (k("520102", "盗窃罪"), 40),
            (k("520102", "诈骗罪"), 3),
            (k("520102", "抢劫罪"), 7),
            (k("520103", "盗窃罪"), 12),
            (k("520103", "诈骗罪"), 9),
        ];
        let p = suppress(&cells, 5);
        assert_eq!(p[1].suppressed, Some("primary"));
        assert_eq!(p[2].suppressed, Some("complementary"));
        assert_eq!(p[0].count, Some(40));
        assert!(p[3..].iter().all(|c| c.suppressed.is_none()));
        assert!(p.iter().all(|c| c.count.is_none_or(|n| n >= 5)));
    }

    fn case(div: &str, charges: &[&str], events: &[(&str, (i32, u32, u32))]) -> CaseFacts {
        let events: Vec<(String, NaiveDate)> = events
            .iter()
            .map(|(k, (y, m, d))| (k.to_string(), NaiveDate::from_ymd_opt(*y, *m, *d).unwrap()))
            .collect();
        CaseFacts {
            division: Some(div.into()),
            charges: charges.iter().map(|c| c.to_string()).collect(),
            stage: Some("investigation".into()),
            organ: None,
            filed_on: events
                .iter()
                .find(|(k, _)| k == "case_filed")
                .map(|(_, d)| *d),
            events,
        }
    }

    #[test]
    fn counts_follow_the_division_hierarchy_and_charges() {
        let mut cases = Vec::new();
        for _ in 0..6 {
            cases.push(case("520102", &["C264.1"], &[("case_filed", (2025, 3, 2))]));
        }
        for _ in 0..2 {
            cases.push(case(
                "520103",
                &["C264.1", "C266.1"],
                &[("case_filed", (2025, 4, 9))],
            ));
        }
        cases.push(case("520302", &["C266.1"], &[]));
        let county = count_by(&cases, &[Dim::County]);
        assert_eq!(
            county,
            vec![
                (vec!["520102".into()], 6),
                (vec!["520103".into()], 2),
                (vec!["520302".into()], 1)
            ]
        );
        let city = count_by(&cases, &[Dim::City, Dim::Charge]);
        assert_eq!(city[0], (vec!["520100".into(), "C264.1".into()], 8));
        assert_eq!(city[1], (vec!["520100".into(), "C266.1".into()], 2));
        assert_eq!(count_by(&cases, &[Dim::Province])[0].1, 9);
        let period = count_by(&cases, &[Dim::Period]);
        assert_eq!(
            period
                .iter()
                .map(|(k, _)| k[0].as_str())
                .collect::<Vec<_>>(),
            ["2025-03", "2025-04", "未知"]
        );
        // Published: the 2 and the 1 are primary, nothing else needs hiding (two hidden).
        let r = report(&cases, &[Dim::County], Some(5));
        assert_eq!(r.total, Some(9));
        assert_eq!(r.cells[0].count, Some(6));
        assert_eq!(r.cells[0].labels[0], "南明区");
        assert_eq!(r.cells[0].share_pct, Some(66.7));
        assert!(r.cells[1..]
            .iter()
            .all(|c| c.suppressed == Some("primary") && c.share_pct.is_none()));
        // Internal: exact.
        let r = report(&cases, &[Dim::County], None);
        assert_eq!(r.cells.iter().map(|c| c.count.unwrap()).sum::<u64>(), 9);
        assert!(r.method.counting.contains("county"));
    }

    #[test]
    fn a_lone_small_cell_is_not_recoverable_from_the_total() {
        let mut cases = vec![case("520102", &["C264.1"], &[]); 7];
        cases.extend(vec![case("520103", &["C264.1"], &[]); 6]);
        cases.push(case("520302", &["C264.1"], &[]));
        let r = report(&cases, &[Dim::County], Some(5));
        assert_eq!(r.total, Some(14));
        assert_eq!(r.cells[2].suppressed, Some("primary"));
        assert_eq!(r.cells[1].suppressed, Some("complementary"));
        assert_eq!(r.cells[0].count, Some(7));
        assert!(r.cells.iter().all(|c| c.count.is_none_or(|n| n >= 5)));
    }

    #[test]
    fn stage_durations_name_their_article_and_count_from_the_last_opening() {
        let c = case(
            "520102",
            &["C264.1"],
            &[
                ("detention", (2025, 3, 1)),
                ("arrest_requested", (2025, 3, 3)),
                ("arrest_approved", (2025, 3, 10)),
                ("transferred_for_prosecution", (2025, 5, 1)),
                ("returned_for_investigation", (2025, 5, 20)),
                ("transferred_for_prosecution", (2025, 6, 10)),
                ("prosecuted", (2025, 7, 26)),
            ],
        );
        let review = STAGE_LIMITS[0].durations(&c.events);
        assert_eq!(review, vec![(7, true)]);
        let pros = STAGE_LIMITS[1].durations(&c.events);
        // Transfer → return (19 days, in time); return → re-transfer re-opens the review;
        // 2025-06-10 + 1 month 15 days = 2025-07-25, so the 26th is late.
        assert_eq!(pros, vec![(19, true), (46, false)]);
        // A return with no re-transfer on record: 2 months 15 days from the return.
        let back = case(
            "520102",
            &[],
            &[
                ("transferred_for_prosecution", (2025, 5, 1)),
                ("returned_for_investigation", (2025, 5, 20)),
                ("prosecuted", (2025, 8, 4)),
            ],
        );
        assert_eq!(
            STAGE_LIMITS[1].durations(&back.events),
            vec![(19, true), (76, true)]
        );
        let t = stage_timeliness(&[c.clone(), c], None);
        assert_eq!(t[1].n, Some(4));
        assert_eq!(t[1].within_limit_share, Some(0.5));
        assert!(t[1].basis.contains("第172条"));
        // Not detained: the 7-day limit does not apply.
        let free = case(
            "520102",
            &[],
            &[
                ("arrest_requested", (2025, 3, 3)),
                ("arrest_approved", (2025, 3, 20)),
            ],
        );
        assert!(STAGE_LIMITS[0].durations(&free.events).is_empty());
        // The public sees no figure from fewer than five stages.
        let t = stage_timeliness(&[free], Some(5));
        assert!(t.iter().all(|s| s.n.is_none() && s.median_days.is_none()));
    }

    #[test]
    fn timeliness_counts_within_the_limit() {
        let t = timeliness(&[10, 20, 30, 40], 30, "刑事诉讼法第91条");
        assert_eq!((t.median_days, t.within_limit_share), (25.0, 0.75));
        assert!(t.method.contains("刑事诉讼法第91条"));
    }
}
