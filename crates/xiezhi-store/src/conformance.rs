//! The behaviour every [`Store`] backend must show. Backends call [`run`] from their tests with
//! a factory of empty stores; the suite is written once and holds them all to it.

use chrono::NaiveDate;
use xiezhi_standard::{Entity, Record, Value};

use crate::*;

fn person(name: &str, id: Option<&str>) -> Record {
    let mut r = Record::new(Entity::Person);
    r.set("name", Value::Text(name.into()))
        .expect("schema field");
    if let Some(id) = id {
        r.set("id_number", Value::Text(id.into()))
            .expect("schema field");
    }
    r
}

fn source(id: i64, outcome: Outcome) -> SourceRecordRow {
    SourceRecordRow {
        id,
        source: "police".into(),
        file: "police/cases.csv".into(),
        record_no: id,
        line: id + 1,
        sha256: format!("{id:064x}"),
        outcome,
    }
}

fn run_of<S: Store>(store: &mut S) -> i64 {
    store
        .begin_run(&NewRun {
            kind: "ingest".into(),
            source: "police".into(),
            file: "police/cases.csv".into(),
            mapping: "police.toml".into(),
            started_at: "2024-01-01T00:00:00".into(),
        })
        .expect("begin run")
}

/// Writes one accepted person `P1` from source record 1.
pub fn write_sample<S: Store>(store: &mut S) {
    let run = run_of(store);
    let batch = Batch {
        source_records: vec![source(1, Outcome::Accepted)],
        entities: vec![EntityRow {
            uid: "P1".into(),
            case_uid: None,
            person_uid: None,
            record: person("张三", Some("11010519491231002X")),
            source_record_id: 1,
        }],
        person_keys: vec![("id:11010519491231002X".into(), "P1".into())],
        ..Batch::default()
    };
    store.write_batch(run, &batch).expect("write sample");
}

fn event_row(
    uid: &str,
    case: Option<&str>,
    day: Option<u32>,
    note: &str,
    source: i64,
) -> EntityRow {
    let mut r = Record::new(Entity::Event);
    r.set("kind", Value::Code("case_filed".into()))
        .expect("field");
    if let Some(day) = day {
        let at = NaiveDate::from_ymd_opt(2023, 3, day)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("date");
        r.set("occurred_at", Value::DateTime(at)).expect("field");
    }
    r.set("note", Value::Text(note.into())).expect("field");
    EntityRow {
        uid: uid.into(),
        case_uid: case.map(Into::into),
        person_uid: None,
        record: r,
        source_record_id: source,
    }
}

/// Writes two batches that exercise every write path: a row new to the store, the same uid
/// again within a batch, dependent rows with and without a case or a date, text that needs
/// escaping, issues, links, keys, a quarantined record, and a later batch that merges into
/// stored rows (giving case-less event `E2` its case). Backends compare what it leaves.
pub fn write_mixed<S: Store>(store: &mut S) {
    let run = run_of(store);
    let mut case = Record::new(Entity::Case);
    case.set("police_case_no", Value::Text("A1".into()))
        .expect("field");
    case.set("amount", Value::Money(500)).expect("field");
    let mut petition = Record::new(Entity::Petition);
    petition
        .set(
            "content",
            Value::Text("第一行\n第二行\t制表\\反斜杠".into()),
        )
        .expect("field");
    let first = Batch {
        source_records: vec![
            source(1, Outcome::Accepted),
            source(2, Outcome::Accepted),
            source(3, Outcome::Quarantined),
        ],
        entities: vec![
            EntityRow {
                uid: "C1".into(),
                case_uid: None,
                person_uid: None,
                record: case,
                source_record_id: 1,
            },
            EntityRow {
                uid: "P1".into(),
                case_uid: None,
                person_uid: None,
                record: person("张三", None),
                source_record_id: 1,
            },
            event_row("E1", Some("C1"), Some(1), "立案", 1),
            event_row("E2", None, None, "无案件", 1),
            EntityRow {
                uid: "Q1".into(),
                case_uid: None,
                person_uid: None,
                record: petition,
                source_record_id: 1,
            },
            // The same person again in the same batch: merged into the row just written.
            EntityRow {
                uid: "P1".into(),
                case_uid: None,
                person_uid: None,
                record: person("张叁", Some("11010519491231002X")),
                source_record_id: 2,
            },
        ],
        issues: vec![(
            1,
            Reason {
                field: "name".into(),
                rule: "trimmed".into(),
                severity: "repaired".into(),
                value: None,
                message_zh: "去除空格".into(),
                message_en: "trimmed".into(),
            },
        )],
        quarantine: vec![quarantine_entry(3)],
        links: vec![LinkRow {
            entity: Entity::Person,
            uid: "P1".into(),
            source_record_id: 2,
            rule: "id_number".into(),
            detail: "11010519491231002X".into(),
        }],
        person_keys: vec![
            ("id:11010519491231002X".into(), "P1".into()),
            ("id:11010519491231002X".into(), "P1".into()),
        ],
        case_keys: vec![("police:A1".into(), "C1".into())],
        ..Batch::default()
    };
    store.write_batch(run, &first).expect("first batch");
    // A field the stored case lacks: stored-only lineage keys follow the new one.
    let mut stage = Record::new(Entity::Case);
    stage
        .set("name", Value::Text("盗窃案".into()))
        .expect("field");
    let second = Batch {
        source_records: vec![source(4, Outcome::Accepted)],
        entities: vec![
            EntityRow {
                uid: "C1".into(),
                case_uid: None,
                person_uid: None,
                record: stage,
                source_record_id: 4,
            },
            event_row("E2", Some("C1"), Some(2), "补录", 4),
            event_row("E3", Some("C1"), Some(3), "新", 4),
        ],
        ..Batch::default()
    };
    store.write_batch(run, &second).expect("second batch");
}

fn mixed_batches_merge_within_and_across_batches<S: Store>(store: &mut S) {
    write_mixed(store);
    let p1 = store.get(Entity::Person, "P1").expect("get").expect("P1");
    assert_eq!(p1.record.text("name"), Some("张三"), "first value wins");
    assert_eq!(
        p1.record.text("id_number"),
        Some("11010519491231002X"),
        "the repeat in the batch fills the gap"
    );
    let q1 = store.get(Entity::Petition, "Q1").expect("get").expect("Q1");
    assert_eq!(
        q1.case_uid, None,
        "a row without a case reads back without one"
    );
    assert_eq!(
        q1.record.text("content"),
        Some("第一行\n第二行\t制表\\反斜杠")
    );
    let e2 = store.get(Entity::Event, "E2").expect("get").expect("E2");
    assert_eq!(
        e2.case_uid.as_deref(),
        Some("C1"),
        "a later write gives it its case"
    );
    assert_eq!(e2.record.text("note"), Some("无案件"));
    assert!(e2.record.get("occurred_at").is_some(), "and its date");
    let of_case: Vec<String> = store
        .rows_of_case(Entity::Event, "C1")
        .expect("rows")
        .into_iter()
        .map(|r| r.uid)
        .collect();
    assert_eq!(of_case, ["E1", "E2", "E3"]);
    assert!(store
        .rows_of_case(Entity::Petition, "")
        .expect("rows")
        .is_empty());
    assert_eq!(store.count(Entity::Event).expect("count"), 3);
    assert_eq!(store.load_keys().expect("keys").0.len(), 1);
    assert_eq!(store.quarantine_list(None, 10).expect("list").len(), 1);
    let kinds: Vec<String> = store
        .ledger_entries(0, 100)
        .expect("entries")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "records_written",
            "records_written",
            "record_quarantined",
            "records_written"
        ]
    );
    // The change feed: one kind, a half-open range of positions.
    let seqs = |from, to| -> Vec<i64> {
        store
            .ledger_entries_of_kind("records_written", from, to)
            .expect("entries of kind")
            .into_iter()
            .map(|e| e.seq)
            .collect()
    };
    assert_eq!(seqs(0, 4), [0, 1, 3]);
    assert_eq!(seqs(1, 3), [1]);
    assert_eq!(seqs(4, 10), Vec::<i64>::new());
}

/// A batch is keyed by its source records: written again it changes nothing; overlapping a
/// stored one only in part, or with other content, it is refused and changes nothing.
fn replayed_batch_is_not_applied_twice<S: Store>(store: &mut S) {
    write_sample(store);
    let entries = store.ledger_len().expect("len");
    let hashes = store.row_hashes(Entity::Person).expect("hashes");
    write_sample(store);
    assert_eq!(
        store.ledger_len().expect("len"),
        entries,
        "no entry for a replay"
    );
    assert_eq!(store.row_hashes(Entity::Person).expect("hashes"), hashes);
    assert_eq!(store.count(Entity::Person).expect("count"), 1);
    let run = run_of(store);
    let partly = Batch {
        source_records: vec![source(1, Outcome::Accepted), source(2, Outcome::Accepted)],
        entities: vec![EntityRow {
            uid: "P2".into(),
            case_uid: None,
            person_uid: None,
            record: person("李四", None),
            source_record_id: 2,
        }],
        ..Batch::default()
    };
    match store.write_batch(run, &partly) {
        Err(StoreError::BatchConflict { id: 1, .. }) => {}
        other => panic!("a partial replay must be refused naming record 1, got {other:?}"),
    }
    let mut changed = source(1, Outcome::Accepted);
    changed.sha256 = "ff".repeat(32);
    let other = Batch {
        source_records: vec![changed],
        ..Batch::default()
    };
    match store.write_batch(run, &other) {
        Err(StoreError::BatchConflict { id: 1, reason }) => {
            assert!(reason.contains("hash"), "{reason}")
        }
        other => panic!("other content under a stored id must be refused, got {other:?}"),
    }
    assert_eq!(store.ledger_len().expect("len"), entries);
    assert_eq!(store.count(Entity::Person).expect("count"), 1);
    assert!(store.source_record(2).expect("get").is_none());
}

/// Runs the whole suite against fresh stores from `make`.
pub fn run<S: Store>(make: &mut dyn FnMut() -> S) {
    mixed_batches_merge_within_and_across_batches(&mut make());
    replayed_batch_is_not_applied_twice(&mut make());
    round_trip_with_lineage(&mut make());
    merge_keeps_first_values_and_fills_gaps(&mut make());
    quarantine_lifecycle_and_reconciliation(&mut make());
    failed_batch_leaves_store_unchanged(&mut make());
    counters_keys_and_runs(&mut make());
    every_write_has_its_ledger_entry(&mut make());
    workflow_items_change_with_their_entries(&mut make());
    batch_workflow_items_commit_with_the_batch(&mut make());
    graphs_are_replaced_whole_and_read_by_node(&mut make());
    a_node_written_twice_in_one_call_keeps_its_last_version(&mut make());
    links_with_source_are_the_links_with_their_records_source(&mut make());
    a_cases_rows_read_together_are_its_rows_read_one_by_one(&mut make());
    clustering_by_case_changes_no_row(&mut make());
}

/// `cluster_by_case` moves rows on disk, never changes them: every case reads the same rows
/// after it, every row keeps its content hash, and the store takes writes again.
fn clustering_by_case_changes_no_row<S: Store>(store: &mut S) {
    write_mixed(store);
    let cases = store.uids(Entity::Case, "", 100).expect("uids");
    let snapshot = |store: &S| {
        let hashes: Vec<_> = Entity::ALL
            .iter()
            .map(|e| store.row_hashes(*e).expect("hashes"))
            .collect();
        let rows: Vec<_> = cases
            .iter()
            .map(|c| store.rows_of_case_each(c, &Entity::ALL).expect("rows"))
            .collect();
        (hashes, rows)
    };
    let before = snapshot(store);
    let tables = store.cluster_by_case().expect("cluster");
    for (t, secs) in &tables {
        assert!(t.starts_with("std_") && *secs >= 0.0, "{t} {secs}");
    }
    assert_eq!(snapshot(store), before);
    let persons = store.count(Entity::Person).expect("count");
    let run = run_of(store);
    let batch = Batch {
        source_records: vec![source(90, Outcome::Accepted)],
        entities: vec![EntityRow {
            uid: "P90".into(),
            case_uid: None,
            person_uid: None,
            record: person("李四", None),
            source_record_id: 90,
        }],
        ..Batch::default()
    };
    store
        .write_batch(run, &batch)
        .expect("a write after clustering");
    assert_eq!(store.count(Entity::Person).expect("count"), persons + 1);
}

/// `rows_of_case_each` gives, entity by entity and in the order asked, what `rows_of_case`
/// gives (values, lineage, case and person); a non-dependent entity and an unknown case give
/// nothing.
fn a_cases_rows_read_together_are_its_rows_read_one_by_one<S: Store>(store: &mut S) {
    write_mixed(store);
    let cases = store.uids(Entity::Case, "", 100).expect("uids");
    assert!(!cases.is_empty());
    let mut asked: Vec<Entity> = Entity::ALL.to_vec();
    asked.reverse();
    let mut seen_rows = 0;
    for case in cases.iter().map(String::as_str).chain(["C-none"]) {
        let together = store.rows_of_case_each(case, &asked).expect("together");
        assert_eq!(
            together.iter().map(|(e, _)| *e).collect::<Vec<_>>(),
            asked,
            "one section per entity asked, in order"
        );
        for (entity, rows) in together {
            let alone = store.rows_of_case(entity, case).expect("alone");
            assert_eq!(rows, alone, "{} of {case}", entity.name());
            seen_rows += rows.len();
        }
    }
    assert!(seen_rows > 0, "write_mixed stores dependent rows");
}

/// Within one `graph_write`, a later version of a node replaces the earlier one, as writes
/// in sequence would.
fn a_node_written_twice_in_one_call_keeps_its_last_version<S: Store>(store: &mut S) {
    let node = |kind: &str, record: i64| GraphNode {
        node: "person:P1".into(),
        kind: kind.into(),
        key: "P1".into(),
        case_uid: None,
        source_record_id: Some(record),
    };
    store
        .graph_write("g", &[node("person", 1), node("suspect", 2)], &[])
        .expect("write");
    let got = store
        .graph_nodes("g", &["person:P1".into()])
        .expect("nodes");
    assert_eq!(got, [node("suspect", 2)]);
}

/// The batched link read gives what `links_of` and `source_record` give one by one, in the
/// same order, for every person and none for an unknown uid.
fn links_with_source_are_the_links_with_their_records_source<S: Store>(store: &mut S) {
    write_mixed(store);
    let persons = store.uids(Entity::Person, "", 100).expect("uids");
    assert!(!persons.is_empty(), "write_mixed stores persons");
    let mut asked = persons.clone();
    asked.push("P-none".into());
    let got: Vec<(String, i64, String, String)> = store
        .links_with_source(Entity::Person, &asked)
        .expect("links")
        .into_iter()
        .map(|(l, source)| (l.uid, l.source_record_id, l.rule, source))
        .collect();
    let mut want = Vec::new();
    for p in &persons {
        for l in store.links_of(Entity::Person, p).expect("links_of") {
            let source = store
                .source_record(l.source_record_id)
                .expect("record")
                .expect("the link's record")
                .source;
            want.push((l.uid, l.source_record_id, l.rule, source));
        }
    }
    want.sort();
    let mut sorted = got.clone();
    sorted.sort();
    assert!(!want.is_empty(), "persons have links");
    assert_eq!(sorted, want);
    // Oldest first within each person.
    for p in &persons {
        let ids: Vec<i64> = got.iter().filter(|g| &g.0 == p).map(|g| g.1).collect();
        let mut in_order = ids.clone();
        in_order.sort_unstable();
        assert_eq!(ids, in_order, "links of {p} oldest first");
    }
}

/// A graph filled in batches under a staging name replaces the published graph in one step
/// (with its ledger entry); nodes read by id, edges by either end (each once, by position),
/// both page in byte order; a case-less edge reads back without a case; other graphs are
/// left alone.
fn graphs_are_replaced_whole_and_read_by_node<S: Store>(store: &mut S) {
    let node = |id: &str, kind: &str, case: Option<&str>| GraphNode {
        node: id.into(),
        kind: kind.into(),
        key: id.split_once(':').map_or(id, |(_, k)| k).into(),
        case_uid: case.map(Into::into),
        source_record_id: Some(7),
    };
    let edge = |seq: i64, from: &str, to: &str, case: Option<&str>| GraphEdge {
        seq,
        from: from.into(),
        to: to.into(),
        kind: "involved_in".into(),
        date: Some("2024-03-01".into()),
        case_uid: case.map(Into::into),
        field: Some("case_person.role".into()),
        detail: Some("suspect".into()),
        source_entity: Some("case_person".into()),
        source_uid: Some(format!("L{seq}")),
        source_record_id: Some(seq * 10),
    };
    let old = [node("person:P9", "person", None)];
    store.graph_write("g", &old, &[]).expect("write old");
    store
        .graph_write("other", &[node("case:C9", "case", Some("C9"))], &[])
        .expect("write other");
    store
        .graph_write(
            "g.next",
            &[
                node("person:P1", "person", None),
                node("case:C1", "case", Some("C1")),
            ],
            &[edge(1, "person:P1", "case:C1", Some("C1"))],
        )
        .expect("batch 1");
    store
        .graph_write(
            "g.next",
            &[
                node("person:P2", "person", None),
                node("phone:ab12", "phone", None),
            ],
            &[
                edge(2, "person:P2", "case:C1", Some("C1")),
                edge(3, "person:P1", "phone:ab12", None),
                edge(4, "person:P2", "phone:ab12", None),
            ],
        )
        .expect("batch 2");
    // Until published, readers of `g` see the old graph.
    let ids = |v: Vec<GraphNode>| {
        let mut v: Vec<String> = v.into_iter().map(|n| n.node).collect();
        v.sort();
        v
    };
    assert_eq!(
        ids(store.graph_nodes_after("g", "", 100).expect("page")),
        ["person:P9"]
    );
    let before = store.ledger_len().expect("len");
    let built = LedgerEvent {
        kind: "graph_built".into(),
        entity: None,
        uid: None,
        body: serde_json::Map::new(),
    };
    store
        .graph_publish("g.next", "g", &[built])
        .expect("publish");
    assert_eq!(store.ledger_len().expect("len"), before + 1);
    assert!(store
        .graph_nodes_after("g.next", "", 100)
        .expect("staging")
        .is_empty());
    assert_eq!(
        ids(store.graph_nodes_after("g", "", 100).expect("page")),
        ["case:C1", "person:P1", "person:P2", "phone:ab12"]
    );
    assert_eq!(
        ids(store.graph_nodes_after("g", "case:C1", 2).expect("page")),
        ["person:P1", "person:P2"]
    );
    let got = store
        .graph_nodes(
            "g",
            &["person:P2".into(), "nobody".into(), "case:C1".into()],
        )
        .expect("nodes");
    assert_eq!(ids(got.clone()), ["case:C1", "person:P2"]);
    assert!(got.contains(&node("case:C1", "case", Some("C1"))));
    let edges = store
        .graph_edges_of("g", &["person:P1".into(), "phone:ab12".into()])
        .expect("edges");
    assert_eq!(
        edges,
        vec![
            edge(1, "person:P1", "case:C1", Some("C1")),
            edge(3, "person:P1", "phone:ab12", None),
            edge(4, "person:P2", "phone:ab12", None),
        ]
    );
    let seqs: Vec<i64> = store
        .graph_edges_after("g", 1, 2)
        .expect("edges after")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(
        ids(store.graph_nodes_after("other", "", 10).expect("other")),
        ["case:C9"]
    );
    // The next build starts from an empty staging graph, whatever became of the last one,
    // and the published graph stays as it was until that build is published in turn.
    store
        .graph_write(
            "g.next",
            &[node("person:P3", "person", None)],
            &[edge(1, "person:P3", "case:C1", Some("C1"))],
        )
        .expect("rebuild");
    assert_eq!(
        ids(store.graph_nodes_after("g.next", "", 100).expect("staging")),
        ["person:P3"]
    );
    assert_eq!(
        store.graph_edges_after("g.next", 0, 10).expect("e").len(),
        1
    );
    assert_eq!(store.graph_nodes_after("g", "", 100).expect("g").len(), 4);
    store.graph_publish("g.next", "g", &[]).expect("republish");
    assert_eq!(
        ids(store.graph_nodes_after("g", "", 100).expect("g")),
        ["person:P3"]
    );
    assert_eq!(
        store.graph_edges_of("g", &["case:C1".into()]).expect("e"),
        vec![edge(1, "person:P3", "case:C1", Some("C1"))]
    );
    // Publishing an empty staging graph empties the published one.
    store
        .graph_publish("never.written", "other", &[])
        .expect("empty");
    assert!(store
        .graph_nodes_after("other", "", 10)
        .expect("o")
        .is_empty());
    store
        .graph_write("other", &[node("case:C9", "case", Some("C9"))], &[])
        .expect("write other again");
    store.graph_clear("g").expect("clear");
    assert!(store.graph_nodes_after("g", "", 10).expect("g").is_empty());
    assert!(store.graph_edges_after("g", 0, 10).expect("g").is_empty());
    assert_eq!(
        store.graph_nodes_after("other", "", 10).expect("o").len(),
        1
    );
}

/// Workflow items written in a batch commit with its rows and entries, or not at all; a
/// cursor reads a kind's items after a given id.
fn batch_workflow_items_commit_with_the_batch<S: Store>(store: &mut S) {
    write_sample(store);
    let run = run_of(store);
    let item = |id: &str| WorkflowWrite {
        kind: "queue".into(),
        id: id.into(),
        body: format!("{{\"n\":\"{id}\"}}"),
        events: Vec::new(),
    };
    let failing = Batch {
        resolved: vec![999],
        workflow: vec![item("0001")],
        ..Batch::default()
    };
    assert!(store.write_batch(run, &failing).is_err());
    assert_eq!(store.workflow_item("queue", "0001").expect("get"), None);
    let before = store.ledger_len().expect("len");
    let batch = Batch {
        events: vec![LedgerEvent {
            kind: "transfer_applied".into(),
            entity: None,
            uid: None,
            body: serde_json::Map::new(),
        }],
        workflow: vec![item("0001"), item("0002"), item("0003")],
        ..Batch::default()
    };
    store.write_batch(run, &batch).expect("write");
    assert_eq!(store.ledger_len().expect("len"), before + 1);
    assert_eq!(
        store
            .workflow_item("queue", "0002")
            .expect("get")
            .as_deref(),
        Some("{\"n\":\"0002\"}")
    );
    let after: Vec<String> = store
        .workflow_items_after("queue", "0001", 10)
        .expect("cursor")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(after, ["0002", "0003"]);
    let first: Vec<String> = store
        .workflow_items_after("queue", "", 1)
        .expect("cursor")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(first, ["0001"]);
    assert!(store
        .workflow_items_after("queue", "0003", 10)
        .expect("cursor")
        .is_empty());
}

fn workflow_items_change_with_their_entries<S: Store>(store: &mut S) {
    let step = |n: i64| LedgerEvent {
        kind: "access".into(),
        entity: Some("case".into()),
        uid: Some("C1".into()),
        body: [("step".to_string(), n.into())].into_iter().collect(),
    };
    store
        .put_workflow_item(
            "data_request",
            "R0001",
            "{\"state\":\"requested\"}",
            &[step(1)],
        )
        .expect("put");
    store
        .put_workflow_item(
            "data_request",
            "R0001",
            "{\"state\":\"approved\"}",
            &[step(2)],
        )
        .expect("put");
    store
        .put_workflow_item("data_request", "R0002", "{}", &[])
        .expect("put");
    assert_eq!(
        store
            .workflow_item("data_request", "R0001")
            .expect("get")
            .as_deref(),
        Some("{\"state\":\"approved\"}")
    );
    assert!(store
        .workflow_item("data_request", "R9")
        .expect("get")
        .is_none());
    assert_eq!(store.workflow_items("data_request").expect("list").len(), 2);
    assert_eq!(
        store.ledger_len().expect("len"),
        2,
        "each change logged with it"
    );
    let writes: Vec<WorkflowWrite> = (3..6)
        .map(|n| WorkflowWrite {
            kind: "risk".into(),
            id: format!("K{n}"),
            body: format!("{{\"n\":{n}}}"),
            events: vec![step(n)],
        })
        .collect();
    store.put_workflow_items(&writes).expect("batch");
    let risks = store.workflow_items("risk").expect("list");
    assert_eq!(
        risks.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        ["K3", "K4", "K5"]
    );
    assert_eq!(risks[2].1, "{\"n\":5}");
    assert_eq!(
        store.ledger_len().expect("len"),
        5,
        "a batch logs every change"
    );
    let last = store.ledger_entries(4, 1).expect("entries");
    assert!(last[0].body.contains("\"step\":5"), "{}", last[0].body);
    // One item twice in a batch (the later state stays), and an item without an entry.
    let again = |id: &str, body: &str, events: Vec<LedgerEvent>| WorkflowWrite {
        kind: "risk".into(),
        id: id.into(),
        body: body.into(),
        events,
    };
    store
        .put_workflow_items(&[
            again("K3", "{\"n\":30}", vec![step(6), step(7)]),
            again("K9", "{}", vec![]),
            again("K3", "{\"n\":31}", vec![step(8)]),
        ])
        .expect("batch with a repeated item");
    assert_eq!(
        store.workflow_item("risk", "K3").expect("get").as_deref(),
        Some("{\"n\":31}")
    );
    assert_eq!(store.workflow_items("risk").expect("list").len(), 4);
    assert_eq!(store.ledger_len().expect("len"), 8);
    let tail = store.ledger_entries(5, 3).expect("entries");
    let steps: Vec<bool> = (6..9)
        .zip(&tail)
        .map(|(n, e)| e.body.contains(&format!("\"step\":{n}")))
        .collect();
    assert_eq!(steps, [true, true, true], "entries in write order");
}

fn every_write_has_its_ledger_entry<S: Store>(store: &mut S) {
    write_sample(store);
    let run = run_of(store);
    let mut again = person("张三", None);
    again
        .set("phone", Value::Text("13900000000".into()))
        .expect("field");
    let batch = Batch {
        source_records: vec![
            source(2, Outcome::Accepted),
            source(3, Outcome::Quarantined),
        ],
        entities: vec![EntityRow {
            uid: "P1".into(),
            case_uid: None,
            person_uid: None,
            record: again,
            source_record_id: 2,
        }],
        quarantine: vec![quarantine_entry(3)],
        events: vec![LedgerEvent {
            kind: "note".into(),
            entity: None,
            uid: None,
            body: serde_json::Map::new(),
        }],
        ..Batch::default()
    };
    store.write_batch(run, &batch).expect("write");
    let entries = store.ledger_entries(0, 100).expect("entries");
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "records_written",
            "records_written",
            "record_quarantined",
            "note"
        ]
    );
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as i64);
        let body: serde_json::Value = serde_json::from_str(&e.body).expect("json body");
        assert_eq!(body["seq"], i as i64);
        assert_eq!(body["kind"], e.kind);
    }
    let second: serde_json::Value = serde_json::from_str(&entries[1].body).expect("json");
    assert_eq!(second["source_record"], 2);
    let last = &second["rows"][0];
    assert_eq!(
        (last["entity"].as_str(), last["uid"].as_str()),
        (Some("person"), Some("P1"))
    );
    assert_eq!(
        last["version"], 2,
        "the second write of P1 is its version 2"
    );
    let hashes = store.row_hashes(Entity::Person).expect("hashes");
    assert_eq!(hashes.len(), 1);
    assert_eq!(
        last["content_sha256"], hashes[0].1,
        "the entry commits to the stored row"
    );
    let first: serde_json::Value = serde_json::from_str(&entries[0].body).expect("json");
    assert_ne!(
        first["rows"][0]["content_sha256"], hashes[0].1,
        "the merge changed the row"
    );
    assert_eq!(store.ledger_len().expect("len"), 4);
    store
        .append_events(&[LedgerEvent {
            kind: "note".into(),
            entity: None,
            uid: None,
            body: serde_json::Map::new(),
        }])
        .expect("append");
    assert_eq!(store.ledger_entries(4, 10).expect("entries")[0].seq, 4);
    assert!(store.ledger_state().expect("state").is_none());
    store
        .put_checkpoint(5, "note", "2024-01-01T00:00:00", &[7u8; 32])
        .expect("checkpoint");
    assert_eq!(
        store.ledger_state().expect("state"),
        Some((5, vec![7u8; 32]))
    );
    assert_eq!(
        store.checkpoints().expect("checkpoints"),
        vec![(5, "note".to_string())]
    );
}

fn round_trip_with_lineage<S: Store>(store: &mut S) {
    let run = run_of(store);
    let mut event = Record::new(Entity::Event);
    let at = NaiveDate::from_ymd_opt(2023, 3, 1)
        .and_then(|d| d.and_hms_opt(9, 30, 0))
        .expect("date");
    event
        .set("kind", Value::Code("case_filed".into()))
        .expect("field");
    event
        .set("occurred_at", Value::DateTime(at))
        .expect("field");
    let mut case = Record::new(Entity::Case);
    case.set(
        "police_case_no",
        Value::Text("A5201020000002023010001".into()),
    )
    .expect("field");
    case.set(
        "charges",
        Value::Codes(vec!["C264.1".into(), "C266.1".into()]),
    )
    .expect("field");
    case.set("amount", Value::Money(1_234_500)).expect("field");
    case.set(
        "summary",
        Value::Text("嫌疑人\"王某\"，盗窃'电动车'一辆".into()),
    )
    .expect("field");
    let batch = Batch {
        source_records: vec![source(7, Outcome::Accepted)],
        entities: vec![
            EntityRow {
                uid: "C1".into(),
                case_uid: None,
                person_uid: None,
                record: case.clone(),
                source_record_id: 7,
            },
            EntityRow {
                uid: "E1".into(),
                case_uid: Some("C1".into()),
                person_uid: Some("P1".into()),
                record: event.clone(),
                source_record_id: 7,
            },
        ],
        ..Batch::default()
    };
    store.write_batch(run, &batch).expect("write");
    let got = store.get(Entity::Case, "C1").expect("get").expect("stored");
    assert_eq!(got.record, case);
    assert!(got.lineage.iter().all(|(_, id)| *id == 7));
    assert_eq!(got.lineage.len(), case.fields.len());
    let got = store
        .get(Entity::Event, "E1")
        .expect("get")
        .expect("stored");
    assert_eq!(got.record, event);
    assert_eq!(
        (got.case_uid.as_deref(), got.person_uid.as_deref()),
        (Some("C1"), Some("P1"))
    );
    assert!(store.get(Entity::Event, "E2").expect("get").is_none());
    let of_case = store.rows_of_case(Entity::Event, "C1").expect("rows");
    assert_eq!(of_case.len(), 1);
    assert_eq!(of_case[0].uid, "E1");
    assert!(store
        .rows_of_case(Entity::Event, "C2")
        .expect("rows")
        .is_empty());
    let block = ["C0".to_string(), "C1".to_string(), "C2".to_string()];
    let events = store.rows_of_cases(Entity::Event, &block).expect("rows");
    assert_eq!(events, of_case, "a block holds the same rows as its cases");
    // The engine's read: the same rows and values, lineage possibly left out.
    for entity in [Entity::Event, Entity::Case] {
        let full = store.rows_of_cases(entity, &block).expect("rows");
        let bare = store
            .rows_of_cases_without_lineage(entity, &block)
            .expect("rows");
        assert_eq!(bare.len(), full.len(), "{entity:?}");
        for (b, f) in bare.iter().zip(&full) {
            assert_eq!(
                (&b.uid, &b.case_uid, &b.person_uid, &b.record),
                (&f.uid, &f.case_uid, &f.person_uid, &f.record),
                "{entity:?}"
            );
            assert!(b.lineage.is_empty() || b.lineage == f.lineage);
        }
    }
    let cases = store.rows_of_cases(Entity::Case, &block).expect("rows");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].record, case);
    assert!(store
        .rows_of_cases(Entity::Event, &["C0".to_string(), "C2".to_string()])
        .expect("rows")
        .is_empty());
    let mut uids: Vec<String> = of_case.iter().rev().map(|r| r.uid.clone()).collect();
    uids.push("no-such-uid".into());
    let mut many = store.get_many(Entity::Event, &uids).expect("get_many");
    many.sort_by(|a, b| a.uid.cmp(&b.uid));
    let mut want = of_case.clone();
    want.sort_by(|a, b| a.uid.cmp(&b.uid));
    assert_eq!(
        many, want,
        "get_many returns each known uid once, unknown ones skipped"
    );
    assert!(store
        .get_many(Entity::Event, &[])
        .expect("get_many")
        .is_empty());
    assert_eq!(
        store.source_record(7).expect("get").map(|s| s.line),
        Some(8)
    );
}

fn merge_keeps_first_values_and_fills_gaps<S: Store>(store: &mut S) {
    write_sample(store);
    let run = run_of(store);
    let mut second = person("张叁", None);
    second
        .set("phone", Value::Text("13800000000".into()))
        .expect("field");
    let batch = Batch {
        source_records: vec![source(2, Outcome::Accepted)],
        entities: vec![EntityRow {
            uid: "P1".into(),
            case_uid: None,
            person_uid: None,
            record: second,
            source_record_id: 2,
        }],
        links: vec![LinkRow {
            entity: Entity::Person,
            uid: "P1".into(),
            source_record_id: 2,
            rule: "name_birth_division".into(),
            detail: "张叁".into(),
        }],
        ..Batch::default()
    };
    store.write_batch(run, &batch).expect("write");
    let got = store
        .get(Entity::Person, "P1")
        .expect("get")
        .expect("stored");
    assert_eq!(got.record.text("name"), Some("张三"), "first value wins");
    assert_eq!(got.record.text("phone"), Some("13800000000"), "gap filled");
    let lineage: std::collections::BTreeMap<_, _> = got.lineage.into_iter().collect();
    assert_eq!(lineage.get("name"), Some(&1));
    assert_eq!(lineage.get("phone"), Some(&2));
    assert_eq!(store.count(Entity::Person).expect("count"), 1);
    assert_eq!(store.uids(Entity::Person, "", 10).expect("uids"), ["P1"]);
    assert!(store
        .uids(Entity::Person, "P1", 10)
        .expect("uids")
        .is_empty());
    assert!(store.uids(Entity::Person, "", 0).expect("uids").is_empty());
    assert_eq!(
        store.links_of(Entity::Person, "P1").expect("links").len(),
        1
    );
    let fill: std::collections::BTreeMap<_, _> = store
        .field_fill(Entity::Person)
        .expect("fill")
        .into_iter()
        .collect();
    assert_eq!((fill["name"], fill["phone"], fill["address"]), (1, 1, 0));
}

fn quarantine_entry(source_record_id: i64) -> QuarantineEntry {
    QuarantineEntry {
        id: 0,
        source_record_id,
        run_id: 0,
        source: "police".into(),
        file: "police/cases.csv".into(),
        record_no: source_record_id,
        line: source_record_id + 1,
        raw: vec![
            ("XYRXM".into(), String::new()),
            ("XYRSFZH".into(), "110105194912310021".into()),
        ],
        reasons: vec![Reason {
            field: "person.id_number".into(),
            rule: "id_number.checksum".into(),
            severity: "error".into(),
            value: Some("110105194912310021".into()),
            message_zh: "校验码错误，应为 X".into(),
            message_en: "check character should be X".into(),
        }],
        status: "open".into(),
        resolved_run_id: None,
    }
}

fn quarantine_lifecycle_and_reconciliation<S: Store>(store: &mut S) {
    write_sample(store);
    let run = run_of(store);
    let batch = Batch {
        source_records: vec![
            source(2, Outcome::Quarantined),
            source(3, Outcome::Quarantined),
        ],
        quarantine: vec![quarantine_entry(2), quarantine_entry(3)],
        ..Batch::default()
    };
    store.write_batch(run, &batch).expect("write");
    let open = store.quarantine_list(Some("open"), 10).expect("list");
    assert_eq!(open.len(), 2);
    assert_eq!(open[0].raw, quarantine_entry(2).raw);
    assert_eq!(open[0].reasons, quarantine_entry(2).reasons);
    assert_eq!(
        store.quarantine_by_rule().expect("rules"),
        vec![("id_number.checksum".to_string(), 2)]
    );
    assert_eq!(
        store.source_outcomes().expect("outcomes"),
        vec![("police".into(), "police/cases.csv".into(), 1, 2)]
    );
    let retry = run_of(store);
    store
        .write_batch(
            retry,
            &Batch {
                resolved: vec![open[0].id],
                ..Batch::default()
            },
        )
        .expect("resolve");
    let got = store
        .quarantine_get(open[0].id)
        .expect("get")
        .expect("exists");
    assert_eq!(
        (got.status.as_str(), got.resolved_run_id),
        ("resolved", Some(retry))
    );
    assert_eq!(
        store.quarantine_list(Some("open"), 10).expect("list").len(),
        1
    );
    assert_eq!(
        store.source_outcomes().expect("outcomes"),
        vec![("police".into(), "police/cases.csv".into(), 2, 1)]
    );
}

fn failed_batch_leaves_store_unchanged<S: Store>(store: &mut S) {
    write_sample(store);
    let run = run_of(store);
    let batch = Batch {
        source_records: vec![source(5, Outcome::Accepted)],
        entities: vec![EntityRow {
            uid: "P9".into(),
            case_uid: None,
            person_uid: None,
            record: person("李四", None),
            source_record_id: 5,
        }],
        resolved: vec![999],
        ..Batch::default()
    };
    assert!(
        store.write_batch(run, &batch).is_err(),
        "resolving a missing entry must fail"
    );
    assert_eq!(store.count(Entity::Person).expect("count"), 1);
    assert!(store.source_record(5).expect("get").is_none());
}

fn counters_keys_and_runs<S: Store>(store: &mut S) {
    assert_eq!(store.next_ids().expect("ids"), IdCounters::default());
    write_sample(store);
    assert_eq!(
        store.next_ids().expect("ids"),
        IdCounters {
            source_record: 1,
            person: 1,
            case: 0
        }
    );
    let (persons, cases) = store.load_keys().expect("keys");
    // Person keys come back as the store keeps them: blinded when field encryption is on.
    assert_eq!(
        persons,
        vec![(
            store.key_blinder().blind("id:11010519491231002X"),
            "P1".to_string()
        )]
    );
    assert!(cases.is_empty());
    let runs = store.runs().expect("runs");
    assert_eq!(runs.len(), 1);
    let counts = RunCounts {
        records_read: 1,
        accepted: 1,
        ..RunCounts::default()
    };
    store
        .finish_run(runs[0].run_id, "2024-01-01T00:00:01", &counts, "{}")
        .expect("finish");
    let runs = store.runs().expect("runs");
    assert_eq!(runs[0].counts, counts);
    assert_eq!(runs[0].quality.as_deref(), Some("{}"));
}
