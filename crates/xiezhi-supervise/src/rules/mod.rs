//! The rule catalog: one rule, one module (doc comment, code, tests). Each module exports
//! `RULE` (id, Chinese title, legal basis, severity) and `check`, a pure function of the case's
//! facts, the evaluation date and the rest-day calendar.
//!
//! Shared here: the time-limit check most rules are made of ([`LimitCheck`]), the check for an
//! act done without the act that must precede it ([`PriorCheck`]), the custody test that decides
//! whether a period may be extended for a holiday, and the formatting of facts.

pub mod arrest_request;
pub mod arrest_review_detained;
pub mod arrest_review_not_detained;
pub mod arrest_without_approval;
pub mod arrest_without_request;
pub mod bail_limit;
pub mod community_correction_report;
pub mod commutation_half_term;
pub mod commutation_interval;
pub mod decision_notice;
pub mod delivery_for_execution;
pub mod detention_range;
pub mod execution_without_judgment;
pub mod family_notice;
pub mod fast_track_procedure;
pub mod fence_breach;
pub mod first_commutation;
pub mod first_instance;
pub mod fixed_term_range;
pub mod guideline_floor;
pub mod investigation_custody;
pub mod leave_overrun;
pub mod lost_contact;
pub mod missed_intake;
pub mod monitoring_limit;
pub mod parole_exclusion;
pub mod parole_half_term;
pub mod petition_acceptance;
pub mod petition_handling;
pub mod petition_recheck;
pub mod petition_review;
pub mod plea_counsel;
pub mod probation_eligibility;
pub mod probation_period;
pub mod probation_recidivist;
pub mod property_judgment;
pub mod prosecution_review;
pub mod prosecution_without_transfer;
pub mod release_notice;
pub mod required_documents;
pub mod required_evidence;
pub mod revocation_ruling;
pub mod second_instance;
pub mod sentencing_proposal;
pub mod similar_cases;
pub mod statutory_band;
pub mod summary_procedure;
pub mod supplementary_investigation;
pub mod supplementary_investigation_period;
pub mod surveillance_limit;
pub mod surveillance_range;
pub mod trial_without_prosecution;

use chrono::NaiveDate;
use serde::Serialize;
use xiezhi_standard::codes::{table, CodeTable};

use crate::deadline::{deadline, Period, RestDays};
use crate::petitions::PetitionFacts;
use crate::{Basis, CaseEvent, CaseFacts, ExecutionFacts, RiskItem, SentenceFacts, Severity};

/// A rule's catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub title_zh: &'static str,
    pub basis: Basis,
    pub severity: Severity,
}

type Check = fn(&CaseFacts, NaiveDate, &dyn RestDays) -> Vec<RiskItem>;

const RULES: &[(Rule, Check)] = &[
    (arrest_request::RULE, arrest_request::check),
    (arrest_review_detained::RULE, arrest_review_detained::check),
    (
        arrest_review_not_detained::RULE,
        arrest_review_not_detained::check,
    ),
    (prosecution_review::RULE, prosecution_review::check),
    (
        supplementary_investigation::RULE,
        supplementary_investigation::check,
    ),
    (first_instance::RULE, first_instance::check),
    (delivery_for_execution::RULE, delivery_for_execution::check),
    (
        community_correction_report::RULE,
        community_correction_report::check,
    ),
    (
        supplementary_investigation_period::RULE,
        supplementary_investigation_period::check,
    ),
    (investigation_custody::RULE, investigation_custody::check),
    (bail_limit::RULE, bail_limit::check),
    (surveillance_limit::RULE, surveillance_limit::check),
    (second_instance::RULE, second_instance::check),
    (summary_procedure::RULE, summary_procedure::check),
    (fast_track_procedure::RULE, fast_track_procedure::check),
    (family_notice::RULE, family_notice::check),
    // Procedural legality: an act without the act the law requires before it.
    (arrest_without_request::RULE, arrest_without_request::check),
    (
        arrest_without_approval::RULE,
        arrest_without_approval::check,
    ),
    (
        prosecution_without_transfer::RULE,
        prosecution_without_transfer::check,
    ),
    (
        trial_without_prosecution::RULE,
        trial_without_prosecution::check,
    ),
    (
        execution_without_judgment::RULE,
        execution_without_judgment::check,
    ),
    // Sentencing: the declared penalty against the Criminal Law.
    (statutory_band::RULE, statutory_band::check),
    (fixed_term_range::RULE, fixed_term_range::check),
    (detention_range::RULE, detention_range::check),
    (surveillance_range::RULE, surveillance_range::check),
    (probation_eligibility::RULE, probation_eligibility::check),
    (probation_recidivist::RULE, probation_recidivist::check),
    (probation_period::RULE, probation_period::check),
    (guideline_floor::RULE, guideline_floor::check),
    (sentencing_proposal::RULE, sentencing_proposal::check),
    // Completeness: the documents and evidence an act requires (data/required-documents.tsv).
    (required_documents::RULE, required_documents::check),
    (required_evidence::RULE, required_evidence::check),
    // Commutation and parole (刑法 第78、81条; 最高法减刑假释规定 2016).
    (commutation_half_term::RULE, commutation_half_term::check),
    (first_commutation::RULE, first_commutation::check),
    (commutation_interval::RULE, commutation_interval::check),
    (parole_exclusion::RULE, parole_exclusion::check),
    (parole_half_term::RULE, parole_half_term::check),
    (property_judgment::RULE, property_judgment::check),
    // Legal aid: a plea signed with counsel present (刑事诉讼法 第174条, 法律援助法 第30条).
    (plea_counsel::RULE, plea_counsel::check),
    // Community corrections (社区矫正法): hand-over, contact, leave, monitoring, fences,
    // revocation and release.
    (decision_notice::RULE, decision_notice::check),
    (missed_intake::RULE, missed_intake::check),
    (lost_contact::RULE, lost_contact::check),
    (leave_overrun::RULE, leave_overrun::check),
    (monitoring_limit::RULE, monitoring_limit::check),
    (fence_breach::RULE, fence_breach::check),
    (revocation_ruling::RULE, revocation_ruling::check),
    (release_notice::RULE, release_notice::check),
];

type PetitionCheck = fn(&PetitionFacts, NaiveDate, &dyn RestDays) -> Option<RiskItem>;

/// Rules over one petition matter (信访工作条例), judged per petition rather than per case.
const PETITION_RULES: &[(Rule, PetitionCheck)] = &[
    (petition_acceptance::RULE, petition_acceptance::check),
    (petition_handling::RULE, petition_handling::check),
    (petition_review::RULE, petition_review::check),
    (petition_recheck::RULE, petition_recheck::check),
];

/// Rules judged over the whole store rather than one case ([`similar_cases`]).
const COHORT_RULES: [Rule; 1] = [similar_cases::RULE];

/// Every rule, in catalog order: case rules, cohort rules, then petition rules.
pub fn catalog() -> Vec<Rule> {
    RULES
        .iter()
        .map(|(rule, _)| *rule)
        .chain(COHORT_RULES)
        .chain(PETITION_RULES.iter().map(|(rule, _)| *rule))
        .collect()
}

/// Whether a rule judges petitions (its items name a petition, not a case).
pub fn is_petition_rule(id: &str) -> bool {
    PETITION_RULES.iter().any(|(r, _)| r.id == id)
}

/// Runs every petition rule over one petition as of a date.
pub fn evaluate_petition(
    petition: &PetitionFacts,
    as_of: NaiveDate,
    calendar: &dyn RestDays,
) -> Vec<RiskItem> {
    PETITION_RULES
        .iter()
        .filter_map(|(_, check)| check(petition, as_of, calendar))
        .collect()
}

/// Runs every rule over one case as of a date.
pub fn evaluate(facts: &CaseFacts, as_of: NaiveDate, calendar: &dyn RestDays) -> Vec<RiskItem> {
    RULES
        .iter()
        .flat_map(|(_, check)| check(facts, as_of, calendar))
        .collect()
}

/// Runs every rule over one case in an engine run's context: the same findings as
/// [`evaluate`], the sentencing ones explained by the statute graph's path where the run has
/// the graph ([`crate::statute_path`]).
pub fn evaluate_in(facts: &CaseFacts, ctx: &crate::engine::Context) -> Vec<RiskItem> {
    let mut items = evaluate(facts, ctx.as_of, ctx.calendar);
    if let Some(g) = ctx.statute {
        crate::statute_path::annotate(&mut items, facts, g);
    }
    items
}

/// The Chinese name of an event kind, or the code when the table does not know it.
pub(crate) fn kind_zh(kind: &str) -> String {
    table(CodeTable::EventKind)
        .get(kind)
        .map_or_else(|| kind.to_string(), |e| e.name.clone())
}

/// One fact line: `detention 2024-03-04 GA520102`.
pub(crate) fn fact(e: &CaseEvent) -> String {
    format!("{} {} {}", e.kind, e.on, e.org_code)
}

/// Whether two event rows record the same act: one kind on one day, as a department that
/// exports a row per suspect records a case-level act. Such a twin never closes its period.
pub(crate) fn same_act(a: &CaseEvent, b: &CaseEvent) -> bool {
    a.kind == b.kind && a.on == b.on
}

/// Indices of the court acceptances of the first instance: those with no `appeal` or
/// `protest` before them (a later acceptance is the court of second instance's).
pub(crate) fn first_instance_acceptances(facts: &CaseFacts) -> impl Iterator<Item = usize> + '_ {
    let first_appeal = facts
        .events
        .iter()
        .find(|e| e.kind == "appeal" || e.kind == "protest")
        .map(|e| e.on);
    indices_of(facts, "court_accepted")
        .filter(move |&i| first_appeal.is_none_or(|a| facts.events[i].on < a))
}

/// Whether the person is in custody (被拘留 or 被逮捕) on a day, from the latest coercive-measure
/// event on or before it. Unknown means not in custody, so the holiday extension applies and
/// the rule errs towards not firing.
pub(crate) fn in_custody_at(facts: &CaseFacts, day: NaiveDate) -> bool {
    let mut custody = false;
    for e in facts.events.iter().take_while(|e| e.on <= day) {
        match e.kind.as_str() {
            "detention" | "arrest_approved" | "arrest_executed" => custody = true,
            "bail"
            | "residential_surveillance"
            | "arrest_denied"
            | "measure_lifted"
            | "not_prosecuted"
            | "released" => custody = false,
            _ => {}
        }
    }
    custody
}

/// A stretch of time a period does not count (不计入办案期限): from an act of one kind to the
/// next act of another.
pub(crate) struct Suspension {
    pub start: &'static str,
    pub end: &'static str,
    pub basis_zh: &'static str,
}

/// The stretches no 办案期限 counts: a psychiatric assessment of the suspect (刑事诉讼法 第149条)
/// and a suspended trial (第206条第2款).
pub(crate) const CASE_HANDLING: &[Suspension] = &[
    Suspension {
        start: "psychiatric_assessment_started",
        end: "psychiatric_assessment_ended",
        basis_zh: "刑事诉讼法第149条：对犯罪嫌疑人作精神病鉴定的期间不计入办案期限",
    },
    Suspension {
        start: "trial_suspended",
        end: "trial_resumed",
        basis_zh: "刑事诉讼法第206条第2款：中止审理的期间不计入审理期限",
    },
];

/// The days excluded from a period that opened on `from` and would end on `due`: every
/// suspension that begins inside it, until its end (the period's end moving on as it does). A
/// suspension with no end yet stops the clock: `None`.
pub(crate) fn excluded_days(
    facts: &CaseFacts,
    from: NaiveDate,
    mut due: NaiveDate,
    suspensions: &[Suspension],
) -> Option<(i64, Vec<String>, Vec<String>)> {
    let mut days = 0;
    let mut notes = Vec::new();
    let mut used = Vec::new();
    let mut starts: Vec<(&CaseEvent, &Suspension)> = facts
        .events
        .iter()
        .filter_map(|e| {
            suspensions
                .iter()
                .find(|s| s.start == e.kind)
                .map(|s| (e, s))
        })
        .filter(|(e, _)| e.on >= from)
        .collect();
    starts.sort_by_key(|(e, _)| e.on);
    for (start, s) in starts {
        if start.on > due {
            break;
        }
        let end = facts
            .events
            .iter()
            .find(|e| e.kind == s.end && e.on >= start.on)?;
        let n = (end.on - start.on).num_days();
        days += n;
        due = due
            .checked_add_days(chrono::Days::new(n as u64))
            .unwrap_or(NaiveDate::MAX);
        notes.push(format!(
            "{}至{}共{}日不计入期限（{}）",
            start.on, end.on, n, s.basis_zh
        ));
        used.push(fact(start));
        used.push(fact(end));
    }
    Some((days, notes, used))
}

/// When a missing closing act is judged: only if the case shows no later act, except the kinds
/// listed (which belong to the same stage and do not close it).
pub(crate) struct LimitCheck<'a> {
    pub rule: &'a Rule,
    pub facts: &'a CaseFacts,
    /// Index of the opening event in `facts.events`.
    pub start: usize,
    /// The opening date to count from (usually the opening event's date).
    pub from: NaiveDate,
    /// Kinds that close the period in time.
    pub ends: &'a [&'a str],
    pub period: Period,
    pub custody: bool,
    /// What must happen, in Chinese, e.g. `提请人民检察院审查批准逮捕`.
    pub act_zh: &'a str,
    /// Same-stage kinds that do not stop a missing act from being judged.
    pub same_stage: &'a [&'a str],
    /// Whether a missing closing act is judged at all.
    pub judge_missing: bool,
    /// Stretches the period does not count ([`CASE_HANDLING`] for 办案期限, none for a
    /// measure's length).
    pub suspensions: &'a [Suspension],
    /// Extra sentence(s) for the explanation: base limits, what the data cannot show.
    pub note: String,
}

impl LimitCheck<'_> {
    /// The finding, if the closing act came after the deadline, or is missing past it while the
    /// case shows no later act.
    pub fn run(&self, as_of: NaiveDate, calendar: &dyn RestDays) -> Option<RiskItem> {
        let start = self.facts.events.get(self.start)?;
        let plain = deadline(self.from, self.period, self.custody, calendar);
        // A running suspension stops the clock: nothing is late yet.
        let (excluded, suspension_notes, suspension_facts) =
            excluded_days(self.facts, self.from, plain, self.suspensions)?;
        let due = if excluded > 0 {
            let shifted = self
                .from
                .checked_add_days(chrono::Days::new(excluded as u64))
                .unwrap_or(NaiveDate::MAX);
            deadline(shifted, self.period, self.custody, calendar)
        } else {
            plain
        };
        let end = self
            .facts
            .events
            .iter()
            .enumerate()
            .find(|(i, e)| {
                *i != self.start
                    && e.on >= start.on
                    && self.ends.contains(&e.kind.as_str())
                    && !same_act(e, start)
            })
            .map(|(_, e)| e);
        let custody_zh = if self.custody {
            "在押期间，期满日不因节假日顺延"
        } else {
            "期满日为节假日的顺延至节假日后第一日"
        };
        let excluded_zh = if suspension_notes.is_empty() {
            String::new()
        } else {
            format!("；其间{}", suspension_notes.join("；"))
        };
        let head = format!(
            "{}于{}（{}）；依{}，应在{}内{}，期限自次日起算{}，期满日为{}（{}）。",
            kind_zh(&start.kind),
            self.from,
            start.org_code,
            self.rule.basis.cite(),
            self.period.zh(),
            self.act_zh,
            excluded_zh,
            due,
            custody_zh
        );
        let mut facts_used = vec![fact(start)];
        facts_used.extend(suspension_facts);
        let tail = match end {
            Some(end) if end.on > due => {
                facts_used.push(fact(end));
                format!(
                    "实际{}于{}（{}），超期{}日。",
                    kind_zh(&end.kind),
                    end.on,
                    end.org_code,
                    (end.on - due).num_days()
                )
            }
            Some(_) => return None,
            None => {
                if !self.judge_missing || as_of <= due {
                    return None;
                }
                let later = self.facts.events.iter().enumerate().any(|(i, e)| {
                    i != self.start
                        && e.on > start.on
                        && !self.same_stage.contains(&e.kind.as_str())
                });
                if later {
                    return None;
                }
                facts_used.push(format!("as_of {as_of}"));
                format!(
                    "截至{}未见{}记录，且案件无后续流程，已超期{}日。",
                    as_of,
                    self.ends
                        .iter()
                        .map(|k| kind_zh(k))
                        .collect::<Vec<_>>()
                        .join("或"),
                    (as_of - due).num_days()
                )
            }
        };
        Some(RiskItem {
            rule_id: self.rule.id,
            title_zh: self.rule.title_zh,
            basis: self.rule.basis,
            severity: self.rule.severity,
            case_uid: self.facts.case_uid.clone(),
            due,
            explanation_zh: format!("{head}{tail}{}", self.note),
            facts_used,
        })
    }
}

/// A procedural act that the law allows only after another act (批准逮捕 only upon a 提请批准逮捕,
/// say). Fires once per case, on the first act with no prior act on or before its date; the due
/// date reported is the date of that act.
pub(crate) struct PriorCheck<'a> {
    pub rule: &'a Rule,
    /// The acts judged.
    pub acts: &'a [&'a str],
    /// Any one of these on or before the act makes it regular.
    pub priors: &'a [&'a str],
    /// The case is judged only when it shows at least one of these kinds (the upstream organ's
    /// record is present at all); empty: always judged.
    pub gate: &'a [&'a str],
    /// What is missing, in Chinese, e.g. `提请批准逮捕`.
    pub prior_zh: &'a str,
    /// Extra sentence(s) for the explanation: what the data cannot show.
    pub note: &'a str,
}

impl PriorCheck<'_> {
    pub fn run(&self, facts: &CaseFacts) -> Vec<RiskItem> {
        let has = |kinds: &[&str]| {
            facts
                .events
                .iter()
                .any(|e| kinds.contains(&e.kind.as_str()))
        };
        if !self.gate.is_empty() && !has(self.gate) {
            return Vec::new();
        }
        let Some(act) = facts.events.iter().find(|a| {
            self.acts.contains(&a.kind.as_str())
                && !facts
                    .events
                    .iter()
                    .any(|p| p.on <= a.on && self.priors.contains(&p.kind.as_str()))
        }) else {
            return Vec::new();
        };
        let mut facts_used = vec![fact(act)];
        let later: Vec<&CaseEvent> = facts
            .events
            .iter()
            .filter(|p| p.on > act.on && self.priors.contains(&p.kind.as_str()))
            .collect();
        let seen = match later.first() {
            Some(p) => {
                facts_used.push(fact(p));
                format!("{}记录最早见于{}，晚于该行为。", kind_zh(&p.kind), p.on)
            }
            None => "案件中无该记录。".to_string(),
        };
        vec![RiskItem {
            rule_id: self.rule.id,
            title_zh: self.rule.title_zh,
            basis: self.rule.basis,
            severity: self.rule.severity,
            case_uid: facts.case_uid.clone(),
            due: act.on,
            explanation_zh: format!(
                "{}于{}（{}）；依{}，此前应有{}，但截至{}未见{}记录，{}{}",
                kind_zh(&act.kind),
                act.on,
                act.org_code,
                self.rule.basis.cite(),
                self.prior_zh,
                act.on,
                self.prior_zh,
                seen,
                self.note
            ),
            facts_used,
        }]
    }
}

/// A risk item of a rule on a case, with the rule's catalog fields filled in.
pub(crate) fn item(
    rule: &Rule,
    facts: &CaseFacts,
    due: NaiveDate,
    explanation_zh: String,
    facts_used: Vec<String>,
) -> RiskItem {
    item_for(rule, &facts.case_uid, due, explanation_zh, facts_used)
}

/// A risk item of a rule on a subject: a case, or a petition for the petition rules.
pub(crate) fn item_for(
    rule: &Rule,
    subject_uid: &str,
    due: NaiveDate,
    explanation_zh: String,
    facts_used: Vec<String>,
) -> RiskItem {
    RiskItem {
        rule_id: rule.id,
        title_zh: rule.title_zh,
        basis: rule.basis,
        severity: rule.severity,
        case_uid: subject_uid.to_string(),
        due,
        explanation_zh,
        facts_used,
    }
}

/// The Chinese name of a code of a table, or the code when the table does not know it.
pub(crate) fn code_zh(t: CodeTable, code: &str) -> String {
    table(t)
        .get(code)
        .map_or_else(|| code.to_string(), |e| e.name.clone())
}

/// The day a sentence was pronounced: its `judgment_date`, else the case's first
/// `verdict_announced`. A sentence with neither is not judged, since a finding needs a date.
pub(crate) fn sentence_day(facts: &CaseFacts, s: &SentenceFacts) -> Option<NaiveDate> {
    s.judgment_date.or_else(|| {
        facts
            .events
            .iter()
            .find(|e| e.kind == "verdict_announced")
            .map(|e| e.on)
    })
}

/// One fact line for a sentence: `sentence 2024-03-01 FY1 fixed_term 48m probation 60m
/// charges C264.1 circumstances recidivist`.
pub(crate) fn sentence_fact(day: NaiveDate, s: &SentenceFacts) -> String {
    let mut line = format!(
        "sentence {day} {} {}",
        s.court_code,
        s.principal_penalty.as_deref().unwrap_or("-")
    );
    if let Some(t) = s.term_months {
        line += &format!(" {t}m");
    }
    if let Some(p) = s.probation_months.filter(|p| *p > 0) {
        line += &format!(" probation {p}m");
    }
    line += &format!(" charges {}", s.charges.join(";"));
    if !s.circumstances.is_empty() {
        line += &format!(" circumstances {}", s.circumstances.join(";"));
    }
    line
}

/// `有期徒刑48个月（缓刑60个月）` for an explanation.
pub(crate) fn sentence_zh(s: &SentenceFacts) -> String {
    let mut text = s.principal_penalty.as_deref().map_or_else(
        || "主刑不详".to_string(),
        |p| code_zh(CodeTable::PenaltyKind, p),
    );
    if let Some(t) = s.term_months.filter(|t| *t > 0) {
        text += &format!("{t}个月");
    }
    if let Some(p) = s.probation_months.filter(|p| *p > 0) {
        text += &format!("（缓刑考验期{p}个月）");
    }
    text
}

/// The sentence of an execution row: the sentence of the same person, or the case's only
/// sentence when the rows carry no person.
pub(crate) fn sentence_of<'a>(
    facts: &'a CaseFacts,
    e: &ExecutionFacts,
) -> Option<&'a SentenceFacts> {
    match &e.person_uid {
        Some(p) => facts
            .sentences
            .iter()
            .find(|s| s.person_uid.as_ref() == Some(p))
            .or_else(|| single(&facts.sentences)),
        None => single(&facts.sentences),
    }
}

fn single<T>(rows: &[T]) -> Option<&T> {
    match rows {
        [one] => Some(one),
        _ => None,
    }
}

/// The one convict of a case whose commutation and parole events can be read as theirs: the
/// events carry no person, so a case with several execution rows is not judged on them.
pub(crate) fn sole_convict(facts: &CaseFacts) -> Option<(&ExecutionFacts, &SentenceFacts)> {
    let e = single(&facts.executions)?;
    Some((e, sentence_of(facts, e)?))
}

/// One fact line for an execution row: `execution 2022-01-05 JY1 prison reduced 6m`.
pub(crate) fn execution_fact(start: NaiveDate, e: &ExecutionFacts) -> String {
    format!(
        "execution {start} {} {} reduced {}m",
        e.org_code,
        e.kind.as_deref().unwrap_or("-"),
        e.reduced_months.unwrap_or(0)
    )
}

/// `盗窃罪、诈骗罪`.
pub(crate) fn charges_zh(charges: &[String]) -> String {
    charges
        .iter()
        .map(|c| code_zh(CodeTable::Charge, c))
        .collect::<Vec<_>>()
        .join("、")
}

/// Indices of the events of a kind.
pub(crate) fn indices_of<'a>(
    facts: &'a CaseFacts,
    kind: &'a str,
) -> impl Iterator<Item = usize> + 'a {
    facts
        .events
        .iter()
        .enumerate()
        .filter(move |(_, e)| e.kind == kind)
        .map(|(i, _)| i)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the rules' tests.
    use chrono::NaiveDate;

    use crate::{CaseFacts, ExecutionFacts, SentenceFacts};

    pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// A case with one correction subject (person `P1`, executed by `SJ1`) and his acts:
    /// (kind, day, organ, approved until), each at 10:00.
    pub fn subject(acts: &[(&str, NaiveDate, &str, Option<NaiveDate>)]) -> CaseFacts {
        let mut f = CaseFacts::new("C1");
        f.corrections.push(crate::corrections::SubjectFacts {
            person_uid: Some("P1".into()),
            executing_org: "SJ1".into(),
            ..Default::default()
        });
        for (kind, on, org, until) in acts {
            f.correction_acts.push(crate::corrections::ActFacts {
                person_uid: Some("P1".into()),
                kind: kind.to_string(),
                at: on.and_hms_opt(10, 0, 0).unwrap(),
                org_code: org.to_string(),
                until: *until,
            });
        }
        f
    }

    /// A case with one 盗窃罪 sentence of 12 months suspended for 24, judged 2024-05-06.
    pub fn suspended(circumstances: &[&str]) -> CaseFacts {
        let mut f = CaseFacts::new("C1");
        f.sentences.push(SentenceFacts {
            charges: vec!["C264.1".into()],
            principal_penalty: Some("fixed_term".into()),
            term_months: Some(12),
            probation_months: Some(24),
            circumstances: circumstances.iter().map(|c| c.to_string()).collect(),
            judgment_date: Some(d(2024, 5, 6)),
            court_code: "FY1".into(),
            ..SentenceFacts::default()
        });
        f
    }

    /// A case with one convict serving a fixed term in prison from 2022-01-05 (admitted the
    /// same day), with a cumulative reduction.
    pub fn serving(term: i64, reduced: i64) -> CaseFacts {
        let mut f = sentenced("fixed_term", term, &["C264.1"])
            .with("judgment_effective", d(2021, 12, 20), "FY1")
            .with("prison_admission", d(2022, 1, 5), "JY1");
        f.sentences[0].person_uid = Some("P1".into());
        f.executions.push(ExecutionFacts {
            person_uid: Some("P1".into()),
            kind: Some("prison".into()),
            org_code: "JY1".into(),
            start: Some(d(2022, 1, 5)),
            end: None,
            reduced_months: Some(reduced),
        });
        f
    }

    /// A case with one sentence of a penalty kind and term, not suspended.
    pub fn sentenced(penalty: &str, term: i64, charges: &[&str]) -> CaseFacts {
        let mut f = suspended(&[]);
        let s = &mut f.sentences[0];
        s.principal_penalty = Some(penalty.into());
        s.term_months = Some(term);
        s.probation_months = None;
        s.charges = charges.iter().map(|c| c.to_string()).collect();
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_are_unique_and_every_basis_has_an_article() {
        let rules = catalog();
        let mut ids: Vec<_> = rules.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), rules.len());
        for r in rules {
            assert!(r.basis.article > 0 && !r.basis.quote.is_empty(), "{}", r.id);
        }
    }

    #[test]
    fn custody_follows_the_latest_measure() {
        let f = CaseFacts::new("C1")
            .with("detention", testing::d(2024, 1, 1), "GA")
            .with("bail", testing::d(2024, 1, 5), "GA")
            .with("arrest_executed", testing::d(2024, 2, 1), "GA");
        assert!(in_custody_at(&f, testing::d(2024, 1, 2)));
        assert!(!in_custody_at(&f, testing::d(2024, 1, 20)));
        assert!(in_custody_at(&f, testing::d(2024, 3, 1)));
        assert!(!in_custody_at(&f, testing::d(2023, 12, 31)));
    }
}
