//! Answer deadlines: a received transfer whose kind has a statutory answer period and that is
//! not answered in time becomes a supervision risk. The supervision engine may not import the
//! exchange; this module hands out the data and the binary bridges them.
//!
//! Counting: the day of receipt is not counted (刑事诉讼法第一百零五条); a period in months
//! ends on the same date of the month (or the month's last day). The move of a last day that
//! falls on a rest day is left to the supervision engine's calendar, which owns it.

use chrono::{Months, NaiveDate, NaiveDateTime};
use serde::Serialize;
use xiezhi_store::Store;

use crate::inbox::inbox_items;
use crate::kind::{Basis, Period, TransferKind};
use crate::state::InboxState;
use crate::ExchangeError;

/// A transfer waiting for its answer, with its deadline and the article that sets it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unanswered {
    pub envelope_id: String,
    pub kind: TransferKind,
    pub from: String,
    pub to: String,
    pub case_uid: String,
    pub received_on: NaiveDate,
    pub period: Period,
    pub deadline: NaiveDate,
    /// Days past the deadline at the date asked about (0 when not yet overdue).
    pub days_overdue: i64,
    pub basis: Basis,
}

/// The last day to answer a transfer received on `received`.
pub fn deadline(received: NaiveDate, period: Period) -> NaiveDate {
    match period {
        Period::Days(n) => received + chrono::Duration::days(i64::from(n)),
        Period::Months(n) => received
            .checked_add_months(Months::new(n))
            .unwrap_or(NaiveDate::MAX),
    }
}

/// Every received transfer with an answer period that is still unanswered at `now`.
pub fn unanswered<S: Store>(
    store: &S,
    now: NaiveDateTime,
) -> Result<Vec<Unanswered>, ExchangeError> {
    let today = now.date();
    let mut out = Vec::new();
    for item in inbox_items(store)? {
        let b = &item.envelope.body;
        let spec = b.kind.spec();
        let Some((period, basis)) = spec.period else {
            continue;
        };
        let answered = match item.state {
            InboxState::Rejected => true,
            InboxState::Accepted if spec.answered_by.is_empty() => true,
            _ => item.answered_by.is_some(),
        };
        if answered {
            continue;
        }
        let received_on = item.received_at.date();
        let deadline = deadline(received_on, period);
        out.push(Unanswered {
            envelope_id: b.id.clone(),
            kind: b.kind,
            from: b.from.clone(),
            to: b.to.clone(),
            case_uid: b.case_uid.clone(),
            received_on,
            period,
            deadline,
            days_overdue: (today - deadline).num_days().max(0),
            basis,
        });
    }
    Ok(out)
}

/// The unanswered transfers past their deadline at `now`.
pub fn overdue<S: Store>(store: &S, now: NaiveDateTime) -> Result<Vec<Unanswered>, ExchangeError> {
    Ok(unanswered(store, now)?
        .into_iter()
        .filter(|u| u.days_overdue > 0)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn start_day_is_not_counted_and_months_end_on_the_same_date() {
        // Received 1 March: seven days run 2–8 March.
        assert_eq!(deadline(d(2024, 3, 1), Period::Days(7)), d(2024, 3, 8));
        assert_eq!(deadline(d(2024, 1, 15), Period::Months(1)), d(2024, 2, 15));
        // No 31 February: the month's last day.
        assert_eq!(deadline(d(2024, 1, 31), Period::Months(1)), d(2024, 2, 29));
    }
}
