//! `COPY ... FROM STDIN` for the bulk path, in either wire format: binary (no escaping,
//! integers as 8 bytes) or text; the bench compares them.

use std::io::Write;

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
    let cols = columns.join(", ");
    let sql = match format {
        CopyFormat::Binary => format!("COPY {table} ({cols}) FROM STDIN (FORMAT binary)"),
        CopyFormat::Text => format!("COPY {table} ({cols}) FROM STDIN"),
    };
    let mut sink = tx.copy_in(&sql)?;
    let io = |e: std::io::Error| StoreError::Corrupt(format!("copy into `{table}`: {e}"));
    // Rows are encoded into one buffer sent in large chunks: the client's per-row writer
    // (`BinaryCopyInWriter`) made binary slower than text.
    let mut buf = Vec::with_capacity(64 * 1024);
    if format == CopyFormat::Binary {
        buf.extend_from_slice(BINARY_HEADER);
    }
    for row in rows {
        match format {
            CopyFormat::Binary => push_binary_row(&mut buf, &row),
            CopyFormat::Text => push_text_row(&mut buf, &row),
        }
        if buf.len() >= 60 * 1024 {
            sink.write_all(&buf).map_err(io)?;
            buf.clear();
        }
    }
    if format == CopyFormat::Binary {
        buf.extend_from_slice(&(-1i16).to_be_bytes());
    }
    sink.write_all(&buf).map_err(io)?;
    Ok(sink.finish()?)
}

/// Signature, flags (no OIDs) and header extension length of the binary format.
const BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// One row in COPY's binary format: field count, then per field its length (-1 for null) and
/// bytes (UTF-8 for text, 8 big-endian bytes for a BIGINT).
fn push_binary_row(buf: &mut Vec<u8>, row: &[Col<'_>]) {
    buf.extend_from_slice(&(row.len() as i16).to_be_bytes());
    for col in row {
        match col {
            Col::Text(None) | Col::Int(None) => buf.extend_from_slice(&(-1i32).to_be_bytes()),
            Col::Text(Some(s)) => {
                buf.extend_from_slice(&(s.len() as i32).to_be_bytes());
                buf.extend_from_slice(s.as_bytes());
            }
            Col::Int(Some(n)) => {
                buf.extend_from_slice(&8i32.to_be_bytes());
                buf.extend_from_slice(&n.to_be_bytes());
            }
        }
    }
}

fn push_text_row(buf: &mut Vec<u8>, row: &[Col<'_>]) {
    let mut line = String::new();
    for (i, col) in row.iter().enumerate() {
        if i > 0 {
            line.push('\t');
        }
        push_text(&mut line, col);
    }
    line.push('\n');
    buf.extend_from_slice(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A value as the server reads it back: text or integer, or null.
    #[derive(Debug, Clone, PartialEq)]
    enum Back {
        Null,
        Text(String),
        Int(i64),
    }

    fn expected(row: &[Col<'_>]) -> Vec<Back> {
        row.iter()
            .map(|c| match c {
                Col::Text(None) | Col::Int(None) => Back::Null,
                Col::Text(Some(s)) => Back::Text(s.to_string()),
                Col::Int(Some(n)) => Back::Int(*n),
            })
            .collect()
    }

    /// Reads one text-format line as PostgreSQL does (`\N`, backslash escapes, tab-separated).
    fn read_text(line: &str, ints: &[bool]) -> Vec<Back> {
        let line = line.strip_suffix('\n').expect("row ends with a newline");
        assert!(!line.contains('\n'), "a raw newline inside a row");
        line.split('\t')
            .zip(ints)
            .map(|(field, &int)| {
                if field == "\\N" {
                    return Back::Null;
                }
                let mut out = String::new();
                let mut chars = field.chars();
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        out.push(match chars.next().expect("escape") {
                            't' => '\t',
                            'n' => '\n',
                            'r' => '\r',
                            '\\' => '\\',
                            other => panic!("unexpected escape `\\{other}`"),
                        });
                    } else {
                        out.push(c);
                    }
                }
                if int {
                    Back::Int(out.parse().expect("integer"))
                } else {
                    Back::Text(out)
                }
            })
            .collect()
    }

    /// Reads one binary-format row: field count, then length-prefixed fields.
    fn read_binary(mut b: &[u8], ints: &[bool]) -> Vec<Back> {
        let mut take = |n: usize| {
            let (head, rest) = b.split_at(n);
            b = rest;
            head.to_vec()
        };
        let count = i16::from_be_bytes(take(2).try_into().unwrap());
        assert_eq!(count as usize, ints.len());
        let row = ints
            .iter()
            .map(|&int| {
                let len = i32::from_be_bytes(take(4).try_into().unwrap());
                if len < 0 {
                    return Back::Null;
                }
                let bytes = take(len as usize);
                if int {
                    Back::Int(i64::from_be_bytes(bytes.try_into().expect("8 bytes")))
                } else {
                    Back::Text(String::from_utf8(bytes).expect("utf-8"))
                }
            })
            .collect();
        assert!(b.is_empty(), "bytes left after the row");
        row
    }

    fn value() -> impl Strategy<Value = (bool, Option<String>, Option<i64>)> {
        (
            any::<bool>(),
            proptest::option::of("[a-z\t\n\r\\\\N案件 ]{0,12}"),
            proptest::option::of(any::<i64>()),
        )
    }

    proptest! {
        #[test]
        fn rows_read_back_as_written_in_both_formats(values in proptest::collection::vec(value(), 1..8)) {
            let row: Vec<Col<'_>> = values
                .iter()
                .map(|(int, s, n)| if *int { Col::Int(*n) } else { Col::Text(s.as_deref()) })
                .collect();
            let ints: Vec<bool> = values.iter().map(|v| v.0).collect();
            let mut text = Vec::new();
            push_text_row(&mut text, &row);
            let text = String::from_utf8(text).expect("utf-8");
            prop_assert_eq!(read_text(&text, &ints), expected(&row));
            let mut bin = Vec::new();
            push_binary_row(&mut bin, &row);
            prop_assert_eq!(read_binary(&bin, &ints), expected(&row));
        }
    }

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
