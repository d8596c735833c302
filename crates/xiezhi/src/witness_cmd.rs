//! `xiezhi witness …` (run by another organ over its own directory) and the log side,
//! `xiezhi ledger witness` (collect cosignatures for the latest checkpoint) and
//! `xiezhi ledger verify-note` (check a cosigned checkpoint against a witness quorum).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use clap::Subcommand;
use xiezhi_ledger::log::prove_checkpoints;
use xiezhi_ledger::witness::{add_cosignature, open_cosigned, CosignatureVerifier, Witness};
use xiezhi_ledger::{Checkpoint, Hash, Verifier};
use xiezhi_store::Store;

#[derive(Subcommand, Debug)]
pub enum WitnessAction {
    /// 新建见证方（生成联署密钥）并打印其公钥 (create a witness and print its vkey)
    Init {
        /// The witness's state directory.
        #[arg(long)]
        dir: PathBuf,
        /// Witness key name, e.g. `witness.jcy.gz.gov.cn`.
        #[arg(long)]
        name: String,
    },
    /// 登记所见证的日志（日志公钥）(witness a log: its verifier key)
    AddLog {
        #[arg(long)]
        dir: PathBuf,
        /// The log's vkey (`xiezhi ledger key`).
        #[arg(long)]
        vkey: String,
    },
    /// 核对一致性后联署检查点，打印联署签名行 (check consistency, then cosign)
    Cosign {
        #[arg(long)]
        dir: PathBuf,
        /// The log's signed checkpoint note.
        #[arg(long)]
        note: PathBuf,
        /// The size the log believes this witness last cosigned.
        #[arg(long)]
        old_size: u64,
        /// Consistency proof from `old_size`: one base64 hash per line.
        #[arg(long)]
        proof: Option<PathBuf>,
    },
    /// 打印见证方公钥 (print the witness's vkey)
    Key {
        #[arg(long)]
        dir: PathBuf,
    },
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn witness(action: WitnessAction) -> Result<i32> {
    match action {
        WitnessAction::Init { dir, name } => {
            let w = Witness::init(&dir, &name)?;
            println!("已创建见证方 {name}（{}）", dir.display());
            println!("{}", w.verifier().to_vkey());
            Ok(0)
        }
        WitnessAction::AddLog { dir, vkey } => {
            let mut w = Witness::open(&dir)?;
            let log = Verifier::from_vkey(vkey.trim()).context("日志公钥无效 (bad log vkey)")?;
            w.add_log(&log)?;
            println!("已登记日志 {}", log.name());
            Ok(0)
        }
        WitnessAction::Cosign {
            dir,
            note,
            old_size,
            proof,
        } => {
            let mut w = Witness::open(&dir)?;
            let text = std::fs::read_to_string(&note)
                .with_context(|| format!("无法读取 `{}`", note.display()))?;
            let proof = match proof {
                Some(p) => read_proof(&p)?,
                None => Vec::new(),
            };
            match w.add_checkpoint(old_size, &proof, &text, now()) {
                Ok(line) => {
                    println!("{line}");
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("✗ 拒绝联署：{e}");
                    Ok(1)
                }
            }
        }
        WitnessAction::Key { dir } => {
            println!("{}", Witness::open(&dir)?.verifier().to_vkey());
            Ok(0)
        }
    }
}

fn read_proof(path: &Path) -> Result<Vec<Hash>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("无法读取 `{}`", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            base64::engine::general_purpose::STANDARD
                .decode(l.trim())
                .ok()
                .and_then(|raw| Hash::try_from(raw.as_slice()).ok())
                .with_context(|| {
                    format!(
                        "`{}` 第 {} 行不是 32 字节哈希的 base64 (line {} is not a base64 hash)",
                        path.display(),
                        i + 1,
                        i + 1
                    )
                })
        })
        .collect()
}

/// The log side: takes the latest stored checkpoint to each witness directory with the
/// consistency proof from the size that witness last cosigned; prints the cosigned note.
pub fn collect<S: Store>(
    store: &S,
    log: &Verifier,
    witness_dirs: &[PathBuf],
    out: Option<&Path>,
) -> Result<i32> {
    let Some((size, note)) = store.checkpoints()?.pop() else {
        bail!("账本还没有检查点：先运行 `xiezhi ledger checkpoint`");
    };
    Checkpoint::open(&note, std::slice::from_ref(log))?;
    let mut cosigned = note.clone();
    let mut refused = 0;
    for dir in witness_dirs {
        let mut w = Witness::open(dir)?;
        let old = w.cosigned_size(log.name())?;
        let proof = if old == 0 || old == size as u64 {
            Vec::new()
        } else {
            prove_checkpoints(store, old as i64, size, log.tree_hash())?.proof
        };
        match w.add_checkpoint(old, &proof, &note, now()) {
            Ok(line) => {
                println!("✓ {} 已联署大小 {size}（上次 {old}）", w.verifier().name());
                cosigned = add_cosignature(&cosigned, &line)?;
            }
            Err(e) => {
                println!("✗ {} 拒绝联署：{e}", w.verifier().name());
                refused += 1;
            }
        }
    }
    match out {
        Some(path) => std::fs::write(path, &cosigned)
            .with_context(|| format!("无法写入 `{}`", path.display()))?,
        None => print!("{cosigned}"),
    }
    Ok(i32::from(refused > 0))
}

/// Checks a cosigned checkpoint note: the log's signature and `quorum` of `witnesses`.
pub fn verify_note(
    note: &Path,
    log: &Verifier,
    witnesses: &[String],
    quorum: usize,
) -> Result<i32> {
    let text =
        std::fs::read_to_string(note).with_context(|| format!("无法读取 `{}`", note.display()))?;
    let witnesses: Vec<CosignatureVerifier> = witnesses
        .iter()
        .map(|v| CosignatureVerifier::from_vkey(v).with_context(|| format!("见证方公钥无效：{v}")))
        .collect::<Result<_>>()?;
    match open_cosigned(&text, std::slice::from_ref(log), &witnesses, quorum) {
        Ok(c) => {
            println!(
                "✓ 检查点 {} 大小 {}：日志签名有效，{} 个见证方联署（需要 {quorum}）",
                c.checkpoint.origin,
                c.checkpoint.size,
                c.witnesses.len()
            );
            for (name, ts) in &c.witnesses {
                println!("  {name}  时间 {ts}");
            }
            Ok(0)
        }
        Err(e) => {
            println!("✗ {e}");
            Ok(1)
        }
    }
}
