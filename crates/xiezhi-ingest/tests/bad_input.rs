//! Bad input: each whole-file problem gives a clear error naming the file (and line) and leaves
//! the store unchanged; each record-level problem quarantines that record and no other.

use std::path::Path;

use xiezhi_ingest::export::shipped_plans;
use xiezhi_ingest::read::FileError;
use xiezhi_ingest::{IngestError, IngestOptions, Ingestor, Plan};
use xiezhi_standard::validate::id_number::compose;
use xiezhi_standard::Entity;
use xiezhi_store::{SqliteStore, Store};

fn plan(source: &str) -> Plan {
    shipped_plans()
        .unwrap()
        .into_iter()
        .find(|p| p.source == source)
        .unwrap()
}

const POLICE_HEADER: &str = "AJBH,AJLB,AJMC,AY,FASJ,FADD,JYAQ,SAJE,LASJ,BADW,XYRXM,XYRXB,XYRSFZH,XYRCSRQ,XYRMZ,XYRHJD,XYRZZ,XYRLXDH,JLSJ,TQPBSJ,YSQSSJ";

fn police_row(n: u32, name: &str) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1990, 1, 1 + n % 28).unwrap();
    let id = compose("520102", birth, (n * 2 + 1) as u16).unwrap();
    format!(
        "A52010200000020230100{n:02},刑事,{name}盗窃案,盗窃,20230105143000,520102,窃取电动车一辆,3000.00,20230106,GA52010201,{name},男,{id},{},汉族,520102,贵阳市南明区某路1号,13800000000,20230107,20230110,20230301",
        birth.format("%Y%m%d")
    )
}

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

fn snapshot(store: &SqliteStore) -> Vec<i64> {
    let mut v: Vec<i64> = Entity::ALL
        .iter()
        .map(|e| store.count(*e).unwrap())
        .collect();
    v.push(store.runs().unwrap().len() as i64);
    v.push(store.quarantine_list(None, usize::MAX).unwrap().len() as i64);
    v
}

fn ingest(
    store: &mut SqliteStore,
    plan: &Plan,
    path: &Path,
) -> Result<xiezhi_ingest::FileReport, IngestError> {
    Ingestor::new(store).unwrap().ingest_file(
        plan,
        path,
        "police/cases.csv",
        &IngestOptions::default(),
        &mut |_, _| {},
    )
}

#[test]
fn clean_rows_are_accepted_and_counts_reconcile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.csv");
    let text = format!(
        "{POLICE_HEADER}\r\n{}\r\n{}\r\n",
        police_row(1, "张三"),
        police_row(2, "李四")
    );
    std::fs::write(&path, gbk(&text)).unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    let r = ingest(&mut store, &plan("police"), &path).unwrap();
    assert_eq!(
        (
            r.counts.records_read,
            r.counts.accepted,
            r.counts.quarantined
        ),
        (2, 2, 0)
    );
    assert_eq!(store.count(Entity::Person).unwrap(), 2);
    assert_eq!(store.count(Entity::Case).unwrap(), 2);
    // 立案, 拘留, 提请批捕, 移送起诉 for each row.
    assert_eq!(store.count(Entity::Event).unwrap(), 8);
}

#[test]
fn empty_file_is_refused_and_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    let before = snapshot(&store);
    for content in [&b""[..], &b"\r\n  \n"[..]] {
        let path = dir.path().join("empty.csv");
        std::fs::write(&path, content).unwrap();
        let err = ingest(&mut store, &plan("police"), &path).unwrap_err();
        assert!(
            matches!(err, IngestError::File(FileError::Empty { .. })),
            "{err}"
        );
        assert!(
            err.to_string().contains("police/cases.csv") && err.to_string().contains("为空"),
            "{err}"
        );
    }
    assert_eq!(snapshot(&store), before);
}

#[test]
fn header_only_file_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.csv");
    std::fs::write(&path, gbk(&format!("{POLICE_HEADER}\r\n"))).unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    assert!(matches!(
        ingest(&mut store, &plan("police"), &path).unwrap_err(),
        IngestError::File(FileError::Empty { .. })
    ));
}

#[test]
fn wrong_encoding_is_refused_and_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("utf8.csv");
    std::fs::write(
        &path,
        format!("{POLICE_HEADER}\n{}\n", police_row(1, "张三")),
    )
    .unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    let before = snapshot(&store);
    let err = ingest(&mut store, &plan("police"), &path).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("GBK") && msg.contains("UTF-8") && msg.contains("第1行"),
        "{msg}"
    );
    assert_eq!(snapshot(&store), before);
}

#[test]
fn mapping_naming_an_unknown_column_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.csv");
    let header = POLICE_HEADER.replace("XYRLXDH", "LXDH");
    std::fs::write(
        &path,
        gbk(&format!("{header}\r\n{}\r\n", police_row(1, "张三"))),
    )
    .unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    let before = snapshot(&store);
    let err = ingest(&mut store, &plan("police"), &path).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("XYRLXDH") && msg.contains("police.toml") && msg.contains("第1行"),
        "{msg}"
    );
    assert_eq!(snapshot(&store), before);
}

#[test]
fn truncated_file_quarantines_only_the_cut_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.csv");
    let full = format!(
        "{POLICE_HEADER}\r\n{}\r\n{}",
        police_row(1, "张三"),
        police_row(2, "李四")
    );
    let cut: String = full.chars().take(full.chars().count() - 20).collect();
    std::fs::write(&path, gbk(&cut)).unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    let r = ingest(&mut store, &plan("police"), &path).unwrap();
    assert_eq!(
        (
            r.counts.records_read,
            r.counts.accepted,
            r.counts.quarantined
        ),
        (2, 1, 1)
    );
    let q = store.quarantine_list(Some("open"), 10).unwrap();
    assert_eq!(
        (q[0].line, q[0].reasons[0].rule.as_str()),
        (3, "csv.field_count")
    );
    assert!(q[0].reasons[0].message_zh.contains("第3行"));
}

#[test]
fn undecodable_line_is_quarantined_with_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.csv");
    let mut bytes = gbk(&format!("{POLICE_HEADER}\r\n{}\r\n", police_row(1, "张三")));
    let mut bad = gbk(&police_row(2, "李四"));
    let pos = bad.iter().position(|b| *b >= 0x80).unwrap();
    bad[pos + 1] = b',';
    bytes.extend(bad);
    bytes.extend(b"\r\n");
    std::fs::write(&path, bytes).unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    let r = ingest(&mut store, &plan("police"), &path).unwrap();
    assert_eq!((r.counts.accepted, r.counts.quarantined), (1, 1));
    let q = &store.quarantine_list(Some("open"), 10).unwrap()[0];
    assert_eq!(q.reasons[0].rule, "encoding.malformed");
    assert!(q.raw.iter().any(|(k, _)| k == "_raw_hex"));
}

#[test]
fn invalid_field_quarantines_with_field_rule_and_value_then_retry_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cases.csv");
    let good = police_row(1, "张三");
    let bad_id = police_row(2, "李四");
    let id_field = bad_id.split(',').nth(12).unwrap().to_string();
    let wrong = format!(
        "{}{}",
        &id_field[..17],
        if id_field.ends_with('1') { '2' } else { '1' }
    );
    let bad = bad_id.replace(&id_field, &wrong);
    std::fs::write(
        &path,
        gbk(&format!("{POLICE_HEADER}\r\n{good}\r\n{bad}\r\n")),
    )
    .unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    let r = ingest(&mut store, &plan("police"), &path).unwrap();
    assert_eq!((r.counts.accepted, r.counts.quarantined), (1, 1));
    let q = store.quarantine_list(Some("open"), 10).unwrap().remove(0);
    let reason = q
        .reasons
        .iter()
        .find(|r| r.rule == "id_number.checksum")
        .expect("checksum reason");
    assert_eq!(reason.field, "person.id_number");
    assert_eq!(reason.value.as_deref(), Some(wrong.as_str()));
    assert_eq!(
        (q.file.as_str(), q.record_no, q.line),
        ("police/cases.csv", 2, 3)
    );
    let persons_before = store.count(Entity::Person).unwrap();
    let p = plan("police");
    // A retry with another wrong value changes nothing.
    let still = Ingestor::new(&mut store)
        .unwrap()
        .retry(&p, &q, &[("XYRSFZH".into(), "123".into())])
        .unwrap();
    assert!(still.is_err());
    assert_eq!(store.count(Entity::Person).unwrap(), persons_before);
    let fixed = Ingestor::new(&mut store)
        .unwrap()
        .retry(&p, &q, &[("XYRSFZH".into(), id_field.clone())])
        .unwrap();
    assert!(fixed.is_ok());
    assert_eq!(store.count(Entity::Person).unwrap(), persons_before + 1);
    assert_eq!(
        store.quarantine_get(q.id).unwrap().unwrap().status,
        "resolved"
    );
    assert_eq!(
        store.source_outcomes().unwrap(),
        vec![("police".into(), "police/cases.csv".into(), 2, 0)]
    );
    // Lineage: the person's fields point at the quarantined record's source id.
    let links = store.links_of(Entity::Person, "P00000002").unwrap();
    assert_eq!(links[0].source_record_id, q.source_record_id);
}
