//! `COPY ... FROM STDIN` for the bulk path, in either wire format: binary (the default: no
//! escaping, integers as 8 bytes) or text (kept so the bench can compare them).

use std::io::Write;

use ::postgres::types::{ToSql, Type};
use ::postgres::Transaction;

use crate::{Result, StoreError};

/// The wire format of `COPY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    Binary,
    Text,
}

/// One value of a copied row: the store's tables hold only text and 64-bit integers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Col<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

impl Col<'_> {
    fn ty(&self) -> Type {
        match self {
            Col::Text(_) => Type::TEXT,
            Col::Int(_) => Type::INT8,
        }
    }
}

impl Col<'_> {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Col::Text(v) => v,
            Col::Int(v) => v,
        }
    }
}

/// Appends one value in COPY's text format: `\N` for null, backslash escapes for the
/// characters that delimit fields and rows.
fn push_text(out: &mut String, col: &Col<'_>) {
    match col {
        Col::Text(None) | Col::Int(None) => out.push_str("\\N"),
        Col::Int(Some(n)) => out.push_str(&n.to_string()),
        Col::Text(Some(s)) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

/// Copies `rows` into `table (columns)` inside the transaction; every row has one value per
/// column. Returns the number of rows the server took.
pub(crate) fn copy_rows<'r>(
    tx: &mut Transaction<'_>,
    format: CopyFormat,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = Vec<Col<'r>>>,
) -> Result<u64> {
    let mut rows = rows.into_iter().peekable();
    let Some(first) = rows.peek() else {
        return Ok(0);
    };
    if first.len() != columns.len() {
        return Err(StoreError::Corrupt(format!(
            "copy into `{table}`: {} values for {} columns",
            first.len(),
            columns.len()
        )));
    }
    let types: Vec<Type> = first.iter().map(Col::ty).collect();
    let cols = columns.join(", ");
    match format {
        CopyFormat::Binary => {
            let sink = tx.copy_in(&format!("COPY {table} ({cols}) FROM STDIN (FORMAT binary)"))?;
            let mut w = ::postgres::binary_copy::BinaryCopyInWriter::new(sink, &types);
            for row in rows {
                w.write_raw(row.iter().map(Col::as_sql))?;
            }
            Ok(w.finish()?)
        }
        CopyFormat::Text => {
            let mut sink = tx.copy_in(&format!("COPY {table} ({cols}) FROM STDIN"))?;
            let mut buf = String::with_capacity(64 * 1024);
            for row in rows {
                for (i, col) in row.iter().enumerate() {
                    if i > 0 {
                        buf.push('\t');
                    }
                    push_text(&mut buf, col);
                }
                buf.push('\n');
                if buf.len() >= 60 * 1024 {
                    sink.write_all(buf.as_bytes())
                        .map_err(|e| StoreError::Corrupt(format!("copy into `{table}`: {e}")))?;
                    buf.clear();
                }
            }
            sink.write_all(buf.as_bytes())
                .map_err(|e| StoreError::Corrupt(format!("copy into `{table}`: {e}")))?;
            Ok(sink.finish()?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_escapes_delimiters_and_marks_null() {
        let mut out = String::new();
        for c in [
            Col::Text(Some("a\tb\nc\\d\re")),
            Col::Text(None),
            Col::Int(Some(-7)),
            Col::Int(None),
        ] {
            push_text(&mut out, &c);
            out.push('|');
        }
        assert_eq!(out, "a\\tb\\nc\\\\d\\re|\\N|-7|\\N|");
    }
}
