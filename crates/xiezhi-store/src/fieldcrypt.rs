//! Field encryption at rest: envelope keys and the sealed-value codec.
//!
//! A key-encryption key ([`KeyEncryptionKey`]) wraps one data key per (table, column); only
//! wrapped data keys are stored (table `field_keys`). Values are sealed before they reach SQL
//! and opened after they leave it by [`FieldCodec`], the one place both backends share.
//!
//! Which columns are sealed is data: every field of the standard classified L3 or L4, plus the
//! columns that carry raw source values (quarantined records, repair findings, merge
//! explanations) — see [`sealed_columns`].
//!
//! A sealed value is text, so it fits the same column in SQLite and PostgreSQL:
//! `enc:<suite>:<key version>:<base64 of nonce || ciphertext || tag>`. The visible suite and
//! version let rotation find the values not yet moved with a `LIKE`, and let a verifier pick
//! the right key without guessing. The associated data is `table|column|row`, so a ciphertext
//! copied to another row or column does not open.
//!
//! Equality lookups (person by ID number) use a blind index: the suite MAC, under a per-column
//! index key that is itself a wrapped data key, over the normalized value ([`KeyBlinder`]).

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rusqlite::{params, Connection};
use xiezhi_crypto::{random_bytes, AeadKey, CryptoError, Suite};
use xiezhi_standard::{Entity, Level};

/// Prefix of every sealed value; tells a sealed value from legacy plaintext.
pub const SEALED_PREFIX: &str = "enc:";
/// Length of a key-encryption key and of every data key.
pub const KEY_LEN: usize = 32;

/// Errors of field encryption, each naming what an operator must look at.
#[derive(Debug, thiserror::Error)]
pub enum FieldCryptError {
    #[error("key file `{path}`: {reason}")]
    KeyFile { path: String, reason: String },
    /// The key-encryption key does not unwrap a stored data key: the wrong key file.
    #[error("key file `{path}` (KEK version {version}) does not unwrap the data key of {table}.{column}: wrong key file")]
    WrongKek {
        path: String,
        version: u32,
        table: String,
        column: String,
    },
    /// The value does not open under its own table, column and row: tampered, or moved.
    #[error("integrity check failed for {table}.{column} row {row}: the value was altered or moved from another row or column ({source})")]
    Integrity {
        table: String,
        column: String,
        row: String,
        source: CryptoError,
    },
    #[error("{table}.{column} row {row}: malformed sealed value: {reason}")]
    Malformed {
        table: String,
        column: String,
        row: String,
        reason: String,
    },
    #[error("{table}.{column}: no data key of version {version}")]
    MissingDataKey {
        table: String,
        column: String,
        version: u32,
    },
    #[error("crypto config `{path}`: {reason}")]
    Config { path: String, reason: String },
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The key table of another backend failed.
    #[error("key table: {0}")]
    KeyTable(String),
}

pub type Result<T> = std::result::Result<T, FieldCryptError>;

/// Wraps and unwraps data keys. The key-file implementation is [`FileKek`]; a hardware
/// cipher machine (密码机) or an external key service implements the same trait.
pub trait KeyEncryptionKey: Send + Sync {
    /// Where the key lives, for error messages (a file path, a device slot).
    fn name(&self) -> String;
    fn version(&self) -> u32;
    /// Wraps `data_key`; `label` names the key's use and is bound as associated data.
    fn wrap(&self, label: &str, data_key: &[u8]) -> Vec<u8>;
    fn unwrap(&self, label: &str, wrapped: &[u8]) -> std::result::Result<Vec<u8>, CryptoError>;
}

/// AEAD key from 32 random key bytes: SM4 takes 16 of them, AES-256 all 32.
fn aead_key(suite: Suite, bytes: &[u8]) -> std::result::Result<AeadKey, CryptoError> {
    suite.aead_key(&bytes[..suite.aead_key_len().min(bytes.len())])
}

/// A KEK kept as 32 random bytes in `keys/kek-<version>.key` (mode 0600) under the data dir.
pub struct FileKek {
    path: PathBuf,
    version: u32,
    key: AeadKey,
}

impl FileKek {
    /// The file of KEK `version` under `data_dir`.
    pub fn path_for(data_dir: &Path, version: u32) -> PathBuf {
        data_dir.join("keys").join(format!("kek-{version}.key"))
    }

    /// Creates a new random KEK file; refuses to overwrite an existing one.
    pub fn create(data_dir: &Path, version: u32, suite: Suite) -> Result<FileKek> {
        let path = Self::path_for(data_dir, version);
        let err = |reason: String| FieldCryptError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        fs::create_dir_all(path.parent().expect("keys dir"))
            .map_err(|e| err(format!("cannot create directory: {e}")))?;
        let mut bytes = [0u8; KEY_LEN];
        random_bytes(&mut bytes);
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts
            .open(&path)
            .map_err(|e| err(format!("cannot create: {e}")))?;
        file.write_all(&bytes)
            .and_then(|_| file.sync_all())
            .map_err(|e| err(format!("cannot write: {e}")))?;
        let key = aead_key(suite, &bytes).map_err(|e| err(format!("invalid key: {e}")))?;
        Ok(FileKek { path, version, key })
    }

    /// Loads KEK `version`; a missing, short or long file is an error naming the file.
    pub fn load(data_dir: &Path, version: u32, suite: Suite) -> Result<FileKek> {
        let path = Self::path_for(data_dir, version);
        let err = |reason: String| FieldCryptError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        let bytes = fs::read(&path).map_err(|e| err(format!("cannot read: {e}")))?;
        if bytes.len() != KEY_LEN {
            return Err(err(format!(
                "expected {KEY_LEN} bytes, found {}",
                bytes.len()
            )));
        }
        let key = aead_key(suite, &bytes).map_err(|e| err(format!("invalid key: {e}")))?;
        Ok(FileKek { path, version, key })
    }
}

impl KeyEncryptionKey for FileKek {
    fn name(&self) -> String {
        self.path.display().to_string()
    }
    fn version(&self) -> u32 {
        self.version
    }
    fn wrap(&self, label: &str, data_key: &[u8]) -> Vec<u8> {
        self.key.seal(label.as_bytes(), data_key)
    }
    fn unwrap(&self, label: &str, wrapped: &[u8]) -> std::result::Result<Vec<u8>, CryptoError> {
        self.key.open(label.as_bytes(), wrapped)
    }
}

/// The deployment's suite, from `crypto.toml` in the data directory (`suite = "intl"` or
/// `suite = "gm"`); absent file means `intl`.
pub fn read_suite(data_dir: &Path) -> Result<Suite> {
    let path = data_dir.join("crypto.toml");
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Suite::International),
        Err(e) => {
            return Err(FieldCryptError::Config {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        }
    };
    #[derive(serde::Deserialize)]
    struct Conf {
        suite: String,
    }
    let conf: Conf = toml::from_str(&text).map_err(|e| FieldCryptError::Config {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    conf.suite
        .parse::<Suite>()
        .map_err(|e| FieldCryptError::Config {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

/// Writes `crypto.toml` at init; `XIEZHI_SUITE` overrides `suite` so tests can run both suites.
pub fn write_suite(data_dir: &Path, suite: Suite) -> Result<Suite> {
    let path = data_dir.join("crypto.toml");
    let suite = match std::env::var("XIEZHI_SUITE") {
        Ok(s) if !s.is_empty() => s.parse::<Suite>().map_err(|e| FieldCryptError::Config {
            path: "XIEZHI_SUITE".into(),
            reason: e.to_string(),
        })?,
        _ => suite,
    };
    fs::write(
        &path,
        format!(
            "# Crypto suite of this deployment: \"intl\" or \"gm\" (国密).\nsuite = \"{}\"\n",
            suite.id()
        ),
    )
    .map_err(|e| FieldCryptError::Config {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(suite)
}

/// What a stored data key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Purpose {
    /// Seals values of the column.
    Seal,
    /// Keys the blind index of the column.
    Index,
}

impl Purpose {
    pub fn id(self) -> &'static str {
        match self {
            Purpose::Seal => "seal",
            Purpose::Index => "index",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        match s {
            "seal" => Some(Purpose::Seal),
            "index" => Some(Purpose::Index),
            _ => None,
        }
    }
}

/// Schema of the wrapped data keys (SQLite dialect; PostgreSQL's migration has the same shape).
pub const FIELD_KEYS_SQL: &str = "CREATE TABLE IF NOT EXISTS field_keys (
    tbl TEXT NOT NULL, col TEXT NOT NULL, purpose TEXT NOT NULL, version INTEGER NOT NULL,
    suite TEXT NOT NULL, kek_version INTEGER NOT NULL, wrapped BLOB NOT NULL,
    PRIMARY KEY (tbl, col, purpose, version))";

/// One row of `field_keys`: a data key wrapped under a KEK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub table: String,
    pub column: String,
    pub purpose: Purpose,
    pub version: u32,
    pub suite: String,
    pub kek_version: u32,
    pub wrapped: Vec<u8>,
}

/// Where wrapped data keys are kept: the store's `field_keys` table on either backend.
pub trait KeyTable {
    fn load_keys(&mut self) -> Result<Vec<WrappedKey>>;
    fn insert_keys(&mut self, keys: &[WrappedKey]) -> Result<()>;
    /// Replaces every stored key by `keys` in one transaction: all or nothing.
    fn replace_keys(&mut self, keys: &[WrappedKey]) -> Result<()>;
}

impl KeyTable for Connection {
    fn load_keys(&mut self) -> Result<Vec<WrappedKey>> {
        load_sqlite(self)
    }

    fn insert_keys(&mut self, keys: &[WrappedKey]) -> Result<()> {
        let tx = self.transaction()?;
        insert_sqlite(&tx, keys)?;
        tx.commit()?;
        Ok(())
    }

    fn replace_keys(&mut self, keys: &[WrappedKey]) -> Result<()> {
        let tx = self.transaction()?;
        tx.execute("DELETE FROM field_keys", [])?;
        insert_sqlite(&tx, keys)?;
        tx.commit()?;
        Ok(())
    }
}

/// The wrapped keys stored in a SQLite database (a shared borrow: readers reload with it).
pub fn load_sqlite(conn: &Connection) -> Result<Vec<WrappedKey>> {
    let mut stmt = conn.prepare(
        "SELECT tbl, col, purpose, version, suite, kek_version, wrapped FROM field_keys \
         ORDER BY tbl, col, purpose, version",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, u32>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, u32>(5)?,
            r.get::<_, Vec<u8>>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (table, column, purpose, version, suite, kek_version, wrapped) = row?;
        out.push(WrappedKey::from_row(
            table,
            column,
            &purpose,
            version,
            suite,
            kek_version,
            wrapped,
        )?);
    }
    Ok(out)
}

impl WrappedKey {
    /// A `field_keys` row as either backend reads it; an unknown purpose is refused by name.
    #[allow(clippy::too_many_arguments)]
    pub fn from_row(
        table: String,
        column: String,
        purpose: &str,
        version: u32,
        suite: String,
        kek_version: u32,
        wrapped: Vec<u8>,
    ) -> Result<WrappedKey> {
        let purpose = Purpose::parse(purpose).ok_or_else(|| {
            FieldCryptError::KeyTable(format!(
                "field_keys row {table}.{column}: unknown purpose `{purpose}`"
            ))
        })?;
        Ok(WrappedKey {
            table,
            column,
            purpose,
            version,
            suite,
            kek_version,
            wrapped,
        })
    }
}

fn insert_sqlite(conn: &Connection, keys: &[WrappedKey]) -> Result<()> {
    let mut stmt = conn.prepare(
        "INSERT INTO field_keys (tbl, col, purpose, version, suite, kek_version, wrapped)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for k in keys {
        stmt.execute(params![
            k.table,
            k.column,
            k.purpose.id(),
            k.version,
            k.suite,
            k.kek_version,
            k.wrapped
        ])?;
    }
    Ok(())
}

/// A sealed column: its table, its column, and the SQL expression (valid in SQLite and
/// PostgreSQL) that names a row, bound as associated data so a value cannot move rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: String,
    pub column: &'static str,
    pub row_key: &'static str,
}

/// Every sealed column: each field of the standard classified L3 or above, then the columns
/// that keep raw source values — quarantined records and their reasons, the values of repair
/// findings, and merge explanations (which quote names and ID numbers).
pub fn sealed_columns() -> Vec<SealedColumn> {
    let mut out = Vec::new();
    for entity in Entity::ALL {
        for f in entity.fields() {
            if f.level >= Level::L3 {
                out.push(SealedColumn {
                    table: format!("std_{}", entity.name()),
                    column: f.name,
                    row_key: "uid",
                });
            }
        }
    }
    let aux = [
        ("quarantine", "raw", QUARANTINE_ROW),
        ("quarantine", "reasons", QUARANTINE_ROW),
        ("record_issue", "value", RECORD_ISSUE_ROW),
        ("entity_link", "detail", ENTITY_LINK_ROW),
    ];
    for (table, column, row_key) in aux {
        out.push(SealedColumn {
            table: table.into(),
            column,
            row_key,
        });
    }
    out
}

/// Row names of the non-entity sealed tables (the entity tables use `uid`).
pub const QUARANTINE_ROW: &str = "CAST(source_record_id AS TEXT)";
pub const RECORD_ISSUE_ROW: &str = "CAST(source_record_id AS TEXT) || '|' || field";
pub const ENTITY_LINK_ROW: &str = "CAST(source_record_id AS TEXT) || '|' || entity || '|' || uid";

/// The key that seals files kept beside the database (the dossier of department files as
/// received): not a table column, so rotation re-wraps it but does not reseal the files.
pub const FILE_TABLE: &str = "dossier";
pub const FILE_COLUMN: &str = "content";

/// First bytes of a sealed file: the format, then `<suite>:<key version>\n`, then
/// `nonce || ciphertext || tag`.
pub const SEALED_FILE_MAGIC: &[u8] = b"XIEZHI-SEALED-FILE/1 ";

/// The table and column of the blind index over entity-resolution keys.
pub const INDEX_TABLE: &str = "person_key";
pub const INDEX_COLUMN: &str = "key";

/// Whether `entity.field` is stored sealed.
pub fn is_sealed_field(entity: Entity, field: &str) -> bool {
    entity
        .fields()
        .iter()
        .any(|f| f.name == field && f.level >= Level::L3)
}

fn label(table: &str, column: &str, purpose: Purpose, version: u32) -> String {
    format!(
        "xiezhi-field-key|{table}|{column}|{}|{version}",
        purpose.id()
    )
}

/// The unwrapped keys of one (table, column).
#[derive(Default)]
struct ColumnKeys {
    seal: std::collections::BTreeMap<u32, AeadKey>,
    index: Option<Vec<u8>>,
}

/// Seals and opens field values; holds the unwrapped data keys in memory.
pub struct FieldCodec {
    suite: Suite,
    kek: Box<dyn KeyEncryptionKey>,
    /// table → column → keys. Two levels so a lookup borrows `&str` without allocating.
    columns: HashMap<String, HashMap<String, ColumnKeys>>,
    /// Every stored data key in plaintext form, for re-wrapping.
    plain: Vec<(WrappedKey, Vec<u8>)>,
}

impl FieldCodec {
    /// Unwraps `stored` keys with `kek`. A KEK that does not unwrap a key is an error naming the
    /// key file; nothing is written in that case.
    pub fn unwrap_all(
        suite: Suite,
        kek: Box<dyn KeyEncryptionKey>,
        stored: Vec<WrappedKey>,
    ) -> Result<Self> {
        let mut codec = FieldCodec {
            suite,
            kek,
            columns: HashMap::new(),
            plain: Vec::new(),
        };
        for k in stored {
            if k.kek_version != codec.kek.version() {
                return Err(FieldCryptError::KeyFile {
                    path: codec.kek.name(),
                    reason: format!(
                        "data key of {}.{} is wrapped under KEK version {}, this key is version {}",
                        k.table,
                        k.column,
                        k.kek_version,
                        codec.kek.version()
                    ),
                });
            }
            if k.suite != suite.id() {
                return Err(FieldCryptError::Config {
                    path: "field_keys".into(),
                    reason: format!(
                        "data key of {}.{} belongs to suite `{}`, this deployment uses `{}`",
                        k.table,
                        k.column,
                        k.suite,
                        suite.id()
                    ),
                });
            }
            let key = codec
                .kek
                .unwrap(
                    &label(&k.table, &k.column, k.purpose, k.version),
                    &k.wrapped,
                )
                .map_err(|_| FieldCryptError::WrongKek {
                    path: codec.kek.name(),
                    version: codec.kek.version(),
                    table: k.table.clone(),
                    column: k.column.clone(),
                })?;
            codec.install(&k, &key)?;
            codec.plain.push((k, key));
        }
        Ok(codec)
    }

    /// Loads the keys from `table`, unwraps them, and creates (and stores) the keys that the
    /// columns of [`sealed_columns`] and the blind index still lack.
    pub fn load(
        table: &mut dyn KeyTable,
        suite: Suite,
        kek: Box<dyn KeyEncryptionKey>,
    ) -> Result<Self> {
        let stored = table.load_keys()?;
        let mut codec = Self::unwrap_all(suite, kek, stored)?;
        let mut wanted: Vec<(String, String, Purpose)> = sealed_columns()
            .into_iter()
            .map(|c| (c.table, c.column.to_string(), Purpose::Seal))
            .collect();
        wanted.push((INDEX_TABLE.into(), INDEX_COLUMN.into(), Purpose::Index));
        wanted.push((FILE_TABLE.into(), FILE_COLUMN.into(), Purpose::Seal));
        let mut fresh = Vec::new();
        for (t, c, p) in wanted {
            if codec.current_version(&t, &c, p).is_none() {
                fresh.push(codec.new_key(&t, &c, p, 1)?);
            }
        }
        if !fresh.is_empty() {
            table.insert_keys(&fresh)?;
        }
        Ok(codec)
    }

    fn install(&mut self, k: &WrappedKey, key: &[u8]) -> Result<()> {
        let slot = self
            .columns
            .entry(k.table.clone())
            .or_default()
            .entry(k.column.clone())
            .or_default();
        match k.purpose {
            Purpose::Seal => {
                let aead = aead_key(self.suite, key).map_err(|e| {
                    FieldCryptError::KeyTable(format!("data key of {}.{}: {e}", k.table, k.column))
                })?;
                slot.seal.insert(k.version, aead);
            }
            Purpose::Index => slot.index = Some(key.to_vec()),
        }
        Ok(())
    }

    /// Generates data key `version` of (table, column, purpose) and installs it; the caller
    /// stores the returned wrapped key.
    fn new_key(
        &mut self,
        table: &str,
        column: &str,
        purpose: Purpose,
        version: u32,
    ) -> Result<WrappedKey> {
        let mut key = vec![0u8; KEY_LEN];
        random_bytes(&mut key);
        let wrapped = WrappedKey {
            table: table.into(),
            column: column.into(),
            purpose,
            version,
            suite: self.suite.id().into(),
            kek_version: self.kek.version(),
            wrapped: self.kek.wrap(&label(table, column, purpose, version), &key),
        };
        self.install(&wrapped, &key)?;
        self.plain.push((wrapped.clone(), key));
        Ok(wrapped)
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Version of the KEK that wraps the data keys.
    pub fn kek_version(&self) -> u32 {
        self.kek.version()
    }

    /// Where the KEK lives, for messages.
    pub fn kek_name(&self) -> String {
        self.kek.name()
    }

    /// The current (highest) version of a column's key.
    pub fn current_version(&self, table: &str, column: &str, purpose: Purpose) -> Option<u32> {
        let keys = self.columns.get(table)?.get(column)?;
        match purpose {
            Purpose::Seal => keys.seal.keys().next_back().copied(),
            Purpose::Index => keys.index.as_ref().map(|_| 1),
        }
    }

    /// The key rotation: every data key re-wrapped under `new_kek`, plus a new sealing key
    /// version per sealed column (values sealed from now on use it; older ones stay readable
    /// until resealed). Returns the complete new key set, which the caller stores in one
    /// transaction with [`KeyTable::replace_keys`]; until then nothing changed.
    pub fn rotated(
        &self,
        new_kek: Box<dyn KeyEncryptionKey>,
    ) -> Result<(FieldCodec, Vec<WrappedKey>)> {
        let mut next = FieldCodec {
            suite: self.suite,
            kek: new_kek,
            columns: HashMap::new(),
            plain: Vec::new(),
        };
        let mut out = Vec::new();
        for (k, key) in &self.plain {
            let rewrapped = WrappedKey {
                kek_version: next.kek.version(),
                wrapped: next
                    .kek
                    .wrap(&label(&k.table, &k.column, k.purpose, k.version), key),
                ..k.clone()
            };
            next.install(&rewrapped, key)?;
            next.plain.push((rewrapped.clone(), key.clone()));
            out.push(rewrapped);
        }
        for c in sealed_columns() {
            let v = self
                .current_version(&c.table, c.column, Purpose::Seal)
                .unwrap_or(0);
            out.push(next.new_key(&c.table, c.column, Purpose::Seal, v + 1)?);
        }
        Ok((next, out))
    }

    fn aad(table: &str, column: &str, row: &str) -> Vec<u8> {
        format!("{table}|{column}|{row}").into_bytes()
    }

    /// Seals `plaintext` of `table.column` in row `row` under the column's current data key.
    pub fn seal(&self, table: &str, column: &str, row: &str, plaintext: &str) -> Result<String> {
        let keys = self.columns.get(table).and_then(|t| t.get(column));
        let Some((version, aead)) = keys.and_then(|k| k.seal.iter().next_back()) else {
            return Err(FieldCryptError::MissingDataKey {
                table: table.into(),
                column: column.into(),
                version: 1,
            });
        };
        let sealed = aead.seal(&Self::aad(table, column, row), plaintext.as_bytes());
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(sealed);
        Ok(format!(
            "{SEALED_PREFIX}{}:{version}:{b64}",
            self.suite.id()
        ))
    }

    /// Opens a value sealed by [`FieldCodec::seal`] for the same table, column and row. A value
    /// without the sealed prefix is legacy plaintext (a store from before encryption, not yet
    /// rotated) and is returned as it is.
    pub fn open<'v>(
        &self,
        table: &str,
        column: &str,
        row: &str,
        value: &'v str,
    ) -> Result<std::borrow::Cow<'v, str>> {
        let Some(rest) = value.strip_prefix(SEALED_PREFIX) else {
            return Ok(std::borrow::Cow::Borrowed(value));
        };
        let malformed = |reason: String| FieldCryptError::Malformed {
            table: table.into(),
            column: column.into(),
            row: row.into(),
            reason,
        };
        let mut parts = rest.splitn(3, ':');
        let (Some(suite), Some(version), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected enc:<suite>:<version>:<data>".into()));
        };
        if suite != self.suite.id() {
            return Err(malformed(format!(
                "sealed with suite `{suite}`, this deployment uses `{}`",
                self.suite.id()
            )));
        }
        let version: u32 = version
            .parse()
            .map_err(|_| malformed(format!("key version `{version}` is not a number")))?;
        let sealed = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .map_err(|e| malformed(format!("not base64: {e}")))?;
        let aead = self
            .columns
            .get(table)
            .and_then(|t| t.get(column))
            .and_then(|k| k.seal.get(&version))
            .ok_or_else(|| FieldCryptError::MissingDataKey {
                table: table.into(),
                column: column.into(),
                version,
            })?;
        let plain = aead
            .open(&Self::aad(table, column, row), &sealed)
            .map_err(|source| FieldCryptError::Integrity {
                table: table.into(),
                column: column.into(),
                row: row.into(),
                source,
            })?;
        String::from_utf8(plain)
            .map(std::borrow::Cow::Owned)
            .map_err(|_| malformed("plaintext is not UTF-8".into()))
    }

    /// Seals a file's bytes, bound to `name` (its content hash): a sealed file moved under
    /// another name does not open.
    pub fn seal_file(&self, name: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        let keys = self
            .columns
            .get(FILE_TABLE)
            .and_then(|t| t.get(FILE_COLUMN));
        let Some((version, aead)) = keys.and_then(|k| k.seal.iter().next_back()) else {
            return Err(FieldCryptError::MissingDataKey {
                table: FILE_TABLE.into(),
                column: FILE_COLUMN.into(),
                version: 1,
            });
        };
        let mut out = SEALED_FILE_MAGIC.to_vec();
        out.extend_from_slice(format!("{}:{version}\n", self.suite.id()).as_bytes());
        out.extend_from_slice(&aead.seal(&Self::aad(FILE_TABLE, FILE_COLUMN, name), bytes));
        Ok(out)
    }

    /// Opens a file sealed by [`FieldCodec::seal_file`] under the same name; a file without
    /// the header (kept before encryption) is returned as it is.
    pub fn open_file(&self, name: &str, stored: &[u8]) -> Result<Vec<u8>> {
        let Some(rest) = stored.strip_prefix(SEALED_FILE_MAGIC) else {
            return Ok(stored.to_vec());
        };
        let malformed = |reason: &str| FieldCryptError::Malformed {
            table: FILE_TABLE.into(),
            column: FILE_COLUMN.into(),
            row: name.into(),
            reason: reason.into(),
        };
        let nl = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| malformed("no header line"))?;
        let header = std::str::from_utf8(&rest[..nl]).map_err(|_| malformed("header not UTF-8"))?;
        let (suite, version) = header
            .split_once(':')
            .ok_or_else(|| malformed("header is not <suite>:<version>"))?;
        if suite != self.suite.id() {
            return Err(malformed("sealed under another suite"));
        }
        let version: u32 = version.parse().map_err(|_| malformed("bad key version"))?;
        let aead = self
            .columns
            .get(FILE_TABLE)
            .and_then(|t| t.get(FILE_COLUMN))
            .and_then(|k| k.seal.get(&version))
            .ok_or_else(|| FieldCryptError::MissingDataKey {
                table: FILE_TABLE.into(),
                column: FILE_COLUMN.into(),
                version,
            })?;
        aead.open(&Self::aad(FILE_TABLE, FILE_COLUMN, name), &rest[nl + 1..])
            .map_err(|source| FieldCryptError::Integrity {
                table: FILE_TABLE.into(),
                column: FILE_COLUMN.into(),
                row: name.into(),
                source,
            })
    }

    /// Re-seals a value under the column's current data key; `None` when it already is, so a
    /// rotation interrupted at any point simply continues with the values not yet moved.
    /// Legacy plaintext is sealed.
    pub fn reseal(
        &self,
        table: &str,
        column: &str,
        row: &str,
        value: &str,
    ) -> Result<Option<String>> {
        if self.is_current(table, column, value) {
            return Ok(None);
        }
        let plain = self.open(table, column, row, value)?;
        self.seal(table, column, row, &plain).map(Some)
    }

    /// Whether `value` is sealed under the column's current key (nothing to do in a rotation).
    pub fn is_current(&self, table: &str, column: &str, value: &str) -> bool {
        value.starts_with(&self.current_prefix(table, column))
    }

    /// `enc:<suite>:<current version>:` of a column: values not starting with it still need
    /// resealing. Used in SQL as `NOT LIKE '<prefix>%'`.
    pub fn current_prefix(&self, table: &str, column: &str) -> String {
        let v = self
            .current_version(table, column, Purpose::Seal)
            .unwrap_or(0);
        format!("{SEALED_PREFIX}{}:{v}:", self.suite.id())
    }

    /// The blinder of entity-resolution keys, for the ingest's resolver.
    pub fn blinder(&self) -> KeyBlinder {
        KeyBlinder {
            key: self
                .columns
                .get(INDEX_TABLE)
                .and_then(|t| t.get(INDEX_COLUMN))
                .and_then(|k| k.index.clone())
                .map(|k| (self.suite, std::sync::Arc::from(k))),
        }
    }
}

/// Turns an entity-resolution key (`id:<ID number>`, `nbd:<name>|<birth>|<division>`) into
/// what the store keeps: its blind index, or the key itself where encryption is off.
#[derive(Clone, Default)]
pub struct KeyBlinder {
    key: Option<(Suite, std::sync::Arc<[u8]>)>,
}

impl std::fmt::Debug for KeyBlinder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        let state = if self.key.is_some() { "keyed" } else { "none" };
        f.debug_tuple("KeyBlinder").field(&state).finish()
    }
}

impl KeyBlinder {
    /// No blinding: stores without field encryption (in-memory test stores).
    pub fn none() -> KeyBlinder {
        KeyBlinder { key: None }
    }

    /// The key's kind prefix (`id:`, `nbd:`) and the hex MAC of the whole normalized key, or
    /// the key unchanged without a key. The kind stays visible: resolution needs to know that a
    /// person has an ID number, not which.
    pub fn blind(&self, key: &str) -> String {
        match &self.key {
            None => key.to_string(),
            Some((suite, k)) => {
                let (kind, value) = key.split_once(':').unwrap_or(("", key));
                // Already blinded (64 lowercase hex digits, which no ID number or name key
                // is): blinding is idempotent, so the store can insist on it for every caller.
                if value.len() == 64
                    && value
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return key.to_string();
                }
                let normalized = format!("{kind}:{}", normalize(value));
                let mac = suite.mac(k, normalized.as_bytes());
                format!("{kind}:{}", crate::hex(&mac))
            }
        }
    }
}

/// Normalization before the blind index, so `11010119900307123x ` and `11010119900307123X` match.
pub fn normalize(value: &str) -> String {
    value.trim().to_ascii_uppercase()
}

/// Key version in a sealed value, without opening it (rotation progress, status).
pub fn sealed_version(value: &str) -> Option<u32> {
    let rest = value.strip_prefix(SEALED_PREFIX)?;
    rest.split(':').nth(1)?.parse().ok()
}

/// The KEK for a store: the version its wrapped keys name, or the newest key file, or a new
/// `kek-1.key` when the store has no keys yet.
pub fn open_kek(data_dir: &Path, suite: Suite, stored: &[WrappedKey]) -> Result<FileKek> {
    if let Some(v) = stored.iter().map(|k| k.kek_version).max() {
        return FileKek::load(data_dir, v, suite);
    }
    match newest_kek_version(data_dir) {
        Some(v) => FileKek::load(data_dir, v, suite),
        None => FileKek::create(data_dir, 1, suite),
    }
}

/// The highest `kek-<v>.key` under `data_dir/keys`, if any.
pub fn newest_kek_version(data_dir: &Path) -> Option<u32> {
    fs::read_dir(data_dir.join("keys"))
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("kek-")?
                .strip_suffix(".key")?
                .parse()
                .ok()
        })
        .max()
}

/// Opens the codec of a store whose key table is `table` and whose key files live under
/// `data_dir`: the KEK its keys name, every key unwrapped, missing column keys created.
pub fn open_codec(table: &mut dyn KeyTable, data_dir: &Path) -> Result<FieldCodec> {
    let suite = read_suite(data_dir)?;
    let stored = table.load_keys()?;
    let kek = open_kek(data_dir, suite, &stored)?;
    FieldCodec::load(table, suite, Box::new(kek))
}

/// Starts a key rotation on `table`: a new KEK file (version + 1, reused if an earlier attempt
/// created it and stopped before storing), every data key re-wrapped under it and a new
/// sealing key per column, stored in one transaction. Returns the new codec; the values are
/// resealed afterwards by the store, resumably.
pub fn start_rotation(
    table: &mut dyn KeyTable,
    data_dir: &Path,
    current: &FieldCodec,
) -> Result<FieldCodec> {
    let next_version = current.kek_version() + 1;
    let path = FileKek::path_for(data_dir, next_version);
    let kek = if path.exists() {
        FileKek::load(data_dir, next_version, current.suite())?
    } else {
        FileKek::create(data_dir, next_version, current.suite())?
    };
    let (codec, keys) = current.rotated(Box::new(kek))?;
    table.replace_keys(&keys)?;
    Ok(codec)
}

/// A store's codec, shared by its reads and replaceable under them: another process (a key
/// rotation, a server's writer) may add data keys, and a read that meets a value under a key
/// it has not loaded reloads the stored keys once and retries ([`CodecSlot::reload`]).
#[derive(Default)]
pub struct CodecSlot {
    codec: std::sync::RwLock<Option<std::sync::Arc<FieldCodec>>>,
    dir: Option<PathBuf>,
}

impl CodecSlot {
    /// A slot holding `codec`, whose key files live under `dir`.
    pub fn new(codec: FieldCodec, dir: &Path) -> CodecSlot {
        CodecSlot {
            codec: std::sync::RwLock::new(Some(std::sync::Arc::new(codec))),
            dir: Some(dir.to_path_buf()),
        }
    }

    /// The codec in force, if encryption is on.
    pub fn get(&self) -> Option<std::sync::Arc<FieldCodec>> {
        self.codec.read().map(|c| c.clone()).unwrap_or(None)
    }

    pub fn set(&self, codec: FieldCodec) {
        if let Ok(mut slot) = self.codec.write() {
            *slot = Some(std::sync::Arc::new(codec));
        }
    }

    /// Reloads from the stored keys when they differ from the loaded ones (a newer KEK, new
    /// key versions); returns whether anything changed, so the caller retries only then.
    pub fn reload(&self, stored: Vec<WrappedKey>) -> Result<bool> {
        let (Some(current), Some(dir)) = (self.get(), &self.dir) else {
            return Ok(false);
        };
        let unchanged = stored.len() == current.plain.len()
            && stored
                .iter()
                .all(|k| k.kek_version == current.kek_version());
        if unchanged {
            return Ok(false);
        }
        let kek = open_kek(dir, current.suite(), &stored)?;
        self.set(FieldCodec::unwrap_all(
            current.suite(),
            Box::new(kek),
            stored,
        )?);
        Ok(true)
    }
}

/// Whether an error means "a key this connection has not loaded": worth one reload.
pub fn is_missing_key(e: &FieldCryptError) -> bool {
    matches!(e, FieldCryptError::MissingDataKey { .. })
}
