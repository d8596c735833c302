//! `xiezhi keys rotate` killed with SIGKILL in the middle of re-encrypting, then run again:
//! it finishes the same rotation, every value opens (the ledger's row hashes match) and none
//! is lost.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::xiezhi;

fn pending(status: &str) -> i64 {
    status
        .lines()
        .find(|l| l.starts_with("待重加密合计"))
        .and_then(|l| {
            l.trim_start_matches("待重加密合计")
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn rotation_killed_mid_way_finishes_on_rerun_with_every_value_readable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (code, out, err) = xiezhi(data, &["demo", "--cases", "150", "--no-serve"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (_, status, _) = xiezhi(data, &["keys", "status"]);
    assert!(status.contains("第 1 版"), "{status}");

    // Small batches with a pause, so the kill lands between two of them.
    let mut child = Command::new(env!("CARGO_BIN_EXE_xiezhi"))
        .arg("--data-dir")
        .arg(data)
        .args(["keys", "rotate", "--batch", "40", "--pause-ms", "40"])
        .env_remove("XIEZHI_DB")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut progress = 0;
    for line in lines.by_ref() {
        if line.unwrap().starts_with("已重加密") {
            progress += 1;
            if progress == 3 {
                break;
            }
        }
    }
    assert_eq!(progress, 3, "rotation ended before it could be killed");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let (code, status, err) = xiezhi(data, &["keys", "status"]);
    assert_eq!(code, 0, "{err}");
    assert!(status.contains("第 2 版"), "{status}");
    let left = pending(&status);
    assert!(left > 0, "nothing left to reseal after the kill:\n{status}");

    // The ledger verifies while values sit under two key versions.
    let (code, out, err) = xiezhi(data, &["ledger", "verify"]);
    assert_eq!(code, 0, "{out}\n{err}");

    let (code, out, err) = xiezhi(data, &["keys", "rotate", "--batch", "200"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("续完上次中断的轮换（第 2 版）"), "{out}");
    assert!(out.contains(&format!("{left}/{left}")), "{out}");
    let (_, status, _) = xiezhi(data, &["keys", "status"]);
    assert_eq!(pending(&status), 0, "{status}");
    assert!(status.contains("全部加密字段均在当前密钥下"), "{status}");
    let (code, out, err) = xiezhi(data, &["ledger", "verify"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("账本完好"), "{out}");

    // The old key file can go; the store opens with the new one alone.
    std::fs::remove_file(data.join("keys/kek-1.key")).unwrap();
    let (code, out, err) = xiezhi(data, &["ledger", "verify"]);
    assert_eq!(code, 0, "{out}\n{err}");

    // Audit retention: nothing younger than 180 days can be archived; the demo's entries are
    // all from today, so an old cut-off finds nothing to move.
    let recent = (chrono::Local::now().date_naive() - chrono::Duration::days(10)).to_string();
    let out_file = data.join("audit-archive.jsonl");
    let out_arg = out_file.to_str().unwrap();
    let (code, out, err) = xiezhi(
        data,
        &["ledger", "archive", "--before", &recent, "--out", out_arg],
    );
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("180"), "{err}");
    assert!(!out_file.exists());
    let (code, out, err) = xiezhi(
        data,
        &[
            "ledger",
            "archive",
            "--before",
            "2020-01-01",
            "--out",
            out_arg,
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("没有可归档"), "{out}");

    // A rotation that died after writing its new key file but before storing the re-wrapped
    // keys: the next run uses that file rather than failing on it.
    std::fs::copy(data.join("keys/kek-2.key"), data.join("keys/kek-3.key")).unwrap();
    let (code, out, err) = xiezhi(data, &["keys", "rotate"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("第 3 版"), "{out}");
    let (code, out, err) = xiezhi(data, &["ledger", "verify"]);
    assert_eq!(code, 0, "{out}\n{err}");
}
