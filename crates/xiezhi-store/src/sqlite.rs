//! SQLite backend: one database file in WAL mode, schema from `migrations/`, batched prepared
//! statements inside one transaction per batch.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use xiezhi_standard::{Entity, FieldType, Record, Value};

use crate::content::{content_sha256, Cell};
use crate::entries::{quarantine_resolved, record_quarantined, render, WrittenRows};
use crate::fieldcrypt::{CodecSlot, FieldCodec, KeyBlinder};
use crate::sealing::{open_text, seal_quarantine, seal_text};
use crate::*;

/// Ordered schema migrations; the position is the version.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_ledger.sql"),
    include_str!("../migrations/0003_workflow.sql"),
    include_str!("../migrations/0004_workflow_rowid.sql"),
    include_str!("../migrations/0005_field_keys.sql"),
    include_str!("../migrations/0006_standard_v1_1.sql"),
    include_str!("../migrations/0007_sentencing_proposal.sql"),
    include_str!("../migrations/0008_graph.sql"),
    include_str!("../migrations/0009_graph_generation.sql"),
];

/// The schema version this program writes: the SQL files, then migration 10
/// ([`cluster::cluster_by_case`]), generated from the tables as they stand.
const SCHEMA_VERSION: usize = MIGRATIONS.len() + 1;

mod cluster;
use cluster::NO_CASE;

/// Pages of write-ahead log after which a commit checkpoints it (~64 MiB).
const AUTO_CHECKPOINT_PAGES: i64 = 16_384;

/// The embedded default store.
pub struct SqliteStore {
    conn: Connection,
    /// Field encryption, once enabled: seals L3/L4 columns on write, opens them on read.
    codec: CodecSlot,
}

impl SqliteStore {
    /// The rows of `entity` whose `key` column is one of `values`: one indexed `IN` read per
    /// block of up to 500 values, dense or scattered, each block ordered by `order`.
    fn rows_where_in(
        &self,
        entity: Entity,
        key: &str,
        values: &[String],
        order: &str,
    ) -> Result<Vec<StoredEntity>> {
        self.rows_where_in_with(entity, key, values, order, true)
    }

    /// [`Self::rows_where_in`]; without `lineage` the column is not read and stays empty (a
    /// null stands in its place, so the row decodes as usual).
    fn rows_where_in_with(
        &self,
        entity: Entity,
        key: &str,
        values: &[String],
        order: &str,
        lineage: bool,
    ) -> Result<Vec<StoredEntity>> {
        let mut cols = read_columns(entity);
        if !lineage {
            cols.remove(1);
        }
        let mut rows = Vec::with_capacity(values.len());
        for block in values.chunks(500) {
            let marks = vec!["?"; block.len()].join(", ");
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT {} FROM {} WHERE {key} IN ({marks}) {order}",
                cols.join(", "),
                table(entity)
            ))?;
            let raws: Vec<Vec<rusqlite::types::Value>> = stmt
                .query_map(params_from_iter(block.iter()), |r| {
                    let mut raw = Vec::with_capacity(cols.len() + 1);
                    for i in 0..cols.len() {
                        raw.push(r.get(i)?);
                        if i == 0 && !lineage {
                            raw.push(rusqlite::types::Value::Null);
                        }
                    }
                    Ok(raw)
                })?
                .collect::<std::result::Result<_, _>>()?;
            for raw in raws {
                rows.push(self.stored_entity(entity, raw)?);
            }
        }
        Ok(rows)
    }

    fn rows_of_cases_with(
        &self,
        entity: Entity,
        cases: &[String],
        lineage: bool,
    ) -> Result<Vec<StoredEntity>> {
        self.reading(|| {
            let key = match entity {
                Entity::Case => "uid",
                e if e.is_dependent() => "case_uid",
                _ => return Ok(Vec::new()),
            };
            self.rows_where_in_with(entity, key, cases, &format!("ORDER BY {key}, uid"), lineage)
        })
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        Self::init(conn)
    }

    /// A read-only connection to an existing database, for a server's pool of readers beside
    /// its one writer. Not memory-mapped: in WAL mode every commit of the writer makes a
    /// reader drop its page cache at its next read, and with a map SQLite also unmaps the
    /// whole file then (one `munmap` and `mmap` of the file, a TLB shootdown across the
    /// server's threads and a page fault per page touched again). A server that commits a
    /// ledger entry per read commits all the time, so pages are read with `pread`.
    pub fn open_reader(path: &Path) -> Result<SqliteStore> {
        use rusqlite::OpenFlags;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        conn.pragma_update(None, "mmap_size", 0_i64)?;
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        Ok(SqliteStore {
            conn,
            codec: CodecSlot::default(),
        })
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<SqliteStore> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<SqliteStore> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Bulk ingest touches indexes all over the file; a page cache of 256 MiB keeps the
        // working set of a provincial load in memory (the default is 2 MiB).
        conn.pragma_update(None, "cache_size", -262_144)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Checkpoint the WAL every ~64 MiB rather than every 4 MiB: hot index pages are copied
        // back once per checkpoint, not once per few batches.
        conn.pragma_update(None, "wal_autocheckpoint", AUTO_CHECKPOINT_PAGES)?;
        // Reads through a memory map rather than a read() copy per page: the exchange reads
        // back what it just wrote, and the copies showed as a fifth of its time in the kernel.
        conn.pragma_update(None, "mmap_size", 1_i64 << 30)?;
        let mut store = SqliteStore {
            conn,
            codec: CodecSlot::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Turns on field encryption with the key files under `data_dir`: the KEK its stored keys
    /// name (a new one on first use) and a data key per sealed column, created if missing.
    pub fn enable_field_encryption(&mut self, data_dir: &Path) -> Result<()> {
        let codec = crate::fieldcrypt::open_codec(&mut self.conn, data_dir)?;
        self.codec = CodecSlot::new(codec, data_dir);
        Ok(())
    }

    /// Field encryption on a read-only connection: the stored keys only (a reader creates none).
    pub fn enable_field_decryption(&mut self, data_dir: &Path) -> Result<()> {
        let suite = crate::fieldcrypt::read_suite(data_dir)?;
        let stored = crate::fieldcrypt::KeyTable::load_keys(&mut self.conn)?;
        if stored.is_empty() {
            return Ok(());
        }
        let kek = crate::fieldcrypt::open_kek(data_dir, suite, &stored)?;
        let codec = FieldCodec::unwrap_all(suite, Box::new(kek), stored)?;
        self.codec = CodecSlot::new(codec, data_dir);
        Ok(())
    }

    /// The codec in use, if field encryption is on.
    pub fn field_codec(&self) -> Option<std::sync::Arc<FieldCodec>> {
        self.codec.get()
    }

    /// Runs a read; when it meets a value under a data key this connection has not loaded
    /// (another process rotated the keys), reloads the stored keys once and runs it again.
    fn reading<T>(&self, read: impl Fn() -> Result<T>) -> Result<T> {
        match read() {
            Err(StoreError::FieldCrypt(e)) if crate::fieldcrypt::is_missing_key(&e) => {
                let stored = crate::fieldcrypt::load_sqlite(&self.conn)?;
                if self.codec.reload(stored)? {
                    read()
                } else {
                    Err(StoreError::FieldCrypt(e))
                }
            }
            other => other,
        }
    }

    /// Starts a key rotation (new KEK, keys re-wrapped, new sealing keys) in one transaction.
    fn start_key_rotation_inherent(&mut self, data_dir: &Path) -> Result<()> {
        let current = self.codec.get().ok_or_else(|| {
            StoreError::Config("field encryption is not enabled on this store".into())
        })?;
        let next = crate::fieldcrypt::start_rotation(&mut self.conn, data_dir, &current)?;
        self.codec.set(next);
        Ok(())
    }

    /// Values of each sealed column not yet under its current key: (table, column, count).
    fn reseal_pending_inherent(&self) -> Result<Vec<(String, String, i64)>> {
        let Some(codec) = self.codec.get() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for c in crate::fieldcrypt::sealed_columns() {
            let n: i64 = self.conn.query_row(
                &format!(
                    "SELECT COUNT(*) FROM {} WHERE {col} IS NOT NULL AND CAST({col} AS TEXT) NOT LIKE ?1",
                    c.table,
                    col = c.column
                ),
                [format!("{}%", codec.current_prefix(&c.table, c.column))],
                |r| r.get(0),
            )?;
            out.push((c.table, c.column.to_string(), n));
        }
        Ok(out)
    }

    /// Reseals up to `limit` values not yet under their column's current key, in one
    /// transaction; returns how many moved (0 when the rotation is complete). Killed at any
    /// point, a rerun continues: each value names its key version, so none is lost or skipped.
    fn reseal_step_inherent(&mut self, limit: usize) -> Result<usize> {
        let Some(codec) = self.codec.get() else {
            return Ok(0);
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut moved = 0;
        for c in crate::fieldcrypt::sealed_columns() {
            if moved >= limit {
                break;
            }
            let pending: Vec<(String, rusqlite::types::Value)> = tx
                .prepare(&format!(
                    "SELECT {row}, {col} FROM {t} WHERE {col} IS NOT NULL AND CAST({col} AS TEXT) NOT LIKE ?1 LIMIT ?2",
                    row = c.row_key,
                    col = c.column,
                    t = c.table
                ))?
                .query_map(
                    params![
                        format!("{}%", codec.current_prefix(&c.table, c.column)),
                        (limit - moved) as i64
                    ],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?
                .collect::<rusqlite::Result<_>>()?;
            let mut update = tx.prepare(&format!(
                "UPDATE {t} SET {col} = ?1 WHERE {row} = ?2 AND {col} = ?3",
                row = c.row_key,
                col = c.column,
                t = c.table
            ))?;
            for (row, value) in pending {
                let text = match &value {
                    rusqlite::types::Value::Text(t) => t.clone(),
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    other => {
                        return Err(StoreError::Corrupt(format!(
                            "{}.{} row {row}: unexpected stored value {other:?}",
                            c.table, c.column
                        )))
                    }
                };
                if let Some(sealed) = codec.reseal(&c.table, c.column, &row, &text)? {
                    update.execute(params![sealed, row, value])?;
                    moved += 1;
                }
            }
        }
        tx.commit()?;
        Ok(moved)
    }

    /// A stored row, read in [`read_columns`] order, as a standard record with its lineage.
    fn stored_entity(
        &self,
        entity: Entity,
        mut raw: Vec<rusqlite::types::Value>,
    ) -> Result<StoredEntity> {
        open_row(
            self.codec.get().as_deref(),
            entity,
            read_columns_of(entity),
            &mut raw,
        )?;
        stored_entity(entity, raw)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?)
    }

    fn migrate(&mut self) -> Result<()> {
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        let current = self.schema_version()? as usize;
        if current > SCHEMA_VERSION {
            return Err(StoreError::Corrupt(format!(
                "database schema version {current} is newer than this program ({SCHEMA_VERSION})"
            )));
        }
        for i in current..SCHEMA_VERSION {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            match MIGRATIONS.get(i) {
                Some(sql) => tx.execute_batch(sql)?,
                None => cluster::cluster_by_case(&tx)?,
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, datetime('now'))",
                [i as i64 + 1],
            )?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Column names of a table, in order (for schema checks).
    pub fn columns(&self, table_name: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare(&format!("PRAGMA table_info({table_name})"))?;
        let cols = stmt.query_map([], |r| r.get::<_, String>(1))?;
        Ok(cols.collect::<std::result::Result<_, _>>()?)
    }
}

/// The two statements that write an entity row: a plain insert (`?1`… are uid, [case_uid,
/// person_uid,] fields, lineage, run_id), ignored when the uid exists, and a merge that keeps
/// stored values, fills gaps, keeps each field's first lineage and bumps the version. Most
/// writes are inserts, which need no read-back; only a merge is read back for its hash.
/// The columns a write binds, in order: [`crate::write_columns`], lineage, run id.
fn write_names(entity: Entity) -> Vec<String> {
    let mut names = crate::write_columns(entity);
    names.extend(["lineage".into(), "run_id".into()]);
    names
}

fn write_sql(entity: Entity) -> (String, String) {
    let t = table(entity);
    let cols = crate::write_columns(entity);
    // A dependent row without a case goes under the empty case (see `cluster`).
    let placeholders: Vec<String> = (1..=cols.len() + 2)
        .map(|i| match cols.get(i - 1).map(String::as_str) {
            Some("case_uid") => format!("COALESCE(?{i}, '{NO_CASE}')"),
            _ => format!("?{i}"),
        })
        .collect();
    let insert = format!(
        "INSERT OR IGNORE INTO {t} ({}, lineage, run_id, version) VALUES ({}, 1)",
        cols.join(", "),
        placeholders.join(", ")
    );
    let updates: Vec<String> = cols[1..]
        .iter()
        .enumerate()
        .map(|(i, c)| match c.as_str() {
            "case_uid" => format!(
                "case_uid = COALESCE(NULLIF(case_uid, '{NO_CASE}'), ?{}, '{NO_CASE}')",
                i + 2
            ),
            _ => format!("{c} = COALESCE({c}, ?{})", i + 2),
        })
        .collect();
    let n = cols.len();
    let merge = format!(
        "UPDATE {t} SET {}, lineage = json_patch(?{}, lineage), run_id = ?{}, version = version + 1 WHERE uid = ?1 RETURNING version",
        updates.join(", "),
        n + 1,
        n + 2
    );
    (insert, merge)
}

/// A whole stored row as written: the empty case is the null the write was given, so the
/// content hash is the one the ledger recorded.
fn no_case_as_null(names: &[String], values: &mut [rusqlite::types::Value]) {
    if let Some(at) = names.iter().position(|n| n == "case_uid") {
        if matches!(&values[at], rusqlite::types::Value::Text(t) if t == NO_CASE) {
            values[at] = rusqlite::types::Value::Null;
        }
    }
}

/// The stored values as the backend-neutral cells of the content hash.
fn cells(values: &[rusqlite::types::Value]) -> impl Iterator<Item = Cell<'_>> {
    use rusqlite::types::Value as V;
    values.iter().map(|v| match v {
        V::Null => Cell::Null,
        V::Integer(n) => Cell::Int(*n),
        V::Real(f) => Cell::Real(*f),
        V::Text(t) => Cell::Text(t),
        V::Blob(b) => Cell::Blob(b),
    })
}

/// The table's column names in table order, cached per batch.
fn column_names<'a>(
    tx: &rusqlite::Transaction<'_>,
    entity: Entity,
    cache: &'a mut BTreeMap<Entity, Vec<String>>,
) -> Result<&'a Vec<String>> {
    if let std::collections::btree_map::Entry::Vacant(slot) = cache.entry(entity) {
        let stmt = tx.prepare_cached(&format!("SELECT * FROM {} LIMIT 0", table(entity)))?;
        slot.insert(stmt.column_names().iter().map(|c| c.to_string()).collect());
    }
    cache
        .get(&entity)
        .ok_or_else(|| StoreError::Corrupt(format!("no columns for {}", entity.name())))
}

/// Appends entries inside an open transaction, numbering them from the current log length.
fn append_in_tx(tx: &rusqlite::Transaction<'_>, events: Vec<LedgerEvent>) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let first: i64 = tx.query_row(
        "SELECT COALESCE(MAX(seq) + 1, 0) FROM ledger_entry",
        [],
        |r| r.get(0),
    )?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO ledger_entry (seq, kind, entity, uid, body, body_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (seq, e) in (first..).zip(events) {
        let r = render(seq, e);
        stmt.execute(params![
            r.seq,
            r.kind,
            r.entity,
            r.uid,
            r.body,
            r.body_sha256
        ])?;
    }
    Ok(())
}

fn sql_value(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Money(n) | Value::Int(n) => rusqlite::types::Value::Integer(*n),
        other => rusqlite::types::Value::Text(other.canonical()),
    }
}

fn parse_value(ty: FieldType, v: rusqlite::types::Value) -> Result<Option<Value>> {
    Ok(match v {
        rusqlite::types::Value::Null => None,
        rusqlite::types::Value::Integer(n) => Some(match ty {
            FieldType::Money => Value::Money(n),
            _ => Value::Int(n),
        }),
        rusqlite::types::Value::Text(s) => Some(
            Value::from_canonical(ty, &s)
                .ok_or_else(|| StoreError::Corrupt(format!("value `{s}` does not fit {ty:?}")))?,
        ),
        other => {
            return Err(StoreError::Corrupt(format!(
                "unexpected stored value {other:?}"
            )))
        }
    })
}

fn quarantine_from_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(QuarantineEntry, String, String)> {
    Ok((
        QuarantineEntry {
            id: r.get(0)?,
            source_record_id: r.get(1)?,
            run_id: r.get(2)?,
            source: r.get(3)?,
            file: r.get(4)?,
            record_no: r.get(5)?,
            line: r.get(6)?,
            raw: Vec::new(),
            reasons: Vec::new(),
            status: r.get(9)?,
            resolved_run_id: r.get(10)?,
        },
        r.get(7)?,
        r.get(8)?,
    ))
}

const QUARANTINE_COLS: &str =
    "id, source_record_id, run_id, source, file, record_no, line, raw, reasons, status, resolved_run_id";

fn finish_quarantine(
    codec: Option<&FieldCodec>,
    rows: Vec<(QuarantineEntry, String, String)>,
) -> Result<Vec<QuarantineEntry>> {
    rows.into_iter()
        .map(|(mut q, raw, reasons)| {
            let row = q.source_record_id.to_string();
            q.raw = serde_json::from_str(&open_text(codec, "quarantine", "raw", &row, raw)?)?;
            q.reasons =
                serde_json::from_str(&open_text(codec, "quarantine", "reasons", &row, reasons)?)?;
            Ok(q)
        })
        .collect()
}

impl Store for SqliteStore {
    fn begin_snapshot(&self) -> Result<()> {
        // Cached statements: a server begins and ends a snapshot per request.
        self.conn.prepare_cached("BEGIN DEFERRED")?.execute([])?;
        Ok(())
    }

    fn end_snapshot(&self) -> Result<()> {
        // Nothing was written; ending the transaction releases the snapshot.
        if !self.conn.is_autocommit() {
            self.conn.prepare_cached("ROLLBACK")?.execute([])?;
        }
        Ok(())
    }

    fn set_auto_checkpoint(&self, on: bool) -> Result<()> {
        let pages: i64 = if on { AUTO_CHECKPOINT_PAGES } else { 0 };
        self.conn.pragma_update(None, "wal_autocheckpoint", pages)?;
        Ok(())
    }

    fn checkpoint(&self, restart: bool) -> Result<(i64, i64)> {
        // PASSIVE never waits and never blocks the writer. RESTART holds new writers off
        // while it copies what is left and syncs, and waits (busy timeout) for readers of
        // the log to finish. The row is (busy, frames in the log, frames checkpointed).
        let sql = if restart {
            "PRAGMA wal_checkpoint(RESTART)"
        } else {
            "PRAGMA wal_checkpoint(PASSIVE)"
        };
        Ok(self
            .conn
            .query_row(sql, [], |r| Ok((r.get(1)?, r.get(2)?)))?)
    }

    fn begin_run(&mut self, run: &NewRun) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO ingest_run (kind, source, file, mapping, started_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![run.kind, run.source, run.file, run.mapping, run.started_at],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn write_batch(&mut self, run_id: i64, batch: &Batch) -> Result<()> {
        // A rotation by another process since the last batch: seal under its new keys.
        if self.codec.get().is_some() {
            self.codec
                .reload(crate::fieldcrypt::load_sqlite(&self.conn)?)?;
        }
        // Immediate: the replay check and the writes see the same state, and the write lock is
        // taken (or waited for) up front: a deferred transaction that reads first fails at once
        // with SQLITE_BUSY when another connection has written since its read.
        let codec = self.codec.get();
        let codec = codec.as_deref();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let (Some(lo), Some(hi)) = (
            batch.source_records.iter().map(|s| s.id).min(),
            batch.source_records.iter().map(|s| s.id).max(),
        ) {
            let ids: std::collections::BTreeSet<i64> =
                batch.source_records.iter().map(|s| s.id).collect();
            let mut stmt = tx.prepare_cached(
                "SELECT id, sha256 FROM source_record WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
            )?;
            let stored = stmt
                .query_map(params![lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))?
                .filter(|r| r.as_ref().map_or(true, |(id, _)| ids.contains(id)))
                .collect::<rusqlite::Result<Vec<(i64, String)>>>()?;
            drop(stmt);
            if already_stored(batch, &stored)? {
                return Ok(());
            }
        }
        let mut events = Vec::with_capacity(batch.entities.len() + batch.quarantine.len());
        let mut columns: BTreeMap<Entity, Vec<String>> = BTreeMap::new();
        let mut written = WrittenRows::new(run_id);
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO source_record (id, run_id, source, file, record_no, line, sha256, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for s in &batch.source_records {
                stmt.execute(params![
                    s.id,
                    run_id,
                    s.source,
                    s.file,
                    s.record_no,
                    s.line,
                    s.sha256,
                    s.outcome.as_str()
                ])?;
            }
            let mut sqls: BTreeMap<Entity, (String, String)> = BTreeMap::new();
            for row in &batch.entities {
                let entity = row.record.entity;
                let (insert_sql, merge_sql) =
                    sqls.entry(entity).or_insert_with(|| write_sql(entity));
                let mut values: Vec<rusqlite::types::Value> = vec![row.uid.clone().into()];
                if entity.is_dependent() {
                    values.push(row.case_uid.clone().into());
                    values.push(row.person_uid.clone().into());
                }
                let mut lineage = serde_json::Map::new();
                for f in entity.fields() {
                    match row.record.get(f.name) {
                        Some(v) => {
                            values.push(sql_value(v));
                            lineage.insert(f.name.to_string(), row.source_record_id.into());
                        }
                        None => values.push(rusqlite::types::Value::Null),
                    }
                }
                values.push(serde_json::Value::Object(lineage).to_string().into());
                values.push(run_id.into());
                // The hash commits to the plaintext; only the bound copy is sealed.
                let mut bound = values.clone();
                seal_row(codec, entity, &write_names(entity), &mut bound)?;
                let inserted = tx
                    .prepare_cached(insert_sql)?
                    .execute(params_from_iter(bound.iter()))?
                    == 1;
                let version: i64 = if inserted {
                    1
                } else {
                    tx.prepare_cached(merge_sql)?
                        .query_row(params_from_iter(bound.iter()), |r| r.get(0))?
                };
                // A fresh insert stored exactly the bound values; a merge stored something
                // else, read back so the entry commits to what is really there.
                let names = column_names(&tx, entity, &mut columns)?;
                let content = if version == 1 {
                    values.push(rusqlite::types::Value::Integer(1));
                    content_sha256(entity, names, cells(&values))
                } else {
                    let mut read = tx.prepare_cached(&format!(
                        "SELECT * FROM {} WHERE uid = ?1",
                        table(entity)
                    ))?;
                    let mut stored: Vec<rusqlite::types::Value> = read
                        .query_row([&row.uid], |r| (0..names.len()).map(|i| r.get(i)).collect())?;
                    open_row(codec, entity, names, &mut stored)?;
                    no_case_as_null(names, &mut stored);
                    content_sha256(entity, names, cells(&stored))
                };
                // One entry per source record, naming every row it wrote.
                written.push(
                    &mut events,
                    row.source_record_id,
                    entity,
                    &row.uid,
                    version,
                    content,
                );
            }
            written.finish(&mut events);
            let mut stmt = tx.prepare_cached(
                "INSERT INTO record_issue (source_record_id, field, rule, severity, value) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (id, r) in &batch.issues {
                let value = match &r.value {
                    Some(v) => Some(seal_text(
                        codec,
                        "record_issue",
                        "value",
                        &format!("{id}|{}", r.field),
                        v.clone(),
                    )?),
                    None => None,
                };
                stmt.execute(params![id, r.field, r.rule, r.severity, value])?;
            }
            let mut stmt = tx.prepare_cached(
                "INSERT INTO quarantine (source_record_id, run_id, source, file, record_no, line, raw, reasons, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open')",
            )?;
            for q in &batch.quarantine {
                events.push(record_quarantined(q, run_id));
                let (raw, reasons) = seal_quarantine(codec, q)?;
                stmt.execute(params![
                    q.source_record_id,
                    run_id,
                    q.source,
                    q.file,
                    q.record_no,
                    q.line,
                    raw,
                    reasons
                ])?;
            }
            for id in &batch.resolved {
                events.push(quarantine_resolved(*id, run_id));
                let changed = tx.execute(
                    "UPDATE quarantine SET status = 'resolved', resolved_run_id = ?2 WHERE id = ?1 AND status = 'open'",
                    params![id, run_id],
                )?;
                if changed != 1 {
                    return Err(StoreError::Corrupt(format!(
                        "quarantine entry {id} is not open"
                    )));
                }
                tx.execute(
                    "UPDATE source_record SET outcome = 'accepted' WHERE id = (SELECT source_record_id FROM quarantine WHERE id = ?1)",
                    [id],
                )?;
            }
            let mut stmt = tx.prepare_cached(
                "INSERT INTO entity_link (entity, uid, source_record_id, rule, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for l in &batch.links {
                let detail = seal_text(
                    codec,
                    "entity_link",
                    "detail",
                    &format!("{}|{}|{}", l.source_record_id, l.entity.name(), l.uid),
                    l.detail.clone(),
                )?;
                stmt.execute(params![
                    l.entity.name(),
                    l.uid,
                    l.source_record_id,
                    l.rule,
                    detail
                ])?;
            }
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO person_key (key, person_uid) VALUES (?1, ?2)",
            )?;
            // Blinded here whatever the caller sent: no ID number reaches the key table.
            let blinder = codec.map_or_else(KeyBlinder::none, |c| c.blinder());
            for (k, uid) in &batch.person_keys {
                stmt.execute(params![blinder.blind(k), uid])?;
            }
            let mut stmt = tx
                .prepare_cached("INSERT OR IGNORE INTO case_key (key, case_uid) VALUES (?1, ?2)")?;
            for (k, uid) in &batch.case_keys {
                stmt.execute(params![k, uid])?;
            }
        }
        events.extend(batch.events.iter().cloned());
        events.extend(batch.workflow.iter().flat_map(|w| w.events.iter().cloned()));
        append_in_tx(&tx, events)?;
        if !batch.workflow.is_empty() {
            let seq: Option<i64> =
                tx.query_row("SELECT MAX(seq) FROM ledger_entry", [], |r| r.get(0))?;
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO workflow_item (kind, id, body, updated_seq) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for w in &batch.workflow {
                stmt.execute(params![w.kind, w.id, w.body, seq])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn finish_run(
        &mut self,
        run_id: i64,
        finished_at: &str,
        c: &RunCounts,
        quality: &str,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE ingest_run SET finished_at = ?2, records_read = ?3, accepted = ?4, quarantined = ?5, repaired = ?6, duplicates = ?7, quality = ?8 WHERE run_id = ?1",
            params![run_id, finished_at, c.records_read, c.accepted, c.quarantined, c.repaired, c.duplicates, quality],
        )?;
        Ok(())
    }

    fn runs(&self) -> Result<Vec<RunRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT run_id, kind, source, file, mapping, started_at, finished_at, records_read, accepted, quarantined, repaired, duplicates, quality FROM ingest_run ORDER BY run_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RunRow {
                run_id: r.get(0)?,
                kind: r.get(1)?,
                source: r.get(2)?,
                file: r.get(3)?,
                mapping: r.get(4)?,
                started_at: r.get(5)?,
                finished_at: r.get(6)?,
                counts: RunCounts {
                    records_read: r.get(7)?,
                    accepted: r.get(8)?,
                    quarantined: r.get(9)?,
                    repaired: r.get(10)?,
                    duplicates: r.get(11)?,
                },
                quality: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn next_ids(&self) -> Result<IdCounters> {
        let q = |sql: &str| -> Result<i64> { Ok(self.conn.query_row(sql, [], |r| r.get(0))?) };
        Ok(IdCounters {
            source_record: q("SELECT COALESCE(MAX(id), 0) FROM source_record")?,
            person: q("SELECT COALESCE(MAX(CAST(SUBSTR(uid, 2) AS INTEGER)), 0) FROM std_person")?,
            case: q("SELECT COALESCE(MAX(CAST(SUBSTR(uid, 2) AS INTEGER)), 0) FROM std_case")?,
        })
    }

    fn load_keys(&self) -> Result<ResolutionKeys> {
        let load = |sql: &str| -> Result<Vec<(String, String)>> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        };
        Ok((
            load("SELECT key, person_uid FROM person_key ORDER BY key, person_uid")?,
            load("SELECT key, case_uid FROM case_key ORDER BY key")?,
        ))
    }

    fn count(&self, entity: Entity) -> Result<i64> {
        Ok(self.conn.query_row(
            &format!("SELECT COUNT(*) FROM {}", table(entity)),
            [],
            |r| r.get(0),
        )?)
    }

    fn uids(&self, entity: Entity, after: &str, limit: usize) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT uid FROM {} WHERE uid > ?1 ORDER BY uid LIMIT ?2",
            table(entity)
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(rusqlite::params![after, limit], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn get(&self, entity: Entity, uid: &str) -> Result<Option<StoredEntity>> {
        self.reading(|| {
            let cols = read_columns(entity);
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT {} FROM {} WHERE uid = ?1",
                cols.join(", "),
                table(entity)
            ))?;
            let raw: Option<Vec<rusqlite::types::Value>> = stmt
                .query_row([uid], |r| (0..cols.len()).map(|i| r.get(i)).collect())
                .optional()?;
            raw.map(|raw| self.stored_entity(entity, raw)).transpose()
        })
    }

    fn get_many(&self, entity: Entity, uids: &[String]) -> Result<Vec<StoredEntity>> {
        self.reading(|| self.rows_where_in(entity, "uid", uids, ""))
    }

    fn rows_of_case(&self, entity: Entity, case_uid: &str) -> Result<Vec<StoredEntity>> {
        self.reading(|| {
            // `''` stores "no case" and is no case's uid.
            if !entity.is_dependent() || case_uid == NO_CASE {
                return Ok(Vec::new());
            }
            // One query per entity and case: the supervision engine reads every case this way.
            let cols = read_columns(entity);
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT {} FROM {} WHERE case_uid = ?1 ORDER BY uid",
                cols.join(", "),
                table(entity)
            ))?;
            let raws: Vec<Vec<rusqlite::types::Value>> = stmt
                .query_map([case_uid], |r| (0..cols.len()).map(|i| r.get(i)).collect())?
                .collect::<std::result::Result<_, _>>()?;
            raws.into_iter()
                .map(|raw| self.stored_entity(entity, raw))
                .collect()
        })
    }

    fn rows_of_cases(&self, entity: Entity, cases: &[String]) -> Result<Vec<StoredEntity>> {
        self.rows_of_cases_with(entity, cases, true)
    }

    fn rows_of_cases_without_lineage(
        &self,
        entity: Entity,
        cases: &[String],
    ) -> Result<Vec<StoredEntity>> {
        self.rows_of_cases_with(entity, cases, false)
    }

    fn field_fill(&self, entity: Entity) -> Result<Vec<(&'static str, i64)>> {
        let exprs: Vec<String> = entity
            .fields()
            .iter()
            .map(|f| format!("COUNT({})", f.name))
            .collect();
        let sql = format!("SELECT {} FROM {}", exprs.join(", "), table(entity));
        let counts: Vec<i64> = self
            .conn
            .query_row(&sql, [], |r| (0..exprs.len()).map(|i| r.get(i)).collect())?;
        Ok(entity.fields().iter().map(|f| f.name).zip(counts).collect())
    }

    fn link_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT entity, rule, COUNT(*) FROM entity_link GROUP BY entity, rule ORDER BY entity, rule")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn links_of(&self, entity: Entity, uid: &str) -> Result<Vec<LinkRow>> {
        self.reading(|| {
            let mut stmt = self.conn.prepare(
                "SELECT source_record_id, rule, detail FROM entity_link WHERE entity = ?1 AND uid = ?2 ORDER BY rowid",
            )?;
            let rows = stmt.query_map(params![entity.name(), uid], |r| {
                Ok(LinkRow {
                    entity,
                    uid: uid.to_string(),
                    source_record_id: r.get(0)?,
                    rule: r.get(1)?,
                    detail: r.get(2)?,
                })
            })?;
            let mut out: Vec<LinkRow> = rows.collect::<std::result::Result<_, _>>()?;
            for l in &mut out {
                let row = format!("{}|{}|{}", l.source_record_id, entity.name(), l.uid);
                l.detail = open_text(
                    self.codec.get().as_deref(),
                    "entity_link",
                    "detail",
                    &row,
                    std::mem::take(&mut l.detail),
                )?;
            }
            Ok(out)
        })
    }

    fn quarantine_list(&self, status: Option<&str>, limit: usize) -> Result<Vec<QuarantineEntry>> {
        self.reading(|| {
            let sql = format!(
                "SELECT {QUARANTINE_COLS} FROM quarantine WHERE (?1 IS NULL OR status = ?1) ORDER BY id LIMIT ?2"
            );
            let mut stmt = self.conn.prepare(&sql)?;
            let rows = stmt.query_map(params![status, limit as i64], quarantine_from_row)?;
            finish_quarantine(
                self.codec.get().as_deref(),
                rows.collect::<std::result::Result<_, _>>()?,
            )
        })
    }

    fn quarantine_get(&self, id: i64) -> Result<Option<QuarantineEntry>> {
        self.reading(|| {
            let sql = format!("SELECT {QUARANTINE_COLS} FROM quarantine WHERE id = ?1");
            let row = self
                .conn
                .query_row(&sql, [id], quarantine_from_row)
                .optional()?;
            Ok(finish_quarantine(self.codec.get().as_deref(), row.into_iter().collect())?.pop())
        })
    }

    fn quarantine_by_rule(&self) -> Result<Vec<(String, i64)>> {
        // Counted here, not in SQL: the reasons are sealed.
        Ok(crate::count_by_rule(
            &self.quarantine_list(Some("open"), usize::MAX)?,
        ))
    }

    fn source_outcomes(&self) -> Result<Vec<(String, String, i64, i64)>> {
        let mut stmt = self.conn.prepare(
            "SELECT source, file, SUM(outcome = 'accepted'), SUM(outcome = 'quarantined') FROM source_record GROUP BY source, file ORDER BY source, file",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn append_events(&mut self, events: &[LedgerEvent]) -> Result<()> {
        // Immediate, like every write here: a deferred transaction that has read cannot wait
        // for the write lock (SQLite answers SQLITE_BUSY at once, without the busy timeout),
        // so another writer or a restarting checkpoint would fail the append.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        append_in_tx(&tx, events.to_vec())?;
        tx.commit()?;
        Ok(())
    }

    fn ledger_len(&self) -> Result<i64> {
        Ok(self
            .conn
            // Entries are numbered 0, 1, 2 … without gaps (appends take MAX + 1), so the
            // length is the last number plus one: an index lookup, not a count of every row.
            .prepare_cached("SELECT COALESCE(MAX(seq) + 1, 0) FROM ledger_entry")?
            .query_row([], |r| r.get(0))?)
    }

    fn ledger_entries(&self, from: i64, limit: i64) -> Result<Vec<LedgerRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, kind, entity, uid, body, body_sha256 FROM ledger_entry WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![from, limit], |r| {
            Ok(LedgerRow {
                seq: r.get(0)?,
                kind: r.get(1)?,
                entity: r.get(2)?,
                uid: r.get(3)?,
                body: r.get(4)?,
                body_sha256: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn ledger_entries_of_kind(&self, kind: &str, from: i64, to: i64) -> Result<Vec<LedgerRow>> {
        // A range of the rowid; `kind` sits before the body in the record, so rows of other
        // kinds are passed over without reading their bodies.
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, kind, entity, uid, body, body_sha256 FROM ledger_entry WHERE seq >= ?1 AND seq < ?2 AND kind = ?3 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![from, to, kind], |r| {
            Ok(LedgerRow {
                seq: r.get(0)?,
                kind: r.get(1)?,
                entity: r.get(2)?,
                uid: r.get(3)?,
                body: r.get(4)?,
                body_sha256: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn put_checkpoint(
        &mut self,
        size: i64,
        note: &str,
        created_at: &str,
        peaks: &[u8],
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR REPLACE INTO ledger_checkpoint (size, note, created_at) VALUES (?1, ?2, ?3)",
            params![size, note, created_at],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO ledger_state (id, size, peaks) VALUES (1, ?1, ?2)",
            params![size, peaks],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn checkpoints(&self) -> Result<Vec<(i64, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT size, note FROM ledger_checkpoint ORDER BY size")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn checkpoint_times(&self) -> Result<Vec<(i64, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT size, created_at FROM ledger_checkpoint ORDER BY size")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn archive_ledger_bodies(&mut self, stubs: &[(i64, String)]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare(
                "UPDATE ledger_entry SET body = ?2 WHERE seq = ?1 AND body NOT LIKE '{\"archived\":%'",
            )?;
            for (seq, stub) in stubs {
                stmt.execute(params![seq, stub])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn ledger_state(&self) -> Result<Option<(i64, Vec<u8>)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT size, peaks FROM ledger_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn key_blinder(&self) -> KeyBlinder {
        crate::sealing::blinder(&self.codec)
    }

    fn seal_file(&self, name: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        crate::sealing::seal_file(&self.codec, name, bytes)
    }

    fn open_file(&self, name: &str, stored: &[u8]) -> Result<Vec<u8>> {
        crate::sealing::open_file(&self.codec, name, stored)
    }

    fn field_encryption(&self) -> Option<(xiezhi_crypto::Suite, u32, String)> {
        crate::sealing::info(&self.codec)
    }

    fn start_key_rotation(&mut self, data_dir: &Path) -> Result<()> {
        self.start_key_rotation_inherent(data_dir)
    }

    fn reseal_pending(&self) -> Result<Vec<(String, String, i64)>> {
        self.reseal_pending_inherent()
    }

    fn reseal_step(&mut self, limit: usize) -> Result<usize> {
        self.reseal_step_inherent(limit)
    }

    fn row_hashes(&self, entity: Entity) -> Result<Vec<(String, String)>> {
        // Keys added by another process since this connection loaded its own.
        self.codec
            .reload(crate::fieldcrypt::load_sqlite(&self.conn)?)?;
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT * FROM {} ORDER BY uid", table(entity)))?;
        let names: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let rows = stmt.query_map([], |r| {
            (0..names.len())
                .map(|i| r.get::<_, rusqlite::types::Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let mut out = Vec::new();
        for row in rows {
            let mut row = row?;
            // A value that does not open keeps its stored form: the hash then differs from
            // the ledger's and verification names the row.
            let mut opened = row.clone();
            if open_row(self.codec.get().as_deref(), entity, &names, &mut opened).is_ok() {
                row = opened;
            }
            no_case_as_null(&names, &mut row);
            let uid = match &row[0] {
                rusqlite::types::Value::Text(t) => t.clone(),
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "uid of {} is {other:?}",
                        entity.name()
                    )))
                }
            };
            out.push((uid, content_sha256(entity, &names, cells(&row))));
        }
        Ok(out)
    }

    fn put_workflow_item(
        &mut self,
        kind: &str,
        id: &str,
        body: &str,
        events: &[LedgerEvent],
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        append_in_tx(&tx, events.to_vec())?;
        let seq: Option<i64> =
            tx.query_row("SELECT MAX(seq) FROM ledger_entry", [], |r| r.get(0))?;
        tx.execute(
            "INSERT OR REPLACE INTO workflow_item (kind, id, body, updated_seq) VALUES (?1, ?2, ?3, ?4)",
            params![kind, id, body, seq],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn put_workflow_items(&mut self, writes: &[WorkflowWrite]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for w in writes {
            append_in_tx(&tx, w.events.clone())?;
            let seq: Option<i64> =
                tx.query_row("SELECT MAX(seq) FROM ledger_entry", [], |r| r.get(0))?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO workflow_item (kind, id, body, updated_seq) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![w.kind, w.id, w.body, seq])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn graph_write(&mut self, graph: &str, nodes: &[GraphNode], edges: &[GraphEdge]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let graph = &graph_rows_for_write(&tx, graph)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO graph_node (graph, node, kind, key, case_uid, source_record_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for n in nodes {
                stmt.execute(params![
                    graph,
                    n.node,
                    n.kind,
                    n.key,
                    n.case_uid,
                    n.source_record_id
                ])?;
            }
            let mut stmt = tx.prepare_cached(
                "INSERT INTO graph_edge (graph, seq, from_node, to_node, kind, date, case_uid, field, \
                 detail, source_entity, source_uid, source_record_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for e in edges {
                stmt.execute(params![
                    graph,
                    e.seq,
                    e.from,
                    e.to,
                    e.kind,
                    e.date,
                    e.case_uid,
                    e.field,
                    e.detail,
                    e.source_entity,
                    e.source_uid,
                    e.source_record_id
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn graph_publish(&mut self, staging: &str, graph: &str, events: &[LedgerEvent]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // The name moves to the staging rows; the old rows go. No staging row is rewritten.
        if let Some(live) = graph_rows(&tx, graph)? {
            for t in ["graph_node", "graph_edge"] {
                tx.execute(&format!("DELETE FROM {t} WHERE graph = ?1"), params![live])?;
            }
        }
        tx.execute(
            "DELETE FROM graph_generation WHERE name = ?1",
            params![graph],
        )?;
        tx.execute(
            "UPDATE graph_generation SET name = ?1 WHERE name = ?2",
            params![graph, staging],
        )?;
        append_in_tx(&tx, events.to_vec())?;
        tx.commit()?;
        Ok(())
    }

    fn graph_clear(&mut self, graph: &str) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(stored) = graph_rows(&tx, graph)? {
            for t in ["graph_node", "graph_edge"] {
                tx.execute(
                    &format!("DELETE FROM {t} WHERE graph = ?1"),
                    params![stored],
                )?;
            }
        }
        tx.execute(
            "DELETE FROM graph_generation WHERE name = ?1",
            params![graph],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn graph_nodes(&self, graph: &str, nodes: &[String]) -> Result<Vec<GraphNode>> {
        let ids = serde_json::to_string(nodes)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT node, kind, key, case_uid, source_record_id FROM graph_node \
             WHERE graph = (SELECT stored_as FROM graph_generation WHERE name = ?1) \
             AND node IN (SELECT value FROM json_each(?2))",
        )?;
        let rows = stmt.query_map(params![graph, ids], graph_node_of)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn graph_edges_of(&self, graph: &str, nodes: &[String]) -> Result<Vec<GraphEdge>> {
        let ids = serde_json::to_string(nodes)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, from_node, to_node, kind, date, case_uid, field, detail, source_entity, \
             source_uid, source_record_id FROM graph_edge WHERE graph = ?1 AND seq IN ( \
             SELECT seq FROM graph_edge WHERE graph = ?1 AND from_node IN (SELECT value FROM json_each(?2)) \
             UNION SELECT seq FROM graph_edge WHERE graph = ?1 AND to_node IN (SELECT value FROM json_each(?2))) \
             ORDER BY seq",
        )?;
        let Some(stored) = graph_rows(&self.conn, graph)? else {
            return Ok(Vec::new());
        };
        let rows = stmt.query_map(params![stored, ids], graph_edge_of)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn graph_nodes_after(&self, graph: &str, after: &str, limit: usize) -> Result<Vec<GraphNode>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT node, kind, key, case_uid, source_record_id FROM graph_node \
             WHERE graph = (SELECT stored_as FROM graph_generation WHERE name = ?1) \
             AND node > ?2 ORDER BY node LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![graph, after, limit as i64], graph_node_of)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn graph_edges_after(&self, graph: &str, after: i64, limit: usize) -> Result<Vec<GraphEdge>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, from_node, to_node, kind, date, case_uid, field, detail, source_entity, \
             source_uid, source_record_id FROM graph_edge \
             WHERE graph = (SELECT stored_as FROM graph_generation WHERE name = ?1) \
             AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![graph, after, limit as i64], graph_edge_of)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn workflow_item(&self, kind: &str, id: &str) -> Result<Option<String>> {
        // Cached: the exchange reads several items per transfer.
        Ok(self
            .conn
            .prepare_cached("SELECT body FROM workflow_item WHERE kind = ?1 AND id = ?2")?
            .query_row(params![kind, id], |r| r.get(0))
            .optional()?)
    }

    fn workflow_items(&self, kind: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, body FROM workflow_item WHERE kind = ?1 ORDER BY id")?;
        let rows = stmt.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn workflow_items_after(
        &self,
        kind: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, body FROM workflow_item WHERE kind = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![kind, after, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn source_record(&self, id: i64) -> Result<Option<SourceRecordRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, source, file, record_no, line, sha256, outcome FROM source_record WHERE id = ?1",
                [id],
                |r| {
                    let outcome: String = r.get(6)?;
                    Ok(SourceRecordRow {
                        id: r.get(0)?,
                        source: r.get(1)?,
                        file: r.get(2)?,
                        record_no: r.get(3)?,
                        line: r.get(4)?,
                        sha256: r.get(5)?,
                        outcome: if outcome == "accepted" { Outcome::Accepted } else { Outcome::Quarantined },
                    })
                },
            )
            .optional()?)
    }
}

/// Seals the sealed fields of an entity row's bound values in place; `names` are the
/// columns of `values`.
fn seal_row<N: AsRef<str>>(
    codec: Option<&FieldCodec>,
    entity: Entity,
    names: &[N],
    values: &mut [rusqlite::types::Value],
) -> Result<()> {
    use rusqlite::types::Value as V;
    let Some(codec) = codec else {
        return Ok(());
    };
    let t = table(entity);
    let uid = match values.first() {
        Some(V::Text(u)) => u.clone(),
        _ => return Err(StoreError::Corrupt(format!("row of {t} without a uid"))),
    };
    for (name, v) in names.iter().zip(values.iter_mut()) {
        if !crate::fieldcrypt::is_sealed_field(entity, name.as_ref()) {
            continue;
        }
        let plain = match v {
            V::Null => continue,
            V::Integer(n) => n.to_string(),
            V::Text(s) => std::mem::take(s),
            other => {
                return Err(StoreError::Corrupt(format!(
                    "{t}.{} row {uid}: unexpected value {other:?}",
                    name.as_ref()
                )))
            }
        };
        *v = V::Text(codec.seal(&t, name.as_ref(), &uid, &plain)?);
    }
    Ok(())
}

/// Opens the sealed fields of a stored entity row in place, integers back to integers, so
/// the row reads (and hashes) as it was written.
fn open_row<N: AsRef<str>>(
    codec: Option<&FieldCodec>,
    entity: Entity,
    names: &[N],
    values: &mut [rusqlite::types::Value],
) -> Result<()> {
    use rusqlite::types::Value as V;
    // Most rows hold nothing sealed: look before naming the table or copying the uid.
    let sealed = values
        .iter()
        .any(|v| matches!(v, V::Text(s) if s.starts_with(crate::fieldcrypt::SEALED_PREFIX)));
    if !sealed {
        return Ok(());
    }
    let t = table(entity);
    let uid = match values.first() {
        Some(V::Text(u)) => u.clone(),
        _ => return Err(StoreError::Corrupt(format!("row of {t} without a uid"))),
    };
    for (name, v) in names.iter().zip(values.iter_mut()) {
        let V::Text(stored) = v else { continue };
        if !stored.starts_with(crate::fieldcrypt::SEALED_PREFIX) {
            continue;
        }
        let Some(f) = entity.fields().iter().find(|f| f.name == name.as_ref()) else {
            continue;
        };
        let plain = open_text(codec, &t, f.name, &uid, std::mem::take(stored))?;
        *v = if f.ty.is_integer() {
            V::Integer(plain.parse().map_err(|_| {
                StoreError::Corrupt(format!(
                    "{t}.{} row {uid}: `{plain}` is not a number",
                    f.name
                ))
            })?)
        } else {
            V::Text(plain)
        };
    }
    Ok(())
}

/// [`read_columns`], built once per entity: every row read goes through it.
fn read_columns_of(entity: Entity) -> &'static [&'static str] {
    static COLUMNS: std::sync::OnceLock<Vec<Vec<&'static str>>> = std::sync::OnceLock::new();
    let all = COLUMNS.get_or_init(|| Entity::ALL.iter().map(|e| read_columns(*e)).collect());
    Entity::ALL
        .iter()
        .position(|e| *e == entity)
        .and_then(|i| all.get(i))
        .map_or(&[], Vec::as_slice)
}

/// The columns `get` and `rows_of_case` read: uid, lineage, (case, person,) then the fields.
/// The empty case reads as none. (No alias: `ORDER BY case_uid` must name the key column.)
fn read_columns(entity: Entity) -> Vec<&'static str> {
    let mut cols = vec!["uid", "lineage"];
    if entity.is_dependent() {
        cols.extend(["NULLIF(case_uid, '')", "person_uid"]);
    }
    cols.extend(entity.fields().iter().map(|f| f.name));
    cols
}

/// The lineage column (`{"field": source record id, …}`) read straight into pairs; values that
/// are not whole numbers are left out.
fn lineage_of(text: &str) -> Result<Vec<(String, i64)>> {
    let map: std::collections::BTreeMap<String, serde_json::Value> = serde_json::from_str(text)?;
    Ok(map
        .into_iter()
        .filter_map(|(k, v)| v.as_i64().map(|id| (k, id)))
        .collect())
}

/// A stored row, read in [`read_columns`] order, as a standard record with its lineage.
fn stored_entity(entity: Entity, mut raw: Vec<rusqlite::types::Value>) -> Result<StoredEntity> {
    let fields = entity.fields();
    let field_values = raw.split_off(raw.len() - fields.len());
    // The row is ours: its strings move into the entity rather than being copied.
    let mut text = |i: usize| match raw.get_mut(i) {
        Some(rusqlite::types::Value::Text(s)) => Some(std::mem::take(s)),
        _ => None,
    };
    let (uid, case_uid, person_uid) = (text(0).unwrap_or_default(), text(2), text(3));
    let mut record = Record::new(entity);
    for (f, v) in fields.iter().zip(field_values) {
        if let Some(v) = parse_value(f.ty, v)? {
            record.fields.insert(f.name, v);
        }
    }
    let lineage = match &raw[1] {
        rusqlite::types::Value::Text(s) => lineage_of(s)?,
        _ => Vec::new(),
    };
    Ok(StoredEntity {
        uid,
        case_uid,
        person_uid,
        record,
        lineage,
    })
}

/// The `graph` value a named graph's rows are stored under (`graph_generation`), if any.
fn graph_rows(conn: &Connection, name: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT stored_as FROM graph_generation WHERE name = ?1")?
        .query_row(params![name], |r| r.get(0))
        .optional()?)
}

/// [`graph_rows`], giving a name without rows a new generation to write under.
fn graph_rows_for_write(conn: &Connection, name: &str) -> Result<String> {
    if let Some(stored) = graph_rows(conn, name)? {
        return Ok(stored);
    }
    let generation: i64 = conn.query_row(
        "SELECT COALESCE(MAX(generation), 0) + 1 FROM graph_generation",
        [],
        |r| r.get(0),
    )?;
    let stored = format!("#{generation}");
    conn.execute(
        "INSERT INTO graph_generation (name, stored_as, generation) VALUES (?1, ?2, ?3)",
        params![name, stored, generation],
    )?;
    Ok(stored)
}

fn graph_node_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<GraphNode> {
    Ok(GraphNode {
        node: r.get(0)?,
        kind: r.get(1)?,
        key: r.get(2)?,
        case_uid: r.get(3)?,
        source_record_id: r.get(4)?,
    })
}

fn graph_edge_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<GraphEdge> {
    Ok(GraphEdge {
        seq: r.get(0)?,
        from: r.get(1)?,
        to: r.get(2)?,
        kind: r.get(3)?,
        date: r.get(4)?,
        case_uid: r.get(5)?,
        field: r.get(6)?,
        detail: r.get(7)?,
        source_entity: r.get(8)?,
        source_uid: r.get(9)?,
        source_record_id: r.get(10)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An append waits for another connection's write to finish instead of failing with
    /// `database is locked` (what a deferred transaction that had read did).
    #[test]
    fn an_append_waits_for_another_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let mut first = SqliteStore::open(&path).unwrap();
        let mut second = SqliteStore::open(&path).unwrap();
        let entry = |kind: &str| LedgerEvent {
            kind: kind.into(),
            entity: None,
            uid: None,
            body: serde_json::Map::new(),
        };
        let held = first
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        let waiter =
            std::thread::spawn(move || second.append_events(&[entry("second")]).map(|()| second));
        // Held while the other connection reaches its append (a pause, not an assertion:
        // an append that starts later has nothing to wait for and passes too).
        std::thread::sleep(std::time::Duration::from_millis(300));
        held.commit().unwrap();
        let second = waiter
            .join()
            .unwrap()
            .expect("the append waited and succeeded");
        first.append_events(&[entry("first")]).unwrap();
        let kinds: Vec<String> = second
            .ledger_entries(0, 10)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["second", "first"]);
    }

    /// With automatic checkpoints off, a commit leaves its frames in the write-ahead log;
    /// a checkpoint from another connection copies them all (no reader holds them).
    #[test]
    fn another_connection_checkpoints_what_the_writer_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let mut writer = SqliteStore::open(&path).unwrap();
        let other = SqliteStore::open(&path).unwrap();
        writer.set_auto_checkpoint(false).unwrap();
        // The migrations' frames first; then the log starts again from its beginning.
        let (logged, copied) = other.checkpoint(true).unwrap();
        assert_eq!(copied, logged);
        crate::conformance::write_sample(&mut writer);
        let (logged, copied) = other.checkpoint(false).unwrap();
        assert!(logged > 0, "the write is in the log");
        assert_eq!(copied, logged, "and copied into the database");
        let pages: i64 = writer
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap();
        assert_eq!(pages, 0);
        writer.set_auto_checkpoint(true).unwrap();
        let pages: i64 = writer
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap();
        assert_eq!(pages, AUTO_CHECKPOINT_PAGES);
        assert_eq!(
            SqliteStore::open_reader(&path)
                .unwrap()
                .get(Entity::Person, "P1")
                .unwrap()
                .map(|p| p.uid),
            Some("P1".to_string())
        );
    }

    /// Publishing moves a name, it does not copy rows: after two builds and two publishes the
    /// tables hold the last build's rows and nothing else.
    #[test]
    fn a_republished_graph_leaves_no_rows_behind() {
        let mut store = SqliteStore::in_memory().unwrap();
        let node = |id: &str| GraphNode {
            node: id.into(),
            kind: "person".into(),
            key: id.into(),
            case_uid: None,
            source_record_id: None,
        };
        for build in ["a", "b"] {
            let nodes: Vec<GraphNode> = (0..3).map(|i| node(&format!("{build}{i}"))).collect();
            store.graph_write("g.next", &nodes, &[]).unwrap();
            store.graph_publish("g.next", "g", &[]).unwrap();
        }
        let rows: Vec<(String, String)> = store
            .conn
            .prepare("SELECT graph, node FROM graph_node ORDER BY node")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        let names: Vec<&str> = rows.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["b0", "b1", "b2"]);
        assert!(rows.iter().all(|(g, _)| g == &rows[0].0));
    }

    #[test]
    fn conformance_in_memory() {
        crate::conformance::run(&mut || SqliteStore::in_memory().unwrap());
    }

    #[test]
    fn conformance_with_field_encryption() {
        let keys = tempfile::tempdir().unwrap();
        crate::conformance::run(&mut || {
            let mut store = SqliteStore::in_memory().unwrap();
            store.enable_field_encryption(keys.path()).unwrap();
            store
        });
    }

    #[test]
    fn schema_has_a_column_for_every_standard_field() {
        let store = SqliteStore::in_memory().unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION as i64);
        for e in Entity::ALL {
            let cols = store.columns(&table(e)).unwrap();
            for f in e.fields() {
                assert!(
                    cols.iter().any(|c| c == f.name),
                    "{}.{} has no column",
                    e.name(),
                    f.name
                );
            }
            assert_eq!(
                cols.len(),
                e.fields().len() + if e.is_dependent() { 6 } else { 4 },
                "{}: stray columns {cols:?}",
                e.name()
            );
        }
    }

    #[test]
    fn reopening_a_file_keeps_data_and_does_not_remigrate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        {
            let mut s = SqliteStore::open(&path).unwrap();
            crate::conformance::write_sample(&mut s);
        }
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION as i64);
        assert_eq!(s.count(Entity::Person).unwrap(), 1);
    }

    /// A store written before migration 10 keeps every row, and every row its ledger hash,
    /// when its tables are rebuilt clustered by case; a row without a case stays without one.
    #[test]
    fn clustering_by_case_keeps_rows_and_their_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let before: Vec<(Entity, Vec<(String, String)>)>;
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
            )
            .unwrap();
            for (i, sql) in MIGRATIONS.iter().enumerate() {
                conn.execute_batch(sql).unwrap();
                conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, 'then')",
                    [i as i64 + 1],
                )
                .unwrap();
            }
            conn.execute_batch(
                "INSERT INTO std_case (uid, name, lineage, run_id, version) VALUES
                     ('C2', '乙案', '{}', 1, 1), ('C1', '甲案', '{\"name\":1}', 1, 2);
                 INSERT INTO std_person (uid, name, lineage, run_id, version) VALUES
                     ('P1', '张三', '{}', 1, 1);
                 INSERT INTO std_event (uid, case_uid, person_uid, kind, note, lineage, run_id, version) VALUES
                     ('E4', 'C2', 'P1', 'case_filed', NULL, '{}', 1, 1),
                     ('E1', 'C1', 'P1', 'case_filed', '立案', '{}', 1, 1),
                     ('E3', NULL, NULL, 'detained', NULL, '{}', 2, 1),
                     ('E2', 'C1', NULL, 'arrested', NULL, '{}', 2, 3);",
            )
            .unwrap();
            before = [Entity::Case, Entity::Person, Entity::Event]
                .into_iter()
                .map(|e| {
                    let mut stmt = conn
                        .prepare(&format!("SELECT * FROM {} ORDER BY uid", table(e)))
                        .unwrap();
                    let names: Vec<String> =
                        stmt.column_names().iter().map(|c| c.to_string()).collect();
                    let hashes = stmt
                        .query_map([], |r| {
                            (0..names.len())
                                .map(|i| r.get::<_, rusqlite::types::Value>(i))
                                .collect::<rusqlite::Result<Vec<_>>>()
                        })
                        .unwrap()
                        .map(|row| {
                            let row = row.unwrap();
                            let uid = match &row[0] {
                                rusqlite::types::Value::Text(t) => t.clone(),
                                other => panic!("uid {other:?}"),
                            };
                            (uid, content_sha256(e, &names, cells(&row)))
                        })
                        .collect();
                    (e, hashes)
                })
                .collect();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION as i64);
        for (entity, hashes) in &before {
            let create: String = store
                .conn
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    [table(*entity)],
                    |r| r.get(0),
                )
                .unwrap();
            assert!(create.contains("WITHOUT ROWID"), "{create}");
            assert_eq!(
                &store.row_hashes(*entity).unwrap(),
                hashes,
                "{}",
                entity.name()
            );
        }
        let uids = |rows: Vec<StoredEntity>| rows.into_iter().map(|r| r.uid).collect::<Vec<_>>();
        assert_eq!(
            uids(store.rows_of_case(Entity::Event, "C1").unwrap()),
            ["E1", "E2"]
        );
        assert_eq!(
            uids(store.rows_of_case(Entity::Event, "").unwrap()),
            Vec::<String>::new()
        );
        let lone = store.get(Entity::Event, "E3").unwrap().unwrap();
        assert_eq!(lone.case_uid, None);
        assert_eq!(
            store.get(Entity::Case, "C1").unwrap().unwrap().lineage,
            [("name".to_string(), 1)]
        );
        // A uid stays unique across cases, and the index on the case alone is gone.
        assert!(store
            .conn
            .execute(
                "INSERT INTO std_event (uid, case_uid, lineage, run_id) VALUES ('E1', 'C2', '{}', 3)",
                [],
            )
            .is_err());
        let case_index: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'std_event_case'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(case_index, 0);
    }

    /// A reader sees what the writer committed after it opened, and cannot write.
    #[test]
    fn a_reader_follows_the_writer_and_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let mut writer = SqliteStore::open(&path).unwrap();
        let mut reader = SqliteStore::open_reader(&path).unwrap();
        assert_eq!(reader.count(Entity::Person).unwrap(), 0);
        crate::conformance::write_sample(&mut writer);
        assert_eq!(reader.count(Entity::Person).unwrap(), 1);
        assert_eq!(reader.ledger_len().unwrap(), writer.ledger_len().unwrap());
        let entry = LedgerEvent {
            kind: "test".into(),
            entity: None,
            uid: None,
            body: serde_json::Map::new(),
        };
        assert!(reader.append_events(&[entry]).is_err());
    }
}
