//! Merges of a batch's rows onto rows already stored, computed in the client.
//!
//! A department sends the same case or person again and again (every act of a case carries
//! the case); each such row merges onto the stored one: stored values are kept, gaps filled,
//! each field keeps its first lineage and the version goes up by one. Done as one `UPDATE`
//! per row, the merges were most of a PostgreSQL ingest (a round trip, a plan and a new heap
//! tuple each, about seven per case). Here the batch reads the stored rows once per entity,
//! applies the merges in batch order in memory (so every intermediate version still gets its
//! own content hash in the ledger), and writes each row's final state with one `UPDATE` per
//! entity. The result is byte for byte what SQLite stores (`json_patch` for the lineage).

use ::postgres::types::ToSql;
use ::postgres::Transaction;
use serde::de::{Deserializer, MapAccess, Visitor};
use xiezhi_standard::Entity;

use super::{bound_values, is_int, open_stored, stored_columns, stored_row, Owned, Stored};
use crate::fieldcrypt::FieldCodec;
use crate::{table, Result, StoreError};

/// A row as it stands after the merges so far: plaintext values in write-column order, then
/// lineage and run id (as [`super::row_values`] lays them out), and its version.
pub(super) struct MergeState {
    pub values: Vec<Owned>,
    pub version: i64,
}

impl MergeState {
    /// A row just copied in by this batch (version 1).
    pub fn fresh(values: &[Owned]) -> MergeState {
        MergeState {
            values: values.to_vec(),
            version: 1,
        }
    }

    /// A stored row (every column, by name), its sealed fields opened. `''`, the stored form
    /// of "no case", becomes null as in the hash.
    pub fn from_stored(
        codec: Option<&FieldCodec>,
        entity: Entity,
        row: &::postgres::Row,
    ) -> Result<MergeState> {
        let (names, mut stored) = stored_row(row)?;
        open_stored(codec, entity, &names, &mut stored)?;
        let take = |name: &str, stored: &mut [Stored]| -> Result<Stored> {
            let at = names.iter().position(|n| n == name).ok_or_else(|| {
                StoreError::Corrupt(format!("{} has no column `{name}`", table(entity)))
            })?;
            Ok(std::mem::replace(&mut stored[at], Stored::Null))
        };
        let mut values = Vec::with_capacity(names.len());
        let first_field = if entity.is_dependent() { 3 } else { 1 };
        for (i, name) in crate::write_columns(entity).iter().enumerate() {
            let int = i
                .checked_sub(first_field)
                .and_then(|at| entity.fields().get(at))
                .is_some_and(|f| is_int(f.ty));
            values.push(owned(entity, name, take(name, &mut stored)?, int)?);
        }
        if entity.is_dependent() {
            if let Owned::Text(case) = &mut values[1] {
                if case.as_deref() == Some("") {
                    *case = None;
                }
            }
        }
        values.push(owned(
            entity,
            "lineage",
            take("lineage", &mut stored)?,
            false,
        )?);
        values.push(owned(entity, "run_id", take("run_id", &mut stored)?, true)?);
        let version = match take("version", &mut stored)? {
            Stored::Int(v) => v,
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "{} row without a version",
                    table(entity)
                )))
            }
        };
        Ok(MergeState { values, version })
    }

    /// Merges a new row (same layout) onto this one: stored values win, gaps are filled, the
    /// lineage keeps each field's first source, the run is the new one, the version goes up.
    pub fn merge(&mut self, new: &[Owned]) -> Result<()> {
        let n = self.values.len();
        if new.len() != n {
            return Err(StoreError::Corrupt(format!(
                "merge of {} values onto {n}",
                new.len()
            )));
        }
        for (old, new) in self.values[1..n - 2].iter_mut().zip(&new[1..n - 2]) {
            if old.is_null() {
                *old = new.clone();
            }
        }
        let (Owned::Text(Some(stored)), Owned::Text(Some(added))) =
            (&self.values[n - 2], &new[n - 2])
        else {
            return Err(StoreError::Corrupt("merge without lineage".into()));
        };
        self.values[n - 2] = Owned::Text(Some(merge_lineage(stored, added)?));
        self.values[n - 1] = new[n - 1].clone();
        self.version += 1;
        Ok(())
    }
}

fn owned(entity: Entity, name: &str, v: Stored, int: bool) -> Result<Owned> {
    Ok(match v {
        Stored::Null if int => Owned::Int(None),
        Stored::Null => Owned::Text(None),
        Stored::Int(n) => Owned::Int(Some(n)),
        Stored::Text(t) => Owned::Text(Some(t)),
        Stored::Real(_) | Stored::Blob(_) => {
            return Err(StoreError::Corrupt(format!(
                "{}.{name} has a type the store never writes",
                table(entity)
            )))
        }
    })
}

/// A flat JSON object's members in their written order, each value as its JSON text.
struct Members(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, serde_json::Value>()? {
                    out.push((k, v.to_string()));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// SQLite's `json_patch(new, stored)` as the store uses it on lineage: the new keys in their
/// order with the stored value winning, then the stored-only keys in stored order.
pub(super) fn merge_lineage(stored: &str, new: &str) -> Result<String> {
    let parse = |text: &str| {
        serde_json::from_str::<Members>(text)
            .map(|m| m.0)
            .map_err(|e| StoreError::Corrupt(format!("lineage `{text}`: {e}")))
    };
    let stored = parse(stored)?;
    let new = parse(new)?;
    let mut out = String::from("{");
    let mut push = |k: &str, v: &str| {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::from(k).to_string());
        out.push(':');
        out.push_str(v);
    };
    for (k, v) in &new {
        let kept = stored.iter().find(|(s, _)| s == k).map_or(v, |(_, s)| s);
        push(k, kept);
    }
    for (k, v) in &stored {
        if !new.iter().any(|(n, _)| n == k) {
            push(k, v);
        }
    }
    out.push('}');
    Ok(out)
}

/// Writes the final states of merged rows of one entity with one `UPDATE ... FROM UNNEST`.
pub(super) fn write_merged(
    tx: &mut Transaction<'_>,
    codec: Option<&FieldCodec>,
    entity: Entity,
    rows: &[&MergeState],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let names = stored_columns(entity);
    let mut bound: Vec<Vec<Owned>> = Vec::with_capacity(rows.len());
    for r in rows {
        let mut b = bound_values(codec, entity, &r.values)?;
        if entity.is_dependent() {
            // A row without a case is stored under the empty case.
            if let Owned::Text(c @ None) = &mut b[1] {
                *c = Some(String::new());
            }
        }
        b.push(Owned::Int(Some(r.version)));
        bound.push(b);
    }
    enum Column {
        Text(Vec<Option<String>>),
        Int(Vec<Option<i64>>),
    }
    let mut columns: Vec<Column> = Vec::with_capacity(names.len());
    for c in 0..names.len() {
        let column = match &bound[0][c] {
            Owned::Int(_) => Column::Int(Vec::with_capacity(bound.len())),
            Owned::Text(_) => Column::Text(Vec::with_capacity(bound.len())),
        };
        columns.push(column);
    }
    for row in &mut bound {
        for (c, v) in row.drain(..).enumerate() {
            match (&mut columns[c], v) {
                (Column::Int(col), Owned::Int(v)) => col.push(v),
                (Column::Text(col), Owned::Text(v)) => col.push(v),
                _ => {
                    return Err(StoreError::Corrupt(format!(
                        "{}.{}: rows of one batch disagree on the column's type",
                        table(entity),
                        names[c]
                    )))
                }
            }
        }
    }
    let types: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            Column::Int(_) => format!("${}::BIGINT[]", i + 1),
            Column::Text(_) => format!("${}::TEXT[]", i + 1),
        })
        .collect();
    let sets: Vec<String> = names[1..].iter().map(|c| format!("{c} = v.{c}")).collect();
    let sql = format!(
        "UPDATE {t} AS t SET {} FROM UNNEST({}) AS v({}) WHERE t.uid = v.uid",
        sets.join(", "),
        types.join(", "),
        names.join(", "),
        t = table(entity),
    );
    let params: Vec<&(dyn ToSql + Sync)> = columns
        .iter()
        .map(|c| match c {
            Column::Int(v) => v as &(dyn ToSql + Sync),
            Column::Text(v) => v as &(dyn ToSql + Sync),
        })
        .collect();
    let changed = tx.execute(&sql, &params)?;
    if changed != rows.len() as u64 {
        return Err(StoreError::Corrupt(format!(
            "{}: {changed} rows updated for {} merged",
            table(entity),
            rows.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::merge_lineage;

    #[test]
    fn lineage_merge_is_sqlites_json_patch() {
        // New keys first in their order, stored values winning; then stored-only keys.
        assert_eq!(
            merge_lineage(r#"{"a":1,"c":3}"#, r#"{"b":7,"a":9}"#).unwrap(),
            r#"{"b":7,"a":1,"c":3}"#
        );
        assert_eq!(merge_lineage("{}", "{}").unwrap(), "{}");
        assert_eq!(merge_lineage(r#"{"x":2}"#, "{}").unwrap(), r#"{"x":2}"#);
        assert!(merge_lineage("[1]", "{}").is_err());
    }

    #[test]
    fn merging_one_by_one_equals_merging_the_folded_rows() {
        let s = r#"{"a":1,"b":2}"#;
        let l1 = r#"{"c":5,"a":6}"#;
        let l2 = r#"{"d":8,"c":9,"b":4}"#;
        let step = merge_lineage(&merge_lineage(s, l1).unwrap(), l2).unwrap();
        let folded = merge_lineage(s, &merge_lineage(l1, l2).unwrap()).unwrap();
        assert_eq!(step, folded);
    }
}
