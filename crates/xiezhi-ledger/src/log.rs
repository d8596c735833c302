//! The platform's audit log: the Merkle core run over the store's ledger entries.
//!
//! The store appends an entry for every write in the same transaction as the write. This
//! module seals what was appended into signed checkpoints, proves an entry's inclusion, and
//! verifies the whole store: entries contiguous and unedited, every checkpoint's signature and
//! root, and every stored row equal to what its latest entry committed to. `verify` names the
//! first bad entry.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};
use xiezhi_store::{Entity, Store, StoreError};

use crate::checkpoint::{Checkpoint, CheckpointError, Signer, Verifier};
use crate::compact::CompactTree;
use crate::hash::{Hash, TreeHash};
use crate::proof::{consistency_proof, inclusion_proof, InMemoryTree, ProofError};

/// Entries read from the store per page.
pub(crate) const PAGE: i64 = 100_000;

/// The leaf hash of a stored entry: of its body, or, for an entry moved to an archive
/// ([`crate::archive`]), the leaf its stub names. A stub that does not parse hashes as it is,
/// so the tree no longer matches the signed checkpoints and verification says where.
pub(crate) fn entry_leaf(hasher: TreeHash, body: &str) -> Hash {
    if body.starts_with(crate::archive::STUB_PREFIX) {
        if let Some(leaf) = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["leaf"].as_str().and_then(crate::archive::hash_from_hex))
        {
            return leaf;
        }
    }
    hasher.leaf(body.as_bytes())
}

/// Errors that stop sealing, proving or verifying (as opposed to tampering, which `verify`
/// reports as problems).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The store failed.
    #[error("存储错误 (store error): {0}")]
    Store(#[from] StoreError),
    /// The key file could not be read or written.
    #[error("账本密钥文件 `{path}` 无法读写 (cannot read or write the ledger key file): {source}")]
    KeyFile {
        /// The key file.
        path: String,
        /// Why it could not be used.
        source: std::io::Error,
    },
    /// The key file does not hold a signing key.
    #[error("账本密钥文件 `{path}` 无效 (invalid ledger key file): {source}")]
    BadKey {
        /// The key file.
        path: String,
        /// Why its content is not a key.
        source: CheckpointError,
    },
    /// Signing or opening a checkpoint failed.
    #[error("检查点错误 (checkpoint error): {0}")]
    Checkpoint(#[from] CheckpointError),
    /// A proof could not be built.
    #[error("证明错误 (proof error): {0}")]
    Proof(#[from] ProofError),
    /// The entry is past the last checkpoint or not in the log.
    #[error("账本中没有第 {0} 条记录，或尚无覆盖它的检查点 (entry {0} is not in the log or not yet under a checkpoint)")]
    NotCovered(i64),
    /// The stored compact state does not describe a tree.
    #[error("存储的检查点状态损坏 (stored tree state is corrupt)")]
    BadState,
}

/// The log's signing identity.
pub struct AuditLog {
    signer: Signer,
}

/// The default origin (key name) of a deployment's log.
pub const DEFAULT_ORIGIN: &str = "xiezhi.platform/audit-log";

impl AuditLog {
    /// Loads the signing key from `key_path`, creating a new key there on first run, of the
    /// deployment's suite (`crypto.toml` beside the key: Ed25519 and a SHA-256 tree, or SM2 and
    /// an SM3 tree). An existing key keeps its own suite: a log never changes its hash.
    pub fn open_or_create(key_path: &Path, origin: &str) -> Result<AuditLog, LogError> {
        let path = key_path.display().to_string();
        if key_path.exists() {
            let bytes = std::fs::read(key_path).map_err(|source| LogError::KeyFile {
                path: path.clone(),
                source,
            })?;
            let signer =
                Signer::from_bytes(&bytes).map_err(|source| LogError::BadKey { path, source })?;
            return Ok(AuditLog { signer });
        }
        let suite = key_path
            .parent()
            .and_then(|dir| xiezhi_store::fieldcrypt::read_suite(dir).ok())
            .unwrap_or(xiezhi_crypto::Suite::International);
        let signer = Signer::generate_in(origin, suite)?;
        write_private(key_path, &signer.to_bytes())
            .map_err(|source| LogError::KeyFile { path, source })?;
        Ok(AuditLog { signer })
    }

    /// The public key that verifies this log's checkpoints, in signed-note vkey form.
    pub fn hasher(&self) -> TreeHash {
        TreeHash::of_suite(self.signer.suite())
    }

    /// The public key that verifies this log's checkpoints.
    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    /// The log's origin line, also its key name.
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// Seals the entries appended since the last checkpoint into a new signed checkpoint.
    /// Returns `None` when there is nothing new.
    pub fn checkpoint<S: Store>(
        &self,
        store: &mut S,
        now: &str,
    ) -> Result<Option<String>, LogError> {
        let hasher = self.hasher();
        let mut tree = match store.ledger_state()? {
            None => CompactTree::new().with_hasher(hasher),
            Some((size, peaks)) => {
                let peaks: Vec<Hash> = peaks
                    .chunks(32)
                    .map(|c| c.try_into().map_err(|_| LogError::BadState))
                    .collect::<Result<_, _>>()?;
                CompactTree::from_parts(size as u64, peaks)
                    .map_err(|_| LogError::BadState)?
                    .with_hasher(hasher)
            }
        };
        let len = store.ledger_len()?;
        if tree.size() as i64 >= len {
            return Ok(None);
        }
        let mut from = tree.size() as i64;
        while from < len {
            let page = store.ledger_entries(from, PAGE)?;
            if page.is_empty() {
                break;
            }
            for e in &page {
                tree.append(entry_leaf(hasher, &e.body));
            }
            from += page.len() as i64;
        }
        let note = Checkpoint::new(self.origin(), tree.size(), tree.root()).sign(&self.signer)?;
        let peaks: Vec<u8> = tree.peaks().iter().flatten().copied().collect();
        store.put_checkpoint(tree.size() as i64, &note, now, &peaks)?;
        Ok(Some(note))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options.open(path)?.write_all(bytes)
}

/// One finding of `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The entry at fault, when one can be named.
    pub seq: Option<i64>,
    /// `entry.gap`, `entry.edited`, `entry.reordered`, `entry.malformed`, `checkpoint.signature`,
    /// `checkpoint.truncated`, `checkpoint.root`, `row.edited`, `row.deleted`, `row.unlogged`.
    pub kind: &'static str,
    /// What is wrong, in Chinese with English in brackets.
    pub detail: String,
}

/// The outcome of verifying a store's ledger.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Entries read.
    pub entries: i64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// Entries appended after the last checkpoint (not yet sealed; not a fault).
    pub unsealed: i64,
    /// Stored rows compared with their entries.
    pub rows_checked: usize,
    /// Entries whose body was moved to an archive file (their leaf stays in the tree).
    pub archived: i64,
    /// Every problem found, by entry number.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// No problem found.
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }

    /// The first bad entry: the lowest-numbered problem that names its entry exactly; failing
    /// that, the start of the first range a signed checkpoint disowns; then the rest.
    pub fn first_bad(&self) -> Option<&Problem> {
        self.problems
            .iter()
            .min_by_key(|p| (p.seq.is_none(), p.kind == "checkpoint.root", p.seq))
    }
}

use xiezhi_store::hex;

/// Recomputes everything from the store and reports every problem found. `verifiers` are the
/// keys whose checkpoints are trusted (the log's own, and witnesses later).
pub fn verify<S: Store>(store: &S, verifiers: &[Verifier]) -> Result<VerifyReport, LogError> {
    // The log key's suite names the tree's hash.
    let hasher = verifiers
        .first()
        .map(Verifier::tree_hash)
        .unwrap_or_default();
    let mut report = VerifyReport::default();
    let mut leaves: Vec<Hash> = Vec::new();
    // Latest entry per (entity, uid): (seq, content hash).
    let mut latest: HashMap<(String, String), (i64, String)> = HashMap::new();
    let mut expected = 0i64;
    loop {
        let page = store.ledger_entries(expected, PAGE)?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            if e.seq != expected {
                report.problems.push(Problem {
                    seq: Some(expected),
                    kind: "entry.gap",
                    detail: format!(
                        "第 {expected} 条缺失，下一条为第 {} 条 (entry {expected} is missing)",
                        e.seq
                    ),
                });
                expected = e.seq;
            }
            let archived = e.body.starts_with(crate::archive::STUB_PREFIX);
            if archived {
                report.archived += 1;
            }
            // An archived entry keeps the digest of its body, which is in the archive file;
            // its leaf (in the stub) is checked against the signed checkpoints below.
            if !archived && hex(&Sha256::digest(e.body.as_bytes())) != e.body_sha256 {
                report.problems.push(Problem {
                    seq: Some(e.seq),
                    kind: "entry.edited",
                    detail: format!("第 {} 条内容与写入时的摘要不符 (entry body edited)", e.seq),
                });
            }
            match serde_json::from_str::<serde_json::Value>(&e.body) {
                Ok(body) => {
                    if body["seq"].as_i64() != Some(e.seq) {
                        report.problems.push(Problem {
                            seq: Some(e.seq),
                            kind: "entry.reordered",
                            detail: format!(
                                "第 {} 条的内容写明序号 {}（条目被移动或调换）(entry moved)",
                                e.seq, body["seq"]
                            ),
                        });
                    }
                    if e.kind == "records_written" {
                        for row in body["rows"].as_array().into_iter().flatten() {
                            if let (Some(entity), Some(uid), Some(h)) = (
                                row["entity"].as_str(),
                                row["uid"].as_str(),
                                row["content_sha256"].as_str(),
                            ) {
                                latest.insert(
                                    (entity.to_string(), uid.to_string()),
                                    (e.seq, h.to_string()),
                                );
                            }
                        }
                    }
                }
                Err(err) => report.problems.push(Problem {
                    seq: Some(e.seq),
                    kind: "entry.malformed",
                    detail: format!("第 {} 条不是有效 JSON：{err}", e.seq),
                }),
            }
            leaves.push(entry_leaf(hasher, &e.body));
            expected += 1;
        }
    }
    report.entries = leaves.len() as i64;

    // Checkpoints: signature, coverage, root.
    let checkpoints = store.checkpoints()?;
    report.checkpoints = checkpoints.len();
    let mut tree = CompactTree::new().with_hasher(hasher);
    let mut last_good = 0i64;
    let mut sealed = 0i64;
    for (size, note) in &checkpoints {
        let cp = match Checkpoint::open(note, verifiers) {
            Ok((cp, _)) => cp,
            Err(e) => {
                report.problems.push(Problem {
                    seq: None,
                    kind: "checkpoint.signature",
                    detail: format!(
                        "大小为 {size} 的检查点签名无效：{e} (bad checkpoint signature)"
                    ),
                });
                continue;
            }
        };
        sealed = sealed.max(cp.size as i64);
        if cp.size as i64 > report.entries {
            report.problems.push(Problem {
                seq: Some(report.entries),
                kind: "checkpoint.truncated",
                detail: format!(
                    "检查点覆盖 {} 条，账本只剩 {} 条：自第 {} 条起被截断 (log truncated)",
                    cp.size, report.entries, report.entries
                ),
            });
            continue;
        }
        while tree.size() < cp.size {
            tree.append(leaves[tree.size() as usize]);
        }
        if tree.root() != cp.root {
            report.problems.push(Problem {
                seq: Some(last_good),
                kind: "checkpoint.root",
                detail: format!("第 {last_good} 至 {} 条与大小为 {} 的已签名检查点不符（条目被改写、删除或调换）(entries disagree with a signed checkpoint)", cp.size as i64 - 1, cp.size),
            });
        } else {
            last_good = cp.size as i64;
        }
    }
    report.unsealed = report.entries - sealed;

    // Rows: each equals what its latest entry committed to.
    for entity in Entity::ALL {
        for (uid, hash) in store.row_hashes(entity)? {
            report.rows_checked += 1;
            match latest.remove(&(entity.name().to_string(), uid.clone())) {
                Some((seq, logged)) if logged != hash => report.problems.push(Problem {
                    seq: Some(seq),
                    kind: "row.edited",
                    detail: format!("{} {uid} 与第 {seq} 条账本记录不符（记录被改动）(row edited after its entry)", entity.name()),
                }),
                Some(_) => {}
                None => report.problems.push(Problem { seq: None, kind: "row.unlogged", detail: format!("{} {uid} 没有账本记录 (row without ledger entry)", entity.name()) }),
            }
        }
    }
    for ((entity, uid), (seq, _)) in latest {
        report.problems.push(Problem {
            seq: Some(seq),
            kind: "row.deleted",
            detail: format!("第 {seq} 条记录的 {entity} {uid} 已不在库中 (row deleted)"),
        });
    }
    report
        .problems
        .sort_by_key(|p| (p.seq.unwrap_or(i64::MAX), p.kind));
    Ok(report)
}

/// An inclusion proof of one entry against the latest checkpoint that covers it.
#[derive(Debug, Clone)]
pub struct EntryProof {
    /// The entry's position (leaf index).
    pub seq: i64,
    /// The entry as stored.
    pub body: String,
    /// RFC 6962 leaf hash of the body.
    pub leaf_hash: Hash,
    /// The signed checkpoint the proof leads to.
    pub checkpoint: String,
    /// That checkpoint's tree size.
    pub size: u64,
    /// The audit path, leaf to root.
    pub proof: Vec<Hash>,
}

/// Proves that entry `seq` is in the log as of the latest checkpoint covering it.
pub fn prove_entry<S: Store>(
    store: &S,
    seq: i64,
    hasher: TreeHash,
) -> Result<EntryProof, LogError> {
    let (size, note) = store
        .checkpoints()?
        .into_iter()
        .rev()
        .find(|(size, _)| *size > seq)
        .ok_or(LogError::NotCovered(seq))?;
    let mut tree = InMemoryTree::with_hasher(hasher);
    let mut body = None;
    let mut from = 0;
    while from < size {
        let page = store.ledger_entries(from, PAGE.min(size - from))?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            if e.seq == seq {
                body = Some(e.body.clone());
            }
            tree.push(entry_leaf(hasher, &e.body));
        }
        from += page.len() as i64;
    }
    let body = body.ok_or(LogError::NotCovered(seq))?;
    let proof = inclusion_proof(seq as u64, size as u64, &tree)?;
    Ok(EntryProof {
        seq,
        leaf_hash: entry_leaf(hasher, &body),
        body,
        checkpoint: note,
        size: size as u64,
        proof,
    })
}

/// A consistency proof between two stored checkpoints: the later tree extends the earlier one.
#[derive(Debug, Clone)]
pub struct CheckpointConsistency {
    /// The earlier signed checkpoint.
    pub old: String,
    /// The later signed checkpoint.
    pub new: String,
    /// The proof, from the entries as stored now.
    pub proof: Vec<Hash>,
}

/// Builds the consistency proof between the stored checkpoints of sizes `old` and `new` from
/// the entries as stored now. Verify it with [`crate::verify_consistency`] against the two
/// checkpoints' roots: it fails if any entry before `old` was changed since `old` was signed.
pub fn prove_checkpoints<S: Store>(
    store: &S,
    old: i64,
    new: i64,
    hasher: TreeHash,
) -> Result<CheckpointConsistency, LogError> {
    let checkpoints = store.checkpoints()?;
    let note = |size: i64| {
        checkpoints
            .iter()
            .find(|(s, _)| *s == size)
            .map(|(_, n)| n.clone())
            .ok_or(LogError::NotCovered(size))
    };
    let (old_note, new_note) = (note(old)?, note(new)?);
    let mut tree = InMemoryTree::with_hasher(hasher);
    let mut from = 0;
    while from < new {
        let page = store.ledger_entries(from, PAGE.min(new - from))?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            tree.push(entry_leaf(hasher, &e.body));
        }
        from += page.len() as i64;
    }
    if (tree.size() as i64) < new {
        return Err(LogError::NotCovered(new));
    }
    let proof = consistency_proof(old as u64, new as u64, &tree)?;
    Ok(CheckpointConsistency {
        old: old_note,
        new: new_note,
        proof,
    })
}

/// The latest entry about a stored entity.
pub fn latest_entry_of<S: Store>(
    store: &S,
    entity: Entity,
    uid: &str,
) -> Result<Option<i64>, LogError> {
    let mut found = None;
    let mut from = 0;
    loop {
        let page = store.ledger_entries(from, PAGE)?;
        if page.is_empty() {
            break;
        }
        let needle = format!("\"uid\":\"{uid}\"");
        for e in page
            .iter()
            .filter(|e| e.kind == "records_written" && e.body.contains(&needle))
        {
            let body: serde_json::Value = serde_json::from_str(&e.body).unwrap_or_default();
            let names_it = body["rows"].as_array().into_iter().flatten().any(|r| {
                r["entity"].as_str() == Some(entity.name()) && r["uid"].as_str() == Some(uid)
            });
            if names_it {
                found = Some(e.seq);
            }
        }
        from = page.last().map_or(from, |e| e.seq + 1);
    }
    Ok(found)
}
