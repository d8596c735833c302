//! The read path on a real store: a case read by an organ that took part shows its data, masked
//! to clearance; an outsider sees nothing; every decision is in the ledger before data returns.

use chrono::NaiveDate;
use xiezhi_access::reader::{case_resource, SharedReader};
use xiezhi_access::{
    Authorizer, FieldAction, OrgKind, Principal, RequestContext, Role, Salt, User,
};
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_standard::{Entity, Level};
use xiezhi_store::{SqliteStore, Store};

fn user(id: &str, org: &str, kind: OrgKind, division: &str, clearance: Level) -> Principal {
    Principal::User(User {
        id: id.into(),
        name: id.into(),
        org_code: org.into(),
        org_kind: kind,
        division: division.into(),
        role: Role::CaseHandler,
        clearance,
    })
}

#[test]
fn reads_are_decided_masked_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    xiezhi_synth::generate(
        &xiezhi_synth::SynthConfig {
            seed: 5,
            cases: 30,
            ..Default::default()
        },
        &export,
    )
    .unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    ingest_export(
        &mut store,
        &shipped_plans().unwrap(),
        &export,
        &IngestOptions::default(),
        &mut |_, _, _| {},
    )
    .unwrap();

    let resource = case_resource(&store, "C00000001").unwrap().unwrap();
    let police = resource
        .participating_orgs
        .iter()
        .find(|o| o.starts_with("GA"))
        .unwrap()
        .clone();
    let division = resource.jurisdiction_divisions[0].clone();
    let authz = Authorizer::builtin().unwrap();
    let salt = Salt::new(b"test".to_vec());
    let ctx = RequestContext::on(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());

    // The handling police officer at L3 sees the persons in clear.
    let before = store.ledger_len().unwrap();
    let handler = user("h", &police, OrgKind::Police, &division, Level::L3);
    let view = SharedReader::new(&mut store, &authz, &salt)
        .read_case(&handler, "C00000001", &ctx)
        .unwrap();
    let persons = view
        .sections
        .iter()
        .find(|s| s.entity == Entity::Person)
        .unwrap();
    assert!(!persons.records.is_empty());
    let id = persons.records[0]
        .decisions
        .iter()
        .find(|d| d.field == "id_number")
        .unwrap();
    assert!(id.permit && id.action == FieldAction::Show && id.policies == ["org-participant"]);
    let decisions: usize = view.sections.iter().map(|s| s.plan.fields.len()).sum();
    assert_eq!(view.decisions_logged, decisions);
    assert_eq!(
        store.ledger_len().unwrap() - before,
        1,
        "one ledger entry per read"
    );
    // The entry names every field decision of the read, with its outcome and policies.
    let entry = store.ledger_entries(before, 1).unwrap().remove(0);
    let body: serde_json::Value = serde_json::from_str(&entry.body).unwrap();
    assert_eq!(body["access_kind"], "case_read", "{body}");
    let named: usize = body["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["fields"].as_array().unwrap().len())
        .sum();
    assert_eq!(named, decisions);
    assert!(
        body["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["permit"] == true
                && g["policies"] == serde_json::json!(["org-participant"])
                && g["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f == "person.id_number@L3")),
        "{body}"
    );

    // The same organ at L2 sees the ID number partly masked.
    let junior = user("j", &police, OrgKind::Police, &division, Level::L2);
    let view = SharedReader::new(&mut store, &authz, &salt)
        .read_case(&junior, "C00000001", &ctx)
        .unwrap();
    let persons = view
        .sections
        .iter()
        .find(|s| s.entity == Entity::Person)
        .unwrap();
    let shown = &persons.records[0].fields["id_number"];
    assert!(shown.contains("**********") && shown.len() == 18, "{shown}");

    // An organ that took no part sees no record at all, and the denials are logged too.
    let before = store.ledger_len().unwrap();
    let outsider = user("o", "GA99999901", OrgKind::Police, "990101", Level::L4);
    let view = SharedReader::new(&mut store, &authz, &salt)
        .read_case(&outsider, "C00000001", &ctx)
        .unwrap();
    assert!(view
        .sections
        .iter()
        .all(|s| s.records.is_empty() && s.withheld > 0));
    assert!(store.ledger_len().unwrap() > before);
    let last = store
        .ledger_entries(store.ledger_len().unwrap() - 1, 1)
        .unwrap()
        .remove(0);
    assert!(last.body.contains("\"permit\":false"), "{}", last.body);
}

/// The server's path (compiled views from a cache, the read prepared on a shared borrow and
/// logged by the caller) shows exactly what the plain path shows, for readers who see all,
/// part or nothing of the case, and a second read reuses the cached views.
#[test]
fn cached_compiled_reads_match_plain_reads() {
    use std::sync::Arc;
    use xiezhi_access::reader::{prepare_case_read, Decider, ViewCache};
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    xiezhi_synth::generate(
        &xiezhi_synth::SynthConfig {
            seed: 11,
            cases: 40,
            ..Default::default()
        },
        &export,
    )
    .unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    ingest_export(
        &mut store,
        &shipped_plans().unwrap(),
        &export,
        &IngestOptions::default(),
        &mut |_, _, _| {},
    )
    .unwrap();
    let authz = Arc::new(Authorizer::builtin().unwrap());
    let salt = Salt::new(b"test".to_vec());
    let ctx = RequestContext::on(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
    let cache = ViewCache::default();
    let mut compared = 0;
    for n in 1..=40 {
        let uid = format!("C{n:08}");
        let Some(resource) = case_resource(&store, &uid).unwrap() else {
            continue;
        };
        let division = resource.jurisdiction_divisions[0].clone();
        let mut readers = vec![user(
            "o",
            "GA99999901",
            OrgKind::Police,
            "990101",
            Level::L4,
        )];
        for (i, org) in resource.participating_orgs.iter().enumerate() {
            let kind = match &org[..2] {
                "GA" => OrgKind::Police,
                "JC" => OrgKind::Procuratorate,
                "FY" => OrgKind::Court,
                _ => OrgKind::CommunityCorrections,
            };
            let level = [Level::L2, Level::L3, Level::L4][i % 3];
            readers.push(user(&format!("u{i}"), org, kind, &division, level));
        }
        for reader in &readers {
            let plain =
                prepare_case_read(&store, &Decider::Plain(&authz), &salt, reader, &uid, &ctx)
                    .unwrap()
                    .logged();
            let fast = prepare_case_read(
                &store,
                &Decider::Cached(&cache, &authz),
                &salt,
                reader,
                &uid,
                &ctx,
            )
            .unwrap();
            let body = &fast.entry().body;
            assert_eq!(body["compiled"], true);
            let fast = fast.logged();
            assert_eq!(plain.sections.len(), fast.sections.len());
            for (a, b) in plain.sections.iter().zip(&fast.sections) {
                assert_eq!(a.entity, b.entity);
                assert_eq!(a.plan.fields, b.plan.fields, "{uid} {}", reader.id());
                assert_eq!(a.records, b.records);
                assert_eq!(a.withheld, b.withheld);
            }
            compared += 1;
        }
    }
    assert!(compared > 60, "{compared}");
    let views = cache.len();
    assert!(views > 0);
    // Reading again compiles nothing new.
    let reader = user("o", "GA99999901", OrgKind::Police, "990101", Level::L4);
    prepare_case_read(
        &store,
        &Decider::Cached(&cache, &authz),
        &salt,
        &reader,
        "C00000001",
        &ctx,
    )
    .unwrap();
    assert_eq!(cache.len(), views);
}
