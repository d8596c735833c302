//! PostgreSQL backend (feature `postgres`): the same tables as SQLite (`migrations/pg/`, then
//! the distribution layout of [`layout`]), one transaction per batch, the same ledger entries
//! and the same content hashes. Batches go in with `COPY` ([`copy`]).
//!
//! The synchronous `postgres` client needs `&mut` for every query while the `Store` read
//! methods take `&self`, so the client sits in a `RefCell`.

mod copy;
mod layout;
mod merge;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use ::postgres::types::Type;
use ::postgres::{Client, NoTls, Row, Transaction};
use xiezhi_standard::{Entity, FieldType, Record, Value};

pub use self::copy::CopyFormat;
use self::copy::{copy_rows, Col};
pub use self::layout::{Layout, HASH_PARTITIONS};
use self::merge::MergeState;
use crate::content::{content_sha256, Cell};
use crate::entries::{quarantine_resolved, record_quarantined, render, WrittenRows};
use crate::fieldcrypt::{CodecSlot, FieldCodec, FieldCryptError, KeyBlinder, WrappedKey};
use crate::sealing::{open_text, seal_quarantine, seal_text};
use crate::*;

/// Ordered schema migrations; the position is the version. Version 4 is generated for the
/// chosen [`Layout`] (`layout::migration`).
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/pg/0001_init.sql"),
    include_str!("../migrations/pg/0002_ledger.sql"),
    include_str!("../migrations/pg/0003_workflow.sql"),
];

/// The schema version this program writes: the fixed migrations, the layout (4), field
/// encryption (5, [`field_keys_migration`]), standard v1.1 (6,
/// [`layout::standard_v1_1_migration`]), then standard v1.2 (7,
/// [`layout::standard_v1_2_migration`]), the named graphs (8, [`layout::graph_migration`]), then
/// graph generations and room for in-place updates (9,
/// [`layout::generations_and_fillfactor_migration`]).
const SCHEMA_VERSION: usize = MIGRATIONS.len() + 6;

/// Migration 5: the wrapped data keys, and sealed integer fields turned to text (a sealed
/// value is text; [`decode_entity`] and the hash turn the opened value back into a number).
fn field_keys_migration() -> String {
    let mut sql = String::from(
        "CREATE TABLE IF NOT EXISTS field_keys (tbl TEXT NOT NULL, col TEXT NOT NULL, \
         purpose TEXT NOT NULL, version BIGINT NOT NULL, suite TEXT NOT NULL, \
         kek_version BIGINT NOT NULL, wrapped BYTEA NOT NULL, PRIMARY KEY (tbl, col, purpose, version));\n",
    );
    for &entity in Entity::V1_0 {
        for f in entity.fields_v1_0() {
            if is_int(f.ty) && crate::fieldcrypt::is_sealed_field(entity, f.name) {
                sql.push_str(&format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} TYPE TEXT USING {c}::TEXT;\n",
                    t = table(entity),
                    c = f.name
                ));
            }
        }
    }
    sql
}

/// Whether a field's column holds text: every field but unsealed numbers.
fn is_text_column(entity: Entity, f: &xiezhi_standard::FieldDef) -> bool {
    !is_int(f.ty) || crate::fieldcrypt::is_sealed_field(entity, f.name)
}

/// A store in a PostgreSQL database (the schema on the connection's `search_path`).
pub struct PgStore {
    client: RefCell<Client>,
    layout: Layout,
    copy_format: CopyFormat,
    /// Field encryption, once enabled: seals L3/L4 columns on write, opens them on read.
    codec: CodecSlot,
    /// Prepared read statements by their text: a case read's one large statement is planned
    /// once per connection, not once per read.
    prepared: RefCell<HashMap<String, ::postgres::Statement>>,
}

impl crate::fieldcrypt::KeyTable for Client {
    fn load_keys(&mut self) -> std::result::Result<Vec<WrappedKey>, FieldCryptError> {
        let rows = self
            .query(
                "SELECT tbl, col, purpose, version, suite, kek_version, wrapped FROM field_keys \
                 ORDER BY tbl COLLATE \"C\", col COLLATE \"C\", purpose COLLATE \"C\", version",
                &[],
            )
            .map_err(|e| FieldCryptError::KeyTable(e.to_string()))?;
        rows.iter()
            .map(|r| {
                WrappedKey::from_row(
                    r.get(0),
                    r.get(1),
                    r.get::<_, &str>(2),
                    r.get::<_, i64>(3) as u32,
                    r.get(4),
                    r.get::<_, i64>(5) as u32,
                    r.get(6),
                )
            })
            .collect()
    }

    fn insert_keys(&mut self, keys: &[WrappedKey]) -> std::result::Result<(), FieldCryptError> {
        let mut tx = self
            .transaction()
            .map_err(|e| FieldCryptError::KeyTable(e.to_string()))?;
        insert_pg_keys(&mut tx, keys)?;
        tx.commit()
            .map_err(|e| FieldCryptError::KeyTable(e.to_string()))
    }

    fn replace_keys(&mut self, keys: &[WrappedKey]) -> std::result::Result<(), FieldCryptError> {
        let mut tx = self
            .transaction()
            .map_err(|e| FieldCryptError::KeyTable(e.to_string()))?;
        tx.execute("DELETE FROM field_keys", &[])
            .map_err(|e| FieldCryptError::KeyTable(e.to_string()))?;
        insert_pg_keys(&mut tx, keys)?;
        tx.commit()
            .map_err(|e| FieldCryptError::KeyTable(e.to_string()))
    }
}

fn insert_pg_keys(
    tx: &mut Transaction<'_>,
    keys: &[WrappedKey],
) -> std::result::Result<(), FieldCryptError> {
    for k in keys {
        tx.execute(
            "INSERT INTO field_keys (tbl, col, purpose, version, suite, kek_version, wrapped) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[
                &k.table,
                &k.column,
                &k.purpose.id(),
                &i64::from(k.version),
                &k.suite,
                &i64::from(k.kek_version),
                &k.wrapped,
            ],
        )
        .map_err(|e| FieldCryptError::KeyTable(e.to_string()))?;
    }
    Ok(())
}

/// Splits `layout=…` off a connection string (URL query or key=value form), since the client
/// would refuse an option it does not know.
fn split_layout(url: &str) -> Result<(String, Option<Layout>)> {
    let bad = |v: &str| {
        StoreError::Config(format!(
            "unknown layout `{v}` in the connection string (expected `plain` or `partitioned`)"
        ))
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_string(), None));
        };
        let mut layout = None;
        let mut rest = Vec::new();
        for pair in query.split('&') {
            match pair.strip_prefix("layout=") {
                Some(v) => layout = Some(Layout::parse(v).ok_or_else(|| bad(v))?),
                None if pair.is_empty() => {}
                None => rest.push(pair),
            }
        }
        let url = if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        return Ok((url, layout));
    }
    let mut layout = None;
    let mut rest = Vec::new();
    for token in url.split_whitespace() {
        match token.strip_prefix("layout=") {
            Some(v) => layout = Some(Layout::parse(v).ok_or_else(|| bad(v))?),
            None => rest.push(token),
        }
    }
    Ok((rest.join(" "), layout))
}

/// Turns parallel query off for this connection unless its connection string set it. The
/// platform reads by key (a case, a block of cases): a parallel plan for a case read spends
/// more on starting its workers (10–15 ms on two busy cores) than the read itself takes
/// (0.4–1 ms), and the planner picks one once the tables are large. A deployment that wants
/// it for its aggregates passes `options=-c max_parallel_workers_per_gather=N`.
fn no_parallel_workers(client: &mut Client) -> Result<()> {
    let source: String = client
        .query_one(
            "SELECT source FROM pg_settings WHERE name = 'max_parallel_workers_per_gather'",
            &[],
        )?
        .get(0);
    if source != "client" {
        client.batch_execute("SET max_parallel_workers_per_gather = 0")?;
    }
    Ok(())
}

/// Whether a field is stored as an integer (`BIGINT`); every other field is canonical text.
fn is_int(ty: FieldType) -> bool {
    ty.is_integer()
}

impl PgStore {
    /// Connects (without TLS) and brings the schema up to date. A `layout=plain` or
    /// `layout=partitioned` parameter in the URL chooses the layout of a new database and is
    /// checked against an existing one; without it a new database is plain.
    pub fn connect(url: &str) -> Result<PgStore> {
        let (url, layout) = split_layout(url)?;
        Self::open(Client::connect(&url, NoTls)?, layout)
    }

    /// [`PgStore::connect`] with the layout given.
    pub fn connect_with(url: &str, layout: Layout) -> Result<PgStore> {
        let (url, _) = split_layout(url)?;
        Self::open(Client::connect(&url, NoTls)?, Some(layout))
    }

    /// Uses an open connection (its `search_path` decides the schema) and brings the schema up
    /// to date; a new schema is plain.
    pub fn from_client(client: Client) -> Result<PgStore> {
        Self::open(client, None)
    }

    /// [`PgStore::from_client`] with the layout given.
    pub fn from_client_with(client: Client, layout: Layout) -> Result<PgStore> {
        Self::open(client, Some(layout))
    }

    fn open(mut client: Client, layout: Option<Layout>) -> Result<PgStore> {
        no_parallel_workers(&mut client)?;
        let mut store = PgStore {
            client: RefCell::new(client),
            layout: layout.unwrap_or(Layout::Plain),
            copy_format: CopyFormat::Binary,
            codec: CodecSlot::default(),
            prepared: RefCell::default(),
        };
        store.migrate()?;
        let stored: String = store
            .client
            .get_mut()
            .query_one("SELECT layout FROM store_layout WHERE id = 1", &[])?
            .get(0);
        let stored = Layout::parse(&stored)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown stored layout `{stored}`")))?;
        if layout.is_some_and(|l| l != stored) {
            return Err(StoreError::Config(format!(
                "the database has layout `{}`, `{}` was asked for",
                stored.name(),
                layout.map_or("", Layout::name)
            )));
        }
        store.layout = stored;
        Ok(store)
    }

    /// Turns on field encryption with the key files under `data_dir` (see
    /// [`crate::SqliteStore::enable_field_encryption`]).
    pub fn enable_field_encryption(&mut self, data_dir: &std::path::Path) -> Result<()> {
        let codec = crate::fieldcrypt::open_codec(self.client.get_mut(), data_dir)?;
        self.codec = CodecSlot::new(codec, data_dir);
        Ok(())
    }

    /// Runs a read; when it meets a value under a data key this connection has not loaded
    /// (another process rotated the keys), reloads the stored keys once and runs it again.
    /// The prepared statement of a read, prepared on first use: a case read runs a dozen of
    /// these, and planning each anew (every event partition, say) cost as much as running it.
    fn statement(&self, sql: &str) -> Result<::postgres::Statement> {
        if let Some(stmt) = self.prepared.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.borrow_mut().prepare(sql)?;
        self.prepared
            .borrow_mut()
            .insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    fn reading<T>(&self, read: impl Fn() -> Result<T>) -> Result<T> {
        match read() {
            Err(StoreError::FieldCrypt(e)) if crate::fieldcrypt::is_missing_key(&e) => {
                let stored =
                    crate::fieldcrypt::KeyTable::load_keys(&mut *self.client.borrow_mut())?;
                if self.codec.reload(stored)? {
                    read()
                } else {
                    Err(StoreError::FieldCrypt(e))
                }
            }
            other => other,
        }
    }

    /// The layout of the case-owned tables.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The `COPY` format of the bulk path (binary unless changed; text is there to compare).
    pub fn set_copy_format(&mut self, format: CopyFormat) {
        self.copy_format = format;
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .client
            .borrow_mut()
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
                &[],
            )?
            .get(0))
    }

    fn migrate(&mut self) -> Result<()> {
        let client = self.client.get_mut();
        client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        loop {
            let mut tx = client.transaction()?;
            // Concurrent openers migrate one after the other.
            tx.batch_execute("LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE")?;
            let current: i64 = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
                    &[],
                )?
                .get(0);
            let current = current as usize;
            if current > SCHEMA_VERSION {
                return Err(StoreError::Corrupt(format!(
                    "database schema version {current} is newer than this program ({SCHEMA_VERSION})"
                )));
            }
            if current == SCHEMA_VERSION {
                return Ok(());
            }
            match MIGRATIONS.get(current) {
                Some(sql) => tx.batch_execute(sql)?,
                None if current == MIGRATIONS.len() => {
                    tx.batch_execute(&layout::migration(self.layout))?
                }
                None if current == MIGRATIONS.len() + 1 => {
                    tx.batch_execute(&field_keys_migration())?
                }
                None => {
                    let stored: String = tx
                        .query_one("SELECT layout FROM store_layout WHERE id = 1", &[])?
                        .get(0);
                    let layout = Layout::parse(&stored).ok_or_else(|| {
                        StoreError::Corrupt(format!("unknown stored layout `{stored}`"))
                    })?;
                    if current == MIGRATIONS.len() + 2 {
                        tx.batch_execute(&layout::standard_v1_1_migration(layout))?
                    } else if current == MIGRATIONS.len() + 3 {
                        tx.batch_execute(&layout::standard_v1_2_migration(layout))?
                    } else if current == MIGRATIONS.len() + 4 {
                        tx.batch_execute(&layout::graph_migration(layout))?
                    } else {
                        tx.batch_execute(&layout::generations_and_fillfactor_migration(layout))?
                    }
                }
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now()::TEXT)",
                &[&(current as i64 + 1)],
            )?;
            tx.commit()?;
        }
    }

    /// Column names of a table, in order (for schema checks).
    pub fn columns(&self, table_name: &str) -> Result<Vec<String>> {
        let rows = self.client.borrow_mut().query(
            "SELECT column_name::TEXT FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            &[&table_name],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

/// Every column of an entity's table in order: the write columns, then lineage, run and
/// version. Content hashes are taken over these.
fn stored_columns(entity: Entity) -> Vec<String> {
    let mut names = crate::write_columns(entity);
    names.extend(["lineage".into(), "run_id".into(), "version".into()]);
    names
}

/// A value of a row being written, owned.
#[derive(Clone)]
enum Owned {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Owned {
    fn is_null(&self) -> bool {
        matches!(self, Owned::Text(None) | Owned::Int(None))
    }

    fn col(&self) -> Col<'_> {
        match self {
            Owned::Text(v) => Col::Text(v.as_deref()),
            Owned::Int(v) => Col::Int(*v),
        }
    }

    fn cell(&self) -> Cell<'_> {
        match self {
            Owned::Text(Some(t)) => Cell::Text(t),
            Owned::Int(Some(n)) => Cell::Int(*n),
            Owned::Text(None) | Owned::Int(None) => Cell::Null,
        }
    }
}

/// The values a write binds, in `write_columns` order, then lineage and run id.
fn row_values(row: &EntityRow, run_id: i64) -> Result<Vec<Owned>> {
    let entity = row.record.entity;
    let mut values = vec![Owned::Text(Some(row.uid.clone()))];
    if entity.is_dependent() {
        values.push(Owned::Text(row.case_uid.clone()));
        values.push(Owned::Text(row.person_uid.clone()));
    }
    let mut lineage = serde_json::Map::new();
    for f in entity.fields() {
        let v = row.record.get(f.name);
        if v.is_some() {
            lineage.insert(f.name.to_string(), row.source_record_id.into());
        }
        if is_int(f.ty) {
            values.push(Owned::Int(match v {
                None => None,
                Some(Value::Money(n) | Value::Int(n)) => Some(*n),
                Some(other) => {
                    return Err(StoreError::Corrupt(format!(
                        "{}.{} holds {other:?}, not a number",
                        entity.name(),
                        f.name
                    )))
                }
            }));
        } else {
            values.push(Owned::Text(v.map(Value::canonical)));
        }
    }
    values.push(Owned::Text(Some(
        serde_json::Value::Object(lineage).to_string(),
    )));
    values.push(Owned::Int(Some(run_id)));
    Ok(values)
}

/// The values a write binds to SQL, from its plaintext values (which the hash commits to):
/// sealed fields sealed, and sealed numbers as text since their columns are text.
fn bound_values(codec: Option<&FieldCodec>, entity: Entity, plain: &[Owned]) -> Result<Vec<Owned>> {
    let first = if entity.is_dependent() { 3 } else { 1 };
    let uid = match plain.first() {
        Some(Owned::Text(Some(u))) => u.as_str(),
        _ => {
            return Err(StoreError::Corrupt(format!(
                "row of {} without a uid",
                entity.name()
            )))
        }
    };
    let t = table(entity);
    let mut out = Vec::with_capacity(plain.len());
    for (i, v) in plain.iter().enumerate() {
        let field = i
            .checked_sub(first)
            .and_then(|at| entity.fields().get(at))
            .filter(|f| crate::fieldcrypt::is_sealed_field(entity, f.name));
        let text = match v {
            Owned::Text(t) => t.clone(),
            Owned::Int(n) if field.is_some() => n.map(|n| n.to_string()),
            Owned::Int(n) => {
                out.push(Owned::Int(*n));
                continue;
            }
        };
        out.push(Owned::Text(match (field, text, codec) {
            (Some(f), Some(plain), Some(codec)) => Some(codec.seal(&t, f.name, uid, &plain)?),
            (_, text, _) => text,
        }));
    }
    Ok(out)
}

/// Opens the sealed fields of a stored row in place (numbers back to numbers), so it hashes
/// as it was written.
fn open_stored(
    codec: Option<&FieldCodec>,
    entity: Entity,
    names: &[String],
    values: &mut [Stored],
) -> Result<()> {
    let uid = match values.first() {
        Some(Stored::Text(u)) => u.clone(),
        _ => {
            return Err(StoreError::Corrupt(format!(
                "row of {} without a uid",
                entity.name()
            )))
        }
    };
    let t = table(entity);
    for (name, v) in names.iter().zip(values.iter_mut()) {
        let Some(f) = entity.fields().iter().find(|f| f.name == name) else {
            continue;
        };
        if !crate::fieldcrypt::is_sealed_field(entity, f.name) {
            continue;
        }
        let Stored::Text(stored) = v else { continue };
        let plain = open_text(codec, &t, f.name, &uid, std::mem::take(stored))?;
        *v = if is_int(f.ty) {
            Stored::Int(plain.parse().map_err(|_| {
                StoreError::Corrupt(format!(
                    "{t}.{} row {uid}: `{plain}` is not a number",
                    f.name
                ))
            })?)
        } else {
            Stored::Text(plain)
        };
    }
    Ok(())
}

/// A stored column value, owned.
enum Stored {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Stored {
    fn copy(&self) -> Stored {
        match self {
            Stored::Null => Stored::Null,
            Stored::Int(n) => Stored::Int(*n),
            Stored::Real(f) => Stored::Real(*f),
            Stored::Text(t) => Stored::Text(t.clone()),
            Stored::Blob(b) => Stored::Blob(b.clone()),
        }
    }

    fn cell(&self) -> Cell<'_> {
        match self {
            Stored::Null => Cell::Null,
            Stored::Int(n) => Cell::Int(*n),
            Stored::Real(f) => Cell::Real(*f),
            Stored::Text(t) => Cell::Text(t),
            Stored::Blob(b) => Cell::Blob(b),
        }
    }
}

/// Every column of a row by its type, and the column names.
fn stored_row(row: &Row) -> Result<(Vec<String>, Vec<Stored>)> {
    let mut names = Vec::with_capacity(row.len());
    let mut values = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        names.push(col.name().to_string());
        let ty = col.type_();
        let v = if *ty == Type::INT8 {
            row.get::<_, Option<i64>>(i).map(Stored::Int)
        } else if *ty == Type::INT4 {
            row.get::<_, Option<i32>>(i).map(|n| Stored::Int(n.into()))
        } else if *ty == Type::INT2 {
            row.get::<_, Option<i16>>(i).map(|n| Stored::Int(n.into()))
        } else if *ty == Type::FLOAT8 {
            row.get::<_, Option<f64>>(i).map(Stored::Real)
        } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
            row.get::<_, Option<String>>(i).map(Stored::Text)
        } else if *ty == Type::BYTEA {
            row.get::<_, Option<Vec<u8>>>(i).map(Stored::Blob)
        } else {
            return Err(StoreError::Corrupt(format!(
                "column `{}` has unexpected type {ty}",
                col.name()
            )));
        };
        values.push(v.unwrap_or(Stored::Null));
    }
    Ok((names, values))
}

fn row_hash(codec: Option<&FieldCodec>, entity: Entity, row: &Row) -> Result<(String, String)> {
    let (names, mut values) = stored_row(row)?;
    // A value that does not open keeps its stored form: the hash then differs from the
    // ledger's and verification names the row.
    let mut opened: Vec<Stored> = values.iter().map(Stored::copy).collect();
    if open_stored(codec, entity, &names, &mut opened).is_ok() {
        values = opened;
    }
    // The empty case is how a row without one is stored: it hashes as the null SQLite holds.
    if let Some(at) = names.iter().position(|n| n == "case_uid") {
        if matches!(&values[at], Stored::Text(t) if t.is_empty()) {
            values[at] = Stored::Null;
        }
    }
    let uid = match values.first() {
        Some(Stored::Text(t)) => t.clone(),
        _ => {
            return Err(StoreError::Corrupt(format!(
                "row of {} without a text uid",
                entity.name()
            )))
        }
    };
    let hash = content_sha256(entity, &names, values.iter().map(Stored::cell));
    Ok((uid, hash))
}

/// Appends entries inside an open transaction, numbering them from the current log length.
/// Writers of the ledger (and of the rows it covers) take turns on a transaction-scoped
/// advisory lock named by the store's schema. A table lock on `ledger_entry` did the same but
/// also conflicted with autovacuum's: every vacuum of the ledger was cancelled at the next
/// write and started again from its first page, rereading gigabytes during a long ingest.
fn lock_ledger(tx: &mut Transaction<'_>) -> Result<()> {
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(hashtext('xiezhi.ledger'), hashtext(current_schema()))",
    )?;
    Ok(())
}

/// The ledger lock orders concurrent writers, so sequence numbers stay gapless.
fn append_in_tx(
    tx: &mut Transaction<'_>,
    format: CopyFormat,
    events: Vec<LedgerEvent>,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    lock_ledger(tx)?;
    let first = next_seq(tx)?;
    let rows: Vec<LedgerRow> = (first..)
        .zip(events)
        .map(|(seq, e)| render(seq, e))
        .collect();
    copy_ledger(tx, format, &rows)
}

/// The number the ledger's next entry gets (the writers' lock must be held).
fn next_seq(tx: &mut Transaction<'_>) -> Result<i64> {
    Ok(tx
        .query_one(
            "SELECT COALESCE(MAX(seq) + 1, 0)::BIGINT FROM ledger_entry",
            &[],
        )?
        .get(0))
}

/// `COPY`s rendered ledger entries.
fn copy_ledger(tx: &mut Transaction<'_>, format: CopyFormat, rows: &[LedgerRow]) -> Result<()> {
    copy_rows(
        tx,
        format,
        "ledger_entry",
        &["seq", "kind", "entity", "uid", "body", "body_sha256"],
        rows.iter().map(|r| {
            vec![
                Col::Int(Some(r.seq)),
                Col::Text(Some(&r.kind)),
                Col::Text(r.entity.as_deref()),
                Col::Text(r.uid.as_deref()),
                Col::Text(Some(&r.body)),
                Col::Text(Some(&r.body_sha256)),
            ]
        }),
    )?;
    Ok(())
}

const QUARANTINE_COLS: &str =
    "id, source_record_id, run_id, source, file, record_no, line, raw, reasons, status, resolved_run_id";

fn quarantine_from_row(codec: Option<&FieldCodec>, r: &Row) -> Result<QuarantineEntry> {
    let source_record_id: i64 = r.get(1);
    let row = source_record_id.to_string();
    let raw = open_text(codec, "quarantine", "raw", &row, r.get(7))?;
    let reasons = open_text(codec, "quarantine", "reasons", &row, r.get(8))?;
    Ok(QuarantineEntry {
        id: r.get(0),
        source_record_id: r.get(1),
        run_id: r.get(2),
        source: r.get(3),
        file: r.get(4),
        record_no: r.get(5),
        line: r.get(6),
        raw: serde_json::from_str(&raw)?,
        reasons: serde_json::from_str(&reasons)?,
        status: r.get(9),
        resolved_run_id: r.get(10),
    })
}

/// A batch's uids, per entity, in batch order.
type UidsOf<'b> = BTreeMap<Entity, Vec<&'b str>>;

/// The stored rows a batch merges onto, locked until it commits.
type MergedRows<'b> = HashMap<(Entity, &'b str), MergeState>;

/// The part of a batch's write that needs the database before any row is written: take the
/// writers' lock, check the batch is not a replay (None if it is), store its source records
/// and lock the stored rows its uids merge onto.
fn claim_batch<'b>(
    tx: &mut Transaction<'_>,
    format: CopyFormat,
    codec: Option<&FieldCodec>,
    run_id: i64,
    batch: &'b Batch,
) -> Result<Option<(UidsOf<'b>, MergedRows<'b>)>> {
    // Writers take turns from here to commit (the ledger is one append sequence anyway),
    // so the replay check and which uids exist cannot change under this batch.
    lock_ledger(tx)?;
    // Every read below looks rows up by key. During a bulk load the tables grow faster
    // than autovacuum re-analyses them, and on statistics of a table a tenth of its size
    // the planner chose to scan it whole for each batch's uid list: load time grew with
    // the square of the table. No plan here is better without its index, and none is
    // long enough to pay for compiling.
    tx.batch_execute("SET LOCAL enable_seqscan = off; SET LOCAL jit = off")?;
    if !batch.source_records.is_empty() {
        let ids: Vec<i64> = batch.source_records.iter().map(|s| s.id).collect();
        let stored: Vec<(i64, String)> = tx
            .query(
                "SELECT id, sha256 FROM source_record WHERE id = ANY($1) ORDER BY id",
                &[&ids],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        if already_stored(batch, &stored)? {
            return Ok(None);
        }
    }
    copy_rows(
        tx,
        format,
        "source_record",
        &[
            "id",
            "run_id",
            "source",
            "file",
            "record_no",
            "line",
            "sha256",
            "outcome",
        ],
        batch.source_records.iter().map(|s| {
            vec![
                Col::Int(Some(s.id)),
                Col::Int(Some(run_id)),
                Col::Text(Some(&s.source)),
                Col::Text(Some(&s.file)),
                Col::Int(Some(s.record_no)),
                Col::Int(Some(s.line)),
                Col::Text(Some(&s.sha256)),
                Col::Text(Some(s.outcome.as_str())),
            ]
        }),
    )?;

    // Rows whose uid is new (first in the batch, not stored) go in by COPY; the others
    // merge, in batch order, once the new ones are in.
    let mut uids: BTreeMap<Entity, Vec<&str>> = BTreeMap::new();
    for row in &batch.entities {
        uids.entry(row.record.entity)
            .or_default()
            .push(row.uid.as_str());
    }
    // The stored rows this batch merges onto, locked until it commits.
    let mut merged: HashMap<(Entity, &str), MergeState> = HashMap::new();
    for (entity, list) in &uids {
        let rows = tx.query(
            &format!(
                "SELECT * FROM {} WHERE uid = ANY($1) FOR UPDATE",
                table(*entity)
            ),
            &[list],
        )?;
        // The batch's own `&str` of each uid keys the map (the rows' strings are dropped).
        let asked: HashSet<&str> = list.iter().copied().collect();
        for r in &rows {
            let uid: String = r.try_get("uid")?;
            let Some(at) = asked.get(uid.as_str()) else {
                continue;
            };
            merged.insert((*entity, *at), MergeState::from_stored(codec, *entity, r)?);
        }
    }
    Ok(Some((uids, merged)))
}

/// Everything a batch's write computes without the database: the rows' values, sealed and
/// plain, the content hash each row has if it turns out new, and the sealed link details,
/// issue values, quarantine texts and blinded keys. `write_batch` computes it on a second
/// thread while the database checks the batch and looks its uids up, so on two cores the
/// client's work and the server's overlap instead of taking turns.
struct Encoded {
    /// Per entity row, in `stored_columns` order without the version.
    values: Vec<Vec<Owned>>,
    /// The same values as bound to SQL (sealed fields sealed).
    bound: Vec<Vec<Owned>>,
    /// Per entity row: its content hash as version 1, the hash it has if it is new.
    fresh_content: Vec<String>,
    /// Per link: its sealed detail.
    link_details: Vec<String>,
    /// Per issue: its sealed value.
    issue_values: Vec<Option<String>>,
    /// Per quarantined record: its sealed raw columns and reasons.
    quarantine_texts: Vec<(String, String)>,
    /// Person keys blinded: no ID number reaches the table.
    person_keys: Vec<(String, String)>,
}

fn encode_batch(codec: Option<&FieldCodec>, run_id: i64, batch: &Batch) -> Result<Encoded> {
    let mut values = Vec::with_capacity(batch.entities.len());
    let mut bound = Vec::with_capacity(batch.entities.len());
    let mut fresh_content = Vec::with_capacity(batch.entities.len());
    let mut names_of: HashMap<Entity, Vec<String>> = HashMap::new();
    let one = Owned::Int(Some(1));
    for row in &batch.entities {
        let entity = row.record.entity;
        let plain = row_values(row, run_id)?;
        bound.push(bound_values(codec, entity, &plain)?);
        let names = names_of
            .entry(entity)
            .or_insert_with(|| stored_columns(entity));
        let cells = plain.iter().chain(std::iter::once(&one)).map(Owned::cell);
        fresh_content.push(content_sha256(entity, names, cells));
        values.push(plain);
    }
    let link_details = batch
        .links
        .iter()
        .map(|l| {
            seal_text(
                codec,
                "entity_link",
                "detail",
                &format!("{}|{}|{}", l.source_record_id, l.entity.name(), l.uid),
                l.detail.clone(),
            )
        })
        .collect::<Result<_>>()?;
    let issue_values = batch
        .issues
        .iter()
        .map(|(id, r)| {
            r.value
                .clone()
                .map(|v| {
                    seal_text(
                        codec,
                        "record_issue",
                        "value",
                        &format!("{id}|{}", r.field),
                        v,
                    )
                })
                .transpose()
        })
        .collect::<Result<_>>()?;
    let quarantine_texts = batch
        .quarantine
        .iter()
        .map(|q| seal_quarantine(codec, q))
        .collect::<Result<_>>()?;
    let blinder = codec.map_or_else(KeyBlinder::none, |c| c.blinder());
    let person_keys = batch
        .person_keys
        .iter()
        .map(|(k, u)| (blinder.blind(k), u.clone()))
        .collect();
    Ok(Encoded {
        values,
        bound,
        fresh_content,
        link_details,
        issue_values,
        quarantine_texts,
        person_keys,
    })
}

/// What a batch's merges and ledger entries come to, computed without the database.
struct Settled<'b> {
    /// Each merged row's last state …
    merged: MergedRows<'b>,
    /// … and the order the merged rows were first met in the batch.
    order: Vec<(Entity, &'b str)>,
    /// The batch's ledger entries, numbered from the ledger's next number.
    ledger: Vec<LedgerRow>,
}

/// Applies the batch's merges in batch order, in memory (each step's version and content hash
/// go to the ledger as if merged one by one), and renders the batch's ledger entries:
/// `records_written` per source record, then quarantined and resolved records, then the
/// entries the batch brought.
fn settle_batch<'b>(
    batch: &'b Batch,
    run_id: i64,
    fresh: &[bool],
    values: &[Vec<Owned>],
    mut fresh_content: Vec<String>,
    mut merged: MergedRows<'b>,
    first_seq: i64,
) -> Result<Settled<'b>> {
    // (version, content hash) of each row as stored after its write.
    let mut results: Vec<Option<(i64, String)>> = vec![None; batch.entities.len()];
    let mut occurrences: HashMap<(Entity, &str), usize> = HashMap::new();
    for row in &batch.entities {
        *occurrences
            .entry((row.record.entity, row.uid.as_str()))
            .or_default() += 1;
    }
    let mut order: Vec<(Entity, &str)> = Vec::new();
    let mut ordered: HashSet<(Entity, &str)> = HashSet::new();
    let mut names_of: BTreeMap<Entity, Vec<String>> = BTreeMap::new();
    for (i, row) in batch.entities.iter().enumerate() {
        let entity = row.record.entity;
        let key = (entity, row.uid.as_str());
        if fresh[i] {
            results[i] = Some((1, std::mem::take(&mut fresh_content[i])));
            if occurrences[&key] > 1 {
                merged.insert(key, MergeState::fresh(&values[i]));
            }
            continue;
        }
        let state = merged.get_mut(&key).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "row `{}` of {} is neither new nor stored",
                row.uid,
                entity.name()
            ))
        })?;
        state.merge(&values[i])?;
        let names = names_of
            .entry(entity)
            .or_insert_with(|| stored_columns(entity));
        let version = Owned::Int(Some(state.version));
        let cells = state
            .values
            .iter()
            .chain(std::iter::once(&version))
            .map(Owned::cell);
        results[i] = Some((state.version, content_sha256(entity, names, cells)));
        if ordered.insert(key) {
            order.push(key);
        }
    }
    let mut events = Vec::with_capacity(batch.source_records.len() + batch.quarantine.len());
    let mut written = WrittenRows::new(run_id);
    for (row, result) in batch.entities.iter().zip(results) {
        let Some((version, content)) = result else {
            return Err(StoreError::Corrupt(format!(
                "row `{}` of {} was not written",
                row.uid,
                row.record.entity.name()
            )));
        };
        written.push(
            &mut events,
            row.source_record_id,
            row.record.entity,
            &row.uid,
            version,
            content,
        );
    }
    written.finish(&mut events);
    events.extend(
        batch
            .quarantine
            .iter()
            .map(|q| record_quarantined(q, run_id)),
    );
    events.extend(
        batch
            .resolved
            .iter()
            .map(|id| quarantine_resolved(*id, run_id)),
    );
    events.extend(batch.events.iter().cloned());
    events.extend(batch.workflow.iter().flat_map(|w| w.events.iter().cloned()));
    let ledger = (first_seq..)
        .zip(events)
        .map(|(seq, e)| render(seq, e))
        .collect();
    Ok(Settled {
        merged,
        order,
        ledger,
    })
}

/// `COPY`s the batch's new rows (`fresh`: the first of their uid and not stored), entity by
/// entity, as bound (sealed fields sealed), each as version 1.
fn copy_new_rows(
    tx: &mut Transaction<'_>,
    format: CopyFormat,
    batch: &Batch,
    uids: &UidsOf<'_>,
    fresh: &[bool],
    bound: &[Vec<Owned>],
) -> Result<()> {
    let one = Owned::Int(Some(1));
    for entity in uids.keys() {
        let names = stored_columns(*entity);
        let at: Vec<usize> = (0..batch.entities.len())
            .filter(|&i| fresh[i] && batch.entities[i].record.entity == *entity)
            .collect();
        let dependent = entity.is_dependent();
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        copy_rows(
            tx,
            format,
            &table(*entity),
            &name_refs,
            at.iter().map(|&i| {
                bound[i]
                    .iter()
                    .chain(std::iter::once(&one))
                    .enumerate()
                    .map(|(c, v)| match (c, v) {
                        // A row without a case is stored under the empty case.
                        (1, Owned::Text(None)) if dependent => Col::Text(Some("")),
                        _ => v.col(),
                    })
                    .collect()
            }),
        )?;
    }
    Ok(())
}

/// A batch's values computed by `encode_batch` for the tables no merge touches.
struct Unmerged<'e> {
    issue_values: &'e [Option<String>],
    quarantine_texts: &'e [(String, String)],
    link_details: &'e [String],
    person_keys: &'e [(String, String)],
}

/// Writes the parts of a batch that depend on no merge: issues, quarantine entries and their
/// resolutions, entity links and resolution keys.
fn copy_batch_records(
    tx: &mut Transaction<'_>,
    format: CopyFormat,
    run_id: i64,
    batch: &Batch,
    encoded: Unmerged<'_>,
) -> Result<()> {
    copy_rows(
        tx,
        format,
        "record_issue",
        &["source_record_id", "field", "rule", "severity", "value"],
        batch
            .issues
            .iter()
            .zip(encoded.issue_values)
            .map(|((id, r), value)| {
                vec![
                    Col::Int(Some(*id)),
                    Col::Text(Some(&r.field)),
                    Col::Text(Some(&r.rule)),
                    Col::Text(Some(&r.severity)),
                    Col::Text(value.as_deref()),
                ]
            }),
    )?;
    copy_rows(
        tx,
        format,
        "quarantine",
        &[
            "source_record_id",
            "run_id",
            "source",
            "file",
            "record_no",
            "line",
            "raw",
            "reasons",
            "status",
        ],
        batch
            .quarantine
            .iter()
            .zip(encoded.quarantine_texts)
            .map(|(q, (raw, reasons))| {
                vec![
                    Col::Int(Some(q.source_record_id)),
                    Col::Int(Some(run_id)),
                    Col::Text(Some(&q.source)),
                    Col::Text(Some(&q.file)),
                    Col::Int(Some(q.record_no)),
                    Col::Int(Some(q.line)),
                    Col::Text(Some(raw)),
                    Col::Text(Some(reasons)),
                    Col::Text(Some("open")),
                ]
            }),
    )?;
    for id in &batch.resolved {
        let changed = tx.execute(
            "UPDATE quarantine SET status = 'resolved', resolved_run_id = $2 WHERE id = $1 AND status = 'open'",
            &[id, &run_id],
        )?;
        if changed != 1 {
            return Err(StoreError::Corrupt(format!(
                "quarantine entry {id} is not open"
            )));
        }
        tx.execute(
            "UPDATE source_record SET outcome = 'accepted' WHERE id = (SELECT source_record_id FROM quarantine WHERE id = $1)",
            &[id],
        )?;
    }
    copy_rows(
        tx,
        format,
        "entity_link",
        &["entity", "uid", "source_record_id", "rule", "detail"],
        batch
            .links
            .iter()
            .zip(encoded.link_details)
            .map(|(l, detail)| {
                vec![
                    Col::Text(Some(l.entity.name())),
                    Col::Text(Some(&l.uid)),
                    Col::Int(Some(l.source_record_id)),
                    Col::Text(Some(&l.rule)),
                    Col::Text(Some(detail)),
                ]
            }),
    )?;
    for (table_name, uid_col, keys) in [
        ("person_key", "person_uid", encoded.person_keys),
        ("case_key", "case_uid", batch.case_keys.as_slice()),
    ] {
        if keys.is_empty() {
            continue;
        }
        let (k, u): (Vec<&str>, Vec<&str>) =
            keys.iter().map(|(k, u)| (k.as_str(), u.as_str())).unzip();
        tx.execute(
            &format!(
                "INSERT INTO {table_name} (key, {uid_col}) SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[]) ON CONFLICT DO NOTHING"
            ),
            &[&k, &u],
        )?;
    }
    Ok(())
}

impl Store for PgStore {
    fn begin_run(&mut self, run: &NewRun) -> Result<i64> {
        Ok(self.client.get_mut().query_one(
            "INSERT INTO ingest_run (kind, source, file, mapping, started_at) VALUES ($1, $2, $3, $4, $5) RETURNING run_id",
            &[&run.kind, &run.source, &run.file, &run.mapping, &run.started_at],
        )?.get(0))
    }

    fn write_batch(&mut self, run_id: i64, batch: &Batch) -> Result<()> {
        // A rotation by another process since the last batch: seal under its new keys.
        if self.codec.get().is_some() {
            let stored = crate::fieldcrypt::KeyTable::load_keys(self.client.get_mut())?;
            self.codec.reload(stored)?;
        }
        let format = self.copy_format;
        let codec = self.codec.get();
        let codec = codec.as_deref();
        let mut tx = self.client.get_mut().transaction()?;
        let (claimed, encoded) = std::thread::scope(|scope| {
            let encoder = scope.spawn(|| encode_batch(codec, run_id, batch));
            let claimed = claim_batch(&mut tx, format, codec, run_id, batch);
            let encoded = encoder
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (claimed, encoded)
        });
        let Some((uids, merged)) = claimed? else {
            return Ok(());
        };
        let Encoded {
            values,
            bound,
            fresh_content,
            link_details,
            issue_values,
            quarantine_texts,
            person_keys,
        } = encoded?;
        let mut seen: HashSet<(Entity, &str)> = HashSet::new();
        let fresh: Vec<bool> = batch
            .entities
            .iter()
            .map(|row| {
                let key = (row.record.entity, row.uid.as_str());
                !merged.contains_key(&key) && seen.insert(key)
            })
            .collect();
        // The writers' lock is held, so the ledger's next number is known now, and the
        // merges and ledger entries are computed on a second thread while this one copies
        // every row that depends on neither.
        let first_seq = next_seq(&mut tx)?;
        let (copied, settled) = std::thread::scope(|scope| {
            let settler = scope.spawn(|| {
                settle_batch(
                    batch,
                    run_id,
                    &fresh,
                    &values,
                    fresh_content,
                    merged,
                    first_seq,
                )
            });
            let copied =
                copy_new_rows(&mut tx, format, batch, &uids, &fresh, &bound).and_then(|()| {
                    copy_batch_records(
                        &mut tx,
                        format,
                        run_id,
                        batch,
                        Unmerged {
                            issue_values: &issue_values,
                            quarantine_texts: &quarantine_texts,
                            link_details: &link_details,
                            person_keys: &person_keys,
                        },
                    )
                });
            let settled = settler
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (copied, settled)
        });
        copied?;
        let Settled {
            merged,
            order,
            ledger,
        } = settled?;
        for entity in uids.keys() {
            let rows: Vec<&MergeState> = order
                .iter()
                .filter(|(e, _)| e == entity)
                .map(|k| &merged[k])
                .collect();
            merge::write_merged(&mut tx, codec, *entity, &rows)?;
        }
        copy_ledger(&mut tx, format, &ledger)?;
        if !batch.workflow.is_empty() {
            let seq: Option<i64> = tx
                .query_one("SELECT MAX(seq) FROM ledger_entry", &[])?
                .get(0);
            let stmt = tx.prepare(
                "INSERT INTO workflow_item (kind, id, body, updated_seq) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, updated_seq = excluded.updated_seq",
            )?;
            for w in &batch.workflow {
                tx.execute(&stmt, &[&w.kind, &w.id, &w.body, &seq])?;
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
        self.client.get_mut().execute(
            "UPDATE ingest_run SET finished_at = $2, records_read = $3, accepted = $4, quarantined = $5, repaired = $6, duplicates = $7, quality = $8 WHERE run_id = $1",
            &[&run_id, &finished_at, &c.records_read, &c.accepted, &c.quarantined, &c.repaired, &c.duplicates, &quality],
        )?;
        Ok(())
    }

    fn runs(&self) -> Result<Vec<RunRow>> {
        let rows = self.client.borrow_mut().query(
            "SELECT run_id, kind, source, file, mapping, started_at, finished_at, records_read, accepted, quarantined, repaired, duplicates, quality FROM ingest_run ORDER BY run_id",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| RunRow {
                run_id: r.get(0),
                kind: r.get(1),
                source: r.get(2),
                file: r.get(3),
                mapping: r.get(4),
                started_at: r.get(5),
                finished_at: r.get(6),
                counts: RunCounts {
                    records_read: r.get(7),
                    accepted: r.get(8),
                    quarantined: r.get(9),
                    repaired: r.get(10),
                    duplicates: r.get(11),
                },
                quality: r.get(12),
            })
            .collect())
    }

    fn next_ids(&self) -> Result<IdCounters> {
        let mut client = self.client.borrow_mut();
        let mut q = |sql: &str| -> Result<i64> { Ok(client.query_one(sql, &[])?.get(0)) };
        Ok(IdCounters {
            source_record: q("SELECT COALESCE(MAX(id), 0)::BIGINT FROM source_record")?,
            person: q(
                "SELECT COALESCE(MAX(SUBSTR(uid, 2)::BIGINT), 0)::BIGINT FROM std_person WHERE uid ~ '^.[0-9]{1,18}$'",
            )?,
            case: q(
                "SELECT COALESCE(MAX(SUBSTR(uid, 2)::BIGINT), 0)::BIGINT FROM std_case WHERE uid ~ '^.[0-9]{1,18}$'",
            )?,
        })
    }

    fn load_keys(&self) -> Result<ResolutionKeys> {
        let mut client = self.client.borrow_mut();
        let mut load = |sql: &str| -> Result<Vec<(String, String)>> {
            Ok(client
                .query(sql, &[])?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect())
        };
        Ok((
            load("SELECT key, person_uid FROM person_key ORDER BY key COLLATE \"C\", person_uid COLLATE \"C\"")?,
            load("SELECT key, case_uid FROM case_key ORDER BY key COLLATE \"C\"")?,
        ))
    }

    fn count(&self, entity: Entity) -> Result<i64> {
        Ok(self
            .client
            .borrow_mut()
            .query_one(&format!("SELECT COUNT(*) FROM {}", table(entity)), &[])?
            .get(0))
    }

    fn uids(&self, entity: Entity, after: &str, limit: usize) -> Result<Vec<String>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.client.borrow_mut().query(
            &format!(
                "SELECT uid FROM {} WHERE uid COLLATE \"C\" > $1 ORDER BY uid COLLATE \"C\" LIMIT $2",
                table(entity)
            ),
            &[&after, &limit],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn get(&self, entity: Entity, uid: &str) -> Result<Option<StoredEntity>> {
        self.reading(|| {
            let (cols, first_field) = entity_columns(entity);
            let sql = format!(
                "SELECT {} FROM {} WHERE uid = $1",
                cols.join(", "),
                table(entity)
            );
            let stmt = self.statement(&sql)?;
            let Some(r) = self.client.borrow_mut().query_opt(&stmt, &[&uid])? else {
                return Ok(None);
            };
            decode_entity(self.codec.get().as_deref(), entity, &r, first_field).map(Some)
        })
    }

    fn get_many(&self, entity: Entity, uids: &[String]) -> Result<Vec<StoredEntity>> {
        self.reading(|| {
            let (cols, first_field) = entity_columns(entity);
            let sql = format!(
                "SELECT {} FROM {} WHERE uid = ANY($1)",
                cols.join(", "),
                table(entity)
            );
            let stmt = self.statement(&sql)?;
            let mut out = Vec::with_capacity(uids.len());
            for block in uids.chunks(1000) {
                let rows = self.client.borrow_mut().query(&stmt, &[&block])?;
                for r in &rows {
                    out.push(decode_entity(
                        self.codec.get().as_deref(),
                        entity,
                        r,
                        first_field,
                    )?);
                }
            }
            Ok(out)
        })
    }

    fn rows_of_case(&self, entity: Entity, case_uid: &str) -> Result<Vec<StoredEntity>> {
        self.reading(|| {
            // `''` stores "no case" and is no case's uid.
            if !entity.is_dependent() || case_uid.is_empty() {
                return Ok(Vec::new());
            }
            let (cols, first_field) = entity_columns(entity);
            let stmt = self.statement(&format!(
                "SELECT {} FROM {} WHERE case_uid = $1 ORDER BY uid COLLATE \"C\"",
                cols.join(", "),
                table(entity)
            ))?;
            let rows = self.client.borrow_mut().query(&stmt, &[&case_uid])?;
            rows.iter()
                .map(|r| decode_entity(self.codec.get().as_deref(), entity, r, first_field))
                .collect()
        })
    }

    fn rows_of_case_each(
        &self,
        case_uid: &str,
        entities: &[Entity],
    ) -> Result<Vec<(Entity, Vec<StoredEntity>)>> {
        self.reading(|| {
            let mut out: Vec<(Entity, Vec<StoredEntity>)> =
                entities.iter().map(|&e| (e, Vec::new())).collect();
            let asked: Vec<(usize, Entity)> = entities
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, e)| e.is_dependent())
                .collect();
            if asked.is_empty() || case_uid.is_empty() {
                return Ok(out);
            }
            // One statement for every entity: each branch gives its fields as one JSON array,
            // so the branches share a row type.
            let branches: Vec<String> = asked
                .iter()
                .map(|(at, e)| {
                    let fields: Vec<&str> = e.fields().iter().map(|f| f.name).collect();
                    format!(
                        "SELECT {at}::INT AS at, uid, lineage, NULLIF(case_uid, '') AS case_uid, person_uid, \
                         json_build_array({})::TEXT AS fields FROM {} WHERE case_uid = $1",
                        fields.join(", "),
                        table(*e)
                    )
                })
                .collect();
            let sql = format!(
                "SELECT * FROM ({}) sections ORDER BY at, uid COLLATE \"C\"",
                branches.join(" UNION ALL ")
            );
            let stmt = self.statement(&sql)?;
            let rows = self.client.borrow_mut().query(&stmt, &[&case_uid])?;
            let codec = self.codec.get();
            for r in &rows {
                let at: i32 = r.try_get(0)?;
                let slot = usize::try_from(at)
                    .ok()
                    .and_then(|at| out.get_mut(at))
                    .ok_or_else(|| StoreError::Corrupt(format!("branch {at} was not asked")))?;
                let row = decode_json_fields(codec.as_deref(), slot.0, r)?;
                slot.1.push(row);
            }
            Ok(out)
        })
    }

    fn rows_of_cases(&self, entity: Entity, cases: &[String]) -> Result<Vec<StoredEntity>> {
        self.reading(|| {
            let key = match entity {
                Entity::Case => "uid",
                e if e.is_dependent() => "case_uid",
                _ => return Ok(Vec::new()),
            };
            let (cols, first_field) = entity_columns(entity);
            let sql = format!(
                "SELECT {} FROM {} WHERE {key} = ANY($1) ORDER BY {key} COLLATE \"C\", uid COLLATE \"C\"",
                cols.join(", "),
                table(entity)
            );
            let mut out = Vec::new();
            // One indexed `= ANY` read per block of cases: one round trip instead of one per row.
            for block in cases.chunks(1000) {
                let block: Vec<&str> = block
                    .iter()
                    .map(String::as_str)
                    .filter(|c| !c.is_empty())
                    .collect();
                let rows = self.client.borrow_mut().query(&sql, &[&block])?;
                for r in &rows {
                    out.push(decode_entity(self.codec.get().as_deref(), entity, r, first_field)?);
                }
            }
            Ok(out)
        })
    }

    fn field_fill(&self, entity: Entity) -> Result<Vec<(&'static str, i64)>> {
        let exprs: Vec<String> = entity
            .fields()
            .iter()
            .map(|f| format!("COUNT({})", f.name))
            .collect();
        let sql = format!("SELECT {} FROM {}", exprs.join(", "), table(entity));
        let r = self.client.borrow_mut().query_one(&sql, &[])?;
        Ok(entity
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name, r.get(i)))
            .collect())
    }

    fn link_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let rows = self.client.borrow_mut().query(
            "SELECT entity, rule, COUNT(*) FROM entity_link GROUP BY entity, rule ORDER BY entity COLLATE \"C\", rule COLLATE \"C\"",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn links_of(&self, entity: Entity, uid: &str) -> Result<Vec<LinkRow>> {
        self.reading(|| {
            let rows = self.client.borrow_mut().query(
                "SELECT source_record_id, rule, detail FROM entity_link WHERE entity = $1 AND uid = $2 ORDER BY id",
                &[&entity.name(), &uid],
            )?;
            rows.iter()
                .map(|r| {
                    let source_record_id: i64 = r.get(0);
                    let row = format!("{source_record_id}|{}|{uid}", entity.name());
                    Ok(LinkRow {
                        entity,
                        uid: uid.to_string(),
                        source_record_id,
                        rule: r.get(1),
                        detail: open_text(
                            self.codec.get().as_deref(),
                            "entity_link",
                            "detail",
                            &row,
                            r.get(2),
                        )?,
                    })
                })
                .collect()
        })
    }

    fn links_with_source(&self, entity: Entity, uids: &[String]) -> Result<Vec<(LinkRow, String)>> {
        self.reading(|| {
            let rows = self.client.borrow_mut().query(
                "SELECT l.uid, l.source_record_id, l.rule, l.detail, s.source FROM entity_link l \
                 JOIN source_record s ON s.id = l.source_record_id \
                 WHERE l.entity = $1 AND l.uid = ANY($2) ORDER BY l.id",
                &[&entity.name(), &uids],
            )?;
            rows.iter()
                .map(|r| {
                    let uid: String = r.get(0);
                    let source_record_id: i64 = r.get(1);
                    let row = format!("{source_record_id}|{}|{uid}", entity.name());
                    let detail = open_text(
                        self.codec.get().as_deref(),
                        "entity_link",
                        "detail",
                        &row,
                        r.get(3),
                    )?;
                    Ok((
                        LinkRow {
                            entity,
                            uid,
                            source_record_id,
                            rule: r.get(2),
                            detail,
                        },
                        r.get(4),
                    ))
                })
                .collect()
        })
    }

    fn quarantine_list(&self, status: Option<&str>, limit: usize) -> Result<Vec<QuarantineEntry>> {
        self.reading(|| {
            let sql = format!(
                "SELECT {QUARANTINE_COLS} FROM quarantine WHERE ($1::TEXT IS NULL OR status = $1) ORDER BY id LIMIT $2"
            );
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = self.client.borrow_mut().query(&sql, &[&status, &limit])?;
            rows.iter()
                .map(|r| quarantine_from_row(self.codec.get().as_deref(), r))
                .collect()
        })
    }

    fn quarantine_get(&self, id: i64) -> Result<Option<QuarantineEntry>> {
        self.reading(|| {
            let sql = format!("SELECT {QUARANTINE_COLS} FROM quarantine WHERE id = $1");
            let row = self.client.borrow_mut().query_opt(&sql, &[&id])?;
            row.as_ref()
                .map(|r| quarantine_from_row(self.codec.get().as_deref(), r))
                .transpose()
        })
    }

    fn quarantine_by_rule(&self) -> Result<Vec<(String, i64)>> {
        // Counted here, not in SQL: the reasons are sealed.
        Ok(crate::count_by_rule(
            &self.quarantine_list(Some("open"), usize::MAX)?,
        ))
    }

    fn source_outcomes(&self) -> Result<Vec<(String, String, i64, i64)>> {
        let rows = self.client.borrow_mut().query(
            "SELECT source, file, COUNT(*) FILTER (WHERE outcome = 'accepted'), COUNT(*) FILTER (WHERE outcome = 'quarantined') \
             FROM source_record GROUP BY source, file ORDER BY source COLLATE \"C\", file COLLATE \"C\"",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    fn source_record(&self, id: i64) -> Result<Option<SourceRecordRow>> {
        let row = self.client.borrow_mut().query_opt(
            "SELECT id, source, file, record_no, line, sha256, outcome FROM source_record WHERE id = $1",
            &[&id],
        )?;
        Ok(row.map(|r| {
            let outcome: String = r.get(6);
            SourceRecordRow {
                id: r.get(0),
                source: r.get(1),
                file: r.get(2),
                record_no: r.get(3),
                line: r.get(4),
                sha256: r.get(5),
                outcome: if outcome == "accepted" {
                    Outcome::Accepted
                } else {
                    Outcome::Quarantined
                },
            }
        }))
    }

    fn append_events(&mut self, events: &[LedgerEvent]) -> Result<()> {
        let mut tx = self.client.get_mut().transaction()?;
        append_in_tx(&mut tx, self.copy_format, events.to_vec())?;
        tx.commit()?;
        Ok(())
    }

    fn ledger_len(&self) -> Result<i64> {
        Ok(self
            .client
            .borrow_mut()
            // Gapless numbering (see the SQLite backend): the last number plus one.
            .query_one("SELECT COALESCE(MAX(seq) + 1, 0) FROM ledger_entry", &[])?
            .get(0))
    }

    fn ledger_entries(&self, from: i64, limit: i64) -> Result<Vec<LedgerRow>> {
        let rows = self.client.borrow_mut().query(
            "SELECT seq, kind, entity, uid, body, body_sha256 FROM ledger_entry WHERE seq >= $1 ORDER BY seq LIMIT $2",
            &[&from, &limit],
        )?;
        Ok(rows
            .iter()
            .map(|r| LedgerRow {
                seq: r.get(0),
                kind: r.get(1),
                entity: r.get(2),
                uid: r.get(3),
                body: r.get(4),
                body_sha256: r.get(5),
            })
            .collect())
    }

    fn ledger_entries_of_kind(&self, kind: &str, from: i64, to: i64) -> Result<Vec<LedgerRow>> {
        let rows = self.client.borrow_mut().query(
            "SELECT seq, kind, entity, uid, body, body_sha256 FROM ledger_entry WHERE seq >= $1 AND seq < $2 AND kind = $3 ORDER BY seq",
            &[&from, &to, &kind],
        )?;
        Ok(rows
            .iter()
            .map(|r| LedgerRow {
                seq: r.get(0),
                kind: r.get(1),
                entity: r.get(2),
                uid: r.get(3),
                body: r.get(4),
                body_sha256: r.get(5),
            })
            .collect())
    }

    fn put_checkpoint(
        &mut self,
        size: i64,
        note: &str,
        created_at: &str,
        peaks: &[u8],
    ) -> Result<()> {
        let mut tx = self.client.get_mut().transaction()?;
        tx.execute(
            "INSERT INTO ledger_checkpoint (size, note, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (size) DO UPDATE SET note = excluded.note, created_at = excluded.created_at",
            &[&size, &note, &created_at],
        )?;
        tx.execute(
            "INSERT INTO ledger_state (id, size, peaks) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET size = excluded.size, peaks = excluded.peaks",
            &[&size, &peaks],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn checkpoints(&self) -> Result<Vec<(i64, String)>> {
        let rows = self.client.borrow_mut().query(
            "SELECT size, note FROM ledger_checkpoint ORDER BY size",
            &[],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn checkpoint_times(&self) -> Result<Vec<(i64, String)>> {
        let rows = self.client.borrow_mut().query(
            "SELECT size, created_at::TEXT FROM ledger_checkpoint ORDER BY size",
            &[],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn archive_ledger_bodies(&mut self, stubs: &[(i64, String)]) -> Result<()> {
        let mut tx = self.client.get_mut().transaction()?;
        let stmt = tx.prepare(
            "UPDATE ledger_entry SET body = $2 WHERE seq = $1 AND body NOT LIKE '{\"archived\":%'",
        )?;
        for (seq, stub) in stubs {
            tx.execute(&stmt, &[seq, stub])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn ledger_state(&self) -> Result<Option<(i64, Vec<u8>)>> {
        let row = self
            .client
            .borrow_mut()
            .query_opt("SELECT size, peaks FROM ledger_state WHERE id = 1", &[])?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
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

    fn start_key_rotation(&mut self, data_dir: &std::path::Path) -> Result<()> {
        let current = self.codec.get().ok_or_else(|| {
            StoreError::Config("field encryption is not enabled on this store".into())
        })?;
        let next = crate::fieldcrypt::start_rotation(self.client.get_mut(), data_dir, &current)?;
        self.codec.set(next);
        Ok(())
    }

    fn reseal_pending(&self) -> Result<Vec<(String, String, i64)>> {
        let Some(codec) = self.codec.get() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for c in crate::fieldcrypt::sealed_columns() {
            let n: i64 = self
                .client
                .borrow_mut()
                .query_one(
                    &format!(
                        "SELECT COUNT(*) FROM {} WHERE {col} IS NOT NULL AND {col} NOT LIKE $1",
                        c.table,
                        col = c.column
                    ),
                    &[&format!("{}%", codec.current_prefix(&c.table, c.column))],
                )?
                .get(0);
            out.push((c.table, c.column.to_string(), n));
        }
        Ok(out)
    }

    fn reseal_step(&mut self, limit: usize) -> Result<usize> {
        let Some(codec) = self.codec.get() else {
            return Ok(0);
        };
        let mut tx = self.client.get_mut().transaction()?;
        let mut moved = 0;
        for c in crate::fieldcrypt::sealed_columns() {
            if moved >= limit {
                break;
            }
            let pending = tx.query(
                &format!(
                    "SELECT {row}, {col} FROM {t} WHERE {col} IS NOT NULL AND {col} NOT LIKE $1 LIMIT $2",
                    row = c.row_key,
                    col = c.column,
                    t = c.table
                ),
                &[
                    &format!("{}%", codec.current_prefix(&c.table, c.column)),
                    &((limit - moved) as i64),
                ],
            )?;
            let update = tx.prepare(&format!(
                "UPDATE {t} SET {col} = $1 WHERE {row} = $2 AND {col} = $3",
                row = c.row_key,
                col = c.column,
                t = c.table
            ))?;
            for r in &pending {
                let row: String = r.get(0);
                let value: String = r.get(1);
                if let Some(sealed) = codec.reseal(&c.table, c.column, &row, &value)? {
                    tx.execute(&update, &[&sealed, &row, &value])?;
                    moved += 1;
                }
            }
        }
        tx.commit()?;
        Ok(moved)
    }

    fn row_hashes(&self, entity: Entity) -> Result<Vec<(String, String)>> {
        // Keys added by another process since this connection loaded its own.
        let stored = crate::fieldcrypt::KeyTable::load_keys(&mut *self.client.borrow_mut())?;
        self.codec.reload(stored)?;
        let rows = self.client.borrow_mut().query(
            &format!("SELECT * FROM {} ORDER BY uid COLLATE \"C\"", table(entity)),
            &[],
        )?;
        rows.iter()
            .map(|r| row_hash(self.codec.get().as_deref(), entity, r))
            .collect()
    }

    fn vacuum_after_load(&mut self) -> Result<Vec<(String, f64)>> {
        let client = self.client.get_mut();
        let schema: String = client.query_one("SELECT current_schema()", &[])?.get(0);
        let rewritten: Vec<String> = clustered_entities().map(table).collect();
        // Top-level tables only: VACUUM of a partitioned table takes its partitions.
        let tables: Vec<String> = client
            .query(
                "SELECT c.relname::TEXT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
                 AND NOT c.relispartition ORDER BY c.relname",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .filter(|t| !rewritten.contains(t))
            .collect();
        let mut done = Vec::new();
        for t in tables {
            let started = std::time::Instant::now();
            // VACUUM refuses to run inside a transaction block: one statement per call.
            client.batch_execute(&format!("VACUUM (ANALYZE) \"{schema}\".\"{t}\""))?;
            done.push((t, started.elapsed().as_secs_f64()));
        }
        Ok(done)
    }

    fn cluster_by_case(&mut self) -> Result<Vec<(String, f64)>> {
        let client = self.client.get_mut();
        let schema: String = client.query_one("SELECT current_schema()", &[])?.get(0);
        let mut done = Vec::new();
        for entity in clustered_entities() {
            let t = table(entity);
            // The table's key: (case_uid, uid[, occurred_at]) for a dependent, uid for a
            // case or a person. On a partitioned table it is a partitioned index, and CLUSTER
            // rewrites each partition by its part of it.
            let key: String = client
                .query_one(
                    "SELECT i.relname::TEXT FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
                     WHERE x.indrelid = to_regclass($1) AND (x.indisprimary OR x.indisunique) \
                     ORDER BY x.indisprimary DESC, i.relname LIMIT 1",
                    &[&format!("\"{schema}\".{t}")],
                )?
                .get(0);
            let started = std::time::Instant::now();
            // Each its own statement: CLUSTER of a partitioned table refuses to run inside a
            // transaction block, which several statements in one query string would be.
            client.batch_execute(&format!("CLUSTER \"{schema}\".{t} USING \"{key}\""))?;
            client.batch_execute(&format!("ANALYZE \"{schema}\".{t}"))?;
            done.push((t, started.elapsed().as_secs_f64()));
        }
        Ok(done)
    }

    fn put_workflow_item(
        &mut self,
        kind: &str,
        id: &str,
        body: &str,
        events: &[LedgerEvent],
    ) -> Result<()> {
        let mut tx = self.client.get_mut().transaction()?;
        append_in_tx(&mut tx, self.copy_format, events.to_vec())?;
        let seq: Option<i64> = tx
            .query_one("SELECT MAX(seq) FROM ledger_entry", &[])?
            .get(0);
        tx.execute(
            "INSERT INTO workflow_item (kind, id, body, updated_seq) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, updated_seq = excluded.updated_seq",
            &[&kind, &id, &body, &seq],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn put_workflow_items(&mut self, writes: &[WorkflowWrite]) -> Result<()> {
        // One transaction, one COPY of every entry and one upsert: a transaction (and a
        // commit to disk) per item made a full supervision run wait on thousands of syncs.
        let format = self.copy_format;
        let mut tx = self.client.get_mut().transaction()?;
        lock_ledger(&mut tx)?;
        let mut seq: Option<i64> = tx
            .query_one("SELECT MAX(seq) FROM ledger_entry", &[])?
            .get(0);
        // Each item records the last entry written up to and including its own, as writing
        // them one after another would.
        let mut latest: HashMap<(&str, &str), usize> = HashMap::new();
        let mut updated = Vec::with_capacity(writes.len());
        let mut events = Vec::new();
        for (i, w) in writes.iter().enumerate() {
            if !w.events.is_empty() {
                seq = Some(seq.map_or(0, |s| s + 1) + w.events.len() as i64 - 1);
            }
            events.extend(w.events.iter().cloned());
            updated.push(seq);
            latest.insert((w.kind.as_str(), w.id.as_str()), i);
        }
        append_in_tx(&mut tx, format, events)?;
        let kept: Vec<usize> = (0..writes.len())
            .filter(|&i| latest[&(writes[i].kind.as_str(), writes[i].id.as_str())] == i)
            .collect();
        if !kept.is_empty() {
            let kind: Vec<&str> = kept.iter().map(|&i| writes[i].kind.as_str()).collect();
            let id: Vec<&str> = kept.iter().map(|&i| writes[i].id.as_str()).collect();
            let body: Vec<&str> = kept.iter().map(|&i| writes[i].body.as_str()).collect();
            let seqs: Vec<Option<i64>> = kept.iter().map(|&i| updated[i]).collect();
            tx.execute(
                "INSERT INTO workflow_item (kind, id, body, updated_seq) \
                 SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[]) \
                 ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, updated_seq = excluded.updated_seq",
                &[&kind, &id, &body, &seqs],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn graph_write(&mut self, graph: &str, nodes: &[GraphNode], edges: &[GraphEdge]) -> Result<()> {
        // One upsert for the nodes and one COPY for the edges: a statement per row made a
        // case graph build a round trip per node and per edge.
        let format = self.copy_format;
        let mut tx = self.client.get_mut().transaction()?;
        let graph = &graph_rows_for_write(&mut tx, graph)?;
        // A node written twice in one call keeps its last version, as row-by-row upserts did
        // (one upsert statement may not touch a row twice).
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
        for (i, n) in nodes.iter().enumerate() {
            last.insert(n.node.as_str(), i);
        }
        let kept: Vec<&GraphNode> = nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| last[n.node.as_str()] == *i)
            .map(|(_, n)| n)
            .collect();
        if !kept.is_empty() {
            let node: Vec<&str> = kept.iter().map(|n| n.node.as_str()).collect();
            let kind: Vec<&str> = kept.iter().map(|n| n.kind.as_str()).collect();
            let key: Vec<&str> = kept.iter().map(|n| n.key.as_str()).collect();
            let case: Vec<Option<&str>> = kept.iter().map(|n| n.case_uid.as_deref()).collect();
            let record: Vec<Option<i64>> = kept.iter().map(|n| n.source_record_id).collect();
            tx.execute(
                "INSERT INTO graph_node (graph, node, kind, key, case_uid, source_record_id) \
                 SELECT $1, * FROM UNNEST($2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::BIGINT[]) \
                 ON CONFLICT (graph, node) DO UPDATE SET \
                 kind = excluded.kind, key = excluded.key, case_uid = excluded.case_uid, \
                 source_record_id = excluded.source_record_id",
                &[&graph, &node, &kind, &key, &case, &record],
            )?;
        }
        copy_rows(
            &mut tx,
            format,
            "graph_edge",
            &[
                "graph",
                "seq",
                "from_node",
                "to_node",
                "kind",
                "date",
                "case_uid",
                "field",
                "detail",
                "source_entity",
                "source_uid",
                "source_record_id",
            ],
            edges.iter().map(|e| {
                vec![
                    Col::Text(Some(graph)),
                    Col::Int(Some(e.seq)),
                    Col::Text(Some(&e.from)),
                    Col::Text(Some(&e.to)),
                    Col::Text(Some(&e.kind)),
                    Col::Text(e.date.as_deref()),
                    Col::Text(Some(e.case_uid.as_deref().unwrap_or(""))),
                    Col::Text(e.field.as_deref()),
                    Col::Text(e.detail.as_deref()),
                    Col::Text(e.source_entity.as_deref()),
                    Col::Text(e.source_uid.as_deref()),
                    Col::Int(e.source_record_id),
                ]
            }),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn graph_publish(&mut self, staging: &str, graph: &str, events: &[LedgerEvent]) -> Result<()> {
        let mut tx = self.client.get_mut().transaction()?;
        tx.batch_execute("LOCK TABLE graph_generation IN SHARE ROW EXCLUSIVE MODE")?;
        // The name moves to the staging rows; the old rows go. No staging row is rewritten.
        if let Some(live) = graph_rows(&mut tx, graph)? {
            for t in ["graph_node", "graph_edge"] {
                tx.execute(&format!("DELETE FROM {t} WHERE graph = $1"), &[&live])?;
            }
        }
        tx.execute("DELETE FROM graph_generation WHERE name = $1", &[&graph])?;
        tx.execute(
            "UPDATE graph_generation SET name = $1 WHERE name = $2",
            &[&graph, &staging],
        )?;
        append_in_tx(&mut tx, self.copy_format, events.to_vec())?;
        tx.commit()?;
        Ok(())
    }

    fn graph_clear(&mut self, graph: &str) -> Result<()> {
        let mut tx = self.client.get_mut().transaction()?;
        tx.batch_execute("LOCK TABLE graph_generation IN SHARE ROW EXCLUSIVE MODE")?;
        if let Some(stored) = graph_rows(&mut tx, graph)? {
            for t in ["graph_node", "graph_edge"] {
                tx.execute(&format!("DELETE FROM {t} WHERE graph = $1"), &[&stored])?;
            }
        }
        tx.execute("DELETE FROM graph_generation WHERE name = $1", &[&graph])?;
        tx.commit()?;
        Ok(())
    }

    fn graph_nodes(&self, graph: &str, nodes: &[String]) -> Result<Vec<GraphNode>> {
        let stmt = self.statement(
            "SELECT node, kind, key, case_uid, source_record_id FROM graph_node \
             WHERE graph = (SELECT stored_as FROM graph_generation WHERE name = $1) \
             AND node = ANY($2)",
        )?;
        let rows = self.client.borrow_mut().query(&stmt, &[&graph, &nodes])?;
        Ok(rows.iter().map(pg_graph_node).collect())
    }

    fn graph_edges_of(&self, graph: &str, nodes: &[String]) -> Result<Vec<GraphEdge>> {
        let stmt = self.statement(
            "SELECT seq, from_node, to_node, kind, date, case_uid, field, detail, source_entity, \
             source_uid, source_record_id FROM graph_edge \
             WHERE graph = (SELECT stored_as FROM graph_generation WHERE name = $1) \
             AND (from_node = ANY($2) OR to_node = ANY($2)) ORDER BY seq",
        )?;
        let rows = self.client.borrow_mut().query(&stmt, &[&graph, &nodes])?;
        Ok(rows.iter().map(pg_graph_edge).collect())
    }

    fn graph_nodes_after(&self, graph: &str, after: &str, limit: usize) -> Result<Vec<GraphNode>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let stmt = self.statement(
            "SELECT node, kind, key, case_uid, source_record_id FROM graph_node \
             WHERE graph = (SELECT stored_as FROM graph_generation WHERE name = $1) \
             AND node COLLATE \"C\" > $2 ORDER BY node COLLATE \"C\" LIMIT $3",
        )?;
        let rows = self
            .client
            .borrow_mut()
            .query(&stmt, &[&graph, &after, &limit])?;
        Ok(rows.iter().map(pg_graph_node).collect())
    }

    fn graph_edges_after(&self, graph: &str, after: i64, limit: usize) -> Result<Vec<GraphEdge>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let stmt = self.statement(
            "SELECT seq, from_node, to_node, kind, date, case_uid, field, detail, source_entity, \
             source_uid, source_record_id FROM graph_edge \
             WHERE graph = (SELECT stored_as FROM graph_generation WHERE name = $1) \
             AND seq > $2 ORDER BY seq LIMIT $3",
        )?;
        let rows = self
            .client
            .borrow_mut()
            .query(&stmt, &[&graph, &after, &limit])?;
        Ok(rows.iter().map(pg_graph_edge).collect())
    }

    fn workflow_item(&self, kind: &str, id: &str) -> Result<Option<String>> {
        let row = self.client.borrow_mut().query_opt(
            "SELECT body FROM workflow_item WHERE kind = $1 AND id = $2",
            &[&kind, &id],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn workflow_items(&self, kind: &str) -> Result<Vec<(String, String)>> {
        let rows = self.client.borrow_mut().query(
            "SELECT id, body FROM workflow_item WHERE kind = $1 ORDER BY id COLLATE \"C\"",
            &[&kind],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn workflow_items_after(
        &self,
        kind: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.client.borrow_mut().query(
            "SELECT id, body FROM workflow_item WHERE kind = $1 AND id COLLATE \"C\" > $2 \
             ORDER BY id COLLATE \"C\" LIMIT $3",
            &[&kind, &after, &limit],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

/// The `graph` value a named graph's rows are stored under (`graph_generation`), if any.
fn graph_rows(tx: &mut Transaction<'_>, name: &str) -> Result<Option<String>> {
    Ok(tx
        .query_opt(
            "SELECT stored_as FROM graph_generation WHERE name = $1",
            &[&name],
        )?
        .map(|r| r.get(0)))
}

/// [`graph_rows`], giving a name without rows a new generation to write under (the lock
/// keeps two first writers from taking the same one).
fn graph_rows_for_write(tx: &mut Transaction<'_>, name: &str) -> Result<String> {
    tx.batch_execute("LOCK TABLE graph_generation IN SHARE ROW EXCLUSIVE MODE")?;
    if let Some(stored) = graph_rows(tx, name)? {
        return Ok(stored);
    }
    let generation: i64 = tx
        .query_one(
            "SELECT (COALESCE(MAX(generation), 0) + 1)::BIGINT FROM graph_generation",
            &[],
        )?
        .get(0);
    let stored = format!("#{generation}");
    tx.execute(
        "INSERT INTO graph_generation (name, stored_as, generation) VALUES ($1, $2, $3)",
        &[&name, &stored, &generation],
    )?;
    Ok(stored)
}

fn pg_graph_node(r: &Row) -> GraphNode {
    GraphNode {
        node: r.get(0),
        kind: r.get(1),
        key: r.get(2),
        case_uid: r.get(3),
        source_record_id: r.get(4),
    }
}

fn pg_graph_edge(r: &Row) -> GraphEdge {
    let case: String = r.get(5);
    GraphEdge {
        seq: r.get(0),
        from: r.get(1),
        to: r.get(2),
        kind: r.get(3),
        date: r.get(4),
        case_uid: (!case.is_empty()).then_some(case),
        field: r.get(6),
        detail: r.get(7),
        source_entity: r.get(8),
        source_uid: r.get(9),
        source_record_id: r.get(10),
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// The test database, or `None` (after saying so) when `DATABASE_URL` is unset; with
    /// `XIEZHI_REQUIRE_PG=1` an unset `DATABASE_URL` fails the test instead.
    fn database_url(test: &str) -> Option<String> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                assert!(
                    std::env::var("XIEZHI_REQUIRE_PG").as_deref() != Ok("1"),
                    "XIEZHI_REQUIRE_PG=1 but DATABASE_URL is not set: the PostgreSQL tests cannot run"
                );
                eprintln!("{test}: skipped, DATABASE_URL is not set");
                None
            }
        }
    }

    /// Fresh, empty stores, each in its own schema; the schemas are dropped with the factory.
    struct Schemas {
        url: String,
        made: Vec<String>,
    }

    impl Schemas {
        fn new(url: String) -> Schemas {
            Schemas {
                url,
                made: Vec::new(),
            }
        }

        fn store(&mut self) -> PgStore {
            self.store_with(Layout::Plain)
        }

        /// A connection whose `search_path` is a new, empty schema.
        fn client(&mut self) -> Client {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let name = format!(
                "m_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            let mut client = Client::connect(&self.url, NoTls).expect("connect to DATABASE_URL");
            client
                .batch_execute(&format!("CREATE SCHEMA {name}; SET search_path TO {name}"))
                .expect("create schema");
            self.made.push(name);
            client
        }

        fn store_with(&mut self, layout: Layout) -> PgStore {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let name = format!(
                "t_{}_{}_{}",
                std::process::id(),
                nanos,
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            let mut client = Client::connect(&self.url, NoTls).expect("connect to DATABASE_URL");
            client
                .batch_execute(&format!("CREATE SCHEMA {name}; SET search_path TO {name}"))
                .expect("create schema");
            self.made.push(name);
            PgStore::from_client_with(client, layout).expect("migrate")
        }
    }

    impl Drop for Schemas {
        fn drop(&mut self) {
            if self.made.is_empty() {
                return;
            }
            if let Ok(mut client) = Client::connect(&self.url, NoTls) {
                for name in &self.made {
                    let _ = client.batch_execute(&format!("DROP SCHEMA {name} CASCADE"));
                }
            }
        }
    }

    /// `vacuum_after_load` vacuums every table `cluster_by_case` leaves alone, the
    /// partitioned ledger's partitions included, and none that it rewrites.
    #[test]
    fn vacuum_after_load_takes_every_table_not_clustered() {
        let Some(url) = database_url("vacuum_after_load") else {
            return;
        };
        let mut schemas = Schemas::new(url);
        let mut store = schemas.store();
        crate::conformance::write_mixed(&mut store);
        let tables: Vec<String> = store
            .vacuum_after_load()
            .unwrap()
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert!(tables.contains(&"ledger_entry".to_string()), "{tables:?}");
        assert!(tables.contains(&"source_record".to_string()), "{tables:?}");
        assert!(!tables.iter().any(|t| t == "std_case" || t == "std_person"));
        let client = store.client.get_mut();
        let never_vacuumed: Vec<String> = client
            .query(
                "SELECT relname::TEXT FROM pg_stat_user_tables \
                 WHERE schemaname = current_schema() AND relname LIKE 'ledger\\_entry\\_%' ESCAPE '\\' \
                 AND last_vacuum IS NULL",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(never_vacuumed.is_empty(), "{never_vacuumed:?}");
        let partitions: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_user_tables \
                 WHERE schemaname = current_schema() AND relname LIKE 'ledger\\_entry\\_%' ESCAPE '\\'",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(partitions > 0, "the ledger should be partitioned by time");
    }

    /// `cluster_by_case` rewrites every case-owned table and `std_person` by its key, in
    /// both layouts (a partitioned table partition by partition).
    #[test]
    fn clustering_rewrites_each_case_owned_table_by_its_key() {
        let Some(url) = database_url("clustering_by_case") else {
            return;
        };
        let mut schemas = Schemas::new(url);
        for layout in [Layout::Plain, Layout::HashPartitioned] {
            let mut store = schemas.store_with(layout);
            crate::conformance::write_mixed(&mut store);
            let tables: Vec<String> = store
                .cluster_by_case()
                .unwrap()
                .into_iter()
                .map(|(t, _)| t)
                .collect();
            let expected: Vec<String> = clustered_entities().map(table).collect();
            assert_eq!(tables, expected, "{layout:?}");
            // Every plain table, or every partition, remembers the key it was ordered by.
            let unclustered: i64 = store
                .client
                .get_mut()
                .query_one(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relkind = 'r' \
                     AND (c.relname LIKE 'std\\_%' ESCAPE '\\') \
                     AND c.relname NOT LIKE 'std\\_organization%' ESCAPE '\\' \
                     AND NOT EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisclustered)",
                    &[],
                )
                .unwrap()
                .get(0);
            assert_eq!(unclustered, 0, "{layout:?}");
        }
    }

    #[test]
    fn parallel_query_is_off_unless_the_connection_string_turns_it_on() {
        let Some(url) = database_url("parallel_query_is_off") else {
            return;
        };
        let workers = |store: &mut PgStore| -> String {
            store
                .client
                .get_mut()
                .query_one("SHOW max_parallel_workers_per_gather", &[])
                .unwrap()
                .get(0)
        };
        let mut schemas = Schemas::new(url.clone());
        assert_eq!(workers(&mut schemas.store()), "0");
        // A deployment that wants parallel aggregates says so in its connection string.
        let sep = if url.contains('?') { '&' } else { '?' };
        let mut asking = Schemas::new(format!(
            "{url}{sep}options=-c%20max_parallel_workers_per_gather%3D3"
        ));
        assert_eq!(workers(&mut asking.store()), "3");
    }

    #[test]
    fn conformance_on_postgres() {
        let Some(url) = database_url("conformance_on_postgres") else {
            return;
        };
        let mut schemas = Schemas::new(url);
        // With field encryption, as every command opens the store.
        let keys = tempfile::tempdir().unwrap();
        crate::conformance::run(&mut || {
            let mut store = schemas.store();
            store.enable_field_encryption(keys.path()).unwrap();
            store
        });
    }

    #[test]
    fn conformance_on_postgres_hash_partitioned() {
        let Some(url) = database_url("conformance_on_postgres_hash_partitioned") else {
            return;
        };
        let mut schemas = Schemas::new(url);
        crate::conformance::run(&mut || schemas.store_with(Layout::HashPartitioned));
        // The suite ran on the partitioned tables: the parent is partitioned by hash of the
        // case and its rows live in the hash partitions.
        let mut store = schemas.store_with(Layout::HashPartitioned);
        assert_eq!(store.layout(), Layout::HashPartitioned);
        let client = store.client.get_mut();
        for (t, strategy) in [("std_event", "h"), ("std_case", "h"), ("ledger_entry", "r")] {
            let got: String = client
                .query_one(
                    "SELECT p.partstrat::TEXT FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid \
                     WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace",
                    &[&t],
                )
                .unwrap()
                .get(0);
            assert_eq!(got, strategy, "{t}");
        }
        let parts: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent \
                 WHERE c.relname = 'std_sentence' AND c.relnamespace = current_schema()::regnamespace",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(parts, i64::from(HASH_PARTITIONS));
    }

    #[test]
    fn schema_matches_sqlite_and_migrates_once() {
        let Some(url) = database_url("schema_matches_sqlite_and_migrates_once") else {
            return;
        };
        let mut schemas = Schemas::new(url);
        let mut store = schemas.store();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION as i64);
        store.migrate().unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION as i64);
        let lite = SqliteStore::in_memory().unwrap();
        for e in Entity::ALL {
            assert_eq!(
                store.columns(&table(e)).unwrap(),
                lite.columns(&table(e)).unwrap(),
                "{}: columns differ from SQLite",
                e.name()
            );
            for f in e.fields() {
                let ty: String = store
                    .client
                    .get_mut()
                    .query_one(
                        "SELECT data_type::TEXT FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
                        &[&table(e), &f.name],
                    )
                    .unwrap()
                    .get(0);
                // Sealed numbers are text: a sealed value is text.
                let want = if is_text_column(e, f) {
                    "text"
                } else {
                    "bigint"
                };
                assert_eq!(ty, want, "{}.{}", e.name(), f.name);
            }
        }
    }

    /// Everything a store shows of its rows and ledger, for comparing backends.
    fn snapshot<S: Store>(store: &S) -> Vec<String> {
        let mut out = Vec::new();
        for e in Entity::ALL {
            for (uid, hash) in store.row_hashes(e).unwrap() {
                let row = store.get(e, &uid).unwrap();
                out.push(format!("{} {uid} {hash} {row:?}", e.name()));
            }
        }
        out.extend(
            store
                .ledger_entries(0, 10_000)
                .unwrap()
                .into_iter()
                .map(|e| format!("{e:?}")),
        );
        out
    }

    #[test]
    fn copy_path_stores_what_sqlite_stores_in_every_layout_and_format() {
        let Some(url) =
            database_url("copy_path_stores_what_sqlite_stores_in_every_layout_and_format")
        else {
            return;
        };
        let mut lite = SqliteStore::in_memory().unwrap();
        crate::conformance::write_mixed(&mut lite);
        let want = snapshot(&lite);
        assert_eq!(want.len(), 6 + 4, "six rows and four entries");
        let mut schemas = Schemas::new(url);
        for layout in [Layout::Plain, Layout::HashPartitioned] {
            for format in [CopyFormat::Binary, CopyFormat::Text] {
                let mut pg = schemas.store_with(layout);
                pg.set_copy_format(format);
                crate::conformance::write_mixed(&mut pg);
                assert_eq!(snapshot(&pg), want, "{layout:?}, {format:?}");
            }
        }
    }

    /// A database at schema version 3, as the previous release left it.
    fn version_3_database(schemas: &mut Schemas) -> Client {
        let mut client = schemas.client();
        client
            .batch_execute(
                "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
            )
            .unwrap();
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            client.batch_execute(sql).unwrap();
            client
                .execute(
                    "INSERT INTO schema_migrations VALUES ($1, 'then')",
                    &[&(i as i64 + 1)],
                )
                .unwrap();
        }
        let at = Value::DateTime(
            chrono::NaiveDate::from_ymd_opt(2023, 3, 1)
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .unwrap(),
        )
        .canonical();
        client
            .batch_execute(&format!(
                "INSERT INTO std_case (uid, police_case_no, amount, lineage, run_id, version) \
                   VALUES ('C1', 'A1', 500, '{{\"amount\":1,\"police_case_no\":1}}', 1, 1);
                 INSERT INTO std_event (uid, case_uid, kind, occurred_at, lineage, run_id, version) \
                   VALUES ('E1', 'C1', 'case_filed', '{at}', '{{\"kind\":1}}', 1, 1), \
                          ('E2', NULL, 'case_filed', NULL, '{{\"kind\":1}}', 1, 2);
                 INSERT INTO std_person (uid, name, lineage, run_id, version) \
                   VALUES ('P1', '张三', '{{\"name\":1}}', 1, 1);
                 INSERT INTO ledger_entry VALUES (0, 'records_written', NULL, NULL, '{{}}', 'x'), \
                   (1, 'records_written', NULL, NULL, '{{\"seq\":1}}', 'y');"
            ))
            .unwrap();
        client
    }

    #[test]
    fn migration_4_keeps_rows_hashes_and_ledger_of_a_version_3_database() {
        let Some(url) =
            database_url("migration_4_keeps_rows_hashes_and_ledger_of_a_version_3_database")
        else {
            return;
        };
        let mut schemas = Schemas::new(url);
        for layout in [Layout::Plain, Layout::HashPartitioned] {
            let mut client = version_3_database(&mut schemas);
            let mut before = Vec::new();
            for &e in Entity::V1_0 {
                for r in client
                    .query(&format!("SELECT * FROM {} ORDER BY uid", table(e)), &[])
                    .unwrap()
                {
                    before.push((e, row_hash(None, e, &r).unwrap()));
                }
            }
            assert_eq!(before.len(), 4);
            let mut store = PgStore::from_client_with(client, layout).unwrap();
            assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION as i64);
            let mut after = Vec::new();
            for e in Entity::ALL {
                after.extend(store.row_hashes(e).unwrap().into_iter().map(|h| (e, h)));
            }
            assert_eq!(after, before, "{layout:?}: rows hash as before the move");
            let e2 = store.get(Entity::Event, "E2").unwrap().unwrap();
            assert_eq!(e2.case_uid, None);
            let of_case: Vec<String> = store
                .rows_of_case(Entity::Event, "C1")
                .unwrap()
                .into_iter()
                .map(|r| r.uid)
                .collect();
            assert_eq!(of_case, ["E1"]);
            let entries = store.ledger_entries(0, 10).unwrap();
            assert_eq!(
                entries
                    .iter()
                    .map(|e| e.body_sha256.as_str())
                    .collect::<Vec<_>>(),
                ["x", "y"]
            );
            // And it takes new writes on top.
            crate::conformance::write_sample(&mut store);
            assert_eq!(store.ledger_len().unwrap(), 3);
        }
    }

    #[test]
    fn layout_comes_from_the_url_and_must_match_the_database() {
        assert_eq!(
            split_layout("postgres://u:p@h:1/db?layout=partitioned&sslmode=disable").unwrap(),
            (
                "postgres://u:p@h:1/db?sslmode=disable".to_string(),
                Some(Layout::HashPartitioned)
            )
        );
        assert_eq!(
            split_layout("postgres://u@h/db?layout=plain").unwrap(),
            ("postgres://u@h/db".to_string(), Some(Layout::Plain))
        );
        assert_eq!(
            split_layout("host=h user=u layout=partitioned").unwrap(),
            ("host=h user=u".to_string(), Some(Layout::HashPartitioned))
        );
        assert!(matches!(
            split_layout("postgres://h/db?layout=sharded"),
            Err(StoreError::Config(m)) if m.contains("`sharded`")
        ));
        let Some(url) = database_url("layout_comes_from_the_url_and_must_match_the_database")
        else {
            return;
        };
        let mut schemas = Schemas::new(url.clone());
        let store = schemas.store_with(Layout::HashPartitioned);
        drop(store);
        let schema = schemas.made[0].clone();
        let mut client = Client::connect(&url, NoTls).unwrap();
        client
            .batch_execute(&format!("SET search_path TO {schema}"))
            .unwrap();
        let err = PgStore::from_client_with(client, Layout::Plain)
            .err()
            .expect("a partitioned database is not opened as plain");
        assert!(
            matches!(&err, StoreError::Config(m) if m.contains("`partitioned`")),
            "{err}"
        );
        let mut client = Client::connect(&url, NoTls).unwrap();
        client
            .batch_execute(&format!("SET search_path TO {schema}"))
            .unwrap();
        let store = PgStore::from_client(client).unwrap();
        assert_eq!(
            store.layout(),
            Layout::HashPartitioned,
            "unasked, the stored layout"
        );
    }

    #[test]
    fn identical_rows_hash_identically_in_both_backends() {
        let Some(url) = database_url("identical_rows_hash_identically_in_both_backends") else {
            return;
        };
        let mut schemas = Schemas::new(url);
        let mut pg = schemas.store();
        let mut lite = SqliteStore::in_memory().unwrap();
        crate::conformance::write_sample(&mut pg);
        crate::conformance::write_sample(&mut lite);
        let pg_hashes = pg.row_hashes(Entity::Person).unwrap();
        assert_eq!(pg_hashes.len(), 1);
        assert_eq!(pg_hashes, lite.row_hashes(Entity::Person).unwrap());
        assert_eq!(
            pg.ledger_entries(0, 10).unwrap(),
            lite.ledger_entries(0, 10).unwrap(),
            "the same write makes the same ledger entry"
        );
    }
}

/// The columns an entity row is read with: uid, lineage, (case and person of dependent rows),
/// then the standard fields; returns them and the index of the first field.
fn entity_columns(entity: Entity) -> (Vec<&'static str>, usize) {
    let mut cols = vec!["uid", "lineage"];
    if entity.is_dependent() {
        cols.extend(["NULLIF(case_uid, '')", "person_uid"]);
    }
    let first_field = cols.len();
    cols.extend(entity.fields().iter().map(|f| f.name));
    (cols, first_field)
}

/// A stored text value of a field back into its value: opened if sealed, then parsed.
fn text_value(
    codec: Option<&FieldCodec>,
    entity: Entity,
    f: &xiezhi_standard::FieldDef,
    uid: &str,
    stored: String,
) -> Result<Value> {
    let t = table(entity);
    let s = if crate::fieldcrypt::is_sealed_field(entity, f.name) {
        open_text(codec, &t, f.name, uid, stored)?
    } else {
        stored
    };
    if is_int(f.ty) {
        let n: i64 = s.parse().map_err(|_| {
            StoreError::Corrupt(format!("{t}.{} row {uid}: `{s}` is not a number", f.name))
        })?;
        Ok(match f.ty {
            FieldType::Money => Value::Money(n),
            _ => Value::Int(n),
        })
    } else {
        Value::from_canonical(f.ty, &s)
            .ok_or_else(|| StoreError::Corrupt(format!("value `{s}` does not fit {:?}", f.ty)))
    }
}

/// The entities whose tables `cluster_by_case` rewrites (and `vacuum_after_load` leaves to
/// it): every case-owned one, and the persons a case read joins.
fn clustered_entities() -> impl Iterator<Item = Entity> {
    Entity::ALL
        .into_iter()
        .filter(|e| layout::case_owned(*e) || *e == Entity::Person)
}

/// A row's lineage column: field → source record id, in field order as on SQLite. A
/// `BTreeMap`, not `serde_json::Map`, whose order changes when any crate in the build turns on
/// serde_json's `preserve_order`.
fn parse_lineage(text: &str) -> Result<Vec<(String, i64)>> {
    let json: std::collections::BTreeMap<String, serde_json::Value> = serde_json::from_str(text)?;
    Ok(json
        .into_iter()
        .filter_map(|(k, v)| v.as_i64().map(|id| (k, id)))
        .collect())
}

/// A row of [`Store::rows_of_case_each`] (`at, uid, lineage, case_uid, person_uid, fields`
/// with the fields as a JSON array in field order) back into a stored entity: the same values
/// [`decode_entity`] gives.
fn decode_json_fields(
    codec: Option<&FieldCodec>,
    entity: Entity,
    r: &postgres::Row,
) -> Result<StoredEntity> {
    let uid: String = r.try_get(1)?;
    let t = table(entity);
    let text: String = r.try_get(5)?;
    let values: Vec<serde_json::Value> = serde_json::from_str(&text)?;
    let fields = entity.fields();
    if values.len() != fields.len() {
        return Err(StoreError::Corrupt(format!(
            "{t} row {uid}: {} values for {} fields",
            values.len(),
            fields.len()
        )));
    }
    let mut record = Record::new(entity);
    for (f, v) in fields.iter().zip(values) {
        let number = |n: i64| match f.ty {
            FieldType::Money => Value::Money(n),
            _ => Value::Int(n),
        };
        let value = match v {
            serde_json::Value::Null => None,
            serde_json::Value::Number(n) if !is_text_column(entity, f) => {
                Some(number(n.as_i64().ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "{t}.{} row {uid}: `{n}` is not an integer",
                        f.name
                    ))
                })?))
            }
            serde_json::Value::String(s) if is_text_column(entity, f) => {
                Some(text_value(codec, entity, f, &uid, s)?)
            }
            other => {
                return Err(StoreError::Corrupt(format!(
                    "{t}.{} row {uid}: unexpected {other}",
                    f.name
                )))
            }
        };
        if let Some(v) = value {
            record.fields.insert(f.name, v);
        }
    }
    let lineage = parse_lineage(&r.try_get::<_, String>(2)?)?;
    Ok(StoredEntity {
        uid,
        case_uid: r.try_get(3)?,
        person_uid: r.try_get(4)?,
        record,
        lineage,
    })
}

/// One row read with [`entity_columns`] back into a stored entity.
fn decode_entity(
    codec: Option<&FieldCodec>,
    entity: Entity,
    r: &postgres::Row,
    first_field: usize,
) -> Result<StoredEntity> {
    let fields = entity.fields();
    let mut record = Record::new(entity);
    let uid: String = r.try_get(0)?;
    for (i, f) in fields.iter().enumerate() {
        let at = first_field + i;
        let number = |n: i64| match f.ty {
            FieldType::Money => Value::Money(n),
            _ => Value::Int(n),
        };
        let value = if !is_text_column(entity, f) {
            r.try_get::<_, Option<i64>>(at)?.map(number)
        } else {
            match r.try_get::<_, Option<String>>(at)? {
                None => None,
                Some(s) => Some(text_value(codec, entity, f, &uid, s)?),
            }
        };
        if let Some(v) = value {
            record.fields.insert(f.name, v);
        }
    }
    let lineage = parse_lineage(&r.try_get::<_, String>(1)?)?;
    let (case_uid, person_uid) = if entity.is_dependent() {
        (r.try_get(2)?, r.try_get(3)?)
    } else {
        (None, None)
    };
    Ok(StoredEntity {
        uid,
        case_uid,
        person_uid,
        record,
        lineage,
    })
}
