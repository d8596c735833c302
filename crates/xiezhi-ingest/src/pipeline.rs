//! The ingest pipeline: read → map → validate → (quarantine | resolve → store), in batches.
//!
//! Invariant: every record read ends as exactly one accepted or one quarantined source record,
//! so `records_read == accepted + quarantined` for every file, and the store's own counts say
//! the same. A whole-file problem stops the file before anything is written.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use sha2::{Digest, Sha256};
use xiezhi_standard::validate::{dates, validate_record, ValidationContext};
use xiezhi_standard::{Entity, Issue, Record, Severity, Value};
use xiezhi_store::{
    Batch, EntityRow, LinkRow, NewRun, Outcome, QuarantineEntry, Reason, RunCounts,
    SourceRecordRow, Store, StoreError,
};

use crate::convert::convert;
use crate::mapping::{FieldSource, Plan};
use crate::read::{self, hex, FileError, Item, RawRecord};
use crate::resolve::Resolver;

/// Errors that stop a file or a retry. Record-level problems are never errors: they are
/// quarantined.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("存储错误 (store error): {0}")]
    Store(#[from] StoreError),
    #[error("隔离记录 {0} 不存在或已处理 (quarantine entry {0} does not exist or is not open)")]
    NotOpen(i64),
    #[error("没有来源 `{0}` 的映射 (no mapping for source `{0}`)")]
    NoMapping(String),
    #[error("隔离记录 {id} 没有列 `{column}`，映射也不读取该列 (entry {id} has no column `{column}` and the mapping reads none)")]
    UnknownColumn { id: i64, column: String },
}

/// Options of one ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The export's date: later dates are invalid, and timeliness is measured against it.
    pub as_of: Option<NaiveDate>,
    /// Records per transaction.
    pub batch_size: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            as_of: None,
            batch_size: 5_000,
        }
    }
}

/// What became of one source record (kept for reports and ground-truth checks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordOutcome {
    pub record_no: i64,
    pub line: i64,
    pub outcome: Outcome,
    pub repaired: bool,
    pub duplicate: bool,
    pub person_uid: Option<String>,
    pub case_uid: Option<String>,
    /// Rules of the errors (quarantined) or repairs (accepted).
    pub rules: Vec<String>,
}

/// Data-quality figures of one source file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Quality {
    /// Share of mapped fields that carried a value, over accepted records.
    pub completeness: f64,
    /// Share of records accepted.
    pub validity: f64,
    /// Median days from the act a record speaks of to the export date.
    pub timeliness_median_days: Option<i64>,
    /// Records identical to an earlier record of the same file.
    pub duplicates: i64,
    /// Per mapped `entity.field`: share of accepted records that carried it.
    pub field_completeness: BTreeMap<String, f64>,
}

/// The report of one ingested file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub run_id: i64,
    pub source: String,
    pub file: String,
    pub counts: RunCounts,
    pub quarantined_by_rule: BTreeMap<String, i64>,
    pub repaired_by_rule: BTreeMap<String, i64>,
    pub quality: Quality,
    /// Standard records produced by the accepted source records.
    pub standard_records: i64,
    #[serde(skip)]
    pub outcomes: Vec<RecordOutcome>,
}

/// A record mapped and checked, ready to store.
pub struct Checked {
    pub records: Vec<Record>,
    /// Repairs and warnings (no errors).
    pub notes: Vec<Issue>,
}

/// The ingester: holds the resolver state for a sequence of files on one store.
pub struct Ingestor<'s, S: Store> {
    store: &'s mut S,
    resolver: Resolver,
    next_source_id: i64,
}

/// Records mapped and checked ahead of the writer (a bound on memory, not on speed).
const PREPARED_AHEAD: usize = 4_096;

/// Batches built ahead of the one being written: one is enough to keep both sides busy.
const BATCHES_AHEAD: usize = 1;

/// One record read, hashed, mapped and checked: everything that needs neither the resolver
/// nor the store, so it can run on another thread.
struct Prepared {
    line: i64,
    record_no: i64,
    sha: String,
    raw_fields: Vec<(String, String)>,
    result: Result<Checked, Vec<Issue>>,
}

fn prepare(plan: &Plan, item: Item, ctx: &ValidationContext) -> Prepared {
    match item {
        Item::Record(raw) => {
            let sha = raw.sha256();
            let result = check(plan, &raw, ctx);
            Prepared {
                line: raw.line,
                record_no: raw.record_no,
                sha,
                raw_fields: raw.fields,
                result,
            }
        }
        Item::Unreadable(u) => {
            let sha = hex(&Sha256::digest(
                u.raw
                    .iter()
                    .map(|(_, v)| v.as_str())
                    .collect::<String>()
                    .as_bytes(),
            ));
            let issue = Issue::error("record", u.rule, None, u.message_zh, u.message_en);
            Prepared {
                line: u.line,
                record_no: u.record_no,
                sha,
                raw_fields: u.raw,
                result: Err(vec![issue]),
            }
        }
    }
}

/// Binds checked records to platform entities and adds them to the batch.
fn bind(
    resolver: &mut Resolver,
    checked: Checked,
    source_id: i64,
    batch: &mut Batch,
) -> (Option<String>, Option<String>) {
    let mut person_uid = None;
    let mut case_uid = None;
    for r in checked
        .records
        .iter()
        .filter(|r| matches!(r.entity, Entity::Person | Entity::Case))
    {
        let res = if r.entity == Entity::Person {
            resolver.person(r)
        } else {
            resolver.case(r)
        };
        batch.links.push(LinkRow {
            entity: r.entity,
            uid: res.uid.clone(),
            source_record_id: source_id,
            rule: res.rule.into(),
            detail: res.detail,
        });
        if r.entity == Entity::Person {
            batch.person_keys.extend(res.new_keys);
            person_uid = Some(res.uid.clone());
        } else {
            batch.case_keys.extend(res.new_keys);
            case_uid = Some(res.uid.clone());
        }
        batch.entities.push(EntityRow {
            uid: res.uid,
            case_uid: None,
            person_uid: None,
            record: r.clone(),
            source_record_id: source_id,
        });
    }
    for r in checked.records {
        let uid = match r.entity {
            Entity::Person | Entity::Case => continue,
            Entity::Organization => r.text("org_code").unwrap_or_default().to_string(),
            e => dependent_uid(e, case_uid.as_deref(), person_uid.as_deref(), &r),
        };
        let (c, p) = if r.entity.is_dependent() {
            (case_uid.clone(), person_uid.clone())
        } else {
            (None, None)
        };
        batch.entities.push(EntityRow {
            uid,
            case_uid: c,
            person_uid: p,
            record: r,
            source_record_id: source_id,
        });
    }
    batch
        .issues
        .extend(checked.notes.iter().map(|n| (source_id, Reason::from(n))));
    (person_uid, case_uid)
}

/// The first 128 bits of a hex SHA-256.
fn hash_prefix(sha_hex: &str) -> u128 {
    u128::from_str_radix(sha_hex.get(..32).unwrap_or(sha_hex), 16).unwrap_or_default()
}

fn now() -> String {
    chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `Send`: each file's batches are written on a thread of their own.
impl<'s, S: Store + Send> Ingestor<'s, S> {
    pub fn new(store: &'s mut S) -> Result<Self, IngestError> {
        let ids = store.next_ids()?;
        let (pk, ck) = store.load_keys()?;
        Ok(Ingestor {
            resolver: Resolver::new(pk, ck, ids.person, ids.case, store.key_blinder()),
            next_source_id: ids.source_record + 1,
            store,
        })
    }

    /// Ingests one file with a plan. `display` is how the file is named in lineage and errors.
    pub fn ingest_file(
        &mut self,
        plan: &Plan,
        path: &Path,
        display: &str,
        opts: &IngestOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<FileReport, IngestError> {
        // The file stays as bytes; its records are parsed one at a time as the writer takes
        // them, so memory holds one file and a channel's worth of records, not every record.
        let bytes = read::load(path, display)?;
        let total = read::check(plan, &bytes, display)?;
        let run_id = self.store.begin_run(&NewRun {
            kind: "ingest".into(),
            source: plan.source.clone(),
            file: display.to_string(),
            mapping: plan.mapping_name.clone(),
            started_at: now(),
        })?;
        let ctx = ValidationContext { as_of: opts.as_of };
        let mut report = FileReport {
            run_id,
            source: plan.source.clone(),
            file: display.to_string(),
            counts: RunCounts::default(),
            quarantined_by_rule: BTreeMap::new(),
            repaired_by_rule: BTreeMap::new(),
            quality: Quality::default(),
            standard_records: 0,
            outcomes: Vec::with_capacity(total),
        };
        // Records seen in this file, by the first 128 bits of their hash: a tenth of the memory
        // of the hex strings, for a file of ten million records.
        let mut seen: HashSet<u128> = HashSet::new();
        let mut field_hits: BTreeMap<String, i64> = BTreeMap::new();
        let mut lags = Vec::new();
        let mut batch = Batch::default();
        // Three threads, each handing the next its work in file order: mapping and validation
        // run a record ahead on one; this one resolves identities and builds batches; a third
        // writes the previous batch, so building a batch overlaps the database's work on it
        // (on PostgreSQL the client and the server otherwise take turns). One writer keeps the
        // batches, each one transaction, in order, so ids and the ledger are as before.
        let (ahead, prepared) = std::sync::mpsc::sync_channel::<Prepared>(PREPARED_AHEAD);
        let (to_writer, batches) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_AHEAD);
        let (ctx_ref, bytes_ref) = (&ctx, &bytes);
        let store = &mut *self.store;
        let resolver = &mut self.resolver;
        let next_source_id = &mut self.next_source_id;
        std::thread::scope(|scope| -> Result<(), IngestError> {
            let reader = scope.spawn(move || {
                // A closed channel means the store failed and the file stops.
                read::each_item(plan, bytes_ref, display, &mut |item| {
                    ahead.send(prepare(plan, item, ctx_ref)).is_ok()
                })
            });
            let writer = scope.spawn(move || -> Result<(), IngestError> {
                for b in batches {
                    store.write_batch(run_id, &b)?;
                }
                Ok(())
            });
            for (i, p) in prepared.into_iter().enumerate() {
                let id = *next_source_id;
                *next_source_id += 1;
                report.counts.records_read += 1;
                let Prepared {
                    line,
                    record_no,
                    sha,
                    raw_fields,
                    result,
                } = p;
                let duplicate = !seen.insert(hash_prefix(&sha));
                let source_row = |outcome| SourceRecordRow {
                    id,
                    source: plan.source.clone(),
                    file: display.to_string(),
                    record_no,
                    line,
                    sha256: sha.clone(),
                    outcome,
                };
                let outcome = match result {
                    Ok(checked) => {
                        batch.source_records.push(source_row(Outcome::Accepted));
                        report.counts.accepted += 1;
                        if duplicate {
                            report.counts.duplicates += 1;
                        }
                        report.standard_records += checked.records.len() as i64;
                        for r in &checked.records {
                            for f in r.fields.keys() {
                                *field_hits
                                    .entry(format!("{}.{f}", r.entity.name()))
                                    .or_default() += 1;
                            }
                        }
                        if let (Some(as_of), Some(latest)) = (
                            opts.as_of,
                            checked
                                .records
                                .iter()
                                .filter_map(Record::reference_date)
                                .max(),
                        ) {
                            lags.push((as_of - latest).num_days());
                        }
                        let repairs: Vec<String> = checked
                            .notes
                            .iter()
                            .filter(|n| n.severity == Severity::Repaired)
                            .map(|n| n.rule.to_string())
                            .collect();
                        if !repairs.is_empty() {
                            report.counts.repaired += 1;
                        }
                        for r in &repairs {
                            *report.repaired_by_rule.entry(r.clone()).or_default() += 1;
                        }
                        let (person_uid, case_uid) = bind(resolver, checked, id, &mut batch);
                        RecordOutcome {
                            record_no,
                            line,
                            outcome: Outcome::Accepted,
                            repaired: !repairs.is_empty(),
                            duplicate,
                            person_uid,
                            case_uid,
                            rules: repairs,
                        }
                    }
                    Err(issues) => {
                        batch.source_records.push(source_row(Outcome::Quarantined));
                        report.counts.quarantined += 1;
                        let mut rules: Vec<String> = issues
                            .iter()
                            .filter(|i| i.is_error())
                            .map(|i| i.rule.to_string())
                            .collect();
                        rules.dedup();
                        for r in &rules {
                            *report.quarantined_by_rule.entry(r.clone()).or_default() += 1;
                        }
                        batch.quarantine.push(QuarantineEntry {
                            id: 0,
                            source_record_id: id,
                            run_id,
                            source: plan.source.clone(),
                            file: display.to_string(),
                            record_no,
                            line,
                            raw: raw_fields,
                            reasons: issues.iter().map(Reason::from).collect(),
                            status: "open".into(),
                            resolved_run_id: None,
                        });
                        RecordOutcome {
                            record_no,
                            line,
                            outcome: Outcome::Quarantined,
                            repaired: false,
                            duplicate,
                            person_uid: None,
                            case_uid: None,
                            rules,
                        }
                    }
                };
                report.outcomes.push(outcome);
                if batch.source_records.len() >= opts.batch_size {
                    // A closed channel means the writer failed: its error is taken below.
                    if to_writer.send(std::mem::take(&mut batch)).is_err() {
                        break;
                    }
                    progress(i + 1, total);
                }
            }
            if !batch.is_empty() {
                // As above: a failed send leaves the writer's error to report.
                let _ = to_writer.send(std::mem::take(&mut batch));
            }
            drop(to_writer);
            // The store's error comes first: the reader stops because of it.
            match writer.join() {
                Ok(written) => written?,
                Err(panic) => std::panic::resume_unwind(panic),
            }
            match reader.join() {
                Ok(read) => Ok(read?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })?;
        progress(total, total);
        let accepted = report.counts.accepted.max(1) as f64;
        let mapped = mapped_fields(plan);
        report.quality.field_completeness = mapped
            .iter()
            .map(|f| {
                (
                    f.clone(),
                    field_hits.get(f).copied().unwrap_or(0) as f64 / accepted,
                )
            })
            .collect();
        report.quality.completeness = if mapped.is_empty() {
            1.0
        } else {
            report.quality.field_completeness.values().sum::<f64>() / mapped.len() as f64
        };
        report.quality.validity =
            report.counts.accepted as f64 / report.counts.records_read.max(1) as f64;
        report.quality.duplicates = report.counts.duplicates;
        lags.sort_unstable();
        report.quality.timeliness_median_days = lags.get(lags.len() / 2).copied();
        let quality = serde_json::to_string(&report.quality).unwrap_or_default();
        self.store
            .finish_run(run_id, &now(), &report.counts, &quality)?;
        Ok(report)
    }

    /// Retries a quarantined record, with optional column edits. On success the entry is
    /// resolved and its records stored; on failure the new reasons are returned and nothing
    /// changes.
    pub fn retry(
        &mut self,
        plan: &Plan,
        entry: &QuarantineEntry,
        edits: &[(String, String)],
    ) -> Result<Result<i64, Vec<Issue>>, IngestError> {
        if entry.status != "open" {
            return Err(IngestError::NotOpen(entry.id));
        }
        let mut fields: Vec<(String, String)> = entry
            .raw
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .cloned()
            .collect();
        let columns = plan.columns();
        for (col, value) in edits {
            match fields.iter_mut().find(|(k, _)| k == col) {
                Some((_, v)) => *v = value.clone(),
                None if columns.contains(&col.as_str()) => {
                    fields.push((col.clone(), value.clone()))
                }
                None => {
                    return Err(IngestError::UnknownColumn {
                        id: entry.id,
                        column: col.clone(),
                    })
                }
            }
        }
        let raw = RawRecord {
            record_no: entry.record_no,
            line: entry.line,
            fields,
        };
        let checked = match check(plan, &raw, &ValidationContext::default()) {
            Ok(c) => c,
            Err(issues) => return Ok(Err(issues)),
        };
        let run_id = self.store.begin_run(&NewRun {
            kind: "retry".into(),
            source: entry.source.clone(),
            file: entry.file.clone(),
            mapping: plan.mapping_name.clone(),
            started_at: now(),
        })?;
        let mut batch = Batch {
            resolved: vec![entry.id],
            ..Batch::default()
        };
        let repaired = checked
            .notes
            .iter()
            .any(|n| n.severity == Severity::Repaired);
        bind(
            &mut self.resolver,
            checked,
            entry.source_record_id,
            &mut batch,
        );
        self.store.write_batch(run_id, &batch)?;
        let counts = RunCounts {
            records_read: 1,
            accepted: 1,
            repaired: i64::from(repaired),
            ..RunCounts::default()
        };
        self.store.finish_run(run_id, &now(), &counts, "{}")?;
        Ok(Ok(run_id))
    }
}

fn mapped_fields(plan: &Plan) -> Vec<String> {
    let mut v: Vec<String> = plan
        .emits
        .iter()
        .filter(|e| e.when.is_none() && e.for_each.is_none())
        .flat_map(|e| {
            e.fields
                .iter()
                .filter(|f| matches!(f.source, FieldSource::Column(_)))
                .map(move |f| format!("{}.{}", e.entity.name(), f.field))
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn dependent_uid(
    entity: Entity,
    case_uid: Option<&str>,
    person_uid: Option<&str>,
    r: &Record,
) -> String {
    let mut h = Sha256::new();
    h.update(entity.name());
    h.update([0]);
    h.update(case_uid.unwrap_or(""));
    h.update([0]);
    h.update(person_uid.unwrap_or(""));
    for (k, v) in &r.fields {
        h.update([0]);
        h.update(k);
        h.update([1]);
        h.update(v.canonical());
    }
    let prefix = match entity {
        Entity::CasePerson => "R",
        Entity::Event => "E",
        Entity::Evidence => "V",
        Entity::Document => "D",
        Entity::Sentence => "S",
        Entity::Execution => "X",
        Entity::Petition => "Q",
        Entity::CorrectionSubject => "J",
        Entity::CorrectionEvent => "K",
        Entity::LocationFix => "L",
        Entity::Fence => "F",
        Entity::Mediation => "M",
        Entity::LegalAid => "A",
        Entity::SentencingProposal => "B",
        _ => "U",
    };
    // The case uid leads so that a case's records sit together in the store's index and
    // inserts in case order append rather than scatter.
    format!(
        "{prefix}{}-{}",
        case_uid.unwrap_or("-"),
        &hex(&h.finalize())[..16]
    )
}

/// Maps and validates one raw record. `Err` carries every finding, errors and all.
pub fn check(plan: &Plan, raw: &RawRecord, ctx: &ValidationContext) -> Result<Checked, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut records = Vec::new();
    for emit in &plan.emits {
        if let Some(w) = &emit.when {
            if raw.get(w).is_none_or(|v| v.trim().is_empty()) {
                continue;
            }
        }
        let items: Vec<Option<&str>> = match &emit.for_each {
            Some(col) => raw
                .get(col)
                .map(|v| {
                    v.split(';')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(Some)
                        .collect()
                })
                .unwrap_or_default(),
            None => vec![None],
        };
        for item in items {
            let mut record = Record::new(emit.entity);
            let mut failed = false;
            let mut found: Vec<Issue> = Vec::new();
            for fp in &emit.fields {
                let text = match &fp.source {
                    FieldSource::Column(c) => raw.get(c),
                    FieldSource::Constant(v) => Some(v.as_str()),
                    FieldSource::Item => item,
                };
                let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
                    continue;
                };
                match convert(fp, text) {
                    Ok(c) => {
                        found.extend(c.repair);
                        if let Err(e) = record.set(fp.field, c.value) {
                            let zh = format!("映射错误：{e}");
                            found.push(Issue::error(fp.field, "mapping.field", Some(text), zh, e));
                            failed = true;
                        }
                    }
                    Err(e) => {
                        found.push(e);
                        failed = true;
                    }
                }
            }
            let name = emit.entity.name();
            let mut found: Vec<Issue> = found.into_iter().map(|i| i.in_entity(name)).collect();
            if !failed || !record.fields.is_empty() {
                // A field that failed conversion is absent; do not also report it as missing.
                let validated: Vec<Issue> = validate_record(&mut record, ctx)
                    .into_iter()
                    .filter(|v| !(v.rule == "required" && found.iter().any(|i| i.field == v.field)))
                    .collect();
                found.extend(validated);
            }
            issues.extend(found);
            records.push(record);
        }
    }
    let events: Vec<(&str, NaiveDateTime)> = records
        .iter()
        .filter(|r| r.entity == Entity::Event)
        .filter_map(|r| match (r.text("kind"), r.get("occurred_at")) {
            (Some(k), Some(Value::DateTime(t))) => Some((k, *t)),
            _ => None,
        })
        .collect();
    issues.extend(dates::check_order(&events));
    if issues.iter().any(Issue::is_error) {
        Err(issues)
    } else {
        Ok(Checked {
            records,
            notes: issues,
        })
    }
}
