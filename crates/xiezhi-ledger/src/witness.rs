//! Witnesses: another organ cosigns the log's checkpoints, but only after checking that each
//! new checkpoint extends the last one it cosigned. A log that shows one history to one
//! party and another to someone else (a split view), or rewrites its past, cannot collect
//! the witness's cosignature for both, so a verifier that requires k of n witnesses cannot be
//! fooled unless k witnesses collude.
//!
//! Formats follow c2sp.org/tlog-cosignature (cosignature/v1, Ed25519, signature type 0x04):
//! the cosignature is a signed-note line `— <witness name> base64(key ID || timestamp ||
//! signature)`, with key ID `SHA-256(name || "\n" || 0x04 || public key)[:4]`, an 8-byte
//! big-endian timestamp, and an Ed25519 signature over
//! `"cosignature/v1\ntime <timestamp>\n" || checkpoint body`. The witness's decision follows
//! the add-checkpoint rules of c2sp.org/tlog-witness: the caller names the size it believes
//! the witness last cosigned and proves consistency from there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::checkpoint::{
    check_key_name, decode_signer_key, decode_vkey, encode_signer_key, encode_vkey, key_hash,
    open_note, parse_note, Checkpoint, CheckpointError, Verifier, SIGNATURE_PREFIX,
};
use crate::hash::Hash;
use crate::proof::verify_consistency_with;

/// Signature type byte of timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// Header line of the cosigned message.
const COSIGNATURE_HEADER: &str = "cosignature/v1\n";

/// Why a witness refused, or why cosignatures did not satisfy a verifier.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The note, key or checkpoint is malformed, or the log's signature fails.
    #[error("检查点或签名格式错误 (checkpoint or signature): {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The witness does not witness this log.
    #[error("见证方未登记日志 `{0}` (unknown log origin)")]
    UnknownLog(String),
    /// The caller's idea of the last cosigned size is not the witness's (tlog-witness 409):
    /// the caller should prove consistency from `cosigned` instead.
    #[error(
        "旧树大小不符：见证方上次联署的大小为 {cosigned}，请求给出 {claimed} (old size mismatch)"
    )]
    OldSizeMismatch {
        /// Size the witness last cosigned.
        cosigned: u64,
        /// Size the caller claimed.
        claimed: u64,
    },
    /// The checkpoint is smaller than one already cosigned.
    #[error("回退：见证方已联署大小 {cosigned}，提交的检查点大小为 {offered} (rollback refused)")]
    Rollback {
        /// Size the witness last cosigned.
        cosigned: u64,
        /// Size offered.
        offered: u64,
    },
    /// Two different roots for the same size: the log shows different histories.
    #[error("分叉视图：大小 {size} 已联署根 {cosigned_root}，提交的根为 {offered_root}；证据见 {report} (split view refused)")]
    SplitView {
        /// The size both checkpoints claim.
        size: u64,
        /// Root the witness cosigned (base64).
        cosigned_root: String,
        /// Root now offered (base64).
        offered_root: String,
        /// Report file with both checkpoints.
        report: String,
    },
    /// The consistency proof does not show the new checkpoint extending the cosigned one.
    #[error("历史被改写：从大小 {old_size} 到 {new_size} 的一致性证明不成立（{reason}）；证据见 {report} (inconsistent history refused)")]
    Inconsistent {
        /// Size the witness last cosigned.
        old_size: u64,
        /// Size offered.
        new_size: u64,
        /// What the proof check said.
        reason: String,
        /// Report file with both checkpoints and the proof.
        report: String,
    },
    /// A cosignature line from a configured witness is malformed or does not verify.
    #[error("见证方 {name} 的联署签名无效：{reason} (bad cosignature)")]
    BadCosignature {
        /// Witness name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Fewer valid cosignatures than the quorum.
    #[error("联署不足：需要 {needed} 个见证方，仅有 {found:?} 有效；缺少 {missing:?} (witness quorum not met)")]
    QuorumNotMet {
        /// Cosignatures required.
        needed: usize,
        /// Witnesses whose cosignature verified.
        found: Vec<String>,
        /// Configured witnesses without a valid cosignature.
        missing: Vec<String>,
    },
    /// A quorum larger than the list of witnesses can never be met.
    #[error("法定数 {quorum} 大于见证方数量 {witnesses} (quorum larger than the witness list)")]
    QuorumTooLarge {
        /// Quorum asked for.
        quorum: usize,
        /// Witnesses configured.
        witnesses: usize,
    },
    /// The witness's files could not be read or written.
    #[error("见证方文件 `{path}` 无法读写 (witness file): {reason}")]
    File {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> WitnessError {
    WitnessError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The message a cosignature signs.
pub fn cosigned_message(body: &str, timestamp: u64) -> Vec<u8> {
    format!("{COSIGNATURE_HEADER}time {timestamp}\n{body}").into_bytes()
}

/// A witness's signing key.
#[derive(Clone)]
pub struct Cosigner {
    name: String,
    key: SigningKey,
    key_hash: u32,
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cosigner")
            .field("name", &self.name)
            .field("key_hash", &format_args!("{:08x}", self.key_hash))
            .finish_non_exhaustive()
    }
}

impl Cosigner {
    /// A cosigner named `name` holding `key`.
    pub fn new(name: impl Into<String>, key: SigningKey) -> Result<Self, CheckpointError> {
        let name = name.into();
        check_key_name(&name)?;
        let key_hash = key_hash(&name, ALG_COSIGNATURE_V1, key.verifying_key().as_bytes());
        Ok(Self {
            name,
            key,
            key_hash,
        })
    }

    /// A fresh key named `name`.
    pub fn generate(name: impl Into<String>) -> Result<Self, CheckpointError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        xiezhi_crypto::random_bytes(seed.as_mut());
        Self::new(name, SigningKey::from_bytes(&seed))
    }

    /// Key name, written in every cosignature line.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public side, for verifiers' configuration.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
            key_hash: self.key_hash,
        }
    }

    /// The cosignature line (without newline) over a checkpoint body at `timestamp`.
    pub fn cosignature_line(&self, body: &str, timestamp: u64) -> String {
        let signature = self.key.sign(&cosigned_message(body, timestamp));
        let mut raw = Vec::with_capacity(4 + 8 + 64);
        raw.extend_from_slice(&self.key_hash.to_be_bytes());
        raw.extend_from_slice(&timestamp.to_be_bytes());
        raw.extend_from_slice(&signature.to_bytes());
        format!("{SIGNATURE_PREFIX}{} {}", self.name, STANDARD.encode(raw))
    }

    /// The key file text, `PRIVATE+KEY+<name>+<hex key hash>+<base64(0x04 || seed)>`. Secret.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        encode_signer_key(
            &self.name,
            self.key_hash,
            ALG_COSIGNATURE_V1,
            self.key.as_bytes(),
        )
    }

    /// Parses [`Cosigner::to_bytes`]; one trailing newline is allowed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let (name, written, seed) = decode_signer_key(bytes, ALG_COSIGNATURE_V1)?;
        let cosigner = Self::new(name, SigningKey::from_bytes(&seed))?;
        if cosigner.key_hash != written {
            return Err(CheckpointError::KeyHashMismatch {
                got: written,
                want: cosigner.key_hash,
            });
        }
        Ok(cosigner)
    }
}

/// A witness's public key as verifiers configure it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key: VerifyingKey,
    key_hash: u32,
}

impl CosignatureVerifier {
    /// Parses a vkey `<name>+<hex key hash>+<base64(0x04 || public key)>`.
    pub fn from_vkey(vkey: &str) -> Result<Self, CheckpointError> {
        let (name, written, key) = decode_vkey(vkey, ALG_COSIGNATURE_V1)?;
        let key_hash = key_hash(&name, ALG_COSIGNATURE_V1, key.as_bytes());
        if key_hash != written {
            return Err(CheckpointError::KeyHashMismatch {
                got: written,
                want: key_hash,
            });
        }
        Ok(Self {
            name,
            key,
            key_hash,
        })
    }

    /// The vkey text.
    pub fn to_vkey(&self) -> String {
        encode_vkey(
            &self.name,
            self.key_hash,
            ALG_COSIGNATURE_V1,
            self.key.as_bytes(),
        )
    }

    /// Witness name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks one cosignature (the bytes after the key ID) over `body`; returns its timestamp.
    fn verify(&self, body: &str, signature: &[u8]) -> Result<u64, String> {
        if signature.len() != 8 + 64 {
            return Err(format!(
                "签名长度 {} 字节，应为 72 (timestamp + Ed25519 signature)",
                signature.len()
            ));
        }
        let (ts, sig) = signature.split_at(8);
        let timestamp = u64::from_be_bytes(ts.try_into().map_err(|_| "时间戳".to_string())?);
        if timestamp > i64::MAX as u64 {
            return Err("时间戳超过 2^63-1".into());
        }
        let sig: [u8; 64] = sig.try_into().map_err(|_| "签名".to_string())?;
        self.key
            .verify_strict(
                &cosigned_message(body, timestamp),
                &Signature::from_bytes(&sig),
            )
            .map_err(|_| "签名验证失败".to_string())?;
        Ok(timestamp)
    }
}

/// Adds a cosignature line to a signed note, replacing an earlier one by the same key.
pub fn add_cosignature(note: &str, line: &str) -> Result<String, CheckpointError> {
    let parsed = parse_note(note)?;
    let probe = format!("{}\n{line}\n", parsed.text);
    let new = parse_note(&probe)?;
    let Some(added) = new.signatures.first() else {
        return Err(CheckpointError::MalformedNote("no cosignature line"));
    };
    let mut out = String::with_capacity(note.len() + line.len() + 1);
    out.push_str(parsed.text);
    out.push('\n');
    for sig in &parsed.signatures {
        if sig.name == added.name && sig.key_hash == added.key_hash {
            continue;
        }
        out.push_str(sig.line);
        out.push('\n');
    }
    out.push_str(line);
    out.push('\n');
    Ok(out)
}

/// What a quorum check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// The checkpoint, signed by the log.
    pub checkpoint: Checkpoint,
    /// (witness name, cosignature timestamp) of every valid cosignature.
    pub witnesses: Vec<(String, u64)>,
}

/// Opens a checkpoint note that the log signed and at least `quorum` of `witnesses`
/// cosigned. Lines of unknown keys are ignored (signed-note rules); a line from a configured
/// witness that is malformed or fails is an error naming the witness.
pub fn open_cosigned(
    note: &str,
    log: &[Verifier],
    witnesses: &[CosignatureVerifier],
    quorum: usize,
) -> Result<Cosigned, WitnessError> {
    if quorum > witnesses.len() {
        return Err(WitnessError::QuorumTooLarge {
            quorum,
            witnesses: witnesses.len(),
        });
    }
    let (body, _) = open_note(note, log)?;
    let checkpoint = Checkpoint::parse_body(body)?;
    let parsed = parse_note(note)?;
    let mut found: Vec<(String, u64)> = Vec::new();
    for sig in &parsed.signatures {
        let Some(w) = witnesses
            .iter()
            .find(|w| w.name == sig.name && w.key_hash == sig.key_hash)
        else {
            continue;
        };
        let ts = w
            .verify(body, &sig.signature)
            .map_err(|reason| WitnessError::BadCosignature {
                name: w.name.clone(),
                reason,
            })?;
        if !found.iter().any(|(n, _)| *n == w.name) {
            found.push((w.name.clone(), ts));
        }
    }
    if found.len() < quorum {
        return Err(WitnessError::QuorumNotMet {
            needed: quorum,
            found: found.iter().map(|(n, _)| n.clone()).collect(),
            missing: witnesses
                .iter()
                .filter(|w| !found.iter().any(|(n, _)| *n == w.name))
                .map(|w| w.name.clone())
                .collect(),
        });
    }
    Ok(Cosigned {
        checkpoint,
        witnesses: found,
    })
}

/// The last checkpoint a witness cosigned for one log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LogState {
    size: u64,
    /// Base64 root hash.
    root: String,
    /// The note as offered, for the evidence in a later report.
    note: String,
}

/// The witness's configuration: the logs it witnesses (origin → log vkey).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Config {
    logs: BTreeMap<String, String>,
}

/// Evidence of a refused checkpoint, written to `reports/`.
#[derive(Debug, Serialize)]
struct Report<'a> {
    kind: &'a str,
    origin: &'a str,
    detected_at: u64,
    cosigned_size: u64,
    cosigned_root: &'a str,
    cosigned_note: &'a str,
    offered_size: u64,
    offered_root: String,
    offered_note: &'a str,
    old_size_claimed: u64,
    proof: Vec<String>,
    reason: String,
}

/// A witness over its state directory: `witness.key` (its cosigner key, mode 0600),
/// `config.json` (logs witnessed), `state/<origin>.json` (last cosigned checkpoint per log,
/// replaced atomically) and `reports/` (evidence of every refusal).
#[derive(Debug)]
pub struct Witness {
    dir: PathBuf,
    cosigner: Cosigner,
    config: Config,
}

const KEY_FILE: &str = "witness.key";
const CONFIG_FILE: &str = "config.json";

impl Witness {
    /// Creates a witness named `name` in `dir` (which must not hold one already).
    pub fn init(dir: &Path, name: &str) -> Result<Witness, WitnessError> {
        let cosigner = Cosigner::generate(name)?;
        std::fs::create_dir_all(dir.join("state")).map_err(|e| file_error(dir, e))?;
        std::fs::create_dir_all(dir.join("reports")).map_err(|e| file_error(dir, e))?;
        let key_path = dir.join(KEY_FILE);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&key_path).map_err(|e| file_error(&key_path, e))?;
        std::io::Write::write_all(&mut f, &cosigner.to_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| file_error(&key_path, e))?;
        let witness = Witness {
            dir: dir.to_path_buf(),
            cosigner,
            config: Config::default(),
        };
        witness.save_config()?;
        Ok(witness)
    }

    /// Opens the witness in `dir`.
    pub fn open(dir: &Path) -> Result<Witness, WitnessError> {
        let key_path = dir.join(KEY_FILE);
        let key = Zeroizing::new(std::fs::read(&key_path).map_err(|e| file_error(&key_path, e))?);
        let cosigner = Cosigner::from_bytes(&key)?;
        let config_path = dir.join(CONFIG_FILE);
        let text =
            std::fs::read_to_string(&config_path).map_err(|e| file_error(&config_path, e))?;
        let config: Config =
            serde_json::from_str(&text).map_err(|e| file_error(&config_path, e))?;
        Ok(Witness {
            dir: dir.to_path_buf(),
            cosigner,
            config,
        })
    }

    /// The witness's public key for verifiers.
    pub fn verifier(&self) -> CosignatureVerifier {
        self.cosigner.verifier()
    }

    /// Starts witnessing the log whose checkpoints `log` verifies (its origin is the key name).
    pub fn add_log(&mut self, log: &Verifier) -> Result<(), WitnessError> {
        self.config
            .logs
            .insert(log.name().to_string(), log.to_vkey());
        self.save_config()
    }

    /// The size last cosigned for `origin` (0 before the first).
    pub fn cosigned_size(&self, origin: &str) -> Result<u64, WitnessError> {
        Ok(self.state(origin)?.map_or(0, |s| s.size))
    }

    /// c2sp.org/tlog-witness add-checkpoint: `note` is the log's signed checkpoint,
    /// `old_size` the size the caller believes was last cosigned and `proof` the consistency
    /// proof from it. Returns the cosignature line; refuses (and reports) a rollback, a split
    /// view or a rewritten history, leaving the state as it was.
    pub fn add_checkpoint(
        &mut self,
        old_size: u64,
        proof: &[Hash],
        note: &str,
        now: u64,
    ) -> Result<String, WitnessError> {
        let parsed = parse_note(note)?;
        let offered = Checkpoint::parse_body(parsed.text)?;
        let vkey = self
            .config
            .logs
            .get(&offered.origin)
            .ok_or_else(|| WitnessError::UnknownLog(offered.origin.clone()))?;
        let log = Verifier::from_vkey(vkey)?;
        // The log key's suite names the hash of its tree (SHA-256 or SM3).
        let hasher = log.tree_hash();
        open_note(note, &[log])?;
        let state = self.state(&offered.origin)?;
        let (cosigned_size, cosigned_root) = match &state {
            Some(s) => (s.size, decode_root(&s.root)?),
            None => (0, [0u8; 32]),
        };
        if old_size != cosigned_size {
            return Err(WitnessError::OldSizeMismatch {
                cosigned: cosigned_size,
                claimed: old_size,
            });
        }
        let offered_root = STANDARD.encode(offered.root);
        if let Some(state) = &state {
            if offered.size < state.size {
                return Err(WitnessError::Rollback {
                    cosigned: state.size,
                    offered: offered.size,
                });
            }
            if offered.size == state.size && offered_root != state.root {
                let report = self.report(
                    "split_view",
                    state,
                    &offered,
                    note,
                    old_size,
                    proof,
                    "同一大小的两个不同根 (two roots for one size)".into(),
                    now,
                )?;
                return Err(WitnessError::SplitView {
                    size: offered.size,
                    cosigned_root: state.root.clone(),
                    offered_root,
                    report,
                });
            }
            if offered.size > state.size {
                if let Err(e) = verify_consistency_with(
                    hasher,
                    state.size,
                    offered.size,
                    proof,
                    &cosigned_root,
                    &offered.root,
                ) {
                    let report = self.report(
                        "inconsistent",
                        state,
                        &offered,
                        note,
                        old_size,
                        proof,
                        e.to_string(),
                        now,
                    )?;
                    return Err(WitnessError::Inconsistent {
                        old_size: state.size,
                        new_size: offered.size,
                        reason: e.to_string(),
                        report,
                    });
                }
            }
        } else if !proof.is_empty() {
            return Err(WitnessError::Inconsistent {
                old_size: 0,
                new_size: offered.size,
                reason: "首个检查点不应带一致性证明 (no proof from size 0)".into(),
                report: String::new(),
            });
        }
        self.save_state(
            &offered.origin,
            &LogState {
                size: offered.size,
                root: offered_root,
                note: note.to_string(),
            },
        )?;
        Ok(self.cosigner.cosignature_line(parsed.text, now))
    }

    fn state_path(&self, origin: &str) -> PathBuf {
        // Origins are URLs-ish: keep letters, digits and a few marks, hex-escape the rest.
        let mut name = String::new();
        for b in origin.bytes() {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                name.push(b as char);
            } else {
                name.push_str(&format!("%{b:02x}"));
            }
        }
        self.dir.join("state").join(format!("{name}.json"))
    }

    fn state(&self, origin: &str) -> Result<Option<LogState>, WitnessError> {
        let path = self.state_path(origin);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| file_error(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(file_error(&path, e)),
        }
    }

    fn save_state(&self, origin: &str, state: &LogState) -> Result<(), WitnessError> {
        let path = self.state_path(origin);
        let text = serde_json::to_string_pretty(state).map_err(|e| file_error(&path, e))?;
        write_atomically(&path, text.as_bytes())
    }

    fn save_config(&self) -> Result<(), WitnessError> {
        let path = self.dir.join(CONFIG_FILE);
        let text = serde_json::to_string_pretty(&self.config).map_err(|e| file_error(&path, e))?;
        write_atomically(&path, text.as_bytes())
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        &self,
        kind: &str,
        state: &LogState,
        offered: &Checkpoint,
        note: &str,
        old_size: u64,
        proof: &[Hash],
        reason: String,
        now: u64,
    ) -> Result<String, WitnessError> {
        let report = Report {
            kind,
            origin: &offered.origin,
            detected_at: now,
            cosigned_size: state.size,
            cosigned_root: &state.root,
            cosigned_note: &state.note,
            offered_size: offered.size,
            offered_root: STANDARD.encode(offered.root),
            offered_note: note,
            old_size_claimed: old_size,
            proof: proof.iter().map(|h| STANDARD.encode(h)).collect(),
            reason,
        };
        let dir = self.dir.join("reports");
        std::fs::create_dir_all(&dir).map_err(|e| file_error(&dir, e))?;
        let mut n = 0;
        let path = loop {
            let path = dir.join(format!("{now}-{kind}-{n}.json"));
            if !path.exists() {
                break path;
            }
            n += 1;
        };
        let text = serde_json::to_string_pretty(&report).map_err(|e| file_error(&path, e))?;
        write_atomically(&path, text.as_bytes())?;
        Ok(path.display().to_string())
    }
}

fn decode_root(b64: &str) -> Result<Hash, WitnessError> {
    STANDARD
        .decode(b64)
        .ok()
        .and_then(|raw| Hash::try_from(raw.as_slice()).ok())
        .ok_or(WitnessError::Checkpoint(
            CheckpointError::MalformedCheckpoint("stored root is not base64 of 32 bytes"),
        ))
}

/// Writes `bytes` to `path` through a temporary file, fsync and rename, so a crash leaves the
/// old or the new content, never a mix.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WitnessError> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut f, bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(parent) = path.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
        Ok(())
    };
    write().map_err(|e| file_error(path, e))
}
