//! The inputs of the dispute and petition hot-spot analysis: one (day, division, kind) triple
//! per mediation case and per petition, nothing else of them. Read here, next to the other
//! readers of justice-administration rows, so the command line and the server hand the same
//! triples to `xiezhi_insight::hotspots`.

use chrono::NaiveDate;
use xiezhi_store::{Entity, Store, StoreError};

use crate::text;

/// One dated event of a division: (received on, division code, kind).
pub type Triple = (NaiveDate, String, String);

/// Every stored mediation case as (受理日期, 纠纷发生地, 纠纷类型).
pub fn mediation<S: Store>(store: &S) -> Result<Vec<Triple>, StoreError> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let page = store.uids(Entity::Mediation, &after, 2_000)?;
        let Some(last) = page.last() else { break };
        after = last.clone();
        for row in store.get_many(Entity::Mediation, &page)? {
            let r = &row.record;
            if let (Some(d), Some(div), Some(kind)) = (
                r.date("received_on"),
                text(r, "division"),
                text(r, "dispute_kind"),
            ) {
                out.push((d, div, kind));
            }
        }
    }
    Ok(out)
}

/// Every stored petition as (登记日期, 信访人所在地, `petition`).
pub fn petitions<S: Store>(store: &S) -> Result<Vec<Triple>, StoreError> {
    Ok(crate::petitions::all(store)?
        .into_iter()
        .filter_map(|p| Some((p.received?, p.division?, "petition".to_string())))
        .collect())
}
