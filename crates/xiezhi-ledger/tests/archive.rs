//! Audit retention: entries younger than 180 days cannot be archived; older audit entries move
//! to a file with their inclusion proofs, the file verifies on its own and against the store,
//! and the store's ledger still verifies with stubs in their place. Tampering with the file or
//! with a stub is found.

use chrono::NaiveDate;
use xiezhi_ledger::archive::{archive, verify_archive, ArchiveError, RETENTION_DAYS};
use xiezhi_ledger::log::{prove_entry, verify, AuditLog, DEFAULT_ORIGIN};
use xiezhi_store::{LedgerEvent, SqliteStore, Store};

fn event(kind: &str, n: i64) -> LedgerEvent {
    let mut body = serde_json::Map::new();
    body.insert("n".into(), n.into());
    body.insert("principal".into(), "user:police-01".into());
    body.insert("source".into(), "10.0.0.7".into());
    LedgerEvent {
        kind: kind.into(),
        entity: None,
        uid: None,
        body,
    }
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// 30 audit entries sealed on 2025-01-10, 20 more sealed on 2026-11-01.
fn fixture() -> (tempfile::TempDir, SqliteStore, AuditLog) {
    fixture_in("intl")
}

/// The fixture for a deployment of `suite` (`crypto.toml`): the log key and tree follow it.
fn fixture_in(suite: &str) -> (tempfile::TempDir, SqliteStore, AuditLog) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("crypto.toml"),
        format!("suite = \"{suite}\"\n"),
    )
    .unwrap();
    let log = AuditLog::open_or_create(&dir.path().join("ledger.key"), DEFAULT_ORIGIN).unwrap();
    let mut store = SqliteStore::open(&dir.path().join("x.db")).unwrap();
    let old: Vec<LedgerEvent> = (0..30).map(|n| event("login", n)).collect();
    store.append_events(&old).unwrap();
    log.checkpoint(&mut store, "2025-01-10T08:00:00").unwrap();
    let new: Vec<LedgerEvent> = (30..50).map(|n| event("access_decision", n)).collect();
    store.append_events(&new).unwrap();
    log.checkpoint(&mut store, "2026-11-01T08:00:00").unwrap();
    (dir, store, log)
}

#[test]
fn entries_younger_than_the_retention_period_cannot_be_archived() {
    let (dir, mut store, log) = fixture();
    let today = day("2026-11-27");
    let before = today - chrono::Duration::days(RETENTION_DAYS - 1);
    let out = dir.path().join("early.jsonl");
    let err = archive(&mut store, log.hasher(), before, today, &out).unwrap_err();
    assert!(matches!(err, ArchiveError::Retention { .. }), "{err}");
    assert!(err.to_string().contains("180"), "{err}");
    assert!(!out.exists());
    assert!(store
        .ledger_entries(0, 100)
        .unwrap()
        .iter()
        .all(|e| !e.body.starts_with("{\"archived\"")));
}

#[test]
fn old_entries_move_to_a_verifiable_file_and_the_ledger_stays_whole() {
    let (dir, mut store, log) = fixture();
    let before_bodies: Vec<String> = store
        .ledger_entries(0, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.body)
        .collect();
    let out = dir.path().join("audit-2025.jsonl");
    let report = archive(
        &mut store,
        log.hasher(),
        day("2025-06-01"),
        day("2026-11-27"),
        &out,
    )
    .unwrap();
    // Only the 30 entries sealed by the checkpoint of 2025-01-10.
    assert_eq!(report.entries, 30);
    assert_eq!((report.first_seq, report.last_seq), (Some(0), Some(29)));
    let entries = store.ledger_entries(0, 100).unwrap();
    assert!(entries[..30]
        .iter()
        .all(|e| e.body.starts_with("{\"archived\":\"audit-2025.jsonl\"")));
    assert_eq!(entries[30].body, before_bodies[30]);
    // The run itself is in the ledger, with the file's digest.
    let last = entries.last().unwrap();
    assert_eq!(last.kind, "ledger_archived");
    assert!(last.body.contains(&report.file_sha256));

    // The store's ledger verifies: tree, checkpoints, digests of the remaining bodies.
    log.checkpoint(&mut store, "2026-11-27T09:00:00").unwrap();
    let v = verify(&store, &[log.verifier()]).unwrap();
    assert!(v.intact(), "{:?}", v.problems);
    assert_eq!(v.archived, 30);
    // An archived entry still has an inclusion proof (from its stub's leaf).
    let p = prove_entry(&store, 3, log.hasher()).unwrap();
    assert!(xiezhi_ledger::verify_inclusion(
        &p.leaf_hash,
        3,
        p.size,
        &p.proof,
        &xiezhi_ledger::Checkpoint::open(&p.checkpoint, &[log.verifier()])
            .unwrap()
            .0
            .root
    )
    .is_ok());

    // The file verifies alone and against the store; it holds the original bodies.
    let alone = verify_archive::<SqliteStore>(&out, &[log.verifier()], None).unwrap();
    assert_eq!((alone.entries, alone.bad.len()), (30, 0));
    let with_store = verify_archive(&out, &[log.verifier()], Some(&store)).unwrap();
    assert!(with_store.bad.is_empty(), "{:?}", with_store.bad);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains(&serde_json::to_string(&before_bodies[7]).unwrap()));

    // A second run finds nothing more to move and writes no file.
    let again = dir.path().join("again.jsonl");
    let r = archive(
        &mut store,
        log.hasher(),
        day("2025-06-01"),
        day("2026-11-27"),
        &again,
    )
    .unwrap();
    assert_eq!(r.entries, 0);
    assert!(!again.exists());
}

#[test]
fn an_edited_archive_or_stub_is_found() {
    let (dir, mut store, log) = fixture();
    let out = dir.path().join("a.jsonl");
    archive(
        &mut store,
        log.hasher(),
        day("2025-06-01"),
        day("2026-11-27"),
        &out,
    )
    .unwrap();
    // Edit one archived body: its proof no longer leads to the signed root.
    let text = std::fs::read_to_string(&out).unwrap();
    let edited = text.replacen("user:police-01", "user:police-02", 1);
    assert_ne!(text, edited);
    std::fs::write(&out, edited).unwrap();
    let check = verify_archive::<SqliteStore>(&out, &[log.verifier()], None).unwrap();
    assert_eq!(check.bad.len(), 1, "{:?}", check.bad);
    // A forged checkpoint (another key) is refused outright.
    let other = AuditLog::open_or_create(&dir.path().join("other.key"), DEFAULT_ORIGIN).unwrap();
    assert!(verify_archive::<SqliteStore>(&out, &[other.verifier()], None).is_err());

    // Editing a stub's leaf in the store breaks the signed tree.
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("x.db")).unwrap();
    conn.execute(
        "UPDATE ledger_entry SET body = replace(body, '\"leaf\":\"', '\"leaf\":\"00') WHERE seq = 5",
        [],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&dir.path().join("x.db")).unwrap();
    let v = verify(&store, &[log.verifier()]).unwrap();
    assert!(!v.intact());
    assert!(
        v.problems.iter().any(|p| p.kind == "checkpoint.root"),
        "{:?}",
        v.problems
    );
}

/// The same ledger under the 国密 suite: an SM2 log key (note type 0xF1) and an SM3 tree;
/// checkpoints, verification, inclusion proofs and archives all follow it, and an SHA-256
/// verifier of the same proof fails.
#[test]
fn under_the_guomi_suite_the_ledger_signs_with_sm2_and_hashes_with_sm3() {
    let (dir, mut store, log) = fixture_in("gm");
    assert_eq!(log.hasher(), xiezhi_ledger::TreeHash::Sm3);
    let vkey = log.verifier().to_vkey();
    let raw = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        vkey.splitn(3, '+').nth(2).unwrap(),
    )
    .unwrap();
    assert_eq!(raw[0], xiezhi_ledger::checkpoint::ALG_SM2);
    assert_eq!(raw.len(), 1 + 65, "an uncompressed SM2 point");
    // The key file keeps the suite: reopened, the same key.
    let again = AuditLog::open_or_create(&dir.path().join("ledger.key"), DEFAULT_ORIGIN).unwrap();
    assert_eq!(again.verifier(), log.verifier());

    let v = verify(&store, &[log.verifier()]).unwrap();
    assert!(v.intact(), "{:?}", v.problems);
    let p = prove_entry(&store, 7, log.hasher()).unwrap();
    let (cp, _) = xiezhi_ledger::Checkpoint::open(&p.checkpoint, &[log.verifier()]).unwrap();
    assert!(xiezhi_ledger::verify_inclusion_with(
        xiezhi_ledger::TreeHash::Sm3,
        &p.leaf_hash,
        7,
        cp.size,
        &p.proof,
        &cp.root
    )
    .is_ok());
    assert!(xiezhi_ledger::verify_inclusion(&p.leaf_hash, 7, cp.size, &p.proof, &cp.root).is_err());

    let out = dir.path().join("gm-archive.jsonl");
    let report = archive(
        &mut store,
        log.hasher(),
        day("2025-06-01"),
        day("2026-11-27"),
        &out,
    )
    .unwrap();
    assert_eq!(report.entries, 30);
    log.checkpoint(&mut store, "2026-11-27T09:00:00").unwrap();
    assert!(verify(&store, &[log.verifier()]).unwrap().intact());
    let check = verify_archive(&out, &[log.verifier()], Some(&store)).unwrap();
    assert!(check.bad.is_empty(), "{:?}", check.bad);
}
