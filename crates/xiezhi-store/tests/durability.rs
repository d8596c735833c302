//! kill -9 during a large ingest: a child process writes many batches and is killed with
//! SIGKILL mid-way; the store must then hold every batch the child saw committed, each batch
//! wholly or not at all, a gapless ledger, and a rerun of the whole ingest must store each
//! batch once (a batch already stored is recognised by its source records and not applied
//! again). Runs on SQLite always and on PostgreSQL when `DATABASE_URL` is set
//! (`XIEZHI_REQUIRE_PG=1` makes its absence a failure).
//!
//! The test is its own child: with `XIEZHI_DURABILITY_CHILD` set, `main` ingests instead.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use xiezhi_standard::{Entity, Record, Value};
use xiezhi_store::{Batch, EntityRow, NewRun, Outcome, SourceRecordRow, SqliteStore, Store};

const BATCHES: i64 = 400;
const RECORDS_PER_BATCH: i64 = 100;
/// Batches the child must have committed before it is killed.
const KILL_AFTER: i64 = 40;

/// Batch `k`: source records `k*R+1 ..= (k+1)*R`, each writing case `C<id>` and event
/// `E<id>`, and every fifth also merging into the previous record's case.
fn batch(k: i64) -> Batch {
    let mut b = Batch::default();
    for id in k * RECORDS_PER_BATCH + 1..=(k + 1) * RECORDS_PER_BATCH {
        b.source_records.push(SourceRecordRow {
            id,
            source: "police".into(),
            file: "police/cases.csv".into(),
            record_no: id,
            line: id + 1,
            sha256: format!("{id:064x}"),
            outcome: Outcome::Accepted,
        });
        let mut case = Record::new(Entity::Case);
        case.set("police_case_no", Value::Text(format!("A{id:012}")))
            .expect("field");
        case.set("summary", Value::Text("盗窃电动车一辆".repeat(8)))
            .expect("field");
        b.entities.push(EntityRow {
            uid: format!("C{id}"),
            case_uid: None,
            person_uid: None,
            record: case,
            source_record_id: id,
        });
        let mut event = Record::new(Entity::Event);
        event
            .set("kind", Value::Code("case_filed".into()))
            .expect("field");
        b.entities.push(EntityRow {
            uid: format!("E{id}"),
            case_uid: Some(format!("C{id}")),
            person_uid: None,
            record: event,
            source_record_id: id,
        });
        if id % 5 == 0 && id > 1 {
            let mut name = Record::new(Entity::Case);
            name.set("name", Value::Text(format!("案件{id}")))
                .expect("field");
            b.entities.push(EntityRow {
                uid: format!("C{}", id - 1),
                case_uid: None,
                person_uid: None,
                record: name,
                source_record_id: id,
            });
        }
    }
    b
}

fn new_run<S: Store>(store: &mut S) -> i64 {
    store
        .begin_run(&NewRun {
            kind: "ingest".into(),
            source: "police".into(),
            file: "police/cases.csv".into(),
            mapping: "durability".into(),
            started_at: "2024-01-01T00:00:00".into(),
        })
        .expect("begin run")
}

/// Writes every batch, saying `committed k` after each commit.
fn ingest<S: Store>(store: &mut S, say: bool) {
    let run = new_run(store);
    for k in 0..BATCHES {
        store.write_batch(run, &batch(k)).expect("write batch");
        if say {
            println!("committed {k}");
        }
    }
}

/// Which store the child and the checks open.
#[derive(Clone)]
enum Target {
    Sqlite(std::path::PathBuf),
    #[cfg(feature = "postgres")]
    Postgres {
        url: String,
        schema: String,
    },
}

impl Target {
    fn env(&self) -> (String, String) {
        match self {
            Target::Sqlite(p) => ("sqlite".into(), p.display().to_string()),
            #[cfg(feature = "postgres")]
            Target::Postgres { url, schema } => ("postgres".into(), format!("{schema} {url}")),
        }
    }

    fn from_env(kind: &str, arg: &str) -> Target {
        match kind {
            "sqlite" => Target::Sqlite(arg.into()),
            #[cfg(feature = "postgres")]
            "postgres" => {
                let (schema, url) = arg.split_once(' ').expect("schema and url");
                Target::Postgres {
                    url: url.into(),
                    schema: schema.into(),
                }
            }
            other => panic!("unknown target `{other}`"),
        }
    }

    fn with<T>(&self, f: &mut dyn FnMut(&mut dyn StoreOps) -> T) -> T {
        match self {
            Target::Sqlite(p) => f(&mut SqliteStore::open(p).expect("open sqlite")),
            #[cfg(feature = "postgres")]
            Target::Postgres { url, schema } => {
                let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
                client
                    .batch_execute(&format!("SET search_path TO {schema}"))
                    .expect("search path");
                f(&mut xiezhi_store::PgStore::from_client(client).expect("open postgres"))
            }
        }
    }
}

/// The store calls the checks need, object-safe.
trait StoreOps {
    fn ingest(&mut self, say: bool);
    fn check(&mut self) -> Vec<i64>;
    fn ledger_len(&mut self) -> i64;
}

impl<S: Store> StoreOps for S {
    fn ingest(&mut self, say: bool) {
        ingest(self, say)
    }

    /// Checks batch atomicity and the ledger; returns the batches stored.
    fn check(&mut self) -> Vec<i64> {
        let entries = self.ledger_entries(0, i64::MAX).expect("ledger");
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(e.seq, i as i64, "ledger entries are contiguous from 0");
        }
        let mut per_record = std::collections::BTreeMap::<i64, usize>::new();
        for e in &entries {
            assert_eq!(e.kind, "records_written");
            let body: serde_json::Value = serde_json::from_str(&e.body).expect("json");
            *per_record
                .entry(body["source_record"].as_i64().expect("source record"))
                .or_default() += 1;
        }
        let mut stored = Vec::new();
        for k in 0..BATCHES {
            let b = batch(k);
            let present: Vec<bool> = b
                .source_records
                .iter()
                .map(|s| self.source_record(s.id).expect("read").is_some())
                .collect();
            let all = present.iter().all(|p| *p);
            assert!(
                all || present.iter().all(|p| !*p),
                "batch {k} is half written: {present:?}"
            );
            for s in &b.source_records {
                assert_eq!(
                    per_record.get(&s.id).copied().unwrap_or(0),
                    usize::from(all),
                    "batch {k}: ledger entries of source record {}",
                    s.id
                );
            }
            for row in &b.entities {
                let got = self.get(row.record.entity, &row.uid).expect("read");
                // A later batch may merge into a row of this one, never create it.
                if all {
                    assert!(got.is_some(), "batch {k}: row {} missing", row.uid);
                } else if row.uid.trim_start_matches(['C', 'E']).parse::<i64>()
                    == Ok(row.source_record_id)
                {
                    assert!(
                        got.is_none(),
                        "batch {k} is absent but row {} is there",
                        row.uid
                    );
                }
            }
            if all {
                stored.push(k);
            }
        }
        assert_eq!(
            per_record.len() as i64,
            stored.len() as i64 * RECORDS_PER_BATCH
        );
        stored
    }

    fn ledger_len(&mut self) -> i64 {
        Store::ledger_len(self).expect("ledger length")
    }
}

fn kill_mid_ingest_and_rerun(target: &Target) {
    let (kind, arg) = target.env();
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .env("XIEZHI_DURABILITY_CHILD", &kind)
        .env("XIEZHI_DURABILITY_TARGET", &arg)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let mut seen = -1;
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    while seen < KILL_AFTER {
        let line = lines
            .next()
            .expect("the child stopped before it was killed")
            .expect("read child output");
        seen = line
            .strip_prefix("committed ")
            .and_then(|n| n.parse().ok())
            .expect("`committed k` line");
    }
    child.kill().expect("SIGKILL the child");
    let status = child.wait().expect("wait for child");
    assert!(
        !status.success(),
        "the child was killed, not finished: {status}"
    );

    let stored = target.with(&mut |s| s.check());
    assert!(
        stored.iter().copied().eq(0..stored.len() as i64),
        "{kind}: batches are committed in order, got {stored:?}"
    );
    assert!(
        stored.len() as i64 > KILL_AFTER,
        "{kind}: every batch the child saw committed is stored ({} of {})",
        stored.len(),
        KILL_AFTER + 1
    );
    assert!(
        (stored.len() as i64) < BATCHES,
        "{kind}: the child was killed mid-way, yet all batches are stored"
    );
    println!(
        "{kind}: killed after {} committed batches, {} stored, {} entries",
        KILL_AFTER + 1,
        stored.len(),
        target.with(&mut |s| s.ledger_len())
    );

    // Rerun the whole ingest, twice: each batch is stored once.
    target.with(&mut |s| s.ingest(false));
    let stored = target.with(&mut |s| s.check());
    assert_eq!(
        stored.len() as i64,
        BATCHES,
        "{kind}: the rerun completes the ingest"
    );
    let len = target.with(&mut |s| s.ledger_len());
    assert_eq!(
        len,
        BATCHES * RECORDS_PER_BATCH,
        "{kind}: one entry per source record"
    );
    target.with(&mut |s| s.ingest(false));
    assert_eq!(
        target.with(&mut |s| s.ledger_len()),
        len,
        "{kind}: a second rerun adds nothing"
    );
}

fn main() {
    if let Ok(kind) = std::env::var("XIEZHI_DURABILITY_CHILD") {
        let arg = std::env::var("XIEZHI_DURABILITY_TARGET").expect("target");
        Target::from_env(&kind, &arg).with(&mut |s| s.ingest(true));
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    kill_mid_ingest_and_rerun(&Target::Sqlite(dir.path().join("durability.db")));
    postgres_run();
    println!("durability: ok");
}

#[cfg(feature = "postgres")]
fn postgres_run() {
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert!(
                std::env::var("XIEZHI_REQUIRE_PG").as_deref() != Ok("1"),
                "XIEZHI_REQUIRE_PG=1 but DATABASE_URL is not set: the PostgreSQL durability test cannot run"
            );
            println!("postgres: skipped, DATABASE_URL is not set");
            return;
        }
    };
    for layout in [
        xiezhi_store::Layout::Plain,
        xiezhi_store::Layout::HashPartitioned,
    ] {
        let schema = format!("durability_{}_{}", layout.name(), std::process::id());
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {schema}; SET search_path TO {schema}"
            ))
            .expect("create schema");
        // The child and the checks open the schema as it is: in this layout.
        drop(xiezhi_store::PgStore::from_client_with(client, layout).expect("create store"));
        let target = Target::Postgres {
            url: url.clone(),
            schema: schema.clone(),
        };
        let result = std::panic::catch_unwind(|| kill_mid_ingest_and_rerun(&target));
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let _ = client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
        if let Err(e) = result {
            std::panic::resume_unwind(e);
        }
    }
}

#[cfg(not(feature = "postgres"))]
fn postgres_run() {
    assert!(
        std::env::var("XIEZHI_REQUIRE_PG").as_deref() != Ok("1"),
        "XIEZHI_REQUIRE_PG=1 but the `postgres` feature is off"
    );
}
