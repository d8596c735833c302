//! Statistics for publication: counts by keys (region, charge, stage, organ, period) with
//! small-cell suppression, and timeliness indicators. Every figure names how it was computed.

use std::collections::BTreeMap;

use serde::Serialize;

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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn timeliness_counts_within_the_limit() {
        let t = timeliness(&[10, 20, 30, 40], 30, "刑事诉讼法第91条");
        assert_eq!((t.median_days, t.within_limit_share), (25.0, 0.75));
        assert!(t.method.contains("刑事诉讼法第91条"));
    }
}
