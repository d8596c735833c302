//! `xiezhi demo` end to end through the real binary, on the embedded SQLite store and, when
//! `DATABASE_URL` is set, on PostgreSQL (a fresh schema per run, dropped afterwards). With
//! `XIEZHI_REQUIRE_PG=1` a missing `DATABASE_URL` fails; `XIEZHI_SKIP_PG=1` skips explicitly.

use std::path::Path;
use std::process::Command;

const CASES: &str = "300";

/// Runs the binary on a data directory and store; returns (exit code, stdout, stderr).
fn xiezhi(data: &Path, db: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xiezhi"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("XIEZHI_DB");
    if let Some(url) = db {
        cmd.env("XIEZHI_DB", url);
    }
    let out = cmd.output().expect("run xiezhi");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

/// The numbers of the first line starting with the word(s) `prefix`, in order.
fn numbers_of_line(text: &str, prefix: &str) -> Vec<f64> {
    let line = text
        .lines()
        .find(|l| {
            l.trim_start()
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with(char::is_whitespace))
        })
        .unwrap_or_else(|| panic!("no line starting with `{prefix}` in:\n{text}"));
    line[line.find(prefix).unwrap() + prefix.len()..]
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|t| !t.is_empty() && t.chars().any(|c| c.is_ascii_digit()))
        .map(|t| t.parse().unwrap())
        .collect()
}

/// The ID numbers (18 characters, the last a digit or X) and mobile numbers (11 digits from
/// 13–19) that stand alone in `text`: what a person's identity looks like in an export.
fn identity_numbers(text: &str) -> std::collections::BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut out = std::collections::BTreeSet::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        let mut end = j;
        if j - i == 17 && j < bytes.len() && matches!(bytes[j], b'X' | b'x') {
            end = j + 1;
        }
        let free = end >= bytes.len() || !bytes[end].is_ascii_alphanumeric();
        let len = end - i;
        let mobile = len == 11 && bytes[i] == b'1' && (b'3'..=b'9').contains(&bytes[i + 1]);
        if free && (len == 18 || mobile) {
            out.insert(text[i..end].to_string());
        }
        i = end.max(i + 1);
    }
    out
}

/// Which of the synthetic province's ID and phone numbers occur in `stored` (raw database
/// files or a dump): field encryption must leave none.
fn leaked(data: &Path, stored: &[u8]) -> Vec<String> {
    let mut exports = String::new();
    for f in [
        "police/cases.csv",
        "procuratorate/cases.jsonl",
        "court/judgments.xml",
        "justice/corrections.csv",
    ] {
        let bytes = std::fs::read(data.join("export").join(f)).unwrap();
        exports.push_str(&String::from_utf8_lossy(&bytes));
    }
    let known = identity_numbers(&exports);
    assert!(
        known.len() > 50,
        "too few identity numbers in the exports: {}",
        known.len()
    );
    known
        .into_iter()
        .filter(|n| stored.windows(n.len()).any(|w| w == n.as_bytes()))
        .collect()
}

/// Every file of the dossier (the department files as received, kept by the platform).
fn dossier_bytes(data: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    let mut n = 0;
    for dir in std::fs::read_dir(data.join("dossier")).unwrap() {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            out.extend(std::fs::read(file.unwrap().path()).unwrap());
            n += 1;
        }
    }
    assert!(
        n >= 4,
        "the dossier holds the four department files, found {n}"
    );
    out
}

/// The demo on one store, and what its output and the store say afterwards.
fn demo_holds(db: Option<&str>, expect_backend: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (code, out, err) = xiezhi(data, db, &["demo", "--cases", CASES, "--no-serve"]);
    assert_eq!(code, 0, "demo failed\nstdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains(&format!("数据库（{expect_backend}）")),
        "demo ran on the wrong backend:\n{out}"
    );
    if let Some(url) = db {
        assert!(
            !data.join("xiezhi.db").exists(),
            "an SQLite file was made although the store is {url}"
        );
    }

    // After the load a case's rows lie together: PostgreSQL rewrites its tables so, SQLite
    // stores them so from the start.
    let clustered = if expect_backend == "postgres" {
        "已按案件重排"
    } else {
        "案件数据已按案件键存储，无需重排"
    };
    assert!(out.contains(clustered), "no `{clustered}`:\n{out}");

    // Counts reconcile: read = accepted + quarantined, in total and per source.
    let total = numbers_of_line(&out, "合计 total");
    let (read, accepted, quarantined) = (total[0], total[1], total[2]);
    assert!(read > 0.0 && quarantined > 0.0, "totals {total:?}");
    assert_eq!(read, accepted + quarantined, "totals {total:?}");
    for source in ["police", "procuratorate", "court", "justice"] {
        let n = numbers_of_line(&out, source);
        assert_eq!(n[0], n[1] + n[2], "{source}: {n:?}");
    }
    // Every record's outcome matches the ground truth.
    let truth = numbers_of_line(&out, "记录结果一致");
    assert_eq!(truth[0], truth[1], "ground truth {truth:?}");

    // Supervision found risks, and every rule with planted violations scores 1.000/1.000.
    // "全量评估案件 N 件，发现 M 项；新增预警 K …"
    let found = numbers_of_line(&out, "全量评估案件");
    assert!(found[1] > 0.0 && found[2] > 0.0, "no risk found: {found:?}");
    let scored: Vec<&str> = out
        .lines()
        .filter(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            t.len() >= 6 && (t[0].starts_with("cpl-") || t[0].starts_with("cl-")) && t[4] != "—"
        })
        .collect();
    assert!(scored.len() >= 3, "too few scored rules:\n{out}");
    for l in &scored {
        let t: Vec<&str> = l.split_whitespace().collect();
        assert_eq!((t[4], t[5]), ("1.000", "1.000"), "rule below 1.000: {l}");
    }

    // The same store, reopened by other commands: the ledger verifies, the worklist is there.
    let (code, out, err) = xiezhi(data, db, &["ledger", "verify"]);
    assert_eq!(code, 0, "ledger verify failed\n{out}\n{err}");
    assert!(out.contains("账本完好"), "{out}");
    let (code, out, err) = xiezhi(data, db, &["risk", "list"]);
    assert_eq!(code, 0, "risk list failed\n{out}\n{err}");
    let listed = numbers_of_line(&out, "共");
    assert_eq!(
        listed[0], found[2],
        "the stored worklist differs from the demo's new alerts:\n{out}"
    );
    dir
}

#[test]
fn demo_on_sqlite() {
    let dir = demo_holds(None, "sqlite");
    // The raw database file and its write-ahead log hold no ID or phone number.
    let mut raw = Vec::new();
    for f in ["xiezhi.db", "xiezhi.db-wal"] {
        raw.extend(std::fs::read(dir.path().join(f)).unwrap_or_default());
    }
    assert!(raw.len() > 100_000, "no database file");
    raw.extend(dossier_bytes(dir.path()));
    let found = leaked(dir.path(), &raw);
    assert!(
        found.is_empty(),
        "plaintext identity numbers in the SQLite file: {found:?}"
    );
}

/// The test database, or `None` (after saying so) when PostgreSQL is not configured.
fn database_url() -> Option<String> {
    if std::env::var("XIEZHI_SKIP_PG").as_deref() == Ok("1") {
        assert!(
            std::env::var("XIEZHI_REQUIRE_PG").as_deref() != Ok("1"),
            "XIEZHI_SKIP_PG=1 and XIEZHI_REQUIRE_PG=1 contradict each other"
        );
        eprintln!("demo_on_postgres: skipped by XIEZHI_SKIP_PG=1");
        return None;
    }
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("XIEZHI_REQUIRE_PG").as_deref() != Ok("1"),
                "XIEZHI_REQUIRE_PG=1 but DATABASE_URL is not set: the PostgreSQL demo cannot run"
            );
            eprintln!("demo_on_postgres: skipped, DATABASE_URL is not set");
            None
        }
    }
}

/// A schema made for one run and dropped with it.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(url: &str) -> Schema {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("demo_{}_{nanos}", std::process::id());
        let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .expect("create schema");
        Schema {
            url: url.to_string(),
            name,
        }
    }

    /// The URL with this schema first on the search path.
    fn url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-csearch_path%3D{}", self.url, self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

#[test]
fn demo_on_postgres() {
    let Some(url) = database_url() else {
        return;
    };
    let schema = Schema::new(&url);
    let dir = demo_holds(Some(&schema.url()), "postgres");
    // A dump of the demo's schema holds no ID or phone number.
    let dump = std::process::Command::new("pg_dump")
        .args(["--dbname", &url, "--schema", &schema.name, "--data-only"])
        .output()
        .expect("pg_dump (package postgresql-client) must be installed");
    assert!(
        dump.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    assert!(dump.stdout.len() > 100_000, "dump too small");
    let mut stored = dump.stdout.clone();
    stored.extend(dossier_bytes(dir.path()));
    let found = leaked(dir.path(), &stored);
    assert!(
        found.is_empty(),
        "plaintext identity numbers in the PostgreSQL dump: {found:?}"
    );
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1",
            &[&schema.name],
        )
        .unwrap()
        .get(0);
    assert!(tables >= 10, "the demo's tables are not in its schema");
}
