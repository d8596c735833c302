//! The e-dossier: evidence, documents and received department files, stored by content.
//!
//! A file is kept once under its SHA-256 (`<root>/<first two hex digits>/<hash>`), never
//! rewritten, and its hash, size and description go into the ledger. So a file swapped,
//! edited or removed afterwards no longer matches an entry that a signed checkpoint covers.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use xiezhi_store::{hex, LedgerEvent, Store, StoreError};

use crate::log::Problem;

/// Errors storing a file. Tampering is reported by [`check`], not here.
#[derive(Debug, thiserror::Error)]
pub enum DossierError {
    /// The file could not be read or written.
    #[error("卷宗文件 `{path}` 无法读写 (cannot read or write dossier file): {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The store failed.
    #[error("存储错误 (store error): {0}")]
    Store(#[from] StoreError),
}

/// What a stored file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// The file's own name as received.
    pub name: String,
    /// `received_export`, `evidence`, `document` …
    pub kind: String,
    /// The case it belongs to, if any.
    pub case_uid: Option<String>,
}

/// A content-addressed file store rooted in a directory.
pub struct Dossier {
    root: PathBuf,
}

impl Dossier {
    /// The dossier under `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Dossier {
        Dossier { root: root.into() }
    }

    /// Where a file with this hash lives.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join(sha256.get(..2).unwrap_or("xx")).join(sha256)
    }

    /// Stores bytes (if not already there) and appends their `file_stored` entry. Returns the
    /// SHA-256 in hex.
    pub fn put<S: Store>(
        &self,
        store: &mut S,
        bytes: &[u8],
        meta: &FileMeta,
    ) -> Result<String, DossierError> {
        let sha = hex(&Sha256::digest(bytes));
        let path = self.path_of(&sha);
        let io = |source| DossierError::Io {
            path: path.display().to_string(),
            source,
        };
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            // Sealed when the store has field encryption: department files carry identity
            // numbers. The name (and the ledger) keep the plaintext's hash.
            let stored = store.seal_file(&sha, bytes)?;
            // Write aside, then rename: a crash never leaves a partial file under the hash.
            let tmp = path.with_extension("partial");
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(&stored).map_err(io)?;
            f.sync_all().map_err(io)?;
            std::fs::rename(&tmp, &path).map_err(io)?;
        }
        let mut body = serde_json::Map::new();
        body.insert("sha256".into(), sha.clone().into());
        body.insert("size".into(), (bytes.len() as u64).into());
        body.insert("name".into(), meta.name.clone().into());
        body.insert("file_kind".into(), meta.kind.clone().into());
        if let Some(c) = &meta.case_uid {
            body.insert("case_uid".into(), c.clone().into());
        }
        store.append_events(&[LedgerEvent {
            kind: "file_stored".into(),
            entity: None,
            uid: None,
            body,
        }])?;
        Ok(sha)
    }

    /// Stores a file from disk.
    pub fn put_file<S: Store>(
        &self,
        store: &mut S,
        path: &Path,
        meta: &FileMeta,
    ) -> Result<String, DossierError> {
        let bytes = std::fs::read(path).map_err(|source| DossierError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.put(store, &bytes, meta)
    }
}

/// Checks every `file_stored` entry against the files: each must exist and hash to its name.
pub fn check<S: Store>(store: &S, dossier: &Dossier) -> Result<Vec<Problem>, StoreError> {
    let mut problems = Vec::new();
    let mut from = 0;
    loop {
        let page = store.ledger_entries(from, 100_000)?;
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        for e in page.iter().filter(|e| e.kind == "file_stored") {
            let body: serde_json::Value = serde_json::from_str(&e.body).unwrap_or_default();
            let Some(sha) = body["sha256"].as_str() else {
                continue;
            };
            let name = body["name"].as_str().unwrap_or("");
            let path = dossier.path_of(sha);
            match std::fs::read(&path) {
                Err(_) => problems.push(Problem {
                    seq: Some(e.seq),
                    kind: "file.missing",
                    detail: format!("卷宗文件 {name}（{sha}）已不存在 (dossier file missing)"),
                }),
                Ok(stored)
                    if store
                        .open_file(sha, &stored)
                        .map(|bytes| hex(&Sha256::digest(&bytes)) != sha)
                        .unwrap_or(true) =>
                {
                    problems.push(Problem {
                    seq: Some(e.seq),
                    kind: "file.altered",
                    detail: format!("卷宗文件 {name} 内容与第 {} 条登记的哈希不符（被替换或修改）(dossier file altered)", e.seq),
                })
                }
                Ok(_) => {}
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiezhi_store::SqliteStore;

    #[test]
    fn with_field_encryption_files_are_sealed_on_disk_and_still_checked() {
        let dir = tempfile::tempdir().unwrap();
        let dossier = Dossier::new(dir.path().join("dossier"));
        let mut store = SqliteStore::in_memory().unwrap();
        store.enable_field_encryption(dir.path()).unwrap();
        let meta = FileMeta {
            name: "police/cases.csv".into(),
            kind: "received_export".into(),
            case_uid: None,
        };
        let text = "XYRSFZH\n11010519491231002X\n13800138000\n";
        let sha = dossier.put(&mut store, text.as_bytes(), &meta).unwrap();
        let on_disk = std::fs::read(dossier.path_of(&sha)).unwrap();
        assert!(on_disk.starts_with(xiezhi_store::fieldcrypt::SEALED_FILE_MAGIC));
        for needle in ["11010519491231002X", "13800138000"] {
            assert!(!on_disk
                .windows(needle.len())
                .any(|w| w == needle.as_bytes()));
        }
        assert!(check(&store, &dossier).unwrap().is_empty());
        // A flipped byte of the ciphertext is an altered file.
        let mut bad = on_disk.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        std::fs::write(dossier.path_of(&sha), &bad).unwrap();
        let problems = check(&store, &dossier).unwrap();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].kind, "file.altered");
    }

    #[test]
    fn swapped_edited_and_missing_files_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let dossier = Dossier::new(dir.path().join("dossier"));
        let mut store = SqliteStore::in_memory().unwrap();
        let meta = |n: &str| FileMeta {
            name: n.into(),
            kind: "document".into(),
            case_uid: Some("C00000001".into()),
        };
        let a = dossier
            .put(&mut store, "判决书甲".as_bytes(), &meta("a.txt"))
            .unwrap();
        let b = dossier
            .put(&mut store, "判决书乙".as_bytes(), &meta("b.txt"))
            .unwrap();
        let c = dossier
            .put(&mut store, "起诉书丙".as_bytes(), &meta("c.txt"))
            .unwrap();
        assert!(check(&store, &dossier).unwrap().is_empty());
        assert_eq!(store.ledger_len().unwrap(), 3);
        // Swap a and b, edit c.
        let (pa, pb) = (dossier.path_of(&a), dossier.path_of(&b));
        let tmp = dir.path().join("t");
        std::fs::rename(&pa, &tmp).unwrap();
        std::fs::rename(&pb, &pa).unwrap();
        std::fs::rename(&tmp, &pb).unwrap();
        std::fs::write(dossier.path_of(&c), "起诉书丙（改）").unwrap();
        let problems = check(&store, &dossier).unwrap();
        let kinds: Vec<(&str, Option<i64>)> = problems.iter().map(|p| (p.kind, p.seq)).collect();
        assert_eq!(
            kinds,
            [
                ("file.altered", Some(0)),
                ("file.altered", Some(1)),
                ("file.altered", Some(2))
            ]
        );
        std::fs::remove_file(dossier.path_of(&c)).unwrap();
        assert_eq!(check(&store, &dossier).unwrap()[2].kind, "file.missing");
    }

    #[test]
    fn storing_twice_keeps_one_file_and_two_entries() {
        let dir = tempfile::tempdir().unwrap();
        let dossier = Dossier::new(dir.path());
        let mut store = SqliteStore::in_memory().unwrap();
        let meta = FileMeta {
            name: "x".into(),
            kind: "evidence".into(),
            case_uid: None,
        };
        let h1 = dossier.put(&mut store, b"same", &meta).unwrap();
        let h2 = dossier.put(&mut store, b"same", &meta).unwrap();
        assert_eq!(h1, h2);
        assert_eq!(store.ledger_len().unwrap(), 2);
        assert_eq!(std::fs::read(dossier.path_of(&h1)).unwrap(), b"same");
    }
}
