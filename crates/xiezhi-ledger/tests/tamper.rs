//! Tampering with a real store after ingest: each kind of edit is found by `verify`, which
//! names the first bad entry; the untouched store verifies.

use std::path::{Path, PathBuf};

use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_ledger::log::{
    prove_checkpoints, prove_entry, verify, AuditLog, VerifyReport, DEFAULT_ORIGIN,
};
use xiezhi_ledger::{verify_consistency, verify_inclusion, Checkpoint};
use xiezhi_store::{SqliteStore, Store};
use xiezhi_synth::SynthConfig;

struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    log: AuditLog,
}

/// A small province ingested and sealed, each time fresh.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    xiezhi_synth::generate(
        &SynthConfig {
            seed: 11,
            cases: 40,
            ..SynthConfig::default()
        },
        &export,
    )
    .unwrap();
    let db = dir.path().join("x.db");
    let log = AuditLog::open_or_create(&dir.path().join("ledger.key"), DEFAULT_ORIGIN).unwrap();
    let mut store = SqliteStore::open(&db).unwrap();
    let plans = shipped_plans().unwrap();
    // Two ingests and two checkpoints, so the log has history.
    ingest_export(
        &mut store,
        &plans[..2],
        &export,
        &IngestOptions::default(),
        &mut |_, _, _| {},
    )
    .unwrap();
    log.checkpoint(&mut store, "2026-01-01T00:00:00")
        .unwrap()
        .unwrap();
    ingest_export(
        &mut store,
        &plans[2..],
        &export,
        &IngestOptions::default(),
        &mut |_, _, _| {},
    )
    .unwrap();
    log.checkpoint(&mut store, "2026-01-01T00:00:01")
        .unwrap()
        .unwrap();
    Fixture { _dir: dir, db, log }
}

fn sql(db: &Path, statement: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(statement).unwrap();
}

fn check(f: &Fixture) -> VerifyReport {
    let store = SqliteStore::open(&f.db).unwrap();
    verify(&store, &[f.log.verifier()]).unwrap()
}

fn seq_of(db: &Path, query: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(query, [], |r| r.get(0)).unwrap()
}

#[test]
fn untampered_store_verifies_and_proves() {
    let f = fixture();
    let r = check(&f);
    assert!(r.intact(), "{:#?}", &r.problems[..r.problems.len().min(5)]);
    assert!(r.entries > 100 && r.checkpoints == 2 && r.unsealed == 0 && r.rows_checked > 500);
    let store = SqliteStore::open(&f.db).unwrap();
    let p = prove_entry(&store, 123, f.log.hasher()).unwrap();
    let (cp, _) = Checkpoint::open(&p.checkpoint, &[f.log.verifier()]).unwrap();
    verify_inclusion(&p.leaf_hash, 123, cp.size, &p.proof, &cp.root).unwrap();
    assert!(p.body.contains("\"seq\":123"));
}

#[test]
fn edited_row_is_named_by_its_entry() {
    let f = fixture();
    let uid: String = rusqlite::Connection::open(&f.db)
        .unwrap()
        .query_row(
            "SELECT uid FROM std_person ORDER BY uid LIMIT 1 OFFSET 5",
            [],
            |r| r.get(0),
        )
        .unwrap();
    sql(
        &f.db,
        &format!("UPDATE std_person SET name = '王五' WHERE uid = '{uid}'"),
    );
    let expected = seq_of(&f.db, &format!("SELECT MAX(seq) FROM ledger_entry WHERE body LIKE '%\"entity\":\"person\",\"uid\":\"{uid}\"%'"));
    let r = check(&f);
    let first = r.first_bad().unwrap();
    assert_eq!(
        (first.kind, first.seq),
        ("row.edited", Some(expected)),
        "{first:?}"
    );
    assert!(first.detail.contains(&uid));
}

#[test]
fn deleted_row_is_found() {
    let f = fixture();
    sql(&f.db, "DELETE FROM std_case WHERE uid = 'C00000003'");
    let expected = seq_of(&f.db, "SELECT MAX(seq) FROM ledger_entry WHERE body LIKE '%\"entity\":\"case\",\"uid\":\"C00000003\"%'");
    let r = check(&f);
    assert!(
        r.problems
            .iter()
            .any(|p| p.kind == "row.deleted" && p.seq == Some(expected)),
        "{:?}",
        r.problems
    );
}

#[test]
fn reordered_entries_are_named() {
    let f = fixture();
    // Swap the bodies (and their digests) of entries 40 and 41.
    sql(
        &f.db,
        "UPDATE ledger_entry SET seq = -1 WHERE seq = 40; UPDATE ledger_entry SET seq = 40 WHERE seq = 41; UPDATE ledger_entry SET seq = 41 WHERE seq = -1;",
    );
    let r = check(&f);
    let first = r.first_bad().unwrap();
    assert_eq!(
        (first.kind, first.seq),
        ("entry.reordered", Some(40)),
        "{first:?}"
    );
    assert!(r
        .problems
        .iter()
        .any(|p| p.kind == "entry.reordered" && p.seq == Some(41)));
    assert!(r.problems.iter().any(|p| p.kind == "checkpoint.root"));
}

#[test]
fn deleted_entry_is_a_gap() {
    let f = fixture();
    sql(&f.db, "DELETE FROM ledger_entry WHERE seq = 77");
    let r = check(&f);
    assert!(
        r.problems
            .iter()
            .any(|p| p.kind == "entry.gap" && p.seq == Some(77)),
        "{:?}",
        &r.problems[..3.min(r.problems.len())]
    );
}

#[test]
fn edited_entry_is_found_even_with_its_digest_recomputed() {
    let f = fixture();
    // A careful forger edits an entry and recomputes its stored digest: only the signed
    // checkpoint catches it.
    let body: String = rusqlite::Connection::open(&f.db)
        .unwrap()
        .query_row("SELECT body FROM ledger_entry WHERE seq = 500", [], |r| {
            r.get(0)
        })
        .unwrap();
    let forged = body.replacen("\"run\":", "\"run\":9", 1);
    assert_ne!(forged, body);
    let digest: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(forged.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    sql(
        &f.db,
        &format!(
            "UPDATE ledger_entry SET body = '{}', body_sha256 = '{digest}' WHERE seq = 500",
            forged.replace('\'', "''")
        ),
    );
    let r = check(&f);
    assert!(
        r.problems.iter().any(|p| p.kind == "checkpoint.root"),
        "{:?}",
        r.problems
    );
    // Without recomputing the digest the entry itself is named.
    let f = fixture();
    sql(
        &f.db,
        "UPDATE ledger_entry SET body = replace(body, '\"run\":', '\"run\":7') WHERE seq = 500",
    );
    let r = check(&f);
    assert_eq!(
        r.first_bad().map(|p| (p.kind, p.seq)),
        Some(("entry.edited", Some(500)))
    );
}

#[test]
fn truncated_log_is_found() {
    let f = fixture();
    let len = seq_of(&f.db, "SELECT COUNT(*) FROM ledger_entry");
    sql(
        &f.db,
        &format!("DELETE FROM ledger_entry WHERE seq >= {}", len - 10),
    );
    let r = check(&f);
    assert!(
        r.problems
            .iter()
            .any(|p| p.kind == "checkpoint.truncated" && p.seq == Some(len - 10)),
        "{:?}",
        r.problems
    );
}

#[test]
fn forged_checkpoint_is_refused() {
    let f = fixture();
    let other = AuditLog::open_or_create(&f._dir.path().join("other.key"), DEFAULT_ORIGIN).unwrap();
    let store = SqliteStore::open(&f.db).unwrap();
    // A verifier that trusts only another key sees no valid checkpoint.
    let r = verify(&store, &[other.verifier()]).unwrap();
    assert!(
        r.problems.iter().all(|p| p.kind == "checkpoint.signature") && r.problems.len() == 2,
        "{:?}",
        r.problems
    );
    drop(store);
    // Claim a larger tree under the old signature.
    let conn = rusqlite::Connection::open(&f.db).unwrap();
    let (size, note): (i64, String) = conn
        .query_row(
            "SELECT size, note FROM ledger_checkpoint ORDER BY size DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let forged = note.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size + 1), 1);
    assert_ne!(forged, note);
    conn.execute(
        "UPDATE ledger_checkpoint SET note = ?1 WHERE size = ?2",
        rusqlite::params![forged, size],
    )
    .unwrap();
    drop(conn);
    let r = check(&f);
    assert_eq!(
        r.first_bad().map(|p| p.kind),
        Some("checkpoint.signature"),
        "{:?}",
        r.problems
    );
}

#[test]
fn stored_checkpoints_are_consistent_until_history_is_rewritten() {
    let f = fixture();
    let store = SqliteStore::open(&f.db).unwrap();
    let sizes: Vec<i64> = store
        .checkpoints()
        .unwrap()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(sizes.len(), 2);
    let c = prove_checkpoints(&store, sizes[0], sizes[1], f.log.hasher()).unwrap();
    let (old, _) = Checkpoint::open(&c.old, &[f.log.verifier()]).unwrap();
    let (new, _) = Checkpoint::open(&c.new, &[f.log.verifier()]).unwrap();
    verify_consistency(old.size, new.size, &c.proof, &old.root, &new.root).unwrap();
    drop(store);
    // Rewrite an entry signed into the first checkpoint: the proof from today's entries no
    // longer joins the two signed roots.
    sql(
        &f.db,
        "UPDATE ledger_entry SET body = replace(body, '\"run\":', '\"run\":8') WHERE seq = 3",
    );
    let store = SqliteStore::open(&f.db).unwrap();
    let c = prove_checkpoints(&store, sizes[0], sizes[1], f.log.hasher()).unwrap();
    assert!(verify_consistency(old.size, new.size, &c.proof, &old.root, &new.root).is_err());
}
