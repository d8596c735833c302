//! `xiezhi keys status|rotate`: the field-encryption keys of the data directory.
//!
//! Rotation is two steps. First, in one transaction, a new key-encryption key (KEK) re-wraps
//! every data key and each sealed column gets a new sealing key. Then the values move to the
//! new keys in short batches while the platform keeps serving. A sealed value names its key
//! version, so a rotation killed at any point is finished by running the command again: it
//! continues with the values not yet moved and starts no new rotation until none are left.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Subcommand;
use xiezhi_store::{LedgerEvent, Store};

use crate::commands::open_store;

#[derive(Subcommand, Debug)]
pub enum KeysAction {
    /// 查看字段加密密钥与待重加密数量 (suite, KEK version, values not yet under the current keys)
    Status,
    /// 轮换字段加密密钥并在后台分批重加密；中断后再次运行即续完 (rotate and re-encrypt; rerun to resume)
    Rotate {
        /// Values per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// Pause between batches, leaving I/O to live traffic.
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
    },
}

pub fn run(data: &Path, action: KeysAction) -> Result<i32> {
    let mut store = open_store(data)?;
    match action {
        KeysAction::Status => status(&store),
        KeysAction::Rotate { batch, pause_ms } => rotate(
            data,
            &mut store,
            batch.max(1),
            Duration::from_millis(pause_ms),
        ),
    }
}

fn pending_total(store: &dyn Store) -> Result<i64> {
    Ok(store.reseal_pending()?.iter().map(|(_, _, n)| n).sum())
}

fn status(store: &dyn Store) -> Result<i32> {
    let Some((suite, kek, path)) = store.field_encryption() else {
        println!("字段加密未启用 (field encryption is off)");
        return Ok(1);
    };
    println!("密码套件：{suite}（{}）", suite.aead_name());
    println!("密钥加密密钥：第 {kek} 版（{path}）");
    let pending = store.reseal_pending()?;
    let total: i64 = pending.iter().map(|(_, _, n)| n).sum();
    for (table, column, n) in pending.iter().filter(|(_, _, n)| *n > 0) {
        println!("  待重加密 {table}.{column}：{n}");
    }
    if total == 0 {
        println!("全部加密字段均在当前密钥下 (every sealed value is under the current keys)");
    } else {
        println!("待重加密合计 {total} 个值：运行 `xiezhi keys rotate` 续完");
    }
    Ok(0)
}

fn rotate(data: &Path, store: &mut dyn Store, batch: usize, pause: Duration) -> Result<i32> {
    if store.field_encryption().is_none() {
        anyhow::bail!("字段加密未启用，无从轮换 (field encryption is off)");
    }
    let mut pending = pending_total(store)?;
    if pending == 0 {
        store
            .start_key_rotation(data)
            .context("轮换密钥失败（新密钥文件已写在 keys/ 下时可直接重试）")?;
        pending = pending_total(store)?;
        let (_, kek, path) = store.field_encryption().expect("on");
        println!("已生成第 {kek} 版密钥加密密钥（{path}），全部数据密钥已重新封装");
        log(store, "field_keys_rotated", kek, pending)?;
    } else {
        let (_, kek, _) = store.field_encryption().expect("on");
        println!("续完上次中断的轮换（第 {kek} 版）：尚有 {pending} 个值待重加密");
    }
    let total = pending.max(1);
    let started = Instant::now();
    let mut done: i64 = 0;
    loop {
        let moved = store.reseal_step(batch)?;
        if moved == 0 {
            break;
        }
        done += moved as i64;
        println!(
            "已重加密 {done}/{pending}（{:.0}%）",
            100.0 * done as f64 / total as f64
        );
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
    let left = pending_total(store)?;
    let (_, kek, _) = store.field_encryption().expect("on");
    log(store, "field_keys_resealed", kek, done)?;
    println!(
        "轮换完成：{done} 个值已在第 {kek} 版密钥下（用时 {:.1} 秒，剩余 {left}）",
        started.elapsed().as_secs_f64()
    );
    if kek > 1 {
        println!(
            "旧密钥加密密钥 keys/kek-{}.key 已不再需要，可离线封存或销毁",
            kek - 1
        );
    }
    Ok(if left == 0 { 0 } else { 1 })
}

/// Key management is an administrative act: it goes into the ledger like any other.
fn log(store: &mut dyn Store, kind: &str, kek: u32, values: i64) -> Result<()> {
    let mut body = serde_json::Map::new();
    body.insert("kek_version".into(), kek.into());
    body.insert("values".into(), values.into());
    body.insert(
        "at".into(),
        chrono::Local::now()
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
            .into(),
    );
    store.append_events(&[LedgerEvent {
        kind: kind.into(),
        entity: None,
        uid: None,
        body,
    }])?;
    Ok(())
}
