//! Field encryption at rest: envelope keys, sealed values bound to their row and column,
//! blind index, and the errors an operator sees. Real SQLite, real key files, both suites.

use proptest::prelude::*;
use rusqlite::{params, Connection};
use xiezhi_crypto::Suite;
use xiezhi_store::fieldcrypt::{
    read_suite, sealed_version, FieldCodec, FieldCryptError, FileKek, KeyEncryptionKey,
};

fn setup(suite: Suite) -> (tempfile::TempDir, Connection, FieldCodec) {
    let dir = tempfile::tempdir().unwrap();
    let kek = FileKek::create(dir.path(), 1, suite).unwrap();
    let conn = Connection::open(dir.path().join("store.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE person (row_id INTEGER PRIMARY KEY, id_number BLOB, phone BLOB, id_idx BLOB)",
    )
    .unwrap();
    let codec = FieldCodec::load(&conn, suite, Box::new(kek)).unwrap();
    (dir, conn, codec)
}

fn insert(conn: &Connection, codec: &mut FieldCodec, row: i64, id: &str, phone: &str) {
    let r = row.to_string();
    let sid = codec
        .seal(conn, "person", "id_number", &r, id.as_bytes())
        .unwrap();
    let sph = codec
        .seal(conn, "person", "phone", &r, phone.as_bytes())
        .unwrap();
    let idx = codec.blind_index(conn, "person", "id_number", id).unwrap();
    conn.execute(
        "INSERT INTO person VALUES (?1, ?2, ?3, ?4)",
        params![row, sid, sph, idx],
    )
    .unwrap();
}

fn read(
    conn: &Connection,
    codec: &FieldCodec,
    row: i64,
    col: &str,
) -> Result<String, FieldCryptError> {
    let v: Vec<u8> = conn
        .query_row(
            &format!("SELECT {col} FROM person WHERE row_id = ?1"),
            [row],
            |r| r.get(0),
        )
        .unwrap();
    codec
        .open("person", col, &row.to_string(), &v)
        .map(|b| String::from_utf8(b).unwrap())
}

#[test]
fn round_trip_and_blind_index_lookup_both_suites() {
    for suite in Suite::ALL {
        let (_dir, conn, mut codec) = setup(suite);
        insert(&conn, &mut codec, 1, "11010119900307123X", "13800138000");
        insert(&conn, &mut codec, 2, "110101198001011234", "13900139000");
        assert_eq!(
            read(&conn, &codec, 1, "id_number").unwrap(),
            "11010119900307123X"
        );
        assert_eq!(read(&conn, &codec, 2, "phone").unwrap(), "13900139000");
        // Lookup by a differently written ID number finds row 1 through the blind index.
        let idx = codec
            .blind_index(&conn, "person", "id_number", " 11010119900307123x")
            .unwrap();
        let row: i64 = conn
            .query_row("SELECT row_id FROM person WHERE id_idx = ?1", [idx], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(row, 1);
        // Only wrapped keys are stored, and each sealed value says its key version.
        let v: Vec<u8> = conn
            .query_row("SELECT id_number FROM person WHERE row_id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(sealed_version(&v), Some(1));
        assert_eq!(v[1], suite.tag());
    }
}

#[test]
fn ciphertext_moved_to_another_row_or_column_fails_with_integrity_error() {
    let (_dir, conn, mut codec) = setup(Suite::International);
    insert(&conn, &mut codec, 1, "11010119900307123X", "13800138000");
    insert(&conn, &mut codec, 2, "110101198001011234", "13900139000");
    conn.execute(
        "UPDATE person SET id_number = (SELECT id_number FROM person WHERE row_id = 1) WHERE row_id = 2",
        [],
    )
    .unwrap();
    let err = read(&conn, &codec, 2, "id_number").unwrap_err();
    assert!(
        matches!(&err, FieldCryptError::Integrity { table, column, row, .. }
            if table == "person" && column == "id_number" && row == "2"),
        "{err}"
    );
    assert!(err.to_string().contains("person.id_number row 2"), "{err}");
    // Row 1 is untouched and still opens.
    assert_eq!(
        read(&conn, &codec, 1, "id_number").unwrap(),
        "11010119900307123X"
    );

    conn.execute("UPDATE person SET phone = id_number WHERE row_id = 1", [])
        .unwrap();
    let err = read(&conn, &codec, 1, "phone").unwrap_err();
    assert!(
        matches!(&err, FieldCryptError::Integrity { column, .. } if column == "phone"),
        "{err}"
    );
}

#[test]
fn corrupted_ciphertext_gives_a_clear_error() {
    let (_dir, conn, mut codec) = setup(Suite::Guomi);
    insert(&conn, &mut codec, 1, "11010119900307123X", "13800138000");
    let mut v: Vec<u8> = conn
        .query_row("SELECT phone FROM person WHERE row_id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let last = v.len() - 1;
    v[last] ^= 0x01;
    conn.execute("UPDATE person SET phone = ?1 WHERE row_id = 1", [&v])
        .unwrap();
    let err = read(&conn, &codec, 1, "phone").unwrap_err();
    assert!(matches!(err, FieldCryptError::Integrity { .. }), "{err}");
    // A value cut to its header is reported as malformed, not as a panic.
    conn.execute("UPDATE person SET phone = x'58' WHERE row_id = 1", [])
        .unwrap();
    let err = read(&conn, &codec, 1, "phone").unwrap_err();
    assert!(matches!(err, FieldCryptError::Malformed { .. }), "{err}");
}

#[test]
fn wrong_or_missing_kek_file_is_a_clear_error_and_changes_nothing() {
    let (dir, conn, mut codec) = setup(Suite::International);
    insert(&conn, &mut codec, 1, "11010119900307123X", "13800138000");
    let keys_before: i64 = conn
        .query_row("SELECT COUNT(*) FROM field_keys", [], |r| r.get(0))
        .unwrap();
    drop(codec);

    // Replace the key file with other random bytes.
    let path = FileKek::path_for(dir.path(), 1);
    std::fs::remove_file(&path).unwrap();
    let wrong = FileKek::create(dir.path(), 1, Suite::International).unwrap();
    let err = FieldCodec::load(&conn, Suite::International, Box::new(wrong))
        .err()
        .expect("wrong KEK must not load");
    assert!(matches!(err, FieldCryptError::WrongKek { .. }), "{err}");
    assert!(err.to_string().contains("kek-1.key"), "{err}");

    // Missing file.
    std::fs::remove_file(&path).unwrap();
    let err = FileKek::load(dir.path(), 1, Suite::International)
        .err()
        .expect("missing KEK must not load");
    assert!(err.to_string().contains("kek-1.key"), "{err}");

    // Truncated file.
    std::fs::write(&path, [0u8; 7]).unwrap();
    let err = FileKek::load(dir.path(), 1, Suite::International)
        .err()
        .expect("short KEK must not load");
    assert!(err.to_string().contains("expected 32 bytes"), "{err}");

    let keys_after: i64 = conn
        .query_row("SELECT COUNT(*) FROM field_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keys_before, keys_after);
}

#[test]
fn reloaded_codec_opens_values_and_key_file_is_private() {
    let (dir, conn, mut codec) = setup(Suite::Guomi);
    insert(&conn, &mut codec, 7, "110101198001011234", "13900139000");
    drop(codec);
    let kek = FileKek::load(dir.path(), 1, Suite::Guomi).unwrap();
    assert_eq!(kek.version(), 1);
    let codec = FieldCodec::load(&conn, Suite::Guomi, Box::new(kek)).unwrap();
    assert_eq!(
        read(&conn, &codec, 7, "id_number").unwrap(),
        "110101198001011234"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(FileKek::path_for(dir.path(), 1))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The raw database file holds neither the ID number nor the phone number.
    drop(conn);
    let raw = std::fs::read(dir.path().join("store.db")).unwrap();
    for needle in ["110101198001011234", "13900139000"] {
        assert!(
            !raw.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} found in raw file"
        );
    }
}

#[test]
fn suite_config_defaults_to_intl_and_reads_gm() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(read_suite(dir.path()).unwrap(), Suite::International);
    std::fs::write(dir.path().join("crypto.toml"), "suite = \"gm\"\n").unwrap();
    assert_eq!(read_suite(dir.path()).unwrap(), Suite::Guomi);
    std::fs::write(dir.path().join("crypto.toml"), "suite = \"rot13\"\n").unwrap();
    let err = read_suite(dir.path()).unwrap_err();
    assert!(err.to_string().contains("crypto.toml"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any value of any field type (text, numbers, dates as their stored text, raw bytes)
    /// round-trips, and opening it as another row or column fails with the integrity error.
    #[test]
    fn seal_open_round_trip_and_moved_row_rejection(
        value in prop_oneof![
            any::<String>().prop_map(|s| s.into_bytes()),
            any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            any::<f64>().prop_map(|n| n.to_string().into_bytes()),
            (1900i32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}").into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..256),
        ],
        row_a in 0u64..1_000_000,
        row_b in 0u64..1_000_000,
        gm in any::<bool>(),
    ) {
        let suite = if gm { Suite::Guomi } else { Suite::International };
        let (_dir, conn, mut codec) = setup(suite);
        let sealed = codec.seal(&conn, "person", "phone", &row_a.to_string(), &value).unwrap();
        prop_assert_eq!(codec.open("person", "phone", &row_a.to_string(), &sealed).unwrap(), value.clone());
        if row_a != row_b {
            let moved = codec.open("person", "phone", &row_b.to_string(), &sealed);
            let is_integrity = matches!(moved, Err(FieldCryptError::Integrity { .. }));
            prop_assert!(is_integrity);
        }
        // The same bytes under another column's key do not open either.
        codec.seal(&conn, "person", "id_number", "0", b"x").unwrap();
        let other = codec.open("person", "id_number", &row_a.to_string(), &sealed);
        prop_assert!(other.is_err());
    }
}

/// Rotation: new KEK re-wraps all data keys, new data-key version, values re-sealed in
/// batches; stopping after some batches and continuing from a fresh load loses nothing.
#[test]
fn rotation_rewraps_keys_and_reseals_resumably() {
    let (dir, mut conn, mut codec) = setup(Suite::International);
    let originals: Vec<(i64, String)> = (0..120)
        .map(|i| (i, format!("1101011990{:08}", i * 7919)))
        .collect();
    for (row, id) in &originals {
        insert(&conn, &mut codec, *row, id, "13800138000");
    }
    let kek2 = FileKek::create(dir.path(), 2, Suite::International).unwrap();
    assert!(codec.rewrap(&mut conn, Box::new(kek2)).unwrap() >= 3);
    codec
        .new_seal_version(&conn, "person", "id_number")
        .unwrap();

    // One pass of batches of 25 rows, each a transaction; `limit` batches then stop.
    fn pass(conn: &mut Connection, codec: &mut FieldCodec, limit: usize) -> usize {
        let mut moved = 0;
        for _ in 0..limit {
            let rows: Vec<(i64, Vec<u8>)> = {
                let mut stmt = conn
                    .prepare("SELECT row_id, id_number FROM person ORDER BY row_id")
                    .unwrap();
                let all = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .filter(|(_, v): &(i64, Vec<u8>)| sealed_version(v) != Some(2))
                    .take(25)
                    .collect();
                all
            };
            if rows.is_empty() {
                break;
            }
            let tx = conn.transaction().unwrap();
            for (row, v) in rows {
                let new = codec
                    .reseal(&tx, "person", "id_number", &row.to_string(), &v)
                    .unwrap()
                    .expect("not yet moved");
                tx.execute(
                    "UPDATE person SET id_number = ?1 WHERE row_id = ?2",
                    params![new, row],
                )
                .unwrap();
                moved += 1;
            }
            tx.commit().unwrap();
        }
        moved
    }
    assert_eq!(pass(&mut conn, &mut codec, 2), 50);
    drop(codec);

    // The old key file no longer opens the store; the new one does, and rotation continues.
    let old = FileKek::load(dir.path(), 1, Suite::International).unwrap();
    let err = FieldCodec::load(&conn, Suite::International, Box::new(old))
        .err()
        .expect("old KEK must be refused");
    assert!(err.to_string().contains("KEK version 2"), "{err}");
    let kek2 = FileKek::load(dir.path(), 2, Suite::International).unwrap();
    let mut codec = FieldCodec::load(&conn, Suite::International, Box::new(kek2)).unwrap();
    assert_eq!(pass(&mut conn, &mut codec, usize::MAX), 70);
    assert_eq!(pass(&mut conn, &mut codec, usize::MAX), 0);
    for (row, id) in &originals {
        assert_eq!(&read(&conn, &codec, *row, "id_number").unwrap(), id);
        assert_eq!(read(&conn, &codec, *row, "phone").unwrap(), "13800138000");
    }
}
