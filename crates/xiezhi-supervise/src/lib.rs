//! The supervision engine, first slice: procedural time-limit rules of the Criminal Procedure
//! Law evaluated over one case's events, each finding a [`RiskItem`] that carries its rule, its
//! legal basis (law and article), its severity and a Chinese explanation built from the facts it
//! used.
//!
//! Rules are pure functions of [`CaseFacts`], a date `as_of` and a rest-day calendar
//! ([`deadline::RestDays`]); [`facts_from_store`] builds the facts of a stored case. Periods are
//! counted with the CPL's own rules ([`deadline`]). The catalog of every rule is [`catalog`].
//!
//! Architecture: imports xiezhi-standard, xiezhi-store and xiezhi-graph (the statute graph,
//! whose path explains sentencing findings: [`statute_path`]); the engine reads case rows to
//! find risks and hands out risk items, never case data.

pub mod corrections;
pub mod deadline;
pub mod engine;
pub mod fence_index;
pub mod hotspot_inputs;
pub mod lifecycle;
pub mod measure;
pub mod petitions;
pub mod review;
pub mod rules;
pub mod statute_path;

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use xiezhi_standard::value::{Record, Value};
use xiezhi_store::{Entity, Store, StoreError};

pub use deadline::{deadline, DataCalendar, Period, RestDays, WeekendsOnly};
pub use rules::{catalog, evaluate, evaluate_in};

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
    /// The time of the act, when the source records one (a date-only source stores midnight).
    pub at: Option<NaiveDateTime>,
}

/// A document number an event names (`document_no` of the event row): the act's own
/// document, which tells that the organ's system records documents for this act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CitedDocument {
    /// The event kind that cites it.
    pub event_kind: String,
    pub on: NaiveDate,
    pub document_no: String,
}

/// A stored legal document (文书) of the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseDocument {
    /// Document kind code (`document-kinds.tsv`).
    pub kind: String,
    pub document_no: Option<String>,
    pub issued_on: Option<NaiveDate>,
}

/// A stored evidence item (证据) of the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseEvidence {
    /// Statutory evidence kind code (`evidence-kinds.tsv`).
    pub kind: String,
    /// 证据名称, e.g. `血液酒精含量检验鉴定意见`.
    pub name: String,
}

/// The procuratorate's sentencing proposal (量刑建议) for one defendant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ProposalFacts {
    pub person_uid: Option<String>,
    pub proposed_on: Option<NaiveDate>,
    pub org_code: String,
    pub plea_signed_on: Option<NaiveDate>,
    /// Penalty kind code (`penalty-kinds.tsv`).
    pub principal_penalty: Option<String>,
    pub term_min_months: Option<i64>,
    pub term_max_months: Option<i64>,
    /// `Some(true)`: a suspended sentence proposed; `Some(false)`: proposed not suspended.
    pub probation: Option<bool>,
}

/// A stored judgment result (判决结果) of one defendant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SentenceFacts {
    pub person_uid: Option<String>,
    /// Charge codes (`charges.tsv`), principal charge first.
    pub charges: Vec<String>,
    /// Penalty kind code (`penalty-kinds.tsv`).
    pub principal_penalty: Option<String>,
    pub term_months: Option<i64>,
    pub probation_months: Option<i64>,
    /// 罚金 in fen.
    pub fine_fen: Option<i64>,
    /// Circumstance codes (`circumstances.tsv`).
    pub circumstances: Vec<String>,
    pub judgment_date: Option<NaiveDate>,
    pub court_code: String,
}

/// A stored execution (刑罚执行) row of one convict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ExecutionFacts {
    pub person_uid: Option<String>,
    /// Execution kind code (`execution-kinds.tsv`).
    pub kind: Option<String>,
    pub org_code: String,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    /// 累计减刑（月）.
    pub reduced_months: Option<i64>,
}

/// What the rules see of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct CaseFacts {
    pub case_uid: String,
    /// Events in date order (ties keep their stored order).
    pub events: Vec<CaseEvent>,
    /// Event rows left out because they had no kind or no date.
    pub incomplete_events: usize,
    /// 案件类别 code (`case-categories.tsv`), when stored.
    pub category: Option<String>,
    /// Charge codes of the case (罪名), as the case row carries them.
    pub charges: Vec<String>,
    /// 涉案金额 in fen, as the case row carries it.
    pub amount_fen: Option<i64>,
    /// 案发时间 (the offence date), as the case row carries it: the date a charge's name and
    /// citation are read on.
    pub occurred_on: Option<NaiveDate>,
    /// Document numbers named by event rows, in date order.
    pub cited_documents: Vec<CitedDocument>,
    pub documents: Vec<CaseDocument>,
    pub evidence: Vec<CaseEvidence>,
    pub sentences: Vec<SentenceFacts>,
    /// The procuratorate's sentencing proposals (认罪认罚 cases).
    pub proposals: Vec<ProposalFacts>,
    pub executions: Vec<ExecutionFacts>,
    /// Community-corrections subjects of the case (社区矫正对象), one per convict.
    pub corrections: Vec<corrections::SubjectFacts>,
    /// Their acts, in time order.
    pub correction_acts: Vec<corrections::ActFacts>,
    /// Their location fixes, in time order.
    pub fixes: Vec<corrections::FixFacts>,
    /// Their electronic fences.
    pub fences: Vec<corrections::FenceFacts>,
    /// Legal-aid matters of the case's persons.
    pub legal_aid: Vec<corrections::LegalAidFacts>,
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
            at: None,
        });
        self.events.sort_by_key(|e| e.on);
        self
    }

    /// Adds an event with its time of day.
    pub fn with_time(mut self, kind: &str, at: NaiveDateTime, org_code: &str) -> CaseFacts {
        self = self.with(kind, at.date(), org_code);
        if let Some(e) = self
            .events
            .iter_mut()
            .rev()
            .find(|e| e.kind == kind && e.on == at.date() && e.at.is_none())
        {
            e.at = Some(at);
        }
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
    Ok(facts_of_cases(store, &[case_uid.to_string()])?.pop())
}

/// The facts of many stored cases, read entity by entity for the whole block (one query per
/// entity with a backend that reads blocks), in the order given; cases not stored are left out.
pub fn facts_of_cases<S: Store>(store: &S, cases: &[String]) -> Result<Vec<CaseFacts>, StoreError> {
    let mut by_case: HashMap<String, CaseFacts> = HashMap::with_capacity(cases.len());
    for case in store.rows_of_cases_without_lineage(Entity::Case, cases)? {
        let mut facts = CaseFacts::new(&case.uid);
        facts.category = text(&case.record, "category");
        facts.charges = codes(&case.record, "charges");
        facts.amount_fen = case.record.fields.get("amount").and_then(|v| v.as_int());
        facts.occurred_on = date(&case.record, "occurred_at");
        by_case.insert(case.uid.clone(), facts);
    }
    for row in store.rows_of_cases_without_lineage(Entity::Event, cases)? {
        let Some(facts) = row.case_uid.as_deref().and_then(|c| by_case.get_mut(c)) else {
            continue;
        };
        let field = |name: &str| row.record.fields.get(name);
        let kind = field("kind").and_then(|v| v.as_str());
        let on = field("occurred_at").and_then(|v| v.as_date());
        match (kind, on) {
            (Some(kind), Some(on)) => {
                if let Some(no) = text(&row.record, "document_no") {
                    facts.cited_documents.push(CitedDocument {
                        event_kind: kind.to_string(),
                        on,
                        document_no: no,
                    });
                }
                facts.events.push(CaseEvent {
                    kind: kind.to_string(),
                    on,
                    org_code: text(&row.record, "org_code").unwrap_or_default(),
                    at: field("occurred_at").and_then(|v| v.as_datetime()),
                })
            }
            _ => facts.incomplete_events += 1,
        }
    }
    for row in store.rows_of_cases_without_lineage(Entity::Document, cases)? {
        let Some(facts) = row.case_uid.as_deref().and_then(|c| by_case.get_mut(c)) else {
            continue;
        };
        if let Some(kind) = text(&row.record, "kind") {
            facts.documents.push(CaseDocument {
                kind,
                document_no: text(&row.record, "document_no"),
                issued_on: date(&row.record, "issued_on"),
            });
        }
    }
    for row in store.rows_of_cases_without_lineage(Entity::Evidence, cases)? {
        let Some(facts) = row.case_uid.as_deref().and_then(|c| by_case.get_mut(c)) else {
            continue;
        };
        if let Some(kind) = text(&row.record, "kind") {
            facts.evidence.push(CaseEvidence {
                kind,
                name: text(&row.record, "name").unwrap_or_default(),
            });
        }
    }
    for row in store.rows_of_cases_without_lineage(Entity::Sentence, cases)? {
        let Some(facts) = row.case_uid.as_deref().and_then(|c| by_case.get_mut(c)) else {
            continue;
        };
        let r = &row.record;
        facts.sentences.push(SentenceFacts {
            person_uid: row.person_uid.clone(),
            charges: codes(r, "charges"),
            principal_penalty: text(r, "principal_penalty"),
            term_months: int(r, "term_months"),
            probation_months: int(r, "probation_months"),
            fine_fen: int(r, "fine"),
            circumstances: codes(r, "circumstances"),
            judgment_date: date(r, "judgment_date"),
            court_code: text(r, "court_code").unwrap_or_default(),
        });
    }
    for row in store.rows_of_cases_without_lineage(Entity::SentencingProposal, cases)? {
        let Some(facts) = row.case_uid.as_deref().and_then(|c| by_case.get_mut(c)) else {
            continue;
        };
        let r = &row.record;
        facts.proposals.push(ProposalFacts {
            person_uid: row.person_uid.clone(),
            proposed_on: date(r, "proposed_on"),
            org_code: text(r, "org_code").unwrap_or_default(),
            plea_signed_on: date(r, "plea_signed_on"),
            principal_penalty: text(r, "principal_penalty"),
            term_min_months: int(r, "term_min_months"),
            term_max_months: int(r, "term_max_months"),
            probation: int(r, "probation").map(|p| p == 1),
        });
    }
    for row in store.rows_of_cases_without_lineage(Entity::Execution, cases)? {
        let Some(facts) = row.case_uid.as_deref().and_then(|c| by_case.get_mut(c)) else {
            continue;
        };
        let r = &row.record;
        facts.executions.push(ExecutionFacts {
            person_uid: row.person_uid.clone(),
            kind: text(r, "kind"),
            org_code: text(r, "org_code").unwrap_or_default(),
            start: date(r, "start_date"),
            end: date(r, "end_date"),
            reduced_months: int(r, "reduced_months"),
        });
    }
    corrections::read(store, cases, &mut by_case)?;
    Ok(cases
        .iter()
        .filter_map(|c| by_case.remove(c))
        .map(|mut facts| {
            // Rows come in uid order; the rules read events in date order (stable for ties).
            facts.events.sort_by_key(|e| e.on);
            facts.cited_documents.sort_by_key(|c| c.on);
            facts
                .correction_acts
                .sort_by(|a, b| a.at.cmp(&b.at).then(a.kind.cmp(&b.kind)));
            facts.fixes.sort_by_key(|f| f.at);
            facts
        })
        .collect())
}

pub(crate) fn text(r: &Record, name: &str) -> Option<String> {
    r.get(name).and_then(Value::as_str).map(str::to_string)
}

pub(crate) fn date(r: &Record, name: &str) -> Option<NaiveDate> {
    r.get(name).and_then(Value::as_date)
}

pub(crate) fn int(r: &Record, name: &str) -> Option<i64> {
    r.get(name).and_then(Value::as_int)
}

/// A code list field; a single code counts as a list of one.
fn codes(r: &Record, name: &str) -> Vec<String> {
    match r.get(name) {
        Some(Value::Codes(c)) => c.clone(),
        Some(v) => v.as_str().map(|s| vec![s.to_string()]).unwrap_or_default(),
        None => Vec::new(),
    }
}
