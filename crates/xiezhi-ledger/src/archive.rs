//! Retention and archiving of audit entries.
//!
//! Audit entries are kept at least [`RETENTION_DAYS`] days: nothing here (and no command)
//! removes an entry younger than that. Older audit entries can be moved out of the store into
//! an archive file that carries, for each entry, its body and its inclusion proof against a
//! signed checkpoint, so the archive verifies on its own ([`verify_archive`]). In the store the
//! entry keeps its place: its body becomes a stub naming the archive and the entry's leaf hash,
//! so the Merkle tree, every checkpoint and `verify` stay whole.
//!
//! An entry's age is proven, not claimed: an entry is older than a date when a checkpoint
//! created before that date already covers it (entries carry no clock of their own). Data
//! lineage (`records_written`, the commitment each stored row is checked against) is not
//! archived.

use std::io::{BufRead, Write};
use std::path::Path;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use xiezhi_store::{hex, Store};

use crate::checkpoint::{Checkpoint, Verifier};
use crate::hash::{Hash, TreeHash};
use crate::log::{entry_leaf, LogError, PAGE};
use crate::proof::{inclusion_proof, verify_inclusion_with, InMemoryTree};

/// Minimum retention of audit entries: the platform's 等保 2.0 level-3 audit target.
pub const RETENTION_DAYS: i64 = 180;

/// First line of an archive file.
const FORMAT: &str = "xiezhi-ledger-archive/1";

/// Prefix of an archived entry's stub body in the store.
pub const STUB_PREFIX: &str = "{\"archived\":";

/// Errors of archiving and of reading an archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The date asked for lies inside the retention period.
    #[error(
        "审计记录须至少保存 {RETENTION_DAYS} 天：只能归档 {latest} 之前的记录，{before} 太近 (audit entries are kept at least {RETENTION_DAYS} days)"
    )]
    Retention {
        /// The date asked for.
        before: NaiveDate,
        /// The latest date allowed: today minus the retention period.
        latest: NaiveDate,
    },
    /// The store or the log failed.
    #[error("{0}")]
    Log(#[from] LogError),
    /// The archive file could not be written or read, or is not an archive.
    #[error("归档文件 `{path}`：{reason}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// What an archive run moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveReport {
    /// Entries moved.
    pub entries: usize,
    /// The first and last entry moved.
    pub first_seq: Option<i64>,
    /// See `first_seq`.
    pub last_seq: Option<i64>,
    /// Size of the checkpoint the proofs are against.
    pub checkpoint_size: u64,
    /// SHA-256 of the archive file, also in the ledger entry that records the run.
    pub file_sha256: String,
}

/// The stub body that replaces an archived entry's body in the store.
pub fn stub(file_name: &str, seq: i64, leaf: &Hash) -> String {
    serde_json::json!({"archived": file_name, "leaf": hex(leaf), "seq": seq}).to_string()
}

/// Whether an entry may leave the store: an audit entry (not data lineage), not archived yet.
fn archivable(kind: &str, body: &str) -> bool {
    kind != "records_written" && !body.starts_with(STUB_PREFIX)
}

/// Moves the audit entries covered by a checkpoint created before `before` into the file
/// `out`, then replaces their bodies in the store by stubs, and records the run in the ledger.
/// Refuses a `before` later than `today` minus [`RETENTION_DAYS`]. The file is written and
/// synced before the store changes: a crash in between leaves the entries in the store.
pub fn archive<S: Store>(
    store: &mut S,
    hasher: TreeHash,
    before: NaiveDate,
    today: NaiveDate,
    out: &Path,
) -> Result<ArchiveReport, ArchiveError> {
    let latest = today - chrono::Duration::days(RETENTION_DAYS);
    if before > latest {
        return Err(ArchiveError::Retention { before, latest });
    }
    let checkpoints = store.checkpoints().map_err(LogError::from)?;
    let created = store.checkpoint_times().map_err(LogError::from)?;
    // Entries below `cutoff` were covered by a checkpoint created before `before`.
    let cutoff = created
        .iter()
        .filter(|(_, at)| {
            NaiveDate::parse_from_str(at.get(..10).unwrap_or(""), "%Y-%m-%d")
                .is_ok_and(|d| d < before)
        })
        .map(|(size, _)| *size)
        .max()
        .unwrap_or(0);
    let Some((size, note)) = checkpoints.last().cloned() else {
        return Ok(ArchiveReport {
            entries: 0,
            first_seq: None,
            last_seq: None,
            checkpoint_size: 0,
            file_sha256: String::new(),
        });
    };
    // The whole tree up to the latest checkpoint, for the proofs.
    let mut tree = InMemoryTree::with_hasher(hasher);
    let mut chosen = Vec::new();
    let mut from = 0;
    while from < size {
        let page = store
            .ledger_entries(from, PAGE.min(size - from))
            .map_err(LogError::from)?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            tree.push(entry_leaf(hasher, &e.body));
            if e.seq < cutoff && archivable(&e.kind, &e.body) {
                chosen.push(e.clone());
            }
        }
        from += page.len() as i64;
    }
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let err = |reason: String| ArchiveError::File {
        path: out.display().to_string(),
        reason,
    };
    let mut text = String::new();
    text.push_str(
        &serde_json::json!({"format": FORMAT, "size": size, "checkpoint": note}).to_string(),
    );
    text.push('\n');
    let mut stubs = Vec::with_capacity(chosen.len());
    for e in &chosen {
        let proof = inclusion_proof(e.seq as u64, size as u64, &tree).map_err(LogError::from)?;
        let leaf = hasher.leaf(e.body.as_bytes());
        text.push_str(
            &serde_json::json!({
                "seq": e.seq,
                "kind": e.kind,
                "body": e.body,
                "proof": proof.iter().map(|h| hex(h)).collect::<Vec<_>>(),
            })
            .to_string(),
        );
        text.push('\n');
        stubs.push((e.seq, stub(&file_name, e.seq, &leaf)));
    }
    if stubs.is_empty() {
        return Ok(ArchiveReport {
            entries: 0,
            first_seq: None,
            last_seq: None,
            checkpoint_size: size as u64,
            file_sha256: String::new(),
        });
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| err(format!("无法新建：{e}")))?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| err(format!("无法写入：{e}")))?;
    let file_sha256 = hex(&Sha256::digest(text.as_bytes()));
    store
        .archive_ledger_bodies(&stubs)
        .map_err(LogError::from)?;
    let report = ArchiveReport {
        entries: stubs.len(),
        first_seq: stubs.first().map(|s| s.0),
        last_seq: stubs.last().map(|s| s.0),
        checkpoint_size: size as u64,
        file_sha256,
    };
    let mut body = serde_json::Map::new();
    body.insert("file".into(), file_name.into());
    body.insert("file_sha256".into(), report.file_sha256.clone().into());
    body.insert("entries".into(), report.entries.into());
    body.insert("first_seq".into(), report.first_seq.into());
    body.insert("last_seq".into(), report.last_seq.into());
    body.insert("before".into(), before.to_string().into());
    store
        .append_events(&[xiezhi_store::LedgerEvent {
            kind: "ledger_archived".into(),
            entity: None,
            uid: None,
            body,
        }])
        .map_err(LogError::from)?;
    Ok(report)
}

/// What checking an archive file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveCheck {
    /// Entries in the file.
    pub entries: usize,
    /// Size of the checkpoint in the file.
    pub checkpoint_size: u64,
    /// Entries whose body or proof does not verify: (seq, why).
    pub bad: Vec<(i64, String)>,
}

/// Verifies an archive on its own: the checkpoint's signature under one of `verifiers`, and
/// every entry's inclusion in it. With `store`, also that the store's stub of each entry names
/// the same leaf and that the body hashes to the digest the store kept when it was written.
pub fn verify_archive<S: Store>(
    path: &Path,
    verifiers: &[Verifier],
    store: Option<&S>,
) -> Result<ArchiveCheck, ArchiveError> {
    let err = |reason: String| ArchiveError::File {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| err(format!("无法读取：{e}")))?;
    let mut lines = std::io::BufReader::new(file).lines();
    let head: serde_json::Value = lines
        .next()
        .transpose()
        .map_err(|e| err(e.to_string()))?
        .and_then(|l| serde_json::from_str(&l).ok())
        .ok_or_else(|| err("缺少文件头 (no header line)".into()))?;
    if head["format"] != FORMAT {
        return Err(err(format!("不是 {FORMAT} 格式")));
    }
    let note = head["checkpoint"]
        .as_str()
        .ok_or_else(|| err("文件头缺少检查点".into()))?;
    let (cp, _) =
        Checkpoint::open(note, verifiers).map_err(|e| err(format!("检查点签名无效：{e}")))?;
    let hasher = verifiers
        .first()
        .map(Verifier::tree_hash)
        .unwrap_or_default();
    let mut check = ArchiveCheck {
        checkpoint_size: cp.size,
        ..ArchiveCheck::default()
    };
    let stored: std::collections::HashMap<i64, xiezhi_store::LedgerRow> = match store {
        Some(s) => s
            .ledger_entries(0, i64::MAX)
            .map_err(LogError::from)?
            .into_iter()
            .filter(|e| e.body.starts_with(STUB_PREFIX))
            .map(|e| (e.seq, e))
            .collect(),
        None => Default::default(),
    };
    for (n, line) in lines.enumerate() {
        let line = line.map_err(|e| err(e.to_string()))?;
        let v: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| err(format!("第 {} 行不是有效 JSON：{e}", n + 2)))?;
        let seq = v["seq"].as_i64().unwrap_or(-1);
        let body = v["body"].as_str().unwrap_or_default();
        check.entries += 1;
        let proof: Option<Vec<Hash>> = v["proof"].as_array().and_then(|a| {
            a.iter()
                .map(|h| h.as_str().and_then(hash_from_hex))
                .collect()
        });
        let leaf = hasher.leaf(body.as_bytes());
        let included = proof.is_some_and(|p| {
            seq >= 0
                && verify_inclusion_with(hasher, &leaf, seq as u64, cp.size, &p, &cp.root).is_ok()
        });
        if !included {
            check.bad.push((
                seq,
                "内容或包含证明与签名检查点不符 (not in the signed tree)".into(),
            ));
            continue;
        }
        if store.is_some() {
            match stored.get(&seq) {
                Some(row)
                    if entry_leaf(hasher, &row.body) == leaf
                        && row.body_sha256 == hex(&Sha256::digest(body.as_bytes())) => {}
                Some(_) => check.bad.push((
                    seq,
                    "与库中留存的摘要不符 (differs from the store's stub)".into(),
                )),
                None => check.bad.push((
                    seq,
                    "库中该条未标记为已归档 (not archived in the store)".into(),
                )),
            }
        }
    }
    Ok(check)
}

/// A hash from 64 hex digits.
pub(crate) fn hash_from_hex(s: &str) -> Option<Hash> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
