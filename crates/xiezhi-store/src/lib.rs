//! Persistence of standard records behind one interface, [`Store`].
//!
//! The store is the system of record: standard entities (one table per entity, one column per
//! field, derived from `xiezhi-standard`'s schema), the source record behind every stored field
//! (lineage), the quarantine of rejected records, entity-resolution keys and merge explanations,
//! and one row per ingest run with its counts.
//!
//! Architecture invariant: callers see only the [`Store`] trait and the row types here; the
//! SQLite backend is one implementation, and every backend must pass [`conformance::run`].
//! Writes are batched: one [`Batch`] is one transaction, so a batch is either wholly stored or
//! not at all.

pub mod conformance;
pub mod content;
mod entries;
pub mod fieldcrypt;
mod graph;
pub mod open;
#[cfg(feature = "postgres")]
mod postgres;
mod sealing;
mod sqlite;

use serde::{Deserialize, Serialize};
use xiezhi_standard::{Issue, Record, Severity};

#[cfg(feature = "postgres")]
pub use crate::postgres::{CopyFormat, Layout, PgStore, HASH_PARTITIONS};
pub use graph::{GraphEdge, GraphNode};
pub use open::{AnyStore, Location};
pub use sqlite::SqliteStore;
/// The entity kinds the store keeps, re-exported for crates that see the store only.
pub use xiezhi_standard::Entity;

/// Errors of the store. `Corrupt` means the stored data broke an invariant the store relies on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot open store at `{path}`: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// Some of a batch's source records are stored already, but not all of them or not with
    /// the same content: the batch is neither new nor a repeat of one that committed.
    #[error("batch conflicts with stored source record {id}: {reason}")]
    BatchConflict { id: i64, reason: String },
    /// The store was asked to open in a way the database or the connection string refuses
    /// (another layout than the stored one, an unknown layout name).
    #[error("cannot open store: {0}")]
    Config(String),
    /// Field encryption: a wrong key file, a value that does not open in its row and column.
    #[error(transparent)]
    FieldCrypt(#[from] crate::fieldcrypt::FieldCryptError),
    #[cfg(feature = "postgres")]
    #[error("postgres: {0}")]
    Postgres(#[from] ::postgres::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The table of an entity in every backend.
pub(crate) fn table(entity: Entity) -> String {
    format!("std_{}", entity.name())
}

/// The columns a write binds, in table order: uid, [case_uid, person_uid,] the fields. Lineage,
/// run and version follow in every backend.
pub(crate) fn write_columns(entity: Entity) -> Vec<String> {
    write_columns_of(entity, entity.fields())
}

/// As [`write_columns`], with the given fields (an older revision of the standard).
pub(crate) fn write_columns_of(
    entity: Entity,
    fields: &[xiezhi_standard::FieldDef],
) -> Vec<String> {
    let mut cols = vec!["uid".to_string()];
    if entity.is_dependent() {
        cols.push("case_uid".into());
        cols.push("person_uid".into());
    }
    cols.extend(fields.iter().map(|f| f.name.to_string()));
    cols
}

/// Open quarantine entries per failed rule (error severity), most frequent first: each entry
/// counts once per rule however many of its fields broke it.
pub(crate) fn count_by_rule(entries: &[QuarantineEntry]) -> Vec<(String, i64)> {
    let mut counts: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for q in entries {
        let rules: std::collections::BTreeSet<&str> = q
            .reasons
            .iter()
            .filter(|r| r.severity == "error")
            .map(|r| r.rule.as_str())
            .collect();
        for rule in rules {
            *counts.entry(rule.to_string()).or_default() += 1;
        }
    }
    let mut out: Vec<(String, i64)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// Whether a batch was stored already, from the stored `(id, sha256)` of its source records:
/// the idempotency contract of `write_batch`. A batch is keyed by its source records; when all
/// are stored with the same hashes it committed before and is not applied again (a rerun of an
/// ingest after a crash); when none are it is new; anything in between is refused.
pub(crate) fn already_stored(batch: &Batch, stored: &[(i64, String)]) -> Result<bool> {
    if stored.is_empty() {
        return Ok(false);
    }
    for s in &batch.source_records {
        match stored.iter().find(|(id, _)| *id == s.id) {
            None => {
                return Err(StoreError::BatchConflict {
                    id: stored[0].0,
                    reason: format!(
                        "stored, while source record {} of the same batch is not",
                        s.id
                    ),
                })
            }
            Some((_, sha)) if *sha != s.sha256 => {
                return Err(StoreError::BatchConflict {
                    id: s.id,
                    reason: format!("stored with hash `{sha}`, the batch has `{}`", s.sha256),
                })
            }
            Some(_) => {}
        }
    }
    Ok(true)
}

/// Lower-case hex of bytes: the text form of every content hash the platform stores. Written
/// out by hand because `format!("{:02x}")` per byte was a tenth of ingest time.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Outcome of one source record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Accepted,
    Quarantined,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Quarantined => "quarantined",
        }
    }
}

/// One record as read from a department's file: where it was and what it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecordRow {
    /// Allocated by the caller from [`Store::next_ids`], so lineage can point at it before the
    /// batch is written.
    pub id: i64,
    pub source: String,
    pub file: String,
    /// 1-based number of the record within its file.
    pub record_no: i64,
    /// 1-based line where the record starts (CSV/JSONL line, XML line of the element).
    pub line: i64,
    /// SHA-256 of the record's raw fields, hex.
    pub sha256: String,
    pub outcome: Outcome,
}

/// A stored reason: an owned [`Issue`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub field: String,
    pub rule: String,
    pub severity: String,
    pub value: Option<String>,
    pub message_zh: String,
    pub message_en: String,
}

impl From<&Issue> for Reason {
    fn from(i: &Issue) -> Reason {
        Reason {
            field: i.field.clone(),
            rule: i.rule.to_string(),
            severity: match i.severity {
                Severity::Repaired => "repaired",
                Severity::Warning => "warning",
                Severity::Error => "error",
            }
            .to_string(),
            value: i.value.clone(),
            message_zh: i.message_zh.clone(),
            message_en: i.message_en.clone(),
        }
    }
}

/// A standard record bound to its platform identity. Writing a row whose `uid` exists merges
/// it: fields already stored are kept, missing ones are filled, and each field's lineage keeps
/// the source record that first supplied it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRow {
    pub uid: String,
    /// For dependent entities (events, sentences …): the case and person they belong to.
    pub case_uid: Option<String>,
    pub person_uid: Option<String>,
    pub record: Record,
    pub source_record_id: i64,
}

/// A quarantined record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// Assigned by the store; ignored on write.
    pub id: i64,
    pub source_record_id: i64,
    pub run_id: i64,
    pub source: String,
    pub file: String,
    pub record_no: i64,
    pub line: i64,
    /// The raw fields as read (column → text), so the record can be fixed and retried.
    pub raw: Vec<(String, String)>,
    pub reasons: Vec<Reason>,
    pub status: String,
    pub resolved_run_id: Option<i64>,
}

/// Why a source record landed on a platform entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    pub entity: Entity,
    pub uid: String,
    pub source_record_id: i64,
    /// `new`, `id_number`, `name_birth_division`, `police_case_no` …
    pub rule: String,
    pub detail: String,
}

/// Everything one transaction writes.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub source_records: Vec<SourceRecordRow>,
    pub entities: Vec<EntityRow>,
    /// Repairs and warnings of accepted records.
    pub issues: Vec<(i64, Reason)>,
    pub quarantine: Vec<QuarantineEntry>,
    /// Quarantine entries resolved by this batch (a successful retry).
    pub resolved: Vec<i64>,
    pub links: Vec<LinkRow>,
    pub person_keys: Vec<(String, String)>,
    pub case_keys: Vec<(String, String)>,
    /// Further ledger entries to append in the same transaction (workflow steps, decisions).
    pub events: Vec<LedgerEvent>,
    /// Workflow items to store in the same transaction, so a state change (a transfer
    /// applied to its case, say) and the records it wrote commit together or not at all.
    pub workflow: Vec<WorkflowWrite>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.source_records.is_empty() && self.entities.is_empty() && self.resolved.is_empty()
    }
}

/// An entry for the ledger. The store appends it with the next sequence number; writes of
/// entities and quarantine entries get their entries from the store itself, in the same
/// transaction, so no write can exist without its entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEvent {
    /// `record_written`, `record_quarantined`, `quarantine_resolved`, `access_decision` …
    pub kind: String,
    pub entity: Option<String>,
    pub uid: Option<String>,
    /// The entry's fields; the store adds `seq` and `kind`.
    pub body: serde_json::Map<String, serde_json::Value>,
}

/// One workflow item's new state and the ledger entries that record the change (written
/// alone by `put_workflow_items`, or as part of a [`Batch`]).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowWrite {
    pub kind: String,
    pub id: String,
    pub body: String,
    pub events: Vec<LedgerEvent>,
}

/// A stored ledger entry: the exact body text that is hashed into the Merkle tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    /// 0-based position in the log (the Merkle leaf index).
    pub seq: i64,
    pub kind: String,
    pub entity: Option<String>,
    pub uid: Option<String>,
    /// Canonical JSON, including `seq` and `kind`.
    pub body: String,
    /// SHA-256 of `body` as written, hex: locates an edit made without recomputing it.
    pub body_sha256: String,
}

/// A new ingest run.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// `ingest` or `retry`.
    pub kind: String,
    pub source: String,
    pub file: String,
    pub mapping: String,
    pub started_at: String,
}

/// Counts of a finished run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub records_read: i64,
    pub accepted: i64,
    pub quarantined: i64,
    pub repaired: i64,
    pub duplicates: i64,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub run_id: i64,
    pub kind: String,
    pub source: String,
    pub file: String,
    pub mapping: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub counts: RunCounts,
    /// The run's quality report, JSON.
    pub quality: Option<String>,
}

/// A stored entity with the source record behind each field.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntity {
    pub uid: String,
    pub case_uid: Option<String>,
    pub person_uid: Option<String>,
    pub record: Record,
    /// field → source record id.
    pub lineage: Vec<(String, i64)>,
}

/// Highest ids in use, so a writer can allocate the next ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdCounters {
    pub source_record: i64,
    pub person: i64,
    pub case: i64,
}

/// A resolution key and the platform uid it resolves to.
pub type KeyRow = (String, String);

/// All resolution keys: (person keys, case keys).
pub type ResolutionKeys = (Vec<KeyRow>, Vec<KeyRow>);

/// The storage interface. Implementations must pass [`conformance::run`].
pub trait Store {
    /// Records the start of a run and returns its id.
    /// Begins one consistent read snapshot for the reads that follow, until
    /// [`Store::end_snapshot`]. SQLite opens one read transaction (one snapshot, and the check
    /// of its write-ahead log made once rather than per statement); the default does nothing.
    fn begin_snapshot(&self) -> Result<()> {
        Ok(())
    }

    /// Ends the snapshot begun by [`Store::begin_snapshot`].
    fn end_snapshot(&self) -> Result<()> {
        Ok(())
    }

    /// Whether this connection's commits checkpoint the write-ahead log themselves (SQLite,
    /// on by default; other backends have nothing to do). A server that checkpoints from
    /// another connection ([`Store::checkpoint`]) turns it off on its writer, so no commit
    /// waits for a checkpoint's copy and sync.
    fn set_auto_checkpoint(&self, _on: bool) -> Result<()> {
        Ok(())
    }

    /// Copies the write-ahead log into the database and returns (frames in the log, frames
    /// copied so far); the default does nothing and returns (0, 0). SQLite: without
    /// `restart`, what no reader still needs, waiting for nobody (`wal_checkpoint(PASSIVE)`);
    /// with it, everything, waiting for the writer and for readers of the log to finish, so
    /// the next write starts the log from its beginning (`RESTART`). Readers that never pause
    /// keep a passive checkpoint from ever letting the log restart, so the file would grow
    /// without bound under steady load.
    fn checkpoint(&self, _restart: bool) -> Result<(i64, i64)> {
        Ok((0, 0))
    }

    fn begin_run(&mut self, run: &NewRun) -> Result<i64>;
    /// Writes one batch in one transaction. A batch whose source records are all stored
    /// already with the same hashes committed before: it is not applied again and `Ok` is
    /// returned, so rerunning an interrupted ingest is idempotent. A batch of which only some
    /// source records are stored, or with other hashes, is refused with
    /// [`StoreError::BatchConflict`].
    fn write_batch(&mut self, run_id: i64, batch: &Batch) -> Result<()>;
    /// Stores a run's final counts and quality report.
    fn finish_run(
        &mut self,
        run_id: i64,
        finished_at: &str,
        counts: &RunCounts,
        quality: &str,
    ) -> Result<()>;
    fn runs(&self) -> Result<Vec<RunRow>>;
    fn next_ids(&self) -> Result<IdCounters>;
    /// All resolution keys: (person keys, case keys), each as (key, uid).
    fn load_keys(&self) -> Result<ResolutionKeys>;
    fn count(&self, entity: Entity) -> Result<i64>;
    fn get(&self, entity: Entity, uid: &str) -> Result<Option<StoredEntity>>;
    /// The rows of several uids at once, in no promised order; unknown uids are skipped. A
    /// case read needs its persons and organizations: one query instead of one per row.
    fn get_many(&self, entity: Entity, uids: &[String]) -> Result<Vec<StoredEntity>> {
        let mut rows = Vec::with_capacity(uids.len());
        for uid in uids {
            rows.extend(self.get(entity, uid)?);
        }
        Ok(rows)
    }
    /// Up to `limit` uids of an entity greater than `after`, in byte order: keys for paging,
    /// no field of the rows.
    fn uids(&self, entity: Entity, after: &str, limit: usize) -> Result<Vec<String>>;
    /// Every stored row of a dependent entity that belongs to a case, by uid.
    fn rows_of_case(&self, entity: Entity, case_uid: &str) -> Result<Vec<StoredEntity>>;
    /// The rows of several dependent entities of one case, each entity's rows by uid, in the
    /// order of `entities`: a case read needs a dozen of them. The default reads entity by
    /// entity; a backend may read them in one round trip.
    fn rows_of_case_each(
        &self,
        case_uid: &str,
        entities: &[Entity],
    ) -> Result<Vec<(Entity, Vec<StoredEntity>)>> {
        entities
            .iter()
            .map(|&e| Ok((e, self.rows_of_case(e, case_uid)?)))
            .collect()
    }
    /// The rows of an entity for many cases at once (for [`Entity::Case`], the cases
    /// themselves), ordered by case. Readers of every case (the supervision engine) pass
    /// blocks of neighbouring case uids. The default reads case by case; a backend may read
    /// the block in one query.
    fn rows_of_cases(&self, entity: Entity, cases: &[String]) -> Result<Vec<StoredEntity>> {
        let mut rows = Vec::new();
        for case in cases {
            if entity == Entity::Case {
                rows.extend(self.get(entity, case)?);
            } else {
                rows.extend(self.rows_of_case(entity, case)?);
            }
        }
        Ok(rows)
    }
    /// [`Store::rows_of_cases`] for a reader that needs the values only, not where each came
    /// from (the supervision engine, over every case): a backend may leave `lineage` empty and
    /// skip reading it. The default reads it.
    fn rows_of_cases_without_lineage(
        &self,
        entity: Entity,
        cases: &[String],
    ) -> Result<Vec<StoredEntity>> {
        self.rows_of_cases(entity, cases)
    }
    /// For each field of the entity, how many stored rows carry it.
    fn field_fill(&self, entity: Entity) -> Result<Vec<(&'static str, i64)>>;
    /// (entity, rule, count) over the merge explanations.
    fn link_counts(&self) -> Result<Vec<(String, String, i64)>>;
    /// Links of one entity, oldest first.
    fn links_of(&self, entity: Entity, uid: &str) -> Result<Vec<LinkRow>>;
    /// The links of several entities at once, oldest first, each with the source (department
    /// system) of its record: who first gave each person, for the case graph. The default
    /// reads entity by entity and record by record; a backend may join in one query.
    fn links_with_source(&self, entity: Entity, uids: &[String]) -> Result<Vec<(LinkRow, String)>> {
        let mut out = Vec::new();
        for uid in uids {
            for link in self.links_of(entity, uid)? {
                if let Some(rec) = self.source_record(link.source_record_id)? {
                    out.push((link, rec.source));
                }
            }
        }
        Ok(out)
    }
    /// Quarantine entries, optionally of one status, oldest first.
    fn quarantine_list(&self, status: Option<&str>, limit: usize) -> Result<Vec<QuarantineEntry>>;
    fn quarantine_get(&self, id: i64) -> Result<Option<QuarantineEntry>>;
    /// Open quarantine entries by rule: (rule, count).
    fn quarantine_by_rule(&self) -> Result<Vec<(String, i64)>>;
    /// Source-record outcomes per (source, file): (source, file, accepted, quarantined).
    fn source_outcomes(&self) -> Result<Vec<(String, String, i64, i64)>>;
    /// The source record a stored field came from.
    fn source_record(&self, id: i64) -> Result<Option<SourceRecordRow>>;

    /// Appends ledger entries in one transaction.
    fn append_events(&mut self, events: &[LedgerEvent]) -> Result<()>;
    /// Number of ledger entries.
    fn ledger_len(&self) -> Result<i64>;
    /// Up to `limit` entries from `from` (by sequence number), in order.
    fn ledger_entries(&self, from: i64, limit: i64) -> Result<Vec<LedgerRow>>;
    /// The entries of one kind with `from <= seq < to`, in order: the change feed
    /// (`records_written`) read by caches of store rows. The default pages through
    /// [`Store::ledger_entries`]; a backend may filter in its query.
    fn ledger_entries_of_kind(&self, kind: &str, from: i64, to: i64) -> Result<Vec<LedgerRow>> {
        let mut out = Vec::new();
        let mut seq = from;
        while seq < to {
            let page = self.ledger_entries(seq, (to - seq).min(10_000))?;
            let Some(last) = page.last() else { break };
            seq = last.seq + 1;
            out.extend(page.into_iter().filter(|e| e.kind == kind && e.seq < to));
        }
        Ok(out)
    }
    /// Stores a signed checkpoint and the compact tree state it was computed from.
    fn put_checkpoint(
        &mut self,
        size: i64,
        note: &str,
        created_at: &str,
        peaks: &[u8],
    ) -> Result<()>;
    /// All checkpoints (size, signed note), oldest first.
    fn checkpoints(&self) -> Result<Vec<(i64, String)>>;
    /// (size, created_at) of every stored checkpoint, by size: when each was sealed.
    fn checkpoint_times(&self) -> Result<Vec<(i64, String)>>;
    /// Replaces the bodies of archived ledger entries by their stubs (the body's digest stays),
    /// in one transaction; an entry already archived is left as it is.
    fn archive_ledger_bodies(&mut self, stubs: &[(i64, String)]) -> Result<()>;
    /// The compact tree state of the last checkpoint: (size, concatenated 32-byte peaks).
    fn ledger_state(&self) -> Result<Option<(i64, Vec<u8>)>>;
    /// (uid, content hash) of every stored row of an entity, recomputed from the row.
    fn row_hashes(&self, entity: Entity) -> Result<Vec<(String, String)>>;
    /// Vacuums and analyzes, after a bulk load, every table that `cluster_by_case` does not
    /// rewrite (the ledger, the source records, access decisions, ...); returns each with the
    /// seconds it took. A load of only inserts otherwise leaves PostgreSQL's autovacuum to scan
    /// these tables later, beside the first reads, evicting their pages from the cache. SQLite
    /// has no such background pass, so the default does nothing.
    fn vacuum_after_load(&mut self) -> Result<Vec<(String, f64)>> {
        Ok(Vec::new())
    }
    /// Rewrites the case-owned tables (and `std_person`) in the order of their keys, so a
    /// case's rows lie together on disk and a case read touches a few pages instead of one per
    /// row; returns each table rewritten with the seconds it took. For after a bulk load: each
    /// table is locked while it is rewritten. PostgreSQL leaves rows where they were inserted,
    /// one department file after another (`CLUSTER` puts them in key order; rows written later
    /// go wherever there is room, so it is maintenance to repeat). SQLite stores these tables
    /// in key order already (its migration 10), so the default does nothing.
    fn cluster_by_case(&mut self) -> Result<Vec<(String, f64)>> {
        Ok(Vec::new())
    }

    /// How entity-resolution keys are stored: blinded under the store's index key when field
    /// encryption is on, so ingest looks persons up by ID number without storing it.
    fn key_blinder(&self) -> fieldcrypt::KeyBlinder {
        fieldcrypt::KeyBlinder::none()
    }
    /// Seals a file kept beside the database (named by its content hash) when field
    /// encryption is on; returns the bytes unchanged otherwise.
    fn seal_file(&self, _name: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        Ok(bytes.to_vec())
    }
    /// Opens a file sealed by [`Store::seal_file`] (plain files pass through).
    fn open_file(&self, _name: &str, stored: &[u8]) -> Result<Vec<u8>> {
        Ok(stored.to_vec())
    }
    /// Field encryption in force: (suite, KEK version, KEK location), or `None` when off.
    fn field_encryption(&self) -> Option<(xiezhi_crypto::Suite, u32, String)> {
        None
    }
    /// Starts a key rotation: a new KEK under `data_dir/keys`, every data key re-wrapped, a new
    /// sealing key per column — one transaction. Values move with [`Store::reseal_step`].
    fn start_key_rotation(&mut self, _data_dir: &std::path::Path) -> Result<()> {
        Err(StoreError::Config(
            "field encryption is not enabled on this store".into(),
        ))
    }
    /// Per sealed column, the values not yet under its current key: (table, column, count).
    fn reseal_pending(&self) -> Result<Vec<(String, String, i64)>> {
        Ok(Vec::new())
    }
    /// Reseals up to `limit` values in one transaction; 0 when nothing is left.
    fn reseal_step(&mut self, _limit: usize) -> Result<usize> {
        Ok(0)
    }

    /// Stores a workflow item's new state and appends its ledger entries, in one transaction.
    fn put_workflow_item(
        &mut self,
        kind: &str,
        id: &str,
        body: &str,
        events: &[LedgerEvent],
    ) -> Result<()>;
    /// Stores many workflow items' new states with their ledger entries, all or none. The
    /// default writes them one by one; backends override it with one transaction.
    fn put_workflow_items(&mut self, writes: &[WorkflowWrite]) -> Result<()> {
        for w in writes {
            self.put_workflow_item(&w.kind, &w.id, &w.body, &w.events)?;
        }
        Ok(())
    }
    /// Adds nodes and edges to a named graph in one transaction (a node already there is
    /// replaced; an edge's `seq` must be new in the graph). A builder fills a staging graph in
    /// batches and then publishes it with [`Store::graph_publish`].
    fn graph_write(&mut self, graph: &str, nodes: &[GraphNode], edges: &[GraphEdge]) -> Result<()>;
    /// Replaces graph `graph` by graph `staging` (which is left empty) and appends `events`,
    /// in one transaction: readers see the old graph or the new one, never a mixture.
    fn graph_publish(&mut self, staging: &str, graph: &str, events: &[LedgerEvent]) -> Result<()>;
    /// Removes every node and edge of a graph (an abandoned staging graph).
    fn graph_clear(&mut self, graph: &str) -> Result<()>;
    /// The stored nodes among `nodes`, in no promised order; unknown ids are skipped.
    fn graph_nodes(&self, graph: &str, nodes: &[String]) -> Result<Vec<GraphNode>>;
    /// Every edge with an end among `nodes`, each once, by `seq`.
    fn graph_edges_of(&self, graph: &str, nodes: &[String]) -> Result<Vec<GraphEdge>>;
    /// Up to `limit` nodes whose id sorts after `after`, by id: paging through a whole graph.
    fn graph_nodes_after(&self, graph: &str, after: &str, limit: usize) -> Result<Vec<GraphNode>>;
    /// Up to `limit` edges with `seq > after`, by `seq`.
    fn graph_edges_after(&self, graph: &str, after: i64, limit: usize) -> Result<Vec<GraphEdge>>;

    /// A workflow item's current state.
    fn workflow_item(&self, kind: &str, id: &str) -> Result<Option<String>>;
    /// All items of a kind: (id, state), by id.
    fn workflow_items(&self, kind: &str) -> Result<Vec<(String, String)>>;
    /// Up to `limit` items of a kind whose id sorts after `after`, by id: a cursor over a
    /// queue whose ids are zero-padded sequence numbers. Backends override the default
    /// (which reads the whole kind) with a range query.
    fn workflow_items_after(
        &self,
        kind: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>> {
        Ok(self
            .workflow_items(kind)?
            .into_iter()
            .filter(|(id, _)| id.as_str() > after)
            .take(limit)
            .collect())
    }
}
