//! Running the catalog over the store: every case, or only the cases whose data changed since
//! a ledger position.
//!
//! Every write to the store appends a `records_written` ledger entry naming the rows it wrote
//! (`xiezhi-store`), so the ledger is also the change feed: the cases to look at again are the
//! cases of the rows named after the last position evaluated. Nothing else has to remember
//! what changed, and a crash between writing and evaluating loses nothing: the next run starts
//! from the last position the lifecycle recorded.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use xiezhi_graph::StatuteGraph;
use xiezhi_store::{Entity, Store, StoreError};

use crate::deadline::RestDays;
use crate::rules::similar_cases::Peers;
use crate::{evaluate_in, facts_of_cases, RiskItem};

/// What one run hands the rules besides each case's facts.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub as_of: NaiveDate,
    pub calendar: &'a dyn RestDays,
    /// The statute graph, built once for the run where the reference texts are present: the
    /// sentencing findings carry its path ([`crate::statute_path`]); no finding depends on it.
    pub statute: Option<&'a StatuteGraph>,
}

/// The findings of one run.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// The cases evaluated (every case they name was looked at, found or not).
    pub cases: Vec<String>,
    pub items: Vec<RiskItem>,
    /// The ledger length when the run read the store: the next incremental run starts here.
    pub ledger_seq: i64,
}

/// Every stored case's uid, in id order.
pub fn all_cases<S: Store>(store: &S) -> Result<Vec<String>, StoreError> {
    let last = store.next_ids()?.case;
    Ok((1..=last).map(|n| format!("C{n:08}")).collect())
}

/// The cases whose rows were written at or after ledger position `from`.
pub fn changed_cases<S: Store>(store: &S, from: i64) -> Result<BTreeSet<String>, StoreError> {
    Ok(changes(store, from)?.0)
}

/// The cases, and the petitions, whose rows were written at or after ledger position `from`.
fn changes<S: Store>(
    store: &S,
    from: i64,
) -> Result<(BTreeSet<String>, BTreeSet<String>), StoreError> {
    let mut cases = BTreeSet::new();
    let mut petitions = BTreeSet::new();
    let mut seq = from;
    loop {
        let page = store.ledger_entries(seq, 10_000)?;
        let Some(last) = page.last() else { break };
        seq = last.seq + 1;
        for entry in page.iter().filter(|e| e.kind == "records_written") {
            let body: serde_json::Value = serde_json::from_str(&entry.body)
                .map_err(|e| StoreError::Corrupt(format!("ledger entry {}: {e}", entry.seq)))?;
            for row in body["rows"].as_array().into_iter().flatten() {
                let (Some(entity), Some(uid)) = (row["entity"].as_str(), row["uid"].as_str())
                else {
                    continue;
                };
                if entity == Entity::Petition.name() {
                    petitions.insert(uid.to_string());
                }
                match Entity::from_name(entity) {
                    Some(Entity::Case) => {
                        cases.insert(uid.to_string());
                    }
                    Some(e) if e.is_dependent() => {
                        if let Some(case) = store.get(e, uid)?.and_then(|r| r.case_uid) {
                            cases.insert(case);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok((cases, petitions))
}

/// Evaluates the named cases as of a date (cases not stored are skipped); petitions are
/// judged by [`evaluate_all`] and [`evaluate_changed`].
pub fn evaluate_cases<S: Store>(
    store: &S,
    cases: impl IntoIterator<Item = String>,
    as_of: NaiveDate,
    calendar: &dyn RestDays,
) -> Result<Findings, StoreError> {
    let statute = crate::statute_path::load();
    let ctx = Context {
        as_of,
        calendar,
        statute: statute.as_ref(),
    };
    evaluate_cases_with(store, cases, &ctx, None)
}

/// [`evaluate_cases`], handing every case read to `peers` as well.
fn evaluate_cases_with<S: Store>(
    store: &S,
    cases: impl IntoIterator<Item = String>,
    ctx: &Context,
    mut peers: Option<&mut Peers>,
) -> Result<Findings, StoreError> {
    let ledger_seq = store.ledger_len()?;
    let mut findings = Findings {
        ledger_seq,
        ..Findings::default()
    };
    let mut cases: Vec<String> = cases.into_iter().collect();
    cases.sort_unstable();
    // Blocks of neighbouring cases: one read per entity and block.
    for block in cases.chunks(512) {
        for facts in facts_of_cases(store, block)? {
            findings.items.extend(evaluate_in(&facts, ctx));
            if let Some(p) = peers.as_deref_mut() {
                p.add(&facts);
            }
            findings.cases.push(facts.case_uid);
        }
    }
    Ok(findings)
}

/// Judges petitions (all, or those named) and counts each petition's uid as an evaluated
/// subject: petition rules' items name the petition.
fn evaluate_petitions<S: Store>(
    store: &S,
    only: Option<&BTreeSet<String>>,
    as_of: NaiveDate,
    calendar: &dyn RestDays,
    findings: &mut Findings,
) -> Result<(), StoreError> {
    for p in crate::petitions::all(store)? {
        if only.is_some_and(|set| !set.contains(&p.uid)) {
            continue;
        }
        findings
            .items
            .extend(crate::rules::evaluate_petition(&p, as_of, calendar));
        findings.cases.push(p.uid);
    }
    Ok(())
}

/// Evaluates every stored case, and judges each sentence against its similar cases (the
/// cohort rules need the whole store, so only a full run judges them). The statute graph is
/// built once for the run where the reference texts are present.
pub fn evaluate_all<S: Store>(
    store: &S,
    as_of: NaiveDate,
    calendar: &dyn RestDays,
) -> Result<Findings, StoreError> {
    let statute = crate::statute_path::load();
    evaluate_all_in(
        store,
        &Context {
            as_of,
            calendar,
            statute: statute.as_ref(),
        },
    )
}

/// [`evaluate_all`] in a given context (with or without the statute graph).
pub fn evaluate_all_in<S: Store>(store: &S, ctx: &Context) -> Result<Findings, StoreError> {
    let mut peers = Peers::default();
    let mut findings = evaluate_cases_with(store, all_cases(store)?, ctx, Some(&mut peers))?;
    findings.items.extend(peers.judge_in(ctx.statute));
    evaluate_petitions(store, None, ctx.as_of, ctx.calendar, &mut findings)?;
    Ok(findings)
}

/// Evaluates only the cases changed since ledger position `from`.
pub fn evaluate_changed<S: Store>(
    store: &S,
    from: i64,
    as_of: NaiveDate,
    calendar: &dyn RestDays,
) -> Result<Findings, StoreError> {
    let statute = crate::statute_path::load();
    evaluate_changed_in(
        store,
        from,
        &Context {
            as_of,
            calendar,
            statute: statute.as_ref(),
        },
    )
}

/// [`evaluate_changed`] in a given context.
pub fn evaluate_changed_in<S: Store>(
    store: &S,
    from: i64,
    ctx: &Context,
) -> Result<Findings, StoreError> {
    let ledger_seq = store.ledger_len()?;
    let (cases, petitions) = changes(store, from)?;
    let mut findings = evaluate_cases_with(store, cases, ctx, None)?;
    if !petitions.is_empty() {
        evaluate_petitions(
            store,
            Some(&petitions),
            ctx.as_of,
            ctx.calendar,
            &mut findings,
        )?;
    }
    findings.ledger_seq = ledger_seq;
    Ok(findings)
}
