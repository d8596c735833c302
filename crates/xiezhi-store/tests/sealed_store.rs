//! What a store with field encryption keeps on disk and gives back: sensitive columns sealed
//! in the file and plaintext through the interface; a value moved to another row refused by
//! name; a key rotation that a live reader follows and that a restart finishes.

use rusqlite::Connection;
use xiezhi_store::conformance::write_mixed;
use xiezhi_store::{Entity, SqliteStore, Store, StoreError};

const ID: &str = "11010519491231002X";

fn open(dir: &std::path::Path) -> SqliteStore {
    let mut store = SqliteStore::open(&dir.join("xiezhi.db")).unwrap();
    store.enable_field_encryption(dir).unwrap();
    store
}

fn raw(dir: &std::path::Path, sql: &str) -> Vec<Option<String>> {
    let conn = Connection::open(dir.join("xiezhi.db")).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get::<_, Option<rusqlite::types::Value>>(0))
        .unwrap()
        .map(|v| {
            v.unwrap().map(|v| match v {
                rusqlite::types::Value::Text(t) => t,
                rusqlite::types::Value::Integer(n) => n.to_string(),
                other => format!("{other:?}"),
            })
        })
        .collect()
}

fn file_contains(dir: &std::path::Path, needle: &str) -> bool {
    ["xiezhi.db", "xiezhi.db-wal"].iter().any(|f| {
        std::fs::read(dir.join(f))
            .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .unwrap_or(false)
    })
}

#[test]
fn sensitive_columns_are_sealed_on_disk_and_plain_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    write_mixed(&mut store);
    let person = store.get(Entity::Person, "P1").unwrap().unwrap();
    assert_eq!(person.record.text("id_number"), Some(ID));
    assert_eq!(person.record.text("name"), Some("张三"));
    // L3 fields are sealed; L2 ones (the case's police number) are not.
    for v in raw(dir.path(), "SELECT id_number FROM std_person")
        .into_iter()
        .chain(raw(dir.path(), "SELECT name FROM std_person"))
        .chain(raw(dir.path(), "SELECT content FROM std_petition"))
        .flatten()
    {
        assert!(v.starts_with("enc:intl:1:"), "{v}");
    }
    assert_eq!(
        raw(dir.path(), "SELECT police_case_no FROM std_case"),
        vec![Some("A1".to_string())]
    );
    // Quarantined raw records, repair values and merge explanations too.
    for sql in [
        "SELECT raw FROM quarantine",
        "SELECT reasons FROM quarantine",
        "SELECT detail FROM entity_link",
    ] {
        let values = raw(dir.path(), sql);
        assert!(!values.is_empty(), "{sql}");
        for v in values.into_iter().flatten() {
            assert!(v.starts_with("enc:"), "{sql}: {v}");
        }
    }
    let q = store.quarantine_list(None, 10).unwrap();
    assert!(!q.is_empty() && !q[0].reasons.is_empty());
    assert!(!store.quarantine_by_rule().unwrap().is_empty());
    drop(store);
    assert!(!file_contains(dir.path(), ID));
    assert!(!file_contains(dir.path(), "张三"));

    // Reopened with the same key file, everything reads back; the hashes the ledger committed
    // to were over the plaintext, so they still match.
    let store = open(dir.path());
    assert_eq!(
        store
            .get(Entity::Person, "P1")
            .unwrap()
            .unwrap()
            .record
            .text("id_number"),
        Some(ID)
    );
}

#[test]
fn a_value_moved_to_another_row_is_refused_naming_table_column_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    write_mixed(&mut store);
    let hashes_before = store.row_hashes(Entity::Person).unwrap();
    drop(store);
    let conn = Connection::open(dir.path().join("xiezhi.db")).unwrap();
    // Copy P1's sealed name onto the petition's sealed content (another table and row).
    conn.execute(
        "UPDATE std_petition SET content = (SELECT name FROM std_person WHERE uid = 'P1')",
        [],
    )
    .unwrap();
    drop(conn);
    let store = open(dir.path());
    let err = store.get(Entity::Petition, "Q1").unwrap_err();
    assert!(matches!(err, StoreError::FieldCrypt(_)), "{err}");
    assert!(
        err.to_string().contains("std_petition.content row Q1"),
        "{err}"
    );
    // The person itself is untouched.
    assert_eq!(store.row_hashes(Entity::Person).unwrap(), hashes_before);
}

#[test]
fn rotation_is_followed_by_a_live_reader_and_finished_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = open(dir.path());
    write_mixed(&mut writer);
    let mut hashes = Vec::new();
    for e in Entity::ALL {
        hashes.push(writer.row_hashes(e).unwrap());
    }
    let mut reader = SqliteStore::open_reader(&dir.path().join("xiezhi.db")).unwrap();
    reader.enable_field_decryption(dir.path()).unwrap();

    writer.start_key_rotation(dir.path()).unwrap();
    let pending: i64 = writer.reseal_pending().unwrap().iter().map(|p| p.2).sum();
    assert!(pending > 5, "{pending}");
    assert_eq!(writer.reseal_step(3).unwrap(), 3);
    // The reader loaded its keys before the rotation; it meets a value under the new key,
    // reloads and reads on.
    for uid in ["P1", "P2"] {
        if let Some(p) = reader.get(Entity::Person, uid).unwrap() {
            assert!(p.record.text("name").is_some());
        }
    }
    drop(writer); // as if killed between two batches

    let mut writer = open(dir.path());
    assert_eq!(writer.field_encryption().unwrap().1, 2);
    let left: i64 = writer.reseal_pending().unwrap().iter().map(|p| p.2).sum();
    assert_eq!(left, pending - 3);
    while writer.reseal_step(4).unwrap() > 0 {}
    assert!(writer.reseal_pending().unwrap().iter().all(|p| p.2 == 0));
    for (e, before) in Entity::ALL.into_iter().zip(&hashes) {
        assert_eq!(&writer.row_hashes(e).unwrap(), before, "{}", e.name());
        assert_eq!(&reader.row_hashes(e).unwrap(), before, "{}", e.name());
    }
    for v in raw(dir.path(), "SELECT id_number FROM std_person")
        .into_iter()
        .flatten()
    {
        assert!(v.starts_with("enc:intl:2:"), "{v}");
    }
    // The old key file is no longer needed: without it the store still opens.
    std::fs::remove_file(dir.path().join("keys/kek-1.key")).unwrap();
    drop(writer);
    let store = open(dir.path());
    assert_eq!(
        store
            .get(Entity::Person, "P1")
            .unwrap()
            .unwrap()
            .record
            .text("id_number"),
        Some(ID)
    );
}

#[test]
fn a_writer_that_loaded_its_keys_before_a_rotation_seals_under_the_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    // This writer loads its keys now.
    let mut old = open(dir.path());
    // Another process rotates and finishes.
    let mut rotator = open(dir.path());
    rotator.start_key_rotation(dir.path()).unwrap();
    while rotator.reseal_step(100).unwrap() > 0 {}
    // The first writer goes on: what it writes now is under the new keys, nothing is pending.
    write_mixed(&mut old);
    assert!(rotator.reseal_pending().unwrap().iter().all(|p| p.2 == 0));
    for v in raw(dir.path(), "SELECT name FROM std_person")
        .into_iter()
        .flatten()
    {
        assert!(v.starts_with("enc:intl:2:"), "{v}");
    }
}
