//! What the petition rules see of a petition matter (涉法涉诉信访), read from the store, and the
//! deadline check they share.
//!
//! A petition is judged on its own, whether or not it names a case: its risk items carry the
//! petition's uid where case rules carry the case's, so the worklist keeps one item per
//! petition and rule. A petition that names a case keeps the case's uid in `case_uid`, and the
//! worklist links the two (see `linked_risks`).

use chrono::NaiveDate;
use serde::Serialize;
use xiezhi_store::{Entity, Store, StoreError};

use crate::deadline::{deadline, Period, RestDays};
use crate::rules::Rule;
use crate::{date, int, text, RiskItem};

/// One stored petition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PetitionFacts {
    /// The petition row's uid: the subject of its risk items.
    pub uid: String,
    pub petition_no: Option<String>,
    /// The case it names, if any.
    pub case_uid: Option<String>,
    pub org_code: String,
    /// The petitioner's division (信访人所在地), for hot spots.
    pub division: Option<String>,
    pub received: Option<NaiveDate>,
    pub accepted: Option<NaiveDate>,
    pub extended_days: Option<i64>,
    pub answered: Option<NaiveDate>,
    pub review_requested: Option<NaiveDate>,
    pub review_answered: Option<NaiveDate>,
    pub recheck_requested: Option<NaiveDate>,
    pub recheck_answered: Option<NaiveDate>,
}

/// Every stored petition, in uid order.
pub fn all<S: Store>(store: &S) -> Result<Vec<PetitionFacts>, StoreError> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let page = store.uids(Entity::Petition, &after, 1_000)?;
        let Some(last) = page.last() else { break };
        after = last.clone();
        for uid in &page {
            let Some(row) = store.get(Entity::Petition, uid)? else {
                continue;
            };
            let r = &row.record;
            out.push(PetitionFacts {
                uid: row.uid.clone(),
                petition_no: text(r, "petition_no"),
                case_uid: row.case_uid.clone(),
                org_code: text(r, "org_code").unwrap_or_default(),
                division: text(r, "division"),
                received: date(r, "received_on"),
                accepted: date(r, "accepted_on"),
                extended_days: int(r, "extended_days"),
                answered: date(r, "answered_on"),
                review_requested: date(r, "review_requested_on"),
                review_answered: date(r, "review_answered_on"),
                recheck_requested: date(r, "recheck_requested_on"),
                recheck_answered: date(r, "recheck_answered_on"),
            });
        }
    }
    Ok(out)
}

/// One petition period: from an act, a number of days, to the act that closes it.
pub(crate) struct PetitionLimit<'a> {
    pub rule: &'a Rule,
    pub petition: &'a PetitionFacts,
    /// (kind code for the fact line, Chinese name, date).
    pub from: (&'a str, &'a str, NaiveDate),
    pub days: u32,
    pub end: (&'a str, &'a str, Option<NaiveDate>),
    /// Extra sentence for the explanation.
    pub note: String,
}

impl PetitionLimit<'_> {
    pub fn run(&self, as_of: NaiveDate, calendar: &dyn RestDays) -> Option<RiskItem> {
        let (from_kind, from_zh, from) = self.from;
        let (end_kind, end_zh, end) = self.end;
        let due = deadline(from, Period::Days(self.days), false, calendar);
        let p = self.petition;
        let no = p.petition_no.as_deref().unwrap_or(&p.uid);
        let case = p
            .case_uid
            .as_deref()
            .map(|c| format!("（涉及案件 {c}）"))
            .unwrap_or_default();
        let head = format!(
            "信访件{no}{case}{from_zh}于{from}；依{}，应在{}日内{end_zh}，期满日为{due}（期满日为节假日的顺延）。",
            self.rule.basis.cite(),
            self.days
        );
        let opened = format!("{from_kind} {from} {}", p.org_code);
        let note = format!(
            "{}信访工作条例未规定期间计算方法，参照刑事诉讼法第105条计算。",
            self.note
        );
        let (tail, closing) = match end {
            Some(d) if d > due => (
                format!("实际{end_zh}于{d}，超期{}日。", (d - due).num_days()),
                format!("{end_kind} {d} {}", p.org_code),
            ),
            Some(_) => return None,
            None if as_of > due => (
                format!(
                    "截至{as_of}未见{end_zh}记录，已超期{}日。",
                    (as_of - due).num_days()
                ),
                format!("as_of {as_of}"),
            ),
            None => return None,
        };
        Some(crate::corrections::item(
            self.rule,
            &p.uid,
            due,
            format!("{head}{tail}{note}"),
            vec![opened, closing],
        ))
    }
}
