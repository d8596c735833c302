//! What both backends do with their field codec: seal and open values and files, or pass them
//! through where encryption is off. One copy, so SQLite and PostgreSQL seal alike.

use crate::fieldcrypt::{CodecSlot, FieldCodec, KeyBlinder, SEALED_FILE_MAGIC, SEALED_PREFIX};
use crate::{Result, StoreError};

/// A quarantined record's raw columns and reasons as stored: JSON, each sealed under the
/// entry's source record.
pub(crate) fn seal_quarantine(
    codec: Option<&FieldCodec>,
    q: &crate::QuarantineEntry,
) -> Result<(String, String)> {
    let row = q.source_record_id.to_string();
    Ok((
        seal_text(
            codec,
            "quarantine",
            "raw",
            &row,
            serde_json::to_string(&q.raw)?,
        )?,
        seal_text(
            codec,
            "quarantine",
            "reasons",
            &row,
            serde_json::to_string(&q.reasons)?,
        )?,
    ))
}

/// Seals `plain` for `table.column` of `row`, or returns it as is without encryption.
pub(crate) fn seal_text(
    codec: Option<&FieldCodec>,
    table: &str,
    column: &str,
    row: &str,
    plain: String,
) -> Result<String> {
    match codec {
        Some(c) => Ok(c.seal(table, column, row, &plain)?),
        None => Ok(plain),
    }
}

/// Opens a value of a sealed column (legacy plaintext passes through).
pub(crate) fn open_text(
    codec: Option<&FieldCodec>,
    table: &str,
    column: &str,
    row: &str,
    stored: String,
) -> Result<String> {
    match codec {
        Some(c) => Ok(c.open(table, column, row, &stored)?.into_owned()),
        None if stored.starts_with(SEALED_PREFIX) => Err(StoreError::Config(format!(
            "{table}.{column} row {row} is encrypted but no key file was loaded (field encryption is off for this connection)"
        ))),
        None => Ok(stored),
    }
}

/// The blinder of person keys: keyed when encryption is on.
pub(crate) fn blinder(slot: &CodecSlot) -> KeyBlinder {
    slot.get().map_or_else(KeyBlinder::none, |c| c.blinder())
}

/// (suite, KEK version, KEK location) when encryption is on.
pub(crate) fn info(slot: &CodecSlot) -> Option<(xiezhi_crypto::Suite, u32, String)> {
    slot.get()
        .map(|c| (c.suite(), c.kek_version(), c.kek_name()))
}

/// Seals a file kept beside the database, or returns it unchanged without encryption.
pub(crate) fn seal_file(slot: &CodecSlot, name: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    match slot.get() {
        Some(c) => Ok(c.seal_file(name, bytes)?),
        None => Ok(bytes.to_vec()),
    }
}

/// Opens a sealed file (plain files pass through).
pub(crate) fn open_file(slot: &CodecSlot, name: &str, stored: &[u8]) -> Result<Vec<u8>> {
    match slot.get() {
        Some(c) => Ok(c.open_file(name, stored)?),
        None if stored.starts_with(SEALED_FILE_MAGIC) => Err(StoreError::Config(format!(
            "file {name} is encrypted but no key file was loaded"
        ))),
        None => Ok(stored.to_vec()),
    }
}
