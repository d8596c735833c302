//! Small shared helpers: seeded streams, weighted choice, each department's date format, and
//! CSV / XML escaping.
//!
//! Only `+ - * /` and comparisons are used on floats anywhere in the crate, never `ln`, `exp` or
//! `powf`: those come from the platform's libm and could differ between machines.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// An independent random stream derived from the seed alone. Each concern has its own stream,
/// so that, for example, changing the dirty rate leaves the clean data unchanged.
pub(crate) fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Picks an item by integer weight.
pub(crate) fn pick<'a, T, R: Rng>(rng: &mut R, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    let mut x = rng.gen_range(0..total.max(1));
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

/// Picks an index by integer weight from precomputed cumulative weights.
pub(crate) fn pick_cumulative<R: Rng>(rng: &mut R, cumulative: &[u32]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0).max(1);
    let x = rng.gen_range(0..total);
    cumulative.partition_point(|&c| c <= x)
}

/// Percent chance.
pub(crate) fn chance<R: Rng>(rng: &mut R, percent: u32) -> bool {
    rng.gen_range(0..100) < percent
}

pub(crate) fn add_days(d: NaiveDate, days: i64) -> NaiveDate {
    d + TimeDelta::days(days)
}

/// `d` plus whole months, minus one day: the last day of a term that starts on `d`.
pub(crate) fn term_end(d: NaiveDate, months: u32) -> NaiveDate {
    let end = d
        .checked_add_months(chrono::Months::new(months))
        .unwrap_or(NaiveDate::MAX);
    add_days(end, -1)
}

/// The date formats of the departments. A date that need not exist (for `impossible_date`) is
/// given as year, month, day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateFmt {
    /// Police: `20230301`.
    Compact,
    /// Procuratorate: `2023-03-01`.
    Iso,
    /// Court: `2023年3月1日`.
    Zh,
    /// Justice: `2023/3/1`.
    Slash,
}

pub(crate) fn write_ymd(fmt: DateFmt, y: i32, m: u32, d: u32, out: &mut String) {
    // Writing into a String cannot fail.
    let _ = match fmt {
        DateFmt::Compact => write!(out, "{y:04}{m:02}{d:02}"),
        DateFmt::Iso => write!(out, "{y:04}-{m:02}-{d:02}"),
        DateFmt::Zh => write!(out, "{y}年{m}月{d}日"),
        DateFmt::Slash => write!(out, "{y}/{m}/{d}"),
    };
}

pub(crate) fn write_date(fmt: DateFmt, d: NaiveDate, out: &mut String) {
    write_ymd(fmt, d.year(), d.month(), d.day(), out);
}

pub(crate) fn date(fmt: DateFmt, d: NaiveDate) -> String {
    let mut s = String::with_capacity(16);
    write_date(fmt, d, &mut s);
    s
}

/// Police date-time `YYYYMMDDHHMMSS`.
pub(crate) fn write_compact_datetime(t: NaiveDateTime, out: &mut String) {
    write_date(DateFmt::Compact, t.date(), out);
    let _ = write!(out, "{:02}{:02}{:02}", t.hour(), t.minute(), t.second());
}

/// Appends one CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
pub(crate) fn csv_field(s: &str, out: &mut String) {
    if s.contains([',', '"', '\r', '\n']) {
        out.push('"');
        for c in s.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Appends a CSV line of `fields` ending in `eol`.
pub(crate) fn csv_line<S: AsRef<str>>(fields: &[S], eol: &str, out: &mut String) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(f.as_ref(), out);
    }
    out.push_str(eol);
}

/// Appends `s` escaped for XML text and attribute values.
pub(crate) fn xml_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// Reads a JSON-lines file of one record type; blank lines are skipped, a bad line is an
/// error naming the file and line.
pub(crate) fn read_jsonl<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> Result<Vec<T>, crate::SynthError> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::SynthError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        rows.push(
            serde_json::from_str(line).map_err(|source| crate::SynthError::Parse {
                path: path.to_path_buf(),
                line: n + 1,
                source,
            })?,
        );
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_formats() {
        let d = NaiveDate::from_ymd_opt(2023, 3, 1).unwrap();
        assert_eq!(date(DateFmt::Compact, d), "20230301");
        assert_eq!(date(DateFmt::Iso, d), "2023-03-01");
        assert_eq!(date(DateFmt::Zh, d), "2023年3月1日");
        assert_eq!(date(DateFmt::Slash, d), "2023/3/1");
        assert_eq!(
            term_end(d, 12),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
    }

    #[test]
    fn csv_quoting() {
        let mut s = String::new();
        csv_line(&["a", "b,c", "d\"e", ""], "\r\n", &mut s);
        assert_eq!(s, "a,\"b,c\",\"d\"\"e\",\r\n");
    }

    #[test]
    fn xml_escaping() {
        let mut s = String::new();
        xml_escape("a<b&\"c'>", &mut s);
        assert_eq!(s, "a&lt;b&amp;&quot;c&apos;&gt;");
    }

    #[test]
    fn streams_are_independent_and_reproducible() {
        let a: u64 = stream(7, 1).gen();
        let b: u64 = stream(7, 1).gen();
        let c: u64 = stream(7, 2).gen();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn cumulative_pick_respects_zero_weights() {
        let mut rng = stream(1, 1);
        let cum = [0, 5, 5, 10];
        for _ in 0..100 {
            let i = pick_cumulative(&mut rng, &cum);
            assert!(i == 1 || i == 3, "{i}");
        }
    }
}
