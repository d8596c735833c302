//! The life of a risk item: 发现 → 汇聚 → 预警 → 核查 → 整改 → 销号, and reopening.
//!
//! * 发现 / 汇聚: a finding of the engine is keyed by case × rule, so re-detecting the same
//!   condition updates the one item instead of adding another.
//! * 预警: a new item is `warned`, with an assignee organ (the organ whose act was late or is
//!   missing: the organ of the closing act when there is one, else of the opening act; a
//!   supervisor may reassign) and a colour from its severity and how far past the deadline it
//!   is ([`colour`]).
//! * 核查: a supervisor confirms the item (`confirmed`, to be rectified) or dismisses it with a
//!   reason (`dismissed`, e.g. an approved extension the data does not show).
//! * 整改 → 销号: the assignee reports the rectification (`rectified`), the supervisor closes
//!   the item (`closed`).
//! * Reopening: a closed item whose condition is still ongoing (the act is still missing past
//!   its deadline) is warned again. A late act that did happen stays closed: the lateness is
//!   history and cannot persist.
//!
//! Every change is written with a ledger entry in the same transaction
//! ([`Store::put_workflow_items`]), so the worklist's history can be proved afterwards.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xiezhi_store::{LedgerEvent, Store, StoreError, WorkflowWrite};

use crate::deadline::RestDays;
use crate::engine::{evaluate_all, evaluate_changed, Findings};
use crate::{RiskItem, Severity};

/// Workflow-item kind of risk items.
pub const KIND: &str = "risk";
/// Workflow-item kind of the engine's cursor (the ledger position and date last evaluated).
pub const CURSOR_KIND: &str = "supervision_cursor";

/// Where a risk item is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 预警: found and waiting for 核查.
    Warned,
    /// 核查属实: to be rectified.
    Confirmed,
    /// 核查不属实: dismissed with a reason.
    Dismissed,
    /// 已整改: waiting for 销号.
    Rectified,
    /// 已销号.
    Closed,
}

impl Status {
    pub fn name_zh(self) -> &'static str {
        match self {
            Status::Warned => "预警",
            Status::Confirmed => "核查属实",
            Status::Dismissed => "核查不属实",
            Status::Rectified => "已整改",
            Status::Closed => "已销号",
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, Status::Warned | Status::Confirmed | Status::Rectified)
    }
}

/// One step in an item's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub on: NaiveDate,
    /// `detected`, `updated`, `reopened`, `assigned`, `confirmed`, `dismissed`, `rectified`,
    /// `closed`.
    pub action: String,
    /// Who: `engine` or a principal id.
    pub by: String,
    pub note: String,
}

/// A risk item as the worklist keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskRecord {
    /// `case_uid:rule_id`.
    pub id: String,
    pub case_uid: String,
    pub rule_id: String,
    pub title_zh: String,
    /// The legal basis as cited, with the article.
    pub basis: String,
    pub basis_quote: String,
    pub severity: Severity,
    pub colour: Severity,
    pub status: Status,
    pub assignee: String,
    /// The statutory deadline the finding computed.
    pub due: NaiveDate,
    pub overdue_days: i64,
    /// The act is still missing past its deadline (as opposed to done late).
    pub ongoing: bool,
    pub explanation_zh: String,
    pub facts_used: Vec<String>,
    pub first_detected: NaiveDate,
    pub last_detected: NaiveDate,
    pub reopened: u32,
    pub history: Vec<Step>,
}

/// Days past the deadline: to the late act, or to `as_of` while the act is missing.
pub fn overdue_days(item: &RiskItem, as_of: NaiveDate) -> i64 {
    if is_ongoing(item) {
        return (as_of - item.due).num_days().max(0);
    }
    item.facts_used
        .iter()
        .filter_map(|f| f.split(' ').nth(1)?.parse::<NaiveDate>().ok())
        .max()
        .map_or(0, |d| (d - item.due).num_days().max(0))
}

fn is_ongoing(item: &RiskItem) -> bool {
    item.facts_used.iter().any(|f| f.starts_with("as_of "))
}

/// The warning colour: the rule's severity, one level more urgent from 30 days past the
/// deadline and two from 90 (platform policy, not a statutory figure).
pub fn colour(severity: Severity, overdue_days: i64) -> Severity {
    let levels = match overdue_days {
        d if d >= 90 => 2,
        d if d >= 30 => 1,
        _ => 0,
    };
    match (severity as u8).saturating_sub(levels) {
        0 => Severity::Red,
        1 => Severity::Orange,
        2 => Severity::Yellow,
        _ => Severity::Blue,
    }
}

/// The organ to act: of the late closing act, else of the opening act.
fn assignee(item: &RiskItem) -> String {
    let orgs: Vec<&str> = item
        .facts_used
        .iter()
        .filter(|f| !f.starts_with("as_of "))
        .filter_map(|f| f.split(' ').nth(2))
        .collect();
    if is_ongoing(item) {
        orgs.first()
    } else {
        orgs.last()
    }
    .copied()
    .unwrap_or_default()
    .to_string()
}

fn record_id(item: &RiskItem) -> String {
    format!("{}:{}", item.case_uid, item.rule_id)
}

/// What a synchronisation changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub cases_evaluated: usize,
    pub findings: usize,
    pub new: usize,
    pub updated: usize,
    pub reopened: usize,
    pub unchanged: usize,
    /// Open items whose condition the data no longer shows (left for a supervisor to close).
    pub no_longer_found: usize,
    pub incremental: bool,
}

/// The engine's cursor: where the last run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub ledger_seq: i64,
    pub as_of: NaiveDate,
}

/// The stored cursor, if the engine has run.
pub fn cursor<S: Store>(store: &S) -> Result<Option<Cursor>, StoreError> {
    match store.workflow_item(CURSOR_KIND, "engine")? {
        Some(body) => Ok(Some(serde_json::from_str(&body)?)),
        None => Ok(None),
    }
}

/// All stored risk records, by id.
pub fn records<S: Store>(store: &S) -> Result<Vec<RiskRecord>, StoreError> {
    store
        .workflow_items(KIND)?
        .into_iter()
        .map(|(_, body)| serde_json::from_str(&body).map_err(StoreError::from))
        .collect()
}

/// One stored risk record.
pub fn record<S: Store>(store: &S, id: &str) -> Result<Option<RiskRecord>, StoreError> {
    match store.workflow_item(KIND, id)? {
        Some(body) => Ok(Some(serde_json::from_str(&body)?)),
        None => Ok(None),
    }
}

fn event(kind: &str, r: &RiskRecord, by: &str, note: &str) -> LedgerEvent {
    let mut body = serde_json::Map::new();
    body.insert("case".into(), r.case_uid.clone().into());
    body.insert("rule".into(), r.rule_id.clone().into());
    body.insert(
        "status".into(),
        serde_json::to_value(r.status).unwrap_or_default(),
    );
    body.insert(
        "colour".into(),
        serde_json::to_value(r.colour).unwrap_or_default(),
    );
    body.insert("due".into(), r.due.to_string().into());
    body.insert("by".into(), by.into());
    if !note.is_empty() {
        body.insert("note".into(), note.into());
    }
    LedgerEvent {
        kind: kind.to_string(),
        entity: Some("risk".into()),
        uid: Some(r.id.clone()),
        body,
    }
}

fn write(r: &RiskRecord, events: Vec<LedgerEvent>) -> Result<WorkflowWrite, StoreError> {
    Ok(WorkflowWrite {
        kind: KIND.to_string(),
        id: r.id.clone(),
        body: serde_json::to_string(r)?,
        events,
    })
}

/// Brings the worklist in line with a run's findings (发现 → 汇聚 → 预警), and records the
/// cursor. Items of evaluated cases that were not found again are counted, not closed.
pub fn sync<S: Store>(
    store: &mut S,
    findings: &Findings,
    as_of: NaiveDate,
    incremental: bool,
) -> Result<SyncReport, StoreError> {
    let mut report = SyncReport {
        cases_evaluated: findings.cases.len(),
        findings: findings.items.len(),
        incremental,
        ..SyncReport::default()
    };
    let mut existing: BTreeMap<String, RiskRecord> = BTreeMap::new();
    let evaluated: BTreeSet<&str> = findings.cases.iter().map(String::as_str).collect();
    for r in records(store)? {
        if evaluated.contains(r.case_uid.as_str()) {
            existing.insert(r.id.clone(), r);
        }
    }
    let fresh = findings.items.iter().map(|item| fresh_record(item, as_of));
    let mut writes = merge(&mut existing, fresh, as_of, &mut report)?;
    report.no_longer_found = existing.values().filter(|r| r.status.is_open()).count();
    let cursor = Cursor {
        ledger_seq: findings.ledger_seq,
        as_of,
    };
    let mut run = serde_json::Map::new();
    run.insert("as_of".into(), as_of.to_string().into());
    run.insert("from_ledger_seq".into(), findings.ledger_seq.into());
    run.insert("report".into(), serde_json::to_value(&report)?);
    writes.push(WorkflowWrite {
        kind: CURSOR_KIND.to_string(),
        id: "engine".to_string(),
        body: serde_json::to_string(&cursor)?,
        events: vec![LedgerEvent {
            kind: "supervision_run".into(),
            entity: None,
            uid: None,
            body: run,
        }],
    });
    store.put_workflow_items(&writes)?;
    Ok(report)
}

/// Runs the catalog and brings the worklist in line: only over the cases changed since the last
/// run when that run was for the same date (and `full` is not asked), else over every case.
pub fn run<S: Store>(
    store: &mut S,
    as_of: NaiveDate,
    full: bool,
    calendar: &dyn RestDays,
) -> Result<SyncReport, StoreError> {
    let last = cursor(store)?.filter(|c| !full && c.as_of == as_of);
    let findings = match last {
        Some(c) => evaluate_changed(store, c.ledger_seq, as_of, calendar)?,
        None => evaluate_all(store, as_of, calendar)?,
    };
    sync(store, &findings, as_of, last.is_some())
}

/// Brings findings made outside the rule catalog into the same worklist: a transfer left
/// unanswered past its statutory period, found by the exchange, say. Each record arrives with
/// its id, rule, basis, explanation and facts; the worklist aggregates, colours and logs it
/// like any other.
pub fn sync_external<S: Store>(
    store: &mut S,
    fresh: Vec<RiskRecord>,
    as_of: NaiveDate,
) -> Result<SyncReport, StoreError> {
    let mut report = SyncReport {
        findings: fresh.len(),
        ..SyncReport::default()
    };
    let ids: BTreeSet<&str> = fresh.iter().map(|r| r.id.as_str()).collect();
    let mut existing: BTreeMap<String, RiskRecord> = records(store)?
        .into_iter()
        .filter(|r| ids.contains(r.id.as_str()))
        .map(|r| (r.id.clone(), r))
        .collect();
    let fresh: Vec<RiskRecord> = fresh
        .into_iter()
        .map(|mut r| {
            r.colour = colour(r.severity, r.overdue_days);
            r.status = Status::Warned;
            r.first_detected = as_of;
            r.last_detected = as_of;
            r.history.clear();
            r
        })
        .collect();
    let writes = merge(&mut existing, fresh.into_iter(), as_of, &mut report)?;
    store.put_workflow_items(&writes)?;
    Ok(report)
}

/// A new record for a finding, as first detected on `as_of`.
fn fresh_record(item: &RiskItem, as_of: NaiveDate) -> RiskRecord {
    let overdue = overdue_days(item, as_of);
    RiskRecord {
        id: record_id(item),
        case_uid: item.case_uid.clone(),
        rule_id: item.rule_id.to_string(),
        title_zh: item.title_zh.to_string(),
        basis: item.basis.cite(),
        basis_quote: item.basis.quote.to_string(),
        severity: item.severity,
        colour: colour(item.severity, overdue),
        status: Status::Warned,
        assignee: assignee(item),
        due: item.due,
        overdue_days: overdue,
        ongoing: is_ongoing(item),
        explanation_zh: item.explanation_zh.clone(),
        facts_used: item.facts_used.clone(),
        first_detected: as_of,
        last_detected: as_of,
        reopened: 0,
        history: Vec::new(),
    }
}

/// Merges fresh records into the existing ones (taken out of `existing` as they are matched):
/// new ones are warned, changed ones updated, closed ongoing ones reopened. Returns the writes.
fn merge(
    existing: &mut BTreeMap<String, RiskRecord>,
    fresh: impl Iterator<Item = RiskRecord>,
    as_of: NaiveDate,
    report: &mut SyncReport,
) -> Result<Vec<WorkflowWrite>, StoreError> {
    let mut writes = Vec::new();
    let mut found = BTreeSet::new();
    for fresh in fresh {
        if !found.insert(fresh.id.clone()) {
            // A rule may fire twice on one case (two late periods): one item, first finding.
            continue;
        }
        match existing.remove(&fresh.id) {
            None => {
                let mut r = fresh;
                r.history.push(Step {
                    on: as_of,
                    action: "detected".into(),
                    by: "engine".into(),
                    note: String::new(),
                });
                let e = event("risk_detected", &r, "engine", "");
                writes.push(write(&r, vec![e])?);
                report.new += 1;
            }
            Some(mut r) => {
                let reopen = r.status == Status::Closed && fresh.ongoing;
                let changed = r.explanation_zh != fresh.explanation_zh
                    || r.colour != fresh.colour
                    || r.due != fresh.due;
                if !reopen && !changed {
                    report.unchanged += 1;
                    continue;
                }
                r.colour = fresh.colour;
                r.due = fresh.due;
                r.overdue_days = fresh.overdue_days;
                r.ongoing = fresh.ongoing;
                r.explanation_zh = fresh.explanation_zh;
                r.facts_used = fresh.facts_used;
                r.last_detected = as_of;
                let (kind, action) = if reopen {
                    r.status = Status::Warned;
                    r.reopened += 1;
                    report.reopened += 1;
                    ("risk_reopened", "reopened")
                } else {
                    report.updated += 1;
                    ("risk_updated", "updated")
                };
                let note = if reopen {
                    "销号后问题仍然存在，重新预警"
                } else {
                    ""
                };
                r.history.push(Step {
                    on: as_of,
                    action: action.into(),
                    by: "engine".into(),
                    note: note.into(),
                });
                let e = event(kind, &r, "engine", note);
                writes.push(write(&r, vec![e])?);
            }
        }
    }
    Ok(writes)
}

/// A supervisor's or assignee's action on an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Hand the item to another organ.
    Assign { org: String },
    /// 核查: confirmed (to rectify) or dismissed, with the reason.
    Verify { confirmed: bool, reason: String },
    /// 整改 reported done.
    Rectify { note: String },
    /// 销号.
    Close { note: String },
}

/// Why an action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("风险事项 `{0}` 不存在")]
    NotFound(String),
    #[error("风险事项 `{id}` 当前状态为「{status}」，不能{action}")]
    WrongState {
        id: String,
        status: &'static str,
        action: &'static str,
    },
    #[error("{0}需要填写理由")]
    MissingReason(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies an action and records it in the ledger; returns the new state.
pub fn act<S: Store>(
    store: &mut S,
    id: &str,
    action: &Action,
    by: &str,
    on: NaiveDate,
) -> Result<RiskRecord, ActionError> {
    let mut r = record(store, id)?.ok_or_else(|| ActionError::NotFound(id.to_string()))?;
    let wrong = |r: &RiskRecord, action: &'static str| ActionError::WrongState {
        id: r.id.clone(),
        status: r.status.name_zh(),
        action,
    };
    let (kind, step, note) = match action {
        Action::Assign { org } => {
            if !r.status.is_open() {
                return Err(wrong(&r, "转办"));
            }
            if org.trim().is_empty() {
                return Err(ActionError::MissingReason("转办机构"));
            }
            r.assignee = org.clone();
            ("risk_assigned", "assigned", org.clone())
        }
        Action::Verify { confirmed, reason } => {
            if r.status != Status::Warned {
                return Err(wrong(&r, "核查"));
            }
            if reason.trim().is_empty() {
                return Err(ActionError::MissingReason("核查"));
            }
            if *confirmed {
                r.status = Status::Confirmed;
                ("risk_confirmed", "confirmed", reason.clone())
            } else {
                r.status = Status::Dismissed;
                ("risk_dismissed", "dismissed", reason.clone())
            }
        }
        Action::Rectify { note } => {
            if r.status != Status::Confirmed {
                return Err(wrong(&r, "报告整改"));
            }
            if note.trim().is_empty() {
                return Err(ActionError::MissingReason("整改"));
            }
            r.status = Status::Rectified;
            ("risk_rectified", "rectified", note.clone())
        }
        Action::Close { note } => {
            if r.status != Status::Rectified {
                return Err(wrong(&r, "销号"));
            }
            r.status = Status::Closed;
            ("risk_closed", "closed", note.clone())
        }
    };
    r.history.push(Step {
        on,
        action: step.into(),
        by: by.into(),
        note: note.clone(),
    });
    let e = event(kind, &r, by, &note);
    store.put_workflow_items(&[write(&r, vec![e])?])?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiezhi_store::SqliteStore;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn unanswered(overdue_days: i64) -> RiskRecord {
        RiskRecord {
            id: "C1:xchg-unanswered:T1".into(),
            case_uid: "C1".into(),
            rule_id: "xchg-unanswered-arrest_request".into(),
            title_zh: "提请批准逮捕逾期未答复".into(),
            basis: "《刑事诉讼法》第九十一条第三款".into(),
            basis_quote: "人民检察院应当自接到公安机关提请批准逮捕书后的七日以内……".into(),
            severity: Severity::Orange,
            colour: Severity::Blue,
            status: Status::Closed,
            assignee: "JC1".into(),
            due: d(2024, 3, 8),
            overdue_days,
            ongoing: true,
            explanation_zh: format!("已超期{overdue_days}日"),
            facts_used: vec!["transfer_received 2024-03-01 JC1".into()],
            first_detected: d(2000, 1, 1),
            last_detected: d(2000, 1, 1),
            reopened: 0,
            history: Vec::new(),
        }
    }

    #[test]
    fn external_findings_join_the_worklist_coloured_and_logged() {
        let mut store = SqliteStore::in_memory().unwrap();
        let first = sync_external(&mut store, vec![unanswered(2)], d(2024, 3, 10)).unwrap();
        assert_eq!(first.new, 1);
        let r = record(&store, "C1:xchg-unanswered:T1").unwrap().unwrap();
        // Whatever the caller passed, a new finding starts warned, coloured by its overdue days.
        assert_eq!((r.status, r.colour), (Status::Warned, Severity::Orange));
        assert_eq!(r.first_detected, d(2024, 3, 10));
        // Found again unchanged: nothing written; 40 days on: one level more urgent.
        let same = sync_external(&mut store, vec![unanswered(2)], d(2024, 3, 10)).unwrap();
        assert_eq!((same.new, same.unchanged), (0, 1));
        let later = sync_external(&mut store, vec![unanswered(40)], d(2024, 4, 17)).unwrap();
        assert_eq!(later.updated, 1);
        let r = record(&store, "C1:xchg-unanswered:T1").unwrap().unwrap();
        assert_eq!(
            (r.colour, r.first_detected),
            (Severity::Red, d(2024, 3, 10))
        );
        let kinds: Vec<String> = store
            .ledger_entries(0, 100)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["risk_detected", "risk_updated"]);
    }

    #[test]
    fn colour_escalates_with_days_overdue() {
        assert_eq!(colour(Severity::Blue, 0), Severity::Blue);
        assert_eq!(colour(Severity::Blue, 30), Severity::Yellow);
        assert_eq!(colour(Severity::Blue, 90), Severity::Orange);
        assert_eq!(colour(Severity::Orange, 90), Severity::Red);
        assert_eq!(colour(Severity::Red, 500), Severity::Red);
    }
}
