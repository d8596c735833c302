//! Witnesses through the binary: two organs' witnesses cosign the platform's checkpoints as
//! the ledger grows, a 2-of-2 quorum verifies, and after an early ledger entry is rewritten
//! in the database file the witnesses refuse the next checkpoint.

mod common;

use common::xiezhi;
use std::path::Path;

fn ok(data: &Path, args: &[&str]) -> String {
    let (code, out, err) = xiezhi(data, args);
    assert_eq!(code, 0, "{args:?} failed\nstdout:\n{out}\nstderr:\n{err}");
    out
}

#[test]
fn witnesses_cosign_growth_and_refuse_a_rewritten_history() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["demo", "--cases", "60", "--no-serve"]);
    let log_vkey = ok(&data, &["ledger", "key"]).trim().to_string();

    let mut vkeys = Vec::new();
    let mut dirs = Vec::new();
    for name in ["witness.jcy.example", "witness.fy.example"] {
        let w = dir.path().join(name);
        let out = ok(
            &data,
            &[
                "witness",
                "init",
                "--dir",
                w.to_str().unwrap(),
                "--name",
                name,
            ],
        );
        vkeys.push(out.lines().last().unwrap().trim().to_string());
        ok(
            &data,
            &[
                "witness",
                "add-log",
                "--dir",
                w.to_str().unwrap(),
                "--vkey",
                &log_vkey,
            ],
        );
        dirs.push(w);
    }
    let witness_args = |out: &Path| -> Vec<String> {
        let mut a = vec!["ledger".to_string(), "witness".to_string()];
        for d in &dirs {
            a.push("--witness-dir".into());
            a.push(d.display().to_string());
        }
        a.push("--out".into());
        a.push(out.display().to_string());
        a
    };
    let verify_args = |note: &Path, quorum: &str| -> Vec<String> {
        let mut a = vec![
            "ledger".to_string(),
            "verify-note".into(),
            "--note".into(),
            note.display().to_string(),
        ];
        for v in &vkeys {
            a.push("--witness".into());
            a.push(v.clone());
        }
        a.push("--quorum".into());
        a.push(quorum.into());
        a
    };
    let run = |args: &[String]| xiezhi(&data, &args.iter().map(String::as_str).collect::<Vec<_>>());

    // First checkpoint: both witnesses cosign; 2 of 2 verifies.
    let note1 = dir.path().join("note1");
    let (code, out, err) = run(&witness_args(&note1));
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(out.matches('✓').count(), 2, "{out}");
    let (code, out, _) = run(&verify_args(&note1, "2"));
    assert_eq!(code, 0, "{out}");

    // The ledger grows (a supervision run logs its entries); the next checkpoint extends the
    // last one and is cosigned again.
    ok(&data, &["supervise", "run", "--full"]);
    ok(&data, &["ledger", "checkpoint"]);
    let note2 = dir.path().join("note2");
    let (code, out, err) = run(&witness_args(&note2));
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, _) = run(&verify_args(&note2, "2"));
    assert_eq!(code, 0, "{out}");
    let size = |p: &Path| -> u64 {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(
        size(&note2) > size(&note1),
        "the second checkpoint must be larger"
    );

    // Someone with access to the database file rewrites an early entry, then the ledger
    // grows and is sealed again: the witnesses see the history no longer extends what they
    // cosigned and refuse, naming why.
    let db = rusqlite::Connection::open(data.join("xiezhi.db")).unwrap();
    db.execute(
        "UPDATE ledger_entry SET body = replace(body, '\"', '\"x') WHERE seq = 3",
        [],
    )
    .unwrap();
    drop(db);
    ok(&data, &["supervise", "run", "--full"]);
    ok(&data, &["ledger", "checkpoint"]);
    let note3 = dir.path().join("note3");
    let (code, out, _) = run(&witness_args(&note3));
    assert!(size(&note3) > size(&note2));
    assert_eq!(code, 1, "a rewritten history must be refused:\n{out}");
    assert_eq!(out.matches("拒绝联署").count(), 2, "{out}");
    assert!(out.contains("历史被改写"), "{out}");
    // The refused checkpoint carries no cosignature, so the quorum fails on it.
    let (code, out, _) = run(&verify_args(&note3, "1"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("联署不足"), "{out}");
    // Each witness kept the evidence.
    for d in &dirs {
        let reports: Vec<_> = std::fs::read_dir(d.join("reports")).unwrap().collect();
        assert_eq!(reports.len(), 1, "one report in {}", d.display());
    }
}
