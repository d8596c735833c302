//! The one place a store location (a connection URL or nothing) becomes a [`Store`].
//!
//! `postgres://` or `postgresql://` selects [`crate::PgStore`] (with the `postgres` feature);
//! no location means the embedded SQLite file in the data directory, so the default needs
//! nothing installed. A URL may pick a schema with libpq's `options=-csearch_path%3D<schema>`.

use std::path::{Path, PathBuf};

use crate::{
    Batch, GraphEdge, GraphNode, IdCounters, LedgerEvent, LedgerRow, LinkRow, NewRun,
    QuarantineEntry, ResolutionKeys, Result, RunCounts, RunRow, SourceRecordRow, SqliteStore,
    Store, StoreError, StoredEntity, WorkflowWrite,
};
use xiezhi_standard::Entity;

/// The file name of the embedded store inside a data directory.
pub const SQLITE_FILE: &str = "xiezhi.db";

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl Location {
    /// The location for a `--db` value (or none) and a data directory. A value that is not a
    /// PostgreSQL URL is taken as an SQLite file path (`sqlite://` prefix optional).
    pub fn parse(db: Option<&str>, data_dir: &Path) -> Location {
        match db.map(str::trim).filter(|s| !s.is_empty()) {
            None => Location::Sqlite(data_dir.join(SQLITE_FILE)),
            Some(s) if s.starts_with("postgres://") || s.starts_with("postgresql://") => {
                Location::Postgres(s.to_string())
            }
            Some(s) => Location::Sqlite(PathBuf::from(s.strip_prefix("sqlite://").unwrap_or(s))),
        }
    }

    /// The backend's name, for messages and benchmark tables.
    pub fn backend(&self) -> &'static str {
        match self {
            Location::Sqlite(_) => "sqlite",
            Location::Postgres(_) => "postgres",
        }
    }

    /// The location for people: the file, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => redact(url),
        }
    }
}

/// A URL with the password (between `user:` and `@`) replaced, so it can be printed.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

#[cfg(not(feature = "postgres"))]
fn no_postgres() -> StoreError {
    StoreError::Corrupt(
        "this build has no PostgreSQL backend (enable the `postgres` feature of xiezhi-store)"
            .into(),
    )
}

/// Opens (creating and migrating as needed) the store at a location. With `keys`, the data
/// directory holding `keys/kek-<v>.key` and `crypto.toml`, field encryption is on: L3/L4
/// columns are sealed (see [`crate::fieldcrypt`]). Every command and the server pass it; only
/// tests and the encryption-off benchmark open a store without.
pub fn open(at: &Location, keys: Option<&Path>) -> crate::Result<AnyStore> {
    match at {
        Location::Sqlite(path) => {
            let mut store = SqliteStore::open(path)?;
            if let Some(dir) = keys {
                store.enable_field_encryption(dir)?;
            }
            Ok(Box::new(store))
        }
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => {
            let mut store = crate::PgStore::connect(url)?;
            if let Some(dir) = keys {
                store.enable_field_encryption(dir)?;
            }
            Ok(Box::new(store))
        }
        #[cfg(not(feature = "postgres"))]
        Location::Postgres(_) => Err(no_postgres()),
    }
}

/// A connection for reads beside the writer: for SQLite a read-only, memory-mapped connection
/// to an existing file ([`SqliteStore::open_reader`]); for PostgreSQL one more connection.
/// `keys` as for [`open`]; a reader loads the stored data keys and creates none.
pub fn open_reader(at: &Location, keys: Option<&Path>) -> crate::Result<AnyStore> {
    match at {
        Location::Sqlite(path) => {
            let mut store = SqliteStore::open_reader(path)?;
            if let Some(dir) = keys {
                store.enable_field_decryption(dir)?;
            }
            Ok(Box::new(store))
        }
        Location::Postgres(_) => open(at, keys),
    }
}

/// Empties the store at a location so the next [`open`] starts afresh: deletes the SQLite file
/// (with its WAL), or drops every table of the connection's current schema in PostgreSQL.
pub fn reset(at: &Location) -> crate::Result<()> {
    match at {
        Location::Sqlite(path) => {
            for suffix in ["", "-wal", "-shm"] {
                let p = PathBuf::from(format!("{}{suffix}", path.display()));
                match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(StoreError::Corrupt(format!(
                            "cannot delete `{}`: {e}",
                            p.display()
                        )))
                    }
                }
            }
            Ok(())
        }
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => {
            let mut client = ::postgres::Client::connect(url, ::postgres::NoTls)?;
            let tables: Vec<String> = client
                .query(
                    "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()",
                    &[],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            for t in tables {
                // Partitions go with their parent; IF EXISTS skips those already dropped.
                client.batch_execute(&format!("DROP TABLE IF EXISTS {t} CASCADE"))?;
            }
            Ok(())
        }
        #[cfg(not(feature = "postgres"))]
        Location::Postgres(_) => Err(no_postgres()),
    }
}

/// Bytes the store occupies: the SQLite file with its WAL, or in PostgreSQL the total size of
/// the current schema's tables (with indexes and TOAST).
pub fn size_bytes(at: &Location) -> crate::Result<u64> {
    match at {
        Location::Sqlite(path) => Ok(["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
            .map(|m| m.len())
            .sum()),
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => {
            let mut client = ::postgres::Client::connect(url, ::postgres::NoTls)?;
            let n: i64 = client
                .query_one(
                    "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
                    &[],
                )?
                .get(0);
            Ok(n as u64)
        }
        #[cfg(not(feature = "postgres"))]
        Location::Postgres(_) => Err(no_postgres()),
    }
}

/// A store chosen at run time. Boxed stores are stores themselves (see the impl below), so
/// code generic over `S: Store` runs on either backend unchanged.
pub type AnyStore = Box<dyn Store + Send>;

/// Forwards every method, the defaulted ones too, so a backend's overrides stay in effect.
impl<T: Store + ?Sized> Store for Box<T> {
    fn begin_snapshot(&self) -> Result<()> {
        (**self).begin_snapshot()
    }
    fn end_snapshot(&self) -> Result<()> {
        (**self).end_snapshot()
    }
    fn begin_run(&mut self, run: &NewRun) -> Result<i64> {
        (**self).begin_run(run)
    }
    fn write_batch(&mut self, run_id: i64, batch: &Batch) -> Result<()> {
        (**self).write_batch(run_id, batch)
    }
    fn finish_run(
        &mut self,
        run_id: i64,
        finished_at: &str,
        counts: &RunCounts,
        quality: &str,
    ) -> Result<()> {
        (**self).finish_run(run_id, finished_at, counts, quality)
    }
    fn runs(&self) -> Result<Vec<RunRow>> {
        (**self).runs()
    }
    fn next_ids(&self) -> Result<IdCounters> {
        (**self).next_ids()
    }
    fn load_keys(&self) -> Result<ResolutionKeys> {
        (**self).load_keys()
    }
    fn count(&self, entity: Entity) -> Result<i64> {
        (**self).count(entity)
    }
    fn get(&self, entity: Entity, uid: &str) -> Result<Option<StoredEntity>> {
        (**self).get(entity, uid)
    }
    fn get_many(&self, entity: Entity, uids: &[String]) -> Result<Vec<StoredEntity>> {
        (**self).get_many(entity, uids)
    }
    fn uids(&self, entity: Entity, after: &str, limit: usize) -> Result<Vec<String>> {
        (**self).uids(entity, after, limit)
    }
    fn rows_of_case(&self, entity: Entity, case_uid: &str) -> Result<Vec<StoredEntity>> {
        (**self).rows_of_case(entity, case_uid)
    }
    fn rows_of_cases(&self, entity: Entity, cases: &[String]) -> Result<Vec<StoredEntity>> {
        (**self).rows_of_cases(entity, cases)
    }
    fn rows_of_cases_without_lineage(
        &self,
        entity: Entity,
        cases: &[String],
    ) -> Result<Vec<StoredEntity>> {
        (**self).rows_of_cases_without_lineage(entity, cases)
    }
    fn field_fill(&self, entity: Entity) -> Result<Vec<(&'static str, i64)>> {
        (**self).field_fill(entity)
    }
    fn link_counts(&self) -> Result<Vec<(String, String, i64)>> {
        (**self).link_counts()
    }
    fn rows_of_case_each(
        &self,
        case_uid: &str,
        entities: &[Entity],
    ) -> Result<Vec<(Entity, Vec<StoredEntity>)>> {
        (**self).rows_of_case_each(case_uid, entities)
    }
    fn links_of(&self, entity: Entity, uid: &str) -> Result<Vec<LinkRow>> {
        (**self).links_of(entity, uid)
    }
    fn links_with_source(&self, entity: Entity, uids: &[String]) -> Result<Vec<(LinkRow, String)>> {
        (**self).links_with_source(entity, uids)
    }
    fn quarantine_list(&self, status: Option<&str>, limit: usize) -> Result<Vec<QuarantineEntry>> {
        (**self).quarantine_list(status, limit)
    }
    fn quarantine_get(&self, id: i64) -> Result<Option<QuarantineEntry>> {
        (**self).quarantine_get(id)
    }
    fn quarantine_by_rule(&self) -> Result<Vec<(String, i64)>> {
        (**self).quarantine_by_rule()
    }
    fn source_outcomes(&self) -> Result<Vec<(String, String, i64, i64)>> {
        (**self).source_outcomes()
    }
    fn source_record(&self, id: i64) -> Result<Option<SourceRecordRow>> {
        (**self).source_record(id)
    }
    fn append_events(&mut self, events: &[LedgerEvent]) -> Result<()> {
        (**self).append_events(events)
    }
    fn ledger_len(&self) -> Result<i64> {
        (**self).ledger_len()
    }
    fn ledger_entries(&self, from: i64, limit: i64) -> Result<Vec<LedgerRow>> {
        (**self).ledger_entries(from, limit)
    }
    fn ledger_entries_of_kind(&self, kind: &str, from: i64, to: i64) -> Result<Vec<LedgerRow>> {
        (**self).ledger_entries_of_kind(kind, from, to)
    }
    fn set_auto_checkpoint(&self, on: bool) -> Result<()> {
        (**self).set_auto_checkpoint(on)
    }
    fn checkpoint(&self, restart: bool) -> Result<(i64, i64)> {
        (**self).checkpoint(restart)
    }
    fn put_checkpoint(
        &mut self,
        size: i64,
        note: &str,
        created_at: &str,
        peaks: &[u8],
    ) -> Result<()> {
        (**self).put_checkpoint(size, note, created_at, peaks)
    }
    fn checkpoints(&self) -> Result<Vec<(i64, String)>> {
        (**self).checkpoints()
    }
    fn checkpoint_times(&self) -> Result<Vec<(i64, String)>> {
        (**self).checkpoint_times()
    }
    fn archive_ledger_bodies(&mut self, stubs: &[(i64, String)]) -> Result<()> {
        (**self).archive_ledger_bodies(stubs)
    }
    fn ledger_state(&self) -> Result<Option<(i64, Vec<u8>)>> {
        (**self).ledger_state()
    }
    fn row_hashes(&self, entity: Entity) -> Result<Vec<(String, String)>> {
        (**self).row_hashes(entity)
    }
    fn vacuum_after_load(&mut self) -> Result<Vec<(String, f64)>> {
        (**self).vacuum_after_load()
    }
    fn cluster_by_case(&mut self) -> Result<Vec<(String, f64)>> {
        (**self).cluster_by_case()
    }
    fn key_blinder(&self) -> crate::fieldcrypt::KeyBlinder {
        (**self).key_blinder()
    }
    fn field_encryption(&self) -> Option<(xiezhi_crypto::Suite, u32, String)> {
        (**self).field_encryption()
    }
    fn seal_file(&self, name: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        (**self).seal_file(name, bytes)
    }
    fn open_file(&self, name: &str, stored: &[u8]) -> Result<Vec<u8>> {
        (**self).open_file(name, stored)
    }
    fn start_key_rotation(&mut self, data_dir: &Path) -> Result<()> {
        (**self).start_key_rotation(data_dir)
    }
    fn reseal_pending(&self) -> Result<Vec<(String, String, i64)>> {
        (**self).reseal_pending()
    }
    fn reseal_step(&mut self, limit: usize) -> Result<usize> {
        (**self).reseal_step(limit)
    }
    fn put_workflow_item(
        &mut self,
        kind: &str,
        id: &str,
        body: &str,
        events: &[LedgerEvent],
    ) -> Result<()> {
        (**self).put_workflow_item(kind, id, body, events)
    }
    fn put_workflow_items(&mut self, writes: &[WorkflowWrite]) -> Result<()> {
        (**self).put_workflow_items(writes)
    }
    fn workflow_item(&self, kind: &str, id: &str) -> Result<Option<String>> {
        (**self).workflow_item(kind, id)
    }
    fn workflow_items(&self, kind: &str) -> Result<Vec<(String, String)>> {
        (**self).workflow_items(kind)
    }
    fn workflow_items_after(
        &self,
        kind: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>> {
        (**self).workflow_items_after(kind, after, limit)
    }
    fn graph_write(&mut self, graph: &str, nodes: &[GraphNode], edges: &[GraphEdge]) -> Result<()> {
        (**self).graph_write(graph, nodes, edges)
    }
    fn graph_publish(&mut self, staging: &str, graph: &str, events: &[LedgerEvent]) -> Result<()> {
        (**self).graph_publish(staging, graph, events)
    }
    fn graph_clear(&mut self, graph: &str) -> Result<()> {
        (**self).graph_clear(graph)
    }
    fn graph_nodes(&self, graph: &str, nodes: &[String]) -> Result<Vec<GraphNode>> {
        (**self).graph_nodes(graph, nodes)
    }
    fn graph_edges_of(&self, graph: &str, nodes: &[String]) -> Result<Vec<GraphEdge>> {
        (**self).graph_edges_of(graph, nodes)
    }
    fn graph_nodes_after(&self, graph: &str, after: &str, limit: usize) -> Result<Vec<GraphNode>> {
        (**self).graph_nodes_after(graph, after, limit)
    }
    fn graph_edges_after(&self, graph: &str, after: i64, limit: usize) -> Result<Vec<GraphEdge>> {
        (**self).graph_edges_after(graph, after, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_picks_the_backend() {
        let d = Path::new("/d");
        assert_eq!(
            Location::parse(None, d),
            Location::Sqlite(PathBuf::from("/d/xiezhi.db"))
        );
        assert_eq!(
            Location::parse(Some("  "), d),
            Location::Sqlite(PathBuf::from("/d/xiezhi.db"))
        );
        assert_eq!(
            Location::parse(Some("sqlite:///x/y.db"), d),
            Location::Sqlite(PathBuf::from("/x/y.db"))
        );
        let pg = "postgresql://u:secret@h:5/db";
        assert_eq!(
            Location::parse(Some(pg), d),
            Location::Postgres(pg.to_string())
        );
        assert_eq!(
            Location::parse(Some(pg), d).display(),
            "postgresql://u:***@h:5/db"
        );
        assert_eq!(Location::parse(Some(pg), d).backend(), "postgres");
    }

    #[test]
    fn sqlite_open_reset_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let at = Location::parse(None, dir.path());
        let store = open(&at, Some(dir.path())).unwrap();
        assert!(store.field_encryption().is_some());
        assert_eq!(store.runs().unwrap().len(), 0);
        drop(store);
        assert!(size_bytes(&at).unwrap() > 0);
        reset(&at).unwrap();
        assert_eq!(size_bytes(&at).unwrap(), 0);
        reset(&at).unwrap();
    }
}
