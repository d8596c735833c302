//! Coordinates and polygons: WGS-84 decimal degrees read into whole micro-degrees, and the
//! point-in-polygon test the fence rules use.
//!
//! Micro-degrees (10⁻⁶°, about 0.1 m on the ground) keep every stored coordinate an exact
//! integer, so content hashes and comparisons never depend on float formatting.

/// Micro-degrees per degree.
pub const MICRO: i64 = 1_000_000;

/// Which coordinate a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Longitude,
    Latitude,
}

impl Axis {
    /// The values that exist on Earth, in micro-degrees.
    pub fn valid_range(self) -> (i64, i64) {
        match self {
            Axis::Longitude => (-180 * MICRO, 180 * MICRO),
            Axis::Latitude => (-90 * MICRO, 90 * MICRO),
        }
    }

    /// The extent of China's territory (73°29′–135°05′ E, 3°51′–53°33′ N), rounded outwards to
    /// the tenth of a degree: a fix outside it cannot be a subject under correction in China.
    pub fn china_range(self) -> (i64, i64) {
        match self {
            Axis::Longitude => (73_400_000, 135_100_000),
            Axis::Latitude => (3_800_000, 53_600_000),
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Axis::Longitude => "经度",
            Axis::Latitude => "纬度",
        }
    }
}

/// Parses decimal degrees (`106.712345`, `-0.5`, up to six decimals; more are rounded half
/// away from zero) into micro-degrees. No range check: see [`Axis`].
pub fn parse_degrees(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 4
    {
        return None;
    }
    let mut micro: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    micro *= MICRO;
    let digits: Vec<i64> = frac.bytes().map(|b| i64::from(b - b'0')).collect();
    let mut scale = MICRO / 10;
    for d in digits.iter().take(6) {
        micro += d * scale;
        scale /= 10;
    }
    if digits.get(6).is_some_and(|&d| d >= 5) {
        micro += 1;
    }
    Some(if neg { -micro } else { micro })
}

/// Micro-degrees as decimal degrees with six decimals (`106.712345`).
pub fn format_degrees(micro: i64) -> String {
    let sign = if micro < 0 { "-" } else { "" };
    let m = micro.unsigned_abs();
    format!("{sign}{}.{:06}", m / MICRO as u64, m % MICRO as u64)
}

/// A point in micro-degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Point {
    pub lon: i64,
    pub lat: i64,
}

/// A simple closed polygon (the last vertex joins the first), in micro-degrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polygon {
    pub vertices: Vec<Point>,
}

/// Why a polygon text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolygonError {
    /// A vertex is not `lon,lat` in decimal degrees.
    Vertex(usize),
    /// A vertex lies outside the coordinates that exist on Earth.
    OutOfRange(usize),
    /// Fewer than three distinct vertices.
    TooFew,
}

impl Polygon {
    /// Parses `lon,lat;lon,lat;…`. A closing vertex equal to the first is dropped.
    pub fn parse(text: &str) -> Result<Polygon, PolygonError> {
        let mut vertices = Vec::new();
        for (i, part) in text.split(';').map(str::trim).enumerate() {
            if part.is_empty() {
                continue;
            }
            let (lon, lat) = part.split_once(',').ok_or(PolygonError::Vertex(i + 1))?;
            let lon = parse_degrees(lon).ok_or(PolygonError::Vertex(i + 1))?;
            let lat = parse_degrees(lat).ok_or(PolygonError::Vertex(i + 1))?;
            let in_range = |v: i64, axis: Axis| {
                let (lo, hi) = axis.valid_range();
                (lo..=hi).contains(&v)
            };
            if !in_range(lon, Axis::Longitude) || !in_range(lat, Axis::Latitude) {
                return Err(PolygonError::OutOfRange(i + 1));
            }
            vertices.push(Point { lon, lat });
        }
        if vertices.len() > 1 && vertices.first() == vertices.last() {
            vertices.pop();
        }
        let mut distinct = vertices.clone();
        distinct.sort_by_key(|p| (p.lon, p.lat));
        distinct.dedup();
        if distinct.len() < 3 {
            return Err(PolygonError::TooFew);
        }
        Ok(Polygon { vertices })
    }

    /// The canonical text: six decimals, `;` between vertices, not closed.
    pub fn canonical(&self) -> String {
        self.vertices
            .iter()
            .map(|p| format!("{},{}", format_degrees(p.lon), format_degrees(p.lat)))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The bounding box: (min, max) corners.
    pub fn bounds(&self) -> (Point, Point) {
        let mut lo = self.vertices[0];
        let mut hi = self.vertices[0];
        for p in &self.vertices {
            lo.lon = lo.lon.min(p.lon);
            lo.lat = lo.lat.min(p.lat);
            hi.lon = hi.lon.max(p.lon);
            hi.lat = hi.lat.max(p.lat);
        }
        (lo, hi)
    }

    /// Whether `p` is inside the polygon or on its boundary. Even-odd crossing count in exact
    /// integer arithmetic (no float rounding decides a fix on the fence line).
    pub fn contains(&self, p: Point) -> bool {
        let v = &self.vertices;
        let mut inside = false;
        let mut j = v.len() - 1;
        for i in 0..v.len() {
            let (a, b) = (v[i], v[j]);
            // On the edge a–b: collinear and within its box.
            let cross = i128::from(b.lon - a.lon) * i128::from(p.lat - a.lat)
                - i128::from(b.lat - a.lat) * i128::from(p.lon - a.lon);
            if cross == 0
                && p.lon >= a.lon.min(b.lon)
                && p.lon <= a.lon.max(b.lon)
                && p.lat >= a.lat.min(b.lat)
                && p.lat <= a.lat.max(b.lat)
            {
                return true;
            }
            if (a.lat > p.lat) != (b.lat > p.lat) {
                // x of the edge at p.lat, compared without division:
                // p.lon < a.lon + (p.lat - a.lat) (b.lon - a.lon) / (b.lat - a.lat)
                let lhs = i128::from(p.lon - a.lon) * i128::from(b.lat - a.lat);
                let rhs = i128::from(p.lat - a.lat) * i128::from(b.lon - a.lon);
                let crosses = if b.lat > a.lat { lhs < rhs } else { lhs > rhs };
                if crosses {
                    inside = !inside;
                }
            }
            j = i;
        }
        inside
    }
}

/// Great-circle distance in metres between two points (haversine, mean Earth radius): for
/// speed checks between consecutive fixes.
pub fn distance_m(a: Point, b: Point) -> f64 {
    const R: f64 = 6_371_008.8;
    let rad = |micro: i64| (micro as f64 / MICRO as f64).to_radians();
    let (la1, la2) = (rad(a.lat), rad(b.lat));
    let dlat = la2 - la1;
    let dlon = rad(b.lon) - rad(a.lon);
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrees_round_trip_exactly() {
        assert_eq!(parse_degrees("106.712345"), Some(106_712_345));
        assert_eq!(parse_degrees("-0.5"), Some(-500_000));
        assert_eq!(parse_degrees("26.5"), Some(26_500_000));
        assert_eq!(parse_degrees("1.0000005"), Some(1_000_001));
        assert_eq!(parse_degrees("abc"), None);
        assert_eq!(parse_degrees("1.2.3"), None);
        assert_eq!(parse_degrees(""), None);
        assert_eq!(format_degrees(-500_000), "-0.500000");
        assert_eq!(format_degrees(106_712_345), "106.712345");
    }

    #[test]
    fn square_contains_inside_and_boundary_not_outside() {
        let sq = Polygon::parse("106,26;107,26;107,27;106,27;106,26").unwrap();
        assert_eq!(sq.vertices.len(), 4);
        let p = |lon: f64, lat: f64| Point {
            lon: (lon * 1e6) as i64,
            lat: (lat * 1e6) as i64,
        };
        assert!(sq.contains(p(106.5, 26.5)));
        assert!(sq.contains(p(107.0, 26.5)), "a point on an edge is inside");
        assert!(sq.contains(p(106.0, 26.0)), "a vertex is inside");
        assert!(!sq.contains(p(107.000001, 26.5)));
        assert!(!sq.contains(p(105.0, 26.5)));
        assert_eq!(
            sq.canonical(),
            "106.000000,26.000000;107.000000,26.000000;107.000000,27.000000;106.000000,27.000000"
        );
    }

    #[test]
    fn bad_polygons_name_the_vertex() {
        assert_eq!(Polygon::parse("1,1;2,2"), Err(PolygonError::TooFew));
        assert_eq!(Polygon::parse("1,1;2;3,3"), Err(PolygonError::Vertex(2)));
        assert_eq!(
            Polygon::parse("1,1;2,2;200,3"),
            Err(PolygonError::OutOfRange(3))
        );
    }

    #[test]
    fn distance_of_one_degree_of_latitude() {
        let d = distance_m(Point { lon: 0, lat: 0 }, Point { lon: 0, lat: MICRO });
        assert!((d - 111_195.0).abs() < 10.0, "{d}");
    }
}
