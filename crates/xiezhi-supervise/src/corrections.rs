//! What the rules see of community corrections (社区矫正): the subjects of a case, their acts,
//! location fixes and fences, read from the standard v1.1 entities, and the helpers the
//! correction rules share (one subject's view, the item they build).
//!
//! A case may hold several convicts under correction; every rule judges each subject on his
//! own acts (rows are linked to the person by ingest), and reports at most one item per case
//! and rule (the worklist keys items by case and rule), on the first subject it finds.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use xiezhi_standard::validate::geo::{Point, Polygon};
use xiezhi_standard::value::Value;
use xiezhi_store::{Entity, Store, StoreError};

use crate::{date, text, CaseFacts};

/// A community-corrections subject (社区矫正对象) as registered by the executing organ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SubjectFacts {
    pub person_uid: Option<String>,
    /// `surveillance`, `probation`, `parole` or `temporary_outside`.
    pub kind: Option<String>,
    pub decision_org: String,
    pub executing_org: String,
    pub effective: Option<NaiveDate>,
    pub reported: Option<NaiveDate>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

/// One act of community corrections (`correction-event-kinds.tsv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActFacts {
    pub person_uid: Option<String>,
    pub kind: String,
    pub at: NaiveDateTime,
    pub org_code: String,
    /// The approved last day (a leave, a monitoring period).
    pub until: Option<NaiveDate>,
}

/// A location fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixFacts {
    pub person_uid: Option<String>,
    pub at: NaiveDateTime,
    /// Micro-degrees.
    pub lon: i64,
    pub lat: i64,
}

impl FixFacts {
    pub fn point(&self) -> Point {
        Point {
            lon: self.lon,
            lat: self.lat,
        }
    }
}

/// An electronic fence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FenceFacts {
    pub person_uid: Option<String>,
    /// `no_entry` or `no_exit`.
    pub rule: String,
    pub name: String,
    /// The boundary in canonical text (`lon,lat;…`).
    pub polygon: String,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl FenceFacts {
    pub fn parsed(&self) -> Option<Polygon> {
        Polygon::parse(&self.polygon).ok()
    }
}

/// A legal-aid matter of the case (法律援助事项).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalAidFacts {
    pub person_uid: Option<String>,
    /// `legal-aid-kinds.tsv`: `criminal_defence`, `duty_lawyer`, …
    pub kind: String,
    /// `granted` or `refused`.
    pub decision: Option<String>,
    pub org_code: String,
    pub decided: Option<NaiveDate>,
}

/// Reads the correction entities of a block of cases into their facts.
pub(crate) fn read<S: Store>(
    store: &S,
    cases: &[String],
    by_case: &mut HashMap<String, CaseFacts>,
) -> Result<(), StoreError> {
    for row in store.rows_of_cases_without_lineage(Entity::CorrectionSubject, cases)? {
        let Some(f) = row.case_uid.as_deref().and_then(|c| by_case.get_mut(c)) else {
            continue;
        };
        let r = &row.record;
        f.corrections.push(SubjectFacts {
            person_uid: row.person_uid.clone(),
            kind: text(r, "kind"),
            decision_org: text(r, "decision_org").unwrap_or_default(),
            executing_org: text(r, "executing_org").unwrap_or_default(),
            effective: date(r, "effective_date"),
            reported: date(r, "reported_on"),
            start: date(r, "start_date"),
            end: date(r, "end_date"),
        });
    }
    for row in store.rows_of_cases_without_lineage(Entity::CorrectionEvent, cases)? {
        let Some(f) = row.case_uid.as_deref().and_then(|c| by_case.get_mut(c)) else {
            continue;
        };
        let r = &row.record;
        let (Some(kind), Some(at)) = (text(r, "kind"), datetime(r, "occurred_at")) else {
            f.incomplete_events += 1;
            continue;
        };
        f.correction_acts.push(ActFacts {
            person_uid: row.person_uid.clone(),
            kind,
            at,
            org_code: text(r, "org_code").unwrap_or_default(),
            until: date(r, "until"),
        });
    }
    for row in store.rows_of_cases_without_lineage(Entity::LocationFix, cases)? {
        let Some(f) = row.case_uid.as_deref().and_then(|c| by_case.get_mut(c)) else {
            continue;
        };
        let r = &row.record;
        if let (Some(at), Some(lon), Some(lat)) = (
            datetime(r, "fixed_at"),
            r.get("longitude").and_then(Value::as_int),
            r.get("latitude").and_then(Value::as_int),
        ) {
            f.fixes.push(FixFacts {
                person_uid: row.person_uid.clone(),
                at,
                lon,
                lat,
            });
        }
    }
    for row in store.rows_of_cases_without_lineage(Entity::LegalAid, cases)? {
        let Some(f) = row.case_uid.as_deref().and_then(|c| by_case.get_mut(c)) else {
            continue;
        };
        let r = &row.record;
        if let Some(kind) = text(r, "kind") {
            f.legal_aid.push(LegalAidFacts {
                person_uid: row.person_uid.clone(),
                kind,
                decision: text(r, "decision"),
                org_code: text(r, "org_code").unwrap_or_default(),
                decided: date(r, "decided_on"),
            });
        }
    }
    for row in store.rows_of_cases_without_lineage(Entity::Fence, cases)? {
        let Some(f) = row.case_uid.as_deref().and_then(|c| by_case.get_mut(c)) else {
            continue;
        };
        let r = &row.record;
        if let (Some(rule), Some(polygon)) = (text(r, "rule"), text(r, "polygon")) {
            f.fences.push(FenceFacts {
                person_uid: row.person_uid.clone(),
                rule,
                name: text(r, "name").unwrap_or_default(),
                polygon,
                from: date(r, "valid_from"),
                until: date(r, "valid_until"),
            });
        }
    }
    Ok(())
}

fn datetime(r: &xiezhi_standard::Record, name: &str) -> Option<NaiveDateTime> {
    r.datetime(name)
}

/// One subject's share of a case's correction facts.
pub struct Subject<'a> {
    pub person_uid: Option<&'a str>,
    pub record: &'a SubjectFacts,
    pub acts: Vec<&'a ActFacts>,
    pub fixes: Vec<&'a FixFacts>,
    pub fences: Vec<&'a FenceFacts>,
}

impl Subject<'_> {
    /// The first act of a kind.
    pub fn first(&self, kind: &str) -> Option<&ActFacts> {
        self.acts.iter().copied().find(|a| a.kind == kind)
    }

    /// When the correction stopped early (a revocation ruled), if it did.
    pub fn revoked_on(&self) -> Option<NaiveDate> {
        self.first("revocation_ruled").map(|a| a.at.date())
    }

    /// When the correction ended: revocation, release, or the end of the term.
    pub fn ended_on(&self) -> Option<NaiveDate> {
        self.revoked_on()
            .or_else(|| self.first("released").map(|a| a.at.date()))
            .or(self.record.end)
    }
}

/// The subjects of a case, each with his own acts, fixes and fences.
pub fn subjects(facts: &CaseFacts) -> Vec<Subject<'_>> {
    facts
        .corrections
        .iter()
        .map(|s| {
            let me = s.person_uid.as_deref();
            Subject {
                person_uid: me,
                record: s,
                acts: facts
                    .correction_acts
                    .iter()
                    .filter(|a| a.person_uid.as_deref() == me)
                    .collect(),
                fixes: facts
                    .fixes
                    .iter()
                    .filter(|f| f.person_uid.as_deref() == me)
                    .collect(),
                fences: facts
                    .fences
                    .iter()
                    .filter(|f| f.person_uid.as_deref() == me)
                    .collect(),
            }
        })
        .collect()
}

/// The Chinese name of a correction act kind.
pub fn act_zh(kind: &str) -> String {
    xiezhi_standard::codes::table(xiezhi_standard::codes::CodeTable::CorrectionEventKind)
        .get(kind)
        .map_or_else(|| kind.to_string(), |e| e.name.clone())
}

/// One fact line in the worklist's form: `kind date org`.
pub fn act_fact(a: &ActFacts) -> String {
    format!("{} {} {}", a.kind, a.at.date(), a.org_code)
}

/// A risk item of a correction or petition rule (on a case or a petition).
pub(crate) use crate::rules::item_for as item;

/// What the platform holds about one subject at intake, for the risk assessment
/// (`xiezhi_insight::correction_risk`): the engine reads the rows and hands out these factors,
/// never the rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntakeFactors {
    pub uid: String,
    pub age: Option<i32>,
    pub employment: Option<String>,
    /// 前科 or 累犯 among the circumstances of his sentence.
    pub prior_record: bool,
    /// Principal charge code of the case.
    pub charge: Option<String>,
    pub kind: Option<String>,
    pub report_lag_days: Option<i64>,
    /// The label, when `labels` knows the subject.
    pub label: Option<bool>,
}

/// The intake factors of every stored correction subject. `labels` maps (court case number,
/// ID number) to a known outcome (a synthetic province's truth); the keys are matched here
/// and not handed out.
pub fn intake_factors<S: Store>(
    store: &S,
    labels: &std::collections::BTreeMap<(String, String), bool>,
) -> Result<Vec<IntakeFactors>, StoreError> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let page = store.uids(Entity::CorrectionSubject, &after, 1_000)?;
        let Some(last) = page.last() else { break };
        after = last.clone();
        for uid in &page {
            let Some(row) = store.get(Entity::CorrectionSubject, uid)? else {
                continue;
            };
            let r = &row.record;
            let person = match row.person_uid.as_deref() {
                Some(p) => store.get(Entity::Person, p)?,
                None => None,
            };
            let case = match row.case_uid.as_deref() {
                Some(c) => store.get(Entity::Case, c)?,
                None => None,
            };
            let effective = date(r, "effective_date");
            let age = person
                .as_ref()
                .and_then(|p| date(&p.record, "birth_date"))
                .zip(effective)
                .map(|(b, e)| e.years_since(b).map_or(0, |y| y as i32));
            let mut prior_record = false;
            if let Some(c) = row.case_uid.as_deref() {
                for s in store.rows_of_case(Entity::Sentence, c)? {
                    if s.person_uid == row.person_uid {
                        if let Some(Value::Codes(codes)) = s.record.get("circumstances") {
                            prior_record |= codes
                                .iter()
                                .any(|c| c == "prior_record" || c == "recidivist");
                        }
                    }
                }
            }
            let charge = case.as_ref().and_then(|c| match c.record.get("charges") {
                Some(Value::Codes(codes)) => codes.first().cloned(),
                _ => None,
            });
            let key = case
                .as_ref()
                .and_then(|c| text(&c.record, "court_case_no"))
                .zip(person.as_ref().and_then(|p| text(&p.record, "id_number")));
            out.push(IntakeFactors {
                uid: row.uid.clone(),
                age,
                employment: text(r, "employment"),
                prior_record,
                charge,
                kind: text(r, "kind"),
                report_lag_days: date(r, "reported_on")
                    .zip(effective)
                    .map(|(rep, eff)| (rep - eff).num_days()),
                label: key.and_then(|k| labels.get(&k).copied()),
            });
        }
    }
    Ok(out)
}
