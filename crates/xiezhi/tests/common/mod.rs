//! Running the binary in the command-line tests.

#![allow(dead_code, reason = "each test binary uses part of it")]

use std::path::Path;
use std::process::Command;

/// Runs `xiezhi --data-dir <data> <args>` on the embedded store (`XIEZHI_DB` removed);
/// returns (exit code, stdout, stderr).
pub fn xiezhi(data: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xiezhi"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("XIEZHI_DB")
        .output()
        .expect("run xiezhi");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}
