//! Migration 10: keep a case's rows together on disk.
//!
//! Until migration 9 every standard table was a rowid table: rows lay in insertion order, one
//! department file after another, and a case's rows were spread over as many pages as files
//! that mention it. Once the file outgrows memory each of those pages is a disk read, and a
//! case-360 read (a dozen tables) waits on dozens of them.
//!
//! The migration rebuilds the case-owned tables `WITHOUT ROWID`, keyed `(case_uid, uid)`: the
//! B-tree is the table, so a case's rows in one table sit side by side on one or two leaf
//! pages, and a read by case is one descent and a short range scan. `std_case` and
//! `std_person` are keyed by `uid` alone the same way, which saves the second descent a rowid
//! table needs after its key index. A unique index on `uid` keeps uids unique across cases
//! and serves reads and merges by uid.
//!
//! A key column cannot be null, so a dependent row without a case is stored under the empty
//! case `''` (as on PostgreSQL) and read, merged and hashed as the null it stands for.
//!
//! The statements are generated from the tables as they stand (`PRAGMA table_info`), so
//! every column keeps its name, type, default and position: the ledger's content hashes,
//! which commit to the column order, stay valid across the rebuild.

use rusqlite::{OptionalExtension, Transaction};
use xiezhi_standard::Entity;

use crate::{table, Result};

/// The empty case: how a dependent row without a case is stored.
pub(crate) const NO_CASE: &str = "";

/// Whether `entity`'s table is clustered, and by which key.
pub(crate) fn cluster_key(entity: Entity) -> Option<&'static str> {
    if entity.is_dependent() {
        Some("case_uid, uid")
    } else if matches!(entity, Entity::Case | Entity::Person) {
        Some("uid")
    } else {
        None
    }
}

/// One column as `PRAGMA table_info` gives it.
struct Column {
    name: String,
    ty: String,
    not_null: bool,
    default: Option<String>,
}

fn columns(tx: &Transaction<'_>, t: &str) -> Result<Vec<Column>> {
    let mut stmt = tx.prepare(&format!("PRAGMA table_info({t})"))?;
    let cols = stmt
        .query_map([], |r| {
            Ok(Column {
                name: r.get(1)?,
                ty: r.get(2)?,
                not_null: r.get::<_, i64>(3)? != 0,
                default: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(cols)
}

/// The statements that rebuild one table clustered by `key`; none when it already is.
fn rebuild_sql(tx: &Transaction<'_>, entity: Entity, key: &str) -> Result<Option<String>> {
    let t = table(entity);
    let already: Option<String> = tx
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [&t],
            |r| r.get(0),
        )
        .optional()?;
    let Some(create) = already else {
        return Ok(None);
    };
    if create.to_uppercase().contains("WITHOUT ROWID") {
        return Ok(None);
    }
    let cols = columns(tx, &t)?;
    let defs: Vec<String> = cols
        .iter()
        .map(|c| match c.name.as_str() {
            "uid" => "uid TEXT NOT NULL".to_string(),
            "case_uid" => format!("case_uid TEXT NOT NULL DEFAULT '{NO_CASE}'"),
            _ => {
                let mut d = format!("{} {}", c.name, c.ty);
                if c.not_null {
                    d.push_str(" NOT NULL");
                }
                if let Some(v) = &c.default {
                    d.push_str(&format!(" DEFAULT {v}"));
                }
                d
            }
        })
        .collect();
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    let selected: Vec<String> = names
        .iter()
        .map(|n| match *n {
            "case_uid" => format!("COALESCE(case_uid, '{NO_CASE}')"),
            n => n.to_string(),
        })
        .collect();
    // The table's other indexes come back after the rename; the one on `case_uid` alone is
    // the key's prefix now.
    let mut stmt = tx.prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
    )?;
    let indexes = stmt
        .query_map([&t], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let new = format!("{t}__by_case");
    let mut sql = format!(
        "CREATE TABLE {new} ({}, PRIMARY KEY ({key})) WITHOUT ROWID;\n\
         INSERT INTO {new} ({}) SELECT {} FROM {t} ORDER BY {key};\n\
         DROP TABLE {t};\n\
         ALTER TABLE {new} RENAME TO {t};\n",
        defs.join(", "),
        names.join(", "),
        selected.join(", "),
    );
    if key != "uid" {
        sql.push_str(&format!("CREATE UNIQUE INDEX {t}_uid ON {t}(uid);\n"));
    }
    for (name, create) in indexes {
        if name != format!("{t}_case") {
            sql.push_str(&create);
            sql.push_str(";\n");
        }
    }
    Ok(Some(sql))
}

/// Runs migration 10 inside the migration's transaction.
pub(crate) fn cluster_by_case(tx: &Transaction<'_>) -> Result<()> {
    for entity in Entity::ALL {
        if let Some(key) = cluster_key(entity) {
            if let Some(sql) = rebuild_sql(tx, entity, key)? {
                tx.execute_batch(&sql)?;
            }
        }
    }
    Ok(())
}
