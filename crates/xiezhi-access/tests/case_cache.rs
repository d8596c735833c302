//! The gathered-case cache on a real store: a second read of a case is served from the cache
//! with the same result, and a write to the case (its row, a new dependent row, one of its
//! persons), made through another connection as another process would, is visible on the very
//! next read. A write to one case leaves other cached cases in place.

use std::sync::Arc;

use chrono::NaiveDate;
use xiezhi_access::case_cache::CaseCache;
use xiezhi_access::reader::{
    case_resource, prepare_case_read, prepare_case_read_cached, CaseView, Decider, ViewCache,
};
use xiezhi_access::{Authorizer, OrgKind, Principal, RequestContext, Role, Salt, User};
use xiezhi_ingest::export::{ingest_export, shipped_plans};
use xiezhi_ingest::IngestOptions;
use xiezhi_standard::{Entity, Level, Record, Value};
use xiezhi_store::{
    Batch, EntityRow, NewRun, Outcome, SourceRecordRow, SqliteStore, Store, StoredEntity,
};

struct Setup {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    authz: Arc<Authorizer>,
    salt: Salt,
    ctx: RequestContext,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    xiezhi_synth::generate(
        &xiezhi_synth::SynthConfig {
            seed: 7,
            cases: 20,
            ..Default::default()
        },
        &export,
    )
    .unwrap();
    let path = dir.path().join("xiezhi.db");
    let mut store = SqliteStore::open(&path).unwrap();
    ingest_export(
        &mut store,
        &shipped_plans().unwrap(),
        &export,
        &IngestOptions::default(),
        &mut |_, _, _| {},
    )
    .unwrap();
    Setup {
        _dir: dir,
        path,
        authz: Arc::new(Authorizer::builtin().unwrap()),
        salt: Salt::new(b"test".to_vec()),
        ctx: RequestContext::on(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
    }
}

/// A case handler of an organ that took part in `case`, cleared to L4.
fn handler_of(store: &SqliteStore, case: &str) -> Principal {
    let r = case_resource(store, case).unwrap().unwrap();
    let org = r.participating_orgs[0].clone();
    let kind = match &org[..2] {
        "GA" => OrgKind::Police,
        "JC" => OrgKind::Procuratorate,
        "FY" => OrgKind::Court,
        _ => OrgKind::CommunityCorrections,
    };
    Principal::User(User {
        id: "handler".into(),
        name: "handler".into(),
        org_code: org,
        org_kind: kind,
        division: r.jurisdiction_divisions[0].clone(),
        role: Role::CaseHandler,
        clearance: Level::L4,
    })
}

fn read(
    s: &Setup,
    store: &SqliteStore,
    cache: &CaseCache,
    views: &ViewCache,
    who: &Principal,
    case: &str,
) -> CaseView {
    store.begin_snapshot().unwrap();
    let read = prepare_case_read_cached(
        store,
        cache,
        &Decider::Cached(views, &s.authz),
        &s.salt,
        who,
        case,
        &s.ctx,
    );
    store.end_snapshot().unwrap();
    read.unwrap().logged()
}

/// What a read shows, comparable: per section, the records as shown.
/// Per section, the records as shown (field, text).
type Shown = Vec<(Entity, Vec<Vec<(String, String)>>)>;

fn shown(v: &CaseView) -> Shown {
    v.sections
        .iter()
        .map(|s| {
            let records = s
                .records
                .iter()
                .map(|r| {
                    r.fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect()
                })
                .collect();
            (s.entity, records)
        })
        .collect()
}

fn section(v: &CaseView, e: Entity) -> Vec<&std::collections::BTreeMap<&'static str, String>> {
    v.sections
        .iter()
        .filter(|s| s.entity == e)
        .flat_map(|s| s.records.iter().map(|r| &r.fields))
        .collect()
}

/// Writes rows as one source record of a new run, as an ingest would.
fn write(store: &mut SqliteStore, rows: Vec<EntityRow>) {
    let run = store
        .begin_run(&NewRun {
            kind: "ingest".into(),
            source: "police".into(),
            file: "police/cases.csv".into(),
            mapping: "police.toml".into(),
            started_at: "2026-01-01T00:00:00".into(),
        })
        .unwrap();
    let id = store.next_ids().unwrap().source_record + 1;
    let rows = rows
        .into_iter()
        .map(|mut r| {
            r.source_record_id = id;
            r
        })
        .collect();
    store
        .write_batch(
            run,
            &Batch {
                source_records: vec![SourceRecordRow {
                    id,
                    source: "police".into(),
                    file: "police/cases.csv".into(),
                    record_no: id,
                    line: id + 1,
                    sha256: format!("{id:064x}"),
                    outcome: Outcome::Accepted,
                }],
                entities: rows,
                ..Batch::default()
            },
        )
        .unwrap();
}

/// A field of `entity` up to L3 that the stored row leaves empty, with a value of its type:
/// filling it changes what a reader of the case sees.
fn empty_field(row: &StoredEntity, entity: Entity) -> Option<(&'static str, Value)> {
    use xiezhi_standard::FieldType as T;
    entity.fields().iter().find_map(|f| {
        if row.record.get(f.name).is_some() || f.level > Level::L3 {
            return None;
        }
        let value = match f.ty {
            T::Text | T::CourtCaseNo | T::ProcuratorateDocNo => Value::Text("缓存测试".into()),
            T::Phone => Value::Text("13800000000".into()),
            T::Code(_) => Value::Code("99".into()),
            T::Money => Value::Money(123_456),
            T::Int => Value::Int(7),
            T::Date => Value::Date(NaiveDate::from_ymd_opt(2025, 6, 1)?),
            T::DateTime => {
                Value::DateTime(NaiveDate::from_ymd_opt(2025, 6, 1)?.and_hms_opt(9, 30, 0)?)
            }
            _ => return None,
        };
        Some((f.name, value))
    })
}

fn persons_of(store: &SqliteStore, case: &str) -> Vec<StoredEntity> {
    let uids: Vec<String> = store
        .rows_of_case(Entity::CasePerson, case)
        .unwrap()
        .into_iter()
        .filter_map(|l| l.person_uid)
        .collect();
    store.get_many(Entity::Person, &uids).unwrap()
}

fn fill(store: &mut SqliteStore, entity: Entity, uid: &str, field: &str, value: Value) {
    let mut record = Record::new(entity);
    record.set(field, value).unwrap();
    write(
        store,
        vec![EntityRow {
            uid: uid.into(),
            case_uid: None,
            person_uid: None,
            record,
            source_record_id: 0,
        }],
    );
}

/// A read through the cache shows what an uncached read of the same snapshot shows.
fn assert_fresh(s: &Setup, store: &SqliteStore, view: &CaseView, who: &Principal, case: &str) {
    let plain = prepare_case_read(store, &Decider::Plain(&s.authz), &s.salt, who, case, &s.ctx)
        .unwrap()
        .logged();
    assert_eq!(shown(view), shown(&plain), "{case}");
}

#[test]
fn writes_to_a_cached_case_are_seen_by_the_next_read() {
    let s = setup();
    let mut writer = SqliteStore::open(&s.path).unwrap();
    let reader = SqliteStore::open_reader(&s.path).unwrap();
    let cases: Vec<String> = (1..=20).map(|n| format!("C{n:08}")).collect();
    // A case with an empty case field, a case with a person with an empty field, and a case
    // sharing no person with either.
    let (case, (case_field, case_value)) = cases
        .iter()
        .find_map(|c| {
            let row = reader.get(Entity::Case, c).unwrap()?;
            Some((c.clone(), empty_field(&row, Entity::Case)?))
        })
        .expect("a case with an empty field");
    let touched: Vec<String> = persons_of(&reader, &case)
        .into_iter()
        .map(|p| p.uid)
        .collect();
    let other = cases
        .iter()
        .find(|c| {
            **c != case
                && persons_of(&reader, c)
                    .iter()
                    .all(|p| !touched.contains(&p.uid))
        })
        .expect("an untouched case")
        .clone();
    let who = handler_of(&reader, &case);
    let other_who = handler_of(&reader, &other);
    let cache = CaseCache::default();
    let views = ViewCache::default();

    // A miss, then a hit showing exactly what an uncached read shows.
    let first = read(&s, &reader, &cache, &views, &who, &case);
    let again = read(&s, &reader, &cache, &views, &who, &case);
    assert_eq!(shown(&first), shown(&again));
    assert_fresh(&s, &reader, &again, &who, &case);
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.hits), (1, 1), "{stats:?}");
    let other_before = read(&s, &reader, &cache, &views, &other_who, &other);

    // 1. A new event of the case: a dependent row the cache has never seen.
    let events_before = section(&first, Entity::Event).len();
    let mut event = Record::new(Entity::Event);
    event
        .set("note", Value::Text("缓存测试节点".into()))
        .unwrap();
    write(
        &mut writer,
        vec![EntityRow {
            uid: "EV-CACHE-TEST".into(),
            case_uid: Some(case.clone()),
            person_uid: None,
            record: event,
            source_record_id: 0,
        }],
    );
    let after_event = read(&s, &reader, &cache, &views, &who, &case);
    assert_eq!(
        section(&after_event, Entity::Event).len(),
        events_before + 1,
        "the new event is read at once"
    );
    assert_fresh(&s, &reader, &after_event, &who, &case);
    assert!(cache.stats().invalidated >= 1);

    // 2. A field of the case row filled in.
    fill(&mut writer, Entity::Case, &case, case_field, case_value);
    let after_case = read(&s, &reader, &cache, &views, &who, &case);
    assert!(
        section(&after_case, Entity::Case)[0].contains_key(case_field),
        "the case field `{case_field}` filled by the write is read at once"
    );
    assert_ne!(shown(&after_case), shown(&after_event));
    assert_fresh(&s, &reader, &after_case, &who, &case);

    // 3. A new person linked to the case (read at once through the new link), then a field
    // of that person filled in: a person row names no case, so the cache finds the cached
    // cases naming the person.
    let mut person = Record::new(Entity::Person);
    person
        .set("name", Value::Text("缓存测试人员".into()))
        .unwrap();
    let mut link = Record::new(Entity::CasePerson);
    link.set("org_code", Value::Text("GA-CACHE-TEST".into()))
        .unwrap();
    write(
        &mut writer,
        vec![
            EntityRow {
                uid: "P-CACHE-TEST".into(),
                case_uid: None,
                person_uid: None,
                record: person,
                source_record_id: 0,
            },
            EntityRow {
                uid: "L-CACHE-TEST".into(),
                case_uid: Some(case.clone()),
                person_uid: Some("P-CACHE-TEST".into()),
                record: link,
                source_record_id: 0,
            },
        ],
    );
    let with_person = read(&s, &reader, &cache, &views, &who, &case);
    let named = |v: &CaseView| {
        section(v, Entity::Person)
            .into_iter()
            .find(|p| p.values().any(|x| x.contains("缓存测试人员")))
            .cloned()
    };
    let before = named(&with_person).expect("the new person is read at once");
    assert!(!before.contains_key("birth_date"));
    assert_fresh(&s, &reader, &with_person, &who, &case);
    // A hit now, so the fill below must drop it.
    read(&s, &reader, &cache, &views, &who, &case);
    let birth = NaiveDate::from_ymd_opt(1990, 1, 2).unwrap();
    fill(
        &mut writer,
        Entity::Person,
        "P-CACHE-TEST",
        "birth_date",
        Value::Date(birth),
    );
    let after_person = read(&s, &reader, &cache, &views, &who, &case);
    assert!(
        named(&after_person)
            .expect("still there")
            .contains_key("birth_date"),
        "the person's birth date filled by the write is read at once"
    );
    assert_fresh(&s, &reader, &after_person, &who, &case);

    // The untouched case was dropped by none of these writes: still served from the cache.
    let hits = cache.stats().hits;
    let other_after = read(&s, &reader, &cache, &views, &other_who, &other);
    assert_eq!(cache.stats().hits, hits + 1);
    assert_eq!(shown(&other_before), shown(&other_after));

    // A hit still decides and makes the read's ledger entry.
    reader.begin_snapshot().unwrap();
    let pending = prepare_case_read_cached(
        &reader,
        &cache,
        &Decider::Cached(&views, &s.authz),
        &s.salt,
        &other_who,
        &other,
        &s.ctx,
    )
    .unwrap();
    reader.end_snapshot().unwrap();
    assert_eq!(cache.stats().hits, hits + 2);
    assert_eq!(pending.entry().body["access_kind"], "case_read");
    assert_eq!(pending.entry().body["case_uid"], other.as_str());
    assert!(pending.entry().body["decisions"]
        .as_array()
        .is_some_and(|d| !d.is_empty()));
}

/// A cache that keeps nothing still reads correctly (every read gathers).
#[test]
fn a_cache_of_no_capacity_gathers_every_time() {
    let s = setup();
    let reader = SqliteStore::open_reader(&s.path).unwrap();
    let who = handler_of(&reader, "C00000001");
    let cache = CaseCache::new(0);
    let views = ViewCache::default();
    let a = read(&s, &reader, &cache, &views, &who, "C00000001");
    let b = read(&s, &reader, &cache, &views, &who, "C00000001");
    assert_eq!(shown(&a), shown(&b));
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.held), (0, 2, 0));
}
