//! Dirty data: which record gets which defect, and the value transforms that make each defect.
//!
//! Each export draws from its own random stream, so the clean data never depends on the dirty
//! rate. A record is dirty with probability `dirty_rate`; its defect is the least-used kind so
//! far among those that apply to it (ties broken at random), so every kind shows up even in a
//! small province and rare kinds (`lowercase_x` needs an ID ending in X) are not starved.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::truth::{Defect, Source};
use crate::util::stream;

pub(crate) struct Injector {
    rng: ChaCha8Rng,
    rate: f64,
    used: [u32; Defect::ALL.len()],
}

impl Injector {
    pub(crate) fn new(seed: u64, source: Source, rate: f64) -> Injector {
        let n = match source {
            Source::Police => 10,
            Source::Procuratorate => 11,
            Source::Court => 12,
            Source::Justice => 13,
        };
        Injector {
            rng: stream(seed, n),
            rate,
            used: [0; Defect::ALL.len()],
        }
    }

    /// The random stream for choosing how a defect is made.
    pub(crate) fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// Whether this record is dirty, and with what.
    pub(crate) fn choose(&mut self, applicable: &[Defect]) -> Option<Defect> {
        if applicable.is_empty() || !self.rng.gen_bool(self.rate) {
            return None;
        }
        let least = applicable
            .iter()
            .map(|d| self.used[*d as usize])
            .min()
            .unwrap_or(0);
        let ties: Vec<Defect> = applicable
            .iter()
            .copied()
            .filter(|d| self.used[*d as usize] == least)
            .collect();
        let d = ties[self.rng.gen_range(0..ties.len())];
        self.used[d as usize] += 1;
        Some(d)
    }
}

/// The defects that can apply to a person record with this ID and birth year.
pub(crate) fn applicable(
    source: Source,
    id: &str,
    born_before_2000: bool,
    has_ordered_dates: bool,
) -> Vec<Defect> {
    Defect::ALL
        .into_iter()
        .filter(|d| match d {
            Defect::LowercaseX => id.ends_with('X'),
            Defect::LegacyId15 => born_before_2000,
            Defect::DatesOutOfOrder => has_ordered_dates,
            Defect::MissingId => source != Source::Justice,
            _ => true,
        })
        .collect()
}

/// The ID with a wrong check character.
pub(crate) fn bad_checksum(id: &str, rng: &mut ChaCha8Rng) -> String {
    const CHARS: &[u8] = b"0123456789X";
    let last = id.as_bytes().last().copied().unwrap_or(b'0');
    let mut c = CHARS[rng.gen_range(0..CHARS.len())];
    if c == last {
        c = CHARS[(CHARS.iter().position(|&x| x == c).unwrap_or(0) + 1) % CHARS.len()];
    }
    let mut s = id[..id.len() - 1].to_string();
    s.push(char::from(c));
    s
}

/// The legacy 15-digit form: century digits and check character dropped.
pub(crate) fn legacy15(id: &str) -> String {
    format!("{}{}", &id[..6], &id[8..17])
}

/// Check character `X` written lower-case.
pub(crate) fn lowercase_x(id: &str) -> String {
    format!("{}x", &id[..id.len() - 1])
}

/// A space (ASCII or U+3000) inside the name, or (when `around`) before or after it.
pub(crate) fn name_whitespace(name: &str, rng: &mut ChaCha8Rng, around: bool) -> String {
    let space = if rng.gen_bool(0.5) { ' ' } else { '\u{3000}' };
    let chars: Vec<char> = name.chars().collect();
    let at = if around && rng.gen_bool(0.4) {
        if rng.gen_bool(0.5) {
            0
        } else {
            chars.len()
        }
    } else {
        rng.gen_range(1..chars.len().max(2))
    };
    let mut s = String::with_capacity(name.len() + 3);
    for (i, c) in chars.iter().enumerate() {
        if i == at {
            s.push(space);
        }
        s.push(*c);
    }
    if at >= chars.len() {
        s.push(space);
    }
    s
}

/// UTF-8 bytes read as Latin-1: `张三` → `å¼\u{a0}ä¸\u{89}`.
pub(crate) fn latin1_mojibake(s: &str) -> String {
    s.bytes().map(char::from).collect()
}

/// A day that does not exist in `year`: 2月30日, 4月31日 …
pub(crate) fn impossible_day(rng: &mut ChaCha8Rng) -> (u32, u32) {
    const DAYS: [(u32, u32); 6] = [(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)];
    DAYS[rng.gen_range(0..DAYS.len())]
}

/// An ethnic group name that is not one of the 56 (an unrecognised group of Guizhou).
pub(crate) const UNKNOWN_ETHNICITY_NAME: &str = "穿青人";
/// A GB/T 3304 code that is not assigned.
pub(crate) const UNKNOWN_ETHNICITY_CODE: &str = "57";
/// An execution kind that is neither 监狱 nor 社区矫正.
pub(crate) const UNKNOWN_EXECUTION_KIND: &str = "劳动改造";

#[cfg(test)]
mod tests {
    use super::*;
    use xiezhi_standard::codes::{table, CodeTable};
    use xiezhi_standard::validate::id_number::parse;
    use xiezhi_standard::validate::record::looks_like_mojibake;

    #[test]
    fn transforms_make_the_intended_defect() {
        let mut rng = stream(1, 1);
        let id = "11010519491231002X";
        for _ in 0..50 {
            let bad = bad_checksum(id, &mut rng);
            assert_eq!(bad.len(), 18);
            assert!(parse(&bad)
                .unwrap_err()
                .iter()
                .any(|i| i.rule == "id_number.checksum"));
        }
        assert_eq!(parse(&legacy15(id)).unwrap().number, id);
        assert_eq!(parse(&lowercase_x(id)).unwrap().number, id);
        for _ in 0..50 {
            let n = name_whitespace("张三", &mut rng, true);
            assert_eq!(n.chars().count(), 3);
            assert_eq!(n.chars().filter(|c| c.is_whitespace()).count(), 1);
            let n = name_whitespace("张三", &mut rng, false);
            assert!(!n.starts_with(char::is_whitespace) && !n.ends_with(char::is_whitespace));
        }
        let m = latin1_mojibake("张三");
        assert_eq!(m, "\u{e5}\u{bc}\u{a0}\u{e4}\u{b8}\u{89}");
        assert!(looks_like_mojibake(&m));
        assert!(table(CodeTable::Ethnicity)
            .get(UNKNOWN_ETHNICITY_CODE)
            .is_none());
        assert!(table(CodeTable::Ethnicity)
            .by_name(UNKNOWN_ETHNICITY_NAME)
            .next()
            .is_none());
    }

    #[test]
    fn every_applicable_kind_gets_used() {
        let mut inj = Injector::new(1, Source::Court, 0.5);
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..400 {
            let id = if i % 11 == 0 { "X" } else { "1" };
            let kinds = applicable(Source::Court, id, true, true);
            if let Some(d) = inj.choose(&kinds) {
                seen.insert(d);
            }
        }
        assert_eq!(seen.len(), Defect::ALL.len());
        let mut inj = Injector::new(1, Source::Justice, 1.0);
        for _ in 0..100 {
            let kinds = applicable(Source::Justice, "1", true, true);
            assert_ne!(inj.choose(&kinds), Some(Defect::MissingId));
        }
        let mut inj = Injector::new(1, Source::Police, 0.0);
        assert!((0..100).all(|_| inj.choose(&Defect::ALL).is_none()));
    }
}
