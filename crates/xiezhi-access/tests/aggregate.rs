//! The aggregate path on a real store built by hand: every asked-for field is decided once and
//! logged before any column is streamed; the public aggregates with a minimum cell; a field
//! above level 2 is refused; the visitor sees exactly the stored values.

use chrono::NaiveDate;
use xiezhi_access::reader::ReadError;
use xiezhi_access::{
    AggregateReader, Authorizer, OrgKind, Principal, RequestContext, Role, User, PUBLIC_MIN_CELL,
};
use xiezhi_standard::{Entity, Level, Record, Value};
use xiezhi_store::{Batch, EntityRow, NewRun, Outcome, SourceRecordRow, SqliteStore, Store};

fn user(role: Role, clearance: Level) -> Principal {
    Principal::User(User {
        id: format!("u-{}", role.as_str()),
        name: "测试".into(),
        org_code: "GA520102".into(),
        org_kind: OrgKind::Police,
        division: "520102".into(),
        role,
        clearance,
    })
}

/// `n` cases in `division`, each with a `case_filed` event.
fn store_with(cases: &[(&str, usize)]) -> SqliteStore {
    let mut store = SqliteStore::in_memory().unwrap();
    let run = store
        .begin_run(&NewRun {
            kind: "ingest".into(),
            source: "test".into(),
            file: "hand".into(),
            mapping: "hand".into(),
            started_at: "2026-01-01T00:00:00".into(),
        })
        .unwrap();
    let mut batch = Batch::default();
    let mut id = 0;
    for (division, n) in cases {
        for _ in 0..*n {
            id += 1;
            batch.source_records.push(SourceRecordRow {
                id,
                source: "test".into(),
                file: "hand".into(),
                record_no: id,
                line: id,
                sha256: format!("{id:064x}"),
                outcome: Outcome::Accepted,
            });
            let uid = format!("C{id:08}");
            let mut case = Record::new(Entity::Case);
            case.set("occurred_division", Value::Code((*division).into()))
                .unwrap();
            case.set("summary", Value::Text("某甲盗窃".into())).unwrap();
            batch.entities.push(EntityRow {
                uid: uid.clone(),
                case_uid: None,
                person_uid: None,
                record: case,
                source_record_id: id,
            });
            let mut ev = Record::new(Entity::Event);
            ev.set("kind", Value::Code("case_filed".into())).unwrap();
            batch.entities.push(EntityRow {
                uid: format!("E{id:08}"),
                case_uid: Some(uid),
                person_uid: None,
                record: ev,
                source_record_id: id,
            });
        }
    }
    store.write_batch(run, &batch).unwrap();
    store
}

fn ctx() -> RequestContext {
    RequestContext::on(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap())
}

#[test]
fn columns_stream_after_logged_decisions() {
    let mut store = store_with(&[("520102", 3), ("520103", 2)]);
    let authz = Authorizer::builtin().unwrap();
    let before = store.ledger_len().unwrap();
    let mut seen = Vec::new();
    let grant = AggregateReader::new(&mut store, &authz)
        .read_columns(
            &user(Role::Public, Level::L1),
            &["occurred_division"],
            &["kind"],
            &ctx(),
            &mut |c| seen.push(c.clone()),
        )
        .unwrap();
    assert_eq!(grant.cases_read, 5);
    assert_eq!(grant.min_cell, Some(PUBLIC_MIN_CELL));
    assert!(grant
        .fields
        .iter()
        .all(|f| f.permit && f.policies[0].id == "aggregate-procedural"));
    let divisions: Vec<_> = seen
        .iter()
        .map(|c| {
            c.case[0]
                .as_ref()
                .and_then(Value::as_str)
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        divisions,
        ["520102", "520102", "520102", "520103", "520103"]
    );
    assert!(seen
        .iter()
        .all(|c| c.events.len() == 1 && c.events[0][0] == Some(Value::Code("case_filed".into()))));
    // Two decisions and the aggregate entry, in that order.
    let entries = store.ledger_entries(before, 10).unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(grant.entries_logged, 3);
    assert!(entries[0].body.contains("\"action\":\"aggregate\""));
    assert!(entries[0].body.contains("case.occurred_division"));
    assert!(entries[1].body.contains("event.kind"));
    assert!(entries[2].body.contains("\"access_kind\":\"aggregate\""));
    assert!(entries[2].body.contains("\"cases_read\":5"));
}

#[test]
fn internal_principals_get_exact_counts_and_the_public_no_records() {
    let mut store = store_with(&[("520102", 2)]);
    let authz = Authorizer::builtin().unwrap();
    let grant = AggregateReader::new(&mut store, &authz)
        .read_columns(
            &user(Role::Supervisor, Level::L2),
            &["occurred_division"],
            &[],
            &ctx(),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!((grant.min_cell, grant.cases_read), (None, 2));
    // The same public principal may not read a single field of a case.
    let case = xiezhi_access::CaseResource {
        case_uid: "C00000001".into(),
        ..Default::default()
    };
    let field = xiezhi_access::FieldRef::standard(Entity::Case, "occurred_division").unwrap();
    let d = authz
        .decide(
            &user(Role::Public, Level::L1),
            xiezhi_access::Action::Read,
            &xiezhi_access::Resource::new(&case, field),
            &ctx(),
        )
        .unwrap();
    assert!(!d.permit && d.policy_ids() == ["public-no-records"]);
}

#[test]
fn sensitive_fields_and_administrators_are_refused_after_logging() {
    let mut store = store_with(&[("520102", 6)]);
    let authz = Authorizer::builtin().unwrap();
    let before = store.ledger_len().unwrap();
    let mut visited = 0;
    let err = AggregateReader::new(&mut store, &authz)
        .read_columns(
            &user(Role::Leader, Level::L3),
            &["occurred_division", "summary"],
            &[],
            &ctx(),
            &mut |_| visited += 1,
        )
        .unwrap_err();
    assert!(
        matches!(&err, ReadError::AggregateDenied { field, .. } if field == "case.summary"),
        "{err}"
    );
    assert_eq!(visited, 0);
    assert_eq!(store.ledger_len().unwrap(), before + 2);
    let err = AggregateReader::new(&mut store, &authz)
        .read_columns(
            &user(Role::Auditor, Level::L4),
            &["occurred_division"],
            &[],
            &ctx(),
            &mut |_| visited += 1,
        )
        .unwrap_err();
    assert!(err.to_string().contains("三员分立"), "{err}");
    assert_eq!(visited, 0);
    assert!(matches!(
        AggregateReader::new(&mut store, &authz).read_columns(
            &user(Role::Leader, Level::L3),
            &["no_such_field"],
            &[],
            &ctx(),
            &mut |_| {}
        ),
        Err(ReadError::NoField(_))
    ));
}
