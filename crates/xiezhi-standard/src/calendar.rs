//! Rest days (节假日) for the holiday extension of 刑事诉讼法 第105条: weekends, and the official
//! holiday arrangement of each year (《国务院办公厅关于XXXX年部分节假日安排的通知》), shipped
//! as `data/rest-days.tsv` with the notice named on every row.
//!
//! It lives in the standard because more than one crate counts statutory periods: the
//! supervision engine judges deadlines with it, and the synthetic province places acts on the
//! last lawful day with the same calendar.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};

/// Which days are rest days (节假日).
pub trait RestDays {
    fn is_rest_day(&self, day: NaiveDate) -> bool;
}

/// Saturdays and Sundays only: the calendar to use where no official holiday notice is loaded.
#[derive(Debug, Clone, Copy, Default)]
pub struct WeekendsOnly;

impl RestDays for WeekendsOnly {
    fn is_rest_day(&self, day: NaiveDate) -> bool {
        matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }
}

/// Weekends plus the dates of a data file: `rest` rows add holidays, `work` rows make a weekend
/// day a working day (调休上班). Every row names its source, the 国务院办公厅 notice.
#[derive(Debug, Clone, Default)]
pub struct DataCalendar {
    /// date → (is rest day, name, source).
    days: BTreeMap<NaiveDate, (bool, String, String)>,
}

/// Errors reading a calendar file.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("cannot read calendar `{path}`: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("calendar line {line}: {message}")]
    Parse { line: usize, message: String },
}

/// The shipped calendar file.
pub const SHIPPED_REST_DAYS: &str = include_str!("../data/rest-days.tsv");

impl DataCalendar {
    /// The calendar shipped in `data/rest-days.tsv`.
    pub fn shipped() -> Result<DataCalendar, CalendarError> {
        DataCalendar::from_tsv(SHIPPED_REST_DAYS)
    }

    /// Parses `date<TAB>name<TAB>source[<TAB>kind]` rows; `#` lines and the header are skipped.
    /// A row without a source is refused: every date must be traceable to its notice.
    pub fn from_tsv(text: &str) -> Result<DataCalendar, CalendarError> {
        let mut days = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let row = raw.trim_end_matches('\r');
            if row.trim().is_empty() || row.starts_with('#') || row.starts_with("date\t") {
                continue;
            }
            let cols: Vec<&str> = row.split('\t').map(str::trim).collect();
            let err = |message: String| CalendarError::Parse { line, message };
            if cols.len() < 3 {
                return Err(err(format!("expected date, name, source; got `{row}`")));
            }
            let date = NaiveDate::parse_from_str(cols[0], "%Y-%m-%d")
                .map_err(|e| err(format!("bad date `{}`: {e}", cols[0])))?;
            if cols[2].is_empty() {
                return Err(err(format!("{date} has no source")));
            }
            let rest = match cols.get(3).copied().unwrap_or("") {
                "" | "rest" => true,
                "work" => false,
                other => return Err(err(format!("unknown kind `{other}`"))),
            };
            if days
                .insert(date, (rest, cols[1].to_string(), cols[2].to_string()))
                .is_some()
            {
                return Err(err(format!("{date} listed twice")));
            }
        }
        Ok(DataCalendar { days })
    }

    /// Number of dated rows.
    pub fn len(&self) -> usize {
        self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// The row of a date: (is rest day, name, source).
    pub fn entry(&self, day: NaiveDate) -> Option<(bool, &str, &str)> {
        self.days
            .get(&day)
            .map(|(rest, name, source)| (*rest, name.as_str(), source.as_str()))
    }
}

impl RestDays for DataCalendar {
    fn is_rest_day(&self, day: NaiveDate) -> bool {
        match self.days.get(&day) {
            Some((rest, _, _)) => *rest,
            None => WeekendsOnly.is_rest_day(day),
        }
    }
}

/// The first day on or after `day` that is not a rest day (stops after a year for a calendar
/// that never yields one).
pub fn first_working_day(day: NaiveDate, calendar: &dyn RestDays) -> NaiveDate {
    let mut d = day;
    for _ in 0..366 {
        if !calendar.is_rest_day(d) {
            break;
        }
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn shipped_calendar_parses_and_every_row_names_its_notice() {
        let c = DataCalendar::shipped().unwrap();
        for line in SHIPPED_REST_DAYS.lines().filter(|l| !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols[0] == "date" {
                continue;
            }
            let day = NaiveDate::parse_from_str(cols[0], "%Y-%m-%d").unwrap();
            let (rest, _, source) = c.entry(day).unwrap();
            assert!(source.contains("国办发"), "{line}");
            if !rest {
                // 调休上班 is always a weekend day made a working day.
                assert!(WeekendsOnly.is_rest_day(day), "{line}");
            }
        }
    }

    #[test]
    fn rows_override_weekends_and_errors_name_the_line() {
        let c = DataCalendar::from_tsv(
            "date\tname\tsource\tkind\n2024-02-12\t春节\tX\trest\n2024-02-18\t春节\tX\twork\n",
        )
        .unwrap();
        assert!(c.is_rest_day(d(2024, 2, 12))); // a Monday
        assert!(!c.is_rest_day(d(2024, 2, 18))); // a Sunday worked
        assert!(c.is_rest_day(d(2024, 2, 17))); // a plain Saturday
        assert_eq!(first_working_day(d(2024, 2, 17), &c), d(2024, 2, 18));
        let e = DataCalendar::from_tsv("2024-01-01\t元旦\t\n").unwrap_err();
        assert!(e.to_string().contains("line 1") && e.to_string().contains("no source"));
        assert!(DataCalendar::from_tsv("2024-01-01\ta\tb\n2024-01-01\ta\tb\n").is_err());
    }
}
