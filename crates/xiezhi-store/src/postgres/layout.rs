//! The distribution layout of the PostgreSQL schema (migration 4), generated from the
//! standard's schema so every entity table keeps SQLite's columns in SQLite's order.
//!
//! Both layouts key the case-owned tables by `case_uid` (a dependent row without a case is
//! stored under the empty case `''`, read back as none) and partition the ledger by the year
//! entries were appended, with a default partition so no row is refused. `Plain` partitions
//! events by the year of `occurred_at` the same way; `HashPartitioned` instead splits every
//! case-owned table, events included, `PARTITION BY HASH (case_uid)`: the local rehearsal of
//! distributing them on Citus.

use std::fmt::Write;

use xiezhi_standard::{Entity, FieldDef};

use crate::table;

/// How the case-owned tables are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One table per entity.
    Plain,
    /// Case-owned tables hash-partitioned by case uid into [`HASH_PARTITIONS`] parts.
    HashPartitioned,
}

/// Number of hash partitions of each case-owned table.
pub const HASH_PARTITIONS: u32 = 8;

/// Years with their own partition (events by act date, ledger by append date); earlier,
/// later and undated rows land in the default partition.
const EVENT_YEARS: std::ops::RangeInclusive<i32> = 2010..=2030;
const LEDGER_YEARS: std::ops::RangeInclusive<i32> = 2024..=2035;

impl Layout {
    /// The name stored in `store_layout` and accepted as `?layout=` in a connection URL.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Plain => "plain",
            Layout::HashPartitioned => "partitioned",
        }
    }

    pub fn parse(name: &str) -> Option<Layout> {
        match name {
            "plain" => Some(Layout::Plain),
            "partitioned" => Some(Layout::HashPartitioned),
            _ => None,
        }
    }
}

/// Whether an entity's rows belong to one case (and so are keyed and distributed by it).
pub(crate) fn case_owned(entity: Entity) -> bool {
    entity == Entity::Case || entity.is_dependent()
}

/// The column a case-owned table is keyed and partitioned by: a case's own uid is its case.
fn case_column(entity: Entity) -> &'static str {
    if entity == Entity::Case {
        "uid"
    } else {
        "case_uid"
    }
}

/// Column definitions of an entity table with `fields`, in SQLite's order. `sealed_as_text`:
/// an integer field sealed by field encryption is text (what migration 5 did to the v1.0
/// tables; tables created after it are created so).
fn column_defs(entity: Entity, fields: &[FieldDef], sealed_as_text: bool) -> String {
    let mut cols = vec!["uid TEXT NOT NULL".to_string()];
    if entity.is_dependent() {
        cols.push("case_uid TEXT NOT NULL DEFAULT ''".into());
        cols.push("person_uid TEXT".into());
    }
    for f in fields {
        cols.push(format!(
            "{} {}",
            f.name,
            column_type(entity, f, sealed_as_text)
        ));
    }
    cols.push("lineage TEXT NOT NULL".into());
    cols.push("run_id BIGINT NOT NULL".into());
    cols.push("version BIGINT NOT NULL DEFAULT 0".into());
    cols.join(", ")
}

fn column_type(entity: Entity, f: &FieldDef, sealed_as_text: bool) -> &'static str {
    let sealed = sealed_as_text && crate::fieldcrypt::is_sealed_field(entity, f.name);
    if f.ty.is_integer() && !sealed {
        "BIGINT"
    } else {
        "TEXT"
    }
}

/// Yearly range partitions of `parent` on a `YYYY-…` text or date column, plus the default.
fn year_partitions(
    out: &mut String,
    parent: &str,
    years: std::ops::RangeInclusive<i32>,
    date: bool,
) {
    for y in years {
        let (from, to) = if date {
            (format!("'{y}-01-01'"), format!("'{}-01-01'", y + 1))
        } else {
            // Text dates compare as strings; every date of year y sorts in [y, y+1).
            (format!("'{y}'"), format!("'{}'", y + 1))
        };
        let _ = writeln!(
            out,
            "CREATE TABLE {parent}_y{y} PARTITION OF {parent} FOR VALUES FROM ({from}) TO ({to});"
        );
    }
    let _ = writeln!(
        out,
        "CREATE TABLE {parent}_default PARTITION OF {parent} DEFAULT;"
    );
}

/// Migration 4: rebuilds the entity tables and the ledger in `layout`, moving what they hold.
pub(crate) fn migration(layout: Layout) -> String {
    let mut sql = String::from(
        "CREATE TABLE store_layout (id BIGINT PRIMARY KEY CHECK (id = 1), layout TEXT NOT NULL);\n",
    );
    let _ = writeln!(
        sql,
        "INSERT INTO store_layout (id, layout) VALUES (1, '{}');",
        layout.name()
    );
    for &entity in Entity::V1_0 {
        let t = table(entity);
        let mut cols = crate::write_columns_of(entity, entity.fields_v1_0());
        cols.extend(["lineage".into(), "run_id".into(), "version".into()]);
        let select: Vec<String> = cols
            .iter()
            .map(|c| {
                if c == "case_uid" {
                    "COALESCE(case_uid, '')".to_string()
                } else {
                    c.clone()
                }
            })
            .collect();
        let _ = writeln!(sql, "ALTER TABLE {t} RENAME TO {t}_v3;");
        create_table(&mut sql, entity, layout, entity.fields_v1_0(), false);
        let _ = writeln!(
            sql,
            "INSERT INTO {t} ({}) SELECT {} FROM {t}_v3;\nDROP TABLE {t}_v3;",
            cols.join(", "),
            select.join(", ")
        );
    }
    sql.push_str(
        "ALTER TABLE ledger_entry RENAME TO ledger_entry_v3;\n\
         CREATE TABLE ledger_entry (seq BIGINT NOT NULL, kind TEXT NOT NULL, entity TEXT, uid TEXT, \
         body TEXT NOT NULL, body_sha256 TEXT NOT NULL, appended_on DATE NOT NULL DEFAULT CURRENT_DATE, \
         CONSTRAINT ledger_entry_key PRIMARY KEY (seq, appended_on)) PARTITION BY RANGE (appended_on);\n",
    );
    year_partitions(&mut sql, "ledger_entry", LEDGER_YEARS, true);
    sql.push_str(
        "INSERT INTO ledger_entry (seq, kind, entity, uid, body, body_sha256) \
         SELECT seq, kind, entity, uid, body, body_sha256 FROM ledger_entry_v3;\n\
         DROP TABLE ledger_entry_v3;\n",
    );
    sql
}

/// `CREATE TABLE` of an entity table with `fields` in `layout`: its key, its partitions and
/// its uid index.
fn create_table(
    sql: &mut String,
    entity: Entity,
    layout: Layout,
    fields: &[FieldDef],
    sealed_as_text: bool,
) {
    let t = table(entity);
    let owned = case_owned(entity);
    let event = entity == Entity::Event;
    // PostgreSQL wants every partition key column in every unique key.
    let key = if !owned {
        "PRIMARY KEY (uid)".to_string()
    } else if event {
        // An event's date may be missing (it then lives in the default partition), so
        // its key is unique with NULLS NOT DISTINCT rather than a primary key.
        "UNIQUE NULLS NOT DISTINCT (case_uid, uid, occurred_at)".to_string()
    } else if entity == Entity::Case {
        "PRIMARY KEY (uid)".to_string()
    } else {
        "PRIMARY KEY (case_uid, uid)".to_string()
    };
    let partition = match (owned, layout, event) {
        (false, _, _) => String::new(),
        (true, Layout::HashPartitioned, _) => {
            format!(" PARTITION BY HASH ({})", case_column(entity))
        }
        (true, Layout::Plain, true) => " PARTITION BY RANGE (occurred_at)".into(),
        (true, Layout::Plain, false) => String::new(),
    };
    let _ = writeln!(
        sql,
        "CREATE TABLE {t} ({}, CONSTRAINT {t}_key {key}){partition};",
        column_defs(entity, fields, sealed_as_text)
    );
    if owned && layout == Layout::HashPartitioned {
        // Events are not split by year under the hash: a write looks each uid up in
        // every partition, and 8 × 22 of them cost six times the plain layout's lookups.
        for r in 0..HASH_PARTITIONS {
            let _ = writeln!(
                    sql,
                    "CREATE TABLE {t}_h{r} PARTITION OF {t} FOR VALUES WITH (MODULUS {HASH_PARTITIONS}, REMAINDER {r});"
                );
        }
    } else if event {
        year_partitions(sql, &t, EVENT_YEARS, false);
    }
    if entity.is_dependent() {
        // The key leads with the case; reads by uid alone need their own index.
        let _ = writeln!(sql, "CREATE INDEX {t}_uid ON {t} (uid);");
    }
}

/// Migration 6, standard v1.1: the petition's new fields and the justice-administration
/// tables, in the database's layout, with sealed integer fields as text from the start.
pub(crate) fn standard_v1_1_migration(layout: Layout) -> String {
    let mut sql = String::new();
    // The petition's new fields go before lineage, run and version, as in every entity table
    // (content hashes read columns in table order), so its table is rebuilt: the old one and
    // the names it holds (key, uid index, hash partitions) step aside first.
    let petition = Entity::Petition;
    let t = table(petition);
    let _ = writeln!(sql, "ALTER TABLE {t} RENAME TO {t}_v1_0;");
    let _ = writeln!(
        sql,
        "ALTER TABLE {t}_v1_0 RENAME CONSTRAINT {t}_key TO {t}_v1_0_key;"
    );
    let _ = writeln!(sql, "ALTER INDEX {t}_uid RENAME TO {t}_v1_0_uid;");
    if layout == Layout::HashPartitioned {
        for r in 0..HASH_PARTITIONS {
            let _ = writeln!(sql, "ALTER TABLE {t}_h{r} RENAME TO {t}_v1_0_h{r};");
        }
    }
    create_table(&mut sql, petition, layout, petition.fields(), true);
    let mut cols = crate::write_columns_of(petition, petition.fields_v1_0());
    cols.extend(["lineage".into(), "run_id".into(), "version".into()]);
    let _ = writeln!(
        sql,
        "INSERT INTO {t} ({c}) SELECT {c} FROM {t}_v1_0;\nDROP TABLE {t}_v1_0;",
        c = cols.join(", ")
    );
    for &entity in Entity::V1_1 {
        if !Entity::V1_0.contains(&entity) {
            create_table(&mut sql, entity, layout, entity.fields(), true);
        }
    }
    sql
}

/// Migration 7, standard v1.2: the entities added after v1.1 (the sentencing proposal).
pub(crate) fn standard_v1_2_migration(layout: Layout) -> String {
    let mut sql = String::new();
    for entity in Entity::ALL {
        if !Entity::V1_1.contains(&entity) {
            create_table(&mut sql, entity, layout, entity.fields(), true);
        }
    }
    sql
}

/// Migration 8, the named graphs (`graph_node`, `graph_edge`; SQLite `0008_graph.sql`). An
/// edge belongs to a case and is keyed and distributed by it (`''` for none, read back as
/// none); a node is keyed and distributed by its id, since an identifier node joins many
/// cases. `HashPartitioned` splits both by hash like the case-owned tables.
pub(crate) fn graph_migration(layout: Layout) -> String {
    let mut sql = String::new();
    let hashed = layout == Layout::HashPartitioned;
    let _ =
        writeln!(
        sql,
        "CREATE TABLE graph_node (graph TEXT NOT NULL, node TEXT NOT NULL, kind TEXT NOT NULL, \
         key TEXT NOT NULL, case_uid TEXT, source_record_id BIGINT, \
         CONSTRAINT graph_node_key PRIMARY KEY (graph, node)){};",
        if hashed { " PARTITION BY HASH (node)" } else { "" }
    );
    let _ = writeln!(
        sql,
        "CREATE TABLE graph_edge (graph TEXT NOT NULL, seq BIGINT NOT NULL, \
         from_node TEXT NOT NULL, to_node TEXT NOT NULL, kind TEXT NOT NULL, date TEXT, \
         case_uid TEXT NOT NULL DEFAULT '', field TEXT, detail TEXT, source_entity TEXT, \
         source_uid TEXT, source_record_id BIGINT, \
         CONSTRAINT graph_edge_key PRIMARY KEY (graph, case_uid, seq)){};",
        if hashed {
            " PARTITION BY HASH (case_uid)"
        } else {
            ""
        }
    );
    if hashed {
        for t in ["graph_node", "graph_edge"] {
            for r in 0..HASH_PARTITIONS {
                let _ = writeln!(
                    sql,
                    "CREATE TABLE {t}_h{r} PARTITION OF {t} FOR VALUES WITH (MODULUS {HASH_PARTITIONS}, REMAINDER {r});"
                );
            }
        }
    }
    // The key leads with the case; reads by position, and by either end, need their own.
    sql.push_str(
        "CREATE INDEX graph_edge_seq ON graph_edge (graph, seq);\n\
         CREATE INDEX graph_edge_from ON graph_edge (graph, from_node);\n\
         CREATE INDEX graph_edge_to ON graph_edge (graph, to_node);\n",
    );
    sql
}

/// Migration 9: graph generations (SQLite `0009_graph_generation.sql`: a published graph's
/// name points at its build's rows instead of the rows being rewritten under it), and room on
/// each page of `std_case` and `std_person` for the versions an ingest's merges write. A case
/// is merged again by every department file that mentions it (six times on average); with
/// full pages each new version went to another page and left a dead one behind, four times
/// the live table. At fill factor 50 almost every merge is a HOT update on its own page, whose
/// dead version the next visit prunes. Other tables are written once per row and stay full.
pub(crate) fn generations_and_fillfactor_migration(layout: Layout) -> String {
    let mut sql = String::from(include_str!("../../migrations/0009_graph_generation.sql"));
    sql.push('\n');
    for entity in [Entity::Case, Entity::Person] {
        let t = table(entity);
        if case_owned(entity) && layout == Layout::HashPartitioned {
            // A partitioned table has no storage of its own: its partitions take the setting.
            for r in 0..HASH_PARTITIONS {
                let _ = writeln!(sql, "ALTER TABLE {t}_h{r} SET (fillfactor = 50);");
            }
        } else {
            let _ = writeln!(sql, "ALTER TABLE {t} SET (fillfactor = 50);");
        }
    }
    sql
}
