//! A spatial index for checking many location fixes against many electronic fences at once.
//!
//! Checking each fix against every fence costs fixes × fences exact tests; a uniform grid over
//! the fences' bounding boxes cuts that to the few fences whose box overlaps the fix's cell.
//! The exact test stays [`Polygon::contains`] (integer arithmetic, boundary inside), so the
//! index gives the same answers as [`crate::rules::fence_breach::breaks`] fence by fence.
//!
//! Layout: compressed rows (CSR). `offsets[c]..offsets[c + 1]` slices `ids`, the fences of
//! cell `c` in ascending index order, so a lookup is two array reads and a short scan.

use serde::Serialize;
use xiezhi_standard::validate::geo::{Point, Polygon};

/// What a fence forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FenceRule {
    /// A zone the subject may not enter (禁止令): a fix inside breaks it.
    NoEntry,
    /// An area the subject may not leave (his city or county): a fix outside breaks it.
    NoExit,
}

impl FenceRule {
    /// The rule code stored on fence rows (`no_entry`, `no_exit`).
    pub fn from_code(code: &str) -> Option<FenceRule> {
        match code {
            "no_entry" => Some(FenceRule::NoEntry),
            "no_exit" => Some(FenceRule::NoExit),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            FenceRule::NoEntry => "no_entry",
            FenceRule::NoExit => "no_exit",
        }
    }
}

/// Most cells the automatic choice makes per fence: bounds memory for sparse fence sets
/// (64 bytes of offsets per fence). Measured on the bench (10 000 zones over Guizhou), 16
/// beats 4 by about 1.5×: the offsets still fit in L2 and cells hold fewer candidates.
const CELLS_PER_FENCE: u64 = 16;
/// Hard cap on cells (64 MiB of offsets), whatever cell size is asked for.
const MAX_CELLS: u64 = 1 << 24;

/// Bounding box, inclusive: `[min_lon, min_lat, max_lon, max_lat]`.
type BBox = [i64; 4];

/// Fences indexed by a uniform grid over their bounding boxes.
///
/// No-exit fences are special: a fix breaks one when it is *outside*, so almost every fix
/// breaks almost every no-exit fence that is not its own area. They sit in the grid like the
/// others (for the exact test, needed only when the fix is inside the fence's box) and also in
/// a separate ascending list: a fix whose cell the fence's box does not overlap is outside that
/// box, hence a breach outright, with no test at all. The breaches of a fix then include up to
/// every no-exit fence, so their count should stay small; in the fence data most are no-entry.
#[derive(Debug, Clone)]
pub struct FenceIndex {
    polygons: Vec<Polygon>,
    rules: Vec<FenceRule>,
    boxes: Vec<BBox>,
    /// Indices of the no-exit fences, ascending.
    no_exit: Vec<u32>,
    /// Lower-left corner of cell (0, 0).
    origin: Point,
    /// Side of a square cell, micro-degrees (≥ 1).
    cell: i64,
    cols: usize,
    rows: usize,
    /// `cols * rows + 1` entries; cell `c` is `ids[offsets[c]..offsets[c + 1]]`.
    offsets: Vec<u32>,
    ids: Vec<u32>,
}

impl FenceIndex {
    /// Builds the index with the cell side set to the mean of the fences' larger bounding-box
    /// side: then a box overlaps about four cells, and a cell holds about as many fences as
    /// overlap a spot (few), so neither the lists nor the scans grow. For sparse fence sets
    /// the side is doubled until the grid has at most sixteen cells per fence (memory stays
    /// linear in the fences; empty cells cost one offset each).
    pub fn new(fences: &[(FenceRule, Polygon)]) -> FenceIndex {
        let boxes: Vec<Option<BBox>> = fences.iter().map(|(_, p)| bbox(p)).collect();
        let (mut sum, mut count) = (0u128, 0u128);
        for b in boxes.iter().flatten() {
            let w = (b[2] - b[0]).max(b[3] - b[1]);
            sum += w as u128;
            count += 1;
        }
        let mean = sum.checked_div(count).unwrap_or(1).max(1) as i64;
        let cap = (CELLS_PER_FENCE * count as u64).clamp(1, MAX_CELLS);
        Self::build(fences, boxes, mean, cap)
    }

    /// Builds the index with a given cell side in micro-degrees (clamped to ≥ 1); the side
    /// is doubled only while the grid would exceed 2²⁴ cells or its id list 2³² entries.
    pub fn with_cell_size(fences: &[(FenceRule, Polygon)], cell: i64) -> FenceIndex {
        let boxes: Vec<Option<BBox>> = fences.iter().map(|(_, p)| bbox(p)).collect();
        Self::build(fences, boxes, cell.max(1), MAX_CELLS)
    }

    fn build(
        fences: &[(FenceRule, Polygon)],
        boxes: Vec<Option<BBox>>,
        mut cell: i64,
        max_cells: u64,
    ) -> FenceIndex {
        assert!(
            fences.len() < u32::MAX as usize,
            "fence ids are stored as u32"
        );
        // The extent: the union of all boxes.
        let mut ext: Option<BBox> = None;
        for b in boxes.iter().flatten() {
            ext = Some(match ext {
                None => *b,
                Some(e) => [
                    e[0].min(b[0]),
                    e[1].min(b[1]),
                    e[2].max(b[2]),
                    e[3].max(b[3]),
                ],
            });
        }
        let ext = ext.unwrap_or([0, 0, -1, -1]);
        let span = |lo: i64, hi: i64, cell: i64| -> u64 {
            if hi < lo {
                0
            } else {
                (hi.abs_diff(lo) / cell as u64) + 1
            }
        };
        // Coarsen until the grid and the id list fit their limits.
        let (cols, rows) = loop {
            let cols = span(ext[0], ext[2], cell);
            let rows = span(ext[1], ext[3], cell);
            let cells = u128::from(cols) * u128::from(rows);
            let entries: u128 = boxes
                .iter()
                .flatten()
                .map(|b| u128::from(span(b[0], b[2], cell)) * u128::from(span(b[1], b[3], cell)))
                .sum();
            if cells <= u128::from(max_cells) && entries < u128::from(u32::MAX) {
                break (cols as usize, rows as usize);
            }
            cell = cell.saturating_mul(2);
        };
        let origin = Point {
            lon: ext[0],
            lat: ext[1],
        };
        let range = |lo: i64, hi: i64, o: i64| {
            (
                (lo.abs_diff(o) / cell as u64) as usize,
                (hi.abs_diff(o) / cell as u64) as usize,
            )
        };
        // Count, prefix-sum, fill: the CSR arrays in two passes, ids ascending per cell.
        let mut offsets = vec![0u32; cols * rows + 1];
        for b in boxes.iter().flatten() {
            let (x0, x1) = range(b[0], b[2], origin.lon);
            let (y0, y1) = range(b[1], b[3], origin.lat);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    offsets[y * cols + x + 1] += 1;
                }
            }
        }
        for c in 1..offsets.len() {
            offsets[c] += offsets[c - 1];
        }
        let mut ids = vec![0u32; offsets[cols * rows] as usize];
        let mut next: Vec<u32> = offsets[..cols * rows].to_vec();
        for (i, b) in boxes.iter().enumerate() {
            let Some(b) = b else { continue };
            let (x0, x1) = range(b[0], b[2], origin.lon);
            let (y0, y1) = range(b[1], b[3], origin.lat);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let slot = &mut next[y * cols + x];
                    ids[*slot as usize] = i as u32;
                    *slot += 1;
                }
            }
        }
        FenceIndex {
            polygons: fences.iter().map(|(_, p)| p.clone()).collect(),
            rules: fences.iter().map(|(r, _)| *r).collect(),
            // A polygon without vertices contains nothing: an empty box never matches.
            boxes: boxes.iter().map(|b| b.unwrap_or([0, 0, -1, -1])).collect(),
            no_exit: (0..fences.len() as u32)
                .filter(|&i| fences[i as usize].0 == FenceRule::NoExit)
                .collect(),
            origin,
            cell,
            cols,
            rows,
            offsets,
            ids,
        }
    }

    /// Number of fences.
    pub fn len(&self) -> usize {
        self.polygons.len()
    }

    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }

    /// Number of grid cells.
    pub fn cells(&self) -> usize {
        self.cols * self.rows
    }

    /// Side of a cell, micro-degrees.
    pub fn cell_size(&self) -> i64 {
        self.cell
    }

    /// The fences whose box overlaps the cell of `p`; empty outside the grid.
    fn candidates(&self, p: Point) -> &[u32] {
        if p.lon < self.origin.lon || p.lat < self.origin.lat {
            return &[];
        }
        let x = p.lon.abs_diff(self.origin.lon) / self.cell as u64;
        let y = p.lat.abs_diff(self.origin.lat) / self.cell as u64;
        if x >= self.cols as u64 || y >= self.rows as u64 {
            return &[];
        }
        let c = y as usize * self.cols + x as usize;
        &self.ids[self.offsets[c] as usize..self.offsets[c + 1] as usize]
    }

    /// Box filter, then the exact test.
    fn contains(&self, i: usize, p: Point) -> bool {
        let b = &self.boxes[i];
        p.lon >= b[0]
            && p.lat >= b[1]
            && p.lon <= b[2]
            && p.lat <= b[3]
            && self.polygons[i].contains(p)
    }

    /// Sets `out` to the indices (ascending) of the fences whose polygon contains `p`,
    /// boundary included, whatever their rule.
    pub fn fences_containing(&self, p: Point, out: &mut Vec<usize>) {
        out.clear();
        for &i in self.candidates(p) {
            if self.contains(i as usize, p) {
                out.push(i as usize);
            }
        }
    }

    /// Sets `out` to the indices of the fences `p` breaks: no-entry fences containing it
    /// (ascending), then no-exit fences not containing it (ascending).
    pub fn breaches(&self, p: Point, out: &mut Vec<usize>) {
        out.clear();
        let candidates = self.candidates(p);
        for &i in candidates {
            let i = i as usize;
            if self.rules[i] == FenceRule::NoEntry && self.contains(i, p) {
                out.push(i);
            }
        }
        if self.no_exit.is_empty() {
            return;
        }
        // No-exit fences that hold `p`: only those in the cell can, and they are few.
        let mark = out.len();
        for &i in candidates {
            let i = i as usize;
            if self.rules[i] == FenceRule::NoExit && self.contains(i, p) {
                out.push(i);
            }
        }
        let held = out.len() - mark;
        out.extend(self.no_exit.iter().map(|&i| i as usize));
        if held == 0 {
            return;
        }
        // Drop the held ones from the full list in place (both ascending), then the held
        // list itself: no allocation.
        let (mut h, mut w) = (mark, mark + held);
        for r in mark + held..out.len() {
            let v = out[r];
            if h < mark + held && out[h] == v {
                h += 1;
            } else {
                out[w] = v;
                w += 1;
            }
        }
        out.truncate(w);
        out.drain(mark..mark + held);
    }
}

fn bbox(p: &Polygon) -> Option<BBox> {
    if p.vertices.is_empty() {
        return None;
    }
    let (lo, hi) = p.bounds();
    Some([lo.lon, lo.lat, hi.lon, hi.lat])
}

/// Throughput of [`FenceIndex`] on synthetic Guizhou data.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub fixes: usize,
    pub fences: usize,
    pub build_ms: f64,
    pub checks_per_sec: f64,
    /// Checking every fence with [`Polygon::contains`], on a sample of the fixes.
    pub brute_force_checks_per_sec: f64,
    /// (fix, fence) breach pairs over all fixes.
    pub breaches_found: usize,
    pub cells: usize,
}

/// Guizhou's extent, micro-degrees: lon 103.6–109.6 E, lat 24.6–29.2 N.
const GUIZHOU: BBox = [103_600_000, 24_600_000, 109_600_000, 29_200_000];
/// Fixes also checked by brute force, for the speed-up and a cross-check.
const BRUTE_SAMPLE: usize = 2_000;

/// splitmix64: a seeded, dependency-free generator, good enough for test data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (modulo bias is negligible for these spans).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

/// Times the index on `fences` no-entry zones (squares of 2 000–6 000 micro-degrees, about
/// 200–600 m, every fifth a triangle) and `fixes` points spread over Guizhou, all from
/// `seed`. Also times brute force on the first 2 000 fixes and asserts both agree there.
pub fn bench(fixes: usize, fences: usize, seed: u64) -> BenchReport {
    use std::time::Instant;
    let mut rng = SplitMix(seed);
    let [x0, y0, x1, y1] = GUIZHOU;
    let zones: Vec<(FenceRule, Polygon)> = (0..fences)
        .map(|k| {
            let s = rng.range(2_000, 6_000);
            let lon = rng.range(x0, x1 - s);
            let lat = rng.range(y0, y1 - s);
            let pt = |lon, lat| Point { lon, lat };
            let vertices = if k % 5 == 4 {
                vec![pt(lon, lat), pt(lon + s, lat), pt(lon + s / 2, lat + s)]
            } else {
                vec![
                    pt(lon, lat),
                    pt(lon + s, lat),
                    pt(lon + s, lat + s),
                    pt(lon, lat + s),
                ]
            };
            (FenceRule::NoEntry, Polygon { vertices })
        })
        .collect();
    let points: Vec<Point> = (0..fixes)
        .map(|_| Point {
            lon: rng.range(x0, x1),
            lat: rng.range(y0, y1),
        })
        .collect();

    let t = Instant::now();
    let index = FenceIndex::new(&zones);
    let build_ms = t.elapsed().as_secs_f64() * 1e3;

    let mut out = Vec::new();
    let mut breaches_found = 0;
    let t = Instant::now();
    for &p in &points {
        index.breaches(p, &mut out);
        breaches_found += out.len();
    }
    let checks_per_sec = fixes as f64 / t.elapsed().as_secs_f64();

    let sample = &points[..fixes.min(BRUTE_SAMPLE)];
    let t = Instant::now();
    let mut brute = 0usize;
    for &p in sample {
        brute += zones.iter().filter(|(_, z)| z.contains(p)).count();
    }
    let brute_secs = t.elapsed().as_secs_f64();
    let brute = std::hint::black_box(brute);
    let indexed: usize = sample
        .iter()
        .map(|&p| {
            index.breaches(p, &mut out);
            out.len()
        })
        .sum();
    assert_eq!(
        indexed, brute,
        "index and brute force disagree on the sample"
    );

    BenchReport {
        fixes,
        fences,
        build_ms,
        checks_per_sec,
        brute_force_checks_per_sec: sample.len() as f64 / brute_secs,
        breaches_found,
        cells: index.cells(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn poly(text: &str) -> Polygon {
        Polygon::parse(text).unwrap()
    }

    fn pt(lon: i64, lat: i64) -> Point {
        Point { lon, lat }
    }

    /// The reference: every fence, exact test, no index.
    fn brute(fences: &[(FenceRule, Polygon)], p: Point) -> (Vec<usize>, Vec<usize>) {
        let mut inside = Vec::new();
        let mut breaks = Vec::new();
        for (i, (rule, polygon)) in fences.iter().enumerate() {
            let c = polygon.contains(p);
            if c {
                inside.push(i);
            }
            if c == (*rule == FenceRule::NoEntry) {
                breaks.push(i);
            }
        }
        (inside, breaks)
    }

    fn sample() -> Vec<(FenceRule, Polygon)> {
        vec![
            // A county one may not leave, a barred square inside it, one far away.
            (FenceRule::NoExit, poly("106,26;107,26;107,27;106,27")),
            (
                FenceRule::NoEntry,
                poly("106.59,26.59;106.61,26.59;106.61,26.61;106.59,26.61"),
            ),
            (FenceRule::NoEntry, poly("108,28;108.01,28;108.005,28.01")),
            (
                FenceRule::NoExit,
                poly("107.5,26;108.5,26;108.5,27;107.5,27"),
            ),
        ]
    }

    #[test]
    fn rule_codes() {
        assert_eq!(FenceRule::from_code("no_entry"), Some(FenceRule::NoEntry));
        assert_eq!(FenceRule::from_code("no_exit"), Some(FenceRule::NoExit));
        assert_eq!(FenceRule::from_code("no_enter"), None);
        assert_eq!(FenceRule::NoExit.code(), "no_exit");
    }

    #[test]
    fn containing_and_breaches_on_a_county_and_zones() {
        let index = FenceIndex::new(&sample());
        let mut out = Vec::new();
        // In the barred square, inside the first county: breaks the square and the other county.
        index.fences_containing(pt(106_600_000, 26_600_000), &mut out);
        assert_eq!(out, [0, 1]);
        index.breaches(pt(106_600_000, 26_600_000), &mut out);
        assert_eq!(out, [1, 3]);
        // On the square's edge: inside (boundary counts).
        index.breaches(pt(106_610_000, 26_600_000), &mut out);
        assert_eq!(out, [1, 3]);
        // Just off it.
        index.breaches(pt(106_610_001, 26_600_000), &mut out);
        assert_eq!(out, [3]);
        // Far outside every box and the grid: both counties, nothing else.
        index.fences_containing(pt(0, 0), &mut out);
        assert!(out.is_empty());
        index.breaches(pt(0, 0), &mut out);
        assert_eq!(out, [0, 3]);
        // In the second county only.
        index.breaches(pt(108_000_000, 26_500_000), &mut out);
        assert_eq!(out, [0]);
    }

    #[test]
    fn agrees_with_the_rule_function() {
        use crate::corrections::FixFacts;
        use crate::rules::fence_breach::breaks;
        let fences = sample();
        let index = FenceIndex::new(&fences);
        let mut out = Vec::new();
        for (lon, lat) in [
            (106.6, 26.6),
            (107.5, 26.5),
            (108.004, 28.001),
            (90.0, 40.0),
        ] {
            let fix = FixFacts {
                person_uid: None,
                at: chrono::NaiveDateTime::MIN,
                lon: (lon * 1e6_f64).round() as i64,
                lat: (lat * 1e6_f64).round() as i64,
            };
            index.breaches(fix.point(), &mut out);
            let expected: Vec<usize> = fences
                .iter()
                .enumerate()
                .filter(|(_, (r, p))| breaks(r.code(), p, &fix))
                .map(|(i, _)| i)
                .collect();
            out.sort_unstable();
            assert_eq!(out, expected, "{lon},{lat}");
        }
    }

    #[test]
    fn empty_index_and_empty_polygon() {
        let index = FenceIndex::new(&[]);
        assert!(index.is_empty());
        let mut out = vec![7];
        index.breaches(pt(1, 1), &mut out);
        assert!(out.is_empty());
        let empty = Polygon { vertices: vec![] };
        let index = FenceIndex::new(&[
            (FenceRule::NoEntry, empty.clone()),
            (FenceRule::NoExit, empty),
        ]);
        index.fences_containing(pt(0, 0), &mut out);
        assert!(out.is_empty());
        index.breaches(pt(0, 0), &mut out);
        assert_eq!(out, [1]);
    }

    #[test]
    fn huge_cell_request_is_coarsened() {
        let fences = [
            (FenceRule::NoEntry, poly("-179,-89;179,-89;179,89;-179,89")),
            (FenceRule::NoEntry, poly("0,0;0.000001,0;0,0.000001")),
        ];
        let index = FenceIndex::with_cell_size(&fences, 1);
        assert!(index.cells() as u64 <= MAX_CELLS);
        let mut out = Vec::new();
        index.fences_containing(pt(0, 0), &mut out);
        assert_eq!(out, [0, 1]);
    }

    #[test]
    fn bench_small_runs_and_finds_breaches() {
        let r = bench(20_000, 500, 7);
        assert_eq!((r.fixes, r.fences), (20_000, 500));
        assert!(r.cells > 0 && r.checks_per_sec > 0.0);
        // Deterministic in the seed.
        assert_eq!(r.breaches_found, bench(20_000, 500, 7).breaches_found);
    }

    /// Release-mode figures: `cargo test --release -p xiezhi-supervise
    /// fence_index::tests::bench_print -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_print() {
        let r = bench(1_000_000, 10_000, 2024);
        println!("{}", serde_json::to_string_pretty(&r).unwrap());
    }

    /// A rectangle or a triangle on a small board, so edges, vertices and shared lines
    /// coincide with test points often.
    fn shape() -> impl Strategy<Value = (FenceRule, Polygon)> {
        let rule = prop_oneof![Just(FenceRule::NoEntry), Just(FenceRule::NoExit)];
        let rect = (-20i64..20, -20i64..20, 1i64..15, 1i64..15)
            .prop_map(|(x, y, w, h)| vec![pt(x, y), pt(x + w, y), pt(x + w, y + h), pt(x, y + h)]);
        let tri = prop::collection::vec((-25i64..25, -25i64..25), 3)
            .prop_map(|v| v.into_iter().map(|(x, y)| pt(x, y)).collect::<Vec<_>>());
        (rule, prop_oneof![rect, tri]).prop_map(|(r, vertices)| (r, Polygon { vertices }))
    }

    proptest! {
        #[test]
        fn index_equals_brute_force(
            fences in prop::collection::vec(shape(), 0..10),
            points in prop::collection::vec((-30i64..30, -30i64..30), 1..40),
            cell in prop::option::of(1i64..30),
        ) {
            let index = match cell {
                Some(c) => FenceIndex::with_cell_size(&fences, c),
                None => FenceIndex::new(&fences),
            };
            let mut out = Vec::new();
            for (x, y) in points {
                let p = pt(x, y);
                let (inside, breaks) = brute(&fences, p);
                index.fences_containing(p, &mut out);
                prop_assert_eq!(&out, &inside);
                index.breaches(p, &mut out);
                out.sort_unstable();
                prop_assert_eq!(&out, &breaks);
            }
        }
    }
}
