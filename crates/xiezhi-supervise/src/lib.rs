//! The supervision engine, first slice: procedural time-limit rules of the Criminal Procedure
//! Law evaluated over one case's events, each finding a [`RiskItem`] that carries its rule, its
//! legal basis (law and article), its severity and a Chinese explanation built from the facts it
//! used.
//!
//! Rules are pure functions of [`CaseFacts`], a date `as_of` and a rest-day calendar
//! ([`deadline::RestDays`]); [`facts_from_store`] builds the facts of a stored case. Periods are
//! counted with the CPL's own rules ([`deadline`]). The catalog of every rule is [`catalog`].
//!
//! Architecture: imports xiezhi-standard and xiezhi-store only; the engine reads case rows to
//! find risks and hands out risk items, never case data.

pub mod deadline;
pub mod engine;
pub mod lifecycle;
pub mod measure;
pub mod rules;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xiezhi_store::{Entity, Store, StoreError};

pub use deadline::{deadline, DataCalendar, Period, RestDays, WeekendsOnly};
pub use rules::{catalog, evaluate};

/// The four warning colours of the risk worklist, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// 红
    Red,
    /// 橙
    Orange,
    /// 黄
    Yellow,
    /// 蓝
    Blue,
}

impl Severity {
    pub fn name_zh(self) -> &'static str {
        match self {
            Severity::Red => "红",
            Severity::Orange => "橙",
            Severity::Yellow => "黄",
            Severity::Blue => "蓝",
        }
    }
}

/// A legal basis: a law, an article (and paragraph), and the sentence relied on, copied from the
/// statute text in `shared/reference/laws/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Basis {
    /// Short title as the reference file names it, e.g. `刑事诉讼法`.
    pub law: &'static str,
    /// Version of the text, e.g. `2018`.
    pub version: &'static str,
    pub article: u32,
    /// Paragraph (款), 1-based, when the rule relies on one.
    pub paragraph: Option<u32>,
    /// The exact sentence relied on.
    pub quote: &'static str,
}

impl Basis {
    /// `《刑事诉讼法》(2018) 第91条第1款`.
    pub fn cite(&self) -> String {
        match self.paragraph {
            Some(p) => format!(
                "《{}》({}) 第{}条第{}款",
                self.law, self.version, self.article, p
            ),
            None => format!("《{}》({}) 第{}条", self.law, self.version, self.article),
        }
    }
}

/// One procedural act of a case: an event kind code (`event-kinds.tsv`), its date, the organ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseEvent {
    pub kind: String,
    pub on: NaiveDate,
    pub org_code: String,
}

/// What the rules see of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct CaseFacts {
    pub case_uid: String,
    /// Events in date order (ties keep their stored order).
    pub events: Vec<CaseEvent>,
    /// Event rows left out because they had no kind or no date.
    pub incomplete_events: usize,
}

impl CaseFacts {
    pub fn new(case_uid: &str) -> CaseFacts {
        CaseFacts {
            case_uid: case_uid.to_string(),
            ..CaseFacts::default()
        }
    }

    /// Adds an event and keeps the events in date order.
    pub fn with(mut self, kind: &str, on: NaiveDate, org_code: &str) -> CaseFacts {
        self.events.push(CaseEvent {
            kind: kind.to_string(),
            on,
            org_code: org_code.to_string(),
        });
        self.events.sort_by_key(|e| e.on);
        self
    }
}

/// A finding of a rule on one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskItem {
    pub rule_id: &'static str,
    pub title_zh: &'static str,
    pub basis: Basis,
    pub severity: Severity,
    pub case_uid: String,
    /// The last day on which the act was in time.
    pub due: NaiveDate,
    pub explanation_zh: String,
    /// The facts the rule used, one line each (`kind date org`), plus `as_of` when it mattered.
    pub facts_used: Vec<String>,
}

/// The facts of a stored case, or `None` when no such case is stored.
pub fn facts_from_store<S: Store>(
    store: &S,
    case_uid: &str,
) -> Result<Option<CaseFacts>, StoreError> {
    if store.get(Entity::Case, case_uid)?.is_none() {
        return Ok(None);
    }
    let mut facts = CaseFacts::new(case_uid);
    for row in store.rows_of_case(Entity::Event, case_uid)? {
        let field = |name: &str| row.record.fields.get(name);
        let kind = field("kind").and_then(|v| v.as_str());
        let on = field("occurred_at").and_then(|v| v.as_date());
        match (kind, on) {
            (Some(kind), Some(on)) => facts.events.push(CaseEvent {
                kind: kind.to_string(),
                on,
                org_code: field("org_code")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
            }),
            _ => facts.incomplete_events += 1,
        }
    }
    facts.events.sort_by_key(|e| e.on);
    Ok(Some(facts))
}
