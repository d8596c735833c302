//! The Criminal Procedure Law's own counting rules for periods (期间), and the calendars of rest
//! days they need.
//!
//! 《中华人民共和国刑事诉讼法》(2018) 第一百零五条:
//!
//! > 期间以时、日、月计算。
//! >
//! > 期间开始的时和日不算在期间以内。
//! >
//! > 期间的最后一日为节假日的，以节假日后的第一日为期满日期，但犯罪嫌疑人、被告人或者罪犯在押期间，应当至期满之日为止，不得因节假日而延长。
//!
//! So: the start day is not counted (a 3-day period from 1 March ends on 4 March); a period
//! whose last day is a rest day ends on the first working day after it, unless the person is in
//! custody (在押期间), when it ends on the calendar expiry date. A period in months ends on the
//! same date of the later month, or on that month's last day when it has no such date (the CPL
//! text says only that periods are counted in months; this is the convention the platform
//! adopts). Travel time (路途上的时间) is not modelled here.

use std::path::Path;

use chrono::{Days, Months, NaiveDate};
use serde::Serialize;

/// A statutory period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Period {
    Days(u32),
    Months(u32),
    /// A period in months followed by an extension in days (审查起诉 1 month + 15 days): the
    /// days run from the end of the months, and only the final end may move for a rest day.
    MonthsDays(u32, u32),
}

impl Period {
    /// The period in Chinese, e.g. `3日`, `1个月`, `1个月又15日`.
    pub fn zh(self) -> String {
        match self {
            Period::Days(d) => format!("{d}日"),
            Period::Months(m) => format!("{m}个月"),
            Period::MonthsDays(m, d) => format!("{m}个月又{d}日"),
        }
    }
}

pub use xiezhi_standard::calendar::{
    first_working_day, CalendarError, DataCalendar, RestDays, WeekendsOnly, SHIPPED_REST_DAYS,
};

/// Reads a calendar file other than the shipped one (a province's own notice list, say).
pub fn load_calendar(path: &Path) -> Result<DataCalendar, CalendarError> {
    let text = std::fs::read_to_string(path).map_err(|source| CalendarError::Io {
        path: path.display().to_string(),
        source,
    })?;
    DataCalendar::from_tsv(&text)
}

/// The calendar expiry of a period, before any holiday extension: the start day is not counted;
/// months end on the same date of the later month or that month's last day.
pub fn calendar_expiry(start: NaiveDate, period: Period) -> NaiveDate {
    let add_days = |d: NaiveDate, n: u32| d.checked_add_days(Days::new(n.into()));
    let add_months = |d: NaiveDate, n: u32| d.checked_add_months(Months::new(n));
    let end = match period {
        Period::Days(n) => add_days(start, n),
        Period::Months(m) => add_months(start, m),
        Period::MonthsDays(m, n) => add_months(start, m).and_then(|d| add_days(d, n)),
    };
    end.unwrap_or(NaiveDate::MAX)
}

/// The last day on which an act is still in time (期满日期), per CPL Art. 105.
///
/// `custody`: the suspect, defendant or convict is in custody during the period, so a last day
/// that is a rest day is not extended. Otherwise a rest last day moves to the first day after it
/// that is not a rest day (a calendar that never yields a working day stops after a year).
pub fn deadline(
    start: NaiveDate,
    period: Period,
    custody: bool,
    calendar: &dyn RestDays,
) -> NaiveDate {
    let mut end = calendar_expiry(start, period);
    if custody {
        return end;
    }
    for _ in 0..366 {
        if !calendar.is_rest_day(end) {
            break;
        }
        match end.succ_opt() {
            Some(next) => end = next,
            None => break,
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn start_day_is_not_counted() {
        // 2024-03-04 is a Monday; +3 days = Thursday 2024-03-07.
        assert_eq!(
            deadline(d(2024, 3, 4), Period::Days(3), false, &WeekendsOnly),
            d(2024, 3, 7)
        );
    }

    #[test]
    fn rest_last_day_extends_unless_in_custody() {
        // Wednesday 2024-03-06 + 3 days = Saturday 2024-03-09 → Monday 2024-03-11.
        assert_eq!(
            deadline(d(2024, 3, 6), Period::Days(3), false, &WeekendsOnly),
            d(2024, 3, 11)
        );
        assert_eq!(
            deadline(d(2024, 3, 6), Period::Days(3), true, &WeekendsOnly),
            d(2024, 3, 9)
        );
    }

    #[test]
    fn months_end_on_same_date_or_month_end() {
        assert_eq!(
            calendar_expiry(d(2023, 1, 31), Period::Months(1)),
            d(2023, 2, 28)
        );
        assert_eq!(
            calendar_expiry(d(2024, 1, 31), Period::Months(1)),
            d(2024, 2, 29)
        );
        assert_eq!(
            calendar_expiry(d(2024, 3, 15), Period::Months(2)),
            d(2024, 5, 15)
        );
        assert_eq!(
            calendar_expiry(d(2024, 1, 31), Period::MonthsDays(1, 15)),
            d(2024, 3, 15)
        );
    }

    #[test]
    fn data_calendar_reads_rows_and_refuses_sourceless_ones() {
        // The shipped calendar carries the 国务院办公厅 notices: 2024 国庆节 runs 10-01..10-07
        // and Saturday 10-12 is worked (国办发明电〔2023〕7号).
        let shipped = DataCalendar::shipped().unwrap();
        let from = d(2024, 9, 21);
        assert_eq!(
            deadline(from, Period::Days(10), false, &shipped),
            d(2024, 10, 8),
            "a holiday last day moves past the whole holiday"
        );
        assert_eq!(
            deadline(from, Period::Days(10), true, &shipped),
            d(2024, 10, 1)
        );
        assert_eq!(
            deadline(d(2024, 10, 2), Period::Days(10), false, &shipped),
            d(2024, 10, 12),
            "a 调休 Saturday is a working day"
        );
        assert_eq!(
            deadline(d(2024, 10, 2), Period::Days(10), false, &WeekendsOnly),
            d(2024, 10, 14)
        );
        let cal = DataCalendar::from_tsv(
            "date\tname\tsource\tkind\n2099-01-05\t测试假日\ttest fixture\trest\n2099-01-03\t测试调休\ttest fixture\twork\n",
        )
        .unwrap();
        assert!(cal.is_rest_day(d(2099, 1, 5))); // a Monday made a rest day
        assert!(!cal.is_rest_day(d(2099, 1, 3))); // a Saturday made a working day
        assert!(cal.is_rest_day(d(2099, 1, 4))); // an ordinary Sunday
        assert!(DataCalendar::from_tsv("2099-01-05\t测试\t\n").is_err());
        assert!(DataCalendar::from_tsv("2099-13-05\t测试\tx\n").is_err());
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0i64..20_000).prop_map(|n| d(1990, 1, 1) + chrono::Duration::days(n))
    }

    fn any_period() -> impl Strategy<Value = Period> {
        prop_oneof![
            (0u32..400).prop_map(Period::Days),
            (0u32..40).prop_map(Period::Months),
            (0u32..12, 0u32..40).prop_map(|(m, n)| Period::MonthsDays(m, n)),
        ]
    }

    proptest! {
        #[test]
        fn deadline_is_at_least_start_plus_period(start in any_date(), p in any_period(), custody: bool) {
            let due = deadline(start, p, custody, &WeekendsOnly);
            prop_assert!(due >= calendar_expiry(start, p));
            prop_assert!(due >= start);
            if let Period::Days(n) = p {
                prop_assert!((due - start).num_days() >= i64::from(n));
            }
        }

        #[test]
        fn custody_never_extends(start in any_date(), p in any_period()) {
            prop_assert_eq!(deadline(start, p, true, &WeekendsOnly), calendar_expiry(start, p));
        }

        #[test]
        fn non_custody_deadline_is_a_working_day(start in any_date(), p in any_period()) {
            let due = deadline(start, p, false, &WeekendsOnly);
            prop_assert!(!WeekendsOnly.is_rest_day(due));
            // and it moved at most over one weekend
            prop_assert!((due - calendar_expiry(start, p)).num_days() <= 2);
        }

        #[test]
        fn months_from_month_end_clamp(y in 1990i32..2100, m in 1u32..=12, k in 1u32..30) {
            let last = |y: i32, m: u32| {
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                d(ny, nm, 1).pred_opt().unwrap()
            };
            let start = last(y, m);
            let end = calendar_expiry(start, Period::Months(k));
            let total = (m - 1) + k;
            let (ey, em) = (y + (total / 12) as i32, total % 12 + 1);
            prop_assert_eq!(end, d(ey, em, start.day().min(last(ey, em).day())));
        }
    }
}
