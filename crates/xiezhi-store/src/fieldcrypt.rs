//! Field encryption at rest: envelope keys and the sealed-value codec.
//!
//! A key-encryption key ([`KeyEncryptionKey`]) wraps one data key per (table, column); only
//! wrapped data keys are stored (table `field_keys`). Values are sealed before they reach SQL
//! and opened after they leave it by [`FieldCodec`], the one place both backends share.
//!
//! Sealed value layout: `b'X'`, suite tag (1 byte), key version (u32 big-endian), then
//! `nonce || ciphertext || tag` from `AeadKey::seal`. The header lets rotation and
//! verification pick the right key without guessing. The associated data is
//! `table|column|row`, so a ciphertext copied to another row or column does not open.
//!
//! Equality lookups (person by ID number) use a blind index: the suite MAC, under a per-column
//! index key that is itself a wrapped data key, over the normalized value.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use xiezhi_crypto::{random_bytes, AeadKey, CryptoError, Suite};

/// Leading byte of every sealed value; tells a sealed value from legacy plaintext.
pub const SEALED_MAGIC: u8 = b'X';
const HEADER_LEN: usize = 6;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Seals values of the column.
    Seal,
    /// Keys the blind index of the column.
    Index,
}

impl Purpose {
    fn id(self) -> &'static str {
        match self {
            Purpose::Seal => "seal",
            Purpose::Index => "index",
        }
    }
}

/// Schema of the wrapped data keys (SQLite dialect; the PostgreSQL backend uses the same shape).
pub const FIELD_KEYS_SQL: &str = "CREATE TABLE IF NOT EXISTS field_keys (
    tbl TEXT NOT NULL, col TEXT NOT NULL, purpose TEXT NOT NULL, version INTEGER NOT NULL,
    suite TEXT NOT NULL, kek_version INTEGER NOT NULL, wrapped BLOB NOT NULL,
    PRIMARY KEY (tbl, col, purpose, version))";

fn label(table: &str, column: &str, purpose: Purpose, version: u32) -> String {
    format!(
        "xiezhi-field-key|{table}|{column}|{}|{version}",
        purpose.id()
    )
}

/// Seals and opens field values; holds the unwrapped data keys in memory.
pub struct FieldCodec {
    suite: Suite,
    kek: Box<dyn KeyEncryptionKey>,
    keys: HashMap<(String, String, Purpose, u32), Vec<u8>>,
    current: HashMap<(String, String, Purpose), u32>,
}

impl FieldCodec {
    /// Loads every wrapped data key from `conn` and unwraps it with `kek`. A KEK that does not
    /// unwrap a key is an error naming the key file; nothing is written in that case.
    pub fn load(conn: &Connection, suite: Suite, kek: Box<dyn KeyEncryptionKey>) -> Result<Self> {
        conn.execute_batch(FIELD_KEYS_SQL)?;
        let mut codec = FieldCodec {
            suite,
            kek,
            keys: HashMap::new(),
            current: HashMap::new(),
        };
        let mut stmt = conn
            .prepare("SELECT tbl, col, purpose, version, wrapped, kek_version FROM field_keys")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, Vec<u8>>(4)?,
                r.get::<_, u32>(5)?,
            ))
        })?;
        for row in rows {
            let (t, c, p, v, wrapped, kek_version) = row?;
            if kek_version != codec.kek.version() {
                return Err(FieldCryptError::KeyFile {
                    path: codec.kek.name(),
                    reason: format!(
                        "data key of {t}.{c} is wrapped under KEK version {kek_version}, \
                         this key is version {}",
                        codec.kek.version()
                    ),
                });
            }
            let purpose = if p == "index" {
                Purpose::Index
            } else {
                Purpose::Seal
            };
            let key = codec
                .kek
                .unwrap(&label(&t, &c, purpose, v), &wrapped)
                .map_err(|_| FieldCryptError::WrongKek {
                    path: codec.kek.name(),
                    version: codec.kek.version(),
                    table: t.clone(),
                    column: c.clone(),
                })?;
            let cur = codec
                .current
                .entry((t.clone(), c.clone(), purpose))
                .or_insert(v);
            *cur = (*cur).max(v);
            codec.keys.insert((t, c, purpose, v), key);
        }
        Ok(codec)
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The current data key of (table, column, purpose), generated and stored wrapped on first use.
    fn key(
        &mut self,
        conn: &Connection,
        table: &str,
        column: &str,
        purpose: Purpose,
    ) -> Result<(u32, &[u8])> {
        let slot = (table.to_string(), column.to_string(), purpose);
        let version = match self.current.get(&slot) {
            Some(v) => *v,
            None => self.add_data_key(conn, table, column, purpose, 1)?,
        };
        let key = &self.keys[&(slot.0, slot.1, purpose, version)];
        Ok((version, key))
    }

    /// Generates data key `version` of (table, column, purpose), stores it wrapped and makes it
    /// the current one.
    fn add_data_key(
        &mut self,
        conn: &Connection,
        table: &str,
        column: &str,
        purpose: Purpose,
        version: u32,
    ) -> Result<u32> {
        let mut key = vec![0u8; KEY_LEN];
        random_bytes(&mut key);
        let wrapped = self.kek.wrap(&label(table, column, purpose, version), &key);
        conn.execute(
            "INSERT INTO field_keys (tbl, col, purpose, version, suite, kek_version, wrapped)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                table,
                column,
                purpose.id(),
                version,
                self.suite.id(),
                self.kek.version(),
                wrapped
            ],
        )?;
        self.keys
            .insert((table.into(), column.into(), purpose, version), key);
        self.current
            .insert((table.into(), column.into(), purpose), version);
        Ok(version)
    }

    /// Re-wraps every stored data key under `new_kek` in one transaction, then uses it.
    /// Either all keys move to the new KEK or none do; the old key file is no longer needed.
    pub fn rewrap(
        &mut self,
        conn: &mut Connection,
        new_kek: Box<dyn KeyEncryptionKey>,
    ) -> Result<usize> {
        let tx = conn.transaction()?;
        let mut n = 0;
        for ((t, c, p, v), key) in &self.keys {
            n += tx.execute(
                "UPDATE field_keys SET wrapped = ?1, kek_version = ?2
                 WHERE tbl = ?3 AND col = ?4 AND purpose = ?5 AND version = ?6",
                params![
                    new_kek.wrap(&label(t, c, *p, *v), key),
                    new_kek.version(),
                    t,
                    c,
                    p.id(),
                    v
                ],
            )?;
        }
        tx.commit()?;
        self.kek = new_kek;
        Ok(n)
    }

    /// Starts a new data-key version for sealing `table.column`; values sealed from now on use
    /// it, older values stay readable until [`FieldCodec::reseal`] moves them.
    pub fn new_seal_version(
        &mut self,
        conn: &Connection,
        table: &str,
        column: &str,
    ) -> Result<u32> {
        let next = self
            .current
            .get(&(table.to_string(), column.to_string(), Purpose::Seal))
            .map_or(1, |v| v + 1);
        self.add_data_key(conn, table, column, Purpose::Seal, next)
    }

    /// Re-seals a value under the column's current data key; `None` when it already is, so a
    /// rotation interrupted at any point simply continues with the values not yet moved.
    pub fn reseal(
        &mut self,
        conn: &Connection,
        table: &str,
        column: &str,
        row: &str,
        sealed: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let current = self
            .current
            .get(&(table.to_string(), column.to_string(), Purpose::Seal))
            .copied();
        if current.is_some() && sealed_version(sealed) == current {
            return Ok(None);
        }
        let plain = self.open(table, column, row, sealed)?;
        self.seal(conn, table, column, row, &plain).map(Some)
    }

    fn aad(table: &str, column: &str, row: &str) -> Vec<u8> {
        format!("{table}|{column}|{row}").into_bytes()
    }

    /// Seals `plaintext` of `table.column` in row `row` under the column's current data key.
    pub fn seal(
        &mut self,
        conn: &Connection,
        table: &str,
        column: &str,
        row: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let suite = self.suite;
        let (version, key) = self.key(conn, table, column, Purpose::Seal)?;
        let aead = aead_key(suite, key).expect("data key length");
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + 28);
        out.push(SEALED_MAGIC);
        out.push(suite.tag());
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&aead.seal(&Self::aad(table, column, row), plaintext));
        Ok(out)
    }

    /// Opens a value sealed by [`FieldCodec::seal`] for the same table, column and row.
    pub fn open(&self, table: &str, column: &str, row: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        let malformed = |reason: String| FieldCryptError::Malformed {
            table: table.into(),
            column: column.into(),
            row: row.into(),
            reason,
        };
        if sealed.len() < HEADER_LEN || sealed[0] != SEALED_MAGIC {
            return Err(malformed("missing sealed-value header".into()));
        }
        let suite = Suite::from_tag(sealed[1]).map_err(|e| malformed(e.to_string()))?;
        if suite != self.suite {
            return Err(malformed(format!(
                "sealed with suite `{}`, this deployment uses `{}`",
                suite.id(),
                self.suite.id()
            )));
        }
        let version = u32::from_be_bytes(sealed[2..6].try_into().expect("4 bytes"));
        let key = self
            .keys
            .get(&(
                table.to_string(),
                column.to_string(),
                Purpose::Seal,
                version,
            ))
            .ok_or_else(|| FieldCryptError::MissingDataKey {
                table: table.into(),
                column: column.into(),
                version,
            })?;
        let aead = aead_key(suite, key).expect("data key length");
        aead.open(&Self::aad(table, column, row), &sealed[HEADER_LEN..])
            .map_err(|source| FieldCryptError::Integrity {
                table: table.into(),
                column: column.into(),
                row: row.into(),
                source,
            })
    }

    /// Blind index of `value` for equality lookups on `table.column`: MAC under the column's
    /// index key over the normalized value (trimmed, ASCII upper-case: ID numbers end in `X`).
    pub fn blind_index(
        &mut self,
        conn: &Connection,
        table: &str,
        column: &str,
        value: &str,
    ) -> Result<Vec<u8>> {
        let suite = self.suite;
        let (_, key) = self.key(conn, table, column, Purpose::Index)?;
        let normalized = normalize(value);
        Ok(suite.mac(key, normalized.as_bytes()).to_vec())
    }
}

/// Normalization before the blind index, so `11010119900307123x ` and `11010119900307123X` match.
pub fn normalize(value: &str) -> String {
    value.trim().to_ascii_uppercase()
}

/// Key version in a sealed value's header, without opening it (rotation progress, status).
pub fn sealed_version(sealed: &[u8]) -> Option<u32> {
    (sealed.len() >= HEADER_LEN && sealed[0] == SEALED_MAGIC)
        .then(|| u32::from_be_bytes(sealed[2..6].try_into().expect("4 bytes")))
}

/// The highest KEK version recorded in `field_keys`, if any.
pub fn stored_kek_version(conn: &Connection) -> Result<Option<u32>> {
    conn.execute_batch(FIELD_KEYS_SQL)?;
    Ok(conn
        .query_row("SELECT MAX(kek_version) FROM field_keys", [], |r| {
            r.get::<_, Option<u32>>(0)
        })
        .optional()?
        .flatten())
}
