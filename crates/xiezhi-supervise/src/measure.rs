//! Recall and precision of every rule against a ground truth of planted violations.
//!
//! The truth names cases by their police case number (公安案件编号), which every stored case
//! that came from a police record carries. A case is scored when exactly one stored case has
//! its number (a case split in two by entity resolution is left out) and the caller has not
//! excluded it (a case with a quarantined record lacks the events a rule needs, so it says
//! nothing about the rule). Every rule of the catalog is scored on every scored case: a firing
//! without a planted violation is a false alarm, whether or not a near-miss was planted there.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use xiezhi_store::{Entity, Store, StoreError};

use crate::engine::all_cases;
use crate::{catalog, RiskItem};

/// One planted mark of the ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The case's police number; for a petition rule, the petition number (信访件编号).
    pub police_case_no: String,
    pub rule: String,
    /// `true`: the rule must fire; `false`: a near-miss, it must not.
    pub violation: bool,
}

/// The score of one rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleScore {
    pub rule: String,
    pub title_zh: String,
    pub planted: usize,
    pub detected: usize,
    pub false_alarms: usize,
    pub near_misses: usize,
    pub near_misses_fired: usize,
    /// Stored cases of the first misses and false alarms, to look at.
    pub missed_cases: Vec<String>,
    pub false_alarm_cases: Vec<String>,
}

impl RuleScore {
    /// detected / planted, or `None` when nothing was planted.
    pub fn recall(&self) -> Option<f64> {
        (self.planted > 0).then(|| self.detected as f64 / self.planted as f64)
    }

    /// detected / fired, or `None` when the rule never fired.
    pub fn precision(&self) -> Option<f64> {
        let fired = self.detected + self.false_alarms;
        (fired > 0).then(|| self.detected as f64 / fired as f64)
    }
}

/// Scores of every rule, with what was left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scorecard {
    pub scored_cases: usize,
    /// Petitions scored by the petition rules (those whose number one stored petition holds).
    pub scored_petitions: usize,
    /// Cases the caller excluded (quarantined records).
    pub excluded_cases: usize,
    /// Police case numbers held by more than one stored case.
    pub split_cases: usize,
    /// Truth marks whose case is not scored.
    pub marks_out_of_scope: usize,
    pub rules: Vec<RuleScore>,
}

/// Scores findings against the truth.
pub fn score<S: Store>(
    store: &S,
    expected: &[Expected],
    excluded: &BTreeSet<String>,
    items: &[RiskItem],
) -> Result<Scorecard, StoreError> {
    // Stored case → police case number, keeping only numbers held by one stored case.
    let mut holders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for uid in all_cases(store)? {
        let Some(case) = store.get(Entity::Case, &uid)? else {
            continue;
        };
        if let Some(no) = case
            .record
            .fields
            .get("police_case_no")
            .and_then(|v| v.as_str())
        {
            holders.entry(no.to_string()).or_default().push(uid);
        }
    }
    let mut card = Scorecard::default();
    let mut number_of: BTreeMap<String, String> = BTreeMap::new();
    let mut uid_of: BTreeMap<String, String> = BTreeMap::new();
    for (no, uids) in holders {
        if excluded.contains(&no) {
            card.excluded_cases += 1;
        } else if uids.len() > 1 {
            card.split_cases += 1;
        } else {
            uid_of.insert(no.clone(), uids[0].clone());
            number_of.insert(uids[0].clone(), no);
        }
    }
    card.scored_cases = number_of.len();
    // A petition is keyed by its number, as a case by its police number: petition rules'
    // items name the petition's uid.
    let mut petition_holders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in crate::petitions::all(store)? {
        if let Some(no) = p.petition_no {
            petition_holders.entry(no).or_default().push(p.uid);
        }
    }
    for (no, uids) in petition_holders {
        if uids.len() == 1 {
            uid_of.insert(no.clone(), uids[0].clone());
            number_of.insert(uids[0].clone(), no);
            card.scored_petitions += 1;
        }
    }
    let scored: BTreeSet<&str> = number_of.values().map(String::as_str).collect();

    let mut violations: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut near: BTreeSet<(&str, &str)> = BTreeSet::new();
    for e in expected {
        if !scored.contains(e.police_case_no.as_str()) {
            card.marks_out_of_scope += 1;
        } else if e.violation {
            violations.insert((e.police_case_no.as_str(), e.rule.as_str()));
        } else {
            near.insert((e.police_case_no.as_str(), e.rule.as_str()));
        }
    }
    let fired: BTreeSet<(&str, &str)> = items
        .iter()
        .filter_map(|i| Some((number_of.get(&i.case_uid)?.as_str(), i.rule_id)))
        .collect();

    for rule in catalog() {
        let mut s = RuleScore {
            rule: rule.id.to_string(),
            title_zh: rule.title_zh.to_string(),
            ..RuleScore::default()
        };
        for &(no, r) in &violations {
            if r == rule.id {
                s.planted += 1;
                if fired.contains(&(no, r)) {
                    s.detected += 1;
                } else if s.missed_cases.len() < 10 {
                    s.missed_cases.push(uid_of[no].clone());
                }
            }
        }
        for &(no, r) in &near {
            if r == rule.id && !violations.contains(&(no, r)) {
                s.near_misses += 1;
                s.near_misses_fired += usize::from(fired.contains(&(no, r)));
            }
        }
        for &(no, r) in &fired {
            if r == rule.id && !violations.contains(&(no, r)) {
                s.false_alarms += 1;
                if s.false_alarm_cases.len() < 10 {
                    s.false_alarm_cases.push(uid_of[no].clone());
                }
            }
        }
        card.rules.push(s);
    }
    Ok(card)
}
